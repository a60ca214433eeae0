/**
 * MAPI folder and message ids (MS-OXCDATA §2.2.1.1 FID, §2.2.1.2 MID): a
 * 2-byte ReplicaId and a 6-byte GlobalCounter, carried as one little-endian
 * 64-bit value. Pillarbox has one replica per mailbox (ReplicaId 1) and maps
 * its store ids into the counter, in three disjoint ranges:
 *   store folder id            -> counter = id            (below 2^40)
 *   store item (message) id    -> counter = 2^40 + id
 *   virtual folder n (no store folder: Root, Views...) -> counter = 2^47 + n
 * The counter is written big-endian inside the 8 bytes (MS-OXCDATA §2.2.1.1:
 * GlobalCounter is a byte array ordered most significant first).
 */
import { createHash } from "node:crypto";
import { mailboxGuidBytes } from "../identity.ts";

export const REPLICA_ID = 1;
const ITEM_BASE = 2 ** 40;
const VIRTUAL_BASE = 2 ** 47;

/** The 8 id bytes for a counter (ReplicaId 1). */
export function idBytes(counter: number): Uint8Array {
  const b = new Uint8Array(8);
  b[0] = REPLICA_ID & 0xff;
  b[1] = REPLICA_ID >> 8;
  let c = counter;
  for (let i = 7; i >= 2; i--) {
    b[i] = c % 256;
    c = Math.floor(c / 256);
  }
  return b;
}

/** The same id as the little-endian u64 a PtypInteger64 (PidTagFolderId, PidTagMid) or a FolderId field carries. */
export function idValue(counter: number): bigint {
  const b = idBytes(counter);
  return new DataView(b.buffer).getBigUint64(0, true);
}

/** The counter of an id read as a little-endian u64, or null when its ReplicaId is not ours. */
export function counterOf(id: bigint): number | null {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt.asUintN(64, id), true);
  if (b[0] !== (REPLICA_ID & 0xff) || b[1] !== REPLICA_ID >> 8) return null;
  let c = 0;
  for (let i = 2; i < 8; i++) c = c * 256 + b[i]!;
  return c;
}

export const folderCounter = (folderId: number): number => folderId;
export const itemCounter = (itemId: number): number => ITEM_BASE + itemId;
export const virtualCounter = (n: number): number => VIRTUAL_BASE + n;

export type IdTarget = { kind: "folder"; id: number } | { kind: "item"; id: number } | { kind: "virtual"; n: number };

/** What a counter names (range only: the caller checks the object exists and is the account's). */
export function decodeCounter(c: number): IdTarget {
  if (c >= VIRTUAL_BASE) return { kind: "virtual", n: c - VIRTUAL_BASE };
  if (c >= ITEM_BASE) return { kind: "item", id: c - ITEM_BASE };
  return { kind: "folder", id: c };
}

/**
 * A stable GUID of 16 bytes for the account and a purpose ("replica": the
 * ReplGuid of RopLogon and the DatabaseGuid of EntryIDs): the same account always gets the same GUID (a digest of the
 * account id; no state), with the RFC 4122 version 4/variant bits set.
 */
export function accountGuid(accountId: number, purpose: string): Uint8Array {
  const h = createHash("sha256").update(`pillarbox-mapi:${purpose}:${accountId}`).digest();
  const g = new Uint8Array(h.subarray(0, 16));
  g[7] = (g[7]! & 0x0f) | 0x40;
  g[8] = (g[8]! & 0x3f) | 0x80;
  return g;
}

/** MS-OXCDATA §2.2.4.1 Folder EntryID: Flags, ProviderUID (the mailbox GUID), FolderType 1 (eitLTPrivateFolder), DatabaseGuid, GlobalCounter, Pad. */
export function folderEntryId(accountId: number, counter: number): Uint8Array {
  const out = new Uint8Array(46);
  out.set(mailboxGuidBytes({ id: accountId }), 4);
  out[20] = 1;
  out.set(accountGuid(accountId, "replica"), 22);
  out.set(idBytes(counter).subarray(2), 38);
  return out;
}

/** MS-OXCDATA §2.2.4.2 Message EntryID: MessageType 7 (eitLTPrivateMessage), the folder's and the message's database GUID + counter. */
export function messageEntryId(accountId: number, folder: number, message: number): Uint8Array {
  const out = new Uint8Array(70);
  out.set(mailboxGuidBytes({ id: accountId }), 4);
  out[20] = 7;
  const repl = accountGuid(accountId, "replica");
  out.set(repl, 22);
  out.set(idBytes(folder).subarray(2), 38);
  out.set(repl, 46);
  out.set(idBytes(message).subarray(2), 62);
  return out;
}
