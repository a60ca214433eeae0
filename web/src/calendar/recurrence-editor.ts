/**
 * The recurrence part of the event editor (RFC 5545 §3.3.10 as far as
 * RecurrenceRule shows it): none / daily / weekly with weekday toggles /
 * monthly on day N or on the Nth weekday / yearly; every N; ends never, on a
 * date, or after N times. A stored rule the shape cannot show (complex: true)
 * is shown as "Custom rule (kept)" and handed back untouched.
 */
import type { RecurrenceRule, Weekday } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { dayLabel } from "./common.ts";
import { isoWeekday, parseKey } from "./dates.ts";

const CODES: Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/** A sample Monday..Sunday (2024-01-01 was a Monday) to print weekday names in the user's language. */
const SAMPLE = ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05", "2024-01-06", "2024-01-07"];

export interface RecurrenceEditor {
  el: HTMLElement;
  /** The rule to save (null = not recurring); the stored complex rule is returned unchanged. */
  value(): RecurrenceRule | null;
  /** The start date changed: weekly default day and monthly "on the Nth weekday" follow it. */
  setStart(date: string): void;
  /** A message in words when the entry is not usable, else null. */
  error(): string | null;
}

export function recurrenceEditor(initial: RecurrenceRule | null, startDate: string, firstDay: number): RecurrenceEditor {
  let start = startDate;
  const freq = h("select", { name: "freq", "aria-label": t("cal.rec.repeat") },
    h("option", { value: "" }, t("cal.rec.none")),
    h("option", { value: "DAILY" }, t("cal.rec.daily")),
    h("option", { value: "WEEKLY" }, t("cal.rec.weekly")),
    h("option", { value: "MONTHLY" }, t("cal.rec.monthly")),
    h("option", { value: "YEARLY" }, t("cal.rec.yearly")),
  ) as HTMLSelectElement;
  const interval = h("input", { type: "number", name: "interval", min: "1", max: "1000", value: "1", class: "cal-num", "aria-label": t("cal.rec.every") }) as HTMLInputElement;
  const unit = h("span", { class: "cal-rec-unit" });
  const days = h("div", { class: "cal-rec-days", role: "group", "aria-label": t("cal.rec.onDays") });
  const dayBoxes = new Map<Weekday, HTMLInputElement>();
  for (let k = 0; k < 7; k++) {
    const i = (firstDay - 1 + k) % 7;
    const code = CODES[i]!;
    const box = h("input", { type: "checkbox", name: "byday", value: code }) as HTMLInputElement;
    dayBoxes.set(code, box);
    days.append(h("label", { class: "cal-rec-day", title: dayLabel(SAMPLE[i]!, { weekday: "long" }) }, box, h("span", null, dayLabel(SAMPLE[i]!, { weekday: "narrow" }))));
  }
  const monthly = h("select", { name: "monthlyMode", "aria-label": t("cal.rec.monthlyMode") }) as HTMLSelectElement;
  const endMode = h("select", { name: "endMode", "aria-label": t("cal.rec.ends") },
    h("option", { value: "never" }, t("cal.rec.never")),
    h("option", { value: "until" }, t("cal.rec.onDate")),
    h("option", { value: "count" }, t("cal.rec.after")),
  ) as HTMLSelectElement;
  const until = h("input", { type: "date", name: "until", "aria-label": t("cal.rec.untilDate") }) as HTMLInputElement;
  const count = h("input", { type: "number", name: "count", min: "1", max: "10000", value: "10", class: "cal-num", "aria-label": t("cal.rec.count") }) as HTMLInputElement;
  const countUnit = h("span", null, t("cal.rec.times"));
  const custom = h("p", { class: "cal-rec-custom" }, t("cal.rec.custom"));
  const detail = h("div", { class: "cal-rec-detail" },
    h("label", { class: "cal-rec-every" }, t("cal.rec.every"), " ", interval, " ", unit),
    days,
    monthly,
    h("div", { class: "cal-rec-end" }, h("label", null, t("cal.rec.ends"), " ", endMode), until, count, countUnit),
  );
  const el = h("fieldset", { class: "cal-rec" }, h("legend", null, t("cal.rec.repeat")), freq, custom, detail);

  const nthOf = (d: string): number => {
    const p = parseKey(d)!;
    return Math.ceil(p.d / 7);
  };
  const isLast = (d: string): boolean => {
    const p = parseKey(d)!;
    return p.d + 7 > new Date(Date.UTC(p.y, p.m, 0)).getUTCDate();
  };
  const fillMonthly = (): void => {
    const p = parseKey(start);
    if (!p) return;
    const wd = dayLabel(start, { weekday: "long" });
    const keep = monthly.value;
    monthly.replaceChildren(
      h("option", { value: "day" }, t("cal.rec.onDay", { n: p.d })),
      h("option", { value: "nth" }, t("cal.rec.onNth", { nth: t(`cal.rec.nth${nthOf(start)}`), day: wd })),
    );
    if (isLast(start)) monthly.append(h("option", { value: "last" }, t("cal.rec.onNth", { nth: t("cal.rec.nthLast"), day: wd })));
    if (keep && [...monthly.options].some((o) => o.value === keep)) monthly.value = keep;
  };
  const sync = (): void => {
    const f = freq.value;
    detail.hidden = !f;
    unit.textContent = f ? t(`cal.rec.unit.${f}`) : "";
    days.hidden = f !== "WEEKLY";
    monthly.hidden = f !== "MONTHLY" && f !== "YEARLY";
    until.hidden = endMode.value !== "until";
    count.hidden = countUnit.hidden = endMode.value !== "count";
  };

  const complex = initial?.complex ? initial : null;
  custom.hidden = !complex;
  if (complex) {
    freq.hidden = true;
    detail.hidden = true;
  }
  fillMonthly();
  if (initial && !complex) {
    freq.value = initial.freq;
    interval.value = String(initial.interval || 1);
    for (const d of initial.byDay) {
      const code = d.slice(-2) as Weekday;
      dayBoxes.get(code)!.checked = initial.freq === "WEEKLY" && dayBoxes.has(code);
    }
    if (initial.byDay.some((d) => /^-1/.test(d)) || initial.bySetPos.includes(-1)) monthly.value = "last";
    else if (initial.byDay.length && initial.freq !== "WEEKLY") monthly.value = "nth";
    else monthly.value = "day";
    if (initial.until) {
      endMode.value = "until";
      until.value = initial.until;
    } else if (initial.count) {
      endMode.value = "count";
      count.value = String(initial.count);
    }
  }
  const defaultDay = (): void => {
    if (![...dayBoxes.values()].some((b) => b.checked)) dayBoxes.get(CODES[isoWeekday(start) - 1]!)!.checked = true;
  };
  freq.addEventListener("change", () => {
    if (freq.value === "WEEKLY") defaultDay();
    sync();
  });
  endMode.addEventListener("change", sync);
  if (freq.value === "WEEKLY") defaultDay();
  if (!complex) sync();

  return {
    el,
    setStart(d: string) {
      if (!parseKey(d)) return;
      start = d;
      fillMonthly();
    },
    error() {
      if (complex || !freq.value) return null;
      const n = Number(interval.value);
      if (!Number.isInteger(n) || n < 1 || n > 1000) return t("cal.err.interval");
      if (endMode.value === "count") {
        const c = Number(count.value);
        if (!Number.isInteger(c) || c < 1 || c > 10000) return t("cal.err.count");
      }
      if (endMode.value === "until" && (!parseKey(until.value) || until.value < start)) return t("cal.err.until");
      return null;
    },
    value() {
      if (complex) return complex;
      const f = freq.value as RecurrenceRule["freq"] | "";
      if (!f) return null;
      const rule: RecurrenceRule = { freq: f, interval: Math.max(1, Math.min(1000, Number(interval.value) || 1)), byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: false };
      const p = parseKey(start)!;
      const code = CODES[isoWeekday(start) - 1]!;
      if (f === "WEEKLY") rule.byDay = CODES.filter((c) => dayBoxes.get(c)!.checked);
      if (f === "MONTHLY" || f === "YEARLY") {
        // RFC 5545 §3.3.10: BYDAY with an ordinal picks "the 2nd Tuesday" within the month.
        if (monthly.value === "nth") rule.byDay = [`${nthOf(start)}${code}`];
        else if (monthly.value === "last") rule.byDay = [`-1${code}`];
        else rule.byMonthDay = [p.d];
        if (f === "YEARLY") rule.byMonth = [p.m];
      }
      if (endMode.value === "until") rule.until = until.value;
      if (endMode.value === "count") rule.count = Math.max(1, Math.min(10000, Number(count.value) || 1));
      return rule;
    },
  };
}
