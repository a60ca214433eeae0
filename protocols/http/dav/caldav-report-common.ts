/**
 * What the CalDAV and CardDAV REPORTs share (RFC 4791 §7.8-§7.9, RFC 6352
 * §8.6-§8.7): the property request of the body (DAV:prop / allprop /
 * propname), one <D:response> per matching resource built through the DAV
 * core's property definitions (calendar-data/address-data supplied by the
 * report), multiget hrefs resolved to resource names of the target, bounded
 * concurrency for body reads, and ReportError -> DAV error response.
 */
import { GroupwareError } from "../../../src/groupware/types.ts";
import { propertiesOn, propertyFor } from "./extensions.ts";
import { ReportError } from "./caldav-report-error.ts";
import { davError, encodeSegment, type DavContext, type DavResource, type DavResponse, type DavTarget } from "./types.ts";
import { DAV_NS, XmlError, clark, type XmlElement } from "./xml.ts";
import { x, type XNode } from "./xml-writer.ts";

/** Most hrefs in one multiget (RFC 4791 §7.9 / RFC 6352 §8.7 set none; 10,000 keeps one request bounded). */
export const MAX_HREFS = 10_000;
/** Most resources one query answers (RFC 4791 §7.8 / RFC 5323: DAV:number-of-matches-within-limits beyond). */
export const MAX_MATCHES = 10_000;
/** Parallel body reads of one report. */
export const READ_CONCURRENCY = 16;

export interface PropRequest {
  mode: "prop" | "allprop" | "propname";
  /** The requested property elements (mode "prop"; for allprop, the DAV:include list). */
  props: XmlElement[];
}

/** The DAV:prop / DAV:allprop / DAV:propname child of a REPORT body (absent = getetag only, as most servers do). */
export function propRequest(body: XmlElement): PropRequest {
  for (const c of body.children) {
    if (c.ns !== DAV_NS) continue;
    if (c.name === "prop") return { mode: "prop", props: c.children };
    if (c.name === "allprop") return { mode: "allprop", props: body.children.filter((k) => k.ns === DAV_NS && k.name === "include").flatMap((k) => k.children) };
    if (c.name === "propname") return { mode: "propname", props: [] };
  }
  return { mode: "prop", props: [{ ns: DAV_NS, name: "getetag", attrs: {}, children: [], text: "" }] };
}

/** The target of one resource of a collection-like target (for the core's property getters). */
export function memberTarget(parent: DavTarget, r: DavResource): DavTarget {
  if ((parent.kind === "collection" || parent.kind === "object") && r.object) {
    return { kind: "object", href: r.href, collection: parent.collection, name: r.name, object: r.object };
  }
  return { kind: "directory-object", href: r.href, name: r.name, resource: r };
}

/**
 * Special properties the report computes itself (calendar-data, address-data), by Clark name:
 * the value node, or null = not available (404 propstat).
 */
export type SpecialProps = Map<string, (req: XmlElement) => XNode | null>;

/** One <D:response> for a resource with the requested properties. */
export async function resourceResponse(dc: DavContext, target: DavTarget, req: PropRequest, special: SpecialProps): Promise<DavResponse> {
  const found: XNode[] = [];
  const missing: XNode[] = [];
  const failed: { status: number; node: XNode; description?: string }[] = [];
  if (req.mode === "propname") {
    for (const d of propertiesOn(target, false)) found.push(x(d.ns, d.name));
    return { href: target.href, propstats: [{ status: 200, props: found }] };
  }
  const wanted: XmlElement[] = req.mode === "allprop" ? [...propertiesOn(target, true).map((d) => ({ ns: d.ns, name: d.name, attrs: {}, children: [], text: "" })), ...req.props] : req.props;
  const seen = new Set<string>();
  for (const p of wanted) {
    const key = clark(p.ns, p.name);
    if (seen.has(key)) continue;
    seen.add(key);
    const own = special.get(key);
    if (own) {
      try {
        const node = own(p);
        if (node) found.push(node);
        else missing.push(x(p.ns, p.name));
      } catch (e) {
        if (!(e instanceof ReportError) || e.status >= 500 || e.status === 400) throw e;
        failed.push({ status: e.status, node: x(p.ns, p.name), description: e.message });
      }
      continue;
    }
    const def = propertyFor(p.ns, p.name, target);
    const node = def ? await def.get(dc, target, p) : null;
    if (node) found.push(node);
    else missing.push(x(p.ns, p.name));
  }
  const propstats: NonNullable<DavResponse["propstats"]> = [];
  if (found.length) propstats.push({ status: 200, props: found });
  if (missing.length) propstats.push({ status: 404, props: missing });
  for (const f of failed) propstats.push({ status: f.status, props: [f.node], description: f.description });
  if (!propstats.length) propstats.push({ status: 200, props: [] });
  return { href: target.href, propstats };
}

/** Runs `fn` over `items` with at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** The collection href every member href of `target` starts with (the target itself for a collection). */
function collectionPrefix(target: DavTarget): string {
  if (target.kind === "object" || target.kind === "directory-object") return target.href.slice(0, target.href.lastIndexOf("/") + 1);
  return target.href.endsWith("/") ? target.href : target.href + "/";
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/**
 * The resource name a multiget href names in the target collection, or
 * null when it points elsewhere (another collection, another user, a
 * collection itself, a malformed URL): those are answered 404.
 */
export function hrefToName(target: DavTarget, href: string): string | null {
  let path = href.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(path)) {
    try {
      path = new URL(path).pathname;
    } catch {
      return null;
    }
  }
  const q = path.search(/[?#]/);
  if (q >= 0) path = path.slice(0, q);
  const prefix = collectionPrefix(target);
  // Compare decoded forms: clients differ in what they percent-encode ("@" or not).
  const decodedPrefix = safeDecode(prefix);
  const slash = path.lastIndexOf("/");
  if (slash < 0 || decodedPrefix === null) return null;
  const dir = safeDecode(path.slice(0, slash + 1));
  const name = safeDecode(path.slice(slash + 1));
  if (dir === null || name === null || dir !== decodedPrefix) return null;
  if (!name || name === "." || name === ".." || name.includes("/")) return null;
  if (target.kind === "object" || target.kind === "directory-object") return name === target.name ? name : null;
  return name;
}

/** The canonical href of a member name under a collection-like target. */
export function memberHref(target: DavTarget, name: string): string {
  return collectionPrefix(target) + encodeSegment(name);
}

/** Converts what a report handler threw into the DAV error response (or rethrows what is not ours). */
export function reportFailure(e: unknown): Response {
  if (e instanceof ReportError) return davError(e.status, e.ns, e.element, e.message);
  if (e instanceof XmlError) return davError(400, DAV_NS, "valid-xml", e.message);
  if (e instanceof GroupwareError) {
    if (e.code === "LIMIT") return davError(507, DAV_NS, "number-of-matches-within-limits", e.message);
    if (e.code === "NOT_FOUND") return davError(404, DAV_NS, "resource-must-be-non-null", e.message);
  }
  if (e instanceof Error && (e as { code?: unknown }).code === "LIMIT") return davError(507, DAV_NS, "number-of-matches-within-limits", e.message);
  throw e;
}
