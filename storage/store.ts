/**
 * The mail store (storage/api.ts) on one SQL database + a content-addressed
 * blob store: a thin front over the parts, each in its own file and all
 * sharing one StoreCore (storage/core.ts). See storage/README.md.
 *
 * Invariants kept by the parts:
 *  - UIDs come from folders.uidnext inside the write transaction (BEGIN
 *    IMMEDIATE), so they strictly ascend and are never reused, across
 *    restarts and across processes sharing the database file.
 *  - Every change of an item or folder bumps the account's `modseq` and
 *    stamps it on the item and on folders.highest_modseq (RFC 7162).
 *    Expunges (and moves out) are logged with their modseq.
 *  - Blobs are written and fsynced before the row that references them
 *    commits; a call resolves only after its COMMIT is durable (storage/db.ts:
 *    synchronous=NORMAL plus an fsync of the WAL per group commit).
 *  - Events are published only after the commit.
 */
import type { BlobStore, MailStore, PasswordHasher, StoreLogger } from "./api.ts";
import { AccountSecurity } from "./account-security.ts";
import { BlobGc } from "./blob-gc.ts";
import { ChangeFeed, DEFAULT_CHANGE_RETENTION_MS } from "./changes.ts";
import { FsBlobStore } from "./blobstore.ts";
import { StoreCore, missingHasher } from "./core.ts";
import { openDb, type Db } from "./db.ts";
import { Directory } from "./directory.ts";
import type { InProcessEventBus } from "./events.ts";
import { Folders } from "./folders.ts";
import { FullText } from "./fulltext.ts";
import { Ingest } from "./ingest.ts";
import { Items } from "./items.ts";
import { Messages } from "./messages.ts";
import { migrate } from "./migrate.ts";
import { QueueStore } from "./queue-store.ts";
import { SummaryCache } from "./summary-cache.ts";
import { TextSearch } from "./text-search.ts";

export { normalizeAddress, normalizeDomain, normalizeFolderName } from "./names.ts";

export interface OpenStoreOptions {
  url: string;
  /** Force the database driver (tests run the @libsql/client code path on a local file with "client"). */
  driver?: "native" | "client";
  dataDir: string;
  authToken?: string | null;
  log?: StoreLogger;
  /** Password hashing for accounts (the kernel's: src/auth.ts `passwordHasher`); without one, password operations fail with StoreError CANNOT. */
  hasher?: PasswordHasher;
  /** Replace the file-system blob store (e.g. S3-compatible, ROADMAP step 8). */
  blobs?: BlobStore;
  /** Blobs younger than this are never garbage-collected (an uncommitted delivery may own them). Default 1 hour. */
  gcGraceMs?: number;
  /** Run collectGarbage() in the background this often (first run 10 minutes after open). Default 6 hours; 0 = never. */
  gcIntervalMs?: number;
  /** How long the change feed remembers deletions (expunges, deleted folders); older sync states must resync. Default 90 days. */
  changeRetentionMs?: number;
}


type P<K extends keyof MailStore> = NonNullable<MailStore[K]> extends (...a: infer A) => unknown ? A : never;

export class SqlMailStore implements MailStore {
  readonly core: StoreCore;
  readonly events: InProcessEventBus;
  readonly blobs: BlobStore;
  private readonly fulltext: FullText;
  private readonly directory: Directory;
  private readonly folders: Folders;
  private readonly ingest: Ingest;
  private readonly summaries: SummaryCache;
  private readonly messages: Messages;
  private readonly search: TextSearch;
  private readonly queue: QueueStore;
  private readonly gc: BlobGc;
  private readonly items: Items;
  private readonly changes: ChangeFeed;
  private readonly security: AccountSecurity;

  constructor(
    /** The database (storage/open.ts builds the ActiveSync and webmail stores on it). Protocols never use it. */
    readonly db: Db,
    blobs: BlobStore,
    log?: StoreLogger,
    gcGraceMs = 60 * 60 * 1000,
    hasher: PasswordHasher = missingHasher,
    changeRetentionMs = DEFAULT_CHANGE_RETENTION_MS,
    /** The data dir: the two-factor sealing key lives in its keys/ (null: no TOTP enrolment). */
    dataDir: string | null = null,
  ) {
    const core = (this.core = new StoreCore(db, blobs, hasher, log));
    this.blobs = blobs;
    this.events = core.events;
    this.fulltext = new FullText(core);
    this.messages = new Messages(core);
    this.folders = new Folders(core, this.messages);
    this.directory = new Directory(core, this.folders);
    this.ingest = new Ingest(core, this.fulltext, this.folders);
    this.summaries = new SummaryCache(core);
    this.search = new TextSearch(core, this.fulltext);
    this.queue = new QueueStore(core);
    this.gc = new BlobGc(core, gcGraceMs);
    this.items = new Items(core);
    this.changes = new ChangeFeed(core, changeRetentionMs);
    this.security = new AccountSecurity(core, dataDir);
  }

  /** Picks up blobs committed but not yet full-text indexed before a restart. */
  resumeTextIndexing(): void {
    this.fulltext.resumeTextIndexing();
  }

  /** Background garbage collection: every `intervalMs`, first after `firstMs`. Timers never keep the process alive. */
  startMaintenance(intervalMs: number, firstMs?: number): void {
    this.gc.startMaintenance(intervalMs, firstMs);
    this.changes.startMaintenance(intervalMs, firstMs);
  }

  /** Test counters: messages read by text scans (each read decodes the message once). */
  get textScanStats(): { messagesRead: number } {
    return this.search.textScanStats;
  }

  async close(): Promise<void> {
    if (this.core.closed) return;
    this.core.closed = true;
    await this.gc.stop();
    await this.changes.stop();
    await this.fulltext.stop();
    await this.db.close();
  }

  integrityCheck(): Promise<string[]> {
    return this.db.integrityCheck();
  }

  // domains, accounts, aliases (storage/directory.ts)
  addDomain(...a: P<"addDomain">) {
    return this.directory.addDomain(...a);
  }
  listDomains(...a: P<"listDomains">) {
    return this.directory.listDomains(...a);
  }
  getDomain(...a: P<"getDomain">) {
    return this.directory.getDomain(...a);
  }
  removeDomain(...a: P<"removeDomain">) {
    return this.directory.removeDomain(...a);
  }
  isLocalDomain(...a: P<"isLocalDomain">) {
    return this.directory.isLocalDomain(...a);
  }
  getDkimKey(...a: P<"getDkimKey">) {
    return this.directory.getDkimKey(...a);
  }
  addAccount(...a: P<"addAccount">) {
    return this.directory.addAccount(...a);
  }
  listAccounts(...a: P<"listAccounts">) {
    return this.directory.listAccounts(...a);
  }
  getAccount(...a: P<"getAccount">) {
    return this.directory.getAccount(...a);
  }
  getAccountById(...a: P<"getAccountById">) {
    return this.directory.getAccountById(...a);
  }
  authenticate(...a: P<"authenticate">) {
    return this.directory.authenticate(...a);
  }
  setPassword(...a: P<"setPassword">) {
    return this.directory.setPassword(...a);
  }
  credentialStamp(...a: P<"credentialStamp">) {
    return this.directory.credentialStamp(...a);
  }
  removeAccount(...a: P<"removeAccount">) {
    return this.directory.removeAccount(...a);
  }
  // account security (storage/account-security.ts)
  setAccountFlags(...a: P<"setAccountFlags">) {
    return this.security.setAccountFlags(...a);
  }
  listAppPasswords(...a: P<"listAppPasswords">) {
    return this.security.listAppPasswords(...a);
  }
  createAppPassword(...a: P<"createAppPassword">) {
    return this.security.createAppPassword(...a);
  }
  revokeAppPassword(...a: P<"revokeAppPassword">) {
    return this.security.revokeAppPassword(...a);
  }
  verifyAppPassword(...a: P<"verifyAppPassword">) {
    return this.security.verifyAppPassword(...a);
  }
  noteAppPasswordUse(...a: P<"noteAppPasswordUse">) {
    return this.security.noteAppPasswordUse(...a);
  }
  twoFactorStatus(...a: P<"twoFactorStatus">) {
    return this.security.twoFactorStatus(...a);
  }
  beginTwoFactor(...a: P<"beginTwoFactor">) {
    return this.security.beginTwoFactor(...a);
  }
  twoFactorSecret(...a: P<"twoFactorSecret">) {
    return this.security.twoFactorSecret(...a);
  }
  claimTotpStep(...a: P<"claimTotpStep">) {
    return this.security.claimTotpStep(...a);
  }
  enableTwoFactor(...a: P<"enableTwoFactor">) {
    return this.security.enableTwoFactor(...a);
  }
  regenerateRecoveryCodes(...a: P<"regenerateRecoveryCodes">) {
    return this.security.regenerateRecoveryCodes(...a);
  }
  useRecoveryCode(...a: P<"useRecoveryCode">) {
    return this.security.useRecoveryCode(...a);
  }
  resetTwoFactor(...a: P<"resetTwoFactor">) {
    return this.security.resetTwoFactor(...a);
  }

  setQuota(...a: P<"setQuota">) {
    return this.directory.setQuota(...a);
  }
  updateSettings(...a: P<"updateSettings">) {
    return this.directory.updateSettings(...a);
  }
  addAlias(...a: P<"addAlias">) {
    return this.directory.addAlias(...a);
  }
  listAliases(...a: P<"listAliases">) {
    return this.directory.listAliases(...a);
  }
  removeAlias(...a: P<"removeAlias">) {
    return this.directory.removeAlias(...a);
  }
  resolveRecipient(...a: P<"resolveRecipient">) {
    return this.directory.resolveRecipient(...a);
  }
  sendAsAddresses(...a: P<"sendAsAddresses">) {
    return this.directory.sendAsAddresses(...a);
  }

  // folders (storage/folders.ts)
  listFolders(...a: P<"listFolders">) {
    return this.folders.listFolders(...a);
  }
  getFolder(...a: P<"getFolder">) {
    return this.folders.getFolder(...a);
  }
  getFolderById(...a: P<"getFolderById">) {
    return this.folders.getFolderById(...a);
  }
  createFolder(...a: P<"createFolder">) {
    return this.folders.createFolder(...a);
  }
  renameFolder(...a: P<"renameFolder">) {
    return this.folders.renameFolder(...a);
  }
  deleteFolder(...a: P<"deleteFolder">) {
    return this.folders.deleteFolder(...a);
  }
  setSubscribed(...a: P<"setSubscribed">) {
    return this.folders.setSubscribed(...a);
  }
  setFolderProps(...a: P<"setFolderProps">) {
    return this.folders.setFolderProps(...a);
  }
  folderStatus(...a: P<"folderStatus">) {
    return this.folders.folderStatus(...a);
  }

  // delivery and append (storage/ingest.ts)
  deliver(...a: P<"deliver">) {
    return this.ingest.deliver(...a);
  }
  deliverAndEnqueue(...a: P<"deliverAndEnqueue">) {
    return this.ingest.deliverAndEnqueue(a[0], this.queue);
  }
  checkQuota(...a: P<"checkQuota">) {
    return this.ingest.checkQuota(...a);
  }
  quota(...a: P<"quota">) {
    return this.ingest.quota(...a);
  }
  append(...a: P<"append">) {
    return this.ingest.append(...a);
  }
  replaceMessage(...a: P<"replaceMessage">) {
    return this.ingest.replaceMessage(...a);
  }

  // listings (storage/summary-cache.ts)
  listMessages(...a: P<"listMessages">) {
    return this.summaries.listMessages(...a);
  }

  // messages (storage/messages.ts)
  getMessages(...a: P<"getMessages">) {
    return this.messages.getMessages(...a);
  }
  getMessageById(...a: P<"getMessageById">) {
    return this.messages.getMessageById(...a);
  }
  getMessagesByIds(...a: P<"getMessagesByIds">) {
    return this.messages.getMessagesByIds(...a);
  }
  blobIdsByUid(...a: P<"blobIdsByUid">) {
    return this.messages.blobIdsByUid(...a);
  }
  crlfSizes(...a: P<"crlfSizes">) {
    return this.messages.crlfSizes(...a);
  }
  setItemProps(...a: P<"setItemProps">) {
    return this.messages.setItemProps(...a);
  }
  storeFlags(...a: P<"storeFlags">) {
    return this.messages.storeFlags(...a);
  }
  expunge(...a: P<"expunge">) {
    return this.messages.expunge(...a);
  }
  copy(...a: P<"copy">) {
    return this.messages.copy(...a);
  }
  move(...a: P<"move">) {
    return this.messages.move(...a);
  }
  changesSince(...a: P<"changesSince">) {
    return this.messages.changesSince(...a);
  }
  readMessage(...a: P<"readMessage">) {
    return this.messages.readMessage(...a);
  }
  readRange(...a: P<"readRange">) {
    return this.messages.readRange(...a);
  }

  // text search (storage/text-search.ts)
  searchText(...a: P<"searchText">) {
    return this.search.searchText(...a);
  }
  searchTextTerms(...a: P<"searchTextTerms">) {
    return this.search.searchTextTerms(...a);
  }

  // outbound queue (storage/queue-store.ts)
  enqueue(...a: P<"enqueue">) {
    return this.queue.enqueue(...a);
  }
  listQueue(...a: P<"listQueue">) {
    return this.queue.listQueue(...a);
  }
  getQueueEntry(...a: P<"getQueueEntry">) {
    return this.queue.getQueueEntry(...a);
  }
  claimDueQueueEntries(...a: P<"claimDueQueueEntries">) {
    return this.queue.claimDueQueueEntries(...a);
  }
  updateQueueEntry(...a: P<"updateQueueEntry">) {
    return this.queue.updateQueueEntry(...a);
  }
  removeQueueEntry(...a: P<"removeQueueEntry">) {
    return this.queue.removeQueueEntry(...a);
  }

  // items of the other classes, typed properties (storage/items.ts)
  createItem(...a: P<"createItem">) {
    return this.items.createItem(...a);
  }
  getItem(...a: P<"getItem">) {
    return this.items.getItem(...a);
  }
  readItemBody(...a: P<"readItemBody">) {
    return this.items.readItemBody(...a);
  }
  getItems(...a: P<"getItems">) {
    return this.items.getItems(...a);
  }
  getItemByResourceName(...a: P<"getItemByResourceName">) {
    return this.items.getItemByResourceName(...a);
  }
  getItemsByResourceNames(...a: P<"getItemsByResourceNames">) {
    return this.items.getItemsByResourceNames(...a);
  }
  findItemByUid(...a: P<"findItemByUid">) {
    return this.items.findItemByUid(...a);
  }
  findItemsByUid(...a: P<"findItemsByUid">) {
    return this.items.findItemsByUid(...a);
  }
  listFoldersWithProperties(...a: P<"listFoldersWithProperties">) {
    return this.items.listFoldersWithProperties(...a);
  }
  updateItem(...a: P<"updateItem">) {
    return this.items.updateItem(...a);
  }
  deleteItem(...a: P<"deleteItem">) {
    return this.items.deleteItem(...a);
  }
  moveItem(...a: P<"moveItem">) {
    return this.items.moveItem(...a);
  }
  listItems(...a: P<"listItems">) {
    return this.items.listItems(...a);
  }
  findCalendarItems(...a: P<"findCalendarItems">) {
    return this.items.findCalendarItems(...a);
  }
  attendeeAnswers(...a: P<"attendeeAnswers">) {
    return this.items.attendeeAnswers(...a);
  }
  findCalendarItemsByAddress(...a: P<"findCalendarItemsByAddress">) {
    return this.items.findCalendarItemsByAddress(...a);
  }
  findContacts(...a: P<"findContacts">) {
    return this.items.findContacts(...a);
  }
  getProperties(...a: P<"getProperties">) {
    return this.items.getProperties(...a);
  }
  setProperties(...a: P<"setProperties">) {
    return this.items.setProperties(...a);
  }
  deleteProperties(...a: P<"deleteProperties">) {
    return this.items.deleteProperties(...a);
  }

  // maintenance (storage/blob-gc.ts)
  collectGarbage(...a: P<"collectGarbage">) {
    return this.gc.collectGarbage(...a);
  }

  // the account change feed (storage/changes.ts)
  accountChanges(...a: P<"accountChanges">) {
    return this.changes.accountChanges(...a);
  }
  pruneChanges(...a: P<"pruneChanges">) {
    return this.changes.pruneChanges(...a);
  }
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
  const hasher = opts.hasher ?? missingHasher;
  const store = new SqlMailStore(db, blobs, opts.log, opts.gcGraceMs, hasher, opts.changeRetentionMs, opts.dataDir);
  // compute the unknown-user hash now, so the first failed login costs the same as later ones
  void hasher.dummyHash().catch(() => {});
  store.startMaintenance(opts.gcIntervalMs ?? 6 * 60 * 60 * 1000);
  store.resumeTextIndexing();
  return store;
}
