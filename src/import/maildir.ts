/**
 * Maildir and Maildir++ (the layout Dovecot and Courier use): a folder is a
 * directory with cur/ new/ tmp/; INBOX is the root, other folders are
 * ".Name" directories beside them with '.' between hierarchy levels. A
 * message's flags are the letters after ":2," in its file name (D draft,
 * F flagged, R replied, S seen, T trashed; lower-case letters are keywords
 * listed in the folder's dovecot-keywords file); its internal date is the
 * file's modification time, as Dovecot keeps it.
 */
import { closeSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";

const LETTER_TO_FLAG: Record<string, string> = { D: "\\Draft", F: "\\Flagged", R: "\\Answered", S: "\\Seen", T: "\\Deleted" };
const FLAG_TO_LETTER: Record<string, string> = { "\\draft": "D", "\\flagged": "F", "\\answered": "R", "\\seen": "S", "\\deleted": "T" };
/** Dovecot's keyword letters: a..z, in the order of dovecot-keywords. */
const KEYWORD_LETTERS = "abcdefghijklmnopqrstuvwxyz";

export interface MaildirFolder {
  /** Folder name with '/' between levels ("INBOX", "Sent", "Projects/2024"). */
  name: string;
  dir: string;
}

export interface MaildirFile {
  path: string;
  flags: string[];
  internalDate: number;
  size: number;
}

export function isMaildir(dir: string): boolean {
  return existsSync(join(dir, "cur")) || existsSync(join(dir, "new"));
}

/** "\2e" style escapes (Dovecot's listescape) undone; our exporter writes '.' and '\' that way. */
function unescapeName(s: string): string {
  return s.replace(/\\([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}
function escapeName(s: string): string {
  return s.replace(/[\\.]/g, (c) => "\\" + c.charCodeAt(0).toString(16).padStart(2, "0"));
}

/**
 * The folders under `root`: Maildir++ (root = INBOX, ".A.B" = "A/B") or,
 * when the root is not a maildir itself, one maildir per subdirectory
 * (nested directories = hierarchy), as mbsync and others lay them out.
 */
export function listMaildirFolders(root: string): MaildirFolder[] {
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`${root} is not a directory`);
  const out: MaildirFolder[] = [];
  if (isMaildir(root)) {
    out.push({ name: "INBOX", dir: root });
    for (const e of readdirSync(root).sort()) {
      if (!e.startsWith(".") || e === "." || e === ".." || e.length < 2) continue;
      const dir = join(root, e);
      if (!lstatSync(dir).isDirectory() || !isMaildir(dir)) continue;
      const name = e.slice(1).split(".").map(unescapeName).join("/");
      if (name.split("/").some((s) => s === "")) continue;
      out.push({ name, dir });
    }
    return out;
  }
  const walk = (dir: string, prefix: string, depth: number) => {
    if (depth > 32) return;
    for (const e of readdirSync(dir).sort()) {
      if (e.startsWith(".") || ["cur", "new", "tmp"].includes(e)) continue;
      const sub = join(dir, e);
      if (!lstatSync(sub).isDirectory()) continue;
      const name = prefix ? `${prefix}/${e}` : e;
      if (isMaildir(sub)) out.push({ name: name.toUpperCase() === "INBOX" ? "INBOX" : name, dir: sub });
      walk(sub, name, depth + 1);
    }
  };
  walk(root, "", 0);
  if (out.length === 0) throw new Error(`${root} is not a maildir (no cur/ or new/ directory in it or below it)`);
  return out;
}

function readKeywords(dir: string): string[] {
  const names: string[] = [];
  try {
    for (const line of readFileSync(join(dir, "dovecot-keywords"), "utf8").split("\n")) {
      const m = /^(\d+) (\S+)$/.exec(line.trim());
      if (m && Number(m[1]) < KEYWORD_LETTERS.length) names[Number(m[1])] = m[2]!;
    }
  } catch {
    /* no keywords file: lower-case letters are then unknown keywords and dropped */
  }
  return names;
}

/** Flags from a maildir file name's ":2,..." info part. */
export function flagsFromName(name: string, keywords: string[]): string[] {
  const i = name.lastIndexOf(":2,");
  const j = i >= 0 ? i : name.lastIndexOf("!2,"); // some systems use '!' where ':' is not allowed in names
  if (j < 0) return [];
  const out: string[] = [];
  for (const c of name.slice(j + 3)) {
    const f = LETTER_TO_FLAG[c];
    if (f) out.push(f);
    else if (c >= "a" && c <= "z") {
      const k = keywords[KEYWORD_LETTERS.indexOf(c)];
      if (k) out.push(k);
    }
  }
  return out;
}

/** The messages of one maildir folder, oldest first (by the time stamp that starts maildir file names, then name). */
export function listMaildirMessages(dir: string): MaildirFile[] {
  const keywords = readKeywords(dir);
  const out: MaildirFile[] = [];
  for (const sub of ["new", "cur"]) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      if (name.startsWith(".")) continue;
      const path = join(d, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue; // moved away meanwhile (a live maildir)
      }
      if (!st.isFile()) continue;
      out.push({ path, flags: sub === "cur" ? flagsFromName(name, keywords) : [], internalDate: Math.floor(st.mtimeMs), size: st.size });
    }
  }
  const stamp = (p: string) => {
    const base = p.slice(p.lastIndexOf("/") + 1);
    const m = /^(\d+)/.exec(base);
    return m ? Number(m[1]) : Number.MAX_SAFE_INTEGER;
  };
  return out.sort((a, b) => stamp(a.path) - stamp(b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Writes the messages of one folder as a maildir; `name` "INBOX" is the root, others Maildir++ ".A.B". */
export class MaildirWriter {
  readonly dir: string;
  private keywords: string[] = [];
  private seq = 0;

  constructor(root: string, name: string) {
    this.dir = name === "INBOX" ? root : join(root, "." + name.split("/").map(escapeName).join("."));
    for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(this.dir, sub), { recursive: true, mode: 0o700 });
    if (name !== "INBOX") closeSync(openSync(join(this.dir, "maildirfolder"), "w", 0o600));
  }

  private letters(flags: readonly string[]): string {
    let sys = "";
    const kw: string[] = [];
    for (const f of flags) {
      const l = FLAG_TO_LETTER[f.toLowerCase()];
      if (l) sys += l;
      else if (!f.startsWith("\\")) {
        let i = this.keywords.indexOf(f);
        if (i < 0 && this.keywords.length < KEYWORD_LETTERS.length) {
          this.keywords.push(f);
          i = this.keywords.length - 1;
        }
        if (i >= 0) kw.push(KEYWORD_LETTERS[i]!);
      }
    }
    return [...sys].sort().join("") + kw.sort().join("");
  }

  /** One message: written in tmp/, fsynced, renamed into cur/ (the maildir delivery rule), mtime = internal date. */
  write(raw: Uint8Array, flags: readonly string[], internalDate: number, uid: number): void {
    const secs = Math.floor(internalDate / 1000);
    const base = `${secs}.M${uid}P${process.pid}Q${++this.seq}.pillarbox,S=${raw.length}`;
    const tmp = join(this.dir, "tmp", base);
    const fd = openSync(tmp, "wx", 0o600);
    try {
      writeSync(fd, raw);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    utimesSync(tmp, secs, internalDate / 1000);
    renameSync(tmp, join(this.dir, "cur", `${base}:2,${this.letters(flags)}`));
  }

  /** Writes dovecot-keywords (the letter of each keyword used). */
  finish(): void {
    if (this.keywords.length === 0) return;
    const fd = openSync(join(this.dir, "dovecot-keywords"), "w", 0o600);
    try {
      writeSync(fd, this.keywords.map((k, i) => `${i} ${k}\n`).join(""));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
