/**
 * Helpers shared by the admin commands: loading the configuration, opening
 * the store on the data dir (safe while a server runs on it: libSQL WAL
 * locking), reading passwords, validating addresses.
 */
import { randomBytes } from "node:crypto";
import { loadConfig, type Config } from "../config.ts";
import { createLogger } from "../log.ts";
import { setNativeCacheDir } from "../native-addon.ts";
import { DataDirError, prepareDataDir } from "../data-dir.ts";
import type { MailStore } from "../../storage/api.ts";
import { addressProblem } from "../../storage/names.ts";
import { openStorage, type Storage } from "../../storage/open.ts";
import { passwordHasher } from "../auth.ts";
import { CliError, UsageError, type ParsedArgs } from "./args.ts";
import type { CliIO } from "./command.ts";

/** Config from the common options (--config, --data-dir, --database-url) plus the environment. */
export function configFromArgs(args: ParsedArgs, io: CliIO, extraFlags: Record<string, string> = {}): Config {
  const flags: Record<string, string> = { ...extraFlags };
  for (const k of ["data-dir", "database-url"]) {
    const v = args.options[k];
    if (typeof v === "string") flags[k] = v;
  }
  const file = typeof args.options["config"] === "string" ? (args.options["config"] as string) : undefined;
  const config = loadConfig({ file, env: io.env, flags });
  setNativeCacheDir(config.dataDir);
  return config;
}

/** Opens the storage (every store on one connection), runs `fn`, closes it. */
export async function withStore<T>(args: ParsedArgs, io: CliIO, fn: (store: MailStore, config: Config, storage: Storage) => Promise<T>): Promise<T> {
  const config = configFromArgs(args, io);
  // Creates the data dir if needed; as root on the service user's data dir, becomes that user
  // so every file made here belongs to it; a dir we cannot write is refused in words (src/data-dir.ts).
  try {
    prepareDataDir(config.dataDir);
  } catch (e) {
    if (e instanceof DataDirError) throw new CliError(e.message);
    throw e;
  }
  const storage = await openStorage({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    authToken: config.databaseAuthToken,
    log: createLogger(config.log.level === "debug" ? "debug" : "warn"),
    hasher: passwordHasher,
  });
  try {
    return await fn(storage.mail, config, storage);
  } finally {
    await storage.close();
  }
}

/** A random password: 20 characters from 120 bits, no look-alike ambiguity issues in base64url. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url");
}

/** First line of stdin, without its line ending. */
export async function passwordFromStdin(io: CliIO): Promise<string> {
  const text = await io.readStdin();
  const line = text.split(/\r?\n/)[0] ?? "";
  if (line === "") throw new UsageError("--password-stdin: no password on standard input");
  return line;
}

const EMAIL_RE = /^[^\s@<>()",;:\\[\]]+@[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;
const DOMAIN_RE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/i;

/**
 * An address for a new account or alias: RFC 5321 §4.1.2 (storage/names.ts addressProblem, which the
 * store enforces too), checked here for a usage error in words before the store opens. Lookups use
 * checkEmail, so an account made before this check (e.g. `.bob@...`) can still be found and removed.
 */
export function checkNewAddress(email: string, command: string): string {
  const checked = checkEmail(email, command);
  const problem = addressProblem(email);
  if (problem) throw new UsageError(`not a valid address for a mailbox: ${problem}`, command);
  return checked;
}

export function checkEmail(email: string, command: string): string {
  if (!EMAIL_RE.test(email)) throw new UsageError(`not an email address: ${JSON.stringify(email)}`, command);
  return email.toLowerCase();
}

export function checkDomain(name: string, command: string): string {
  const d = name.toLowerCase().replace(/\.$/, "");
  if (!DOMAIN_RE.test(d)) throw new UsageError(`not a domain name: ${JSON.stringify(name)}`, command);
  return d;
}

export function parseBytes(v: string, command: string): number | null {
  if (/^(none|unlimited)$/i.test(v)) return null;
  const m = /^(\d+)\s*([kmgt]i?b?)?$/i.exec(v.trim());
  if (!m) throw new UsageError(`not a size: ${JSON.stringify(v)} (use e.g. 500M, 2G, 1048576 or none)`, command);
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? "").charAt(0).toLowerCase()] ?? 1;
  return Number(m[1]) * mult;
}

export function formatBytes(n: number | null): string {
  if (n === null) return "unlimited";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(v >= 10 ? 0 : 1)} ${units[i]}`;
}

export function yesNo(v: string | true, name: string, command: string): boolean {
  if (typeof v === "string") {
    if (/^(yes|y|true|1|on)$/i.test(v)) return true;
    if (/^(no|n|false|0|off)$/i.test(v)) return false;
  }
  throw new UsageError(`--${name} takes yes or no`, command);
}

/** Left-aligned columns. */
export function table(rows: string[][]): string {
  if (rows.length === 0) return "";
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n") + "\n";
}

export { CliError, UsageError };
