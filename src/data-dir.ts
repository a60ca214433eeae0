/**
 * Opening the data dir from an admin command: who owns it, and can we write it.
 *
 * Issue 18, found item 8: `pillarbox quickstart` (or `user add`, ...) run as
 * root on the service user's data dir used to create root-owned files
 * (pillarbox.toml, the database's -wal/-shm, blobs, the driver cache) that the
 * service then could not open (EACCES); the reverse, the service user on a
 * root-owned dir, ended in libsql's `ConnectionFailed(...: 14)` (SQLITE_CANTOPEN).
 *
 * - Run as root on a data dir owned by another user, an admin command becomes
 *   that user (its uid and the dir's gid) before it touches anything: every
 *   file it creates belongs to the owner, exactly as if `sudo -u` had been
 *   used, and root never writes through a directory another user controls.
 * - Run as a user who cannot write the data dir or a file in it, the command
 *   stops with the directory, the owner and the two commands that fix it.
 */
import { accessSync, constants, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

export class DataDirError extends Error {}

/** `name (uid N)` from /etc/passwd when the uid has an entry there, else `uid N`. */
export function userName(uid: number): string {
  try {
    for (const line of readFileSync("/etc/passwd", "utf8").split("\n")) {
      const f = line.split(":");
      if (f.length > 3 && Number(f[2]) === uid && f[2] !== "") return `${f[0]} (uid ${uid})`;
    }
  } catch {
    // no /etc/passwd (a distroless image): the number alone
  }
  return `uid ${uid}`;
}

function currentUid(): number | null {
  return typeof process.getuid === "function" ? process.getuid() : null;
}

export interface DataDirInfo {
  /** The data dir's owner and group. */
  uid: number;
  gid: number;
  /** True when this process switched from root to the owner. */
  switchedUser: boolean;
}

/**
 * Creates the data dir when missing (0700), becomes its owner when running as
 * root on another user's dir, and checks that the dir and every entry at its
 * top level the store writes (database, WAL/SHM, blobs, keys) is writable
 * and the rest (config, certificates) readable.
 */
export function prepareDataDir(dataDir: string, opts: { adoptOwner?: boolean } = {}): DataDirInfo {
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const words: Record<string, string> = { EACCES: "permission denied", EROFS: "read-only file system", ENOTDIR: "a path component is not a directory", ENOSPC: "no space left on device" };
    throw new DataDirError(
      `cannot create the data dir ${dataDir}: ${words[code] ?? (e as Error).message} (${code}); create it (mkdir -p ${dataDir}) as the user the server runs as, or choose another with --data-dir`,
    );
  }
  const st = statSync(dataDir);
  if (!st.isDirectory()) throw new DataDirError(`the data dir ${dataDir} is not a directory`);
  let switchedUser = false;
  const me = currentUid();
  if (me === 0 && st.uid !== 0 && opts.adoptOwner !== false) {
    // Group first: after setuid a process may no longer change its groups.
    process.setgroups?.([st.gid]);
    process.setgid?.(st.gid);
    process.setuid?.(st.uid);
    switchedUser = true;
  }
  checkWritable(dataDir, st.uid, st.gid);
  return { uid: st.uid, gid: st.gid, switchedUser };
}

function checkWritable(dataDir: string, ownerUid: number, ownerGid: number): void {
  const denied: string[] = [];
  const test = (path: string, mode: number) => {
    try {
      accessSync(path, mode);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? "error";
      if (code === "ENOENT") return; // vanished in between: nothing to write over
      denied.push(`${path} (${code})`);
    }
  };
  test(dataDir, constants.W_OK | constants.X_OK | constants.R_OK);
  if (denied.length === 0) {
    for (const name of readdirSync(dataDir)) {
      // The store writes its database files and blob/key folders; the rest (config, certificates) it only reads.
      const writes = /\.db(-wal|-shm|-journal)?$|^(blobs|keys|\.cache)$/.test(name);
      test(join(dataDir, name), writes ? constants.R_OK | constants.W_OK : constants.R_OK);
      if (denied.length >= 5) break;
    }
  }
  if (denied.length === 0) return;
  const me = currentUid();
  const who = me === null ? "this user" : userName(me);
  if (me === ownerUid && denied[0]?.startsWith(`${dataDir} (`)) {
    // The owner cannot reach its own dir: a directory above it is closed to it.
    throw new DataDirError(
      `${who} owns the data dir ${dataDir} but cannot reach it: ${denied.join(", ")}. A directory above it is closed to this user; ` +
        `open the path to it (chmod o+x on each parent directory) or move the data dir to where the user can reach it (e.g. /var/lib/pillarbox)`,
    );
  }
  if (me === ownerUid) {
    throw new DataDirError(
      `${who} owns the data dir ${dataDir} but cannot write: ${denied.join(", ")}.\n` +
        `Some of its files belong to another user (an admin command run as root before?). Give them back: chown -R ${ownerUid}:${ownerGid} ${dataDir}`,
    );
  }
  const myGid = typeof process.getgid === "function" ? process.getgid() : ownerGid;
  throw new DataDirError(
    `${who} cannot write the data dir: ${denied.join(", ")}.\n` +
      `The data dir ${dataDir} belongs to ${userName(ownerUid)}. Run the command as that user (sudo -u '#${ownerUid}' pillarbox ...), ` +
      `or give the data dir to this user: chown -R ${me ?? ownerUid}:${myGid} ${dataDir}`,
  );
}
