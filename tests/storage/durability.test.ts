/**
 * 10,000 deliveries, close, reopen: every message present once, UIDs strictly
 * ascending, counts and used bytes exact, blobs readable.
 *
 * SQLite only: 10,000 durable deliveries with the WAL fsync of storage/db.ts.
 * On PostgreSQL the commit waits for the server's WAL flush
 * (synchronous_commit = on); the store rules themselves run on both engines
 * in store.test.ts and the other engine-parametrized tests.
 */
import { expect, test } from "bun:test";
import { makeMessage, setupAccount, strictlyAscending, tempStore, text, type TempStore } from "./helpers.ts";


test("10,000 deliveries survive close and reopen", async () => {
  const t: TempStore = await tempStore();
  try {
  const { account, inbox } = await setupAccount(t.store, "bulk@example.com");
  const N = 10_000;
  let next = 0;
  let bytes = 0;
  const results: { id: number; uid: number }[] = [];
  const worker = async () => {
    while (true) {
      const i = next++;
      if (i >= N) return;
      const raw = makeMessage({ subject: `bulk ${i}`, messageId: `<bulk-${i}@example.net>`, body: `message number ${i}\r\n` });
      bytes += raw.byteLength;
      const [r] = await t.store.deliver(raw, [{ accountId: account.id }]);
      results.push({ id: r.id, uid: r.uid });
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  expect(results.length).toBe(N);
  expect(new Set(results.map((r) => r.uid)).size).toBe(N);

  const store = await t.reopen();
  const list = await store.listMessages(inbox.id);
  expect(list.length).toBe(N);
  const uids = list.map((m) => m.uid);
  expect(strictlyAscending(uids)).toBe(true);
  expect(uids[0]).toBe(1);
  expect(uids[N - 1]).toBe(N);
  expect(new Set(list.map((m) => m.id)).size).toBe(N);
  const q = await store.quota(account.id);
  expect(q.messages).toBe(N);
  expect(q.usedBytes).toBe(bytes);
  const status = await store.folderStatus(inbox.id);
  expect(status.messages).toBe(N);
  expect(status.uidNext).toBe(N + 1);
  expect(status.size).toBe(bytes);
  expect(status.unseen).toBe(N);
  // every subject 0..N-1 exactly once, and a sample of blobs reads back
  const idx = await store.getMessages(inbox.id, uids);
  const subjects = new Set(idx.map((m) => m.subject));
  for (let i = 0; i < N; i++) expect(subjects.has(`bulk ${i}`)).toBe(true);
  for (const m of idx.filter((_, i) => i % 997 === 0)) {
    const raw = await store.readMessage(m.id);
    expect(raw.byteLength).toBe(m.size);
    expect(text(raw)).toContain(`Subject: ${m.subject}`);
  }
  // the next delivery continues above
  const [r] = await store.deliver(makeMessage({ subject: "after restart" }), [{ accountId: account.id }]);
  expect(r.uid).toBe(N + 1);
  expect(await store.integrityCheck()).toEqual(["ok"]);
  } finally {
    await t.cleanup();
  }
}, 300_000);
