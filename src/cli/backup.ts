/**
 * `pillarbox backup DIR`, `pillarbox restore DIR --data-dir NEW`,
 * `pillarbox verify DIR` (src/backup/). Problems come out as sentences with
 * exit code 1; usage mistakes exit 2.
 */
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { BackupError, runBackup } from "../backup/backup.ts";
import { ManifestError } from "../backup/manifest.ts";
import { runRestore } from "../backup/restore.ts";
import { verifyBackup } from "../backup/verify.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { CliError, UsageError, configFromArgs, formatBytes } from "./common.ts";

/** Errors of ours and of the file system as one line of words. */
function words(e: unknown): CliError {
  if (e instanceof BackupError || e instanceof ManifestError) return new CliError(e.message);
  const err = e as NodeJS.ErrnoException;
  if (err?.code && err.path) return new CliError(`${err.code === "EACCES" ? "permission denied" : err.code === "ENOSPC" ? "no space left on the device" : err.code}: ${err.path}`);
  return new CliError((err as Error)?.message ?? String(e));
}

export const backupCommands: Command[] = [
  {
    name: "backup",
    usage: "DIR",
    summary: "copy the data dir (database snapshot, blobs, config, keys, certificates) to DIR, online and incremental",
    help:
      "Safe while the server runs and mail arrives: the database is snapshotted by SQLite's VACUUM INTO (one\n" +
      "read transaction), then the blobs that snapshot references are copied; mail acknowledged before the\n" +
      "backup started is in it. Run it again into the same DIR: only new blobs are copied. DIR must be outside\n" +
      "the data dir. PostgreSQL: pg_dump (installed, the server's version or newer) dumps the same snapshot the blob\n" +
      "list is read from. Exit code 1 when blobs were already\n" +
      "missing or damaged in the data dir (the backup is written without them).",
    options: { ...COMMON_OPTIONS, prune: { help: "also remove from DIR the blobs of mail deleted since earlier backups" } },
    args: [1, 1],
    async run(args, io) {
      const config = configFromArgs(args, io);
      const configFile = typeof args.options["config"] === "string" ? (args.options["config"] as string) : io.env.PILLARBOX_CONFIG || undefined;
      const dir = resolve(args.positionals[0]!);
      let r;
      try {
        r = await runBackup({ config, dir, configFile, prune: args.options["prune"] === true, progress: (l) => io.err(`${l}\n`) });
      } catch (e) {
        throw words(e);
      }
      const m = r.manifest;
      io.out(
        `backup written to ${dir}: ${m.counts.accounts} account(s), ${m.counts.messages} message(s); ` +
          `${m.blobs.referenced} blobs (${formatBytes(m.blobs.bytes)}), ${m.blobs.copied} copied, ${m.blobs.alreadyPresent} already there; ` +
          `${m.files.length} file(s); schema ${m.schema.latest}\n`,
      );
      if (r.pruned) io.out(`pruned ${r.pruned.removed} blob(s) (${formatBytes(r.pruned.bytes)}) no longer referenced\n`);
      if (r.pruned === null) io.err("--prune: the database's blob order could not be trusted; nothing was removed\n");
      if (r.problems.length) {
        for (const p of r.problems) io.err(`problem: ${p}\n`);
        io.err(`the data dir had ${m.blobs.missing + m.blobs.damaged} missing or damaged blob(s): this backup lacks them; run pillarbox check --blobs\n`);
        return 1;
      }
      return 0;
    },
  },
  {
    name: "restore",
    usage: "DIR --data-dir NEW [--database-url postgres://...]",
    summary: "restore a backup into an empty or new data dir",
    help:
      "Checks every byte on the way (database, blobs, files against their hashes) and refuses a data dir that\n" +
      "is not empty. A new dir is built beside NEW and renamed into place when complete. Run as root into an\n" +
      "existing empty dir, everything gets that dir's owner. Then start the server with --data-dir NEW.",
    options: {
      "data-dir": COMMON_OPTIONS["data-dir"]!,
      "database-url": { value: true, arg: "URL", help: "a backup of a PostgreSQL store: the empty database to restore into (default: $PILLARBOX_DATABASE_URL)" },
    },
    args: [1, 1],
    async run(args, io) {
      const target = typeof args.options["data-dir"] === "string" ? (args.options["data-dir"] as string) : io.env.PILLARBOX_DATA_DIR;
      if (!target) throw new UsageError("say where to restore: --data-dir NEW (an empty or new directory)", "restore");
      let r;
      try {
        const databaseUrl = typeof args.options["database-url"] === "string" ? (args.options["database-url"] as string) : io.env.PILLARBOX_DATABASE_URL;
        r = await runRestore(args.positionals[0]!, target, { databaseUrl, progress: (l) => io.err(`${l}\n`) });
      } catch (e) {
        throw words(e);
      }
      io.out(
        `restored the backup of ${r.manifest.hostname} taken ${r.manifest.createdAt} into ${r.dataDir}: ` +
          `${r.manifest.counts.messages} message(s), ${r.blobs} blobs (${formatBytes(r.bytes)}), ${r.files} file(s)\n`,
      );
      for (const x of r.external) io.out(`note: ${x.path} was ${x.origin} (outside the data dir): put it back there or point the config at it\n`);
      if (process.getuid?.() === 0 && statSync(r.dataDir).uid === 0) {
        io.out(`note: ${r.dataDir} belongs to root; give it to the user the server runs as first, e.g. chown -R pillarbox: ${r.dataDir}\n`);
      }
      const pgNote = r.manifest.engine === "postgres" ? "PILLARBOX_DATABASE_URL=<the URL restored into> " : "";
      io.out(`start the server with: ${pgNote}pillarbox serve --data-dir ${r.dataDir}\n`);
    },
  },
  {
    name: "verify",
    usage: "DIR",
    summary: "check a backup: manifest, database integrity, every referenced blob present and matching its hash",
    help: "Reads the whole backup. Exit code 0 when it is restorable, 1 with the list of what is wrong.",
    args: [1, 1],
    async run(args, io) {
      const dir = resolve(args.positionals[0]!);
      let report;
      try {
        report = await verifyBackup(dir, { progress: (l) => io.err(`${l}\n`) });
      } catch (e) {
        throw words(e);
      }
      for (const l of report.ok) io.out(`ok    ${l}\n`);
      for (const l of report.problems) io.out(`FAIL  ${l}\n`);
      io.out(report.problems.length ? `${dir}: ${report.problems.length} problem(s): this backup is not restorable as it is\n` : `${dir}: backup verified\n`);
      return report.problems.length ? 1 : 0;
    },
  },
];
