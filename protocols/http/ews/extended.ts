/**
 * EWS extended properties (Types.xsd ExtendedPropertyType, PathToExtendedFieldType;
 * MS-OXWSXPROP): a MAPI property named by tag, or a named property of a property
 * set, with a MapiPropertyType. They live in the store's typed property table
 * (storage/item-api.ts getProperties/setProperties/deleteProperties) for items of
 * every class and for folders, so a value set over EWS is kept exactly and read back
 * with the type it was written with.
 *
 * A few MAPI tags describe data the store already holds (read state, size, flag,
 * headers): an item kind answers those itself through `computed` (mail-read.ts), so
 * a client asking for PR_MESSAGE_FLAGS gets the real flags, not an empty table row.
 */
import type { ItemProperty, PropertyKey, PropertyOwner, PropertyType, TypedPropertyValue } from "../../../storage/api.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { NS } from "./ns.ts";
import type { ExtendedPath, PropertyChange, PropertyPath } from "./shape.ts";
import { parsePath } from "./shape.ts";
import { dateTime, esc, kid, kidsNamed, parseDateTime, ta, type XmlElement } from "./xml.ts";

/**
 * Types.xsd DistinguishedPropertySetType -> the property set GUID ([MS-OXPROPS]
 * §1.3.2 "commonly used property sets"), lower-case as the store keeps GUIDs.
 */
export const PROPERTY_SETS: Readonly<Record<string, string>> = {
  Meeting: "6ed8da90-450b-101b-98da-00aa003f1305",
  Appointment: "00062002-0000-0000-c000-000000000046",
  Common: "00062008-0000-0000-c000-000000000046",
  PublicStrings: "00020329-0000-0000-c000-000000000046",
  Address: "00062004-0000-0000-c000-000000000046",
  InternetHeaders: "00020386-0000-0000-c000-000000000046",
  CalendarAssistant: "11000e07-b51b-40d6-af21-caa85edab1d0",
  UnifiedMessaging: "4442858e-a9e3-4e80-b900-317a210cc15b",
  Task: "00062003-0000-0000-c000-000000000046",
  Sharing: "00062040-0000-0000-c000-000000000046",
};

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Types.xsd MapiPropertyTypeType (without the "Array" suffix) -> the store's value type. */
const MAPI_TYPES: Readonly<Record<string, PropertyType>> = {
  ApplicationTime: "real",
  Binary: "binary",
  Boolean: "bool",
  CLSID: "guid",
  Currency: "int",
  Double: "real",
  Float: "real",
  Integer: "int",
  Long: "int",
  Short: "int",
  SystemTime: "time",
  String: "string",
};

/** The store type of a MapiPropertyType and whether it is multi-valued; ErrorInvalidExtendedProperty for Error/Null/Object or an unknown name. */
export function storageType(mapiType: string): { type: PropertyType; multi: boolean } {
  const multi = mapiType.endsWith("Array");
  const type = MAPI_TYPES[multi ? mapiType.slice(0, -5) : mapiType];
  if (!type) throw new EwsError("ErrorInvalidExtendedProperty", `The property type "${mapiType.slice(0, 40)}" cannot be stored.`);
  return { type, multi };
}

/** The store key of an extended path (a distinguished set becomes its GUID). */
export function propertyKey(p: ExtendedPath): PropertyKey {
  if (p.tag !== undefined) return { tag: p.tag };
  const set = p.setId !== undefined ? p.setId.toLowerCase() : p.setName !== undefined ? PROPERTY_SETS[p.setName] : undefined;
  if (!set || !GUID.test(set)) throw new EwsError("ErrorInvalidExtendedProperty", `Unknown property set "${(p.setName ?? p.setId ?? "").slice(0, 60)}".`);
  if (p.propertyName !== undefined) {
    if (p.propertyName === "" || p.propertyName.length > 1024) throw new EwsError("ErrorInvalidExtendedProperty", "PropertyName must be 1-1024 characters.");
    return { set, name: p.propertyName };
  }
  if (p.propertyId === undefined || p.propertyId < 0 || p.propertyId > 0xffffffff) throw new EwsError("ErrorInvalidExtendedProperty", "PropertyId must be a 32-bit number.");
  return { set, lid: p.propertyId };
}

/** Whether two store keys name the same property. */
export function sameKey(a: PropertyKey, b: PropertyKey): boolean {
  if ("tag" in a || "tag" in b) return "tag" in a && "tag" in b && a.tag === b.tag;
  if (a.set.toLowerCase() !== b.set.toLowerCase()) return false;
  if ("name" in a) return "name" in b && a.name === b.name;
  return "lid" in b && a.lid === b.lid;
}

/**
 * `<t:ExtendedFieldURI .../>` as clients compare it with what they asked for
 * (exchangelib matches tag as "0x..." lower-case hex, PropertyId as decimal,
 * PropertySetId lower-case): the path's own attributes, normalised that way.
 */
export function extendedFieldUriXml(p: ExtendedPath): string {
  return ta("ExtendedFieldURI", {
    DistinguishedPropertySetId: p.setName,
    PropertySetId: p.setId?.toLowerCase(),
    PropertyTag: p.tag !== undefined ? `0x${p.tag.toString(16)}` : undefined,
    PropertyName: p.propertyName,
    PropertyId: p.propertyId,
    PropertyType: p.propertyType,
  });
}

function valueText(type: PropertyType, v: unknown): string {
  switch (type) {
    case "time":
      return dateTime(v as number);
    case "bool":
      return v ? "true" : "false";
    case "binary":
      return Buffer.from(v as Uint8Array).toString("base64");
    default:
      return String(v);
  }
}

/** Parses one t:Value's text as the store type; ErrorInvalidExtendedPropertyValue when it does not fit. */
function parseValue(type: PropertyType, text: string): string | number | boolean | Uint8Array {
  const bad = () => new EwsError("ErrorInvalidExtendedPropertyValue", `"${text.slice(0, 40)}" is not a valid ${type} value.`);
  const s = type === "string" ? text : text.trim();
  switch (type) {
    case "int": {
      if (!/^-?\d{1,19}$/.test(s)) throw bad();
      const n = Number(s);
      if (!Number.isSafeInteger(n)) throw bad();
      return n;
    }
    case "real": {
      const n = Number(s);
      if (s === "" || !Number.isFinite(n)) throw bad();
      return n;
    }
    case "bool":
      if (s === "true" || s === "1") return true;
      if (s === "false" || s === "0") return false;
      throw bad();
    case "time": {
      const ms = parseDateTime(s);
      if (ms === undefined) throw bad();
      return ms;
    }
    case "binary":
      if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(s)) throw bad();
      return new Uint8Array(Buffer.from(s, "base64"));
    case "guid":
      if (!GUID.test(s.replace(/^\{|\}$/g, ""))) throw bad();
      return s.replace(/^\{|\}$/g, "").toLowerCase();
    default:
      return s;
  }
}

/** Most values one multi-valued property takes from a request (the store's own bound is higher). */
const MAX_VALUES = 1000;

/** The store property for a path and the value(s) as t:Value texts. */
export function typedValue(p: ExtendedPath, texts: readonly string[]): ItemProperty {
  const { type, multi } = storageType(p.propertyType);
  const key = propertyKey(p);
  if (multi) {
    if (texts.length > MAX_VALUES) throw new EwsError("ErrorInvalidExtendedPropertyValue", `At most ${MAX_VALUES} values per property.`);
    return { key, type, multi: true, value: texts.map((t) => parseValue(type, t)) } as ItemProperty;
  }
  if (texts.length !== 1) throw new EwsError("ErrorInvalidExtendedPropertyValue", "A single-valued property takes one Value.");
  return { key, type, value: parseValue(type, texts[0]!) } as ItemProperty;
}

/**
 * Parses a `<t:ExtendedProperty>` of a CreateItem/UpdateItem item element
 * (ExtendedFieldURI, then Value or Values/Value).
 */
export function parseExtendedProperty(el: XmlElement): { path: ExtendedPath; prop: ItemProperty } {
  const uri = kid(el, "ExtendedFieldURI");
  if (!uri) throw new EwsError("ErrorInvalidExtendedProperty", "ExtendedProperty needs an ExtendedFieldURI.");
  const path = parsePath(uri);
  if (path.kind !== "extended") throw new EwsError("ErrorInvalidExtendedProperty", "ExtendedProperty needs an ExtendedFieldURI.");
  const one = kid(el, "Value");
  const many = kid(el, "Values");
  const texts = one ? [one.text] : many ? kidsNamed(many, "Value").map((v) => v.text) : [];
  if (!one && !many) throw new EwsError("ErrorInvalidExtendedPropertyValue", "ExtendedProperty carries no Value.");
  return { path, prop: typedValue(path, texts) };
}

/** Every `<t:ExtendedProperty>` child of an item or folder element (CreateItem, CreateFolder). */
export function parseExtendedProperties(itemEl: XmlElement): ItemProperty[] {
  return kidsNamed(itemEl, "ExtendedProperty").map((e) => parseExtendedProperty(e).prop);
}

/** `<t:ExtendedProperty>` for one value, in the path's type (a stored value of another type is not shown). */
export function extendedPropertyXml(p: ExtendedPath, v: TypedPropertyValue): string {
  let want: { type: PropertyType; multi: boolean };
  try {
    want = storageType(p.propertyType);
  } catch {
    return "";
  }
  if (want.type !== v.type || want.multi !== (v.multi === true)) return "";
  const inner = v.multi ? `<t:Values>${v.value.map((x) => `<t:Value>${esc(valueText(v.type, x))}</t:Value>`).join("")}</t:Values>` : `<t:Value>${esc(valueText(v.type, v.value))}</t:Value>`;
  return `<t:ExtendedProperty>${extendedFieldUriXml(p)}${inner}</t:ExtendedProperty>`;
}

/** A value an item kind computes from its own data for a MAPI tag (mail: flags, size...), or undefined. */
export type ComputedProperty = (p: ExtendedPath) => TypedPropertyValue | undefined;

/**
 * The t:ExtendedProperty elements for the extended paths of a shape, from the
 * owner's stored properties (and the kind's computed ones first). Paths the item
 * has no value for are left out, as Exchange does.
 */
export function renderExtended(paths: readonly PropertyPath[], stored: readonly ItemProperty[], computed?: ComputedProperty): string {
  let out = "";
  for (const p of paths) {
    if (p.kind !== "extended") continue;
    const c = computed?.(p);
    if (c) {
      out += extendedPropertyXml(p, c);
      continue;
    }
    let key: PropertyKey;
    try {
      key = propertyKey(p);
    } catch {
      continue;
    }
    const hit = stored.find((s) => sameKey(s.key, key));
    if (hit) out += extendedPropertyXml(p, hit);
  }
  return out;
}

/** The extended paths among a shape's additional properties. */
export function extendedPaths(paths: readonly PropertyPath[]): ExtendedPath[] {
  return paths.filter((p): p is ExtendedPath => p.kind === "extended");
}

/**
 * Reads the stored properties of several owners when a shape asks for extended
 * properties (one store read per owner; none when no path is extended), keyed by
 * owner id.
 */
export async function loadStored(c: EwsContext, owners: readonly PropertyOwner[], paths: readonly PropertyPath[]): Promise<Map<number, ItemProperty[]>> {
  const out = new Map<number, ItemProperty[]>();
  if (!paths.some((p) => p.kind === "extended")) return out;
  for (const o of owners) {
    const id = "itemId" in o ? o.itemId : o.folderId;
    out.set(id, await c.store.getProperties(o));
  }
  return out;
}

/** The t:ExtendedProperty elements of one owner for a shape (reads the store only when the shape has extended paths). */
export async function readExtended(c: EwsContext, owner: PropertyOwner, paths: readonly PropertyPath[], computed?: ComputedProperty): Promise<string> {
  if (!paths.some((p) => p.kind === "extended")) return "";
  return renderExtended(paths, await c.store.getProperties(owner), computed);
}

/** A property's value for restrictions and sorts (first value of a multi-valued one; binary as base64). */
export function extendedValue(stored: readonly ItemProperty[], p: ExtendedPath, computed?: ComputedProperty): string | number | boolean | undefined {
  let v: TypedPropertyValue | undefined = computed?.(p);
  if (!v) {
    let key: PropertyKey;
    try {
      key = propertyKey(p);
    } catch {
      return undefined;
    }
    v = stored.find((s) => sameKey(s.key, key));
  }
  if (!v) return undefined;
  const x: unknown = v.multi ? v.value[0] : v.value;
  if (x === undefined) return undefined;
  if (x instanceof Uint8Array) return Buffer.from(x).toString("base64");
  return x as string | number | boolean;
}

/** Stores the t:ExtendedProperty children of a new item or folder (CreateItem/CreateFolder); nothing when there are none. */
export async function saveExtended(c: EwsContext, owner: PropertyOwner, itemEl: XmlElement): Promise<void> {
  const props = parseExtendedProperties(itemEl);
  if (props.length) await c.store.setProperties(owner, props);
}

/**
 * Applies the UpdateItem/UpdateFolder changes that name an extended property
 * (Set/Append = the value from the change's item element, Delete = removed) and
 * returns the other changes for the kind to apply. Validates every extended
 * change before writing any (no half-applied update for a bad value).
 */
export async function applyExtendedChanges(c: EwsContext, owner: PropertyOwner, changes: readonly PropertyChange[]): Promise<PropertyChange[]> {
  const rest: PropertyChange[] = [];
  const set: ItemProperty[] = [];
  const del: PropertyKey[] = [];
  for (const ch of changes) {
    if (ch.path.kind !== "extended") {
      rest.push(ch);
      continue;
    }
    if (ch.op === "delete") {
      del.push(propertyKey(ch.path));
      continue;
    }
    const el = ch.value ? kid(ch.value, "ExtendedProperty") : undefined;
    if (!el) throw new EwsError("ErrorInvalidExtendedProperty", "The change carries no ExtendedProperty.");
    const { path, prop } = parseExtendedProperty(el);
    if (!sameKey(propertyKey(path), propertyKey(ch.path))) throw new EwsError("ErrorInvalidPropertyRequest", "The ExtendedProperty does not match the ExtendedFieldURI of the change.");
    set.push(prop);
  }
  if (set.length) await c.store.setProperties(owner, set);
  if (del.length) await c.store.deleteProperties(owner, del);
  return rest;
}

/** Whether an element is in the types namespace and is an ExtendedProperty (for kinds walking their item element). */
export function isExtendedProperty(e: XmlElement): boolean {
  return e.ns === NS.t && e.name === "ExtendedProperty";
}
