/**
 * The resources of a collection as DAV sees them, the same way for store
 * collections (calendars, task lists, address books) and the read-only
 * directory book: name, href, ETag, type, size, modification time and the
 * bytes on demand. Reports (calendar-multiget, addressbook-query...) and
 * sync-collection list through here.
 */
import type { Collection, StoredObject } from "../../../src/groupware/types.ts";
import { directoryResources } from "./directory-book.ts";
import { objectContentType, objectHref, type DavContext, type DavResource, type DavTarget } from "./types.ts";

/** Upper bound on names asked for at once (a multiget's hrefs): larger requests are the caller's error. */
export const MAX_NAMES = 10_000;

/** Modification time of a stored object (ms; the store's last write), 0 = unknown. */
export function lastModifiedOf(o: StoredObject): number {
  return o.item.modifiedAt ?? 0;
}

/** One stored object as a DavResource. */
export function resourceOf(dc: DavContext, collection: Collection, o: StoredObject): DavResource {
  return {
    name: o.resourceName,
    href: objectHref(dc.account.email, collection, o.resourceName),
    etag: o.etag,
    contentType: objectContentType(collection),
    size: o.item.size,
    lastModified: lastModifiedOf(o),
    body: () => dc.groupware.readBody(o),
    object: o,
  };
}

/**
 * The resources of a collection-like target (a store collection or the
 * directory book), or of one object target; `names` restricts to those
 * resource names (missing names are left out, the caller answers 404 for them).
 */
export async function resources(dc: DavContext, target: DavTarget, names?: readonly string[]): Promise<DavResource[]> {
  if (names && names.length > MAX_NAMES) throw new RangeError(`more than ${MAX_NAMES} resources asked for at once`);
  switch (target.kind) {
    case "collection": {
      const c = target.collection;
      const objs = names ? await dc.groupware.getObjects(c, names) : await dc.groupware.listObjects(c);
      return objs.map((o) => resourceOf(dc, c, o));
    }
    case "object":
      if (!target.object) return [];
      if (names && !names.includes(target.name)) return [];
      return [resourceOf(dc, target.collection, target.object)];
    case "directory": {
      const all = await directoryResources(dc);
      if (!names) return all;
      const want = new Set(names);
      return all.filter((r) => want.has(r.name));
    }
    case "directory-object": {
      const all = await directoryResources(dc);
      return all.filter((r) => r.name === target.name && (!names || names.includes(r.name)));
    }
    default:
      return [];
  }
}
