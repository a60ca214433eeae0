/**
 * A backup's manifest (`manifest.json`, written last and atomically, so a
 * directory with a manifest always describes a complete backup): what made
 * it, the schema version, the database file and its sha256, blob counts and
 * bytes (each blob's sha256 is its file name, so the database's references
 * are the blob list), and every other file copied, with its sha256.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SnapshotCounts } from "../../storage/backup.ts";

export const MANIFEST_FILE = "manifest.json";
export const MANIFEST_FORMAT = "pillarbox-backup";
export const MANIFEST_FORMAT_VERSION = 1;
/** A manifest bigger than this is not ours (it holds counts and a short file list). */
const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

export interface ManifestFile {
  /** Path inside the backup's `files/` directory (and inside the restored data dir), '/'-separated. */
  path: string;
  bytes: number;
  sha256: string;
  /** Where it came from when it was outside the data dir (a --config file, a configured TLS certificate). */
  origin?: string;
}

export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  /** ISO 8601 time the snapshot was taken. */
  createdAt: string;
  pillarbox: { version: string; commit: string };
  hostname: string;
  schema: { latest: number; applied: number[] };
  /** The database engine (absent in the first backups: SQLite). */
  engine?: "sqlite" | "postgres";
  /** SQLite: the VACUUM INTO snapshot; PostgreSQL: a pg_dump custom-format archive. */
  database: { file: string; bytes: number; sha256: string; /** PostgreSQL: the schema dumped (the URL's ?schema=), null for the default. */ pgSchema?: string | null };
  /** PostgreSQL only: the referenced blob ids, one per line. */
  blobList?: { file: string; sha256: string; count: number };
  /** The directory (in the backup) holding the copied files of this generation. */
  filesDir: string;
  blobs: { referenced: number; bytes: number; copied: number; alreadyPresent: number; missing: number; damaged: number };
  counts: SnapshotCounts;
  files: ManifestFile[];
}

export class ManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ManifestError";
  }
}

const SAFE_PATH = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\0]{1,500}$/;

/** Reads and checks `DIR/manifest.json`; every problem is a ManifestError in words. */
export function readManifest(dir: string): BackupManifest {
  const file = join(dir, MANIFEST_FILE);
  let size: number;
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) throw new ManifestError(`${dir} is not a directory`);
  } catch (e) {
    if (e instanceof ManifestError) throw e;
    throw new ManifestError(`backup directory ${dir} does not exist`);
  }
  try {
    size = statSync(file).size;
  } catch {
    throw new ManifestError(`${file} is missing: ${dir} is not a Pillarbox backup, or its first backup did not finish`);
  }
  if (size > MANIFEST_MAX_BYTES) throw new ManifestError(`${file} is ${size} bytes: too big to be a Pillarbox manifest`);
  let v: unknown;
  try {
    v = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new ManifestError(`${file} is not valid JSON (truncated or edited?): ${(e as Error).message}`);
  }
  return checkManifest(v, file);
}

function checkManifest(v: unknown, file: string): BackupManifest {
  const bad = (what: string) => new ManifestError(`${file}: ${what}`);
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw bad("not a JSON object");
  const m = v as Record<string, unknown>;
  if (m.format !== MANIFEST_FORMAT) throw bad(`"format" is ${JSON.stringify(m.format)?.slice(0, 60)}, not "${MANIFEST_FORMAT}"`);
  if (typeof m.formatVersion !== "number") throw bad('"formatVersion" is missing');
  if (m.formatVersion > MANIFEST_FORMAT_VERSION) throw bad(`format version ${m.formatVersion} is newer than this Pillarbox reads (${MANIFEST_FORMAT_VERSION}): use the version that made the backup`);
  if (typeof m.createdAt !== "string" || Number.isNaN(Date.parse(m.createdAt))) throw bad('"createdAt" is not a date');
  const db = m.database as Record<string, unknown> | undefined;
  if (!db || typeof db.file !== "string" || !/^[A-Za-z0-9._-]{1,100}$/.test(db.file) || typeof db.sha256 !== "string" || typeof db.bytes !== "number") {
    throw bad('"database" must name the database file with its bytes and sha256');
  }
  if (typeof m.filesDir !== "string" || !/^files-[A-Za-z0-9-]{1,60}$/.test(m.filesDir)) throw bad('"filesDir" is missing or malformed');
  if (m.engine !== undefined && m.engine !== "sqlite" && m.engine !== "postgres") throw bad(`"engine" is ${JSON.stringify(m.engine)?.slice(0, 40)}: not one this Pillarbox knows`);
  const list = m.blobList as Record<string, unknown> | undefined;
  if (m.engine === "postgres" && (!list || typeof list.file !== "string" || !/^blobs-[A-Za-z0-9-]{1,60}\.txt$/.test(list.file) || typeof list.sha256 !== "string" || typeof list.count !== "number")) {
    throw bad('"blobList" is missing or malformed (a PostgreSQL backup names its blob list)');
  }
  const schema = m.schema as Record<string, unknown> | undefined;
  if (!schema || typeof schema.latest !== "number" || !Array.isArray(schema.applied)) throw bad('"schema" is missing or malformed');
  const blobs = m.blobs as Record<string, unknown> | undefined;
  if (!blobs || typeof blobs.referenced !== "number" || typeof blobs.bytes !== "number") throw bad('"blobs" is missing or malformed');
  if (!Array.isArray(m.files)) throw bad('"files" is not a list');
  if (m.files.length > 10_000) throw bad(`"files" lists ${m.files.length} entries: not a Pillarbox manifest`);
  for (const f of m.files as unknown[]) {
    const e = f as Record<string, unknown> | null;
    if (!e || typeof e.path !== "string" || !SAFE_PATH.test(e.path) || typeof e.sha256 !== "string" || typeof e.bytes !== "number") {
      throw bad(`a "files" entry is malformed or leaves the backup directory: ${JSON.stringify(f)?.slice(0, 120)}`);
    }
  }
  return v as BackupManifest;
}
