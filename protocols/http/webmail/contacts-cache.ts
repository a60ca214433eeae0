/**
 * The list rows of address books, kept in memory so a search over 5,000
 * contacts answers in a few milliseconds (issue 17 asks < 50 ms).
 *
 * One entry per address book, valid for the book's modseq (its CardDAV
 * ctag/sync token: every write or delete raises it). When it has changed the
 * entry is rebuilt from the item list, re-reading only the cards whose own
 * modseq changed. Each row carries a pre-folded search text (lower case,
 * accents removed) so matching is plain substring tests.
 *
 * Bounded: at most MAX_BOOKS books and MAX_ROWS rows in all (least recently
 * used go first; a row takes about 1 KB, so some 20 MB at most); a book larger
 * than MAX_ROWS is kept alone.
 */
import type { Collection, Groupware, StoredObject } from "../../../src/groupware/types.ts";
import { readContact, summaryOf, type VCardVersion } from "../../../src/groupware/model/contact.ts";
import type { ContactSummary } from "../../../src/groupware/model/types.ts";

export const MAX_BOOKS = 8;
export const MAX_ROWS = 20_000;

/** Lower case without accents (Unicode canonical decomposition, combining marks dropped): "Müller" -> "muller". */
export function fold(s: string): string {
  return s.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

/** The words of a folded query: letters and digits ("hans.mu" -> ["hans", "mu"]). */
export function queryWords(q: string): string[] {
  return fold(q)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .slice(0, 10);
}

/**
 * One contact of the cache, kept small (some 1 KB): the list row as JSON text
 * (a list answer is these joined, 5,000 rows without serialising anything) and
 * the few fields the server itself looks at; `summary` parses the JSON again for
 * the rare caller that needs the rest.
 */
export class ContactRow {
  constructor(
    /** JSON.stringify(the ContactSummary). */
    readonly json: string,
    /** " word word ..." folded: names, organization, emails (whole and in words), phones (and their digits). */
    readonly search: string,
    readonly id: string,
    readonly uid: string,
    readonly kind: "individual" | "group",
    readonly fullName: string,
    readonly sortName: string,
    /** Lower case, in the card's order. */
    readonly emails: readonly string[],
    /** Group members as written (urn:uuid:..., mailto:...); empty for a person. */
    readonly members: readonly string[],
    readonly itemId: number,
    readonly itemModseq: number,
    readonly version: VCardVersion,
  ) {}

  get summary(): ContactSummary {
    return JSON.parse(this.json) as ContactSummary;
  }
}

const NONE: readonly string[] = Object.freeze([]);

export interface BookRows {
  folderId: number;
  modseq: number;
  /** Sorted by sortName. */
  rows: ContactRow[];
  byUid: Map<string, ContactRow>;
  /** The vCard version most of the book's cards have (new groups are written in it). */
  version: VCardVersion;
}

/** Every word of a query is in the row: anywhere (`prefix` false) or at the start of one of its words. */
export function rowMatches(row: { search: string }, words: string[], prefix: boolean): boolean {
  for (const w of words) if (!row.search.includes(prefix ? " " + w : w)) return false;
  return true;
}

export function searchText(parts: string[]): string {
  const words = new Set<string>();
  for (const p of parts) {
    if (!p) continue;
    const f = fold(p);
    for (const w of f.split(/[^\p{L}\p{N}]+/u)) if (w) words.add(w);
    if (f.includes("@")) words.add(f.replace(/\s+/g, "")); // the whole address, for "hans.m" typed as one word
  }
  return " " + [...words].join(" ");
}

const collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

function rowOf(book: string, o: StoredObject, body: Uint8Array): ContactRow {
  const where = { book, id: o.resourceName, etag: o.etag };
  let summary: ContactSummary;
  let members: string[] = [];
  let version: VCardVersion = "3.0";
  let extra: string[] = [];
  try {
    const r = readContact(body);
    summary = summaryOf(r, where);
    members = r.data.members;
    version = r.version;
    extra = [r.data.nickname, r.data.department, r.data.givenName, r.data.familyName];
  } catch {
    // A card the line reader cannot read (stored before the service checked cards): the indexed fields.
    const f = o.item.itemClass === "contacts" ? o.item.fields : null;
    summary = { ...where, uid: f?.uid ?? "", kind: "individual", fullName: f?.fullName ?? "", sortName: f?.sortName || f?.fullName || "", organization: f?.org ?? "", emails: f?.emails ?? [], phones: f?.phones ?? [], hasPhoto: false, memberCount: 0 };
  }
  const s = summary;
  const search = searchText([s.fullName, s.sortName, s.organization, ...extra, ...s.emails, ...s.phones, ...s.phones.map((p) => p.replace(/\D+/g, ""))]);
  // Fields taken from the parsed JSON: fresh strings, not slices that would keep the whole card text alive.
  const json = JSON.stringify(s);
  const f = JSON.parse(json) as ContactSummary;
  const m = members.length ? (JSON.parse(JSON.stringify(members)) as string[]) : NONE;
  return new ContactRow(json, search, f.id, f.uid, f.kind, f.fullName, f.sortName, f.emails.length ? f.emails : NONE, m, o.item.id, o.item.modseq, version);
}

export class ContactCache {
  private readonly books = new Map<number, BookRows>();
  private readonly pending = new Map<string, Promise<BookRows>>();
  private total = 0;

  constructor(
    private readonly groupware: Groupware,
    private readonly limits = { books: MAX_BOOKS, rows: MAX_ROWS },
  ) {}

  /** The rows of a book as of its current modseq (the caller read `collection` just now). */
  rows(collection: Collection): Promise<BookRows> {
    const hit = this.books.get(collection.id);
    if (hit && hit.modseq === collection.modseq) {
      this.books.delete(collection.id); // most recently used last
      this.books.set(collection.id, hit);
      return Promise.resolve(hit);
    }
    const key = `${collection.id}:${collection.modseq}`;
    let p = this.pending.get(key);
    if (!p) {
      p = this.build(collection, hit).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  /** Rows cached now (for tests and the bench). */
  size(): { books: number; rows: number } {
    return { books: this.books.size, rows: this.total };
  }

  private async build(c: Collection, old: BookRows | undefined): Promise<BookRows> {
    const reuse = new Map<number, ContactRow>();
    if (old) for (const r of old.rows) reuse.set(r.itemId, r);
    const objects = await this.groupware.listObjects(c);
    const rows: ContactRow[] = new Array(objects.length);
    const todo: number[] = [];
    objects.forEach((o, i) => {
      const r = reuse.get(o.item.id);
      if (r && r.itemModseq === o.item.modseq && r.id === o.resourceName) rows[i] = r;
      else todo.push(i);
    });
    // Bodies in small parallel batches: a cold book of 5,000 cards reads in well under a second.
    for (let k = 0; k < todo.length; k += 32) {
      const batch = todo.slice(k, k + 32);
      const bodies = await Promise.all(batch.map((i) => this.groupware.readBody(objects[i]!).catch(() => new Uint8Array())));
      batch.forEach((i, j) => (rows[i] = rowOf(c.name, objects[i]!, bodies[j]!)));
    }
    rows.sort((a, b) => collator.compare(a.sortName, b.sortName) || collator.compare(a.fullName, b.fullName));
    const byUid = new Map<string, ContactRow>();
    let v4 = 0;
    for (const r of rows) {
      if (r.uid) byUid.set(r.uid, r);
      if (r.version === "4.0") v4++;
    }
    const entry: BookRows = { folderId: c.id, modseq: c.modseq, rows, byUid, version: v4 * 2 > rows.length ? "4.0" : "3.0" };
    this.keep(entry);
    return entry;
  }

  private keep(entry: BookRows): void {
    const prev = this.books.get(entry.folderId);
    if (prev) {
      if (prev.modseq > entry.modseq) return; // a slower build of an older state
      this.books.delete(entry.folderId);
      this.total -= prev.rows.length;
    }
    // A book larger than the whole budget is kept alone (else it would be read again on every request).
    this.books.set(entry.folderId, entry);
    this.total += entry.rows.length;
    for (const [id, b] of this.books) {
      if (this.books.size <= this.limits.books && (this.total <= this.limits.rows || this.books.size === 1)) break;
      if (id === entry.folderId) continue;
      this.books.delete(id);
      this.total -= b.rows.length;
    }
  }
}
