/**
 * `pillarbox backup DIR`: a consistent copy of a data dir while the server
 * runs and mail arrives.
 *
 * Layout of DIR (one directory, updated in place by every run):
 *   manifest.json          written last, atomically: it names the current generation
 *   db-<stamp>.sqlite      the database snapshot of this run
 *   files-<stamp>/         config, webmail keys, TLS/ACME material, other data dir files
 *   blobs/ab/cd/<sha256>   message bodies, shared by every run (incremental)
 *
 * Ordering, and why every blob the snapshot references ends up in DIR:
 *  1. the blob collector is held (storage/backup.ts holdBlobCollection);
 *  2. the database is snapshotted (VACUUM INTO, one read transaction);
 *  3. the blobs the SNAPSHOT references are copied.
 * A blob is written and fsynced before the row naming it commits
 * (storage/blobstore.ts), so every blob the snapshot references existed
 * when the snapshot began; blobs are immutable (named by their hash), so the
 * copy made later has the same bytes; and only the collector deletes blobs,
 * which the hold keeps from deleting anything until step 3 ends (its
 * one-hour grace period alone would not do: it protects young blob files,
 * not old ones whose message was expunged just after the snapshot). Mail
 * arriving after step 2 is simply not in this backup: it is in the next one.
 * A new generation replaces the old one only when the manifest is renamed
 * into place, so an interrupted run leaves the previous backup intact.
 */
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, promises as fsp, readdirSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import type { Config } from "../config-types.ts";
import { buildInfo } from "../version.ts";
import { holdBlobCollection, snapshotDatabase, snapshotUnsupported, SnapshotReader } from "../../storage/backup.ts";
import { filePathOfUrl, redactDbUrl } from "../../storage/db.ts";
import { copyReferencedBlobs, type BlobTally } from "./copy-blobs.ts";
import { copyDurable, fsyncDir, hashFile, mkdirPrivate, writeDurable } from "./files.ts";
import { pruneBlobs, type PruneResult } from "./prune.ts";
import { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, readManifest, type BackupManifest, type ManifestFile } from "./manifest.ts";

export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupError";
  }
}

export interface BackupOptions {
  config: Config;
  /** The backup directory (created if missing). */
  dir: string;
  /** The config file in use when it is not `<data dir>/pillarbox.toml` (--config, $PILLARBOX_CONFIG). */
  configFile?: string;
  /** Remove from DIR the blobs the new snapshot no longer references (mail deleted since earlier runs). */
  prune?: boolean;
  /** Progress lines (stderr). */
  progress?: (line: string) => void;
}

export interface BackupResult {
  manifest: BackupManifest;
  /** Problems found in the live data dir (missing / damaged blobs): the backup is complete except for them. */
  problems: string[];
  /** With `prune`: what was removed; null when the reference order could not be trusted (nothing removed). */
  pruned?: PruneResult | null;
}

/** Names in the data dir that are not copied as files: the store's own parts, caches, locks, temp files. */
const SKIP_TOP = new Set(["blobs", "pop3", ".cache", "webmail-uploads", "pillarbox.pid"]);
/** At most this many other files are copied from the data dir. */
const MAX_FILES = 5000;

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export async function runBackup(opts: BackupOptions): Promise<BackupResult> {
  const { config } = opts;
  const dir = resolve(opts.dir);
  const dataDir = resolve(config.dataDir);
  if (!existsSync(dataDir)) throw new BackupError(`data dir ${dataDir} does not exist`);
  const real = (p: string) => (existsSync(p) ? realpathSync(p) : p);
  if (isInside(real(dir), realpathSync(dataDir)) || isInside(realpathSync(dataDir), real(dir))) {
    throw new BackupError(`the backup directory ${dir} and the data dir ${dataDir} overlap: put the backup outside the data dir (a backup lost with the disk it protects is no backup)`);
  }
  await mkdirPrivate(dir);
  checkBackupDir(dir);
  const lock = await lockDir(dir);
  const progress = opts.progress ?? (() => {});
  try {
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z") + "-" + randomBytes(3).toString("hex");
    const filesName = `files-${stamp}`;
    const url = config.databaseUrl;
    const pg = isPostgresUrl(url);
    const dbName = pg ? `db-${stamp}.pgdump` : `db-${stamp}.sqlite`;

    // 1 + 2: hold the collector, snapshot; 3: the blobs the snapshot references
    const why = pg ? null : snapshotUnsupported(url);
    if (why) throw new BackupError(`cannot back up ${redactDbUrl(url)}: ${why}`);
    const createdAt = new Date().toISOString();
    const hold = await holdBlobCollection(dataDir);
    let taken: TakenSnapshot;
    try {
      // the PostgreSQL driver and tools are loaded only for a PostgreSQL store
      taken = pg
        ? await (await import("./postgres.ts")).pgSnapshotAndBlobs(url, dir, dbName, `blobs-${stamp}.txt`, dataDir, progress)
        : await sqliteSnapshotAndBlobs(url, dir, dbName, dataDir, progress);
    } catch (e) {
      await fsp.unlink(join(dir, dbName)).catch(() => {});
      throw e instanceof BackupError ? e : new BackupError(`database snapshot failed: ${(e as Error).message}`);
    } finally {
      await hold.release();
      keepDataDirOwnership(dataDir, url);
    }
    const { schema, counts, blobs, problems } = taken;

    // config, keys, certificates and the rest of the data dir
    const files = await copyOtherFiles(opts, dataDir, join(dir, filesName));
    const dbHash = await hashFile(join(dir, dbName));
    const info = buildInfo();
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      formatVersion: MANIFEST_FORMAT_VERSION,
      createdAt,
      pillarbox: { version: info.version, commit: info.commit },
      hostname: config.hostname,
      schema: { latest: schema[schema.length - 1] ?? 0, applied: schema },
      engine: pg ? "postgres" : "sqlite",
      database: { file: dbName, bytes: dbHash.bytes, sha256: dbHash.sha256, ...(pg ? { pgSchema: taken.pgSchema ?? null } : {}) },
      ...(taken.blobList ? { blobList: taken.blobList } : {}),
      filesDir: filesName,
      blobs,
      counts,
      files,
    };
    await fsyncDir(dir);
    await writeDurable(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + "\n");
    // older generations are garbage once the new manifest is in place
    for (const name of readdirSync(dir)) {
      const current = name === dbName || name === filesName || name === taken.blobList?.file;
      if (!current && /^(db-.*\.(sqlite|pgdump)|files-.*|blobs-.*\.txt)$/.test(name)) {
        await fsp.rm(join(dir, name), { recursive: true, force: true });
      }
    }
    let pruned: PruneResult | null | undefined;
    if (opts.prune) {
      // against the generation just written: its snapshot (SQLite) or its blob list (PostgreSQL)
      const referenced = taken.blobList
        ? async () => (await import("./postgres.ts")).blobListPages(join(dir, taken.blobList!.file))
        : async () => {
            const snap = SnapshotReader.open(join(dir, dbName));
            return (async function* () {
              try {
                yield* snap.referencedBlobIds();
              } finally {
                snap.close();
              }
            })();
          };
      pruned = await pruneBlobs(dir, async function* () {
        yield* await referenced();
      });
      if (pruned) await fsyncDir(join(dir, "blobs")).catch(() => {});
    }
    return { manifest, problems, pruned };
  } finally {
    await lock.release();
  }
}

/** What steps 2 and 3 produced. */
export interface TakenSnapshot {
  schema: number[];
  counts: BackupManifest["counts"];
  blobs: BlobTally;
  problems: string[];
  /** PostgreSQL: the schema dumped (the URL's ?schema=), null for the default. */
  pgSchema?: string | null;
  /** PostgreSQL: the referenced blob ids, one per line (a dump cannot be read without a server). */
  blobList?: { file: string; sha256: string; count: number };
}

/** SQLite: VACUUM INTO, then the blobs the snapshot file references. */
async function sqliteSnapshotAndBlobs(url: string, dir: string, dbName: string, dataDir: string, progress: (l: string) => void): Promise<TakenSnapshot> {
  try {
    await snapshotDatabase(url, join(dir, dbName));
  } catch (e) {
    throw new BackupError(`database snapshot failed: ${(e as Error).message}`);
  }
  progress(`database snapshot taken (${dbName})`);
  const snap = SnapshotReader.open(join(dir, dbName));
  try {
    const schema = snap.schemaVersions();
    const counts = snap.counts();
    return { schema, counts, ...(await copyReferencedBlobs(snap.referencedBlobIds(), dataDir, dir, progress)) };
  } finally {
    snap.close();
  }
}

/**
 * Run as root on the service user's data dir (found item 8), the snapshot's
 * connection may have created the database's -wal/-shm files (server
 * stopped) and the hold file as root: give them to the data dir's owner, or
 * the service could not open its own database afterwards.
 */
function keepDataDirOwnership(dataDir: string, url: string): void {
  if (process.getuid?.() !== 0) return;
  const owner = statSync(dataDir);
  if (owner.uid === 0) return;
  const db = url.startsWith("file:") ? resolve(filePathOfUrl(url)) : null;
  for (const p of [...(db ? [`${db}-wal`, `${db}-shm`] : []), join(dataDir, "blobs"), join(dataDir, "blobs", ".backup-hold")]) {
    try {
      if (statSync(p).uid === 0) chownSync(p, owner.uid, owner.gid);
    } catch {
      // not there: nothing to give
    }
  }
}

function isInside(child: string, parent: string): boolean {
  const r = relative(parent, child);
  return r === "" || (!r.startsWith("..") && !isAbsolute(r));
}

/** DIR must be empty or one of our backups (an earlier run, finished or not): never write into someone else's directory. */
function checkBackupDir(dir: string): void {
  const ours = /^(manifest\.json|blobs|db-.*\.(sqlite|pgdump)|blobs-.*\.txt|files(-.*)?|\.tmp-.*|\.backup\.lock)$/;
  const names = readdirSync(dir);
  const foreign = names.filter((n) => !ours.test(n));
  if (foreign.length) {
    throw new BackupError(
      `${dir} holds files that are not a Pillarbox backup (${foreign.slice(0, 5).join(", ")}${foreign.length > 5 ? ", ..." : ""}): use an empty directory or an earlier backup's`,
    );
  }
  if (names.includes(MANIFEST_FILE)) readManifest(dir); // a damaged manifest is reported now, not overwritten blindly
}

/** One backup at a time per directory (O_EXCL lock file; a stale one from a dead process is taken over). */
async function lockDir(dir: string): Promise<{ release(): Promise<void> }> {
  const file = join(dir, ".backup.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await fsp.open(file, "wx", 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => fsp.unlink(file).catch(() => {}) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const pid = Number((await fsp.readFile(file, "utf8").catch(() => "")).trim());
      if (pid > 0 && processAlive(pid)) throw new BackupError(`another backup (process ${pid}) is writing to ${dir}`);
      await fsp.unlink(file).catch(() => {});
    }
  }
  throw new BackupError(`cannot lock ${dir}`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Copies every regular file of the data dir except the store's own parts
 * (database, blobs), caches, locks and temp files, plus the config file and
 * the TLS certificate and key when they live outside the data dir.
 */
async function copyOtherFiles(opts: BackupOptions, dataDir: string, destRoot: string): Promise<ManifestFile[]> {
  const out: ManifestFile[] = [];
  const dbPath = opts.config.databaseUrl.startsWith("file:") ? resolve(filePathOfUrl(opts.config.databaseUrl)) : null;
  const skipFiles = new Set(dbPath ? [dbPath, `${dbPath}-wal`, `${dbPath}-shm`, `${dbPath}-journal`] : []);
  const todo: { src: string; rel: string; origin?: string }[] = [];
  const walk = (abs: string, rel: string) => {
    for (const ent of readdirSync(abs, { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      const a = join(abs, ent.name);
      if (!rel && SKIP_TOP.has(ent.name)) continue;
      if (ent.name.startsWith(".tmp") || ent.name === ".backup-hold" || skipFiles.has(a)) continue;
      let st;
      try {
        st = statSync(a); // follows symlinks: a linked certificate is copied as its content
      } catch {
        continue; // a dangling link
      }
      if (st.isDirectory()) {
        if (!ent.isSymbolicLink()) walk(a, r);
      } else if (st.isFile()) {
        todo.push({ src: a, rel: r });
        if (todo.length > MAX_FILES) throw new BackupError(`the data dir holds more than ${MAX_FILES} other files: move what is not Pillarbox's out of ${dataDir}`);
      }
    }
  };
  walk(dataDir, "");
  const hasToml = todo.some((t) => t.rel === "pillarbox.toml");
  const external = (path: string | null | undefined, asToml = false) => {
    if (!path) return;
    const abs = resolve(path);
    if (isInside(abs, dataDir) || !existsSync(abs)) return;
    if (asToml && !hasToml) todo.push({ src: abs, rel: "pillarbox.toml", origin: abs });
    else todo.push({ src: abs, rel: `external/${basename(abs)}`, origin: abs });
  };
  external(opts.configFile, true);
  external(opts.config.tls.certFile);
  external(opts.config.tls.keyFile);
  await mkdirPrivate(destRoot);
  for (const t of todo) {
    const dest = join(destRoot, ...t.rel.split("/"));
    await mkdirPrivate(dirname(dest));
    const r = await copyDurable(t.src, dest);
    out.push({ path: t.rel, bytes: r.bytes, sha256: r.sha256, ...(t.origin ? { origin: t.origin } : {}) });
  }
  const dirs = new Set(out.map((f) => dirname(join(destRoot, ...f.path.split("/")))));
  for (const d of dirs) await fsyncDir(d);
  await fsyncDir(destRoot);
  return out;
}
