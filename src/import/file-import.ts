/**
 * `pillarbox import maildir|mbox PATH --to USER`: messages from files into
 * an account, with their flags (maildir) and dates. Maildir folders keep
 * their names, special-use ones mapped as for an IMAP import; an mbox file
 * goes into one folder (--folder, default INBOX), a directory of *.mbox
 * files (what `pillarbox export --format mbox` writes) into one folder per
 * file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { MailStore, SpecialUse } from "../../storage/api.ts";
import { mapFolders } from "./folder-map.ts";
import type { FolderReport, ImportProgress, ImportSummary } from "./imap-import.ts";
import { listMaildirFolders, listMaildirMessages } from "./maildir.ts";
import { readMbox } from "./mbox.ts";
import { Batcher, FolderSink } from "./sink.ts";

export interface FileImportOptions {
  store: MailStore;
  accountId: number;
  path: string;
  /** Put everything under this folder (INBOX of the source = this folder). */
  folder?: string;
  dryRun?: boolean;
  maxMessageBytes?: number;
  onProgress?: (p: ImportProgress) => void;
}

interface Target {
  name: string;
  specialUse: SpecialUse | null;
}

function targetsFor(names: string[], under: string | undefined): Map<string, Target> {
  if (under !== undefined) return new Map(names.map((n) => [n, { name: n === "INBOX" ? under : `${under}/${n}`, specialUse: null }]));
  const mapped = mapFolders(names.map((n) => ({ path: n, delimiter: "/", specialUse: null })));
  return new Map(names.map((n) => [n, { name: mapped.get(n)!.name, specialUse: mapped.get(n)!.specialUse }]));
}

export async function importMaildir(opts: FileImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const max = opts.maxMessageBytes ?? 64 * 1024 * 1024;
  const folders = listMaildirFolders(opts.path);
  const targets = targetsFor(folders.map((f) => f.name), opts.folder);
  const sink = new FolderSink(opts.store, opts.accountId);
  const warnings: string[] = [];
  const plans = folders.map((f) => ({ f, t: targets.get(f.name)!, files: listMaildirMessages(f.dir) }));
  const reports: FolderReport[] = plans.map(({ f, t, files }) => {
    const ok = files.filter((m) => m.size <= max && m.size > 0);
    return { source: f.name, target: t.name, specialUse: t.specialUse, messages: files.length, toImport: ok.length, bytes: ok.reduce((n, m) => n + m.size, 0), imported: 0, tooLarge: files.filter((m) => m.size > max).length };
  });
  const progress: ImportProgress = { folder: "", folderIndex: 0, folderCount: plans.length, done: 0, total: reports.reduce((n, r) => n + r.toImport, 0), bytesDone: 0, bytesTotal: reports.reduce((n, r) => n + r.bytes, 0) };
  if (!opts.dryRun) {
    for (const [i, { f, t, files }] of plans.entries()) {
      const report = reports[i]!;
      progress.folder = f.name;
      progress.folderIndex = i + 1;
      const dest = (await sink.folder(t.name, t.specialUse))!;
      const batcher = new Batcher(async (items) => {
        await sink.append(dest.id, items);
        report.imported += items.length;
        progress.done += items.length;
        progress.bytesDone += items.reduce((n, m) => n + m.raw.length, 0);
        opts.onProgress?.({ ...progress });
      });
      for (const m of files) {
        if (m.size > max) continue;
        if (m.size === 0) {
          warnings.push(`${m.path}: empty file, skipped`);
          continue;
        }
        let raw: Uint8Array;
        try {
          raw = readFileSync(m.path);
        } catch (e) {
          warnings.push(`${m.path}: cannot be read (${(e as Error).message}), skipped`);
          continue;
        }
        await batcher.add({ raw, flags: m.flags, internalDate: m.internalDate });
      }
      await batcher.flush();
    }
  }
  return finish(reports, !!opts.dryRun, progress.bytesDone || (opts.dryRun ? progress.bytesTotal : 0), started, warnings);
}

/** The mbox files to import: PATH itself, or every *.mbox file below the directory PATH (folder = relative path without .mbox). */
function mboxFiles(path: string): { name: string; file: string }[] {
  const st = statSync(path);
  if (st.isFile()) return [{ name: "INBOX", file: path }];
  const out: { name: string; file: string }[] = [];
  const walk = (dir: string, depth: number) => {
    if (depth > 32) return;
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      const s = statSync(p);
      if (s.isDirectory()) walk(p, depth + 1);
      else if (s.isFile() && e.endsWith(".mbox")) out.push({ name: relative(path, p).slice(0, -".mbox".length), file: p });
    }
  };
  walk(path, 0);
  if (out.length === 0) throw new Error(`${path} holds no *.mbox file`);
  return out;
}

export async function importMbox(opts: FileImportOptions): Promise<ImportSummary> {
  const started = Date.now();
  const files = mboxFiles(opts.path);
  const single = files.length === 1 && statSync(opts.path).isFile();
  const targets = single ? new Map([["INBOX", { name: opts.folder ?? "INBOX", specialUse: null as SpecialUse | null }]]) : targetsFor(files.map((f) => f.name), opts.folder);
  const sink = new FolderSink(opts.store, opts.accountId);
  const warnings: string[] = [];
  const reports: FolderReport[] = [];
  const progress: ImportProgress = { folder: "", folderIndex: 0, folderCount: files.length, done: 0, total: 0, bytesDone: 0, bytesTotal: files.reduce((n, f) => n + statSync(f.file).size, 0) };
  let bytes = 0;
  for (const [i, { name, file }] of files.entries()) {
    const t = targets.get(name)!;
    const report: FolderReport = { source: name, target: t.name, specialUse: t.specialUse, messages: 0, toImport: 0, bytes: 0, imported: 0, tooLarge: 0 };
    reports.push(report);
    progress.folder = name;
    progress.folderIndex = i + 1;
    const dest = opts.dryRun ? null : (await sink.folder(t.name, t.specialUse))!;
    const batcher = new Batcher(async (items) => {
      await sink.append(dest!.id, items);
      report.imported += items.length;
      progress.done += items.length;
      progress.bytesDone += items.reduce((n, m) => n + m.raw.length, 0);
      opts.onProgress?.({ ...progress, total: Math.max(progress.total, progress.done) });
    });
    let res;
    try {
      res = await readMbox(
        file,
        async (m) => {
          report.messages++;
          report.toImport++;
          report.bytes += m.raw.length;
          bytes += m.raw.length;
          if (!opts.dryRun) await batcher.add({ raw: m.raw, internalDate: m.internalDate });
        },
        { maxMessageBytes: opts.maxMessageBytes },
      );
    } catch (e) {
      await batcher.flush();
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    await batcher.flush();
    report.tooLarge = res.tooLarge;
    report.messages += res.tooLarge;
    if (res.leadingBytes > 0) warnings.push(`${file}: ${res.leadingBytes} bytes before the first "From " line were not part of any message and were left out`);
  }
  return finish(reports, !!opts.dryRun, bytes, started, warnings);
}

function finish(folders: FolderReport[], dryRun: boolean, bytes: number, started: number, warnings: string[]): ImportSummary {
  return { folders, imported: folders.reduce((n, f) => n + f.imported, 0), bytes, tooLarge: folders.reduce((n, f) => n + f.tooLarge, 0), dryRun, stopped: false, ms: Date.now() - started, warnings };
}
