/**
 * What every calendar view shares: the context a view renders with, the event
 * chip (one element per drawn instance, built without layout reads), and
 * time/date labels in the user's language and zone.
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import { dateFormat, t } from "../i18n/index.ts";

export type ViewName = "day" | "workweek" | "week" | "month" | "agenda";
export const VIEWS: ViewName[] = ["day", "workweek", "week", "month", "agenda"];

export interface RenderCtx {
  tz: string;
  today: string;
  phone: boolean;
  colorOf(calendar: string): string;
  /** Open an event in the editor. */
  open(inst: EventInstance): void;
  /** Start a new event (times in UTC ms; all-day with dates). */
  create(start: number, end: number, allDay: boolean): void;
  /** A drag ended: move/resize an instance by these many ms at start and end. */
  shift(inst: EventInstance, dStart: number, dEnd: number): void;
  /** Go to a day in day view (a day header or "+N more" was clicked). */
  openDay(key: string): void;
}

/** The time of an instant in the user's zone ("14:30" / "2:30 PM"). */
export function timeLabel(ms: number, tz: string): string {
  return dateFormat({ hour: "numeric", minute: "2-digit" }, tz).format(ms);
}

/** A day key shown as a date, in UTC so the key's own date is printed whatever the zone. */
export function dayLabel(key: string, opts: Intl.DateTimeFormatOptions): string {
  return dateFormat(opts, "UTC").format(Date.parse(key + "T12:00:00Z"));
}

/** The text a screen reader gets for an instance (title, time, place). */
export function instanceLabel(inst: EventInstance, tz: string): string {
  const when = inst.allDay ? t("cal.allDay") : `${timeLabel(inst.start, tz)} – ${timeLabel(inst.end, tz)}`;
  return [inst.title || t("cal.untitled"), when, inst.location, inst.recurring ? t("cal.recurring") : ""].filter(Boolean).join(", ");
}

/** One instance drawn as a button (the views position it with styles). */
export function chip(inst: EventInstance, color: string, tz: string, opts: { time?: boolean; cls?: string } = {}): HTMLButtonElement {
  const cls = ["cal-event", opts.cls ?? ""];
  if (inst.showAs === "free") cls.push("is-free");
  if (inst.myPartstat === "NEEDS-ACTION") cls.push("is-pending");
  if (inst.myPartstat === "DECLINED" || inst.status === "CANCELLED") cls.push("is-declined");
  if (inst.myPartstat === "TENTATIVE" || inst.status === "TENTATIVE") cls.push("is-tentative");
  const b = h(
    "button",
    {
      type: "button",
      class: cls.join(" "),
      "data-id": inst.id,
      "data-cal": inst.calendar,
      "data-rid": inst.recurrenceId ?? "",
      // The visible text (time, title, place) is the name; the tooltip says it in full.
      title: instanceLabel(inst, tz),
    },
    // One inner box: a button centres overflowing content vertically, the box keeps it at the top.
    h(
      "span",
      { class: "cal-ev-in" },
      opts.time && !inst.allDay ? h("span", { class: "cal-ev-time" }, timeLabel(inst.start, tz)) : null,
      h("span", { class: "cal-ev-title" }, inst.title || t("cal.untitled")),
      inst.location && !opts.time ? h("span", { class: "cal-ev-loc" }, inst.location) : null,
    ),
    inst.recurring ? h("span", { class: "cal-ev-rec", "aria-hidden": "true" }, "↻") : null,
  );
  b.style.setProperty("--cal-color", color);
  return b;
}

/** The inner box of a chip (where views add the time or a date). */
export function chipInner(b: HTMLElement): HTMLElement {
  return b.querySelector<HTMLElement>(".cal-ev-in") ?? b;
}
