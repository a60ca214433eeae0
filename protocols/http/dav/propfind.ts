/**
 * PROPFIND (RFC 4918 §9.1): prop / allprop (+ include) / propname, Depth 0
 * and 1 (Depth infinity is refused with propfind-finite-depth, §9.1 and
 * §16). A big collection's listing is streamed one response at a time.
 */
import type { Collection } from "../../../src/groupware/types.ts";
import { directoryResources } from "./directory-book.ts";
import { propertiesOn, propertyFor } from "./extensions.ts";
import { collectionHref, davError, directoryHref, encodeSegment, multistatus, propResponse, scheduleInboxHref, scheduleOutboxHref, textError, type DavContext, type DavResponse, type DavTarget } from "./types.ts";
import { DAV_NS, type XmlElement } from "./xml.ts";
import { x, type XNode } from "./xml-writer.ts";

export type PropRequest = { type: "prop"; props: XmlElement[] } | { type: "allprop"; include: XmlElement[] } | { type: "propname" };

/**
 * Most properties asked for in one request: the work of a Depth 1 listing is
 * members x properties, so both are bounded (a client needs a few dozen).
 */
export const MAX_PROPS = 256;

const tooMany = { error: `too many properties in one request (at most ${MAX_PROPS})` };

/** Reads a <D:propfind> body (null body = allprop, RFC 4918 §9.1). */
export function parsePropfind(root: XmlElement | null): PropRequest | { error: string } {
  if (!root) return { type: "allprop", include: [] };
  if (root.ns !== DAV_NS || root.name !== "propfind") return { error: "the PROPFIND body must be a DAV:propfind element" };
  for (const c of root.children) {
    if (c.ns !== DAV_NS) continue;
    if (c.name === "prop") return c.children.length > MAX_PROPS ? tooMany : { type: "prop", props: c.children };
    if (c.name === "propname") return { type: "propname" };
    if (c.name === "allprop") {
      const inc = root.children.find((k) => k.ns === DAV_NS && k.name === "include");
      if (inc && inc.children.length > MAX_PROPS) return tooMany;
      return { type: "allprop", include: inc ? inc.children : [] };
    }
  }
  return { error: "DAV:propfind needs one of DAV:prop, DAV:allprop, DAV:propname" };
}

/** The properties of one target as a <D:response>. */
export async function propstatFor(dc: DavContext, t: DavTarget, req: PropRequest): Promise<DavResponse> {
  if (req.type === "propname") {
    return propResponse(t.href, propertiesOn(t, false).map((d) => x(d.ns, d.name)), []);
  }
  const found: XNode[] = [];
  const missing: XNode[] = [];
  const want: XmlElement[] =
    req.type === "prop"
      ? req.props
      : [...propertiesOn(t, true).map((d) => ({ ns: d.ns, name: d.name, attrs: {}, children: [], text: "" })), ...req.include];
  const seen = new Set<string>();
  for (const p of want) {
    const key = `{${p.ns}}${p.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const def = propertyFor(p.ns, p.name, t);
    const value = def ? await def.get(dc, t, req.type === "prop" ? p : null) : null;
    if (value) found.push(value);
    else missing.push(x(p.ns, p.name));
  }
  return propResponse(t.href, found, req.type === "allprop" ? [] : missing);
}

function collectionTarget(dc: DavContext, c: Collection): DavTarget {
  return { kind: "collection", href: collectionHref(dc.account.email, c), collection: c };
}

/** The members of a collection-like target (Depth 1), lazily. */
export async function* membersOf(dc: DavContext, t: DavTarget): AsyncGenerator<DavTarget> {
  const me = dc.account.email;
  switch (t.kind) {
    case "calendar-home": {
      for (const c of await dc.groupware.listCollections(dc.account)) if (c.kind !== "contacts") yield collectionTarget(dc, c);
      yield { kind: "schedule-inbox", href: scheduleInboxHref(me) };
      yield { kind: "schedule-outbox", href: scheduleOutboxHref(me) };
      return;
    }
    case "addressbook-home": {
      for (const c of await dc.groupware.listCollections(dc.account, "contacts")) yield collectionTarget(dc, c);
      yield { kind: "directory", href: directoryHref(me) };
      return;
    }
    case "collection": {
      const c = t.collection;
      const base = collectionHref(me, c);
      for (const o of await dc.groupware.listObjects(c)) yield { kind: "object", href: base + encodeSegment(o.resourceName), collection: c, name: o.resourceName, object: o };
      return;
    }
    case "directory": {
      for (const r of await directoryResources(dc)) yield { kind: "directory-object", href: r.href, name: r.name, resource: r };
      return;
    }
    default:
      return;
  }
}

/** RFC 8144 §2 `Prefer: return=minimal` (and the older `Brief: t` of Apple clients): leave out the 404 propstats. */
export function wantsMinimal(req: Request): "prefer" | "brief" | null {
  if (/(^|[,;\s])return=minimal(\s|;|,|$)/i.test(req.headers.get("prefer") ?? "")) return "prefer";
  return (req.headers.get("brief") ?? "").trim().toLowerCase() === "t" ? "brief" : null;
}

function minimal(r: DavResponse): DavResponse {
  if (!r.propstats) return r;
  const kept = r.propstats.filter((ps) => ps.status !== 404);
  return { ...r, propstats: kept.length ? kept : [{ status: 200, props: [] }] };
}

export async function propfind(dc: DavContext, t: DavTarget, root: XmlElement | null): Promise<Response> {
  if (dc.depth === "infinity") return davError(403, DAV_NS, "propfind-finite-depth", "PROPFIND with Depth: infinity is not supported; use Depth: 0 or 1");
  if (t.kind === "missing" || (t.kind === "object" && !t.object)) return textError(404, "no such resource");
  const req = parsePropfind(root);
  if ("error" in req) return textError(400, req.error);
  if (t.kind === "directory-object" && !t.resource) {
    const list = await directoryResources(dc);
    if (!list.some((r) => r.name === t.name)) return textError(404, "no such entry in the directory");
  }
  const min = wantsMinimal(dc.req);
  const shape = min ? minimal : (r: DavResponse) => r;
  const headers: Record<string, string> = min === "prefer" ? { "preference-applied": "return=minimal", vary: "Brief, Prefer" } : { vary: "Brief, Prefer" };
  const self = shape(await propstatFor(dc, t, req));
  if (dc.depth === "0") return multistatus([self], { headers });
  const members = membersOf(dc, t);
  async function* all(): AsyncGenerator<DavResponse> {
    yield self;
    for await (const m of members) yield shape(await propstatFor(dc, m, req as PropRequest));
  }
  return multistatus(all(), { headers });
}
