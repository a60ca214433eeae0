/**
 * The live properties of the DAV core (RFC 4918 §15, RFC 3744 §5, RFC 5397,
 * RFC 4791 §5.2/§6.2, RFC 6352 §6.2/§7.1, RFC 6578 §4, RFC 4331 §3-4, RFC 6638
 * §2.1/§2.2 principal URLs, Apple/CalendarServer extensions), registered
 * through extensions.ts like any module's.
 */
import type { Collection } from "../../../src/groupware/types.ts";
import { directoryResources, directoryVersion } from "./directory-book.ts";
import { registerProperty, reportsOn, type PropSetResult, type PropertyDef } from "./extensions.ts";
import { resourceOf } from "./resources.ts";
import { collectionSyncToken, directorySyncToken } from "./sync-token.ts";
import {
  addressbookHomeHref,
  calendarHomeHref,
  principalHref,
  scheduleInboxHref,
  scheduleOutboxHref,
  type DavContext,
  type DavResource,
  type DavTarget,
  type TargetKind,
} from "./types.ts";
import { CALDAV_NS, CARDDAV_NS, CS_NS, DAV_NS, ICAL_NS, type XmlElement } from "./xml.ts";
import { x, xa, type XNode } from "./xml-writer.ts";

/** RFC 4791 §5.2.5 / RFC 6352 §6.2.3: the largest object body accepted (the service's limit). */
export const MAX_RESOURCE_SIZE = 1024 * 1024;

const ALL: TargetKind[] = ["root", "principal", "calendar-home", "addressbook-home", "collection", "object", "directory", "directory-object", "schedule-inbox", "schedule-outbox", "schedule-inbox-object"];
const COLLECTIONS: TargetKind[] = ["collection", "directory"];
const OBJECTS: TargetKind[] = ["object", "directory-object", "schedule-inbox-object"];

const href = (h: string) => x(DAV_NS, "href", h);
const priv = (ns: string, name: string) => x(DAV_NS, "privilege", x(ns, name));

function def(ns: string, name: string, kinds: TargetKind[], get: PropertyDef["get"], more: Partial<PropertyDef> = {}): void {
  registerProperty({ ns, name, kinds, get, ...more });
}

/** Per target, the resource its properties read (a listing asks several properties of each member). */
const resourceCache = new WeakMap<DavTarget, DavResource>();

/** The DavResource behind an object-like target (for getetag & co.). */
export async function resourceOfTarget(dc: DavContext, t: DavTarget): Promise<DavResource | null> {
  if (t.kind === "object") {
    if (!t.object) return null;
    let r = resourceCache.get(t);
    if (!r) resourceCache.set(t, (r = { ...resourceOf(dc, t.collection, t.object), href: t.href }));
    return r;
  }
  if (t.kind === "directory-object") return t.resource ?? (await directoryResources(dc)).find((r) => r.name === t.name) ?? null;
  if (t.kind === "schedule-inbox-object") return t.resource ?? null;
  return null;
}

const collectionOf = (t: DavTarget): Collection | null => (t.kind === "collection" ? t.collection : null);

// ---- RFC 4918 §15 ----

def(DAV_NS, "resourcetype", ALL, (_dc, t) => {
  const col = x(DAV_NS, "collection");
  switch (t.kind) {
    case "root":
    case "calendar-home":
    case "addressbook-home":
      return x(DAV_NS, "resourcetype", col);
    case "principal":
      return x(DAV_NS, "resourcetype", col, x(DAV_NS, "principal"));
    case "collection":
      return x(DAV_NS, "resourcetype", col, t.collection.kind === "contacts" ? x(CARDDAV_NS, "addressbook") : x(CALDAV_NS, "calendar"));
    case "directory":
      return x(DAV_NS, "resourcetype", col, x(CARDDAV_NS, "addressbook"));
    case "schedule-inbox":
      return x(DAV_NS, "resourcetype", col, x(CALDAV_NS, "schedule-inbox"));
    case "schedule-outbox":
      return x(DAV_NS, "resourcetype", col, x(CALDAV_NS, "schedule-outbox"));
    default:
      return x(DAV_NS, "resourcetype");
  }
}, { allprop: true });

/** A text property's value as sent, bounded. */
function textValue(v: XmlElement | null, max: number): string | { error: string } {
  const s = v ? v.text.trim() : "";
  if (v && v.children.length) return { error: "the value must be text, not XML elements" };
  if (s.length > max) return { error: `the value is longer than ${max} characters` };
  return s;
}

function refuse(status: number, description: string, error?: XNode): PropSetResult {
  return { ok: false, status, description, error };
}

def(
  DAV_NS,
  "displayname",
  ["principal", "collection", "directory", "schedule-inbox", "schedule-outbox"],
  (dc, t) => {
    if (t.kind === "principal") return x(DAV_NS, "displayname", (dc.account.settings.displayName as string | undefined) || dc.account.email);
    if (t.kind === "collection") return x(DAV_NS, "displayname", t.collection.displayName || t.collection.name);
    if (t.kind === "directory") return x(DAV_NS, "displayname", "Directory");
    if (t.kind === "schedule-inbox") return x(DAV_NS, "displayname", "Scheduling inbox");
    if (t.kind === "schedule-outbox") return x(DAV_NS, "displayname", "Scheduling outbox");
    return null;
  },
  {
    allprop: true,
    set: (_dc, t, v) => {
      if (t.kind !== "collection") return refuse(403, "this display name cannot be changed", x(DAV_NS, "cannot-modify-protected-property"));
      const s = textValue(v, 1024);
      if (typeof s !== "string") return refuse(409, s.error);
      return { ok: true, collectionProps: { displayName: s } };
    },
  },
);

async function objectProp(dc: DavContext, t: DavTarget, make: (r: DavResource) => XNode | null): Promise<XNode | null> {
  const r = await resourceOfTarget(dc, t);
  return r ? make(r) : null;
}

def(DAV_NS, "getetag", OBJECTS, (dc, t) => objectProp(dc, t, (r) => x(DAV_NS, "getetag", r.etag)), { allprop: true });
def(DAV_NS, "getcontenttype", OBJECTS, (dc, t) => objectProp(dc, t, (r) => x(DAV_NS, "getcontenttype", r.contentType)), { allprop: true });
def(DAV_NS, "getcontentlength", OBJECTS, (dc, t) => objectProp(dc, t, (r) => x(DAV_NS, "getcontentlength", String(r.size))), { allprop: true });
def(DAV_NS, "getlastmodified", OBJECTS, (dc, t) => objectProp(dc, t, (r) => (r.lastModified > 0 ? x(DAV_NS, "getlastmodified", new Date(r.lastModified).toUTCString()) : null)), { allprop: true });

// ---- RFC 5397, RFC 3744 ----

def(DAV_NS, "current-user-principal", ALL, (dc) => x(DAV_NS, "current-user-principal", href(principalHref(dc.account.email))));
def(DAV_NS, "principal-URL", ["principal"], (dc) => x(DAV_NS, "principal-URL", href(principalHref(dc.account.email))));
def(DAV_NS, "principal-collection-set", ALL, () => x(DAV_NS, "principal-collection-set", href("/dav/principals/")));
def(DAV_NS, "owner", ["principal", "calendar-home", "addressbook-home", "collection", "object", "schedule-inbox", "schedule-outbox"], (dc) => x(DAV_NS, "owner", href(principalHref(dc.account.email))));
def(DAV_NS, "group-membership", ["principal"], () => x(DAV_NS, "group-membership"));
def(DAV_NS, "alternate-URI-set", ["principal"], (dc) => x(DAV_NS, "alternate-URI-set", href(`mailto:${dc.account.email}`)));

/** RFC 3744 §5.4: what the user may do here (the server's real rules: own data writable, the directory read-only). */
def(DAV_NS, "current-user-privilege-set", ALL, (_dc, t) => {
  const read = [priv(DAV_NS, "read"), priv(DAV_NS, "read-current-user-privilege-set")];
  const write = [priv(DAV_NS, "write"), priv(DAV_NS, "write-properties"), priv(DAV_NS, "write-content"), priv(DAV_NS, "bind"), priv(DAV_NS, "unbind")];
  let set: XNode[];
  switch (t.kind) {
    case "calendar-home":
    case "addressbook-home":
      set = [...read, priv(DAV_NS, "bind"), priv(DAV_NS, "unbind")];
      break;
    case "collection":
      set = [...read, ...write, ...(t.collection.kind === "contacts" ? [] : [priv(CALDAV_NS, "read-free-busy")])];
      break;
    case "object":
      set = [...read, priv(DAV_NS, "write"), priv(DAV_NS, "write-content")];
      break;
    case "schedule-inbox":
      set = [...read, priv(DAV_NS, "unbind"), priv(CALDAV_NS, "schedule-deliver")];
      break;
    case "schedule-outbox":
      set = [...read, priv(CALDAV_NS, "schedule-send")];
      break;
    case "schedule-inbox-object":
      set = [...read, priv(DAV_NS, "unbind")];
      break;
    default:
      set = read;
  }
  return x(DAV_NS, "current-user-privilege-set", ...set);
});

/** RFC 3253 §3.1.5: the REPORTs registered for this target. */
def(DAV_NS, "supported-report-set", ALL, (_dc, t) =>
  x(DAV_NS, "supported-report-set", ...reportsOn(t).map((r) => x(DAV_NS, "supported-report", x(DAV_NS, "report", x(r.ns, r.name))))),
);

// ---- principal: RFC 4791 §6.2.1, RFC 6352 §7.1.1, RFC 6638 §2.1-2.4 ----

def(CALDAV_NS, "calendar-home-set", ["principal"], (dc) => x(CALDAV_NS, "calendar-home-set", href(calendarHomeHref(dc.account.email))));
def(CARDDAV_NS, "addressbook-home-set", ["principal"], (dc) => x(CARDDAV_NS, "addressbook-home-set", href(addressbookHomeHref(dc.account.email))));
def(CARDDAV_NS, "principal-address", ["principal"], () => null);
def(CALDAV_NS, "schedule-inbox-URL", ["principal"], (dc) => x(CALDAV_NS, "schedule-inbox-URL", href(scheduleInboxHref(dc.account.email))));
def(CALDAV_NS, "schedule-outbox-URL", ["principal"], (dc) => x(CALDAV_NS, "schedule-outbox-URL", href(scheduleOutboxHref(dc.account.email))));
def(CALDAV_NS, "calendar-user-type", ["principal"], () => x(CALDAV_NS, "calendar-user-type", "INDIVIDUAL"));

/** The account's addresses: its own and the aliases that deliver to it (not catch-alls), mailto: URIs (RFC 6638 §2.4.1). */
export async function userAddresses(dc: DavContext): Promise<string[]> {
  const out = [dc.account.email];
  for (const a of await dc.ctx.store.listAliases()) {
    if (a.source.startsWith("@") || a.destination.toLowerCase() !== dc.account.email) continue;
    const s = a.source.toLowerCase();
    if (!out.includes(s)) out.push(s);
    if (out.length >= 100) break; // bounded: a principal property, not a directory
  }
  return out;
}

def(CALDAV_NS, "calendar-user-address-set", ["principal"], async (dc) =>
  x(CALDAV_NS, "calendar-user-address-set", ...(await userAddresses(dc)).map((a, i) => xa(DAV_NS, "href", i === 0 ? { preferred: "1" } : {}, `mailto:${a}`))),
);

// ---- collections ----

const CAL = ["calendar", "tasks"] as const;

def(CALDAV_NS, "calendar-description", ["collection"], (_dc, t) => x(CALDAV_NS, "calendar-description", collectionOf(t)?.description ?? ""), {
  collectionKinds: [...CAL],
  set: (_dc, _t, v) => {
    const s = textValue(v, 8192);
    if (typeof s !== "string") return refuse(409, s.error);
    return { ok: true, collectionProps: { description: s } };
  },
});
def(CARDDAV_NS, "addressbook-description", ["collection", "directory"], (_dc, t) =>
  x(CARDDAV_NS, "addressbook-description", t.kind === "directory" ? "Everyone in your organisation (read-only)" : (collectionOf(t)?.description ?? "")), {
  collectionKinds: ["contacts"],
  set: (_dc, t, v) => {
    if (t.kind !== "collection") return refuse(403, "the directory is read-only", x(DAV_NS, "cannot-modify-protected-property"));
    const s = textValue(v, 8192);
    if (typeof s !== "string") return refuse(409, s.error);
    return { ok: true, collectionProps: { description: s } };
  },
});

def(CALDAV_NS, "supported-calendar-component-set", ["collection"], (_dc, t) =>
  x(CALDAV_NS, "supported-calendar-component-set", xa(CALDAV_NS, "comp", { name: collectionOf(t)?.kind === "tasks" ? "VTODO" : "VEVENT" })), { collectionKinds: [...CAL] });
def(CALDAV_NS, "supported-calendar-data", ["collection"], () =>
  x(CALDAV_NS, "supported-calendar-data", xa(CALDAV_NS, "calendar-data", { "content-type": "text/calendar", version: "2.0" })), { collectionKinds: [...CAL] });
def(CARDDAV_NS, "supported-address-data", ["collection", "directory"], () =>
  x(CARDDAV_NS, "supported-address-data", xa(CARDDAV_NS, "address-data-type", { "content-type": "text/vcard", version: "3.0" }), xa(CARDDAV_NS, "address-data-type", { "content-type": "text/vcard", version: "4.0" })),
  { collectionKinds: ["contacts"] });
def(CALDAV_NS, "max-resource-size", ["collection"], () => x(CALDAV_NS, "max-resource-size", String(MAX_RESOURCE_SIZE)), { collectionKinds: [...CAL] });
def(CARDDAV_NS, "max-resource-size", ["collection", "directory"], () => x(CARDDAV_NS, "max-resource-size", String(MAX_RESOURCE_SIZE)), { collectionKinds: ["contacts"] });

const COLOR_RE = /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/;
def(ICAL_NS, "calendar-color", ["collection"], (_dc, t) => {
  const c = collectionOf(t);
  return c && c.color ? x(ICAL_NS, "calendar-color", c.color) : null;
}, {
  collectionKinds: [...CAL],
  set: (_dc, _t, v) => {
    const s = textValue(v, 16);
    if (typeof s !== "string") return refuse(409, s.error);
    if (s !== "" && !COLOR_RE.test(s)) return refuse(409, "calendar-color must be #RRGGBB or #RRGGBBAA");
    return { ok: true, collectionProps: { color: s } };
  },
});
def(ICAL_NS, "calendar-order", ["collection"], (_dc, t) => {
  const c = collectionOf(t);
  return c && c.order ? x(ICAL_NS, "calendar-order", String(c.order)) : null;
}, {
  collectionKinds: [...CAL],
  set: (_dc, _t, v) => {
    const s = textValue(v, 16);
    if (typeof s !== "string") return refuse(409, s.error);
    if (s !== "" && !/^-?\d{1,9}$/.test(s)) return refuse(409, "calendar-order must be an integer");
    return { ok: true, collectionProps: { order: s === "" ? 0 : Number(s) } };
  },
});
def(CALDAV_NS, "calendar-timezone", ["collection"], (_dc, t) => {
  const c = collectionOf(t);
  return c && c.timezone ? x(CALDAV_NS, "calendar-timezone", c.timezone) : null;
}, {
  collectionKinds: [...CAL],
  set: (_dc, _t, v) => {
    const s = textValue(v, 64 * 1024);
    if (typeof s !== "string") return refuse(409, s.error);
    // RFC 4791 §5.2.2: a VCALENDAR with exactly one VTIMEZONE.
    if (s !== "" && (!/^BEGIN:VCALENDAR\r?\n/i.test(s) || (s.match(/^BEGIN:VTIMEZONE\r?$/gim) ?? []).length !== 1 || !/^END:VCALENDAR\r?\n?$/im.test(s))) {
      return refuse(403, "calendar-timezone must be an iCalendar object with exactly one VTIMEZONE", x(CALDAV_NS, "valid-calendar-data"));
    }
    return { ok: true, collectionProps: { timezone: s } };
  },
});

def(CS_NS, "getctag", COLLECTIONS, async (dc, t) => {
  if (t.kind === "collection") return x(CS_NS, "getctag", String(t.collection.modseq));
  return x(CS_NS, "getctag", directoryVersion(await directoryResources(dc)));
});
def(DAV_NS, "sync-token", COLLECTIONS, async (dc, t) => {
  if (t.kind === "collection") return x(DAV_NS, "sync-token", collectionSyncToken(t.collection));
  return x(DAV_NS, "sync-token", directorySyncToken(directoryVersion(await directoryResources(dc))));
});

// RFC 4331: the account's quota, on its homes and collections (absent when the account has no quota).
const QUOTA_KINDS: TargetKind[] = ["calendar-home", "addressbook-home", "collection"];
def(DAV_NS, "quota-used-bytes", QUOTA_KINDS, (dc) => x(DAV_NS, "quota-used-bytes", String(Math.max(0, dc.account.usedBytes))));
def(DAV_NS, "quota-available-bytes", QUOTA_KINDS, (dc) =>
  dc.account.quotaBytes === null ? null : x(DAV_NS, "quota-available-bytes", String(Math.max(0, dc.account.quotaBytes - dc.account.usedBytes))),
);

// RFC 4791 §9.6 / RFC 6352 §10.4 as plain properties: the whole object, for clients that ask for it in a
// PROPFIND or sync-collection instead of a multiget (the reports answer subsets, expansion and conversions).
const utf8 = new TextDecoder("utf-8");
def(CALDAV_NS, "calendar-data", ["object"], async (dc, t) => {
  const r = await resourceOfTarget(dc, t);
  return r ? x(CALDAV_NS, "calendar-data", utf8.decode(await r.body())) : null;
}, { collectionKinds: [...CAL] });
def(CARDDAV_NS, "address-data", ["object", "directory-object"], async (dc, t) => {
  const r = await resourceOfTarget(dc, t);
  return r ? x(CARDDAV_NS, "address-data", utf8.decode(await r.body())) : null;
}, { collectionKinds: ["contacts"] });
