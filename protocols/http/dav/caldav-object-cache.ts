/**
 * Bodies and parsed forms of the objects a report reads, kept in a bounded
 * LRU keyed by the resource and its ETag (a stored object's ETag changes with
 * every write, RFC 4791 §5.3.4), so a repeated query (clients poll; the
 * benchmark repeats) neither reads nor parses an unchanged object again.
 * Reads of many objects run with bounded concurrency.
 *
 * Bounds: MAX_ENTRIES objects and MAX_COST estimated bytes (a parsed
 * ical.js tree takes several times its text); an object larger than
 * MAX_ENTRY_COST is read and parsed but not kept.
 */
import { mapLimit, READ_CONCURRENCY } from "./caldav-report-common.ts";
import type { DavResource } from "./types.ts";

export const MAX_ENTRIES = 20_000;
export const MAX_COST = 96 * 1024 * 1024;
const MAX_ENTRY_COST = 8 * 1024 * 1024;
/** Parsed tree size per body byte, a conservative estimate. */
const PARSED_FACTOR = 8;

interface Entry {
  body: Uint8Array;
  parsed: unknown;
  /** A parse failure (stored data the parser refuses now): kept so it is not retried each time. */
  error: string | null;
  cost: number;
}

const cache = new Map<string, Entry>();
let totalCost = 0;

/** Item ids and ETags are unique within one store, not across stores (tests run several servers in one process). */
const owners = new WeakMap<object, number>();
let nextOwner = 1;

function ownerId(owner: object): number {
  let id = owners.get(owner);
  if (id === undefined) owners.set(owner, (id = nextOwner++));
  return id;
}

function keyOf(owner: object, kind: string, r: DavResource): string {
  const id = r.object ? String(r.object.item.id) : r.href;
  return `${ownerId(owner)}\u0000${kind}\u0000${id}\u0000${r.etag}`;
}

function remember(key: string, e: Entry): void {
  if (e.cost > MAX_ENTRY_COST) return;
  const old = cache.get(key);
  if (old) {
    totalCost -= old.cost;
    cache.delete(key);
  }
  cache.set(key, e);
  totalCost += e.cost;
  while (cache.size > MAX_ENTRIES || totalCost > MAX_COST) {
    const first = cache.keys().next();
    if (first.done) break;
    totalCost -= cache.get(first.value)!.cost;
    cache.delete(first.value);
  }
}

export interface Loaded<T> {
  resource: DavResource;
  body: Uint8Array;
  /** The parsed object, null when `parse` threw (its message in `error`) or parsing was not asked for. */
  parsed: T | null;
  error: string | null;
  /** The body could not be read (the resource was deleted since it was listed): answer 404 for it. */
  gone: boolean;
}

/**
 * Reads (and, with `parse`, parses) the resources, from the cache where it
 * has them. `owner` is the store they come from (the groupware service),
 * `kind` separates parsers ("ical", "vcard").
 */
export async function loadResources<T>(owner: object, kind: string, resources: readonly DavResource[], parse: ((body: Uint8Array) => T) | null): Promise<Loaded<T>[]> {
  return mapLimit(resources, READ_CONCURRENCY, async (r) => {
    const key = keyOf(owner, kind, r);
    const hit = cache.get(key);
    if (hit && (hit.parsed !== null || hit.error !== null || !parse)) {
      cache.delete(key);
      cache.set(key, hit);
      return { resource: r, body: hit.body, parsed: parse ? (hit.parsed as T | null) : null, error: hit.error, gone: false };
    }
    let body: Uint8Array;
    try {
      body = hit?.body ?? (await r.body());
    } catch (e) {
      return { resource: r, body: new Uint8Array(), parsed: null, error: e instanceof Error ? e.message : String(e), gone: true };
    }
    if (!parse) {
      remember(key, { body, parsed: null, error: null, cost: body.byteLength });
      return { resource: r, body, parsed: null, error: null, gone: false };
    }
    let parsed: T | null = null;
    let error: string | null = null;
    try {
      parsed = parse(body);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    remember(key, { body, parsed, error, cost: body.byteLength * (parsed === null ? 1 : PARSED_FACTOR) + 256 });
    return { resource: r, body, parsed, error, gone: false };
  });
}

/** Drops everything (tests). */
export function clearObjectCache(): void {
  cache.clear();
  totalCost = 0;
}
