/**
 * ROP response writers (MS-OXCROPS §2.2). `writeRopResponse` appends one
 * response buffer; a non-zero ReturnValue writes the common failure form.
 */
import { WireError } from "./errors.ts";
import type { Writer } from "./writer.ts";
import { writeLongTermId, writePropertyName } from "./ids.ts";
import { writeProblems, writePropertyRow, writeTaggedValue, writeTags16 } from "./propvalue.ts";
import { ROP } from "./rop-ids.ts";
import { RECIP } from "./rops-parse.ts";
import type { LogonTime, RecipientRow, RopResponse, UnknownRop } from "./rops-types.ts";
import { Writer as W } from "./writer.ts";
import type { PropTag } from "./proptypes.ts";

/** MS-OXCDATA TypedString (§2.11.? in MS-OXCROPS RopOpenMessage): 0x00 absent, 0x01 empty, 0x04 UTF-16. */
function typedString(w: Writer, s: string | null): void {
  if (s === null) w.u8(0x00);
  else if (s === "") w.u8(0x01);
  else w.u8(0x04).cstr16(s);
}

export function logonTimeOf(d: Date): LogonTime {
  return {
    seconds: d.getUTCSeconds(), minutes: d.getUTCMinutes(), hour: d.getUTCHours(), dayOfWeek: d.getUTCDay(),
    day: d.getUTCDate(), month: d.getUTCMonth() + 1, year: d.getUTCFullYear(),
  };
}

/** Appends one ROP response buffer. */
export function writeRopResponse(w: Writer, res: RopResponse): void {
  w.u8(res.ropId).u8(res.handleIndex).u32(res.returnValue);
  if ("error" in res) return;
  if (res.ropId === ROP.Logon && "redirect" in res) {
    // §2.2.3.1.4: LogonFlags, ServerNameSize (u8, incl. NUL), ServerName.
    w.u8(res.logonFlags).u8(res.serverName.length + 1).cstr8(res.serverName);
    return;
  }
  if (res.ropId === ROP.ReadStream) {
    // §2.2.9.2.2: DataSize and Data follow ReturnValue whether or not it is 0.
    if (res.data.length > 0xffff) throw new WireError("too-large", "RopReadStream data above 65535 bytes");
    w.bin16(res.data);
    return;
  }
  if (res.returnValue !== 0) return;
  switch (res.ropId) {
    case ROP.Logon: {
      if (res.folderIds.length !== 13) throw new WireError("bad-value", "RopLogon needs 13 folder ids");
      w.u8(res.logonFlags);
      for (const id of res.folderIds) w.u64(id);
      w.u8(res.responseFlags).guid(res.mailboxGuid).u16(res.replId).guid(res.replGuid);
      const t = res.logonTime;
      w.u8(t.seconds).u8(t.minutes).u8(t.hour).u8(t.dayOfWeek).u8(t.day).u8(t.month).u16(t.year);
      w.u64(res.gwartTime).u32(res.storeState);
      return;
    }
    case ROP.OpenFolder: {
      w.bool(res.hasRules).bool(res.isGhosted);
      if (res.isGhosted) {
        const servers = res.servers ?? [];
        w.u16(servers.length).u16(res.cheapServerCount ?? 0);
        for (const s of servers) w.cstr8(s);
      }
      return;
    }
    case ROP.OpenMessage: {
      w.bool(res.hasNamedProperties);
      typedString(w, res.subjectPrefix);
      typedString(w, res.normalizedSubject);
      w.u16(res.recipientCount);
      writeTags16(w, res.recipientColumns);
      if (res.recipientRows.length > 0xff) throw new WireError("too-large", "more than 255 recipient rows");
      w.u8(res.recipientRows.length);
      for (const row of res.recipientRows) {
        // §2.2.6.1.2 OpenRecipientRow: RecipientType, CodePageId, Reserved, RecipientRowSize, RecipientRow.
        w.u8(row.recipientType).u16(row.codePageId).u16(0).bin16(row.row);
      }
      return;
    }
    case ROP.GetHierarchyTable:
    case ROP.GetContentsTable:
      w.u32(res.rowCount);
      return;
    case ROP.CreateMessage:
      w.bool(res.messageId !== null);
      if (res.messageId !== null) w.u64(res.messageId);
      return;
    case ROP.GetPropertiesSpecific:
      writePropertyRow(w, res.columns, res.row);
      return;
    case ROP.GetPropertiesAll:
      w.u16(res.values.length);
      for (const v of res.values) writeTaggedValue(w, v);
      return;
    case ROP.GetPropertiesList:
      writeTags16(w, res.tags);
      return;
    case ROP.SetProperties:
      writeProblems(w, res.problems);
      return;
    case ROP.SaveChangesMessage:
      w.u8(res.inputHandleIndex).u64(res.messageId);
      return;
    case ROP.ReadRecipients:
      w.u8(res.rows.length);
      for (const row of res.rows) w.u32(row.rowId).u8(row.recipientType).u16(row.codePageId).u16(0).bin16(row.row);
      return;
    case ROP.SetColumns:
    case ROP.SortTable:
    case ROP.Restrict:
    case ROP.GetStatus:
      w.u8(res.tableStatus);
      return;
    case ROP.QueryRows: {
      w.u8(res.origin).u16(res.rows.length);
      for (const row of res.rows) writePropertyRow(w, res.columns, row);
      return;
    }
    case ROP.QueryPosition:
      w.u32(res.numerator).u32(res.denominator);
      return;
    case ROP.SeekRow:
      w.bool(res.hasSoughtLess).i32(res.rowsSought);
      return;
    case ROP.DeleteMessages:
      w.bool(res.partialCompletion);
      return;
    case ROP.GetReceiveFolder:
      w.u64(res.folderId).cstr8(res.explicitMessageClass);
      return;
    case ROP.OpenStream:
    case ROP.GetStreamSize:
      w.u32(res.streamSize);
      return;
    case ROP.WriteStream:
      w.u16(res.writtenSize);
      return;
    case ROP.SeekStream:
      w.u64(res.newPosition);
      return;
    case ROP.LongTermIdFromId:
      writeLongTermId(w, res.longTermId);
      return;
    case ROP.IdFromLongTermId:
      w.u64(res.objectId);
      return;
    case ROP.GetNamesFromPropertyIds:
      w.u16(res.names.length);
      for (const n of res.names) writePropertyName(w, n);
      return;
    case ROP.GetPropertyIdsFromNames:
      w.u16(res.propertyIds.length);
      for (const id of res.propertyIds) w.u16(id);
      return;
    case ROP.GetPerUserLongTermIds:
      w.u16(res.longTermIds.length);
      for (const l of res.longTermIds) writeLongTermId(w, l);
      return;
    default:
      return; // PlainResponse: nothing after ReturnValue
  }
}

/** The failure response for a ROP (MS-OXCROPS §2.2.1: RopId, handle index, ReturnValue). */
export function ropError(ropId: number, handleIndex: number, returnValue: number): RopResponse {
  return { ropId, handleIndex, returnValue, error: true };
}

/**
 * The answer to an unknown RopId: its failure response with ecNotSupported,
 * echoing the byte where InputHandleIndex would be (MS-OXCROPS §2.2.1).
 */
export function unknownRopResponse(rop: UnknownRop): RopResponse {
  return ropError(rop.ropId, rop.inputHandleIndex, 0x80040102);
}

/**
 * MS-OXCROPS §2.2.15.1 RopBufferTooSmall response: RopId 0xFF, SizeNeeded,
 * and the request bytes that were not processed.
 */
export function writeBufferTooSmall(w: Writer, sizeNeeded: number, requestBuffers: Uint8Array): void {
  w.u8(ROP.BufferTooSmall).u16(sizeNeeded).bytes(requestBuffers);
}

/** Encodes a RecipientRow (MS-OXCDATA §2.8.3.1) for RopOpenMessage / RopReadRecipients (strings in UTF-16). */
export function encodeRecipientRow(row: Omit<RecipientRow, "flags"> & { flags?: number }, columns: readonly PropTag[]): Uint8Array {
  const w = new W();
  let flags = (row.flags ?? 0) & ~(RECIP.typeMask | RECIP.E | RECIP.D | RECIP.I | RECIP.T);
  flags |= row.addressType & RECIP.typeMask;
  flags |= RECIP.U;
  if (row.emailAddress !== undefined) flags |= RECIP.E;
  if (row.displayName !== undefined) flags |= RECIP.D;
  if (row.simpleDisplayName !== undefined) flags |= RECIP.I;
  if (row.transmittableDisplayName !== undefined) flags |= RECIP.T;
  w.u16(flags);
  if (row.addressType === RECIP.typeX500) w.u8(row.addressPrefixUsed ?? 0).u8(row.displayType ?? 0).cstr8(row.x500dn ?? "");
  else if (row.addressType === RECIP.typePdl1 || row.addressType === RECIP.typePdl2) w.bin16(row.entryId ?? new Uint8Array()).bin16(row.searchKey ?? new Uint8Array());
  else if (row.addressType === 0 && flags & RECIP.O) w.cstr8(row.addressTypeString ?? "");
  if (row.emailAddress !== undefined) w.cstr16(row.emailAddress);
  if (row.displayName !== undefined) w.cstr16(row.displayName);
  if (row.simpleDisplayName !== undefined) w.cstr16(row.simpleDisplayName);
  if (row.transmittableDisplayName !== undefined) w.cstr16(row.transmittableDisplayName);
  w.u16(columns.length);
  writePropertyRow(w, columns, row.properties);
  return w.finish();
}
