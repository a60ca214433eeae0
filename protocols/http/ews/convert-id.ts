/**
 * ConvertId (Messages.xsd ConvertIdType; MS-OXWSCORE §3.1.4.3): the same
 * item or folder id in another of the six IdFormatType forms. Clients call
 * it to match EWS ids with ids they got elsewhere (Outlook's EntryIds), and
 * exchangelib sends it first, with the id "DUMMY", only to learn the server
 * version from the response header.
 *
 * The forms, all reversible and computed without a store lookup (Exchange
 * converts without checking that the item exists either):
 *  - EwsId, EwsLegacyId: our opaque id (ids.ts); there is one EWS form here.
 *  - EntryId: base64 of a MAPI-shaped binary (MS-OXCDATA §2.2.4.1 Folder
 *    EntryID, 46 bytes; §2.2.4.2 Message EntryID, 70 bytes): Flags 0, our
 *    provider UID, the type (eitLTPrivateFolder 0x0001 / eitLTPrivateMessage
 *    0x0007), and database GUIDs and global counters that carry our ids:
 *    a database GUID is a fixed 10-byte prefix, the account id (4 bytes big
 *    endian) and the item class letter (2 bytes); the message's global
 *    counter is the store's item id (48 bits) and the folder global counter
 *    of a message holds an occurrence's original start in ms + 1 (0 = none).
 *    A folder's global counter is the folder id, or 0xFFFFFFFFFFFF for the
 *    mailbox root, 0xFFFFFFFFFFFE for the IPM subtree (msgfolderroot) and
 *    0xFFFFFFFFFFFD for the (empty) recoverable items Deletions folder.
 *  - HexEntryId: the same bytes in upper-case hex.
 *  - StoreId: base64 of the EntryId's length (4 bytes little endian), the
 *    EntryId, and one byte naming folder (1) or item (2).
 *  - OwaId: the StoreId bytes in URL-safe base64 without padding.
 */
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { folderId, itemId, parseFolderId, parseItemId, type ItemRef, type VirtualFolder } from "./ids.ts";
import type { Folder, ItemClass } from "../../../storage/api.ts";
import { NS } from "./ns.ts";
import { failure, responseMessages, success } from "./responses.ts";
import { attr, esc, mkid, type XmlElement } from "./xml.ts";

export const ID_FORMATS = ["EwsId", "EwsLegacyId", "EntryId", "HexEntryId", "StoreId", "OwaId"] as const;
export type IdFormat = (typeof ID_FORMATS)[number];

/** Ids per request (the rules' bound on client-controlled counts). */
export const MAX_CONVERT_IDS = 1000;

/** The thing an id names, whatever its form. */
export type Target = { kind: "item"; ref: ItemRef } | { kind: "folder"; accountId: number; folder: number | VirtualFolder };

/** Our MAPI provider UID (a fixed random GUID: it says "a Pillarbox store", nothing more). */
const PROVIDER_UID = Buffer.from("5b1f0e6a93d44c2e8a7c1d2f60b4e917", "hex");
/** The first 10 bytes of every database GUID we write. */
const DB_PREFIX = Buffer.from("50696c6c6172626f7821", "hex"); // "Pillarbox!"
const FOLDER_ENTRY = 0x0001; // MS-OXCDATA §2.2.4.1 eitLTPrivateFolder
const MESSAGE_ENTRY = 0x0007; // MS-OXCDATA §2.2.4.2 eitLTPrivateMessage
const ROOT_COUNTER = 0xffffffffffff;
const IPM_COUNTER = 0xfffffffffffe;
const DELETIONS_COUNTER = 0xfffffffffffd;
/** Largest store id a global counter carries (the three above name the virtual folders). */
const MAX_COUNTER = 0xfffffffffffc;

const CLASS_CODE: Record<ItemClass, number> = { mail: 0x4d, calendar: 0x43, contacts: 0x4b, tasks: 0x54, notes: 0x4e };
const CODE_CLASS = new Map(Object.entries(CLASS_CODE).map(([k, v]) => [v, k as ItemClass]));

function dbGuid(accountId: number, cls: number): Buffer {
  const b = Buffer.alloc(16);
  DB_PREFIX.copy(b, 0);
  b.writeUInt32BE(accountId, 10);
  b.writeUInt16BE(cls, 14);
  return b;
}

function readDbGuid(b: Buffer, at: number): { accountId: number; cls: number } | null {
  if (!b.subarray(at, at + 10).equals(DB_PREFIX)) return null;
  return { accountId: b.readUInt32BE(at + 10), cls: b.readUInt16BE(at + 14) };
}

function writeCounter(b: Buffer, at: number, n: number): void {
  b.writeUIntBE(n, at, 6);
}

/** The EntryId bytes of an item or folder. */
export function entryIdBytes(t: Target): Buffer {
  if (t.kind === "folder") {
    if (typeof t.folder === "number" && t.folder > MAX_COUNTER) throw new EwsError("ErrorInvalidIdMalformed", "This id has no EntryId form.");
    const b = Buffer.alloc(46);
    PROVIDER_UID.copy(b, 4);
    b.writeUInt16LE(FOLDER_ENTRY, 20);
    dbGuid(t.accountId, 0).copy(b, 22);
    writeCounter(b, 38, t.folder === "root" ? ROOT_COUNTER : t.folder === "msgfolderroot" ? IPM_COUNTER : t.folder === "recoverableitemsdeletions" ? DELETIONS_COUNTER : t.folder);
    return b;
  }
  const { ref } = t;
  if (ref.id > MAX_COUNTER || (ref.occurrence !== undefined && (ref.occurrence < 0 || ref.occurrence + 1 > MAX_COUNTER))) {
    throw new EwsError("ErrorInvalidIdMalformed", "This id has no EntryId form.");
  }
  const b = Buffer.alloc(70);
  PROVIDER_UID.copy(b, 4);
  b.writeUInt16LE(MESSAGE_ENTRY, 20);
  dbGuid(ref.accountId, 0).copy(b, 22);
  writeCounter(b, 38, ref.occurrence === undefined ? 0 : ref.occurrence + 1);
  dbGuid(ref.accountId, CLASS_CODE[ref.itemClass]).copy(b, 46);
  writeCounter(b, 62, ref.id);
  return b;
}

/** Reads EntryId bytes we wrote; null for anything else. */
export function parseEntryIdBytes(b: Buffer): Target | null {
  if (b.length !== 46 && b.length !== 70) return null;
  if (b.readUInt32LE(0) !== 0 || !b.subarray(4, 20).equals(PROVIDER_UID)) return null;
  const type = b.readUInt16LE(20);
  const folderDb = readDbGuid(b, 22);
  if (!folderDb || folderDb.cls !== 0) return null;
  if (type === FOLDER_ENTRY && b.length === 46) {
    if (b.readUInt16BE(44) !== 0) return null;
    const n = b.readUIntBE(38, 6);
    const folder: number | VirtualFolder = n === ROOT_COUNTER ? "root" : n === IPM_COUNTER ? "msgfolderroot" : n === DELETIONS_COUNTER ? "recoverableitemsdeletions" : n;
    return { kind: "folder", accountId: folderDb.accountId, folder };
  }
  if (type === MESSAGE_ENTRY && b.length === 70) {
    const msgDb = readDbGuid(b, 46);
    const cls = msgDb && CODE_CLASS.get(msgDb.cls);
    if (!msgDb || !cls || msgDb.accountId !== folderDb.accountId || b.readUInt16BE(44) !== 0 || b.readUInt16BE(68) !== 0) return null;
    const ref: ItemRef = { accountId: msgDb.accountId, itemClass: cls, id: b.readUIntBE(62, 6) };
    const occ = b.readUIntBE(38, 6);
    if (occ !== 0) ref.occurrence = occ - 1;
    return { kind: "item", ref };
  }
  return null;
}

function storeIdBytes(t: Target): Buffer {
  const entry = entryIdBytes(t);
  const b = Buffer.alloc(entry.length + 5);
  b.writeUInt32LE(entry.length, 0);
  entry.copy(b, 4);
  b[entry.length + 4] = t.kind === "folder" ? 1 : 2;
  return b;
}

function parseStoreIdBytes(b: Buffer): Target | null {
  if (b.length < 5) return null;
  const len = b.readUInt32LE(0);
  if (len !== b.length - 5) return null;
  const t = parseEntryIdBytes(b.subarray(4, 4 + len));
  return t && b[b.length - 1] === (t.kind === "folder" ? 1 : 2) ? t : null;
}

const B64 = /^[A-Za-z0-9+/]{1,400}={0,2}$/;
const B64URL = /^[A-Za-z0-9_-]{1,400}$/;

/** An id in the given form to what it names; null when it is not one of ours. */
export function decodeId(id: string, format: IdFormat): Target | null {
  const s = id.trim();
  switch (format) {
    case "EwsId":
    case "EwsLegacyId": {
      const ref = parseItemId(s);
      if (ref) return { kind: "item", ref };
      const f = parseFolderId(s);
      return f ? { kind: "folder", accountId: f.accountId, folder: f.folder } : null;
    }
    case "EntryId":
      return B64.test(s) ? parseEntryIdBytes(Buffer.from(s, "base64")) : null;
    case "HexEntryId":
      return /^(?:[0-9A-Fa-f]{2}){1,200}$/.test(s) ? parseEntryIdBytes(Buffer.from(s, "hex")) : null;
    case "StoreId":
      return B64.test(s) ? parseStoreIdBytes(Buffer.from(s, "base64")) : null;
    case "OwaId":
      return B64URL.test(s) ? parseStoreIdBytes(Buffer.from(s, "base64url")) : null;
  }
}

/** What it names, in the given form. */
export function encodeId(t: Target, format: IdFormat): string {
  switch (format) {
    case "EwsId":
    case "EwsLegacyId":
      if (t.kind === "item") return itemId(t.ref);
      // folderId() reads only a store folder's id; no store lookup is needed to name it.
      return folderId(t.accountId, typeof t.folder === "string" ? t.folder : ({ id: t.folder } as Folder));
    case "EntryId":
      return entryIdBytes(t).toString("base64");
    case "HexEntryId":
      return entryIdBytes(t).toString("hex").toUpperCase();
    case "StoreId":
      return storeIdBytes(t).toString("base64");
    case "OwaId":
      return storeIdBytes(t).toString("base64url");
  }
}

function isFormat(s: string | undefined): s is IdFormat {
  return s !== undefined && (ID_FORMATS as readonly string[]).includes(s);
}

function convertOne(c: EwsContext, src: XmlElement, dest: IdFormat): string {
  const tag = "ConvertIdResponseMessage";
  try {
    // Types.xsd AlternatePublicFolderId / AlternatePublicFolderItemId: this server has no public folders, so no such id is ours.
    if (src.ns !== NS.t || src.name !== "AlternateId") throw new EwsError("ErrorInvalidIdMalformed", `${src.name.slice(0, 60)} names no object on this server.`);
    const format = attr(src, "Format");
    if (!isFormat(format)) throw new EwsError("ErrorInvalidRequest", "Format must be one of " + ID_FORMATS.join(", ") + ".");
    const id = attr(src, "Id") ?? "";
    if (!id.trim()) throw new EwsError("ErrorInvalidIdEmpty", "The id is empty.");
    const target = decodeId(id, format);
    if (!target) throw new EwsError("ErrorInvalidIdMalformed", "The id is malformed.");
    const accountId = target.kind === "item" ? target.ref.accountId : target.accountId;
    if (accountId !== c.account.id) throw new EwsError("ErrorItemNotFound", "The id does not name an object of this mailbox.");
    // Our ids name their mailbox, so the request's Mailbox attribute adds nothing (DavMail sends a fixed dummy);
    // the answer's Mailbox is the owner's primary address, as Exchange writes it (DavMail learns the user's address from it).
    const archive = attr(src, "IsArchive");
    return success(
      tag,
      `<m:AlternateId xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="t:AlternateIdType" Format="${dest}" Id="${esc(encodeId(target, dest))}" Mailbox="${esc(c.account.email)}"${archive !== undefined ? ` IsArchive="${esc(archive)}"` : ""}/>`,
    );
  } catch (e) {
    if (e instanceof EwsError) return failure(tag, e);
    throw e;
  }
}

registerOperation(
  "ConvertId",
  async (c, op) => {
    const dest = attr(op, "DestinationFormat");
    if (!isFormat(dest)) throw new EwsError("ErrorInvalidRequest", "DestinationFormat must be one of " + ID_FORMATS.join(", ") + ".");
    const sources = mkid(op, "SourceIds");
    if (!sources) throw new EwsError("ErrorInvalidRequest", "SourceIds is required.");
    const ids = sources.children;
    if (ids.length === 0) throw new EwsError("ErrorInvalidRequest", "SourceIds holds no id.");
    if (ids.length > MAX_CONVERT_IDS) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_CONVERT_IDS} ids can be converted at once.`);
    const msgs = ids.map((src) => convertOne(c, src, dest));
    return responseMessages("ConvertId", msgs);
  },
  { since: "Exchange2007_SP1" },
);
