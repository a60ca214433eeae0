/**
 * What the contact, task and note kinds (contact-kind.ts, task-kind.ts,
 * note-kind.ts) share: store items of a non-mail class, loaded in batches,
 * written the way CalDAV/CardDAV write them (contacts and tasks through the
 * groupware service, so ETags, UID rules and DAV sync see every EWS change;
 * notes through the store's item API, as ActiveSync writes them), and the
 * ItemType part of their elements (Types.xsd ItemType: ItemId, ParentFolderId,
 * ItemClass, Subject, Body, Categories, DateTimeCreated, LastModifiedTime).
 *
 * The bodies are converted by ActiveSync's converters
 * (../eas/groupware/contact.ts, task.ts, note.ts): EWS and ActiveSync carry
 * the same fields, so an EWS item is translated into the converter's element
 * tree and written back as the same merge (properties EWS cannot show are kept).
 */
import { randomUUID } from "node:crypto";
import type { Folder, Item, ItemClass } from "../../../storage/api.ts";
import { StoreError } from "../../../storage/api.ts";
import { etagOf, GroupwareError, type Collection, type CollectionKind } from "../../../src/groupware/index.ts";
import { EasDataError, type CodecContext } from "../eas/groupware/codec.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { folderIdXml, itemIdXml, type ItemRef } from "./ids.ts";
import type { ItemKind, KindItem } from "./kinds.ts";
import { applyExtendedChanges, isExtendedProperty, readExtended, saveExtended } from "./extended.ts";
import type { ItemShape, PropertyChange, PropertyPath } from "./shape.ts";
import { dateTime, t, tv, type XmlElement } from "./xml.ts";

export type GwClass = Exclude<ItemClass, "mail">;

/** A stored item, and its body once read (render reads it; list paths never do). */
export interface GwData {
  item: Item;
  body?: Uint8Array;
}

export type GwItem = KindItem<GwData>;

export function gwItem(item: Item): GwItem {
  return { ref: { accountId: item.accountId, itemClass: item.itemClass, id: item.id }, folderId: item.folderId, modseq: item.modseq, data: { item } };
}

/** Every item of a folder (one query, no bodies). */
export async function listGw(c: EwsContext, folder: Folder): Promise<GwItem[]> {
  return (await c.store.listItems(folder.id)).map(gwItem);
}

/** Items by id in one query; others' items and other classes are left out. */
export async function loadGw(c: EwsContext, cls: GwClass, refs: readonly ItemRef[]): Promise<GwItem[]> {
  if (refs.length === 0) return [];
  const items = await c.store.getItems(refs.map((r) => r.id));
  return items.filter((i) => i.accountId === c.account.id && i.itemClass === cls).map(gwItem);
}

/** The item's body (read once). */
export async function bodyOf(c: EwsContext, it: GwItem): Promise<Uint8Array> {
  if (!it.data.body) it.data.body = await c.store.readItemBody(it.data.item.id);
  return it.data.body;
}

/** The context ActiveSync's converters take: plain-text bodies, no truncation, every field managed unless `supported` says otherwise. */
export function codecContext(c: EwsContext, supported?: ReadonlySet<string>): CodecContext {
  return { version: 161, account: c.account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: c.now(), log: c.log, supported };
}

/**
 * Whether the shape returns a property: every property for Default and
 * AllProperties (these kinds have few), only the asked ones for IdOnly.
 * `uris` are the FieldURI values naming it (an indexed path counts by its FieldURI).
 */
export function wanted(shape: ItemShape, ...uris: string[]): boolean {
  if (shape.base !== "IdOnly") return true;
  return shape.additional.some((p) => (p.kind === "field" || p.kind === "indexed") && uris.includes(p.uri));
}

/** True when a shape asks for nothing but the id (and perhaps extended properties): the body need not be read. */
export function idOnly(shape: ItemShape): boolean {
  return shape.base === "IdOnly" && !shape.additional.some((p) => p.kind !== "extended");
}

/** Body: in GetItem's Default and AllProperties; a list (FindItem, SyncFolderItems: shape.view) only when asked by name (MS-OXWSSRCH). */
function bodyWanted(shape: ItemShape): boolean {
  const asked = shape.additional.some((p) => p.kind === "field" && p.uri === "item:Body");
  return asked || (shape.base !== "IdOnly" && shape.view !== "list");
}

/** The t:ExtendedProperty elements of an item for the shape's extended paths (one store read, only when asked). */
export function extendedXml(c: EwsContext, it: GwItem, shape: ItemShape): Promise<string> {
  return readExtended(c, { itemId: it.data.item.id }, shape.additional);
}

/** The ItemType part common to the three kinds, in the schema's order (Types.xsd ItemType). */
export interface ItemHead {
  itemClass: string;
  subject?: string;
  sensitivity?: string;
  bodyText?: string;
  categories?: string[];
  importance?: string;
  created?: number | null;
  reminderDueBy?: number | null;
  reminderIsSet?: boolean;
  /** The t:ExtendedProperty elements the shape asked for (extendedXml). */
  extended?: string;
}

/** ItemId .. LastModifiedTime of ItemType, before the kind's own elements. */
export function itemHeadXml(c: EwsContext, it: GwItem, shape: ItemShape, h: ItemHead): string {
  const w = (...u: string[]) => wanted(shape, ...u);
  const item = it.data.item;
  return [
    itemIdXml(it.ref, it.modseq),
    w("item:ParentFolderId") ? folderIdXml(c.account.id, { id: item.folderId } as Folder, it.modseq, "ParentFolderId") : "",
    w("item:ItemClass") ? tv("ItemClass", h.itemClass) : "",
    w("item:Subject") ? tv("Subject", h.subject ?? "") : "",
    w("item:Sensitivity") ? tv("Sensitivity", h.sensitivity ?? "Normal") : "",
    bodyWanted(shape) && h.bodyText !== undefined ? tv("Body", h.bodyText, { BodyType: "Text" }) : "",
    w("item:Size") ? tv("Size", item.size) : "",
    w("item:Categories") && h.categories?.length ? t("Categories", ...h.categories.map((x) => tv("String", x))) : "",
    w("item:Importance") ? tv("Importance", h.importance ?? "Normal") : "",
    w("item:DateTimeCreated") ? tv("DateTimeCreated", dateTime(h.created ?? item.modifiedAt)) : "",
    w("item:ReminderDueBy") && h.reminderDueBy ? tv("ReminderDueBy", dateTime(h.reminderDueBy)) : "",
    w("item:ReminderIsSet") ? tv("ReminderIsSet", h.reminderIsSet ?? false) : "",
    w("item:HasAttachments") ? tv("HasAttachments", false) : "",
    h.extended ?? "",
    w("item:LastModifiedTime") ? tv("LastModifiedTime", dateTime(item.modifiedAt)) : "",
  ].join("");
}

/** A value for restrictions and sorts common to every groupware kind (calendar too); undefined when the path is not one of them. */
export function headValue(it: { data: { item: Item } }, path: PropertyPath, subject: string | undefined): string | number | boolean | readonly string[] | undefined {
  if (path.kind !== "field") return undefined;
  const item = it.data.item;
  switch (path.uri) {
    case "item:Subject":
      return subject;
    case "item:DateTimeCreated":
    case "item:LastModifiedTime":
      return item.modifiedAt;
    case "item:Size":
      return item.size;
    case "item:ItemId":
      return item.id;
    default:
      return undefined;
  }
}

// ------------------------------------------------------------ writing

/** The groupware collection of a contacts or tasks folder. */
export async function collectionOf(c: EwsContext, folder: Folder): Promise<Collection> {
  const kind = folder.itemClass as CollectionKind;
  const col = (await c.server.groupware.listCollections(c.account, kind)).find((x) => x.id === folder.id);
  if (!col) throw new EwsError("ErrorFolderNotFound", "The folder was not found in this mailbox.");
  return col;
}

const EXT: Record<GwClass, string> = { contacts: ".vcf", tasks: ".ics", calendar: ".ics", notes: "" };

/** CreateItem's t:ExtendedProperty children, stored with the new item; the item as it is then. */
export async function withExtended(c: EwsContext, it: GwItem, el: XmlElement): Promise<GwItem> {
  if (!el.children.some(isExtendedProperty)) return it;
  await saveExtended(c, { itemId: it.data.item.id }, el);
  return reload(c, it);
}

async function reload(c: EwsContext, it: GwItem): Promise<GwItem> {
  const now = await c.store.getItem(it.data.item.id);
  if (!now) throw new EwsError("ErrorItemNotFound", "The item was deleted meanwhile.");
  return gwItem(now);
}

/**
 * UpdateItem for a kind: the new body is made from the other changes first
 * (a bad value fails before anything is written), then the extended
 * properties are written (extended.ts validates all of them first), then the
 * body, on the item as it is after the property write.
 */
export async function updateWithExtended(c: EwsContext, it: GwItem, changes: PropertyChange[], makeBody: (rest: PropertyChange[]) => Promise<Uint8Array | null>, noteFields?: (b: Uint8Array) => { subject?: string }): Promise<GwItem> {
  const rest = changes.filter((ch) => ch.path.kind !== "extended");
  const body = rest.length ? await guarded(() => makeBody(rest)) : null;
  let cur = it;
  if (rest.length !== changes.length) {
    await applyExtendedChanges(c, { itemId: it.data.item.id }, changes.filter((ch) => ch.path.kind === "extended"));
    cur = await reload(c, it);
  }
  return body ? updateGw(c, cur, body, noteFields) : cur;
}

/** Stores a new body in a folder; notes need their indexed fields. */
export async function createGw(c: EwsContext, folder: Folder, body: Uint8Array, noteFields?: (b: Uint8Array) => { subject?: string }): Promise<GwItem> {
  try {
    if (folder.itemClass === "notes") return gwItem(await c.store.createItem(folder.id, { itemClass: "notes", body, fields: noteFields!(body) }));
    const col = await collectionOf(c, folder);
    const r = await c.server.groupware.putObject(col, `${randomUUID()}${EXT[folder.itemClass as GwClass]}`, body, { ifNoneMatch: "*", actor: c.account, schedule: false });
    return gwItem(r.object.item);
  } catch (e) {
    throw writeError(e);
  }
}

/** Replaces the body of an item, only if it is still the version loaded (a concurrent edit: ErrorIrresolvableConflict). */
export async function updateGw(c: EwsContext, it: GwItem, body: Uint8Array, noteFields?: (b: Uint8Array) => { subject?: string }): Promise<GwItem> {
  const item = it.data.item;
  try {
    if (item.itemClass === "notes") return gwItem(await c.store.updateItem(item.id, { itemClass: "notes", body, fields: noteFields!(body) }, { ifModseq: item.modseq }));
    const folder = await c.store.getFolderById(item.folderId);
    if (!folder) throw new EwsError("ErrorItemNotFound", "The item was not found.");
    const col = await collectionOf(c, folder);
    const r = await c.server.groupware.putObject(col, item.resourceName ?? String(item.id), body, { ifMatch: etagOf(item), actor: c.account, schedule: false });
    return gwItem(r.object.item);
  } catch (e) {
    throw writeError(e);
  }
}

export async function removeGw(c: EwsContext, it: GwItem): Promise<void> {
  const item = it.data.item;
  try {
    const folder = item.itemClass === "notes" ? null : await c.store.getFolderById(item.folderId);
    if (folder && item.resourceName) await c.server.groupware.deleteObject(await collectionOf(c, folder), item.resourceName, { actor: c.account, schedule: false });
    else await c.store.deleteItem(item.id);
  } catch (e) {
    throw writeError(e);
  }
}

function checkTarget(it: GwItem, to: Folder): void {
  if (to.accountId !== it.ref.accountId) throw new EwsError("ErrorFolderNotFound", "The folder was not found in this mailbox.");
  if (to.itemClass !== it.data.item.itemClass) {
    throw new EwsError(it.data.item.itemClass === "contacts" ? "ErrorCannotCreateContactInNonContactFolder" : it.data.item.itemClass === "tasks" ? "ErrorCannotCreateTaskInNonTaskFolder" : "ErrorInvalidRequest", `A ${it.data.item.itemClass} item cannot go into a ${to.itemClass} folder.`);
  }
}

/** MoveItem: same id; the store renames the resource when the name is taken there. */
export async function moveGw(c: EwsContext, it: GwItem, to: Folder): Promise<GwItem> {
  checkTarget(it, to);
  if (to.id === it.folderId) return it;
  try {
    return gwItem(await c.store.moveItem(it.data.item.id, to.id));
  } catch (e) {
    throw writeError(e);
  }
}

/**
 * CopyItem: a new item with a new UID (RFC 6352 §6.3.2.1 / RFC 4791
 * §5.3.2.1: a collection holds a UID once; a copy is another object).
 */
export async function copyGw(c: EwsContext, it: GwItem, to: Folder, noteFields?: (b: Uint8Array) => { subject?: string }): Promise<GwItem> {
  checkTarget(it, to);
  const text = new TextDecoder().decode(await bodyOf(c, it));
  // UID lines may be folded (RFC 5545 §3.1): the whole logical line is replaced.
  const copied = text.replace(/^UID([;:])(?:[^\r\n]*)(?:\r?\n[ \t][^\r\n]*)*/gim, () => `UID:${randomUUID()}`);
  return createGw(c, to, new TextEncoder().encode(copied), noteFields);
}

/** Runs a conversion or write, mapping the converters' and the groupware service's errors to ResponseCodes. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw writeError(e);
  }
}

/** A failed write as the ResponseCode that says why. */
export function writeError(e: unknown): unknown {
  if (e instanceof EwsError) return e;
  if (e instanceof EasDataError) return new EwsError("ErrorInvalidValueForProperty", e.message);
  if (e instanceof GroupwareError) {
    const code: Record<string, string> = {
      INVALID_DATA: "ErrorInvalidValueForProperty",
      INVALID_OBJECT: "ErrorInvalidValueForProperty",
      WRONG_COMPONENT: "ErrorInvalidRequest",
      UID_CONFLICT: "ErrorItemSave",
      PRECONDITION: "ErrorIrresolvableConflict",
      NOT_FOUND: "ErrorItemNotFound",
      FORBIDDEN: "ErrorAccessDenied",
      TOO_LARGE: "ErrorMessageSizeExceeded",
      LIMIT: "ErrorInvalidRequest",
      QUOTA: "ErrorQuotaExceeded",
    };
    return new EwsError(code[e.code] ?? "ErrorInvalidRequest", e.message);
  }
  if (e instanceof StoreError && e.code === "MODIFIED") return new EwsError("ErrorIrresolvableConflict", "The item was changed by another client; read it again.");
  return e;
}

/** The text of a t:Body element (HTML made text by the converters' own rule: the EAS body reader). */
export function ewsBodyText(el: { attrs: Record<string, string>; text: string } | undefined): { type: number; text: string } | undefined {
  if (!el) return undefined;
  return { type: el.attrs.BodyType === "HTML" ? 2 : 1, text: el.text };
}

/**
 * The ItemKind of a class kept as one CardDAV/CalDAV object per item (contacts,
 * tasks, notes): listing, loading, deleting, moving and copying are the same
 * for all; each class gives its elements, rendering, values, how a created
 * item is made and how changes make its new body. `noteFields` keeps the
 * store's summary fields for classes whose body is not iCalendar/vCard.
 */
export function gwKind(spec: {
  itemClass: GwClass;
  elements: string[];
  render: ItemKind<GwData>["render"];
  value: ItemKind<GwData>["value"];
  create: (c: EwsContext, folder: Folder, el: XmlElement) => Promise<GwItem>;
  changedBody: (c: EwsContext, it: GwItem, rest: PropertyChange[]) => Promise<Uint8Array | null>;
  noteFields?: (b: Uint8Array) => { subject?: string };
}): ItemKind<GwData> {
  return {
    itemClass: spec.itemClass,
    elements: spec.elements,
    list: listGw,
    load: (c, refs) => loadGw(c, spec.itemClass, refs),
    render: spec.render,
    value: spec.value,
    create: (c, folder, el) => spec.create(c, folder, el),
    update: (c, it, changes) => updateWithExtended(c, it, changes, (rest) => spec.changedBody(c, it, rest), spec.noteFields),
    remove: (c, it) => removeGw(c, it),
    move: moveGw,
    copy: (c, it, to) => copyGw(c, it, to, spec.noteFields),
  };
}
