/**
 * The mail store API: the one surface every protocol uses. Protocols never
 * write SQL; they call these methods. Everything here is dialect-neutral so
 * a second SQL engine (ROADMAP step 8) is an addition inside `storage/`.
 *
 * Identity model (ROADMAP "what this asks of the first steps"):
 *  - every item has a stable `id` that survives moves and restarts
 *    (ActiveSync ServerId, EWS ItemId, MAPI message id);
 *  - mail items also have a per-folder IMAP `uid` that a move changes;
 *  - one change counter per account (`modseq`) is bumped by every change of
 *    any item or folder; deletions are logged with their counter value.
 */

export type ItemClass = "mail" | "calendar" | "contacts" | "tasks" | "notes";

/** RFC 6154 special-use attributes we create by default. */
export type SpecialUse = "\\Drafts" | "\\Sent" | "\\Trash" | "\\Junk" | "\\Archive" | "\\All" | "\\Flagged";

/** Typed property bag for values the protocols do not model directly (EWS extended props, MAPI props). */
export type PropertyBag = Record<string, string | number | boolean | null>;

export interface Domain {
  id: number;
  name: string; // lower-case A-label
  dkimSelector: string | null;
  dkimPublicKey: string | null; // base64 SPKI, for the DNS TXT record
  createdAt: number; // ms since epoch
}

export interface AccountSettings {
  displayName?: string;
  signature?: string;
  /** POP3 "leave on server": DELE moves to Trash instead of expunging. */
  pop3LeaveOnServer?: boolean;
  oof?: { enabled: boolean; subject: string; body: string; start?: number; end?: number };
  /** Webmail interface language ("en" | "de" | "fr" | "es"; "" or missing = the browser's). */
  language?: string;
  /** IANA time zone of the user (webmail dates, the calendar's all-day placement); "" or missing = the browser's / server's. */
  timeZone?: string;
  [key: string]: unknown;
}

export interface Account {
  id: number;
  email: string; // lower-case
  domainId: number;
  quotaBytes: number | null; // null = unlimited
  usedBytes: number;
  settings: AccountSettings;
  createdAt: number;
  /** May open the web admin (`pillarbox user admin USER on`). */
  admin: boolean;
  /** Refused by every protocol and the webmail (its mail stays). */
  disabled: boolean;
}

/** An app password as listed (never its hash; the password itself is shown once at creation). */
export interface AppPassword {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  /** "imap", "pop3", "smtp", "eas", "dav", ... */
  lastUsedProtocol: string | null;
}

export interface TwoFactorStatus {
  enabled: boolean;
  recoveryCodesLeft: number;
}

/** The account's TOTP secret (base32) as the login check needs it. */
export interface TwoFactorSecret {
  secret: string;
  /** False while enrolment waits for its first code. */
  enabled: boolean;
  /** The last RFC 6238 time step accepted (a code of that step or earlier is a replay). */
  lastStep: number;
}

export interface Alias {
  id: number;
  /** `local@domain`, or `@domain` for a catch-all. */
  source: string;
  /** A full address (local or remote). One-to-many = several rows with the same source. */
  destination: string;
}

export interface Folder {
  id: number;
  accountId: number;
  /** Full hierarchical name, '/' as delimiter, UTF-8 (protocols convert to mUTF-7). "INBOX" is always upper case. */
  name: string;
  parentId: number | null;
  itemClass: ItemClass;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  /** Next UID to assign. UIDs are never reused, even after expunge and restart. */
  uidNext: number;
  /** Highest modseq of any item in this folder, or of the folder itself. */
  highestModseq: number;
  props: PropertyBag;
}

export interface FolderStatus {
  messages: number;
  recent: number; // always 0: \Recent is not kept (IMAP4rev2 removed it)
  unseen: number;
  uidNext: number;
  uidValidity: number;
  highestModseq: number;
  size: number; // sum of message sizes (STATUS=SIZE)
  deleted: number; // messages with \Deleted
}

/** What a session needs to build its view of a folder (SELECT, FETCH FLAGS, sync). Kept small: 100,000 of these must load fast. */
export interface MessageSummary {
  id: number; // stable item id
  uid: number;
  modseq: number;
  /** System flags (`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`) and keywords, as IMAP spells them. */
  flags: string[];
  internalDate: number; // ms since epoch
  size: number; // octets of the stored message (RFC822.SIZE)
}

export type { Address, Envelope, MimePart } from "../mail/types.ts";
export type * from "./item-api.ts";
export type * from "./change-api.ts";
import type { AccountChanges, ChangeFeedOptions } from "./change-api.ts";
import type { ItemStore } from "./item-api.ts";
import type { Address, Envelope, MimePart } from "../mail/types.ts";

/** Everything FETCH/SEARCH/SORT/THREAD, webmail and ActiveSync need, computed once at delivery. */
export interface MessageIndex extends MessageSummary {
  folderId: number;
  blobId: string;
  envelope: Envelope;
  root: MimePart;
  /** Decoded (unicode) convenience fields for SORT, lists and search. */
  subject: string; // decoded, "" if none
  baseSubject: string; // RFC 5256 §2.1 base subject
  fromAddr: string; // first From address, lower-case, "" if none
  fromName: string; // display name or address
  toAddr: string; // first To address
  ccAddr: string;
  sentDate: number | null; // Date: header, ms; null if absent/unparseable
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  threadId: number; // stable id of the conversation (RFC 5256 REFERENCES-like grouping)
  preview: string; // first ~200 chars of the text body
  hasAttachment: boolean;
  props: PropertyBag;
  /**
   * False when the stored MIME tree surely has no text/calendar part, known without parsing the
   * tree (a list can skip the parse for every message that is not an invitation). True or absent: maybe.
   */
  calendarHint?: boolean;
}

/** What a text search criterion looks at: "body" (text parts), "text" (headers and body), or one header. */
export type TextField = "body" | "text" | "subject" | "from" | "to" | "cc" | "bcc";

/** One text criterion: a case-insensitive substring of the decoded field (RFC 9051 §6.4.4). */
export interface TextTerm {
  field: TextField;
  query: string;
}

export interface TextSearchOptions {
  /** Candidate UIDs: other messages never match and are never read. Default: the whole folder. */
  uids?: readonly number[];
  /** Budget for terms the index cannot answer: bytes of messages read (and decoded). Default: none. */
  maxReadBytes?: number;
  /** Budget for the same terms: bytes of decoded text compared, summed over terms. Default: none. */
  maxCompareBytes?: number;
}

/** Flag update modes (RFC 9051 §6.4.6 STORE FLAGS / +FLAGS / -FLAGS). */
export type FlagMode = "set" | "add" | "remove";

export interface FlagUpdateResult {
  /** Messages whose flags changed (or were touched, with their new modseq). */
  updated: { id: number; uid: number; modseq: number; flags: string[] }[];
  /** UIDs that failed the UNCHANGEDSINCE test (RFC 7162 §3.1.3). */
  modified: number[];
}

export interface AppendInput {
  raw: Uint8Array;
  flags?: string[];
  internalDate?: number;
}

export interface AppendResult {
  id: number;
  uid: number;
  uidValidity: number;
  modseq: number;
}

export interface CopyResult {
  uidValidity: number; // of the destination
  /** [sourceUid, destUid] pairs in source order (RFC 4315 COPYUID). */
  mapping: [number, number][];
}

export interface DeliveryRecipient {
  accountId: number;
  /** Folder name; default "INBOX". A missing folder falls back to INBOX unless `create` is set. */
  folder?: string;
  flags?: string[];
  /** Create `folder` (and its parents) when missing (Sieve `fileinto :create`, RFC 5490 §3.2) instead of falling back to INBOX. */
  create?: boolean;
  /**
   * This copy's own bytes, when they differ from the request's `raw` (per-account
   * X-Spam-* fields, Sieve editheader). Stored as its own blob (content-addressed:
   * equal bytes share one); quota counts this size.
   */
  raw?: Uint8Array;
}

export interface DeliveryResult {
  accountId: number;
  folderId: number;
  id: number;
  uid: number;
}

/**
 * One message's local copies and its queue entry, committed together
 * (`MailStore.deliverAndEnqueue`; src/delivery/pipeline.ts says why).
 */
export interface DeliverAndEnqueueRequest {
  raw: Uint8Array;
  /** Copies filed as deliveries (INBOX or the named mail folder; each account+folder once). */
  local: DeliveryRecipient[];
  /** Copies into folders by id, checked as an append is (the sender's Sent copy). */
  copies?: { folderId: number; flags?: string[] }[];
  /** The remote copies: one queue entry with this envelope. */
  queue?: { sender: string; recipients: string[]; dsn?: QueueEntry["dsn"]; rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }> };
  /**
   * More queue entries in the same commit, each with its own envelope and
   * optionally its own bytes (Sieve `redirect`: an SRS envelope sender, the
   * message as editheader left it). Their ids are in `extraQueueIds`.
   */
  extraQueues?: { sender: string; recipients: string[]; raw?: Uint8Array; dsn?: QueueEntry["dsn"] }[];
  internalDate?: number;
}

export interface DeliverAndEnqueueResult {
  delivered: DeliveryResult[];
  copies: AppendResult[];
  /** The queue entry's id, or null when nothing was queued. */
  queueId: number | null;
  /** Ids of `extraQueues`' entries, in order. */
  extraQueueIds?: number[];
}

/** A change-log answer: "what changed since N" (CONDSTORE/QRESYNC, ActiveSync, EWS, ICS). */
export interface FolderChanges {
  highestModseq: number;
  changed: MessageSummary[]; // items whose modseq > since, still present
  expunged: number[]; // UIDs removed with modseq > since
}

export interface QueueEntry {
  id: number;
  /** Envelope sender; "" for bounces (null reverse-path). */
  sender: string;
  recipients: { address: string; status: "pending" | "sent" | "failed"; lastError?: string; dsn?: { notify?: string[]; orcpt?: string } }[];
  blobId: string;
  size: number;
  createdAt: number;
  nextAttemptAt: number;
  attempts: number;
  lastError: string | null;
  /**
   * DSN options from the submission (RFC 3461). `senderVerified`: the envelope sender was proven
   * (authenticated submission, or SPF pass / aligned DKIM pass for its domain); without it the
   * sender gets no success or delay reports and failure reports carry headers only
   * (src/delivery/dsn-policy.ts). Absent on old entries, which are then treated as unverified.
   */
  dsn: { ret?: "FULL" | "HDRS"; envid?: string; senderVerified?: boolean } | null;
  /** Set while a worker holds it; a stale lock (crash) expires. */
  lockedUntil: number | null;
}

/** Thrown for quota and disk-full: protocols map it to a temporary failure (SMTP 452, IMAP NO [OVERQUOTA]). */
export class QuotaExceededError extends Error {
  constructor(message = "quota exceeded") {
    super(message);
    this.name = "QuotaExceededError";
  }
}

/** Thrown when the disk (or blob store) has no room: a temporary failure, never corruption. */
export class StorageFullError extends Error {
  constructor(message = "storage full") {
    super(message);
    this.name = "StorageFullError";
  }
}

/** Thrown for a user-visible store rule (folder exists, no such folder, cannot delete INBOX...). */
export class StoreError extends Error {
  constructor(
    /**
     * WRONG_CLASS: an item of one class aimed at a folder of another (mail into a calendar,
     * an event into a mail folder); MODIFIED: a conditional update or delete found the item
     * changed since the given modseq.
     */
    public code: "NONEXISTENT" | "ALREADYEXISTS" | "CANNOT" | "INUSE" | "LIMIT" | "INVALID" | "WRONG_CLASS" | "MODIFIED",
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

// ---------------------------------------------------------------- events

export type StoreEvent =
  | {
      type: "exists";
      accountId: number;
      folderId: number;
      uid: number;
      id: number;
      modseq: number;
      /**
       * How the message got here: delivered by the pipeline, appended (IMAP APPEND,
       * a draft, an import), copied or moved by a user (then `fromFolderId` is the
       * source). The spam trainer (src/spam/training.ts) learns from copies and
       * moves into and out of Junk, never from deliveries.
       */
      via?: "deliver" | "append" | "copy" | "move";
      fromFolderId?: number;
      /** A copy: the source message's id (EWS CopiedEvent names the item it was copied from). */
      fromId?: number;
    }
  | { type: "flags"; accountId: number; folderId: number; updates: { id: number; uid: number; modseq: number; flags: string[] }[] }
  | { type: "expunge"; accountId: number; folderId: number; uids: number[]; ids: number[]; modseq: number }
  | { type: "folder"; accountId: number; folderId: number; change: "created" | "renamed" | "deleted" | "subscribed" };

/** In-process event bus; a multi-node bus can replace it (ROADMAP step 8). */
export interface EventBus {
  /** Subscribe to one account's events. Returns an unsubscribe function. */
  subscribe(accountId: number, listener: (event: StoreEvent) => void): () => void;
  /** Subscribe to every account's events (the spam trainer, a bridge to another node). Returns an unsubscribe function. */
  subscribeAll(listener: (event: StoreEvent) => void): () => void;
  publish(event: StoreEvent): void;
}

// ---------------------------------------------------------------- injected services

/**
 * Password hashing the store uses for accounts. Injected by the caller (the
 * kernel's argon2id hasher, src/auth.ts) so storage imports nothing of `src/`.
 */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  /** The hash of a random password, made once: checking an unknown user against it costs what a real check costs (no enumeration by timing). */
  dummyHash(): Promise<string>;
}

/** What storage logs through; `src/log.ts`'s Logger satisfies it. */
export interface StoreLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// ---------------------------------------------------------------- blobs

/**
 * Largest blob the store reads in one synchronous call; larger reads stream
 * through the thread pool. Readers that prepare data ahead of a request (POP3
 * read-ahead) stay within it so they never queue behind a large read.
 */
export { SYNC_READ_LIMIT } from "./blobstore.ts";

/** Content-addressed blob storage. An S3-compatible store can implement this later. */
export interface BlobStore {
  /** Writes, fsyncs and renames into place; returns the content id (sha256 hex). Idempotent. */
  put(data: Uint8Array): Promise<string>;
  get(id: string): Promise<Uint8Array>;
  /** Byte range [start, end). */
  getRange(id: string, start: number, end: number): Promise<Uint8Array>;
  stream(id: string, start?: number, end?: number): ReadableStream<Uint8Array>;
  has(id: string): Promise<boolean>;
  delete(id: string): Promise<void>;
  list(): AsyncIterable<string>;
  /** (Added by storage) Last write time in ms, or null if absent: lets garbage collection spare young blobs. */
  modifiedAt?(id: string): Promise<number | null>;
  /** (Added by storage) Removes leftovers of writes a crash interrupted, older than `olderThanMs`; returns how many. Garbage collection calls it when present. */
  removeStaleTemps?(olderThanMs: number): Promise<number>;
}

// ---------------------------------------------------------------- the store

/** The store; its item API (non-mail classes, typed properties) is ItemStore (storage/item-api.ts). */
export interface MailStore extends ItemStore {
  readonly events: EventBus;
  readonly blobs: BlobStore;

  close(): Promise<void>;

  // domains
  addDomain(name: string): Promise<Domain>; // creates a DKIM key (RSA 2048) with selector "pb<yyyymm>"
  listDomains(): Promise<Domain[]>;
  getDomain(name: string): Promise<Domain | null>;
  removeDomain(name: string): Promise<void>; // refuses (StoreError CANNOT) while accounts exist
  isLocalDomain(name: string): Promise<boolean>;
  /** PEM PKCS#8 private key for DKIM signing, or null. */
  getDkimKey(domain: string): Promise<{ selector: string; privateKeyPem: string } | null>;

  // accounts
  addAccount(email: string, password: string, opts?: { quotaBytes?: number | null; displayName?: string; /** create it even over an alias source (the alias stops routing) */ force?: boolean }): Promise<Account>;
  listAccounts(): Promise<Account[]>;
  getAccount(email: string): Promise<Account | null>;
  getAccountById(id: number): Promise<Account | null>;
  /** Verifies the argon2id hash. Returns null for a bad user or password (same work either way). */
  authenticate(email: string, password: string): Promise<Account | null>;
  /**
   * Sets a new password and ends the account's webmail sessions (all, or all
   * but `keepWebmailSession`: the session that made the change). Its
   * credential stamp changes, so cached logins of the old password fail.
   */
  setPassword(email: string, password: string, opts?: { keepWebmailSession?: string }): Promise<void>;
  /**
   * An opaque value that changes whenever the account's credentials change
   * (a digest of the salted password hash); null for no such account. The
   * auth cache compares it on every hit.
   */
  credentialStamp(accountId: number): Promise<string | null>;
  removeAccount(email: string): Promise<void>;

  // account security (storage/account-security.ts)
  /** Sets the admin and/or disabled flag; disabling ends the webmail sessions and changes the credential stamp. */
  setAccountFlags(email: string, flags: { admin?: boolean; disabled?: boolean }): Promise<Account>;
  /** Live (unrevoked) app passwords, oldest first. */
  listAppPasswords(accountId: number): Promise<AppPassword[]>;
  /** A new app password: `password` is shown once, only its argon2id hash is kept. At most 50 live per account (StoreError LIMIT). */
  createAppPassword(accountId: number, name: string): Promise<{ info: AppPassword; password: string }>;
  /** False when no such live app password of this account. Changes the credential stamp. */
  revokeAppPassword(accountId: number, id: number): Promise<boolean>;
  /** The live app password of the account matching `password` (spaces, dashes and case ignored), or null. */
  verifyAppPassword(accountId: number, password: string): Promise<AppPassword | null>;
  noteAppPasswordUse(id: number, protocol: string, at: number): Promise<void>;
  twoFactorStatus(accountId: number): Promise<TwoFactorStatus>;
  /** Stores a pending TOTP secret (base32; sealed at rest); refused (CANNOT) while 2FA is on. */
  beginTwoFactor(accountId: number, secretBase32: string): Promise<void>;
  twoFactorSecret(accountId: number): Promise<TwoFactorSecret | null>;
  /** Claims a time step: false if it or a later one was already used (RFC 6238 §5.2 replay). */
  claimTotpStep(accountId: number, step: number): Promise<boolean>;
  /** Turns a pending secret on; returns 10 recovery codes, shown once. */
  enableTwoFactor(accountId: number): Promise<string[]>;
  regenerateRecoveryCodes(accountId: number): Promise<string[]>;
  /** Spends a recovery code: true once per code. */
  useRecoveryCode(accountId: number, code: string): Promise<boolean>;
  /** Turns 2FA off (secret and recovery codes deleted); changes the credential stamp. */
  resetTwoFactor(accountId: number): Promise<void>;

  setQuota(email: string, quotaBytes: number | null): Promise<void>;
  updateSettings(accountId: number, patch: Partial<AccountSettings>): Promise<AccountSettings>;

  // aliases
  addAlias(source: string, destination: string, opts?: { /** add it even when SOURCE is an account (it routes nothing while the account exists) */ force?: boolean }): Promise<Alias>;
  listAliases(): Promise<Alias[]>;
  removeAlias(source: string, destination?: string): Promise<number>;
  /**
   * Resolves an envelope recipient: exact account, then aliases (one-to-many,
   * recursive with loop protection), then catch-all `@domain`. Returns the local
   * accounts and any remote forwarding addresses; null if the domain is local
   * but nothing matches; "remote" if the domain is not local.
   */
  resolveRecipient(address: string): Promise<{ accounts: Account[]; forward: string[] } | null | "remote">;
  /** Addresses the account may send as (its own and every alias pointing at it). */
  sendAsAddresses(accountId: number): Promise<string[]>;

  // folders
  /** Folders of every class, or of one (`itemClass: "mail"`: what IMAP, POP3 and webmail show). */
  listFolders(accountId: number, opts?: { itemClass?: ItemClass }): Promise<Folder[]>;
  /** By name within one class's name space (default mail): a mail lookup never finds a calendar (storage/folder-names.ts). */
  getFolder(accountId: number, name: string, itemClass?: ItemClass): Promise<Folder | null>;
  /** By id; with `itemClass`, null for a folder of another class. */
  getFolderById(folderId: number, itemClass?: ItemClass): Promise<Folder | null>;
  /** Creates missing parents too (RFC 9051 §6.3.4). */
  createFolder(accountId: number, name: string, opts?: { specialUse?: SpecialUse; itemClass?: ItemClass; subscribed?: boolean /* default true */ }): Promise<Folder>;
  /** Renames the whole subtree; renaming INBOX moves its messages into a new folder (RFC 9051 §6.3.6). */
  renameFolder(accountId: number, from: string, to: string, opts?: { itemClass?: ItemClass }): Promise<void>;
  deleteFolder(accountId: number, name: string, opts?: { itemClass?: ItemClass }): Promise<void>;
  setSubscribed(accountId: number, name: string, subscribed: boolean, opts?: { itemClass?: ItemClass }): Promise<void>;
  folderStatus(folderId: number): Promise<FolderStatus>;

  // messages
  /** Atomic for all recipients: one blob, all rows in one transaction, acknowledged only after fsync. Throws QuotaExceededError per-recipient checks are done before by `checkQuota`. */
  deliver(raw: Uint8Array, recipients: DeliveryRecipient[], opts?: { internalDate?: number }): Promise<DeliveryResult[]>;
  /**
   * One blob, and in ONE transaction: the local copies (as `deliver`), the
   * copies into folders (as `append`) and the queue entry (as `enqueue`).
   * Any failure (quota, disk full, the database) commits none of them, so a
   * client's retry cannot duplicate a copy that was already made.
   */
  deliverAndEnqueue(req: DeliverAndEnqueueRequest): Promise<DeliverAndEnqueueResult>;
  /** Checks one account can take `size` more octets. */
  checkQuota(accountId: number, size: number): Promise<boolean>;
  quota(accountId: number): Promise<{ usedBytes: number; limitBytes: number | null; messages: number }>;
  /** MULTIAPPEND is atomic: all or nothing (RFC 3502). */
  append(folderId: number, messages: AppendInput[]): Promise<AppendResult[]>;
  /** Replaces a mail item's content and flags in its folder, keeping its stable id (new UID and modseq; the old UID is logged as expunged). EWS draft edits. */
  replaceMessage(id: number, input: AppendInput, opts?: { /** only when the item's modseq is still this (else StoreError MODIFIED) */ ifModseq?: number }): Promise<AppendResult>;
  /** All messages of a folder, ascending UID. */
  listMessages(folderId: number): Promise<MessageSummary[]>;
  /** Full index rows for the given UIDs (ascending UID). */
  getMessages(folderId: number, uids: number[]): Promise<MessageIndex[]>;
  getMessageById(id: number): Promise<MessageIndex | null>;
  /** Full index rows of mail items by stable id, in one read (ids that name no mail item are left out; order not kept). */
  getMessagesByIds(ids: readonly number[]): Promise<MessageIndex[]>;
  /** Blob ids of the folder's messages with fromUid <= uid <= toUid, by UID: lets a bulk reader (POP3) skip one index lookup per message. */
  blobIdsByUid(folderId: number, fromUid: number, toUid: number): Promise<Map<number, string>>;
  /** Each message's size in CRLF form (mail/crlf.ts, what POP3 announces, RFC 1939 §5), by UID; messages stored before it was recorded are absent. */
  crlfSizes(folderId: number): Promise<Map<number, number>>;
  /** (Added by storage) Merges keys into an item's property bag (null deletes a key); bumps its modseq. */
  setItemProps?(id: number, patch: PropertyBag): Promise<PropertyBag>;
  /** (Added by storage) Merges keys into a folder's property bag (null deletes a key). */
  setFolderProps?(folderId: number, patch: PropertyBag): Promise<PropertyBag>;
  storeFlags(folderId: number, uids: number[], mode: FlagMode, flags: string[], opts?: { unchangedSince?: number; silent?: boolean }): Promise<FlagUpdateResult>;
  /** Removes the given UIDs, or every \Deleted message when uids is undefined. Returns removed UIDs ascending. */
  expunge(folderId: number, uids?: number[]): Promise<number[]>;
  copy(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult>;
  /** Stable ids survive the move; new UIDs in the destination. */
  move(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult>;
  changesSince(folderId: number, modseq: number): Promise<FolderChanges>;
  /** The account change feed since `sinceModseq` (storage/changes.ts). */
  accountChanges(accountId: number, sinceModseq: number, opts?: ChangeFeedOptions): Promise<AccountChanges>;
  /** FTS5 search; returns matching UIDs in the folder. field: "body" (text parts), "text" (headers+body), or a header. */
  searchText(folderId: number, field: TextField, query: string): Promise<number[]>;
  /**
   * Several text criteria of one search at once: the UIDs matching each term
   * (ascending), in term order. Terms the trigram index cannot answer (under
   * three characters) share one pass over the messages, each read at most
   * once, and only among `opts.uids` when given. Throws StoreError("LIMIT")
   * when the work exceeds `opts.maxReadBytes` or `opts.maxCompareBytes`.
   */
  searchTextTerms(folderId: number, terms: readonly TextTerm[], opts?: TextSearchOptions): Promise<number[][]>;
  /** The raw stored message (RFC 5322 bytes) of an item; header fields for SEARCH HEADER / HEADER.FIELDS come from it. */
  readMessage(id: number): Promise<Uint8Array>;
  readRange(blobId: string, start: number, end: number): Promise<Uint8Array>;

  // outbound queue
  enqueue(entry: { sender: string; recipients: string[]; raw: Uint8Array; dsn?: QueueEntry["dsn"]; rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }> }): Promise<QueueEntry>;
  listQueue(): Promise<QueueEntry[]>;
  getQueueEntry(id: number): Promise<QueueEntry | null>;
  /** Takes up to `limit` due entries and locks them for `lockMs`. */
  claimDueQueueEntries(now: number, limit: number, lockMs: number): Promise<QueueEntry[]>;
  updateQueueEntry(id: number, patch: Partial<Pick<QueueEntry, "recipients" | "nextAttemptAt" | "attempts" | "lastError" | "lockedUntil">>): Promise<void>;
  removeQueueEntry(id: number): Promise<void>;

  // maintenance
  /** Deletes blobs no row references. Returns how many were removed. Blobs younger than `graceMs` (default 1 h) are kept: an uncommitted delivery may own them. */
  collectGarbage(opts?: { graceMs?: number }): Promise<number>;
  integrityCheck(): Promise<string[]>; // ["ok"] when fine
  /**
   * Forgets deletions (expunge log, folder tombstones) older than
   * `olderThanMs` (default: the store's retention, 90 days) and raises each
   * account's change floor; feeds from below the floor answer "tooOld".
   */
  pruneChanges(opts?: { olderThanMs?: number; now?: number }): Promise<{ accounts: number; rows: number }>;
}
