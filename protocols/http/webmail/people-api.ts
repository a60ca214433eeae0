/**
 * People lookups for the webmail (issue 17; shapes in api-types.ts):
 *  - GET /api/directory?q=  the domain's directory (src/groupware/directory.ts), read-only;
 *    without q every entry (at most MAX_DIRECTORY), for the Contacts app's "Directory";
 *  - GET /api/people?q=     the address autocomplete of the composer and the attendee
 *    picker: contacts of all the user's address books (through the contacts cache),
 *    contact groups (source "group", expanded by the client before sending),
 *    recent correspondents and the directory. Deduplicated by address, at most 20,
 *    accent-insensitive ("muller" finds Müller), every typed word the start of a word
 *    of the name or address.
 * The older GET /api/contacts?q= (settings-api.ts) keeps answering for the composer.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import { directory, matchDirectory, type DirectoryEntry } from "../../../src/groupware/directory.ts";
import type { AppEnv } from "../types.ts";
import type { DirectoryPerson, PersonSuggestion } from "./api-types.ts";
import { fold, queryWords, rowMatches, searchText, type ContactCache } from "./contacts-cache.ts";

export interface PeopleDeps {
  ctx: ServerContext;
  wstore: WebmailStore;
  cache: ContactCache;
}

export const MAX_PEOPLE = 20;
export const MAX_DIRECTORY = 2000;
/** The directory is read again after this long (accounts and aliases change rarely; every keystroke asks). */
const DIRECTORY_TTL_MS = 15_000;
const DIRECTORY_CACHE = 200;

interface DirRow {
  entry: DirectoryEntry;
  search: string;
}

export function mountPeopleApi(app: Hono<AppEnv>, deps: PeopleDeps): void {
  const { ctx, wstore, cache } = deps;
  const dirCache = new Map<number, { at: number; rows: DirRow[] }>();
  const ensured = new Set<number>();

  const dirRows = async (a: Account): Promise<DirRow[]> => {
    const hit = dirCache.get(a.id);
    if (hit && Date.now() - hit.at < DIRECTORY_TTL_MS) return hit.rows;
    const rows = (await directory(ctx.store, a)).map((entry) => ({ entry, search: searchText([entry.displayName, entry.firstName, entry.lastName, entry.email]) }));
    dirCache.delete(a.id);
    dirCache.set(a.id, { at: Date.now(), rows });
    if (dirCache.size > DIRECTORY_CACHE) dirCache.delete(dirCache.keys().next().value!);
    return rows;
  };
  const person = (e: DirectoryEntry): DirectoryPerson => ({ address: e.email, name: e.displayName !== e.email ? e.displayName : "", kind: e.kind });

  app.get("/api/directory", async (c) => {
    const a = c.get("account");
    const q = (c.req.query("q") ?? "").slice(0, 200);
    const rows = await dirRows(a);
    const words = queryWords(q);
    let entries: DirectoryEntry[];
    if (!words.length) entries = rows.map((r) => r.entry).sort((x, y) => x.displayName.localeCompare(y.displayName));
    else {
      // matchDirectory's own rules (address or name contains the text), plus accent-insensitive words.
      const hits = new Set(matchDirectory(rows.map((r) => r.entry), q));
      for (const r of rows) if (rowMatches(r, words, false)) hits.add(r.entry);
      entries = [...hits].sort((x, y) => x.displayName.localeCompare(y.displayName));
    }
    c.header("cache-control", "no-store");
    return c.json({ entries: entries.slice(0, MAX_DIRECTORY).map(person) });
  });

  app.get("/api/people", async (c) => {
    const a = c.get("account");
    const q = (c.req.query("q") ?? "").slice(0, 200);
    const words = queryWords(q);
    c.header("cache-control", "no-store");
    if (!words.length) return c.json({ people: [] });
    const whole = fold(q.trim());
    const out: PersonSuggestion[] = [];
    const seen = new Set<string>();
    const add = (p: PersonSuggestion): void => {
      const k = p.group ? `group:${p.group.book}/${p.group.id}` : p.address.toLowerCase();
      if (seen.has(k) || out.length >= MAX_PEOPLE) return;
      seen.add(k);
      out.push(p);
    };

    // Contacts and groups of every book: names that begin with the text first.
    if (!ensured.has(a.id)) {
      await ctx.groupware.ensureDefaults(a);
      ensured.add(a.id);
    }
    const ranked: { score: number; name: string; p: PersonSuggestion }[] = [];
    for (const col of await ctx.groupware.listCollections(a, "contacts")) {
      const book = await cache.rows(col);
      for (const r of book.rows) {
        if (!rowMatches(r, words, true)) continue;
        const s = r; // id, kind, fullName, sortName, emails
        const score = fold(s.fullName).startsWith(whole) || fold(s.sortName).startsWith(whole) ? 0 : s.emails.some((e) => e.startsWith(whole)) ? 1 : 2;
        if (s.kind === "group") ranked.push({ score, name: s.fullName, p: { name: s.fullName, address: "", source: "group", group: { book: col.name, id: s.id } } });
        else for (const e of s.emails) ranked.push({ score: fold(e).startsWith(whole) ? Math.min(score, 1) : score, name: s.fullName, p: { name: s.fullName, address: e, source: "contact", group: null } });
        if (ranked.length > 500) break; // enough to pick 20 from
      }
    }
    ranked.sort((x, y) => x.score - y.score || x.name.localeCompare(y.name));
    for (const r of ranked) add(r.p);

    // People written to or heard from (the composer's memory), then the directory.
    if (out.length < MAX_PEOPLE) {
      for (const r of await wstore.searchCorrespondents(a.id, q.trim().toLowerCase(), MAX_PEOPLE)) add({ name: r.name ?? "", address: r.address.toLowerCase(), source: "recent", group: null });
    }
    if (out.length < MAX_PEOPLE) {
      for (const r of await dirRows(a)) {
        if (out.length >= MAX_PEOPLE) break;
        if (rowMatches(r, words, true)) add({ name: person(r.entry).name, address: r.entry.email, source: "directory", group: null });
      }
    }
    return c.json({ people: out });
  });
}
