/**
 * The properties of a directory entry and of the GAL container, as NSPI
 * answers them (MS-OXNSPI §2.2.9 entry ids, MS-OXOABK §2.2 address book
 * object properties). A string property is answered in the form the client
 * asked for: PtypString (0x001F), PtypString8 (0x001E) or, for
 * PtypUnspecified, the Unicode form.
 */
import { type AbCell, type AbTaggedValue, type AbValue, PT } from "../wire/nspi-values.ts";
import {
  AB_RECIPIENTS,
  AB_UNMODIFIABLE,
  DT_CONTAINER,
  DT_DISTLIST,
  DT_MAILUSER,
  Ec,
  GUID_NSPI,
  MAPI_DISTLIST,
  MAPI_MAILUSER,
  Tag,
  fEphID,
  propId,
  propType,
} from "./constants.ts";
import type { GalEntry, NspiSessionState } from "./gal.ts";

/** A property's native (tag with its own type) value: strings are plain JS strings, resolved to the asked form later. */
type Bag = Map<number, AbValue>;

const le32 = (n: number): Uint8Array => Uint8Array.of(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => (c.charCodeAt(0) > 0x7f ? 0x3f : c.charCodeAt(0)));

/** MS-OXNSPI §2.2.9.3 PermanentEntryID: type 0, three reserved bytes, GUID_NSPI, R4 = 1, DisplayType, the DN (NUL-terminated). */
export function permanentEntryId(displayType: number, dn: string): Uint8Array {
  const b = ascii(dn);
  const out = new Uint8Array(28 + b.length + 1);
  out.set(GUID_NSPI, 4);
  out.set(le32(1), 20);
  out.set(le32(displayType), 24);
  out.set(b, 28);
  return out;
}

/** MS-OXNSPI §2.2.9.2 EphemeralEntryID: type 0x87, three reserved bytes, the server GUID, R4 = 1, DisplayType, the MId. */
export function ephemeralEntryId(serverGuid: Uint8Array, displayType: number, mid: number): Uint8Array {
  const out = new Uint8Array(32);
  out[0] = 0x87;
  out.set(serverGuid.subarray(0, 16), 4);
  out.set(le32(1), 20);
  out.set(le32(displayType), 24);
  out.set(le32(mid), 28);
  return out;
}

const isGroup = (e: GalEntry): boolean => e.kind === "alias" && e.memberIds.length > 1;

/** Every property an entry has, keyed by tag in its native type. */
export function entryProps(e: GalEntry, st: NspiSessionState, flags: number): Bag {
  const dt = isGroup(e) ? DT_DISTLIST : DT_MAILUSER;
  const entryId = flags & fEphID ? ephemeralEntryId(st.serverGuid, dt, e.mid) : permanentEntryId(dt, e.dn);
  const bag: Bag = new Map<number, AbValue>([
    [Tag.EntryId, entryId],
    [Tag.RecordKey, permanentEntryId(dt, e.dn)],
    [Tag.InstanceKey, le32(e.mid)],
    [Tag.ObjectType, isGroup(e) ? MAPI_DISTLIST : MAPI_MAILUSER],
    [Tag.DisplayType, dt],
    [Tag.DisplayTypeEx, dt],
    [Tag.DisplayName, e.displayName],
    [Tag.DisplayNamePrintable, e.displayName.replace(/[^\x20-\x7e]/g, "?")],
    [Tag.TransmittableDisplayName, e.displayName],
    [Tag.AddressType, "EX"],
    [Tag.EmailAddress, e.dn],
    [Tag.SmtpAddress, e.email],
    [Tag.Account, e.alias],
    // MS-OXOABK §2.2.3.23: the primary address in upper-case "SMTP:", others lower-case
    [Tag.ProxyAddresses, [`SMTP:${e.email}`, ...e.otherAddresses.map((a) => `smtp:${a}`)]],
    // MS-OXCPRPT search key of an address: "EX:" + upper-case DN, NUL-terminated
    [Tag.SearchKey, ascii(`EX:${e.dn.toUpperCase()}\0`)],
  ]);
  if (e.firstName) bag.set(Tag.GivenName, e.firstName);
  if (e.lastName) bag.set(Tag.Surname, e.lastName);
  return bag;
}

/** The GAL container's row of the hierarchy table (MS-OXNSPI §3.1.4.1.3 GetSpecialTable, MS-OXOABK §2.2.2). */
export function galContainerProps(): Bag {
  return new Map<number, AbValue>([
    [Tag.EntryId, permanentEntryId(DT_CONTAINER, "/")],
    [Tag.ContainerFlags, AB_RECIPIENTS | AB_UNMODIFIABLE],
    [Tag.Depth, 0],
    [Tag.ContainerId, 0],
    [Tag.DisplayName, "Global Address List"],
    [Tag.IsMaster, false],
  ]);
}

/** The columns QueryColumns lists and GetProps answers when the client names none. */
export const ENTRY_COLUMNS: readonly number[] = [
  Tag.EntryId, Tag.RecordKey, Tag.InstanceKey, Tag.ObjectType, Tag.DisplayType, Tag.DisplayTypeEx, Tag.DisplayName,
  Tag.DisplayNamePrintable, Tag.TransmittableDisplayName, Tag.AddressType, Tag.EmailAddress, Tag.SmtpAddress, Tag.Account,
  Tag.ProxyAddresses, Tag.SearchKey, Tag.GivenName, Tag.Surname,
];

/** The default QueryRows columns when the request has none (MS-OXNSPI §3.1.4.1.8: the server chooses). */
export const DEFAULT_COLUMNS: readonly number[] = [Tag.EntryId, Tag.DisplayName, Tag.AddressType, Tag.EmailAddress, Tag.SmtpAddress, Tag.DisplayType, Tag.InstanceKey];

const isString = (t: number): boolean => t === PT.String || t === PT.String8;
const isMvString = (t: number): boolean => t === PT.MvString || t === PT.MvString8;

/**
 * The value of `tag` in `bag` in the form `tag` asks for, with the type to
 * write it as; null when the object has no such property (or not in a
 * compatible type).
 */
export function lookup(bag: Bag, tag: number): { type: number; value: AbValue } | null {
  const id = propId(tag);
  const want = propType(tag);
  for (const [native, value] of bag) {
    if (propId(native) !== id) continue;
    const nt = propType(native);
    if (want === nt || want === PT.Unspecified) return { type: nt, value };
    if (isString(nt) && isString(want)) return { type: want, value };
    if (isMvString(nt) && isMvString(want)) return { type: want, value };
    return null;
  }
  return null;
}

/** One row of `columns` for a bag: a value per column, ecNotFound where there is none. */
export function rowCells(bag: Bag, columns: readonly number[]): (AbCell & { type?: number })[] {
  return columns.map((col) => {
    const v = lookup(bag, col);
    return v ? { value: v.value, type: v.type } : { error: Ec.NotFound };
  });
}

/**
 * A property value list (GetProps, GetSpecialTable rows): the asked tags, a
 * missing one as PtypErrorCode ecNotFound (MS-OXNSPI §3.1.4.1.7), and
 * whether any was missing (the call then answers ecErrorsReturned).
 */
export function valueList(bag: Bag, tags: readonly number[]): { list: AbTaggedValue[]; missing: boolean } {
  let missing = false;
  const list = tags.map((tag): AbTaggedValue => {
    const v = lookup(bag, tag);
    if (v) return { tag: ((tag & 0xffff0000) | v.type) >>> 0, value: v.value };
    missing = true;
    return { tag: ((tag & 0xffff0000) | PT.Error) >>> 0, value: Ec.NotFound };
  });
  return { list, missing };
}

/** The tags present in a bag, strings in the asked form (Unicode unless `ansi`). */
export function presentTags(bag: Bag, ansi: boolean): number[] {
  return [...bag.keys()].map((t) => {
    const ty = propType(t);
    if (ansi && ty === PT.String) return ((t & 0xffff0000) | PT.String8) >>> 0;
    if (ansi && ty === PT.MvString) return ((t & 0xffff0000) | PT.MvString8) >>> 0;
    return t;
  });
}
