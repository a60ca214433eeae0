/**
 * The list paths' caches and shortcuts (issue 20 done-when 2), over real
 * sockets: the mail listing kept between the pages of a SyncFolderItems or
 * FindItem walk (protocols/http/ews/mail-listing.ts) is never stale (a
 * message delivered or expunged between two pages is seen) and stays inside
 * its row budget; the store's calendarHint lets a list skip parsing the
 * MIME tree of every message that is not an invitation, and an invitation is
 * still listed as the meeting message it is.
 */
import { beforeAll, expect, test } from "bun:test";
import { mailListingStats, setMailListingBudget } from "../../protocols/http/ews/mail-listing.ts";
import { itemId } from "../../protocols/http/ews/ids.ts";
import { createUser, ewsFixture, find, findAll, type XmlElement } from "./helpers.ts";

const USER = "lister@example.test";
const PASS = "list-password-1";
let inboxId = 0;
const { env } = ewsFixture({ users: [{ email: USER, pass: PASS }] });

beforeAll(async () => {
  const acc = (await env.srv.store.getAccount(USER))!;
  inboxId = (await env.srv.store.getFolder(acc.id, "INBOX"))!.id;
});

const call = (xml: string) => env.call(USER, PASS, xml);
const enc = new TextEncoder();
let serial = 0;
function message(extra = ""): Uint8Array {
  serial++;
  return enc.encode(`From: A <a@example.org>\r\nTo: ${USER}\r\nSubject: list ${serial}\r\nMessage-ID: <list-${serial}@example.org>\r\nDate: Mon, 7 Dec 2026 10:00:00 +0000\r\n${extra || "Content-Type: text/plain\r\n\r\nhello\r\n"}`);
}
async function append(n: number): Promise<number[]> {
  const res = await env.srv.store.append(inboxId, Array.from({ length: n }, () => ({ raw: message(), internalDate: Date.now() + serial * 1000, flags: [] })));
  return res.map((r) => r.uid);
}

interface Page {
  ids: string[];
  state: string;
  last: boolean;
}
async function syncPage(max: number, state?: string, shape = "IdOnly"): Promise<Page> {
  const r = await call(
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>${shape}</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId>${state ? `<m:SyncState>${state}</m:SyncState>` : ""}<m:MaxChangesReturned>${max}</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
  const msg = find(r.body, "ResponseMessages")!.children[0]!;
  expect(find(msg, "ResponseCode")!.text).toBe("NoError");
  const changes = find(msg, "Changes")?.children ?? [];
  const ids = changes.map((c) => `${c.name}:${findAll(c, "ItemId")[0]!.attrs.Id}`);
  return { ids, state: find(msg, "SyncState")!.text, last: find(msg, "IncludesLastItemInRange")!.text === "true" };
}

/** Every page of a sync from `state` until the last; returns the changes in order and the final state. */
async function syncAll(max: number, state?: string, between?: (page: number) => Promise<void>): Promise<{ ids: string[]; state: string }> {
  const ids: string[] = [];
  for (let p = 0; p < 100; p++) {
    const pg = await syncPage(max, state);
    ids.push(...pg.ids);
    state = pg.state;
    if (pg.last) return { ids, state };
    await between?.(p);
  }
  throw new Error("sync did not end");
}

async function findIds(max: number, offset: number, shape = "IdOnly"): Promise<{ ids: string[]; total: number; root: XmlElement }> {
  const r = await call(
    `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>${shape}</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="${max}" Offset="${offset}" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`,
  );
  const root = find(r.body, "ResponseMessages", "FindItemResponseMessage", "RootFolder")!;
  return { ids: findAll(root, "ItemId").map((e) => e.attrs.Id!), total: Number(root.attrs.TotalItemsInView), root };
}

async function inboxItemIds(): Promise<Set<string>> {
  return new Set((await findIds(1000, 0)).ids);
}

test("SyncFolderItems: a message delivered and one expunged between the pages of a first sync are seen (the kept listing is never stale)", async () => {
  await append(7);
  let added: number[] = [];
  let gone = "";
  let fresh = "";
  const walk = await syncAll(3, undefined, async (p) => {
    if (p === 0) {
      // between page 1 and 2: one new message, and one not yet sent (the highest UID so far, the newest) expunged
      gone = (await findIds(1, 0)).ids[0]!;
      const listing = await env.srv.store.listMessages(inboxId);
      await env.srv.store.expunge(inboxId, [listing[listing.length - 1]!.uid]);
      added = await append(1);
      fresh = (await findIds(1, 0)).ids[0]!;
    }
  });
  expect(added.length).toBe(1);
  // the pages read after the change list the folder as it is now: the expunged message never, the new one already
  expect(walk.ids).not.toContain(`Create:${gone}`);
  expect(walk.ids).toContain(`Create:${fresh}`);
  expect(walk.ids.length).toBe(7);
  // the first sync sends what is there when each page is read; the feed from the state brings the rest
  const rest = await syncAll(512, walk.state);
  const creates = new Set(walk.ids.concat(rest.ids).filter((x) => x.startsWith("Create:")).map((x) => x.slice(7)));
  const deletes = new Set(rest.ids.filter((x) => x.startsWith("Delete:")).map((x) => x.slice(7)));
  const seen = new Set([...creates].filter((id) => !deletes.has(id)));
  expect(seen).toEqual(await inboxItemIds());
  expect(seen.size).toBe(7); // 7 - 1 expunged + 1 delivered
  // nothing is left over: a second walk from the final state is empty
  expect((await syncPage(512, rest.state)).ids).toEqual([]);
});

test("FindItem IdOnly pages follow the folder: a delivery between pages changes the total and lists the new message", async () => {
  const before = await findIds(2, 0);
  const all = await inboxItemIds();
  expect(before.total).toBe(all.size);
  await append(1);
  const after = await findIds(1000, 0);
  expect(after.total).toBe(all.size + 1);
  const fresh = after.ids.filter((id) => !all.has(id));
  expect(fresh.length).toBe(1);
  // newest first by default: the new message heads the list
  expect(after.ids[0]).toBe(fresh[0]!);
});

test("the kept listings stay inside their row budget, and a folder larger than the budget is still answered right", async () => {
  const total = (await env.srv.store.listMessages(inboxId)).length;
  expect(total).toBeGreaterThan(5);
  setMailListingBudget(5);
  const walk = await syncAll(4);
  expect(walk.ids.length).toBe(total);
  expect(mailListingStats().rows).toBeLessThanOrEqual(5);
  expect((await findIds(1000, 0)).ids.length).toBe(total);
  expect(mailListingStats().rows).toBeLessThanOrEqual(5);
  setMailListingBudget(null);
  await syncAll(4);
  const s = mailListingStats();
  expect(s.rows).toBe(total); // one listing per folder: the newest only
  expect(s.rows).toBeLessThanOrEqual(s.budget);
  expect(s.entries).toBe(1);
  await append(2);
  await syncAll(4);
  expect(mailListingStats()).toMatchObject({ entries: 1, rows: total + 2 });
});

test("calendarHint: false for plain mail, true for a message with a text/calendar part; an invitation still lists as a MeetingRequest", async () => {
  const [plainUid] = await append(1);
  const ics = [
    "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "METHOD:REQUEST", "BEGIN:VEVENT", "UID:list-perf-invite@example.org", "DTSTAMP:20261207T100000Z",
    "DTSTART:20261210T100000Z", "DTEND:20261210T110000Z", "SUMMARY:Planning", `ORGANIZER:mailto:a@example.org`, `ATTENDEE;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${USER}`, "END:VEVENT", "END:VCALENDAR", "",
  ].join("\r\n");
  const res = await env.srv.store.append(inboxId, [{ raw: message(`MIME-Version: 1.0\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n${ics}`), internalDate: Date.now() + 10_000_000, flags: [] }]);
  const [plain, invite] = await env.srv.store.getMessages(inboxId, [plainUid!, res[0]!.uid]);
  expect(plain!.calendarHint).toBe(false);
  expect(invite!.calendarHint).toBe(true);
  const page = await findIds(1, 0, "Default"); // newest first: the invitation
  expect(page.root.children[0]!.children[0]!.name).toBe("MeetingRequest");
  const sync = await call(
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
  const kinds = findAll(sync.body, "Create").map((c) => c.children[0]!.name);
  expect(kinds.filter((k) => k === "MeetingRequest").length).toBe(1);
  expect(kinds.filter((k) => k === "Message").length).toBe(kinds.length - 1);
});

test("malformed paging input on the list paths is refused, not served", async () => {
  const bad = await call(
    `<m:SyncFolderItems><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="inbox"/></m:SyncFolderId><m:MaxChangesReturned>513</m:MaxChangesReturned></m:SyncFolderItems>`,
  );
  expect(find(bad.body, "ResponseMessages")!.children[0]!.attrs.ResponseClass).toBe("Error");
  const neg = await call(
    `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned="10" Offset="-1" BasePoint="Beginning"/><m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`,
  );
  expect(find(neg.body, "ResponseMessages")!.children[0]!.attrs.ResponseClass).toBe("Error");
  // past the end: an empty page that says it is the last
  const past = await findIds(10, 1_000_000);
  expect(past.ids).toEqual([]);
  expect(past.root.attrs.IncludesLastItemInRange).toBe("true");
});

test("GetItem of many mail ids reads them in batches (getMessagesByIds): every id answered in request order; a forged id and a missing one answer ErrorItemNotFound", async () => {
  const other = await createUser(env.srv.store, "list-other@example.test", "list-other-pw-1");
  const otherInbox = (await env.srv.store.getFolder(other.id, "INBOX"))!;
  const [foreign] = await env.srv.store.append(otherInbox.id, [{ raw: message(), internalDate: Date.now(), flags: [] }]);
  const foreignId = (await env.srv.store.getMessages(otherInbox.id, [foreign!.uid]))[0]!.id;
  const acc = (await env.srv.store.getAccount(USER))!;
  // the store read: mail items only, unknown ids left out
  const mine = await env.srv.store.listMessages(inboxId);
  const got = await env.srv.store.getMessagesByIds([mine[0]!.id, 987_654_321, mine[1]!.id]);
  expect(got.map((x) => x.id).sort()).toEqual([mine[0]!.id, mine[1]!.id].sort());
  // over EWS: all of the inbox (more than one batch is not needed for order: the answer follows the request)
  const ids = (await findIds(1000, 0)).ids;
  expect(ids.length).toBeGreaterThan(10);
  const forged = itemId({ accountId: acc.id, itemClass: "mail", id: foreignId }); // our account number, another mailbox's message
  const missing = itemId({ accountId: acc.id, itemClass: "mail", id: 987_654_321 });
  const asked = [...ids.slice(0, 5), forged, ...ids.slice(5), missing];
  const r = await call(
    `<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ItemIds>${asked.map((id) => `<t:ItemId Id="${id}"/>`).join("")}</m:ItemIds></m:GetItem>`,
  );
  const msgs = find(r.body, "ResponseMessages")!.children;
  expect(msgs.length).toBe(asked.length);
  const codes = msgs.map((m) => find(m, "ResponseCode")!.text);
  expect(codes[5]).toBe("ErrorItemNotFound");
  expect(codes[codes.length - 1]).toBe("ErrorItemNotFound");
  const answered = msgs.map((m) => findAll(m, "ItemId")[0]?.attrs.Id ?? null);
  expect(answered.filter((x, i) => i !== 5 && i !== asked.length - 1)).toEqual(ids);
});
