/**
 * The task rows: a checkbox (complete / reopen), the title (opens the
 * editor), the due date (red when overdue), a priority marker and a repeat
 * marker. The checkbox and the title are siblings, never nested controls.
 */
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";
import type { TaskSummary } from "./data.ts";
import { dueText, isOverdue, priorityClass } from "./data.ts";

export interface TaskRowHooks {
  toggle(task: TaskSummary, done: boolean): void;
  open(task: TaskSummary): void;
}

export function taskRow(task: TaskSummary, selected: boolean, hooks: TaskRowHooks): HTMLElement {
  const done = task.status === "COMPLETED";
  const box = h("input", { type: "checkbox", class: "tk-check", checked: done, "aria-label": t(done ? "tasks.reopen" : "tasks.complete", { title: task.title || t("tasks.untitled") }) }) as HTMLInputElement;
  box.addEventListener("change", () => hooks.toggle(task, box.checked));
  const pc = priorityClass(task.priority);
  const overdue = isOverdue(task);
  const due = dueText(task);
  const open = h(
    "button",
    { type: "button", class: "tk-open" },
    h("span", { class: "tk-title" }, task.title || t("tasks.untitled")),
    h(
      "span",
      { class: "tk-meta" },
      due ? h("span", { class: "tk-due" + (overdue ? " tk-overdue" : "") }, overdue ? t("tasks.overdue", { date: due }) : due) : null,
      task.recurrence ? h("span", { class: "tk-repeat-mark", title: t("tasks.recurring") }, "↻ ", t("tasks.recurring")) : null,
    ),
  );
  open.addEventListener("click", () => hooks.open(task));
  return h(
    "li",
    { class: `tk-row${done ? " tk-done" : ""}`, "data-task-id": task.id, "data-priority": pc, "aria-current": selected ? "true" : null },
    box,
    open,
    pc !== "normal" ? h("span", { class: `tk-prio tk-prio-${pc}`, title: t(`tasks.priority.${pc}`) }, pc === "high" ? "!" : "↓", h("span", { class: "sr-only" }, t(`tasks.priority.${pc}`))) : null,
  );
}
