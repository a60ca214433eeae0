/**
 * Backups of a PostgreSQL store, driven through PostgreSQL's own tools:
 * `pg_dump --format=custom --snapshot=ID` inside an exported REPEATABLE READ
 * snapshot (storage/backup-pg.ts) whose referenced blob ids are read in the
 * same transaction and written to a list (a dump cannot be read without a
 * server, so `verify` checks blobs against that list), and `pg_restore` into
 * an empty database for `restore`. The password never appears on a command
 * line (PGPASSWORD in the child's environment).
 */
import { spawn } from "node:child_process";
import { createReadStream, promises as fsp } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { preparePgRestoreTarget, withPgSnapshot } from "../../storage/backup-pg.ts";
import { redactDbUrl } from "../../storage/db.ts";
import { splitSchema } from "../../storage/pg-db.ts";
import { BackupError, type TakenSnapshot } from "./backup.ts";
import { copyReferencedBlobs } from "./copy-blobs.ts";
import { fsyncDir, hashFile } from "./files.ts";

/** libpq's view of our URL: no `schema` parameter (ours), no password (it goes in PGPASSWORD). */
function libpqTarget(url: string): { uri: string; password: string | null; schema: string | null } {
  const { url: plain, schema } = splitSchema(url);
  const u = new URL(plain);
  const password = u.password ? decodeURIComponent(u.password) : null;
  u.password = "";
  return { uri: u.toString(), password, schema };
}

/** Runs a PostgreSQL client tool; rejects in words with (the end of) its stderr. */
function runTool(tool: string, args: string[], password: string | null): Promise<void> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...(password !== null ? { PGPASSWORD: password } : {}) };
    const child = spawn(tool, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err = (err + d.toString("utf8")).slice(-4000);
    });
    child.on("error", (e) => {
      const code = (e as NodeJS.ErrnoException).code;
      reject(new BackupError(code === "ENOENT" ? `${tool} is not installed: install PostgreSQL's client tools (Debian: apt install postgresql-client) in the version of the server or newer` : `${tool}: ${e.message}`));
    });
    child.on("close", (code, signal) => {
      if (code === 0) resolve();
      else reject(new BackupError(`${tool} failed (${signal ?? `exit code ${code}`}): ${err.trim().split("\n").slice(-3).join(" / ") || "no message"}`));
    });
  });
}

/** Steps 2 and 3 on PostgreSQL: dump the exported snapshot, list and copy the blobs it references. */
export async function pgSnapshotAndBlobs(url: string, dir: string, dbName: string, listName: string, dataDir: string, progress: (l: string) => void): Promise<TakenSnapshot> {
  const target = libpqTarget(url);
  const listTmp = join(dir, `.tmp-${listName}`);
  let taken: Omit<TakenSnapshot, "blobList">;
  try {
    taken = await withPgSnapshot(url, async (snap) => {
      const args = ["--format=custom", `--snapshot=${snap.id}`, "--no-owner", "--no-privileges", `--file=${join(dir, dbName)}`];
      if (target.schema) args.push(`--schema=${target.schema}`);
      args.push(`--dbname=${target.uri}`);
      await runTool("pg_dump", args, target.password);
      progress(`database dumped with pg_dump (${dbName})`);
      const schema = await snap.schemaVersions();
      const counts = await snap.counts();
      const list = await fsp.open(listTmp, "w", 0o600);
      try {
        const pages = async function* () {
          for await (const ids of snap.referencedBlobIds()) {
            await list.write(ids.join("\n") + "\n");
            yield ids;
          }
        };
        const copied = await copyReferencedBlobs(pages(), dataDir, dir, progress);
        await list.sync();
        return { schema, counts, ...copied };
      } finally {
        await list.close();
      }
    });
  } catch (e) {
    await fsp.unlink(listTmp).catch(() => {});
    if (e instanceof BackupError) throw e;
    throw new BackupError(`PostgreSQL snapshot of ${redactDbUrl(url)} failed: ${(e as Error).message}`);
  }
  await fsp.rename(listTmp, join(dir, listName));
  await fsyncDir(dir);
  const h = await hashFile(join(dir, listName));
  return { ...taken, pgSchema: target.schema, blobList: { file: listName, sha256: h.sha256, count: taken.blobs.referenced } };
}

/** The ids of a blob list file, a page at a time. */
export async function* blobListPages(path: string, pageSize = 1000): AsyncGenerator<string[]> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  let page: string[] = [];
  for await (const line of lines) {
    if (!line) continue;
    page.push(line.slice(0, 200));
    if (page.length >= pageSize) {
      yield page;
      page = [];
    }
  }
  if (page.length) yield page;
}

/** Whether pg_restore can read the archive's table of contents (null: pg_restore is not installed). */
export async function pgArchiveReadable(file: string): Promise<string | null> {
  try {
    await runTool("pg_restore", ["--list", file], null);
    return "ok";
  } catch (e) {
    const m = (e as Error).message;
    if (m.includes("is not installed")) return null;
    return m;
  }
}

/** Restores a dump into the empty database (schema) at `url` with pg_restore. */
export async function pgRestore(file: string, url: string, dumpedSchema: string | null): Promise<void> {
  const target = libpqTarget(url);
  if ((target.schema ?? null) !== (dumpedSchema ?? null)) {
    throw new BackupError(
      `the backup holds the schema ${dumpedSchema ?? "(default)"} but --database-url names ${target.schema ?? "(default)"}: a dump restores into the schema it was taken from; use ${dumpedSchema ? `?schema=${dumpedSchema}` : "a URL without ?schema="} on an empty database`,
    );
  }
  const prep = await preparePgRestoreTarget(url);
  if (!prep.empty) throw new BackupError(`the database ${redactDbUrl(url)} is not empty (tables ${prep.tables.join(", ")}): restore only into an empty database`);
  const args = ["--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", `--dbname=${target.uri}`, file];
  await runTool("pg_restore", args, target.password);
}
