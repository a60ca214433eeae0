import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { createLogger } from "../../src/log.ts";
import { createTlsManager, ensureSelfSigned, selfSignedPaths } from "../../src/tls.ts";
import { createSelfSignedCertificate } from "../../src/x509.ts";
import { hasCommand, run } from "../helpers/proc.ts";

const dir = mkdtempSync(join(tmpdir(), "pb-tls-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger("error", {}, () => {});

function serialOf(pem: string) {
  return new X509Certificate(pem).serialNumber;
}

/** Serves `mgr`'s implicit-TLS server on a free port and returns the presented certificate's serial. */
async function presentedSerial(mgr: ReturnType<typeof createTlsManager>, server: tls.Server): Promise<string> {
  const port = (server.address() as net.AddressInfo).port;
  const t = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false });
  await new Promise((r, j) => (t.once("secureConnect", r), t.once("error", j)));
  const s = t.getPeerCertificate().serialNumber;
  t.destroy();
  return s;
}

describe("self-signed certificate", () => {
  test("is a valid X.509 v3 certificate for the host name (checked by openssl when present)", async () => {
    const { certPem, keyPem } = createSelfSignedCertificate(["mail.example.test", "localhost"]);
    const x = new X509Certificate(certPem);
    expect(x.checkHost("mail.example.test")).toBe("mail.example.test");
    expect(x.checkHost("localhost")).toBe("localhost");
    expect(x.checkHost("other.example.test")).toBeUndefined();
    expect(x.verify(x.publicKey)).toBe(true);
    expect(Date.parse(x.validTo)).toBeGreaterThan(Date.now() + 365 * 86_400_000);
    expect(keyPem).toContain("BEGIN PRIVATE KEY");
    if (hasCommand("openssl")) {
      const f = join(dir, "check.pem");
      writeFileSync(f, certPem);
      const r = await run("openssl", ["x509", "-in", f, "-noout", "-text"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Version: 3 (0x2)");
      expect(r.stdout).toContain("DNS:mail.example.test, DNS:localhost");
      expect(r.stdout).toContain("TLS Web Server Authentication");
      expect(r.stdout).toContain("ecdsa-with-SHA256");
    }
  });

  test("ensureSelfSigned writes the key 0600 in a 0700 dir, keeps it on the next start, replaces it for a new host name", () => {
    const dd = join(dir, "data1");
    const p = ensureSelfSigned(dd, "one.example.test", quiet);
    expect(statSync(p.keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(selfSignedPaths(dd).dir).mode & 0o777).toBe(0o700);
    const first = serialOf(require("node:fs").readFileSync(p.certFile, "utf8"));
    ensureSelfSigned(dd, "one.example.test", quiet);
    expect(serialOf(require("node:fs").readFileSync(p.certFile, "utf8"))).toBe(first);
    ensureSelfSigned(dd, "two.example.test", quiet);
    const x = new X509Certificate(require("node:fs").readFileSync(p.certFile, "utf8"));
    expect(x.serialNumber).not.toBe(first);
    expect(x.checkHost("two.example.test")).toBe("two.example.test");
  });
});

describe("TLS manager reloads", () => {
  test("a changed certificate file is picked up by polling, a broken one is refused", async () => {
    const certFile = join(dir, "poll-cert.pem");
    const keyFile = join(dir, "poll-key.pem");
    const a = createSelfSignedCertificate(["poll.example.test"]);
    writeFileSync(certFile, a.certPem);
    writeFileSync(keyFile, a.keyPem);
    const mgr = createTlsManager({ dataDir: join(dir, "d2"), hostname: "poll.example.test", certFile, keyFile, log: quiet, watchIntervalMs: 50 });
    const server = mgr.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    try {
      expect(await presentedSerial(mgr, server)).toBe(serialOf(a.certPem));
      const b = createSelfSignedCertificate(["poll.example.test"]);
      writeFileSync(keyFile, b.keyPem);
      writeFileSync(certFile, b.certPem);
      const deadline = Date.now() + 10_000;
      while (mgr.certPem !== b.certPem && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      expect(mgr.certPem).toBe(b.certPem);
      expect(await presentedSerial(mgr, server)).toBe(serialOf(b.certPem));

      // A half-written or mismatched pair must not replace the working certificate.
      writeFileSync(certFile, "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n");
      expect(mgr.reload()).toBe(false);
      const c = createSelfSignedCertificate(["poll.example.test"]);
      writeFileSync(certFile, c.certPem); // key still b's: mismatch
      expect(mgr.reload()).toBe(false);
      expect(await presentedSerial(mgr, server)).toBe(serialOf(b.certPem));
    } finally {
      server.close();
      mgr.close();
    }
  });

  test("upgrade() rejects on a failed handshake and destroys the socket", async () => {
    const mgr = createTlsManager({ dataDir: join(dir, "d3"), hostname: "up.example.test", certFile: null, keyFile: null, log: quiet, watchIntervalMs: 0 });
    const result = new Promise<string>((resolve) => {
      const srv = net.createServer((raw) => {
        mgr.upgrade(raw).then(
          () => resolve("upgraded"),
          (e: Error) => resolve(`rejected: ${e.message} destroyed=${raw.destroyed}`),
        );
        srv.close();
      });
      srv.listen(0, "127.0.0.1", () => {
        const c = net.connect((srv.address() as net.AddressInfo).port, "127.0.0.1", () => c.end("this is not a TLS ClientHello\r\n\r\n"));
        c.on("error", () => {});
      });
    });
    const r = await result;
    expect(r).toStartWith("rejected:");
    expect(r).toContain("destroyed=true");
    mgr.close();
  });
});

test("self-signed certificate validity stays within Apple's 825-day limit", async () => {
  const { createSelfSignedCertificate } = await import("../../src/x509.ts");
  const cert = new X509Certificate(createSelfSignedCertificate(["mail.example.test"]).certPem);
  const days = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 86_400_000;
  expect(days).toBeLessThanOrEqual(825);
  expect(days).toBeGreaterThan(800);
});
