/**
 * ACME pieces without a CA: the [acme] / [mta_sts] settings, the renewal
 * schedule and backoff, the certificate names, the MTA-STS policy and mode,
 * the ClientHello reader (real and malformed input), and TLS-ALPN-01 routing
 * on real sockets (a validation gets the challenge certificate, everyone else
 * the normal one).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { X509Certificate, createHash } from "node:crypto";
import { ConfigError, defaultConfig, loadConfig, LETS_ENCRYPT_DIRECTORY } from "../../src/config.ts";
import { backoffDelay, nextAttemptAt, renewalDueAt, certificateNames } from "../../src/acme/index.ts";
import { BACKOFF_MAX_MS } from "../../src/acme/schedule.ts";
import { createAlpnCertificate, createCsr } from "../../src/acme/x509-acme.ts";
import { effectiveMtaStsMode, mtaStsId, mtaStsPolicy } from "../../src/mta-sts.ts";
import { peekClientHello } from "../../src/tls-hello.ts";
import { createTlsManager } from "../../src/tls.ts";
import { createLogger } from "../../src/log.ts";
import type { CertificateStatus } from "../../src/ops/types.ts";
import { run } from "../helpers/proc.ts";

const DAY = 86_400_000;
const noEnv = {};

describe("config: [acme] and [mta_sts]", () => {
  test("defaults: off, Let's Encrypt production, auto challenge, domain names on; MTA-STS testing for a week", () => {
    const c = loadConfig({ file: null, env: noEnv });
    expect(c.acme).toEqual({ enabled: false, directoryUrl: LETS_ENCRYPT_DIRECTORY, email: null, caFile: null, challenge: "auto", domainNames: true, extraNames: [] });
    expect(c.mtaSts).toEqual({ mode: "testing", maxAgeSeconds: 604_800 });
  });

  test("environment and TOML", () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-acme-cfg-"));
    try {
      const file = join(dir, "pillarbox.toml");
      writeFileSync(file, `[acme]\nenabled = true\nemail = "ops@example.org"\nchallenge = "tls-alpn-01"\nextra_names = ["Webmail.Example.org"]\ndomain_names = false\n[mta_sts]\nmode = "enforce"\nmax_age = 86400\n`);
      const c = loadConfig({ file, env: { PILLARBOX_ACME_DIRECTORY: "https://acme-staging-v02.api.letsencrypt.org/directory", PILLARBOX_ACME_CA_FILE: "ca.pem" } });
      expect(c.acme.enabled).toBe(true);
      expect(c.acme.email).toBe("ops@example.org");
      expect(c.acme.challenge).toBe("tls-alpn-01");
      expect(c.acme.extraNames).toEqual(["webmail.example.org"]);
      expect(c.acme.domainNames).toBe(false);
      expect(c.acme.directoryUrl).toContain("staging");
      expect(c.acme.caFile).toBe(join(process.cwd(), "ca.pem"));
      expect(c.mtaSts).toEqual({ mode: "enforce", maxAgeSeconds: 86_400 });
      expect(loadConfig({ file: null, env: { PILLARBOX_ACME: "on" } }).acme.enabled).toBe(true);
      expect(loadConfig({ file: null, env: { PILLARBOX_ACME: "off" } }).acme.enabled).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("bad values are refused in words", () => {
    const bad: [Record<string, string>, RegExp][] = [
      [{ PILLARBOX_ACME: "maybe" }, /expected true or false/],
      [{ PILLARBOX_ACME_DIRECTORY: "http://ca.example/dir" }, /must be an https:\/\/ URL/],
      [{ PILLARBOX_ACME_DIRECTORY: "not a url" }, /expected an https:\/\/ URL/],
      [{ PILLARBOX_ACME_CHALLENGE: "dns-01" }, /expected one of auto, http-01, tls-alpn-01/],
      [{ PILLARBOX_ACME_EXTRA_NAMES: "ok.example.org,bad_name" }, /not a valid host name/],
      [{ PILLARBOX_MTA_STS_MODE: "none" }, /expected one of testing, enforce/],
      [{ PILLARBOX_MTA_STS_MAX_AGE: "10" }, /from 86400 to 31557600/],
      [{ PILLARBOX_ACME: "on", PILLARBOX_TLS_CERT: "/c.pem", PILLARBOX_TLS_KEY: "/k.pem" }, /use one or the other/],
    ];
    for (const [env, re] of bad) expect(() => loadConfig({ file: null, env })).toThrow(re);
    expect(() => loadConfig({ file: null, env: { PILLARBOX_ACME: "maybe" } })).toThrow(ConfigError);
  });
});

describe("renewal schedule and backoff", () => {
  test("a 90-day certificate renews 30 days before expiry; a 6-day one after two thirds of its life", () => {
    expect(renewalDueAt(0, 90 * DAY)).toBe(60 * DAY);
    expect(renewalDueAt(0, 6 * DAY)).toBe(4 * DAY);
    expect(renewalDueAt(0, 3 * 365 * DAY)).toBe(3 * 365 * DAY - 30 * DAY);
  });

  test("backoff doubles from one minute and stops at 12 hours", () => {
    expect([1, 2, 3, 4].map(backoffDelay)).toEqual([60_000, 120_000, 240_000, 480_000]);
    expect(backoffDelay(0)).toBe(0);
    expect(backoffDelay(50)).toBe(BACKOFF_MAX_MS);
    expect(backoffDelay(10_000)).toBe(BACKOFF_MAX_MS);
  });

  test("next attempt: now without a certificate, the due time with one, and never before the backoff after a failure", () => {
    const now = 1_000 * DAY;
    expect(nextAttemptAt({ certNotBefore: null, certNotAfter: null, failures: 0, lastAttemptAt: null }, now)).toBe(now);
    expect(nextAttemptAt({ certNotBefore: now, certNotAfter: now + 90 * DAY, failures: 0, lastAttemptAt: now }, now)).toBe(now + 60 * DAY);
    expect(nextAttemptAt({ certNotBefore: null, certNotAfter: null, failures: 3, lastAttemptAt: now }, now)).toBe(now + 240_000);
    // Overdue certificate with failures: the backoff still spaces the attempts.
    expect(nextAttemptAt({ certNotBefore: now - 89 * DAY, certNotAfter: now + DAY, failures: 2, lastAttemptAt: now }, now)).toBe(now + 120_000);
  });
});

describe("certificate names", () => {
  const base = { ...defaultConfig(), hostname: "mail.example.org" };
  test("host name first, then autoconfig/autodiscover/mta-sts per domain, then extra names, without duplicates", () => {
    const c = { ...base, acme: { ...base.acme, extraNames: ["webmail.example.org", "mail.example.org"] } };
    expect(certificateNames(c, ["example.org", "example.net"])).toEqual([
      "mail.example.org",
      "autoconfig.example.org",
      "autodiscover.example.org",
      "mta-sts.example.org",
      "autoconfig.example.net",
      "autodiscover.example.net",
      "mta-sts.example.net",
      "webmail.example.org",
    ]);
  });
  test("domain names off: the host name alone; at most 100 names", () => {
    expect(certificateNames({ ...base, acme: { ...base.acme, domainNames: false } }, ["example.org"])).toEqual(["mail.example.org"]);
    const many = Array.from({ length: 60 }, (_, i) => `d${i}.example`);
    expect(certificateNames(base, many).length).toBe(100);
  });
});

describe("MTA-STS policy (RFC 8461)", () => {
  const cfg = (mode: "testing" | "enforce") => ({ hostname: "mail.example.org", mtaSts: { mode, maxAgeSeconds: 604_800 } });
  const cert = (source: CertificateStatus["source"], names: string[], notAfter = Date.now() + 30 * DAY): CertificateStatus => ({ source, names, issuer: "x", notBefore: 0, notAfter, fingerprint: "f", nextRenewalAt: null, lastError: null, lastAttemptAt: null });
  test("enforce only when asked and a trusted, unexpired certificate covers the MX host", () => {
    expect(effectiveMtaStsMode(cfg("testing"), [cert("acme", ["mail.example.org"])])).toBe("testing");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("self-signed", ["mail.example.org"])])).toBe("testing");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("acme", ["other.example.org"])])).toBe("testing");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("acme", ["mail.example.org"], Date.now() - 1)])).toBe("testing");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("acme", ["mail.example.org"])])).toBe("enforce");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("files", ["*.example.org"])])).toBe("enforce");
    expect(effectiveMtaStsMode(cfg("enforce"), [cert("files", ["*.org"])])).toBe("testing");
  });
  test("policy text and an id that changes with it", () => {
    const t = mtaStsPolicy("mail.example.org", "testing", 604_800);
    const e = mtaStsPolicy("mail.example.org", "enforce", 604_800);
    expect(t).toBe("version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 604800\r\n");
    expect(mtaStsId(t)).toMatch(/^[a-z0-9]{1,32}$/);
    expect(mtaStsId(t)).not.toBe(mtaStsId(e));
    expect(mtaStsId(t)).toBe(mtaStsId(mtaStsPolicy("mail.example.org", "testing", 604_800)));
  });
});

/** A real ClientHello as a client sends it (captured on a plain socket). */
function captureClientHello(opts: { servername?: string; alpn?: string[] }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      s.once("data", (b: Buffer) => {
        resolve(b);
        s.destroy();
        srv.close();
      });
    });
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as net.AddressInfo).port;
      const c = tls.connect({ host: "127.0.0.1", port, servername: opts.servername, ALPNProtocols: opts.alpn, rejectUnauthorized: false });
      c.on("error", () => {});
    });
    srv.on("error", reject);
  });
}

describe("ClientHello reader", () => {
  test("reads SNI and ALPN from a real ClientHello", async () => {
    const hello = await captureClientHello({ servername: "Mail.Example.org", alpn: ["acme-tls/1", "http/1.1"] });
    expect(peekClientHello(hello)).toEqual({ kind: "hello", serverName: "mail.example.org", alpn: ["acme-tls/1", "http/1.1"] });
    const plain = await captureClientHello({});
    expect(peekClientHello(plain)).toMatchObject({ kind: "hello", serverName: null, alpn: [] });
    // Any prefix shorter than the record asks for more; never throws.
    for (let n = 0; n < Math.min(hello.length, 400); n += 7) expect(peekClientHello(hello.subarray(0, n)).kind).toBe("more");
  });

  test("malformed input is 'other' or 'more', never an exception", async () => {
    const hello = await captureClientHello({ servername: "a.example", alpn: ["acme-tls/1"] });
    expect(peekClientHello(Buffer.from("EHLO client.example\r\n")).kind).toBe("other");
    expect(peekClientHello(Buffer.from([22, 3, 1, 0xff, 0xff])).kind).toBe("other"); // record > 2^14
    expect(peekClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])).kind).toBe("other"); // not a ClientHello
    expect(peekClientHello(Buffer.from([22, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff])).kind).toBe("other"); // handshake longer than record
    // Random corruption of every byte after the header: always a defined answer.
    for (let i = 5; i < hello.length; i++) {
      const b = Buffer.from(hello);
      b[i] = b[i]! ^ 0xff;
      expect(["hello", "other", "more"]).toContain(peekClientHello(b).kind);
    }
    for (let i = 0; i < 200; i++) {
      const r = Buffer.alloc(64 + i);
      for (let j = 0; j < r.length; j++) r[j] = (i * 31 + j * 17) & 0xff;
      r[0] = 22;
      expect(["hello", "other", "more"]).toContain(peekClientHello(r).kind);
    }
  });
});

describe("ACME X.509 pieces", () => {
  test("the RFC 8737 certificate names one host and carries the critical acmeIdentifier with SHA-256 of the key authorization", () => {
    const { cert } = createAlpnCertificate("mail.example.org", "token.thumbprint");
    const x = new X509Certificate(cert);
    expect(x.subjectAltName).toBe("DNS:mail.example.org");
    const der = x.raw;
    const digest = createHash("sha256").update("token.thumbprint").digest();
    // OID 1.3.6.1.5.5.7.1.31, critical TRUE, OCTET STRING { OCTET STRING (32) digest }
    const ext = Buffer.concat([Buffer.from([0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x01, 0x1f, 0x01, 0x01, 0xff, 0x04, 0x22, 0x04, 0x20]), digest]);
    expect(der.includes(ext)).toBe(true);
  });
  test("the CSR is a PKCS #10 request openssl verifies, with every name", async () => {
    const { generateKeyPairSync } = await import("node:crypto");
    const key = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    const csr = createCsr(["mail.example.org", "mta-sts.example.org"], key);
    const r = await run("openssl", ["req", "-noout", "-verify", "-text"], { input: csr });
    const out = r.stdout + r.stderr;
    expect(r.code).toBe(0);
    expect(out).toContain("verify OK");
    expect(out).toContain("DNS:mail.example.org, DNS:mta-sts.example.org");
  });
});

describe("TLS-ALPN-01 routing on an implicit-TLS listener", () => {
  test("acme-tls/1 for a pending name gets the validation certificate; other clients the served one; unknown names fail", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-alpn-"));
    const mgr = createTlsManager({ dataDir: dir, hostname: "mail.example.org", certFile: null, keyFile: null, log: createLogger("error"), watchIntervalMs: 0 });
    const pair = createAlpnCertificate("mail.example.org", "k.a");
    mgr.setAlpnChallenge("mail.example.org", pair);
    const srv = net.createServer((raw) => {
      mgr.upgrade(raw, { acmeAlpn: true }).then(
        (s) => s.end("hello\n"),
        () => {},
      );
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    const port = (srv.address() as net.AddressInfo).port;
    const connect = (servername: string, alpn?: string[]) =>
      new Promise<{ cert: string | null; alpn: string | false; error?: string }>((resolve) => {
        const c = tls.connect({ host: "127.0.0.1", port, servername, ALPNProtocols: alpn, rejectUnauthorized: false }, () => {
          const pc = c.getPeerX509Certificate();
          resolve({ cert: pc?.fingerprint256 ?? null, alpn: c.alpnProtocol ?? false });
          c.end();
        });
        c.on("error", (e) => resolve({ cert: null, alpn: false, error: e.message }));
      });
    try {
      const challenge = new X509Certificate(pair.cert).fingerprint256;
      const served = new X509Certificate(mgr.certPem).fingerprint256;
      expect(await connect("mail.example.org", ["acme-tls/1"])).toEqual({ cert: challenge, alpn: "acme-tls/1" });
      expect((await connect("mail.example.org", ["http/1.1"])).cert).toBe(served);
      expect((await connect("mail.example.org")).cert).toBe(served);
      expect((await connect("other.example.org", ["acme-tls/1"])).cert).toBeNull();
      mgr.setAlpnChallenge("mail.example.org", null);
      // No challenge pending: nothing is peeked, everyone gets the served certificate.
      expect((await connect("mail.example.org", ["acme-tls/1"])).cert).toBe(served);
    } finally {
      srv.close();
      mgr.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
