/**
 * A 16.x Sync Change that edits a draft's content (MS-ASEMAIL 16.0 drafts,
 * MS-ASAIRS §2.2.2.2 Attachments/Add, §2.2.2.21 Attachments/Delete), over
 * real HTTPS with every request and response checked against libwbxml2-utils:
 * the edited draft replaces the stored one (the device gets Delete(old) and
 * Add(new) in the same response), IMAP sees exactly one draft, what cannot
 * be applied gets Status 6 and leaves the draft as it was, and a content
 * Change of a message outside Drafts (or below 16.0) stays refused.
 * Unit tests of editedDraft with odd MIME and malformed input follow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Account, MessageIndex } from "../../storage/api.ts";
import { parseMime } from "../../mail/index.ts";
import { headerValue } from "../../mail/headers.ts";
import { partContent } from "../../mail/text.ts";
import { run } from "../helpers/proc.ts";
import { analyseParts, fileReference } from "../../protocols/http/eas/email/convert.ts";
import { editedDraft } from "../../protocols/http/eas/email/draft-change.ts";
import { DraftError } from "../../protocols/http/eas/email/draft.ts";
import { appData, commandsOf, el, kid, kids, kidText, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";

let env: EasEnv;
let kim: Account;
const PASS = "kim-secret-16";
const MAX = 200_000; // a small message size limit, so "oversize" is cheap to send
const dec = new TextDecoder();
const enc = new TextEncoder();

beforeAll(async () => {
  env = await startEas({ withImap: true, config: { limits: { maxMessageSize: MAX } } });
  kim = await createUser(env.srv.store, "kim@example.test", PASS, { displayName: "Kim Kale" });
});
afterAll(async () => {
  await env.close();
});

async function device(id: string, version = "16.1"): Promise<EasClient> {
  const c = env.client({ user: "kim@example.test", pass: PASS, deviceId: id, version });
  await c.provision();
  await c.folderSync();
  return c;
}

async function primed(c: EasClient, folder: string): Promise<void> {
  expect((await c.sync(folder)).status).toBe("1");
  for (let i = 0; i < 20; i++) if (kid((await c.sync(folder)).coll, "AirSync:MoreAvailable") === undefined) return;
}

async function messagesIn(folderName: string): Promise<MessageIndex[]> {
  const f = (await env.srv.store.getFolder(kim.id, folderName))!;
  return env.srv.store.getMessages(f.id, (await env.srv.store.listMessages(f.id)).map((m) => m.uid));
}

/** Attachment names and decoded contents of a stored message, with its text body. */
async function contentOf(id: number) {
  const raw = await env.srv.store.readMessage(id);
  const parsed = parseMime(raw);
  const parts = analyseParts(parsed.root);
  return {
    raw,
    parsed,
    body: parts.plain ? dec.decode(partContent(raw, parts.plain)) : parts.html ? dec.decode(partContent(raw, parts.html)) : "",
    html: !!parts.html,
    attachments: parts.attachments.map((a) => ({ name: a.name, path: a.path, content: dec.decode(partContent(raw, a.part)) })),
  };
}

const addAtt = (clientId: string, name: string, content: string | Uint8Array) =>
  el("AirSyncBase:Add", el("AirSyncBase:ClientId", clientId), el("AirSyncBase:Content", typeof content === "string" ? enc.encode(content) : content), el("AirSyncBase:DisplayName", name), el("AirSyncBase:ContentType", "text/plain"), el("AirSyncBase:Method", "1"));
const delAtt = (ref: string) => el("AirSyncBase:Delete", el("AirSyncBase:FileReference", ref));

/** Runs a short python3 imaplib script against the server's IMAP listener. */
async function imap(body: string): Promise<string> {
  const script = `import imaplib\nM = imaplib.IMAP4('127.0.0.1', ${env.srv.port("IMAP")})\nM.login('kim@example.test', ${JSON.stringify(PASS)})\n${body}\nM.logout()\n`;
  const r = await run("python3", ["-c", script], { timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`imaplib failed: ${r.stderr}`);
  return r.stdout;
}

describe("a draft edited by Sync Change (16.1)", () => {
  let c: EasClient;
  let drafts: string;
  let sid = ""; // the draft's current ServerId on the device
  const refs = new Map<string, string>(); // attachment name -> FileReference, as the device holds them

  /** The Sync the device sends with one Change; returns the collection and what it must record. */
  async function change(data: ReturnType<typeof el>[], serverId = sid) {
    const s = await c.sync(drafts, { commands: [el("AirSync:Change", el("AirSync:ServerId", serverId), el("AirSync:ApplicationData", data))] });
    expect(s.status).toBe("1");
    return s.coll;
  }

  /** Records the new ServerId and FileReferences of an Add the server sent (the device's view). */
  function takeAdd(coll: ReturnType<typeof kid>): WElementLike {
    const { adds } = commandsOf(coll);
    expect(adds.length).toBe(1);
    sid = kidText(adds[0], "AirSync:ServerId")!;
    refs.clear();
    const data = appData(adds[0]!);
    for (const a of kids(kid(data, "AirSyncBase:Attachments"), "AirSyncBase:Attachment")) refs.set(kidText(a, "AirSyncBase:DisplayName")!, kidText(a, "AirSyncBase:FileReference")!);
    return data;
  }

  beforeAll(async () => {
    c = await device("DRAFTCHG161");
    drafts = c.folderByType(3);
    await primed(c, drafts);
  });

  test("Add a draft with one attachment", async () => {
    const s = await c.sync(drafts, {
      getChanges: false,
      commands: [
        el(
          "AirSync:Add",
          el("AirSync:ClientId", "d1"),
          el(
            "AirSync:ApplicationData",
            el("Email:To", "lee@example.test"),
            el("Email:Cc", "max@example.test"),
            el("Email:Subject", "Plan v1"),
            el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "first text")),
            el("AirSyncBase:Attachments", addAtt("a1", "first.txt", "first attachment")),
          ),
        ),
      ],
    });
    const add = kids(kid(s.coll, "AirSync:Responses"), "AirSync:Add")[0];
    expect(kidText(add, "AirSync:Status")).toBe("1");
    sid = kidText(add, "AirSync:ServerId")!;
    const att = kids(kid(kid(add, "AirSync:ApplicationData"), "AirSyncBase:Attachments"), "AirSyncBase:Attachment")[0];
    refs.set("first.txt", kidText(att, "AirSyncBase:FileReference")!);
    const [m] = await messagesIn("Drafts");
    expect((await messagesIn("Drafts")).length).toBe(1);
    expect(m!.subject).toBe("Plan v1");
  });

  test("Change of Subject and Body: one edited draft, the attachment and Cc kept; the same response gives Delete(old) + Add(new)", async () => {
    const old = sid;
    const coll = await change([el("Email:Subject", "Plan v2"), el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "second text"))]);
    // a successful Change that added no attachment has no Responses entry
    expect(kids(kid(coll, "AirSync:Responses"), "AirSync:Change")).toEqual([]);
    expect(commandsOf(coll).deletes.map((d) => kidText(d, "AirSync:ServerId"))).toEqual([old]);
    const data = takeAdd(coll);
    expect(sid).not.toBe(old);
    expect(kidText(data, "Email:Subject")).toBe("Plan v2");
    expect(kidText(data, "Email2:IsDraft")).toBe("1");
    expect(kidText(data, "Email:Cc")).toBe("max@example.test");
    expect([...refs.keys()]).toEqual(["first.txt"]);

    const all = await messagesIn("Drafts");
    expect(all.length).toBe(1);
    expect(`${drafts}:${all[0]!.id}`).toBe(sid);
    expect(all[0]!.flags).toContain("\\Draft");
    const got = await contentOf(all[0]!.id);
    expect(got.body).toBe("second text");
    expect(got.attachments.map((a) => [a.name, a.content])).toEqual([["first.txt", "first attachment"]]);
    expect(headerValue(got.parsed.headers, "to")).toBe("lee@example.test");
    expect(headerValue(got.parsed.headers, "from")).toBe("kim@example.test");
    // nothing more for the device: the next Sync is empty
    const next = await c.sync(drafts);
    const cmds = commandsOf(next.coll);
    expect(cmds.adds.length + cmds.deletes.length + cmds.changes.length).toBe(0);
  });

  test("Change adding a second attachment and deleting the first by FileReference; the Responses Change gives the new FileReference", async () => {
    const old = sid;
    const coll = await change([el("AirSyncBase:Attachments", delAtt(refs.get("first.txt")!), addAtt("a2", "second.txt", "second attachment"))]);
    const ch = kids(kid(coll, "AirSync:Responses"), "AirSync:Change")[0];
    expect(kidText(ch, "AirSync:ServerId")).toBe(old);
    expect(kidText(ch, "AirSync:Status")).toBe("1");
    const answered = kids(kid(kid(ch, "AirSync:ApplicationData"), "AirSyncBase:Attachments"), "AirSyncBase:Attachment");
    expect(answered.map((a) => kidText(a, "AirSyncBase:ClientId"))).toEqual(["a2"]);
    const newRef = kidText(answered[0], "AirSyncBase:FileReference")!;
    expect(commandsOf(coll).deletes.map((d) => kidText(d, "AirSync:ServerId"))).toEqual([old]);
    takeAdd(coll);
    expect([...refs.entries()]).toEqual([["second.txt", newRef]]);
    // the FileReference fetches the attachment (ItemOperations, MS-ASCMD §2.2.1.10)
    const fa = await c.send("ItemOperations", el("ItemOperations:ItemOperations", el("ItemOperations:Fetch", el("ItemOperations:Store", "Mailbox"), el("AirSyncBase:FileReference", newRef))));
    const fetched = kidText(kid(kid(kid(fa.doc!, "ItemOperations:Response"), "ItemOperations:Fetch"), "ItemOperations:Properties"), "ItemOperations:Data")!;
    expect(Buffer.from(fetched, "base64").toString()).toBe("second attachment");

    const all = await messagesIn("Drafts");
    expect(all.length).toBe(1);
    const got = await contentOf(all[0]!.id);
    expect(got.body).toBe("second text");
    expect(got.attachments.map((a) => [a.name, a.content])).toEqual([["second.txt", "second attachment"]]);
    expect(all[0]!.subject).toBe("Plan v2");
  });

  test("IMAP sees exactly one draft, with the edited subject and \\Draft", async () => {
    const out = await imap(`typ, d = M.select('Drafts')\nprint(d[0].decode())\nprint(M.fetch('1:*', '(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])'))`);
    expect(out.split("\n")[0]).toBe("1");
    expect(out).toContain("Plan v2");
    expect(out).toContain("\\\\Draft");
  });

  test("header edits alone keep the body byte for byte; an empty Cc clears it; Importance; Read and Flag of the same Change apply", async () => {
    const before = await contentOf((await messagesIn("Drafts"))[0]!.id);
    const bodyBefore = before.raw.subarray(before.parsed.root.bodyStart);
    const coll = await change([el("Email:To", "lee@example.test, ned@example.test"), el("Email:Cc", ""), el("Email:Importance", "2"), el("Email:Read", "0"), el("Email:Flag", el("Email:Status", "2"))]);
    takeAdd(coll);
    const [m] = await messagesIn("Drafts");
    const after = await contentOf(m!.id);
    expect(Buffer.compare(Buffer.from(after.raw.subarray(after.parsed.root.bodyStart)), Buffer.from(bodyBefore))).toBe(0);
    expect(headerValue(after.parsed.headers, "to")).toBe("lee@example.test, ned@example.test");
    expect(headerValue(after.parsed.headers, "cc")).toBeNull();
    expect(headerValue(after.parsed.headers, "importance")).toBe("high");
    expect(m!.flags).toEqual(expect.arrayContaining(["\\Draft", "\\Flagged"]));
    expect(m!.flags).not.toContain("\\Seen");
  });

  test("a Read-only Change edits nothing: same ServerId, no Delete/Add", async () => {
    const [m] = await messagesIn("Drafts");
    const coll = await change([el("Email:Read", "1")]);
    const cmds = commandsOf(coll);
    expect(cmds.adds.length + cmds.deletes.length).toBe(0);
    const [after] = await messagesIn("Drafts");
    expect(after!.id).toBe(m!.id);
    expect(after!.flags).toContain("\\Seen");
  });

  test("malformed Changes get Status 6 and leave the draft as it was", async () => {
    const [m] = await messagesIn("Drafts");
    const rawBefore = await env.srv.store.readMessage(m!.id);
    const otherItem = fileReference(m!.id + 1000, "2");
    const bad: [string, ReturnType<typeof el>[]][] = [
      ["FileReference of no attachment", [el("AirSyncBase:Attachments", delAtt(fileReference(m!.id, "9")))]],
      ["FileReference of another item", [el("AirSyncBase:Attachments", delAtt(otherItem))]],
      ["FileReference that is no reference", [el("AirSyncBase:Attachments", delAtt("garbage"))]],
      ["the text body named as an attachment", [el("AirSyncBase:Attachments", delAtt(fileReference(m!.id, "1")))]],
      ["too many attachments", [el("AirSyncBase:Attachments", Array.from({ length: 101 }, (_, i) => addAtt(`m${i}`, `m${i}.txt`, "x")))]],
      ["oversize", [el("AirSyncBase:Attachments", addAtt("big", "big.bin", new Uint8Array(MAX + 1000).fill(65)))]],
      ["RTF body", [el("AirSyncBase:Body", el("AirSyncBase:Type", "3"), el("AirSyncBase:Data", "e1xydGYxfQ=="))]],
      ["Importance 7", [el("Email:Importance", "7")]],
      ["a MIME body that is no message", [el("AirSyncBase:Body", el("AirSyncBase:Type", "4"), el("AirSyncBase:Data", "no header here at all"))]],
    ];
    for (const [why, data] of bad) {
      const coll = await change(data);
      const ch = kids(kid(coll, "AirSync:Responses"), "AirSync:Change")[0];
      expect([why, kidText(ch, "AirSync:Status")]).toEqual([why, "6"]);
      expect([why, commandsOf(coll).adds.length + commandsOf(coll).deletes.length]).toEqual([why, 0]);
    }
    const all = await messagesIn("Drafts");
    expect(all.map((x) => x.id)).toEqual([m!.id]);
    expect(Buffer.compare(Buffer.from(await env.srv.store.readMessage(m!.id)), Buffer.from(rawBefore))).toBe(0);
  });

  test("a Body of Type 4 replaces the whole message (its own attachment included)", async () => {
    const mime = [
      "To: ora@example.test",
      "Subject: Plan from MIME",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "mime text",
      "--b1",
      'Content-Type: application/octet-stream; name="m.bin"',
      'Content-Disposition: attachment; filename="m.bin"',
      "Content-Transfer-Encoding: base64",
      "",
      Buffer.from("mime attachment").toString("base64"),
      "--b1--",
      "",
    ].join("\r\n");
    takeAdd(await change([el("AirSyncBase:Body", el("AirSyncBase:Type", "4"), el("AirSyncBase:Data", mime))]));
    const all = await messagesIn("Drafts");
    expect(all.length).toBe(1);
    expect(all[0]!.subject).toBe("Plan from MIME");
    const got = await contentOf(all[0]!.id);
    expect(got.body).toBe("mime text");
    expect(got.attachments.map((a) => [a.name, a.content])).toEqual([["m.bin", "mime attachment"]]);
    expect(headerValue(got.parsed.headers, "from")).toBe("kim@example.test");
  });

  test("two Changes of the same draft in one request: the second finds the old ServerId gone (Status 8), the first edit stands", async () => {
    const old = sid;
    const s = await c.sync(drafts, {
      commands: [
        el("AirSync:Change", el("AirSync:ServerId", old), el("AirSync:ApplicationData", el("Email:Subject", "Plan v3"))),
        el("AirSync:Change", el("AirSync:ServerId", old), el("AirSync:ApplicationData", el("Email:Subject", "Plan v4"))),
      ],
    });
    const chs = kids(kid(s.coll, "AirSync:Responses"), "AirSync:Change");
    expect(chs.map((x) => kidText(x, "AirSync:Status"))).toEqual(["8"]);
    takeAdd(s.coll);
    expect((await messagesIn("Drafts")).map((m) => m.subject)).toEqual(["Plan v3"]);
  });

  test("a Change sent with GetChanges 0: the device learns Delete(old) + Add(new) from its next Sync, once", async () => {
    const old = sid;
    const s = await c.sync(drafts, { getChanges: false, commands: [el("AirSync:Change", el("AirSync:ServerId", old), el("AirSync:ApplicationData", el("Email:Subject", "Plan v3b")))] });
    expect(s.status).toBe("1");
    expect(commandsOf(s.coll).adds.length).toBe(0);
    const next = await c.sync(drafts);
    expect(commandsOf(next.coll).deletes.map((d) => kidText(d, "AirSync:ServerId"))).toEqual([old]);
    expect(kidText(takeAdd(next.coll), "Email:Subject")).toBe("Plan v3b");
    const again = commandsOf((await c.sync(drafts)).coll);
    expect(again.adds.length + again.deletes.length + again.changes.length).toBe(0);
    // back to the subject the 14.1 test below expects
    takeAdd(await change([el("Email:Subject", "Plan v3")]));
  });

  test("a content Change of an Inbox message is still Status 6, the message unchanged", async () => {
    await env.srv.store.deliver(message({ to: "kim@example.test", subject: "Inbox mail 16" }), [{ accountId: kim.id }]);
    const inbox = c.folderByType(2);
    await primed(c, inbox);
    const [m] = await messagesIn("INBOX");
    const s = await c.sync(inbox, { commands: [el("AirSync:Change", el("AirSync:ServerId", `${inbox}:${m!.id}`), el("AirSync:ApplicationData", el("Email:Subject", "hacked"), el("Email:Read", "1")))] });
    const ch = kids(kid(s.coll, "AirSync:Responses"), "AirSync:Change")[0];
    expect(kidText(ch, "AirSync:Status")).toBe("6");
    const after = await messagesIn("INBOX");
    expect(after.map((x) => [x.id, x.subject])).toEqual([[m!.id, "Inbox mail 16"]]);
  });

  test("below 16.0 a content Change of a draft is Status 6 (drafts are edited from 16.0, MS-ASEMAIL)", async () => {
    const c14 = await device("DRAFTCHG141", "14.1");
    const d = c14.folderByType(3);
    await primed(c14, d);
    const [m] = await messagesIn("Drafts");
    const s = await c14.sync(d, { commands: [el("AirSync:Change", el("AirSync:ServerId", `${d}:${m!.id}`), el("AirSync:ApplicationData", el("Email:Subject", "from 14.1")))] });
    expect(kidText(kids(kid(s.coll, "AirSync:Responses"), "AirSync:Change")[0], "AirSync:Status")).toBe("6");
    expect((await messagesIn("Drafts")).map((x) => [x.id, x.subject])).toEqual([[m!.id, "Plan v3"]]);
  });

  test("a draft whose content another protocol replaced in place (EWS keeps the item id) reaches the 16.1 device as a full Change with the new subject", async () => {
    await primed(c, drafts);
    const [m] = await messagesIn("Drafts");
    const raw = enc.encode(`From: kim@example.test\r\nTo: lee@example.test\r\nSubject: Edited elsewhere\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nnew text from EWS\r\n`);
    const r = await env.srv.store.replaceMessage(m!.id, { raw, flags: ["\\Draft"] });
    expect(r.id).toBe(m!.id);
    const s = await c.sync(drafts);
    const { adds, changes, deletes } = commandsOf(s.coll);
    expect(adds.length + deletes.length).toBe(0);
    expect(changes.map((ch) => kidText(ch, "AirSync:ServerId"))).toEqual([`${drafts}:${m!.id}`]);
    const data = appData(changes[0]!);
    expect(kidText(data, "Email:Subject")).toBe("Edited elsewhere");
    expect(kidText(data, "Email2:IsDraft")).toBe("1");
  });
});

test("every request matched xml2wbxml byte for byte and every response matched wbxml2xml", () => {
  const r = env.libwbxml();
  if (process.env.CI === "true" || r.requests + r.responses > 0) {
    console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped`);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.mismatches).toEqual([]);
  }
});

type WElementLike = ReturnType<typeof appData>;

describe("editedDraft (units)", () => {
  const data = (...k: ReturnType<typeof el>[]) => el("AirSync:ApplicationData", k);
  const FROM = "kim@example.test";
  const NOW = Date.UTC(2026, 11, 7, 12);
  const raw = (lines: string[]) => enc.encode(lines.join("\r\n"));
  const ALT = raw([
    "From: kim@example.test",
    "To: lee@example.test",
    "Subject: alt",
    "Message-ID: <alt-1@example.test>",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="m"',
    "",
    "--m",
    'Content-Type: multipart/related; boundary="r"',
    "",
    "--r",
    'Content-Type: multipart/alternative; boundary="a"',
    "",
    "--a",
    "Content-Type: text/plain",
    "",
    "plain words",
    "--a",
    "Content-Type: text/html",
    "",
    '<p>html words <img src="cid:pic@x"></p>',
    "--a--",
    "--r",
    "Content-Type: image/png",
    "Content-ID: <pic@x>",
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("PNGDATA").toString("base64"),
    "--r--",
    "--m",
    'Content-Type: application/pdf; name="doc.pdf"',
    'Content-Disposition: attachment; filename="doc.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    Buffer.from("PDFDATA").toString("base64"),
    "--m--",
    "",
  ]);
  const attsOf = (r: Uint8Array) => analyseParts(parseMime(r).root).attachments.map((a) => a.name + "=" + dec.decode(partContent(r, a.part)));

  test("deleting a nested inline picture keeps the alternative body and the other attachment; Message-ID kept", () => {
    const refPic = fileReference(5, "1.2");
    const out = editedDraft(ALT, data(el("AirSyncBase:Attachments", delAtt(refPic))), 5, FROM, NOW, 1e6);
    const p = parseMime(out.raw);
    const parts = analyseParts(p.root);
    expect(dec.decode(partContent(out.raw, parts.plain!))).toBe("plain words");
    expect(dec.decode(partContent(out.raw, parts.html!))).toContain("html words");
    expect(attsOf(out.raw)).toEqual(["doc.pdf=PDFDATA"]);
    expect(headerValue(p.headers, "message-id")).toBe("<alt-1@example.test>");
    expect(headerValue(p.headers, "subject")).toBe("alt");
  });

  test("a new Body drops the old text but keeps nested attachments as parts of their own; added attachment paths match analyseParts", () => {
    const out = editedDraft(ALT, data(el("AirSyncBase:Body", el("AirSyncBase:Type", "2"), el("AirSyncBase:Data", "<b>new</b>")), el("AirSyncBase:Attachments", addAtt("n1", "n.txt", "NEW"))), 5, FROM, NOW, 1e6);
    const parts = analyseParts(parseMime(out.raw).root);
    expect(parts.plain).toBeNull();
    expect(dec.decode(partContent(out.raw, parts.html!))).toBe("<b>new</b>");
    expect(attsOf(out.raw)).toEqual(["attachment-2.png=PNGDATA", "doc.pdf=PDFDATA", "n.txt=NEW"]);
    expect(out.attachmentPaths).toEqual([parts.attachments.find((a) => a.name === "n.txt")!.path]);
  });

  test("deleting every attachment of a single-part-plus-attachment draft leaves a plain message; deleting all content leaves an empty text body", () => {
    const simple = raw(["From: a@b", "Subject: s", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="q"', "", "--q", "Content-Type: text/plain", "", "hello", "--q", 'Content-Type: text/plain; name="t.txt"', 'Content-Disposition: attachment; filename="t.txt"', "", "T", "--q--", ""]);
    const out = editedDraft(simple, data(el("AirSyncBase:Attachments", delAtt(fileReference(1, "2")))), 1, FROM, NOW, 1e6);
    const p = parseMime(out.raw);
    expect(p.root.type + "/" + p.root.subtype).toBe("text/plain");
    expect(dec.decode(partContent(out.raw, p.root))).toBe("hello");
    const onlyAtt = raw(["From: a@b", "Subject: s", "MIME-Version: 1.0", 'Content-Type: application/pdf; name="x.pdf"', "Content-Transfer-Encoding: base64", "", Buffer.from("X").toString("base64"), ""]);
    const empty = editedDraft(onlyAtt, data(el("AirSyncBase:Attachments", delAtt(fileReference(1, "1")))), 1, FROM, NOW, 1e6);
    const e = parseMime(empty.raw);
    expect(e.root.type + "/" + e.root.subtype).toBe("text/plain");
    expect(analyseParts(e.root).attachments).toEqual([]);
  });

  test("header injection through To/Subject is flattened; From is the account, once; an empty Subject clears it", () => {
    const out = editedDraft(ALT, data(el("Email:To", "lee@example.test\r\nBcc: spy@evil.test"), el("Email:Subject", "")), 5, FROM, NOW, 1e6);
    const p = parseMime(out.raw);
    expect(headerValue(p.headers, "bcc")).toBeNull();
    expect(headerValue(p.headers, "to")).toBe("lee@example.test Bcc: spy@evil.test");
    expect(headerValue(p.headers, "subject")).toBeNull();
    expect(p.headers.filter((h) => h.key === "from").map((h) => h.value)).toEqual([FROM]);
  });

  test("malformed input is a DraftError with Status 6", () => {
    const cases: [string, ReturnType<typeof el>][] = [
      ["reference to a multipart", data(el("AirSyncBase:Attachments", delAtt(fileReference(5, "1"))))],
      ["reference to the text body", data(el("AirSyncBase:Attachments", delAtt(fileReference(5, "1.1.1"))))],
      ["reference with no FileReference", data(el("AirSyncBase:Attachments", el("AirSyncBase:Delete")))],
      ["too many deletes", data(el("AirSyncBase:Attachments", Array.from({ length: 101 }, () => delAtt(fileReference(5, "2")))))],
      ["Body Type 9", data(el("AirSyncBase:Body", el("AirSyncBase:Type", "9"), el("AirSyncBase:Data", "x")))],
      ["oversize", data(el("AirSyncBase:Body", el("AirSyncBase:Type", "1"), el("AirSyncBase:Data", "y".repeat(5000))))],
      ["attachment Method 9", data(el("AirSyncBase:Attachments", el("AirSyncBase:Add", el("AirSyncBase:ClientId", "z"), el("AirSyncBase:Content", enc.encode("z")), el("AirSyncBase:Method", "9"))))],
    ];
    for (const [why, d] of cases) {
      let err: unknown = null;
      try {
        editedDraft(ALT, d, 5, FROM, NOW, 3000);
      } catch (e) {
        err = e;
      }
      expect([why, err instanceof DraftError ? (err as DraftError).status : String(err)]).toEqual([why, 6]);
    }
  });

  test("a stored multipart/mixed whose boundary never occurs keeps its bytes when an attachment is added", () => {
    const broken = raw(["From: a@b", "Subject: s", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="nowhere"', "", "just some text", ""]);
    const out = editedDraft(broken, data(el("AirSyncBase:Attachments", addAtt("x", "x.txt", "X"))), 1, FROM, NOW, 1e6);
    expect(dec.decode(out.raw)).toContain("just some text");
    expect(attsOf(out.raw)).toContain("x.txt=X");
  });

  test("100 kept attachments plus one added is refused (the count after the edit is bounded)", () => {
    const lines = ["From: a@b", "Subject: many", "MIME-Version: 1.0", 'Content-Type: multipart/mixed; boundary="q"', "", "--q", "Content-Type: text/plain", "", "body"];
    for (let i = 0; i < 100; i++) lines.push("--q", `Content-Type: text/plain; name="f${i}.txt"`, `Content-Disposition: attachment; filename="f${i}.txt"`, "", `F${i}`);
    lines.push("--q--", "");
    const many = raw(lines);
    expect(() => editedDraft(many, data(el("AirSyncBase:Attachments", addAtt("x", "x.txt", "X"))), 1, FROM, NOW, 1e6)).toThrow(DraftError);
    // deleting one while adding one stays within the bound
    const ok = editedDraft(many, data(el("AirSyncBase:Attachments", delAtt(fileReference(1, "2")), addAtt("x", "x.txt", "X"))), 1, FROM, NOW, 1e6);
    expect(attsOf(ok.raw).length).toBe(100);
    expect(ok.attachmentPaths).toEqual(["101"]);
  });
});
