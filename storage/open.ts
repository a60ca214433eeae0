/**
 * One entry point for everything stored: `openStorage()` opens the database
 * once, brings its schema up to date, and returns every store built on that
 * one connection — the mail store, the ActiveSync state, the webmail state —
 * and the blob store they share. Nothing else opens a connection, and no
 * store reaches into another's: each gets the `Db` (or the shared core)
 * from here.
 */
import type { BlobStore, PasswordHasher, StoreLogger } from "./api.ts";
import { FsBlobStore } from "./blobstore.ts";
import { openDb, type Db } from "./db.ts";
import { createEasStore, type EasStore } from "./eas-store.ts";
import { migrate } from "./migrate.ts";
import { SqlMailStore } from "./store.ts";
import { SqlWebmailStore } from "./webmail-store.ts";

export interface OpenStorageOptions {
  /** `file:...` (SQLite), `libsql://...`, or `postgres://...`. */
  url: string;
  /** Force the libSQL driver (tests run the @libsql/client code path on a local file with "client"). */
  driver?: "native" | "client";
  /** Where the file-system blob store keeps its files (unless `blobs` replaces it). */
  dataDir: string;
  authToken?: string | null;
  log?: StoreLogger;
  /** Password hashing for accounts: the kernel's (src/auth.ts `passwordHasher`). */
  hasher: PasswordHasher;
  /** Replace the file-system blob store (e.g. S3-compatible, ROADMAP step 8). */
  blobs?: BlobStore;
  /** Blobs younger than this are never garbage-collected (an uncommitted delivery may own them). Default 1 hour. */
  gcGraceMs?: number;
  /** Run collectGarbage() in the background this often (first run 10 minutes after open). Default 6 hours; 0 = never. */
  gcIntervalMs?: number;
}

/** The stores the protocols use besides the mail store (the server context carries them). */
export interface ProtocolStores {
  readonly eas: EasStore;
  readonly webmail: SqlWebmailStore;
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
  const db = await openDb({ url: opts.url, authToken: opts.authToken, driver: opts.driver });
  try {
    await migrate(db, { log: opts.log });
  } catch (e) {
    await db.close();
    throw e;
  }
  const blobs = opts.blobs ?? new FsBlobStore(opts.dataDir);
  const mail = new SqlMailStore(db, blobs, opts.log, opts.gcGraceMs, opts.hasher);
  // compute the unknown-user hash now, so the first failed login costs the same as later ones
  void opts.hasher.dummyHash().catch(() => {});
  mail.startMaintenance(opts.gcIntervalMs ?? 6 * 60 * 60 * 1000);
  mail.resumeTextIndexing();
  return {
    mail,
    eas: createEasStore(db),
    webmail: new SqlWebmailStore(db),
    blobs,
    db,
    close: () => mail.close(),
  };
}
