/**
 * Recurrence expansion (RFC 5545 §3.8.5: RRULE, RDATE, EXDATE; §3.8.4.4:
 * RECURRENCE-ID overrides, RANGE=THISANDFUTURE) through ical.js's
 * RecurExpansion, bounded: iteration stops at the end of the range, and
 * both the iterator steps and the instances returned are capped (LIMIT).
 *
 * Overrides are matched to occurrences by UTC instant, not by text, so a
 * RECURRENCE-ID written in UTC or in another zone than DTSTART still
 * replaces its occurrence. An override counts where it now is: moved into
 * the range it is returned, moved out of it it is not, and the regular
 * occurrence it replaces is never returned.
 */
import ICAL from "ical.js";
import type { Instance } from "../types.ts";
import { ICalError, MAX_EXPAND_MS, MAX_INSTANCES, MAX_ITERATIONS } from "./errors.ts";
import type { CalendarObject } from "./model.ts";
import { isRecurringComp, occurrenceEnd, spanOf, timeList, timeProp, type Span } from "./spans.ts";
import { floatingZone, timeToMs, utcToWall } from "./zones.ts";

interface Override {
  comp: ICAL.Component;
  rid: number;
  span: Span;
  thisAndFuture: boolean;
}

/** An object's components sorted out: the master (or null) and its overrides by RECURRENCE-ID instant. */
export interface Layout {
  master: ICAL.Component | null;
  masterSpan: Span | null;
  overrides: Map<number, Override>;
  /** THISANDFUTURE overrides, ascending RECURRENCE-ID. */
  ranges: Override[];
  exdates: Set<number>;
}

export function layoutOf(root: ICAL.Component, kind: "vevent" | "vtodo", floating: ICAL.Timezone | null, warnings?: string[]): Layout {
  let master: ICAL.Component | null = null;
  const overrides = new Map<number, Override>();
  for (const c of root.getAllSubcomponents(kind)) {
    const rid = timeProp(c, "recurrence-id");
    if (!rid) {
      if (master) throw new ICalError("INVALID_OBJECT", `two ${kind.toUpperCase()} components of the same UID without RECURRENCE-ID (RFC 5545 §3.8.4.4)`);
      master = c;
      continue;
    }
    const key = timeToMs(rid, floating);
    if (overrides.has(key)) throw new ICalError("INVALID_OBJECT", `two ${kind.toUpperCase()} components with the same RECURRENCE-ID`);
    const range = c.getFirstProperty("recurrence-id")!.getParameter("range");
    overrides.set(key, { comp: c, rid: key, span: spanOf(c, floating, warnings), thisAndFuture: typeof range === "string" && range.toUpperCase() === "THISANDFUTURE" });
  }
  const masterSpan = master ? spanOf(master, floating, warnings) : null;
  const exdates = new Set<number>();
  if (master) for (const t of timeList(master, "exdate")) exdates.add(timeToMs(t, floating));
  const ranges = [...overrides.values()].filter((o) => o.thisAndFuture).sort((a, b) => a.rid - b.rid);
  return { master, masterSpan, overrides, ranges, exdates };
}

const upper = (v: unknown) => (typeof v === "string" ? v.toUpperCase() : "");

function instanceOf(comp: ICAL.Component, start: number, end: number, allDay: boolean, rid: number | null, overridden: boolean): Instance {
  return {
    start,
    end,
    recurrenceId: rid,
    allDay,
    transparent: upper(comp.getFirstPropertyValue("transp")) === "TRANSPARENT",
    status: upper(comp.getFirstPropertyValue("status")),
    overridden,
  };
}

const layoutCache = new WeakMap<CalendarObject, Map<string, Layout>>();

function cachedLayout(obj: CalendarObject, floatingTz: string): Layout {
  let m = layoutCache.get(obj);
  if (!m) layoutCache.set(obj, (m = new Map()));
  let l = m.get(floatingTz);
  if (!l) {
    l = layoutOf(obj.root, obj.kind === "VEVENT" ? "vevent" : "vtodo", floatingZone(floatingTz));
    if (m.size < 8) m.set(floatingTz, l);
  }
  return l;
}

/**
 * Instances overlapping [start, end) (RFC 4791 §9.9: an instance overlaps
 * when it starts before the end and ends after the start; an instant,
 * end = start, when it starts in [start, end)), ascending start.
 */
export function expandInstances(
  obj: CalendarObject,
  range: { start: number; end: number },
  opts?: {
    maxInstances?: number;
    floatingTz?: string;
    /** Iterator steps allowed (default MAX_ITERATIONS). */
    maxIterations?: number;
    /** Time allowed for one expansion, a safety valve for rules whose steps are slow (default MAX_EXPAND_MS). */
    maxMs?: number;
  },
): Instance[] {
  try {
    return memoized(obj, range, opts);
  } catch (e) {
    if (e instanceof ICalError) throw e;
    throw new ICalError("INVALID_DATA", `cannot expand the recurrence: ${e instanceof Error ? e.message : String(e)}`);
  }
}

type ExpandOpts = { maxInstances?: number; floatingTz?: string; maxIterations?: number; maxMs?: number };

/** Results of the last few ranges per object (objects are immutable; a query and its calendar-data expansion ask for the same range). */
const resultCache = new WeakMap<CalendarObject, Map<string, Instance[]>>();
const RESULTS_PER_OBJECT = 4;
/** Longer lists are not kept (memory), only recomputed. */
const CACHED_INSTANCES = 1000;

/** Years 1 to 9999 (RFC 5545 §3.3.4): no instance lies outside, and ical.js's zones would cache every DST change up to a far year asked for. */
const FIRST_MS = -62_135_596_800_000 - 2 * 86_400_000; // 0001-01-01 less two days of zone offsets
const MAX_MS = Date.UTC(10000, 0, 1);

function memoized(obj: CalendarObject, given: { start: number; end: number }, opts?: ExpandOpts): Instance[] {
  const max = opts?.maxInstances ?? MAX_INSTANCES;
  const range = { start: Math.max(given.start, FIRST_MS), end: Math.min(given.end, MAX_MS) };
  if (!(range.start < range.end)) return [];
  const key = `${range.start}|${range.end}|${opts?.floatingTz ?? ""}`;
  let m = resultCache.get(obj);
  let list = m?.get(key);
  if (!list) {
    // Computed once up to the default cap, whatever this caller's cap, so the next caller is served too.
    try {
      list = expand(obj, range, { ...opts, maxInstances: Math.max(max, MAX_INSTANCES) });
    } catch (e) {
      if (e instanceof ICalError && e.code === "LIMIT" && /instances in the requested time range/.test(e.message)) throw new ICalError("LIMIT", `more than ${max} instances in the requested time range`);
      throw e;
    }
    if (list.length <= CACHED_INSTANCES) {
      if (!m) resultCache.set(obj, (m = new Map()));
      if (m.size >= RESULTS_PER_OBJECT) m.delete(m.keys().next().value!);
      m.set(key, list);
    }
  }
  if (list.length > max) throw new ICalError("LIMIT", `more than ${max} instances in the requested time range`);
  return list.map((i) => ({ ...i }));
}

function expand(obj: CalendarObject, range: { start: number; end: number }, opts?: ExpandOpts): Instance[] {
  const max = opts?.maxInstances ?? MAX_INSTANCES;
  const floating = floatingZone(opts?.floatingTz);
  let layout: Layout;
  try {
    layout = cachedLayout(obj, opts?.floatingTz ?? "");
  } catch (e) {
    if (e instanceof ICalError) throw e;
    throw new ICalError("INVALID_DATA", `cannot read the object's times: ${(e as Error).message}`);
  }
  const out: Instance[] = [];
  const overlaps = (s: number, e: number) => (e > s ? s < range.end && e > range.start : s < range.end && s >= range.start);
  const push = (i: Instance) => {
    out.push(i);
    if (out.length > max) throw new ICalError("LIMIT", `more than ${max} instances in the requested time range`);
  };
  const { master, masterSpan, overrides, exdates } = layout;
  const recurring = master !== null && isRecurringComp(master);

  if (master && masterSpan && !recurring) {
    if (overlaps(masterSpan.start, masterSpan.end)) push(instanceOf(master, masterSpan.start, masterSpan.end, masterSpan.allDay, null, false));
  } else if (master && masterSpan && masterSpan.anchor) {
    try {
      expandMaster(master, masterSpan, layout, range, floating, overlaps, push, opts?.maxIterations ?? MAX_ITERATIONS, opts?.maxMs ?? MAX_EXPAND_MS);
    } catch (e) {
      if (e instanceof ICalError) throw e;
      throw new ICalError("INVALID_DATA", `cannot expand the recurrence: ${(e as Error).message}`);
    }
  } else if (master && masterSpan) {
    // A recurring VTODO with neither DTSTART nor DUE has nothing to count from: one instance.
    if (overlaps(masterSpan.start, masterSpan.end)) push(instanceOf(master, masterSpan.start, masterSpan.end, false, null, false));
  }
  // Overrides count where they are now (RFC 4791 §9.9), unless their instance was excluded again.
  if (recurring || !master) {
    for (const o of overrides.values()) {
      if (exdates.has(o.rid)) continue;
      if (overlaps(o.span.start, o.span.end)) push(instanceOf(o.comp, o.span.start, o.span.end, o.span.allDay, o.rid, true));
    }
  }
  out.sort((a, b) => a.start - b.start || a.end - b.end);
  return out;
}

function expandMaster(
  master: ICAL.Component,
  span: Span,
  layout: Layout,
  range: { start: number; end: number },
  floating: ICAL.Timezone | null,
  overlaps: (s: number, e: number) => boolean,
  push: (i: Instance) => void,
  maxSteps: number,
  maxMs: number,
): void {
  const t0 = performance.now();
  const { overrides, ranges } = layout;
  // THISANDFUTURE overrides shift later occurrences: stop iterating late enough for an earlier shift.
  let minShift = 0;
  for (const r of ranges) minShift = Math.min(minShift, r.span.start - r.rid);
  const shifted = fastForward(master, span, range.start - (span.end - span.start) + minShift, floating);
  const begin = shifted ?? span.anchor!;
  const { iter, first, zone, skipExdates } = iteratorFor(master, begin, floating);
  for (let steps = 0; ; steps++) {
    if (steps >= maxSteps) throw new ICalError("LIMIT", `the recurrence needs more than ${maxSteps} steps to reach the requested time range`);
    if ((steps & 63) === 63 && performance.now() - t0 > maxMs) throw new ICalError("LIMIT", `expanding the recurrence took more than ${maxMs} ms`);
    const occ = iter.next();
    if (!occ) break;
    // The shifted start is where iteration begins, not necessarily an instance; it lies before the range anyway.
    if (steps === 0 && shifted && occ.compare(first) === 0) continue;
    const key = timeToMs(occ, zone);
    if (key + minShift >= range.end) break;
    if (skipExdates && layout.exdates.has(key)) continue;
    if (overrides.has(key)) continue;
    let comp = master;
    let start = key;
    let end: number;
    let allDay = occ.isDate;
    const rangeOv = latestRange(ranges, key);
    if (rangeOv) {
      // RFC 5545 §3.8.4.4 RANGE=THISANDFUTURE: later instances move by the same offset and take the override's duration.
      comp = rangeOv.comp;
      start = key + (rangeOv.span.start - rangeOv.rid);
      end = start + (rangeOv.span.end - rangeOv.span.start);
      allDay = rangeOv.span.allDay;
    } else {
      end = span.anchorIsDue ? start : occurrenceEnd(span, occ, start, zone);
    }
    if (overlaps(start, end)) push(instanceOf(comp, start, end, allDay, key, comp !== master));
  }
}

/**
 * The occurrence iterator. The common case (one RRULE, no RDATE/EXDATE)
 * runs ical.js's RecurIterator in wall-clock (floating) time, 3 to 7 times
 * faster than over a zoned DTSTART, whose every step converts through the
 * zone; the occurrences are then read in `zone` (the DTSTART's zone, UNTIL
 * converted to its wall clock). Otherwise RecurExpansion merges RDATE and
 * EXDATE over the zoned start.
 */
function iteratorFor(
  master: ICAL.Component,
  begin: ICAL.Time,
  floating: ICAL.Timezone | null,
): { iter: { next(): ICAL.Time | null | undefined }; first: ICAL.Time; zone: ICAL.Timezone | null; skipExdates: boolean } {
  const rules = master.getAllProperties("rrule");
  const rule = rules.length === 1 ? rules[0]!.getFirstValue() : null;
  // EXDATEs of the start's value type are matched by instant here (Layout.exdates); a DATE EXDATE on DATE-TIME occurrences (a whole day) needs RecurExpansion.
  const exdatesByInstant = timeList(master, "exdate").every((t) => t.isDate === begin.isDate);
  if (!(rule instanceof ICAL.Recur) || master.hasProperty("rdate") || !exdatesByInstant) {
    return { iter: new ICAL.RecurExpansion({ component: master, dtstart: begin }), first: begin, zone: floating, skipExdates: false };
  }
  const z = begin.zone;
  const isFloating = begin.isDate || !z || z === ICAL.Timezone.localTimezone || z.tzid === "floating";
  const zone = isFloating ? floating : z === ICAL.Timezone.utcTimezone ? null : z;
  const r = rule.clone();
  if (!isFloating && r.until && !r.until.isDate) {
    r.until = utcToWall(r.until, z);
  }
  const first = begin.clone();
  first.zone = ICAL.Timezone.localTimezone;
  return { iter: r.iterator(first), first, zone, skipExdates: true };
}

const UNIT_SECONDS: Record<string, number> = { SECONDLY: 1, MINUTELY: 60, HOURLY: 3600, DAILY: 86_400, WEEKLY: 604_800 };

/**
 * Where to start iterating instead of DTSTART when the range lies far
 * after it: a start moved by a whole number of the rule's periods (FREQ x
 * INTERVAL, in wall-clock time) yields the same later occurrences for a
 * rule without COUNT (the lattice of candidate times is the same; BYxxx
 * parts, UNTIL, RDATE and EXDATE are absolute), so iteration costs the
 * instances near the range, not the years before it. MONTHLY and YEARLY
 * rules move by whole months only from a day of month every month has
 * (1-28), so the defaults taken from DTSTART stay the same. COUNT rules
 * iterate from DTSTART (the count needs every step).
 */
function fastForward(master: ICAL.Component, span: Span, targetMs: number, floating: ICAL.Timezone | null): ICAL.Time | null {
  const props = master.getAllProperties("rrule");
  if (props.length !== 1 || !span.anchor) return null;
  const rule = props[0]!.getFirstValue();
  if (!(rule instanceof ICAL.Recur) || rule.count) return null;
  const interval = Math.max(1, rule.interval || 1);
  const freq = rule.freq ?? "";
  const months = freq === "MONTHLY" ? interval : freq === "YEARLY" ? 12 * interval : 0;
  const unit = UNIT_SECONDS[freq];
  if (!unit && !months) return null;
  if (months && span.anchor.day > 28) return null;
  if (unit && span.anchor.isDate && unit < 86_400) return null;
  // A period's length in ms, the longest it can be (months of 31 days), so k never overshoots by much.
  const periodMs = unit ? unit * interval * 1000 : months * 31 * 86_400_000;
  let k = Math.floor((targetMs - span.start) / periodMs) - 2;
  for (let tries = 0; tries < 4 && k >= 2; tries++) {
    const t = span.anchor.clone();
    if (months) {
      const total = t.month - 1 + k * months;
      t.year += Math.floor(total / 12);
      t.month = (total % 12) + 1;
    } else if (unit >= 86_400) t.addDuration(new ICAL.Duration({ days: (k * unit * interval) / 86_400 }));
    else t.addDuration(ICAL.Duration.fromSeconds(k * unit * interval));
    if (t.year > 9999) return null;
    const at = timeToMs(t, floating);
    if (at <= targetMs - periodMs) return t;
    k -= Math.ceil((at - targetMs) / periodMs) + 2;
  }
  return null;
}

function latestRange(ranges: Override[], key: number): Override | null {
  let found: Override | null = null;
  for (const r of ranges) {
    if (r.rid < key) found = r;
    else break;
  }
  return found;
}

/** Steps (and time) spent at most finding where a bounded recurrence ends (fields at write time). */
const LAST_INSTANCE_STEPS = 1000;
const LAST_INSTANCE_MS = 100;

/**
 * Start of the last instance, for the store's time-range index: null when
 * unbounded (an RRULE without COUNT or UNTIL), or when a COUNT end is too
 * far to compute cheaply; an UNTIL that far is used as the bound itself.
 * Overrides moved later and THISANDFUTURE shifts are covered: the result
 * plus the master's duration reaches the end of every instance.
 */
export function lastInstanceOf(layout: Layout, floating: ICAL.Timezone | null): number | null {
  const { master, masterSpan, overrides } = layout;
  if (!master || !masterSpan || !masterSpan.anchor) return null;
  const rules = master.getAllProperties("rrule").map((p) => p.getFirstValue()).filter((r): r is ICAL.Recur => r instanceof ICAL.Recur);
  if (rules.some((r) => !r.count && !r.until)) return null;
  let last: number | null = null;
  const iter = new ICAL.RecurExpansion({ component: master, dtstart: masterSpan.anchor });
  let complete = false;
  const t0 = performance.now();
  for (let steps = 0; steps < LAST_INSTANCE_STEPS; steps++) {
    // Past the time valve the answer is "not cheap": the UNTIL bound or null, both safe for the index.
    if ((steps & 31) === 31 && performance.now() - t0 > LAST_INSTANCE_MS) break;
    const occ = iter.next();
    if (!occ) {
      complete = true;
      break;
    }
    last = timeToMs(occ, floating);
  }
  if (!complete) {
    if (rules.some((r) => !r.until)) return null;
    let bound = -Infinity;
    for (const r of rules) bound = Math.max(bound, timeToMs(r.until!, floating));
    for (const t of timeList(master, "rdate")) bound = Math.max(bound, timeToMs(t, floating));
    last = bound;
  }
  if (last === null) last = masterSpan.start;
  const dur = masterSpan.end - masterSpan.start;
  for (const o of overrides.values()) {
    last = Math.max(last, o.span.end - dur);
    if (o.thisAndFuture) return null; // shifted tail: leave it unbounded rather than compute every shift
  }
  return last;
}
