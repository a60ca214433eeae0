/**
 * Folder-wide actions for "select all" (issue 17 item 13): the list shows a
 * page of a folder at a time, so "All 150 selected" cannot be sent as ids
 * the page has not loaded. The client first asks what "all" is now
 * (GET: the count and the highest UID), shows that count, and the action
 * names the same snapshot (POST: uidLimit + expect). Mail that arrives
 * afterwards has a higher UID and is left alone; if anything the user saw
 * went away or changed meanwhile, the count no longer matches and the
 * action is refused (409) with the new count, so what is acted on is
 * always exactly what the bar said.
 *
 *   GET  /api/folders/:id/bulk  -> { total, uidLimit }
 *   POST /api/folders/:id/bulk  { action, uidLimit, expect, exceptIds?, folderId? }
 *        -> { ok, count, moved, deleted, undo? }
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Folder, MessageSummary } from "../../../storage/api.ts";
import type { AppEnv } from "../types.ts";
import { ApiError, isIdArray, readJson } from "./util.ts";
import { ownedFolder, specialFolder, RESTORE_PROP } from "./mail-api.ts";

export type BulkAction = "delete" | "read" | "unread" | "flag" | "unflag" | "junk" | "notJunk" | "archive" | "restore" | "move";
const ACTIONS: readonly BulkAction[] = ["delete", "read", "unread", "flag", "unflag", "junk", "notJunk", "archive", "restore", "move"];

/** The most messages one request acts on: a larger folder is narrowed first (search, a date) or done in steps. */
export const MAX_BULK = 100_000;
/** Undo answers (ids to move back) up to this many; the move route takes 10,000 ids per request. */
const MAX_UNDO = 10_000;
/** Store calls take UIDs in slices of this size, so one call never carries an unbounded set. */
const CHUNK = 1000;
/** Property writes in flight at once (each is its own store transaction). */
const PARALLEL = 32;

export interface BulkDeps {
  ctx: ServerContext;
}

export function mountBulkApi(app: Hono<AppEnv>, deps: BulkDeps): void {
  const { ctx } = deps;
  const store = ctx.store;

  app.get("/api/folders/:id/bulk", async (c) => {
    const f = await ownedFolder(ctx, c.get("account"), Number(c.req.param("id")));
    const all = await store.listMessages(f.id);
    c.header("cache-control", "no-store");
    return c.json({ total: all.length, uidLimit: all.reduce((m, x) => Math.max(m, x.uid), 0) });
  });

  app.post("/api/folders/:id/bulk", async (c) => {
    const account = c.get("account");
    const f = await ownedFolder(ctx, account, Number(c.req.param("id")));
    const body = await readJson<{ action?: unknown; uidLimit?: unknown; expect?: unknown; exceptIds?: unknown; folderId?: unknown }>(c);
    const action = body.action as BulkAction;
    if (!ACTIONS.includes(action)) throw new ApiError(400, "bad_action", "That action is not known.");
    if (!Number.isSafeInteger(body.uidLimit) || (body.uidLimit as number) < 0) throw new ApiError(400, "bad_request", "Select the messages again (the selection is missing its limit).");
    if (!Number.isSafeInteger(body.expect) || (body.expect as number) < 0) throw new ApiError(400, "bad_request", "Select the messages again (the selection is missing its count).");
    if (body.exceptIds !== undefined && !isIdArray(body.exceptIds)) throw new ApiError(400, "bad_request", "The messages left out of the selection are not valid.");
    const except = new Set((body.exceptIds as number[] | undefined) ?? []);
    const uidLimit = body.uidLimit as number;
    const targets = (await store.listMessages(f.id)).filter((m) => m.uid <= uidLimit && !except.has(m.id));
    if (targets.length !== body.expect) {
      const n = targets.length;
      throw new ApiError(409, "selection_changed", `The folder changed meanwhile: ${n} message${n === 1 ? " is" : "s are"} there to act on now. Check the selection and try again.`);
    }
    if (targets.length > MAX_BULK) throw new ApiError(400, "too_many", `That is more than ${MAX_BULK.toLocaleString("en")} messages at once. Search or sort to narrow it down, then try again.`);
    const dest = action === "move" ? await ownedFolder(ctx, account, Number(body.folderId)) : null;
    const res = await runBulk(ctx, account.id, f, targets, action, dest);
    return c.json({ ok: true, count: targets.length, ...res });
  });
}

interface BulkResult {
  moved: number;
  deleted: number;
  /** Where each moved message came from (ids survive a move), for Undo; absent over MAX_UNDO. */
  undo?: { id: number; folderId: number }[];
  /** The folder the messages went to (move, archive, junk). */
  folderId?: number;
}

function slices<T>(all: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < all.length; i += CHUNK) out.push(all.slice(i, i + CHUNK));
  return out;
}

async function runBulk(ctx: ServerContext, accountId: number, f: Folder, targets: MessageSummary[], action: BulkAction, dest: Folder | null): Promise<BulkResult> {
  const store = ctx.store;
  const uids = targets.map((m) => m.uid).sort((a, b) => a - b);
  // The store writes item properties one message per transaction; PARALLEL of them in flight at once.
  const setProps = async (ids: number[], value: number | null) => {
    if (!store.setItemProps) return;
    for (let i = 0; i < ids.length; i += PARALLEL) await Promise.all(ids.slice(i, i + PARALLEL).map((id) => store.setItemProps!(id, { [RESTORE_PROP]: value })));
  };
  const flags = async (mode: "add" | "remove", list: string[], silent = false) => {
    for (const part of slices(uids)) await store.storeFlags(f.id, part, mode, list, silent ? { silent: true } : undefined);
  };
  const moveTo = async (to: Folder, forgetRestore: boolean): Promise<BulkResult> => {
    if (to.id === f.id) return { moved: 0, deleted: 0, undo: [], folderId: to.id };
    // Moved on purpose: forget where a delete took it from (as the per-message move does, mail-api.ts);
    // only messages that carry the record are written.
    if (forgetRestore) {
      for (const part of slices(uids)) {
        const marked = (await store.getMessages(f.id, part)).filter((m) => m.props[RESTORE_PROP] !== undefined);
        await setProps(marked.map((m) => m.id), null);
      }
    }
    let moved = 0;
    for (const part of slices(uids)) moved += (await store.move(f.id, part, to.id)).mapping.length;
    const undo = targets.length <= MAX_UNDO ? targets.map((m) => ({ id: m.id, folderId: f.id })) : undefined;
    return { moved, deleted: 0, undo, folderId: to.id };
  };
  switch (action) {
    case "read":
      await flags("add", ["\\Seen"]);
      return { moved: 0, deleted: 0 };
    case "unread":
      await flags("remove", ["\\Seen"]);
      return { moved: 0, deleted: 0 };
    case "flag":
      await flags("add", ["\\Flagged"]);
      return { moved: 0, deleted: 0 };
    case "unflag":
      await flags("remove", ["\\Flagged"]);
      return { moved: 0, deleted: 0 };
    case "delete": {
      const trash = await specialFolder(ctx, accountId, "\\Trash");
      if (f.id === trash.id) {
        // In Trash already: removed for good (RFC 9051 §6.4.3, \Deleted then expunge of exactly these UIDs).
        let deleted = 0;
        for (const part of slices(uids)) {
          await store.storeFlags(f.id, part, "add", ["\\Deleted"], { silent: true });
          deleted += (await store.expunge(f.id, part)).length;
        }
        return { moved: 0, deleted };
      }
      // Restore (in Trash) puts each back where it came from, as for a single delete (mail-api.ts).
      await setProps(targets.map((m) => m.id), f.id);
      return moveTo(trash, false);
    }
    case "junk":
    case "notJunk": {
      const junk = action === "junk";
      // RFC 5788 keywords $Junk / $NotJunk carry the user's verdict to other clients.
      await flags("add", [junk ? "$Junk" : "$NotJunk"], true);
      await flags("remove", [junk ? "$NotJunk" : "$Junk"], true);
      const to = junk ? await specialFolder(ctx, accountId, "\\Junk") : await store.getFolder(accountId, "INBOX");
      if (!to) throw new ApiError(500, "no_inbox", "Your Inbox is missing. Please tell your administrator.");
      return moveTo(to, true);
    }
    case "archive":
      return moveTo(await specialFolder(ctx, accountId, "\\Archive"), true);
    case "move":
      return moveTo(dest!, true);
    case "restore": {
      if (f.specialUse !== "\\Trash") throw new ApiError(400, "cannot", "Only messages in Trash can be restored.");
      const home = await store.getFolder(accountId, "INBOX");
      if (!home) throw new ApiError(500, "no_inbox", "Your Inbox is missing. Please tell your administrator.");
      const mail = new Map((await store.listFolders(accountId, { itemClass: "mail" })).map((x) => [x.id, x]));
      const byDest = new Map<number, number[]>();
      for (const part of slices(uids)) {
        for (const m of await store.getMessages(f.id, part)) {
          const want = m.props[RESTORE_PROP];
          const to = typeof want === "number" && want !== f.id && mail.has(want) ? want : home.id;
          const list = byDest.get(to) ?? [];
          list.push(m.uid);
          byDest.set(to, list);
        }
      }
      // Back where it belongs: the record of where it came from is spent (as Restore of one message does).
      await setProps(targets.map((m) => m.id), null);
      let moved = 0;
      for (const [to, list] of byDest) for (const part of slices(list)) moved += (await store.move(f.id, part, to)).mapping.length;
      return { moved, deleted: 0, undo: targets.length <= MAX_UNDO ? targets.map((m) => ({ id: m.id, folderId: f.id })) : undefined };
    }
  }
}
