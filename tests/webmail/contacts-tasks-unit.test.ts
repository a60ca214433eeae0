/**
 * The pure helpers of the Contacts and Tasks apps (web/src/contacts/data.ts,
 * detail.ts, web/src/tasks/data.ts): letter headings, initials, group member
 * matching, dates shown as written (with malformed values passed through
 * unchanged, never an exception), priority classes, overdue and sorting.
 */
import { test, expect, describe } from "bun:test";
import { displayName, fold, initials, letterOf, memberMatches, blankContact } from "../../web/src/contacts/data.ts";
import { formatDay } from "../../web/src/contacts/detail.ts";
import { blankTask, isOverdue, priorityClass, sortTasks, taskOf, wallText, type TaskSummary } from "../../web/src/tasks/data.ts";

describe("contacts helpers", () => {
  test("letter headings fold accents; anything else is #", () => {
    expect(letterOf("Émile Zola")).toBe("E");
    expect(letterOf("  øystein")).toBe("#"); // ø has no decomposition: not A-Z
    expect(letterOf("Ölund")).toBe("O");
    expect(letterOf("42 Club")).toBe("#");
    expect(letterOf("")).toBe("#");
    expect(fold("Müller Genève")).toBe("MULLER GENEVE");
  });

  test("initials: two words, one word, an address, nothing", () => {
    expect(initials("Ada Lovelace")).toBe("AL");
    expect(initials("Ada King Lovelace")).toBe("AL");
    expect(initials("bob")).toBe("B");
    expect(initials("carol@example.test")).toBe("C");
    expect(initials("   ")).toBe("?");
    expect(initials("Łukasz Ćwik")).toBe("ŁĆ");
  });

  test("display name falls back from FN to N parts, organization, address", () => {
    const c = blankContact();
    expect(displayName(c)).toBe("");
    c.emails = [{ type: "", value: "x@y.z", pref: false }];
    expect(displayName(c)).toBe("x@y.z");
    c.organization = "Acme";
    expect(displayName(c)).toBe("Acme");
    c.givenName = "Ada";
    expect(displayName(c)).toBe("Ada");
    c.fullName = "Countess Lovelace";
    expect(displayName(c)).toBe("Countess Lovelace");
  });

  test("group members match with or without urn:uuid:, case-insensitively", () => {
    expect(memberMatches("urn:uuid:ABC-1", "abc-1")).toBe(true);
    expect(memberMatches("abc-1", "urn:uuid:abc-1")).toBe(true);
    expect(memberMatches("mailto:abc-1@x", "abc-1")).toBe(false);
  });

  test("birthdays: full date, no year, and malformed values shown as written", () => {
    expect(formatDay("1815-12-10")).toBe("December 10, 1815");
    expect(formatDay("--12-10")).toBe("December 10");
    expect(formatDay("--1210")).toBe("December 10");
    for (const bad of ["", "garbage", "1815-13", "19851310", "1985-13-40", "--00-10", "<b>x</b>"]) expect(formatDay(bad)).toBe(bad);
  });
});

describe("tasks helpers", () => {
  const summary = (over: Partial<TaskSummary>): TaskSummary => ({ ...blankTask("t"), list: "Tasks", id: "x.ics", etag: '"1"', dueAt: null, ...over });

  test("priority classes follow RFC 5545 §3.8.1.9", () => {
    expect([0, 1, 4, 5, 6, 9].map(priorityClass)).toEqual(["normal", "high", "high", "normal", "low", "low"]);
    expect(priorityClass(42)).toBe("normal");
  });

  test("overdue: a date-only due from the next day; a timed due from its instant; never when done", () => {
    const now = Date.UTC(2026, 11, 7, 12, 0);
    expect(isOverdue(summary({ due: "2026-12-06", dueAt: Date.UTC(2026, 11, 6) }), now)).toBe(true);
    expect(isOverdue(summary({ due: "2030-01-01", dueAt: Date.UTC(2030, 0, 1) }), now)).toBe(false);
    expect(isOverdue(summary({ due: "2026-12-07T11:00", dueAt: Date.UTC(2026, 11, 7, 11) }), now)).toBe(true);
    expect(isOverdue(summary({ due: "2026-12-07T13:00", dueAt: Date.UTC(2026, 11, 7, 13) }), now)).toBe(false);
    expect(isOverdue(summary({ due: "2020-01-01", dueAt: 0, status: "COMPLETED" }), now)).toBe(false);
    expect(isOverdue(summary({ due: "" }), now)).toBe(false);
  });

  test("sorting: open before completed; by due (none last), priority (none as normal) or title", () => {
    const c = new Intl.Collator("en");
    const a = summary({ id: "a", title: "b task", dueAt: 200, priority: 9 });
    const b = summary({ id: "b", title: "a task", dueAt: null, priority: 1 });
    const d = summary({ id: "d", title: "c task", dueAt: 100, priority: 0 });
    const done = summary({ id: "done", title: "0 first", dueAt: 1, priority: 1, status: "COMPLETED" });
    expect(sortTasks([a, b, d, done], "due", c).map((x) => x.id)).toEqual(["d", "a", "b", "done"]);
    expect(sortTasks([a, b, d, done], "priority", c).map((x) => x.id)).toEqual(["b", "d", "a", "done"]);
    expect(sortTasks([a, b, d, done], "title", c).map((x) => x.id)).toEqual(["b", "a", "d", "done"]);
  });

  test("a summary's task data drops the list fields; wall-clock dates print as written", () => {
    const s = summary({ due: "2030-03-11" });
    const t = taskOf(s);
    expect("list" in t || "id" in t || "etag" in t || "dueAt" in t).toBe(false);
    expect(t.due).toBe("2030-03-11");
    expect(wallText("2030-03-11")).toBe("Mar 11, 2030");
    expect(wallText("2030-03-11T09:30")).toMatch(/^Mar 11, 2030,? 9:30\s?AM$/);
    for (const bad of ["", "soon", "2030/03/11", "2030-02-32", "2030-03-11T25:00"]) expect(wallText(bad)).toBe(bad);
  });
});
