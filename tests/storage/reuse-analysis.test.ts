/**
 * The same bytes stored twice (content-addressed blob) reuse the first
 * item's analysis: the second item's index must be identical to a fresh
 * analysis, threading must still work, and once every holder is gone and
 * the blob collected, storing the bytes again analyses and indexes anew.
 * Messages under 16 KB are analysed again instead of looked up
 * (storage/ingest.ts REUSE_LOOKUP_MIN_BYTES): both ways give the same index.
 */
import { describe, afterEach, expect, test } from "bun:test";
import { makeMessage, tempStore, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

// Every test runs on SQLite and on PostgreSQL (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
let t: TempStore | null = null;
afterEach(async () => {
  await t?.cleanup();
  t = null;
});

for (const [label, bodyBytes] of [["small (analysed again)", 0], ["over 16 KB (analysis reused)", 20 * 1024]] as const) {
test(`a second copy of the same bytes gets the same index as the first: ${label}`, async () => {
  t = await tempStore({ gcGraceMs: 0, engine });
  const s = t.store;
  await s.addDomain("reuse.test");
  const a = await s.addAccount("a@reuse.test", "pw");
  const b = await s.addAccount("b@reuse.test", "pw");
  const raw = makeMessage({ subject: "=?utf-8?q?caf=C3=A9?= plans", messageId: "<m1@reuse.test>", body: "Meet at noon.\r\n" + "filler line of the body\r\n".repeat(Math.ceil(bodyBytes / 25)) });
  expect(raw.byteLength >= 16 * 1024).toBe(bodyBytes > 0);
  const inboxA = (await s.getFolder(a.id, "INBOX"))!;
  const inboxB = (await s.getFolder(b.id, "INBOX"))!;
  await s.append(inboxA.id, [{ raw }]);
  // separate transaction, other account: the blob exists, its analysis is reused
  await s.deliver(raw, [{ accountId: b.id }]);
  const [ia] = await s.getMessages(inboxA.id, [1]);
  const [ib] = await s.getMessages(inboxB.id, [1]);
  expect(ib!.blobId).toBe(ia!.blobId);
  for (const k of ["envelope", "root", "subject", "baseSubject", "fromAddr", "fromName", "toAddr", "ccAddr", "sentDate", "messageId", "inReplyTo", "references", "preview", "hasAttachment"] as const) {
    const va = (ia as unknown as Record<string, unknown>)[k];
    expect(va).toBeDefined();
    expect(JSON.stringify((ib as unknown as Record<string, unknown>)[k])).toBe(JSON.stringify(va));
  }
  // a reply in B threads with the reused copy
  await s.deliver(makeMessage({ subject: "Re: café plans", messageId: "<m2@reuse.test>", inReplyTo: "<m1@reuse.test>" }), [{ accountId: b.id }]);
  const [r1, r2] = await s.getMessages(inboxB.id, [1, 2]);
  expect(r2!.threadId).toBe(r1!.threadId);
  expect(await s.searchText(inboxB.id, "body", "noon")).toEqual([1]);
});
}

test("after every holder is gone and the blob collected, the bytes are analysed and indexed again", async () => {
  t = await tempStore({ gcGraceMs: 0, engine });
  const s = t.store;
  await s.addDomain("reuse.test");
  const a = await s.addAccount("a@reuse.test", "pw");
  const inbox = (await s.getFolder(a.id, "INBOX"))!;
  const raw = makeMessage({ subject: "once more", body: "zebra crossing\r\n" });
  await s.append(inbox.id, [{ raw }]);
  expect(await s.searchText(inbox.id, "body", "zebra")).toEqual([1]);
  await s.expunge(inbox.id, [1]);
  expect(await s.collectGarbage({ graceMs: 0 })).toBe(1);
  await s.append(inbox.id, [{ raw }]);
  const [m] = await s.getMessages(inbox.id, [2]);
  expect(m!.subject).toBe("once more");
  expect(await s.searchText(inbox.id, "body", "zebra")).toEqual([2]);
  expect(await s.integrityCheck()).toEqual(["ok"]);
});
});
}
