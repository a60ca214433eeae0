/**
 * `deliverAndEnqueue`: a message's local copies, a copy into a folder by id
 * (the sender's Sent) and its queue entry in ONE transaction, on every
 * engine. What commits is all of them; what fails (a quota, a missing
 * folder) leaves none of them, counters included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { QuotaExceededError, StoreError } from "../../storage/api.ts";
import { makeMessage, setupAccount, tempStore, text, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let ann: Awaited<ReturnType<typeof setupAccount>>;
    let ben: Awaited<ReturnType<typeof setupAccount>>;
    let full: Awaited<ReturnType<typeof setupAccount>>;
    beforeAll(async () => {
      t = await tempStore({ engine });
      ann = await setupAccount(t.store, "ann@example.com");
      ben = await setupAccount(t.store, "ben@example.com");
      full = await setupAccount(t.store, "full@example.com", 3000);
    });
    afterAll(async () => t.cleanup());

    /** What a failed call must not have changed. */
    async function snapshot() {
      const sent = (await t.store.getFolder(ann.account.id, "Sent"))!;
      return {
        ann: (await t.store.listMessages(ann.inbox.id)).length,
        annSent: (await t.store.listMessages(sent.id)).length,
        ben: (await t.store.listMessages(ben.inbox.id)).length,
        full: (await t.store.listMessages(full.inbox.id)).length,
        queue: (await t.store.listQueue()).length,
        annQuota: await t.store.quota(ann.account.id),
        benQuota: await t.store.quota(ben.account.id),
      };
    }

    test("local copies, the Sent copy and the queue entry commit together, from one blob", async () => {
      const sent = (await t.store.getFolder(ann.account.id, "Sent"))!;
      const raw = makeMessage({ subject: "together", messageId: "<together@example.com>" });
      const res = await t.store.deliverAndEnqueue({
        raw,
        local: [{ accountId: ben.account.id }, { accountId: ben.account.id, folder: "INBOX" }, { accountId: ann.account.id }],
        copies: [{ folderId: sent.id, flags: ["\\Seen"] }],
        queue: { sender: "ann@example.com", recipients: ["x@remote.example"], rcptDsn: { "x@remote.example": { notify: ["FAILURE"], orcpt: "rfc822;team@example.com" } } },
      });
      // the same account and folder twice is one copy
      expect(res.delivered.map((d) => d.accountId)).toEqual([ben.account.id, ann.account.id]);
      expect(res.copies.length).toBe(1);
      expect(res.queueId).not.toBeNull();
      const q = (await t.store.getQueueEntry(res.queueId!))!;
      expect(q.sender).toBe("ann@example.com");
      expect(q.recipients).toEqual([{ address: "x@remote.example", status: "pending", dsn: { notify: ["FAILURE"], orcpt: "rfc822;team@example.com" } }]);
      const benCopy = (await t.store.getMessageById(res.delivered[0]!.id))!;
      const sentCopy = (await t.store.getMessages(sent.id, [res.copies[0]!.uid]))[0]!;
      expect(sentCopy.flags).toContain("\\Seen");
      // one blob for every copy and the queue entry
      expect(sentCopy.blobId).toBe(benCopy.blobId);
      expect(q.blobId).toBe(benCopy.blobId);
      expect(text(await t.store.readMessage(benCopy.id))).toBe(text(raw));
    });

    test("a quota that one recipient's copy exceeds commits nothing: no copy, no Sent copy, no queue entry, no usage", async () => {
      const sent = (await t.store.getFolder(ann.account.id, "Sent"))!;
      const before = await snapshot();
      const raw = makeMessage({ subject: "too big for one", size: 5000 });
      await expect(
        t.store.deliverAndEnqueue({
          raw,
          local: [{ accountId: ben.account.id }, { accountId: full.account.id }],
          copies: [{ folderId: sent.id }],
          queue: { sender: "ann@example.com", recipients: ["y@remote.example"] },
        }),
      ).rejects.toBeInstanceOf(QuotaExceededError);
      expect(await snapshot()).toEqual(before);
    });

    test("a copy into a missing folder commits nothing either", async () => {
      const before = await snapshot();
      const p = t.store.deliverAndEnqueue({
        raw: makeMessage({ subject: "no such folder" }),
        local: [{ accountId: ben.account.id }],
        copies: [{ folderId: 987654321 }],
        queue: { sender: "ann@example.com", recipients: ["z@remote.example"] },
      });
      await expect(p).rejects.toBeInstanceOf(StoreError);
      expect(await snapshot()).toEqual(before);
    });

    test("remote copies only: a queue entry and no item", async () => {
      const before = await snapshot();
      const res = await t.store.deliverAndEnqueue({ raw: makeMessage({ subject: "only out" }), local: [], queue: { sender: "", recipients: ["bounce@remote.example"] } });
      expect(res.delivered).toEqual([]);
      expect(res.copies).toEqual([]);
      const after = await snapshot();
      expect(after.queue).toBe(before.queue + 1);
      expect({ ...after, queue: before.queue }).toEqual(before);
      expect((await t.store.getQueueEntry(res.queueId!))!.sender).toBe("");
    });

    test("nothing to do is nothing done", async () => {
      const before = await snapshot();
      const res = await t.store.deliverAndEnqueue({ raw: makeMessage({ subject: "nowhere" }), local: [], queue: { sender: "a@example.com", recipients: [] } });
      expect(res).toEqual({ delivered: [], copies: [], queueId: null });
      expect(await snapshot()).toEqual(before);
    });
  });
}
