/**
 * The contacts JSON API (issue 17; routes and shapes in api-types.ts):
 * address book listing with search, one contact read/created/updated/
 * deleted, its photo, vCard export and import, and a contact group expanded
 * into recipients. Cards are read and merged by src/groupware/model/contact.ts
 * and written through the groupware service, so CardDAV clients see every
 * change (and the webmail sees theirs) at once.
 *
 * Every route looks the book up among the signed-in account's own
 * collections: another user's book, like one that does not exist, is a 404.
 *
 * Hono matches in registration order, so the fixed words come first:
 * /api/contacts/export/:book, /api/contacts/import/:book and
 * /api/contacts/groups/:book/:id/expand before /api/contacts/:book/:id. A
 * book literally named "export" still works: GET /api/contacts/export/<x>
 * exports the book <x> when there is one, and otherwise reads contact <x> of
 * the book "export".
 */
import { randomUUID } from "node:crypto";
import type { Context, Hono, Next } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import { GroupwareError, type Collection, type StoredObject } from "../../../src/groupware/types.ts";
import { parseVCard, splitVCards, VCardError } from "../../../src/groupware/vcard/index.ts";
import { ContactError, mergeContact, readContact } from "../../../src/groupware/model/contact.ts";
import { checkContactData, sniffImage } from "../../../src/groupware/model/contact-check.ts";
import type { AppEnv } from "../types.ts";
import type { ContactResponse, ContactWrite, ImportResult, Person } from "./api-types.ts";
import { ApiError, contentDisposition, readJson } from "./util.ts";
import { ContactCache, queryWords, rowMatches, type BookRows, type ContactRow } from "./contacts-cache.ts";

export interface ContactsDeps {
  ctx: ServerContext;
  cache: ContactCache;
}

/** Cards per import file, and ids per export. */
export const MAX_IMPORT_CARDS = 10_000;
export const MAX_EXPORT_IDS = 10_000;
/** Recipients one group expands to. */
export const MAX_EXPANDED = 1000;

/** A groupware/contact failure as words for the person (400 bad input, 404, 409 stale or clash, 413, 507). */
export function contactApiError(e: unknown): unknown {
  if (e instanceof ContactError) return new ApiError(400, "bad_contact", e.message);
  if (e instanceof VCardError) return new ApiError(400, "bad_vcard", `That is not a vCard we can store: ${e.message}`);
  if (!(e instanceof GroupwareError)) return e;
  switch (e.code) {
    case "NOT_FOUND":
      return new ApiError(404, "not_found", "That contact no longer exists. It may have been deleted on another device.");
    case "PRECONDITION":
      return new ApiError(409, "changed", "That contact was changed elsewhere meanwhile. Reload it and try again.");
    case "UID_CONFLICT":
      return new ApiError(409, "uid_conflict", "Another contact of this address book has the same UID.");
    case "TOO_LARGE":
      return new ApiError(413, "too_large", "That contact is too large to store.");
    case "QUOTA":
      return new ApiError(507, "quota", "The mailbox is full. Delete some messages or contacts, then try again.");
    case "FORBIDDEN":
      return new ApiError(403, "forbidden", `That is not allowed: ${e.message}`);
    default:
      return new ApiError(400, "bad_contact", `The contact cannot be stored: ${e.message}`);
  }
}

async function guarded<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw contactApiError(e);
  }
}

const enc = new TextEncoder();

export function mountContactsApi(app: Hono<AppEnv>, deps: ContactsDeps): void {
  const gw = deps.ctx.groupware;
  const cache = deps.cache;

  const findBook = async (a: Account, name: string): Promise<Collection | null> => {
    const col = name ? await gw.getCollection(a, name) : null;
    return col && col.kind === "contacts" ? col : null;
  };
  const book = async (c: Context<AppEnv>, name = c.req.param("book") ?? ""): Promise<Collection> => {
    const col = await findBook(c.get("account"), name);
    if (!col) throw new ApiError(404, "not_found", "That address book does not exist.");
    return col;
  };
  const object = async (col: Collection, id: string): Promise<StoredObject> => {
    const o = id ? await gw.getObject(col, id) : null;
    if (!o) throw new ApiError(404, "not_found", "That contact no longer exists. It may have been deleted on another device.");
    return o;
  };
  const response = (col: Collection, o: StoredObject, text: string | Uint8Array): ContactResponse => ({ book: col.name, id: o.resourceName, etag: o.etag, contact: readContact(text).data });
  const writeBody = async (c: Context<AppEnv>) => {
    // A photo of up to ~720 KB arrives as base64 inside the JSON.
    const body = await readJson<ContactWrite>(c, 2 * 1024 * 1024);
    if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ApiError(400, "bad_request", "Send { contact, etag }.");
    if (body.etag !== undefined && typeof body.etag !== "string") throw new ApiError(400, "bad_request", "etag must be text.");
    return { contact: body.contact as unknown, etag: body.etag };
  };

  // ---------------------------------------------------------------- list and search

  app.get("/api/contacts", async (c, next: Next) => {
    const name = c.req.query("book");
    // Without a book this is the composer's older address autocomplete (settings-api.ts): let it answer.
    if (name === undefined) return next();
    const col = await book(c, name);
    const rows = await cache.rows(col);
    const words = queryWords((c.req.query("q") ?? "").slice(0, 200));
    const out = words.length ? rows.rows.filter((r) => rowMatches(r, words, false)) : rows.rows;
    return c.body(`{"contacts":[${out.map((r) => r.json).join(",")}]}`, 200, { "content-type": "application/json; charset=UTF-8", "cache-control": "no-store" });
  });

  // ---------------------------------------------------------------- export, import, groups (before /:book/:id)

  app.get("/api/contacts/export/:book", async (c, next: Next) => {
    const a = c.get("account");
    const col = await findBook(a, c.req.param("book"));
    if (!col) {
      if (await findBook(a, "export")) return next(); // contact <id> of a book called "export"
      throw new ApiError(404, "not_found", "That address book does not exist.");
    }
    const idsParam = c.req.query("ids");
    let objects: StoredObject[];
    if (idsParam !== undefined) {
      const ids = [...new Set(idsParam.split(",").filter(Boolean))];
      if (ids.length > MAX_EXPORT_IDS) throw new ApiError(400, "too_many", `At most ${MAX_EXPORT_IDS} contacts at once.`);
      objects = await guarded(() => gw.getObjects(col, ids));
    } else objects = await guarded(() => gw.listObjects(col));
    const parts: Uint8Array[] = [];
    for (let k = 0; k < objects.length; k += 32) {
      const bodies = await Promise.all(objects.slice(k, k + 32).map((o) => gw.readBody(o)));
      for (const b of bodies) {
        parts.push(b);
        if (b.length && b[b.length - 1] !== 0x0a) parts.push(enc.encode("\r\n")); // every card on its own lines
      }
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const out = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return c.body(out, 200, {
      // RFC 6350 §10.1: text/vcard, UTF-8
      "content-type": "text/vcard; charset=utf-8",
      "content-disposition": contentDisposition("attachment", `${col.displayName || col.name}.vcf`),
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
    });
  });

  app.post("/api/contacts/import/:book", async (c) => {
    const a = c.get("account");
    const col = await book(c);
    const text = new TextDecoder("utf-8").decode(await c.req.arrayBuffer()); // the /api/* body limit (10 MB) bounds it
    const split = splitVCards(text);
    const result: ImportResult = { imported: 0, updated: 0, errors: [...split.errors] };
    if (!split.cards.length && !split.errors.length) result.errors.push("The file holds no vCard (BEGIN:VCARD ... END:VCARD).");
    if (split.cards.length > MAX_IMPORT_CARDS) {
      result.errors.push(`The file holds ${split.cards.length} cards: at most ${MAX_IMPORT_CARDS} are imported at once; the rest was not read.`);
      split.cards.length = MAX_IMPORT_CARDS;
    }
    const rows = await cache.rows(col);
    const byUid = new Map<string, string>();
    for (const r of rows.rows) if (r.uid) byUid.set(r.uid, r.id);
    // Parsed first (a card's own faults), then written 16 at a time, never two of one UID at once.
    const cardErrors: { at: number; text: string }[] = [];
    const fail = (at: number, label: string, e: unknown) => {
      const err = contactApiError(e);
      if (!(err instanceof ApiError)) throw err;
      cardErrors.push({ at, text: `${label}: ${err.message}` });
    };
    const todo: { at: number; label: string; uid: string; bytes: Uint8Array }[] = [];
    split.cards.forEach((card, at) => {
      const label = `Card ${at + 1}`;
      try {
        const parsed = parseVCard(card);
        todo.push({ at, label: parsed.fields.fullName ? `${label} (${parsed.fields.fullName.slice(0, 60)})` : label, uid: parsed.uid, bytes: enc.encode(card) });
      } catch (e) {
        fail(at, label, e);
      }
    });
    const write = async (t: (typeof todo)[number]) => {
      const existing = byUid.get(t.uid);
      try {
        // Same UID replaces (the file is the newer copy); a new card gets a fresh name.
        const r = await gw.putObject(col, existing ?? `${randomUUID()}.vcf`, t.bytes, existing ? { actor: a, schedule: false } : { actor: a, schedule: false, ifNoneMatch: "*" });
        byUid.set(t.uid, r.object.resourceName);
        if (existing) result.updated++;
        else result.imported++;
      } catch (e) {
        fail(t.at, t.label, e);
      }
    };
    let batch: (typeof todo)[number][] = [];
    const uids = new Set<string>();
    for (const t of todo) {
      if (batch.length >= 16 || uids.has(t.uid)) {
        await Promise.all(batch.map(write));
        batch = [];
        uids.clear();
      }
      batch.push(t);
      uids.add(t.uid);
    }
    await Promise.all(batch.map(write));
    result.errors.push(...cardErrors.sort((x, y) => x.at - y.at).map((e) => e.text));
    c.header("cache-control", "no-store");
    return c.json(result);
  });

  app.get("/api/contacts/groups/:book/:id/expand", async (c) => {
    const col = await book(c);
    const rows = await cache.rows(col);
    const group = rows.rows.find((r) => r.id === c.req.param("id"));
    if (!group) throw new ApiError(404, "not_found", "That group no longer exists. It may have been deleted on another device.");
    if (group.kind !== "group") throw new ApiError(400, "not_group", "That contact is not a group.");
    c.header("cache-control", "no-store");
    return c.json({ members: expandGroup(rows, group) });
  });

  // ---------------------------------------------------------------- one contact

  app.get("/api/contacts/:book/:id", async (c) => {
    const col = await book(c);
    const o = await object(col, c.req.param("id"));
    const body = await guarded(() => gw.readBody(o));
    c.header("cache-control", "no-store");
    return c.json(await guarded(async () => response(col, o, body)));
  });

  app.post("/api/contacts/:book", async (c) => {
    const a = c.get("account");
    const col = await book(c);
    const { contact } = await writeBody(c);
    const data = await guarded(async () => checkContactData(contact));
    return guarded(async () => {
      let version: "3.0" | "4.0" = "3.0";
      if (data.kind === "group") version = (await cache.rows(col)).version; // a new group in the book's own form
      const uid = data.uid || randomUUID();
      const text = mergeContact(null, { ...data, uid }, { version });
      const r = await gw.putObject(col, `${randomUUID()}.vcf`, enc.encode(text), { ifNoneMatch: "*", actor: a, schedule: false });
      return c.json(response(col, r.object, text), 201, { "cache-control": "no-store" });
    });
  });

  app.put("/api/contacts/:book/:id", async (c) => {
    const a = c.get("account");
    const col = await book(c);
    const { contact, etag } = await writeBody(c);
    const o = await object(col, c.req.param("id"));
    if (etag !== undefined && etag !== o.etag) throw new ApiError(409, "changed", "That contact was changed elsewhere meanwhile. Reload it and try again.");
    return guarded(async () => {
      const before = await gw.readBody(o);
      // What the stored card already says passes as it is (another client's card may break the rules for new input).
      const data = checkContactData(contact, readContact(before).data);
      const text = mergeContact(before, data); // the stored UID stays, whatever the data says
      const unchanged = text === new TextDecoder().decode(before);
      const stored = unchanged ? o : (await gw.putObject(col, o.resourceName, enc.encode(text), { ifMatch: o.etag, actor: a, schedule: false })).object;
      return c.json(response(col, stored, text), 200, { "cache-control": "no-store" });
    });
  });

  app.delete("/api/contacts/:book/:id", async (c) => {
    const a = c.get("account");
    const col = await book(c);
    const etag = c.req.query("etag");
    await object(col, c.req.param("id"));
    await guarded(() => gw.deleteObject(col, c.req.param("id"), { ...(etag ? { ifMatch: etag } : {}), actor: a, schedule: false }));
    return c.json({ ok: true }, 200, { "cache-control": "no-store" });
  });

  app.get("/api/contacts/:book/:id/photo", async (c) => {
    const col = await book(c);
    const o = await object(col, c.req.param("id"));
    const r = await guarded(async () => readContact(await gw.readBody(o)));
    if (!r.photo) throw new ApiError(404, "no_photo", "That contact has no photo.");
    const type = sniffImage(r.photo.bytes)!; // the bytes decide the type, never the card's TYPE parameter
    const tag = `"${o.etag.replace(/"/g, "")}-p"`;
    const headers = {
      "content-type": type,
      "content-security-policy": "default-src 'none'",
      "x-content-type-options": "nosniff",
      "cache-control": "private, no-cache",
      etag: tag,
    };
    if (c.req.header("if-none-match") === tag) return c.body(null, 304, headers);
    return c.body(new Uint8Array(r.photo.bytes), 200, headers);
  });
}

/**
 * A group as recipients: a urn:uuid: member is that contact's first email
 * (a member group is expanded once more, one level, never back into itself);
 * a mailto: member is its address. Members with no email, or gone, are left out.
 */
export function expandGroup(rows: BookRows, group: ContactRow): Person[] {
  const out: Person[] = [];
  const seen = new Set<string>();
  const groups = new Set<string>([group.uid]);
  const push = (name: string, address: string) => {
    const k = address.toLowerCase();
    if (!k || seen.has(k) || out.length >= MAX_EXPANDED) return;
    seen.add(k);
    out.push({ name, address: k });
  };
  const walk = (members: readonly string[], depth: number) => {
    for (const m of members) {
      if (/^mailto:/i.test(m)) {
        push("", decodeURIComponentSafe(m.slice(7)));
        continue;
      }
      const bare = m.replace(/^urn:uuid:/i, "");
      const r = rows.byUid.get(m) ?? rows.byUid.get(bare) ?? rows.byUid.get(`urn:uuid:${bare}`);
      if (!r) continue;
      if (r.kind === "group") {
        if (depth < 1 && !groups.has(r.uid)) {
          groups.add(r.uid);
          walk(r.members, depth + 1);
        }
      } else if (r.emails[0]) push(r.fullName, r.emails[0]);
    }
  };
  walk(group.members, 0);
  return out;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
