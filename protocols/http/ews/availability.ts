/**
 * GetUserAvailability (MS-OXWSAVAIL §3.1.4.1; Exchange 2007 SP1 on): the
 * free/busy time of local mailboxes from the groupware service's free/busy
 * (the same answer CalDAV's scheduling outbox gives, RFC 6638 §5), shown in
 * the request's time zone.
 *
 * Times in the request (TimeWindow) and the response (CalendarEvent
 * StartTime/EndTime) are local times of the request's TimeZone
 * (Types.xsd SerializableTimeZone: Bias plus the StandardTime/DaylightTime
 * rules, MS-OXWSAVAIL §2.2.4.31), written without an offset.
 *
 * Per mailbox: a FreeBusyResponse with its own ResponseMessage; an address
 * that is no local account answers ErrorMailRecipientNotFound there and the
 * others are still answered. The Detailed views give subjects and places of
 * one's own calendar only (availability-details.ts); other mailboxes are
 * answered with busy blocks (FreeBusy views). Suggestions
 * (SuggestionsViewOptions) are not offered: a request asking only for them
 * is ErrorInvalidRequest.
 */
import type { Account } from "../../../storage/api.ts";
import type { BusyPeriod } from "../../../src/groupware/types.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { ownEvents, type DetailedEvent } from "./availability-details.ts";
import { asEwsError, failure, success } from "./responses.ts";
import { kid, kidsNamed, kidText, m, mkid, parseBool, t, tv, type XmlElement } from "./xml.ts";

const MINUTE = 60_000;
/** Mailboxes one request may ask about (Exchange's limit is 100). */
export const MAX_MAILBOXES = 100;
/** Longest TimeWindow (Exchange: 42 days; we allow a little more than a quarter). */
const MAX_WINDOW = 100 * 86_400_000;
/** Merged free/busy slots one mailbox may produce (100 days of 5-minute slots fit). */
const MAX_SLOTS = 30_000;
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
/** Types.xsd LegacyFreeBusyType and its MergedFreeBusy digit (MS-OXWSAVAIL §2.2.4.20). */
const BUSY_NAME = { "BUSY-TENTATIVE": "Tentative", BUSY: "Busy", "BUSY-UNAVAILABLE": "OOF" } as const;
const BUSY_DIGIT = { "BUSY-TENTATIVE": 1, BUSY: 2, "BUSY-UNAVAILABLE": 3 } as const;
const VIEWS = ["MergedOnly", "FreeBusy", "FreeBusyMerged", "Detailed", "DetailedMerged"];

/** One DST rule of a SerializableTimeZone (Types.xsd SerializableTimeZoneTime). */
interface ZoneRule {
  bias: number;
  /** "HH:MM:SS" in minutes. */
  time: number;
  /** 1-4, 5 = last. */
  dayOrder: number;
  month: number;
  dayOfWeek: number;
}

/** A SerializableTimeZone: UTC = local + bias (minutes). */
export interface SerialZone {
  bias: number;
  standard: ZoneRule | null;
  daylight: ZoneRule | null;
}

function intOf(s: string | undefined, min: number, max: number, what: string): number {
  const v = (s ?? "").trim();
  if (!/^-?\d{1,5}$/.test(v) || Number(v) < min || Number(v) > max) throw new EwsError("ErrorInvalidRequest", `${what} is not valid.`);
  return Number(v);
}

function rule(el: XmlElement | undefined, what: string): ZoneRule | null {
  if (!el) return null;
  const time = /^(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(kidText(el, "Time") ?? "");
  if (!time) throw new EwsError("ErrorInvalidRequest", `${what} Time is not valid.`);
  const month = intOf(kidText(el, "Month"), 0, 12, `${what} Month`);
  const dow = DAYS.indexOf(kidText(el, "DayOfWeek") ?? "");
  if (dow < 0) throw new EwsError("ErrorInvalidRequest", `${what} DayOfWeek is not valid.`);
  return { bias: intOf(kidText(el, "Bias"), -1440, 1440, `${what} Bias`), time: Number(time[1]) * 60 + Number(time[2]), dayOrder: intOf(kidText(el, "DayOrder"), 1, 5, `${what} DayOrder`), month, dayOfWeek: dow };
}

export function parseSerialZone(el: XmlElement | undefined): SerialZone {
  if (!el) return { bias: 0, standard: null, daylight: null };
  const standard = rule(kid(el, "StandardTime"), "StandardTime");
  const daylight = rule(kid(el, "DaylightTime"), "DaylightTime");
  // A month of 0 means the zone has no daylight saving time.
  const dst = standard && daylight && standard.month > 0 && daylight.month > 0;
  return { bias: intOf(kidText(el, "Bias"), -1440, 1440, "Bias"), standard: dst ? standard : null, daylight: dst ? daylight : null };
}

/** The local wall-clock instant (as UTC ms of that wall time) a rule switches at in `year`. */
function switchAt(r: ZoneRule, year: number): number {
  const first = new Date(Date.UTC(year, r.month - 1, 1)).getUTCDay();
  let day = 1 + ((r.dayOfWeek - first + 7) % 7) + (r.dayOrder - 1) * 7;
  const daysInMonth = new Date(Date.UTC(year, r.month, 0)).getUTCDate();
  while (day > daysInMonth) day -= 7;
  return Date.UTC(year, r.month - 1, day) + r.time * MINUTE;
}

/** Minutes to add to local wall time to get UTC at local wall time `local` (as UTC ms of the wall clock). */
function biasAtLocal(z: SerialZone, local: number): number {
  if (!z.standard || !z.daylight) return z.bias + (z.standard?.bias ?? 0);
  const year = new Date(local).getUTCFullYear();
  const dstStart = switchAt(z.daylight, year);
  const dstEnd = switchAt(z.standard, year);
  const inDst = dstStart < dstEnd ? local >= dstStart && local < dstEnd : local >= dstStart || local < dstEnd;
  return z.bias + (inDst ? z.daylight.bias : z.standard.bias);
}

export function localToUtc(z: SerialZone, local: number): number {
  return local + biasAtLocal(z, local) * MINUTE;
}

export function utcToLocal(z: SerialZone, utc: number): number {
  // The bias at the standard-time guess, then corrected once for the daylight one (wall clocks differ by at most one switch).
  let local = utc - (z.bias + (z.standard?.bias ?? 0)) * MINUTE;
  local = utc - biasAtLocal(z, local) * MINUTE;
  return utc - biasAtLocal(z, local) * MINUTE;
}

/** A local time as xs:dateTime without an offset (MS-OXWSAVAIL: times are in the request's zone). */
function localText(local: number): string {
  return new Date(local).toISOString().slice(0, 19);
}

/** TimeWindow StartTime/EndTime: local times (an offset or Z, when a client sends one, is honoured). */
function windowTime(s: string | undefined, z: SerialZone, what: string): number {
  const v = (s ?? "").trim();
  const mm = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.exec(v);
  if (!mm) throw new EwsError("ErrorInvalidRequest", `${what} is not a date and time.`);
  const wall = Date.parse(mm[1] + "Z");
  if (!Number.isFinite(wall)) throw new EwsError("ErrorInvalidRequest", `${what} is not a date and time.`);
  if (mm[3]) return Date.parse(mm[1] + mm[3]);
  return localToUtc(z, wall);
}

/** The MergedFreeBusy digits: one per interval from the window's start, the strongest busy type in it (0 free). */
function mergedDigits(busy: BusyPeriod[], start: number, end: number, interval: number): string {
  const n = Math.min(Math.ceil((end - start) / interval), MAX_SLOTS);
  const slots = new Uint8Array(n);
  for (const b of busy) {
    const d = BUSY_DIGIT[b.type];
    const from = Math.max(0, Math.floor((b.start - start) / interval));
    const to = Math.min(n, Math.ceil((b.end - start) / interval));
    for (let i = from; i < to; i++) if (slots[i]! < d) slots[i] = d;
  }
  return Array.from(slots).join("");
}

/** Working hours: Monday to Friday, 08:00-17:00 in the request's zone (no per-user working hours are kept). */
function workingHours(zoneXml: string): string {
  return t("WorkingHours", zoneXml, t("WorkingPeriodArray", t("WorkingPeriod", tv("DayOfWeek", "Monday Tuesday Wednesday Thursday Friday"), tv("StartTimeInMinutes", 480), tv("EndTimeInMinutes", 1020))));
}

async function accountOf(c: EwsContext, address: string): Promise<Account> {
  const a = address.trim().toLowerCase();
  if (!a || a.length > 320 || !a.includes("@")) throw new EwsError("ErrorMailRecipientNotFound", "The mailbox address is not valid.");
  if (a === c.account.email.toLowerCase()) return c.account;
  const r = await c.store.resolveRecipient(a);
  if (!r || r === "remote" || r.accounts.length !== 1) throw new EwsError("ErrorMailRecipientNotFound", `${a} is not a mailbox on this server.`);
  return r.accounts[0]!;
}

registerOperation(
  "GetUserAvailabilityRequest",
  async (c, op) => {
    const zoneEl = kid(op, "TimeZone");
    const zone = parseSerialZone(zoneEl);
    const zoneXml = zoneEl ? serialZoneXml(zoneEl) : "";
    const mailboxes = kidsNamed(mkid(op, "MailboxDataArray"), "MailboxData");
    const options = kid(op, "FreeBusyViewOptions");
    if (!options) {
      if (kid(op, "SuggestionsViewOptions")) throw new EwsError("ErrorInvalidRequest", "Meeting suggestions are not offered by this server; ask for FreeBusyViewOptions.");
      throw new EwsError("ErrorInvalidRequest", "FreeBusyViewOptions is required.");
    }
    if (!mailboxes.length) throw new EwsError("ErrorInvalidRequest", "MailboxDataArray names no mailbox.");
    if (mailboxes.length > MAX_MAILBOXES) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_MAILBOXES} mailboxes per request.`);
    const win = kid(options, "TimeWindow");
    const start = windowTime(kidText(win, "StartTime"), zone, "StartTime");
    const end = windowTime(kidText(win, "EndTime"), zone, "EndTime");
    if (!(end > start)) throw new EwsError("ErrorInvalidTimeInterval", "EndTime must be after StartTime.");
    if (end - start > MAX_WINDOW) throw new EwsError("ErrorTimeIntervalTooBig", "The time window is longer than 100 days.");
    const intervalMin = kidText(options, "MergedFreeBusyIntervalInMinutes") === undefined ? 30 : intOf(kidText(options, "MergedFreeBusyIntervalInMinutes"), 5, 1440, "MergedFreeBusyIntervalInMinutes");
    const requested = kidText(options, "RequestedView") ?? "FreeBusy";
    if (!VIEWS.includes(requested) && requested !== "None") throw new EwsError("ErrorInvalidRequest", "RequestedView is not valid.");
    const merged = requested === "MergedOnly" || requested === "FreeBusyMerged" || requested === "DetailedMerged";
    const events = requested !== "MergedOnly" && requested !== "None";
    const out: string[] = [];
    for (const mb of mailboxes) {
      try {
        const address = kidText(kid(mb, "Email"), "Address") ?? "";
        if (parseBool(kidText(mb, "ExcludeConflicts")) === undefined && kidText(mb, "ExcludeConflicts") !== undefined) throw new EwsError("ErrorInvalidRequest", "ExcludeConflicts must be true or false.");
        const account = await accountOf(c, address);
        const busy = await c.server.groupware.freeBusy(account, { start, end });
        // Details (subjects, places) only of one's own calendar; others are answered as FreeBusy views.
        const detailed = (requested === "Detailed" || requested === "DetailedMerged") && account.id === c.account.id;
        const viewType = detailed || !requested.startsWith("Detailed") ? requested : requested.replace("Detailed", "FreeBusy");
        const local = (ms: number) => localText(utcToLocal(zone, ms));
        const list = detailed
          ? (await ownEvents(c, { start, end })).map((e) => t("CalendarEvent", tv("StartTime", local(e.start)), tv("EndTime", local(e.end)), tv("BusyType", e.busy), detailsXml(e)))
          : busy.map((b) => t("CalendarEvent", tv("StartTime", local(b.start)), tv("EndTime", local(b.end)), tv("BusyType", BUSY_NAME[b.type])));
        const view = m(
          "FreeBusyView",
          tv("FreeBusyViewType", viewType),
          merged && tv("MergedFreeBusy", mergedDigits(busy, start, end, intervalMin * MINUTE)),
          events && list.length > 0 && t("CalendarEventArray", ...list),
          events && workingHours(zoneXml),
        );
        out.push(m("FreeBusyResponse", success("ResponseMessage"), view));
      } catch (e) {
        out.push(m("FreeBusyResponse", failure("ResponseMessage", asEwsError(e, (err) => c.log.error("ews: GetUserAvailability failed", { err: err instanceof Error ? (err.stack ?? err.message) : String(err) })))));
      }
    }
    return m("GetUserAvailabilityResponse", m("FreeBusyResponseArray", ...out));
  },
  { since: "Exchange2007_SP1" },
);

/** Types.xsd CalendarEventDetails. */
function detailsXml(e: DetailedEvent): string {
  return t("CalendarEventDetails", tv("Subject", e.subject), tv("Location", e.location), tv("IsMeeting", e.meeting), tv("IsRecurring", e.recurring), tv("IsException", e.exception), tv("IsReminderSet", e.reminder), tv("IsPrivate", e.private));
}

/** The request's TimeZone echoed in WorkingHours (the zone the working hours are given in). */
function serialZoneXml(el: XmlElement): string {
  const ruleXml = (name: string, r: XmlElement | undefined) =>
    r ? t(name, tv("Bias", kidText(r, "Bias") ?? "0"), tv("Time", kidText(r, "Time") ?? "00:00:00"), tv("DayOrder", kidText(r, "DayOrder") ?? "1"), tv("Month", kidText(r, "Month") ?? "0"), tv("DayOfWeek", kidText(r, "DayOfWeek") ?? "Sunday")) : "";
  return t("TimeZone", tv("Bias", kidText(el, "Bias") ?? "0"), ruleXml("StandardTime", kid(el, "StandardTime")), ruleXml("DaylightTime", kid(el, "DaylightTime")));
}
