/**
 * GetServerTimeZones (Messages.xsd GetServerTimeZonesType, Exchange2010+):
 * the Windows time zones this server knows (src/groupware/ical/windows-zones.ts),
 * each as a Types.xsd TimeZoneDefinitionType. Clients send these back in
 * TimeZoneContext / StartTimeZone, and exchangelib asks for the start's zone
 * before every GetUserAvailability.
 *
 * The rules are those in force in the current year (the same computation
 * ActiveSync's time zone blob uses: protocols/http/eas/groupware/timezone.ts):
 * one Standard period, a Daylight period when the zone has daylight saving
 * time, one transitions group with the two yearly RecurringDayTransitions,
 * and a Transitions list pointing at that group. Exchange lists past rule
 * changes as more groups; older years are not described here.
 */
import { WINDOWS_ZONES } from "../../../src/groupware/ical/windows-zones.ts";
import { timezoneInfo, type TzInfo, type TzRule } from "../eas/groupware/timezone.ts";
import { EwsError, registerOperation } from "./context.ts";
import { NS } from "./ns.ts";
import { failure, responseMessages, success } from "./responses.ts";
import { attr, esc, kidsNamed, m, mkid, parseBool } from "./xml.ts";

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** The ids served: the mapped Windows zones and Windows' own "UTC" (exchangelib's id for UTC). */
const ZONE_IDS: readonly string[] = ["UTC", ...Object.keys(WINDOWS_ZONES)];
const ZONE_SET = new Set(ZONE_IDS);

/** Zones per request when the client names them. */
const MAX_IDS = 1000;

/** xs:duration of a bias in minutes ("-PT1H", "PT5H30M", "PT0H"). */
export function biasDuration(minutes: number): string {
  const sign = minutes < 0 ? "-" : "";
  const a = Math.abs(minutes);
  const h = Math.floor(a / 60);
  const min = a % 60;
  return `${sign}PT${h}H${min ? `${min}M` : ""}`;
}

/** A SYSTEMTIME-style rule as a yearly "nth weekday of the month" (a dated rule of one year becomes the weekday it falls on). */
function dayRule(r: TzRule): { month: number; dayOfWeek: number; occurrence: number } {
  if (r.year === 0) return { month: r.month, dayOfWeek: r.dayOfWeek, occurrence: r.day >= 5 ? -1 : r.day };
  const date = new Date(Date.UTC(r.year, r.month - 1, r.day));
  const last = new Date(Date.UTC(r.year, r.month, 0)).getUTCDate();
  return { month: r.month, dayOfWeek: date.getUTCDay(), occurrence: r.day + 7 > last ? -1 : Math.ceil(r.day / 7) };
}

function timeOffset(r: TzRule): string {
  return `PT${r.hour}H${r.minute ? `${r.minute}M` : ""}${r.second ? `${r.second}S` : ""}`;
}

/** "(UTC+01:00) Europe/Berlin": the display name (Exchange's own names are localised marketing text we do not have). */
function displayName(id: string, info: TzInfo): string {
  const off = -info.bias;
  const sign = off < 0 ? "-" : "+";
  const a = Math.abs(off);
  const iana = id === "UTC" ? "Etc/UTC" : (WINDOWS_ZONES[id] ?? id);
  return `(UTC${sign}${String(Math.floor(a / 60)).padStart(2, "0")}:${String(a % 60).padStart(2, "0")}) ${iana}`;
}

/** One t:TimeZoneDefinition (full: with Periods, TransitionsGroups and Transitions). */
export function timeZoneDefinition(id: string, year: number, full: boolean): string {
  const info = timezoneInfo(id, null, year);
  const head = `<t:TimeZoneDefinition Id="${esc(id)}" Name="${esc(displayName(id, info))}"`;
  if (!full) return `${head}/>`;
  const std = `trule:Microsoft/Registry/${id}/${year}-Standard`;
  const dst = `trule:Microsoft/Registry/${id}/${year}-Daylight`;
  const period = (pid: string, name: string, bias: number) => `<t:Period Bias="${biasDuration(bias)}" Name="${name}" Id="${esc(pid)}"/>`;
  const to = (pid: string) => `<t:To Kind="Period">${esc(pid)}</t:To>`;
  let periods = period(std, "Standard", info.bias + info.standardBias);
  let group: string;
  if (info.standardDate && info.daylightDate) {
    periods += period(dst, "Daylight", info.bias + info.daylightBias);
    const transition = (pid: string, r: TzRule) => {
      const d = dayRule(r);
      return `<t:RecurringDayTransition>${to(pid)}<t:TimeOffset>${timeOffset(r)}</t:TimeOffset><t:Month>${d.month}</t:Month><t:DayOfWeek>${DAYS[d.dayOfWeek]}</t:DayOfWeek><t:Occurrence>${d.occurrence}</t:Occurrence></t:RecurringDayTransition>`;
    };
    group = transition(dst, info.daylightDate) + transition(std, info.standardDate);
  } else {
    group = `<t:Transition>${to(std)}</t:Transition>`;
  }
  return (
    `${head}><t:Periods>${periods}</t:Periods>` +
    `<t:TransitionsGroups><t:TransitionsGroup Id="0">${group}</t:TransitionsGroup></t:TransitionsGroups>` +
    `<t:Transitions><t:Transition><t:To Kind="Group">0</t:To></t:Transition></t:Transitions></t:TimeZoneDefinition>`
  );
}

registerOperation(
  "GetServerTimeZones",
  async (c, op) => {
    const tag = "GetServerTimeZonesResponseMessage";
    // Messages.xsd: ReturnFullTimeZoneData defaults to true.
    const full = parseBool(attr(op, "ReturnFullTimeZoneData")) ?? true;
    const idsEl = mkid(op, "Ids");
    const asked = idsEl ? kidsNamed(idsEl, "Id", NS.t).map((e) => e.text.trim()) : ZONE_IDS;
    if (asked.length > MAX_IDS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_IDS} time zone ids per request.`);
    const year = new Date(c.now()).getUTCFullYear();
    const unknown = asked.find((id) => !ZONE_SET.has(id));
    if (unknown !== undefined) {
      // Exchange answers the whole request with one error when an id is not a time zone it has.
      return responseMessages("GetServerTimeZones", [failure(tag, new EwsError("ErrorTimeZone", `"${unknown.slice(0, 64)}" is not a time zone id of this server.`))]);
    }
    const defs = [...new Set(asked)].map((id) => timeZoneDefinition(id, year, full)).join("");
    return responseMessages("GetServerTimeZones", [success(tag, m("TimeZoneDefinitions", defs))]);
  },
  { since: "Exchange2010" },
);
