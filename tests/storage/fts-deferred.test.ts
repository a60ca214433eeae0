/**
 * Full-text indexing runs after the delivery commit (migration 0003): a
 * search right after delivery must still see the message, and rows left
 * pending by a restart are indexed when the store opens again.
 */
import { describe, expect, test } from "bun:test";
import { makeMessage, setupAccount, tempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

// Every test runs on SQLite and on PostgreSQL (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
test("a search right after delivery finds the message; nothing stays pending", async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store);
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => t.store.deliver(makeMessage({ subject: `n${i}`, body: `needle${i} haystack` }), [{ accountId: account.id }])),
    );
    const hits = await t.store.searchText(inbox.id, "body", "needle17");
    expect(hits).toHaveLength(1);
    expect((await t.store.getMessages(inbox.id, hits))[0].subject).toBe("n17");
    expect(await t.store.searchText(inbox.id, "body", "haystack")).toHaveLength(30);
    const pending = await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM blobs WHERE fts_indexed = 0");
    expect(Number(pending?.n)).toBe(0);
  } finally {
    await t.cleanup();
  }
});

test("blobs left unindexed by a crash are indexed after reopening", async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store);
    await t.store.deliver(makeMessage({ body: "orphaned zebra text" }), [{ accountId: account.id }]);
    // simulate a crash between the delivery commit and the indexer's batch
    await t.store.searchText(inbox.id, "body", "zebra");
    const seq = await t.store.db.get<{ seq: number }>("SELECT seq FROM blobs LIMIT 1");
    await t.store.db.write((tx) => t.store.db.dialect.text.remove(tx, Number(seq!.seq)));
    await t.store.db.write((tx) => tx.run("UPDATE blobs SET fts_indexed = 0"));
    const store = await t.reopen();
    expect(await store.searchText(inbox.id, "body", "zebra")).toEqual([1]);
  } finally {
    await t.cleanup();
  }
});

test("a body longer than the indexed part is still searched exactly, beyond the indexed part too", async () => {
  const t = await tempStore({ engine });
  try {
    const { account, inbox } = await setupAccount(t.store);
    const filler = "plain words of a very long letter. ".repeat(2000); // ~70 KB of text
    await t.store.deliver(makeMessage({ subject: "long", body: `openingword ${filler} closingword` }), [{ accountId: account.id }]);
    await t.store.deliver(makeMessage({ subject: "short", body: "closingword only here" }), [{ accountId: account.id }]);
    expect(await t.store.searchText(inbox.id, "body", "openingword")).toEqual([1]);
    expect(await t.store.searchText(inbox.id, "body", "closingword")).toEqual([1, 2]);
    expect(await t.store.searchText(inbox.id, "text", "CLOSINGWORD")).toEqual([1, 2]);
    expect(await t.store.searchText(inbox.id, "body", "absentword")).toEqual([]);
    const partial = await t.store.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM blobs WHERE fts_partial = 1");
    expect(Number(partial?.n)).toBe(1);
  } finally {
    await t.cleanup();
  }
});
});
}
