/**
 * Regression tests for the fixes of issue 16's test round, over real HTTPS
 * (EasClient, every request and response checked against libwbxml2-utils):
 * a repeated FolderSync with SyncKey 0 keeps live collections' states; a
 * MIME draft (Body Type 4) with AirSyncBase attachments is stored as the
 * device's message; SmartReply adds In-Reply-To/References; HTTP 449 has its
 * reason phrase on the wire (curl -v); one debug log line per request.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account } from "../../storage/api.ts";
import { parseMime } from "../../mail/index.ts";
import { headerValue } from "../../mail/headers.ts";
import { createLogger, type Logger } from "../../src/log.ts";
import { run } from "../helpers/proc.ts";
import { encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { DraftError, draftMessage } from "../../protocols/http/eas/email/draft.ts";
import { addThreadHeaders } from "../../protocols/http/eas/email/compose.ts";
import { collectionNameFor } from "../../protocols/http/eas/commands/folders-groupware.ts";
import { commandStatus } from "../../protocols/http/eas/handler.ts";
import { appData, commandsOf, el, kid, kids, kidText, text, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";

let env: EasEnv;
let ivy: Account;
const PASS = "ivy-secret-16";
const enc = new TextEncoder();

beforeAll(async () => {
  env = await startEas();
  ivy = await createUser(env.srv.store, "ivy@example.test", PASS, { displayName: "Ivy Ink" });
  await createUser(env.srv.store, "jack@example.test", "jack-secret-16", { displayName: "Jack Jones" });
});
afterAll(async () => {
  await env.close();
});

async function device(id: string, version = "16.1"): Promise<EasClient> {
  const c = env.client({ user: "ivy@example.test", pass: PASS, deviceId: id, version });
  await c.provision();
  await c.folderSync();
  return c;
}

async function primed(c: EasClient, folder: string): Promise<void> {
  const s = await c.sync(folder);
  expect(s.status).toBe("1");
  for (let i = 0; i < 20; i++) {
    const r = await c.sync(folder);
    if (kid(r.coll, "AirSync:MoreAvailable") === undefined) return;
  }
}

async function inboxMessages(acct: Account, folderName = "INBOX") {
  const f = (await env.srv.store.getFolder(acct.id, folderName))!;
  return env.srv.store.getMessages(f.id, (await env.srv.store.listMessages(f.id)).map((m) => m.uid));
}

describe("a repeated FolderSync with SyncKey 0", () => {
  test("keeps the sync state of existing collections: the next Sync with the old key gets Status 1", async () => {
    const c = await device("FIX16-FS0");
    const inbox = c.folderByType(2);
    const notes = c.folderByType(10);
    await primed(c, inbox);
    await primed(c, notes);
    const keyBefore = c.syncKeys.get(inbox)!;
    c.folderSyncKey = "0";
    const again = await c.folderSync();
    expect(kidText(again.doc!, "FolderHierarchy:Status")).toBe("1");
    const s = await c.sync(inbox, { syncKey: keyBefore });
    expect(s.status).toBe("1");
    expect((await c.sync(notes)).status).toBe("1");
  });

  test("drops only the state of a folder that is gone", async () => {
    const c = await device("FIX16-FS0-GONE");
    await env.srv.store.createFolder(ivy.id, "Projects-16", { itemClass: "mail" });
    const gone = await env.srv.store.getFolder(ivy.id, "Projects-16");
    c.folderSyncKey = "0";
    await c.folderSync();
    const sid = c.folderByName("Projects-16");
    expect(sid).toBe(String(gone!.id));
    await primed(c, sid);
    await primed(c, c.folderByType(2));
    const dev = (await env.srv.ctx.storage.eas.listDevices(ivy.id)).find((d) => d.deviceId === "FIX16-FS0-GONE")!;
    expect(await env.srv.ctx.storage.eas.syncedCollections(dev.pk)).toContain(sid);
    await env.srv.store.deleteFolder(ivy.id, "Projects-16");
    c.folderSyncKey = "0";
    await c.folderSync();
    const left = await env.srv.ctx.storage.eas.syncedCollections(dev.pk);
    expect(left).not.toContain(sid);
    expect(left).toContain(c.folderByType(2));
  });
});

const DRAFT_MIME = [
  "From: Someone Else <someone@elsewhere.test>",
  "To: jack@example.test",
  "Subject: draft-marker-16",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b16"',
  "",
  "--b16",
  "Content-Type: text/plain; charset=utf-8",
  "",
  "throwaway draft body",
  "--b16",
  'Content-Type: application/octet-stream; name="draft.bin"',
  'Content-Disposition: attachment; filename="draft.bin"',
  "Content-Transfer-Encoding: base64",
  "",
  Buffer.from("draft attachment").toString("base64"),
  "--b16--",
  "",
].join("\r\n");

function partBytes(raw: Uint8Array, p: { bodyStart: number; bodyEnd: number; encoding?: string | null }): Buffer {
  return Buffer.from(new TextDecoder().decode(raw.subarray(p.bodyStart, p.bodyEnd)).replace(/\s+/g, ""), "base64");
}

describe("drafts saved with Sync Add (16.1)", () => {
  let c: EasClient;
  let drafts: string;
  beforeAll(async () => {
    c = await device("FIX16-DRAFT");
    drafts = c.folderByType(3);
    await primed(c, drafts);
  });

  /** A draft Add; `unchecked` sends bytes libwbxml's xml2wbxml cannot encode (a Content that is not base64). */
  async function addDraft(clientId: string, data: ReturnType<typeof el>[], unchecked = false) {
    const doc = c.syncDoc(drafts, { getChanges: false, commands: [el("AirSync:Add", el("AirSync:ClientId", clientId), el("AirSync:ApplicationData", data))] });
    const r = unchecked ? await c.send("Sync", null, { raw: encode(doc) }) : await c.send("Sync", doc);
    const coll = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(coll, "AirSync:Status")).toBe("1");
    c.syncKeys.set(drafts, kidText(coll, "AirSync:SyncKey")!);
    const add = kids(kid(coll, "AirSync:Responses"), "AirSync:Add")[0];
    const refs = kids(kid(kid(add, "AirSync:ApplicationData"), "AirSyncBase:Attachments"), "AirSyncBase:Attachment").map((a) => ({ clientId: kidText(a, "AirSyncBase:ClientId"), ref: kidText(a, "AirSyncBase:FileReference") }));
    return { status: kidText(add, "AirSync:Status"), serverId: kidText(add, "AirSync:ServerId"), refs };
  }

  test("a MIME body (Type 4) is stored as the device's message: headers, text, attachment; From is the account", async () => {
    const r = await addDraft("mime-1", [
      el("AirSyncBase:Body", el("AirSyncBase:Type", "4"), el("AirSyncBase:Data", DRAFT_MIME)),
      el("Email:Read", "1"),
      el("Email:Flag", el("Email:Status", "2"), el("Email:FlagType", "Flag for follow up")),
    ]);
    expect(r.status).toBe("1");
    const stored = (await inboxMessages(ivy, "Drafts")).find((m) => m.subject === "draft-marker-16")!;
    expect(stored).toBeDefined();
    expect(stored.flags).toEqual(expect.arrayContaining(["\\Draft", "\\Seen", "\\Flagged"]));
    const raw = await env.srv.store.readMessage(stored.id);
    const parsed = parseMime(raw);
    expect(headerValue(parsed.headers, "from")).toBe("ivy@example.test");
    expect(headerValue(parsed.headers, "to")).toBe("jack@example.test");
    expect(parsed.root.subtype).toBe("mixed");
    const [body, att] = parsed.root.parts!;
    expect(new TextDecoder().decode(raw.subarray(body!.bodyStart, body!.bodyEnd))).toContain("throwaway draft body");
    expect(partBytes(raw, att!).toString()).toBe("draft attachment");
    // ItemOperations Fetch, as pyactivesync checks it: subject, read, flag, one attachment whose content is fetched back
    const f = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", drafts), el("AirSync:ServerId", r.serverId!))));
    const props = kid(kid(kid(f.doc!, "ItemOperations:Response"), "ItemOperations:Fetch"), "ItemOperations:Properties");
    expect(kidText(props, "Email:Subject")).toBe("draft-marker-16");
    expect(kidText(props, "Email:Read")).toBe("1");
    expect(kidText(kid(props, "Email:Flag"), "Email:Status")).toBe("2");
    const atts = kids(kid(props, "AirSyncBase:Attachments"), "AirSyncBase:Attachment");
    expect(atts.length).toBe(1);
    const ref = kidText(atts[0], "AirSyncBase:FileReference")!;
    const fa = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSyncBase:FileReference", ref))));
    const data = kidText(kid(kid(kid(fa.doc!, "ItemOperations:Response"), "ItemOperations:Fetch"), "ItemOperations:Properties"), "ItemOperations:Data")!;
    expect(Buffer.from(data, "base64").toString()).toBe("draft attachment");
  });

  test("AirSyncBase:Attachments/Add on a text draft becomes a MIME attachment (opaque Content), inline with its Content-ID", async () => {
    const png = new Uint8Array(300).map((_, i) => (i * 7) % 256);
    const r = await addDraft("att-1", [
      el("Email:To", "jack@example.test"),
      el("Email:Subject", "draft-with-attachments-16"),
      el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "see the picture")),
      el(
        "AirSyncBase:Attachments",
        el("AirSyncBase:Add", el("AirSyncBase:ClientId", "a1"), el("AirSyncBase:Content", png), el("AirSyncBase:DisplayName", "pic.png"), el("AirSyncBase:ContentId", "pic1@device"), el("AirSyncBase:ContentType", "image/png"), el("AirSyncBase:IsInline", "1"), el("AirSyncBase:Method", "1")),
      ),
    ]);
    expect(r.status).toBe("1");
    // MS-ASAIRS §2.2.2.24.1: the Responses Add gives the attachment's ClientId with its FileReference, which fetches it
    expect(r.refs.map((x) => x.clientId)).toEqual(["a1"]);
    const fa = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSyncBase:FileReference", r.refs[0]!.ref!))));
    const fetched = kidText(kid(kid(kid(fa.doc!, "ItemOperations:Response"), "ItemOperations:Fetch"), "ItemOperations:Properties"), "ItemOperations:Data")!;
    expect(Buffer.compare(Buffer.from(fetched, "base64"), Buffer.from(png))).toBe(0);
    const stored = (await inboxMessages(ivy, "Drafts")).find((m) => m.subject === "draft-with-attachments-16")!;
    const raw = await env.srv.store.readMessage(stored.id);
    const parsed = parseMime(raw);
    const att = parsed.root.parts!.find((p) => p.params.name === "pic.png")!;
    expect(att.type + "/" + att.subtype).toBe("image/png");
    expect(new TextDecoder().decode(raw.subarray(att.headerStart, att.bodyStart))).toContain("Content-ID: <pic1@device>");
    expect(Buffer.compare(partBytes(raw, att), Buffer.from(png))).toBe(0);
  });

  test("what cannot be stored as sent is refused with Status 6 and nothing is stored", async () => {
    const before = (await inboxMessages(ivy, "Drafts")).length;
    const notMime = await addDraft("bad-1", [el("AirSyncBase:Body", el("AirSyncBase:Type", "4"), el("AirSyncBase:Data", "this is not a MIME message at all"))]);
    expect(notMime.status).toBe("6");
    const badContent = await addDraft("bad-2", [
      el("Email:Subject", "bad attachment"),
      el("AirSyncBase:Attachments", el("AirSyncBase:Add", el("AirSyncBase:ClientId", "x"), el("AirSyncBase:Content", "%%% not base64 %%%"), el("AirSyncBase:DisplayName", "x.bin"), el("AirSyncBase:Method", "1"))),
    ], true);
    expect(badContent.status).toBe("6");
    const tooMany = await addDraft("bad-3", [
      el("Email:Subject", "many attachments"),
      el("AirSyncBase:Attachments", Array.from({ length: 101 }, (_, i) => el("AirSyncBase:Add", el("AirSyncBase:ClientId", `m${i}`), el("AirSyncBase:Content", new Uint8Array([65])), el("AirSyncBase:DisplayName", `m${i}.txt`), el("AirSyncBase:Method", "1")))),
    ]);
    expect(tooMany.status).toBe("6");
    expect((await inboxMessages(ivy, "Drafts")).length).toBe(before);
  });

  test("a Change of a draft's content is applied (the edited draft replaces the stored one), not answered 1 and dropped", async () => {
    const stored = (await inboxMessages(ivy, "Drafts")).find((m) => m.subject === "draft-marker-16")!;
    const sid = `${drafts}:${stored.id}`;
    await c.sync(drafts); // the adds of this collection are known to the device
    const s = await c.sync(drafts, { getChanges: false, commands: [el("AirSync:Change", el("AirSync:ServerId", sid), el("AirSync:ApplicationData", el("Email:Subject", "edited"), el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "new text"))))] });
    expect(kids(kid(s.coll, "AirSync:Responses"), "AirSync:Change")).toEqual([]); // success: no response entry
    expect((await env.srv.store.getMessages(stored.folderId, [stored.uid])).length).toBe(0);
    const edited = (await inboxMessages(ivy, "Drafts")).filter((m) => m.subject === "edited");
    expect(edited.length).toBe(1);
    const raw = await env.srv.store.readMessage(edited[0]!.id);
    const parsed = parseMime(raw);
    const [body, att] = parsed.root.parts!;
    expect(new TextDecoder().decode(raw.subarray(body!.bodyStart, body!.bodyEnd))).toBe("new text");
    expect(partBytes(raw, att!).toString()).toBe("draft attachment"); // the attachment stays
    expect(headerValue(parsed.headers, "to")).toBe("jack@example.test"); // absent To: kept
  });
});

describe("SmartReply threading", () => {
  test("In-Reply-To and References come from the source message when the device's MIME has none", async () => {
    await env.srv.store.deliver(message({ to: "ivy@example.test", subject: "Thread start 16", messageId: "orig-16", extraHeaders: "References: <root-16@example.test>\r\n" }), [{ accountId: ivy.id }]);
    const c = await device("FIX16-REPLY", "14.1");
    const inbox = c.folderByType(2);
    await primed(c, inbox);
    const src = (await inboxMessages(ivy)).find((m) => m.subject === "Thread start 16")!;
    const mime = "From: ivy@example.test\r\nTo: jack@example.test\r\nSubject: Re: Thread start 16\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSounds good.\r\n";
    const r = await c.send("SmartReply", el("ComposeMail:SmartReply", el("ComposeMail:ClientId", "reply-16"), el("ComposeMail:Source", el("ComposeMail:FolderId", inbox), el("ComposeMail:ItemId", `${inbox}:${src.id}`)), el("ComposeMail:Mime", enc.encode(mime))));
    expect(r.status).toBe(200);
    const jack = (await env.srv.store.getAccount("jack@example.test"))!;
    const got = (await inboxMessages(jack)).find((m) => m.subject === "Re: Thread start 16")!;
    const parsed = parseMime(await env.srv.store.readMessage(got.id));
    expect(headerValue(parsed.headers, "in-reply-to")).toBe("<orig-16@example.test>");
    expect(headerValue(parsed.headers, "references")!.split(/\s+/)).toEqual(["<root-16@example.test>", "<orig-16@example.test>"]);
    // what the device wrote itself is kept
    const own = mime.replace("MIME-Version", "In-Reply-To: <own@device>\r\nMIME-Version");
    await c.send("SmartReply", el("ComposeMail:SmartReply", el("ComposeMail:ClientId", "reply-16b"), el("ComposeMail:Source", el("ComposeMail:FolderId", inbox), el("ComposeMail:ItemId", `${inbox}:${src.id}`)), el("ComposeMail:Mime", enc.encode(own.replace("Re: Thread", "Re2: Thread")))));
    const got2 = (await inboxMessages(jack)).find((m) => m.subject === "Re2: Thread start 16")!;
    const p2 = parseMime(await env.srv.store.readMessage(got2.id));
    expect(headerValue(p2.headers, "in-reply-to")).toBe("<own@device>");
    expect(p2.headers.filter((h) => h.key === "in-reply-to").length).toBe(1);
  });
});

describe("HTTP and logging", () => {
  test("HTTP 449 carries its reason phrase on the wire (curl -v)", async () => {
    const r = await run("curl", [
      "-sk",
      "-v",
      "-X",
      "POST",
      "-u",
      `ivy@example.test:${PASS}`,
      "-H",
      "MS-ASProtocolVersion: 12.1",
      "-H",
      "Content-Type: application/vnd.ms-sync.wbxml",
      "--data-binary",
      "@-",
      `https://127.0.0.1:${env.port}/Microsoft-Server-ActiveSync?Cmd=FolderSync&User=ivy&DeviceId=FIX16CURL&DeviceType=Test`,
    ], { input: new Uint8Array([3, 1, 106, 0]) });
    expect(r.stderr).toMatch(/< HTTP\/1\.1 449 Retry after sending a PROVISION command/);
  });

  test("one debug line per request: command, device, version, HTTP status, command Status, duration", async () => {
    const lines: Record<string, unknown>[] = [];
    const ctx = env.srv.ctx as { log: Logger };
    const saved = ctx.log;
    ctx.log = createLogger("debug", {}, (l) => lines.push(JSON.parse(l) as Record<string, unknown>));
    try {
      const c = await device("FIX16-LOG", "14.1");
      await c.sync(c.folderByType(2));
    } finally {
      ctx.log = saved;
    }
    const reqs = lines.filter((l) => l.msg === "eas: request");
    expect(reqs.map((l) => l.cmd)).toEqual(["Provision", "Provision", "FolderSync", "Sync"]);
    const fs = reqs.find((l) => l.cmd === "FolderSync")!;
    expect(fs).toMatchObject({ level: "debug", device: "FIX16-LOG", version: "14.1", http: 200, status: "1" });
    expect(typeof fs.ms).toBe("number");
    expect(reqs.find((l) => l.cmd === "Sync")!.status).toBe("1");
  });
});

describe("groupware items through MoveItems, GetItemEstimate, ItemOperations and Search", () => {
  const journal = (uid: string, summary: string) =>
    enc.encode(`BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pillarbox tests//EN\r\nBEGIN:VJOURNAL\r\nUID:${uid}\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:${summary}\r\nDESCRIPTION:buy milk\r\nEND:VJOURNAL\r\nEND:VCALENDAR\r\n`);

  test("notes: estimate, fetch, move between notes folders keeps the item id; Search of a notes folder gets a status", async () => {
    const c = await device("FIX16-NOTES");
    const notes = c.folderByType(10);
    const nf = (await env.srv.store.getFolderById(Number(notes)))!;
    const item = await env.srv.store.createItem(nf.id, { itemClass: "notes", body: journal("note-16", "Shopping 16"), fields: { subject: "Shopping 16" } });
    await c.sync(notes);
    const est = await c.send("GetItemEstimate", el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", c.syncKeys.get(notes)!), el("GetItemEstimate:CollectionId", notes)))));
    const resp = kid(est.doc!, "GetItemEstimate:Response");
    expect(kidText(resp, "GetItemEstimate:Status")).toBe("1");
    expect(Number(kidText(kid(resp, "GetItemEstimate:Collection"), "GetItemEstimate:Estimate"))).toBeGreaterThanOrEqual(1);
    const first = await c.sync(notes);
    expect(commandsOf(first.coll).adds.map((a) => kidText(appData(a), "Notes:Subject"))).toContain("Shopping 16");

    const f = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSync:CollectionId", notes), el("AirSync:ServerId", `${notes}:${item.id}`))));
    const fetch = kid(kid(f.doc!, "ItemOperations:Response"), "ItemOperations:Fetch");
    expect(kidText(fetch, "ItemOperations:Status")).toBe("1");
    expect(kidText(fetch, "AirSync:Class")).toBe("Notes");
    expect(kidText(kid(fetch, "ItemOperations:Properties"), "Notes:Subject")).toBe("Shopping 16");

    const mk = await c.send("FolderCreate", el("FolderHierarchy:FolderCreate", el("FolderHierarchy:SyncKey", c.folderSyncKey), el("FolderHierarchy:ParentId", "0"), el("FolderHierarchy:DisplayName", "Archive notes 16"), el("FolderHierarchy:Type", "17")));
    expect(kidText(mk.doc!, "FolderHierarchy:Status")).toBe("1");
    c.folderSyncKey = kidText(mk.doc!, "FolderHierarchy:SyncKey")!;
    const other = kidText(mk.doc!, "FolderHierarchy:ServerId")!;
    await c.sync(other);
    const mv = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", `${notes}:${item.id}`), el("Move:SrcFldId", notes), el("Move:DstFldId", other))));
    const mr = kid(mv.doc!, "Move:Response");
    expect(kidText(mr, "Move:Status")).toBe("3");
    expect(kidText(mr, "Move:DstMsgId")).toBe(`${other}:${item.id}`);
    expect((await env.srv.store.getItem(item.id))!.folderId).toBe(Number(other));
    // MS-ASCMD §2.2.1.12: a Delete in the source at its next Sync, no duplicate Add in the destination
    expect(commandsOf((await c.sync(notes)).coll).deletes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([`${notes}:${item.id}`]);
    expect(commandsOf((await c.sync(other)).coll).adds.length).toBe(0);
    // a note cannot go to a mail folder
    const wrong = await c.send("MoveItems", el("Move:MoveItems", el("Move:Move", el("Move:SrcMsgId", `${other}:${item.id}`), el("Move:SrcFldId", other), el("Move:DstFldId", c.folderByType(2)))));
    expect(kidText(kid(wrong.doc!, "Move:Response"), "Move:Status")).toBe("2");

    // MS-ASCMD: mailbox Search is for email; a notes CollectionId gets a Store status, not a crash
    const s = await c.send("Search", el("Search:Search", el("Search:Store", el("Search:Name", "Mailbox"), el("Search:Query", el("Search:And", el("AirSync:CollectionId", other), el("Search:FreeText", "milk"))), el("Search:Options", el("Search:Range", "0-9")))));
    expect(kidText(kid(kid(s.doc!, "Search:Response"), "Search:Store"), "Search:Status")).toBe("2");
    // EmptyFolderContents of a notes folder deletes its notes; the device hears of it at its next Sync
    const empty = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:EmptyFolderContents", el("AirSync:CollectionId", other))));
    expect(kidText(kid(kid(empty.doc!, "ItemOperations:Response"), "ItemOperations:EmptyFolderContents"), "ItemOperations:Status")).toBe("1");
    expect(await env.srv.store.getItem(item.id)).toBeNull();
    expect(commandsOf((await c.sync(other)).coll).deletes.map((x) => kidText(x, "AirSync:ServerId"))).toEqual([`${other}:${item.id}`]);
    expect(text(kid(f.doc!, "ItemOperations:Status"))).toBe("1");
  });
});

test("every request matched xml2wbxml byte for byte and every response matched wbxml2xml", () => {
  const r = env.libwbxml();
  if (process.env.CI === "true" || r.requests + r.responses > 0) {
    console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped`);
    expect(r.mismatches).toEqual([]);
  }
});

describe("converters with malformed input (units)", () => {
  const data = (...kids: ReturnType<typeof el>[]) => el("AirSync:ApplicationData", kids);
  const mimeBody = (m: string | Uint8Array) => el("AirSyncBase:Body", el("AirSyncBase:Type", "4"), el("AirSyncBase:Data", m));

  test("draftMessage refuses what it cannot store as sent, with Status 6", () => {
    const bad: [string, ReturnType<typeof el>][] = [
      ["RTF body", data(el("AirSyncBase:Body", el("AirSyncBase:Type", "3"), el("AirSyncBase:Data", "e1xydGYxfQ==")))],
      ["unknown body type", data(el("AirSyncBase:Body", el("AirSyncBase:Type", "9"), el("AirSyncBase:Data", "x")))],
      ["empty MIME", data(mimeBody(""))],
      ["MIME without a header", data(mimeBody("\r\njust a body\r\n"))],
      ["a header line without a colon", data(mimeBody("this is no header\r\n\r\nbody"))],
      ["attachment without Content", data(el("AirSyncBase:Attachments", el("AirSyncBase:Add", el("AirSyncBase:ClientId", "1"), el("AirSyncBase:DisplayName", "a"), el("AirSyncBase:Method", "1"))))],
      ["attachment Method 9", data(el("AirSyncBase:Attachments", el("AirSyncBase:Add", el("AirSyncBase:ClientId", "1"), el("AirSyncBase:Content", new Uint8Array([1])), el("AirSyncBase:DisplayName", "a"), el("AirSyncBase:Method", "9"))))],
      ["attachments over the size limit", data(el("AirSyncBase:Attachments", el("AirSyncBase:Add", el("AirSyncBase:ClientId", "1"), el("AirSyncBase:Content", new Uint8Array(2048)), el("AirSyncBase:DisplayName", "big"), el("AirSyncBase:Method", "1"))))],
      ["a message over the size limit", data(mimeBody(`Subject: big\r\n\r\n${"x".repeat(5000)}`))],
    ];
    for (const [why, d] of bad) {
      let status: number | undefined;
      try {
        draftMessage(d, "ivy@example.test", Date.UTC(2026, 0, 1), 1024);
      } catch (e) {
        if (!(e instanceof DraftError)) throw e;
        status = e.status;
      }
      expect({ why, status }).toEqual({ why, status: 6 });
    }
  });

  test("draftMessage: header injection through the device's fields is flattened; a forged From is replaced", () => {
    const d = draftMessage(data(el("Email:To", "a@example.test\r\nBcc: evil@example.test"), el("Email:Subject", "hi\r\nX-Evil: 1")), "ivy@example.test", Date.UTC(2026, 0, 1), 1 << 20);
    const p = parseMime(d.raw);
    expect(headerValue(p.headers, "bcc")).toBeNull();
    expect(headerValue(p.headers, "x-evil")).toBeNull();
    const m = draftMessage(data(mimeBody("From: ceo@bank.test\r\nSender: ceo@bank.test\r\nSubject: s\r\n\r\nb")), "ivy@example.test", Date.UTC(2026, 0, 1), 1 << 20);
    const pm = parseMime(m.raw);
    expect(pm.headers.filter((h) => h.key === "from").map((h) => h.value)).toEqual(["ivy@example.test"]);
    expect(headerValue(pm.headers, "sender")).toBeNull();
    expect(headerValue(pm.headers, "date")).not.toBeNull();
  });

  test("addThreadHeaders: a source without Message-ID changes nothing; an absurd References chain is capped", () => {
    const reply = enc.encode("To: a@example.test\r\nSubject: re\r\n\r\nbody\r\n");
    expect(addThreadHeaders(reply, enc.encode("Subject: no id\r\n\r\nx\r\n"))).toBe(reply);
    const refs = Array.from({ length: 10_000 }, (_, i) => `<r${i}@example.test>`).join(" ");
    const out = parseMime(addThreadHeaders(reply, enc.encode(`Message-ID: <last@example.test>\r\nReferences: ${refs}\r\n\r\nx\r\n`)));
    const got = headerValue(out.headers, "references")!.split(/\s+/);
    expect(got.length).toBe(51);
    expect(got[got.length - 1]).toBe("<last@example.test>");
    expect(got[0]).toBe("<r9950@example.test>");
  });

  test("collection names for device folders are URL-safe and unique; the request log's command Status", () => {
    for (const n of ["Holidays & trips", "日本の予定", "../..", "%2F*", " spaced "]) {
      const name = collectionNameFor(n);
      expect(name).toMatch(/^[a-z0-9-]{1,40}-[0-9a-f]{8}$/);
      expect(collectionNameFor(n)).not.toBe(name);
    }
    expect(commandStatus(el("FolderHierarchy:FolderSync", el("FolderHierarchy:Status", "1")))).toBe("1");
    expect(commandStatus(el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:Status", "1")), el("AirSync:Collection", el("AirSync:Status", "3")))))).toBe("1,3");
    expect(commandStatus(undefined)).toBeUndefined();
  });
});
