/**
 * The task editor (a form in the right pane): title, due date with an
 * optional time, start date, priority, status, percent complete,
 * description, a reminder and the recurrence. Fields the form does not show
 * (categories, extra reminders) go back unchanged.
 */
import { h, icon } from "../dom.ts";
import { firstDayOfWeek, t, timeZone } from "../i18n/index.ts";
import "../i18n/calendar.ts";
import { recurrenceEditor } from "../calendar/recurrence-editor.ts";
import type { TaskData } from "./data.ts";
import { priorityClass, today } from "./data.ts";

export interface TaskEditorHooks {
  save(task: TaskData): Promise<void>;
  cancel(): void;
  remove: (() => void) | null;
}

/** Reminder choices, minutes before due (RFC 5545 §3.8.6.3 TRIGGER relative to DUE). */
const REMINDERS = [0, 15, 60, 1440, 10080];
const PRIORITY = { high: 1, normal: 5, low: 9 } as const;
const STATUSES: TaskData["status"][] = ["NEEDS-ACTION", "IN-PROCESS", "COMPLETED", "CANCELLED"];

let seq = 0;

function row(label: string, input: HTMLElement): HTMLElement {
  const id = input.id || (input.id = `tk-${++seq}`);
  return h("div", { class: "tk-label" }, h("label", { for: id }, label), input);
}

export function renderTaskEditor(initial: TaskData, isNew: boolean, hooks: TaskEditorHooks): HTMLElement {
  const task = structuredClone(initial);
  const [dueDate = "", dueTime = ""] = task.due.split("T");
  const title = h("input", { type: "text", name: "title", class: "tk-input", value: task.title, required: true, maxlength: 500 }) as HTMLInputElement;
  const due = h("input", { type: "date", name: "due", class: "tk-input", value: dueDate }) as HTMLInputElement;
  const time = h("input", { type: "time", name: "due-time", class: "tk-input", value: dueTime.slice(0, 5) }) as HTMLInputElement;
  const start = h("input", { type: "date", name: "start", class: "tk-input", value: task.start.split("T")[0] ?? "" }) as HTMLInputElement;
  const priority = h("select", { name: "priority", class: "tk-input" }, (["high", "normal", "low"] as const).map((p) => h("option", { value: p, selected: task.priority !== 0 && priorityClass(task.priority) === p }, t(`tasks.priority.${p}`))), h("option", { value: "none", selected: task.priority === 0 }, t("tasks.priority.none"))) as HTMLSelectElement;
  const status = h("select", { name: "status", class: "tk-input" }, STATUSES.map((s) => h("option", { value: s, selected: task.status === s }, t(`tasks.status.${s}`)))) as HTMLSelectElement;
  const percent = h("input", { type: "number", name: "percent", class: "tk-input tk-narrow", min: 0, max: 100, step: 5, value: task.percent }) as HTMLInputElement;
  const reminder = h("select", { name: "reminder", class: "tk-input" }, h("option", { value: "" }, t("tasks.reminder.none")), REMINDERS.map((m) => h("option", { value: m, selected: task.reminders[0] === m }, t(`tasks.reminder.${m}`)))) as HTMLSelectElement;
  if (task.reminders[0] !== undefined && !REMINDERS.includes(task.reminders[0])) reminder.append(h("option", { value: task.reminders[0], selected: true }, t("tasks.reminder.minutes", { n: task.reminders[0] })));
  const description = h("textarea", { name: "description", class: "tk-input", rows: 5 }, task.description) as HTMLTextAreaElement;
  // The calendar's recurrence editor (web/src/calendar/recurrence-editor.ts), anchored on the due date.
  const repeat = recurrenceEditor(task.recurrence, dueDate || today(), firstDayOfWeek());
  due.addEventListener("change", () => repeat.setStart(due.value || today()));
  const err = h("p", { class: "tk-error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "btn btn-primary", "data-action": "save-task" }, t("tasks.save"));
  const heading = h("h2", { class: "tk-edit-title" }, t(isNew ? "tasks.newTask" : "tasks.editTask"));
  status.addEventListener("change", () => {
    if (status.value === "COMPLETED") percent.value = "100";
  });
  const form = h(
    "form",
    { class: "tk-editor", novalidate: true, "aria-label": heading.textContent ?? "" },
    h(
      "div",
      { class: "ct-toolbar" },
      h("button", { type: "button", class: "btn btn-icon ct-back", "aria-label": t("tasks.back"), title: t("tasks.back"), onclick: () => hooks.cancel() }, icon("back")),
      heading,
      h("span", { class: "ct-spacer" }),
      hooks.remove ? h("button", { type: "button", class: "btn btn-danger", "data-action": "delete-task", onclick: () => hooks.remove?.() }, icon("trash"), t("tasks.delete")) : null,
      h("button", { type: "button", class: "btn", "data-action": "cancel", onclick: () => hooks.cancel() }, t("tasks.cancel")),
      save,
    ),
    err,
    h(
      "div",
      { class: "tk-form" },
      row(t("tasks.title"), title),
      h("div", { class: "tk-pair" }, row(t("tasks.due"), due), row(t("tasks.dueTime"), time)),
      h("div", { class: "tk-pair" }, row(t("tasks.start"), start), row(t("tasks.reminder"), reminder)),
      h("div", { class: "tk-pair" }, row(t("tasks.priority"), priority), row(t("tasks.status"), status)),
      row(t("tasks.percent"), percent),
      repeat.el,
      row(t("tasks.description"), description),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!title.value.trim()) {
      err.textContent = t("tasks.needTitle");
      err.hidden = false;
      title.focus();
      return;
    }
    const repeatError = repeat.error();
    if (repeatError) {
      err.textContent = repeatError;
      err.hidden = false;
      return;
    }
    const hasTime = !!due.value && !!time.value;
    const next: TaskData = {
      ...task,
      title: title.value.trim(),
      due: due.value ? (hasTime ? `${due.value}T${time.value.slice(0, 5)}` : due.value) : "",
      start: start.value,
      // A due with a time is read in a zone: the task's own, else the user's.
      timeZone: hasTime ? task.timeZone || timeZone() : task.timeZone,
      priority: priority.value === "none" ? 0 : PRIORITY[priority.value as keyof typeof PRIORITY],
      status: status.value as TaskData["status"],
      percent: Math.min(100, Math.max(0, Math.round(Number(percent.value) || 0))),
      reminders: reminder.value === "" ? task.reminders.slice(1) : [Number(reminder.value), ...task.reminders.slice(1)],
      description: description.value,
      recurrence: repeat.value(),
    };
    if (next.status === "COMPLETED" && task.status !== "COMPLETED") next.completed = Date.now();
    if (next.status !== "COMPLETED") next.completed = null;
    err.hidden = true;
    save.disabled = true;
    hooks
      .save(next)
      .catch((e2: unknown) => {
        err.textContent = e2 instanceof Error ? e2.message : String(e2);
        err.hidden = false;
      })
      .finally(() => (save.disabled = false));
  });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      hooks.cancel();
    }
  });
  return form;
}
