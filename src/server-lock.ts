/**
 * One `pillarbox serve` per data dir (issue 18, found item 11: a second serve
 * on the same data dir started without a word, and both then delivered,
 * expired and ran the queue on the same database).
 *
 * The lock is `<data dir>/pillarbox.pid`, created with O_EXCL, holding the
 * server's pid and its start time from /proc/<pid>/stat (field 22, clock ticks
 * since boot). A lock is live when that process exists and, where /proc is
 * readable, started at the recorded time: a pid reused after a crash (or pid 1
 * again in a restarted container) does not count. A stale lock is replaced.
 * readServerPid() serves `pillarbox reload` and status output.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";

export const LOCK_FILE = "pillarbox.pid";

export class ServerLockedError extends Error {
  constructor(
    readonly pid: number,
    readonly dataDir: string,
  ) {
    super(
      `another pillarbox server (pid ${pid}) is already running on the data dir ${dataDir}; ` +
        `stop it first (kill ${pid}, or systemctl stop pillarbox), or give this one another --data-dir`,
    );
  }
}

/** Fields 3 (state) and 22 (start time) of /proc/<pid>/stat, or null where /proc is not available. */
function procStat(pid: number): { state: string; start: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state: fields[0] ?? "", start: fields[19] ?? "" }; // field 3 = index 0, field 22 = index 19
  } catch {
    return null;
  }
}

function startTime(pid: number): string | null {
  return procStat(pid)?.start || null;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"; // exists, owned by someone else
  }
}

interface LockContent {
  pid: number;
  start: string | null;
}

function readLock(dataDir: string): LockContent | null {
  let text: string;
  try {
    text = readFileSync(join(dataDir, LOCK_FILE), "utf8");
  } catch {
    return null;
  }
  const m = /^(\d{1,10})(?: (\S+))?\s*$/.exec(text);
  if (!m) return { pid: 0, start: null }; // unreadable content: treated as stale
  return { pid: Number(m[1]), start: m[2] && m[2] !== "-" ? m[2] : null };
}

function isLive(lock: LockContent): boolean {
  if (lock.pid <= 0 || lock.pid === process.pid) return false;
  if (!alive(lock.pid)) return false;
  const now = procStat(lock.pid);
  if (now === null) return true; // no /proc: the pid is alive, trust it
  // A zombie (killed, not yet reaped by its parent) holds no data dir; another start time is another process.
  if (now.state === "Z" || now.state === "X") return false;
  return lock.start === null || now.start === lock.start;
}

/** The pid of the server running on this data dir, or null when none is. */
export function readServerPid(dataDir: string): number | null {
  const lock = readLock(dataDir);
  return lock && isLive(lock) ? lock.pid : null;
}

export interface ServerLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. Idempotent. */
  release(): void;
}

/** Takes the data dir's server lock or throws ServerLockedError naming the running server's pid. */
export function acquireServerLock(dataDir: string): ServerLock {
  const path = join(dataDir, LOCK_FILE);
  const content = `${process.pid} ${startTime(process.pid) ?? "-"}\n`;
  // Two rounds: the second after removing a stale lock (another starter may win that race: then we refuse).
  for (let round = 0; round < 2; round++) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, content);
      } finally {
        closeSync(fd);
      }
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        const now = readLock(dataDir);
        if (now && now.pid === process.pid) rmSync(path, { force: true });
      };
      process.once("exit", release);
      return { path, release };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      const lock = readLock(dataDir);
      if (lock && isLive(lock)) throw new ServerLockedError(lock.pid, dataDir);
      if (round === 0) rmSync(path, { force: true }); // stale: the previous server crashed
    }
  }
  const lock = readLock(dataDir);
  throw new ServerLockedError(lock?.pid ?? 0, dataDir);
}
