/**
 * Attachment ids (Types.xsd AttachmentIdType: Id, RootItemId, RootItemChangeKey):
 * opaque to clients. Ours name the item (its ItemRef, as ids.ts encodes it) and
 * where the attachment is in it: for mail the MIME part path ("2", "1.3", the
 * IMAP section numbering of protocols/http/eas/email/convert.ts analyseParts), for
 * other kinds a token of their own (letters, digits, ".", "-", "_"). Written by
 * mail-read.ts (t:Attachments of a message), decoded by attachments.ts
 * (GetAttachment, DeleteAttachment).
 */
import { EwsError, type EwsContext } from "./context.ts";
import { itemId, parseItemId, type ItemRef } from "./ids.ts";

/** The AttachmentId's Id attribute. */
export function attachmentId(ref: ItemRef, part: string): string {
  return Buffer.from(`A:${part}:${itemId(ref)}`, "utf8").toString("base64");
}

/** Decodes an AttachmentId's Id; null when it is not one of ours. */
export function parseAttachmentId(id: string): { ref: ItemRef; part: string } | null {
  if (!/^[A-Za-z0-9+/_-]{4,400}={0,2}$/.test(id)) return null;
  const s = Buffer.from(id, "base64").toString("utf8");
  const m = /^A:([A-Za-z0-9._-]{1,100}):([A-Za-z0-9+/=_-]{4,200})$/.exec(s);
  if (!m) return null;
  const ref = parseItemId(m[2]!);
  return ref ? { ref, part: m[1]! } : null;
}

/** The calling account's attachment id, checked: malformed -> ErrorInvalidIdMalformed, another mailbox's -> ErrorItemNotFound. */
export function ownAttachmentId(c: EwsContext, id: string | undefined): { ref: ItemRef; part: string } {
  if (!id) throw new EwsError("ErrorInvalidIdEmpty", "The attachment id is empty.");
  const a = parseAttachmentId(id);
  if (!a) throw new EwsError("ErrorInvalidIdMalformed", "The attachment id is malformed.");
  if (a.ref.accountId !== c.account.id) throw new EwsError("ErrorItemNotFound", "The attachment was not found in this mailbox.");
  return a;
}

/** `<t:AttachmentId Id=".." RootItemId=".." RootItemChangeKey=".."/>` (MS-OXWSCORE §2.2.4.8). */
export function attachmentIdXml(ref: ItemRef, part: string, rootChangeKey: string): string {
  return `<t:AttachmentId Id="${attachmentId(ref, part)}" RootItemId="${itemId(ref)}" RootItemChangeKey="${rootChangeKey}"/>`;
}
