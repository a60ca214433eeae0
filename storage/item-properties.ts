/**
 * Typed properties of items and folders (table `item_properties`, migration
 * 0030): what EWS extended properties ([MS-OXWSCORE] ExtendedFieldURI) and
 * MAPI properties ([MS-OXPROPS], [MS-OXCDATA] §2.6 named properties) need,
 * without a schema change per property. One row per value; a multi-valued
 * property keeps its order in `position`, an empty one is a single row at
 * position -1 with no value.
 */
import { StoreError } from "./api.ts";
import type { Queryable, SqlValue } from "./db.ts";
import type { FolderWithProperties, ItemProperty, PropertyKey, PropertyOwner, PropertyType } from "./item-api.ts";
import type { ItemClass } from "./api.ts";
import { FOLDER_COLS, toFolder } from "./rows.ts";

const TYPES: readonly PropertyType[] = ["int", "bool", "real", "time", "string", "binary", "guid"];
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Bounds that keep one property from filling the database by accident. */
const MAX_VALUES = 10_000;
const MAX_VALUE_BYTES = 4 * 1024 * 1024;
const MAX_NAME = 1024;

type Row = Record<string, unknown>;

export interface OwnerRef {
  kind: "item" | "folder";
  id: number;
}

export function ownerRef(owner: PropertyOwner): OwnerRef {
  const o = owner as { itemId?: unknown; folderId?: unknown };
  if (o && Number.isSafeInteger(o.itemId)) return { kind: "item", id: o.itemId as number };
  if (o && Number.isSafeInteger(o.folderId)) return { kind: "folder", id: o.folderId as number };
  throw new StoreError("INVALID", "a property owner is { itemId } or { folderId }");
}

interface NormalKey {
  key: string;
  tag: number | null;
  set: string | null;
  name: string | null;
  lid: number | null;
}

/** The canonical text form of a key (the table's unique key): "tag:<id>", "name:<guid>:<name>", "lid:<guid>:<id>". */
export function normalizeKey(k: PropertyKey): NormalKey {
  const o = k as { tag?: unknown; set?: unknown; name?: unknown; lid?: unknown };
  if (o && o.tag !== undefined) {
    // [MS-OXPROPS]: property ids 0x0001-0xFFFE (0x0000 and 0xFFFF are not properties)
    if (!Number.isInteger(o.tag) || (o.tag as number) < 1 || (o.tag as number) > 0xfffe) throw new StoreError("INVALID", "property tag must be an id 0x0001-0xFFFE");
    const tag = o.tag as number;
    return { key: `tag:${tag.toString(16).padStart(4, "0")}`, tag, set: null, name: null, lid: null };
  }
  if (!o || typeof o.set !== "string" || !GUID.test(o.set)) throw new StoreError("INVALID", "a named property needs a property set GUID");
  const set = o.set.toLowerCase();
  if (o.name !== undefined) {
    if (typeof o.name !== "string" || o.name === "" || o.name.length > MAX_NAME) throw new StoreError("INVALID", "property name must be 1-1024 characters");
    return { key: `name:${set}:${o.name}`, tag: null, set, name: o.name, lid: null };
  }
  // [MS-OXCDATA] §2.6.1: a numeric named property's LID is 32 bits
  if (!Number.isInteger(o.lid) || (o.lid as number) < 0 || (o.lid as number) > 0xffffffff) throw new StoreError("INVALID", "property LID must be a 32-bit unsigned integer");
  const lid = o.lid as number;
  return { key: `lid:${set}:${lid}`, tag: null, set, name: null, lid };
}

function keyFromRow(r: Row): PropertyKey {
  if (r.prop_tag !== null && r.prop_tag !== undefined) return { tag: Number(r.prop_tag) };
  if (r.prop_name !== null && r.prop_name !== undefined) return { set: String(r.prop_set), name: String(r.prop_name) };
  return { set: String(r.prop_set), lid: Number(r.prop_lid) };
}

/** [int, real, text, blob] columns of one value, after checking it has the property's type. */
function valueColumns(type: PropertyType, v: unknown): [number | null, number | null, string | null, Uint8Array | null] {
  switch (type) {
    case "int":
    case "time":
      if (typeof v !== "number" || !Number.isSafeInteger(v)) throw new StoreError("INVALID", `a ${type} property value must be a safe integer`);
      return [v, null, null, null];
    case "bool":
      if (typeof v !== "boolean") throw new StoreError("INVALID", "a bool property value must be true or false");
      return [v ? 1 : 0, null, null, null];
    case "real":
      if (typeof v !== "number" || !Number.isFinite(v)) throw new StoreError("INVALID", "a real property value must be a finite number");
      return [null, v, null, null];
    case "string":
      if (typeof v !== "string" || v.length > MAX_VALUE_BYTES / 4) throw new StoreError("INVALID", "a string property value must be a string of at most 1 Mi characters");
      return [null, null, v, null];
    case "guid":
      if (typeof v !== "string" || !GUID.test(v)) throw new StoreError("INVALID", "a guid property value must be a GUID");
      return [null, null, v.toLowerCase(), null];
    case "binary":
      if (!(v instanceof Uint8Array) || v.byteLength > MAX_VALUE_BYTES) throw new StoreError("INVALID", "a binary property value must be bytes (at most 4 MiB)");
      return [null, null, null, v];
  }
}

function valueFromRow(type: PropertyType, r: Row): unknown {
  switch (type) {
    case "int":
    case "time":
      return Number(r.int_value);
    case "bool":
      return Number(r.int_value) !== 0;
    case "real":
      return Number(r.real_value);
    case "string":
    case "guid":
      return String(r.text_value ?? "");
    case "binary": {
      const b = r.blob_value;
      if (b instanceof Uint8Array) return new Uint8Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      if (b instanceof ArrayBuffer) return new Uint8Array(b.slice(0));
      return new Uint8Array(0);
    }
  }
}

/** One property's rows (validated): position -1 marks an empty multi-valued property. */
function rowsOf(p: ItemProperty): { nk: NormalKey; type: PropertyType; multi: boolean; values: [number, ReturnType<typeof valueColumns>][] } {
  if (!p || typeof p !== "object") throw new StoreError("INVALID", "a property is { key, type, value }");
  const nk = normalizeKey(p.key);
  if (!TYPES.includes(p.type)) throw new StoreError("INVALID", `unknown property type ${String(p.type)}`);
  if (p.multi) {
    if (!Array.isArray(p.value) || p.value.length > MAX_VALUES) throw new StoreError("INVALID", "a multi-valued property value is an array of at most 10000 values");
    const vals = p.value as unknown[];
    if (vals.length === 0) return { nk, type: p.type, multi: true, values: [[-1, [null, null, null, null]]] };
    return { nk, type: p.type, multi: true, values: vals.map((v, i) => [i, valueColumns(p.type, v)]) };
  }
  return { nk, type: p.type, multi: false, values: [[0, valueColumns(p.type, p.value)]] };
}

/** Validates every property before anything is written (a bad one writes nothing). */
export function checkProperties(props: readonly ItemProperty[]): void {
  if (!Array.isArray(props)) throw new StoreError("INVALID", "properties must be an array");
  for (const p of props) rowsOf(p);
}

const COLS = "prop_key, prop_tag, prop_set, prop_name, prop_lid, prop_type, multi, position, int_value, real_value, text_value, blob_value";

/** Every property of an owner, ordered by key (values in position order). */
export async function readProperties(q: Queryable, owner: OwnerRef): Promise<ItemProperty[]> {
  const rows = await q.all<Row>(`SELECT ${COLS} FROM item_properties WHERE owner_kind = ? AND owner_id = ? ORDER BY prop_key, position`, [owner.kind, owner.id]);
  return propertiesFromRows(rows);
}

/**
 * The folders of an account (of some classes) with their properties (of one
 * property set, or all) in one query: a LEFT JOIN through the properties'
 * folder_id index, grouped here. Ordered by folder name.
 */
export async function listFoldersWithProperties(
  q: Queryable,
  textList: string,
  accountId: number,
  opts: { itemClasses?: readonly ItemClass[]; propertySet?: string },
): Promise<FolderWithProperties[]> {
  const args: SqlValue[] = [];
  let on = "p.folder_id = f.id";
  if (opts.propertySet !== undefined) {
    if (typeof opts.propertySet !== "string" || !GUID.test(opts.propertySet)) throw new StoreError("INVALID", "propertySet must be a GUID");
    on += " AND p.prop_set = ?";
    args.push(opts.propertySet.toLowerCase());
  }
  let where = "f.account_id = ?";
  args.push(accountId);
  if (opts.itemClasses !== undefined) {
    if (!Array.isArray(opts.itemClasses)) throw new StoreError("INVALID", "itemClasses must be an array");
    where += ` AND f.item_class IN (${textList})`;
    args.push(JSON.stringify(opts.itemClasses));
  }
  const fcols = FOLDER_COLS.split(", ").map((c) => `f.${c}`).join(", ");
  const pcols = COLS.split(", ").map((c) => `p.${c}`).join(", ");
  const rows = await q.all<Row>(`SELECT ${fcols}, ${pcols} FROM folders f LEFT JOIN item_properties p ON ${on} WHERE ${where} ORDER BY f.name, f.id, p.prop_key, p.position`, args);
  const out: FolderWithProperties[] = [];
  let cur: { id: number; rows: Row[]; entry: FolderWithProperties } | null = null;
  const flush = () => {
    if (cur) cur.entry.properties = propertiesFromRows(cur.rows);
  };
  for (const r of rows) {
    const id = Number(r.id);
    if (!cur || cur.id !== id) {
      flush();
      cur = { id, rows: [], entry: { folder: toFolder(r), properties: [] } };
      out.push(cur.entry);
    }
    if (r.prop_key !== null && r.prop_key !== undefined) cur.rows.push(r);
  }
  flush();
  return out;
}

/** Groups property rows (ordered by key, then position) into properties. */
function propertiesFromRows(rows: Row[]): ItemProperty[] {
  const out: ItemProperty[] = [];
  let cur: { key: string; prop: { key: PropertyKey; type: PropertyType; multi?: boolean; value: unknown } } | null = null;
  for (const r of rows) {
    const type = String(r.prop_type) as PropertyType;
    const multi = Number(r.multi) !== 0;
    const key = String(r.prop_key);
    if (!cur || cur.key !== key) {
      cur = { key, prop: multi ? { key: keyFromRow(r), type, multi: true, value: [] } : { key: keyFromRow(r), type, value: valueFromRow(type, r) } };
      out.push(cur.prop as ItemProperty);
    }
    if (multi && Number(r.position) >= 0) (cur.prop.value as unknown[]).push(valueFromRow(type, r));
  }
  return out;
}

/** Replaces the values of each given key. Caller holds the write transaction and has checked the owner. */
export async function writeProperties(tx: Queryable, accountId: number, owner: OwnerRef, props: readonly ItemProperty[]): Promise<void> {
  for (const p of props) {
    const { nk, type, multi, values } = rowsOf(p);
    await tx.run("DELETE FROM item_properties WHERE owner_kind = ? AND owner_id = ? AND prop_key = ?", [owner.kind, owner.id, nk.key]);
    for (let i = 0; i < values.length; i += 100) {
      const chunk = values.slice(i, i + 100);
      const args: SqlValue[] = [];
      for (const [pos, [iv, rv, tv, bv]] of chunk) {
        args.push(
          accountId,
          owner.kind,
          owner.id,
          owner.kind === "item" ? owner.id : null,
          owner.kind === "folder" ? owner.id : null,
          nk.key,
          nk.tag,
          nk.set,
          nk.name,
          nk.lid,
          type,
          multi ? 1 : 0,
          pos,
          iv,
          rv,
          tv,
          bv,
        );
      }
      await tx.run(
        `INSERT INTO item_properties (account_id, owner_kind, owner_id, item_id, folder_id, ${COLS})
         VALUES ${chunk.map(() => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(", ")}`,
        args,
      );
    }
  }
}

/** Deletes the given keys of an owner; returns how many were present. Caller holds the write transaction. */
export async function removeProperties(tx: Queryable, owner: OwnerRef, keys: readonly PropertyKey[]): Promise<number> {
  let n = 0;
  for (const k of keys) {
    const nk = normalizeKey(k);
    const r = await tx.run("DELETE FROM item_properties WHERE owner_kind = ? AND owner_id = ? AND prop_key = ?", [owner.kind, owner.id, nk.key]);
    if (r.changes > 0) n++;
  }
  return n;
}
