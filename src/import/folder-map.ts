/**
 * Where an old server's folder lands: the special-use folders (RFC 6154 §2)
 * go to this server's own Sent/Drafts/Trash/Junk/Archive, found by the
 * attribute the old server announces or, when it announces none, by the
 * names common clients and providers use ("Sent Items", "Deleted Items",
 * "[Gmail]/Sent Mail", "Gesendete Objekte", ...). Everything else keeps its
 * path, with the old server's hierarchy delimiter turned into '/'.
 */
import type { SpecialUse } from "../../storage/api.ts";

export interface FolderTarget {
  /** Destination folder name ('/' delimited), e.g. "INBOX", "Sent", "Projects/2024". */
  name: string;
  specialUse: SpecialUse | null;
  /** Set when the folder is not imported, with the reason in words. */
  skip?: string;
}

/** Our default folder for each special use (storage/directory.ts creates these for every account). */
const TARGET: Record<string, string> = { "\\Sent": "Sent", "\\Drafts": "Drafts", "\\Trash": "Trash", "\\Junk": "Junk", "\\Archive": "Archive" };

/** Common names, lower case, per special use (English, German, French, Spanish, and provider spellings). */
const NAMES: [SpecialUse, string[]][] = [
  ["\\Sent", ["sent", "sent items", "sent messages", "sent mail", "sent-mail", "outbox sent", "gesendet", "gesendete objekte", "gesendete elemente", "envoyés", "envoyes", "éléments envoyés", "messages envoyés", "enviados", "elementos enviados"]],
  ["\\Drafts", ["drafts", "draft", "entwürfe", "entwurf", "brouillons", "borradores"]],
  ["\\Trash", ["trash", "deleted items", "deleted messages", "deleted", "bin", "papierkorb", "gelöschte elemente", "gelöschte objekte", "corbeille", "éléments supprimés", "papelera", "elementos eliminados"]],
  ["\\Junk", ["junk", "spam", "junk e-mail", "junk email", "junk mail", "bulk mail", "junk-e-mail", "courrier indésirable", "indésirables", "correo no deseado"]],
  ["\\Archive", ["archive", "archives", "archiv", "archivo", "archivos"]],
];
const BY_NAME = new Map<string, SpecialUse>();
for (const [use, names] of NAMES) for (const n of names) BY_NAME.set(n, use);

/** Virtual folders whose messages all live in another folder too (Gmail's All Mail, Starred): importing them would duplicate mail. */
const VIRTUAL: SpecialUse[] = ["\\All", "\\Flagged"];

export interface SourceFolderInfo {
  path: string;
  delimiter: string | null;
  /** The RFC 6154 attribute the old server announced, if any. */
  specialUse?: string | null;
}

/** Splits a source path into segments, dropping an "INBOX." prefix the old server puts on every folder (Courier-style) and Gmail's "[Gmail]" parent. */
function segments(f: SourceFolderInfo, stripInboxPrefix: boolean): string[] {
  const parts = f.delimiter ? f.path.split(f.delimiter) : [f.path];
  if (stripInboxPrefix && parts.length > 1 && parts[0]!.toUpperCase() === "INBOX") parts.shift();
  if (parts.length > 1 && /^\[(gmail|google mail)\]$/i.test(parts[0]!)) parts.shift();
  // '/' is our delimiter: a '/' inside one of the old server's names becomes '-'.
  return parts.map((p) => p.replace(/\//g, "-").trim()).filter((p) => p !== "");
}

/**
 * Maps every source folder. `stripInboxPrefix` is decided once for the
 * whole list: true when every folder but INBOX itself sits below INBOX.
 */
export function mapFolders(folders: readonly SourceFolderInfo[]): Map<string, FolderTarget> {
  const others = folders.filter((f) => f.path.toUpperCase() !== "INBOX");
  const stripInboxPrefix = others.length > 0 && others.every((f) => f.delimiter !== null && f.path.toUpperCase().startsWith("INBOX" + f.delimiter.toUpperCase()));
  const out = new Map<string, FolderTarget>();
  const taken = new Set<SpecialUse>();
  // Announced attributes first, so a folder named "Sent" without the attribute cannot take the place of the announced one.
  const ordered = [...folders].sort((a, b) => Number(!a.specialUse) - Number(!b.specialUse));
  for (const f of ordered) {
    if (f.path.toUpperCase() === "INBOX") {
      out.set(f.path, { name: "INBOX", specialUse: null });
      continue;
    }
    const use = (f.specialUse ?? null) as SpecialUse | null;
    if (use && VIRTUAL.includes(use)) {
      out.set(f.path, { name: f.path, specialUse: use, skip: `a virtual ${use} folder (its messages are imported from their own folders)` });
      continue;
    }
    const segs = segments(f, stripInboxPrefix);
    const name = segs.join("/") || f.path;
    const byName = segs.length === 1 ? BY_NAME.get(segs[0]!.toLowerCase()) : undefined;
    const special = use && TARGET[use] ? use : byName;
    if (special && !taken.has(special)) {
      taken.add(special);
      out.set(f.path, { name: TARGET[special]!, specialUse: special });
      continue;
    }
    out.set(f.path, { name: name.toUpperCase() === "INBOX" ? `${name} (imported)` : name, specialUse: null });
  }
  return out;
}
