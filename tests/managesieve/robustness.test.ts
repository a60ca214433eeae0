/**
 * ManageSieve over raw sockets: what a broken or hostile client gets. Bad
 * literals, a huge literal announced, garbage, over-long lines, commands
 * before authentication, AUTHENTICATE aborted, pipelined commands, names that
 * are not UTF-8, quotas, the failed-login limits — each answered with a clear
 * NO or BYE and never a crash; plus the listener's settings (default 4190,
 * `off`) and the STARTTLS injection rule.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../../protocols/managesieve/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { loadConfig } from "../../src/config.ts";
import type { Account } from "../../storage/api.ts";
import { connect } from "node:tls";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RawClient, cmd, connectPlain, connectTls, plainB64, putscript, untilResponse } from "./helpers.ts";

const PW = "robust sieve pass 7";
const MAX_SCRIPT = 4096;
const MAX_SCRIPTS = 3;

let srv: TestServer;
let port: number;
let carol: Account;

beforeAll(async () => {
  srv = await startTestServer({
    listeners: ["MANAGESIEVE"],
    config: {
      imap: { allowPlaintextAuth: false },
      sieve: { maxScriptBytes: MAX_SCRIPT, maxScripts: MAX_SCRIPTS },
      limits: { authFailuresPerIp: 6, authWindowSeconds: 600 },
    },
  });
  port = srv.port("MANAGESIEVE");
  carol = await createUser(srv.store, "carol@robust.test", PW);
  await createUser(srv.store, "dave@robust.test", PW);
});

afterAll(async () => {
  await srv?.close();
});

async function loggedIn(user = "carol@robust.test"): Promise<RawClient> {
  const { c } = await connectTls(port);
  const r = await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64(user, PW)}"`);
  expect(r).toBe('OK "Logged in"\r\n');
  return c;
}

describe("before authentication", () => {
  test("greeting: capabilities then OK; no SASL mechanism before TLS; STARTTLS offered", async () => {
    const { c, greeting } = await connectPlain(port);
    expect(greeting).toContain('"IMPLEMENTATION" "Pillarbox"\r\n');
    expect(greeting).toContain('"SASL" ""\r\n');
    expect(greeting).toContain('"STARTTLS"\r\n');
    expect(greeting).toContain('"VERSION" "1.0"\r\n');
    expect(greeting).toContain('"MAXREDIRECTS" "4"\r\n');
    expect(greeting).not.toContain("OWNER");
    expect(greeting).toMatch(/\r\nOK "[^"]*"\r\n$/);
    c.close();
  });

  test("AUTHENTICATE in the clear is refused ENCRYPT-NEEDED; script commands need authentication", async () => {
    const { c } = await connectPlain(port);
    expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", PW)}"`)).toStartWith("NO (ENCRYPT-NEEDED)");
    for (const line of ["LISTSCRIPTS", 'GETSCRIPT "x"', 'SETACTIVE ""', 'DELETESCRIPT "x"', 'HAVESPACE "x" 10', "UNAUTHENTICATE"]) {
      expect(await cmd(c, line)).toMatch(/^NO "[A-Z]+ needs authentication first"\r\n$/);
    }
    expect(await cmd(c, "NOOP")).toBe('OK "Done"\r\n');
    c.close();
  });

  test("STARTTLS: pipelined cleartext after it is dropped; capabilities re-issued with the mechanisms", async () => {
    const { c } = await connectPlain(port);
    // The injected LISTSCRIPTS arrives in the same segment as STARTTLS: it must never be answered (RFC 3207 §4.2 rule).
    c.send(`STARTTLS\r\nAUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", PW)}"\r\n`);
    expect(await untilResponse(c)).toBe('OK "Begin TLS negotiation now"\r\n');
    const sock = c.sock;
    sock.removeAllListeners("data");
    const t = await new Promise<RawClient>((res, rej) => {
      const s = connect({ socket: sock, rejectUnauthorized: false }, () => res(new RawClient(s)));
      s.once("error", rej);
    });
    const caps = await untilResponse(t);
    expect(caps).toContain('"SASL" "PLAIN LOGIN"');
    expect(caps).not.toContain('"STARTTLS"');
    // The injected AUTHENTICATE was not run: still unauthenticated.
    expect(await cmd(t, "LISTSCRIPTS")).toStartWith("NO");
    expect(await cmd(t, "STARTTLS")).toStartWith("NO");
    t.close();
  });

  test("AUTHENTICATE aborted with \"*\", LOGIN with literal responses, malformed SASL", async () => {
    const { c } = await connectTls(port);
    expect(await c.cmd('AUTHENTICATE "PLAIN"')).toBe('""\r\n');
    expect(await cmd(c, '"*"')).toBe('NO "Authentication cancelled"\r\n');
    expect(await cmd(c, 'AUTHENTICATE "DIGEST-MD5"')).toStartWith('NO "Unsupported SASL mechanism');
    expect(await c.cmd('AUTHENTICATE "PLAIN"')).toBe('""\r\n');
    expect(await cmd(c, '"not base64!"')).toStartWith("NO");
    // LOGIN: "Username:" and "Password:" challenges, answers as literals.
    expect(await c.cmd('AUTHENTICATE "LOGIN"')).toBe(`"${Buffer.from("Username:").toString("base64")}"\r\n`);
    const u = Buffer.from("carol@robust.test").toString("base64");
    const p = Buffer.from(PW).toString("base64");
    c.send(`{${u.length}+}\r\n${u}\r\n`);
    expect(await c.until(/\r\n$/)).toBe(`"${Buffer.from("Password:").toString("base64")}"\r\n`);
    expect(await cmd(c, `{${p.length}+}\r\n${p}`)).toBe('OK "Logged in"\r\n');
    // RFC 5804 §1.7: OWNER after authentication; AUTHENTICATE again is refused.
    expect(await cmd(c, "CAPABILITY")).toContain('"OWNER" "carol@robust.test"');
    expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", PW)}"`)).toStartWith("NO");
    // UNAUTHENTICATE (RFC 5804 §2.14.1): back to the non-authenticated state, TLS kept.
    expect(await cmd(c, "UNAUTHENTICATE")).toBe('OK "Unauthenticated"\r\n');
    expect(await cmd(c, "LISTSCRIPTS")).toStartWith("NO");
    expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("dave@robust.test", PW)}"`)).toBe('OK "Logged in"\r\n');
    expect(await cmd(c, "CAPABILITY")).toContain('"OWNER" "dave@robust.test"');
    c.close();
  });
});

describe("malformed input", () => {
  test("garbage, bad quoting and bad literals get NO and the session goes on", async () => {
    const c = await loggedIn();
    expect(await cmd(c, "FROBNICATE")).toBe('NO "Unknown command FROBNICATE"\r\n');
    expect(await cmd(c, Buffer.from([0x01, 0xfe, 0xff, 0x0d, 0x0a]))).toStartWith('NO "Syntax error');
    expect(await cmd(c, '"quoted first"')).toBe('NO "A command starts with its name"\r\n');
    expect(await cmd(c, 'GETSCRIPT "unterminated')).toBe('NO "Syntax error: unterminated quoted string"\r\n');
    expect(await cmd(c, 'GETSCRIPT "bad \\n escape"')).toStartWith('NO "Syntax error: a backslash');
    expect(await cmd(c, "PUTSCRIPT \"x\" {abc+}")).toBe('NO "Syntax error: malformed literal length"\r\n');
    expect(await cmd(c, 'PUTSCRIPT "x" {5+} "after"')).toBe('NO "Syntax error: a literal length must end the line"\r\n');
    expect(await cmd(c, `GETSCRIPT "${"a".repeat(1100)}"`)).toStartWith('NO "Syntax error: quoted string longer than 1024');
    expect(await cmd(c, "HAVESPACE \"x\" lots")).toBe('NO "HAVESPACE needs a size in octets"\r\n');
    expect(await cmd(c, "LISTSCRIPTS extra")).toBe('NO "LISTSCRIPTS takes no arguments"\r\n');
    // A literal announced on a bad line is still consumed: its octets are never taken as commands.
    const inject = "LOGOUT\r\n";
    expect(await cmd(c, `PUTSCRIPT "x\\q" {${inject.length}+}\r\n${inject}`)).toStartWith('NO "Syntax error: a backslash');
    expect(await cmd(c, "NOOP")).toBe('OK "Done"\r\n');
    c.close();
  });

  test("script names that are not UTF-8 or hold control characters are refused", async () => {
    const c = await loggedIn();
    const badName = Buffer.concat([Buffer.from('PUTSCRIPT "'), Buffer.from([0xc3, 0x28]), Buffer.from('" {5+}\r\nkeep;\r\n')]);
    expect(await cmd(c, badName)).toBe('NO "A script name must be valid UTF-8"\r\n');
    expect(await cmd(c, putscript("tab\there", "keep;"))).toBe('NO "A script name cannot contain control characters"\r\n');
    expect(await cmd(c, 'GETSCRIPT ""')).toBe('NO "A script name cannot be empty"\r\n');
    // A UTF-8 name round-trips.
    expect(await cmd(c, putscript("Grüße", "keep;\r\n"))).toBe('OK "Script stored"\r\n');
    expect(await cmd(c, "LISTSCRIPTS")).toContain('"Grüße"'.replace(/[^\x00-\x7f]/g, (ch) => Buffer.from(ch).toString("latin1")));
    expect(await cmd(c, 'DELETESCRIPT "Grüße"')).toBe('OK "Script deleted"\r\n');
    // Script text that is not UTF-8: NO with the compiler's words and line.
    const notUtf8 = Buffer.concat([Buffer.from("keep;\r\n# caf"), Buffer.from([0xe9]), Buffer.from("\r\n")]);
    expect(await cmd(c, putscript("latin1", notUtf8))).toMatch(/^NO "line 2: /);
    c.close();
  });

  test("a literal over the script limit is skipped and refused (QUOTA/MAXSIZE); the connection stays usable", async () => {
    const c = await loggedIn();
    const big = "# " + "x".repeat(200 * 1024) + "\r\nkeep;\r\n";
    expect(await cmd(c, putscript("big", big))).toBe(`NO (QUOTA/MAXSIZE) "Scripts are limited to ${MAX_SCRIPT} octets"\r\n`);
    // Just over the limit but within the read margin: the same answer.
    expect(await cmd(c, putscript("big", "#".repeat(MAX_SCRIPT + 1)))).toStartWith("NO (QUOTA/MAXSIZE)");
    expect(await cmd(c, `HAVESPACE "big" ${MAX_SCRIPT + 1}`)).toStartWith("NO (QUOTA/MAXSIZE)");
    expect(await cmd(c, "NOOP")).toBe('OK "Done"\r\n');
    expect(await srv.ctx.storage.sieve.getScript(carol.id, "big")).toBeNull();
    c.close();
  });

  test("a huge literal announced is refused at once with BYE, without reading it", async () => {
    const c = await loggedIn();
    c.send('PUTSCRIPT "huge" {4000000000+}\r\n');
    const r = await c.until(/\r\n$/);
    expect(r).toMatch(/^BYE \(QUOTA\/MAXSIZE\) "Literal of 4000000000 octets refused/);
    await c.waitClosed();
  });

  test("a line longer than the limit ends the connection with BYE", async () => {
    const { c } = await connectPlain(port);
    c.send("NOOP " + "a".repeat(20_000));
    expect(await c.until(/\r\n$/)).toBe('BYE "Line longer than 8192 octets"\r\n');
    await c.waitClosed();
  });

  test("too many bad commands: BYE", async () => {
    const { c } = await connectPlain(port);
    let all = "";
    for (let i = 0; i < 20; i++) {
      c.send("BOGUS\r\n");
    }
    all = await c.until(/BYE[^\r\n]*\r\n$/);
    expect(all.match(/^NO "Unknown command BOGUS"\r\n/gm)?.length).toBe(20);
    expect(all).toEndWith('BYE "Too many bad commands"\r\n');
    await c.waitClosed();
  });
});

describe("pipelining and script commands", () => {
  test("pipelined commands are answered in order", async () => {
    const c = await loggedIn();
    const s1 = 'require "fileinto";\r\nfileinto "A";\r\n';
    c.send(Buffer.concat([putscript("p1", s1), putscript("p2", "keep;\r\n"), Buffer.from('SETACTIVE "p1"\r\nLISTSCRIPTS\r\nGETSCRIPT "p1"\r\nNOOP "end"\r\n')]));
    const all = await c.until(/OK \(TAG "end"\) "Done"\r\n$/);
    expect(all).toBe(
      'OK "Script stored"\r\nOK "Script stored"\r\nOK "Script activated"\r\n"p1" ACTIVE\r\n"p2"\r\nOK "Listscripts completed"\r\n' +
        `{${s1.length}}\r\n${s1}\r\nOK "Getscript completed"\r\nOK (TAG "end") "Done"\r\n`,
    );
    c.close();
  });

  test("quotas, RENAMESCRIPT and DELETESCRIPT answers with their response codes", async () => {
    const c = await loggedIn("dave@robust.test");
    for (let i = 1; i <= MAX_SCRIPTS; i++) expect(await cmd(c, putscript(`s${i}`, "keep;\r\n"))).toBe('OK "Script stored"\r\n');
    // Replacing an existing one is fine at the quota; a new one is not.
    expect(await cmd(c, putscript("s1", "discard;\r\n"))).toBe('OK "Script stored"\r\n');
    expect(await cmd(c, 'HAVESPACE "s1" 100')).toBe('OK "Putscript would succeed"\r\n');
    expect(await cmd(c, 'HAVESPACE "s9" 100')).toBe(`NO (QUOTA/MAXSCRIPTS) "At most ${MAX_SCRIPTS} scripts"\r\n`);
    expect(await cmd(c, putscript("s9", "keep;\r\n"))).toBe(`NO (QUOTA/MAXSCRIPTS) "At most ${MAX_SCRIPTS} scripts"\r\n`);
    expect(await cmd(c, 'RENAMESCRIPT "s1" "s2"')).toStartWith("NO (ALREADYEXISTS)");
    expect(await cmd(c, 'RENAMESCRIPT "nope" "s8"')).toStartWith("NO (NONEXISTENT)");
    expect(await cmd(c, 'GETSCRIPT "nope"')).toStartWith("NO (NONEXISTENT)");
    expect(await cmd(c, 'SETACTIVE "nope"')).toStartWith("NO (NONEXISTENT)");
    expect(await cmd(c, 'DELETESCRIPT "nope"')).toStartWith("NO (NONEXISTENT)");
    expect(await cmd(c, 'SETACTIVE "s3"')).toBe('OK "Script activated"\r\n');
    expect(await cmd(c, 'DELETESCRIPT "s3"')).toStartWith("NO (ACTIVE)");
    expect(await cmd(c, 'RENAMESCRIPT "s3" "main"')).toBe('OK "Script renamed"\r\n');
    expect(await cmd(c, "LISTSCRIPTS")).toContain('"main" ACTIVE\r\n');
    // An invalid script is never stored; errors in words with their line.
    const r = await cmd(c, putscript("s2", 'require "fileinto";\r\nfileinto;\r\n'));
    expect(r).toMatch(/^NO "line 2: /);
    expect(await cmd(c, 'GETSCRIPT "s2"')).toBe('{7}\r\nkeep;\r\n\r\nOK "Getscript completed"\r\n');
    expect(await cmd(c, 'SETACTIVE ""')).toBe('OK "No script is active"\r\n');
    expect(await cmd(c, "LOGOUT")).toBe('OK "Logout completed"\r\n');
    await c.waitClosed();
  });
});

describe("accounts with two-factor sign-in", () => {
  test("the main password is refused, an app password opens ManageSieve (as for IMAP)", async () => {
    const acct = await createUser(srv.store, "tfa@robust.test", PW);
    await srv.store.beginTwoFactor(acct.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
    await srv.store.enableTwoFactor(acct.id);
    const app = await srv.store.createAppPassword(acct.id, "sieve client");
    const { c } = await connectTls(port);
    expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("tfa@robust.test", PW)}"`)).toBe('NO "Authentication failed"\r\n');
    expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("tfa@robust.test", app.password)}"`)).toBe('OK "Logged in"\r\n');
    c.close();
    srv.ctx.authLimiter.succeed("127.0.0.1");
  });
});

describe("authentication limits", () => {
  test("three failures on one connection: BYE; then the per-IP throttle answers NO (TRYLATER)", async () => {
    const { c } = await connectTls(port);
    for (let i = 0; i < 2; i++) expect(await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", "wrong" + i)}"`)).toBe('NO "Authentication failed"\r\n');
    const last = await cmd(c, `AUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", "wrong2")}"`);
    expect(last).toBe('NO "Authentication failed"\r\nBYE "Too many authentication failures"\r\n');
    await c.waitClosed();
    // More failures from this address reach authFailuresPerIp: even the right password is then refused, as temporary.
    const { c: d } = await connectTls(port);
    let r = "";
    for (let i = 0; i < 6 && !r.includes("TRYLATER"); i++) r = await cmd(d, `AUTHENTICATE "PLAIN" "${plainB64("dave@robust.test", "bad" + i)}"`);
    d.close();
    const { c: e } = await connectTls(port);
    expect(await cmd(e, `AUTHENTICATE "PLAIN" "${plainB64("carol@robust.test", PW)}"`)).toStartWith("NO (TRYLATER)");
    e.close();
    srv.ctx.authLimiter.succeed("127.0.0.1");
  });
});

describe("listener settings", () => {
  test("MANAGESIEVE defaults to 0.0.0.0:4190; env, flag and TOML name it; off turns it off", () => {
    expect(loadConfig({ file: null, env: {} }).listeners.MANAGESIEVE).toEqual({ host: "0.0.0.0", port: 4190 });
    expect(loadConfig({ file: null, env: { PILLARBOX_MANAGESIEVE_LISTEN: "off" } }).listeners.MANAGESIEVE).toBeNull();
    expect(loadConfig({ file: null, env: {}, flags: { "managesieve-listen": "127.0.0.1:14190" } }).listeners.MANAGESIEVE).toEqual({ host: "127.0.0.1", port: 14190 });
    expect(loadConfig({ file: null, env: {} }).limits.connections.managesieve).toBe(100);
    const dir = mkdtempSync(join(tmpdir(), "pb-ms-toml-"));
    try {
      const file = join(dir, "pillarbox.toml");
      writeFileSync(file, '[listen]\nmanagesieve = "off"\n\n[limits]\nmax_connections_managesieve = 7\n');
      const c = loadConfig({ file, env: {} });
      expect(c.listeners.MANAGESIEVE).toBeNull();
      expect(c.limits.connections.managesieve).toBe(7);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("over the family's connection cap a client gets BYE (TRYLATER) and is closed", async () => {
    const capped = await startTestServer({ listeners: ["MANAGESIEVE"], config: { limits: { connections: { managesieve: 1 } } } });
    try {
      const { c: first } = await connectPlain(capped.port("MANAGESIEVE"));
      const second = await RawClient.connect(capped.port("MANAGESIEVE"));
      expect(await second.until(/\r\n$/)).toBe('BYE (TRYLATER) "Too many connections, try again later"\r\n');
      await second.waitClosed();
      first.close();
    } finally {
      await capped.close();
    }
  });

  test("a server with the listener off does not open it", async () => {
    const off = await startTestServer({ listeners: [] });
    try {
      expect(off.ctx.addresses.MANAGESIEVE).toBeUndefined();
      expect(off.ctx.config.listeners.MANAGESIEVE).toBeNull();
    } finally {
      await off.close();
    }
  });
});
