/**
 * MKCALENDAR (RFC 4791 §5.3.1) and extended MKCOL (RFC 5689) for calendars,
 * task lists and address books. The collection's kind comes from the
 * request: a supported-calendar-component-set of only VTODO makes a task
 * list, one with VEVENT a calendar; an MKCOL's resourcetype says calendar or
 * address book (a body-less MKCOL makes the home's own kind). The other
 * properties are checked like a PROPPATCH and set atomically with the
 * creation: one refused property fails the request and creates nothing.
 */
import { GroupwareError, type CollectionKind } from "../../../src/groupware/types.ts";
import { groupwareErrorResponse } from "./errors.ts";
import { checkOps, mergedCollectionProps, outcomePropstats, parsePropertyUpdate } from "./proppatch.ts";
import { collectionHref, davError, statusLine, textError, type DavContext, type DavTarget } from "./types.ts";
import { CALDAV_NS, CARDDAV_NS, DAV_NS, type XmlElement } from "./xml.ts";
import { x, xmlResponse } from "./xml-writer.ts";
import type { Collection } from "../../../src/groupware/types.ts";

const RESERVED = new Set(["inbox", "outbox", "directory"]);

/** The props of the first <D:set><D:prop> with this name. */
function setProp(root: XmlElement, ns: string, name: string): XmlElement | undefined {
  for (const s of root.children) {
    if (s.ns !== DAV_NS || s.name !== "set") continue;
    for (const p of s.children) {
      if (p.ns !== DAV_NS || p.name !== "prop") continue;
      const found = p.children.find((c) => c.ns === ns && c.name === name);
      if (found) return found;
    }
  }
  return undefined;
}

/** RFC 4791 §5.2.3 component set -> collection kind; null when it names nothing we store. */
function kindFromComponents(set: XmlElement | undefined): CollectionKind | null | "default" {
  if (!set) return "default";
  const names = set.children.filter((c) => c.ns === CALDAV_NS && c.name === "comp").map((c) => (c.attrs.name ?? "").toUpperCase());
  if (names.includes("VEVENT")) return "calendar";
  if (names.includes("VTODO")) return "tasks";
  return null;
}

export async function mkcol(dc: DavContext, t: DavTarget, root: XmlElement | null, method: "MKCALENDAR" | "MKCOL"): Promise<Response> {
  if (t.kind !== "missing") {
    // RFC 4918 §9.3.1: MKCOL on an existing resource is 405; elsewhere (inside a collection, at a home's level) 403.
    if (t.kind === "collection" || t.kind === "directory" || t.kind === "schedule-inbox" || t.kind === "schedule-outbox" || t.kind.endsWith("-home")) {
      return davError(405, DAV_NS, "resource-must-be-null", "something already exists at this URL", []);
    }
    return textError(403, "collections can only be created directly in your calendar or address book home");
  }
  if (RESERVED.has(t.name.toLowerCase())) return davError(403, DAV_NS, "resource-must-be-null", `"${t.name}" is a reserved name`);
  if (method === "MKCALENDAR" && t.home !== "calendars") return textError(403, "MKCALENDAR is only allowed in the calendar home");

  const expectRoot = method === "MKCALENDAR" ? { ns: CALDAV_NS, name: "mkcalendar" } : { ns: DAV_NS, name: "mkcol" };
  if (root && (root.ns !== expectRoot.ns || root.name !== expectRoot.name)) return textError(400, `the ${method} body must be a {${expectRoot.ns}}${expectRoot.name} element`);

  let kind: CollectionKind;
  const comps = root ? setProp(root, CALDAV_NS, "supported-calendar-component-set") : undefined;
  const fromComps = kindFromComponents(comps);
  if (fromComps === null) return davError(403, CALDAV_NS, "supported-calendar-component", "only VEVENT (calendars) and VTODO (task lists) collections can be created");
  if (method === "MKCALENDAR") kind = fromComps === "default" ? "calendar" : fromComps;
  else {
    const rt = root ? setProp(root, DAV_NS, "resourcetype") : undefined;
    const isCal = !!rt?.children.some((c) => c.ns === CALDAV_NS && c.name === "calendar");
    const isBook = !!rt?.children.some((c) => c.ns === CARDDAV_NS && c.name === "addressbook");
    if (rt && !rt.children.some((c) => c.ns === DAV_NS && c.name === "collection")) return davError(403, DAV_NS, "valid-resourcetype", "the resourcetype must include DAV:collection");
    if (isCal && isBook) return davError(403, DAV_NS, "valid-resourcetype", "a collection cannot be both a calendar and an address book");
    if (rt && !isCal && !isBook) return davError(403, DAV_NS, "valid-resourcetype", "only calendars and address books can be created here");
    const want: "calendars" | "addressbooks" = isCal ? "calendars" : isBook ? "addressbooks" : t.home;
    if (want !== t.home) return davError(403, DAV_NS, "valid-resourcetype", want === "calendars" ? "calendars belong in the calendar home" : "address books belong in the address book home");
    kind = want === "addressbooks" ? "contacts" : fromComps === "default" ? "calendar" : fromComps;
  }

  // Check the other properties against a stand-in of the new collection (the same setters as PROPPATCH).
  const ops = root ? parsePropertyUpdate(root, expectRoot.ns, expectRoot.name) : [];
  if ("error" in ops) return textError(400, ops.error);
  const settable = ops.filter((o) => !(o.el.ns === DAV_NS && o.el.name === "resourcetype") && !(o.el.ns === CALDAV_NS && o.el.name === "supported-calendar-component-set"));
  if (settable.length > 100) return textError(400, "too many properties (at most 100)");
  const draft: Collection = { id: 0, accountId: dc.account.id, kind, name: t.name, displayName: "", description: "", color: "", order: 0, modseq: 0, timezone: "", isDefault: false };
  const stand: DavTarget = { kind: "collection", href: t.href, collection: draft };
  const checked = await checkOps(dc, stand, settable);
  if (!checked.every((c) => c.result.ok)) {
    // RFC 4791 §5.3.1.2 / RFC 5689 §3.4: the response body says which property failed.
    const respRoot = method === "MKCALENDAR" ? x(CALDAV_NS, "mkcalendar-response") : x(DAV_NS, "mkcol-response");
    const stats = outcomePropstats(checked, 424);
    respRoot.children = stats.map((ps) => x(DAV_NS, "propstat", x(DAV_NS, "prop", ...ps.props), x(DAV_NS, "status", statusLine(ps.status)), ps.description && x(DAV_NS, "responsedescription", ps.description)));
    return xmlResponse(403, respRoot);
  }
  let created: Collection;
  try {
    created = await dc.groupware.createCollection(dc.account, kind, t.name, mergedCollectionProps(checked));
    for (const c of checked) if (c.result.ok && c.result.apply) await c.result.apply();
  } catch (e) {
    if (e instanceof GroupwareError) return groupwareErrorResponse(e, null);
    throw e;
  }
  return new Response(null, { status: 201, headers: { location: collectionHref(dc.account.email, created), "cache-control": "no-cache" } });
}
