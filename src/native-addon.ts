/**
 * The native addon of the single binary (libsql's SQLite driver), loaded from
 * a cache directory we choose instead of Bun's `$TMPDIR/.bun-<uid>-<hash>.node`.
 *
 * Only the compiled binary uses this module: scripts/build.ts embeds the addon
 * as a plain file (loader "file") and rewrites libsql's platform `require` to
 * `lazyNativeAddon(<embedded path>, <sha256>)`. Run from the sources
 * (`bun src/main.ts`), libsql loads its addon from node_modules as usual.
 *
 * Why: Bun extracts an embedded `.node` into `$TMPDIR` when it is required,
 * so an unwritable TMPDIR crashed even `pillarbox --version` with a stack
 * trace, and every user left a 9.7 MB copy in /tmp. Here:
 * - nothing is extracted until the first database call (libsql's binding is
 *   a set of functions; each one loads the addon on first use), so `--version`
 *   and `--help` never touch the disk;
 * - the addon goes, once, to `<data dir>/.cache/` (the CLI and the server say
 *   where the data dir is before opening the store, see setNativeCacheDir),
 *   else `$PILLARBOX_CACHE_DIR`, `$XDG_CACHE_HOME/pillarbox`,
 *   `~/.cache/pillarbox`, then `$TMPDIR/pillarbox-<uid>`; its name carries
 *   the content hash, so later runs reuse it and a new build writes a new one;
 *   directories are 0700, the file 0500, written to a temporary name and
 *   renamed (never half-written under the final name);
 * - when no directory works, the error says each directory tried, the errno
 *   in words and what to set.
 */
import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";

let dataDirCache: string | null = null;

/** Where the data dir is: the addon is cached in `<dataDir>/.cache` (first choice). */
export function setNativeCacheDir(dataDir: string): void {
  dataDirCache = join(dataDir, ".cache");
}

const ERRNO_WORDS: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOENT: "does not exist",
  ENOTDIR: "a path component is not a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EEXIST: "exists and is not a directory",
  ERR_DLOPEN_FAILED: "the system could not load it",
};

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  const code = err?.code ?? "";
  const words = ERRNO_WORDS[code];
  return code ? `${code}${words ? ` (${words})` : ""}` : String(err?.message ?? e);
}

function uid(): number {
  return typeof process.getuid === "function" ? process.getuid() : 0;
}

/** The directories tried, best first. */
export function nativeCacheCandidates(env: Record<string, string | undefined> = process.env): string[] {
  const list: string[] = [];
  if (dataDirCache) list.push(dataDirCache);
  if (env.PILLARBOX_CACHE_DIR) list.push(env.PILLARBOX_CACHE_DIR);
  if (env.XDG_CACHE_HOME) list.push(join(env.XDG_CACHE_HOME, "pillarbox"));
  let home = env.HOME;
  if (!home) {
    try {
      home = homedir();
    } catch {
      home = undefined;
    }
  }
  if (home) list.push(join(home, ".cache", "pillarbox"));
  list.push(join(env.TMPDIR || tmpdir(), `pillarbox-${uid()}`));
  return [...new Set(list)];
}

/** The addon's exports: a copy in `dir` named by its hash (written when absent), then dlopen. */
function loadFrom(dir: string, name: string, embeddedPath: string, sha256: string): Record<string, unknown> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, `${name}-${sha256.slice(0, 16)}.node`);
  let present = false;
  try {
    present = statSync(file).isFile();
  } catch {
    present = false;
  }
  if (present) {
    try {
      return dlopen(file);
    } catch {
      // A copy that does not load (damaged on disk, another build's under a clashing name): replaced below.
      rmSync(file, { force: true });
    }
  }
  const bytes = readFileSync(embeddedPath);
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    chmodSync(tmp, 0o500);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return dlopen(file);
}

function dlopen(file: string): Record<string, unknown> {
  const mod = { exports: {} as Record<string, unknown> };
  // process.dlopen loads a Node-API addon from a real path (node:process, also in Bun and Deno).
  process.dlopen(mod as unknown as { exports: unknown }, file);
  return mod.exports;
}

function loadNow(name: string, embeddedPath: string, sha256: string): Record<string, unknown> {
  const failures: string[] = [];
  for (const dir of nativeCacheCandidates()) {
    try {
      return loadFrom(dir, name, embeddedPath, sha256);
    } catch (e) {
      failures.push(`${dir}: ${describe(e)}`);
    }
  }
  throw new Error(
    `cannot unpack the SQLite driver (${name} native addon) into any cache directory:\n  ${failures.join("\n  ")}\n` +
      "Make the data dir writable for this user, or set PILLARBOX_CACHE_DIR (or XDG_CACHE_HOME, or TMPDIR) to a writable directory.",
  );
}

/**
 * libsql's binding, loaded on first use: an object whose every function
 * loads the addon (once) and calls the real one. libsql only takes functions
 * from its binding (it destructures them when its module loads).
 */
const loaded = new Map<string, Record<string, unknown>>();

export function lazyNativeAddon(embeddedPath: string, sha256: string, name = "libsql"): Record<string, unknown> {
  let real: Record<string, unknown> | null = null;
  // One load per addon even when several modules bind it (libsql's index.js and promise.js).
  const get = (): Record<string, unknown> => {
    if (real) return real;
    let m = loaded.get(sha256);
    if (!m) {
      m = loadNow(name, embeddedPath, sha256);
      loaded.set(sha256, m);
    }
    return (real = m);
  };
  const cache = new Map<string, unknown>();
  return new Proxy({} as Record<string, unknown>, {
    get(_t, prop) {
      if (typeof prop !== "string") return undefined;
      if (real) return real[prop];
      let f = cache.get(prop);
      if (!f) {
        f = function (this: unknown, ...args: unknown[]) {
          const target = get()[prop];
          if (typeof target !== "function") throw new TypeError(`${name} native addon has no function ${prop}`);
          return (target as (...a: unknown[]) => unknown).apply(this, args);
        };
        cache.set(prop, f);
      }
      return f;
    },
  });
}
