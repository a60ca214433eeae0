/**
 * The agenda: the next 30 days as a list grouped by day (a multi-day event is
 * listed on each of its days), days without events left out.
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { chip, chipInner, dayLabel, timeLabel, type RenderCtx } from "./common.ts";
import { addDays, daysBetween } from "./dates.ts";
import { spanOf } from "./layout.ts";

export function renderAgendaView(host: HTMLElement, first: string, days: number, instances: EventInstance[], ctx: RenderCtx): void {
  const perDay = new Map<string, EventInstance[]>();
  for (const i of instances) {
    const s = spanOf(i, i, ctx.tz);
    const from = daysBetween(first, s.startDay) < 0 ? first : s.startDay;
    for (let d = from, n = 0; daysBetween(d, s.endDay) > 0 && daysBetween(first, d) < days && n < days; d = addDays(d, 1), n++) {
      let list = perDay.get(d);
      if (!list) perDay.set(d, (list = []));
      list.push(i);
    }
  }
  const root = h("div", { class: "cal-agenda" });
  const keys = [...perDay.keys()].sort();
  if (!keys.length) root.append(h("p", { class: "cal-empty" }, t("cal.agendaEmpty")));
  for (const d of keys) {
    const list = perDay.get(d)!.sort((a, b) => Number(b.allDay) - Number(a.allDay) || a.start - b.start);
    const ul = h("ul", { class: "cal-agenda-list" });
    for (const i of list) {
      const when = i.allDay ? t("cal.allDay") : `${timeLabel(i.start, ctx.tz)} – ${timeLabel(i.end, ctx.tz)}`;
      const el = chip(i, ctx.colorOf(i.calendar), ctx.tz, { cls: "cal-agenda-item" });
      chipInner(el).prepend(h("span", { class: "cal-agenda-when" }, when));
      el.addEventListener("click", () => ctx.open(i));
      ul.append(h("li", null, el));
    }
    root.append(
      h(
        "section",
        { class: "cal-agenda-day" + (d === ctx.today ? " is-today" : ""), "data-day": d },
        h("h3", { class: "cal-agenda-date" }, dayLabel(d, { weekday: "long", day: "numeric", month: "long" })),
        ul,
      ),
    );
  }
  host.replaceChildren(root);
}
