/**
 * The webmail JSON API over real HTTPS: folders, paged and sorted lists,
 * conversations, reading and downloads, flags/move/delete/junk, drafts,
 * sending (reply-all, forwards), search, autocomplete, settings, live events.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import https from "node:https";
import PostalMime from "postal-mime";
import { ALICE, BOB, CAROL, ApiClient, mailboxMessages, startWebmailServer, waitFor } from "./helpers.ts";
import { createUser } from "../helpers/server.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;
const enc = new TextEncoder();

type Folder = { id: number; name: string; specialUse: string | null; total: number; unread: number };
type Row = { id: number; subject: string; flags: string[]; fromAddr: string; size: number; threadCount: number; threadUnread: number; hasAttachment: boolean; folderId?: number };

async function folders(c: ApiClient): Promise<Folder[]> {
  return (await c.ok<{ folders: Folder[] }>("GET", "/api/folders")).folders;
}
async function folder(c: ApiClient, name: string): Promise<Folder> {
  return (await folders(c)).find((f) => f.name === name || f.specialUse === name)!;
}
async function list(c: ApiClient, folderId: number, q = ""): Promise<{ total: number; items: Row[] }> {
  return c.ok("GET", `/api/folders/${folderId}/messages?${q}`);
}
async function append(email: string, folderName: string, raws: string[], flags: string[] = []): Promise<number[]> {
  const a = (await srv.store.getAccount(email))!;
  const f = (await srv.store.getFolder(a.id, folderName)) ?? (await srv.store.createFolder(a.id, folderName));
  const res = await srv.store.append(f.id, raws.map((r, i) => ({ raw: enc.encode(r), flags, internalDate: Date.UTC(2026, 0, 1) + i * 60_000 })));
  return res.map((r) => r.id);
}
const msg = (o: { from?: string; to?: string; subject: string; body?: string; id?: string; refs?: string; extra?: string }) =>
  `From: ${o.from ?? "Sender <sender@example.org>"}\r\nTo: ${o.to ?? ALICE.email}\r\nSubject: ${o.subject}\r\nMessage-ID: <${o.id ?? Math.random().toString(36).slice(2)}@example.org>\r\n${o.refs ? `In-Reply-To: ${o.refs.split(" ").pop()}\r\nReferences: ${o.refs}\r\n` : ""}${o.extra ?? ""}Date: Thu, 1 Jan 2026 10:00:00 +0000\r\n\r\n${o.body ?? "text"}\r\n`;

beforeAll(async () => {
  srv = await startWebmailServer({ limits: { maxMessageSize: 2 * 1024 * 1024 } });
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

describe("folders", () => {
  test("list with counts; create, rename and delete; system folders are protected", async () => {
    const fs = await folders(alice);
    expect(fs[0]!.name).toBe("INBOX");
    for (const use of ["\\Drafts", "\\Sent", "\\Trash", "\\Junk"]) expect(fs.some((f) => f.specialUse === use)).toBe(true);
    const created = await alice.send("POST", "/api/folders", { name: "Projects" });
    expect(created.status).toBe(201);
    const child = await alice.send("POST", "/api/folders", { name: "Pillarbox", parentId: created.json().id });
    expect(child.json().name).toBe("Projects/Pillarbox");
    expect((await alice.send("POST", "/api/folders", { name: "Projects" })).status).toBe(409);
    // '/' nests (issue 17 item 5): each level is checked on its own.
    const nested = await alice.send("POST", "/api/folders", { name: "a/b" });
    expect(nested.status).toBe(201);
    expect(nested.json().name).toBe("a/b");
    expect((await alice.send("POST", "/api/folders", { name: "a//b" })).status).toBe(400);
    const bad = await alice.send("POST", "/api/folders", { name: "a/b*" });
    expect(bad.status).toBe(400);
    expect(bad.json().message).toContain("can't contain /");
    const id = Number(created.json().id);
    expect((await alice.send("PATCH", `/api/folders/${id}`, { name: "Work" })).status).toBe(200);
    const names = (await folders(alice)).map((f) => f.name);
    expect(names).toContain("Work");
    expect(names).toContain("Work/Pillarbox");
    const inbox = await folder(alice, "INBOX");
    expect((await alice.send("DELETE", `/api/folders/${inbox.id}`)).status).toBe(400);
    expect((await alice.send("PATCH", `/api/folders/${inbox.id}`, { name: "X" })).status).toBe(400);
    const trash = await folder(alice, "\\Trash");
    expect((await alice.send("DELETE", `/api/folders/${trash.id}`)).status).toBe(400);
    const childId = (await folder(alice, "Work/Pillarbox")).id;
    expect((await alice.send("DELETE", `/api/folders/${childId}`)).status).toBe(200);
    expect((await alice.send("DELETE", `/api/folders/${id}`)).status).toBe(200);
    expect((await folders(alice)).some((f) => f.name === "Work")).toBe(false);
  });

  test("another account's folders and messages are invisible", async () => {
    const bobInbox = await folder(bob, "INBOX");
    const [id] = await append(BOB.email, "INBOX", [msg({ subject: "bob only", to: BOB.email })]);
    expect((await alice.get(`/api/folders/${bobInbox.id}/messages`)).status).toBe(404);
    expect((await alice.get(`/api/messages/${id}`)).status).toBe(404);
    expect((await alice.get(`/api/messages/${id}/raw`)).status).toBe(404);
    expect((await alice.send("POST", "/api/messages/delete", { ids: [id] })).status).toBe(200);
    expect(await srv.store.getMessageById(id!)).not.toBeNull();
  });
});

describe("message lists", () => {
  let listFolder: Folder;
  beforeAll(async () => {
    const raws = Array.from({ length: 250 }, (_, i) => msg({ subject: `Item ${String(i).padStart(3, "0")}`, from: `P${i % 7} <p${i % 7}@example.org>`, body: "x".repeat(i) }));
    await append(ALICE.email, "Paging", raws);
    listFolder = await folder(alice, "Paging");
  });

  test("pages by offset, newest first by default, with the total", async () => {
    const p1 = await list(alice, listFolder.id, "limit=100");
    expect(p1.total).toBe(250);
    expect(p1.items.length).toBe(100);
    expect(p1.items[0]!.subject).toBe("Item 249");
    const p3 = await list(alice, listFolder.id, "offset=200&limit=100");
    expect(p3.items.length).toBe(50);
    expect(p3.items[49]!.subject).toBe("Item 000");
    const all = new Set([...p1.items, ...(await list(alice, listFolder.id, "offset=100&limit=100")).items, ...p3.items].map((r) => r.id));
    expect(all.size).toBe(250);
  });

  test("sorts by date, sender, subject and size", async () => {
    expect((await list(alice, listFolder.id, "sort=date&order=asc&limit=1")).items[0]!.subject).toBe("Item 000");
    expect((await list(alice, listFolder.id, "sort=subject&order=asc&limit=1")).items[0]!.subject).toBe("Item 000");
    expect((await list(alice, listFolder.id, "sort=subject&order=desc&limit=1")).items[0]!.subject).toBe("Item 249");
    const bySize = (await list(alice, listFolder.id, "sort=size&order=desc&limit=3")).items;
    expect(bySize[0]!.subject).toBe("Item 249");
    expect(bySize[0]!.size).toBeGreaterThanOrEqual(bySize[1]!.size);
    const byFrom = (await list(alice, listFolder.id, "sort=from&order=asc&limit=250")).items.map((r) => r.fromAddr);
    expect(byFrom).toEqual([...byFrom].sort());
  });

  test("conversation view groups by thread with counts", async () => {
    await append(ALICE.email, "Threads", [
      msg({ subject: "Plan", id: "t1" }),
      msg({ subject: "Re: Plan", id: "t2", refs: "<t1@example.org>" }),
      msg({ subject: "Re: Plan", id: "t3", refs: "<t1@example.org> <t2@example.org>" }),
      msg({ subject: "Unrelated", id: "u1" }),
    ]);
    const f = await folder(alice, "Threads");
    const flat = await list(alice, f.id);
    expect(flat.total).toBe(4);
    const grouped = await list(alice, f.id, "threads=1");
    expect(grouped.total).toBe(2);
    const plan = grouped.items.find((r) => r.threadCount === 3)!;
    expect(plan).toBeDefined();
    expect(plan.threadUnread).toBe(3);
    const thread = await alice.ok<{ items: Row[] }>("GET", `/api/folders/${f.id}/threads/${(plan as unknown as { threadId: number }).threadId}`);
    expect(thread.items.map((r) => r.subject)).toEqual(["Plan", "Re: Plan", "Re: Plan"]);
  });
});

describe("reading and downloads", () => {
  let id: number;
  const pdf = Buffer.from("%PDF-1.4 fake pdf bytes \u0000\u0001\u0002", "latin1");
  beforeAll(async () => {
    const raw = [
      "From: Ann <ann@example.org>",
      `To: ${ALICE.email}`,
      "Subject: =?UTF-8?Q?R=C3=A9sum=C3=A9?=",
      "Message-ID: <read1@example.org>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="b1"',
      "",
      "--b1",
      'Content-Type: multipart/related; boundary="b2"',
      "",
      "--b2",
      "Content-Type: text/html; charset=utf-8",
      "",
      '<p>See <img src="cid:logo@x"></p>',
      "--b2",
      "Content-Type: image/png",
      "Content-ID: <logo@x>",
      "Content-Transfer-Encoding: base64",
      "",
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
      "--b2--",
      "--b1",
      "Content-Type: application/pdf",
      "Content-Disposition: attachment; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf",
      "Content-Transfer-Encoding: base64",
      "",
      pdf.toString("base64"),
      "--b1--",
      "",
    ].join("\r\n");
    [id] = (await append(ALICE.email, "INBOX", [raw])) as [number];
  });

  test("a message with decoded headers, HTML, inline image and attachment list", async () => {
    const m = await alice.ok<{ subject: string; html: string; from: { address: string }[]; attachments: { index: number; filename: string; type: string; inline: boolean; contentId: string | null }[] }>("GET", `/api/messages/${id}`);
    expect(m.subject).toBe("Résumé");
    expect(m.from[0]!.address).toBe("ann@example.org");
    expect(m.html).toContain("cid:logo@x");
    const inline = m.attachments.find((a) => a.contentId === "logo@x")!;
    expect(inline.inline).toBe(true);
    const file = m.attachments.find((a) => a.filename === "naïve résumé.pdf")!;
    expect(file.inline).toBe(false);
    expect(file.type).toBe("application/pdf");
  });

  test("attachment downloads have the right bytes, type and RFC 6266 name", async () => {
    const m = await alice.ok<{ attachments: { index: number; filename: string }[] }>("GET", `/api/messages/${id}`);
    const file = m.attachments.find((a) => a.filename === "naïve résumé.pdf")!;
    const r = await alice.get(`/api/messages/${id}/attachments/${file.index}`);
    expect(r.status).toBe(200);
    expect(r.headers["content-type"]).toBe("application/pdf");
    expect(r.headers["content-disposition"]).toBe(`attachment; filename="na_ve r_sum_.pdf"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf`);
    expect(r.headers["content-security-policy"]).toContain("sandbox");
    expect(r.body.equals(pdf)).toBe(true);
    expect((await alice.get(`/api/messages/${id}/attachments/99`)).status).toBe(404);
    const raw = await alice.get(`/api/messages/${id}/raw`);
    expect(raw.headers["content-type"]).toBe("message/rfc822");
    expect(raw.body.equals(Buffer.from(await srv.store.readMessage(id)))).toBe(true);
  });
});

describe("flags, moves, delete and junk", () => {
  test("mark read/unread and flag, with the folder's unread count following", async () => {
    const ids = await append(ALICE.email, "Flags", [msg({ subject: "f1" }), msg({ subject: "f2" })]);
    const f = await folder(alice, "Flags");
    expect(f.unread).toBe(2);
    const r = await alice.ok<{ updated: { id: number; flags: string[] }[] }>("POST", "/api/messages/flags", { ids, add: ["\\Seen", "\\Flagged"] });
    expect(r.updated.filter((u) => u.flags.includes("\\Seen")).length).toBe(2);
    expect((await folder(alice, "Flags")).unread).toBe(0);
    await alice.ok("POST", "/api/messages/flags", { ids: [ids[0]], remove: ["\\Seen"] });
    expect((await folder(alice, "Flags")).unread).toBe(1);
    expect((await alice.send("POST", "/api/messages/flags", { ids, add: ["bad flag with spaces"] })).status).toBe(400);
    expect((await alice.send("POST", "/api/messages/flags", { ids: "nope" })).status).toBe(400);
  });

  test("move keeps the message id; delete goes to Trash, then for good", async () => {
    const [id] = await append(ALICE.email, "Moves", [msg({ subject: "movable" })]);
    const dest = (await alice.ok<{ id: number }>("POST", "/api/folders", { name: "Dest" })).id;
    await alice.ok("POST", "/api/messages/move", { ids: [id], folderId: dest });
    const moved = await srv.store.getMessageById(id!);
    expect(moved!.folderId).toBe(dest);
    const del = await alice.ok<{ moved: number; deleted: number; trashId: number }>("POST", "/api/messages/delete", { ids: [id] });
    expect(del.moved).toBe(1);
    expect((await srv.store.getMessageById(id!))!.folderId).toBe(del.trashId);
    const again = await alice.ok<{ moved: number; deleted: number }>("POST", "/api/messages/delete", { ids: [id] });
    expect(again.deleted).toBe(1);
    expect(await srv.store.getMessageById(id!)).toBeNull();
  });

  test("junk moves to Junk with $Junk; not-junk moves back to the Inbox", async () => {
    const [id] = await append(ALICE.email, "INBOX", [msg({ subject: "buy pills" })]);
    const j = await alice.ok<{ folderId: number }>("POST", "/api/messages/junk", { ids: [id], junk: true });
    const m = (await srv.store.getMessageById(id!))!;
    expect(m.folderId).toBe(j.folderId);
    expect(m.flags).toContain("$Junk");
    await alice.ok("POST", "/api/messages/junk", { ids: [id], junk: false });
    const back = (await srv.store.getMessageById(id!))!;
    expect(back.folderId).toBe((await folder(alice, "INBOX")).id);
    expect(back.flags).toContain("$NotJunk");
    expect(back.flags).not.toContain("$Junk");
  });
});

describe("compose", () => {
  test("drafts are saved to Drafts and each save replaces the previous one", async () => {
    const d1 = await alice.ok<{ draftId: number }>("POST", "/api/drafts", { to: "someone@example.org", subject: "Draft v1", text: "one", html: null, bcc: "hidden@example.org" });
    const drafts = await folder(alice, "\\Drafts");
    expect((await list(alice, drafts.id)).total).toBe(1);
    const d2 = await alice.ok<{ draftId: number }>("POST", "/api/drafts", { draftId: d1.draftId, to: "someone@example.org", subject: "Draft v2", text: "two", html: null, bcc: "hidden@example.org" });
    const rows = (await list(alice, drafts.id)).items;
    expect(rows.map((r) => r.subject)).toEqual(["Draft v2"]);
    expect(rows[0]!.flags).toContain("\\Draft");
    // The draft keeps Bcc so it can be edited later.
    const edit = await alice.ok<{ bcc: string; draftId: number }>("GET", `/api/messages/${d2.draftId}/compose?mode=edit`);
    expect(edit.bcc).toBe("hidden@example.org");
    expect(edit.draftId).toBe(d2.draftId);
    // Sending it removes the draft and files a copy in Sent (without Bcc).
    await alice.ok("POST", "/api/send", { draftId: d2.draftId, to: BOB.email, subject: "From a draft", text: "sent", html: null, bcc: CAROL.email });
    expect((await list(alice, drafts.id)).total).toBe(0);
    const sent = await mailboxMessages(srv, ALICE, "Sent");
    const copy = sent.messages.map((b) => b.toString("utf8")).find((t) => t.includes("Subject: From a draft"))!;
    expect(copy).toBeDefined();
    expect(copy).not.toMatch(/^Bcc:/im);
    await waitFor(async () => (await mailboxMessages(srv, CAROL, "INBOX")).messages.some((b) => b.toString().includes("From a draft")), "Bcc recipient got it");
  });

  test("reply-all addresses everyone but me; the original is marked answered", async () => {
    const [id] = await append(ALICE.email, "INBOX", [msg({ from: "Dan <dan@example.org>", to: `${ALICE.email}, Erin <erin@example.org>`, extra: `Cc: ${BOB.email}, ${ALICE.email}\r\n`, subject: "Team lunch", id: "lunch" })]);
    const t = await alice.ok<{ to: string; cc: string; subject: string; inReplyTo: string; references: string[]; source: { id: number; mode: string } }>("GET", `/api/messages/${id}/compose?mode=replyAll`);
    expect(t.to).toBe("Dan <dan@example.org>, Erin <erin@example.org>");
    expect(t.cc).toBe(BOB.email);
    expect(t.subject).toBe("Re: Team lunch");
    expect(t.inReplyTo).toBe("<lunch@example.org>");
    const plain = await alice.ok<{ to: string; cc: string }>("GET", `/api/messages/${id}/compose?mode=reply`);
    expect(plain.to).toBe("Dan <dan@example.org>");
    expect(plain.cc).toBe("");
    await alice.ok("POST", "/api/send", { to: BOB.email, subject: t.subject, text: "count me in", html: null, inReplyTo: t.inReplyTo, references: t.references, source: t.source });
    expect((await srv.store.getMessageById(id!))!.flags).toContain("\\Answered");
  });

  test("forward inline carries the attachments; forward as attachment carries the whole message", async () => {
    const file = Buffer.from("attached file bytes");
    const raw = `From: Ann <ann@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Report\r\nMessage-ID: <rep@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="z"\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--z\r\nContent-Type: text/plain; name="data.txt"\r\nContent-Disposition: attachment; filename="data.txt"\r\n\r\n${file.toString()}\r\n--z--\r\n`;
    const [id] = await append(ALICE.email, "INBOX", [raw]);
    const fwd = await alice.ok<{ subject: string; text: string; attachments: { ref: unknown; name: string }[]; source: unknown }>("GET", `/api/messages/${id}/compose?mode=forward`);
    expect(fwd.subject).toBe("Fwd: Report");
    expect(fwd.text).toContain("---------- Forwarded message ----------");
    expect(fwd.attachments.map((a) => a.name)).toEqual(["data.txt"]);
    await alice.ok("POST", "/api/send", { to: CAROL.email, subject: fwd.subject, text: fwd.text, html: null, attachments: fwd.attachments.map((a) => a.ref), source: fwd.source });
    const asAtt = await alice.ok<{ attachments: { ref: unknown; name: string; type: string }[]; source: unknown }>("GET", `/api/messages/${id}/compose?mode=forwardAttachment`);
    expect(asAtt.attachments[0]!.type).toBe("message/rfc822");
    await alice.ok("POST", "/api/send", { to: CAROL.email, subject: "Fwd: Report (attached)", text: "see attached message", html: null, attachments: asAtt.attachments.map((a) => a.ref), source: asAtt.source });
    const inbox = await waitFor(async () => {
      const r = await mailboxMessages(srv, CAROL, "INBOX");
      return r.messages.filter((b) => b.toString().includes("Fwd: Report")).length >= 2 ? r : null;
    }, "forwards delivered");
    const parsed = await Promise.all(inbox.messages.map((b) => PostalMime.parse(b, { forceRfc822Attachments: true })));
    expect(parsed.find((m) => m.subject === "Fwd: Report")!.attachments.map((a) => a.filename)).toEqual(["data.txt"]);
    // Byte-exact through two MIME trips: download it as Carol.
    const carol = await ApiClient.signIn(srv.base, CAROL);
    const carolInbox = await folder(carol, "INBOX");
    const fwdRow = (await list(carol, carolInbox.id, "limit=500")).items.find((r) => r.subject === "Fwd: Report")!;
    const dl = await carol.get(`/api/messages/${fwdRow.id}/attachments/0`);
    expect(dl.body.equals(file)).toBe(true);
    expect(dl.headers["content-disposition"]).toContain('filename="data.txt"');
    const attFwd = parsed.find((m) => m.subject === "Fwd: Report (attached)")!;
    const eml = attFwd.attachments.find((a) => a.mimeType === "message/rfc822")!;
    const inner = await PostalMime.parse(eml.content as ArrayBuffer);
    expect(inner.subject).toBe("Report");
    expect(inner.messageId).toBe("<rep@example.org>");
    expect((await srv.store.getMessageById(id!))!.flags).toContain("$Forwarded");
  });

  test("uploads: stored per account, size-limited, usable once", async () => {
    const up = await alice.upload("notes.txt", "text/plain", enc.encode("hello upload"));
    expect(up.status).toBe(201);
    const { id } = up.json<{ id: string }>();
    // Bob can't use Alice's upload.
    const stolen = await bob.send("POST", "/api/send", { to: CAROL.email, subject: "x", text: "x", html: null, attachments: [{ upload: id }] });
    expect(stolen.status).toBe(410);
    const big = await alice.upload("big.bin", "application/octet-stream", new Uint8Array(3 * 1024 * 1024));
    expect(big.status).toBe(413);
    expect(big.json().message).toContain("too large");
    // Chunked, without Content-Length: refused while streaming, not buffered whole.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = https.request(new URL(srv.base + "/api/uploads"), {
        method: "POST",
        rejectUnauthorized: false,
        agent: false,
        headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "multipart/form-data; boundary=zz", "transfer-encoding": "chunked" },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", (e) => ((e as NodeJS.ErrnoException).code === "EPIPE" || (e as NodeJS.ErrnoException).code === "ECONNRESET" ? resolve(413) : reject(e)));
      req.write('--zz\r\nContent-Disposition: form-data; name="file"; filename="x.bin"\r\n\r\n');
      const chunk = Buffer.alloc(256 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < 4 * 1024 * 1024) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once("drain", pump);
        }
        req.end("\r\n--zz--\r\n");
      };
      pump();
    });
    expect(chunked).toBe(413);
  });

  test("refuses other senders, bad addresses and empty recipient lists in words", async () => {
    const forged = await alice.send("POST", "/api/send", { from: BOB.email, to: CAROL.email, subject: "x", text: "x", html: null });
    expect(forged.status).toBe(403);
    expect(forged.json().message).toBe("You are not allowed to send from that address.");
    const badAddr = await alice.send("POST", "/api/send", { to: "bob@", subject: "x", text: "x", html: null });
    expect(badAddr.status).toBe(400);
    expect(badAddr.json().message).toContain('"bob@" is not a valid email address');
    const none = await alice.send("POST", "/api/send", { to: "", subject: "x", text: "x", html: null });
    expect(none.status).toBe(400);
    expect(none.json().message).toBe("Add at least one recipient.");
  });
});

describe("search and autocomplete", () => {
  test("full-text search with sender, date and attachment filters", async () => {
    await append(ALICE.email, "Search", [
      msg({ subject: "quarterly numbers", body: "the marmalade budget", from: "Fin <fin@example.org>" }),
      msg({ subject: "other", body: "marmalade again", from: "Ops <ops@example.org>" }),
      `From: Fin <fin@example.org>\r\nTo: ${ALICE.email}\r\nSubject: with file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="q"\r\n\r\n--q\r\nContent-Type: text/plain\r\n\r\nmarmalade attached\r\n--q\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename="a.bin"\r\n\r\nxyz\r\n--q--\r\n`,
    ]);
    const all = await alice.ok<{ items: Row[] }>("GET", "/api/search?q=marmalade");
    expect(all.items.length).toBe(3);
    expect(all.items.every((r) => typeof r.folderId === "number")).toBe(true);
    const fromFin = await alice.ok<{ items: Row[] }>("GET", "/api/search?q=marmalade&from=fin@example.org");
    expect(fromFin.items.map((r) => r.subject).sort()).toEqual(["quarterly numbers", "with file"]);
    const withFile = await alice.ok<{ items: Row[] }>("GET", "/api/search?q=marmalade&attachment=1");
    expect(withFile.items.map((r) => r.subject)).toEqual(["with file"]);
    const future = await alice.ok<{ items: Row[] }>("GET", "/api/search?q=marmalade&after=2099-01-01");
    expect(future.items).toEqual([]);
    expect((await alice.get("/api/search?q=")).status).toBe(400);
  });

  test("autocomplete from the directory and from recent correspondents", async () => {
    await createUser(srv.store, "dave@example.test", "dave password 123", { displayName: "Dave Directory" });
    await createUser(srv.store, "dave@elsewhere.test", "dave password 123", { displayName: "Dave Elsewhere" });
    await srv.store.addAlias("sales@example.test", "dave@example.test");
    const byName = await alice.ok<{ items: { address: string; name: string; source: string }[] }>("GET", "/api/contacts?q=directory");
    expect(byName.items).toEqual([{ address: "dave@example.test", name: "Dave Directory", source: "directory" }]);
    // Only the user's own domain is the directory; aliases are listed too.
    const byAddr = await alice.ok<{ items: { address: string }[] }>("GET", "/api/contacts?q=dave");
    expect(byAddr.items.map((i) => i.address)).toEqual(["dave@example.test"]);
    const alias = await alice.ok<{ items: { address: string }[] }>("GET", "/api/contacts?q=sales");
    expect(alias.items.map((i) => i.address)).toEqual(["sales@example.test"]);
    await alice.ok("POST", "/api/send", { to: "Zed Outside <zed.outside@faraway.example>", subject: "hi", text: "hi", html: null });
    const recent = await alice.ok<{ items: { address: string; name: string; source: string }[] }>("GET", "/api/contacts?q=zed");
    expect(recent.items[0]).toMatchObject({ address: "zed.outside@faraway.example", name: "Zed Outside", source: "recent" });
  });
});

describe("settings", () => {
  test("display name and signature are saved; out-of-office is validated", async () => {
    await alice.ok("PUT", "/api/settings", { displayName: "Alice L.", signature: "Alice\nPillarbox Ltd" });
    const s = await alice.ok<{ displayName: string; signature: string; sendAs: string[] }>("GET", "/api/settings");
    expect(s.displayName).toBe("Alice L.");
    expect(s.signature).toBe("Alice\nPillarbox Ltd");
    expect(s.sendAs).toContain(ALICE.email);
    const noBody = await alice.send("PUT", "/api/settings", { oof: { enabled: true, subject: "Away", body: "" } });
    expect(noBody.status).toBe(400);
    const backwards = await alice.send("PUT", "/api/settings", { oof: { enabled: true, subject: "Away", body: "x", start: 2000, end: 1000 } });
    expect(backwards.status).toBe(400);
    await alice.ok("PUT", "/api/settings", { oof: { enabled: true, subject: "Away", body: "Back soon" } });
    expect((await srv.store.getAccount(ALICE.email))!.settings.oof).toMatchObject({ enabled: true, body: "Back soon" });
    expect((await alice.send("PUT", "/api/settings", { displayName: "two\nlines" })).status).toBe(400);
    // The From: of sent mail uses the display name.
    await alice.ok("POST", "/api/send", { to: BOB.email, subject: "named", text: "x", html: null });
    const got = await waitFor(async () => (await mailboxMessages(srv, BOB, "INBOX")).messages.find((b) => b.toString().includes("Subject: named")), "named message");
    expect((await PostalMime.parse(got)).from).toMatchObject({ name: "Alice L.", address: ALICE.email });
  });
});

describe("live events", () => {
  test("new mail, flag changes and expunges arrive on the event stream; sign-out closes it", async () => {
    const c = await ApiClient.signIn(srv.base, CAROL);
    const events: { event: string; data: Record<string, unknown> }[] = [];
    let ended = false;
    const req = https.request(new URL(srv.base + "/api/events"), { headers: { cookie: c.cookie, accept: "text/event-stream" }, rejectUnauthorized: false, agent: false }, (res) => {
      expect(res.headers["content-type"]).toContain("text/event-stream");
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i: number;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
        }
      });
      res.on("end", () => (ended = true));
      res.on("close", () => (ended = true));
    });
    req.end();
    await waitFor(async () => events.some((e) => e.event === "ready"), "ready event");
    const [id] = await append(CAROL.email, "INBOX", [msg({ subject: "live!", to: CAROL.email })]);
    await waitFor(async () => events.some((e) => e.data.type === "exists" && e.data.id === id), "exists event");
    await c.ok("POST", "/api/messages/flags", { ids: [id], add: ["\\Flagged"] });
    await waitFor(async () => events.some((e) => e.data.type === "flags" && JSON.stringify(e.data).includes("\\\\Flagged")), "flags event");
    await c.ok("POST", "/api/messages/delete", { ids: [id] });
    await waitFor(async () => events.some((e) => e.data.type === "expunge" && (e.data.ids as number[]).includes(id!)), "expunge event");
    await c.ok("POST", "/api/logout");
    await waitFor(async () => ended, "stream closed at sign-out");
    req.destroy();
  }, 30_000);
});
