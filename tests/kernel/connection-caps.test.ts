/**
 * Issue 13 item 4: one protocol's connections must not use up another's.
 *
 * Scaled-down reproduction of the report (21 IPs x 50 idle SMTP sessions
 * filled the global cap of 1,000): a backstop of 40, 5 per IP, and eight
 * source addresses in 127/8 opening 5 idle SMTP connections each. With one
 * global cap the IMAP, POP3 and HTTPS clients from a ninth address were then
 * refused; with per-family caps port 25 stops at its own cap (with a 421)
 * and every other protocol keeps serving.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect as netConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { ImapConn, LineConn, smtpCmd, smtpReply } from "../reliability/lib/conn.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ConnectionAccounting, capWarning } from "../../src/connection-limits.ts";
import { defaultConfig } from "../../src/config.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const USER = "carol@caps.test";
const PASS = "caps-pass";

/** The first line the server sends, or "closed" when it closes without a word. */
async function firstLine(port: number, localAddress: string): Promise<{ c: LineConn; first: string }> {
  const c = await LineConn.connect(port, { localAddress, timeoutMs: 5000 });
  const first = await c.line(5000).catch(() => "closed");
  return { c, first };
}

function httpsGet(port: number, localAddress: string): Promise<string> {
  return new Promise((resolve) => {
    const s = tlsConnect({ socket: netConnect({ host: "127.0.0.1", port, localAddress }), rejectUnauthorized: false, servername: "localhost" }, () =>
      s.write("GET /login HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    );
    let out = "";
    s.on("data", (d: Buffer) => (out += d.toString("latin1")));
    s.on("close", () => resolve(out.split("\r\n")[0] || "closed"));
    s.on("error", () => resolve(out.split("\r\n")[0] || "closed"));
    setTimeout(() => s.destroy(), 15_000);
  });
}

describe("per-protocol connection caps", () => {
  let srv: TestServer;
  const open: LineConn[] = [];

  beforeAll(async () => {
    srv = await startTestServer({
      listeners: ["SMTP", "SUBMISSION", "IMAP", "POP3", "HTTPS"],
      config: {
        limits: { maxConnections: 40, maxConnectionsPerIp: 5, connections: { smtp: 10, submission: 5, imap: 10, pop3: 5, http: 10 } },
      },
    });
    await createUser(srv.store, USER, PASS);
  });
  afterAll(async () => {
    for (const c of open) c.close();
    await srv.close();
  });

  test("SMTP saturated from 8 addresses: IMAP, POP3, HTTPS and submission still serve a ninth", async () => {
    // The attack: 8 IPs x 5 idle connections to port 25 (enough to fill the 40-connection backstop).
    let greeted = 0;
    const refusals = new Set<string>();
    for (let ip = 2; ip < 10; ip++) {
      for (let k = 0; k < 5; k++) {
        const { c, first } = await firstLine(srv.port("SMTP"), `127.0.0.${ip}`);
        open.push(c);
        if (first.startsWith("220")) greeted++;
        else refusals.add(first.replace(/^(\d{3} \d\.\d\.\d) \S+/, "$1 <host>"));
      }
    }
    // A legitimate client from another address gets every other protocol.
    const imap = await ImapConn.connect(srv.port("IMAP"), { localAddress: "127.0.0.50" }).catch((e: Error) => ({ greeting: `refused: ${e.message}`, imap: null }));
    expect(imap.greeting).toStartWith("* OK");
    if (!imap.imap) return;
    expect((await imap.imap.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
    imap.imap.close();

    const pop = await firstLine(srv.port("POP3"), "127.0.0.50");
    expect(pop.first).toStartWith("+OK");
    pop.c.write(`USER ${USER}\r\n`);
    expect(await pop.c.line()).toStartWith("+OK");
    pop.c.write(`PASS ${PASS}\r\n`);
    expect(await pop.c.line()).toStartWith("+OK");
    pop.c.close();

    expect(await httpsGet(srv.port("HTTPS"), "127.0.0.50")).toMatch(/^HTTP\/1\.1 [23]\d\d/);

    // Port 25 itself stopped at its own cap, refusing with a protocol reply, not a silent reset (RFC 5321 §3.8).
    expect(greeted).toBe(10);
    expect([...refusals]).toEqual(["421 4.7.0 <host> Too many connections, try again later"]);

    // Submission is its own family: users can still send while port 25 is full.
    const sub = await firstLine(srv.port("SUBMISSION"), "127.0.0.50");
    expect(sub.first).toStartWith("220");
    expect((await smtpCmd(sub.c, "EHLO client.test")).code).toBe(250);
    sub.c.close();

    // And an address at its SMTP per-IP cap still gets IMAP: per-IP caps are per family.
    const same = await firstLine(srv.port("IMAP"), "127.0.0.2");
    expect(same.first).toStartWith("* OK");
    same.c.close();

    // A freed SMTP slot is usable again.
    open.shift()!.close();
    await sleep(100);
    const again = await firstLine(srv.port("SMTP"), "127.0.0.60");
    expect(again.first).toStartWith("220");
    expect((await smtpCmd(again.c, "NOOP")).code).toBe(250);
    open.push(again.c);
  }, 60_000);
});

describe("refusals are one protocol line, then close", () => {
  test("IMAP * BYE, POP3 -ERR [SYS/TEMP], SMTP 421 at the family cap", async () => {
    const srv = await startTestServer({
      listeners: ["SMTP", "IMAP", "POP3"],
      config: { limits: { connections: { smtp: 1, imap: 1, pop3: 1 } } },
    });
    try {
      const held: LineConn[] = [];
      const want: [number, RegExp, RegExp][] = [
        [srv.port("SMTP"), /^220 /, /^421 4\.7\.0 \S+ Too many connections/],
        [srv.port("IMAP"), /^\* OK/, /^\* BYE \[UNAVAILABLE\] Too many connections/],
        [srv.port("POP3"), /^\+OK/, /^-ERR \[SYS\/TEMP\] Too many connections/],
      ];
      for (const [port, ok, refused] of want) {
        const a = await firstLine(port, "127.0.0.70");
        held.push(a.c);
        expect(a.first).toMatch(ok);
        const b = await firstLine(port, "127.0.0.71");
        expect(b.first).toMatch(refused);
        expect(await b.c.waitClose(3000)).toBe(true);
      }
      for (const c of held) c.close();
    } finally {
      await srv.close();
    }
  });

  test("HTTP answers 503 with Retry-After at its cap", async () => {
    const srv = await startTestServer({ listeners: ["HTTP"], config: { limits: { connections: { http: 1 } } } });
    try {
      const a = await LineConn.connect(srv.port("HTTP"), { localAddress: "127.0.0.72" });
      await sleep(50);
      const b = await LineConn.connect(srv.port("HTTP"), { localAddress: "127.0.0.73" });
      expect(await b.line(5000)).toBe("HTTP/1.1 503 Service Unavailable");
      const rest: string[] = [];
      for (let l = await b.line(5000); l !== ""; l = await b.line(5000)) rest.push(l.toLowerCase());
      expect(rest).toContain("retry-after: 10");
      expect(await b.waitClose(3000)).toBe(true);
      a.close();
    } finally {
      await srv.close();
    }
  });
});

describe("accounting rules", () => {
  test("families are counted apart; release frees the slot once", () => {
    const limits = { ...defaultConfig().limits, maxConnections: 3, maxConnectionsPerIp: 2, connections: { smtp: 2, submission: 1, imap: 1, pop3: 1, http: 1, managesieve: 1 } };
    const acc = new ConnectionAccounting(limits);
    const a = acc.admit("SMTP", "192.0.2.1");
    const b = acc.admit("SMTP", "192.0.2.1");
    expect(a.ok && b.ok).toBe(true);
    expect(acc.admit("SMTP", "192.0.2.2")).toMatchObject({ ok: false, reason: "family" });
    // SUBMISSION and SUBMISSIONS share one family, apart from port 25.
    const s = acc.admit("SUBMISSIONS", "192.0.2.1");
    expect(s.ok).toBe(true);
    expect(acc.admit("SUBMISSION", "192.0.2.3")).toMatchObject({ ok: false });
    // The backstop (3) is reached now.
    expect(acc.admit("IMAPS", "192.0.2.4")).toMatchObject({ ok: false, reason: "total" });
    if (a.ok) {
      a.release();
      a.release();
    }
    expect(acc.counts().total).toBe(2);
    expect(acc.admit("IMAP", "192.0.2.4").ok).toBe(true);
  });

  test("per-IP cap applies within a family", () => {
    const acc = new ConnectionAccounting({ ...defaultConfig().limits, maxConnectionsPerIp: 1 });
    expect(acc.admit("IMAP", "192.0.2.9").ok).toBe(true);
    expect(acc.admit("IMAPS", "192.0.2.9")).toMatchObject({ ok: false, reason: "ip" });
    expect(acc.admit("HTTPS", "192.0.2.9").ok).toBe(true);
  });

  test("the default backstop is above the sum of the family caps", () => {
    expect(capWarning(defaultConfig().limits)).toBeNull();
    expect(capWarning({ ...defaultConfig().limits, maxConnections: 1000 })).toMatch(/below the sum/);
  });
});
