/**
 * /api/groupware/collections: the signed-in user's calendars, task lists and
 * address books (list with object counts, create, rename/recolour, delete).
 * The same collections CalDAV/CardDAV serve (src/groupware/collections.ts).
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Collection } from "../../../src/groupware/types.ts";
import type { AppEnv } from "../types.ts";
import type { CollectionInfo, CollectionKind, CollectionWrite } from "./api-types.ts";
import { guarded } from "./groupware-util.ts";
import { ApiError, readJson } from "./util.ts";

const KINDS: readonly CollectionKind[] = ["calendar", "tasks", "contacts"];
/** Outlook-like colours handed out in turn to calendars created without one. */
export const CALENDAR_PALETTE = ["#0078d4", "#498205", "#c239b3", "#ca5010", "#038387", "#8764b8", "#d13438", "#986f0b"];
const COLOR_RE = /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/;

export function collectionInfo(c: Collection, count: number): CollectionInfo {
  return {
    kind: c.kind,
    name: c.name,
    folderId: c.id,
    displayName: c.displayName || c.name,
    color: c.color ? c.color.slice(0, 7).toLowerCase() : "",
    description: c.description,
    isDefault: c.isDefault,
    count,
    readOnly: false,
  };
}

function checkWrite(body: unknown): CollectionWrite {
  if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "bad_request", "The request must be an object.");
  const o = body as Record<string, unknown>;
  const out: CollectionWrite = {};
  if (o.displayName !== undefined) {
    if (typeof o.displayName !== "string" || !o.displayName.trim() || o.displayName.length > 200 || /[\u0000-\u001f\u007f]/.test(o.displayName)) {
      throw new ApiError(400, "bad_name", "The name must be 1 to 200 characters on one line.");
    }
    out.displayName = o.displayName.trim();
  }
  if (o.color !== undefined) {
    if (typeof o.color !== "string" || (o.color !== "" && !COLOR_RE.test(o.color))) throw new ApiError(400, "bad_color", "The colour must be like #0078d4.");
    out.color = o.color.toLowerCase();
  }
  if (o.description !== undefined) {
    if (typeof o.description !== "string" || o.description.length > 2000) throw new ApiError(400, "bad_description", "The description must be text of at most 2,000 characters.");
    out.description = o.description;
  }
  return out;
}

/** A URL segment for a new collection from its display name ("Team Events" -> "team-events", "-2" when taken). */
function segmentFor(displayName: string, taken: Set<string>): string {
  const base =
    displayName
      .normalize("NFKD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 60) || "collection";
  const reserved = new Set(["inbox", "outbox", "directory"]);
  let name = base;
  for (let i = 2; taken.has(name.toLowerCase()) || reserved.has(name); i++) name = `${base}-${i}`;
  return name;
}

async function countOf(ctx: ServerContext, c: Collection): Promise<number> {
  return (await ctx.groupware.listObjects(c)).length;
}

export function mountCollectionsApi(app: Hono<AppEnv>, deps: { ctx: ServerContext }): void {
  const { ctx } = deps;
  const gw = ctx.groupware;

  app.get("/api/groupware/collections", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const kind = c.req.query("kind");
      if (kind !== undefined && !(KINDS as readonly string[]).includes(kind)) throw new ApiError(400, "bad_request", "kind is calendar, tasks or contacts.");
      await gw.ensureDefaults(a);
      const list = await gw.listCollections(a, kind as CollectionKind | undefined);
      const out: CollectionInfo[] = [];
      for (const col of list) out.push(collectionInfo(col, await countOf(ctx, col)));
      // Defaults first, then by name: the order the sidebars show.
      out.sort((x, y) => (x.kind === y.kind ? Number(y.isDefault) - Number(x.isDefault) || x.displayName.localeCompare(y.displayName) : KINDS.indexOf(x.kind) - KINDS.indexOf(y.kind)));
      // A calendar without a colour (made by a client that sets none) gets one of the palette, by its place in the list.
      let n = 0;
      for (const info of out) if (info.kind === "calendar" && !info.color) info.color = CALENDAR_PALETTE[n++ % CALENDAR_PALETTE.length]!;
      c.header("cache-control", "no-store");
      return c.json({ collections: out });
    }),
  );

  app.post("/api/groupware/collections", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const body = await readJson<Record<string, unknown>>(c, 64 * 1024);
      const kind = body?.kind;
      if (typeof kind !== "string" || !(KINDS as readonly string[]).includes(kind)) throw new ApiError(400, "bad_request", "kind is calendar, tasks or contacts.");
      const w = checkWrite(body);
      if (!w.displayName) throw new ApiError(400, "bad_name", "Give it a name.");
      await gw.ensureDefaults(a);
      const existing = await gw.listCollections(a);
      let color = w.color ?? "";
      if (kind === "calendar" && !color) color = CALENDAR_PALETTE[existing.filter((x) => x.kind === "calendar").length % CALENDAR_PALETTE.length]!;
      const name = segmentFor(w.displayName, new Set(existing.map((x) => x.name.toLowerCase())));
      const created = await gw.createCollection(a, kind as CollectionKind, name, { displayName: w.displayName, color, description: w.description ?? "" });
      return c.json(collectionInfo(created, 0), 201);
    }),
  );

  app.patch("/api/groupware/collections/:name", (c) =>
    guarded(async () => {
      const a = c.get("account");
      const w = checkWrite(await readJson(c, 64 * 1024));
      await gw.ensureDefaults(a);
      const col = await gw.getCollection(a, c.req.param("name"));
      if (!col) throw new ApiError(404, "not_found", "That calendar, task list or address book does not exist.");
      const updated = await gw.updateCollection(a, col.name, w);
      return c.json(collectionInfo(updated, await countOf(ctx, updated)));
    }),
  );

  app.delete("/api/groupware/collections/:name", (c) =>
    guarded(async () => {
      const a = c.get("account");
      await gw.ensureDefaults(a);
      const col = await gw.getCollection(a, c.req.param("name"));
      if (!col) throw new ApiError(404, "not_found", "That calendar, task list or address book does not exist.");
      if (col.isDefault) throw new ApiError(403, "forbidden", "The default one cannot be deleted.");
      await gw.deleteCollection(a, col.name);
      return c.json({ ok: true });
    }),
  );
}
