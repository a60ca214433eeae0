/**
 * The tasks kind (kinds.ts): VTODOs of the account's task lists as t:Task
 * (Types.xsd TaskType, MS-OXWSTASK). The VTODO is read and merged by
 * ActiveSync's task converter (../eas/groupware/task.ts: subject, body,
 * dates, completion, importance, sensitivity, categories, reminder,
 * recurrence), written through the groupware service like CalDAV; what EWS
 * has beyond ActiveSync (Status with its five values, PercentComplete) is
 * applied on top here (task-status.ts).
 *
 *   Status          STATUS: NotStarted NEEDS-ACTION, InProgress IN-PROCESS,
 *                   Completed COMPLETED, Deferred/WaitingOnOthers kept in
 *                   X-PILLARBOX-EWS-STATUS (RFC 5545 has no such state)
 *   PercentComplete PERCENT-COMPLETE (RFC 5545 §3.8.1.8)
 *   Importance      PRIORITY (1-4 High, 5/none Normal, 6-9 Low)
 */
import { taskCodec } from "../eas/groupware/task.ts";
import { el, kid as wkid, kids as wkids, qn, text as wtext, type WElement } from "../eas/wbxml/tree.ts";
import { ITEM_ONLY } from "./contact-fields.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { itemIdXml } from "./ids.ts";
import { bodyOf, codecContext, guarded, idOnly, createGw, extendedXml, headValue, itemHeadXml, wanted, gwKind, withExtended, type GwItem } from "./groupware-items.ts";
import { registerItemKind, type ItemKind } from "./kinds.ts";
import { NS } from "./ns.ts";
import type { ItemShape, PropertyChange, PropertyPath } from "./shape.ts";
import { applyStatus, readStatus, type EwsTaskStatus, TASK_STATUSES } from "./task-status.ts";
import { recurrenceFromEws, recurrenceXml } from "./task-recurrence.ts";
import { attr, dateTime, parseDateTime, t, tv, type XmlElement } from "./xml.ts";

const IMPORTANCE = ["Low", "Normal", "High"] as const;
const SENSITIVITY = ["Normal", "Personal", "Private", "Confidential"] as const;

// ------------------------------------------------------------ reading

interface TaskView {
  eas: Map<string, WElement>;
  status: EwsTaskStatus;
  percent: number;
}

function easText(v: TaskView, name: string): string | undefined {
  const e = v.eas.get(`Tasks:${name}`);
  return e ? wtext(e) : undefined;
}

function easDate(v: TaskView, name: string): number | undefined {
  const s = easText(v, name);
  if (!s) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? ms : undefined;
}

function viewOf(c: EwsContext, it: GwItem, body: Uint8Array): TaskView {
  const eas = new Map<string, WElement>();
  for (const e of taskCodec.toEas(body, it.data.item, codecContext(c))) eas.set(qn(e), e);
  const { status, percent } = readStatus(body);
  return { eas, status, percent };
}

function renderTask(c: EwsContext, it: GwItem, v: TaskView, shape: ItemShape, extended: string): string {
  const w = (...u: string[]) => wanted(shape, ...u);
  const cats = v.eas.get("Tasks:Categories");
  const complete = easText(v, "Complete") === "1";
  const reminder = easDate(v, "ReminderTime");
  const rec = v.eas.get("Tasks:Recurrence");
  return t(
    "Task",
    itemHeadXml(c, it, shape, {
      itemClass: "IPM.Task",
      subject: easText(v, "Subject") ?? "",
      sensitivity: SENSITIVITY[Number(easText(v, "Sensitivity") ?? 0)] ?? "Normal",
      bodyText: wtext(wkid(v.eas.get("AirSyncBase:Body"), "AirSyncBase:Data")),
      categories: cats ? wkids(cats).map((k) => wtext(k)) : [],
      importance: IMPORTANCE[Number(easText(v, "Importance") ?? 1)] ?? "Normal",
      reminderDueBy: reminder ?? null,
      reminderIsSet: easText(v, "ReminderSet") === "1",
      extended,
    }),
    w("task:ChangeCount") ? tv("ChangeCount", 1) : "",
    w("task:CompleteDate") && complete ? tv("CompleteDate", dateOr(easDate(v, "DateCompleted"))) : "",
    w("task:DelegationState") ? tv("DelegationState", "NoMatch") : "",
    w("task:DueDate") ? tv("DueDate", dateOr(easDate(v, "UtcDueDate"))) : "",
    w("task:IsAssignmentEditable") ? tv("IsAssignmentEditable", 0) : "",
    w("task:IsComplete") ? tv("IsComplete", complete) : "",
    w("task:IsRecurring") ? tv("IsRecurring", !!rec) : "",
    w("task:IsTeamTask") ? tv("IsTeamTask", false) : "",
    w("task:PercentComplete") ? tv("PercentComplete", complete ? 100 : v.percent) : "",
    w("task:Recurrence") && rec ? recurrenceXml(rec, easDate(v, "UtcStartDate") ?? easDate(v, "UtcDueDate")) : "",
    w("task:StartDate") ? tv("StartDate", dateOr(easDate(v, "UtcStartDate"))) : "",
    w("task:Status") ? tv("Status", complete ? "Completed" : v.status) : "",
  );
}

function dateOr(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : dateTime(ms);
}

// ------------------------------------------------------------ writing

/** What a change to one EWS property covers in ActiveSync's task elements. */
function coveredBy(path: PropertyPath): string[] {
  if (path.kind !== "field") throw new EwsError("ErrorInvalidPropertyRequest", "Only plain task properties can be changed.");
  switch (path.uri) {
    case "item:Subject":
      return ["Tasks:Subject"];
    case "item:Body":
      return ["AirSyncBase:Body"];
    case "item:Importance":
      return ["Tasks:Importance"];
    case "item:Sensitivity":
      return ["Tasks:Sensitivity"];
    case "item:Categories":
      return ["Tasks:Categories"];
    case "item:ReminderIsSet":
    case "item:ReminderDueBy":
      return ["Tasks:ReminderSet", "Tasks:ReminderTime"];
    case "task:StartDate":
      return ["Tasks:UtcStartDate", "Tasks:StartDate"];
    case "task:DueDate":
      return ["Tasks:UtcDueDate", "Tasks:DueDate"];
    case "task:Recurrence":
      return ["Tasks:Recurrence"];
    case "task:Status":
    case "task:PercentComplete":
    case "task:CompleteDate":
    case "task:IsComplete":
      return ["Tasks:Complete", "Tasks:DateCompleted"];
  }
  // ItemType's message and bookkeeping properties and TaskType's assignment and work ones have no place in a
  // VTODO: accepted and not kept (exchangelib's save() sends every field it knows, Delete for the empty ones).
  if ((path.uri.startsWith("item:") && ITEM_ONLY.includes(path.uri.slice(5))) || path.uri.startsWith("task:")) return [];
  throw new EwsError("ErrorInvalidPropertyRequest", `The property ${path.uri} cannot be changed on a task.`);
}

/** The ActiveSync elements and EWS status a t:Task element carries. */
interface TaskInput {
  eas: WElement[];
  status?: EwsTaskStatus;
  percent?: number;
}

function enumIndex<T extends string>(list: readonly T[], v: string, name: string): number {
  const i = list.indexOf(v.trim() as T);
  if (i < 0) throw new EwsError("ErrorInvalidValueForProperty", `${name} "${v.slice(0, 40)}" is not one of ${list.join(", ")}.`);
  return i;
}

function readInput(task: XmlElement, timeZone: string | null): TaskInput {
  const out: TaskInput = { eas: [] };
  let reminderSet: boolean | undefined;
  let reminderAt: number | undefined;
  let complete: boolean | undefined;
  let completeDate: number | undefined;
  const when = (k: XmlElement) => {
    const ms = parseDateTime(k.text);
    if (ms === undefined) throw new EwsError("ErrorInvalidValueForProperty", `${k.name} is not an xs:dateTime.`);
    return ms;
  };
  for (const k of task.children) {
    if (k.ns !== NS.t) continue;
    switch (k.name) {
      case "Subject":
        out.eas.push(el("Tasks:Subject", k.text));
        break;
      case "Body":
        out.eas.push(el("AirSyncBase:Body", el("AirSyncBase:Type", attr(k, "BodyType") === "HTML" ? 2 : 1), k.text === "" ? null : el("AirSyncBase:Data", k.text)));
        break;
      case "Importance":
        out.eas.push(el("Tasks:Importance", enumIndex(IMPORTANCE, k.text, "Importance")));
        break;
      case "Sensitivity":
        out.eas.push(el("Tasks:Sensitivity", enumIndex(SENSITIVITY, k.text, "Sensitivity")));
        break;
      case "Categories":
        out.eas.push(el("Tasks:Categories", k.children.filter((s) => s.ns === NS.t && s.name === "String").map((s) => el("Tasks:Category", s.text))));
        break;
      case "ReminderIsSet":
        reminderSet = /^(true|1)$/i.test(k.text.trim());
        break;
      case "ReminderDueBy":
        reminderAt = when(k);
        break;
      case "StartDate":
      case "DueDate": {
        const ms = when(k);
        const name = k.name === "StartDate" ? "Start" : "Due";
        out.eas.push(el(`Tasks:Utc${name}Date`, new Date(ms).toISOString()));
        // The wall-clock time in the client's zone: a local midnight makes the task date-only (a DATE value), as the converter decides.
        const wall = timeZone ? wallClock(ms, timeZone) : undefined;
        if (wall !== undefined) out.eas.push(el(`Tasks:${name}Date`, new Date(wall).toISOString()));
        break;
      }
      case "CompleteDate":
        completeDate = when(k);
        break;
      case "Status":
        out.status = TASK_STATUSES[enumIndex(TASK_STATUSES, k.text, "Status")];
        complete = out.status === "Completed";
        break;
      case "PercentComplete": {
        const p = Number(k.text.trim());
        if (!/^\d+(\.\d+)?$/.test(k.text.trim()) || p > 100) throw new EwsError("ErrorInvalidValueForProperty", "PercentComplete is a number from 0 to 100.");
        out.percent = Math.round(p);
        if (p >= 100) complete = true;
        break;
      }
      case "Recurrence":
        out.eas.push(recurrenceFromEws(k));
        break;
      default:
        // read-only or unkept TaskType properties (ChangeCount, IsComplete, Owner, work, billing...) and ItemType's others
        break;
    }
  }
  if (reminderSet !== undefined || reminderAt !== undefined) {
    out.eas.push(el("Tasks:ReminderSet", reminderSet === false ? 0 : 1));
    if (reminderAt !== undefined && reminderSet !== false) out.eas.push(el("Tasks:ReminderTime", new Date(reminderAt).toISOString()));
  }
  if (complete !== undefined) {
    out.eas.push(el("Tasks:Complete", complete ? 1 : 0));
    if (complete && completeDate !== undefined) out.eas.push(el("Tasks:DateCompleted", new Date(Math.min(completeDate, Date.now())).toISOString()));
  }
  return out;
}

/** An instant's wall-clock time in an IANA zone, as ms read as UTC (MS-ASTASK StartDate/DueDate); undefined for an unknown zone. */
function wallClock(ms: number, timeZone: string): number | undefined {
  try {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms));
    const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const v = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function appData(children: WElement[]): WElement {
  return el("AirSync:ApplicationData", children);
}

async function createTask(c: EwsContext, folder: Parameters<ItemKind["create"]>[1], task: XmlElement): Promise<GwItem> {
  if (folder.itemClass !== "tasks") throw new EwsError("ErrorCannotCreateTaskInNonTaskFolder", "Tasks are created in a tasks folder.");
  const input = readInput(task, c.timeZone);
  let body = taskCodec.fromEas(appData(input.eas), null, codecContext(c));
  body = applyStatus(body, input.status, input.percent);
  return withExtended(c, await createGw(c, folder, body), task);
}

async function updateTask(c: EwsContext, it: GwItem, changes: PropertyChange[]): Promise<Uint8Array> {
  const stored = await bodyOf(c, it);
  const covered = new Set<string>();
  const values = new Map<string, WElement>();
  let status: EwsTaskStatus | undefined;
  let percent: number | undefined;
  for (const ch of changes) {
    const names = coveredBy(ch.path);
    for (const n of names) {
      covered.add(n);
      values.delete(n);
    }
    const uri = ch.path.kind === "field" ? ch.path.uri : "";
    if (ch.op === "delete" || !ch.value) {
      if (uri === "task:Status") status = "NotStarted";
      if (uri === "task:PercentComplete") percent = 0;
      continue;
    }
    if (ch.value.name !== "Task") throw new EwsError("ErrorInvalidPropertyRequest", "A task's change carries a t:Task.");
    const input = readInput(ch.value, c.timeZone);
    for (const e of input.eas) if (names.includes(qn(e))) values.set(qn(e), e);
    if (input.status !== undefined) status = input.status;
    if (input.percent !== undefined) percent = input.percent;
  }
  // Subject and Body left out are kept by the converter: a deleted one is sent empty.
  if (covered.has("Tasks:Subject") && !values.has("Tasks:Subject")) values.set("Tasks:Subject", el("Tasks:Subject", ""));
  if (covered.has("AirSyncBase:Body") && !values.has("AirSyncBase:Body")) values.set("AirSyncBase:Body", el("AirSyncBase:Body", el("AirSyncBase:Type", 1)));
  // A status other than Completed (or a percentage under 100) reopens the task.
  if (covered.has("Tasks:Complete") && !values.has("Tasks:Complete")) {
    const done = status === "Completed" || (status === undefined && percent !== undefined && percent >= 100);
    values.set("Tasks:Complete", el("Tasks:Complete", done ? 1 : 0));
  }
  let body = taskCodec.fromEas(appData([...values.values()]), stored, codecContext(c, covered));
  return applyStatus(body, status, percent);
}

// ------------------------------------------------------------ the kind

async function render(c: EwsContext, it: GwItem, shape: ItemShape): Promise<string> {
  if (idOnly(shape)) return t("Task", itemIdXml(it.ref, it.modseq), await extendedXml(c, it, shape));
  const body = await bodyOf(c, it);
  return renderTask(c, it, viewOf(c, it, body), shape, await extendedXml(c, it, shape));
}

function value(_c: EwsContext, it: GwItem, path: PropertyPath): string | number | boolean | readonly string[] | undefined {
  const item = it.data.item;
  if (item.itemClass !== "tasks" || path.kind !== "field") return undefined;
  const f = item.fields;
  switch (path.uri) {
    case "task:DueDate":
      return f.due ?? undefined;
    case "task:StartDate":
      return f.start ?? undefined;
    case "task:CompleteDate":
      return f.completed ?? undefined;
    case "task:IsComplete":
      return (f.status ?? "").toUpperCase() === "COMPLETED" || f.completed !== null;
    case "task:IsRecurring":
      return f.isRecurring;
    case "task:Status":
      return { "NEEDS-ACTION": "NotStarted", "IN-PROCESS": "InProgress", COMPLETED: "Completed", CANCELLED: "Deferred" }[(f.status ?? "").toUpperCase()] ?? "NotStarted";
    case "item:Importance":
      return f.priority >= 1 && f.priority <= 4 ? "High" : f.priority >= 6 ? "Low" : "Normal";
  }
  return headValue(it, path, f.summary);
}

const taskKind = gwKind({
  itemClass: "tasks",
  elements: ["Task"],
  render,
  value,
  create: (c, folder, e) => guarded(() => createTask(c, folder, e)),
  changedBody: (c, it, rest) => updateTask(c, it, rest),
});

registerItemKind(taskKind);
