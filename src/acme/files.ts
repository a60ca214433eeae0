/**
 * The ACME state in the data dir: `acme/` (0700) holds the account key and
 * account URL, the certificate key (kept across renewals, so a DANE TLSA
 * 3 1 1 record stays valid), the certificate chain and the renewal state.
 * Every file is written to a temporary name, fsynced and renamed into place:
 * a crash never leaves a half-written key or certificate.
 */
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export interface AcmePaths {
  dir: string;
  accountKey: string;
  account: string;
  certKey: string;
  cert: string;
  state: string;
}

export function acmePaths(dataDir: string): AcmePaths {
  const dir = join(dataDir, "acme");
  return {
    dir,
    accountKey: join(dir, "account-key.pem"),
    account: join(dir, "account.json"),
    certKey: join(dir, "key.pem"),
    cert: join(dir, "cert.pem"),
    state: join(dir, "state.json"),
  };
}

export function ensureDir(p: AcmePaths): void {
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  chmodSync(p.dir, 0o700);
}

/** Writes atomically; secrets get 0600. */
export function writeFileAtomic(path: string, data: string, mode: number): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", mode);
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, path);
}

export function readIfExists(path: string): string | null {
  return existsSync(path) ? readFileSync(path, "utf8") : null;
}

/** What survives a restart besides the keys and the certificate. */
export interface AcmeState {
  directoryUrl: string | null;
  accountUrl: string | null;
  failures: number;
  lastError: string | null;
  lastAttemptAt: number | null;
}

export function readState(p: AcmePaths): AcmeState {
  const empty: AcmeState = { directoryUrl: null, accountUrl: null, failures: 0, lastError: null, lastAttemptAt: null };
  try {
    const raw = readIfExists(p.state);
    if (!raw) return empty;
    const v = JSON.parse(raw) as Partial<AcmeState>;
    return {
      directoryUrl: typeof v.directoryUrl === "string" ? v.directoryUrl : null,
      accountUrl: typeof v.accountUrl === "string" ? v.accountUrl : null,
      failures: typeof v.failures === "number" && v.failures >= 0 ? Math.min(v.failures, 1000) : 0,
      lastError: typeof v.lastError === "string" ? v.lastError.slice(0, 2000) : null,
      lastAttemptAt: typeof v.lastAttemptAt === "number" ? v.lastAttemptAt : null,
    };
  } catch {
    return empty; // unreadable state: start over (the keys are separate files)
  }
}

export function writeState(p: AcmePaths, s: AcmeState): void {
  writeFileAtomic(p.state, JSON.stringify(s, null, 2) + "\n", 0o600);
}
