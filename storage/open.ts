/**
 * One entry point for everything stored: `openStorage()` opens the database
 * once, brings its schema up to date, and returns every store built on that
 * one connection — the mail store, the ActiveSync state, the webmail state —
 * and the blob store they share. Nothing else opens a connection, and no
 * store reaches into another's: each gets the `Db` (or the shared core)
 * from here.
 */
import type { BlobStore, PasswordHasher } from "./api.ts";
import type { Db } from "./db.ts";
import { createEasStore, type EasStore } from "./eas-store.ts";
import { openStore, type OpenStoreOptions, type SqlMailStore } from "./store.ts";
import { SqlWebmailStore } from "./webmail-store.ts";
import { SqlSieveStore } from "./sieve-store.ts";
import { SqlBayesStore } from "./bayes-store.ts";
import { SqlSpamStore } from "./spam-store.ts";

/** openStore()'s options, with the password hasher required. */
export interface OpenStorageOptions extends OpenStoreOptions {
  /** Password hashing for accounts: the kernel's (src/auth.ts `passwordHasher`). */
  hasher: PasswordHasher;
}

/** The stores the protocols use besides the mail store (the server context carries them). */
export interface ProtocolStores {
  readonly eas: EasStore;
  readonly webmail: SqlWebmailStore;
  /** Sieve scripts, duplicate ids, vacation log (storage/filter-api.ts). */
  readonly sieve: SqlSieveStore;
  /** The spam filter's Bayesian token counts (storage/filter-api.ts). */
  readonly bayes: SqlBayesStore;
  /** Sender reputation, greylisting, allow/deny lists (storage/filter-api.ts). */
  readonly spam: SqlSpamStore;
}

export interface Storage extends ProtocolStores {
  readonly mail: SqlMailStore;
  readonly blobs: BlobStore;
  /** The one database connection every store above uses. */
  readonly db: Db;
  /** Stops background work and closes the database (once). */
  close(): Promise<void>;
}

export async function openStorage(opts: OpenStorageOptions): Promise<Storage> {
  // the mail store opens the database, migrates it and starts its background work;
  // the other stores are built on its connection
  const mail = await openStore(opts);
  return {
    mail,
    eas: createEasStore(mail.db),
    webmail: new SqlWebmailStore(mail.db, mail.blobs),
    sieve: new SqlSieveStore(mail.db),
    bayes: new SqlBayesStore(mail.db),
    spam: new SqlSpamStore(mail.db),
    blobs: mail.blobs,
    db: mail.db,
    close: () => mail.close(),
  };
}
