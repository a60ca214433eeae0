/**
 * Read-ahead (protocols/pop3/readahead.ts): after RETR n the next message's
 * response is prepared while the loop is idle. It must only ever move work,
 * never change an answer: the bytes are exactly what a fresh read gives, and
 * a message deleted, expunged elsewhere or asked for out of order is read
 * (or refused) as if nothing had been prepared.
 */
import { expect, test } from "bun:test";
import { harness } from "./fake.ts";
import { READ_AHEAD_BUDGET, READ_AHEAD_LIMIT, readAheadHeld } from "../../protocols/pop3/readahead.ts";

const msg = (i: number) => `From: s${i}@example.test\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n.starts with a dot\r\nend\r\n`;

async function session(count: number, opts: { bigAt?: number } = {}) {
  const h = harness();
  for (let i = 1; i <= count; i++) {
    h.store.deliver(1, i === opts.bigAt ? "Subject: big\r\n\r\n" + "x".repeat(READ_AHEAD_LIMIT + 10) + "\r\n" : msg(i));
  }
  const c = h.session({ secure: true });
  expect(await c.cmd("USER alice@example.test")).toStartWith("+OK");
  expect(await c.cmd("PASS secret pw")).toStartWith("+OK");
  return { h, c };
}

/** The RETR response a session without read-ahead gives (idle work never runs there). */
async function reference(count: number, n: number): Promise<string> {
  const { c } = await session(count);
  return c.cmd(`RETR ${n}`);
}

test("the next message is read while idle and its prepared response is byte-identical", async () => {
  const { h, c } = await session(3);
  const first = await c.cmd("RETR 1");
  expect(first).toBe(await reference(3, 1));
  const before = h.store.reads;
  expect(await c.io.runIdle()).toBe(1);
  expect(h.store.reads).toBe(before + 1);
  const second = await c.cmd("RETR 2");
  expect(h.store.reads).toBe(before + 1); // served from the prepared response
  expect(second).toBe(await reference(3, 2));
  expect(second).toContain("\r\n..starts with a dot\r\n");
  expect(second.endsWith("\r\n.\r\n")).toBe(true);
});

test("RETR then DELE (fetchmail's order) still uses the prepared response", async () => {
  const { h, c } = await session(3);
  await c.cmd("RETR 1");
  await c.io.runIdle();
  expect(await c.cmd("DELE 1")).toStartWith("+OK");
  const reads = h.store.reads;
  expect(await c.cmd("RETR 2")).toBe(await reference(3, 2));
  expect(h.store.reads).toBe(reads);
});

test("a message asked for out of order is read afresh, and the prepared one is dropped", async () => {
  const { h, c } = await session(4);
  await c.cmd("RETR 1");
  await c.io.runIdle(); // prepares 2
  const reads = h.store.reads;
  expect(await c.cmd("RETR 3")).toBe(await reference(4, 3));
  expect(h.store.reads).toBe(reads + 1);
  expect(await c.cmd("RETR 2")).toBe(await reference(4, 2));
  expect(h.store.reads).toBe(reads + 2);
});

test("a prepared message expunged by another session (IMAP) is refused, not served", async () => {
  const { h, c } = await session(3);
  await c.cmd("RETR 1");
  await c.io.runIdle();
  const inbox = h.store.folders.find((f) => f.accountId === 1 && f.name === "INBOX")!;
  await h.store.expunge(inbox.id, [h.store.inbox(1)[1]!.uid]);
  expect(await c.cmd("RETR 2")).toStartWith("-ERR");
  expect(await c.cmd("RETR 3")).toBe(await reference(3, 3));
});

test("a prepared message marked deleted is refused", async () => {
  const { c } = await session(3);
  await c.cmd("RETR 1");
  await c.io.runIdle();
  expect(await c.cmd("DELE 2")).toStartWith("+OK");
  expect(await c.cmd("RETR 2")).toStartWith("-ERR");
});

test("nothing is read ahead after the last message, for a deleted next message, or for a large one", async () => {
  const { h, c } = await session(3, { bigAt: 3 });
  await c.cmd("RETR 3");
  expect(await c.io.runIdle()).toBe(0);
  expect(await c.cmd("DELE 2")).toStartWith("+OK");
  await c.cmd("RETR 1");
  expect(await c.io.runIdle()).toBe(0);
  expect(await c.cmd("RSET")).toStartWith("+OK");
  const reads = h.store.reads;
  await c.cmd("RETR 2"); // next is the large message
  expect(await c.io.runIdle()).toBe(0);
  expect(h.store.reads).toBe(reads + 1);
});

test("idle work that finds commands waiting does nothing; pipelined RETRs answer in order", async () => {
  const { h, c } = await session(4);
  const out = await c.raw("RETR 1\r\nRETR 2\r\nRETR 3\r\n");
  const want = (await reference(4, 1)) + (await reference(4, 2)) + (await reference(4, 3));
  expect(out).toBe(want);
  // Three RETRs each scheduled work; only the latest survives, for message 4.
  const reads = h.store.reads;
  expect(await c.io.runIdle()).toBe(1);
  expect(h.store.reads).toBe(reads + 1);
  expect(await c.cmd("RETR 4")).toBe(await reference(4, 4));
  expect(h.store.reads).toBe(reads + 1);
});

test("a session that ends drops its idle work", async () => {
  const { h, c } = await session(3);
  await c.cmd("RETR 1");
  expect(await c.cmd("QUIT")).toStartWith("+OK");
  const reads = h.store.reads;
  await c.io.runIdle();
  expect(h.store.reads).toBe(reads);
});

test("prepared bytes are counted against one budget for all sessions and released when sessions end", async () => {
  const base = readAheadHeld();
  const { c } = await session(3);
  await c.cmd("RETR 1");
  await c.io.runIdle();
  const one = readAheadHeld() - base;
  expect(one).toBe((await reference(3, 2)).length);
  await c.cmd("RETR 2"); // takes it, prepares 3 once idle
  expect(readAheadHeld() - base).toBe(0);
  await c.io.runIdle();
  expect(readAheadHeld() - base).toBe((await reference(3, 3)).length);
  c.s.onClose(); // the client hung up
  expect(readAheadHeld()).toBe(base);
});

test("no read-ahead once the budget is taken", async () => {
  const base = readAheadHeld();
  // Enough sessions, each holding one message just under the per-message limit, to fill the budget.
  const size = READ_AHEAD_LIMIT - 64;
  const sessions = [];
  const need = Math.ceil(READ_AHEAD_BUDGET / size) + 2;
  for (let k = 0; k < need; k++) {
    const h = harness();
    for (let i = 1; i <= 2; i++) h.store.deliver(1, "Subject: x\r\n\r\n" + "y".repeat(size - 20) + "\r\n");
    const c = h.session({ secure: true });
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret pw");
    await c.cmd("RETR 1");
    await c.io.runIdle();
    sessions.push(c);
  }
  expect(readAheadHeld() - base).toBeLessThanOrEqual(READ_AHEAD_BUDGET);
  expect(readAheadHeld() - base).toBeGreaterThan(READ_AHEAD_BUDGET - 2 * READ_AHEAD_LIMIT);
  // A session past the budget still answers correctly, from a fresh read.
  const last = sessions[sessions.length - 1]!;
  const r = await last.cmd("RETR 2");
  expect(r).toStartWith("+OK");
  expect(r.length).toBeGreaterThan(size);
  for (const c of sessions) await c.cmd("QUIT");
  expect(readAheadHeld()).toBe(base);
});
