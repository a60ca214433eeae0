/**
 * `pillarbox export USER --format maildir|mbox DIR`: every mail folder of
 * an account, as Maildir++ (flags in the file names, keywords in
 * dovecot-keywords, mtime = internal date: what Dovecot reads) or as one
 * mboxrd file per folder (DIR/<folder>.mbox, hierarchy as directories).
 * Messages are read one at a time, so memory stays bounded.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { MailStore } from "../../storage/api.ts";
import { MaildirWriter } from "./maildir.ts";
import { mboxEntry } from "./mbox.ts";

export interface ExportOptions {
  store: MailStore;
  accountId: number;
  dir: string;
  format: "maildir" | "mbox";
  onProgress?: (p: { folder: string; done: number; total: number }) => void;
}

export interface ExportSummary {
  folders: { name: string; messages: number; bytes: number }[];
  messages: number;
  bytes: number;
  ms: number;
}

/** A folder name as a safe relative path (no "..", no empty segments). */
function safeSegments(name: string): string[] {
  return name.split("/").map((s) => (s === "." || s === ".." || s === "" ? `_${s}_` : s.replace(/\x00/g, "")));
}

export async function exportAccount(opts: ExportOptions): Promise<ExportSummary> {
  const started = Date.now();
  if (existsSync(opts.dir) && readdirSync(opts.dir).length > 0) throw new Error(`${opts.dir} is not empty: export into a new or empty directory`);
  mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const folders = await opts.store.listFolders(opts.accountId, { itemClass: "mail" });
  folders.sort((a, b) => (a.name === "INBOX" ? -1 : b.name === "INBOX" ? 1 : a.name < b.name ? -1 : 1));
  const lists = await Promise.all(folders.map((f) => opts.store.listMessages(f.id)));
  const total = lists.reduce((n, l) => n + l.length, 0);
  const out: ExportSummary = { folders: [], messages: 0, bytes: 0, ms: 0 };
  let done = 0;
  for (const [i, folder] of folders.entries()) {
    const msgs = lists[i]!;
    const rep = { name: folder.name, messages: 0, bytes: 0 };
    out.folders.push(rep);
    if (opts.format === "maildir") {
      const w = new MaildirWriter(opts.dir, folder.name === "INBOX" ? "INBOX" : safeSegments(folder.name).join("/"));
      for (const m of msgs) {
        const raw = await opts.store.readMessage(m.id);
        w.write(raw, m.flags, m.internalDate, m.uid);
        rep.messages++;
        rep.bytes += raw.length;
        opts.onProgress?.({ folder: folder.name, done: ++done, total });
      }
      w.finish();
    } else {
      const file = join(opts.dir, ...safeSegments(folder.name)) + ".mbox";
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const fd = openSync(file, "wx", 0o600);
      try {
        for (const m of msgs) {
          const raw = await opts.store.readMessage(m.id);
          for (const b of mboxEntry(raw, m.internalDate)) writeSync(fd, b);
          rep.messages++;
          rep.bytes += raw.length;
          opts.onProgress?.({ folder: folder.name, done: ++done, total });
        }
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    }
    out.messages += rep.messages;
    out.bytes += rep.bytes;
  }
  out.ms = Date.now() - started;
  return out;
}
