/**
 * Event reminders while the page is open. startReminders() runs at boot
 * (main.ts), whether or not the calendar is shown: it reads the instances of
 * the next day, and at each reminder's time shows a card in the page (Snooze
 * 5 minutes, Dismiss, Open) and, when the user turned on desktop reminders
 * and the browser allowed them, a Notification. Dismissed and snoozed
 * reminders are remembered in localStorage, so a reload does not repeat them.
 *
 * Also the editor's reminder picker (VALARM triggers as minutes before start).
 */
import type { EventInstance, InstancesResponse } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";
import type { AppContext } from "../apps.ts";
import { h } from "../dom.ts";
import { dateFormat, formatRelative, t, timeZone } from "../i18n/index.ts";
import { dayKey } from "./dates.ts";

const MINUTE = 60_000;
const DONE_KEY = "pb-cal-reminded";
const DESKTOP_KEY = "pb-cal-desktop";
/** How far ahead instances are read (a day, plus the longest reminder offered: a week before). */
const AHEAD = 24 * 60 * MINUTE;
const LONGEST = 7 * 24 * 60 * MINUTE;
const CHOICES = [0, 5, 10, 15, 30, 60, 120, 1440, 2880, 10080];

// ---------------------------------------------------------------- the picker

export function reminderText(min: number): string {
  if (min === 0) return t("cal.rem.atStart");
  if (min % 1440 === 0) return t(min === 1440 ? "cal.rem.day" : "cal.rem.days", { n: min / 1440 });
  if (min % 60 === 0) return t(min === 60 ? "cal.rem.hour" : "cal.rem.hours", { n: min / 60 });
  return t("cal.rem.minutes", { n: min });
}

/** A select of the first reminder; further stored reminders are kept as they are. */
export function reminderSelect(initial: number[]): { el: HTMLSelectElement; value(): number[] } {
  const first = initial[0];
  const opts = [...CHOICES];
  if (first !== undefined && !opts.includes(first)) opts.push(first);
  opts.sort((a, b) => a - b);
  const el = h("select", { name: "reminder" }, h("option", { value: "" }, t("cal.rem.none")), ...opts.map((m) => h("option", { value: String(m), selected: m === first }, reminderText(m)))) as HTMLSelectElement;
  return {
    el,
    value() {
      const rest = initial.slice(1);
      if (el.value === "") return rest;
      const v = Number(el.value);
      return [v, ...rest.filter((x) => x !== v)].slice(0, 5);
    },
  };
}

// ---------------------------------------------------------------- the scheduler

interface Due {
  key: string;
  at: number;
  inst: EventInstance;
}

let state: { ctx: Partial<Pick<AppContext, "openApp">>; due: Due[]; box: HTMLElement; shown: Map<string, HTMLElement>; timer: ReturnType<typeof setTimeout> | null } | null = null;

function readDone(): Record<string, number> {
  try {
    const v = JSON.parse(localStorage.getItem(DONE_KEY) ?? "{}") as unknown;
    return v && typeof v === "object" ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/** Marks a reminder handled until `until` (dismissed: for good; snoozed: until then). Entries older than two days are dropped. */
function markDone(key: string, until: number): void {
  const done = readDone();
  done[key] = until;
  const old = Date.now() - 2 * 24 * 60 * MINUTE;
  // Positive: snoozed until then; negative: dismissed at that (negated) time.
  for (const [k, v] of Object.entries(done)) if (typeof v !== "number" || Math.abs(v) < old) delete done[k];
  try {
    localStorage.setItem(DONE_KEY, JSON.stringify(done));
  } catch {
    // storage disabled: the reminder may show again after a reload
  }
}

/** Starts the reminder scheduler (once per page). */
export function startReminders(ctx: Partial<Pick<AppContext, "openApp">> = {}): void {
  if (state) return;
  const box = h("div", { class: "cal-reminders", role: "region", "aria-label": t("cal.rem.region"), "aria-live": "polite" });
  document.body.append(box);
  state = { ctx, due: [], box, shown: new Map(), timer: null };
  void refreshReminders();
  setInterval(() => void refreshReminders(), 10 * MINUTE);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") tick();
  });
}

/** Reads the coming instances again (the calendar calls this after changes). */
export async function refreshReminders(): Promise<void> {
  if (!state) return;
  const now = Date.now();
  let res: InstancesResponse;
  try {
    res = await api<InstancesResponse>("GET", `/api/calendar/instances?from=${now - 60 * MINUTE}&to=${now + AHEAD + LONGEST}`);
  } catch {
    return; // offline or no calendar yet: the next refresh tries again
  }
  const due: Due[] = [];
  for (const inst of res.instances) {
    if (inst.myPartstat === "DECLINED" || inst.status === "CANCELLED") continue;
    for (const min of inst.reminders.slice(0, 5)) {
      const at = inst.start - min * MINUTE;
      if (at > now + AHEAD || inst.end < now) continue;
      due.push({ key: `${inst.uid}|${inst.recurrenceId ?? inst.start}|${min}`, at, inst });
    }
  }
  state.due = due.sort((a, b) => a.at - b.at);
  tick();
}

function tick(): void {
  if (!state) return;
  if (state.timer) clearTimeout(state.timer);
  const now = Date.now();
  const done = readDone();
  let next = Infinity;
  for (const d of state.due) {
    const until = done[d.key];
    if (until !== undefined && until < 0) continue; // dismissed
    const snoozed = until ?? 0;
    const at = Math.max(d.at, snoozed);
    if (at <= now) show(d);
    else next = Math.min(next, at);
  }
  // Timers drift in background tabs; a minute at most between looks is enough for a reminder.
  state.timer = setTimeout(tick, Math.max(1000, Math.min(next - now, MINUTE)));
}

function show(d: Due): void {
  const s = state!;
  if (s.shown.has(d.key)) return;
  const tz = timeZone();
  const inst = d.inst;
  const when = inst.allDay ? t("cal.allDay") : dateFormat({ hour: "numeric", minute: "2-digit" }, tz).format(inst.start);
  const close = (until: number): void => {
    markDone(d.key, until);
    card.remove();
    s.shown.delete(d.key);
    tick();
  };
  const card = h(
    "div",
    { class: "cal-reminder", role: "alertdialog", "aria-label": t("cal.rem.title", { title: inst.title || t("cal.untitled") }), "data-key": d.key },
    h("div", { class: "cal-rem-head" }, h("strong", { class: "cal-rem-title" }, inst.title || t("cal.untitled"))),
    h("div", { class: "cal-rem-when" }, `${when} · ${formatRelative(inst.start)}`),
    inst.location ? h("div", { class: "cal-rem-loc" }, inst.location) : null,
    h(
      "div",
      { class: "cal-rem-actions" },
      h("button", { type: "button", class: "btn btn-small", "data-action": "open", onclick: () => (s.ctx.openApp ? s.ctx.openApp("calendar", dayKey(inst.start, tz)) : (location.hash = `#/calendar/${dayKey(inst.start, tz)}`)) }, t("cal.rem.open")),
      h("button", { type: "button", class: "btn btn-small", "data-action": "snooze", onclick: () => close(Date.now() + 5 * MINUTE) }, t("cal.rem.snooze")),
      h("button", { type: "button", class: "btn btn-small btn-primary", "data-action": "dismiss", onclick: () => close(-Date.now()) }, t("cal.rem.dismiss")),
    ),
  );
  s.shown.set(d.key, card);
  s.box.append(card);
  if (desktopEnabled() && typeof Notification !== "undefined" && Notification.permission === "granted") {
    try {
      const n = new Notification(inst.title || t("cal.untitled"), { body: `${when}${inst.location ? " · " + inst.location : ""}`, tag: d.key });
      n.onclick = () => {
        focus();
        n.close();
      };
    } catch {
      // some browsers only allow notifications from a service worker: the in-page card is there anyway
    }
  }
}

function desktopEnabled(): boolean {
  return localStorage.getItem(DESKTOP_KEY) === "1";
}

/** The "Desktop reminders" switch (asks the browser's permission on the click, a user gesture). */
export function desktopToggle(): HTMLElement {
  const box = h("input", { type: "checkbox", name: "desktopReminders", checked: desktopEnabled() && typeof Notification !== "undefined" && Notification.permission === "granted" }) as HTMLInputElement;
  const note = h("span", { class: "cal-note", "aria-live": "polite" });
  box.addEventListener("change", () => {
    if (!box.checked) {
      localStorage.setItem(DESKTOP_KEY, "0");
      return;
    }
    if (typeof Notification === "undefined") {
      box.checked = false;
      note.textContent = t("cal.rem.unsupported");
      return;
    }
    void Notification.requestPermission().then((p) => {
      box.checked = p === "granted";
      localStorage.setItem(DESKTOP_KEY, p === "granted" ? "1" : "0");
      note.textContent = p === "granted" ? "" : t("cal.rem.denied");
    });
  });
  return h("div", { class: "cal-desktop" }, h("label", { class: "cal-check" }, box, " ", t("cal.rem.desktop")), note);
}
