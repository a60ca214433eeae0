/**
 * The day, work-week and week views: a column per day with the 24 hours,
 * timed events placed by layout.ts (side by side where they overlap), and the
 * all-day/multi-day events as bars across the top. Built in one pass into a
 * DocumentFragment; drag.ts adds the pointer handling (create, move, resize).
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import { dateFormat, t } from "../i18n/index.ts";
import { chip, chipInner, dayLabel, timeLabel, type RenderCtx } from "./common.ts";
import { addDays, dayStart, wallMinutes } from "./dates.ts";
import { isBar, layoutBars, layoutDay, spanOf } from "./layout.ts";
import { attachTimeDrag } from "./drag.ts";

/** Pixels per hour in the time grid (CSS reads the same number from --cal-hour). */
export const HOUR_PX = 48;
const BAR_PX = 24;

export function renderTimeView(host: HTMLElement, days: string[], instances: EventInstance[], ctx: RenderCtx): void {
  const n = days.length;
  const frag = document.createDocumentFragment();
  const root = h("div", { class: "cal-time" });
  root.style.setProperty("--days", String(n));
  root.style.setProperty("--cal-hour", `${HOUR_PX}px`);

  // Header: weekday and date of each column (a click opens that day).
  const head = h("div", { class: "cal-time-head" }, h("div", { class: "cal-gutter" }));
  for (const d of days) {
    head.append(
      h(
        "button",
        { type: "button", class: "cal-dayhead" + (d === ctx.today ? " is-today" : ""), "data-day": d, onclick: () => ctx.openDay(d), title: dayLabel(d, { dateStyle: "full" }) },
        h("span", { class: "cal-dayhead-wd" }, dayLabel(d, { weekday: "short" })),
        h("span", { class: "cal-dayhead-num" }, dayLabel(d, { day: "numeric" })),
      ),
    );
  }
  root.append(head);

  // All-day and multi-day bars.
  const bars = instances.filter((i) => isBar(i, ctx.tz));
  const timed = instances.filter((i) => !isBar(i, ctx.tz));
  const row = layoutBars(
    bars.map((i) => spanOf(i, i, ctx.tz)),
    days[0]!,
    n,
  );
  const lanes = h("div", { class: "cal-allday-lanes", "data-first": days[0]! });
  lanes.style.height = `${Math.max(1, row.lanes) * BAR_PX + 4}px`;
  for (const b of row.bars) {
    const el = chip(b.item, ctx.colorOf(b.item.calendar), ctx.tz, { cls: "cal-bar" + (b.continuesBefore ? " cont-before" : "") + (b.continuesAfter ? " cont-after" : "") });
    el.style.left = `${(b.col / n) * 100}%`;
    el.style.width = `calc(${(b.span / n) * 100}% - 4px)`;
    el.style.top = `${b.lane * BAR_PX + 2}px`;
    el.addEventListener("click", () => ctx.open(b.item));
    lanes.append(el);
  }
  lanes.addEventListener("dblclick", (e) => {
    if (e.target !== lanes) return;
    // Which day: the fraction of the row's width (a read on a user gesture, not during render).
    const r = lanes.getBoundingClientRect();
    const col = Math.min(n - 1, Math.max(0, Math.floor(((e.clientX - r.left) / r.width) * n)));
    const d = days[col]!;
    ctx.create(dayStart(d, ctx.tz), dayStart(addDays(d, 1), ctx.tz), true);
  });
  root.append(h("div", { class: "cal-allday" }, h("div", { class: "cal-gutter cal-allday-label" }, t("cal.allDay")), lanes));

  // The hours.
  // Focusable so the hours scroll from the keyboard even on a day without events (WCAG 2.1.1).
  const scroll = h("div", { class: "cal-scroll", tabindex: "0", role: "region", "aria-label": t("cal.timeGrid") });
  const grid = h("div", { class: "cal-grid" });
  const hours = h("div", { class: "cal-hours", "aria-hidden": "true" });
  for (let hr = 0; hr < 24; hr++) hours.append(h("div", { class: "cal-hour-label" }, hr === 0 ? "" : hourLabel(hr)));
  grid.append(hours);
  const byId = new Map<HTMLElement, EventInstance>();
  const now = Date.now();
  for (const d of days) {
    const col = h("div", { class: "cal-col" + (d === ctx.today ? " is-today" : ""), "data-day": d, role: "group", "aria-label": dayLabel(d, { dateStyle: "full" }) });
    const placed = layoutDay(
      timed.map((i) => ({ item: i, start: i.start, end: i.end })),
      d,
      ctx.tz,
    );
    for (const p of placed) {
      const el = chip(p.item, ctx.colorOf(p.item.calendar), ctx.tz, { cls: "cal-timed" + (p.height < 40 ? " is-short" : "") });
      el.style.top = `${(p.top / 60) * HOUR_PX}px`;
      el.style.height = `${(p.height / 60) * HOUR_PX - 2}px`;
      el.style.left = `${(p.col / p.cols) * 100}%`;
      el.style.width = `calc(${100 / p.cols}% - 3px)`;
      chipInner(el).append(h("span", { class: "cal-ev-time" }, timeRange(p.item, ctx)));
      if (!p.clippedEnd) el.append(h("span", { class: "cal-resize", "aria-hidden": "true" }));
      byId.set(el, p.item);
      col.append(el);
    }
    if (d === ctx.today) {
      const line = h("div", { class: "cal-now", "aria-hidden": "true" });
      line.style.top = `${(wallMinutes(now, ctx.tz) / 60) * HOUR_PX}px`;
      col.append(line);
    }
    grid.append(col);
  }
  scroll.append(grid);
  root.append(scroll);
  frag.append(root);
  host.replaceChildren(frag);
  // Open at 07:00 (or the current hour today), like the desktop clients; a write, no layout read.
  const startHour = days.includes(ctx.today) ? Math.max(0, Math.min(16, Math.floor(wallMinutes(now, ctx.tz) / 60) - 2)) : 7;
  scroll.scrollTop = startHour * HOUR_PX;
  attachTimeDrag(grid, days, ctx, byId, HOUR_PX);
}

function hourLabel(hr: number): string {
  // A fixed date in UTC: only the hour's format (24 h or AM/PM by language) matters.
  return dateFormat({ hour: "numeric" }, "UTC").format(Date.UTC(2000, 0, 3, hr));
}

function timeRange(inst: EventInstance, ctx: RenderCtx): string {
  return `${timeLabel(inst.start, ctx.tz)} – ${timeLabel(inst.end, ctx.tz)}`;
}
