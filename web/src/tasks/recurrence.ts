/**
 * A small recurrence editor for tasks (RFC 5545 §3.3.10): repeat daily,
 * weekly (on chosen weekdays), monthly or yearly, every N, ending never,
 * after a count, or on a date. A rule the shape cannot show (`complex`) is
 * described and sent back untouched so the stored RRULE survives.
 */
import { h } from "../dom.ts";
import { dateFormat, t } from "../i18n/index.ts";
import type { Frequency, RecurrenceRule, Weekday } from "../../../protocols/http/webmail/api-types.ts";

const FREQS: Frequency[] = ["DAILY", "WEEKLY", "MONTHLY", "YEARLY"];
const DAYS: Weekday[] = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"];
/** RFC 5545 puts no bound on INTERVAL/COUNT; the editor keeps them to sizes a person means. */
const MAX_INTERVAL = 999;
const MAX_COUNT = 999;

let seq = 0;

function dayName(d: Weekday): string {
  // 2024-01-01 was a Monday.
  return dateFormat({ weekday: "short" }, "UTC").format(Date.UTC(2024, 0, 1 + DAYS.indexOf(d)));
}

export function recurrenceEditor(initial: RecurrenceRule | null): { el: HTMLElement; read(): RecurrenceRule | null } {
  const id = `rr-${++seq}`;
  if (initial?.complex) {
    return { el: h("fieldset", { class: "tk-fieldset" }, h("legend", null, t("tasks.repeat")), h("p", { class: "tk-note" }, t("tasks.repeatComplex"))), read: () => initial };
  }
  const freq = h("select", { id: `${id}-freq`, name: "repeat", class: "tk-input" }, h("option", { value: "" }, t("tasks.repeat.none")), FREQS.map((f) => h("option", { value: f, selected: initial?.freq === f }, t(`tasks.repeat.${f}`)))) as HTMLSelectElement;
  const interval = h("input", { id: `${id}-int`, type: "number", name: "interval", min: 1, max: MAX_INTERVAL, value: initial?.interval ?? 1, class: "tk-input tk-narrow" }) as HTMLInputElement;
  const days = DAYS.map((d) => ({ d, box: h("input", { type: "checkbox", value: d, checked: initial?.byDay.includes(d) ?? false }) as HTMLInputElement }));
  const dayRow = h("div", { class: "tk-days", role: "group", "aria-label": t("tasks.repeatOn") }, days.map(({ d, box }) => h("label", { class: "check tk-day" }, box, dayName(d))));
  const end = h("select", { id: `${id}-end`, name: "repeat-end", class: "tk-input" }, h("option", { value: "never" }, t("tasks.end.never")), h("option", { value: "count", selected: !!initial?.count }, t("tasks.end.count")), h("option", { value: "until", selected: !!initial?.until }, t("tasks.end.until"))) as HTMLSelectElement;
  const count = h("input", { type: "number", name: "count", min: 1, max: MAX_COUNT, value: initial?.count ?? 10, class: "tk-input tk-narrow", "aria-label": t("tasks.end.countLabel") }) as HTMLInputElement;
  const until = h("input", { type: "date", name: "until", value: initial?.until ?? "", class: "tk-input", "aria-label": t("tasks.end.untilLabel") }) as HTMLInputElement;
  const details = h(
    "div",
    { class: "tk-repeat-details" },
    h("div", { class: "tk-line" }, h("label", { for: interval.id }, t("tasks.every")), interval, h("span", { class: "tk-unit" })),
    dayRow,
    h("div", { class: "tk-line" }, h("label", { for: end.id }, t("tasks.ends")), end, count, until),
  );
  const sync = () => {
    details.hidden = !freq.value;
    dayRow.hidden = freq.value !== "WEEKLY";
    count.hidden = end.value !== "count";
    until.hidden = end.value !== "until";
    (details.querySelector(".tk-unit") as HTMLElement).textContent = freq.value ? t(`tasks.unit.${freq.value}`) : "";
  };
  freq.addEventListener("change", sync);
  end.addEventListener("change", sync);
  sync();
  return {
    el: h("fieldset", { class: "tk-fieldset" }, h("legend", null, t("tasks.repeat")), h("div", { class: "tk-line" }, h("label", { for: freq.id }, t("tasks.repeatLabel")), freq), details),
    read(): RecurrenceRule | null {
      if (!freq.value) return null;
      const f = freq.value as Frequency;
      const n = Math.min(MAX_INTERVAL, Math.max(1, Math.floor(Number(interval.value) || 1)));
      const keep = initial && initial.freq === f;
      return {
        freq: f,
        interval: n,
        byDay: f === "WEEKLY" ? days.filter((d) => d.box.checked).map((d) => d.d) : keep ? initial.byDay : [],
        byMonthDay: keep ? initial.byMonthDay : [],
        byMonth: keep ? initial.byMonth : [],
        bySetPos: keep ? initial.bySetPos : [],
        count: end.value === "count" ? Math.min(MAX_COUNT, Math.max(1, Math.floor(Number(count.value) || 1))) : null,
        until: end.value === "until" && /^\d{4}-\d{2}-\d{2}$/.test(until.value) ? until.value : null,
        complex: false,
      };
    },
  };
}
