/**
 * Resume state of an IMAP import, one small JSON file per (account, old
 * server, old user) in <data dir>/import/ (0600 in a 0700 directory; it
 * holds no password). Per source folder it keeps the folder's UIDVALIDITY
 * and the highest UID imported: UIDs only grow while UIDVALIDITY stays the
 * same (RFC 9051 §2.3.1.1), so "UID > last" is exactly what is new.
 *
 * A batch is recorded as pending (destination folder, its UIDNEXT before,
 * the batch's sizes) before it is appended and as done after. An import
 * killed between the two finds the pending batch on its next run and looks
 * at the destination folder: the append is one transaction, so either all
 * of the batch is there (above the recorded UIDNEXT) or none of it is.
 * Either way nothing is imported twice or lost.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";

export interface PendingBatch {
  destFolderId: number;
  uidNextBefore: number;
  /** Octet sizes of the batch's messages, in order. */
  sizes: number[];
  /** Highest source UID in the batch. */
  lastUid: number;
}

export interface FolderState {
  uidValidity: number;
  lastUid: number;
  imported: number;
  pending?: PendingBatch | null;
}

export interface ImportStateData {
  version: 1;
  source: string;
  folders: Record<string, FolderState>;
  updatedAt: number;
}

export class ImportState {
  readonly file: string;
  data: ImportStateData;

  private constructor(file: string, data: ImportStateData) {
    this.file = file;
    this.data = data;
  }

  /** Loads (or starts) the state for `source` (e.g. "imaps://old@mail.example.org:993") and account. A damaged file starts over with a warning from the caller. */
  static open(dataDir: string, accountId: number, source: string): { state: ImportState; damaged: boolean } {
    const dir = join(dataDir, "import");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const key = createHash("sha256").update(`${accountId}\u0000${source}`).digest("hex").slice(0, 24);
    const file = join(dir, `${accountId}-${key}.json`);
    let data: ImportStateData = { version: 1, source, folders: {}, updatedAt: Date.now() };
    let damaged = false;
    let text: string | null = null;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      text = null;
    }
    if (text !== null) {
      try {
        const parsed = JSON.parse(text) as ImportStateData;
        if (parsed && parsed.version === 1 && typeof parsed.folders === "object" && parsed.folders !== null) data = parsed;
        else damaged = true;
      } catch {
        damaged = true;
      }
    }
    return { state: new ImportState(file, data), damaged };
  }

  folder(path: string): FolderState | undefined {
    return this.data.folders[path];
  }

  setFolder(path: string, st: FolderState): void {
    this.data.folders[path] = st;
  }

  /** Writes atomically and durably: a temp file, fsync, rename over the old one. */
  save(): void {
    this.data.updatedAt = Date.now();
    const tmp = `${this.file}.tmp`;
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(this.data));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.file);
  }
}
