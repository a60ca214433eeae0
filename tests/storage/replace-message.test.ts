/**
 * MailStore.replaceMessage (an EWS draft edit): the message's content and
 * flags replaced in one transaction keeping its stable item id and its
 * typed properties; a new UID and modseq in the same folder, the old UID
 * logged as expunged (IMAP/QRESYNC, the account change feed: deleted, then
 * created); the quota follows the size; failures leave the old content.
 * On every engine.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { QuotaExceededError } from "../../storage/api.ts";
import { makeMessage, setupAccount, tempStore, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let ann: Awaited<ReturnType<typeof setupAccount>>;
    beforeAll(async () => {
      t = await tempStore({ engine });
      ann = await setupAccount(t.store, "ann@example.com", 20_000);
    });
    afterAll(async () => t.cleanup());

    test("same id and properties, new content, UID and modseq; the old UID is expunged in the change log", async () => {
      const f = ann.inbox;
      const [a] = await t.store.append(f.id, [{ raw: makeMessage({ subject: "first draft" }), flags: ["\\Draft"] }]);
      await t.store.setProperties({ itemId: a!.id }, [{ key: { tag: 0x3001 }, type: "string", value: "kept" }]);
      const before = await t.store.getMessageById(a!.id);
      const used0 = (await t.store.quota(ann.account.id)).usedBytes;
      const feed0 = await t.store.accountChanges(ann.account.id, before!.modseq);
      expect(feed0.status).toBe("ok");
      const raw = makeMessage({ subject: "second draft", body: "a longer body than before ".repeat(10) });
      const r = await t.store.replaceMessage(a!.id, { raw, flags: ["\\Draft", "\\Seen", "Work"] });
      expect(r.id).toBe(a!.id);
      expect(r.uid).toBeGreaterThan(a!.uid);
      expect(r.modseq).toBeGreaterThan(before!.modseq);
      const now = await t.store.getMessageById(a!.id);
      expect(now!.subject).toBe("second draft");
      expect(now!.uid).toBe(r.uid);
      expect(now!.flags.sort()).toEqual(["Work", "\\Draft", "\\Seen"].sort());
      expect(new TextDecoder().decode(await t.store.readMessage(a!.id))).toContain("a longer body");
      expect(await t.store.getProperties({ itemId: a!.id })).toEqual([{ key: { tag: 0x3001 }, type: "string", value: "kept" }]);
      const list = await t.store.listMessages(f.id);
      expect(list.filter((m) => m.id === a!.id).map((m) => m.uid)).toEqual([r.uid]);
      const ch = await t.store.changesSince(f.id, before!.modseq);
      expect(ch.expunged).toContain(a!.uid);
      expect(ch.changed.map((m) => m.uid)).toContain(r.uid);
      const feed = await t.store.accountChanges(ann.account.id, before!.modseq);
      if (feed.status !== "ok") throw new Error("feed");
      expect(feed.items.filter((i) => i.itemId === a!.id).map((i) => i.kind)).toEqual(["deleted", "created"]);
      const q = await t.store.quota(ann.account.id);
      expect(q.usedBytes - used0).toBe(raw.byteLength - before!.size);
      expect(q.messages).toBe(1);
    });

    test("over quota: refused, the old content stays; a missing item is NONEXISTENT; a stale ifModseq is MODIFIED", async () => {
      const [a] = await t.store.append(ann.inbox.id, [{ raw: makeMessage({ subject: "small" }), flags: ["\\Draft"] }]);
      await expect(t.store.replaceMessage(a!.id, { raw: makeMessage({ subject: "huge", size: 40_000 }) })).rejects.toBeInstanceOf(QuotaExceededError);
      expect((await t.store.getMessageById(a!.id))!.subject).toBe("small");
      await expect(t.store.replaceMessage(99_999_999, { raw: makeMessage() })).rejects.toMatchObject({ code: "NONEXISTENT" });
      // ifModseq: a version changed meanwhile (here: a flag) is not overwritten.
      const read = (await t.store.getMessageById(a!.id))!;
      await t.store.storeFlags(ann.inbox.id, [read.uid], "add", ["\\Flagged"]);
      await expect(t.store.replaceMessage(a!.id, { raw: makeMessage({ subject: "stale edit" }) }, { ifModseq: read.modseq })).rejects.toMatchObject({ code: "MODIFIED" });
      const cur = (await t.store.getMessageById(a!.id))!;
      expect(cur.subject).toBe("small");
      await t.store.replaceMessage(a!.id, { raw: makeMessage({ subject: "fresh edit" }) }, { ifModseq: cur.modseq });
      expect((await t.store.getMessageById(a!.id))!.subject).toBe("fresh edit");
    });
  });
}
