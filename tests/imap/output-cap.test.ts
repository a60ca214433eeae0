/**
 * Unsent output per IMAP connection is capped (issue 13 item 3):
 *  - unsolicited output (IDLE updates) that would push a client's backlog past
 *    `imap.maxOutputBytes` ends the connection with `* BYE Too much output`
 *    (Dovecot's "Client has too much output"), and its memory is released;
 *  - command responses apply backpressure instead: a client that pipelines
 *    commands and never reads stops being served until it reads.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawImap } from "./client.ts";
import { imapSessions } from "../../protocols/imap/index.ts";
import type { Session } from "../../protocols/imap/session.ts";

const CAP = 1024 * 1024;
const USER = "olly@output.test";
const PASS = "olly-secret";
const MESSAGES = 5000;
let srv: TestServer;
let port = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function login(): Promise<{ c: RawImap; session: Session }> {
  const before = new Set(imapSessions(srv.ctx));
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  const session = imapSessions(srv.ctx).find((s) => !before.has(s))!;
  expect(session).toBeDefined();
  return { c, session };
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"], config: { imap: { maxOutputBytes: CAP }, limits: { authFailuresPerIp: 1000 } } });
  port = srv.port("IMAP");
  const acct = await createUser(srv.store, USER, PASS);
  const f = await srv.store.getFolder(acct.id, "INBOX");
  const enc = new TextEncoder();
  for (let i = 0; i < MESSAGES; i += 500) {
    const batch = [];
    for (let j = i; j < i + 500; j++) batch.push({ raw: enc.encode(`From: a@output.test\r\nSubject: m${j}\r\nMessage-ID: <m${j}@output.test>\r\n\r\nbody ${j}\r\n`) });
    await srv.store.append(f!.id, batch);
  }
}, 120_000);

afterAll(async () => {
  await srv?.close();
});

describe("IMAP unsent output cap", () => {
  test("ten IDLE clients that never read are disconnected at the cap while another session toggles a flag on 5,000 messages", async () => {
    const idlers: { c: RawImap; session: Session }[] = [];
    for (let i = 0; i < 10; i++) {
      const x = await login();
      expect((await x.c.cmd("SELECT INBOX")).status).toBe("OK");
      const tag = x.c.nextTag();
      x.c.write(`${tag} IDLE\r\n`);
      expect(await x.c.line()).toMatch(/^\+ /);
      x.c.sock.pause(); // never reads again
      idlers.push(x);
    }
    const { c: toggler } = await login();
    expect((await toggler.cmd("SELECT INBOX")).status).toBe("OK");
    let maxTotal = 0;
    let maxOne = 0;
    const sample = () => {
      let total = 0;
      for (const x of idlers) {
        const n = x.session.unsentOutput();
        maxOne = Math.max(maxOne, n);
        total += n;
      }
      maxTotal = Math.max(maxTotal, total);
    };
    let round = 0;
    for (; round < 300 && idlers.some((x) => !x.session.isClosed); round++) {
      const r = await toggler.cmd(`STORE 1:${MESSAGES} ${round % 2 ? "-" : "+"}FLAGS.SILENT (\\Seen)`, 30_000);
      expect(r.status).toBe("OK");
      for (let i = 0; i < 5; i++) {
        sample();
        await sleep(5);
      }
      if (maxTotal > 10 * CAP) break;
    }
    console.log(`output cap: ${round} toggles of ${MESSAGES} flags; largest backlog ${maxOne} bytes (cap ${CAP}), largest total ${maxTotal} bytes`);
    expect(maxOne).toBeLessThanOrEqual(CAP);
    expect(maxTotal).toBeLessThanOrEqual(10 * CAP);
    expect(idlers.every((x) => x.session.isClosed)).toBe(true);
    // every idle client's connection ends and the server lets go of it (the
    // clients read again so they can see the end of the stream)
    for (const x of idlers) x.c.sock.resume();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (idlers.some((x) => !x.c.closed) || imapSessions(srv.ctx).some((s) => idlers.some((x) => x.session === s)))) await sleep(20);
    for (const x of idlers) {
      expect(x.c.closed).toBe(true);
      expect(x.session.socket.destroyed).toBe(true);
      expect(x.session.unsentOutput()).toBe(0);
    }
    expect(imapSessions(srv.ctx).filter((s) => idlers.some((x) => x.session === s)).length).toBe(0);
    // the toggling session was not affected
    expect((await toggler.cmd("NOOP")).status).toBe("OK");
    toggler.close();
  }, 120_000);

  test("an IDLE client that reads keeps its connection through 20 toggles on 5,000 messages, even when one push is larger than the cap", async () => {
    // each toggle pushes ~150 KB of FETCH lines: more than this cap, but the client has caught up before each push
    const saved = srv.ctx.config.imap.maxOutputBytes;
    srv.ctx.config.imap.maxOutputBytes = 100 * 1024;
    try {
      await readingIdleClient();
    } finally {
      srv.ctx.config.imap.maxOutputBytes = saved;
    }
  }, 120_000);

  async function readingIdleClient(): Promise<void> {
    const { c, session } = await login();
    expect((await c.cmd("SELECT INBOX")).status).toBe("OK");
    const tag = c.nextTag();
    c.write(`${tag} IDLE\r\n`);
    expect(await c.line()).toMatch(/^\+ /);
    const { c: toggler } = await login();
    expect((await toggler.cmd("SELECT INBOX")).status).toBe("OK");
    let updates = 0;
    let end = "";
    // reads everything until the tagged end of IDLE
    const reader = (async () => {
      for (;;) {
        const l = await c.line(60_000);
        if (l.startsWith(tag + " ")) return (end = l);
        if (/^\* \d+ FETCH \(FLAGS/.test(l)) updates++;
      }
    })();
    for (let round = 0; round < 20; round++) {
      const r = await toggler.cmd(`STORE 1:${MESSAGES} ${round % 2 ? "+" : "-"}FLAGS.SILENT (\\Flagged)`, 30_000);
      expect(r.status).toBe("OK");
    }
    expect(session.isClosed).toBe(false);
    c.write("DONE\r\n");
    await reader;
    expect(end).toBe(`${tag} OK Idle completed.`);
    // updates of one toggle may merge with the next one's (the view sends the current state)
    expect(updates).toBeGreaterThanOrEqual(MESSAGES);
    expect(session.isClosed).toBe(false);
    c.close();
    toggler.close();
  }

  test("a client that pipelines commands and never reads is not served further: output stays bounded", async () => {
    const { c, session } = await login();
    c.sock.pause();
    // 400,000 NOOPs: about 5 MB of commands asking for about 10 MB of replies
    const parts: string[] = [];
    for (let i = 0; i < 400_000; i++) parts.push(`n${i} NOOP\r\n`);
    c.write(parts.join(""));
    let max = 0;
    let last = -1;
    let stable = 0;
    // sample until the server stops producing output (it waits for the client)
    for (let i = 0; i < 2000 && stable < 40; i++) {
      const n = session.unsentOutput();
      max = Math.max(max, n);
      if (max > 4 * CAP) break;
      stable = n === last ? stable + 1 : 0;
      last = n;
      await sleep(10);
    }
    console.log(`pipelined NOOPs, client not reading: largest unsent output ${max} bytes`);
    expect(max).toBeLessThanOrEqual(CAP);
    expect(session.isClosed).toBe(false);
    c.close();
  }, 60_000);
});
