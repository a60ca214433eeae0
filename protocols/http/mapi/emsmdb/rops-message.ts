/**
 * Message ROPs (MS-OXCROPS §2.2.6, MS-OXCMSG §3.2.5): RopOpenMessage,
 * RopCreateMessage, RopModifyRecipients, RopSaveChangesMessage,
 * RopSubmitMessage (§2.2.7.1), RopGetAttachmentTable, RopOpenAttachment.
 */
import type { Writer } from "../wire/writer.ts";
import { partContent } from "../../../../mail/index.ts";
import { RopError, ec } from "./errors.ts";
import { input, output, registerRop, type Exec } from "./engine.ts";
import { FolderTree, V } from "./folders.ts";
import { counterOf, decodeCounter, folderCounter, idValue, itemCounter, virtualCounter } from "./ids.ts";
import type { MessageObject } from "./objects.ts";
import { attachmentsOf, messageFullProps, set, type FolderView } from "./props.ts";
import { folderByFid } from "./rops-folder.ts";
import { attachmentRows, newTable } from "./tables.ts";
import { MAX_RECIPIENTS, readRecipientRow, submit, toMime } from "./compose.ts";
import type { PropMap } from "./values.ts";

function message(x: Exec, idx: number): MessageObject {
  const o = input(x, idx);
  if (o.kind !== "message") throw new RopError(ec.InvalidObject, "not a message");
  return o;
}

/** MS-OXCDATA §2.11.? TypedString: StringType 0x01 empty, 0x04 UTF-16LE. */
function typedString(w: Writer, s: string): void {
  if (s === "") w.u8(0x01);
  else w.u8(0x04).cstr16(s);
}

// RopOpenMessage §2.2.6.1: the stored message with its bodies; recipients are read as PidTagDisplayTo/Cc (RecipientCount 0).
registerRop(0x03, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  r.u16(); // CodePageId
  const fid = r.u64();
  r.u8(); // OpenModeFlags
  const mid = r.u64();
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      const o = input(x, inIndex);
      if (o.kind !== "logon" && o.kind !== "folder") throw new RopError(ec.InvalidObject, "not a logon or folder");
      const folder = await folderByFid(x, fid);
      const c = counterOf(mid);
      const t = c === null ? null : decodeCounter(c);
      if (!t || t.kind !== "item" || !folder.folder) throw new RopError(ec.NotFound, "no such message");
      const item = await x.c.store.getMessageById(t.id);
      if (!item || item.folderId !== folder.folder.id) throw new RopError(ec.NotFound, "no such message");
      const raw = await x.c.store.readMessage(item.id);
      const props = messageFullProps(x.s.accountId, folder.counter, item, raw, x.s.email);
      output(x, outIndex, { kind: "message", logonId: x.logonId, folderCounter: folder.counter, item, props, dirty: false, recipients: [], raw });
      const subject = item.subject;
      const normalized = item.baseSubject || subject;
      const prefix = subject.endsWith(normalized) ? subject.slice(0, subject.length - normalized.length) : "";
      w.u8(ropId).u8(outIndex).u32(0).u8(0);
      typedString(w, prefix);
      typedString(w, normalized);
      w.u16(0).u16(0).u8(0); // RecipientCount, ColumnCount, RowCount
    },
  };
});

/** Where a message created in `v` is saved: the store folder, or for the virtual Outbox the Drafts folder. */
async function saveFolder(x: Exec, v: FolderView): Promise<number> {
  if (v.folder) return v.folder.id;
  const t = decodeCounter(v.counter);
  if (t.kind === "virtual" && t.n === V.Outbox) {
    const drafts = (await FolderTree.load(x.c.store, x.s.accountId)).special("\\Drafts");
    if (drafts) return drafts.id;
  }
  throw new RopError(ec.AccessDenied, "messages cannot be saved in this folder");
}

// RopCreateMessage §2.2.6.2: a new message held in the session until saved or submitted (HasMessageId 0: no id before the save).
registerRop(0x06, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  r.u16(); // CodePageId
  const fid = r.u64();
  const associated = r.u8();
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      const o = input(x, inIndex);
      if (o.kind !== "logon" && o.kind !== "folder") throw new RopError(ec.InvalidObject, "not a logon or folder");
      if (associated) throw new RopError(ec.NotSupported, "folder associated information is not kept");
      const folder = await folderByFid(x, fid);
      const props: PropMap = new Map();
      set(props, "MessageClass", "IPM.Note");
      set(props, "MessageFlags", 0x8 | 0x1); // unsent, read (MS-OXCMSG §3.2.5.2)
      set(props, "FolderId", idValue(folder.counter));
      output(x, outIndex, { kind: "message", logonId: x.logonId, folderCounter: folder.counter, item: null, props, dirty: false, recipients: [], raw: null });
      w.u8(ropId).u8(outIndex).u32(0).u8(0);
    },
  };
});

// RopModifyRecipients §2.2.6.5: rows replace the recipient of the same RowId; a row with no RecipientRow removes it.
registerRop(0x0e, (r, ropId) => {
  const inIndex = r.u8();
  const columns = r.count(r.u16(), 1024, 4, "recipient columns");
  r.bytes(columns * 4, "RecipientColumns");
  const n = r.count(r.u16(), MAX_RECIPIENTS, 7, "recipient rows");
  const rows: { rowId: number; type: number; row: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) rows.push({ rowId: r.u32(), type: r.u8(), row: r.bytes(r.u16(), "RecipientRow") });
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const m = message(x, inIndex);
      if (m.item) throw new RopError(ec.AccessDenied, "a stored message's recipients are not changed over MAPI yet");
      const byRow = new Map(m.recipients.map((rc, i) => [i + 1, rc] as const));
      for (const row of rows) {
        if (row.row.length === 0) {
          byRow.delete(row.rowId);
          continue;
        }
        let rc;
        try {
          rc = readRecipientRow(row.row, row.type & 0x0f);
        } catch {
          throw new RopError(ec.InvalidParam, "malformed RecipientRow");
        }
        if (!rc) throw new RopError(ec.InvalidParam, "a recipient without an address");
        byRow.set(row.rowId, rc);
      }
      if (byRow.size > MAX_RECIPIENTS) throw new RopError(ec.TooBig, "too many recipients");
      m.recipients = [...byRow.values()];
      m.dirty = true;
      w.u8(ropId).u8(inIndex).u32(0);
    },
  };
});

// RopSaveChangesMessage §2.2.6.3: the new message is appended to its folder as a draft; acknowledged after the store committed it.
registerRop(0x0c, (r, ropId) => {
  const responseIndex = r.u8();
  const inIndex = r.u8();
  r.u8(); // SaveFlags
  return {
    respIndex: responseIndex,
    async run(x: Exec, w: Writer) {
      const m = message(x, inIndex);
      if (m.item) {
        // Nothing changes a stored message over MAPI in this milestone: saving it unchanged is a success.
        w.u8(ropId).u8(responseIndex).u32(0).u8(inIndex).u64(idValue(itemCounter(m.item.id)));
        return;
      }
      const tree = await FolderTree.load(x.c.store, x.s.accountId);
      const view = tree.view(m.folderCounter) ?? tree.view(virtualCounter(V.IpmSubtree))!;
      const folderId = await saveFolder(x, view);
      const { raw } = await toMime(x, m, { keepBcc: true });
      if (raw.length > x.c.server.config.limits.maxMessageSize) throw new RopError(ec.TooBig, "message over the size limit");
      const [res] = await x.c.store.append(folderId, [{ raw, flags: ["\\Draft", "\\Seen"] }]);
      const item = res ? await x.c.store.getMessageById(res.id) : null;
      if (!item) throw new RopError(ec.Error, "the saved message cannot be read back");
      m.item = item;
      m.folderCounter = folderCounter(folderId);
      m.raw = raw;
      const keep = m.props;
      m.props = messageFullProps(x.s.accountId, m.folderCounter, item, raw, x.s.email);
      for (const [id, p] of keep) if (!m.props.has(id)) m.props.set(id, p);
      m.dirty = false;
      w.u8(ropId).u8(responseIndex).u32(0).u8(inIndex).u64(idValue(itemCounter(item.id)));
    },
  };
});

// RopSubmitMessage §2.2.7.1: sent through the delivery pipeline; a saved draft is removed once sent.
registerRop(0x32, (r, ropId) => {
  const inIndex = r.u8();
  r.u8(); // SubmitFlags
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const m = message(x, inIndex);
      if (m.item && !m.recipients.length) throw new RopError(ec.NotSupported, "a stored message is sent over MAPI only as created in this session");
      await submit(x, m);
      if (m.item) {
        const now = await x.c.store.getMessageById(m.item.id);
        if (now) {
          await x.c.store.storeFlags(now.folderId, [now.uid], "add", ["\\Deleted"], { silent: true });
          await x.c.store.expunge(now.folderId, [now.uid]);
        }
      }
      w.u8(ropId).u8(inIndex).u32(0);
    },
  };
});

// RopGetAttachmentTable §2.2.6.13.
registerRop(0x21, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  r.u8(); // TableFlags
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      const m = message(x, inIndex);
      output(x, outIndex, newTable("attachments", attachmentRows(m.raw, m.item?.root ?? null)));
      w.u8(ropId).u8(outIndex).u32(0);
    },
  };
});

// RopOpenAttachment §2.2.6.9: its properties with the content (PidTagAttachDataBinary, also readable as a stream).
registerRop(0x22, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  r.u8(); // OpenAttachmentFlags
  const num = r.u32();
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      const m = message(x, inIndex);
      const rows = attachmentRows(m.raw, m.item?.root ?? null);
      const props = rows[num];
      const part = m.item ? attachmentsOf(m.item.root)[num] : undefined;
      if (!props || !part || !m.raw) throw new RopError(ec.NotFound, "no such attachment");
      set(props, "AttachDataBinary", partContent(m.raw, part.part));
      output(x, outIndex, { kind: "attachment", props });
      w.u8(ropId).u8(outIndex).u32(0);
    },
  };
});

