/**
 * storage/sieve-store.ts on both engines: scripts by name with one active
 * (RFC 5804 §2.6-§2.11), name rules (§1.6) and quotas refused in words,
 * duplicate ids with expiry and pruning (RFC 7352), the vacation log per
 * (sender, handle) (RFC 5230 §4.2), error reports claimed once per version.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StoreError } from "../../storage/api.ts";
import { SqlSieveStore, sieveNameProblem } from "../../storage/sieve-store.ts";
import { storeEngines } from "../helpers/engines.ts";
import { setupAccount, tempStore, type TempStore } from "./helpers.ts";

const LIMITS = { maxScripts: 3, maxBytes: 100 };

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
    return "ok";
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    return (e as StoreError).code;
  }
};

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let s: SqlSieveStore;
    let a: number;
    let b: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      s = new SqlSieveStore(t.store.db);
      a = (await setupAccount(t.store, "sv1@example.com")).account.id;
      b = (await setupAccount(t.store, "sv2@example.com")).account.id;
    });
    afterAll(async () => t.cleanup());

    test("put, list, get, replace keeps active; one active; rename moves it; the active one cannot be deleted", async () => {
      await s.putScript(a, "main", 'keep;', LIMITS);
      await s.putScript(a, "vacation ✈", 'discard;', LIMITS);
      expect(await s.getScript(a, "main")).toBe("keep;");
      expect(await s.getScript(b, "main")).toBeNull();
      expect(await s.activeScript(a)).toBeNull();
      await s.setActive(a, "main");
      await s.putScript(a, "main", 'fileinto "x";', LIMITS);
      let list = await s.listScripts(a);
      expect(list.map((x) => [x.name, x.active, x.size])).toEqual([
        ["main", true, 13],
        ["vacation ✈", false, Buffer.byteLength('discard;')],
      ]);
      await s.setActive(a, "vacation ✈");
      expect((await s.activeScript(a))!.name).toBe("vacation ✈");
      expect((await s.listScripts(a)).filter((x) => x.active).length).toBe(1);
      await s.renameScript(a, "vacation ✈", "away");
      expect((await s.activeScript(a))!).toMatchObject({ name: "away", content: "discard;" });
      expect(await code(s.deleteScript(a, "away"))).toBe("CANNOT");
      expect(await code(s.renameScript(a, "nope", "x"))).toBe("NONEXISTENT");
      expect(await code(s.renameScript(a, "away", "main"))).toBe("ALREADYEXISTS");
      expect(await code(s.setActive(a, "nope"))).toBe("NONEXISTENT");
      await s.setActive(a, null);
      expect(await s.activeScript(a)).toBeNull();
      expect(await s.deleteScript(a, "away")).toBe(true);
      expect(await s.deleteScript(a, "away")).toBe(false);
      list = await s.listScripts(a);
      expect(list.map((x) => x.name)).toEqual(["main"]);
    });

    test("quotas and names are refused in words", async () => {
      expect(await code(s.putScript(b, "big", "x".repeat(101), LIMITS))).toBe("LIMIT");
      expect(await code(s.putScript(b, "ü", "é".repeat(51), LIMITS))).toBe("LIMIT"); // 102 octets
      for (const n of ["1", "2", "3"]) await s.putScript(b, n, "keep;", LIMITS);
      expect(await code(s.putScript(b, "4", "keep;", LIMITS))).toBe("LIMIT");
      await s.putScript(b, "3", "stop;", LIMITS); // replacing is not a new script
      for (const bad of ["", "a\nb", "tab\there", "\u0085x", "line\u2028sep", "x".repeat(513), "\ud800"]) {
        expect(sieveNameProblem(bad)).not.toBeNull();
        expect(await code(s.putScript(a, bad, "keep;", LIMITS))).toBe("INVALID");
      }
      expect(sieveNameProblem("x".repeat(512))).toBeNull();
      expect(await code(s.renameScript(b, "1", ""))).toBe("INVALID");
    });

    test("duplicate ids expire and are pruned; long keys are kept bounded", async () => {
      const now = Date.now();
      expect(await s.duplicateSeen(a, "<m1@x>", now)).toBe(false);
      await s.duplicateRecord(a, "<m1@x>", now + 60_000);
      expect(await s.duplicateSeen(a, "<m1@x>", now)).toBe(true);
      expect(await s.duplicateSeen(b, "<m1@x>", now)).toBe(false);
      expect(await s.duplicateSeen(a, "<m1@x>", now + 60_001)).toBe(false);
      const long = "k".repeat(5000);
      await s.duplicateRecord(a, long, now + 60_000);
      expect(await s.duplicateSeen(a, long, now)).toBe(true);
      expect(await s.duplicateSeen(a, long + "x", now)).toBe(false);
      await s.duplicateRecord(b, "old", now - 1000); // already expired: pruned by the next record
      await s.duplicateRecord(b, "new", now + 1000);
      const rows = await t.store.db.raw("SELECT dup_key FROM sieve_duplicates WHERE account_id = ?", [b]);
      expect(rows.map((r) => String(r[0]))).toEqual(["new"]);
    });

    test("vacation log per (sender, handle), sender case-insensitive", async () => {
      expect(await s.vacationLastSent(a, "Bob@Example.com", "h1")).toBeNull();
      await s.vacationRecordSent(a, "Bob@Example.com", "h1", 1000);
      expect(await s.vacationLastSent(a, "bob@example.com", "h1")).toBe(1000);
      expect(await s.vacationLastSent(a, "bob@example.com", "h2")).toBeNull();
      await s.vacationRecordSent(a, "bob@example.com", "h1", 2000);
      expect(await s.vacationLastSent(a, "bob@example.com", "h1")).toBe(2000);
    });

    test("deliverAndEnqueue: per-copy bytes (quota counts them), fileinto :create, extra queue entries in the same commit", async () => {
      const raw = new TextEncoder().encode("Subject: hi\r\nMessage-ID: <pc@x>\r\n\r\nbody\r\n");
      const mine = new TextEncoder().encode("X-Spam-Status: No\r\nSubject: hi\r\nMessage-ID: <pc@x>\r\n\r\nbody\r\n");
      const before = (await t.store.quota(a)).usedBytes;
      const res = await t.store.deliverAndEnqueue({
        raw,
        local: [
          { accountId: a, folder: "Lists/Sieve", create: true, raw: mine, flags: ["\\Flagged"] },
          { accountId: b, folder: "Missing" },
        ],
        extraQueues: [{ sender: "SRS0=x=yy=example.org=bob@example.com", recipients: ["far@example.net"], raw: mine }, { sender: "", recipients: ["bob@example.org"] }],
      });
      expect(res.extraQueueIds!.length).toBe(2);
      expect((await t.store.quota(a)).usedBytes - before).toBe(mine.byteLength);
      const fa = await t.store.getFolder(a, "Lists/Sieve");
      expect(fa).not.toBeNull();
      expect(await t.store.getFolder(a, "Lists")).not.toBeNull();
      expect(res.delivered[0]!.folderId).toBe(fa!.id);
      const inboxB = await t.store.getFolder(b, "INBOX");
      expect(res.delivered[1]!.folderId).toBe(inboxB!.id); // no :create: INBOX
      expect(await t.store.getFolder(b, "Missing")).toBeNull();
      const q1 = await t.store.getQueueEntry(res.extraQueueIds![0]!);
      expect([q1!.sender, q1!.size, q1!.recipients.map((r) => r.address)]).toEqual(["SRS0=x=yy=example.org=bob@example.com", mine.byteLength, ["far@example.net"]]);
      const q2 = await t.store.getQueueEntry(res.extraQueueIds![1]!);
      expect([q2!.sender, q2!.size]).toEqual(["", raw.byteLength]);
    });

    test("deliverAndEnqueue: the request's own bytes are not stored when every copy brings its own", async () => {
      const raw = new TextEncoder().encode(`Subject: unused ${engine}\r\nMessage-ID: <unused-${engine}@x>\r\n\r\nbody\r\n`);
      const mine = new TextEncoder().encode(`X-Spam-Status: No\r\nSubject: unused ${engine}\r\nMessage-ID: <unused-${engine}@x>\r\n\r\nbody\r\n`);
      const { createHash } = await import("node:crypto");
      const id = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
      const res = await t.store.deliverAndEnqueue({ raw, local: [{ accountId: a, raw: mine }] });
      expect(res.delivered.length).toBe(1);
      const m = await t.store.getMessageById(res.delivered[0]!.id);
      expect(new TextDecoder().decode(await t.store.readMessage(m!.id))).toStartWith("X-Spam-Status: No");
      // content-addressed blobs: the shared bytes were never written
      expect(await t.store.blobs.has(id(raw))).toBe(false);
      expect(await t.store.blobs.has(id(mine))).toBe(true);
    });

    test("an error report is claimed once per (account, digest)", async () => {
      expect(await s.claimErrorReport(a, "d1", 1)).toBe(true);
      expect(await s.claimErrorReport(a, "d1", 2)).toBe(false);
      expect(await s.claimErrorReport(b, "d1", 2)).toBe(true);
      expect(await s.claimErrorReport(a, "d2", 2)).toBe(true);
    });
  });
}
