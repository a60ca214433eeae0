/**
 * `pillarbox verify DIR`: is this backup restorable? The manifest parses;
 * the database file is the one the manifest names (size and sha256), opens,
 * passes PRAGMA integrity_check and has a schema this Pillarbox knows; every
 * blob the database references is present and its sha256 is its name; every
 * copied file matches its recorded sha256. Reports counts and the first few
 * ids of each kind of problem (bounded output), never a stack trace.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { SnapshotReader } from "../../storage/backup.ts";
import { assertKnownSchema } from "../../storage/migrate.ts";
import { checkBlobFiles, type BlobCheckResult } from "./blob-check.ts";
import { hashFile } from "./files.ts";
import { readManifest, type BackupManifest } from "./manifest.ts";

export interface VerifyReport {
  manifest: BackupManifest | null;
  ok: string[];
  problems: string[];
  blobs: BlobCheckResult | null;
}

/** Problems listed per kind before "... and N more". */
const SHOW = 10;

export async function verifyBackup(dir: string, opts: { progress?: (line: string) => void } = {}): Promise<VerifyReport> {
  const report: VerifyReport = { manifest: null, ok: [], problems: [], blobs: null };
  let m: BackupManifest;
  try {
    m = readManifest(dir);
  } catch (e) {
    report.problems.push((e as Error).message);
    return report;
  }
  report.manifest = m;
  report.ok.push(`manifest: backup of ${m.hostname} taken ${m.createdAt} by Pillarbox ${m.pillarbox?.version ?? "?"}, schema ${m.schema.latest}`);

  const dbFile = join(dir, m.database.file);
  let dbSound = false;
  try {
    const h = await hashFile(dbFile);
    if (h.bytes !== m.database.bytes || h.sha256 !== m.database.sha256) {
      report.problems.push(`database ${m.database.file}: ${h.bytes} bytes, sha256 ${h.sha256.slice(0, 16)}..., but the manifest says ${m.database.bytes} bytes, ${m.database.sha256.slice(0, 16)}... (changed or truncated after the backup)`);
    } else {
      report.ok.push(`database ${m.database.file}: ${h.bytes} bytes, matches the manifest`);
      dbSound = true;
    }
  } catch (e) {
    report.problems.push(`database ${m.database.file} cannot be read: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "it is missing" : (e as Error).message}`);
  }
  if (!existsSync(dbFile)) return report;
  if (m.engine === "postgres") {
    await verifyPostgresPart(dir, m, dbFile, report, opts.progress);
    await verifyFiles(dir, m, report);
    return report;
  }

  let snap: SnapshotReader;
  try {
    snap = SnapshotReader.open(dbFile);
  } catch (e) {
    report.problems.push((e as Error).message);
    return report;
  }
  try {
    let integrity: string[];
    try {
      integrity = snap.integrityCheck();
    } catch (e) {
      integrity = [(e as Error).message];
    }
    if (integrity.length === 1 && integrity[0] === "ok") report.ok.push("database integrity_check: ok");
    else report.problems.push(`database integrity_check: ${integrity.slice(0, 5).join("; ")}${integrity.length > 5 ? ` (and ${integrity.length - 5} more)` : ""}`);
    const applied = snap.schemaVersions();
    if (!applied.length) report.problems.push("database has no schema_migrations table: not a Pillarbox database");
    else {
      try {
        assertKnownSchema(applied);
        report.ok.push(`database schema: ${applied.length} migrations, latest ${applied[applied.length - 1]}`);
      } catch (e) {
        report.problems.push(`database schema: ${(e as Error).message}`);
      }
    }
    if (!dbSound && integrity[0] !== "ok") return report;

    let shown = 0;
    const blobs = await checkBlobFiles(snap.referencedBlobIds(), dir, {
      keep: SHOW,
      onPage: (r) => {
        if (r.checked - shown >= 10_000) {
          shown = r.checked;
          opts.progress?.(`blobs: ${r.checked} checked`);
        }
      },
    });
    report.blobs = blobs;
    reportBlobs(blobs, m, report);
  } finally {
    snap.close();
  }

  await verifyFiles(dir, m, report);
  return report;
}

/** PostgreSQL backups: the archive readable by pg_restore, a known schema, the blob list and every blob on it. */
async function verifyPostgresPart(dir: string, m: BackupManifest, dbFile: string, report: VerifyReport, progress?: (line: string) => void): Promise<void> {
  const { pgArchiveReadable, blobListPages } = await import("./postgres.ts");
  const readable = await pgArchiveReadable(dbFile);
  if (readable === "ok") report.ok.push(`database archive ${m.database.file}: pg_restore reads its table of contents`);
  else if (readable === null) report.ok.push(`database archive ${m.database.file}: pg_restore is not installed here, its contents were not read (the sha256 matched)`);
  else report.problems.push(`database archive ${m.database.file}: ${readable}`);
  try {
    assertKnownSchema(m.schema.applied);
    report.ok.push(`database schema: ${m.schema.applied.length} migrations, latest ${m.schema.latest}`);
  } catch (e) {
    report.problems.push(`database schema: ${(e as Error).message}`);
  }
  const list = m.blobList!;
  const listFile = join(dir, list.file);
  try {
    const h = await hashFile(listFile);
    if (h.sha256 !== list.sha256) {
      report.problems.push(`blob list ${list.file} does not match the manifest (changed or truncated after the backup)`);
      return;
    }
  } catch {
    report.problems.push(`blob list ${list.file} is missing`);
    return;
  }
  let shown = 0;
  const blobs = await checkBlobFiles(blobListPages(listFile), dir, {
    keep: SHOW,
    onPage: (r) => {
      if (r.checked - shown >= 10_000) {
        shown = r.checked;
        progress?.(`blobs: ${r.checked} checked`);
      }
    },
  });
  report.blobs = blobs;
  reportBlobs(blobs, m, report);
}

function reportBlobs(blobs: BlobCheckResult, m: BackupManifest, report: VerifyReport): void {
  const more = (n: number, shown: number) => (n > shown ? ` (and ${n - shown} more)` : "");
  if (blobs.missingCount) report.problems.push(`${blobs.missingCount} referenced blob(s) missing: ${blobs.missing.join(", ")}${more(blobs.missingCount, blobs.missing.length)}`);
  if (blobs.damagedCount) report.problems.push(`${blobs.damagedCount} blob(s) damaged (content does not match the hash that names it): ${blobs.damaged.join(", ")}${more(blobs.damagedCount, blobs.damaged.length)}`);
  if (!blobs.missingCount && !blobs.damagedCount) report.ok.push(`blobs: all ${blobs.checked} referenced blobs present and matching their sha256 (${blobs.bytes} bytes)`);
  if (blobs.checked !== m.blobs.referenced) report.problems.push(`the database references ${blobs.checked} blobs but the manifest recorded ${m.blobs.referenced}`);
  if (m.blobs.missing || m.blobs.damaged) {
    report.problems.push(`when this backup was taken, ${m.blobs.missing ?? 0} blob(s) were already missing and ${m.blobs.damaged ?? 0} damaged in the data dir (see pillarbox check --blobs there)`);
  }
}

/** Every copied file against its recorded sha256. */
async function verifyFiles(dir: string, m: BackupManifest, report: VerifyReport): Promise<void> {
  let fileProblems = 0;
  for (const f of m.files) {
    const path = join(dir, m.filesDir, ...f.path.split("/"));
    try {
      const h = await hashFile(path);
      if (h.sha256 === f.sha256) continue;
      if (fileProblems++ < SHOW) report.problems.push(`file ${f.path} does not match the manifest (changed after the backup)`);
    } catch {
      if (fileProblems++ < SHOW) report.problems.push(`file ${f.path} is missing`);
    }
  }
  if (fileProblems > SHOW) report.problems.push(`... and ${fileProblems - SHOW} more file problem(s)`);
  if (!fileProblems) report.ok.push(`files: ${m.files.length} (config, keys, certificates) match the manifest`);
}
