/**
 * A task's EWS status and percentage (Types.xsd TaskStatusType,
 * PercentComplete) in its VTODO. RFC 5545 §3.8.1.11 has NEEDS-ACTION,
 * IN-PROCESS, COMPLETED and CANCELLED; EWS's WaitingOnOthers and Deferred
 * have no iCalendar state, so the nearest STATUS is written (IN-PROCESS,
 * NEEDS-ACTION: what CalDAV clients show) and the EWS value is kept beside it
 * in X-PILLARBOX-EWS-STATUS, which a STATUS change by another client makes
 * stale (it is only believed while STATUS still matches).
 */
import ICAL from "ical.js";
import { parseRoot } from "../../../src/groupware/ical/parse.ts";
import { serialize } from "../../../src/groupware/ical/split.ts";

export const TASK_STATUSES = ["NotStarted", "InProgress", "Completed", "WaitingOnOthers", "Deferred"] as const;
export type EwsTaskStatus = (typeof TASK_STATUSES)[number];

const X_STATUS = "x-pillarbox-ews-status";
const ICAL_STATUS: Record<EwsTaskStatus, string> = {
  NotStarted: "NEEDS-ACTION",
  InProgress: "IN-PROCESS",
  Completed: "COMPLETED",
  WaitingOnOthers: "IN-PROCESS",
  Deferred: "NEEDS-ACTION",
};

function master(root: ICAL.Component): ICAL.Component | null {
  const todos = root.getAllSubcomponents("vtodo");
  return todos.find((c) => !c.hasProperty("recurrence-id")) ?? todos[0] ?? null;
}

function str(c: ICAL.Component, name: string): string {
  const v = c.getFirstPropertyValue(name);
  return v === null || v === undefined ? "" : String(v);
}

/** Status and percentage of a stored VTODO. */
export function readStatus(body: Uint8Array): { status: EwsTaskStatus; percent: number } {
  const todo = master(parseRoot(body, []));
  if (!todo) return { status: "NotStarted", percent: 0 };
  const st = str(todo, "status").toUpperCase();
  const x = str(todo, X_STATUS) as EwsTaskStatus;
  const pct = Number(str(todo, "percent-complete") || 0);
  const percent = Number.isFinite(pct) ? Math.max(0, Math.min(100, Math.round(pct))) : 0;
  if (st === "COMPLETED" || todo.hasProperty("completed")) return { status: "Completed", percent: 100 };
  if (st === "CANCELLED") return { status: "Deferred", percent };
  if (x && ICAL_STATUS[x] === (st || "NEEDS-ACTION")) return { status: x, percent };
  return { status: st === "IN-PROCESS" ? "InProgress" : "NotStarted", percent };
}

/**
 * Writes a status and/or percentage onto a VTODO the converter produced
 * (which already set or cleared COMPLETED). A percentage above 0 starts a
 * task that was not started (as Exchange does).
 */
export function applyStatus(body: Uint8Array, status: EwsTaskStatus | undefined, percent: number | undefined): Uint8Array {
  if (status === undefined && percent === undefined) return body;
  const root = parseRoot(body, []);
  const todo = master(root);
  if (!todo) return body;
  const completed = str(todo, "status").toUpperCase() === "COMPLETED";
  let st = status;
  if (st === undefined && percent !== undefined && percent > 0 && !completed && (str(todo, "status").toUpperCase() || "NEEDS-ACTION") === "NEEDS-ACTION" && !str(todo, X_STATUS)) st = "InProgress";
  if (st !== undefined && st !== "Completed" && !completed) {
    todo.updatePropertyWithValue("status", ICAL_STATUS[st]);
    todo.removeAllProperties(X_STATUS);
    if (st === "WaitingOnOthers" || st === "Deferred") todo.addPropertyWithValue(X_STATUS, st);
    if (st === "NotStarted" && percent === undefined) todo.removeAllProperties("percent-complete");
  }
  if (percent !== undefined && !completed) {
    todo.removeAllProperties("percent-complete");
    if (percent > 0) todo.addPropertyWithValue("percent-complete", Math.min(99, percent));
  }
  if (completed) todo.removeAllProperties(X_STATUS);
  return new TextEncoder().encode(serialize(root));
}
