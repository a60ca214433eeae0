/**
 * A task's t:Recurrence (Types.xsd TaskRecurrenceType, MS-OXWSTASK
 * §2.2.4.7) <-> ActiveSync's task Recurrence element (MS-ASTASK §2.2.2.20),
 * which ../eas/groupware/recurrence.ts turns into the VTODO's RRULE.
 *
 *   DailyRecurrence             Type 0      WeeklyRecurrence           Type 1 + DayOfWeek
 *   AbsoluteMonthlyRecurrence   Type 2      RelativeMonthlyRecurrence  Type 3 + WeekOfMonth
 *   AbsoluteYearlyRecurrence    Type 5      RelativeYearlyRecurrence   Type 6
 *   *Regeneration               the same Type with Regenerate 1
 *   NoEnd/EndDate/NumberedRecurrence   Start, Until, Occurrences
 */
import { el, kidText, type WElement } from "../eas/wbxml/tree.ts";
import { EwsError } from "./context.ts";
import { NS } from "./ns.ts";
import { kidText as xkidText, t, tv, type XmlElement } from "./xml.ts";

const DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;
/** Types.xsd DayOfWeekType's groups as ActiveSync's DayOfWeek masks. */
const DAY_GROUPS: Record<string, number> = { Day: 127, Weekday: 62, WeekendDay: 65 };
const INDEX = ["First", "Second", "Third", "Fourth", "Last"] as const;
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"] as const;

const PATTERN_TYPE: Record<string, number> = {
  DailyRecurrence: 0,
  WeeklyRecurrence: 1,
  AbsoluteMonthlyRecurrence: 2,
  RelativeMonthlyRecurrence: 3,
  AbsoluteYearlyRecurrence: 5,
  RelativeYearlyRecurrence: 6,
  DailyRegeneration: 0,
  WeeklyRegeneration: 1,
  MonthlyRegeneration: 2,
  YearlyRegeneration: 5,
};

function bad(msg: string): never {
  throw new EwsError("ErrorCalendarInvalidRecurrence", msg);
}

function maskOf(list: string): number {
  let m = 0;
  for (const w of list.trim().split(/\s+/)) {
    if (!w) continue;
    const i = DAY_NAMES.indexOf(w as (typeof DAY_NAMES)[number]);
    if (i >= 0) m |= 1 << i;
    else if (DAY_GROUPS[w] !== undefined) m |= DAY_GROUPS[w]!;
    else bad(`"${w.slice(0, 20)}" is not a day of the week.`);
  }
  if (!m) bad("DaysOfWeek is empty.");
  return m;
}

function daysOf(mask: number): string {
  for (const [k, v] of Object.entries(DAY_GROUPS)) if (mask === v) return k;
  return DAY_NAMES.filter((_, i) => mask & (1 << i)).join(" ");
}

/** xs:date ("2026-12-07", with an optional zone) as midnight UTC ms. */
function parseDate(s: string | undefined, name: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/.exec((s ?? "").trim());
  if (!m) bad(`${name} is not an xs:date.`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (!Number.isFinite(ms) || new Date(ms).getUTCDate() !== Number(m[3])) bad(`${name} is not a date.`);
  return ms;
}

function intIn(s: string | undefined, name: string, min: number, max: number): number {
  const v = (s ?? "").trim();
  if (!/^\d{1,4}$/.test(v) || Number(v) < min || Number(v) > max) bad(`${name} must be a number from ${min} to ${max}.`);
  return Number(v);
}

/** ActiveSync's Tasks:Recurrence for a t:Recurrence element. */
export function recurrenceFromEws(rec: XmlElement): WElement {
  const pattern = rec.children.find((k) => k.ns === NS.t && PATTERN_TYPE[k.name] !== undefined);
  if (!pattern) bad("The recurrence has no pattern.");
  const range = rec.children.find((k) => k.ns === NS.t && /^(NoEnd|EndDate|Numbered)Recurrence$/.test(k.name));
  if (!range) bad("The recurrence has no range.");
  const q = (name: string, v: string | number | null | undefined) => (v === null || v === undefined ? null : el(`Tasks:${name}`, v));
  const type = PATTERN_TYPE[pattern.name]!;
  const p = (n: string) => xkidText(pattern, n);
  const interval = p("Interval") !== undefined ? intIn(p("Interval"), "Interval", 1, 999) : 1;
  let dayOfWeek: number | undefined;
  let dayOfMonth: number | undefined;
  let weekOfMonth: number | undefined;
  let monthOfYear: number | undefined;
  if (pattern.name === "WeeklyRecurrence") dayOfWeek = maskOf(p("DaysOfWeek") ?? "");
  if (pattern.name === "RelativeMonthlyRecurrence" || pattern.name === "RelativeYearlyRecurrence") {
    dayOfWeek = maskOf(p("DaysOfWeek") ?? "");
    const i = INDEX.indexOf((p("DayOfWeekIndex") ?? "") as (typeof INDEX)[number]);
    if (i < 0) bad("DayOfWeekIndex must be First, Second, Third, Fourth or Last.");
    weekOfMonth = i + 1;
  }
  if (pattern.name === "AbsoluteMonthlyRecurrence" || pattern.name === "AbsoluteYearlyRecurrence") dayOfMonth = intIn(p("DayOfMonth"), "DayOfMonth", 1, 31);
  if (pattern.name === "AbsoluteYearlyRecurrence" || pattern.name === "RelativeYearlyRecurrence") {
    const mi = MONTHS.indexOf((p("Month") ?? "") as (typeof MONTHS)[number]);
    if (mi < 0) bad("Month must be a month's English name.");
    monthOfYear = mi + 1;
  }
  const start = parseDate(xkidText(range, "StartDate"), "StartDate");
  let until: number | undefined;
  let count: number | undefined;
  if (range.name === "EndDateRecurrence") {
    until = parseDate(xkidText(range, "EndDate"), "EndDate");
    if (until < start) bad("EndDate is before StartDate.");
  }
  if (range.name === "NumberedRecurrence") count = intIn(xkidText(range, "NumberOfOccurrences"), "NumberOfOccurrences", 1, 999);
  return el(
    "Tasks:Recurrence",
    q("Type", type),
    q("Start", new Date(start).toISOString()),
    q("Until", until === undefined ? undefined : new Date(until).toISOString()),
    q("Occurrences", count),
    q("Interval", interval),
    q("DayOfMonth", dayOfMonth),
    q("DayOfWeek", dayOfWeek),
    q("WeekOfMonth", weekOfMonth),
    q("MonthOfYear", monthOfYear),
    q("Regenerate", pattern.name.endsWith("Regeneration") ? 1 : null),
  );
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** `<t:Recurrence>` for ActiveSync's Tasks:Recurrence; `anchor` is the task's start (or due) when the element has no Start. */
export function recurrenceXml(rec: WElement, anchor: number | undefined): string {
  const n = (name: string) => {
    const v = kidText(rec, `Tasks:${name}`);
    return v === undefined || v.trim() === "" ? undefined : Number(v);
  };
  const type = n("Type") ?? 0;
  const regen = n("Regenerate") === 1;
  const interval = tv("Interval", n("Interval") ?? 1);
  const dow = n("DayOfWeek");
  const wom = n("WeekOfMonth");
  const moy = n("MonthOfYear");
  const dom = n("DayOfMonth");
  let pattern: string;
  if (regen) pattern = t({ 0: "DailyRegeneration", 1: "WeeklyRegeneration", 2: "MonthlyRegeneration", 3: "MonthlyRegeneration", 5: "YearlyRegeneration", 6: "YearlyRegeneration" }[type] ?? "DailyRegeneration", interval);
  else if (type === 1) pattern = t("WeeklyRecurrence", interval, tv("DaysOfWeek", daysOf(dow ?? 2)));
  else if (type === 2) pattern = t("AbsoluteMonthlyRecurrence", interval, tv("DayOfMonth", dom ?? 1));
  else if (type === 3) pattern = t("RelativeMonthlyRecurrence", interval, tv("DaysOfWeek", daysOf(dow ?? 2)), tv("DayOfWeekIndex", INDEX[(wom ?? 1) - 1] ?? "First"));
  else if (type === 5) pattern = t("AbsoluteYearlyRecurrence", tv("DayOfMonth", dom ?? 1), tv("Month", MONTHS[(moy ?? 1) - 1] ?? "January"));
  else if (type === 6) pattern = t("RelativeYearlyRecurrence", tv("DaysOfWeek", daysOf(dow ?? 2)), tv("DayOfWeekIndex", INDEX[(wom ?? 1) - 1] ?? "First"), tv("Month", MONTHS[(moy ?? 1) - 1] ?? "January"));
  else pattern = t("DailyRecurrence", interval);
  const startText = kidText(rec, "Tasks:Start");
  const startMs = startText ? Date.parse(startText) : anchor;
  const start = tv("StartDate", isoDate(Number.isFinite(startMs) ? startMs! : 0));
  const untilText = kidText(rec, "Tasks:Until");
  const count = n("Occurrences");
  const range =
    count !== undefined
      ? t("NumberedRecurrence", start, tv("NumberOfOccurrences", count))
      : untilText
        ? t("EndDateRecurrence", start, tv("EndDate", isoDate(Date.parse(untilText))))
        : t("NoEndRecurrence", start);
  return t("Recurrence", pattern, range);
}


