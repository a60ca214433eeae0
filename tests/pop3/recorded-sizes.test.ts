/**
 * The recorded-size cache (protocols/pop3/recorded-sizes.ts): a later login answers STAT/LIST
 * without asking the store again, and never with a wrong number: new mail, an expunge and a new
 * UIDVALIDITY all give exactly what a login without the cache gives (RFC 1939 §5: LIST octets
 * must be what RETR sends).
 */
import { expect, test } from "bun:test";
import { harness } from "./fake.ts";
import { Maildrop } from "../../protocols/pop3/maildrop.ts";
import { RecordedSizes } from "../../protocols/pop3/recorded-sizes.ts";
import { memorySizeCache } from "../../protocols/pop3/sizes.ts";

const lf = (i: number) => `Subject: ${i}\nbare LF lines\n.dot\nno end`;
const crlf = (i: number) => `Subject: ${i}\r\n\r\nbody\r\n`;

async function listing(h: ReturnType<typeof harness>, cache?: RecordedSizes): Promise<string> {
  const d = (await Maildrop.open(h.store, 1, memorySizeCache(), undefined, cache))!;
  d.close();
  return d.messages.map((m) => `${m.uid}:${m.size}`).join(" ");
}

test("a second login takes the sizes from memory; new mail, expunges and UIDVALIDITY are followed exactly", async () => {
  const h = harness();
  h.store.recordSizes = true;
  for (let i = 1; i <= 5; i++) h.store.deliver(1, i % 2 ? crlf(i) : lf(i));
  const cache = new RecordedSizes();
  const want = await listing(h);
  expect(await listing(h, cache)).toBe(want);
  const q = h.store.crlfSizeQueries;
  expect(await listing(h, cache)).toBe(want);
  expect(h.store.crlfSizeQueries).toBe(q); // served from memory
  // New mail: asked again, right sizes, then cached again.
  h.store.deliver(1, lf(6));
  const want2 = await listing(h);
  expect(await listing(h, cache)).toBe(want2);
  expect(h.store.crlfSizeQueries).toBeGreaterThan(q + 1);
  const q2 = h.store.crlfSizeQueries;
  // An expunge elsewhere: a subset of what is held, still no query, still exact.
  h.store.inbox(1).splice(1, 2);
  const want3 = await listing(h);
  expect(h.store.crlfSizeQueries).toBe(q2 + 1);
  expect(await listing(h, cache)).toBe(want3);
  expect(h.store.crlfSizeQueries).toBe(q2 + 1);
  // Another UIDVALIDITY (folder recreated): nothing held applies.
  h.store.folders[0]!.uidValidity++;
  expect(await listing(h, cache)).toBe(want3);
  expect(h.store.crlfSizeQueries).toBe(q2 + 2);
});

test("sizes the store did not record are measured, not cached, and LIST matches RETR", async () => {
  const h = harness();
  h.store.deliver(1, lf(1)); // stored before sizes were recorded: crlfSizes knows nothing
  h.deps.recordedSizes = new RecordedSizes();
  const c = h.session({ secure: true });
  await c.cmd("USER alice@example.test");
  await c.cmd("PASS secret pw");
  const list = await c.cmd("LIST 1");
  const retr = await c.cmd("RETR 1");
  const body = retr.slice(retr.indexOf("\r\n") + 2, retr.length - 3);
  // RFC 1939 §3: the stuffed "." is not part of the message's octet count.
  expect(body).toBe("Subject: 1\r\nbare LF lines\r\n..dot\r\nno end\r\n");
  expect(list).toBe(`+OK 1 ${body.length - 1}\r\n`);
  expect(h.deps.recordedSizes.size).toBe(0);
});

test("lookup answers only for what it holds, under the same UIDVALIDITY", () => {
  const c = new RecordedSizes();
  const uids = [1, 2, 3];
  c.remember(7, 1, uids, new Map([[1, 10], [2, 20], [3, 30]]));
  expect(c.size).toBe(3);
  expect(Array.from(c.lookup(7, 1, [1, 3])!)).toEqual([10, 30]);
  expect(c.lookup(7, 1, [4])).toBeNull();
  expect(c.lookup(7, 2, [1])).toBeNull();
});
