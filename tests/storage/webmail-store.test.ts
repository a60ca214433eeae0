/**
 * The webmail's tables (storage/webmail-store.ts) on both engines: sessions,
 * correspondents with upsert counting, the out-of-office log, and the
 * message-list pages in every order, flat and by conversation (the SQL that
 * differs per engine goes through the dialect: case-insensitive sort keys and
 * thread heads).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SqlWebmailStore, type ListQuery } from "../../storage/webmail-store.ts";
import { storeEngines } from "../helpers/engines.ts";
import { makeMessage, setupAccount, tempStore, type TempStore } from "./helpers.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let w: SqlWebmailStore;
    let accountId: number;
    let folderId: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      w = new SqlWebmailStore(t.store.db, t.store.blobs);
      const { account, inbox } = await setupAccount(t.store, "web@example.com");
      accountId = account.id;
      folderId = inbox.id;
      // uid: 1..6, dates ascending with uid except uid 4 (newest)
      const mails = [
        { subject: "banana", from: "carol <c@x.example>", date: 1000, id: "<t1@x>", reply: undefined },
        { subject: "Re: banana", from: "Alice <a@x.example>", date: 2000, id: "<t2@x>", reply: "<t1@x>" },
        { subject: "apple", from: "bob <b@x.example>", date: 3000, id: "<t3@x>", reply: undefined },
        { subject: "Re: banana", from: "dave <d@x.example>", date: 9000, id: "<t4@x>", reply: "<t2@x>" },
        { subject: "Cherry", from: "Bob <b2@x.example>", date: 4000, id: "<t5@x>", reply: undefined },
        { subject: "Re: apple", from: "alice <a@x.example>", date: 5000, id: "<t6@x>", reply: "<t3@x>" },
      ];
      for (const m of mails) {
        await t.store.deliver(makeMessage({ subject: m.subject, from: m.from, messageId: m.id, inReplyTo: m.reply, size: 300 + m.date / 100 }), [{ accountId }], {
          internalDate: m.date,
        });
      }
      await t.store.storeFlags(folderId, [1, 3], "add", ["\\Seen"]);
    });
    afterAll(async () => t.cleanup());

    const page = async (q: Partial<ListQuery>) => {
      const r = await w.listMessagePage(folderId, { sort: "date", desc: true, offset: 0, limit: 50, threads: false, ...q });
      return { total: r.total, uids: r.entries.map((e) => e.uid), counts: r.entries.map((e) => [e.threadCount, e.threadUnread]) };
    };

    test("flat pages in every order, case-insensitive text keys, stable paging", async () => {
      expect((await page({})).uids).toEqual([4, 6, 5, 3, 2, 1]);
      expect((await page({ desc: false })).uids).toEqual([1, 2, 3, 5, 6, 4]);
      // from_name: Alice(2000), alice(5000), bob(3000), Bob(4000), carol, dave — case folded, ties by date
      expect((await page({ sort: "from", desc: false })).uids).toEqual([2, 6, 3, 5, 1, 4]);
      // base subjects: apple(3), apple(6), banana(1,2,4), cherry(5)
      expect((await page({ sort: "subject", desc: false })).uids).toEqual([3, 6, 1, 2, 4, 5]);
      const sizes = (await t.store.getMessages(folderId, [1, 2, 3, 4, 5, 6])).map((m) => [m.size, m.internalDate, m.uid]);
      const bySize = sizes.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2]).map((x) => x[2]);
      expect((await page({ sort: "size", desc: false })).uids).toEqual(bySize);
      const first = await page({ limit: 4 });
      const second = await page({ limit: 4, offset: 4 });
      expect([first.total, ...first.uids, ...second.uids]).toEqual([6, 4, 6, 5, 3, 2, 1]);
    });

    test("conversation pages: the newest message stands for its thread, with counts", async () => {
      const byDate = await page({ threads: true });
      // threads: banana {1,2,4} newest 4; apple {3,6} newest 6; cherry {5}
      expect(byDate.total).toBe(3);
      expect(byDate.uids).toEqual([4, 6, 5]);
      expect(byDate.counts).toEqual([
        [3, 2],
        [2, 1],
        [1, 1],
      ]);
      expect((await page({ threads: true, desc: false })).uids).toEqual([5, 6, 4]);
      expect((await page({ threads: true, sort: "from", desc: false })).uids).toEqual([6, 5, 4]);
      const thread = (await t.store.getMessages(folderId, [4]))[0].threadId;
      expect(await w.listThread(folderId, thread)).toEqual([1, 2, 4]);
    });

    test("sessions, correspondents and the out-of-office log", async () => {
      const s = { id: "sess-1", accountId, createdAt: 10, lastSeenAt: 10, expiresAt: 1_000_000, ip: "192.0.2.1", userAgent: "test" };
      await w.createSession(s);
      await w.createSession({ ...s, id: "sess-2", lastSeenAt: 20 });
      await w.touchSession("sess-1", 30);
      expect((await w.getSession("sess-1"))?.lastSeenAt).toBe(30);
      expect((await w.listAccountSessions(accountId)).map((x) => x.id)).toEqual(["sess-1", "sess-2"]);
      expect(await w.deleteAccountSessions(accountId, "sess-1")).toBe(1);
      expect(await w.purgeExpiredSessions(2_000_000, 1000)).toBe(1);
      expect(await w.getSession("sess-1")).toBeNull();

      await w.noteCorrespondents(accountId, [{ address: "Zed@Example.com", name: "Zed" }], 100);
      await w.noteCorrespondents(accountId, [{ address: "zed@example.com", name: "" }, { address: "zoe@example.com", name: null }], 200);
      const found = await w.searchCorrespondents(accountId, "ZE", 10);
      expect(found.map((c) => [c.address, c.name, c.uses, c.lastUsed])).toEqual([["zed@example.com", "Zed", 2, 200]]);
      expect((await w.searchCorrespondents(accountId, "z", 10)).length).toBe(2);
      expect(await w.searchCorrespondents(accountId, "%", 10)).toEqual([]);

      expect(await w.oofLastSent(accountId, "s@x.example")).toBeNull();
      await w.oofRecordSent(accountId, "s@x.example", 500);
      await w.oofRecordSent(accountId, "s@x.example", 700);
      expect(await w.oofLastSent(accountId, "s@x.example")).toBe(700);
      await w.oofReset(accountId);
      expect(await w.oofLastSent(accountId, "s@x.example")).toBeNull();
    });
  });
}
