/**
 * The per-session state of the EMSMDB engine: the authenticated account, its
 * logons, and the server object handle table (MS-OXCROPS §2.2.1: each ROP
 * names its input object by an index into the request's handle table; the
 * server hands out 32-bit handle values for the objects it opens). Handles
 * live until RopRelease or the session's end, bounded per session.
 */
import type { MessageIndex } from "../../../../storage/api.ts";
import type { FolderView } from "./props.ts";
import type { Restriction } from "./restriction.ts";
import type { PropMap } from "./values.ts";
import { RopError, ec } from "./errors.ts";

/** At most this many open objects per session (rules: handles per logon are bounded). */
export const MAX_OBJECTS = 1024;

export type TableKind = "hierarchy" | "contents" | "rules" | "attachments";

export interface TableObject {
  kind: "table";
  table: TableKind;
  /** All rows the table shows before restriction (bounded at creation). */
  rows: PropMap[];
  /** Rows after restriction and sort: what QueryRows walks. */
  view: PropMap[];
  columns: number[];
  restriction: Restriction | null;
  sort: { tag: number; desc: boolean }[];
  position: number;
}

export interface Recipient {
  type: number; // MS-OXCMSG §2.2.3.1: 1 To, 2 Cc, 3 Bcc
  address: string;
  name: string;
}

export interface MessageObject {
  kind: "message";
  logonId: number;
  folderCounter: number;
  /** The store item, or null for a message created by RopCreateMessage and not saved yet. */
  item: MessageIndex | null;
  /** The message's properties: computed from the store, or set by the client on a new message. */
  props: PropMap;
  /** Tags the client set since open (RopSaveChangesMessage writes them). */
  dirty: boolean;
  recipients: Recipient[];
  /** The stored MIME (loaded for opened messages). */
  raw: Uint8Array | null;
}

export type MapiObject =
  | { kind: "logon"; logonId: number }
  | { kind: "folder"; logonId: number; view: FolderView }
  | TableObject
  | MessageObject
  | { kind: "attachment"; props: PropMap }
  | { kind: "stream"; data: Uint8Array; pos: number };

export interface EmsmdbState {
  accountId: number;
  email: string;
  /** The logon ids RopLogon opened (one private mailbox logon each) -> the next handle number of that logon. */
  logons: Map<number, number>;
  objects: Map<number, MapiObject>;
  /** Named properties of this session: "guid|kind|lid-or-name" -> property id (0x8000+). */
  named: Map<string, number>;
}

export function newState(accountId: number, email: string): EmsmdbState {
  return { accountId, email, logons: new Map(), objects: new Map(), named: new Map() };
}

/**
 * A new handle value for `obj`: (LogonId << 24) | n, n counting from 0 (the
 * logon itself) in the order the logon's objects are made, never reused.
 * Exchange numbers handles this way and ruler relies on it: it never reads
 * the values back but sends 0xLL000000 for the logon and 0xLL000001 for the
 * Inbox its connect opened second. ecMaxObjsExceeded beyond MAX_OBJECTS.
 */
export function addObject(s: EmsmdbState, logonId: number, obj: MapiObject): number {
  if (s.objects.size >= MAX_OBJECTS) throw new RopError(ec.MaxObjsExceeded, "too many open objects");
  const n = s.logons.get(logonId) ?? 0;
  if (n > 0xffffff) throw new RopError(ec.MaxObjsExceeded, "handle numbers of this logon used up");
  s.logons.set(logonId, n + 1);
  const h = ((logonId << 24) | n) >>> 0;
  s.objects.set(h, obj);
  return h;
}

/** The object a handle value names (ecNullObject for none). */
export function objectOf(s: EmsmdbState, handle: number | undefined): MapiObject {
  if (handle === undefined || handle === 0xffffffff) throw new RopError(ec.NullObject, "no object at that handle index");
  const o = s.objects.get(handle);
  if (!o) throw new RopError(ec.NullObject, `unknown handle 0x${handle.toString(16)}`);
  return o;
}
