/**
 * Where `deliver` puts a copy (storage/ingest.ts `place`): the named mail
 * folder, INBOX when there is none by that name, each copy with the next UID
 * (RFC 3501 §2.3.1.1) and the folder's highest mod-sequence raised to the
 * copy's (RFC 7162 §3.1); the account's change number, usage and count move
 * with every copy, and a copy over quota changes nothing.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { QuotaExceededError } from "../../storage/api.ts";
import { makeMessage, tempStore, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
let t: TempStore | null = null;
afterEach(async () => {
  await t?.cleanup();
  t = null;
});

test("named folder, missing folder (INBOX), UIDs ascending, modseq and usage follow", async () => {
  t = await tempStore({ engine });
  const s = t.store;
  await s.addDomain("place.test");
  const a = await s.addAccount("a@place.test", "pw-place-1");
  const archive = await s.createFolder(a.id, "Projects/2026");
  const inbox0 = (await s.getFolder(a.id, "INBOX"))!;
  const m1 = makeMessage({ subject: "one", messageId: "<1@place.test>" });
  const m2 = makeMessage({ subject: "two", messageId: "<2@place.test>" });
  const m3 = makeMessage({ subject: "three", messageId: "<3@place.test>" });
  const [r1] = await s.deliver(m1, [{ accountId: a.id, folder: "Projects/2026" }]);
  const [r2] = await s.deliver(m2, [{ accountId: a.id, folder: "Projects/2026" }]);
  const [r3] = await s.deliver(m3, [{ accountId: a.id, folder: "No/Such/Folder" }]);
  expect([r1!.folderId, r1!.uid]).toEqual([archive.id, archive.uidNext]);
  expect([r2!.folderId, r2!.uid]).toEqual([archive.id, archive.uidNext + 1]);
  expect([r3!.folderId, r3!.uid]).toEqual([inbox0.id, inbox0.uidNext]);
  const after = (await s.getFolder(a.id, "Projects/2026"))!;
  expect(after.uidNext).toBe(archive.uidNext + 2);
  const [i2] = await s.getMessages(archive.id, [r2!.uid]);
  expect(i2!.subject).toBe("two");
  expect(after.highestModseq).toBe(i2!.modseq);
  expect(i2!.modseq).toBeGreaterThan((await s.getMessages(archive.id, [r1!.uid]))[0]!.modseq);
  const inbox = (await s.getFolder(a.id, "INBOX"))!;
  const [i3] = await s.getMessages(inbox.id, [r3!.uid]);
  expect(inbox.highestModseq).toBe(i3!.modseq);
  const q = await s.quota(a.id);
  expect(q.messages).toBe(3);
  expect(q.usedBytes).toBe(m1.byteLength + m2.byteLength + m3.byteLength);
});

test("a copy over quota: nothing changes, not even the UID counter", async () => {
  t = await tempStore({ engine });
  const s = t.store;
  await s.addDomain("place.test");
  const a = await s.addAccount("b@place.test", "pw-place-1");
  await s.setQuota("b@place.test", 100);
  const before = (await s.getFolder(a.id, "INBOX"))!;
  await expect(s.deliver(makeMessage({ size: 500 }), [{ accountId: a.id }])).rejects.toBeInstanceOf(QuotaExceededError);
  const after = (await s.getFolder(a.id, "INBOX"))!;
  expect([after.uidNext, after.highestModseq]).toEqual([before.uidNext, before.highestModseq]);
  expect((await s.quota(a.id)).messages).toBe(0);
});
});
}
