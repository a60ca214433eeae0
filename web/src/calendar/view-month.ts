/**
 * The month view: whole weeks, every event as a bar across the days it covers
 * (timed single-day events as a one-day bar with their time), stacked in
 * lanes per week row by layout.ts, and "+N more" where a day has more events
 * than lanes; events drag to another day (drag-month.ts). Performance: one pass, a DocumentFragment, positions as
 * percentages and lane offsets computed from numbers, no layout reads (the
 * bench paints a 2,000-event calendar's month under 300 ms).
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { chip, dayLabel, type RenderCtx } from "./common.ts";
import { addDays, dayStart, parseKey, wallToMs } from "./dates.ts";
import { layoutBars, spanOf, type Spanning } from "./layout.ts";
import { attachMonthDrag } from "./drag-month.ts";

const LANE_PX = 22;
const HEAD_PX = 24;

/** Lanes per week row from the window height (a read of innerHeight, which forces no layout). */
function lanesFor(weeks: number, phone: boolean): number {
  const rowPx = (innerHeight - (phone ? 170 : 150)) / weeks;
  return Math.max(phone ? 1 : 2, Math.min(8, Math.floor((rowPx - HEAD_PX - LANE_PX) / LANE_PX)));
}

export function renderMonthView(host: HTMLElement, weeks: string[][], month: number, instances: EventInstance[], ctx: RenderCtx): void {
  const frag = document.createDocumentFragment();
  const root = h("div", { class: "cal-month" });
  root.style.setProperty("--weeks", String(weeks.length));
  const head = h("div", { class: "cal-month-head" });
  for (const d of weeks[0]!) head.append(h("div", { class: "cal-month-wd" }, dayLabel(d, { weekday: ctx.phone ? "narrow" : "short" })));
  root.append(head);
  const maxLanes = lanesFor(weeks.length, ctx.phone);
  // Spans once for all rows; sorted by start so each row scans only what can reach it.
  const spans: Spanning<EventInstance>[] = instances.map((i) => spanOf(i, i, ctx.tz));
  spans.sort((a, b) => (a.startDay < b.startDay ? -1 : a.startDay > b.startDay ? 1 : 0));
  const byEl = new Map<HTMLElement, EventInstance>();
  for (const week of weeks) {
    const first = week[0]!;
    const after = addDays(first, 7);
    const rowSpans = spans.filter((s) => s.startDay < after && s.endDay > first);
    const row = layoutBars(rowSpans, first, 7, maxLanes);
    const rowEl = h("div", { class: "cal-month-row" });
    for (let i = 0; i < 7; i++) {
      const d = week[i]!;
      const inMonth = parseKey(d)!.m === month;
      const cell = h(
        "div",
        { class: "cal-month-cell" + (inMonth ? "" : " is-other") + (d === ctx.today ? " is-today" : ""), "data-day": d },
        h("button", { type: "button", class: "cal-month-num", title: dayLabel(d, { dateStyle: "full" }), onclick: () => ctx.openDay(d) }, dayLabel(d, { day: "numeric" })),
      );
      cell.style.gridColumn = String(i + 1);
      if (row.more[i]) {
        const more = h("button", { type: "button", class: "cal-more", onclick: () => ctx.openDay(d) }, t("cal.more", { n: row.more[i]! }));
        more.style.top = `${HEAD_PX + maxLanes * LANE_PX}px`;
        cell.append(more);
      }
      rowEl.append(cell);
    }
    const layer = h("div", { class: "cal-month-bars" });
    for (const b of row.bars) {
      const multi = b.item.allDay || b.span > 1 || b.continuesAfter || b.continuesBefore;
      const el = chip(b.item, ctx.colorOf(b.item.calendar), ctx.tz, { time: !multi, cls: (multi ? "cal-bar" : "cal-dot") + (b.continuesBefore ? " cont-before" : "") + (b.continuesAfter ? " cont-after" : "") });
      el.style.left = `calc(${(b.col / 7) * 100}% + 2px)`;
      el.style.width = `calc(${(b.span / 7) * 100}% - 4px)`;
      el.style.top = `${HEAD_PX + b.lane * LANE_PX}px`;
      byEl.set(el, b.item);
      layer.append(el);
    }
    rowEl.append(layer);
    frag.append(rowEl);
  }
  root.append(frag);
  let dragged = false;
  attachMonthDrag(root, byEl, ctx, () => {
    dragged = true;
    setTimeout(() => (dragged = false), 0);
  });
  root.addEventListener("click", (e) => {
    if (dragged) {
      dragged = false;
      return;
    }
    const target = e.target as HTMLElement;
    const evEl = target.closest<HTMLElement>(".cal-event");
    if (evEl) {
      const inst = byEl.get(evEl);
      if (inst) ctx.open(inst);
      return;
    }
    // A click on a day's empty space: a new all-day event there on the desktop, a timed one at 09:00 on a phone.
    const cell = target.closest<HTMLElement>(".cal-month-cell");
    if (!cell || target.closest("button")) return;
    const d = cell.dataset.day!;
    if (ctx.phone) ctx.create(wallToMs(d, 9 * 60, ctx.tz), wallToMs(d, 10 * 60, ctx.tz), false);
    else ctx.create(dayStart(d, ctx.tz), dayStart(addDays(d, 1), ctx.tz), true);
  });
  host.replaceChildren(root);
}
