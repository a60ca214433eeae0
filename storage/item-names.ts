/**
 * DAV resource names of calendar, task and contact items (migration 0034):
 * the last segment of an object's CalDAV/CardDAV URL as the client chose it
 * with its PUT (RFC 4791 §5.3.2, RFC 6352 §6.3.2), unique per folder, kept
 * across updates and moves; and the lookups by name and by iCalendar/vCard
 * UID that the groupware service (src/groupware/) makes on every request.
 */
import { StoreError, type ItemClass } from "./api.ts";
import type { Queryable } from "./db.ts";
import type { GroupwareClass } from "./item-api.ts";
import { CLASS_TABLE } from "./item-fields.ts";
import { num } from "./rows.ts";

/** Classes whose items have a resource name (notes are not served over DAV). */
export const NAMED_CLASSES: readonly ItemClass[] = ["calendar", "tasks", "contacts"];

const MAX_NAME = 255;

/** A resource name as given, checked: 1-255 characters, no "/", no control characters, not "." or "..". */
export function checkResourceName(name: unknown): string {
  if (typeof name !== "string" || name.length === 0 || name.length > MAX_NAME || name === "." || name === ".." || /[/\x00-\x1f\x7f]/.test(name)) {
    throw new StoreError("INVALID", "a resource name is 1-255 characters without '/' or control characters, and not '.' or '..'");
  }
  // a lone surrogate cannot be stored as UTF-8 (nor come from a percent-decoded URL)
  if (/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(name)) {
    throw new StoreError("INVALID", "a resource name must be valid Unicode");
  }
  return name;
}

/** ".ics" for calendar objects and tasks (RFC 5545 §8.1), ".vcf" for vCards (RFC 6350 §10.1). */
export function extensionOf(c: GroupwareClass): string {
  return c === "contacts" ? ".vcf" : ".ics";
}

/** The default name of an item: its UID with everything but URL-safe characters replaced, plus the class's extension. */
export function defaultResourceName(c: GroupwareClass, uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9._@+=-]/g, "_").slice(0, 200);
  return (safe === "" || safe === "." || safe === ".." ? "item" : safe) + extensionOf(c);
}

/** The name for an item whose name is taken where it goes: `<stem>-<id><ext>` (ids are never reused, so it is free). */
export function alternateResourceName(name: string, id: number): string {
  const dot = name.lastIndexOf(".");
  const hasExt = dot > 0 && name.length - dot <= 8;
  const stem = (hasExt ? name.slice(0, dot) : name).slice(0, MAX_NAME - 30);
  return `${stem}-${id}${hasExt ? name.slice(dot) : ""}`;
}

/** Is `name` taken in the folder (by an item other than `exceptId`)? */
export async function nameTaken(q: Queryable, folderId: number, name: string, exceptId = 0): Promise<boolean> {
  return !!(await q.get("SELECT 1 AS x FROM items WHERE folder_id = ? AND resource_name = ? AND id <> ?", [folderId, name, exceptId]));
}

/**
 * Ids of the items with UID `uid` in a folder (its class read from the folder)
 * or in every folder of an account's class: ascending folder, a calendar
 * master before lone overridden instances, then id. Through the class table's
 * (account_id, uid, folder_id) index.
 */
export async function idsByUid(q: Queryable, scope: number | { accountId: number; itemClass: GroupwareClass }, uid: string): Promise<number[]> {
  if (typeof uid !== "string" || uid === "") return [];
  let accountId: number;
  let c: string;
  let folderId: number | null = null;
  if (typeof scope === "number") {
    const f = await q.get<Record<string, unknown>>("SELECT account_id, item_class FROM folders WHERE id = ?", [scope]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    accountId = num(f.account_id);
    c = String(f.item_class);
    folderId = scope;
  } else {
    if (!scope || !Number.isSafeInteger(scope.accountId)) throw new StoreError("INVALID", "the scope is a folder id or { accountId, itemClass }");
    accountId = scope.accountId;
    c = scope.itemClass;
  }
  if (!NAMED_CLASSES.includes(c as ItemClass)) return [];
  const table = CLASS_TABLE[c as GroupwareClass];
  const order = c === "calendar" ? "folder_id, CASE WHEN recurrence_id IS NULL THEN 0 ELSE 1 END, item_id" : "folder_id, item_id";
  const rows = folderId === null
    ? await q.raw(`SELECT item_id FROM ${table} WHERE account_id = ? AND uid = ? ORDER BY ${order} LIMIT 1000`, [accountId, uid])
    : await q.raw(`SELECT item_id FROM ${table} WHERE account_id = ? AND uid = ? AND folder_id = ? ORDER BY ${order} LIMIT 1000`, [accountId, uid, folderId]);
  return rows.map((r) => num(r[0]));
}
