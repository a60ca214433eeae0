/**
 * Writes of the calendar views: save an edited event (with the series scope
 * a recurring one asks for), move/resize by a drag, delete. Every path goes
 * through the routes of api-types.ts; the server keeps what the shapes don't
 * describe and sends invitations/updates/cancellations to attendees.
 */
import type { EventData, EventInstance, EventResponse, EventWrite, RecurrenceRule, SeriesScope } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";
import { addDays, wallString, wallStringToMs } from "./dates.ts";
import { askScope } from "./dialog.ts";

const DAY = 86_400_000;

export function eventPath(cal: string, id: string): string {
  return `/api/calendar/events/${encodeURIComponent(cal)}/${encodeURIComponent(id)}`;
}

/** The stored event (the master), and with a recurrenceId also that occurrence. */
export async function loadEvent(cal: string, id: string, recurrenceId: number | null): Promise<{ master: EventResponse; occurrence: EventResponse | null }> {
  const [master, occurrence] = await Promise.all([
    api<EventResponse>("GET", eventPath(cal, id)),
    recurrenceId !== null ? api<EventResponse>("GET", `${eventPath(cal, id)}?recurrenceId=${recurrenceId}`) : Promise.resolve(null),
  ]);
  return { master, occurrence };
}

/** Shifts a wall-clock start/end ("YYYY-MM-DDTHH:MM" in tz, or a date when allDay) by ms (all-day: whole days). */
export function shiftWall(s: string, allDay: boolean, tz: string, ms: number): string {
  if (allDay) return addDays(s.slice(0, 10), Math.round(ms / DAY));
  const at = wallStringToMs(s, tz);
  if (at === null) return s;
  return wallString(at + ms, tz);
}

export function createEvent(cal: string, event: EventData): Promise<EventResponse> {
  const body: EventWrite = { event, notify: true };
  return api<EventResponse>("POST", `/api/calendar/events/${encodeURIComponent(cal)}`, body);
}

/**
 * Saves `edited` (the form's view of the occurrence or single event) with a scope:
 * - single event or "all" on a series: the master gets the edited fields; for a
 *   series its start/end move by as much as the occurrence's did (the series keeps
 *   its own first date);
 * - "this": the occurrence alone (an override; no rule of its own);
 * - "following": the tail from this occurrence on, with the edited rule.
 */
export function saveEdit(
  cal: string,
  id: string,
  loaded: { master: EventResponse; occurrence: EventResponse | null },
  edited: EventData,
  scope: SeriesScope,
  userTz: string,
): Promise<EventResponse> {
  const occ = loaded.occurrence;
  const path = eventPath(cal, id);
  if (!occ) {
    const body: EventWrite = { event: { ...edited, recurrenceId: null }, etag: loaded.master.etag };
    return api<EventResponse>("PUT", path, body);
  }
  const rid = occ.event.recurrenceId ?? undefined;
  if (scope === "this") {
    const body: EventWrite = { event: { ...edited, recurrence: null, recurrenceId: occ.event.recurrenceId }, etag: loaded.master.etag, scope, recurrenceId: rid };
    return api<EventResponse>("PUT", path, body);
  }
  if (scope === "following") {
    // An unchanged rule goes back as "keep" (complex), so the server counts a COUNT from the split on
    // (a weekly ×5 split at the 3rd keeps 3 more, not 5 more).
    const masterRule = loaded.master.event.recurrence;
    const recurrence = masterRule && edited.recurrence && sameRule(edited.recurrence, masterRule) ? { ...masterRule, complex: true } : edited.recurrence;
    const body: EventWrite = { event: { ...edited, recurrence, recurrenceId: null }, etag: loaded.master.etag, scope, recurrenceId: rid };
    return api<EventResponse>("PUT", path, body);
  }
  // "all": move the master by the occurrence's own change of start and of length.
  const m = loaded.master.event;
  const tzOf = (e: EventData): string => e.timeZone || userTz;
  const msOf = (s: string, e: EventData): number => (e.allDay ? Date.parse(s.slice(0, 10) + "T00:00:00Z") : (wallStringToMs(s, tzOf(e)) ?? 0));
  const dStart = msOf(edited.start, edited) - msOf(occ.event.start, occ.event);
  const dLen = msOf(edited.end, edited) - msOf(edited.start, edited) - (msOf(occ.event.end, occ.event) - msOf(occ.event.start, occ.event));
  const sameKind = edited.allDay === m.allDay && tzOf(edited) === tzOf(m);
  const start = sameKind ? shiftWall(m.start, m.allDay, tzOf(m), dStart) : edited.start;
  const end = sameKind ? shiftWall(m.end, m.allDay, tzOf(m), dStart + dLen) : edited.end;
  const body: EventWrite = { event: { ...edited, start, end, recurrenceId: null }, etag: loaded.master.etag, scope: "all" };
  return api<EventResponse>("PUT", path, body);
}

/** Two rules say the same (list order aside). */
export function sameRule(a: RecurrenceRule, b: RecurrenceRule): boolean {
  const list = (x: (string | number)[]): string => [...x].map(String).sort().join(",");
  return (
    a.freq === b.freq &&
    a.interval === b.interval &&
    list(a.byDay) === list(b.byDay) &&
    list(a.byMonthDay) === list(b.byMonthDay) &&
    list(a.byMonth) === list(b.byMonth) &&
    list(a.bySetPos) === list(b.bySetPos) &&
    a.count === b.count &&
    a.until === b.until &&
    a.complex === b.complex
  );
}

/** A drag moved or resized an instance: ask the scope for a series, then save the shifted times. */
export async function shiftInstance(inst: EventInstance, dStart: number, dEnd: number, userTz: string): Promise<boolean> {
  let scope: SeriesScope = "all";
  if (inst.recurring && inst.recurrenceId !== null) {
    const s = await askScope("edit");
    if (!s) return false;
    scope = s;
  }
  const loaded = await loadEvent(inst.calendar, inst.id, inst.recurring ? inst.recurrenceId : null);
  const base = (loaded.occurrence ?? loaded.master).event;
  const tz = base.timeZone || userTz;
  const edited: EventData = { ...base, start: shiftWall(base.start, base.allDay, tz, dStart), end: shiftWall(base.end, base.allDay, tz, dEnd) };
  if (scope !== "this" && loaded.occurrence) edited.recurrence = loaded.master.event.recurrence;
  await saveEdit(inst.calendar, inst.id, loaded, edited, scope, userTz);
  return true;
}

/** Deletes an event, or with a scope part of a series. */
export function deleteEvent(cal: string, id: string, etag: string, scope: SeriesScope, recurrenceId: number | null): Promise<{ ok: true }> {
  const q = new URLSearchParams({ etag, scope });
  if (recurrenceId !== null && scope !== "all") q.set("recurrenceId", String(recurrenceId));
  return api<{ ok: true }>("DELETE", `${eventPath(cal, id)}?${q}`);
}

/** A fresh event with the user's defaults. */
export function newEventData(start: string, end: string, allDay: boolean, tz: string): EventData {
  return {
    uid: crypto.randomUUID(),
    title: "",
    location: "",
    description: "",
    start,
    end,
    timeZone: tz,
    allDay,
    showAs: allDay ? "free" : "busy",
    status: "",
    privacy: "PUBLIC",
    categories: [],
    reminders: [],
    recurrence: null,
    organizer: null,
    attendees: [],
    sequence: 0,
    recurrenceId: null,
  };
}
