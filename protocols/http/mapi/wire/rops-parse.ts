/**
 * ROP request parsers (MS-OXCROPS §2.2). `parseRopRequests` walks the RopsList
 * of one ROP buffer payload; each request's size is defined per RopId, so an
 * unknown RopId ends the walk and is reported (MS-OXCROPS §3.2.5.1: the
 * server answers what it parsed and fails the rest).
 */
import { LIMITS, WireError } from "./errors.ts";
import { Reader, latin1 } from "./reader.ts";
import { readPropertyName, readLongTermId } from "./ids.ts";
import type { PropertyName } from "./ids.ts";
import { readPropertyRow, readTags16, readTaggedValue } from "./propvalue.ts";
import { readRestriction, readSortOrderSet } from "./restriction.ts";
import { ROP } from "./rop-ids.ts";
import type { ModifyRecipientRow, RecipientRow, RopRequest, RuleData, UnknownRop } from "./rops-types.ts";
import type { PropTag, TaggedValue } from "./proptypes.ts";

/** MS-OXCDATA §2.8.3.1 RecipientFlags bits. */
export const RECIP = {
  typeMask: 0x0007,
  typeX500: 0x0001,
  typeSmtp: 0x0003,
  typePdl1: 0x0006,
  typePdl2: 0x0007,
  E: 0x0008, // EmailAddress present
  D: 0x0010, // DisplayName present
  T: 0x0020, // TransmittableDisplayName present
  S: 0x0040, // SendNoRichInfo
  R: 0x0080, // Responsible
  N: 0x0100, // non-transmittable
  U: 0x0200, // strings are UTF-16
  I: 0x0400, // SimpleDisplayName present
  O: 0x8000, // one-off (AddressType present when Type = NoType)
} as const;

/** MS-OXCDATA §2.8.3.1 RecipientRow, read against the request's recipient columns. */
export function readRecipientRow(r: Reader, columns: readonly PropTag[]): RecipientRow {
  const flags = r.u16();
  const unicode = (flags & RECIP.U) !== 0;
  const str = () => (unicode ? r.cstr16() : r.cstr8());
  const addressType = flags & RECIP.typeMask;
  const row: RecipientRow = { flags, addressType, properties: [] };
  if (addressType === RECIP.typeX500) {
    row.addressPrefixUsed = r.u8();
    row.displayType = r.u8();
    row.x500dn = r.cstr8();
  } else if (addressType === RECIP.typePdl1 || addressType === RECIP.typePdl2) {
    row.entryId = r.bin16();
    row.searchKey = r.bin16();
  } else if (addressType === 0 && (flags & RECIP.O) !== 0) {
    row.addressTypeString = r.cstr8();
  }
  if (flags & RECIP.E) row.emailAddress = str();
  if (flags & RECIP.D) row.displayName = str();
  if (flags & RECIP.I) row.simpleDisplayName = str();
  if (flags & RECIP.T) row.transmittableDisplayName = str();
  const count = r.u16();
  if (count > columns.length) throw new WireError("bad-value", "recipient row has more columns than the request");
  row.properties = readPropertyRow(r, columns.slice(0, count));
  return row;
}

function readRecipients(r: Reader, columns: PropTag[]): ModifyRecipientRow[] {
  const n = r.count(r.u16(), LIMITS.tags, 7, "recipient rows");
  const rows: ModifyRecipientRow[] = [];
  for (let i = 0; i < n; i++) {
    const rowId = r.u32();
    const recipientType = r.u8();
    const size = r.u16();
    if (size === 0) {
      rows.push({ rowId, recipientType, row: null });
      continue;
    }
    const body = new Reader(r.bytes(size, "recipient row"));
    rows.push({ rowId, recipientType, row: readRecipientRow(body, columns) });
  }
  return rows;
}

function readRules(r: Reader): RuleData[] {
  const n = r.count(r.u16(), 256, 3, "rules");
  const rules: RuleData[] = [];
  for (let i = 0; i < n; i++) {
    const flags = r.u8();
    const count = r.count(r.u16(), LIMITS.tags, 4, "rule properties");
    const values: TaggedValue[] = [];
    for (let j = 0; j < count; j++) values.push(readTaggedValue(r));
    rules.push({ flags, values });
  }
  return rules;
}

/** Parses one ROP request at the reader's position, or returns an UnknownRop (position unchanged past the id). */
export function parseRop(r: Reader): RopRequest | UnknownRop {
  const ropId = r.u8();
  const logonId = r.u8();
  if (ropId === ROP.Logon) {
    const outputHandleIndex = r.u8();
    const logonFlags = r.u8();
    const openFlags = r.u32();
    const storeState = r.u32();
    const essdnRaw = r.bin16();
    const z = essdnRaw.indexOf(0);
    const essdn = latin1(z >= 0 ? essdnRaw.subarray(0, z) : essdnRaw);
    return { ropId, logonId, outputHandleIndex, logonFlags, openFlags, storeState, essdn };
  }
  const inputHandleIndex = r.u8();
  const b = { logonId, inputHandleIndex };
  switch (ropId) {
    case ROP.Release: return { ropId, ...b };
    case ROP.OpenFolder: return { ropId, ...b, outputHandleIndex: r.u8(), folderId: r.u64(), openModeFlags: r.u8() };
    case ROP.OpenMessage: {
      const outputHandleIndex = r.u8();
      const codePageId = r.u16();
      const folderId = r.u64();
      const openModeFlags = r.u8();
      return { ropId, ...b, outputHandleIndex, codePageId, folderId, openModeFlags, messageId: r.u64() };
    }
    case ROP.GetHierarchyTable: return { ropId, ...b, outputHandleIndex: r.u8(), tableFlags: r.u8() };
    case ROP.GetContentsTable: return { ropId, ...b, outputHandleIndex: r.u8(), tableFlags: r.u8() };
    case ROP.CreateMessage: {
      const outputHandleIndex = r.u8();
      const codePageId = r.u16();
      const folderId = r.u64();
      return { ropId, ...b, outputHandleIndex, codePageId, folderId, associated: r.u8() !== 0 };
    }
    case ROP.GetPropertiesSpecific: {
      const propertySizeLimit = r.u16();
      const wantUnicode = r.u16() !== 0;
      return { ropId, ...b, propertySizeLimit, wantUnicode, tags: readTags16(r) };
    }
    case ROP.GetPropertiesAll: return { ropId, ...b, propertySizeLimit: r.u16(), wantUnicode: r.u16() !== 0 };
    case ROP.GetPropertiesList: return { ropId, ...b };
    case ROP.SetProperties: {
      // §2.2.8.6.1: PropertyValueSize covers PropertyValueCount and the values.
      const size = r.u16();
      const body = new Reader(r.bytes(size, "property values"));
      const n = body.count(body.u16(), LIMITS.tags, 4, "property values");
      const values: TaggedValue[] = [];
      for (let i = 0; i < n; i++) values.push(readTaggedValue(body));
      return { ropId, ...b, values };
    }
    case ROP.SaveChangesMessage: {
      // §2.2.6.3.1: ResponseHandleIndex comes before InputHandleIndex.
      const responseHandleIndex = inputHandleIndex;
      const input = r.u8();
      return { ropId, logonId, inputHandleIndex: input, responseHandleIndex, saveFlags: r.u8() };
    }
    case ROP.ModifyRecipients: {
      const columns = readTags16(r);
      return { ropId, ...b, columns, rows: readRecipients(r, columns) };
    }
    case ROP.ReadRecipients: {
      const rowId = r.u32();
      r.u16(); // Reserved
      return { ropId, ...b, rowId };
    }
    case ROP.SetColumns: return { ropId, ...b, flags: r.u8(), tags: readTags16(r) };
    case ROP.SortTable: return { ropId, ...b, flags: r.u8(), sort: readSortOrderSet(r) };
    case ROP.Restrict: {
      const flags = r.u8();
      const size = r.u16();
      if (size === 0) return { ropId, ...b, flags, restriction: null };
      const body = new Reader(r.bytes(size, "restriction"));
      const restriction = readRestriction(body);
      body.done("restriction");
      return { ropId, ...b, flags, restriction };
    }
    case ROP.QueryRows: return { ropId, ...b, flags: r.u8(), forwardRead: r.u8() !== 0, rowCount: r.u16() };
    case ROP.GetStatus: return { ropId, ...b };
    case ROP.QueryPosition: return { ropId, ...b };
    case ROP.SeekRow: return { ropId, ...b, origin: r.u8(), rowCount: r.i32(), wantRowMovedCount: r.u8() !== 0 };
    case ROP.DeleteMessages: {
      const wantAsynchronous = r.u8() !== 0;
      const notifyNonRead = r.u8() !== 0;
      const n = r.count(r.u16(), LIMITS.ids, 8, "message ids");
      const messageIds: bigint[] = [];
      for (let i = 0; i < n; i++) messageIds.push(r.u64());
      return { ropId, ...b, wantAsynchronous, notifyNonRead, messageIds };
    }
    case ROP.GetAttachmentTable: return { ropId, ...b, outputHandleIndex: r.u8(), tableFlags: r.u8() };
    case ROP.OpenAttachment: return { ropId, ...b, outputHandleIndex: r.u8(), flags: r.u8(), attachmentId: r.u32() };
    case ROP.SetReceiveFolder: return { ropId, ...b, folderId: r.u64(), messageClass: r.cstr8() };
    case ROP.GetReceiveFolder: return { ropId, ...b, messageClass: r.cstr8() };
    case ROP.RegisterNotification: {
      const outputHandleIndex = r.u8();
      const notificationTypes = r.u8();
      r.u8(); // Reserved
      const wantWholeStore = r.u8() !== 0;
      const folderId = wantWholeStore ? null : r.u64();
      const messageId = wantWholeStore ? null : r.u64();
      return { ropId, ...b, outputHandleIndex, notificationTypes, wantWholeStore, folderId, messageId };
    }
    case ROP.OpenStream: return { ropId, ...b, outputHandleIndex: r.u8(), tag: r.u32(), openModeFlags: r.u8() };
    case ROP.ReadStream: {
      const byteCount = r.u16();
      return { ropId, ...b, byteCount, maximumByteCount: byteCount === 0xbabe ? r.u32() : null };
    }
    case ROP.WriteStream: return { ropId, ...b, data: r.bin16() };
    case ROP.SeekStream: return { ropId, ...b, origin: r.u8(), offset: r.u64() };
    case ROP.CommitStream: return { ropId, ...b };
    case ROP.GetStreamSize: return { ropId, ...b };
    case ROP.SubmitMessage: return { ropId, ...b, submitFlags: r.u8() };
    case ROP.GetRulesTable: return { ropId, ...b, outputHandleIndex: r.u8(), tableFlags: r.u8() };
    case ROP.ModifyRules: return { ropId, ...b, flags: r.u8(), rules: readRules(r) };
    case ROP.LongTermIdFromId: return { ropId, ...b, objectId: r.u64() };
    case ROP.IdFromLongTermId: return { ropId, ...b, longTermId: readLongTermId(r) };
    case ROP.GetNamesFromPropertyIds: {
      const n = r.count(r.u16(), LIMITS.tags, 2, "property ids");
      const propertyIds: number[] = [];
      for (let i = 0; i < n; i++) propertyIds.push(r.u16());
      return { ropId, ...b, propertyIds };
    }
    case ROP.GetPropertyIdsFromNames: {
      const flags = r.u8();
      const n = r.count(r.u16(), LIMITS.tags, 17, "property names");
      const names: PropertyName[] = [];
      for (let i = 0; i < n; i++) names.push(readPropertyName(r));
      return { ropId, ...b, flags, names };
    }
    case ROP.GetPerUserLongTermIds: return { ropId, ...b, databaseGuid: r.guid() };
    default:
      return { ropId, logonId, inputHandleIndex, unknown: true };
  }
}

export const isUnknownRop = (x: RopRequest | UnknownRop): x is UnknownRop => "unknown" in x;

/**
 * The RopsList of a ROP buffer payload (MS-OXCROPS §2.2.1): every request up
 * to the end, or up to the first unknown RopId.
 */
export function parseRopRequests(rops: Uint8Array): { rops: RopRequest[]; unknown: UnknownRop | null } {
  const r = new Reader(rops);
  const out: RopRequest[] = [];
  while (r.remaining > 0) {
    if (out.length >= LIMITS.rops) throw new WireError("too-large", `more than ${LIMITS.rops} ROPs in one buffer`);
    const rop = parseRop(r);
    if (isUnknownRop(rop)) return { rops: out, unknown: rop };
    out.push(rop);
  }
  return { rops: out, unknown: null };
}
