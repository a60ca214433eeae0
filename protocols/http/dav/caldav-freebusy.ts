/**
 * The free-busy-query REPORT (RFC 4791 §7.10) on a calendar collection: a
 * VFREEBUSY (RFC 5545 §3.6.4) for the requested time-range, from the
 * instances of this calendar's events (recurrence expanded by the service):
 *  - TRANSP:TRANSPARENT and STATUS:CANCELLED instances are free (RFC 4791
 *    §7.10, RFC 5545 §3.8.2.7);
 *  - STATUS:TENTATIVE is FBTYPE=BUSY-TENTATIVE, anything else FBTYPE=BUSY;
 *  - periods are clipped to the range and merged per type (overlapping or
 *    adjacent ones become one), in UTC, one FREEBUSY line each.
 * The answer is 200 text/calendar (not a multistatus). A range whose
 * expansion is over the ical layer's per-object instance limit is 507
 * DAV:number-of-matches-within-limits.
 */
import { ICalError } from "../../../src/groupware/ical/index.ts";
import type { BusyPeriod, FreeBusyType, Instance } from "../../../src/groupware/types.ts";
import { registerReport } from "./extensions.ts";
import { ReportError } from "./caldav-report-error.ts";
import { mapLimit, READ_CONCURRENCY, reportFailure } from "./caldav-report-common.ts";
import { formatUtc, parseTimeRange, type TimeRange } from "./caldav-time.ts";
import type { DavContext, DavTarget } from "./types.ts";
import { CALDAV_NS, DAV_NS, type XmlElement } from "./xml.ts";

/** The longest free-busy-query range (RFC 4791 §7.10 lets servers bound it; 5 years keeps expansion bounded). */
export const MAX_FREEBUSY_RANGE = 5 * 366 * 86_400_000;

/** Busy periods of instances, clipped to the range and merged per type, ascending (RFC 5545 §3.6.4). */
export function busyPeriods(instances: readonly Instance[], range: TimeRange): BusyPeriod[] {
  const byType = new Map<FreeBusyType, { start: number; end: number }[]>();
  for (const i of instances) {
    if (i.transparent || i.status === "CANCELLED") continue;
    const start = Math.max(i.start, range.start);
    const end = Math.min(i.end, range.end);
    if (end <= start) continue;
    const type: FreeBusyType = i.status === "TENTATIVE" ? "BUSY-TENTATIVE" : "BUSY";
    let list = byType.get(type);
    if (!list) byType.set(type, (list = []));
    list.push({ start, end });
  }
  const out: BusyPeriod[] = [];
  for (const [type, list] of byType) {
    list.sort((a, b) => a.start - b.start);
    let cur: BusyPeriod | null = null;
    for (const p of list) {
      if (cur && p.start <= cur.end) cur.end = Math.max(cur.end, p.end);
      else {
        if (cur) out.push(cur);
        cur = { start: p.start, end: p.end, type };
      }
    }
    if (cur) out.push(cur);
  }
  return out.sort((a, b) => a.start - b.start || a.end - b.end);
}

/** The VCALENDAR text of a free/busy answer (CRLF lines, all shorter than 75 octets). */
export function freeBusyCalendar(range: TimeRange, periods: readonly BusyPeriod[], now: number): string {
  const lines = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//Pillarbox//CalDAV//EN",
    "BEGIN:VFREEBUSY",
    `DTSTAMP:${formatUtc(now)}`,
    `DTSTART:${formatUtc(range.start)}`,
    `DTEND:${formatUtc(range.end)}`,
    ...periods.map((p) => `FREEBUSY;FBTYPE=${p.type}:${formatUtc(p.start)}/${formatUtc(p.end)}`),
    "END:VFREEBUSY",
    "END:VCALENDAR",
  ];
  return lines.join("\r\n") + "\r\n";
}

async function freeBusyQuery(dc: DavContext, target: DavTarget, body: XmlElement): Promise<Response> {
  try {
    if (target.kind !== "collection" || target.collection.kind !== "calendar") {
      throw new ReportError(403, DAV_NS, "supported-report", "free-busy-query applies to a calendar collection (RFC 4791 §7.10)");
    }
    const trs = body.children.filter((c) => c.ns === CALDAV_NS && c.name === "time-range");
    if (trs.length !== 1) throw new ReportError(400, CALDAV_NS, "valid-filter", "free-busy-query needs exactly one <C:time-range start=... end=...> (RFC 4791 §7.10)");
    const range = parseTimeRange(trs[0], { required: true, element: "free-busy-query time-range" });
    if (range.end - range.start > MAX_FREEBUSY_RANGE) {
      throw new ReportError(403, DAV_NS, "number-of-matches-within-limits", `the free-busy range is longer than ${Math.round(MAX_FREEBUSY_RANGE / 86_400_000)} days; ask for a shorter one`);
    }
    const objects = await dc.groupware.objectsInRange(target.collection, range);
    const lists = await mapLimit(objects, READ_CONCURRENCY, async (o) => {
      try {
        return await dc.groupware.instances(o, range);
      } catch (e) {
        if (e instanceof ICalError && e.code === "LIMIT") throw new ReportError(507, DAV_NS, "number-of-matches-within-limits", `${o.resourceName}: ${e.message}; ask for a shorter range`);
        if ((e as { code?: unknown }).code === "LIMIT") throw new ReportError(507, DAV_NS, "number-of-matches-within-limits", `${o.resourceName}: ${(e as Error).message}; ask for a shorter range`);
        throw e;
      }
    });
    const text = freeBusyCalendar(range, busyPeriods(lists.flat(), range), Date.now());
    return new Response(text, { status: 200, headers: { "content-type": "text/calendar; charset=utf-8" } });
  } catch (e) {
    return reportFailure(e);
  }
}

registerReport(CALDAV_NS, "free-busy-query", freeBusyQuery, { kinds: ["collection"], collectionKinds: ["calendar"] });
