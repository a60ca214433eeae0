/**
 * Bad input over a real socket: malformed and unknown commands, very long
 * lines, binary junk, STLS command injection (RFC 2595 §4), the idle
 * timeout (RFC 1939 §3) and per-IP AUTH failure limiting.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as tlsConnect } from "node:tls";
import "../../protocols/pop3/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { Account } from "../../storage/api.ts";
import { RawClient, deliverTo } from "./util.ts";

const PW = "robust pw";
let srv: TestServer;
let acc: Account;

beforeAll(async () => {
  srv = await startTestServer({
    listeners: ["POP3", "POP3S"],
    config: { pop3: { allowPlaintextAuth: true }, limits: { authFailuresPerIp: 4, authWindowSeconds: 600 } },
  });
  acc = await createUser(srv.store, "robust@pop.test", PW);
  await deliverTo(srv.store, acc.id, "Subject: x\r\n\r\nbody\r\n");
});
afterAll(async () => {
  await srv?.close();
});

async function login(c: RawClient): Promise<void> {
  await c.until(/^\+OK.*\r\n/);
  expect(await c.cmd("USER robust@pop.test")).toStartWith("+OK");
  expect(await c.cmd(`PASS ${PW}`)).toStartWith("+OK");
}

describe("malformed input", () => {
  test("unknown commands, bad arguments, out-of-range numbers: -ERR and the session goes on", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await login(c);
    for (const line of ["XYZZY", "RETR", "RETR abc", "RETR 0", "RETR 2", "RETR -1", "TOP 1", "TOP 1 x", "DELE 99", "LIST 1 2", "UIDL x", "STAT now", "", "\x01\x02\x03"]) {
      const r = await c.cmd(line);
      expect(r).toStartWith("-ERR");
      expect(r.split("\r\n").length).toBe(2); // exactly one line back
    }
    expect(await c.cmd("NOOP")).toBe("+OK\r\n");
    expect(await c.cmd("STAT")).toMatch(/^\+OK 1 \d+\r\n$/);
    expect(await c.cmd("QUIT")).toStartWith("+OK");
    await c.waitClosed();
  });

  test("a 2 MB line without a line end is refused without buffering it, then the session works", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await login(c);
    const junk = Buffer.alloc(2 * 1024 * 1024, 0x41);
    c.send(junk);
    c.send("\r\n");
    expect(await c.until(/\r\n/)).toBe("-ERR Line too long\r\n");
    expect(await c.cmd("NOOP")).toBe("+OK\r\n");
    expect(await c.cmd("QUIT")).toStartWith("+OK");
    await c.waitClosed();
  });

  test("255 octets including CRLF is the longest command line (RFC 2449 §4)", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await c.until(/^\+OK.*\r\n/);
    expect(await c.cmd("USER " + "u".repeat(249))).toBe("-ERR Line too long\r\n");
    expect(await c.cmd("USER " + "u".repeat(248))).toStartWith("+OK");
    expect(await c.cmd("QUIT")).toStartWith("+OK");
  });

  test("binary junk and NUL bytes do not crash the session", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await c.until(/^\+OK.*\r\n/);
    const junk = new Uint8Array(4096);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919) % 256;
    c.send(junk);
    c.send("\r\nNOOP\r\nCAPA\r\n");
    const r = await c.until(/IMPLEMENTATION Pillarbox\r\n\.\r\n/);
    expect(r).toContain("-ERR");
    c.close();
  });

  test("too many bad commands close the connection", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await c.until(/^\+OK.*\r\n/);
    c.send("BAD\r\n".repeat(25));
    await c.waitClosed();
    expect(c.closed).toBe(true);
  });
});

describe("STLS", () => {
  test("commands pipelined after STLS are discarded (RFC 2595 §4)", async () => {
    const c = await RawClient.connect(srv.port("POP3"));
    await c.until(/^\+OK.*\r\n/);
    // USER sent in the clear right behind STLS must not survive into the TLS session.
    c.send("STLS\r\nUSER robust@pop.test\r\n");
    expect(await c.until(/\r\n/)).toBe("+OK Begin TLS negotiation now\r\n");
    const tls = await new Promise<import("node:tls").TLSSocket>((res, rej) => {
      const t = tlsConnect({ socket: c.sock, rejectUnauthorized: false }, () => res(t));
      t.once("error", rej);
    });
    const t = new RawClient(tls);
    expect(await t.cmd(`PASS ${PW}`)).toBe("-ERR USER first\r\n");
    expect(await t.cmd("STLS")).toBe("-ERR Already using TLS\r\n");
    expect(await t.cmd("USER robust@pop.test")).toStartWith("+OK");
    expect(await t.cmd(`PASS ${PW}`)).toStartWith("+OK");
    expect(await t.cmd("QUIT")).toStartWith("+OK");
    t.close();
  });
});

describe("timeouts and limits", () => {
  test("an idle session is closed with -ERR and its DELE is not applied", async () => {
    const idle = await startTestServer({ listeners: ["POP3"], config: { pop3: { allowPlaintextAuth: true, idleTimeoutSeconds: 1 } } });
    try {
      const a = await createUser(idle.store, "robust@pop.test", PW);
      await deliverTo(idle.store, a.id, "Subject: x\r\n\r\nbody\r\n");
      const c = await RawClient.connect(idle.port("POP3"));
      await login(c);
      expect(await c.cmd("DELE 1")).toStartWith("+OK");
      const r = await c.until(/inactivity\r\n/, 10_000);
      expect(r).toBe("-ERR Disconnected for inactivity\r\n");
      await c.waitClosed();
      const inbox = (await idle.store.getFolder(a.id, "INBOX"))!;
      expect((await idle.store.listMessages(inbox.id)).length).toBe(1);
    } finally {
      await idle.close();
    }
  });

  test("AUTH failures are limited per IP: after the limit even the right password gets [SYS/TEMP]", async () => {
    const { ctx } = srv;
    const tries: string[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await RawClient.connect(srv.port("POP3S"), true);
      await c.until(/^\+OK.*\r\n/);
      for (let j = 0; j < 2; j++) {
        const b64 = Buffer.from(`\0robust@pop.test\0wrong${i}${j}`).toString("base64");
        tries.push(await c.cmd(`AUTH PLAIN ${b64}`));
      }
      c.close();
    }
    expect(tries.every((t) => t.startsWith("-ERR [AUTH]"))).toBe(true);
    expect(ctx.authLimiter.isBlocked("127.0.0.1")).toBe(true);
    const c = await RawClient.connect(srv.port("POP3S"), true);
    await c.until(/^\+OK.*\r\n/);
    expect(await c.cmd("USER robust@pop.test")).toStartWith("+OK");
    expect(await c.cmd(`PASS ${PW}`)).toStartWith("-ERR [SYS/TEMP]");
    c.close();
    ctx.authLimiter.succeed("127.0.0.1"); // leave the limiter clean for other tests
  });
});
