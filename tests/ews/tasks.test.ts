/**
 * Tasks over EWS (MS-OXWSTASK): t:Task created, read, updated (status,
 * percentage, completion, dates, recurrence) and deleted, each checked
 * against the VTODO CalDAV serves, and a VTODO PUT over CalDAV read over EWS.
 */
import { expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes } from "./helpers.ts";
import { contentLines, createItemXml, dav, davPath, deleteItemXml, findItemXml, firstItemId, getItemXml, messages, textAt, updateItemXml } from "./contacts-helpers.ts";

const ALICE = "alice@example.test";
const PASS = "alice-password-1";
const { env } = ewsFixture({ users: [{ email: ALICE, pass: PASS }] });

const call = (xml: string) => env.call(ALICE, PASS, xml);

async function create(itemXml: string) {
  const r = await call(createItemXml("tasks", itemXml));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return firstItemId(r.body);
}

async function get(id: { id: string }) {
  const r = await call(getItemXml([id]));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  return find(messages(r.body)[0], "Items")!.children[0]!;
}

async function vtodo(id: { id: string }): Promise<string[]> {
  const r = await dav(env, ALICE, PASS, "GET", await davPath(env, ALICE, id.id));
  expect(r.status).toBe(200);
  return contentLines(r.text);
}

test("CreateItem of a task: the VTODO CalDAV serves has its fields; GetItem reads them back", async () => {
  const id = await create(`<t:Task>
    <t:Subject>Write the report</t:Subject>
    <t:Body BodyType="Text">Quarterly numbers</t:Body>
    <t:Categories><t:String>Work</t:String></t:Categories>
    <t:Importance>High</t:Importance>
    <t:ReminderDueBy>2027-01-10T08:00:00Z</t:ReminderDueBy>
    <t:ReminderIsSet>true</t:ReminderIsSet>
    <t:DueDate>2027-01-15T00:00:00Z</t:DueDate>
    <t:PercentComplete>50</t:PercentComplete>
    <t:StartDate>2027-01-05T00:00:00Z</t:StartDate>
    <t:Status>InProgress</t:Status>
  </t:Task>`);
  const lines = await vtodo(id);
  expect(lines).toContain("SUMMARY:Write the report");
  expect(lines).toContain("DESCRIPTION:Quarterly numbers");
  expect(lines).toContain("STATUS:IN-PROCESS");
  expect(lines).toContain("PERCENT-COMPLETE:50");
  expect(lines).toContain("PRIORITY:1");
  expect(lines).toContain("CATEGORIES:Work");
  expect(lines.some((l) => l.startsWith("DUE") && l.includes("20270115"))).toBe(true);
  expect(lines.some((l) => l.startsWith("DTSTART") && l.includes("20270105"))).toBe(true);
  expect(lines).toContain("BEGIN:VALARM");

  const t = await get(id);
  expect(t.name).toBe("Task");
  expect(textAt(t, "ItemClass")).toBe("IPM.Task");
  expect(textAt(t, "Subject")).toBe("Write the report");
  expect(textAt(t, "Body")).toBe("Quarterly numbers");
  expect(textAt(t, "Importance")).toBe("High");
  expect(textAt(t, "Status")).toBe("InProgress");
  expect(textAt(t, "PercentComplete")).toBe("50");
  expect(textAt(t, "IsComplete")).toBe("false");
  expect(textAt(t, "IsRecurring")).toBe("false");
  expect(textAt(t, "ReminderIsSet")).toBe("true");
  expect(textAt(t, "ReminderDueBy")).toBe("2027-01-10T08:00:00Z");
  expect(textAt(t, "DueDate")).toBe("2027-01-15T00:00:00Z");
  expect(textAt(t, "StartDate")).toBe("2027-01-05T00:00:00Z");
  expect(findAll(find(t, "Categories")!, "String").map((s) => s.text)).toEqual(["Work"]);
});

test("completing a task (Status Completed, as exchangelib's complete() does) and reopening it", async () => {
  const id = await create(`<t:Task><t:Subject>Buy milk</t:Subject><t:Status>NotStarted</t:Status></t:Task>`);
  expect(textAt(await get(id), "Status")).toBe("NotStarted");
  const done = await call(updateItemXml(id, `
    <t:SetItemField><t:FieldURI FieldURI="task:Status"/><t:Task><t:Status>Completed</t:Status></t:Task></t:SetItemField>
    <t:SetItemField><t:FieldURI FieldURI="task:PercentComplete"/><t:Task><t:PercentComplete>100</t:PercentComplete></t:Task></t:SetItemField>`));
  expect(responseCodes(done.body)).toEqual(["NoError"]);
  const lines = await vtodo(id);
  expect(lines).toContain("STATUS:COMPLETED");
  expect(lines).toContain("PERCENT-COMPLETE:100");
  expect(lines.some((l) => l.startsWith("COMPLETED:"))).toBe(true);
  const t = await get(id);
  expect(textAt(t, "Status")).toBe("Completed");
  expect(textAt(t, "IsComplete")).toBe("true");
  expect(textAt(t, "PercentComplete")).toBe("100");
  expect(textAt(t, "CompleteDate")).toMatch(/^\d{4}-\d\d-\d\dT/);
  expect(textAt(t, "Subject")).toBe("Buy milk");

  const reopen = await call(updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="task:Status"/><t:Task><t:Status>WaitingOnOthers</t:Status></t:Task></t:SetItemField>`));
  expect(responseCodes(reopen.body)).toEqual(["NoError"]);
  const again = await vtodo(id);
  expect(again).toContain("STATUS:IN-PROCESS");
  expect(again.some((l) => l.startsWith("COMPLETED:"))).toBe(false);
  expect(textAt(await get(id), "Status")).toBe("WaitingOnOthers");
  expect(textAt(await get(id), "IsComplete")).toBe("false");
});

test("a recurring task: weekly on Monday and Wednesday, ten times, as an RRULE and back", async () => {
  const id = await create(`<t:Task><t:Subject>Water the plants</t:Subject>
    <t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday Wednesday</t:DaysOfWeek></t:WeeklyRecurrence>
      <t:NumberedRecurrence><t:StartDate>2027-02-01</t:StartDate><t:NumberOfOccurrences>10</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>
    <t:StartDate>2027-02-01T00:00:00Z</t:StartDate></t:Task>`);
  const rrule = (await vtodo(id)).find((l) => l.startsWith("RRULE:"))!;
  expect(rrule).toContain("FREQ=WEEKLY");
  expect(rrule).toContain("BYDAY=MO,WE");
  expect(rrule).toContain("COUNT=10");
  const t = await get(id);
  expect(textAt(t, "IsRecurring")).toBe("true");
  expect(textAt(t, "Recurrence", "WeeklyRecurrence", "DaysOfWeek")).toBe("Monday Wednesday");
  expect(textAt(t, "Recurrence", "NumberedRecurrence", "NumberOfOccurrences")).toBe("10");
  expect(textAt(t, "Recurrence", "NumberedRecurrence", "StartDate")).toBe("2027-02-01");
  // relative monthly, until a date
  const id2 = await create(`<t:Task><t:Subject>Pay rent</t:Subject><t:DueDate>2027-03-05T00:00:00Z</t:DueDate>
    <t:Recurrence><t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Friday</t:DaysOfWeek><t:DayOfWeekIndex>First</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>
      <t:EndDateRecurrence><t:StartDate>2027-03-05</t:StartDate><t:EndDate>2027-12-31</t:EndDate></t:EndDateRecurrence></t:Recurrence></t:Task>`);
  const r2 = (await vtodo(id2)).find((l) => l.startsWith("RRULE:"))!;
  expect(r2).toContain("FREQ=MONTHLY");
  expect(r2).toContain("BYDAY=1FR");
  expect(r2).toContain("UNTIL=2027123");
  const t2 = await get(id2);
  expect(textAt(t2, "Recurrence", "RelativeMonthlyRecurrence", "DayOfWeekIndex")).toBe("First");
  expect(textAt(t2, "Recurrence", "EndDateRecurrence", "EndDate")).toBe("2027-12-31");
  // the recurrence removed
  expect(responseCodes((await call(updateItemXml(id, `<t:DeleteItemField><t:FieldURI FieldURI="task:Recurrence"/></t:DeleteItemField>`))).body)).toEqual(["NoError"]);
  expect((await vtodo(id)).some((l) => l.startsWith("RRULE"))).toBe(false);
});

test("a VTODO PUT over CalDAV is read over EWS; an EWS change keeps its other properties", async () => {
  await dav(env, ALICE, PASS, "PROPFIND", `/dav/calendars/${ALICE}/`, undefined, { depth: "1" });
  const path = `/dav/calendars/${ALICE}/Tasks/from-caldav.ics`;
  const body = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\nUID:from-caldav\r\nDTSTAMP:20270101T000000Z\r\nSUMMARY:Call the plumber\r\nDUE:20270120T170000Z\r\nSTATUS:NEEDS-ACTION\r\nPRIORITY:9\r\nX-CUSTOM:kept\r\nEND:VTODO\r\nEND:VCALENDAR\r\n";
  expect((await dav(env, ALICE, PASS, "PUT", path, body, { "content-type": "text/calendar" })).status).toBe(201);
  const found = await call(findItemXml("tasks", "Default"));
  const t = findAll(found.body, "Task").find((x) => textAt(x, "Subject") === "Call the plumber")!;
  expect(t).toBeDefined();
  const id = { id: find(t, "ItemId")!.attrs.Id! };
  const full = await get(id);
  expect(textAt(full, "DueDate")).toBe("2027-01-20T17:00:00Z");
  expect(textAt(full, "Importance")).toBe("Low");
  expect(textAt(full, "Status")).toBe("NotStarted");
  const upd = await call(updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:Task><t:Subject>Call the plumber today</t:Subject></t:Task></t:SetItemField>`));
  expect(responseCodes(upd.body)).toEqual(["NoError"]);
  const lines = contentLines((await dav(env, ALICE, PASS, "GET", path)).text);
  expect(lines).toContain("SUMMARY:Call the plumber today");
  expect(lines).toContain("X-CUSTOM:kept");
  expect(lines).toContain("UID:from-caldav");
  // deleted over EWS: gone from CalDAV
  expect(responseCodes((await call(deleteItemXml(id.id))).body)).toEqual(["NoError"]);
  expect((await dav(env, ALICE, PASS, "GET", path)).status).toBe(404);
});

test("malformed tasks: a bad status, a percentage over 100, a bad date, a broken recurrence, a task in the contacts folder", async () => {
  const bad = async (xml: string, code: string, folder = "tasks") => {
    const r = await call(createItemXml(folder, xml));
    expect(r.status).toBe(200);
    expect(responseCodes(r.body)).toEqual([code]);
  };
  await bad(`<t:Task><t:Subject>x</t:Subject><t:Status>Procrastinating</t:Status></t:Task>`, "ErrorInvalidValueForProperty");
  await bad(`<t:Task><t:PercentComplete>150</t:PercentComplete></t:Task>`, "ErrorInvalidValueForProperty");
  await bad(`<t:Task><t:DueDate>tomorrow-ish</t:DueDate></t:Task>`, "ErrorInvalidValueForProperty");
  await bad(`<t:Task><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Funday</t:DaysOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2027-01-01</t:StartDate></t:NoEndRecurrence></t:Recurrence></t:Task>`, "ErrorCalendarInvalidRecurrence");
  await bad(`<t:Task><t:Recurrence><t:DailyRecurrence><t:Interval>0</t:Interval></t:DailyRecurrence><t:NoEndRecurrence><t:StartDate>2027-01-01</t:StartDate></t:NoEndRecurrence></t:Recurrence></t:Task>`, "ErrorCalendarInvalidRecurrence");
  await bad(`<t:Task><t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence></t:Recurrence></t:Task>`, "ErrorCalendarInvalidRecurrence");
  await bad(`<t:Task><t:Subject>misplaced</t:Subject></t:Task>`, "ErrorCannotCreateTaskInNonTaskFolder", "contacts");
  await bad(`<t:Task><t:StartDate>2027-02-01T00:00:00Z</t:StartDate><t:DueDate>2027-01-01T00:00:00Z</t:DueDate></t:Task>`, "ErrorInvalidValueForProperty");
  const id = await create(`<t:Task><t:Subject>stays</t:Subject></t:Task>`);
  expect(responseCodes((await call(updateItemXml(id, `<t:SetItemField><t:FieldURI FieldURI="contacts:GivenName"/><t:Task/></t:SetItemField>`))).body)).toEqual(["ErrorInvalidPropertyRequest"]);
  expect(textAt(await get(id), "Subject")).toBe("stays");
});

test("a date-only due date in the client's zone (TimeZoneContext) is stored as a DATE and read back at that local midnight", async () => {
  const header = `<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>`;
  const r = await env.call(ALICE, PASS, createItemXml("tasks", `<t:Task><t:Subject>Berlin deadline</t:Subject><t:DueDate>2027-05-09T22:00:00Z</t:DueDate></t:Task>`), { header });
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const id = firstItemId(r.body);
  expect((await vtodo(id)).some((l) => /^DUE;VALUE=DATE:20270510$/.test(l))).toBe(true);
});

test("every task pattern reads back as it was written (yearly, monthly, daily, regeneration)", async () => {
  const cases: [string, string, string][] = [
    ["<t:AbsoluteYearlyRecurrence><t:DayOfMonth>14</t:DayOfMonth><t:Month>February</t:Month></t:AbsoluteYearlyRecurrence>", "AbsoluteYearlyRecurrence", "FREQ=YEARLY"],
    ["<t:RelativeYearlyRecurrence><t:DaysOfWeek>Thursday</t:DaysOfWeek><t:DayOfWeekIndex>Fourth</t:DayOfWeekIndex><t:Month>November</t:Month></t:RelativeYearlyRecurrence>", "RelativeYearlyRecurrence", "BYDAY=4TH"],
    ["<t:AbsoluteMonthlyRecurrence><t:Interval>2</t:Interval><t:DayOfMonth>15</t:DayOfMonth></t:AbsoluteMonthlyRecurrence>", "AbsoluteMonthlyRecurrence", "BYMONTHDAY=15"],
    ["<t:RelativeMonthlyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Weekday</t:DaysOfWeek><t:DayOfWeekIndex>Last</t:DayOfWeekIndex></t:RelativeMonthlyRecurrence>", "RelativeMonthlyRecurrence", "BYSETPOS=-1"],
    ["<t:DailyRecurrence><t:Interval>3</t:Interval></t:DailyRecurrence>", "DailyRecurrence", "INTERVAL=3"],
    ["<t:DailyRegeneration><t:Interval>7</t:Interval></t:DailyRegeneration>", "DailyRegeneration", "FREQ=DAILY"],
  ];
  for (const [pattern, name, rule] of cases) {
    const id = await create(`<t:Task><t:Subject>${name}</t:Subject><t:Recurrence>${pattern}<t:NoEndRecurrence><t:StartDate>2027-01-14</t:StartDate></t:NoEndRecurrence></t:Recurrence><t:StartDate>2027-01-14T00:00:00Z</t:StartDate></t:Task>`);
    expect((await vtodo(id)).find((l) => l.startsWith("RRULE:"))).toContain(rule);
    const rec = find(await get(id), "Recurrence")!;
    expect(rec.children.map((k) => k.name)).toEqual([name, "NoEndRecurrence"]);
    expect(textAt(rec, "NoEndRecurrence", "StartDate")).toBe("2027-01-14");
  }
});
