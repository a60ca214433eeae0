/**
 * The mail store (storage/api.ts) on libSQL + a content-addressed blob store.
 *
 * Invariants kept here:
 *  - UIDs come from folders.uidnext inside the write transaction (BEGIN
 *    IMMEDIATE), so they strictly ascend and are never reused, across
 *    restarts and across processes sharing the database file.
 *  - Every change of an item or folder bumps the account's `modseq` and
 *    stamps it on the item and on folders.highest_modseq (RFC 7162).
 *    Expunges (and moves out) are logged with their modseq.
 *  - Blobs are written and fsynced before the row that references them
 *    commits; a call resolves only after its COMMIT (synchronous=FULL).
 *  - Events are published only after the commit.
 */
import { Buffer } from "node:buffer";
import { createHash, generateKeyPair } from "node:crypto";
import { domainToASCII } from "node:url";
import {
  QuotaExceededError,
  StorageFullError,
  StoreError,
  type Account,
  type AccountSettings,
  type Alias,
  type AppendInput,
  type AppendResult,
  type BlobStore,
  type CopyResult,
  type DeliveryRecipient,
  type DeliveryResult,
  type Domain,
  type Envelope,
  type FlagMode,
  type FlagUpdateResult,
  type Folder,
  type FolderChanges,
  type FolderStatus,
  type ItemClass,
  type MailStore,
  type MessageIndex,
  type MessageSummary,
  type MimePart,
  type PropertyBag,
  type QueueEntry,
  type SpecialUse,
  type StoreEvent,
  type TextField,
  type TextSearchOptions,
  type TextTerm,
} from "./api.ts";
import { FsBlobStore } from "./blobstore.ts";
import { crlfSize } from "../mail/crlf.ts";
import { openDb, type Db, type Queryable, type SqlValue } from "./db.ts";
import { InProcessEventBus } from "./events.ts";
import { DELETED, SEEN, applyFlags, decodeFlags, encodeFlags, keywordsFromText, keywordsToText, sameFlags } from "./flags.ts";
import { migrate } from "./migrate.ts";
import { analyzeMessage, type MessageAnalysis } from "../mail/index.ts";
import { dummyPasswordHash, hashPassword, verifyPassword } from "../src/runtime.ts";
import type { Logger } from "../src/log.ts";

export interface OpenStoreOptions {
  url: string;
  /** Force the database driver (tests run the @libsql/client code path on a local file with "client"). */
  driver?: "native" | "client";
  dataDir: string;
  authToken?: string | null;
  log?: Logger;
  /** Replace the file-system blob store (e.g. S3-compatible, ROADMAP step 8). */
  blobs?: BlobStore;
  /** Blobs younger than this are never garbage-collected (an uncommitted delivery may own them). Default 1 hour. */
  gcGraceMs?: number;
  /** Run collectGarbage() in the background this often (first run 10 minutes after open). Default 6 hours; 0 = never. */
  gcIntervalMs?: number;
}

/**
 * Queries (one column: blob id) of other storage modules' tables that
 * reference blobs; garbage collection keeps every blob they name.
 */
const blobReferenceQueries = new Set<string>();
export function registerBlobReferences(sql: string): void {
  blobReferenceQueries.add(sql);
}

/** Default folders of a new account (RFC 6154 special-use). */
const DEFAULT_FOLDERS: [string, SpecialUse | null][] = [
  ["INBOX", null],
  ["Drafts", "\\Drafts"],
  ["Sent", "\\Sent"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
  ["Archive", "\\Archive"],
];

const ITEM_CLASSES: ItemClass[] = ["mail", "calendar", "contacts", "tasks", "notes"];
/** Full-text indexing batches (see registerBlob): how long to gather, and how many per commit. */
const FTS_BATCH_DELAY_MS = 50;
const FTS_BATCH_SIZE = 200;
/** The indexer runs once deliveries have paused this long, or when this many wait. */
const FTS_IDLE_MS = 250;
const FTS_BACKLOG_MAX = 5000;
/**
 * Body characters put in the full-text index. Longer bodies (rare in mail:
 * attachments are not indexed) are indexed up to here and marked partial;
 * searches read those messages' full text, so results stay exact.
 */
const FTS_BODY_MAX = 32 * 1024;
/** Texts kept in memory for the indexer; beyond this they are recomputed from the blob. */
const PENDING_FTS_MAX = 2000;

/** FTS5 columns each text search field reads. */
const TEXT_COLUMNS: Record<TextField, string[]> = {
  body: ["body"],
  text: ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"],
  subject: ["subject"],
  from: ["from_text"],
  to: ["to_text"],
  cc: ["cc_text"],
  bcc: ["bcc_text"],
};
interface ScanBudget {
  read(bytes: number): void;
  compare(bytes: number): void;
}

/** Counts a text search's work; past either limit the search ends with StoreError("LIMIT"). */
function scanBudget(opts: TextSearchOptions): ScanBudget {
  const maxRead = opts.maxReadBytes ?? Infinity;
  const maxCompare = opts.maxCompareBytes ?? Infinity;
  let read = 0;
  let compared = 0;
  return {
    read(n) {
      read += n;
      if (read > maxRead) throw new StoreError("LIMIT", "Search too expensive");
    },
    compare(n) {
      compared += n;
      if (compared > maxCompare) throw new StoreError("LIMIT", "Search too expensive");
    },
  };
}

const SPECIAL_USES: SpecialUse[] = ["\\Drafts", "\\Sent", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged"];

const FOLDER_COLS = "id, account_id, name, parent_id, item_class, special_use, subscribed, uidvalidity, uidnext, highest_modseq, props";
const ACCOUNT_COLS = "id, email, domain_id, quota_bytes, used_bytes, settings, created_at";
const SUMMARY_COLS = "id, uid, modseq, flags, internal_date, size, keywords";
const INDEX_COLS =
  "id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, envelope, mime, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview, has_attachment, props";
const QUEUE_COLS = "id, sender, recipients, blob_id, size, created_at, next_attempt_at, attempts, last_error, dsn, locked_until";

const INSERT_ITEM = `INSERT INTO items (account_id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id,
  envelope, mime, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs,
  thread_id, preview, has_attachment, props, created_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
  COALESCE(?, (SELECT seq + 1 FROM sqlite_sequence WHERE name = 'items'), 1), ?, ?, ?, ?) RETURNING id, thread_id`;

// ------------------------------------------------------------ row mapping

type R = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === "number" ? v : Number(v ?? 0));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string => (v === null || v === undefined ? "" : String(v));
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

function parseJson<T>(v: unknown, fallback: T): T {
  if (typeof v !== "string" || v === "") return fallback;
  try {
    return JSON.parse(v) as T;
  } catch {
    return fallback;
  }
}

function toFolder(r: R): Folder {
  return {
    id: num(r.id),
    accountId: num(r.account_id),
    name: str(r.name),
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

function toAccount(r: R): Account {
  return {
    id: num(r.id),
    email: str(r.email),
    domainId: num(r.domain_id),
    quotaBytes: numOrNull(r.quota_bytes),
    usedBytes: num(r.used_bytes),
    settings: parseJson<AccountSettings>(r.settings, {}),
    createdAt: num(r.created_at),
  };
}

function toDomain(r: R): Domain {
  return {
    id: num(r.id),
    name: str(r.name),
    dkimSelector: strOrNull(r.dkim_selector),
    dkimPublicKey: strOrNull(r.dkim_public_key),
    createdAt: num(r.created_at),
  };
}

/** Folders with at least this many messages keep their summaries cached. */
const SUMMARY_CACHE_MIN = 2000;
const SUMMARY_CACHE_FOLDERS = 32;

/** Applies changed rows (ascending UID) to cached rows (ascending UID): replace or insert. Idempotent. */
function mergeSummaryRows(rows: unknown[][], changed: unknown[][]) {
  for (const ch of changed) {
    const uid = ch[1] as number;
    const n = rows.length;
    if (n === 0 || (rows[n - 1][1] as number) < uid) {
      rows.push(ch);
      continue;
    }
    let lo = 0;
    let hi = n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const u = rows[mid][1] as number;
      if (u === uid) {
        lo = mid;
        break;
      }
      if (u < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    if (lo < n && rows[lo][1] === uid) rows[lo] = ch;
    else rows.splice(lo, 0, ch);
  }
}

function summaryFromRaw(a: unknown[]): MessageSummary {
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
const IX = {
  id: 0, folder_id: 1, uid: 2, modseq: 3, flags: 4, keywords: 5, internal_date: 6, size: 7, blob_id: 8, envelope: 9, mime: 10,
  subject: 11, base_subject: 12, from_addr: 13, from_name: 14, to_addr: 15, cc_addr: 16, sent_date: 17, message_id: 18,
  in_reply_to: 19, refs: 20, thread_id: 21, preview: 22, has_attachment: 23, props: 24,
} as const;

/**
 * Index row to MessageIndex. The MIME tree is parsed on first access only
 * (FETCH ENVELOPE or FLAGS of a whole folder never needs it); the getter
 * replaces itself with the parsed value, so it reads and spreads like a field.
 */
function toIndex(a: unknown[]): MessageIndex {
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

function toQueue(r: R): QueueEntry {
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

function emptyEnvelope(): Envelope {
  return { date: null, subject: null, from: null, sender: null, replyTo: null, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null };
}

function emptyRoot(size: number): MimePart {
  return {
    headerStart: 0, bodyStart: 0, bodyEnd: size, type: "text", subtype: "plain", params: {}, id: null, description: null,
    encoding: "7bit", md5: null, disposition: null, language: null, location: null, lines: 0,
  };
}

// ------------------------------------------------------------ names and addresses

/** Lower-case A-label (IDNA), trailing dot removed. */
export function normalizeDomain(d: string): string {
  const s = d.trim().replace(/\.$/, "").toLowerCase();
  if (s === "") return "";
  if (/^[\x21-\x7e]+$/.test(s)) return s;
  return domainToASCII(s) || s;
}

/** `<Local@Dom>` -> `local@dom` (local parts compared lower-case). */
export function normalizeAddress(a: string): string {
  let s = a.trim();
  if (s.startsWith("<") && s.endsWith(">")) s = s.slice(1, -1).trim();
  const at = s.lastIndexOf("@");
  if (at < 0) return s.toLowerCase();
  return `${s.slice(0, at).toLowerCase()}@${normalizeDomain(s.slice(at + 1))}`;
}

function domainOf(addr: string): string {
  const at = addr.lastIndexOf("@");
  return at < 0 ? "" : addr.slice(at + 1);
}

/** Folder names: '/' delimited, UTF-8; "INBOX" any case is INBOX (RFC 9051 §5.1). */
export function normalizeFolderName(name: string): string {
  if (typeof name !== "string") throw new StoreError("INVALID", "folder name must be a string");
  const parts = name.split("/");
  if (parts[0].toUpperCase() === "INBOX") parts[0] = "INBOX";
  const out = parts.join("/");
  if (out === "" || parts.some((p) => p === "")) throw new StoreError("INVALID", "folder name has an empty level");
  if (/[\x00-\x1f\x7f*%]/.test(out)) throw new StoreError("INVALID", "folder name has a forbidden character");
  if (new TextEncoder().encode(out).length > 1000 || parts.length > 64) throw new StoreError("LIMIT", "folder name too long");
  return out;
}

function parentName(name: string): string | null {
  const i = name.lastIndexOf("/");
  return i < 0 ? null : name.slice(0, i);
}

function dkimSelector(now = new Date()): string {
  return `pb${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

function genRsaKey(): Promise<{ privateKeyPem: string; publicKeyB64: string }> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      "rsa",
      { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } },
      (err, pub, priv) => (err ? reject(err) : resolve({ privateKeyPem: priv, publicKeyB64: Buffer.from(pub).toString("base64") })),
    ),
  );
}

// ------------------------------------------------------------ the store

/** What an item row keeps of its message's analysis (the rest is in the JSON columns). */
type ItemFields = Pick<
  MessageAnalysis,
  "subject" | "baseSubject" | "fromAddr" | "fromName" | "toAddr" | "ccAddr" | "sentDate" | "messageId" | "inReplyTo" | "references" | "preview" | "hasAttachment"
>;

interface Prepared {
  fields: ItemFields;
  /** Full-text fields for the background indexer; null when reused from another item (it re-reads the blob if it ever needs them). */
  fts: MessageAnalysis["fts"] | null;
  raw: Uint8Array;
  blobId: string;
  envelopeJson: string;
  mimeJson: string;
  refsJson: string;
}

type Events = StoreEvent[];

export class SqlMailStore implements MailStore {
  readonly events: InProcessEventBus;
  readonly blobs: BlobStore;
  private gcGraceMs: number;
  private closed = false;
  private summaryCache = new Map<number, { hm: number; rows: unknown[][] }>();

  constructor(
    /** The database; other storage modules (ActiveSync/webmail state) build on it. Protocols never use it. */
    readonly db: Db,
    blobs: BlobStore,
    private log?: Logger,
    gcGraceMs = 60 * 60 * 1000,
  ) {
    this.blobs = blobs;
    this.events = new InProcessEventBus(log);
    this.gcGraceMs = gcGraceMs;
  }

  private gcTimer: ReturnType<typeof setTimeout> | null = null;
  private gcRunning: Promise<unknown> | null = null;

  /** Picks up blobs committed but not yet full-text indexed before a restart. */
  resumeTextIndexing(): void {
    this.scheduleFtsIndexing(1000);
  }

  /** Background garbage collection: every `intervalMs`, first after `firstMs`. Timers never keep the process alive. */
  startMaintenance(intervalMs: number, firstMs = 10 * 60 * 1000) {
    if (intervalMs <= 0 || this.closed) return;
    const run = () => {
      this.gcTimer = null;
      if (this.closed) return;
      this.gcRunning = this.collectGarbage()
        .catch((e) => this.log?.warn("background garbage collection failed", { error: e instanceof Error ? e.message : String(e) }))
        .finally(() => {
          this.gcRunning = null;
          if (!this.closed) this.gcTimer = unrefTimer(setTimeout(run, intervalMs));
        });
    };
    this.gcTimer = unrefTimer(setTimeout(run, Math.min(firstMs, intervalMs)));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.gcTimer) clearTimeout(this.gcTimer);
    if (this.ftsTimer) clearTimeout(this.ftsTimer);
    if (this.gcRunning) await this.gcRunning;
    if (this.ftsRunning) await this.ftsRunning.catch(() => 0);
    await this.db.close();
  }

  /** Runs a write job; its events are published after the commit. */
  private async tx<T>(fn: (tx: Queryable, ev: Events) => Promise<T>, opts?: { durable?: boolean }): Promise<T> {
    const ev: Events = [];
    let result: T;
    try {
      result = await this.db.write((tx) => {
        ev.length = 0; // a retried job starts clean
        return fn(tx, ev);
      }, opts);
    } catch (e) {
      // SQLITE_FULL / disk I/O on a full disk: a temporary failure for the protocols, never corruption
      if (isDiskFull(e)) throw new StorageFullError(`database: ${(e as Error).message}`);
      throw e;
    }
    for (const e of ev) this.events.publish(e);
    return result;
  }

  /** Bumps the account's change counter (and usage); returns the new modseq. Quota enforced when growing. */
  private async bump(tx: Queryable, accountId: number, deltaBytes = 0, deltaCount = 0): Promise<number> {
    const r = await tx.get<R>(
      "UPDATE accounts SET modseq = modseq + 1, used_bytes = MAX(0, used_bytes + ?), message_count = MAX(0, message_count + ?) WHERE id = ? RETURNING modseq, used_bytes, quota_bytes",
      [deltaBytes, deltaCount, accountId],
    );
    if (!r) throw new StoreError("NONEXISTENT", "no such account");
    if (deltaBytes > 0 && r.quota_bytes !== null && num(r.used_bytes) > num(r.quota_bytes)) throw new QuotaExceededError();
    return num(r.modseq);
  }

  // ---------------------------------------------------------------- domains

  async addDomain(name: string): Promise<Domain> {
    const d = normalizeDomain(name);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(d) || d.length > 253) {
      throw new StoreError("INVALID", `invalid domain name: ${name}`);
    }
    if (await this.getDomain(d)) throw new StoreError("ALREADYEXISTS", `domain exists: ${d}`);
    const key = await genRsaKey();
    const selector = dkimSelector();
    const now = Date.now();
    await this.tx(async (tx) => {
      const exists = await tx.get("SELECT 1 AS x FROM domains WHERE name = ?", [d]);
      if (exists) throw new StoreError("ALREADYEXISTS", `domain exists: ${d}`);
      await tx.run("INSERT INTO domains (name, dkim_selector, dkim_private_key, dkim_public_key, created_at) VALUES (?, ?, ?, ?, ?)", [
        d,
        selector,
        key.privateKeyPem,
        key.publicKeyB64,
        now,
      ]);
    });
    return (await this.getDomain(d)) as Domain;
  }

  async listDomains(): Promise<Domain[]> {
    return (await this.db.all<R>("SELECT * FROM domains ORDER BY name")).map(toDomain);
  }

  async getDomain(name: string): Promise<Domain | null> {
    const r = await this.db.get<R>("SELECT * FROM domains WHERE name = ?", [normalizeDomain(name)]);
    return r ? toDomain(r) : null;
  }

  async removeDomain(name: string): Promise<void> {
    const d = normalizeDomain(name);
    await this.tx(async (tx) => {
      const dom = await tx.get<R>("SELECT id FROM domains WHERE name = ?", [d]);
      if (!dom) throw new StoreError("NONEXISTENT", `no such domain: ${d}`);
      const acct = await tx.get("SELECT 1 AS x FROM accounts WHERE domain_id = ? LIMIT 1", [num(dom.id)]);
      if (acct) throw new StoreError("CANNOT", `domain ${d} still has accounts`);
      await tx.run("DELETE FROM aliases WHERE source = ? OR source LIKE ? ESCAPE '\\'", ["@" + d, "%@" + likeEscape(d)]);
      await tx.run("DELETE FROM domains WHERE id = ?", [num(dom.id)]);
    });
  }

  async isLocalDomain(name: string): Promise<boolean> {
    return !!(await this.db.get("SELECT 1 AS x FROM domains WHERE name = ?", [normalizeDomain(name)]));
  }

  async getDkimKey(domain: string): Promise<{ selector: string; privateKeyPem: string } | null> {
    const r = await this.db.get<R>("SELECT dkim_selector, dkim_private_key FROM domains WHERE name = ?", [normalizeDomain(domain)]);
    if (!r || !r.dkim_selector || !r.dkim_private_key) return null;
    return { selector: str(r.dkim_selector), privateKeyPem: str(r.dkim_private_key) };
  }

  // ---------------------------------------------------------------- accounts

  async addAccount(email: string, password: string, opts: { quotaBytes?: number | null; displayName?: string } = {}): Promise<Account> {
    const e = normalizeAddress(email);
    const at = e.lastIndexOf("@");
    if (at <= 0 || at === e.length - 1 || /[\s<>,;:"()[\]\\]/.test(e)) throw new StoreError("INVALID", `invalid address: ${email}`);
    const dom = await this.getDomain(domainOf(e));
    if (!dom) throw new StoreError("NONEXISTENT", `domain is not local: ${domainOf(e)}`);
    if (typeof password !== "string" || password === "") throw new StoreError("INVALID", "empty password");
    const hash = await hashPassword(password);
    const settings: AccountSettings = {};
    if (opts.displayName) settings.displayName = opts.displayName;
    const now = Date.now();
    const id = await this.tx(async (tx, ev) => {
      if (await tx.get("SELECT 1 AS x FROM accounts WHERE email = ?", [e])) throw new StoreError("ALREADYEXISTS", `account exists: ${e}`);
      const r = await tx.get<R>(
        "INSERT INTO accounts (email, domain_id, password_hash, quota_bytes, settings, modseq, created_at) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id",
        [e, dom.id, hash, opts.quotaBytes ?? null, JSON.stringify(settings), now],
      );
      const accountId = num(r?.id);
      for (const [name, use] of DEFAULT_FOLDERS) await this.insertFolder(tx, ev, accountId, name, null, "mail", use, true);
      return accountId;
    });
    return (await this.getAccountById(id)) as Account;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.db.all<R>(`SELECT ${ACCOUNT_COLS} FROM accounts ORDER BY email`)).map(toAccount);
  }

  async getAccount(email: string): Promise<Account | null> {
    const r = await this.db.get<R>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE email = ?`, [normalizeAddress(email)]);
    return r ? toAccount(r) : null;
  }

  async getAccountById(id: number): Promise<Account | null> {
    const r = await this.db.get<R>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE id = ?`, [id]);
    return r ? toAccount(r) : null;
  }

  async authenticate(email: string, password: string): Promise<Account | null> {
    const r = typeof email === "string" ? await this.db.get<R>(`SELECT ${ACCOUNT_COLS}, password_hash FROM accounts WHERE email = ?`, [normalizeAddress(email)]) : undefined;
    if (!r || typeof password !== "string") {
      // same work for an unknown user: no enumeration by timing
      await verifyPassword(String(password ?? ""), await dummyPasswordHash());
      return null;
    }
    return (await verifyPassword(password, str(r.password_hash))) ? toAccount(r) : null;
  }

  async setPassword(email: string, password: string, opts: { keepWebmailSession?: string } = {}): Promise<void> {
    if (typeof password !== "string" || password === "") throw new StoreError("INVALID", "empty password");
    const hash = await hashPassword(password);
    const e = normalizeAddress(email);
    await this.tx(async (tx) => {
      const a = await tx.get<R>("SELECT id FROM accounts WHERE email = ?", [e]);
      if (!a) throw new StoreError("NONEXISTENT", `no such account: ${email}`);
      await tx.run("UPDATE accounts SET password_hash = ? WHERE id = ?", [hash, num(a.id)]);
      // A new password ends every other webmail session in the same transaction, whichever
      // process made the change (the CLI included): a stolen cookie dies with the old password.
      if (opts.keepWebmailSession) await tx.run("DELETE FROM webmail_sessions WHERE account_id = ? AND id <> ?", [num(a.id), opts.keepWebmailSession]);
      else await tx.run("DELETE FROM webmail_sessions WHERE account_id = ?", [num(a.id)]);
    });
  }

  async credentialStamp(accountId: number): Promise<string | null> {
    const r = await this.db.get<R>("SELECT password_hash FROM accounts WHERE id = ?", [accountId]);
    // The hash is salted afresh on every change, so its digest changes even for the same password.
    return r ? createHash("sha256").update(str(r.password_hash)).digest("base64url").slice(0, 22) : null;
  }

  async removeAccount(email: string): Promise<void> {
    const e = normalizeAddress(email);
    await this.tx(async (tx) => {
      const a = await tx.get<R>("SELECT id FROM accounts WHERE email = ?", [e]);
      if (!a) throw new StoreError("NONEXISTENT", `no such account: ${e}`);
      const id = num(a.id);
      await tx.run("DELETE FROM items WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM expunged WHERE account_id = ?", [id]);
      await tx.run("UPDATE folders SET parent_id = NULL WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM folders WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM aliases WHERE destination = ?", [e]);
      await tx.run("DELETE FROM accounts WHERE id = ?", [id]);
    });
  }

  async setQuota(email: string, quotaBytes: number | null): Promise<void> {
    if (quotaBytes !== null && (!Number.isFinite(quotaBytes) || quotaBytes < 0)) throw new StoreError("INVALID", "quota must be >= 0 or null");
    const n = await this.db.run("UPDATE accounts SET quota_bytes = ? WHERE email = ?", [quotaBytes === null ? null : Math.floor(quotaBytes), normalizeAddress(email)]);
    if (n.changes === 0) throw new StoreError("NONEXISTENT", `no such account: ${email}`);
  }

  async updateSettings(accountId: number, patch: Partial<AccountSettings>): Promise<AccountSettings> {
    return this.tx(async (tx) => {
      const r = await tx.get<R>("SELECT settings FROM accounts WHERE id = ?", [accountId]);
      if (!r) throw new StoreError("NONEXISTENT", "no such account");
      const cur = parseJson<AccountSettings>(r.settings, {});
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === null) delete cur[k];
        else cur[k] = v;
      }
      await tx.run("UPDATE accounts SET settings = ? WHERE id = ?", [JSON.stringify(cur), accountId]);
      return cur;
    });
  }

  // ---------------------------------------------------------------- aliases

  async addAlias(source: string, destination: string): Promise<Alias> {
    const src = source.trim().startsWith("@") ? "@" + normalizeDomain(source.trim().slice(1)) : normalizeAddress(source);
    const dst = normalizeAddress(destination);
    const srcDom = domainOf(src);
    if (!srcDom || (!src.startsWith("@") && src.indexOf("@") <= 0)) throw new StoreError("INVALID", `invalid alias source: ${source}`);
    if (!dst.includes("@") || dst.startsWith("@") && dst.length < 2) throw new StoreError("INVALID", `invalid alias destination: ${destination}`);
    if (!(await this.isLocalDomain(srcDom))) throw new StoreError("NONEXISTENT", `domain is not local: ${srcDom}`);
    return this.tx(async (tx) => {
      if (await tx.get("SELECT 1 AS x FROM aliases WHERE source = ? AND destination = ?", [src, dst])) {
        throw new StoreError("ALREADYEXISTS", `alias exists: ${src} -> ${dst}`);
      }
      const r = await tx.get<R>("INSERT INTO aliases (source, destination, created_at) VALUES (?, ?, ?) RETURNING id", [src, dst, Date.now()]);
      return { id: num(r?.id), source: src, destination: dst };
    });
  }

  async listAliases(): Promise<Alias[]> {
    const rows = await this.db.all<R>("SELECT id, source, destination FROM aliases ORDER BY source, destination");
    return rows.map((r) => ({ id: num(r.id), source: str(r.source), destination: str(r.destination) }));
  }

  async removeAlias(source: string, destination?: string): Promise<number> {
    const src = source.trim().startsWith("@") ? "@" + normalizeDomain(source.trim().slice(1)) : normalizeAddress(source);
    const r =
      destination === undefined
        ? await this.db.run("DELETE FROM aliases WHERE source = ?", [src])
        : await this.db.run("DELETE FROM aliases WHERE source = ? AND destination = ?", [src, normalizeAddress(destination)]);
    return r.changes;
  }

  async resolveRecipient(address: string): Promise<{ accounts: Account[]; forward: string[] } | null | "remote"> {
    const addr = normalizeAddress(address);
    const at = addr.lastIndexOf("@");
    if (at <= 0 || at === addr.length - 1) return null;
    if (!(await this.isLocalDomain(domainOf(addr)))) return "remote";
    const accounts = new Map<number, Account>();
    const forward = new Set<string>();
    const seen = new Set<string>();
    const localDomains = new Map<string, boolean>();
    const isLocal = async (d: string) => {
      let v = localDomains.get(d);
      if (v === undefined) {
        v = await this.isLocalDomain(d);
        localDomains.set(d, v);
      }
      return v;
    };
    // Loop guard: every address is expanded once, and chains stop at depth 20.
    const visit = async (a: string, depth: number): Promise<boolean> => {
      if (seen.has(a) || depth > 20 || seen.size > 1000) return false;
      seen.add(a);
      const dom = domainOf(a);
      if (!(await isLocal(dom))) {
        forward.add(a);
        return true;
      }
      // 1. an account with exactly this address
      const acct = await this.getAccount(a);
      if (acct) {
        accounts.set(acct.id, acct);
        return true;
      }
      // 2. aliases (one-to-many)
      const dests = await this.db.all<R>("SELECT destination FROM aliases WHERE source = ?", [a]);
      if (dests.length) {
        let any = false;
        for (const d of dests) any = (await visit(str(d.destination), depth + 1)) || any;
        return any;
      }
      // 3. sub-addressing: user+tag@dom resolves as user@dom
      const local = a.slice(0, a.lastIndexOf("@"));
      const plus = local.indexOf("+");
      if (plus > 0) {
        if (await visit(`${local.slice(0, plus)}@${dom}`, depth + 1)) return true;
      }
      // 4. catch-all of the domain
      const catchAll = await this.db.all<R>("SELECT destination FROM aliases WHERE source = ?", ["@" + dom]);
      let any = false;
      for (const d of catchAll) {
        const dest = str(d.destination);
        // "@other.dom" as destination rewrites the domain and keeps the local part
        any = (await visit(dest.startsWith("@") ? local + dest : dest, depth + 1)) || any;
      }
      return any;
    };
    await visit(addr, 0);
    if (accounts.size === 0 && forward.size === 0) return null;
    return { accounts: [...accounts.values()], forward: [...forward] };
  }

  async sendAsAddresses(accountId: number): Promise<string[]> {
    const acct = await this.getAccountById(accountId);
    if (!acct) return [];
    const out = new Set<string>([acct.email]);
    let frontier = [acct.email];
    for (let depth = 0; depth < 10 && frontier.length; depth++) {
      const next: string[] = [];
      for (const d of frontier) {
        const rows = await this.db.all<R>("SELECT source FROM aliases WHERE destination = ?", [d]);
        for (const r of rows) {
          const s = str(r.source);
          if (s.startsWith("@") || out.has(s)) continue; // a catch-all is not a sender identity
          out.add(s);
          next.push(s);
        }
      }
      frontier = next;
    }
    return [...out];
  }

  // ---------------------------------------------------------------- folders

  private async allocUidValidity(tx: Queryable): Promise<number> {
    // Distinct per created folder: a deleted and re-created name gets a new UIDVALIDITY (RFC 9051 §2.3.1.1).
    const candidate = Math.floor(Date.now() / 1000);
    const r = await tx.get<R>(
      `INSERT INTO meta (key, value) VALUES ('uidvalidity', ?)
       ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER) + 1, CAST(excluded.value AS INTEGER)) RETURNING value`,
      [String(candidate)],
    );
    return Number(r?.value) % 4294967295 || 1;
  }

  private async insertFolder(
    tx: Queryable,
    ev: Events,
    accountId: number,
    name: string,
    parentId: number | null,
    itemClass: ItemClass,
    specialUse: SpecialUse | null,
    subscribed: boolean,
  ): Promise<number> {
    const modseq = await this.bump(tx, accountId);
    const uidvalidity = await this.allocUidValidity(tx);
    const r = await tx.get<R>(
      `INSERT INTO folders (account_id, name, parent_id, item_class, special_use, subscribed, uidvalidity, uidnext, highest_modseq, props, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, '{}', ?) RETURNING id`,
      [accountId, name, parentId, itemClass, specialUse, subscribed ? 1 : 0, uidvalidity, modseq, Date.now()],
    );
    const id = num(r?.id);
    ev.push({ type: "folder", accountId, folderId: id, change: "created" });
    return id;
  }

  /** Creates `name`'s missing ancestors; returns the parent id of `name`. */
  private async ensureParents(tx: Queryable, ev: Events, accountId: number, name: string): Promise<number | null> {
    const parts = name.split("/");
    let parentId: number | null = null;
    for (let i = 1; i < parts.length; i++) {
      const pn = parts.slice(0, i).join("/");
      const r = await tx.get<R>("SELECT id FROM folders WHERE account_id = ? AND name = ?", [accountId, pn]);
      parentId = r ? num(r.id) : await this.insertFolder(tx, ev, accountId, pn, parentId, "mail", null, true);
    }
    return parentId;
  }

  async listFolders(accountId: number): Promise<Folder[]> {
    const rows = await this.db.all<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? ORDER BY name`, [accountId]);
    const list = rows.map(toFolder);
    const i = list.findIndex((f) => f.name === "INBOX");
    if (i > 0) list.unshift(...list.splice(i, 1));
    return list;
  }

  async getFolder(accountId: number, name: string): Promise<Folder | null> {
    let n: string;
    try {
      n = normalizeFolderName(name);
    } catch {
      return null;
    }
    const r = await this.db.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? AND name = ?`, [accountId, n]);
    return r ? toFolder(r) : null;
  }

  async getFolderById(folderId: number): Promise<Folder | null> {
    const r = await this.db.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE id = ?`, [folderId]);
    return r ? toFolder(r) : null;
  }

  async createFolder(
    accountId: number,
    name: string,
    opts: { specialUse?: SpecialUse; itemClass?: ItemClass; subscribed?: boolean } = {},
  ): Promise<Folder> {
    const n = normalizeFolderName(name);
    if (opts.itemClass && !ITEM_CLASSES.includes(opts.itemClass)) throw new StoreError("INVALID", `unknown item class ${opts.itemClass}`);
    if (opts.specialUse && !SPECIAL_USES.includes(opts.specialUse)) throw new StoreError("INVALID", `unknown special use ${opts.specialUse}`);
    const id = await this.tx(async (tx, ev) => {
      if (!(await tx.get("SELECT 1 AS x FROM accounts WHERE id = ?", [accountId]))) throw new StoreError("NONEXISTENT", "no such account");
      if (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, n])) {
        throw new StoreError("ALREADYEXISTS", `folder exists: ${n}`);
      }
      const parentId = await this.ensureParents(tx, ev, accountId, n);
      return this.insertFolder(tx, ev, accountId, n, parentId, opts.itemClass ?? "mail", opts.specialUse ?? null, opts.subscribed ?? true);
    });
    return (await this.getFolderById(id)) as Folder;
  }

  async renameFolder(accountId: number, from: string, to: string): Promise<void> {
    const src = normalizeFolderName(from);
    const dst = normalizeFolderName(to);
    if (src === dst) throw new StoreError("ALREADYEXISTS", `folder exists: ${dst}`);
    if (dst === "INBOX") throw new StoreError("CANNOT", "cannot rename to INBOX");
    if (dst.startsWith(src + "/")) throw new StoreError("CANNOT", "cannot move a folder into itself");
    await this.tx(async (tx, ev) => {
      const srcRow = await tx.get<R>(`SELECT ${FOLDER_COLS} FROM folders WHERE account_id = ? AND name = ?`, [accountId, src]);
      if (!srcRow) throw new StoreError("NONEXISTENT", `no such folder: ${src}`);
      if (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, dst])) {
        throw new StoreError("ALREADYEXISTS", `folder exists: ${dst}`);
      }
      const srcFolder = toFolder(srcRow);
      const parentId = await this.ensureParents(tx, ev, accountId, dst);
      if (src === "INBOX") {
        // RFC 9051 §6.3.6: renaming INBOX moves its messages to a new folder and leaves INBOX
        // empty; INBOX's inferiors stay where they are.
        const newId = await this.insertFolder(tx, ev, accountId, dst, parentId, srcFolder.itemClass, null, true);
        const ids = (await tx.raw("SELECT id FROM items WHERE folder_id = ? ORDER BY uid", [srcFolder.id])).map((r) => num(r[0]));
        if (ids.length) await this.moveItems(tx, ev, srcFolder.id, newId, ids, accountId);
        return;
      }
      const modseq = await this.bump(tx, accountId);
      // the folder and its whole subtree
      const subtree = await tx.all<R>(
        "SELECT id, name FROM folders WHERE account_id = ? AND (name = ? OR substr(name, 1, ?) = ?)",
        [accountId, src, src.length + 1, src + "/"],
      );
      for (const f of subtree) {
        const newName = dst + str(f.name).slice(src.length);
        if (newName !== dst && (await tx.get("SELECT 1 AS x FROM folders WHERE account_id = ? AND name = ?", [accountId, newName]))) {
          throw new StoreError("ALREADYEXISTS", `folder exists: ${newName}`);
        }
      }
      // two steps so no intermediate name collides with the UNIQUE(account_id, name) constraint
      for (const f of subtree) await tx.run("UPDATE folders SET name = ? WHERE id = ?", [`\u0001rename\u0001${num(f.id)}`, num(f.id)]);
      for (const f of subtree) {
        const newName = dst + str(f.name).slice(src.length);
        await tx.run("UPDATE folders SET name = ?, highest_modseq = ? WHERE id = ?", [newName, modseq, num(f.id)]);
        ev.push({ type: "folder", accountId, folderId: num(f.id), change: "renamed" });
      }
      await tx.run("UPDATE folders SET parent_id = ? WHERE id = ?", [parentId, srcFolder.id]);
    });
  }

  async deleteFolder(accountId: number, name: string): Promise<void> {
    const n = normalizeFolderName(name);
    if (n === "INBOX") throw new StoreError("CANNOT", "cannot delete INBOX");
    await this.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT id FROM folders WHERE account_id = ? AND name = ?", [accountId, n]);
      if (!f) throw new StoreError("NONEXISTENT", `no such folder: ${n}`);
      const id = num(f.id);
      // Like Dovecot ("Mailbox has children"): a folder with inferiors is not deleted;
      // delete the children first. Keeps the tree free of \Noselect placeholders.
      if (await tx.get("SELECT 1 AS x FROM folders WHERE parent_id = ? LIMIT 1", [id])) {
        throw new StoreError("CANNOT", `folder has children: ${n}`);
      }
      const usage = await tx.get<R>("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM items WHERE folder_id = ?", [id]);
      await this.bump(tx, accountId, -num(usage?.bytes), -num(usage?.n));
      await tx.run("DELETE FROM items WHERE folder_id = ?", [id]);
      await tx.run("DELETE FROM expunged WHERE folder_id = ?", [id]);
      await tx.run("DELETE FROM folders WHERE id = ?", [id]);
      ev.push({ type: "folder", accountId, folderId: id, change: "deleted" });
    });
  }

  async setSubscribed(accountId: number, name: string, subscribed: boolean): Promise<void> {
    const n = normalizeFolderName(name);
    await this.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT id, subscribed FROM folders WHERE account_id = ? AND name = ?", [accountId, n]);
      if (!f) throw new StoreError("NONEXISTENT", `no such folder: ${n}`);
      if ((num(f.subscribed) !== 0) === subscribed) return;
      const modseq = await this.bump(tx, accountId);
      await tx.run("UPDATE folders SET subscribed = ?, highest_modseq = ? WHERE id = ?", [subscribed ? 1 : 0, modseq, num(f.id)]);
      ev.push({ type: "folder", accountId, folderId: num(f.id), change: "subscribed" });
    });
  }

  /** Replaces keys of a folder's property bag (null removes a key). */
  async setFolderProps(folderId: number, patch: PropertyBag): Promise<PropertyBag> {
    return this.tx(async (tx) => {
      const f = await tx.get<R>("SELECT account_id, props FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const props = parseJson<PropertyBag>(f.props, {});
      for (const [k, v] of Object.entries(patch)) if (v === null) delete props[k]; else props[k] = v;
      const modseq = await this.bump(tx, num(f.account_id));
      await tx.run("UPDATE folders SET props = ?, highest_modseq = ? WHERE id = ?", [JSON.stringify(props), modseq, folderId]);
      return props;
    });
  }

  async folderStatus(folderId: number): Promise<FolderStatus> {
    const f = await this.getFolderById(folderId);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    const r = await this.db.get<R>(
      `SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes,
              COALESCE(SUM(CASE WHEN flags & ${SEEN} = 0 THEN 1 ELSE 0 END), 0) AS unseen,
              COALESCE(SUM(CASE WHEN flags & ${DELETED} != 0 THEN 1 ELSE 0 END), 0) AS deleted
       FROM items WHERE folder_id = ?`,
      [folderId],
    );
    return {
      messages: num(r?.n),
      recent: 0,
      unseen: num(r?.unseen),
      uidNext: f.uidNext,
      uidValidity: f.uidValidity,
      highestModseq: f.highestModseq,
      size: num(r?.bytes),
      deleted: num(r?.deleted),
    };
  }

  // ---------------------------------------------------------------- messages

  /**
   * The analysis an item row needs. Blobs are content-addressed, so when
   * another item already holds the same bytes (a list message delivered to
   * several mailboxes in separate transactions, a client re-uploading or
   * copying mail between accounts) its stored analysis is reused instead of
   * parsing the message again.
   */
  private async prepare(raw: Uint8Array, blobId: string): Promise<Prepared> {
    const known = await this.db.raw(
      `SELECT envelope, mime, refs, subject, base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, preview, has_attachment
       FROM items WHERE blob_id = ? LIMIT 1`,
      [blobId],
    );
    if (known.length) {
      const r = known[0]!;
      return {
        fields: {
          references: parseJson<string[]>(r[2], []),
          subject: str(r[3]),
          baseSubject: str(r[4]),
          fromAddr: str(r[5]),
          fromName: str(r[6]),
          toAddr: str(r[7]),
          ccAddr: str(r[8]),
          sentDate: numOrNull(r[9]),
          messageId: strOrNull(r[10]),
          inReplyTo: strOrNull(r[11]),
          preview: str(r[12]),
          hasAttachment: num(r[13]) !== 0,
        },
        fts: null,
        raw,
        blobId,
        envelopeJson: str(r[0]),
        mimeJson: str(r[1]),
        refsJson: str(r[2]),
      };
    }
    const analysis = analyzeMessage(raw);
    return {
      fields: analysis,
      fts: analysis.fts,
      raw,
      blobId,
      envelopeJson: JSON.stringify(analysis.envelope),
      mimeJson: JSON.stringify(analysis.root),
      refsJson: JSON.stringify(analysis.references),
    };
  }

  /**
   * Blob row, once per distinct content. Its full-text row is written after
   * the commit by the background indexer (migration 0003): the text computed
   * now is kept in memory for it, so it need not re-read the blob.
   */
  private async registerBlob(tx: Queryable, p: Prepared): Promise<void> {
    const r = await tx.get<R>("INSERT INTO blobs (id, size, created_at, fts_indexed, crlf_size) VALUES (?, ?, ?, 0, ?) ON CONFLICT(id) DO NOTHING RETURNING seq", [
      p.blobId,
      p.raw.byteLength,
      Date.now(),
      crlfSize(p.raw),
    ]);
    if (!r) return;
    if (p.fts) this.pendingFts.set(p.blobId, p.fts);
    this.lastBlobAt = Date.now();
    this.ftsBacklog++;
    // bounded: evicted texts are recomputed from the blob by the indexer
    if (this.pendingFts.size > PENDING_FTS_MAX) this.pendingFts.delete(this.pendingFts.keys().next().value!);
    this.scheduleFtsIndexing();
  }

  private pendingFts = new Map<string, MessageAnalysis["fts"]>();
  /** When the last new blob was registered, and roughly how many wait for indexing. */
  private lastBlobAt = 0;
  private ftsBacklog = 0;
  private ftsTimer: ReturnType<typeof setTimeout> | null = null;
  private ftsRunning: Promise<number> | null = null;

  /** Runs the indexer shortly, so one batch (one commit) covers many deliveries. */
  private scheduleFtsIndexing(delayMs = FTS_BATCH_DELAY_MS): void {
    if (this.ftsTimer || this.closed) return;
    this.ftsTimer = unrefTimer(
      setTimeout(() => {
        this.ftsTimer = null;
        // Deliveries first: while mail is arriving the index waits (like Dovecot's
        // background indexer), unless the backlog grows large. Searches flush it anyway.
        if (Date.now() - this.lastBlobAt < FTS_IDLE_MS && this.ftsBacklog < FTS_BACKLOG_MAX) {
          this.scheduleFtsIndexing(FTS_IDLE_MS);
          return;
        }
        void this.indexPendingText()
          .then((n) => {
            if (n > 0) this.scheduleFtsIndexing(0); // more may be waiting
          })
          .catch((e) => this.log?.warn("full-text indexing failed", { error: e instanceof Error ? e.message : String(e) }));
      }, delayMs),
    );
  }

  /** Indexes one batch of pending blobs; returns how many were indexed. Never runs twice at once. */
  private indexPendingText(): Promise<number> {
    if (this.ftsRunning) return this.ftsRunning;
    const run = async (): Promise<number> => {
      if (this.closed) return 0;
      const rows = await this.db.raw("SELECT seq, id FROM blobs WHERE fts_indexed = 0 ORDER BY seq LIMIT ?", [FTS_BATCH_SIZE]);
      if (rows.length === 0) return 0;
      const texts: [number, MessageAnalysis["fts"] | null][] = [];
      for (const [seq, id] of rows) {
        let f = this.pendingFts.get(str(id)) ?? null;
        if (!f) {
          try {
            f = analyzeMessage(await this.blobs.get(str(id))).fts;
          } catch {
            f = null; // blob gone (collected): nothing to index
          }
        }
        texts.push([num(seq), f]);
      }
      await this.db.write(async (tx) => {
        for (const [seq, f] of texts) {
          // re-check under the write lock: another indexer or the collector may have been first
          const b = await tx.get<R>("SELECT fts_indexed FROM blobs WHERE seq = ?", [seq]);
          if (!b || num(b.fts_indexed) !== 0) continue;
          const partial = f !== null && f.body.length > FTS_BODY_MAX;
          if (f) {
            await tx.run("INSERT INTO message_fts (rowid, subject, from_text, to_text, cc_text, bcc_text, headers, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
              seq,
              f.subject,
              f.from,
              f.to,
              f.cc,
              f.bcc,
              f.headers,
              partial ? f.body.slice(0, FTS_BODY_MAX) : f.body,
            ]);
          }
          await tx.run("UPDATE blobs SET fts_indexed = 1, fts_partial = ? WHERE seq = ?", [partial ? 1 : 0, seq]);
        }
      });
      for (const [, id] of rows) this.pendingFts.delete(str(id));
      this.ftsBacklog = Math.max(0, this.ftsBacklog - rows.length);
      return rows.length;
    };
    this.ftsRunning = run().finally(() => {
      this.ftsRunning = null;
    });
    return this.ftsRunning;
  }

  /** Indexes everything pending, so a search sees every committed message. */
  private async flushPendingText(): Promise<void> {
    for (;;) {
      // a batch already running may have looked before the caller's commit: wait, then look again
      const running = this.ftsRunning as Promise<number> | null;
      if (running) {
        await running.catch(() => 0);
        continue;
      }
      if ((await this.indexPendingText()) === 0) return;
    }
  }

  private async findThread(tx: Queryable, accountId: number, a: ItemFields): Promise<number | null> {
    const ids = [...a.references.slice(-50)];
    if (a.inReplyTo) ids.push(a.inReplyTo);
    if (a.messageId) ids.push(a.messageId);
    if (ids.length === 0) return null;
    const r = await tx.get<R>(
      "SELECT thread_id FROM items WHERE account_id = ? AND message_id IN (SELECT value FROM json_each(?)) LIMIT 1",
      [accountId, JSON.stringify([...new Set(ids)])],
    );
    return r ? num(r.thread_id) : null;
  }

  private async insertItem(
    tx: Queryable,
    accountId: number,
    folderId: number,
    uid: number,
    modseq: number,
    p: Prepared,
    bits: number,
    keywords: string[],
    internalDate: number,
  ): Promise<number> {
    const a = p.fields;
    const thread = await this.findThread(tx, accountId, a);
    const r = await tx.get<R>(INSERT_ITEM, [
      accountId,
      folderId,
      uid,
      modseq,
      bits,
      keywordsToText(keywords),
      internalDate,
      p.raw.byteLength,
      p.blobId,
      p.envelopeJson,
      p.mimeJson,
      a.subject,
      a.baseSubject,
      a.fromAddr,
      a.fromName,
      a.toAddr,
      a.ccAddr,
      a.sentDate,
      a.messageId,
      a.inReplyTo,
      p.refsJson,
      thread,
      a.preview,
      a.hasAttachment ? 1 : 0,
      "{}",
      Date.now(),
    ]);
    return num(r?.id);
  }

  /** Reserves `n` UIDs in a folder and stamps its highest modseq; returns the first UID. */
  private async allocUids(tx: Queryable, folderId: number, n: number, modseq: number): Promise<{ first: number; uidValidity: number; accountId: number }> {
    const r = await tx.get<R>("UPDATE folders SET uidnext = uidnext + ?, highest_modseq = MAX(highest_modseq, ?) WHERE id = ? RETURNING uidnext, uidvalidity, account_id", [
      n,
      modseq,
      folderId,
    ]);
    if (!r) throw new StoreError("NONEXISTENT", "no such folder");
    return { first: num(r.uidnext) - n, uidValidity: num(r.uidvalidity), accountId: num(r.account_id) };
  }

  /** After commit: a blob deleted by a racing garbage collection is written again (we still hold the bytes). */
  private async ensureBlob(p: Prepared) {
    try {
      if (!(await this.blobs.has(p.blobId))) await this.blobs.put(p.raw);
    } catch (e) {
      this.log?.error("blob re-check failed", { blob: p.blobId, error: e instanceof Error ? e.message : String(e) });
    }
  }

  async deliver(raw: Uint8Array, recipients: DeliveryRecipient[], opts: { internalDate?: number } = {}): Promise<DeliveryResult[]> {
    if (recipients.length === 0) return [];
    const blobId = await this.blobs.put(raw);
    const p = await this.prepare(raw, blobId);
    const internalDate = opts.internalDate ?? Date.now();
    // the same account+folder twice gets one copy
    const uniq = new Map<string, DeliveryRecipient>();
    for (const r of recipients) {
      let name = r.folder ?? "INBOX";
      try {
        name = normalizeFolderName(name);
      } catch {
        name = "INBOX"; // invalid names fall back to INBOX below anyway
      }
      uniq.set(`${r.accountId}\u0000${name}`, r);
    }
    const results = await this.tx(async (tx, ev) => {
      await this.registerBlob(tx, p);
      const out: DeliveryResult[] = [];
      for (const rcpt of uniq.values()) {
        let name = "INBOX";
        try {
          name = normalizeFolderName(rcpt.folder ?? "INBOX");
        } catch {
          name = "INBOX";
        }
        let f = await tx.get<R>("SELECT id, item_class FROM folders WHERE account_id = ? AND name = ?", [rcpt.accountId, name]);
        if (!f || str(f.item_class) !== "mail") f = await tx.get<R>("SELECT id, item_class FROM folders WHERE account_id = ? AND name = 'INBOX'", [rcpt.accountId]);
        if (!f) throw new StoreError("NONEXISTENT", `account ${rcpt.accountId} has no INBOX`);
        const folderId = num(f.id);
        const modseq = await this.bump(tx, rcpt.accountId, raw.byteLength, 1);
        const { first } = await this.allocUids(tx, folderId, 1, modseq);
        const fl = encodeFlags(rcpt.flags);
        const id = await this.insertItem(tx, rcpt.accountId, folderId, first, modseq, p, fl.bits, fl.keywords, internalDate);
        out.push({ accountId: rcpt.accountId, folderId, id, uid: first });
        ev.push({ type: "exists", accountId: rcpt.accountId, folderId, uid: first, id, modseq });
      }
      return out;
    });
    await this.ensureBlob(p);
    return results;
  }

  async checkQuota(accountId: number, size: number): Promise<boolean> {
    const r = await this.db.get<R>("SELECT used_bytes, quota_bytes FROM accounts WHERE id = ?", [accountId]);
    if (!r) return false;
    return r.quota_bytes === null || num(r.used_bytes) + size <= num(r.quota_bytes);
  }

  async quota(accountId: number): Promise<{ usedBytes: number; limitBytes: number | null; messages: number }> {
    const r = await this.db.get<R>("SELECT used_bytes, quota_bytes, message_count FROM accounts WHERE id = ?", [accountId]);
    if (!r) throw new StoreError("NONEXISTENT", "no such account");
    return { usedBytes: num(r.used_bytes), limitBytes: numOrNull(r.quota_bytes), messages: num(r.message_count) };
  }

  async append(folderId: number, messages: AppendInput[]): Promise<AppendResult[]> {
    if (messages.length === 0) return [];
    const prepared: Prepared[] = [];
    for (const m of messages) prepared.push(await this.prepare(m.raw, await this.blobs.put(m.raw)));
    const total = messages.reduce((s, m) => s + m.raw.byteLength, 0);
    const results = await this.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT account_id FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const accountId = num(f.account_id);
      const modseq = await this.bump(tx, accountId, total, messages.length);
      const { first, uidValidity } = await this.allocUids(tx, folderId, messages.length, modseq);
      const out: AppendResult[] = [];
      for (let i = 0; i < messages.length; i++) {
        const p = prepared[i];
        await this.registerBlob(tx, p);
        const fl = encodeFlags(messages[i].flags);
        const uid = first + i;
        const id = await this.insertItem(tx, accountId, folderId, uid, modseq, p, fl.bits, fl.keywords, messages[i].internalDate ?? Date.now());
        out.push({ id, uid, uidValidity, modseq });
        ev.push({ type: "exists", accountId, folderId, uid, id, modseq });
      }
      return out;
    });
    for (const p of prepared) await this.ensureBlob(p);
    return results;
  }

  /**
   * Summaries of a folder, ascending UID. Large folders are cached in memory
   * keyed by the folder's highest modseq (every change of the folder moves
   * it, in every process), and a stale cache is brought up to date from the
   * change log (items with a newer modseq, expunge log) instead of reloading.
   */
  async listMessages(folderId: number): Promise<MessageSummary[]> {
    const f = await this.db.raw("SELECT highest_modseq FROM folders WHERE id = ?", [folderId]);
    if (f.length === 0) {
      this.summaryCache.delete(folderId);
      return [];
    }
    const hm = num(f[0][0]);
    let c = this.summaryCache.get(folderId);
    if (c && c.hm !== hm) {
      const changed = await this.loadSummaryRows("SELECT id, uid, modseq, flags, internal_date, size, keywords FROM items WHERE folder_id = ? AND modseq > ? ORDER BY uid", [folderId, c.hm]);
      if (changed.length > c.rows.length / 2) c = undefined;
      else {
        const gone = new Set((await this.db.raw("SELECT uid FROM expunged WHERE folder_id = ? AND modseq > ?", [folderId, c.hm])).map((r) => num(r[0])));
        if (gone.size) c.rows = c.rows.filter((r) => !gone.has(r[1] as number));
        mergeSummaryRows(c.rows, changed);
        c.hm = hm;
      }
    }
    if (!c) {
      const rows = await this.loadSummaryRows("SELECT id, uid, modseq, flags, internal_date, size, keywords FROM items WHERE folder_id = ? ORDER BY uid", [folderId]);
      c = { hm, rows };
      if (rows.length < SUMMARY_CACHE_MIN) {
        this.summaryCache.delete(folderId);
        return rows.map(summaryFromRaw);
      }
    }
    // LRU: most recent last
    this.summaryCache.delete(folderId);
    this.summaryCache.set(folderId, c);
    while (this.summaryCache.size > SUMMARY_CACHE_FOLDERS) this.summaryCache.delete(this.summaryCache.keys().next().value as number);
    const rows = c.rows;
    const out = new Array<MessageSummary>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = summaryFromRaw(rows[i]);
    return out;
  }

  /** Rows as one JSON document: much cheaper than 100,000 driver row conversions. */
  private async loadSummaryRows(sql: string, args: SqlValue[]): Promise<unknown[][]> {
    const r = await this.db.raw(`SELECT json_group_array(json_array(id, uid, modseq, flags, internal_date, size, keywords)) FROM (${sql})`, args);
    return parseJson<unknown[][]>(r[0]?.[0], []);
  }

  async getMessages(folderId: number, uids: number[]): Promise<MessageIndex[]> {
    if (uids.length === 0) return [];
    const rows = await this.db.raw(
      `SELECT ${INDEX_COLS} FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid`,
      [folderId, JSON.stringify(uids.filter((u) => Number.isInteger(u)))],
    );
    return rows.map(toIndex);
  }

  async blobIdsByUid(folderId: number, fromUid: number, toUid: number): Promise<Map<number, string>> {
    const rows = await this.db.raw("SELECT uid, blob_id FROM items WHERE folder_id = ? AND uid BETWEEN ? AND ?", [folderId, fromUid, toUid]);
    const out = new Map<number, string>();
    for (const r of rows) out.set(num(r[0]), str(r[1]));
    return out;
  }

  async crlfSizes(folderId: number): Promise<Map<number, number>> {
    const rows = await this.db.raw(
      "SELECT i.uid, b.crlf_size FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ? AND b.crlf_size IS NOT NULL",
      [folderId],
    );
    const out = new Map<number, number>();
    for (const r of rows) out.set(num(r[0]), num(r[1]));
    return out;
  }

  async getMessageById(id: number): Promise<MessageIndex | null> {
    const r = await this.db.raw(`SELECT ${INDEX_COLS} FROM items WHERE id = ?`, [id]);
    return r.length ? toIndex(r[0]) : null;
  }

  /** Replaces keys of an item's property bag (null removes a key); bumps its modseq. */
  async setItemProps(id: number, patch: PropertyBag): Promise<PropertyBag> {
    return this.tx(async (tx, ev) => {
      const r = await tx.get<R>("SELECT account_id, folder_id, uid, flags, keywords, props FROM items WHERE id = ?", [id]);
      if (!r) throw new StoreError("NONEXISTENT", "no such item");
      const props = parseJson<PropertyBag>(r.props, {});
      for (const [k, v] of Object.entries(patch)) if (v === null) delete props[k]; else props[k] = v;
      const accountId = num(r.account_id);
      const modseq = await this.bump(tx, accountId);
      await tx.run("UPDATE items SET props = ?, modseq = ? WHERE id = ?", [JSON.stringify(props), modseq, id]);
      await tx.run("UPDATE folders SET highest_modseq = MAX(highest_modseq, ?) WHERE id = ?", [modseq, num(r.folder_id)]);
      ev.push({ type: "flags", accountId, folderId: num(r.folder_id), updates: [{ id, uid: num(r.uid), modseq, flags: decodeFlags(num(r.flags), r.keywords) }] });
      return props;
    });
  }

  async storeFlags(
    folderId: number,
    uids: number[],
    mode: FlagMode,
    flags: string[],
    opts: { unchangedSince?: number; silent?: boolean } = {},
  ): Promise<FlagUpdateResult> {
    const change = encodeFlags(flags);
    if (uids.length === 0) return { updated: [], modified: [] };
    // Flag changes are not worth an fsync each (Dovecot: mail_fsync=optimized); see Db.write.
    return this.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT account_id FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const accountId = num(f.account_id);
      const rows = await tx.raw(
        "SELECT id, uid, modseq, flags, keywords FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid",
        [folderId, JSON.stringify(uids.filter((u) => Number.isInteger(u)))],
      );
      const updated: FlagUpdateResult["updated"] = [];
      const modified: number[] = [];
      const changed: { id: number; uid: number; bits: number; keywords: string[] }[] = [];
      for (const r of rows) {
        const id = num(r[0]);
        const uid = num(r[1]);
        const cur = num(r[2]);
        // RFC 7162 §3.1.3: UNCHANGEDSINCE fails for messages changed after the given modseq
        if (opts.unchangedSince !== undefined && cur > opts.unchangedSince) {
          modified.push(uid);
          continue;
        }
        const bits = num(r[3]);
        const kw = keywordsFromText(r[4]);
        const next = applyFlags(mode, bits, kw, change);
        if (sameFlags(next, bits, kw)) {
          updated.push({ id, uid, modseq: cur, flags: decodeFlags(bits, r[4]) });
          continue;
        }
        changed.push({ id, uid, bits: next.bits, keywords: next.keywords });
      }
      if (changed.length) {
        const modseq = await this.bump(tx, accountId);
        // one UPDATE per distinct resulting flag set ("+FLAGS \Seen" on 100,000 messages is one statement)
        const groups = new Map<string, number[]>();
        for (const c of changed) {
          const key = `${c.bits}\u0000${keywordsToText(c.keywords) ?? ""}`;
          const g = groups.get(key);
          if (g) g.push(c.id);
          else groups.set(key, [c.id]);
        }
        for (const [key, ids] of groups) {
          const sep = key.indexOf("\u0000");
          const kw = key.slice(sep + 1);
          await tx.run("UPDATE items SET flags = ?, keywords = ?, modseq = ? WHERE id IN (SELECT value FROM json_each(?))", [
            Number(key.slice(0, sep)),
            kw === "" ? null : kw,
            modseq,
            JSON.stringify(ids),
          ]);
        }
        await tx.run("UPDATE folders SET highest_modseq = MAX(highest_modseq, ?) WHERE id = ?", [modseq, folderId]);
        const ups = changed.map((c) => ({ id: c.id, uid: c.uid, modseq, flags: decodeFlags(c.bits, keywordsToText(c.keywords)) }));
        updated.push(...ups);
        updated.sort((a, b) => a.uid - b.uid);
        ev.push({ type: "flags", accountId, folderId, updates: ups });
      }
      return { updated, modified };
    }, { durable: false });
  }

  async expunge(folderId: number, uids?: number[]): Promise<number[]> {
    if (uids && uids.length === 0) return [];
    return this.tx(async (tx, ev) => {
      const f = await tx.get<R>("SELECT account_id FROM folders WHERE id = ?", [folderId]);
      if (!f) throw new StoreError("NONEXISTENT", "no such folder");
      const accountId = num(f.account_id);
      const rows = uids
        ? await tx.raw("SELECT id, uid, size FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid", [
            folderId,
            JSON.stringify(uids.filter((u) => Number.isInteger(u))),
          ])
        : await tx.raw(`SELECT id, uid, size FROM items WHERE folder_id = ? AND (flags & ${DELETED}) != 0 ORDER BY uid`, [folderId]);
      if (rows.length === 0) return [];
      const bytes = rows.reduce((s, r) => s + num(r[2]), 0);
      const modseq = await this.bump(tx, accountId, -bytes, -rows.length);
      const ids = rows.map((r) => num(r[0]));
      const removed = rows.map((r) => num(r[1]));
      await tx.run("DELETE FROM items WHERE id IN (SELECT value FROM json_each(?))", [JSON.stringify(ids)]);
      await this.logExpunged(tx, accountId, folderId, rows.map((r) => [num(r[1]), num(r[0])]), modseq);
      await tx.run("UPDATE folders SET highest_modseq = MAX(highest_modseq, ?) WHERE id = ?", [modseq, folderId]);
      ev.push({ type: "expunge", accountId, folderId, uids: removed, ids, modseq });
      return removed;
    });
  }

  private async logExpunged(tx: Queryable, accountId: number, folderId: number, pairs: [number, number][], modseq: number) {
    // multi-row inserts: 500 rows per statement
    for (let i = 0; i < pairs.length; i += 500) {
      const chunk = pairs.slice(i, i + 500);
      const args: SqlValue[] = [];
      for (const [uid, id] of chunk) args.push(accountId, folderId, uid, id, modseq);
      await tx.run(`INSERT INTO expunged (account_id, folder_id, uid, item_id, modseq) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`, args);
    }
  }

  private async folderAccount(tx: Queryable, folderId: number): Promise<{ accountId: number; itemClass: string }> {
    const f = await tx.get<R>("SELECT account_id, item_class FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    return { accountId: num(f.account_id), itemClass: str(f.item_class) };
  }

  async copy(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult> {
    return this.tx(async (tx, ev) => {
      const src = await this.folderAccount(tx, fromFolderId);
      const dst = await this.folderAccount(tx, toFolderId);
      if (src.accountId !== dst.accountId) throw new StoreError("CANNOT", "cannot copy between accounts");
      const rows = await tx.raw("SELECT id, uid, size FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid", [
        fromFolderId,
        JSON.stringify(uids.filter((u) => Number.isInteger(u))),
      ]);
      if (rows.length === 0) {
        const f = await tx.get<R>("SELECT uidvalidity FROM folders WHERE id = ?", [toFolderId]);
        return { uidValidity: num(f?.uidvalidity), mapping: [] };
      }
      const bytes = rows.reduce((s, r) => s + num(r[2]), 0);
      const modseq = await this.bump(tx, dst.accountId, bytes, rows.length);
      const { first, uidValidity } = await this.allocUids(tx, toFolderId, rows.length, modseq);
      const mapping: [number, number][] = [];
      const now = Date.now();
      for (let i = 0; i < rows.length; i++) {
        const newUid = first + i;
        const r = await tx.get<R>(
          `INSERT INTO items (account_id, folder_id, uid, modseq, flags, keywords, internal_date, size, blob_id, envelope, mime, subject,
             base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview,
             has_attachment, props, created_at)
           SELECT account_id, ?, ?, ?, flags, keywords, internal_date, size, blob_id, envelope, mime, subject,
             base_subject, from_addr, from_name, to_addr, cc_addr, sent_date, message_id, in_reply_to, refs, thread_id, preview,
             has_attachment, props, ? FROM items WHERE id = ? RETURNING id`,
          [toFolderId, newUid, modseq, now, num(rows[i][0])],
        );
        mapping.push([num(rows[i][1]), newUid]);
        ev.push({ type: "exists", accountId: dst.accountId, folderId: toFolderId, uid: newUid, id: num(r?.id), modseq });
      }
      return { uidValidity, mapping };
    });
  }

  /** Moves items (stable ids kept) with new UIDs; logs the source expunges. Caller holds the transaction. */
  private async moveItems(tx: Queryable, ev: Events, fromFolderId: number, toFolderId: number, ids: number[], accountId: number): Promise<CopyResult> {
    const rows = await tx.raw("SELECT id, uid FROM items WHERE id IN (SELECT value FROM json_each(?)) ORDER BY uid", [JSON.stringify(ids)]);
    const modseq = await this.bump(tx, accountId);
    const { first, uidValidity } = await this.allocUids(tx, toFolderId, rows.length, modseq);
    const mapping: [number, number][] = [];
    for (let i = 0; i < rows.length; i++) {
      const newUid = first + i;
      await tx.run("UPDATE items SET folder_id = ?, uid = ?, modseq = ? WHERE id = ?", [toFolderId, newUid, modseq, num(rows[i][0])]);
      mapping.push([num(rows[i][1]), newUid]);
    }
    await this.logExpunged(tx, accountId, fromFolderId, rows.map((r) => [num(r[1]), num(r[0])]), modseq);
    await tx.run("UPDATE folders SET highest_modseq = MAX(highest_modseq, ?) WHERE id = ?", [modseq, fromFolderId]);
    const movedIds = rows.map((r) => num(r[0]));
    // RFC 6851 §4.3: the source sees the expunge; the destination sees new messages
    ev.push({ type: "expunge", accountId, folderId: fromFolderId, uids: mapping.map((m) => m[0]), ids: movedIds, modseq });
    for (let i = 0; i < rows.length; i++) {
      ev.push({ type: "exists", accountId, folderId: toFolderId, uid: mapping[i][1], id: movedIds[i], modseq });
    }
    return { uidValidity, mapping };
  }

  async move(fromFolderId: number, uids: number[], toFolderId: number): Promise<CopyResult> {
    return this.tx(async (tx, ev) => {
      const src = await this.folderAccount(tx, fromFolderId);
      const dst = await this.folderAccount(tx, toFolderId);
      if (src.accountId !== dst.accountId) throw new StoreError("CANNOT", "cannot move between accounts");
      const rows = await tx.raw("SELECT id FROM items WHERE folder_id = ? AND uid IN (SELECT value FROM json_each(?)) ORDER BY uid", [
        fromFolderId,
        JSON.stringify(uids.filter((u) => Number.isInteger(u))),
      ]);
      if (rows.length === 0) {
        const f = await tx.get<R>("SELECT uidvalidity FROM folders WHERE id = ?", [toFolderId]);
        return { uidValidity: num(f?.uidvalidity), mapping: [] };
      }
      return this.moveItems(tx, ev, fromFolderId, toFolderId, rows.map((r) => num(r[0])), src.accountId);
    });
  }

  async changesSince(folderId: number, modseq: number): Promise<FolderChanges> {
    const f = await this.db.get<R>("SELECT highest_modseq FROM folders WHERE id = ?", [folderId]);
    if (!f) throw new StoreError("NONEXISTENT", "no such folder");
    const changed = (await this.db.raw(`SELECT ${SUMMARY_COLS} FROM items WHERE folder_id = ? AND modseq > ? ORDER BY uid`, [folderId, modseq])).map(summaryFromRaw);
    const expunged = (await this.db.raw("SELECT DISTINCT uid FROM expunged WHERE folder_id = ? AND modseq > ? ORDER BY uid", [folderId, modseq])).map((r) => num(r[0]));
    return { highestModseq: num(f.highest_modseq), changed, expunged };
  }

  async searchText(folderId: number, field: TextField, query: string): Promise<number[]> {
    return (await this.searchTextTerms(folderId, [{ field, query }]))[0];
  }

  /**
   * Several text criteria at once (one IMAP SEARCH). Terms of three or more
   * characters use the FTS5 trigram index; shorter ones cannot, so they are
   * tested by reading the messages themselves: one pass over the candidate
   * messages for all such terms together, each message read and decoded at
   * most once. Bodies indexed only in part (FTS_BODY_MAX) are read in the
   * same pass for the long BODY/TEXT terms. Work beyond `maxReadBytes`
   * (message bytes read and decoded) or `maxCompareBytes` (text bytes
   * compared) ends the search with StoreError("LIMIT"), so one command
   * cannot hold the CPU indefinitely.
   */
  async searchTextTerms(folderId: number, terms: readonly TextTerm[], opts: TextSearchOptions = {}): Promise<number[][]> {
    const cand = opts.uids ? new Set(opts.uids) : null;
    const spend = scanBudget(opts);
    const out: number[][] = terms.map(() => []);
    const indexed: number[] = [];
    /** Short subject/from terms: answered from the item rows. */
    const rowTerms: { i: number; q: string }[] = [];
    /** Terms tested on the decoded message; `partialOnly`: only where the index holds part of the body. */
    const scanTerms: { i: number; q: string; field: TextField; partialOnly: boolean }[] = [];
    let everything: number[] | null = null;
    for (let i = 0; i < terms.length; i++) {
      const { field } = terms[i];
      if (!TEXT_COLUMNS[field]) throw new StoreError("INVALID", `unknown search field ${field}`);
      // the index holds text with whitespace runs collapsed: do the same to the query
      const query = terms[i].query.replace(/\s+/g, " ");
      if (query === "" || query === " ") {
        everything ??= (await this.db.raw("SELECT uid FROM items WHERE folder_id = ? ORDER BY uid", [folderId])).map((r) => num(r[0])).filter((u) => !cand || cand.has(u));
        out[i] = everything.slice();
      } else if ([...query].length < 3) {
        if (field === "subject" || field === "from") rowTerms.push({ i, q: query.toLowerCase() });
        else scanTerms.push({ i, q: query.toLowerCase(), field, partialOnly: false });
      } else {
        indexed.push(i);
        if (field === "body" || field === "text") scanTerms.push({ i, q: query.toLowerCase(), field, partialOnly: true });
      }
    }
    if (indexed.length) await this.flushPendingText();
    for (const i of indexed) {
      const { field } = terms[i];
      const query = terms[i].query.replace(/\s+/g, " ");
      // trigram phrase = substring match, case-insensitive (RFC 9051 §6.4.4 SEARCH semantics)
      const match = `{${TEXT_COLUMNS[field].join(" ")}} : "${query.replace(/"/g, '""')}"`;
      const rows = await this.db.raw(
        "SELECT i.uid FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ? AND b.seq IN (SELECT rowid FROM message_fts WHERE message_fts MATCH ?) ORDER BY i.uid",
        [folderId, match],
      );
      for (const r of rows) {
        const u = num(r[0]);
        if (!cand || cand.has(u)) out[i].push(u);
      }
    }
    if (rowTerms.length) {
      const rows = await this.db.raw("SELECT uid, subject, from_name, from_addr, envelope FROM items WHERE folder_id = ? ORDER BY uid", [folderId]);
      for (const r of rows) {
        const u = num(r[0]);
        if (cand && !cand.has(u)) continue;
        let subject: string | null = null;
        let from: string | null = null;
        for (const t of rowTerms) {
          const hay = terms[t.i].field === "subject" ? (subject ??= str(r[1]).toLowerCase()) : (from ??= `${str(r[2])} ${str(r[3])} ${str(r[4])}`.toLowerCase());
          spend.compare(hay.length);
          if (hay.includes(t.q)) out[t.i].push(u);
        }
      }
    }
    if (scanTerms.length) await this.scanTextTerms(folderId, cand, scanTerms, out, spend);
    // long BODY/TEXT terms got hits from the index and from the partly indexed bodies
    for (const t of scanTerms) if (t.partialOnly && out[t.i].length) out[t.i] = [...new Set(out[t.i])].sort((a, b) => a - b);
    return out;
  }

  /** Test counters: messages read by text scans (each read decodes the message once). */
  readonly textScanStats = { messagesRead: 0 };

  /** One pass over the folder's candidate messages, testing every term that needs the message text. */
  private async scanTextTerms(
    folderId: number,
    cand: Set<number> | null,
    scanTerms: { i: number; q: string; field: TextField; partialOnly: boolean }[],
    out: number[][],
    spend: ScanBudget,
  ): Promise<void> {
    const onlyPartial = scanTerms.every((t) => t.partialOnly);
    const rows = await this.db.raw(
      `SELECT i.uid, i.blob_id, b.fts_partial, b.size FROM items i JOIN blobs b ON b.id = i.blob_id WHERE i.folder_id = ?${onlyPartial ? " AND b.fts_partial = 1" : ""} ORDER BY i.uid`,
      [folderId],
    );
    // hits per blob: the same message stored twice in a folder is read once
    const seen = new Map<string, number[] | null>();
    for (const [uidV, blobV, partialV, sizeV] of rows) {
      const uid = num(uidV);
      if (cand && !cand.has(uid)) continue;
      const blobId = str(blobV);
      let hits = seen.get(blobId);
      if (hits === undefined) {
        const partial = num(partialV) === 1;
        const want = scanTerms.filter((t) => !t.partialOnly || partial);
        if (!want.length) {
          seen.set(blobId, null);
          continue;
        }
        spend.read(num(sizeV));
        let f: MessageAnalysis["fts"];
        try {
          this.textScanStats.messagesRead++;
          f = analyzeMessage(await this.blobs.get(blobId)).fts;
        } catch {
          seen.set(blobId, null);
          continue;
        }
        const hay = new Map<TextField, string>();
        hits = [];
        for (const t of want) {
          let h = hay.get(t.field);
          if (h === undefined) {
            const raw = t.field === "body" ? f.body : t.field === "to" ? f.to : t.field === "cc" ? f.cc : t.field === "bcc" ? f.bcc : `${f.headers}\n${f.body}`;
            h = raw.toLowerCase();
            hay.set(t.field, h);
          }
          spend.compare(h.length);
          if (h.includes(t.q)) hits.push(t.i);
        }
        seen.set(blobId, hits);
      }
      if (hits) for (const i of hits) out[i].push(uid);
    }
  }

  async readMessage(id: number): Promise<Uint8Array> {
    const r = await this.db.get<R>("SELECT blob_id FROM items WHERE id = ?", [id]);
    if (!r) throw new StoreError("NONEXISTENT", "no such item");
    return this.blobs.get(str(r.blob_id));
  }

  readRange(blobId: string, start: number, end: number): Promise<Uint8Array> {
    return this.blobs.getRange(blobId, start, end);
  }

  // ---------------------------------------------------------------- queue

  async enqueue(entry: {
    sender: string;
    recipients: string[];
    raw: Uint8Array;
    dsn?: QueueEntry["dsn"];
    rcptDsn?: Record<string, { notify?: string[]; orcpt?: string }>;
  }): Promise<QueueEntry> {
    if (entry.recipients.length === 0) throw new StoreError("INVALID", "no recipients");
    const blobId = await this.blobs.put(entry.raw);
    const now = Date.now();
    const recipients: QueueEntry["recipients"] = entry.recipients.map((address) => {
      const d = entry.rcptDsn?.[address];
      return d ? { address, status: "pending", dsn: d } : { address, status: "pending" };
    });
    const id = await this.tx(async (tx) => {
      const r = await tx.get<R>(
        `INSERT INTO queue (sender, recipients, blob_id, size, created_at, next_attempt_at, attempts, last_error, dsn, locked_until)
         VALUES (?, ?, ?, ?, ?, ?, 0, NULL, ?, NULL) RETURNING id`,
        [entry.sender, JSON.stringify(recipients), blobId, entry.raw.byteLength, now, now, entry.dsn ? JSON.stringify(entry.dsn) : null],
      );
      return num(r?.id);
    });
    if (!(await this.blobs.has(blobId))) await this.blobs.put(entry.raw);
    return (await this.getQueueEntry(id)) as QueueEntry;
  }

  async listQueue(): Promise<QueueEntry[]> {
    return (await this.db.all<R>(`SELECT ${QUEUE_COLS} FROM queue ORDER BY next_attempt_at, id`)).map(toQueue);
  }

  async getQueueEntry(id: number): Promise<QueueEntry | null> {
    const r = await this.db.get<R>(`SELECT ${QUEUE_COLS} FROM queue WHERE id = ?`, [id]);
    return r ? toQueue(r) : null;
  }

  async claimDueQueueEntries(now: number, limit: number, lockMs: number): Promise<QueueEntry[]> {
    // The lock lives in the row, so several processes/nodes share one queue; a crashed holder's lock expires.
    return this.tx(async (tx) => {
      const rows = await tx.all<R>(
        `SELECT ${QUEUE_COLS} FROM queue WHERE next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?) ORDER BY next_attempt_at, id LIMIT ?`,
        [now, now, Math.max(0, Math.floor(limit))],
      );
      const until = now + lockMs;
      for (const r of rows) {
        await tx.run("UPDATE queue SET locked_until = ? WHERE id = ?", [until, num(r.id)]);
        r.locked_until = until;
      }
      return rows.map(toQueue);
    });
  }

  async updateQueueEntry(
    id: number,
    patch: Partial<Pick<QueueEntry, "recipients" | "nextAttemptAt" | "attempts" | "lastError" | "lockedUntil">>,
  ): Promise<void> {
    const sets: string[] = [];
    const args: SqlValue[] = [];
    if (patch.recipients !== undefined) {
      sets.push("recipients = ?");
      args.push(JSON.stringify(patch.recipients));
    }
    if (patch.nextAttemptAt !== undefined) {
      sets.push("next_attempt_at = ?");
      args.push(patch.nextAttemptAt);
    }
    if (patch.attempts !== undefined) {
      sets.push("attempts = ?");
      args.push(patch.attempts);
    }
    if (patch.lastError !== undefined) {
      sets.push("last_error = ?");
      args.push(patch.lastError);
    }
    if (patch.lockedUntil !== undefined) {
      sets.push("locked_until = ?");
      args.push(patch.lockedUntil);
    }
    if (sets.length === 0) return;
    args.push(id);
    const r = await this.db.run(`UPDATE queue SET ${sets.join(", ")} WHERE id = ?`, args);
    if (r.changes === 0) throw new StoreError("NONEXISTENT", "no such queue entry");
  }

  async removeQueueEntry(id: number): Promise<void> {
    await this.db.run("DELETE FROM queue WHERE id = ?", [id]);
  }

  // ---------------------------------------------------------------- maintenance

  async collectGarbage(opts: { graceMs?: number } = {}): Promise<number> {
    const grace = opts.graceMs ?? this.gcGraceMs;
    const now = Date.now();
    const refs = new Set<string>();
    for (const r of await this.db.raw("SELECT DISTINCT blob_id FROM items UNION SELECT blob_id FROM queue")) refs.add(str(r[0]));
    for (const q of blobReferenceQueries) for (const r of await this.db.raw(q)) refs.add(str(r[0]));
    const candidates: string[] = [];
    for await (const id of this.blobs.list()) {
      if (refs.has(id)) continue;
      const mtime = this.blobs.modifiedAt ? await this.blobs.modifiedAt(id) : 0;
      if (mtime === null) continue;
      // Young blobs may belong to a delivery that has not committed yet.
      if (now - mtime < grace) continue;
      candidates.push(id);
    }
    let removed = 0;
    for (let i = 0; i < candidates.length; i += 200) {
      const chunk = candidates.slice(i, i + 200);
      removed += await this.db.write(async (tx) => {
        let n = 0;
        for (const id of chunk) {
          // re-check under the write lock: a delivery may have committed meanwhile
          if (await tx.get("SELECT 1 AS x FROM items WHERE blob_id = ? UNION ALL SELECT 1 FROM queue WHERE blob_id = ? LIMIT 1", [id, id])) continue;
          let extra = false;
          for (const q of blobReferenceQueries) if ((await tx.raw(q)).some((r) => str(r[0]) === id)) extra = true;
          if (extra) continue;
          const mtime = this.blobs.modifiedAt ? await this.blobs.modifiedAt(id) : 0;
          if (mtime !== null && Date.now() - mtime < grace) continue;
          const b = await tx.get<R>("SELECT seq FROM blobs WHERE id = ?", [id]);
          if (b) {
            await tx.run("DELETE FROM message_fts WHERE rowid = ?", [num(b.seq)]);
            await tx.run("DELETE FROM blobs WHERE seq = ?", [num(b.seq)]);
          }
          await this.blobs.delete(id);
          n++;
        }
        return n;
      });
    }
    // index rows whose blob is gone and unreferenced (e.g. removed by hand)
    await this.db.write(async (tx) => {
      const stale = await tx.raw(
        "SELECT seq, id FROM blobs WHERE created_at < ? AND NOT EXISTS (SELECT 1 FROM items WHERE blob_id = blobs.id) AND NOT EXISTS (SELECT 1 FROM queue WHERE blob_id = blobs.id)",
        [now - grace],
      );
      for (const [seq, id] of stale) {
        if (await this.blobs.has(str(id))) continue;
        await tx.run("DELETE FROM message_fts WHERE rowid = ?", [num(seq)]);
        await tx.run("DELETE FROM blobs WHERE seq = ?", [num(seq)]);
      }
    });
    if (this.blobs instanceof FsBlobStore) await this.blobs.removeStaleTemps(Math.max(grace, 60_000));
    if (removed) this.log?.info("garbage collection", { removedBlobs: removed });
    return removed;
  }

  async integrityCheck(): Promise<string[]> {
    return this.db.integrityCheck();
  }
}

function unrefTimer<T>(t: T): T {
  (t as { unref?: () => void }).unref?.();
  return t;
}

function isDiskFull(e: unknown): boolean {
  const code = String((e as { code?: unknown } | null)?.code ?? "");
  return code.startsWith("SQLITE_FULL") || /database or disk is full|ENOSPC|EDQUOT/i.test(String((e as Error)?.message ?? ""));
}

function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => "\\" + c);
}

/**
 * The SQL database behind a store, for storage-side modules that keep their
 * own tables (storage/eas-store.ts, storage/webmail-store.ts). Works through
 * wrappers (e.g. a Proxy) that pass the `db` property through. Protocols never use it.
 */
export function dbOf(store: MailStore): Db {
  const db = (store as unknown as { db?: Db }).db;
  if (!db || typeof db.write !== "function") throw new Error("this store has no SQL database");
  return db;
}

export type { Db, Queryable } from "./db.ts";

export async function openStore(opts: OpenStoreOptions): Promise<SqlMailStore> {
  const db = await openDb({ url: opts.url, authToken: opts.authToken, driver: opts.driver });
  try {
    await migrate(db, { log: opts.log });
  } catch (e) {
    await db.close();
    throw e;
  }
  const blobs = opts.blobs ?? new FsBlobStore(opts.dataDir);
  const store = new SqlMailStore(db, blobs, opts.log, opts.gcGraceMs);
  // compute the unknown-user hash now, so the first failed login costs the same as later ones
  void dummyPasswordHash().catch(() => {});
  store.startMaintenance(opts.gcIntervalMs ?? 6 * 60 * 60 * 1000);
  store.resumeTextIndexing();
  return store;
}
