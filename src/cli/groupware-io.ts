/**
 * What `pillarbox calendar import|export` and `pillarbox contacts
 * import|export` share: opening the groupware service on the CLI's store,
 * reading the file (or stdin) within a size limit, the progress line, and
 * the import loop that writes each object through `putObject` (schedule
 * off: an import never sends invitations), updating the resource that
 * already holds a UID instead of duplicating it, and reporting bad objects
 * by position without stopping the rest.
 */
import { createHash } from "node:crypto";
import { closeSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import type { Account, MailStore } from "../../storage/api.ts";
import { createGroupware } from "../groupware/index.ts";
import type { Collection, CollectionKind, Groupware } from "../groupware/types.ts";
import { GroupwareError } from "../groupware/types.ts";
import { createLogger } from "../log.ts";
import { CliError } from "./args.ts";
import type { CliIO } from "./command.ts";

/** Largest file an import reads (it is held in memory while split). */
export const MAX_IMPORT_BYTES = 256 * 1024 * 1024;

/** The groupware service on the CLI's store connection (no scheduler: imports never schedule). */
export function openGroupware(store: MailStore): Groupware {
  return createGroupware(store, { log: createLogger("warn") });
}

export async function accountOf(store: MailStore, email: string): Promise<Account> {
  const a = await store.getAccount(email);
  if (!a) throw new CliError(`no such account: ${email}`);
  return a;
}

/** The whole input file ("-" = standard input) as text, refusing files over MAX_IMPORT_BYTES. */
export async function readInput(file: string, io: CliIO): Promise<string> {
  if (file === "-") {
    const text = await io.readStdin();
    if (text.length > MAX_IMPORT_BYTES) throw new CliError(`standard input is larger than ${MAX_IMPORT_BYTES >> 20} MiB`);
    return text;
  }
  let size: number;
  try {
    size = statSync(file).size;
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  if (size > MAX_IMPORT_BYTES) throw new CliError(`${file} is larger than ${MAX_IMPORT_BYTES >> 20} MiB; split it and import the parts`);
  return readFileSync(file, "utf8");
}

/**
 * Writes an export piece by piece: to FILE through a temporary file renamed
 * at the end (an interrupted export never leaves a truncated FILE), or to
 * standard output for "-".
 */
export class OutputFile {
  private fd: number | null = null;
  private tmp = "";
  bytes = 0;
  constructor(
    private readonly file: string,
    private readonly io: CliIO,
  ) {
    if (file !== "-") {
      this.tmp = `${file}.tmp-${process.pid}`;
      try {
        this.fd = openSync(this.tmp, "w", 0o600);
      } catch (e) {
        throw new CliError(`cannot write ${file}: ${(e as Error).message}`);
      }
    }
  }
  write(text: string | Uint8Array): void {
    const bytes = typeof text === "string" ? Buffer.from(text, "utf8") : text;
    this.bytes += bytes.length;
    if (this.fd === null) this.io.out(Buffer.from(bytes).toString("utf8"));
    else writeSync(this.fd, bytes);
  }
  commit(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    renameSync(this.tmp, this.file);
  }
  abort(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
    rmSync(this.tmp, { force: true });
  }
}

/**
 * A progress line on stderr every 500 objects or each second, whichever
 * comes first; on a terminal the line is rewritten in place (\r).
 */
export class Progress {
  private last = Date.now();
  private shown = false;
  private readonly tty = process.stderr.isTTY === true;
  constructor(
    private readonly io: CliIO,
    private readonly label: string,
    private readonly total: number,
  ) {}
  private count = 0;
  private printed = -1;
  tick(done: number): void {
    this.count = done;
    const now = Date.now();
    if (done % 500 !== 0 && now - this.last < 1000) return;
    this.last = now;
    this.print(done);
  }
  private print(done: number): void {
    this.shown = true;
    this.printed = done;
    const pct = this.total > 0 ? Math.floor((done * 100) / this.total) : 100;
    const line = `${this.label}: ${done}/${this.total} (${pct}%)`;
    this.io.err(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }
  /** Once a line was shown, the final count is shown too (and a terminal's line is ended). */
  done(): void {
    if (!this.shown) return;
    if (this.printed !== this.count) this.print(this.count);
    if (this.tty) this.io.err("\n");
  }
}

/** One object of an import file. */
export interface ImportEntry {
  /** Where it is in the file, for messages: "object 12 (line 340)". */
  position: string;
  text: string;
  /** Its UID, or null when it has none (the service then refuses it with a clear reason). */
  uid: string | null;
}

export interface ImportResult {
  imported: number;
  updated: number;
  unchanged: number;
  skipped: { position: string; reason: string }[];
}

/** UID of an iCalendar or vCard text: the first UID property (RFC 5545 §3.8.4.7, RFC 6350 §6.7.6), unfolded. */
export function uidOf(text: string): string | null {
  const m = /^(?:[A-Za-z0-9-]+\.)?UID(?:;[^:\r\n]*)?:(.*(?:\r?\n[ \t].*)*)/im.exec(text);
  if (!m) return null;
  const v = m[1]!.replace(/\r?\n[ \t]/g, "").replace(/\r$/, "").trim();
  return v === "" ? null : v;
}

/** A resource name for a new object: the UID when it is URL-safe, else a hash of it (RFC 4791 §5.3.2 leaves names to the client). */
function nameFor(uid: string, ext: string, taken: Set<string>): string {
  const base = /^[A-Za-z0-9][A-Za-z0-9._@+-]{0,150}$/.test(uid) ? uid : createHash("sha256").update(uid).digest("hex").slice(0, 32);
  let name = `${base}${ext}`;
  for (let n = 2; taken.has(name); n++) name = `${base}-${n}${ext}`;
  return name;
}

/** What an import knows about a target collection: UID -> resource name, and the names in use. */
interface TargetIndex {
  byUid: Map<string, string>;
  names: Set<string>;
}

async function indexOf(gw: Groupware, c: Collection): Promise<TargetIndex> {
  const byUid = new Map<string, string>();
  const names = new Set<string>();
  for (const o of await gw.listObjects(c)) {
    names.add(o.resourceName);
    const f = o.item.fields as { uid?: string };
    if (typeof f.uid === "string" && f.uid !== "") byUid.set(f.uid, o.resourceName);
  }
  return { byUid, names };
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.from(a).equals(Buffer.from(b));

/**
 * Puts each entry into the collection `target(entry)` chooses (null = skip
 * with the reason it returns in `why`). An entry whose UID is already in the
 * collection replaces that resource (or is left alone when byte-identical).
 */
export async function importEntries(
  gw: Groupware,
  entries: ImportEntry[],
  target: (e: ImportEntry) => Collection | string,
  ext: string,
  progress: Progress,
): Promise<ImportResult> {
  const result: ImportResult = { imported: 0, updated: 0, unchanged: 0, skipped: [] };
  const indexes = new Map<number, TargetIndex>();
  let done = 0;
  for (const e of entries) {
    const c = target(e);
    if (typeof c === "string") result.skipped.push({ position: e.position, reason: c });
    else {
      let idx = indexes.get(c.id);
      if (!idx) indexes.set(c.id, (idx = await indexOf(gw, c)));
      const body = Buffer.from(e.text, "utf8");
      const existing = e.uid !== null ? idx.byUid.get(e.uid) : undefined;
      try {
        if (existing !== undefined) {
          const old = await gw.getObject(c, existing);
          if (old && sameBytes(await gw.readBody(old), body)) {
            result.unchanged++;
          } else {
            await gw.putObject(c, existing, body, { schedule: false });
            result.updated++;
          }
        } else {
          const name = nameFor(e.uid ?? createHash("sha256").update(e.text).digest("hex"), ext, idx.names);
          await gw.putObject(c, name, body, { schedule: false, ifNoneMatch: "*" });
          idx.names.add(name);
          if (e.uid !== null) idx.byUid.set(e.uid, name);
          result.imported++;
        }
      } catch (err) {
        const reason = err instanceof GroupwareError ? `${err.message}${err.code === "UID_CONFLICT" && err.conflict ? ` (held by ${err.conflict})` : ""}` : `error: ${(err as Error)?.message ?? String(err)}`;
        result.skipped.push({ position: e.position, reason });
      }
    }
    progress.tick(++done);
  }
  progress.done();
  return result;
}

/** At most this many skipped objects are listed one per line; the rest are counted. */
const MAX_LISTED = 200;

/** Prints the summary (stdout) and each skipped object with its reason (stderr); returns the exit code: 1 when anything was skipped. */
export function printSummary(io: CliIO, what: string, where: string, r: ImportResult, extra: string[] = []): number {
  r.skipped.slice(0, MAX_LISTED).forEach((s) => io.err(`skipped ${s.position}: ${s.reason}\n`));
  if (r.skipped.length > MAX_LISTED) io.err(`... and ${r.skipped.length - MAX_LISTED} more skipped\n`);
  const parts = [`${r.imported} imported`, `${r.updated} updated`, `${r.unchanged} unchanged`, `${r.skipped.length} skipped`];
  io.out(`${what} into ${where}: ${parts.join(", ")}\n`);
  for (const line of extra) io.out(`${line}\n`);
  return r.skipped.length > 0 ? 1 : 0;
}

/** The collection NAME of `kinds`, created (as `createAs`) when missing; or the account's default collection of `fallback`. */
export async function collectionFor(
  gw: Groupware,
  account: Account,
  name: string | undefined,
  kinds: CollectionKind[],
  createAs: CollectionKind,
  io: CliIO,
): Promise<Collection> {
  await gw.ensureDefaults(account);
  if (name === undefined) {
    const c = (await gw.listCollections(account, createAs)).find((x) => x.isDefault);
    if (!c) throw new CliError(`${account.email} has no default ${createAs} collection`);
    return c;
  }
  const c = await gw.getCollection(account, name);
  if (c) {
    if (!kinds.includes(c.kind)) throw new CliError(`${name} is a ${c.kind} collection, not ${kinds.join(" or ")}`);
    return c;
  }
  const made = await gw.createCollection(account, createAs, name, { displayName: name });
  io.out(`created ${createAs === "tasks" ? "task list" : createAs === "contacts" ? "address book" : "calendar"} ${name}\n`);
  return made;
}

/** 1-based line number of each offset in ascending `offsets` (one pass over the text). */
export function lineNumbers(text: string, offsets: number[]): number[] {
  const out: number[] = [];
  let line = 1;
  let pos = 0;
  for (const off of offsets) {
    for (; pos < off && pos < text.length; pos++) if (text.charCodeAt(pos) === 10) line++;
    out.push(line);
  }
  return out;
}
