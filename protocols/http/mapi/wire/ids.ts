/**
 * Identifiers (MS-OXCDATA §2.2): Folder/Message IDs, LongTermIDs, Folder and
 * Message EntryIDs, Address Book EntryIDs, and PropertyName (§2.6.1).
 */
import { WireError } from "./errors.ts";
import { Reader, guidToBytes, guidToString } from "./reader.ts";
import { Writer } from "./writer.ts";

/**
 * MS-OXCDATA §2.2.1.1 Folder ID / §2.2.1.2 Message ID: ReplicaId (u16 LE)
 * then GlobalCounter (6 bytes, big-endian). Kept as the u64 read LE off the
 * wire so it round-trips byte for byte.
 */
export type Id = bigint;

export function makeId(replicaId: number, globalCounter: number | bigint): Id {
  const b = new Uint8Array(8);
  b[0] = replicaId & 0xff;
  b[1] = (replicaId >> 8) & 0xff;
  let g = BigInt(globalCounter);
  for (let i = 7; i >= 2; i--) {
    b[i] = Number(g & 0xffn);
    g >>= 8n;
  }
  return new DataView(b.buffer).getBigUint64(0, true);
}

export function splitId(id: Id): { replicaId: number; globalCounter: bigint } {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, id), true);
  let g = 0n;
  for (let i = 2; i < 8; i++) g = (g << 8n) | BigInt(b[i]!);
  return { replicaId: b[0]! | (b[1]! << 8), globalCounter: g };
}

/** The 6 GlobalCounter bytes, big-endian (as LongTermIDs and EntryIDs carry them). */
export function globalCounterBytes(g: bigint): Uint8Array {
  const b = new Uint8Array(6);
  for (let i = 5; i >= 0; i--) {
    b[i] = Number(g & 0xffn);
    g >>= 8n;
  }
  return b;
}
function readGlobalCounter(r: Reader): bigint {
  let g = 0n;
  for (const x of r.bytes(6, "global counter")) g = (g << 8n) | BigInt(x);
  return g;
}

/** MS-OXCDATA §2.2.1.3.1 LongTermID: DatabaseGuid, GlobalCounter (6), Pad u16 = 24 bytes. */
export interface LongTermId {
  databaseGuid: string;
  globalCounter: bigint;
}
export function readLongTermId(r: Reader): LongTermId {
  const databaseGuid = r.guid();
  const globalCounter = readGlobalCounter(r);
  r.u16();
  return { databaseGuid, globalCounter };
}
export function writeLongTermId(w: Writer, l: LongTermId): void {
  w.guid(l.databaseGuid).bytes(globalCounterBytes(l.globalCounter)).u16(0);
}

/** MS-OXCDATA §2.2.4.1 FolderType / §2.2.4.2 MessageType values. */
export const EID_TYPE = { privateFolder: 0x0001, publicFolder: 0x0003, privateMessage: 0x0007, publicMessage: 0x0009 } as const;

/** §2.2.4.1 Folder EntryID (46 bytes). */
export interface FolderEntryId {
  providerUid: string;
  folderType: number;
  databaseGuid: string;
  globalCounter: bigint;
}
/** §2.2.4.2 Message EntryID (70 bytes). */
export interface MessageEntryId {
  providerUid: string;
  messageType: number;
  folderDatabaseGuid: string;
  folderGlobalCounter: bigint;
  messageDatabaseGuid: string;
  messageGlobalCounter: bigint;
}

export function encodeFolderEntryId(e: FolderEntryId): Uint8Array {
  const w = new Writer();
  w.u32(0).guid(e.providerUid).u16(e.folderType).guid(e.databaseGuid).bytes(globalCounterBytes(e.globalCounter)).u16(0);
  return w.finish();
}
export function encodeMessageEntryId(e: MessageEntryId): Uint8Array {
  const w = new Writer();
  w.u32(0).guid(e.providerUid).u16(e.messageType);
  w.guid(e.folderDatabaseGuid).bytes(globalCounterBytes(e.folderGlobalCounter)).u16(0);
  w.guid(e.messageDatabaseGuid).bytes(globalCounterBytes(e.messageGlobalCounter)).u16(0);
  return w.finish();
}

/** Decodes a store EntryID by its length and type; null when it is neither form. */
export function decodeStoreEntryId(b: Uint8Array): FolderEntryId | MessageEntryId | null {
  if (b.length !== 46 && b.length !== 70) return null;
  const r = new Reader(b);
  r.u32();
  const providerUid = r.guid();
  const type = r.u16();
  const databaseGuid = r.guid();
  const globalCounter = readGlobalCounter(r);
  r.u16();
  if (b.length === 46) {
    if (type !== EID_TYPE.privateFolder && type !== EID_TYPE.publicFolder) return null;
    return { providerUid, folderType: type, databaseGuid, globalCounter };
  }
  if (type !== EID_TYPE.privateMessage && type !== EID_TYPE.publicMessage) return null;
  const messageDatabaseGuid = r.guid();
  const messageGlobalCounter = readGlobalCounter(r);
  return { providerUid, messageType: type, folderDatabaseGuid: databaseGuid, folderGlobalCounter: globalCounter, messageDatabaseGuid, messageGlobalCounter };
}

/** MS-OXCDATA §2.2.5.2 Address Book EntryID ProviderUID. */
export const AB_PROVIDER_UID = "c840a7dc-42c0-1a10-b4b9-08002b2fe182";
/** §2.2.5.2 Type values (the object's display type). */
export const AB_TYPE = { user: 0x00000000, distList: 0x00000001, container: 0x00000100 } as const;

/** Address Book EntryID: Flags u32, ProviderUID, Version u32 (1), Type u32, X500DN NUL-terminated. */
export function encodeAddressBookEntryId(x500dn: string, type: number = AB_TYPE.user): Uint8Array {
  return new Writer().u32(0).guid(AB_PROVIDER_UID).u32(1).u32(type).cstr8(x500dn).finish();
}
export function decodeAddressBookEntryId(b: Uint8Array): { type: number; x500dn: string } | null {
  try {
    const r = new Reader(b);
    r.u32();
    if (r.guid() !== AB_PROVIDER_UID) return null;
    if (r.u32() !== 1) return null;
    const type = r.u32();
    const x500dn = r.cstr8();
    return { type, x500dn };
  } catch (e) {
    if (e instanceof WireError) return null;
    throw e;
  }
}

/** MS-OXCDATA §2.6.1 PropertyName: Kind 0x00 (LID), 0x01 (Name), 0xFF (none). */
export type PropertyName =
  | { kind: 0x00; guid: string; lid: number }
  | { kind: 0x01; guid: string; name: string }
  | { kind: 0xff; guid: string };

export function readPropertyName(r: Reader): PropertyName {
  const kind = r.u8();
  const guid = r.guid();
  if (kind === 0x00) return { kind, guid, lid: r.u32() };
  if (kind === 0x01) {
    // NameSize counts the bytes of Name including its 2-byte terminator.
    const size = r.u8();
    const raw = r.bytes(size, "property name");
    if (size % 2 !== 0) throw new WireError("bad-value", "odd PropertyName NameSize");
    let end = raw.length;
    while (end >= 2 && raw[end - 1] === 0 && raw[end - 2] === 0) end -= 2;
    return { kind, guid, name: new TextDecoder("utf-16le").decode(raw.subarray(0, end)) };
  }
  if (kind === 0xff) return { kind, guid };
  throw new WireError("bad-value", `PropertyName kind 0x${kind.toString(16)}`);
}

export function writePropertyName(w: Writer, p: PropertyName): void {
  w.u8(p.kind).guid(p.guid);
  if (p.kind === 0x00) w.u32(p.lid);
  else if (p.kind === 0x01) {
    const size = p.name.length * 2 + 2;
    if (size > 0xff) throw new WireError("too-large", "property name above 126 characters");
    w.u8(size).cstr16(p.name);
  }
}

export { guidToBytes, guidToString };
