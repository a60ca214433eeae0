/**
 * The notes kind (kinds.ts): the notes folders' VJOURNAL items as t:Message
 * with ItemClass IPM.StickyNote (MS-OXONOTE: a sticky note is a message
 * item of that class; EWS has no element of its own for it). Subject is
 * SUMMARY, Body DESCRIPTION, Categories CATEGORIES, as ActiveSync Notes
 * keep them (../eas/groupware/note.ts, whose converter reads and writes
 * the body here too). Written through the store's item API, as ActiveSync
 * writes notes. Message belongs to the mail kind for CreateItem's element
 * lookup: a t:Message into a notes folder comes here by the folder's class.
 */
import { NOTE_CLASS, noteCodec, noteFieldsOf, readNote } from "../eas/groupware/note.ts";
import { el } from "../eas/wbxml/tree.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { itemIdXml } from "./ids.ts";
import { bodyOf, codecContext, guarded, idOnly, createGw, extendedXml, headValue, itemHeadXml, wanted, gwKind, withExtended, type GwItem } from "./groupware-items.ts";
import { registerItemKind } from "./kinds.ts";
import { NS } from "./ns.ts";
import type { ItemShape, PropertyChange, PropertyPath } from "./shape.ts";
import { kid, kidText, t, tv, type XmlElement } from "./xml.ts";

interface NoteValues {
  subject: string;
  text: string;
  categories: string[];
  messageClass: string;
}

function fromMessage(msg: XmlElement, into: NoteValues, only?: string): void {
  const take = (uri: string) => only === undefined || only === uri;
  const cls = kidText(msg, "ItemClass");
  if (cls !== undefined && take("item:ItemClass")) {
    if (cls !== NOTE_CLASS && !cls.startsWith(`${NOTE_CLASS}.`)) throw new EwsError("ErrorInvalidValueForProperty", `A notes folder holds ${NOTE_CLASS} items, not ${cls.slice(0, 60)}.`);
    into.messageClass = cls;
  }
  const subject = kid(msg, "Subject");
  if (subject && take("item:Subject")) into.subject = subject.text;
  const body = kid(msg, "Body");
  if (body && take("item:Body")) into.text = body.text;
  const cats = kid(msg, "Categories");
  if (cats && take("item:Categories")) into.categories = cats.children.filter((s) => s.ns === NS.t && s.name === "String").map((s) => s.text);
}

function write(c: EwsContext, v: NoteValues, existing: Uint8Array | null): Uint8Array {
  const data = el(
    "AirSync:ApplicationData",
    el("AirSyncBase:Body", el("AirSyncBase:Type", 1), v.text === "" ? null : el("AirSyncBase:Data", v.text)),
    el("Notes:Subject", v.subject),
    el("Notes:MessageClass", v.messageClass),
    v.categories.length ? el("Notes:Categories", v.categories.map((x) => el("Notes:Category", x))) : null,
  );
  return noteCodec.fromEas(data, existing, codecContext(c));
}

const UPDATABLE = new Set(["item:Subject", "item:Body", "item:Categories", "item:ItemClass"]);

async function render(c: EwsContext, it: GwItem, shape: ItemShape): Promise<string> {
  if (idOnly(shape)) return t("Message", itemIdXml(it.ref, it.modseq), await extendedXml(c, it, shape));
  const n = readNote(await bodyOf(c, it));
  return t(
    "Message",
    itemHeadXml(c, it, shape, { itemClass: n.messageClass, subject: n.subject, bodyText: n.text, categories: n.categories, created: n.lastModified, extended: await extendedXml(c, it, shape) }),
    wanted(shape, "message:IsRead") ? tv("IsRead", true) : "",
  );
}

function value(_c: EwsContext, it: GwItem, path: PropertyPath): string | number | boolean | readonly string[] | undefined {
  const item = it.data.item;
  if (item.itemClass !== "notes") return undefined;
  if (path.kind === "field" && path.uri === "item:ItemClass") return NOTE_CLASS;
  return headValue(it, path, item.fields.subject);
}

const noteKind = gwKind({
  itemClass: "notes",
  elements: [],
  render,
  value,
  async create(c, folder, msg) {
    if (folder.itemClass !== "notes") throw new EwsError("ErrorInvalidRequest", "Notes are created in a notes folder.");
    const v: NoteValues = { subject: "", text: "", categories: [], messageClass: NOTE_CLASS };
    fromMessage(msg, v);
    const body = await guarded(async () => write(c, v, null));
    return withExtended(c, await createGw(c, folder, body, noteFieldsOf), msg);
  },
  changedBody: (c, it, rest) => noteBody(c, it, rest),
  noteFields: noteFieldsOf,
});

async function noteBody(c: EwsContext, it: GwItem, changes: PropertyChange[]): Promise<Uint8Array> {
  const body = await bodyOf(c, it);
  const n = readNote(body);
  const v: NoteValues = { subject: n.subject, text: n.text, categories: n.categories, messageClass: n.messageClass };
  for (const ch of changes) {
    const uri = ch.path.kind === "field" ? ch.path.uri : "";
    if (!UPDATABLE.has(uri)) throw new EwsError("ErrorInvalidPropertyRequest", `The property ${uri || "(extended)"} cannot be changed on a note.`);
    if (ch.op === "delete" || !ch.value) {
      if (uri === "item:Subject") v.subject = "";
      if (uri === "item:Body") v.text = "";
      if (uri === "item:Categories") v.categories = [];
      continue;
    }
    if (uri === "item:Categories" && ch.op === "append") {
      const add: NoteValues = { ...v, categories: [] };
      fromMessage(ch.value, add, uri);
      v.categories = [...new Set([...v.categories, ...add.categories])];
    } else if (uri === "item:Body" && ch.op === "append") {
      const add: NoteValues = { ...v, text: "" };
      fromMessage(ch.value, add, uri);
      v.text += add.text;
    } else fromMessage(ch.value, v, uri);
  }
  return write(c, v, body);
}

registerItemKind(noteKind);
