/**
 * TLS, CI size: STARTTLS/STLS command injection is discarded on SMTP, IMAP
 * and POP3 (RFC 3207 §4.2); openssl s_client shows TLS 1.0/1.1, non-FS and
 * CBC suites refused and TLS 1.2 AEAD / 1.3 accepted on two STARTTLS ports
 * (submission, ManageSieve) and one implicit-TLS port; testssl --protocols on IMAP STARTTLS when installed
 * (Debian testssl.sh). The full matrix is scripts/torture/tls.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isBad, opensslProbes, runTestssl, startTlsServer, starttlsInjection, testsslPath, type TlsServer } from "../../scripts/torture/tls-lib.ts";
import { hasCommand } from "../helpers/proc.ts";

let t: TlsServer;
beforeAll(async () => {
  t = await startTlsServer();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

test("STARTTLS injection is discarded on SMTP, submission, IMAP and POP3", async () => {
  const r = await starttlsInjection(t);
  expect(r.length).toBe(4);
  expect(r.filter((p) => !p.ok).map((p) => `${p.port}: ${p.detail}`)).toEqual([]);
}, 30_000);

test("openssl: old protocols and weak suites refused, modern ones accepted", async () => {
  expect(hasCommand("openssl")).toBe(true);
  const r = await opensslProbes(t, ["submission/587 STARTTLS", "imaps/993", "sieve/4190 STARTTLS"]);
  expect(r.length).toBe(18);
  expect(r.filter((p) => !p.ok).map((p) => `${p.port} ${p.name}: ${p.detail}`)).toEqual([]);
}, 60_000);

test("testssl --protocols on IMAP STARTTLS: no SSLv2/SSLv3/TLS 1.0/TLS 1.1", async () => {
  if (!testsslPath()) {
    console.log("testssl not installed (Debian testssl.sh): protocol scan covered by the openssl probes only");
    expect(testsslPath()).toBeNull();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-testssl-ci-"));
  try {
    const r = await runTestssl("imap-143", t.ports.imap, "imap", { checks: ["--protocols"], jsonDir: dir });
    const ids = new Map(r.findings.map((f) => [f.id, f.finding]));
    for (const id of ["SSLv2", "SSLv3", "TLS1", "TLS1_1"]) expect(ids.get(id) ?? "").toMatch(/not offered/i);
    expect(ids.get("TLS1_3") ?? "").toMatch(/offered/i);
    expect(r.findings.filter(isBad).map((f) => `${f.severity} ${f.id}: ${f.finding}`)).toEqual([]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 150_000);
