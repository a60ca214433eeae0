/**
 * Reads what Pigeonhole delivered from the user's Maildir++ (Dovecot's
 * layout): INBOX in the root, other folders as ".Name.Sub" directories with
 * names in modified UTF-7 (RFC 3501 §5.1.3), the system flags as letters after
 * ":2," in the file name (D F R S T) and keywords as the letters a..z indexing
 * the folder's dovecot-keywords file.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface StoredCopy {
  /** Stable per message while the run lasts (the file's base name, or the store's message id). */
  id: string;
  folder: string;
  flags: string[];
  raw: Buffer;
}

const SYSTEM: Record<string, string> = { D: "\\Draft", F: "\\Flagged", R: "\\Answered", S: "\\Seen", T: "\\Deleted" };

/** Modified UTF-7 to text (RFC 3501 §5.1.3). */
export function decodeMutf7(s: string): string {
  return s.replace(/&([^-]*)-/g, (_, b64: string) => {
    if (b64 === "") return "&";
    const bytes = Buffer.from(b64.replace(/,/g, "/"), "base64");
    let out = "";
    for (let i = 0; i + 1 < bytes.length; i += 2) out += String.fromCharCode(bytes.readUInt16BE(i));
    return out;
  });
}

function keywordsOf(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  const f = join(dir, "dovecot-keywords");
  if (!existsSync(f)) return m;
  for (const line of readFileSync(f, "utf8").split("\n")) {
    const sp = line.indexOf(" ");
    if (sp > 0) m.set(String.fromCharCode(97 + Number(line.slice(0, sp))), line.slice(sp + 1));
  }
  return m;
}

function messagesIn(dir: string, folder: string): StoredCopy[] {
  const out: StoredCopy[] = [];
  const kw = keywordsOf(dir);
  for (const sub of ["new", "cur"]) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d).sort()) {
      const info = name.includes(":2,") ? name.slice(name.indexOf(":2,") + 3) : "";
      const flags: string[] = [];
      for (const ch of info) {
        if (SYSTEM[ch]) flags.push(SYSTEM[ch]!);
        else if (kw.has(ch)) flags.push(kw.get(ch)!);
      }
      out.push({ id: `${folder}/${name.split(":")[0]}`, folder, flags, raw: readFileSync(join(d, name)) });
    }
  }
  return out;
}

/** Every message in the Maildir at `root`, with its folder and flags. */
export function readMaildir(root: string): StoredCopy[] {
  if (!existsSync(root)) return [];
  const out = messagesIn(root, "INBOX");
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !entry.name.startsWith(".") || entry.name === "." || entry.name === "..") continue;
    const folder = entry.name.slice(1).split(".").map(decodeMutf7).join("/");
    out.push(...messagesIn(join(root, entry.name), folder));
  }
  return out;
}
