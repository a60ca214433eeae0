/**
 * ACME against Debian's pebble: issuance over HTTP-01 and TLS-ALPN-01,
 * renewal swapped into every TLS listener without a restart (HTTPS, IMAPS,
 * SMTP STARTTLS, checked by curl, openssl s_client and python imaplib against
 * pebble's root), a failed challenge reported, a name whose challenge fails
 * left out, the account key and certificate kept across a restart, and the
 * MTA-STS policy served per host.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import type { Config } from "../../src/config-types.ts";
import { acmePaths } from "../../src/acme/index.ts";
import { createSelfSignedCertificate } from "../../src/x509.ts";
import { testConfig } from "../helpers/server.ts";
import { runCli } from "../helpers/proc.ts";
import { freePort, havePebble, startPebble, type Pebble } from "./pebble.ts";

const HOST = "mail.example.test";
const DOMAIN = "example.test";
const enabled = havePebble();
// CI installs pebble (.ci/run): there a missing CA is a failure, not a skip.
if (!enabled && process.env.CI === "true") throw new Error("pebble / pebble-challtestsrv missing under CI (Debian package pebble)");

let ca: Pebble;
let dataDir: string;
let rootFile: string;
let config: Config;
let srv: RunningServer;
const ports = { HTTP: 0, HTTPS: 0, IMAPS: 0, SMTP: 0 };

async function start(): Promise<RunningServer> {
  return startServer(config, { log: createLogger(config.log.level, { test: true }), tlsWatchIntervalMs: 0, shutdownTimeoutMs: 3000, acmePollMs: 200 });
}

/** Runs a client without blocking the event loop (the server under test is in this process). */
function run(cmd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    p.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => p.kill("SIGKILL"), 20_000);
    p.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
    p.stdin.end();
  });
}

/** `pillarbox check` on the test server's data dir with ACME on (the server keeps running). */
async function checkOutput(): Promise<string> {
  const env: Record<string, string | undefined> = { PILLARBOX_CONFIG: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) env[k] = undefined;
  const r = await runCli(["check"], { env: { ...env, PILLARBOX_DATA_DIR: dataDir, PILLARBOX_HOSTNAME: HOST, PILLARBOX_ACME: "on", PILLARBOX_ACME_DIRECTORY: ca.directoryUrl } });
  return r.stdout;
}

async function servedCert(port: number, args: string[] = []): Promise<X509Certificate> {
  const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", HOST, ...args]);
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(r.stdout);
  if (!m) throw new Error(`no certificate from port ${port}: ${r.stderr}`);
  return new X509Certificate(m[0]);
}

/** openssl s_client verifying the chain against pebble's root and the host name. */
async function opensslVerifies(port: number, starttls?: string): Promise<boolean> {
  const args = ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", HOST, "-verify_hostname", HOST, "-CAfile", rootFile, "-verify_return_error", ...(starttls ? ["-starttls", starttls] : [])];
  const r = await run("openssl", args);
  return r.status === 0 && /Verify return code: 0 \(ok\)/.test(r.stdout);
}

async function curlHttps(host: string, path: string, extra: string[] = []): Promise<{ code: string; body: string }> {
  const r = await run("curl", ["-sS", "--max-time", "10", "--cacert", rootFile, "--resolve", `${host}:${ports.HTTPS}:127.0.0.1`, "-w", "\n%{http_code}", ...extra, `https://${host}:${ports.HTTPS}${path}`]);
  const out = r.stdout ?? "";
  const i = out.lastIndexOf("\n");
  return { code: r.status === 0 ? out.slice(i + 1) : `curl exit ${r.status}: ${r.stderr}`, body: out.slice(0, i) };
}

async function pythonImapsVerifies(): Promise<string> {
  const py = `import imaplib, ssl, socket, sys
ctx = ssl.create_default_context(cafile=sys.argv[1])
orig = socket.getaddrinfo
socket.getaddrinfo = lambda h, *a, **k: orig("127.0.0.1" if h == "${HOST}" else h, *a, **k)
m = imaplib.IMAP4_SSL("${HOST}", int(sys.argv[2]), ssl_context=ctx)
print(m.welcome.decode()[:4]); m.logout()`;
  const r = await run("python3", ["-c", py, rootFile, String(ports.IMAPS)]);
  return r.status === 0 ? r.stdout.trim() : `error: ${r.stderr.trim().split("\n").pop()}`;
}

beforeAll(async () => {
  if (!enabled) return;
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) ports[k] = await freePort();
  ca = await startPebble({ httpPort: ports.HTTP, tlsPort: ports.HTTPS });
  rootFile = join(ca.dir, "issued-root.pem");
  writeFileSync(rootFile, await ca.rootPem());
  dataDir = mkdtempSync(join(tmpdir(), "pillarbox-acme-"));
  config = testConfig(dataDir, ["HTTP", "HTTPS", "IMAPS", "SMTP"]);
  config.hostname = HOST;
  for (const k of Object.keys(ports) as (keyof typeof ports)[]) config.listeners[k] = { host: "127.0.0.1", port: ports[k] };
  config.acme = { enabled: true, directoryUrl: ca.directoryUrl, email: "postmaster@example.test", caFile: ca.caFile, challenge: "http-01", domainNames: true, extraNames: [], };
  config.mtaSts = { mode: "enforce", maxAgeSeconds: 86_400 };
  srv = await start();
  await srv.store.addDomain(DOMAIN);
}, 60_000);

afterAll(async () => {
  if (!enabled) return;
  await srv?.close();
  await ca?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe.skipIf(!enabled)("ACME against pebble", () => {
  let first: X509Certificate;

  test("on start the server orders by itself over HTTP-01: the host name and the domain's autoconfig/autodiscover/mta-sts names", async () => {
    // The first order starts as soon as the listeners are bound (no certificate yet; the host name only,
    // as the domain is added after the start); renewNow joins it, then orders again with the domain's names.
    await srv.ctx.certificates.renewNow();
    expect(srv.ctx.certificates.status()[0]!.source).toBe("acme");
    expect(await srv.ctx.certificates.renewNow()).toMatchObject({ ok: true });
    const st = srv.ctx.certificates.status()[0]!;
    expect(st.source).toBe("acme");
    expect(st.issuer).toMatch(/Pebble/i);
    expect(st.names.sort()).toEqual([HOST, `autoconfig.${DOMAIN}`, `autodiscover.${DOMAIN}`, `mta-sts.${DOMAIN}`].sort());
    expect(st.lastError).toBeNull();
    expect(st.nextRenewalAt).toBeGreaterThan(Date.now());
    expect(st.nextRenewalAt).toBeLessThan(st.notAfter);
    first = await servedCert(ports.HTTPS);
    expect(first.fingerprint256.replace(/:/g, "").toLowerCase()).toBe(st.fingerprint);
    // Secrets: 0700 dir, 0600 keys.
    const p = acmePaths(dataDir);
    expect(statSync(p.dir).mode & 0o777).toBe(0o700);
    expect(statSync(p.accountKey).mode & 0o777).toBe(0o600);
    expect(statSync(p.certKey).mode & 0o777).toBe(0o600);
  }, 60_000);

  test("the new chain verifies against pebble's root on HTTPS (curl), IMAPS (openssl, python imaplib) and SMTP STARTTLS, without a restart", async () => {
    expect(await curlHttps(HOST, "/healthz")).toEqual({ code: "200", body: "ok\n" });
    expect(await opensslVerifies(ports.IMAPS)).toBe(true);
    expect(await opensslVerifies(ports.SMTP, "smtp")).toBe(true);
    expect(await pythonImapsVerifies()).toBe("* OK");
  }, 30_000);

  test("MTA-STS: the policy is served per local domain's mta-sts host (enforce once trusted) and 404 elsewhere", async () => {
    const r = await curlHttps(`mta-sts.${DOMAIN}`, "/.well-known/mta-sts.txt", ["-D", "-"]);
    expect(r.code).toBe("200");
    expect(r.body).toMatch(/content-type: text\/plain/i);
    expect(r.body).toContain(`version: STSv1\r\nmode: enforce\r\nmx: ${HOST}\r\nmax_age: 86400\r\n`);
    expect((await curlHttps(HOST, "/.well-known/mta-sts.txt")).code).toBe("404");
    const other = await run("curl", ["-sSk", "-o", "/dev/null", "-w", "%{http_code}", "--resolve", `mta-sts.other.test:${ports.HTTPS}:127.0.0.1`, `https://mta-sts.other.test:${ports.HTTPS}/.well-known/mta-sts.txt`]);
    expect(other.stdout).toBe("404");
    // Hostile Host headers: an answer in words, never a 500.
    for (const host of ["mta-sts.", "mta-sts..example.test", `mta-sts.${"a".repeat(300)}.test`, "MTA-STS.EXAMPLE.TEST", "mta-sts.example.test."]) {
      const r = await run("curl", ["-sSk", "-o", "/dev/null", "-w", "%{http_code}", "-H", `Host: ${host}`, `https://127.0.0.1:${ports.HTTPS}/.well-known/mta-sts.txt`]);
      expect(["200", "400", "404"]).toContain(r.stdout);
      if (host.toLowerCase().replace(/\.$/, "") === `mta-sts.${DOMAIN}`) expect(r.stdout).toBe("200");
    }
  });

  test("renewal over TLS-ALPN-01 is hot-swapped into every listener and keeps the key (TLSA 3 1 1 stays valid)", async () => {
    config.acme.challenge = "tls-alpn-01";
    const r = await srv.ctx.certificates.renewNow();
    expect(r).toMatchObject({ ok: true });
    const next = await servedCert(ports.HTTPS);
    expect(next.fingerprint256).not.toBe(first.fingerprint256);
    expect((await servedCert(ports.IMAPS)).fingerprint256).toBe(next.fingerprint256);
    expect((await servedCert(ports.SMTP, ["-starttls", "smtp"])).fingerprint256).toBe(next.fingerprint256);
    const spki = (x: X509Certificate) => x.publicKey.export({ type: "spki", format: "der" }).toString("hex");
    expect(spki(next)).toBe(spki(first));
    expect(await opensslVerifies(ports.HTTPS)).toBe(true);
    expect(await opensslVerifies(ports.IMAPS)).toBe(true);
    expect(await opensslVerifies(ports.SMTP, "smtp")).toBe(true);
    expect(await pythonImapsVerifies()).toBe("* OK");
    expect((await curlHttps(HOST, "/healthz")).code).toBe("200");
  }, 60_000);

  test("a name whose challenge fails is left out; the host name still gets its certificate", async () => {
    config.acme.challenge = "http-01";
    config.acme.extraNames = ["broken.example.test"];
    await ca.setA("broken.example.test", "127.0.0.2"); // nothing listens there
    const r = await srv.ctx.certificates.renewNow();
    expect(r).toMatchObject({ ok: true });
    const st = srv.ctx.certificates.status()[0]!;
    expect(st.names).toContain(HOST);
    expect(st.names).not.toContain("broken.example.test");
  }, 60_000);

  test("a failed challenge for the host name is reported (status lastError, backoff) and the served certificate stays", async () => {
    const before = (await servedCert(ports.HTTPS)).fingerprint256;
    await ca.setA(HOST, "127.0.0.2");
    try {
      const r = await srv.ctx.certificates.renewNow();
      expect(r.ok).toBe(false);
      expect(r.message).toContain(HOST);
      const st = srv.ctx.certificates.status()[0]!;
      expect(st.lastError).toContain("http-01 challenge failed");
      expect(st.lastError).toContain(HOST);
      expect(st.lastAttemptAt).toBeGreaterThan(0);
      expect(st.nextRenewalAt!).toBeGreaterThanOrEqual(st.lastAttemptAt! + 60_000);
      expect((await servedCert(ports.HTTPS)).fingerprint256).toBe(before);
      // `pillarbox check` shows the failure on the certificate line.
      const out = await checkOutput();
      expect(out).toMatch(/^warn  certificate \(acme\): issuer Pebble[^\n]*names [^\n]*mail\.example\.test[^\n]*last error: http-01 challenge failed for mail\.example\.test/m);
    } finally {
      await ca.setA(HOST, null);
    }
  }, 60_000);

  test("after a restart the account key and the certificate are kept and served at once, without a new order", async () => {
    const p = acmePaths(dataDir);
    const key = readFileSync(p.accountKey, "utf8");
    const state = JSON.parse(readFileSync(p.state, "utf8")) as { accountUrl: string };
    const served = (await servedCert(ports.HTTPS)).fingerprint256;
    await srv.close();
    srv = await start();
    expect((await servedCert(ports.HTTPS)).fingerprint256).toBe(served);
    expect(readFileSync(p.accountKey, "utf8")).toBe(key);
    const st = srv.ctx.certificates.status()[0]!;
    expect(st.source).toBe("acme");
    expect(st.lastError).toContain(HOST); // the last failure is remembered until a success
    config.acme.extraNames = [];
    const r = await srv.ctx.certificates.renewNow();
    expect(r).toMatchObject({ ok: true });
    expect((JSON.parse(readFileSync(p.state, "utf8")) as { accountUrl: string }).accountUrl).toBe(state.accountUrl);
    expect(srv.ctx.certificates.status()[0]!.lastError).toBeNull();
    const out = await checkOutput();
    expect(out).toMatch(/^ok    certificate \(acme\): issuer Pebble[^\n]*; expires [^\n]*\(\d+ days\); next renewal [^\n]*; last error: none$/m);
    expect(out).toMatch(/^ok    TLS certificate .*acme\/cert\.pem/m);
  }, 60_000);

  test("a stored certificate that is due is renewed by the timer at start, without renewNow, and swapped in", async () => {
    await srv.close();
    const dir3 = mkdtempSync(join(tmpdir(), "pillarbox-acme-due-"));
    // A one-day certificate issued 20 hours ago: past two thirds of its life, so due now.
    const old = createSelfSignedCertificate([HOST], { days: 1, now: new Date(Date.now() - 20 * 3_600_000) });
    const p = acmePaths(dir3);
    mkdirSync(p.dir, { recursive: true, mode: 0o700 });
    writeFileSync(p.cert, old.certPem);
    writeFileSync(p.certKey, old.keyPem, { mode: 0o600 });
    const prev = config;
    config = structuredClone(config);
    config.dataDir = dir3;
    config.databaseUrl = `file:${join(dir3, "pillarbox.db")}`;
    config.acme.extraNames = [];
    try {
      srv = await start();
      // Wait for the state (the first timer tick orders at once), not for a time.
      for (let i = 0; i < 300 && srv.ctx.certificates.status()[0]!.issuer === HOST; i++) await new Promise((r) => setTimeout(r, 100));
      const st = srv.ctx.certificates.status()[0]!;
      expect(st.issuer).toMatch(/Pebble/i);
      expect(st.source).toBe("acme");
      expect(await opensslVerifies(ports.HTTPS)).toBe(true);
    } finally {
      await srv.close();
      config = prev;
      srv = await start();
      rmSync(dir3, { recursive: true, force: true, maxRetries: 3 });
    }
  }, 60_000);

  test("ACME turned on by a configuration reload (quickstart --acme on a running server) issues and serves a certificate without a restart", async () => {
    await srv.close();
    const dir2 = mkdtempSync(join(tmpdir(), "pillarbox-acme-reload-"));
    const off = structuredClone(config);
    off.dataDir = dir2;
    off.databaseUrl = `file:${join(dir2, "pillarbox.db")}`;
    off.acme = { ...config.acme, enabled: false, extraNames: [] };
    const prev = config;
    config = off;
    srv = await start();
    try {
      expect(srv.ctx.certificates.status()[0]!.source).toBe("self-signed");
      expect(await opensslVerifies(ports.HTTPS)).toBe(false);
      const on = structuredClone(off);
      on.acme.enabled = true;
      const change = srv.reloadConfig(on);
      expect(change.applied).toContain("acme.enabled");
      // The reload started the first order; renewNow joins it.
      await srv.ctx.certificates.renewNow();
      expect(srv.ctx.certificates.status()[0]).toMatchObject({ source: "acme", lastError: null });
      expect(await opensslVerifies(ports.HTTPS)).toBe(true);
      expect(await opensslVerifies(ports.SMTP, "smtp")).toBe(true);
    } finally {
      config = prev;
      rmSync(dir2, { recursive: true, force: true, maxRetries: 3 });
    }
  }, 60_000);

  test("the HTTP-01 route answers only tokens being validated (404 otherwise, malformed tokens included)", async () => {
    for (const t of ["unknown-token-000000000", "x", "..%2f..%2fetc", "a".repeat(300)]) {
      const r = await run("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${ports.HTTP}/.well-known/acme-challenge/${t}`]);
      expect(r.stdout).toBe("404");
    }
  });
});
