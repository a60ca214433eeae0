/**
 * The mail part of the JSON API: folders, message lists, reading,
 * attachments, flags, moves, delete/junk and search.
 */
import type { Hono } from "hono";
import type { ReadableMessage as Email } from "../../../mail/read.ts";
import type { ServerContext } from "../../../src/context.ts";
import type { Account, Folder, MessageIndex, SpecialUse } from "../../../storage/api.ts";
import { StoreError } from "../../../storage/api.ts";
import type { WebmailStore, ListSort } from "../../../storage/webmail-store.ts";
import type { AppEnv } from "../types.ts";
import { ApiError, apiError, attachmentContentType, contentDisposition, intParam, isIdArray, readJson } from "./util.ts";
import { decodeBody, listAttachments, parseMessage, toReadView, type AttachmentInfo } from "./mime.ts";
import type { MessageView } from "./api-types.ts";
import { dateStartMs, zoneOf } from "../../../src/groupware/model/time.ts";
import { isEmptyQuery, parseSearchQuery, SearchQueryError, type SearchQuery } from "./search-query.ts";
import { runSearch } from "./search-run.ts";
import { hasInvitationPart } from "./invitation-read.ts";

export interface MailApiDeps {
  ctx: ServerContext;
  wstore: WebmailStore;
  parsed: ParsedCache;
}

// RFC 6154 special-use folders in the order a person expects them under INBOX.
const SPECIAL_ORDER: (SpecialUse | null)[] = ["\\Drafts", "\\Sent", "\\Archive", "\\Junk", "\\Trash"];
const DEFAULT_NAMES: Partial<Record<SpecialUse, string>> = {
  "\\Drafts": "Drafts",
  "\\Sent": "Sent",
  "\\Trash": "Trash",
  "\\Junk": "Junk",
  "\\Archive": "Archive",
};

/** Item property naming the folder a message was deleted from (what Restore moves it back to). */
export const RESTORE_PROP = "webmail.restoreFolderId";

/** System flags and keywords a client may set (RFC 9051 §2.3.2; $Junk/$NotJunk/$Forwarded: RFC 5788 registry). */
const FLAG_RE = /^(\\(Seen|Answered|Flagged|Draft)|\$?[A-Za-z0-9_.-]{1,64})$/;

/** A small LRU of parsed messages so attachment and inline-image requests do not re-parse. */
export class ParsedCache {
  private map = new Map<number, { email: Email; size: number }>();
  private total = 0;
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}
  async get(ctx: ServerContext, msg: MessageIndex): Promise<Email> {
    const hit = this.map.get(msg.id);
    if (hit) {
      this.map.delete(msg.id);
      this.map.set(msg.id, hit);
      return hit.email;
    }
    const raw = await ctx.store.readMessage(msg.id);
    const email = await parseMessage(raw);
    if (raw.byteLength <= this.maxBytes / 4) {
      this.map.set(msg.id, { email, size: raw.byteLength });
      this.total += raw.byteLength;
      while (this.total > this.maxBytes) {
        const [k, v] = this.map.entries().next().value as [number, { size: number }];
        this.map.delete(k);
        this.total -= v.size;
      }
    }
    return email;
  }
}

export async function ownedFolder(ctx: ServerContext, account: Account, folderId: number): Promise<Folder> {
  const f = Number.isSafeInteger(folderId) && folderId > 0 ? await ctx.store.getFolderById(folderId, "mail") : null;
  if (!f || f.accountId !== account.id) throw new ApiError(404, "no_folder", "That folder no longer exists.");
  return f;
}

export async function ownedMessage(ctx: ServerContext, account: Account, id: number): Promise<MessageIndex> {
  const m = Number.isSafeInteger(id) && id > 0 ? await ctx.store.getMessageById(id) : null;
  if (!m) throw new ApiError(404, "no_message", "That message no longer exists. It may have been moved or deleted from another device.");
  const f = await ctx.store.getFolderById(m.folderId);
  if (!f || f.accountId !== account.id) throw new ApiError(404, "no_message", "That message no longer exists.");
  return m;
}

/** The account's folder with a special use, created with its usual name when missing. */
export async function specialFolder(ctx: ServerContext, accountId: number, use: SpecialUse): Promise<Folder> {
  const folders = await ctx.store.listFolders(accountId);
  const f = folders.find((x) => x.specialUse === use);
  if (f) return f;
  const name = DEFAULT_NAMES[use] ?? use.slice(1);
  const byName = folders.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (byName) return byName;
  try {
    return await ctx.store.createFolder(accountId, name, { specialUse: use });
  } catch (err) {
    if (err instanceof StoreError && err.code === "ALREADYEXISTS") {
      const again = await ctx.store.getFolder(accountId, name);
      if (again) return again;
    }
    throw err;
  }
}

export function sortFolders(folders: Folder[]): Folder[] {
  const rank = (f: Folder) => (f.name === "INBOX" ? -1 : f.specialUse && SPECIAL_ORDER.includes(f.specialUse) ? SPECIAL_ORDER.indexOf(f.specialUse) : 100);
  return [...folders].sort((a, b) => {
    const ta = a.name.split("/")[0] === a.name ? rank(a) : rank({ ...a, name: a.name.split("/")[0]! } as Folder);
    const tb = b.name.split("/")[0] === b.name ? rank(b) : rank({ ...b, name: b.name.split("/")[0]! } as Folder);
    if (ta !== tb) return ta - tb;
    return a.name.localeCompare(b.name, undefined, { sensitivity: "base" });
  });
}

/** One line of the message list as the client gets it. */
export interface ListRow {
  id: number;
  uid: number;
  flags: string[];
  internalDate: number;
  sentDate: number | null;
  size: number;
  subject: string;
  fromName: string;
  fromAddr: string;
  toAddr: string;
  preview: string;
  hasAttachment: boolean;
  threadId: number;
  threadCount: number;
  threadUnread: number;
}

function rowJson(r: ListRow & { folderId?: number }) {
  return {
    id: r.id,
    uid: r.uid,
    folderId: r.folderId,
    flags: r.flags,
    date: r.sentDate ?? r.internalDate,
    internalDate: r.internalDate,
    size: r.size,
    subject: r.subject,
    fromName: r.fromName,
    fromAddr: r.fromAddr,
    toAddr: r.toAddr,
    preview: r.preview,
    hasAttachment: r.hasAttachment,
    threadId: r.threadId,
    threadCount: r.threadCount,
    threadUnread: r.threadUnread,
  };
}

/** Groups message ids by folder (a selection can span folders in search results). */
async function byFolder(ctx: ServerContext, account: Account, ids: number[]): Promise<Map<number, MessageIndex[]>> {
  const out = new Map<number, MessageIndex[]>();
  const folderOk = new Map<number, boolean>();
  for (const id of ids) {
    const m = await ctx.store.getMessageById(id);
    if (!m) continue; // already gone (another client): nothing to do for it
    let ok = folderOk.get(m.folderId);
    if (ok === undefined) {
      const f = await ctx.store.getFolderById(m.folderId);
      ok = !!f && f.accountId === account.id;
      folderOk.set(m.folderId, ok);
    }
    if (!ok) continue;
    const list = out.get(m.folderId) ?? [];
    list.push(m);
    out.set(m.folderId, list);
  }
  return out;
}

export function mountMailApi(app: Hono<AppEnv>, deps: MailApiDeps): void {
  const { ctx, wstore } = deps;
  const store = ctx.store;

  // ---------------------------------------------------------------- folders
  app.get("/api/folders", async (c) => {
    const account = c.get("account");
    const folders = sortFolders(await store.listFolders(account.id, { itemClass: "mail" }));
    const out = [];
    for (const f of folders) {
      const st = await store.folderStatus(f.id);
      out.push({ id: f.id, name: f.name, parentId: f.parentId, specialUse: f.specialUse, subscribed: f.subscribed, total: st.messages, unread: st.unseen, size: st.size });
    }
    const q = await store.quota(account.id);
    c.header("cache-control", "no-store");
    return c.json({ folders: out, quota: q });
  });

  app.post("/api/folders", async (c) => {
    const body = await readJson<{ name?: unknown; parentId?: unknown }>(c);
    const account = c.get("account");
    // A name with '/' (the hierarchy delimiter) makes nested folders: each level is checked on its own and the
    // store creates missing parents (RFC 9051 §6.3.4, CREATE of a name with superiors).
    const raw = typeof body.name === "string" ? body.name : "";
    const levels = raw.split("/").map((x) => x.trim());
    if (levels.length > 20) throw new ApiError(400, "bad_name", "That folder is nested too deeply.");
    if (levels.length > 1 && levels.some((x) => !x)) throw new ApiError(400, "bad_name", "Each level of a folder name needs a name (like Projects/2026).");
    let name = levels.map((x, i) => (i === 0 && levels.length > 1 && x.toUpperCase() === "INBOX" ? "INBOX" : cleanFolderName(x))).join("/");
    if (name.length > 1000) throw new ApiError(400, "bad_name", "That folder name is too long.");
    if (typeof body.parentId === "number") {
      const parent = await ownedFolder(ctx, account, body.parentId);
      name = `${parent.name}/${name}`;
    }
    const f = await store.createFolder(account.id, name);
    return c.json({ id: f.id, name: f.name }, 201);
  });

  app.patch("/api/folders/:id", async (c) => {
    const account = c.get("account");
    const f = await ownedFolder(ctx, account, Number(c.req.param("id")));
    const body = await readJson<{ name?: unknown }>(c);
    const leaf = cleanFolderName(body.name);
    if (f.name === "INBOX") throw new ApiError(400, "cannot", "The Inbox can't be renamed.");
    const parent = f.name.includes("/") ? f.name.slice(0, f.name.lastIndexOf("/") + 1) : "";
    await store.renameFolder(account.id, f.name, parent + leaf);
    return c.json({ ok: true, name: parent + leaf });
  });

  app.delete("/api/folders/:id", async (c) => {
    const account = c.get("account");
    const f = await ownedFolder(ctx, account, Number(c.req.param("id")));
    if (f.name === "INBOX" || f.specialUse) throw new ApiError(400, "cannot", "This folder is needed by the mail system and can't be deleted.");
    await store.deleteFolder(account.id, f.name);
    return c.json({ ok: true });
  });

  // ---------------------------------------------------------------- lists
  app.get("/api/folders/:id/messages", async (c) => {
    const account = c.get("account");
    const f = await ownedFolder(ctx, account, Number(c.req.param("id")));
    const sortRaw = c.req.query("sort") ?? "date";
    const sort: ListSort = (["date", "from", "subject", "size"] as const).includes(sortRaw as ListSort) ? (sortRaw as ListSort) : "date";
    const desc = (c.req.query("order") ?? (sort === "date" || sort === "size" ? "desc" : "asc")) !== "asc";
    const offset = intParam(c.req.query("offset"), 0, 0, 10_000_000);
    const limit = intParam(c.req.query("limit"), 100, 1, 500);
    const threads = c.req.query("threads") === "1";
    const page = await wstore.listMessagePage(f.id, { sort, desc, offset, limit, threads });
    const byUid = new Map((await store.getMessages(f.id, page.entries.map((e) => e.uid).sort((a, b) => a - b))).map((m) => [m.uid, m]));
    const items = [];
    for (const e of page.entries) {
      const m = byUid.get(e.uid);
      if (!m) continue; // expunged between the two reads
      items.push(rowJson({ ...indexToRow(m), threadCount: e.threadCount, threadUnread: threads ? e.threadUnread : m.flags.includes("\\Seen") ? 0 : 1 }));
    }
    c.header("cache-control", "no-store");
    return c.json({ folderId: f.id, total: page.total, offset, items });
  });

  app.get("/api/folders/:id/threads/:threadId", async (c) => {
    const account = c.get("account");
    const f = await ownedFolder(ctx, account, Number(c.req.param("id")));
    const uids = await wstore.listThread(f.id, intParam(c.req.param("threadId"), 0, 0, Number.MAX_SAFE_INTEGER));
    const msgs = await store.getMessages(f.id, [...uids].sort((a, b) => a - b));
    msgs.sort((a, b) => a.internalDate - b.internalDate || a.uid - b.uid);
    return c.json({ items: msgs.map((m) => rowJson(indexToRow(m))) });
  });

  // ---------------------------------------------------------------- reading
  app.get("/api/messages/:id", async (c) => {
    const account = c.get("account");
    const m = await ownedMessage(ctx, account, Number(c.req.param("id")));
    const email = await deps.parsed.get(ctx, m);
    const view = toReadView(email, m.root);
    c.header("cache-control", "no-store");
    return c.json({
      id: m.id,
      folderId: m.folderId,
      uid: m.uid,
      flags: m.flags,
      size: m.size,
      threadId: m.threadId,
      internalDate: m.internalDate,
      ...view,
      // From the stored MIME tree (no read): the reader asks for the invitation card only then.
      hasInvitation: hasInvitationPart(m.root),
    } satisfies MessageView);
  });

  app.get("/api/messages/:id/raw", async (c) => {
    const account = c.get("account");
    const m = await ownedMessage(ctx, account, Number(c.req.param("id")));
    const raw = await store.readMessage(m.id);
    const name = (m.subject || "message").replace(/[\\/:*?"<>|\u0000-\u001f]/g, "_").slice(0, 100) + ".eml";
    return new Response(raw as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": "message/rfc822",
        "content-disposition": contentDisposition(c.req.query("view") === "1" ? "inline" : "attachment", name),
        "cache-control": "private, no-store",
        "content-security-policy": "default-src 'none'; sandbox",
      },
    });
  });

  app.get("/api/messages/:id/attachments/:index", async (c) => {
    const account = c.get("account");
    const m = await ownedMessage(ctx, account, Number(c.req.param("id")));
    const { info: view, bytes, charset } = await attachmentContent(deps, m, Number(c.req.param("index")));
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        // The sender chose the declared type: only inert types are kept, the rest is opaque bytes, so an
        // attachment never runs as script, HTML or SVG on our origin (issue 13 item 15).
        "content-type": attachmentContentType(view.type, charset),
        // Always a download (RFC 6266 §4.2, filename* per RFC 8187); the app shows inline pictures itself.
        "content-disposition": contentDisposition("attachment", view.filename),
        "content-length": String(bytes.byteLength),
        "cache-control": "private, max-age=3600",
        // Never sniffed into something else (Fetch §"X-Content-Type-Options"), and if opened anyway it is a
        // sandboxed document that may load nothing (CSP3 sandbox directive).
        "x-content-type-options": "nosniff",
        "content-security-policy": "sandbox; default-src 'none'; frame-ancestors 'none'",
      },
    });
  });

  // ---------------------------------------------------------------- actions
  app.post("/api/messages/flags", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown; add?: unknown; remove?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const add = flagList(body.add);
    const remove = flagList(body.remove);
    const groups = await byFolder(ctx, account, body.ids);
    const updated: { id: number; flags: string[] }[] = [];
    for (const [folderId, msgs] of groups) {
      const uids = msgs.map((m) => m.uid).sort((a, b) => a - b);
      if (add.length) for (const u of (await store.storeFlags(folderId, uids, "add", add)).updated) updated.push({ id: u.id, flags: u.flags });
      if (remove.length) for (const u of (await store.storeFlags(folderId, uids, "remove", remove)).updated) updated.push({ id: u.id, flags: u.flags });
    }
    return c.json({ ok: true, updated });
  });

  app.post("/api/messages/move", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown; folderId?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const dest = await ownedFolder(ctx, account, Number(body.folderId));
    const { moved, undo } = await moveAll(ctx, account, body.ids, dest);
    return c.json({ ok: true, moved, undo });
  });

  app.post("/api/messages/delete", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown; permanent?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const trash = await specialFolder(ctx, account.id, "\\Trash");
    const groups = await byFolder(ctx, account, body.ids);
    let deleted = 0;
    let moved = 0;
    const undo: UndoMove[] = [];
    for (const [folderId, msgs] of groups) {
      const uids = msgs.map((m) => m.uid).sort((a, b) => a - b);
      if (folderId === trash.id || body.permanent === true) {
        // Already in Trash (or asked explicitly): remove for good (RFC 9051 §6.4.3 semantics via \Deleted + expunge of these UIDs only).
        await store.storeFlags(folderId, uids, "add", ["\\Deleted"], { silent: true });
        deleted += (await store.expunge(folderId, uids)).length;
      } else {
        // Remember where each message came from, so Restore (in Trash) can put it back there; a move copies the
        // property bag along with the message (storage/messages.ts).
        for (const m of msgs) await store.setItemProps?.(m.id, { [RESTORE_PROP]: folderId });
        const { mapping } = await store.move(folderId, uids, trash.id);
        moved += mapping.length;
        undo.push(...(await undoMoves(ctx, mapping, folderId, trash.id)));
      }
    }
    return c.json({ ok: true, moved, deleted, trashId: trash.id, undo });
  });

  app.post("/api/messages/junk", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown; junk?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const junk = body.junk !== false;
    const dest = junk ? await specialFolder(ctx, account.id, "\\Junk") : await inbox(ctx, account.id);
    const groups = await byFolder(ctx, account, body.ids);
    for (const [folderId, msgs] of groups) {
      const uids = msgs.map((m) => m.uid).sort((a, b) => a - b);
      // RFC 5788 keywords $Junk / $NotJunk tell other clients (and a future filter) the user's verdict.
      await store.storeFlags(folderId, uids, "add", [junk ? "$Junk" : "$NotJunk"], { silent: true });
      await store.storeFlags(folderId, uids, "remove", [junk ? "$NotJunk" : "$Junk"], { silent: true });
    }
    const { moved, undo } = await moveAll(ctx, account, body.ids, dest);
    return c.json({ ok: true, moved, folderId: dest.id, undo });
  });

  // Archive: the account's \Archive folder (RFC 6154 §2), created with its usual name when missing.
  app.post("/api/messages/archive", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const dest = await specialFolder(ctx, account.id, "\\Archive");
    const { moved, undo } = await moveAll(ctx, account, body.ids, dest);
    return c.json({ ok: true, moved, folderId: dest.id, undo });
  });

  // Restore from Trash: back to the folder the webmail deleted it from (recorded at delete time) when that
  // folder still exists, else the Inbox (deleted by another client, or its folder is gone).
  app.post("/api/messages/restore", async (c) => {
    const account = c.get("account");
    const body = await readJson<{ ids?: unknown }>(c);
    if (!isIdArray(body.ids)) throw new ApiError(400, "bad_request", "No messages were selected.");
    const trash = await specialFolder(ctx, account.id, "\\Trash");
    const home = await inbox(ctx, account.id);
    const mail = new Map((await store.listFolders(account.id, { itemClass: "mail" })).map((f) => [f.id, f]));
    const targets = new Map<number, number[]>();
    for (const [folderId, msgs] of await byFolder(ctx, account, body.ids)) {
      if (folderId !== trash.id) continue; // only what is in Trash is restored
      for (const m of msgs) {
        const want = m.props[RESTORE_PROP];
        const dest = typeof want === "number" && want !== trash.id && mail.has(want) ? want : home.id;
        const list = targets.get(dest) ?? [];
        list.push(m.id);
        targets.set(dest, list);
      }
    }
    let moved = 0;
    const undo: UndoMove[] = [];
    const folders: { id: number; folderId: number }[] = [];
    for (const [destId, ids] of targets) {
      const r = await moveAll(ctx, account, ids, mail.get(destId) ?? home);
      moved += r.moved;
      undo.push(...r.undo);
      for (const id of ids) folders.push({ id, folderId: destId });
    }
    return c.json({ ok: true, moved, undo, folders });
  });

  // ---------------------------------------------------------------- search
  app.get("/api/search", async (c) => {
    const account = c.get("account");
    // The search box's language (search-query.ts); the filter panel's fields are the same operators.
    let query: SearchQuery;
    try {
      query = parseSearchQuery((c.req.query("q") ?? "").trim());
      const from = (c.req.query("from") ?? "").trim().slice(0, 200);
      if (from) query.terms.push(...parseSearchQuery(`from:"${from.replace(/["\u201c\u201d]/g, " ")}"`).terms);
    } catch (e) {
      if (e instanceof SearchQueryError) throw new ApiError(400, "bad_search", e.message);
      throw e;
    }
    query.after ??= dateParam(c.req.query("after"));
    query.before ??= dateParam(c.req.query("before"));
    // A day means the user's day: before:/after: and the filter's dates name midnight in the account's
    // time zone (settings), not UTC, so a New York user's after:2026-03-05 includes that evening's mail.
    const zone = zoneOf(typeof account.settings.timeZone === "string" && account.settings.timeZone ? account.settings.timeZone : Intl.DateTimeFormat().resolvedOptions().timeZone);
    if (query.after !== null) query.after = userMidnight(query.after, zone);
    if (query.before !== null) query.before = userMidnight(query.before, zone);
    if (c.req.query("attachment") === "1") query.hasAttachment = true;
    const limit = intParam(c.req.query("limit"), 200, 1, 1000);
    if (isEmptyQuery(query)) throw new ApiError(400, "empty_search", "Type something to search for, or pick a filter.");
    const sortQ = c.req.query("sort");
    const sort: ListSort = sortQ === "from" || sortQ === "subject" || sortQ === "size" ? sortQ : "date";
    const desc = c.req.query("order") !== "asc";
    let folders: Folder[];
    const fid = c.req.query("folderId");
    if (fid) folders = [await ownedFolder(ctx, account, Number(fid))];
    else folders = (await store.listFolders(account.id, { itemClass: "mail" })).filter((f) => f.specialUse !== "\\Trash" && f.specialUse !== "\\Junk");
    const names = new Map(folders.map((f) => [f.id, f.name === "INBOX" ? "Inbox" : f.name]));
    const res = await runSearch(store, folders, query, { sort, desc, limit });
    c.header("cache-control", "no-store");
    return c.json({
      total: res.total,
      partial: res.partial,
      items: res.rows.map((m) => ({ ...rowJson({ ...indexToRow(m), folderId: m.folderId }), folderName: names.get(m.folderId) ?? "" })),
    });
  });
}

/** One attachment's decoded bytes, read from its exact byte range in the stored message. */
export async function attachmentContent(deps: { ctx: ServerContext; parsed: ParsedCache }, m: MessageIndex, index: number): Promise<{ info: AttachmentInfo; bytes: Uint8Array; charset: string | null }> {
  const email = await deps.parsed.get(deps.ctx, m);
  const found = Number.isInteger(index) ? listAttachments(m.root, email.html ?? null)[index] : undefined;
  if (!found) throw new ApiError(404, "no_attachment", "That attachment is no longer there.");
  const { part, ...info } = found;
  const raw = await deps.ctx.store.readRange(m.blobId, part.bodyStart, part.bodyEnd);
  return { info, bytes: decodeBody(raw, part.encoding), charset: part.params.charset ?? null };
}

export function indexToRow(m: MessageIndex): ListRow {
  return {
    id: m.id,
    uid: m.uid,
    flags: m.flags,
    internalDate: m.internalDate,
    sentDate: m.sentDate,
    size: m.size,
    subject: m.subject,
    fromName: m.fromName,
    fromAddr: m.fromAddr,
    toAddr: m.toAddr,
    preview: m.preview,
    hasAttachment: m.hasAttachment,
    threadId: m.threadId,
    threadCount: 1,
    threadUnread: m.flags.includes("\\Seen") ? 0 : 1,
  };
}

async function inbox(ctx: ServerContext, accountId: number): Promise<Folder> {
  const f = await ctx.store.getFolder(accountId, "INBOX");
  if (!f) throw new ApiError(500, "no_inbox", "Your Inbox is missing. Please tell your administrator.");
  return f;
}

/** Where a moved message is now (`id`) and the folder it came from: what the webmail's Undo moves back. */
export interface UndoMove {
  id: number;
  folderId: number;
}

async function undoMoves(ctx: ServerContext, mapping: [number, number][], fromFolderId: number, destFolderId: number): Promise<UndoMove[]> {
  if (!mapping.length) return [];
  const rows = await ctx.store.getMessages(destFolderId, mapping.map(([, to]) => to));
  return rows.map((r) => ({ id: r.id, folderId: fromFolderId }));
}

async function moveAll(ctx: ServerContext, account: Account, ids: number[], dest: Folder): Promise<{ moved: number; undo: UndoMove[] }> {
  const groups = await byFolder(ctx, account, ids);
  let moved = 0;
  const undo: UndoMove[] = [];
  for (const [folderId, msgs] of groups) {
    if (folderId === dest.id) continue;
    const uids = msgs.map((m) => m.uid).sort((a, b) => a - b);
    // Moved on purpose: forget where a delete took it from (Restore would send it back there).
    for (const m of msgs) if (m.props[RESTORE_PROP] !== undefined) await ctx.store.setItemProps?.(m.id, { [RESTORE_PROP]: null });
    const { mapping } = await ctx.store.move(folderId, uids, dest.id);
    moved += mapping.length;
    undo.push(...(await undoMoves(ctx, mapping, folderId, dest.id)));
  }
  return { moved, undo };
}

function flagList(v: unknown): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.length > 20 || !v.every((f) => typeof f === "string" && FLAG_RE.test(f))) {
    throw new ApiError(400, "bad_flag", "That flag is not allowed.");
  }
  return v as string[];
}

function cleanFolderName(v: unknown): string {
  const name = typeof v === "string" ? v.trim() : "";
  if (!name) throw new ApiError(400, "bad_name", "Give the folder a name.");
  if (name.length > 200) throw new ApiError(400, "bad_name", "That folder name is too long.");
  // '/' is the hierarchy delimiter; control characters and IMAP wildcards would confuse other clients (RFC 9051 §5.1).
  if (/[\/\u0000-\u001f\u007f*%]/.test(name)) throw new ApiError(400, "bad_name", "A folder name can't contain / * % or control characters.");
  if (name.toUpperCase() === "INBOX") throw new ApiError(400, "bad_name", "That name is reserved for the Inbox.");
  return name;
}

/** The UTC midnight of a day (as parsed) moved to that day's midnight in `zone`; unchanged without a zone. */
function userMidnight(utcMidnight: number, zone: ReturnType<typeof zoneOf>): number {
  if (!zone || !Number.isFinite(utcMidnight)) return utcMidnight;
  const d = new Date(utcMidnight);
  if (d.getUTCHours() || d.getUTCMinutes()) return utcMidnight; // a full instant from the filter: keep it
  return dateStartMs(d.toISOString().slice(0, 10), zone);
}

function dateParam(v: string | undefined): number | null {
  if (!v) return null;
  const t = Date.parse(v);
  return Number.isFinite(t) ? t : null;
}

export { apiError };
