/**
 * The reading half of the mail kind (kinds.ts, mail-kind.ts): messages of
 * mail folders listed and loaded from the store's index rows (parsed once at
 * delivery), property values for restrictions and sorts, and DeleteItem /
 * MoveItem / CopyItem on the store's expunge, move (the stable id survives)
 * and copy. Rendering t:Message is mail-render.ts.
 */
import type { Folder, ItemProperty, MessageIndex } from "../../../storage/api.ts";
import type { HeaderField } from "../../../mail/headers.ts";
import { decodeWords, parseHeaderBlock } from "../../../mail/headers.ts";
import { readBody } from "../../../mail/read.ts";
import { htmlToText } from "../../../mail/text.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { extendedValue } from "./extended.ts";
import type { ItemRef } from "./ids.ts";
import type { ItemKind, KindItem } from "./kinds.ts";
import { conversationIdOf, importanceOf, mailComputed, renderMail, sensitivityOf } from "./mail-render.ts";
import { categoriesOf } from "./mail-write.ts";
import type { PropertyPath } from "./shape.ts";

/** A mail item as the mail kind loads it: the store's index row (parsed at delivery). */
export interface MailItem {
  index: MessageIndex;
  /** The top-level header fields, when something needed them (Importance, Sensitivity, headers). */
  headers?: HeaderField[];
  /** The typed properties (extended properties, categories), when something needed them. */
  props?: ItemProperty[];
  /** The body as text, when a restriction on item:Body needed it. */
  bodyText?: string;
}

/** How many index rows one store read takes (a list of a large folder goes in batches). */
const BATCH = 500;

export function mailKindItem(accountId: number, index: MessageIndex): KindItem<MailItem> {
  return { ref: { accountId, itemClass: "mail", id: index.id }, folderId: index.folderId, modseq: index.modseq, data: { index } };
}

/** The ids of the caller's mail folders, read once per request. */
const mailFolderCache = new WeakMap<EwsContext, Promise<Map<number, Folder>>>();
export function mailFolders(c: EwsContext): Promise<Map<number, Folder>> {
  let p = mailFolderCache.get(c);
  if (!p) {
    p = c.store.listFolders(c.account.id, { itemClass: "mail" }).then((fs) => new Map(fs.map((f) => [f.id, f])));
    mailFolderCache.set(c, p);
  }
  return p;
}

/** Full index rows of a folder's messages with these UIDs, in batches. */
export async function indexesOf(c: EwsContext, folderId: number, uids: readonly number[]): Promise<MessageIndex[]> {
  const out: MessageIndex[] = [];
  for (let i = 0; i < uids.length; i += BATCH) out.push(...(await c.store.getMessages(folderId, uids.slice(i, i + BATCH) as number[])));
  return out;
}

async function list(c: EwsContext, folder: Folder): Promise<KindItem<MailItem>[]> {
  if (folder.itemClass !== "mail") return [];
  const summaries = await c.store.listMessages(folder.id);
  const rows = await indexesOf(
    c,
    folder.id,
    summaries.map((s) => s.uid),
  );
  return rows.map((r) => mailKindItem(c.account.id, r));
}

async function load(c: EwsContext, refs: readonly ItemRef[]): Promise<KindItem<MailItem>[]> {
  const folders = await mailFolders(c);
  const ids = refs.filter((ref) => ref.accountId === c.account.id && ref.itemClass === "mail").map((ref) => ref.id);
  // One store read per BATCH ids (GetItem of 1,000 ids, exchangelib's pages of 100), not one per item.
  const byId = new Map<number, MessageIndex>();
  for (let i = 0; i < ids.length; i += BATCH) for (const x of await c.store.getMessagesByIds(ids.slice(i, i + BATCH))) byId.set(x.id, x);
  const out: KindItem<MailItem>[] = [];
  for (const id of ids) {
    const index = byId.get(id);
    // Only a message of one of the caller's mail folders (an id forged with our account number names nothing).
    if (!index || !folders.has(index.folderId)) continue;
    out.push(mailKindItem(c.account.id, index));
  }
  return out;
}

/** Reads the header block of each item that lacks it (one range read each: the header, not the message). */
export async function withHeaders(c: EwsContext, items: readonly KindItem<MailItem>[]): Promise<void> {
  for (const it of items) {
    if (it.data.headers) continue;
    const r = it.data.index.root;
    const bytes = await c.store.readRange(it.data.index.blobId, r.headerStart, r.bodyStart);
    it.data.headers = parseHeaderBlock(bytes, 0, bytes.length).fields;
  }
}

/** Reads the typed properties of each item that lacks them. */
export async function withProps(c: EwsContext, items: readonly KindItem<MailItem>[]): Promise<void> {
  for (const it of items) if (!it.data.props) it.data.props = await c.store.getProperties({ itemId: it.ref.id });
}

/** Reads the body text of each item that lacks it (restrictions on item:Body). */
export async function withBodyText(c: EwsContext, items: readonly KindItem<MailItem>[]): Promise<void> {
  for (const it of items) {
    if (it.data.bodyText !== undefined) continue;
    const raw = await c.store.readMessage(it.ref.id);
    const b = readBody(raw, it.data.index.root);
    it.data.bodyText = b.text ?? (b.html ? htmlToText(b.html) : "");
  }
}

/** What value() needs beyond the index row for these paths. */
export function mailNeeds(paths: readonly PropertyPath[]): { headers: boolean; props: boolean; body: boolean } {
  const need = { headers: false, props: false, body: false };
  for (const p of paths) {
    if (p.kind === "extended") need.props = need.headers = true;
    else if (p.uri === "item:Importance" || p.uri === "item:Sensitivity") need.headers = true;
    else if (p.uri === "item:Categories") need.props = true;
    else if (p.uri === "item:Body" || p.uri === "item:UniqueBody" || p.uri === "item:TextBody") need.body = true;
  }
  return need;
}

function people(list: MessageIndex["envelope"]["to"]): string[] {
  const out: string[] = [];
  for (const a of list ?? []) {
    if (!a.mailbox || !a.host) continue;
    out.push(`${a.mailbox}@${a.host}`.toLowerCase());
    if (a.name) out.push(decodeWords(a.name));
  }
  return out;
}

/** Summary-level values (no header, property or body read): what FindItem can sort and filter 10,000 messages by quickly. */
export const SUMMARY_FIELDS: ReadonlySet<string> = new Set([
  "item:DateTimeReceived",
  "item:DateTimeCreated",
  "item:LastModifiedTime",
  "item:Size",
  "message:IsRead",
  "item:IsDraft",
  "item:Flag",
]);

function value(c: EwsContext, item: KindItem<MailItem>, path: PropertyPath): string | number | boolean | readonly string[] | undefined {
  const x = item.data.index;
  const flags = x.flags;
  if (path.kind === "extended") return extendedValue(item.data.props ?? [], path, mailComputed(c, item));
  if (path.kind === "indexed") return undefined;
  switch (path.uri) {
    case "item:ItemId":
      return String(x.id);
    case "item:Subject":
    case "message:ConversationTopic":
      return path.uri === "item:Subject" ? x.subject : x.baseSubject;
    case "item:ItemClass":
      return "IPM.Note";
    case "item:DateTimeReceived":
    case "item:DateTimeCreated":
    case "item:LastModifiedTime":
      return x.internalDate;
    case "item:DateTimeSent":
      return x.sentDate ?? x.internalDate;
    case "item:Size":
      return x.size;
    case "message:IsRead":
      return flags.includes("\\Seen");
    case "item:IsDraft":
      return flags.includes("\\Draft");
    case "message:IsFromMe":
      return x.fromAddr === c.account.email;
    case "item:HasAttachments":
      return x.hasAttachment;
    case "item:Importance":
      return importanceOf(item.data.headers ?? []);
    case "item:Sensitivity":
      return sensitivityOf(item.data.headers ?? []);
    case "item:Categories":
      return categoriesOf(item.data.props ?? [], flags);
    case "item:Flag":
      return flags.includes("\\Flagged") ? "Flagged" : "NotFlagged";
    case "message:From":
      return people(x.envelope.from);
    case "message:Sender":
      return people(x.envelope.sender ?? x.envelope.from);
    case "message:ToRecipients":
    case "item:DisplayTo":
      return people(x.envelope.to);
    case "message:CcRecipients":
    case "item:DisplayCc":
      return people(x.envelope.cc);
    case "message:BccRecipients":
      return people(x.envelope.bcc);
    case "message:InternetMessageId":
      return x.messageId ?? undefined;
    case "item:InReplyTo":
      return x.inReplyTo ?? undefined;
    case "message:References":
      return x.references.join(" ");
    case "item:ConversationId":
    case "conversation:ConversationId":
      return conversationIdOf(c.account.id, x.threadId);
    case "item:Preview":
      return x.preview;
    case "item:Body":
    case "item:UniqueBody":
    case "item:TextBody":
      return item.data.bodyText;
    case "item:ParentFolderId":
      return String(x.folderId);
    default:
      return undefined;
  }
}

async function trashOf(c: EwsContext): Promise<Folder | null> {
  for (const f of (await mailFolders(c)).values()) if (f.specialUse === "\\Trash") return f;
  return null;
}

/** Whether a message is still where it was loaded (another client may have moved or expunged it meanwhile). */
async function current(c: EwsContext, item: KindItem<MailItem>): Promise<MessageIndex> {
  const now = await c.store.getMessageById(item.ref.id);
  if (!now || !(await mailFolders(c)).has(now.folderId)) throw new EwsError("ErrorItemNotFound", "The item no longer exists.");
  return now;
}

async function remove(c: EwsContext, item: KindItem<MailItem>, opts: { disposal: "HardDelete" | "SoftDelete" | "MoveToDeletedItems" }): Promise<void> {
  const x = await current(c, item);
  if (opts.disposal === "MoveToDeletedItems") {
    // MS-OXWSCORE §3.1.4.3: MoveToDeletedItems moves the item to Deleted Items; from Deleted Items itself it is removed.
    const trash = await trashOf(c);
    if (trash && trash.id !== x.folderId) {
      await c.store.move(x.folderId, [x.uid], trash.id);
      return;
    }
  }
  // HardDelete removes the item; SoftDelete would keep it in the dumpster, which this server does not have.
  await c.store.expunge(x.folderId, [x.uid]);
}

function checkTarget(to: Folder): void {
  if (to.itemClass !== "mail") throw new EwsError("ErrorMoveCopyFailed", "A message can only be moved or copied into a mail folder.");
}

async function move(c: EwsContext, item: KindItem<MailItem>, to: Folder): Promise<KindItem<MailItem>> {
  checkTarget(to);
  const x = await current(c, item);
  if (x.folderId === to.id) return mailKindItem(c.account.id, x);
  await c.store.move(x.folderId, [x.uid], to.id);
  const moved = await c.store.getMessageById(x.id);
  if (!moved) throw new EwsError("ErrorMoveCopyFailed", "The message could not be moved.");
  return mailKindItem(c.account.id, moved);
}

async function copy(c: EwsContext, item: KindItem<MailItem>, to: Folder): Promise<KindItem<MailItem>> {
  checkTarget(to);
  const x = await current(c, item);
  const res = await c.store.copy(x.folderId, [x.uid], to.id);
  const destUid = res.mapping.find(([src]) => src === x.uid)?.[1];
  const [copied] = destUid !== undefined ? await c.store.getMessages(to.id, [destUid]) : [];
  if (!copied) throw new EwsError("ErrorMoveCopyFailed", "The message could not be copied.");
  // Extended properties and categories kept in the property table go with the copy (the store copies flags and keywords).
  const props = await c.store.getProperties({ itemId: x.id });
  if (props.length) await c.store.setProperties({ itemId: copied.id }, props);
  return mailKindItem(c.account.id, props.length ? ((await c.store.getMessageById(copied.id)) ?? copied) : copied);
}

export const mailRead: Pick<ItemKind<MailItem>, "list" | "load" | "render" | "value" | "remove" | "move" | "copy"> = {
  list,
  load,
  render: renderMail,
  value,
  remove,
  move,
  copy,
};
