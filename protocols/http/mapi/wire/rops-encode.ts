/**
 * ROP request encoders, the mirror of rops-parse.ts (MS-OXCROPS §2.2): what a
 * client sends. Used by the byte-level tests, the fuzz seeds and test clients.
 */
import { WireError } from "./errors.ts";
import { Writer } from "./writer.ts";
import { writeLongTermId, writePropertyName } from "./ids.ts";
import { writePropertyRow, writeTaggedValue, writeTags16 } from "./propvalue.ts";
import { writeRestriction, writeSortOrderSet } from "./restriction.ts";
import { ROP } from "./rop-ids.ts";
import { RECIP } from "./rops-parse.ts";
import type { RecipientRow, RopRequest } from "./rops-types.ts";
import type { PropTag } from "./proptypes.ts";

/** MS-OXCDATA §2.8.3.1 RecipientRow as a client writes it (strings in the U flag's encoding). */
export function writeRecipientRow(w: Writer, row: RecipientRow, columns: readonly PropTag[]): void {
  const flags = row.flags;
  const unicode = (flags & RECIP.U) !== 0;
  const str = (s: string | undefined) => (unicode ? w.cstr16(s ?? "") : w.cstr8(s ?? ""));
  w.u16(flags);
  const type = flags & RECIP.typeMask;
  if (type === RECIP.typeX500) w.u8(row.addressPrefixUsed ?? 0).u8(row.displayType ?? 0).cstr8(row.x500dn ?? "");
  else if (type === RECIP.typePdl1 || type === RECIP.typePdl2) w.bin16(row.entryId ?? new Uint8Array()).bin16(row.searchKey ?? new Uint8Array());
  else if (type === 0 && flags & RECIP.O) w.cstr8(row.addressTypeString ?? "");
  if (flags & RECIP.E) str(row.emailAddress);
  if (flags & RECIP.D) str(row.displayName);
  if (flags & RECIP.I) str(row.simpleDisplayName);
  if (flags & RECIP.T) str(row.transmittableDisplayName);
  w.u16(row.properties.length);
  writePropertyRow(w, columns.slice(0, row.properties.length), row.properties);
}

/** Appends one ROP request buffer. */
export function encodeRopRequest(w: Writer, q: RopRequest): void {
  w.u8(q.ropId).u8(q.logonId);
  if (q.ropId === ROP.Logon) {
    const dn = q.essdn === "" ? new Uint8Array() : new Writer().cstr8(q.essdn).finish();
    w.u8(q.outputHandleIndex).u8(q.logonFlags).u32(q.openFlags).u32(q.storeState).bin16(dn);
    return;
  }
  if (q.ropId === ROP.SaveChangesMessage) {
    w.u8(q.responseHandleIndex).u8(q.inputHandleIndex).u8(q.saveFlags);
    return;
  }
  w.u8(q.inputHandleIndex);
  switch (q.ropId) {
    case ROP.Release: case ROP.GetPropertiesList: case ROP.GetStatus: case ROP.QueryPosition:
    case ROP.CommitStream: case ROP.GetStreamSize:
      return;
    case ROP.OpenFolder: w.u8(q.outputHandleIndex).u64(q.folderId).u8(q.openModeFlags); return;
    case ROP.OpenMessage: w.u8(q.outputHandleIndex).u16(q.codePageId).u64(q.folderId).u8(q.openModeFlags).u64(q.messageId); return;
    case ROP.GetHierarchyTable: case ROP.GetContentsTable: case ROP.GetAttachmentTable: case ROP.GetRulesTable:
      w.u8(q.outputHandleIndex).u8(q.tableFlags);
      return;
    case ROP.CreateMessage: w.u8(q.outputHandleIndex).u16(q.codePageId).u64(q.folderId).bool(q.associated); return;
    case ROP.GetPropertiesSpecific: w.u16(q.propertySizeLimit).u16(q.wantUnicode ? 1 : 0); writeTags16(w, q.tags); return;
    case ROP.GetPropertiesAll: w.u16(q.propertySizeLimit).u16(q.wantUnicode ? 1 : 0); return;
    case ROP.SetProperties: {
      const body = new Writer().u16(q.values.length);
      for (const v of q.values) writeTaggedValue(body, v);
      const b = body.finish();
      if (b.length > 0xffff) throw new WireError("too-large", "RopSetProperties values above 65535 bytes");
      w.bin16(b);
      return;
    }
    case ROP.ModifyRecipients: {
      writeTags16(w, q.columns);
      w.u16(q.rows.length);
      for (const r of q.rows) {
        w.u32(r.rowId).u8(r.recipientType);
        if (!r.row) {
          w.u16(0);
          continue;
        }
        const rw = new Writer();
        writeRecipientRow(rw, r.row, q.columns);
        w.bin16(rw.finish());
      }
      return;
    }
    case ROP.ReadRecipients: w.u32(q.rowId).u16(0); return;
    case ROP.SetColumns: w.u8(q.flags); writeTags16(w, q.tags); return;
    case ROP.SortTable: w.u8(q.flags); writeSortOrderSet(w, q.sort); return;
    case ROP.Restrict: {
      w.u8(q.flags);
      if (!q.restriction) {
        w.u16(0);
        return;
      }
      const rw = new Writer();
      writeRestriction(rw, q.restriction);
      w.bin16(rw.finish());
      return;
    }
    case ROP.QueryRows: w.u8(q.flags).bool(q.forwardRead).u16(q.rowCount); return;
    case ROP.SeekRow: w.u8(q.origin).i32(q.rowCount).bool(q.wantRowMovedCount); return;
    case ROP.DeleteMessages:
      w.bool(q.wantAsynchronous).bool(q.notifyNonRead).u16(q.messageIds.length);
      for (const id of q.messageIds) w.u64(id);
      return;
    case ROP.OpenAttachment: w.u8(q.outputHandleIndex).u8(q.flags).u32(q.attachmentId); return;
    case ROP.SetReceiveFolder: w.u64(q.folderId).cstr8(q.messageClass); return;
    case ROP.GetReceiveFolder: w.cstr8(q.messageClass); return;
    case ROP.RegisterNotification:
      w.u8(q.outputHandleIndex).u8(q.notificationTypes).u8(0).bool(q.wantWholeStore);
      if (!q.wantWholeStore) w.u64(q.folderId ?? 0n).u64(q.messageId ?? 0n);
      return;
    case ROP.OpenStream: w.u8(q.outputHandleIndex).u32(q.tag).u8(q.openModeFlags); return;
    case ROP.ReadStream:
      w.u16(q.byteCount);
      if (q.byteCount === 0xbabe) w.u32(q.maximumByteCount ?? 0);
      return;
    case ROP.WriteStream: w.bin16(q.data); return;
    case ROP.SeekStream: w.u8(q.origin).u64(q.offset); return;
    case ROP.SubmitMessage: w.u8(q.submitFlags); return;
    case ROP.ModifyRules:
      w.u8(q.flags).u16(q.rules.length);
      for (const r of q.rules) {
        w.u8(r.flags).u16(r.values.length);
        for (const v of r.values) writeTaggedValue(w, v);
      }
      return;
    case ROP.LongTermIdFromId: w.u64(q.objectId); return;
    case ROP.IdFromLongTermId: writeLongTermId(w, q.longTermId); return;
    case ROP.GetNamesFromPropertyIds:
      w.u16(q.propertyIds.length);
      for (const id of q.propertyIds) w.u16(id);
      return;
    case ROP.GetPropertyIdsFromNames:
      w.u8(q.flags).u16(q.names.length);
      for (const n of q.names) writePropertyName(w, n);
      return;
    case ROP.GetPerUserLongTermIds: w.guid(q.databaseGuid); return;
  }
}

/** The RopsList for a sequence of requests. */
export function encodeRopRequests(rops: readonly RopRequest[]): Uint8Array {
  const w = new Writer();
  for (const q of rops) encodeRopRequest(w, q);
  return w.finish();
}
