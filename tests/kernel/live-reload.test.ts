/**
 * Found item 1: following the README order (quickstart while the server runs)
 * must not leave the server on its old name until a restart. `pillarbox serve`
 * runs as a process; `pillarbox quickstart` rewrites pillarbox.toml next to it;
 * SIGHUP applies it: the EHLO greeting, the Received: line of a message read
 * back over IMAP (python imaplib), the autoconfig XML (curl) and the
 * certificate's CN (openssl s_client) all show the new name, and the message
 * size limit the new file sets is in force, without a restart. Settings that
 * need a restart are named in one warning and keep their value; a broken file
 * changes nothing; [tls] files set in the file are taken on SIGHUP.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { createSelfSignedCertificate } from "../../src/x509.ts";
import { applyConfig } from "../../src/live-config.ts";
import { loadConfig } from "../../src/config.ts";
import { startServer } from "../../src/server.ts";
import { createLogger } from "../../src/log.ts";
import { testConfig } from "../helpers/server.ts";
import { BUN, REPO_ROOT, run, runCli, spawnBackground, type Background } from "../helpers/proc.ts";

setDefaultTimeout(60_000);
const root = mkdtempSync(join(tmpdir(), "pb-live-reload-"));
const dataDir = join(root, "data");
const tomlFile = join(dataDir, "pillarbox.toml");
const PASSWORD = "Live-reload-test-passphrase-7";
let server: Background;
let ports: Record<string, number> = {};

function env(): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_")) e[k] = undefined;
  for (const n of Object.keys(LISTENER_DEFAULTS)) e[`PILLARBOX_${n}_LISTEN`] = ["SMTP", "IMAPS", "HTTP"].includes(n) ? "127.0.0.1:0" : "off";
  // No PILLARBOX_HOSTNAME: the host name comes from the file, as after quickstart.
  return { ...e, PILLARBOX_DATA_DIR: dataDir, PILLARBOX_SMTP_VERIFY_INBOUND: "false" };
}

beforeAll(async () => {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The server starts on a name that is not the final one (the "vm").
  writeFileSync(tomlFile, 'hostname = "vm.before.test"\n', { mode: 0o600 });
  server = spawnBackground(BUN, [resolve(REPO_ROOT, "src/main.ts"), "serve"], { env: env() });
  const m = await server.waitFor(/\{[^\n]*"msg":"pillarbox serving"[^\n]*\}/, 30_000);
  const listeners = JSON.parse(m[0]).listeners as Record<string, string>;
  ports = Object.fromEntries(Object.entries(listeners).map(([k, v]) => [k, Number(v.split(":").pop())]));
});
afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

/** Waits for the n-th occurrence of a log line (counting from the start of the server's stderr). */
async function waitForCount(re: RegExp, n: number): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const all = [...(server.stderr() + server.stdout()).matchAll(new RegExp(re.source, "g"))];
    if (all.length >= n) return all[n - 1]![0];
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} (#${n})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One SMTP conversation; returns every reply (multi-line replies joined with \n). */
async function smtp(lines: string[]): Promise<string[]> {
  const s = net.connect(ports.SMTP!, "127.0.0.1");
  let buf = "";
  const replies: string[] = [];
  let current: string[] = [];
  const waiters: (() => void)[] = [];
  s.on("data", (d: Buffer) => {
    buf += d.toString("latin1");
    let i: number;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      current.push(l);
      if (/^\d{3} /.test(l) || /^\d{3}$/.test(l)) {
        replies.push(current.join("\n"));
        current = [];
        waiters.shift()?.();
      }
    }
  });
  const next = (count: number) => new Promise<void>((r) => (replies.length >= count ? r() : waiters.push(() => (replies.length >= count ? r() : waiters.unshift(() => r())))));
  await next(1);
  for (const l of lines) {
    const want = replies.length + 1;
    s.write(l + "\r\n");
    await next(want);
  }
  s.destroy();
  return replies;
}

async function ehlo(): Promise<string> {
  const r = await smtp(["EHLO client.test", "QUIT"]);
  return r[1]!;
}

async function certSubject(port: number): Promise<string> {
  const r = await run("sh", ["-c", `openssl s_client -connect 127.0.0.1:${port} -servername localhost </dev/null 2>/dev/null | openssl x509 -noout -subject`], { timeoutMs: 20_000 });
  return r.stdout.trim();
}

describe("before SIGHUP: the server runs on the name it started with", () => {
  test("EHLO and certificate say vm.before.test", async () => {
    expect(await ehlo()).toMatch(/^250-vm\.before\.test Hello/);
    expect(await certSubject(ports.IMAPS!)).toMatch(/CN\s*=\s*vm\.before\.test/);
  });

  test("quickstart writes the new name and says how to apply it; nothing changes yet", async () => {
    const q = await runCli(["quickstart", "admin@live.test", "--hostname", "mail.live.test", "--password-stdin", "--force"], { env: env(), input: PASSWORD + "\n" });
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/SIGHUP/);
    expect(readFileSync(tomlFile, "utf8")).toContain('hostname = "mail.live.test"');
    // A restart-only setting and a live one, as an admin might add (top-level key first, then a table).
    writeFileSync(tomlFile, `database_url = "file:${join(root, "elsewhere.db")}"\n` + readFileSync(tomlFile, "utf8") + '\n[limits]\nmax_message_size = "1M"\n');
    expect(await ehlo()).toMatch(/^250-vm\.before\.test Hello/);
  });
});

describe("SIGHUP applies the file without a restart", () => {
  let reloaded = "";
  let restartWarning = "";
  beforeAll(async () => {
    server.kill("SIGHUP");
    reloaded = await waitForCount(/\{[^\n]*"msg":"configuration reloaded"[^\n]*\}/, 1);
    restartWarning = await waitForCount(/\{[^\n]*"msg":"configuration: these settings changed but need a restart to apply"[^\n]*\}/, 1);
  });

  test("one info line names what was applied, one warning what needs a restart", () => {
    const r = JSON.parse(reloaded);
    expect(r.kind).toBe("system");
    expect(r.applied).toContain("hostname");
    expect(r.applied).toContain("limits.max_message_size");
    expect(JSON.parse(restartWarning).settings).toBe("database_url");
    expect(server.child.exitCode).toBeNull();
  });

  test("EHLO greets with the new name and the new size limit", async () => {
    const r = await ehlo();
    expect(r).toMatch(/^250-mail\.live\.test Hello/);
    expect(r).toContain("250-SIZE 1048576");
  });

  test("a delivered message's Received: line, read over IMAP, names the new host (and so does the IMAP greeting)", async () => {
    const msg = ["From: <sender@remote.test>", "To: <admin@live.test>", "Subject: after reload", "Message-ID: <live-reload-1@remote.test>", "", "hello"].join("\r\n");
    const r = await smtp(["EHLO remote.test", "MAIL FROM:<sender@remote.test>", "RCPT TO:<admin@live.test>", "DATA", msg + "\r\n.", "QUIT"]);
    expect(r[5]).toMatch(/^250 /);
    const py = `
import imaplib, ssl, sys
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
m = imaplib.IMAP4_SSL("127.0.0.1", ${ports.IMAPS}, ssl_context=ctx)
sys.stdout.write(m.welcome.decode() + "\\n")
m.login("admin@live.test", sys.argv[1])
m.select("INBOX")
typ, data = m.search(None, 'HEADER', 'Message-ID', 'live-reload-1@remote.test')
ids = data[0].split()
typ, d = m.fetch(ids[-1], "(BODY.PEEK[HEADER.FIELDS (RECEIVED)])")
sys.stdout.write(d[0][1].decode())
m.logout()
`;
    const out = await run("python3", ["-c", py, PASSWORD], { timeoutMs: 30_000 });
    expect(out.stderr).toBe("");
    expect(out.stdout).toMatch(/Received: from remote\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.live\.test \(Pillarbox\)/);
    expect(out.stdout.split("\n")[0]).toMatch(/^\* OK .* mail\.live\.test Pillarbox IMAP ready\.$/); // the IMAP greeting too
  });

  test("autoconfig (curl) hands out the new host name", async () => {
    const r = await run("curl", ["-s", "-f", `http://127.0.0.1:${ports.HTTP}/mail/config-v1.1.xml?emailaddress=admin%40live.test`], { timeoutMs: 20_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("<hostname>mail.live.test</hostname>");
    expect(r.stdout).not.toContain("vm.before.test");
  });

  test("the self-signed certificate was made anew for the new name (openssl s_client)", async () => {
    expect(await certSubject(ports.IMAPS!)).toMatch(/CN\s*=\s*mail\.live\.test/);
  });
});

describe("later reloads", () => {
  test("a broken file changes nothing and says so", async () => {
    const good = readFileSync(tomlFile, "utf8");
    writeFileSync(tomlFile, good + "\nthis is = = not toml\n");
    server.kill("SIGHUP");
    const line = JSON.parse(await waitForCount(/\{[^\n]*"msg":"SIGHUP: configuration not reloaded, the running one stays"[^\n]*\}/, 1));
    expect(line.error).toMatch(/invalid TOML/);
    expect(await ehlo()).toMatch(/^250-mail\.live\.test Hello/);
    writeFileSync(tomlFile, good);
  });

  test("[tls] files set in the file are served after SIGHUP", async () => {
    const { certPem, keyPem } = createSelfSignedCertificate(["files.live.test"]);
    const certFile = join(root, "cert.pem");
    const keyFile = join(root, "key.pem");
    writeFileSync(certFile, certPem);
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    // A top-level key must come before the tables; [tls] goes at the end.
    writeFileSync(tomlFile, readFileSync(tomlFile, "utf8") + `\n[tls]\ncert_file = "${certFile}"\nkey_file = "${keyFile}"\n`);
    server.kill("SIGHUP");
    await waitForCount(/\{[^\n]*"msg":"configuration reloaded"[^\n]*\}/, 2);
    expect(await certSubject(ports.IMAPS!)).toMatch(/CN\s*=\s*files\.live\.test/);
  });
});

describe("pillarbox reload", () => {
  test("signals the server on the data dir and prints what it applied", async () => {
    writeFileSync(tomlFile, readFileSync(tomlFile, "utf8").replace('max_message_size = "1M"', 'max_message_size = "2M"'));
    const r = await runCli(["reload"], { env: env() });
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^sent SIGHUP to the server \(pid \d+\)\nconfiguration reloaded: limits\.max_message_size\nneeds a restart to apply: database_url\n$/);
    expect(await ehlo()).toContain("250-SIZE 2097152");
  });

  test("a file that does not load is refused before the server is signalled", async () => {
    const good = readFileSync(tomlFile, "utf8");
    writeFileSync(tomlFile, good + "\nno_such_setting = 1\n");
    const r = await runCli(["reload"], { env: env() });
    writeFileSync(tomlFile, good);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown setting "(tls\.)?no_such_setting"/);
    expect(r.stdout).not.toContain("sent SIGHUP");
  });

  test("the log level changes live: info lines stop, warnings go on", async () => {
    writeFileSync(tomlFile, readFileSync(tomlFile, "utf8") + '\n[log]\nlevel = "warn"\n');
    const r = await runCli(["reload"], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("configuration reloaded: log.level");
    // An accepted message (an info line), then an unknown recipient (a warning), in this order.
    const msg = ["From: <s@remote.test>", "To: <admin@live.test>", "Subject: quiet", "Message-ID: <after-level@remote.test>", "", "x"].join("\r\n");
    const sent = await smtp(["EHLO remote.test", "MAIL FROM:<s@remote.test>", "RCPT TO:<admin@live.test>", "DATA", msg + "\r\n.", "MAIL FROM:<s@remote.test>", "RCPT TO:<nobody@live.test>", "QUIT"]);
    expect(sent[5]).toMatch(/^250 /);
    expect(sent[7]).toMatch(/^550 /);
    await waitForCount(/\{[^\n]*"msg":"smtp rejected"[^\n]*"rcpt":"nobody@live\.test"[^\n]*\}/, 1);
    expect(server.stderr()).not.toContain("after-level@remote.test");
  });

  test("no server on the data dir: words, exit 1", async () => {
    const r = await runCli(["reload"], { env: { ...env(), PILLARBOX_DATA_DIR: join(root, "empty") } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no pillarbox server is running on the data dir .*empty/);
  });
});

describe("with ACME on", () => {
  test("a new host name orders a certificate at once (not at the next hourly check)", async () => {
    const dir = join(root, "acme");
    // A CA that is not there: the manager's own first order fails quietly into its backoff.
    const config = testConfig(dir, ["SMTP"], { hostname: "one.acme.test", acme: { enabled: true, directoryUrl: "https://127.0.0.1:9/directory" } });
    const srv = await startServer(config, { log: createLogger("error", {}, () => {}), tlsWatchIntervalMs: 0, shutdownTimeoutMs: 2000 });
    try {
      const orders: string[] = [];
      srv.ctx.certificates = { status: () => [], renewNow: async () => (orders.push(srv.ctx.config.hostname), { ok: true, message: "ordered" }) };
      const same = srv.reloadConfig(loadConfig({ file: null, env: {}, flags: { "data-dir": dir, hostname: "one.acme.test", acme: "on", "acme-directory": "https://127.0.0.1:9/directory", "smtp-listen": "off" } }));
      expect(same.applied).not.toContain("hostname");
      expect(orders).toEqual([]);
      srv.reloadConfig(loadConfig({ file: null, env: {}, flags: { "data-dir": dir, hostname: "two.acme.test", acme: "on", "acme-directory": "https://127.0.0.1:9/directory", "smtp-listen": "off" } }));
      expect(orders).toEqual(["two.acme.test"]);
    } finally {
      await srv.close();
    }
  });
});

describe("turning ACME on while running (quickstart --acme on a running server)", () => {
  test("the manager takes over and orders at once; turning it off waits for a restart", async () => {
    const dir = join(root, "acme-on");
    const config = testConfig(dir, ["SMTP"], { hostname: "on.acme.test" });
    const srv = await startServer(config, { log: createLogger("error", {}, () => {}), tlsWatchIntervalMs: 0, shutdownTimeoutMs: 2000 });
    try {
      const flags = (acme: string) => ({ "data-dir": dir, hostname: "on.acme.test", acme, "acme-directory": "https://127.0.0.1:9/directory", "smtp-listen": "off" });
      expect(srv.ctx.certificates.status()[0]!.source).toBe("self-signed");
      const on = srv.reloadConfig(loadConfig({ file: null, env: {}, flags: flags("on") }));
      expect(on.applied).toContain("acme.enabled");
      // The first order starts at once; with no HTTP/HTTPS listener for the challenge it ends in an error in words.
      const deadline = Date.now() + 20_000;
      while (srv.ctx.certificates.status()[0]!.lastError === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(srv.ctx.certificates.status()[0]!.lastError).toMatch(/no listener for the auto challenge/);
      expect(srv.ctx.certificates.status()[0]!.lastAttemptAt).not.toBeNull();
      const off = srv.reloadConfig(loadConfig({ file: null, env: {}, flags: flags("off") }));
      expect(off.restartNeeded).toContain("acme.enabled");
      expect(srv.ctx.config.acme.enabled).toBe(true);
    } finally {
      await srv.close();
    }
  });
});

describe("applyConfig (src/live-config.ts)", () => {
  test("changes in place, leaves restart-only settings, lists both by path", () => {
    const live = loadConfig({ file: null, env: {}, flags: { "data-dir": join(root, "x"), hostname: "a.test" } });
    const limits = live.limits;
    const next = loadConfig({ file: null, env: {}, flags: { "data-dir": join(root, "y"), hostname: "b.test", "max-message-size": "2M", "smtp-listen": "127.0.0.1:2525", "queue-dns-servers": "127.0.0.1:53" } });
    const change = applyConfig(live, next);
    expect(change.applied.sort()).toEqual(["hostname", "limits.maxMessageSize", "queue.dnsServers"]);
    expect(change.restartNeeded.sort()).toEqual(["dataDir", "databaseUrl", "listeners.SMTP"]);
    expect(live.hostname).toBe("b.test");
    expect(live.limits).toBe(limits); // same object: holders of ctx.config.limits see the change
    expect(live.limits.maxMessageSize).toBe(2 * 1024 * 1024);
    expect(live.dataDir).toBe(join(root, "x"));
    expect(live.listeners.SMTP).not.toEqual({ host: "127.0.0.1", port: 2525 });
    expect(applyConfig(live, next).applied).toEqual([]);
  });
});
