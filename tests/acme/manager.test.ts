/**
 * The ACME manager's fallbacks with the order replaced (no CA): "auto" tries
 * TLS-ALPN-01 when the host name fails HTTP-01 (port 80 blocked, 443 open),
 * an explicit type does not; secondary names that fail are left out and the
 * order repeated; a failure is recorded (lastError, backoff) and the
 * certificate the CA returns is served at once.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate } from "node:crypto";
import { defaultConfig } from "../../src/config.ts";
import type { Config } from "../../src/config-types.ts";
import { createLogger } from "../../src/log.ts";
import { createTlsManager } from "../../src/tls.ts";
import { createAcmeManager, challengeTypesFor } from "../../src/acme/index.ts";
import { AcmeOrderError, type OrderOptions } from "../../src/acme/order.ts";

const HOST = "mail.example.test";
const root = mkdtempSync(join(tmpdir(), "pb-acme-mgr-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function configFor(dir: string, challenge: Config["acme"]["challenge"]): Config {
  const c = defaultConfig();
  c.dataDir = dir;
  c.hostname = HOST;
  for (const k of Object.keys(c.listeners) as (keyof Config["listeners"])[]) c.listeners[k] = null;
  c.listeners.HTTP = { host: "127.0.0.1", port: 0 };
  c.listeners.HTTPS = { host: "127.0.0.1", port: 0 };
  c.acme = { ...c.acme, enabled: true, challenge, directoryUrl: "https://ca.invalid/dir" };
  return c;
}

/** A certificate for `names` signed by the order's certificate key (what a CA returns). */
function certFor(o: OrderOptions): string {
  const dir = mkdtempSync(join(root, "k-"));
  writeFileSync(join(dir, "key.pem"), o.certKey);
  const r = spawnSync("openssl", ["req", "-x509", "-new", "-key", join(dir, "key.pem"), "-subj", `/CN=${o.names[0]}`, "-days", "90", "-addext", `subjectAltName=${o.names.map((n) => `DNS:${n}`).join(",")}`], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout;
}

function managerWith(challenge: Config["acme"]["challenge"], domains: string[], order: (o: OrderOptions) => Promise<{ certPem: string; accountUrl: string }>) {
  const dir = mkdtempSync(join(root, "d-"));
  const config = configFor(dir, challenge);
  const log = createLogger("error");
  const tls = createTlsManager({ dataDir: dir, hostname: HOST, certFile: null, keyFile: null, log, watchIntervalMs: 0 });
  const mgr = createAcmeManager({ config, tls, listDomains: async () => domains, log, order });
  return { mgr, tls, config };
}

describe("ACME manager fallbacks", () => {
  test("challenge types per setting and listener", () => {
    const c = configFor(root, "auto");
    expect(challengeTypesFor(c)).toEqual(["http-01", "tls-alpn-01"]);
    c.listeners.HTTP = null;
    expect(challengeTypesFor(c)).toEqual(["tls-alpn-01"]);
    c.acme.challenge = "http-01";
    expect(challengeTypesFor(c)).toEqual([]);
  });

  test("auto: the host name failing HTTP-01 is retried over TLS-ALPN-01, and that certificate is served", async () => {
    const calls: string[] = [];
    const { mgr, tls } = managerWith("auto", [], async (o) => {
      calls.push(o.challenge);
      if (o.challenge === "http-01") throw new AcmeOrderError(`http-01 challenge failed for ${HOST} (connection refused)`, [HOST], "https://ca.invalid/acct/1");
      return { certPem: certFor(o), accountUrl: "https://ca.invalid/acct/1" };
    });
    try {
      const r = await mgr.renewNow();
      expect(r.ok).toBe(true);
      expect(calls).toEqual(["http-01", "tls-alpn-01"]);
      const st = mgr.status()[0]!;
      expect(st).toMatchObject({ source: "acme", names: [HOST], lastError: null });
      expect(new X509Certificate(tls.certPem).subjectAltName).toBe(`DNS:${HOST}`);
    } finally {
      mgr.stop();
      tls.close();
    }
  });

  test("explicit http-01: no fallback; the failure is recorded with a backoff", async () => {
    const calls: string[] = [];
    const { mgr, tls } = managerWith("http-01", [], async (o) => {
      calls.push(o.challenge);
      throw new AcmeOrderError(`http-01 challenge failed for ${HOST} (connection refused)`, [HOST], null);
    });
    try {
      const r = await mgr.renewNow();
      expect(r).toEqual({ ok: false, message: `http-01 challenge failed for ${HOST} (connection refused)` });
      expect(calls).toEqual(["http-01"]);
      const st = mgr.status()[0]!;
      expect(st.source).toBe("self-signed");
      expect(st.lastError).toBe(r.message);
      expect(st.nextRenewalAt!).toBe(st.lastAttemptAt! + 60_000);
      // A second failure doubles the wait.
      await mgr.renewNow();
      const st2 = mgr.status()[0]!;
      expect(st2.nextRenewalAt!).toBe(st2.lastAttemptAt! + 120_000);
    } finally {
      mgr.stop();
      tls.close();
    }
  });

  test("auto: both types failing names both in lastError", async () => {
    const { mgr, tls } = managerWith("auto", [], async (o) => {
      throw new AcmeOrderError(`${o.challenge} challenge failed for ${HOST} (refused)`, [HOST], null);
    });
    try {
      const r = await mgr.renewNow();
      expect(r.ok).toBe(false);
      expect(r.message).toBe(`http-01 challenge failed for ${HOST} (refused); then tls-alpn-01 challenge failed for ${HOST} (refused)`);
    } finally {
      mgr.stop();
      tls.close();
    }
  });

  test("secondary names that fail are left out and the order repeated once", async () => {
    const seen: string[][] = [];
    const { mgr, tls } = managerWith("http-01", ["example.test"], async (o) => {
      seen.push([...o.names]);
      if (o.names.includes("autoconfig.example.test")) throw new AcmeOrderError("http-01 challenge failed for autoconfig.example.test (NXDOMAIN)", ["autoconfig.example.test"], null);
      return { certPem: certFor(o), accountUrl: "https://ca.invalid/acct/2" };
    });
    try {
      const r = await mgr.renewNow();
      expect(r.ok).toBe(true);
      expect(seen).toEqual([
        [HOST, "autoconfig.example.test", "autodiscover.example.test", "mta-sts.example.test"],
        [HOST, "autodiscover.example.test", "mta-sts.example.test"],
      ]);
      expect(mgr.status()[0]!.names.sort()).toEqual([HOST, "autodiscover.example.test", "mta-sts.example.test"].sort());
    } finally {
      mgr.stop();
      tls.close();
    }
  });

  test("an order that throws something unexpected is reported in words, not thrown", async () => {
    const { mgr, tls } = managerWith("auto", [], async () => {
      throw new TypeError("socket hang up");
    });
    try {
      const r = await mgr.renewNow();
      expect(r).toEqual({ ok: false, message: "socket hang up" });
      expect(mgr.status()[0]!.lastError).toBe("socket hang up");
    } finally {
      mgr.stop();
      tls.close();
    }
  });
});
