/**
 * Issue 13 item 4 (SMTP part): an unauthenticated client that never gets a
 * message through cannot hold a connection for long by keeping it busy.
 *
 *  - smtp.junkCommandLimit (Postfix's smtpd_junk_command_limit): NOOP, RSET,
 *    VRFY, EXPN, HELP past the limit close the session with 421 4.7.0.
 *  - smtp.unauthenticatedIdleSeconds: command time from connect (restarted
 *    by each accepted message; message transfer not counted) past the limit
 *    closes the session with 421 4.4.2, however active it is. Authenticated
 *    sessions are exempt.
 *
 * The server here uses small limits (5 junk commands, 3 seconds) so the test
 * runs quickly; nothing asserts how fast anything happens.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawSmtp, ehloSession, folderMessages, submissionSession, type Reply } from "./helpers.ts";

let srv: TestServer;
const PASS = "pw-123456";
const BUDGET_S = 3;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION"],
    config: { smtp: { junkCommandLimit: 5, unauthenticatedIdleSeconds: BUDGET_S }, queue: { dnsServers: ["127.0.0.1:9"] } },
  });
  await createUser(srv.store, "bob@example.test", PASS);
});

afterAll(async () => {
  await srv?.close();
});

/** Sends `line` every `everyMs` until the server closes; returns every reply read. */
async function keepBusy(c: RawSmtp, lines: string[], everyMs: number, maxMs = 30_000): Promise<Reply[]> {
  const replies: Reply[] = [];
  const end = Date.now() + maxMs;
  for (let i = 0; Date.now() < end; i++) {
    // The 421 may come unasked while we wait; once closed, only queued replies are left.
    if (!c.closed) c.write(lines[i % lines.length] + "\r\n");
    const r = await c.read(maxMs).catch(() => null);
    if (!r) break;
    replies.push(r);
    if (r.code === 421) {
      // the server closes right after its 421
      expect(await c.read(10_000)).toBeNull();
      break;
    }
    await sleep(everyMs);
  }
  return replies;
}

describe("junk command limit", () => {
  test("the sixth NOOP/RSET/VRFY/HELP with a limit of 5: 421 4.7.0, then the connection is closed", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    c.write("NOOP\r\nRSET\r\nVRFY bob\r\nHELP\r\nNOOP\r\nNOOP\r\nNOOP\r\n");
    const codes: number[] = [];
    let last: Reply | null = null;
    for (;;) {
      const r = await c.read();
      if (!r) break;
      codes.push(r.code);
      last = r;
    }
    expect(codes).toEqual([250, 250, 252, 214, 250, 250, 421]);
    expect(last!.text).toContain("4.7.0");
    expect(c.closed).toBe(true);
  });
});

describe("unauthenticated time budget", () => {
  test("a client that keeps sending EHLO and MAIL but never completes a message is closed with 421 4.4.2", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    // Each command would reset a plain inactivity timer; the budget counts them all.
    const replies = await keepBusy(c, ["EHLO busy.example", "MAIL FROM:<x@remote.test>", "RCPT TO:<bob@example.test>"], 300);
    const last = replies[replies.length - 1]!;
    expect(last.code).toBe(421);
    expect(last.text).toStartWith("4.4.2");
    expect(replies.filter((r) => r.code === 250).length).toBeGreaterThan(3);
    expect(c.closed).toBe(true);
  }, 60_000);

  test("a client that says nothing after the greeting is closed with 421 4.4.2", async () => {
    const c = await RawSmtp.connect(srv.port("SMTP"));
    expect((await c.read())!.code).toBe(220);
    const r = await c.read(30_000);
    expect(r?.code).toBe(421);
    expect(r!.text).toStartWith("4.4.2");
    expect(await c.read(10_000)).toBeNull();
  }, 60_000);

  test("each accepted message restarts the budget: a client delivering steadily stays connected past it", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const before = (await folderMessages(srv.store, "bob@example.test")).length;
    const rounds = 4; // 4 x 1 s of command time > the 3 s budget
    for (let i = 0; i < rounds; i++) {
      await sleep(1000);
      expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(250);
      expect((await c.cmd("RCPT TO:<bob@example.test>")).code).toBe(250);
      expect((await c.cmd("DATA")).code).toBe(354);
      expect((await c.cmd(`Subject: steady ${i}\r\n\r\nhi\r\n.`)).code).toBe(250);
    }
    expect((await folderMessages(srv.store, "bob@example.test")).length).toBe(before + rounds);
    expect((await c.cmd("QUIT")).code).toBe(221);
  }, 60_000);

  test("time spent sending message content does not count: a slow DATA longer than the budget is accepted", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<bob@example.test>")).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write("Subject: slow\r\n\r\n");
    for (let i = 0; i < 8; i++) {
      await sleep(500); // 4 s in DATA, over the 3 s budget
      c.write(`line ${i}\r\n`);
    }
    expect((await c.cmd(".")).code).toBe(250);
    expect((await c.cmd("QUIT")).code).toBe(221);
  }, 60_000);

  test("an authenticated submission session is exempt", async () => {
    const c = await submissionSession(srv.port("SUBMISSION"), "bob@example.test", PASS);
    for (let i = 0; i < 10; i++) {
      await sleep(400); // 4 s of EHLOs, over the 3 s budget
      expect((await c.cmd("EHLO client.example")).code).toBe(250);
    }
    expect((await c.cmd("QUIT")).code).toBe(221);
  }, 60_000);
});
