/**
 * The task model (src/groupware/model/task.ts): VTODO ⇄ TaskData round
 * trips keeping what the shape does not describe, dates and zoned times,
 * completion of a recurring task, and malformed input refused in words.
 */
import { describe, expect, test } from "bun:test";
import ICAL from "ical.js";
import { checkTaskData, completeOccurrence, isRecurringTask, mergeTask, taskFromObject } from "../../src/groupware/model/task.ts";
import { ModelError } from "../../src/groupware/model/time.ts";
import { serialize } from "../../src/groupware/ical/index.ts";
import { resolveZones } from "../../src/groupware/ical/zones.ts";
import type { RecurrenceRule, TaskData } from "../../src/groupware/model/types.ts";

const NOW = Date.UTC(2026, 2, 1, 12);
const cal = (...lines: string[]) => {
  const root = ICAL.Component.fromString(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", ...lines, "END:VCALENDAR"].join("\r\n"));
  resolveZones(root, []);
  return root;
};
const task = (o: Partial<TaskData>): TaskData => checkTaskData({ title: "T", ...o });
const weekly: RecurrenceRule = { freq: "WEEKLY", interval: 1, byDay: [], byMonthDay: [], byMonth: [], bySetPos: [], count: null, until: null, complex: false };

describe("task <-> VTODO", () => {
  test("a client's VTODO reads into the shape; an edit keeps X- properties, RELATED-TO, unchanged alarms and DUE's form", () => {
    const root = cal(
      "BEGIN:VTODO", "UID:t1", "DTSTAMP:20260101T000000Z", "SUMMARY:Report", "DUE;TZID=Europe/Paris:20260310T170000", "PRIORITY:2", "STATUS:IN-PROCESS",
      "PERCENT-COMPLETE:30", "CATEGORIES:Work,Q1", "RELATED-TO;RELTYPE=PARENT:parent-uid", "X-APPLE-SORT-ORDER:7",
      "BEGIN:VALARM", "ACTION:DISPLAY", "TRIGGER;RELATED=END:-PT15M", "DESCRIPTION:due soon", "X-KEEP:1", "END:VALARM", "END:VTODO",
    );
    const t = taskFromObject(root, "UTC");
    expect(t).toMatchObject({ uid: "t1", title: "Report", due: "2026-03-10T17:00", timeZone: "Europe/Paris", priority: 2, status: "IN-PROCESS", percent: 30, categories: ["Work", "Q1"], reminders: [15], recurrence: null, completed: null });
    const text = serialize(mergeTask(root, { ...t, title: "Report v2" }, { userZone: "UTC", now: NOW }));
    for (const keep of ["X-APPLE-SORT-ORDER:7", "RELATED-TO;RELTYPE=PARENT:parent-uid", "X-KEEP:1", "DUE;TZID=Europe/Paris:20260310T170000", "SUMMARY:Report v2"]) expect(text).toContain(keep);
    expect(text).toContain("BEGIN:VTIMEZONE");
  });

  test("new tasks: date dues are DATE values, no empty properties; completion sets COMPLETED and 100%, reopening removes them", () => {
    const root = mergeTask(null, task({ title: "Buy milk", due: "2026-03-02" }), { userZone: "UTC", now: NOW });
    const text = serialize(root);
    expect(text).toContain("DUE;VALUE=DATE:20260302");
    expect(text).not.toMatch(/PRIORITY|PERCENT-COMPLETE|STATUS|COMPLETED|DTSTART|DESCRIPTION/);
    const t = taskFromObject(root, "UTC");
    const done = mergeTask(root, { ...t, status: "COMPLETED" }, { userZone: "UTC", now: NOW });
    expect(taskFromObject(done, "UTC")).toMatchObject({ status: "COMPLETED", percent: 100, completed: NOW });
    const reopened = mergeTask(done, { ...taskFromObject(done, "UTC"), status: "NEEDS-ACTION", percent: 0 }, { userZone: "UTC", now: NOW });
    expect(serialize(reopened)).not.toMatch(/COMPLETED|PERCENT-COMPLETE/);
    const timed = serialize(mergeTask(null, task({ due: "2026-03-02T09:30", timeZone: "America/New_York" }), { userZone: "UTC", now: NOW }));
    expect(timed).toContain("DUE;TZID=America/New_York:20260302T093000");
  });

  test("completing a recurring task: the done occurrence on its own, the series moved to the next one", () => {
    const root = mergeTask(null, task({ title: "Timesheet", due: "2026-03-06", start: "2026-03-06", recurrence: { ...weekly, count: 3 } }), { userZone: "UTC", now: NOW });
    expect(isRecurringTask(root)).toBe(true);
    const uid = taskFromObject(root, "UTC").uid;
    const { done, series } = completeOccurrence(root, NOW);
    const d = taskFromObject(done, "UTC");
    expect(d).toMatchObject({ title: "Timesheet", due: "2026-03-06", status: "COMPLETED", percent: 100, recurrence: null, completed: NOW });
    expect(d.uid).not.toBe(uid);
    expect(serialize(done)).toContain(`RELATED-TO:${uid}`);
    const s = taskFromObject(series!, "UTC");
    expect(s).toMatchObject({ uid, due: "2026-03-13", start: "2026-03-13", status: "NEEDS-ACTION", completed: null });
    expect(s.recurrence).toMatchObject({ count: 2 });
    const last = completeOccurrence(completeOccurrence(series!, NOW).series!, NOW);
    expect(last.series).toBeNull();
    // Monthly on the 31st skips short months.
    const monthly = mergeTask(null, task({ due: "2026-01-31", recurrence: { ...weekly, freq: "MONTHLY", byMonthDay: [31] } }), { userZone: "UTC", now: NOW });
    expect(taskFromObject(completeOccurrence(monthly, NOW).series!, "UTC").due).toBe("2026-03-31");
  });

  test("malformed input is a ModelError", () => {
    const bad: unknown[] = [
      null, "x", [],
      { due: "2026-02-30" }, { due: "soon" }, { due: "2026-03-01T25:00" }, { due: "2026-03-01T10:00", timeZone: "Atlantis/Capital" },
      { start: "2026-03-02", due: "2026-03-01" }, { start: "2026-03-01", due: "2026-03-02T10:00" },
      { priority: -1 }, { priority: 1.5 }, { priority: "high" }, { status: "done" }, { percent: 200 }, { completed: "yesterday" },
      { title: 5 }, { title: "a\u0007b" }, { reminders: [1, 2, 3, 4, 5, 6] }, { categories: "x" },
      { recurrence: { ...weekly } }, { due: "2026-03-01", recurrence: { ...weekly, interval: 0 } }, { due: "2026-03-01", recurrence: { ...weekly, until: "x" } }, { due: "2026-03-01", recurrence: { ...weekly, until: "2026-02-01" } },
    ];
    for (const b of bad) expect(() => checkTaskData(b)).toThrow(ModelError);
    expect(() => taskFromObject(cal("BEGIN:VEVENT", "UID:e", "DTSTAMP:20260101T000000Z", "DTSTART:20260101T000000Z", "END:VEVENT"), "UTC")).toThrow(ModelError);
  });
});
