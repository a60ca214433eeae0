/**
 * The writing half of the mail kind (kinds.ts, mail-kind.ts): CreateItem of
 * a t:Message (MS-OXWSMSG §3.1.4.2: saved, sent, or sent with a copy saved),
 * UpdateItem of a message (read state, flag, categories for every message;
 * the content of drafts). Sending (SendOnly, SendAndSaveCopy, an edited
 * draft sent by UpdateItem) is mail-send.ts; a message is acknowledged only
 * after the store (or the delivery pipeline) committed it.
 */
import type { Folder, ItemProperty, PropertyKey } from "../../../storage/api.ts";
import { canonicalLineEnds, parseMime } from "../../../mail/index.ts";
import { analyseParts } from "../eas/email/convert.ts";
import { attachmentIdXml } from "./attachment-id.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { applyExtendedChanges, parseExtendedProperties, parseExtendedProperty } from "./extended.ts";
import { changeKey, itemIdXml } from "./ids.ts";
import type { ItemKind, KindItem, UpdateOptions } from "./kinds.ts";
import { applyMessageElement, base64Of, buildMessage, clearField, CONTENT_FIELDS, draftFromMessage, emptyDraft, sameDraft, type Draft } from "./mail-compose.ts";
import type { MailItem } from "./mail-read.ts";
import { checkSize, loadMail, maxSize, ownMailbox, sendMessage, sentFolder } from "./mail-send.ts";
import { NS } from "./ns.ts";
import type { PropertyChange } from "./shape.ts";
import { kid, kidsNamed, kidText, parseBool, t, type XmlElement } from "./xml.ts";

// ------------------------------------------------------------ categories

/** PidNameKeywords ([MS-OXPROPS] §2.150): Outlook's categories, in the PublicStrings set. */
export const CATEGORIES_KEY: PropertyKey = { set: "00020329-0000-0000-c000-000000000046", name: "Keywords" };
const MAX_CATEGORIES = 100;
/** RFC 9051 §9 flag-keyword = atom: no space, no ( ) { % * " \ ] and no control characters. */
const ATOM = /^[!#$&'+,\-./0-9:;<=>?@A-Z[^_`a-z|}~]{1,100}$/;

/** Keywords that mark junk state, not a category (Thunderbird's Junk/NonJunk, NotJunk; the $-forms are left out anyway). */
const JUNK_KEYWORD = /^(junk|nonjunk|notjunk)$/i;

/** An IMAP keyword that is a user's label (a category): not a system flag, not $-prefixed, not a junk marker. */
const isCategoryKeyword = (f: string) => !f.startsWith("\\") && !f.startsWith("$") && !JUNK_KEYWORD.test(f);

/**
 * A message's categories: the stored PidNameKeywords when it has one (the
 * exact names, spaces and all), else its IMAP keywords that are labels
 * (what an IMAP client labelled it with).
 */
export function categoriesOf(stored: readonly ItemProperty[], flags: readonly string[]): string[] {
  const p = stored.find((x) => "set" in x.key && "name" in x.key && x.key.set === (CATEGORIES_KEY as { set: string }).set && x.key.name === "Keywords");
  if (p && p.type === "string") return p.multi ? [...p.value] : [p.value];
  return flags.filter(isCategoryKeyword);
}

function categoriesFrom(el: XmlElement): string[] {
  const list = kidsNamed(el, "String").map((s) => s.text.replace(/[\r\n]+/g, " ").trim().slice(0, 255)).filter(Boolean);
  if (list.length > MAX_CATEGORIES) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_CATEGORIES} categories.`);
  return [...new Set(list)];
}

/** The IMAP keywords mirroring categories (the ones that are atoms; the property keeps every name). */
const categoryKeywords = (cats: readonly string[]) => cats.filter((x) => ATOM.test(x) && isCategoryKeyword(x));


/**
 * The item element CreateItem/UpdateItem answer with: the ItemId and the
 * ids of its attachments (exchangelib pairs them, in order, with the
 * attachments it sent).
 */
export async function createdMailXml(_c: EwsContext, item: KindItem<MailItem>): Promise<string> {
  const atts = analyseParts(item.data.index.root).attachments;
  const ck = changeKey(item.modseq);
  const list = atts.map((a) => t(a.embedded ? "ItemAttachment" : "FileAttachment", attachmentIdXml(item.ref, a.path, ck)));
  return t("Message", itemIdXml(item.ref, item.modseq), list.length ? t("Attachments", ...list) : null);
}

// ------------------------------------------------------------ create

/** PR_MESSAGE_FLAGS ([MS-OXCMSG] §2.2.1.6): DavMail and importers say "read" and "not a draft" with it. */
const PR_MESSAGE_FLAGS = 0x0e07;
const MSGFLAG_READ = 0x1;
/** PR_MESSAGE_DELIVERY_TIME ([MS-OXOMSG] §2.2.3.9). */
const PR_MESSAGE_DELIVERY_TIME = 0x0e06;
const MSGFLAG_UNSENT = 0x8;

/** PidTagLastVerbExecuted ([MS-OXOMSG] §2.2.1.32): 102 reply, 103 reply all, 104 forward. */
const PR_LAST_VERB_EXECUTED = 0x1081;

/** PidTagFlagStatus ([MS-OXOFLAG] §2.2.1.1): 0 none, 1 complete, 2 flagged; what exchangelib's flag_status sets. */
const PR_FLAG_STATUS = 0x1090;

function flagStatusProperty(p: ItemProperty | undefined): boolean {
  if (!p || p.type !== "int" || p.multi) throw new EwsError("ErrorInvalidExtendedPropertyValue", "PidTagFlagStatus is an Integer: 0, 1 or 2.");
  return p.value === 2;
}

/** The typed value of an extended-property change. */
function v2(ch: PropertyChange): ItemProperty | undefined {
  const el = ch.value ? kid(ch.value, "ExtendedProperty") : undefined;
  return el ? parseExtendedProperty(el).prop : undefined;
}

/** t:Flag/t:FlagStatus (Types.xsd FlagType): Flagged -> \Flagged, NotFlagged/Complete -> none. */
function flagStatus(el: XmlElement): boolean {
  const s = kidText(kid(el, "Flag") ?? el, "FlagStatus");
  if (s !== "Flagged" && s !== "NotFlagged" && s !== "Complete") throw new EwsError("ErrorInvalidRequest", "FlagStatus must be NotFlagged, Flagged or Complete.");
  return s === "Flagged";
}

async function create(c: EwsContext, folder: Folder, el: XmlElement, opts: { disposition: string | null; savedFolder: Folder | null }): Promise<KindItem<MailItem> | null> {
  const disposition = opts.disposition ?? "SaveOnly";
  if (disposition !== "SendOnly" && folder.itemClass !== "mail") throw new EwsError("ErrorInvalidRequest", "Messages can only be saved in mail folders.");
  const mime = kidText(el, "MimeContent");
  let raw: Uint8Array;
  let fromFields = false;
  if (mime !== undefined) {
    raw = canonicalLineEnds(base64Of(mime, "MimeContent", maxSize(c)));
    try {
      if (!parseMime(raw).headers.length) throw new Error("no header");
    } catch {
      throw new EwsError("ErrorMimeContentConversionFailed", "MimeContent is not a MIME message.");
    }
  } else {
    const d = applyMessageElement(emptyDraft(), el, maxSize(c));
    raw = buildMessage({ ...d, from: d.from ?? ownMailbox(c) }, { keepBcc: true });
    fromFields = true;
  }
  checkSize(c, raw);
  if (disposition !== "SaveOnly") {
    await sendMessage(c, { raw, saveTo: disposition === "SendAndSaveCopy" ? folder : null });
    // MS-OXWSCORE §3.1.4.2.3.2: no ItemId for a message that was sent.
    return null;
  }
  // Flags: IsRead, Flag, Categories; a draft unless PR_MESSAGE_FLAGS says it is sent mail.
  const ext = parseExtendedProperties(el);
  const msgFlags = ext.find((p) => "tag" in p.key && p.key.tag === PR_MESSAGE_FLAGS);
  const flags = new Set<string>();
  let draft = fromFields || folder.specialUse === "\\Drafts";
  if (msgFlags && msgFlags.type === "int" && !msgFlags.multi) {
    draft = (msgFlags.value & MSGFLAG_UNSENT) !== 0;
    if (msgFlags.value & MSGFLAG_READ) flags.add("\\Seen");
  }
  if (draft) flags.add("\\Draft");
  const isRead = parseBool(kidText(el, "IsRead"));
  if (isRead === true) flags.add("\\Seen");
  else if (isRead === false) flags.delete("\\Seen");
  if (kid(el, "Flag") && flagStatus(el)) flags.add("\\Flagged");
  const fs = ext.find((p) => "tag" in p.key && p.key.tag === PR_FLAG_STATUS);
  if (fs && flagStatusProperty(fs)) flags.add("\\Flagged");
  const catEl = kid(el, "Categories");
  const cats = catEl ? categoriesFrom(catEl) : [];
  for (const k of categoryKeywords(cats)) flags.add(k);
  // PR_MESSAGE_DELIVERY_TIME: when the message arrived (DavMail's IMAP APPEND date, an import's received time) is its internal date.
  const received = ext.find((p) => "tag" in p.key && p.key.tag === PR_MESSAGE_DELIVERY_TIME);
  const internalDate = received && received.type === "time" && !received.multi ? received.value : undefined;
  const [added] = await c.store.append(folder.id, [{ raw, flags: [...flags], ...(internalDate !== undefined ? { internalDate } : {}) }]);
  const props = ext.filter((p) => !("tag" in p.key && (p.key.tag === PR_MESSAGE_FLAGS || p.key.tag === PR_FLAG_STATUS || p.key.tag === PR_MESSAGE_DELIVERY_TIME)));
  if (cats.length) props.push({ key: CATEGORIES_KEY, type: "string", multi: true, value: cats });
  if (props.length) await c.store.setProperties({ itemId: added!.id }, props);
  return loadMail(c, { accountId: c.account.id, itemClass: "mail", id: added!.id });
}

// ------------------------------------------------------------ update

/** Properties a client may set or delete that this server keeps nowhere (reminders of mail, culture...): accepted, no effect. */
const IGNORED = new Set([
  "item:ReminderDueBy",
  "item:ReminderIsSet",
  "item:ReminderMinutesBeforeStart",
  "item:Culture",
  "item:ItemClass",
  "message:IsDeliveryReceiptRequested",
  "message:IsResponseRequested",
  "message:ConversationTopic",
  "message:Sender",
  "item:DateTimeSent",
  "item:DateTimeCreated",
]);

const CONTENT_URIS = new Set(Object.values(CONTENT_FIELDS));

async function update(c: EwsContext, item: KindItem<MailItem>, changes: PropertyChange[], opts: UpdateOptions): Promise<KindItem<MailItem> | null> {
  // Validate every change before writing anything: no half-applied update.
  const flagOps: { add: Set<string>; remove: Set<string> } = { add: new Set(), remove: new Set() };
  let cats: string[] | null = null;
  let newMime: Uint8Array | null = null;
  const content: PropertyChange[] = [];
  const extended: PropertyChange[] = [];
  for (const ch of changes) {
    if (ch.path.kind === "extended") {
      if (ch.path.tag === PR_FLAG_STATUS) {
        // PidTagFlagStatus is the message's flag, kept as \Flagged: 2 flagged, 1 complete, 0 or deleted none.
        const f = ch.op === "delete" ? false : flagStatusProperty(v2(ch));
        (f ? flagOps.add : flagOps.remove).add("\\Flagged");
      } else {
        if (ch.path.tag === PR_LAST_VERB_EXECUTED) {
          // PidTagLastVerbExecuted: how DavMail and Outlook say "answered" (102, 103) or "forwarded" (104); IMAP sees \Answered / $Forwarded.
          const verb = ch.op === "delete" ? null : v2(ch);
          const n = verb && verb.type === "int" && !verb.multi ? verb.value : 0;
          (n === 102 || n === 103 ? flagOps.add : flagOps.remove).add("\\Answered");
          (n === 104 ? flagOps.add : flagOps.remove).add("$Forwarded");
        }
        extended.push(ch);
      }
      continue;
    }
    if (ch.path.kind !== "field") throw new EwsError("ErrorInvalidPropertyRequest", `A message has no indexed property ${ch.path.uri}.`);
    const uri = ch.path.uri;
    const v = ch.value;
    if (uri === "message:IsRead") {
      const r = ch.op === "delete" ? false : parseBool(kidText(v, "IsRead"));
      if (r === undefined) throw new EwsError("ErrorInvalidRequest", "IsRead must be true or false.");
      (r ? flagOps.add : flagOps.remove).add("\\Seen");
    } else if (uri === "item:Flag") {
      const f = ch.op === "delete" ? false : flagStatus(v!);
      (f ? flagOps.add : flagOps.remove).add("\\Flagged");
    } else if (uri === "item:Categories") {
      const list = ch.op === "delete" ? [] : categoriesFrom(kid(v, "Categories") ?? v!);
      cats = ch.op === "append" ? [...new Set([...(cats ?? categoriesOf(await c.store.getProperties({ itemId: item.ref.id }), item.data.index.flags)), ...list])] : list;
    } else if (uri === "item:MimeContent") {
      if (ch.op !== "delete") newMime = canonicalLineEnds(base64Of(kidText(v, "MimeContent") ?? "", "MimeContent", maxSize(c)));
    } else if (CONTENT_URIS.has(uri)) {
      content.push(ch);
    } else if (!IGNORED.has(uri)) {
      throw new EwsError("ErrorInvalidPropertyRequest", `The property ${uri.slice(0, 80)} cannot be changed on a message.`);
    }
  }

  const index = item.data.index;
  const isDraft = index.flags.includes("\\Draft");
  let rebuilt: Uint8Array | null = null;
  if (content.length || newMime) {
    const oldRaw = await c.store.readMessage(index.id);
    const base = draftFromMessage(newMime ?? oldRaw);
    let d: Draft = base;
    for (const ch of content) {
      if (ch.op === "delete") d = clearField(d, (ch.path as { uri: string }).uri);
      else {
        const holder = ch.value!;
        d = applyMessageElement(d, { ...holder, children: holder.children.filter((k) => k.ns === NS.t && CONTENT_FIELDS[k.name] === (ch.path as { uri: string }).uri) }, maxSize(c), ch.op === "append");
      }
    }
    const changed = newMime !== null || !sameDraft(d, base);
    if (changed && !isDraft) {
      // MS-OXWSMSG: the content of a message that was sent or received is fixed; only drafts are edited.
      throw new EwsError("ErrorInvalidPropertyUpdateSentMessage", "Only a draft's content can be changed; this message was sent or received.");
    }
    if (changed) rebuilt = content.length ? buildMessage({ ...d, from: d.from ?? ownMailbox(c) }, { keepBcc: true }) : newMime;
    if (rebuilt) checkSize(c, rebuilt);
  }
  // Every extended value is parsed (and so checked) before anything is written.
  for (const ch of extended) if (ch.op !== "delete") v2(ch);
  if (cats !== null) {
    const keep = new Set(categoryKeywords(cats));
    for (const f of index.flags) if (isCategoryKeyword(f) && !keep.has(f)) flagOps.remove.add(f);
    for (const k of keep) flagOps.add.add(k);
  }
  // The message first (its replacement is checked against the version read above), then the properties.
  if (rebuilt) {
    const flags = new Set(index.flags);
    for (const f of flagOps.add) flags.add(f);
    for (const f of flagOps.remove) flags.delete(f);
    // An edit made meanwhile is reported (StoreError MODIFIED: ErrorIrresolvableConflict), never overwritten.
    await c.store.replaceMessage(index.id, { raw: rebuilt, flags: [...flags], internalDate: index.internalDate }, { ifModseq: index.modseq });
  } else {
    const add = [...flagOps.add].filter((f) => !index.flags.includes(f));
    const remove = [...flagOps.remove].filter((f) => index.flags.includes(f));
    if (add.length) await c.store.storeFlags(index.folderId, [index.uid], "add", add);
    if (remove.length) await c.store.storeFlags(index.folderId, [index.uid], "remove", remove);
  }
  if (extended.length) await applyExtendedChanges(c, { itemId: index.id }, extended);
  if (cats !== null) {
    if (cats.length) await c.store.setProperties({ itemId: index.id }, [{ key: CATEGORIES_KEY, type: "string", multi: true, value: cats }]);
    else await c.store.deleteProperties({ itemId: index.id }, [CATEGORIES_KEY]);
  }
  const now = await loadMail(c, item.ref);
  if (opts.disposition === "SendAndSaveCopy" || opts.disposition === "SendOnly") {
    const saveTo = opts.disposition === "SendOnly" ? null : (opts.savedFolder ?? (await sentFolder(c)));
    await sendMessage(c, { raw: await c.store.readMessage(now.ref.id), saveTo, draft: now });
    return null;
  }
  return now;
}


export const mailWrite: Pick<ItemKind<MailItem>, "create" | "update"> = { create, update };

// SendItem and the mail kind's loader live with the sending (mail-send.ts); kept importable from here.
export { loadMail, sendStoredDraft } from "./mail-send.ts";
