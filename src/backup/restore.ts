/**
 * `pillarbox restore DIR --data-dir NEW`: a backup into an empty (or new)
 * data dir, never over an existing one. Every byte is checked on the way:
 * the database against the manifest's sha256, each blob against the hash
 * that names it, each file against its recorded sha256; a restore that
 * cannot be complete stops and removes what it wrote. A new data dir is
 * built beside its final name and renamed into place at the end, so a
 * crash never leaves a half-restored dir under the name the server uses.
 * Modes are owner-only (directories 0700, files 0600); restoring as root
 * into an existing empty directory gives everything that directory's owner.
 */
import { randomBytes } from "node:crypto";
import { chownSync, existsSync, promises as fsp, readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { SnapshotReader } from "../../storage/backup.ts";
import { redactDbUrl } from "../../storage/db.ts";
import { assertKnownSchema } from "../../storage/migrate.ts";
import { BackupError } from "./backup.ts";
import { BLOB_ID, blobPath, copyDurable, eachLimited, fsyncDir, hashFile, isNotFound, mkdirPrivate } from "./files.ts";
import { readManifest, type BackupManifest } from "./manifest.ts";

export interface RestoreResult {
  manifest: BackupManifest;
  dataDir: string;
  blobs: number;
  bytes: number;
  files: number;
  /** Files that lived outside the data dir when backed up: restored under external/, with where they came from. */
  external: { path: string; origin: string }[];
}

const PARALLEL = 8;

export interface RestoreOptions {
  progress?: (line: string) => void;
  /** A PostgreSQL backup: the empty database to restore into. */
  databaseUrl?: string;
}

export async function runRestore(backupDir: string, target: string, opts: RestoreOptions = {}): Promise<RestoreResult> {
  const dir = resolve(backupDir);
  const dataDir = resolve(target);
  const manifest = readManifest(dir);
  if (manifest.engine === "postgres" && !/^postgres(ql)?:\/\//i.test(opts.databaseUrl ?? "")) {
    throw new BackupError(`this is a backup of a PostgreSQL store: name the empty database to restore it into with --database-url postgres://... (the data dir gets the blobs and files)`);
  }
  let owner: { uid: number; gid: number } | null = null;
  let work: string;
  if (existsSync(dataDir)) {
    const st = statSync(dataDir);
    if (!st.isDirectory()) throw new BackupError(`${dataDir} exists and is not a directory`);
    // `.cache` (the binary's SQLite driver, src/native-addon.ts) is made by any command on the dir: not data
    const entries = readdirSync(dataDir).filter((n) => n !== ".cache");
    if (entries.length) {
      throw new BackupError(
        `${dataDir} is not empty (${entries.slice(0, 3).join(", ")}${entries.length > 3 ? ", ..." : ""}): restore only into an empty or new data dir; a restore never overwrites data`,
      );
    }
    work = dataDir;
    if (process.getuid?.() === 0 && st.uid !== 0) owner = { uid: st.uid, gid: st.gid };
  } else {
    await mkdirPrivate(dirname(dataDir));
    work = join(dirname(dataDir), `.${basename(dataDir)}.restoring-${randomBytes(4).toString("hex")}`);
    await fsp.mkdir(work, { mode: 0o700 });
  }
  const written: string[] = [];
  try {
    const progress = opts.progress ?? (() => {});
    const result = manifest.engine === "postgres" ? await restorePostgres(dir, manifest, work, written, opts.databaseUrl!, progress) : await restoreInto(dir, manifest, work, written, progress);
    if (owner) {
      for (const p of [work, ...written]) chownSync(p, owner.uid, owner.gid);
    }
    await fsyncDir(work);
    if (work !== dataDir) {
      await fsp.rename(work, dataDir);
      await fsyncDir(dirname(dataDir));
    }
    return { ...result, dataDir };
  } catch (e) {
    // leave nothing half-restored behind: the new dir as it was (empty) or gone
    if (work === dataDir) {
      for (const name of readdirSync(work).filter((n) => n !== ".cache")) await fsp.rm(join(work, name), { recursive: true, force: true });
    } else await fsp.rm(work, { recursive: true, force: true });
    throw e;
  }
}

async function restoreInto(dir: string, manifest: BackupManifest, work: string, written: string[], progress: (line: string) => void): Promise<Omit<RestoreResult, "dataDir">> {
  // the database first: checked against the manifest, then opened and checked by SQLite
  const dbDest = join(work, "pillarbox.db");
  let db;
  try {
    db = await copyDurable(join(dir, manifest.database.file), dbDest, { expectSha256: manifest.database.sha256 });
  } catch (e) {
    if (isNotFound(e)) throw new BackupError(`the backup's database ${manifest.database.file} is missing: run pillarbox verify ${dir}`);
    throw e;
  }
  if (!db.matches) throw new BackupError(`the backup's database ${manifest.database.file} does not match its manifest (changed or truncated): run pillarbox verify ${dir}`);
  written.push(dbDest);
  const snap = SnapshotReader.open(dbDest);
  let blobs = 0;
  let bytes = 0;
  try {
    const integrity = snap.integrityCheck();
    if (integrity[0] !== "ok") throw new BackupError(`the backup's database fails integrity_check: ${integrity.slice(0, 3).join("; ")}`);
    try {
      assertKnownSchema(snap.schemaVersions());
    } catch (e) {
      throw new BackupError(`cannot restore with this Pillarbox: ${(e as Error).message}`);
    }
    const r = await restoreBlobs(snap.referencedBlobIds(), dir, work, written, progress);
    blobs = r.blobs;
    bytes = r.bytes;
  } finally {
    snap.close();
  }

  const external = await restoreFiles(dir, manifest, work, written);
  return { manifest, blobs, bytes, files: manifest.files.length, external };
}

/** A PostgreSQL backup: blobs (from the backup's list) and files into the data dir, then pg_restore into the empty database. */
async function restorePostgres(dir: string, manifest: BackupManifest, work: string, written: string[], url: string, progress: (line: string) => void): Promise<Omit<RestoreResult, "dataDir">> {
  const pgTools = await import("./postgres.ts");
  const list = manifest.blobList!;
  const listFile = join(dir, list.file);
  const db = await hashFile(join(dir, manifest.database.file)).catch(() => null);
  if (!db || db.sha256 !== manifest.database.sha256) throw new BackupError(`the backup's database archive ${manifest.database.file} is missing or does not match its manifest: run pillarbox verify ${dir}`);
  const lh = await hashFile(listFile).catch(() => null);
  if (!lh || lh.sha256 !== list.sha256) throw new BackupError(`the backup's blob list ${list.file} is missing or does not match its manifest: run pillarbox verify ${dir}`);
  try {
    assertKnownSchema(manifest.schema.applied);
  } catch (e) {
    throw new BackupError(`cannot restore with this Pillarbox: ${(e as Error).message}`);
  }
  const r = await restoreBlobs(pgTools.blobListPages(listFile), dir, work, written, progress);
  const external = await restoreFiles(dir, manifest, work, written);
  // last: a failure above leaves the database untouched; pg_restore runs as one transaction
  await pgTools.pgRestore(join(dir, manifest.database.file), url, manifest.database.pgSchema ?? null);
  progress(`database restored with pg_restore into ${redactDbUrl(url)}`);
  return { manifest, blobs: r.blobs, bytes: r.bytes, files: manifest.files.length, external };
}

/** Copies the listed blobs from the backup into `work`, each checked against its hash; any missing or damaged one stops the restore. */
async function restoreBlobs(pages: AsyncIterable<string[]>, dir: string, work: string, written: string[], progress: (line: string) => void): Promise<{ blobs: number; bytes: number }> {
  let blobs = 0;
  let bytes = 0;
  const made = new Map<string, Promise<void>>();
  const bad: string[] = [];
  let badCount = 0;
  for await (const ids of pages) {
    await eachLimited(ids, PARALLEL, async (id) => {
      if (!BLOB_ID.test(id)) {
        if (badCount++ < 10) bad.push(`malformed blob id ${JSON.stringify(id.slice(0, 80))}`);
        return;
      }
      const dest = blobPath(work, id);
      const d = dirname(dest);
      let ready = made.get(d);
      if (!ready) {
        // one mkdir per directory, awaited by every worker that needs it (a worker must not copy before it exists)
        ready = mkdirPrivate(d);
        made.set(d, ready);
        written.push(dirname(dirname(d)), dirname(d), d);
      }
      await ready;
      try {
        const r = await copyDurable(blobPath(dir, id), dest, { expectSha256: id });
        if (!r.matches) {
          if (badCount++ < 10) bad.push(`blob ${id} is damaged`);
          return;
        }
        written.push(dest);
        blobs++;
        bytes += r.bytes;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        if (badCount++ < 10) bad.push(`blob ${id} is missing`);
      }
    });
    if (blobs && blobs % 10_000 < ids.length) progress(`blobs: ${blobs} restored`);
  }
  if (badCount) {
    throw new BackupError(`the backup is incomplete, nothing was restored: ${bad.join("; ")}${badCount > bad.length ? ` (and ${badCount - bad.length} more)` : ""}; run pillarbox verify ${dir}`);
  }
  const dirs = [...made.keys()];
  await eachLimited([...dirs, ...new Set(dirs.map((d) => dirname(d)))], PARALLEL, fsyncDir);
  return { blobs, bytes };
}

/** The copied files (config, keys, certificates) into `work`, each checked against its sha256; returns those that came from outside the data dir. */
async function restoreFiles(dir: string, manifest: BackupManifest, work: string, written: string[]): Promise<{ path: string; origin: string }[]> {
  const external: { path: string; origin: string }[] = [];
  for (const f of manifest.files) {
    const src = join(dir, manifest.filesDir, ...f.path.split("/"));
    const dest = join(work, ...f.path.split("/"));
    await mkdirPrivate(dirname(dest));
    let r;
    try {
      r = await copyDurable(src, dest, { expectSha256: f.sha256 });
    } catch (e) {
      if (isNotFound(e)) throw new BackupError(`the backup's file ${f.path} is missing: run pillarbox verify ${dir}`);
      throw e;
    }
    if (!r.matches) throw new BackupError(`the backup's file ${f.path} does not match its manifest: run pillarbox verify ${dir}`);
    written.push(dest);
    // directories the files live in (tls/, acme/ ...) get the same owner
    for (let d = dirname(dest); d.length > work.length; d = dirname(d)) written.push(d);
    if (f.origin && f.path.startsWith("external/")) external.push({ path: f.path, origin: f.origin });
    await fsyncDir(dirname(dest));
  }
  return external;
}
