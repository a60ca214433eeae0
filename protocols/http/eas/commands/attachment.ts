/**
 * GetAttachment (MS-ASCMD §2.2.1.7, protocol 12.x; later versions use
 * ItemOperations): ?Cmd=GetAttachment&AttachmentName=<FileReference>, the
 * response body is the attachment itself with its content type.
 */
import type { CommandHandler } from "../context.ts";
import { attachmentContent, findAttachment, parseFileReference } from "../email/convert.ts";

export const getAttachment: CommandHandler = async (c) => {
  const ref = parseFileReference(c.req.params.AttachmentName ?? "");
  const notFound = { status: 404, body: new Uint8Array(0) };
  if (!ref) return { status: 400, body: new Uint8Array(0) };
  const msg = await c.store.getMessageById(ref.itemId);
  const folder = msg ? await c.store.getFolderById(msg.folderId) : null;
  if (!msg || !folder || folder.accountId !== c.account.id) return notFound;
  const att = findAttachment(msg.root, ref.path);
  if (!att) return notFound;
  const body = attachmentContent(await c.store.readMessage(msg.id), att);
  return { body, contentType: att.contentType };
};
