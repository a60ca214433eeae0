/**
 * The event dialog: title, location, start/end (date + time, or dates for
 * all-day), time zone, calendar, busy/free, reminder, description,
 * recurrence and attendees. An existing event opens with its stored values
 * (times in the event's own zone, with the user's own time shown beside them
 * when the zones differ); a recurring one asks "this / this and following /
 * all" when saved or deleted. When the user is an attendee (not the
 * organizer) the dialog shows the event and Accept / Tentative / Decline.
 */
import type { CollectionInfo, EventData, EventInstance, EventResponse, Partstat, SeriesScope } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";
import { append, h } from "../dom.ts";
import { dateFormat, firstDayOfWeek, t } from "../i18n/index.ts";
import { createEvent, deleteEvent, eventPath, loadEvent, newEventData, saveEdit } from "./actions.ts";
import { attendeesEditor } from "./attendees.ts";
import { addDays, daysBetween, parseKey, wallString, wallStringToMs } from "./dates.ts";
import { askScope, confirmModal, openModal } from "./dialog.ts";
import { recurrenceEditor } from "./recurrence-editor.ts";
import { reminderSelect } from "./reminders.ts";

export interface EditorEnv {
  tz: string;
  me: { address: string; name: string };
  calendars: CollectionInfo[];
  defaultCalendar: string;
  /** After a successful write (the view reloads). */
  saved(): void;
  error(e: unknown): void;
  toast(text: string): void;
}

let zones: string[] | null = null;
function zoneList(extra: string[]): string[] {
  if (!zones) {
    try {
      zones = (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf("timeZone");
    } catch {
      zones = [];
    }
  }
  return [...new Set([...extra.filter(Boolean), "UTC", ...zones])];
}

/** The open editor's refresh after a live change of the calendars (answers of attendees arrive so). */
let liveRefresh: (() => void) | null = null;

/** Called by the view after a live change: the open editor shows the attendees' answers as they are stored now. */
export function editorsChanged(): void {
  liveRefresh?.();
}

/** Opens the editor for a new event at [start, end) (UTC ms) or all-day dates. */
export function newEvent(env: EditorEnv, start: number, end: number, allDay: boolean): void {
  const data = allDay ? newEventData(wallString(start, env.tz).slice(0, 10), wallString(end, env.tz).slice(0, 10), true, env.tz) : newEventData(wallString(start, env.tz), wallString(end, env.tz), false, env.tz);
  if (allDay && data.end <= data.start) data.end = addDays(data.start, 1);
  buildEditor(env, data, null, env.defaultCalendar);
}

/** Opens the editor for an instance on screen (loads the stored event first). */
export async function editInstance(env: EditorEnv, inst: EventInstance): Promise<void> {
  try {
    const loaded = await loadEvent(inst.calendar, inst.id, inst.recurring ? inst.recurrenceId : null);
    const shown = loaded.occurrence ?? loaded.master;
    const data: EventData = { ...shown.event, recurrence: loaded.master.event.recurrence };
    buildEditor(env, data, { inst, loaded }, inst.calendar);
  } catch (e) {
    env.error(e);
  }
}

type Loaded = { inst: EventInstance; loaded: { master: EventResponse; occurrence: EventResponse | null } };

function buildEditor(env: EditorEnv, data: EventData, existing: Loaded | null, calName: string): void {
  const editable = existing ? (existing.loaded.occurrence ?? existing.loaded.master).editable : true;
  const m = openModal(existing ? (editable ? t("cal.editEvent") : data.title || t("cal.untitled")) : t("cal.newEvent"), { cls: "cal-editor" });
  m.dialog.dataset.editor = existing ? "edit" : "new";
  if (!editable && existing) {
    attendeeView(env, m, data, existing);
    return;
  }
  const zone = data.timeZone || env.tz;
  const field = (label: string, control: HTMLElement, cls = ""): HTMLElement => h("label", { class: "cal-field " + cls }, h("span", { class: "cal-field-label" }, label), control);
  const title = h("input", { type: "text", name: "title", value: data.title, maxlength: "500", required: true, placeholder: t("cal.titlePlaceholder") }) as HTMLInputElement;
  const location = h("input", { type: "text", name: "location", value: data.location, maxlength: "500" }) as HTMLInputElement;
  const allDay = h("input", { type: "checkbox", name: "allDay", checked: data.allDay }) as HTMLInputElement;
  const sDate = h("input", { type: "date", name: "startDate", value: data.start.slice(0, 10), required: true }) as HTMLInputElement;
  const sTime = h("input", { type: "time", name: "startTime", step: "300", value: data.allDay ? "09:00" : data.start.slice(11, 16) }) as HTMLInputElement;
  const lastDay = data.allDay ? addDays(data.end.slice(0, 10), -1) : data.end.slice(0, 10);
  const eDate = h("input", { type: "date", name: "endDate", value: data.allDay && daysBetween(data.start, lastDay) < 0 ? data.start.slice(0, 10) : lastDay, required: true }) as HTMLInputElement;
  const eTime = h("input", { type: "time", name: "endTime", step: "300", value: data.allDay ? "10:00" : data.end.slice(11, 16) }) as HTMLInputElement;
  const tzSel = h("select", { name: "timeZone" }, ...zoneList([zone, env.tz]).map((z) => h("option", { value: z, selected: z === zone }, z.replace(/_/g, " ")))) as HTMLSelectElement;
  const yourTime = h("p", { class: "cal-yourtime", "aria-live": "polite" });
  const calSel = h("select", { name: "calendar" }, ...env.calendars.filter((c) => !c.readOnly).map((c) => h("option", { value: c.name, selected: c.name === calName }, c.displayName || c.name))) as HTMLSelectElement;
  const showAs = h("select", { name: "showAs" }, h("option", { value: "busy", selected: data.showAs === "busy" }, t("cal.busy")), h("option", { value: "free", selected: data.showAs === "free" }, t("cal.free"))) as HTMLSelectElement;
  const reminder = reminderSelect(data.reminders);
  const desc = h("textarea", { name: "description", rows: "4" }) as HTMLTextAreaElement;
  desc.value = data.description;
  const rec = recurrenceEditor(data.recurrence, data.start.slice(0, 10), firstDayOfWeek());
  const errorBox = h("p", { class: "cal-error", role: "alert", hidden: true });

  const currentZone = (): string => tzSel.value || env.tz;
  const times = (): { start: string; end: string } | null => {
    if (!parseKey(sDate.value) || !parseKey(eDate.value)) return null;
    if (allDay.checked) return daysBetween(sDate.value, eDate.value) < 0 ? null : { start: sDate.value, end: addDays(eDate.value, 1) };
    if (!/^\d{2}:\d{2}$/.test(sTime.value) || !/^\d{2}:\d{2}$/.test(eTime.value)) return null;
    const start = `${sDate.value}T${sTime.value}`;
    const end = `${eDate.value}T${eTime.value}`;
    const a = wallStringToMs(start, currentZone());
    const b = wallStringToMs(end, currentZone());
    return a !== null && b !== null && b > a ? { start, end } : null;
  };
  const range = (): { start: number; end: number; day: string } | null => {
    const tm = times();
    if (!tm) return null;
    if (allDay.checked) return { start: wallStringToMs(`${tm.start}T00:00`, env.tz)!, end: wallStringToMs(`${tm.end}T00:00`, env.tz)!, day: tm.start };
    const start = wallStringToMs(tm.start, currentZone())!;
    return { start, end: wallStringToMs(tm.end, currentZone())!, day: wallString(start, env.tz).slice(0, 10) };
  };
  const showYourTime = (): void => {
    const r = range();
    yourTime.hidden = allDay.checked || currentZone() === env.tz || !r;
    if (!yourTime.hidden && r) {
      const f = dateFormat({ weekday: "short", day: "numeric", month: "short", hour: "numeric", minute: "2-digit" }, env.tz);
      yourTime.textContent = t("cal.yourTime", { zone: env.tz.replace(/_/g, " "), start: f.format(r.start), end: f.format(r.end) });
    }
  };
  const syncAllDay = (): void => {
    sTime.hidden = eTime.hidden = allDay.checked;
    tzSel.closest<HTMLElement>(".cal-field")!.hidden = allDay.checked;
    showYourTime();
  };
  // Moving the start keeps the length (the end follows), as in every calendar client.
  let lastStart = wallStringToMs(`${sDate.value}T${sTime.value || "00:00"}`, currentZone());
  const startMoved = (): void => {
    const now = wallStringToMs(`${sDate.value}T${sTime.value || "00:00"}`, currentZone());
    const end = wallStringToMs(`${eDate.value}T${eTime.value || "00:00"}`, currentZone());
    if (now !== null && lastStart !== null && end !== null) {
      const moved = wallString(end + (now - lastStart), currentZone());
      eDate.value = moved.slice(0, 10);
      if (!allDay.checked) eTime.value = moved.slice(11, 16);
    }
    lastStart = now;
    rec.setStart(sDate.value);
    showYourTime();
    att.refresh();
  };
  sDate.addEventListener("change", startMoved);
  sTime.addEventListener("change", startMoved);
  for (const x of [eDate, eTime, tzSel]) x.addEventListener("change", () => (showYourTime(), att.refresh()));
  allDay.addEventListener("change", syncAllDay);

  const att = attendeesEditor({
    initial: data.attendees,
    me: env.me.address,
    editable: true,
    tz: () => env.tz,
    range,
    moveTo: (startMs) => {
      const r = range();
      if (!r) return;
      const len = r.end - r.start;
      const s = wallString(startMs, currentZone());
      const e = wallString(startMs + len, currentZone());
      sDate.value = s.slice(0, 10);
      sTime.value = s.slice(11, 16);
      eDate.value = e.slice(0, 10);
      eTime.value = e.slice(11, 16);
      lastStart = startMs;
      showYourTime();
      att.refresh();
    },
  });

  if (existing && data.attendees.length) {
    // The organizer sees answers as they arrive; the etag read follows, so a save after them does not conflict
    // (the form's fields are the user's, the answers the stored ones).
    const refresh = (): void => {
      void loadEvent(existing.inst.calendar, existing.inst.id, existing.loaded.occurrence?.event.recurrenceId ?? null).then(
        (fresh) => {
          if (liveRefresh !== refresh) return;
          existing.loaded = fresh;
          att.updateAnswers((fresh.occurrence ?? fresh.master).event.attendees);
        },
        () => {},
      );
    };
    liveRefresh = refresh;
    void m.closed.then(() => {
      if (liveRefresh === refresh) liveRefresh = null;
    });
  }

  const form = h(
    "form",
    { class: "cal-form", novalidate: true },
    field(t("cal.title"), title, "is-wide"),
    field(t("cal.location"), location, "is-wide"),
    h("div", { class: "cal-when" }, field(t("cal.start"), h("span", { class: "cal-dt" }, sDate, sTime)), field(t("cal.end"), h("span", { class: "cal-dt" }, eDate, eTime)), h("label", { class: "cal-check" }, allDay, " ", t("cal.allDay"))),
    field(t("cal.timeZone"), tzSel),
    yourTime,
    h("div", { class: "cal-row" }, field(t("cal.calendar"), calSel), field(t("cal.showAs"), showAs), field(t("cal.reminder"), reminder.el)),
    rec.el,
    att.el,
    field(t("cal.description"), desc, "is-wide"),
    errorBox,
  );
  m.body.append(form);
  syncAllDay();

  const fail = (text: string): void => {
    errorBox.textContent = text;
    errorBox.hidden = false;
  };
  const save = async (): Promise<void> => {
    errorBox.hidden = true;
    const tm = times();
    if (!tm) return fail(t("cal.err.times"));
    const recErr = rec.error();
    if (recErr) return fail(recErr);
    const attendees = att.value();
    const edited: EventData = {
      ...data,
      title: title.value.trim(),
      location: location.value.trim(),
      description: desc.value,
      start: tm.start,
      end: tm.end,
      allDay: allDay.checked,
      timeZone: allDay.checked ? data.timeZone : currentZone(),
      showAs: showAs.value === "free" ? "free" : "busy",
      reminders: reminder.value(),
      recurrence: rec.value(),
      attendees,
      organizer: attendees.length ? (data.organizer ?? { address: env.me.address.toLowerCase(), name: env.me.name }) : data.organizer,
    };
    saveBtn.disabled = true;
    try {
      if (!existing) {
        await createEvent(calSel.value, edited);
        env.toast(attendees.length ? t("cal.savedSent") : t("cal.saved"));
      } else {
        let scope: SeriesScope = "all";
        if (existing.loaded.occurrence) {
          const s = await askScope("edit");
          if (!s) return;
          scope = s;
        }
        const res = await saveEdit(existing.inst.calendar, existing.inst.id, existing.loaded, edited, scope, env.tz);
        if (calSel.value !== existing.inst.calendar && (scope === "all" || !existing.loaded.occurrence)) {
          await api<EventResponse>("POST", `${eventPath(existing.inst.calendar, res.id)}/move`, { to: calSel.value, etag: res.etag });
        }
        env.toast(t("cal.saved"));
      }
      m.close();
      env.saved();
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    } finally {
      saveBtn.disabled = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void save();
  });
  const saveBtn = h("button", { type: "button", class: "btn btn-primary", "data-action": "save", onclick: () => void save() }, t("cal.save"));
  const cancel = h("button", { type: "button", class: "btn", onclick: () => m.close() }, t("cal.cancel"));
  if (existing) m.foot.append(h("button", { type: "button", class: "btn btn-danger cal-del", "data-action": "delete", onclick: () => void remove(env, m, existing) }, t("cal.delete")));
  m.foot.append(cancel, saveBtn);
  title.focus();
}

async function remove(env: EditorEnv, m: { close(): void }, ex: Loaded): Promise<void> {
  let scope: SeriesScope = "all";
  if (ex.loaded.occurrence) {
    const s = await askScope("delete");
    if (!s) return;
    scope = s;
  } else if (!(await confirmModal(t("cal.deleteTitle"), t("cal.deleteText"), t("cal.delete")))) return;
  try {
    await deleteEvent(ex.inst.calendar, ex.inst.id, ex.loaded.master.etag, scope, ex.loaded.occurrence?.event.recurrenceId ?? null);
    m.close();
    env.toast(t("cal.deleted"));
    env.saved();
  } catch (e) {
    env.error(e);
  }
}

/** The attendee's view: the event read-only, their answer and Accept / Tentative / Decline with a note. */
function attendeeView(env: EditorEnv, m: { body: HTMLElement; foot: HTMLElement; close(): void }, data: EventData, ex: Loaded): void {
  const tz = env.tz;
  const r = ex.inst;
  const f = dateFormat(r.allDay ? { dateStyle: "full" } : { dateStyle: "full", timeStyle: "short" }, tz);
  const when = r.allDay ? f.format(r.start) : `${f.format(r.start)} – ${dateFormat({ timeStyle: "short" }, tz).format(r.end)}`;
  const mine = data.attendees.find((a) => a.address === env.me.address.toLowerCase());
  const comment = h("input", { type: "text", name: "comment", maxlength: "500", value: mine?.comment ?? "", placeholder: t("cal.respond.comment") }) as HTMLInputElement;
  append(m.body, [
    h("p", { class: "cal-ro-when" }, when),
    data.location ? h("p", { class: "cal-ro-loc" }, data.location) : null,
    data.organizer ? h("p", null, t("cal.organizer", { name: data.organizer.name || data.organizer.address })) : null,
    h("p", { class: "cal-ro-mine" }, t("cal.respond.current", { answer: t(`cal.answer.${mine?.partstat ?? r.myPartstat ?? "NEEDS-ACTION"}`) })),
    data.description ? h("p", { class: "cal-ro-desc" }, data.description) : null,
    attendeesEditor({ initial: data.attendees, me: env.me.address, editable: false, tz: () => tz, range: () => null, moveTo: () => {} }).el,
    h("label", { class: "cal-field is-wide" }, h("span", { class: "cal-field-label" }, t("cal.respond.commentLabel")), comment),
  ]);
  const answer = async (partstat: Partstat): Promise<void> => {
    let scope: SeriesScope = "all";
    if (ex.loaded.occurrence) {
      const s = await askScope("edit");
      if (!s) return;
      scope = s;
    }
    try {
      await api<EventResponse>("POST", `${eventPath(r.calendar, r.id)}/respond`, { partstat, comment: comment.value.trim(), scope, recurrenceId: ex.loaded.occurrence?.event.recurrenceId ?? undefined });
      m.close();
      env.toast(t("cal.respond.sent"));
      env.saved();
    } catch (e) {
      env.error(e);
    }
  };
  for (const [p, label] of [["ACCEPTED", "cal.respond.accept"], ["TENTATIVE", "cal.respond.tentative"], ["DECLINED", "cal.respond.decline"]] as const) {
    m.foot.append(h("button", { type: "button", class: "btn" + (p === "ACCEPTED" ? " btn-primary" : ""), "data-answer": p, onclick: () => void answer(p) }, t(label)));
  }
}
