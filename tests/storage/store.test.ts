/** Store rules: folders, aliases, quota, copy/move, change log, flags, search, queue, accounts. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { QuotaExceededError, StoreError, type StoreEvent } from "../../storage/api.ts";
import { bytes, makeMessage, setupAccount, tempStore, text, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

// Every rule runs on the embedded libsql driver, through @libsql/client (the
// code path of remote libsql:// databases) on a local file, and on PostgreSQL
// when PILLARBOX_TEST_PG_URL is set (tests/helpers/engines.ts).
const variants = [
  { name: "driver native", driver: "native" as const, engine: "sqlite" as const },
  { name: "driver client", driver: "client" as const, engine: "sqlite" as const },
  ...(storeEngines().includes("postgres") ? [{ name: "engine postgres", driver: undefined, engine: "postgres" as const }] : []),
];
for (const { name, driver, engine } of variants) {
describe(name, () => {
let t: TempStore;
beforeAll(async () => {
  t = await tempStore({ driver, engine });
});
afterAll(async () => t.cleanup());

async function expectStoreError(p: Promise<unknown>, code: StoreError["code"]) {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe(code);
    return;
  }
  throw new Error(`expected StoreError ${code}`);
}

describe("domains and accounts", () => {
  test("domain with DKIM key, accounts with default folders, authentication", async () => {
    const d = await t.store.addDomain("Accounts.Example");
    expect(d.name).toBe("accounts.example");
    expect(d.dkimSelector).toMatch(/^pb\d{6}$/);
    expect(d.dkimPublicKey).toMatch(/^MII[A-Za-z0-9+/=]+$/);
    const key = await t.store.getDkimKey("ACCOUNTS.example");
    expect(key?.privateKeyPem).toContain("BEGIN PRIVATE KEY");
    await expectStoreError(t.store.addDomain("accounts.example"), "ALREADYEXISTS");
    expect(await t.store.isLocalDomain("accounts.EXAMPLE.")).toBe(true);
    await expectStoreError(t.store.addAccount("x@not-local.example", "pw"), "NONEXISTENT");

    const a = await t.store.addAccount("Anna@Accounts.Example", "correct horse", { displayName: "Anna", quotaBytes: 5000 });
    expect(a.email).toBe("anna@accounts.example");
    expect(a.settings.displayName).toBe("Anna");
    await expectStoreError(t.store.addAccount("anna@accounts.example", "pw"), "ALREADYEXISTS");
    // a calendar, an address book and a task list too (issue 15), and a notes folder (issue 16)
    const all = await t.store.listFolders(a.id);
    expect(all.filter((f) => f.itemClass !== "mail").map((f) => `${f.itemClass}:${f.name}`).sort()).toEqual(["calendar:Calendar", "contacts:Contacts", "notes:Notes", "tasks:Tasks"]);
    const folders = await t.store.listFolders(a.id, { itemClass: "mail" });
    expect(folders.map((f) => f.name).sort()).toEqual(["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    expect(folders[0].name).toBe("INBOX");
    expect(folders.every((f) => f.subscribed)).toBe(true);
    expect(Object.fromEntries(folders.map((f) => [f.name, f.specialUse]))).toEqual({
      INBOX: null, Drafts: "\\Drafts", Sent: "\\Sent", Trash: "\\Trash", Junk: "\\Junk", Archive: "\\Archive",
    });
    expect(new Set(folders.map((f) => f.uidValidity)).size).toBe(folders.length);

    expect((await t.store.authenticate("ANNA@accounts.example", "correct horse"))?.id).toBe(a.id);
    expect(await t.store.authenticate("anna@accounts.example", "wrong")).toBeNull();
    expect(await t.store.authenticate("nobody@accounts.example", "correct horse")).toBeNull();
    await t.store.setPassword("anna@accounts.example", "new pass");
    expect(await t.store.authenticate("anna@accounts.example", "correct horse")).toBeNull();
    expect((await t.store.authenticate("anna@accounts.example", "new pass"))?.id).toBe(a.id);

    const s = await t.store.updateSettings(a.id, { signature: "-- Anna", pop3LeaveOnServer: true });
    expect(s).toEqual({ displayName: "Anna", signature: "-- Anna", pop3LeaveOnServer: true });
    expect((await t.store.getAccountById(a.id))?.settings.signature).toBe("-- Anna");
    await t.store.setQuota("anna@accounts.example", null);
    expect((await t.store.getAccount("anna@accounts.example"))?.quotaBytes).toBeNull();

    await expectStoreError(t.store.removeDomain("accounts.example"), "CANNOT");
    await t.store.removeAccount("anna@accounts.example");
    expect(await t.store.getAccount("anna@accounts.example")).toBeNull();
    await t.store.removeDomain("accounts.example");
    expect(await t.store.getDomain("accounts.example")).toBeNull();
  });
});

describe("folders", () => {
  test("create with parents, rename subtree, delete, INBOX rules", async () => {
    const { account } = await setupAccount(t.store, "folders@example.com");
    const events: StoreEvent[] = [];
    const off = t.store.events.subscribe(account.id, (e) => events.push(e));
    const c = await t.store.createFolder(account.id, "Projects/2026/Q1");
    expect(c.name).toBe("Projects/2026/Q1");
    const p2026 = await t.store.getFolder(account.id, "Projects/2026");
    const projects = await t.store.getFolder(account.id, "Projects");
    expect(p2026?.parentId).toBe(projects!.id);
    expect(c.parentId).toBe(p2026!.id);
    expect(events.filter((e) => e.type === "folder" && e.change === "created").length).toBe(3);
    await expectStoreError(t.store.createFolder(account.id, "Projects"), "ALREADYEXISTS");
    await expectStoreError(t.store.createFolder(account.id, "inbox"), "ALREADYEXISTS");
    await expectStoreError(t.store.createFolder(account.id, "a//b"), "INVALID");
    await expectStoreError(t.store.createFolder(account.id, "/lead"), "INVALID");
    await expectStoreError(t.store.createFolder(account.id, "bad*name"), "INVALID");
    const cal = await t.store.createFolder(account.id, "Holidays", { itemClass: "calendar" });
    expect(cal.itemClass).toBe("calendar");

    // messages keep their UIDs through a rename of an ancestor
    const [m] = await t.store.append(c.id, [{ raw: makeMessage({ subject: "in q1" }) }]);
    await t.store.renameFolder(account.id, "Projects", "Archive/Old Projects");
    expect(await t.store.getFolder(account.id, "Projects")).toBeNull();
    const moved = await t.store.getFolder(account.id, "Archive/Old Projects/2026/Q1");
    expect(moved?.id).toBe(c.id);
    expect(moved?.uidValidity).toBe(c.uidValidity);
    const arch = await t.store.getFolder(account.id, "Archive");
    expect((await t.store.getFolder(account.id, "Archive/Old Projects"))?.parentId).toBe(arch!.id);
    expect((await t.store.listMessages(c.id)).map((x) => x.uid)).toEqual([m.uid]);
    await expectStoreError(t.store.renameFolder(account.id, "Archive/Old Projects", "Archive/Old Projects/x"), "CANNOT");
    await expectStoreError(t.store.renameFolder(account.id, "Nope", "Other"), "NONEXISTENT");
    await expectStoreError(t.store.renameFolder(account.id, "Sent", "Drafts"), "ALREADYEXISTS");

    // delete: children first, INBOX never
    await expectStoreError(t.store.deleteFolder(account.id, "Archive/Old Projects"), "CANNOT");
    await expectStoreError(t.store.deleteFolder(account.id, "INBOX"), "CANNOT");
    await expectStoreError(t.store.deleteFolder(account.id, "Nope"), "NONEXISTENT");
    const before = await t.store.quota(account.id);
    await t.store.deleteFolder(account.id, "Archive/Old Projects/2026/Q1");
    expect(await t.store.getFolderById(c.id)).toBeNull();
    expect((await t.store.quota(account.id)).messages).toBe(before.messages - 1);
    // a re-created name gets a new UIDVALIDITY
    const again = await t.store.createFolder(account.id, "Archive/Old Projects/2026/Q1");
    expect(again.uidValidity).not.toBe(c.uidValidity);

    await t.store.setSubscribed(account.id, "Junk", false);
    expect((await t.store.getFolder(account.id, "Junk"))?.subscribed).toBe(false);
    expect(events.some((e) => e.type === "folder" && e.change === "subscribed")).toBe(true);
    off();
  });

  test("renaming INBOX moves its messages to the new folder and leaves INBOX empty (RFC 9051 §6.3.6)", async () => {
    const { account, inbox } = await setupAccount(t.store, "inboxrename@example.com");
    const rs = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: "one" }) }, { raw: makeMessage({ subject: "two" }), flags: ["\\Seen"] }]);
    await t.store.createFolder(account.id, "INBOX/child");
    await t.store.renameFolder(account.id, "INBOX", "Old Inbox");
    const old = await t.store.getFolder(account.id, "Old Inbox");
    const msgs = await t.store.listMessages(old!.id);
    expect(msgs.map((x) => x.id)).toEqual(rs.map((r) => r.id)); // stable ids
    expect(msgs[1].flags).toEqual(["\\Seen"]);
    expect(await t.store.listMessages(inbox.id)).toEqual([]);
    expect((await t.store.getFolder(account.id, "INBOX"))?.id).toBe(inbox.id);
    expect(await t.store.getFolder(account.id, "INBOX/child")).not.toBeNull();
    const ch = await t.store.changesSince(inbox.id, 0);
    expect(ch.expunged).toEqual(rs.map((r) => r.uid));
  });
});

describe("aliases and recipients", () => {
  test("exact, one-to-many, recursive, catch-all, remote, loops, sub-addressing", async () => {
    await t.store.addDomain("alias.example");
    await t.store.addDomain("other.example");
    const a = await t.store.addAccount("a@alias.example", "pw");
    const b = await t.store.addAccount("b@alias.example", "pw");
    const c = await t.store.addAccount("c@other.example", "pw");
    await t.store.addAlias("team@alias.example", "a@alias.example");
    await t.store.addAlias("Team@Alias.Example", "b@alias.example");
    await t.store.addAlias("team@alias.example", "partner@remote.example");
    await expectStoreError(t.store.addAlias("team@alias.example", "b@alias.example"), "ALREADYEXISTS");
    await expectStoreError(t.store.addAlias("x@remote.example", "a@alias.example"), "NONEXISTENT");
    await t.store.addAlias("all@alias.example", "team@alias.example");
    await t.store.addAlias("all@alias.example", "c@other.example");
    await t.store.addAlias("l1@alias.example", "l2@alias.example");
    await t.store.addAlias("l2@alias.example", "l1@alias.example");
    await t.store.addAlias("l2@alias.example", "a@alias.example");

    const ids = (r: Awaited<ReturnType<typeof t.store.resolveRecipient>>) =>
      r && r !== "remote" ? { accounts: r.accounts.map((x) => x.id).sort(), forward: r.forward.sort() } : r;
    expect(ids(await t.store.resolveRecipient("A@ALIAS.example"))).toEqual({ accounts: [a.id], forward: [] });
    expect(ids(await t.store.resolveRecipient("<team@alias.example>"))).toEqual({ accounts: [a.id, b.id], forward: ["partner@remote.example"] });
    expect(ids(await t.store.resolveRecipient("all@alias.example"))).toEqual({ accounts: [a.id, b.id, c.id], forward: ["partner@remote.example"] });
    expect(ids(await t.store.resolveRecipient("l1@alias.example"))).toEqual({ accounts: [a.id], forward: [] });
    expect(await t.store.resolveRecipient("nobody@alias.example")).toBeNull();
    expect(await t.store.resolveRecipient("someone@remote.example")).toBe("remote");
    expect(ids(await t.store.resolveRecipient("b+lists@alias.example"))).toEqual({ accounts: [b.id], forward: [] });

    await t.store.addAlias("@alias.example", "b@alias.example");
    expect(ids(await t.store.resolveRecipient("nobody@alias.example"))).toEqual({ accounts: [b.id], forward: [] });
    expect(ids(await t.store.resolveRecipient("a@alias.example"))).toEqual({ accounts: [a.id], forward: [] }); // exact wins

    const sendAs = await t.store.sendAsAddresses(a.id);
    expect(sendAs.sort()).toEqual(["a@alias.example", "all@alias.example", "l1@alias.example", "l2@alias.example", "team@alias.example"]);
    expect(await t.store.sendAsAddresses(b.id)).not.toContain("@alias.example");

    expect(await t.store.removeAlias("team@alias.example", "partner@remote.example")).toBe(1);
    expect(await t.store.removeAlias("l1@alias.example")).toBe(1);
    expect((await t.store.listAliases()).some((x) => x.source === "l1@alias.example")).toBe(false);
  });
});

describe("messages", () => {
  test("quota: append and deliver over quota throw QuotaExceededError and store nothing", async () => {
    const { account, inbox } = await setupAccount(t.store, "quota@example.com", 2000);
    await t.store.append(inbox.id, [{ raw: makeMessage({ size: 900 }) }]);
    expect(await t.store.checkQuota(account.id, 900)).toBe(true);
    expect(await t.store.checkQuota(account.id, 1200)).toBe(false);
    await expect(t.store.append(inbox.id, [{ raw: makeMessage({ size: 600 }) }, { raw: makeMessage({ size: 600 }) }])).rejects.toBeInstanceOf(QuotaExceededError);
    await expect(t.store.deliver(makeMessage({ size: 1500 }), [{ accountId: account.id }])).rejects.toBeInstanceOf(QuotaExceededError);
    const q = await t.store.quota(account.id);
    expect(q.messages).toBe(1);
    expect(q.limitBytes).toBe(2000);
    expect((await t.store.listMessages(inbox.id)).length).toBe(1);
    // a second UID is allocated only for committed messages
    const [r] = await t.store.append(inbox.id, [{ raw: makeMessage({ size: 500 }) }]);
    expect(r.uid).toBe(2);
  });

  test("deliver to several recipients: one blob, atomic, folders and flags", async () => {
    const { account: a, inbox: ia } = await setupAccount(t.store, "d1@example.com");
    const { account: b } = await setupAccount(t.store, "d2@example.com");
    const raw = makeMessage({ subject: "to both" });
    const res = await t.store.deliver(raw, [
      { accountId: a.id },
      { accountId: b.id, folder: "Junk", flags: ["\\seen", "$Junk"] },
      { accountId: a.id, folder: "No/Such/Folder" },
    ]);
    // a's two recipients with INBOX fallback: one copy per distinct folder name
    expect(res.length).toBe(3);
    const junkB = await t.store.getFolder(b.id, "Junk");
    expect(res[1].folderId).toBe(junkB!.id);
    expect(res[0].folderId).toBe(ia.id);
    expect(res[2].folderId).toBe(ia.id);
    const [mb] = await t.store.getMessages(junkB!.id, [res[1].uid]);
    expect(mb.flags).toEqual(["\\Seen", "$Junk"]);
    const [ma] = await t.store.getMessages(ia.id, [res[0].uid]);
    expect(ma.blobId).toBe(mb.blobId);
    expect(text(await t.store.readMessage(ma.id))).toBe(text(raw));
    // an unknown account makes the whole delivery fail: nothing of it stays
    const before = (await t.store.listMessages(ia.id)).length;
    await expect(t.store.deliver(makeMessage({ subject: "x" }), [{ accountId: a.id }, { accountId: 999999 }])).rejects.toThrow();
    expect((await t.store.listMessages(ia.id)).length).toBe(before);
  });

  test("flags: canonical system flags, keywords as given, UNCHANGEDSINCE, events", async () => {
    const { account, inbox } = await setupAccount(t.store, "flags@example.com");
    const rs = await t.store.append(inbox.id, [1, 2, 3].map((i) => ({ raw: makeMessage({ subject: `f${i}` }) })));
    const events: StoreEvent[] = [];
    t.store.events.subscribe(account.id, (e) => events.push(e));
    const r1 = await t.store.storeFlags(inbox.id, [1, 2], "add", ["\\SEEN", "Work", "\\Recent", "work"]);
    expect(r1.updated.map((u) => u.flags)).toEqual([["\\Seen", "Work"], ["\\Seen", "Work"]]);
    const m1 = r1.updated[0].modseq;
    expect(r1.updated[1].modseq).toBe(m1);
    expect(events.at(-1)).toMatchObject({ type: "flags", folderId: inbox.id });
    // UNCHANGEDSINCE older than the last change: refused for 1 and 2, applied to 3
    const r2 = await t.store.storeFlags(inbox.id, [1, 2, 3], "set", ["\\Flagged"], { unchangedSince: rs[2].modseq });
    expect(r2.modified).toEqual([1, 2]);
    expect(r2.updated.map((u) => u.uid)).toEqual([3]);
    const r3 = await t.store.storeFlags(inbox.id, [1], "remove", ["work"]);
    expect(r3.updated[0].flags).toEqual(["\\Seen"]);
    // no change: no new modseq
    const hm = (await t.store.getFolderById(inbox.id))!.highestModseq;
    const r4 = await t.store.storeFlags(inbox.id, [1], "add", ["\\Seen"]);
    expect(r4.updated[0].modseq).toBe(r3.updated[0].modseq);
    expect((await t.store.getFolderById(inbox.id))!.highestModseq).toBe(hm);
    const st = await t.store.folderStatus(inbox.id);
    expect(st.unseen).toBe(1);
  });

  test("copy and move: UIDPLUS mapping, stable ids on move, change log", async () => {
    const { account, inbox } = await setupAccount(t.store, "copymove@example.com");
    const archive = (await t.store.getFolder(account.id, "Archive"))!;
    const rs = await t.store.append(inbox.id, [1, 2, 3, 4].map((i) => ({ raw: makeMessage({ subject: `cm${i}`, body: `unique body cm${i}` }), flags: i === 2 ? ["\\Flagged"] : [] })));
    const start = (await t.store.getFolderById(inbox.id))!.highestModseq;
    const cp = await t.store.copy(inbox.id, [2, 3, 99], archive.id);
    expect(cp.uidValidity).toBe(archive.uidValidity);
    expect(cp.mapping).toEqual([[2, 1], [3, 2]]);
    const copied = await t.store.getMessages(archive.id, [1, 2]);
    expect(copied[0].flags).toEqual(["\\Flagged"]);
    expect(copied.map((m) => m.id)).not.toContain(rs[1].id); // a copy is a new item
    expect((await t.store.quota(account.id)).messages).toBe(6);

    const mv = await t.store.move(inbox.id, [1, 4], archive.id);
    expect(mv.mapping).toEqual([[1, 3], [4, 4]]);
    const movedMsgs = await t.store.getMessages(archive.id, [3, 4]);
    expect(movedMsgs.map((m) => m.id)).toEqual([rs[0].id, rs[3].id]); // stable ids survive the move
    expect((await t.store.getMessageById(rs[0].id))?.folderId).toBe(archive.id);
    expect((await t.store.quota(account.id)).messages).toBe(6);

    const ch = await t.store.changesSince(inbox.id, start);
    expect(ch.expunged).toEqual([1, 4]);
    expect(ch.changed).toEqual([]);
    await t.store.storeFlags(inbox.id, [3], "add", ["\\Deleted"]);
    const ch2 = await t.store.changesSince(inbox.id, start);
    expect(ch2.changed.map((m) => m.uid)).toEqual([3]);
    expect(await t.store.expunge(inbox.id)).toEqual([3]);
    const ch3 = await t.store.changesSince(inbox.id, start);
    expect(ch3.expunged).toEqual([1, 3, 4]);
    expect(ch3.changed).toEqual([]);
    expect(ch3.highestModseq).toBeGreaterThan(ch2.highestModseq);
    expect((await t.store.listMessages(inbox.id)).map((m) => m.uid)).toEqual([2]);
    const archiveCh = await t.store.changesSince(archive.id, 0);
    expect(archiveCh.changed.map((m) => m.uid)).toEqual([1, 2, 3, 4]);
    // expunge by UID list
    expect(await t.store.expunge(archive.id, [2, 3, 77])).toEqual([2, 3]);
    expect((await t.store.listMessages(archive.id)).map((m) => m.uid)).toEqual([1, 4]);
    await expectStoreError(t.store.move(inbox.id, [2], 999999), "NONEXISTENT");
  });

  test("threads: replies join the thread of the message they answer", async () => {
    const { inbox } = await setupAccount(t.store, "threads@example.com");
    const [p] = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: "Plan", messageId: "<plan@x>" }) }]);
    const [r] = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: "Re: Plan", messageId: "<re1@x>", inReplyTo: "<plan@x>" }) }]);
    const [o] = await t.store.append(inbox.id, [{ raw: makeMessage({ subject: "Other", messageId: "<other@x>" }) }]);
    const [m1, m2, m3] = await t.store.getMessages(inbox.id, [p.uid, r.uid, o.uid]);
    expect(m1.threadId).toBe(m1.id);
    expect(m2.threadId).toBe(m1.threadId);
    expect(m3.threadId).toBe(m3.id);
    expect(m2.baseSubject).toBe("Plan");
    expect(m2.inReplyTo).toBe("<plan@x>");
  });

  test("searchText via FTS5: substring, fields, short terms, case", async () => {
    const { inbox } = await setupAccount(t.store, "search@example.com");
    await t.store.append(inbox.id, [
      { raw: makeMessage({ subject: "Quarterly report", from: "Ann <ann@corp.example>", body: "The numbers for Zürich are ready.\r\n" }) },
      { raw: makeMessage({ subject: "Lunch", to: "Bob <bob@corp.example>", body: "<not html> pizza at noon\r\n" }) },
      {
        raw: bytes(
          "Subject: =?utf-8?B?R3LDvMOfZQ==?=\r\nFrom: x@y.example\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>Hello <b>wor=\r\nld</b> &amp; friends</p><script>secretjs()</script>\r\n",
        ),
      },
    ]);
    expect(await t.store.searchText(inbox.id, "subject", "report")).toEqual([1]);
    expect(await t.store.searchText(inbox.id, "subject", "QUARTERLY")).toEqual([1]);
    expect(await t.store.searchText(inbox.id, "body", "zürich")).toEqual([1]);
    expect(await t.store.searchText(inbox.id, "body", "pizza at")).toEqual([2]);
    expect(await t.store.searchText(inbox.id, "from", "ann@corp")).toEqual([1]);
    expect(await t.store.searchText(inbox.id, "to", "bob")).toEqual([2]);
    expect(await t.store.searchText(inbox.id, "subject", "Grüße")).toEqual([3]);
    expect(await t.store.searchText(inbox.id, "body", "hello world & friends")).toEqual([3]);
    expect(await t.store.searchText(inbox.id, "body", "secretjs")).toEqual([]);
    expect(await t.store.searchText(inbox.id, "text", "corp.example")).toEqual([1, 2]);
    expect(await t.store.searchText(inbox.id, "text", "Lunch")).toEqual([2]);
    expect(await t.store.searchText(inbox.id, "body", "no")).toEqual([2]); // 2 chars: LIKE path
    expect(await t.store.searchText(inbox.id, "body", '"quoted"')).toEqual([]);
    expect(await t.store.searchText(inbox.id, "body", "")).toEqual([1, 2, 3]);
  });

  test("readRange, blob streaming and message index fields", async () => {
    const { inbox } = await setupAccount(t.store, "range@example.com");
    const raw = makeMessage({ subject: "range", body: "0123456789\r\n" });
    const [r] = await t.store.append(inbox.id, [{ raw, internalDate: Date.UTC(2020, 0, 2) }]);
    const [m] = await t.store.getMessages(inbox.id, [r.uid]);
    expect(m.internalDate).toBe(Date.UTC(2020, 0, 2));
    expect(m.sentDate).toBe(Date.UTC(2006, 0, 2, 22, 4, 5));
    expect(m.fromAddr).toBe("sender@example.net");
    expect(m.fromName).toBe("Sender");
    expect(text(await t.store.readRange(m.blobId, m.root.bodyStart, m.root.bodyEnd))).toBe("0123456789\r\n");
    const chunks: Uint8Array[] = [];
    for await (const c of t.store.blobs.stream(m.blobId, 2, 10) as unknown as AsyncIterable<Uint8Array>) chunks.push(c);
    expect(text(Buffer.concat(chunks))).toBe(text(raw.subarray(2, 10)));
    expect(m.preview).toBe("0123456789");
  });
});

describe("queue", () => {
  test("enqueue, claim with lock, update, remove", async () => {
    const e = await t.store.enqueue({
      sender: "s@example.com",
      recipients: ["r1@remote.example", "r2@remote.example"],
      raw: makeMessage({ subject: "queued" }),
      dsn: { ret: "HDRS", envid: "E1" },
      rcptDsn: { "r1@remote.example": { notify: ["FAILURE"], orcpt: "rfc822;r1@remote.example" } },
    });
    expect(e.recipients[0]).toEqual({ address: "r1@remote.example", status: "pending", dsn: { notify: ["FAILURE"], orcpt: "rfc822;r1@remote.example" } });
    expect(e.dsn).toEqual({ ret: "HDRS", envid: "E1" });
    const now = Date.now() + 1000;
    const claimed = await t.store.claimDueQueueEntries(now, 10, 60_000);
    expect(claimed.map((c) => c.id)).toContain(e.id);
    expect(claimed.find((c) => c.id === e.id)?.lockedUntil).toBe(now + 60_000);
    expect((await t.store.claimDueQueueEntries(now, 10, 60_000)).map((c) => c.id)).not.toContain(e.id); // locked
    expect((await t.store.claimDueQueueEntries(now + 60_001, 10, 1000)).map((c) => c.id)).toContain(e.id); // lock expired
    await t.store.updateQueueEntry(e.id, { attempts: 1, lastError: "451 try later", nextAttemptAt: now + 5000, lockedUntil: null, recipients: [{ ...e.recipients[0], status: "sent" }, e.recipients[1]] });
    const u = await t.store.getQueueEntry(e.id);
    expect(u?.attempts).toBe(1);
    expect(u?.recipients[0].status).toBe("sent");
    expect(u?.lockedUntil).toBeNull();
    expect(text(await t.store.blobs.get(u!.blobId))).toContain("Subject: queued");
    expect((await t.store.listQueue()).map((x) => x.id)).toContain(e.id);
    // a queued message's blob is never garbage
    await t.store.collectGarbage({ graceMs: 0 });
    expect(await t.store.blobs.has(u!.blobId)).toBe(true);
    await t.store.removeQueueEntry(e.id);
    expect(await t.store.getQueueEntry(e.id)).toBeNull();
  });
});
});
}
