/**
 * The CalDAV REPORTs calendar-query (RFC 4791 §7.8) and calendar-multiget
 * (§7.9) on calendars and task lists.
 *
 * calendar-query, Depth 1 on a collection (Depth 0 on an object; Depth 0 on
 * a collection asks about the collection itself, which is no calendar
 * object: nothing matches):
 *  1. the filter is parsed and checked first (4xx before any work);
 *  2. candidates: a VCALENDAR > VEVENT time-range on a calendar goes
 *     through `groupware.objectsInRange` (the store's span index plus the
 *     service's expansion), anything else lists the collection;
 *  3. each candidate gets the exact per-component test (caldav-filter.ts,
 *     §9.7/§9.9): a single (non-recurring) event with nothing but a
 *     time-range is decided from its indexed start/end, everything else
 *     from the parsed object (cached by ETag, caldav-object-cache.ts);
 *  4. with <C:expand>, every match is expanded before the answer starts, so
 *     a query over the instance budget (MAX_EXPANDED_INSTANCES, or one
 *     object over the ical layer's per-object limit) answers 507
 *     DAV:number-of-matches-within-limits instead of running unbounded;
 *  5. the multistatus is streamed in chunks (bodies of a chunk read
 *     together), so memory stays bounded by a chunk, not the collection.
 * calendar-multiget: every href is resolved against the target collection;
 * an href of another collection, another user, or no object is a 404
 * response; found objects are read in one `getObjects` call.
 */
import type ICAL from "ical.js";
import { ICalError, expandInstances, serialize, type CalendarObject } from "../../../src/groupware/ical/index.ts";
// The light read of a stored object (no indexed fields, no attendees): what filters and expansion need.
import { parseRoot } from "../../../src/groupware/ical/parse.ts";
import { resolveZones } from "../../../src/groupware/ical/zones.ts";
import type { Instance, StoredObject } from "../../../src/groupware/types.ts";
import { registerReport } from "./extensions.ts";
import { loadResources, type Loaded } from "./caldav-object-cache.ts";
import { needsParse, parseCalendarDataSpec, renderCalendarData, type CalendarDataSpec, type DataEnv } from "./caldav-data.ts";
import { isPureTimeRange, leadingTimeRange, matchCalendarFilter, parseCalendarFilter, type CompFilter } from "./caldav-filter.ts";
import { ReportError } from "./caldav-report-error.ts";
import {
  MAX_HREFS,
  MAX_MATCHES,
  hrefToName,
  memberTarget,
  propRequest,
  reportFailure,
  resourceResponse,
  type PropRequest,
  type SpecialProps,
} from "./caldav-report-common.ts";
import { MAX_TIME, MIN_TIME, ianaZone, type TimeRange } from "./caldav-time.ts";
import { instanceOverlaps, type RangeEnv } from "./caldav-time-range.ts";
import { resourceOf } from "./resources.ts";
import { multistatus, multistatusBuffered, textError, type DavContext, type DavResource, type DavResponse, type DavTarget } from "./types.ts";
import { CALDAV_NS, DAV_NS, clark, type XmlElement } from "./xml.ts";
import { escapeContent, x } from "./xml-writer.ts";

/** Most instances one report expands for <C:expand> (all matches together). */
export const MAX_EXPANDED_INSTANCES = 100_000;
/** The largest UTC offset of a time zone (UTC+14, UTC-12), ms. */
const MAX_ZONE_OFFSET = 14 * 3_600_000;
/** Candidates tested per chunk, and responses written per chunk. */
const FILTER_CHUNK = 512;
const STREAM_CHUNK = 64;

function kid(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.name === name);
}

const TZID_RE = /^TZID[;:][^\r\n]*?([^:;\r\n]+)\r?$/m;

/** The zone floating times are read in (RFC 4791 §9.8 C:timezone, RFC 7809 C:timezone-id, else the calendar's). */
function floatingTzOf(body: XmlElement, calendarTimezone: string): string | null {
  const candidates: string[] = [];
  const id = kid(body, CALDAV_NS, "timezone-id");
  if (id) candidates.push(id.text.trim());
  const tz = kid(body, CALDAV_NS, "timezone");
  if (tz) {
    const m = TZID_RE.exec(tz.text);
    if (m) candidates.push(m[1].trim());
  }
  const m = TZID_RE.exec(calendarTimezone);
  if (m) candidates.push(m[1].trim());
  for (const c of candidates) if (c && c.length < 200 && ianaZone(c)) return c;
  return null;
}

/**
 * Reads a stored object for filtering and expansion. Objects were checked by
 * the service when they were written, so the full parse (indexed fields,
 * the last instance, attendees: ~30x the cost) is not repeated here: the
 * component tree, its kind and UID, and its zones resolved (the ical layer's
 * rules: own VTIMEZONE first, else the IANA/Windows name) are enough.
 */
function parseCal(body: Uint8Array): CalendarObject {
  const warnings: string[] = [];
  const root = parseRoot(body, warnings);
  const kind = root.getFirstSubcomponent("vevent") ? "VEVENT" : root.getFirstSubcomponent("vtodo") ? "VTODO" : null;
  if (!kind) throw new ICalError("INVALID_OBJECT", "no VEVENT or VTODO in the object");
  resolveZones(root, warnings);
  const main = root.getFirstSubcomponent(kind.toLowerCase())!;
  const uid = main.getFirstPropertyValue("uid");
  return { kind, uid: typeof uid === "string" ? uid : "", method: null, sequence: 0, organizer: null, attendees: [], calendarFields: null, taskFields: null, root, warnings };
}

function overLimit(message: string): ReportError {
  return new ReportError(507, DAV_NS, "number-of-matches-within-limits", message);
}

/**
 * Instances of a parsed object per range and floating zone, kept with the
 * parsed object (which the object cache keeps per ETag, so a changed object
 * is a new key): clients poll the same range again and again. Small lists
 * only (a few ranges of a few dozen instances per object).
 */
const sharedInstances = new WeakMap<CalendarObject, Map<string, Instance[]>>();
const SHARED_RANGES = 4;
const SHARED_MAX_INSTANCES = 64;

/** Per-request expansion: memoised per object and range, counted against the request's budget. */
class Expander {
  private memo = new Map<CalendarObject, Map<string, Instance[] | null>>();
  expanded = 0;
  constructor(readonly floatingTz: string | null) {}

  /** Instances of `obj` in `range`; null when the ical layer refuses (over its per-object limit). */
  instances(obj: CalendarObject, range: TimeRange): Instance[] | null {
    let m = this.memo.get(obj);
    if (!m) this.memo.set(obj, (m = new Map()));
    const key = `${range.start}/${range.end}/${this.floatingTz ?? ""}`;
    if (m.has(key)) return m.get(key)!;
    let shared = sharedInstances.get(obj);
    let out: Instance[] | null | undefined = shared?.get(key);
    if (out === undefined) {
      try {
        out = expandInstances(obj, range, this.floatingTz ? { floatingTz: this.floatingTz } : undefined);
      } catch (e) {
        if (!(e instanceof ICalError) || e.code !== "LIMIT") throw e;
        out = null;
      }
      if (out && out.length <= SHARED_MAX_INSTANCES) {
        if (!shared) sharedInstances.set(obj, (shared = new Map()));
        if (shared.size >= SHARED_RANGES) shared.delete(shared.keys().next().value!);
        shared.set(key, out);
      }
    }
    if (out) this.expanded += out.length;
    if (m.size < 16) m.set(key, out);
    return out;
  }

  rangeEnv(obj: CalendarObject): RangeEnv {
    return { floatingTz: this.floatingTz, instances: (r) => this.instances(obj, r) };
  }

  dataEnv(obj: CalendarObject): DataEnv {
    return {
      floatingTz: this.floatingTz,
      instances: (r) => {
        const out = this.instances(obj, r);
        if (out === null) throw overLimit(`${obj.uid.slice(0, 100)} has more instances in the expand range than the server expands for one object; ask for a shorter range`);
        return out;
      },
      serialize: (root: ICAL.Component) => serialize(root),
    };
  }
}

/** The calendar-data property of the request, parsed once (null when not asked for). */
function dataSpecOf(req: PropRequest): CalendarDataSpec | null {
  const el = req.props.find((p) => p.ns === CALDAV_NS && p.name === "calendar-data");
  return el ? parseCalendarDataSpec(el) : null;
}

/**
 * The escaped XML text of whole stored bodies, by the body buffer the object cache hands out:
 * a multiget or query polled again writes each object without decoding and escaping it again
 * (it is most of a whole-object answer's work). Lives as long as the cache keeps the body.
 */
const escapedBodies = new WeakMap<Uint8Array, string>();

function escapedBody(body: Uint8Array): string {
  let s = escapedBodies.get(body);
  if (s === undefined) {
    s = escapeContent(new TextDecoder().decode(body));
    escapedBodies.set(body, s);
  }
  return s;
}

function specialProps(spec: CalendarDataSpec | null, loaded: Loaded<CalendarObject>, ex: Expander): SpecialProps {
  const m: SpecialProps = new Map();
  if (spec) {
    m.set(clark(CALDAV_NS, "calendar-data"), () => {
      const obj = loaded.parsed;
      if (obj && needsParse(spec)) return x(CALDAV_NS, "calendar-data", renderCalendarData(spec, loaded.body, obj.root, ex.dataEnv(obj)));
      return { ns: CALDAV_NS, name: "calendar-data", raw: escapedBody(loaded.body) };
    });
  }
  return m;
}

/** Streams one response per resource, reading (and parsing when needed) a chunk at a time. */
async function* respond(
  dc: DavContext,
  target: DavTarget,
  items: { resource: DavResource; href?: string }[],
  req: PropRequest,
  spec: CalendarDataSpec | null,
  ex: Expander,
  missing: DavResponse[] = [],
): AsyncGenerator<DavResponse> {
  const parse = spec && needsParse(spec) ? parseCal : null;
  const wantsBody = spec !== null;
  for (let i = 0; i < items.length; i += STREAM_CHUNK) {
    const chunk = items.slice(i, i + STREAM_CHUNK);
    const loaded = wantsBody ? await loadResources<CalendarObject>(dc.groupware, "ical", chunk.map((c) => c.resource), parse) : null;
    for (let j = 0; j < chunk.length; j++) {
      const r = chunk[j].resource;
      const t = memberTarget(target, r);
      if (chunk[j].href) t.href = chunk[j].href!;
      const l = loaded ? loaded[j] : { resource: r, body: new Uint8Array(), parsed: null, error: null, gone: false };
      if (l.gone) yield { href: t.href, status: 404, description: "deleted while the report ran" };
      else yield await resourceResponse(dc, t, req, specialProps(spec, l, ex));
    }
  }
  for (const m of missing) yield m;
}

/**
 * Does one candidate pass the filter? Under a pure VEVENT time-range the
 * candidates come from objectsInRange, which already applied §9.9 to the
 * expanded instances of recurring events; single events are checked again
 * on their indexed start/end (the instant rule at the range edges).
 */
function passes(filter: CompFilter, pure: boolean, l: Loaded<CalendarObject> | null, o: StoredObject, ex: Expander): boolean {
  if (pure) {
    if (o.item.itemClass !== "calendar" || o.item.fields.isRecurring) return true;
    const f = o.item.fields;
    return instanceOverlaps({ start: f.dtStart, end: f.dtEnd }, filter.comps[0].timeRange!);
  }
  if (!l?.parsed) return false;
  return matchCalendarFilter(filter, l.parsed.root, ex.rangeEnv(l.parsed));
}

async function calendarQuery(dc: DavContext, target: DavTarget, body: XmlElement): Promise<Response> {
  try {
    if (target.kind !== "collection" && target.kind !== "object") throw new ReportError(403, DAV_NS, "supported-report", "calendar-query applies to a calendar or task list and its objects");
    if (target.kind === "object" && !target.object) return textError(404, "no object at this URL");
    const filterEl = kid(body, CALDAV_NS, "filter");
    if (!filterEl) throw new ReportError(400, CALDAV_NS, "valid-filter", "calendar-query needs a <C:filter> element (RFC 4791 §7.8)");
    const filter = parseCalendarFilter(filterEl);
    const req = propRequest(body);
    const spec = dataSpecOf(req);
    const collection = target.collection;
    const ex = new Expander(floatingTzOf(body, collection.timezone));

    // Candidates.
    let objects: StoredObject[];
    const lead = leadingTimeRange(filter);
    let pure = false;
    if (target.kind === "object") objects = target.object ? [target.object] : [];
    else if (dc.depth === "0") objects = [];
    else if (lead && lead.comp === "VEVENT" && collection.kind === "calendar") {
      // The store indexes floating times as UTC; read in another zone (§9.8 C:timezone, the calendar's zone)
      // they can be up to 14 hours off (UTC-12..UTC+14): widen the pre-filter and test each candidate exactly.
      const floating = ex.floatingTz !== null;
      const r = floating ? { start: Math.max(lead.range.start - MAX_ZONE_OFFSET, MIN_TIME), end: Math.min(lead.range.end + MAX_ZONE_OFFSET, MAX_TIME) } : lead.range;
      objects = await dc.groupware.objectsInRange(collection, r);
      pure = !floating && isPureTimeRange(filter);
    } else objects = await dc.groupware.listObjects(collection);

    // The exact test, a chunk at a time.
    const matches: DavResource[] = [];
    for (let i = 0; i < objects.length; i += FILTER_CHUNK) {
      const chunk = objects.slice(i, i + FILTER_CHUNK);
      const res = chunk.map((o) => resourceOf(dc, collection, o));
      const loaded = pure && !spec?.expand ? [] : await loadResources<CalendarObject>(dc.groupware, "ical", res, parseCal);
      const byName = new Map(loaded.map((l) => [l.resource.name, l]));
      for (let k = 0; k < chunk.length; k++) {
        const l = byName.get(res[k].name) ?? null;
        if (!passes(filter, pure, l, chunk[k], ex)) continue;
        matches.push(res[k]);
        if (matches.length > MAX_MATCHES) throw overLimit(`more than ${MAX_MATCHES} objects match; narrow the filter (a shorter time-range)`);
        // RFC 4791 §9.6.5: expand now, so the answer is refused before it starts when over the budget.
        if (spec?.expand && l?.parsed) {
          if (ex.instances(l.parsed, spec.expand) === null) throw overLimit(`${l.parsed.uid.slice(0, 100)} has more instances in the expand range than the server expands for one object; ask for a shorter range`);
          if (ex.expanded > MAX_EXPANDED_INSTANCES) throw overLimit(`the expansion would return more than ${MAX_EXPANDED_INSTANCES} instances; ask for a shorter range`);
        }
      }
    }
    return await multistatusBuffered(respond(dc, target, matches.map((r) => ({ resource: r })), req, spec, ex));
  } catch (e) {
    return reportFailure(e);
  }
}

async function calendarMultiget(dc: DavContext, target: DavTarget, body: XmlElement): Promise<Response> {
  try {
    if (target.kind !== "collection" && target.kind !== "object") throw new ReportError(403, DAV_NS, "supported-report", "calendar-multiget applies to a calendar or task list");
    const hrefs = body.children.filter((c) => c.ns === DAV_NS && c.name === "href").map((c) => c.text.trim());
    if (!hrefs.length) throw new ReportError(400, CALDAV_NS, "valid-filter", "calendar-multiget needs at least one <D:href> (RFC 4791 §9.10)");
    if (hrefs.length > MAX_HREFS) throw overLimit(`calendar-multiget asks for ${hrefs.length} hrefs; at most ${MAX_HREFS} per request`);
    const req = propRequest(body);
    const spec = dataSpecOf(req);
    const collection = target.collection;
    const ex = new Expander(floatingTzOf(body, collection.timezone));
    return await multistatusBuffered(await multigetResponses(dc, target, hrefs, req, spec, ex));
  } catch (e) {
    return reportFailure(e);
  }
}

async function multigetResponses(dc: DavContext, target: DavTarget & { kind: "collection" | "object" }, hrefs: string[], req: PropRequest, spec: CalendarDataSpec | null, ex: Expander): Promise<AsyncGenerator<DavResponse>> {
  const names = hrefs.map((h) => hrefToName(target, h));
  const unique = [...new Set(names.filter((n): n is string => n !== null))];
  let found: DavResource[] = [];
  if (target.kind === "object") found = target.object && unique.includes(target.name) ? [resourceOf(dc, target.collection, target.object)] : [];
  else if (unique.length) found = (await dc.groupware.getObjects(target.collection, unique)).map((o) => resourceOf(dc, target.collection, o));
  const byName = new Map(found.map((r) => [r.name, r]));
  const items: { resource: DavResource; href: string }[] = [];
  const missing: DavResponse[] = [];
  const done = new Set<string>();
  for (let i = 0; i < hrefs.length; i++) {
    if (done.has(hrefs[i])) continue;
    done.add(hrefs[i]);
    const r = names[i] === null ? undefined : byName.get(names[i]!);
    if (r) items.push({ resource: r, href: hrefs[i] });
    else missing.push({ href: hrefs[i], status: 404, description: names[i] === null ? "not an object of this collection" : "no such object" });
  }
  if (spec?.expand) {
    // Expansion budget checked before the answer starts (as for calendar-query).
    const loaded = await loadResources<CalendarObject>(dc.groupware, "ical", items.map((i) => i.resource), parseCal);
    for (const l of loaded) {
      if (!l.parsed) continue;
      if (ex.instances(l.parsed, spec.expand) === null) throw overLimit(`${l.parsed.uid.slice(0, 100)} has more instances in the expand range than the server expands for one object; ask for a shorter range`);
      if (ex.expanded > MAX_EXPANDED_INSTANCES) throw overLimit(`the expansion would return more than ${MAX_EXPANDED_INSTANCES} instances; ask for a shorter range`);
    }
  }
  return respond(dc, target, items, req, spec, ex, missing);
}


registerReport(CALDAV_NS, "calendar-query", calendarQuery, { kinds: ["collection", "object"], collectionKinds: ["calendar", "tasks"] });
registerReport(CALDAV_NS, "calendar-multiget", calendarMultiget, { kinds: ["collection", "object"], collectionKinds: ["calendar", "tasks"] });
