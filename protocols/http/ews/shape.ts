/**
 * Response shapes and property paths (Types.xsd ItemResponseShapeType,
 * FolderResponseShapeType, BasePathToElementType): which properties an
 * operation returns, and which property a restriction, a sort or an
 * UpdateItem change names.
 */
import { EwsError } from "./context.ts";
import { NS } from "./ns.ts";
import { attr, kid, kidText, parseBool, type XmlElement } from "./xml.ts";

/** Types.xsd PathToExtendedFieldType: a MAPI property by tag, or a named property by set and name/id. */
export interface ExtendedPath {
  kind: "extended";
  /** PropertyTag as a number (the attribute is hex "0x1234" or decimal). */
  tag?: number;
  /** DistinguishedPropertySetId (PublicStrings, Common, Appointment...) or PropertySetId (a GUID). */
  setName?: string;
  setId?: string;
  propertyName?: string;
  propertyId?: number;
  /** Types.xsd MapiPropertyTypeType: String, Integer, Boolean, SystemTime, Binary, StringArray... */
  propertyType: string;
}

export type PropertyPath =
  /** FieldURI, e.g. "item:Subject", "message:IsRead", "calendar:Start", "folder:DisplayName". */
  | { kind: "field"; uri: string }
  /** IndexedFieldURI, e.g. "contacts:EmailAddress" with FieldIndex "EmailAddress1". */
  | { kind: "indexed"; uri: string; index: string }
  | ExtendedPath;

export type BaseShape = "IdOnly" | "Default" | "AllProperties";

export interface ItemShape {
  base: BaseShape;
  /** Types.xsd BodyTypeResponseType: Best (HTML when there is one), HTML, Text. */
  bodyType: "Best" | "HTML" | "Text";
  includeMimeContent: boolean;
  /** FilterHtmlContent: accepted and not applied (no server-side HTML sanitiser; the webmail's is DOMPurify in the browser): EWS clients render mail HTML themselves. */
  filterHtml: boolean;
  /** ConvertHtmlCodePageToUTF8 (always UTF-8 here). */
  additional: PropertyPath[];
  /**
   * Set by FindItem/SyncFolderItems lists: a kind leaves what a list cannot carry cheaply out of
   * Default (MS-OXWSSRCH: FindItem returns no Body/Attachments/MimeContent); absent = GetItem.
   */
  view?: "list";
}

export interface FolderShape {
  base: BaseShape;
  additional: PropertyPath[];
}

/** Parses one path element (t:FieldURI, t:IndexedFieldURI, t:ExtendedFieldURI). */
export function parsePath(e: XmlElement): PropertyPath {
  if (e.ns !== NS.t) throw new EwsError("ErrorInvalidPropertyRequest", `Unknown property path element ${e.name}.`);
  if (e.name === "FieldURI") {
    const uri = attr(e, "FieldURI");
    if (!uri) throw new EwsError("ErrorInvalidPropertyRequest", "FieldURI needs a FieldURI attribute.");
    return { kind: "field", uri };
  }
  if (e.name === "IndexedFieldURI") {
    const uri = attr(e, "FieldURI");
    const index = attr(e, "FieldIndex");
    if (!uri || !index) throw new EwsError("ErrorInvalidPropertyRequest", "IndexedFieldURI needs FieldURI and FieldIndex.");
    return { kind: "indexed", uri, index };
  }
  if (e.name === "ExtendedFieldURI") {
    const type = attr(e, "PropertyType");
    if (!type) throw new EwsError("ErrorInvalidExtendedProperty", "ExtendedFieldURI needs a PropertyType.");
    const p: ExtendedPath = { kind: "extended", propertyType: type };
    const tag = attr(e, "PropertyTag");
    if (tag !== undefined) {
      const n = /^0x[0-9a-f]{1,4}$/i.test(tag) ? parseInt(tag, 16) : /^\d{1,5}$/.test(tag) ? Number(tag) : NaN;
      if (!Number.isInteger(n) || n < 1 || n > 0xfffe) throw new EwsError("ErrorInvalidExtendedProperty", `PropertyTag "${tag}" is not a property id.`);
      p.tag = n;
    }
    p.setName = attr(e, "DistinguishedPropertySetId");
    p.setId = attr(e, "PropertySetId");
    p.propertyName = attr(e, "PropertyName");
    const pid = attr(e, "PropertyId");
    if (pid !== undefined) {
      const n = /^0x[0-9a-f]{1,8}$/i.test(pid) ? parseInt(pid, 16) : /^\d{1,10}$/.test(pid) ? Number(pid) : NaN;
      if (!Number.isInteger(n)) throw new EwsError("ErrorInvalidExtendedProperty", `PropertyId "${pid}" is not a number.`);
      p.propertyId = n;
    }
    const named = (p.setName || p.setId) && (p.propertyName !== undefined || p.propertyId !== undefined);
    if ((p.tag === undefined) === !named) throw new EwsError("ErrorInvalidExtendedProperty", "An extended property is either a PropertyTag or a property set with a PropertyName or PropertyId.");
    return p;
  }
  throw new EwsError("ErrorInvalidPropertyRequest", `Unknown property path element ${e.name}.`);
}

/** The paths inside an AdditionalProperties (or SortOrder FieldOrder, etc.) element. */
export function parsePaths(e: XmlElement | undefined): PropertyPath[] {
  if (!e) return [];
  return e.children.filter((k) => k.ns === NS.t).map(parsePath);
}

function baseShape(s: string | undefined): BaseShape {
  if (s === "IdOnly" || s === "Default" || s === "AllProperties") return s;
  throw new EwsError("ErrorInvalidRequest", `BaseShape must be IdOnly, Default or AllProperties.`);
}

/** m:ItemShape (GetItem, FindItem, SyncFolderItems). */
export function parseItemShape(e: XmlElement | undefined): ItemShape {
  if (!e) throw new EwsError("ErrorInvalidRequest", "ItemShape is required.");
  const bt = kidText(e, "BodyType");
  if (bt !== undefined && bt !== "Best" && bt !== "HTML" && bt !== "Text") throw new EwsError("ErrorInvalidRequest", "BodyType must be Best, HTML or Text.");
  return {
    base: baseShape(kidText(e, "BaseShape")),
    bodyType: (bt as ItemShape["bodyType"] | undefined) ?? "Best",
    includeMimeContent: parseBool(kidText(e, "IncludeMimeContent")) ?? false,
    filterHtml: parseBool(kidText(e, "FilterHtmlContent")) ?? false,
    additional: parsePaths(kid(e, "AdditionalProperties")),
  };
}

/** m:FolderShape (GetFolder, FindFolder, SyncFolderHierarchy). */
export function parseFolderShape(e: XmlElement | undefined): FolderShape {
  if (!e) throw new EwsError("ErrorInvalidRequest", "FolderShape is required.");
  return { base: baseShape(kidText(e, "BaseShape")), additional: parsePaths(kid(e, "AdditionalProperties")) };
}

/** Whether a shape asks for a field URI (in AdditionalProperties). */
export function wants(shape: { additional: PropertyPath[] }, uri: string): boolean {
  return shape.additional.some((p) => p.kind === "field" && p.uri === uri);
}

/** A path as text for error messages and for keys ("item:Subject", "contacts:EmailAddress[EmailAddress1]"). */
export function pathKey(p: PropertyPath): string {
  if (p.kind === "field") return p.uri;
  if (p.kind === "indexed") return `${p.uri}[${p.index}]`;
  return p.tag !== undefined ? `ext:0x${p.tag.toString(16)}:${p.propertyType}` : `ext:${p.setName ?? p.setId}:${p.propertyName ?? p.propertyId}:${p.propertyType}`;
}

/**
 * One UpdateItem/UpdateFolder change (Types.xsd ItemChangeDescriptionType):
 * Set (value: the item element holding the one new property, e.g.
 * `<t:Message><t:IsRead>true</t:IsRead></t:Message>`), Append (the same,
 * for Body/ToRecipients...), or Delete.
 */
export interface PropertyChange {
  op: "set" | "append" | "delete";
  path: PropertyPath;
  /** For set/append: the item (or folder) element carrying the value. */
  value?: XmlElement;
}

/** Parses t:Updates of an ItemChange or FolderChange. */
export function parseChanges(updates: XmlElement | undefined): PropertyChange[] {
  if (!updates) throw new EwsError("ErrorInvalidRequest", "Updates is required.");
  const out: PropertyChange[] = [];
  for (const u of updates.children) {
    if (u.ns !== NS.t) continue;
    const op = u.name === "SetItemField" || u.name === "SetFolderField" ? "set" : u.name === "AppendToItemField" || u.name === "AppendToFolderField" ? "append" : u.name === "DeleteItemField" || u.name === "DeleteFolderField" ? "delete" : null;
    if (!op) throw new EwsError("ErrorInvalidRequest", `Unknown change ${u.name}.`);
    const pathEl = u.children.find((k) => k.ns === NS.t && (k.name === "FieldURI" || k.name === "IndexedFieldURI" || k.name === "ExtendedFieldURI"));
    if (!pathEl) throw new EwsError("ErrorInvalidRequest", `${u.name} names no property.`);
    const path = parsePath(pathEl);
    const value = op === "delete" ? undefined : u.children.find((k) => k !== pathEl && k.ns === NS.t);
    if (op !== "delete" && !value) throw new EwsError("ErrorInvalidRequest", `${u.name} carries no value.`);
    out.push({ op, path, value });
  }
  return out;
}
