/**
 * The read-only directory address book `/dav/addressbooks/<user>/directory/`
 * (issue 15: the global address list over CardDAV): one vCard 4.0 (RFC 6350)
 * per account and alias of the user's own domain, built from the one GAL
 * lookup. Resource names derive from the address (stable across requests and
 * restarts); ETags are a hash of the vCard, so they change exactly when the
 * entry does. The book's ctag / sync-token is a hash of all ETags.
 */
import { createHash } from "node:crypto";
import { directory, type DirectoryEntry } from "../../../src/groupware/directory.ts";
import { addressbookHomeHref, encodeSegment, type DavContext, type DavResource } from "./types.ts";

/** Upper bound on entries served (a domain larger than this is cut, sorted by address). */
export const MAX_DIRECTORY_ENTRIES = 20_000;

// RFC 6350 §3.4: backslash, comma, semicolon and newlines are escaped in text values.
function esc(s: string): string {
  return s.replace(/[\\,;]/g, (c) => "\\" + c).replace(/\r\n|\r|\n/g, "\\n");
}

// RFC 6350 §3.2: lines longer than 75 octets are folded (CRLF + one space), never inside a UTF-8 sequence.
function fold(line: string): string {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= 75) return line;
  const parts: string[] = [];
  let cur = "";
  let len = 0;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, "utf8");
    if (len + n > (parts.length ? 74 : 75)) {
      parts.push(cur);
      cur = "";
      len = 0;
    }
    cur += ch;
    len += n;
  }
  parts.push(cur);
  return parts.join("\r\n ");
}

/** The vCard 4.0 of one directory entry. */
export function directoryVCard(e: DirectoryEntry): string {
  const uid = "urn:uuid:" + uuidFrom(e.email);
  const lines = [
    "BEGIN:VCARD",
    "VERSION:4.0",
    `UID:${uid}`,
    "KIND:individual",
    `FN:${esc(e.displayName || e.email)}`,
    `N:${esc(e.lastName)};${esc(e.firstName)};;;`,
    `EMAIL;TYPE=work:${esc(e.email)}`,
    "END:VCARD",
  ];
  return lines.map(fold).join("\r\n") + "\r\n";
}

/** A name-based UUID (RFC 9562 §5.8 style, from SHA-256) so the UID is stable for an address. */
function uuidFrom(s: string): string {
  const h = createHash("sha256").update("pillarbox-directory:" + s).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Resource name of an entry: the address itself, which is unique in the book and never changes. */
export function directoryResourceName(email: string): string {
  return `${email}.vcf`;
}

export const directoryBookHref = (email: string) => addressbookHomeHref(email) + "directory/";

/** Every entry of the user's domain as a resource. */
export async function directoryResources(dc: DavContext): Promise<DavResource[]> {
  const entries = (await directory(dc.ctx.store, dc.account)).sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)).slice(0, MAX_DIRECTORY_ENTRIES);
  const base = directoryBookHref(dc.account.email);
  const enc = new TextEncoder();
  return entries.map((e) => {
    const bytes = enc.encode(directoryVCard(e));
    const name = directoryResourceName(e.email);
    return {
      name,
      href: base + encodeSegment(name),
      etag: `"${createHash("sha256").update(bytes).digest("hex").slice(0, 32)}"`,
      contentType: "text/vcard; charset=utf-8",
      size: bytes.length,
      lastModified: 0,
      body: async () => bytes,
      object: null,
    };
  });
}

/** The book's version: a hash over all names and ETags (getctag and the sync-token's value). */
export function directoryVersion(list: readonly DavResource[]): string {
  const h = createHash("sha256");
  for (const r of list) h.update(r.name + "\0" + r.etag + "\n");
  return h.digest("hex").slice(0, 24);
}
