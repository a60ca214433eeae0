/**
 * The tasks app's calls to the server (api-types.ts, "Tasks") and the pure
 * helpers the list and editor share: an empty task, sorting, "overdue",
 * dates shown as written (a due date is a calendar date, not an instant).
 */
import { api } from "../api.ts";
import { dateFormat, formatDate, timeZone } from "../i18n/index.ts";
import type { TaskData, TaskResponse, TaskSummary } from "../../../protocols/http/webmail/api-types.ts";

export type { TaskData, TaskResponse, TaskSummary };

const enc = encodeURIComponent;

export async function listTasks(list: string, completed: boolean): Promise<TaskSummary[]> {
  return (await api<{ tasks: TaskSummary[] }>("GET", `/api/tasks?list=${enc(list)}${completed ? "&completed=1" : ""}`)).tasks;
}

export function readTask(list: string, id: string): Promise<TaskResponse> {
  return api<TaskResponse>("GET", `/api/tasks/${enc(list)}/${enc(id)}`);
}

export function saveTask(list: string, id: string | null, task: TaskData, etag?: string): Promise<TaskResponse> {
  return id ? api<TaskResponse>("PUT", `/api/tasks/${enc(list)}/${enc(id)}`, { task, etag }) : api<TaskResponse>("POST", `/api/tasks/${enc(list)}`, { task });
}

export function deleteTask(list: string, id: string, etag: string): Promise<unknown> {
  return api("DELETE", `/api/tasks/${enc(list)}/${enc(id)}?etag=${enc(etag)}`);
}

export function blankTask(title = ""): TaskData {
  return { uid: "", title, description: "", due: "", start: "", timeZone: "", priority: 0, status: "NEEDS-ACTION", percent: 0, completed: null, categories: [], reminders: [], recurrence: null };
}

/** The task data of a summary (what a PUT carries). */
export function taskOf(s: TaskSummary): TaskData {
  const { list: _l, id: _i, etag: _e, dueAt: _d, ...task } = s;
  return task;
}

/** RFC 5545 §3.8.1.9: 1-4 high, 5 (and 0 = undefined) normal, 6-9 low. */
export function priorityClass(p: number): "high" | "normal" | "low" {
  if (p >= 1 && p <= 4) return "high";
  if (p >= 6 && p <= 9) return "low";
  return "normal";
}

export type SortKey = "due" | "priority" | "title";

export function sortTasks(tasks: TaskSummary[], key: SortKey, collator: Intl.Collator): TaskSummary[] {
  const rank = (p: number) => (p === 0 ? 5 : p);
  const byDue = (a: TaskSummary, b: TaskSummary) => (a.dueAt ?? Infinity) - (b.dueAt ?? Infinity);
  const byTitle = (a: TaskSummary, b: TaskSummary) => collator.compare(a.title, b.title);
  const cmp = key === "due" ? (a: TaskSummary, b: TaskSummary) => byDue(a, b) || rank(a.priority) - rank(b.priority) || byTitle(a, b) : key === "priority" ? (a: TaskSummary, b: TaskSummary) => rank(a.priority) - rank(b.priority) || byDue(a, b) || byTitle(a, b) : (a: TaskSummary, b: TaskSummary) => byTitle(a, b) || byDue(a, b);
  // Open tasks first, completed ones after them.
  return [...tasks].sort((a, b) => Number(a.status === "COMPLETED") - Number(b.status === "COMPLETED") || cmp(a, b));
}

/** Today's date "YYYY-MM-DD" in the user's zone. */
export function today(now = Date.now()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone: timeZone(), year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

/** Past due and not done: a date-only due is overdue from the next day on (in the user's zone). */
export function isOverdue(s: TaskSummary, now = Date.now()): boolean {
  if (!s.due || s.status === "COMPLETED" || s.status === "CANCELLED") return false;
  if (!s.due.includes("T")) return s.due < today(now);
  return s.dueAt !== null && s.dueAt < now;
}

/**
 * A summary's due in the chosen language: a date-only due is a calendar date (shown as written, never
 * shifted by a zone); a due with a time is an instant shown in the user's zone.
 */
export function dueText(s: TaskSummary): string {
  if (!s.due) return "";
  if (!s.due.includes("T") || s.dueAt === null) return wallText(s.due);
  return formatDate(s.dueAt, { dateStyle: "medium", timeStyle: "short" });
}

/** A stored "YYYY-MM-DD" / "YYYY-MM-DDTHH:MM" as written (wall clock), in the chosen language. */
export function wallText(v: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?/.exec(v);
  // Out-of-range parts are shown as written rather than rolled over into another date.
  if (!m || +m[2]! < 1 || +m[2]! > 12 || +m[3]! < 1 || +m[3]! > 31 || (m[4] !== undefined && (+m[4] > 23 || +m[5]! > 59))) return v;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, m[4] ? +m[4] : 0, m[5] ? +m[5] : 0);
  return dateFormat(m[4] ? { dateStyle: "medium", timeStyle: "short" } : { dateStyle: "medium" }, "UTC").format(ms);
}
