/**
 * The destination side of every import: finds or creates the folder a
 * message goes to and appends messages in batches.
 *
 * Imported mail goes through `store.append` (as an IMAP APPEND does), not
 * the delivery pipeline: it is existing mail being moved, not a new
 * arrival, so no Sieve rule, out-of-office reply, iMIP processing, spam
 * check or forwarding may run on it (a user's ten-year-old invitations
 * must not answer themselves). The quota still applies: a full mailbox
 * stops the import with words (QuotaExceededError from the store), after
 * which the import can be resumed once there is room.
 */
import type { AppendInput, Folder, MailStore, SpecialUse } from "../../storage/api.ts";
import { QuotaExceededError, StoreError } from "../../storage/api.ts";

/** One append transaction: at most this many messages or bytes (keeps memory bounded and commits often). */
export const BATCH_MESSAGES = 500;
export const BATCH_BYTES = 16 * 1024 * 1024;

export class ImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImportError";
  }
}

export class FolderSink {
  private byName = new Map<string, Folder>();
  private folders: Folder[] | null = null;

  constructor(
    readonly store: MailStore,
    readonly accountId: number,
  ) {}

  private async all(): Promise<Folder[]> {
    if (!this.folders) this.folders = await this.store.listFolders(this.accountId, { itemClass: "mail" });
    return this.folders;
  }

  /** The folder for `name`; a special-use target is the account's folder with that attribute whatever its name. */
  async folder(name: string, specialUse: SpecialUse | null, opts: { create?: boolean } = {}): Promise<Folder | null> {
    const key = `${specialUse ?? ""}\u0000${name}`;
    const hit = this.byName.get(key);
    if (hit) return hit;
    const all = await this.all();
    let f = (specialUse && all.find((x) => x.specialUse === specialUse)) || all.find((x) => x.name === name || (name.toUpperCase() === "INBOX" && x.name === "INBOX")) || null;
    if (!f && opts.create !== false) {
      try {
        f = await this.store.createFolder(this.accountId, name, specialUse && !all.some((x) => x.specialUse === specialUse) ? { specialUse } : {});
      } catch (e) {
        if (e instanceof StoreError) throw new ImportError(`cannot create folder ${JSON.stringify(name)}: ${e.message}`);
        throw e;
      }
      this.folders = null;
    }
    if (f) this.byName.set(key, f);
    return f;
  }

  /** The folder's current next UID (for the resume check). */
  async uidNext(folderId: number): Promise<number> {
    const f = await this.store.getFolderById(folderId);
    if (!f) throw new ImportError("the destination folder was deleted during the import");
    return f.uidNext;
  }

  /**
   * Writes a batch's blobs, several at a time: each blob write waits for its own fsync, and
   * `append` writes them one after the other, which would leave the disk idle between them.
   * `append` then finds each blob already there (the blob store is content-addressed and
   * deduplicates), and the garbage collector's grace period protects blobs no row references
   * yet (storage/blobstore.ts), also those of a batch an interrupted import never committed.
   */
  async writeBlobs(batch: readonly AppendInput[]): Promise<void> {
    await eachLimited(batch, BLOB_WRITERS, (m) => this.store.blobs.put(m.raw));
  }

  /** Appends one batch in one transaction: all or nothing (storage: MULTIAPPEND semantics). */
  async commit(folderId: number, batch: AppendInput[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.store.append(folderId, batch);
    } catch (e) {
      if (e instanceof QuotaExceededError) {
        const q = await this.store.quota(this.accountId);
        throw new ImportError(
          `the mailbox is full (${q.usedBytes} of ${q.limitBytes ?? "unlimited"} bytes used): the import stopped; raise the quota or free space and run the same import again, it resumes where it stopped`,
        );
      }
      throw e;
    }
  }

  /** writeBlobs then commit. */
  async append(folderId: number, batch: AppendInput[]): Promise<void> {
    if (batch.length === 0) return;
    await this.writeBlobs(batch);
    await this.commit(folderId, batch);
  }
}

/** Blob writes in flight at once during an import. */
const BLOB_WRITERS = 32;

async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Collects messages and flushes them by count and bytes. */
export class Batcher {
  private items: AppendInput[] = [];
  private bytes = 0;
  constructor(private flush_: (items: AppendInput[]) => Promise<void>) {}
  async add(m: AppendInput): Promise<void> {
    this.items.push(m);
    this.bytes += m.raw.length;
    if (this.items.length >= BATCH_MESSAGES || this.bytes >= BATCH_BYTES) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    this.bytes = 0;
    await this.flush_(items);
  }
}
