/**
 * Drizzle (sqlite-core) description of the store's tables, for typed queries
 * and tooling. The database itself is created by the versioned SQL
 * migrations in storage/migrations/ (embedded as TS strings);
 * tests/storage/schema.test.ts checks that this file and the migrated
 * database have the same tables and columns. Change both together: a new
 * migration plus the matching edit here.
 */
import { sqliteTable, integer, text, real, blob, index, uniqueIndex, primaryKey } from "drizzle-orm/sqlite-core";
import { sql } from "drizzle-orm";

export const schemaMigrations = sqliteTable("schema_migrations", {
  version: integer("version").primaryKey(),
  name: text("name").notNull(),
  appliedAt: integer("applied_at").notNull(),
});

export const meta = sqliteTable("meta", {
  key: text("key").primaryKey(),
  value: text("value").notNull(),
});

export const domains = sqliteTable("domains", {
  id: integer("id").primaryKey(),
  name: text("name").notNull().unique(),
  dkimSelector: text("dkim_selector"),
  dkimPrivateKey: text("dkim_private_key"), // PEM PKCS#8
  dkimPublicKey: text("dkim_public_key"), // base64 SPKI
  createdAt: integer("created_at").notNull(),
});

export const accounts = sqliteTable(
  "accounts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    email: text("email").notNull().unique(),
    domainId: integer("domain_id")
      .notNull()
      .references(() => domains.id),
    passwordHash: text("password_hash").notNull(), // argon2id (src/runtime.ts)
    quotaBytes: integer("quota_bytes"),
    usedBytes: integer("used_bytes").notNull().default(0),
    messageCount: integer("message_count").notNull().default(0),
    settings: text("settings").notNull().default("{}"), // JSON AccountSettings
    /** Per-account change counter (MODSEQ source). */
    modseq: integer("modseq").notNull().default(1),
    createdAt: integer("created_at").notNull(),
    /** Change-feed pruning floor (migration 0031): deletions at or below it are forgotten. */
    changesFloor: integer("changes_floor").notNull().default(0),
    /** May open the web admin (migration 0040). */
    isAdmin: integer("is_admin").notNull().default(0),
    /** Refused by every protocol; the mail stays (migration 0040). */
    disabled: integer("disabled").notNull().default(0),
    /** Bumped by every second-factor or app-password change: part of the credential stamp (storage/account-security.ts). */
    securityEpoch: integer("security_epoch").notNull().default(0),
  },
  (t) => [index("accounts_domain").on(t.domainId)],
);

/** Per-device passwords for IMAP/POP3/SMTP/ActiveSync/DAV (migration 0040; storage/account-security.ts). */
export const appPasswords = sqliteTable(
  "app_passwords",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    /** A non-secret digest that picks the row before the argon2id check. */
    lookup: text("lookup").notNull(),
    hash: text("hash").notNull(),
    createdAt: integer("created_at").notNull(),
    lastUsedAt: integer("last_used_at"),
    lastUsedProtocol: text("last_used_protocol"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [index("app_passwords_account").on(t.accountId), index("app_passwords_lookup").on(t.lookup)],
);

/** One TOTP secret per account (RFC 6238), sealed with the data dir's key; `last_step` refuses a replayed code. */
export const twoFactor = sqliteTable("two_factor", {
  accountId: integer("account_id")
    .primaryKey()
    .references(() => accounts.id, { onDelete: "cascade" }),
  secretSealed: text("secret_sealed").notNull(),
  createdAt: integer("created_at").notNull(),
  enabledAt: integer("enabled_at"),
  lastStep: integer("last_step").notNull().default(0),
});

/** Single-use recovery codes (SHA-256 digests). */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: integer("used_at"),
  },
  (t) => [index("recovery_codes_account").on(t.accountId, t.codeHash)],
);

export const aliases = sqliteTable(
  "aliases",
  {
    id: integer("id").primaryKey(),
    /** `local@domain` or `@domain` (catch-all). */
    source: text("source").notNull(),
    destination: text("destination").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("aliases_source_destination").on(t.source, t.destination), index("aliases_destination").on(t.destination)],
);

export const folders = sqliteTable(
  "folders",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(), // '/' delimited, "INBOX" upper case
    parentId: integer("parent_id"),
    itemClass: text("item_class").notNull().default("mail"), // mail | calendar | contacts | tasks | notes
    specialUse: text("special_use"),
    subscribed: integer("subscribed").notNull().default(1),
    uidvalidity: integer("uidvalidity").notNull(),
    uidnext: integer("uidnext").notNull().default(1),
    highestModseq: integer("highest_modseq").notNull().default(1),
    props: text("props").notNull().default("{}"), // JSON PropertyBag
    createdAt: integer("created_at").notNull(),
    /** The folder's own last change: create, rename, subscribe, props (migration 0031). */
    modseq: integer("modseq").notNull().default(0),
    /** The change that created the folder (migration 0031). */
    createdModseq: integer("created_modseq").notNull().default(0),
  },
  (t) => [
    uniqueIndex("folders_account_name").on(t.accountId, t.name),
    index("folders_parent").on(t.parentId),
    index("folders_account_modseq").on(t.accountId, t.modseq),
  ],
);

export const blobs = sqliteTable("blobs", {
  /** Keys the full-text row (message_fts.rowid). */
  seq: integer("seq").primaryKey({ autoIncrement: true }),
  id: text("id").notNull().unique(), // sha256 hex
  size: integer("size").notNull(),
  createdAt: integer("created_at").notNull(),
  /** 0 while waiting for the background full-text indexer (migration 0003). */
  ftsIndexed: integer("fts_indexed").notNull().default(1),
  /** 1 when only the first FTS_BODY_MAX characters of the body are indexed (migration 0003). */
  ftsPartial: integer("fts_partial").notNull().default(0),
  /** Octets in CRLF form (mail/crlf.ts); NULL for blobs stored before migration 0004. */
  crlfSize: integer("crlf_size"),
},
  (t) => [index("blobs_fts_pending").on(t.seq).where(sql`fts_indexed = 0`)],
);

export const items = sqliteTable(
  "items",
  {
    /** Stable id: survives moves, never reused. */
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    folderId: integer("folder_id")
      .notNull()
      .references(() => folders.id),
    uid: integer("uid").notNull(),
    modseq: integer("modseq").notNull(),
    /** Bitmask: 1 \Seen, 2 \Answered, 4 \Flagged, 8 \Deleted, 16 \Draft (storage/flags.ts). */
    flags: integer("flags").notNull().default(0),
    keywords: text("keywords"), // space-separated, NULL when none
    internalDate: integer("internal_date").notNull(),
    size: integer("size").notNull(),
    blobId: text("blob_id").notNull(),
    envelope: text("envelope").notNull(), // JSON Envelope
    mime: text("mime").notNull(), // JSON MimePart tree with byte offsets
    subject: text("subject").notNull().default(""),
    baseSubject: text("base_subject").notNull().default(""),
    fromAddr: text("from_addr").notNull().default(""),
    fromName: text("from_name").notNull().default(""),
    toAddr: text("to_addr").notNull().default(""),
    ccAddr: text("cc_addr").notNull().default(""),
    sentDate: integer("sent_date"),
    messageId: text("message_id"),
    inReplyTo: text("in_reply_to"),
    refs: text("refs").notNull().default("[]"), // JSON string[]
    threadId: integer("thread_id").notNull(),
    preview: text("preview").notNull().default(""),
    hasAttachment: integer("has_attachment").notNull().default(0),
    props: text("props").notNull().default("{}"), // JSON PropertyBag
    createdAt: integer("created_at").notNull(),
    /** The change at which the item entered its folder: delivery, append, copy, move in (migration 0031). */
    createdModseq: integer("created_modseq").notNull().default(0),
    /** A calendar, task or contact item's DAV resource name (migration 0034); NULL for mail and notes. */
    resourceName: text("resource_name"),
  },
  (t) => [
    uniqueIndex("items_folder_uid").on(t.folderId, t.uid),
    uniqueIndex("items_resource_name").on(t.folderId, t.resourceName).where(sql`resource_name IS NOT NULL`),
    index("items_summary").on(t.folderId, t.uid, t.modseq, t.flags, t.internalDate, t.size, t.keywords),
    index("items_folder_modseq").on(t.folderId, t.modseq),
    index("items_message_id").on(t.accountId, t.messageId),
    index("items_blob").on(t.blobId),
    index("items_thread").on(t.accountId, t.threadId),
  ],
);

export const expunged = sqliteTable(
  "expunged",
  {
    id: integer("id").primaryKey(),
    accountId: integer("account_id").notNull(),
    folderId: integer("folder_id").notNull(),
    uid: integer("uid").notNull(),
    itemId: integer("item_id").notNull(),
    modseq: integer("modseq").notNull(),
    /** When the item left the folder, ms (migration 0031; pruning keeps a retention by age). */
    deletedAt: integer("deleted_at"),
    /** The DAV resource name the item had (migration 0034), for sync-collection's removed members. */
    resourceName: text("resource_name"),
  },
  (t) => [index("expunged_folder_modseq").on(t.folderId, t.modseq), index("expunged_account_modseq").on(t.accountId, t.modseq)],
);

/** Deleted folders, for the account change feed (migration 0031, storage/changes.ts). */
export const folderTombstones = sqliteTable(
  "folder_tombstones",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id").notNull(),
    folderId: integer("folder_id").notNull(),
    name: text("name").notNull(),
    itemClass: text("item_class").notNull(),
    modseq: integer("modseq").notNull(),
    deletedAt: integer("deleted_at").notNull(),
  },
  (t) => [index("folder_tombstones_account_modseq").on(t.accountId, t.modseq)],
);

export const queue = sqliteTable(
  "queue",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    sender: text("sender").notNull(),
    recipients: text("recipients").notNull(), // JSON QueueEntry["recipients"]
    blobId: text("blob_id").notNull(),
    size: integer("size").notNull(),
    createdAt: integer("created_at").notNull(),
    nextAttemptAt: integer("next_attempt_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    dsn: text("dsn"), // JSON
    lockedUntil: integer("locked_until"),
  },
  (t) => [index("queue_due").on(t.nextAttemptAt), index("queue_blob").on(t.blobId)],
);

// ------------------------------------------------------------ item model (migration 0030, storage/items.ts)

/** Index row of a calendar item (VEVENT); times UTC ms. */
export const calendarItems = sqliteTable(
  "calendar_items",
  {
    itemId: integer("item_id").primaryKey().references(() => items.id, { onDelete: "cascade" }),
    accountId: integer("account_id").notNull(),
    folderId: integer("folder_id").notNull(),
    uid: text("uid").notNull(),
    recurrenceId: integer("recurrence_id"),
    dtstartUtc: integer("dtstart_utc").notNull(),
    dtendUtc: integer("dtend_utc").notNull(),
    allDay: integer("all_day").notNull().default(0),
    isRecurring: integer("is_recurring").notNull().default(0),
    rrule: text("rrule"),
    /** Start of the last instance; NULL = unbounded. */
    lastInstanceUtc: integer("last_instance_utc"),
    /** When the last instance ends; 253402300800000 = unbounded (migration 0032). */
    spanEndUtc: integer("span_end_utc").notNull().default(0),
    summary: text("summary").notNull().default(""),
    location: text("location").notNull().default(""),
    organizer: text("organizer"),
    status: text("status"),
    transp: text("transp"),
    sequence: integer("sequence").notNull().default(0),
  },
  (t) => [
    index("calendar_items_folder_span").on(t.folderId, t.spanEndUtc, t.dtstartUtc),
    index("calendar_items_account_span").on(t.accountId, t.spanEndUtc, t.dtstartUtc),
    index("calendar_items_uid").on(t.accountId, t.uid, t.folderId),
  ],
);

export const contactItems = sqliteTable(
  "contact_items",
  {
    itemId: integer("item_id").primaryKey().references(() => items.id, { onDelete: "cascade" }),
    accountId: integer("account_id").notNull(),
    folderId: integer("folder_id").notNull(),
    uid: text("uid").notNull(),
    fullName: text("full_name").notNull().default(""),
    sortName: text("sort_name").notNull().default(""),
    emails: text("emails").notNull().default(""), // lower-case, one a line
    phones: text("phones").notNull().default(""), // one a line
    org: text("org").notNull().default(""),
  },
  (t) => [index("contact_items_uid").on(t.accountId, t.uid, t.folderId), index("contact_items_sort").on(t.folderId, t.sortName)],
);

/** The organizer and attendees of a calendar item (migration 0035), for "events this address organizes or attends". */
export const calendarPeople = sqliteTable(
  "calendar_people",
  {
    itemId: integer("item_id").notNull().references(() => items.id, { onDelete: "cascade" }),
    accountId: integer("account_id").notNull(),
    address: text("address").notNull(), // lower case, mailto: stripped
    role: text("role").notNull(), // ORGANIZER | ATTENDEE
    partstat: text("partstat"),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.role, t.address] }), index("calendar_people_address").on(t.accountId, t.address)],
);

/** Lower-case e-mail addresses and name words of contacts, for prefix lookups (byte order; PostgreSQL: COLLATE "C"). */
export const contactTerms = sqliteTable(
  "contact_terms",
  {
    itemId: integer("item_id").notNull().references(() => items.id, { onDelete: "cascade" }),
    accountId: integer("account_id").notNull(),
    term: text("term").notNull(),
  },
  (t) => [primaryKey({ columns: [t.itemId, t.term] }), index("contact_terms_prefix").on(t.accountId, t.term)],
);

export const taskItems = sqliteTable(
  "task_items",
  {
    itemId: integer("item_id").primaryKey().references(() => items.id, { onDelete: "cascade" }),
    accountId: integer("account_id").notNull(),
    folderId: integer("folder_id").notNull(),
    uid: text("uid").notNull(),
    summary: text("summary").notNull().default(""),
    dueUtc: integer("due_utc"),
    startUtc: integer("start_utc"),
    completedUtc: integer("completed_utc"),
    status: text("status"),
    priority: integer("priority").notNull().default(0),
    isRecurring: integer("is_recurring").notNull().default(0),
  },
  (t) => [index("task_items_folder_due").on(t.folderId, t.dueUtc), index("task_items_uid").on(t.accountId, t.uid, t.folderId)],
);

/** Notes are text/plain MIME messages; this is their title. */
export const noteItems = sqliteTable("note_items", {
  itemId: integer("item_id").primaryKey().references(() => items.id, { onDelete: "cascade" }),
  accountId: integer("account_id").notNull(),
  folderId: integer("folder_id").notNull(),
  subject: text("subject").notNull().default(""),
});

/** Typed properties of items and folders (EWS extended properties, MAPI): one row per value. */
export const itemProperties = sqliteTable(
  "item_properties",
  {
    accountId: integer("account_id").notNull(),
    ownerKind: text("owner_kind").notNull(), // item | folder
    ownerId: integer("owner_id").notNull(),
    itemId: integer("item_id").references(() => items.id, { onDelete: "cascade" }),
    folderId: integer("folder_id").references(() => folders.id, { onDelete: "cascade" }),
    propKey: text("prop_key").notNull(), // tag:<id> | name:<guid>:<name> | lid:<guid>:<id>
    propTag: integer("prop_tag"),
    propSet: text("prop_set"),
    propName: text("prop_name"),
    propLid: integer("prop_lid"),
    propType: text("prop_type").notNull(), // int | bool | real | time | string | binary | guid
    multi: integer("multi").notNull().default(0),
    position: integer("position").notNull().default(0), // -1: an empty multi-valued property
    intValue: integer("int_value"),
    realValue: real("real_value"),
    textValue: text("text_value"),
    blobValue: blob("blob_value"),
  },
  (t) => [
    primaryKey({ columns: [t.ownerKind, t.ownerId, t.propKey, t.position] }),
    index("item_properties_item").on(t.itemId),
    index("item_properties_folder").on(t.folderId),
  ],
);

/** Spam filter allow/deny lists (migration 0043; storage/spam-store.ts): scope "a:<account id>", "d:<domain>" or "g". */
export const spamLists = sqliteTable(
  "spam_lists",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    scope: text("scope").notNull(),
    accountId: integer("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(), // "allow" | "deny"
    pattern: text("pattern").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [uniqueIndex("spam_lists_scope_kind_pattern").on(t.scope, t.kind, t.pattern)],
);

/** Sender reputation per domain, decayed spam/ham verdict counts (migration 0043). */
export const spamReputation = sqliteTable("spam_reputation", {
  domain: text("domain").primaryKey(),
  spam: real("spam").notNull().default(0),
  ham: real("ham").notNull().default(0),
  updatedAt: integer("updated_at").notNull(),
});

/** RFC 6647 greylisting triplets (migration 0043). */
export const spamGreylist = sqliteTable(
  "spam_greylist",
  {
    triplet: text("triplet").primaryKey(),
    firstSeen: integer("first_seen").notNull(),
    passedUntil: integer("passed_until"),
  },
  (t) => [index("spam_greylist_first_seen").on(t.firstSeen)],
);

/** The spam filter's tables (migration 0043), checked against it by tests/spam/store.test.ts. */
export const spamTables = { spamLists, spamReputation, spamGreylist };

/** The Bayesian classifier's models (migration 0042; storage/bayes-store.ts): scope "a:<account id>" or "d:<domain>", messages trained per class. */
export const bayesModels = sqliteTable(
  "bayes_models",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    scope: text("scope").notNull().unique(),
    accountId: integer("account_id").references(() => accounts.id, { onDelete: "cascade" }),
    spam: integer("spam").notNull().default(0),
    ham: integer("ham").notNull().default(0),
  },
  (t) => [index("bayes_models_account").on(t.accountId)],
);

/** Per model and token: messages of each class it was seen in, last trained (migration 0042). */
export const bayesTokens = sqliteTable(
  "bayes_tokens",
  {
    modelId: integer("model_id")
      .notNull()
      .references(() => bayesModels.id, { onDelete: "cascade" }),
    token: text("token").notNull(),
    spam: integer("spam").notNull().default(0),
    ham: integer("ham").notNull().default(0),
    atime: integer("atime").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.token] })],
);

/** Per model: which message (SHA-256 of its bytes) was trained as spam (1) or ham (0) (migration 0042). */
export const bayesTrained = sqliteTable(
  "bayes_trained",
  {
    modelId: integer("model_id")
      .notNull()
      .references(() => bayesModels.id, { onDelete: "cascade" }),
    msgKey: text("msg_key").notNull(),
    isSpam: integer("is_spam").notNull(),
    trainedAt: integer("trained_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.modelId, t.msgKey] })],
);

export const bayesTables = { bayesModels, bayesTokens, bayesTrained };

export const itemModelTables = { calendarItems, calendarPeople, contactItems, contactTerms, taskItems, noteItems, itemProperties };

/** Sieve (migration 0041, issue 19): users' scripts, at most one active per account (RFC 5804). */
export const sieveScripts = sqliteTable(
  "sieve_scripts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    content: text("content").notNull(),
    /** Octets of the UTF-8 text. */
    size: integer("size").notNull(),
    active: integer("active").notNull().default(0),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [uniqueIndex("sieve_scripts_name").on(t.accountId, t.name), uniqueIndex("sieve_scripts_active").on(t.accountId).where(sql`active = 1`)],
);

/** RFC 7352 duplicate ids (and the redirect loop guard), until `expires_at`. */
export const sieveDuplicates = sqliteTable(
  "sieve_duplicates",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    dupKey: text("dup_key").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.dupKey] }), index("sieve_duplicates_expiry").on(t.expiresAt)],
);

/** RFC 5230 §4.2: the last vacation response per (account, sender, handle). */
export const sieveVacationLog = sqliteTable(
  "sieve_vacation_log",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    sender: text("sender").notNull(),
    handle: text("handle").notNull(),
    sentAt: integer("sent_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.sender, t.handle] })],
);

/** Script versions (digests) whose failure was reported to the owner. */
export const sieveErrorReports = sqliteTable(
  "sieve_error_reports",
  {
    accountId: integer("account_id")
      .notNull()
      .references(() => accounts.id, { onDelete: "cascade" }),
    digest: text("digest").notNull(),
    reportedAt: integer("reported_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.accountId, t.digest] })],
);

export const sieveTables = { sieveScripts, sieveDuplicates, sieveVacationLog, sieveErrorReports };

/**
 * The FTS5 table is virtual (Drizzle has no FTS5 builder):
 * `message_fts(subject, from_text, to_text, cc_text, bcc_text, headers, body)`,
 * trigram tokenizer, contentless (content='', contentless_delete=1: migration 0002), rowid = blobs.seq.
 */
export const FTS_TABLE = "message_fts";
export const FTS_COLUMNS = ["subject", "from_text", "to_text", "cc_text", "bcc_text", "headers", "body"] as const;

export const tables = { schemaMigrations, meta, domains, accounts, appPasswords, twoFactor, recoveryCodes, aliases, folders, blobs, items, expunged, folderTombstones, queue, ...itemModelTables, ...sieveTables, ...spamTables, ...bayesTables };
