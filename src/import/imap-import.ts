/**
 * `pillarbox import imap://user@host`: copies every folder of an account on
 * another IMAP server into a local account — flags, keywords and internal
 * dates preserved, special-use folders mapped (folder-map.ts), resumable
 * (state.ts), in batches (sink.ts). The old server is only read: its
 * folders are opened with EXAMINE (RFC 9051 §6.3.3), so not even \Seen
 * changes there.
 *
 * The IMAP client is imapflow (npm), over node:net/node:tls.
 */
import { isIP } from "node:net";
import { rootCertificates } from "node:tls";
import { ImapFlow, type FetchMessageObject } from "imapflow";
import type { AppendInput, MailStore } from "../../storage/api.ts";
import { mapFolders, type FolderTarget, type SourceFolderInfo } from "./folder-map.ts";
import { BATCH_BYTES, BATCH_MESSAGES, FolderSink, ImportError } from "./sink.ts";
import { ImportState, type FolderState } from "./state.ts";

export type TlsMode = "implicit" | "starttls" | "none";

export interface ImapSourceOptions {
  /** The name the user gave (certificate check, state key). */
  host: string;
  port: number;
  tls: TlsMode;
  user: string;
  password: string;
  /** Accept a certificate that does not verify (a self-signed old server). */
  insecure?: boolean;
  /** Connect to this address instead of resolving `host` again (the SSRF check resolved and vetted it). */
  address?: string;
  /** Extra trusted CA certificates (PEM), besides the system's. */
  ca?: string;
}

export interface ImportProgress {
  folder: string;
  folderIndex: number;
  folderCount: number;
  /** Messages done (imported or skipped) and to do in this run, over all folders. */
  done: number;
  total: number;
  bytesDone: number;
  bytesTotal: number;
}

export interface FolderReport {
  source: string;
  target: string;
  specialUse: string | null;
  /** Messages in the folder on the old server. */
  messages: number;
  /** Messages this run imports (or would, in a dry run) and their octets. */
  toImport: number;
  bytes: number;
  imported: number;
  /** Messages over the size limit, left out. */
  tooLarge: number;
  skipped?: string;
}

export interface ImportSummary {
  folders: FolderReport[];
  imported: number;
  bytes: number;
  tooLarge: number;
  dryRun: boolean;
  /** Stopped before the end (cancel or `limit`); running the same import again continues. */
  stopped: boolean;
  ms: number;
  warnings: string[];
}

export interface ImapImportOptions {
  store: MailStore;
  accountId: number;
  dataDir: string;
  source: ImapSourceOptions;
  dryRun?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Stop after this many messages (the rest is imported by the next run). */
  limit?: number;
  /** Larger messages are left out and counted (default 64 MiB). */
  maxMessageBytes?: number;
  /** Stop once this many octets were imported in this run (default unbounded). */
  maxBytes?: number;
}

/** The source as a URL without the password: the key of the resume state and what logs show. */
export function sourceUrl(s: Pick<ImapSourceOptions, "host" | "port" | "tls" | "user">): string {
  return `${s.tls === "implicit" ? "imaps" : "imap"}://${encodeURIComponent(s.user)}@${s.host.toLowerCase()}:${s.port}`;
}

export async function connectSource(s: ImapSourceOptions): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: s.address ?? s.host,
    port: s.port,
    secure: s.tls === "implicit",
    // imapflow upgrades with STARTTLS when offered; "starttls" makes it mandatory so the password never crosses in clear (RFC 9051 §11.1).
    doSTARTTLS: s.tls === "starttls" ? true : s.tls === "none" ? false : undefined,
    // SNI and the certificate check use the name the user gave (RFC 6066 §3 forbids an IP address as SNI).
    ...(isIP(s.host) ? {} : { servername: s.host }),
    tls: { rejectUnauthorized: !s.insecure, ...(isIP(s.host) ? {} : { servername: s.host }), minVersion: "TLSv1.2", ...(s.ca ? { ca: [...rootCertificates, s.ca] } : {}) },
    auth: { user: s.user, pass: s.password },
    logger: false,
    disableAutoIdle: true,
    disableCompression: true,
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
    socketTimeout: 120_000,
    // A bound on what one answer of a broken or hostile server can make us hold.
    maxLiteralSize: 256 * 1024 * 1024,
    maxResponseSize: 512 * 1024 * 1024,
    maxLineLength: 64 * 1024 * 1024,
  });
  client.on("error", () => {
    /* reported through the failing command */
  });
  try {
    await client.connect();
  } catch (e) {
    throw new ImportError(describeConnectError(e, s));
  }
  return client;
}

function describeConnectError(e: unknown, s: ImapSourceOptions): string {
  const err = e as { message?: string; code?: string; authenticationFailed?: boolean; responseText?: string };
  const where = `${s.host}:${s.port}`;
  if (err.authenticationFailed) return `the old server ${where} refused the user name or password${err.responseText ? ` (${err.responseText})` : ""}`;
  const code = err.code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT/i.test(code + " " + (err.message ?? ""))) return `the certificate of ${where} does not verify (${err.message ?? code}); use --insecure only if you trust this server`;
  if (code === "ECONNREFUSED") return `nothing answers on ${where} (connection refused)`;
  if (code === "ENOTFOUND") return `the host name ${s.host} does not resolve`;
  if (/timeout/i.test(code + (err.message ?? ""))) return `${where} did not answer in time`;
  return `cannot connect to ${where}: ${err.responseText ?? err.message ?? String(e)}`;
}

interface PlannedFolder {
  info: SourceFolderInfo;
  target: FolderTarget;
  report: FolderReport;
  uidValidity: number;
  /** UIDs to import with their sizes, ascending. */
  todo: { uid: number; size: number }[];
}

/** Imports (or, with dryRun, only plans) every folder of the source account. */
export async function importImap(opts: ImapImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const maxMessageBytes = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const warnings: string[] = [];
  const client = await connectSource(opts.source);
  const { state, damaged } = ImportState.open(opts.dataDir, opts.accountId, sourceUrl(opts.source));
  if (damaged) warnings.push(`the resume state ${state.file} was unreadable; starting over (messages imported before may be imported again)`);
  const sink = new FolderSink(opts.store, opts.accountId);
  let stopped = false;
  try {
    const listed = await client.list();
    const infos: SourceFolderInfo[] = listed
      .filter((l) => !l.flags.has("\\Noselect") && !l.flags.has("\\NonExistent"))
      .map((l) => ({ path: l.path, delimiter: l.delimiter || null, specialUse: l.specialUseSource === "name" ? null : (l.specialUse ?? null) }));
    const targets = mapFolders(infos);
    const plan: PlannedFolder[] = [];
    for (const info of infos) {
      const target = targets.get(info.path)!;
      const report: FolderReport = { source: info.path, target: target.name, specialUse: target.specialUse, messages: 0, toImport: 0, bytes: 0, imported: 0, tooLarge: 0, skipped: target.skip };
      const pf: PlannedFolder = { info, target, report, uidValidity: 0, todo: [] };
      plan.push(pf);
      if (target.skip) continue;
      const box = await client.mailboxOpen(info.path, { readOnly: true });
      pf.uidValidity = Number(box.uidValidity);
      report.messages = box.exists;
      let st = state.folder(info.path);
      if (st && st.uidValidity !== pf.uidValidity) {
        warnings.push(`${info.path}: the old server renumbered this folder (UIDVALIDITY changed); it is imported again from the start`);
        st = undefined;
      }
      const lastUid = st ? await settlePending(st, sink, info.path, warnings) : 0;
      if (st && !opts.dryRun) state.save();
      if (box.exists === 0) continue;
      const sizes = await client.fetchAll("1:*", { uid: true, size: true });
      for (const m of sizes) {
        if (m.uid <= lastUid) continue;
        const size = m.size ?? 0;
        if (size > maxMessageBytes) {
          report.tooLarge++;
          continue;
        }
        pf.todo.push({ uid: m.uid, size });
        report.bytes += size;
      }
      pf.todo.sort((a, b) => a.uid - b.uid);
      report.toImport = pf.todo.length;
    }
    const total = plan.reduce((n, p) => n + p.todo.length, 0);
    const bytesTotal = plan.reduce((n, p) => n + p.report.bytes, 0);
    if (opts.dryRun) return summary(plan, true, false, bytesTotal, started, warnings);

    const progress: ImportProgress = { folder: "", folderIndex: 0, folderCount: plan.length, done: 0, total, bytesDone: 0, bytesTotal };
    opts.onProgress?.({ ...progress });
    let budget = opts.limit ?? Infinity;
    let byteBudget = opts.maxBytes ?? Infinity;
    for (const [i, pf] of plan.entries()) {
      progress.folder = pf.info.path;
      progress.folderIndex = i + 1;
      if (pf.target.skip) continue;
      const dest = await sink.folder(pf.target.name, pf.target.specialUse);
      if (!dest) throw new ImportError(`no destination folder for ${pf.info.path}`);
      const st: FolderState = state.folder(pf.info.path) ?? { uidValidity: pf.uidValidity, lastUid: 0, imported: 0 };
      if (st.uidValidity !== pf.uidValidity) Object.assign(st, { uidValidity: pf.uidValidity, lastUid: 0, imported: 0, pending: null });
      state.setFolder(pf.info.path, st);
      state.save();
      if (pf.todo.length === 0) continue;
      await client.mailboxOpen(pf.info.path, { readOnly: true });
      // Two batches in flight: while one is committed (one transaction), the next is fetched
      // from the old server and its blobs are written (sink.writeBlobs), so neither the network,
      // the blob fsyncs nor the database waits for the others.
      const list = [...batches(pf.todo)];
      const prepare = (uids: number[]) => {
        const p = fetchBatch(client, uids).then(async (f) => {
          const items = f.map(toAppend);
          await sink.writeBlobs(items);
          return items;
        });
        p.catch(() => {}); // awaited below or drained in finally
        return p;
      };
      let next: Promise<AppendInput[]> | null = null;
      try {
        for (let bi = 0; bi < list.length; bi++) {
          if (opts.signal?.aborted || budget <= 0 || byteBudget <= 0) {
            stopped = true;
            break;
          }
          const batch = list[bi]!;
          const part = batch.slice(0, Math.max(1, Math.min(batch.length, budget)));
          const items = next && part.length === batch.length ? await next : await prepare(part.map((t) => t.uid));
          next = null;
          const following = list[bi + 1];
          if (following && budget - part.length >= following.length && !opts.signal?.aborted) next = prepare(following.map((t) => t.uid));
          const lastUid = part[part.length - 1]!.uid;
          st.pending = { destFolderId: dest.id, uidNextBefore: await sink.uidNext(dest.id), sizes: items.map((m) => m.raw.length), lastUid };
          state.save();
          await sink.commit(dest.id, items);
          const bytes = items.reduce((n, m) => n + m.raw.length, 0);
          st.lastUid = lastUid;
          st.imported += items.length;
          st.pending = null;
          state.save();
          pf.report.imported += items.length;
          budget -= part.length;
          byteBudget -= bytes;
          progress.done += part.length;
          progress.bytesDone += bytes;
          opts.onProgress?.({ ...progress });
        }
      } finally {
        if (next) await next.catch(() => {});
      }
      if (stopped) break;
    }
    return summary(plan, false, stopped, progress.bytesDone, started, warnings);
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/** Resolves a batch left pending by an interrupted run; returns the folder's last imported UID. */
async function settlePending(st: FolderState, sink: FolderSink, path: string, warnings: string[]): Promise<number> {
  const p = st.pending;
  if (!p) return st.lastUid;
  const after = (await sink.store.listMessages(p.destFolderId)).filter((m) => m.uid >= p.uidNextBefore).map((m) => m.size);
  const want = new Map<number, number>();
  for (const s of p.sizes) want.set(s, (want.get(s) ?? 0) + 1);
  for (const s of after) if (want.has(s)) want.set(s, want.get(s)! - 1);
  const committed = [...want.values()].every((n) => n <= 0);
  if (committed) {
    st.lastUid = p.lastUid;
    st.imported += p.sizes.length;
  } else warnings.push(`${path}: the last batch of the interrupted run was not saved; it is imported now`);
  st.pending = null;
  return st.lastUid;
}

function* batches(todo: { uid: number; size: number }[]): Generator<{ uid: number; size: number }[]> {
  let cur: { uid: number; size: number }[] = [];
  let bytes = 0;
  for (const t of todo) {
    if (cur.length > 0 && (cur.length >= BATCH_MESSAGES || bytes + t.size > BATCH_BYTES)) {
      yield cur;
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += t.size;
  }
  if (cur.length) yield cur;
}

/** A compact UID set ("1:5,9,12:14") for one FETCH. */
export function uidSet(uids: number[]): string {
  const out: string[] = [];
  let i = 0;
  while (i < uids.length) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    out.push(i === j ? String(uids[i]) : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

async function fetchBatch(client: ImapFlow, uids: number[]): Promise<FetchMessageObject[]> {
  const want = new Set(uids);
  const got: FetchMessageObject[] = [];
  for await (const m of client.fetch(uidSet(uids), { uid: true, flags: true, internalDate: true, source: true }, { uid: true })) {
    if (want.has(m.uid) && m.source) got.push(m);
  }
  // Messages expunged on the old server meanwhile are simply gone; keep UID order.
  return got.sort((a, b) => a.uid - b.uid);
}

function toAppend(m: FetchMessageObject): AppendInput {
  const flags = [...(m.flags ?? [])].filter((f) => f.toLowerCase() !== "\\recent");
  const d = m.internalDate instanceof Date ? m.internalDate.getTime() : m.internalDate ? Date.parse(String(m.internalDate)) : NaN;
  return { raw: new Uint8Array(m.source!), flags, internalDate: Number.isFinite(d) ? d : undefined };
}

function summary(plan: PlannedFolder[], dryRun: boolean, stopped: boolean, bytes: number, started: number, warnings: string[]): ImportSummary {
  const folders = plan.map((p) => p.report);
  return {
    folders,
    imported: folders.reduce((n, f) => n + f.imported, 0),
    bytes,
    tooLarge: folders.reduce((n, f) => n + f.tooLarge, 0),
    dryRun,
    stopped,
    ms: Date.now() - started,
    warnings,
  };
}
