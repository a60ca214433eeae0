/**
 * The Calendar app (registered with the shell, apps.ts): the toolbar (today,
 * previous/next, the range's title, a date input, the five views), the side
 * list of calendars, and the view of the range. The hash argument is
 * "YYYY-MM-DD[/view]" (#/calendar/2026-12-07/month), kept current while the
 * user moves so a reload or a bookmark returns to the same place.
 *
 * Keyboard (outside text fields and dialogs): t today, d day, w week,
 * m month, a agenda, ←/→ previous/next range, n new event.
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { registerApp, type AppContext, type AppView } from "../apps.ts";
import { h, icon } from "../dom.ts";
import { dateFormat, firstDayOfWeek, lang, onLocaleChange, t, timeZone } from "../i18n/index.ts";
import "../i18n/calendar.ts";
import { typingTarget, debounce } from "../util.ts";
import { shiftInstance } from "./actions.ts";
import { VIEWS, type RenderCtx, type ViewName } from "./common.ts";
import { addDays, addMonths, dayStart, isoWeekday, monthWeeks, parseKey, today, wallMinutes, weekStart } from "./dates.ts";
import { editInstance, editorsChanged, newEvent, type EditorEnv } from "./editor.ts";
import { CalendarModel } from "./model.ts";
import { refreshReminders } from "./reminders.ts";
import { calendarDialog, renderCalendarList, sidebarExtras, type SidebarEnv } from "./sidebar.ts";
import { renderAgendaView } from "./view-agenda.ts";
import { renderMonthView } from "./view-month.ts";
import { HOUR_PX, renderTimeView } from "./views-time.ts";

const AGENDA_DAYS = 30;
const phoneQuery = matchMedia("(max-width: 680px)");

/** The locale's work days (Intl weekInfo.weekend where the browser has it; else Saturday and Sunday off). */
function workDays(): number[] {
  let weekend = [6, 7];
  try {
    const loc = new Intl.Locale(lang() === "en" ? navigator.language || "en-US" : lang()) as Intl.Locale & { weekInfo?: { weekend: number[] }; getWeekInfo?: () => { weekend: number[] } };
    weekend = (loc.getWeekInfo?.() ?? loc.weekInfo)?.weekend ?? weekend;
  } catch {
    // keep Saturday and Sunday
  }
  return [1, 2, 3, 4, 5, 6, 7].filter((d) => !weekend.includes(d));
}

class CalendarView implements AppView {
  el: HTMLElement;
  private model = new CalendarModel();
  private view: ViewName = phoneQuery.matches ? "day" : "week";
  private date: string = today(timeZone());
  private body: HTMLElement;
  private titleEl!: HTMLElement;
  private dateInput!: HTMLInputElement;
  private calList!: HTMLElement;
  private viewBtns = new Map<ViewName, HTMLButtonElement>();
  private visible = false;
  private stale = true;
  private loaded: Promise<void> | null = null;
  private renderSeq = 0;
  private reload = debounce(() => {
    this.model.invalidate();
    if (this.visible) void this.render();
    else this.stale = true;
    void refreshReminders();
    editorsChanged();
  }, 300);

  constructor(private ctx: AppContext) {
    this.body = h("div", { class: "cal-body" });
    this.el = h("section", { class: "app-view app-calendar", "aria-label": t("app.calendar") });
    this.build();
    document.addEventListener("keydown", (e) => this.onKey(e));
    onLocaleChange(() => {
      // Every label is drawn again in the new language (the body follows on the next render).
      this.build();
      renderCalendarList(this.calList, this.sidebarEnv());
      if (this.visible) void this.render();
      else this.stale = true;
    });
    phoneQuery.addEventListener("change", () => this.visible && void this.render());
    // The red "now" line moves with the clock; past midnight the view is drawn again (a new today).
    let shownToday = today(timeZone());
    setInterval(() => {
      if (!this.visible) return;
      const now = today(timeZone());
      if (now !== shownToday) {
        shownToday = now;
        void this.render();
        return;
      }
      const line = this.body.querySelector<HTMLElement>(".cal-now");
      if (line) line.style.top = `${(wallMinutes(Date.now(), timeZone()) / 60) * HOUR_PX}px`;
    }, 60_000);
  }

  /** The side list and the toolbar, in the current language. */
  private build(): void {
    this.viewBtns.clear();
    this.el.setAttribute("aria-label", t("app.calendar"));
    // The range shown is the page's heading while the calendar is open.
    this.titleEl = h("h1", { class: "cal-title", "aria-live": "polite" });
    this.dateInput = h("input", { type: "date", class: "cal-date-input", name: "calDate", "aria-label": t("cal.goTo") }) as HTMLInputElement;
    this.dateInput.addEventListener("change", () => {
      if (parseKey(this.dateInput.value)) this.go(this.dateInput.value);
    });
    const btn = (label: string, action: string, onclick: () => void, content?: Node | string): HTMLButtonElement =>
      h("button", { type: "button", class: "btn", "data-action": action, "aria-label": label, title: label, onclick }, content ?? label);
    const prev = btn(t("cal.prev"), "prev", () => this.step(-1), icon("back"));
    const next = btn(t("cal.next"), "next", () => this.step(1), h("span", { class: "cal-flip" }, icon("back")));
    prev.classList.add("btn-icon");
    next.classList.add("btn-icon");
    const switcher = h("div", { class: "cal-views", role: "group", "aria-label": t("cal.views") });
    for (const v of VIEWS) {
      const b = h("button", { type: "button", class: "btn btn-small cal-view-btn", "data-view": v, "aria-pressed": "false", onclick: () => this.setView(v) }, t(`cal.view.${v}`));
      this.viewBtns.set(v, b);
      switcher.append(b);
    }
    const newBtn = h("button", { type: "button", class: "btn btn-primary cal-new", "data-action": "new-event", onclick: () => this.newAt() }, icon("plus"), h("span", { class: "btn-text" }, t("cal.newEvent")));
    const sideToggle = h("button", { type: "button", class: "btn btn-icon cal-side-toggle", "aria-label": t("cal.calendars"), title: t("cal.calendars"), "aria-expanded": "false" }, icon("menu"));
    const toolbar = h(
      "div",
      { class: "cal-toolbar" },
      sideToggle,
      btn(t("cal.today"), "today", () => this.go(today(timeZone()))),
      prev,
      next,
      this.titleEl,
      this.dateInput,
      switcher,
    );
    this.calList = h("ul", { class: "cal-list", "aria-label": t("cal.calendars") });
    const side = h(
      "aside",
      { class: "cal-side", "aria-label": t("cal.calendars") },
      newBtn,
      h("h3", { class: "cal-side-title" }, t("cal.calendars")),
      this.calList,
      h("button", { type: "button", class: "btn btn-small", "data-action": "new-calendar", onclick: () => calendarDialog(this.sidebarEnv(), null) }, icon("plus"), t("cal.cal.new")),
      sidebarExtras(),
    );
    const setSide = (open: boolean): void => {
      this.el.classList.toggle("side-open", open);
      sideToggle.setAttribute("aria-expanded", String(open));
    };
    sideToggle.addEventListener("click", () => setSide(!this.el.classList.contains("side-open")));
    // On a phone the list is a drawer: it closes once something in it was used (a new event, a calendar dialog).
    side.addEventListener("click", (e) => {
      if ((e.target as HTMLElement).closest("button")) setSide(false);
    });
    this.el.replaceChildren(side, h("div", { class: "cal-main" }, toolbar, this.body));
  }

  show(arg?: string): void {
    this.visible = true;
    if (arg) {
      for (const part of arg.split("/")) {
        if (parseKey(part)) this.date = part;
        else if ((VIEWS as string[]).includes(part)) this.view = part as ViewName;
      }
      this.stale = true;
    }
    if (!this.loaded) this.loaded = this.loadCalendars();
    if (this.stale) void this.render();
  }

  hide(): void {
    this.visible = false;
  }

  changed(folderId: number): void {
    if (!this.loaded) return;
    if (folderId === -1) void this.loadCalendars();
    if (this.model.concerns(folderId)) this.reload();
  }

  private async loadCalendars(): Promise<void> {
    try {
      await this.model.loadCalendars();
    } catch (e) {
      this.ctx.error(e);
    }
    renderCalendarList(this.calList, this.sidebarEnv());
  }

  private sidebarEnv(): SidebarEnv {
    return {
      model: this.model,
      changed: (reload) => {
        if (reload) {
          this.model.invalidate();
          this.loaded = this.loadCalendars();
          void this.loaded.then(() => this.render());
        } else {
          renderCalendarList(this.calList, this.sidebarEnv());
          void this.render();
        }
      },
      error: (e) => this.ctx.error(e),
      toast: (text) => this.ctx.toast(text),
    };
  }

  private editorEnv(): EditorEnv {
    const s = this.ctx.session;
    return {
      tz: timeZone(),
      me: { address: s.email, name: s.displayName },
      calendars: this.model.calendars,
      defaultCalendar: this.model.defaultCalendar()?.name ?? "",
      saved: () => this.reload(),
      error: (e) => this.ctx.error(e),
      toast: (text) => this.ctx.toast(text),
    };
  }

  private phone(): boolean {
    return phoneQuery.matches;
  }

  /** The days on screen (time views, month grid) and the instant range to fetch. */
  private range(): { days: string[]; weeks?: string[][]; from: number; to: number } {
    const tz = timeZone();
    const fdw = firstDayOfWeek();
    let days: string[];
    let weeks: string[][] | undefined;
    switch (this.view) {
      case "day":
        days = [this.date];
        break;
      case "workweek": {
        const work = workDays();
        const start = weekStart(this.date, fdw);
        days = Array.from({ length: 7 }, (_, i) => addDays(start, i)).filter((d) => work.includes(isoWeekday(d)));
        break;
      }
      case "week": {
        const start = weekStart(this.date, fdw);
        days = Array.from({ length: 7 }, (_, i) => addDays(start, i));
        break;
      }
      case "month":
        weeks = monthWeeks(this.date, fdw);
        days = weeks.flat();
        break;
      default:
        days = Array.from({ length: AGENDA_DAYS }, (_, i) => addDays(this.date, i));
    }
    return { days, weeks, from: dayStart(days[0]!, tz), to: dayStart(addDays(days[days.length - 1]!, 1), tz) };
  }

  private title(days: string[]): string {
    const a = Date.parse(days[0]! + "T12:00:00Z");
    const b = Date.parse(days[days.length - 1]! + "T12:00:00Z");
    if (this.view === "month") return dateFormat({ month: "long", year: "numeric" }, "UTC").format(Date.parse(this.date + "T12:00:00Z"));
    if (this.view === "day") return dateFormat({ weekday: "long", day: "numeric", month: "long", year: "numeric" }, "UTC").format(a);
    const f = dateFormat({ day: "numeric", month: "short", year: "numeric" }, "UTC") as Intl.DateTimeFormat & { formatRange?: (x: number, y: number) => string };
    return f.formatRange ? f.formatRange(a, b) : `${f.format(a)} – ${f.format(b)}`;
  }

  private async render(): Promise<void> {
    this.stale = false;
    const seq = ++this.renderSeq;
    const tz = timeZone();
    const r = this.range();
    this.titleEl.textContent = this.title(r.days);
    this.dateInput.value = this.date;
    for (const [v, b] of this.viewBtns) b.setAttribute("aria-pressed", String(v === this.view));
    this.el.dataset.view = this.view;
    const hash = `#/calendar/${this.date}/${this.view}`;
    if (location.hash.startsWith("#/calendar") && location.hash !== hash) history.replaceState(history.state, "", hash);
    let instances: EventInstance[];
    try {
      await this.loaded;
      instances = await this.model.instances(r.from, r.to);
    } catch (e) {
      if (seq === this.renderSeq) this.ctx.error(e);
      return;
    }
    if (seq !== this.renderSeq) return;
    if (instances.some((i) => !this.model.calendar(i.calendar))) {
      // A calendar made elsewhere (another client, another tab): list it before drawing its events in its colour.
      await this.loadCalendars();
      if (seq !== this.renderSeq) return;
    }
    // A live reload while the user drags an event waits for the drop (replacing the DOM would lose the drag).
    while (this.body.querySelector(".is-dragging")) {
      await new Promise((r) => addEventListener("pointerup", () => setTimeout(r, 0), { once: true }));
      if (seq !== this.renderSeq) return;
    }
    const t0 = performance.now();
    const shown = instances.filter((i) => this.model.isVisible(i.calendar));
    const rc = this.renderCtx(tz);
    if (this.view === "month") renderMonthView(this.body, r.weeks!, parseKey(this.date)!.m, shown, rc);
    else if (this.view === "agenda") renderAgendaView(this.body, this.date, AGENDA_DAYS, shown, rc);
    else renderTimeView(this.body, r.days, shown, rc);
    this.body.dataset.rendered = String(seq);
    // What the bench splits the time by: the data arrived at t0, the DOM was built by now.
    performance.measure("pb-cal-render", { start: t0, end: performance.now() });
    this.body.dataset.count = String(shown.length);
    // The second frame callback runs once the frame with the new view was painted (the bench reads this mark).
    requestAnimationFrame(() =>
      requestAnimationFrame(() => {
        if (seq !== this.renderSeq) return;
        this.body.dataset.painted = String(seq);
        performance.mark("pb-cal-painted");
      }),
    );
  }

  private renderCtx(tz: string): RenderCtx {
    const env = this.editorEnv();
    return {
      tz,
      today: today(tz),
      phone: this.phone(),
      colorOf: (c) => this.model.colorOf(c),
      open: (inst) => void editInstance(env, inst),
      create: (start, end, allDay) => newEvent(env, start, end, allDay),
      shift: (inst, dStart, dEnd) =>
        void shiftInstance(inst, dStart, dEnd, tz).then(
          () => this.reload(),
          (e: unknown) => {
            this.ctx.error(e);
            this.reload();
          },
        ),
      openDay: (d) => {
        this.date = d;
        this.view = "day";
        void this.render();
      },
    };
  }

  private go(date: string): void {
    this.date = date;
    void this.render();
  }

  private setView(v: ViewName): void {
    this.view = v;
    void this.render();
  }

  private step(dir: number): void {
    if (this.view === "month") this.date = addMonths(this.date, dir);
    else if (this.view === "day") this.date = addDays(this.date, dir);
    else if (this.view === "agenda") this.date = addDays(this.date, dir * AGENDA_DAYS);
    else this.date = addDays(this.date, dir * 7);
    void this.render();
  }

  /** "New event": the next half hour on the day shown (or today when today is on screen). */
  private newAt(): void {
    const tz = timeZone();
    const now = Date.now();
    const day = this.range().days.includes(today(tz)) ? today(tz) : this.date;
    const base = day === today(tz) ? Math.ceil(now / 1_800_000) * 1_800_000 : dayStart(day, tz) + 9 * 3_600_000;
    newEvent(this.editorEnv(), base, base + 3_600_000, false);
  }

  private onKey(e: KeyboardEvent): void {
    if (!this.visible || document.body.dataset.app !== "calendar") return;
    if (e.ctrlKey || e.metaKey || e.altKey || typingTarget(e.target) || document.querySelector("dialog[open]")) return;
    const map: Record<string, () => void> = {
      t: () => this.go(today(timeZone())),
      d: () => this.setView("day"),
      w: () => this.setView("week"),
      m: () => this.setView("month"),
      a: () => this.setView("agenda"),
      n: () => this.newAt(),
      ArrowLeft: () => this.step(-1),
      ArrowRight: () => this.step(1),
    };
    const fn = map[e.key];
    if (!fn) return;
    e.preventDefault();
    fn();
  }
}

registerApp("calendar", (ctx) => new CalendarView(ctx));
