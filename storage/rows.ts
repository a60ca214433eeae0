/**
 * Row mapping: database rows (objects or raw arrays) to the API's types, and
 * the column lists the mappers expect. Values arrive as numbers, bigints or
 * strings depending on the driver, so every read goes through num()/str().
 */
import type { Account, AccountSettings, Domain, Envelope, Folder, ItemClass, MessageIndex, MessageSummary, MimePart, PropertyBag, QueueEntry, SpecialUse } from "./api.ts";
import { decodeFlags } from "./flags.ts";
import { folderDisplayName } from "./folder-names.ts";

export const FOLDER_COLS = "id, account_id, name, parent_id, item_class, special_use, subscribed, uidvalidity, uidnext, highest_modseq, props";
export const ACCOUNT_COLS = "id, email, domain_id, quota_bytes, used_bytes, settings, created_at, is_admin, disabled";
export const SUMMARY_COLS = "id, uid, modseq, flags, internal_date, size, keywords";
export const INDEX_COLS =
  "id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, envelope, mime, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview, has_attachment, props";
export const QUEUE_COLS = "id, sender, recipients, blob_id, size, created_at, next_attempt_at, attempts, last_error, dsn, locked_until";


export type R = Record<string, unknown>;
export const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
export const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export function parseJson<T>(v: unknown, fallback: T): T {
  if (typeof v !== "string" || v === "") return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

export function toFolder(r: R): Folder {
  return {
    id: num(r.id),
    accountId: num(r.account_id),
    name: folderDisplayName(str(r.name)),
    parentId: numOrNull(r.parent_id),
    itemClass: (str(r.item_class) || "mail") as ItemClass,
    specialUse: (strOrNull(r.special_use) as SpecialUse | null) ?? null,
    subscribed: num(r.subscribed) !== 0,
    uidValidity: num(r.uidvalidity),
    uidNext: num(r.uidnext),
    highestModseq: num(r.highest_modseq),
    props: parseJson<PropertyBag>(r.props, {}),
  };
}

export function toAccount(r: R): Account {
  return {
    id: num(r.id),
    email: str(r.email),
    domainId: num(r.domain_id),
    quotaBytes: numOrNull(r.quota_bytes),
    usedBytes: num(r.used_bytes),
    settings: parseJson<AccountSettings>(r.settings, {}),
    createdAt: num(r.created_at),
    admin: num(r.is_admin) !== 0,
    disabled: num(r.disabled) !== 0,
  };
}

export function toDomain(r: R): Domain {
  return {
    id: num(r.id),
    name: str(r.name),
    dkimSelector: strOrNull(r.dkim_selector),
    dkimPublicKey: strOrNull(r.dkim_public_key),
    createdAt: num(r.created_at),
  };
}

export function summaryFromRaw(a: unknown[]): MessageSummary {
  return {
    id: a[0] as number,
    uid: a[1] as number,
    modseq: a[2] as number,
    flags: decodeFlags(a[3] as number, a[6]),
    internalDate: a[4] as number,
    size: a[5] as number,
  };
}

/** INDEX_COLS positions. */
export const IX = {
  id: 0, folder_id: 1, uid: 2, modseq: 3, flags: 4, keywords: 5, internal_date: 6, size: 7, blob_id: 8, envelope: 9, mime: 10,
  subject: 11, base_subject: 12, from_addr: 13, from_name: 14, to_addr: 15, cc_addr: 16, sent_date: 17, message_id: 18,
  in_reply_to: 19, refs: 20, thread_id: 21, preview: 22, has_attachment: 23, props: 24,
} as const;

/**
 * Index row to MessageIndex. The MIME tree is parsed on first access only
 * (FETCH ENVELOPE or FLAGS of a whole folder never needs it); the getter
 * replaces itself with the parsed value, so it reads and spreads like a field.
 */
export function toIndex(a: unknown[]): MessageIndex {
  const mimeJson = a[IX.mime];
  const size = num(a[IX.size]);
  const m = {
    id: num(a[IX.id]),
    uid: num(a[IX.uid]),
    modseq: num(a[IX.modseq]),
    flags: decodeFlags(num(a[IX.flags]), a[IX.keywords]),
    internalDate: num(a[IX.internal_date]),
    size,
    folderId: num(a[IX.folder_id]),
    blobId: str(a[IX.blob_id]),
    envelope: parseJson<Envelope>(a[IX.envelope], emptyEnvelope()),
    subject: str(a[IX.subject]),
    baseSubject: str(a[IX.base_subject]),
    fromAddr: str(a[IX.from_addr]),
    fromName: str(a[IX.from_name]),
    toAddr: str(a[IX.to_addr]),
    ccAddr: str(a[IX.cc_addr]),
    sentDate: numOrNull(a[IX.sent_date]),
    messageId: strOrNull(a[IX.message_id]),
    inReplyTo: strOrNull(a[IX.in_reply_to]),
    references: parseJson<string[]>(a[IX.refs], []),
    threadId: num(a[IX.thread_id]),
    preview: str(a[IX.preview]),
    hasAttachment: num(a[IX.has_attachment]) !== 0,
    props: parseJson<PropertyBag>(a[IX.props], {}),
    // A text/calendar part is stored as "subtype":"calendar" (subtypes are lower-case); no such word, no such part.
    calendarHint: typeof mimeJson === "string" && mimeJson.includes('"calendar"'),
  } as MessageIndex;
  Object.defineProperty(m, "root", {
    enumerable: true,
    configurable: true,
    get() {
      const root = parseJson<MimePart>(mimeJson, emptyRoot(size));
      Object.defineProperty(m, "root", { value: root, enumerable: true, configurable: true, writable: true });
      return root;
    },
    set(v: MimePart) {
      Object.defineProperty(m, "root", { value: v, enumerable: true, configurable: true, writable: true });
    },
  });
  return m;
}

export function toQueue(r: R): QueueEntry {
  return {
    id: num(r.id),
    sender: str(r.sender),
    recipients: parseJson<QueueEntry["recipients"]>(r.recipients, []),
    blobId: str(r.blob_id),
    size: num(r.size),
    createdAt: num(r.created_at),
    nextAttemptAt: num(r.next_attempt_at),
    attempts: num(r.attempts),
    lastError: strOrNull(r.last_error),
    dsn: parseJson<QueueEntry["dsn"]>(r.dsn, null),
    lockedUntil: numOrNull(r.locked_until),
  };
}

export function emptyEnvelope(): Envelope {
  return { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };
}

export function emptyRoot(size: number): MimePart {
  return {
    headerStart: 0, bodyStart: 0, bodyEnd: size, type: "text", subtype: "plain", params: {}, id: null, description: null,
    encoding: "7bit", md5: null, disposition: null, language: null, location: null, lines: 0,
  };
}
