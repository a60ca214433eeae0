/**
 * EWS calendar items over real sockets: CreateItem/GetItem/UpdateItem/
 * DeleteItem of t:CalendarItem, recurrence with an exception and a deleted
 * occurrence in a CalendarView, all-day events and time zones, each checked
 * against what CalDAV serves for the same event (and the reverse: an event
 * PUT over CalDAV read over EWS), plus malformed input.
 */
import { describe, expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes } from "./helpers.ts";
import { calendarView, createCalendarItem, dav, davPathOf, deleteItem, getItem, itemIds, storeId, text, unfold, updateItem } from "./calendar-helpers.ts";

const ALICE = "alice@cal.test";
const PASS = "alice-password-1";
const { env } = ewsFixture({ users: [{ email: ALICE, pass: PASS, displayName: "Alice Cal" }] });

const call = (xml: string, header?: string) => env.call(ALICE, PASS, xml, header ? { header } : undefined);

let masterIdValue = "";
const masterId = () => masterIdValue;

describe("calendar items", () => {
  let masterId = "";

  test("weekly recurrence (5 Mondays) is created and CalDAV serves the RRULE", async () => {
    const r = await call(
      createCalendarItem(
        `<t:Subject>Standup</t:Subject><t:Body BodyType="Text">Daily sync</t:Body><t:ReminderIsSet>true</t:ReminderIsSet><t:ReminderMinutesBeforeStart>10</t:ReminderMinutesBeforeStart>` +
          `<t:Start>2026-12-07T09:00:00Z</t:Start><t:End>2026-12-07T09:30:00Z</t:End><t:IsAllDayEvent>false</t:IsAllDayEvent><t:LegacyFreeBusyStatus>Busy</t:LegacyFreeBusyStatus><t:Location>Room 1</t:Location>` +
          `<t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NumberedRecurrence><t:StartDate>2026-12-07</t:StartDate><t:NumberOfOccurrences>5</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`,
      ),
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    masterId = itemIds(r.body)[0]!.id;
    masterIdValue = masterId;
    const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(masterId)))).text);
    expect(ics).toContain("SUMMARY:Standup");
    expect(ics).toMatch(/RRULE:FREQ=WEEKLY;(?=.*COUNT=5)(?=.*BYDAY=MO)/);
    expect(ics).toContain("LOCATION:Room 1");
    expect(ics).toContain("TRIGGER:-PT10M");
  });

  test("GetItem shows the master with its recurrence", async () => {
    const r = await call(getItem(masterId));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const item = find(r.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(item, "Subject")).toBe("Standup");
    expect(text(item, "CalendarItemType")).toBe("RecurringMaster");
    expect(text(item, "IsRecurring")).toBe("true");
    expect(text(item, "Start")).toBe("2026-12-07T09:00:00Z");
    expect(text(item, "End")).toBe("2026-12-07T09:30:00Z");
    expect(text(item, "Recurrence", "WeeklyRecurrence", "DaysOfWeek")).toBe("Monday");
    expect(text(item, "Recurrence", "NumberedRecurrence", "NumberOfOccurrences")).toBe("5");
    expect(text(item, "ReminderMinutesBeforeStart")).toBe("10");
    expect(text(item, "LegacyFreeBusyStatus")).toBe("Busy");
    expect(text(item, "MyResponseType")).toBe("Organizer");
    expect(text(item, "FirstOccurrence", "Start")).toBe("2026-12-07T09:00:00Z");
    expect(text(item, "LastOccurrence", "Start")).toBe("2027-01-04T09:00:00Z");
  });

  test("an exception and a deleted occurrence show in the CalendarView and in CalDAV", async () => {
    let r = await call(calendarView("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z"));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    let items = findAll(r.body, "CalendarItem");
    expect(items.length).toBe(5);
    expect(items.map((i) => text(i, "CalendarItemType"))).toEqual(["Occurrence", "Occurrence", "Occurrence", "Occurrence", "Occurrence"]);
    const second = find(items[1], "ItemId")!.attrs.Id!;
    const third = find(items[2], "ItemId")!.attrs.Id!;
    r = await call(updateItem(second, "item:Subject", "<t:Subject>Standup (moved)</t:Subject>"));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    r = await call(updateItem(second, "calendar:Start", "<t:Start>2026-12-14T11:00:00Z</t:Start>"));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    r = await call(deleteItem(third));
    expect(responseCodes(r.body)).toEqual(["NoError"]);

    r = await call(calendarView("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z"));
    items = findAll(r.body, "CalendarItem");
    expect(items.length).toBe(4);
    const types = items.map((i) => text(i, "CalendarItemType"));
    expect(types).toEqual(["Occurrence", "Exception", "Occurrence", "Occurrence"]);
    expect(text(items[1], "Subject")).toBe("Standup (moved)");
    expect(text(items[1], "Start")).toBe("2026-12-14T11:00:00Z");
    expect(text(items[1], "End")).toBe("2026-12-14T11:30:00Z");

    const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(masterId)))).text);
    expect(ics).toContain("RECURRENCE-ID:20261214T090000Z");
    expect(ics).toContain("EXDATE:20261221T090000Z");
    expect(ics).toContain("SUMMARY:Standup (moved)");

    r = await call(getItem(masterId));
    const item = find(r.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(findAll(item!, "Occurrence").length).toBe(1);
    expect(text(item, "ModifiedOccurrences", "Occurrence", "OriginalStart")).toBe("2026-12-14T09:00:00Z");
    expect(text(item, "DeletedOccurrences", "DeletedOccurrence", "Start")).toBe("2026-12-21T09:00:00Z");
  });

  test("OccurrenceItemId by InstanceIndex and RecurringMasterItemId", async () => {
    let r = await call(getItem("", "AllProperties", `<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="4"/>`));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const occ = find(r.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(occ, "CalendarItemType")).toBe("Occurrence");
    expect(text(occ, "Start")).toBe("2026-12-28T09:00:00Z");
    const occId = find(occ, "ItemId")!.attrs.Id!;
    r = await call(getItem("", "IdOnly", `<t:RecurringMasterItemId OccurrenceId="${occId}"/>`));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    expect(storeId(itemIds(r.body)[0]!.id)).toBe(storeId(masterId));
    r = await call(getItem("", "IdOnly", `<t:OccurrenceItemId RecurringMasterId="${masterId}" InstanceIndex="99"/>`));
    expect(responseCodes(r.body)).toEqual(["ErrorCalendarOccurrenceIndexIsOutOfRecurrenceRange"]);
  });

  test("an event PUT over CalDAV reads back over EWS", async () => {
    const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", "BEGIN:VEVENT", "UID:dav-1@test", "DTSTAMP:20261201T000000Z", "DTSTART:20261210T150000Z", "DTEND:20261210T160000Z", "SUMMARY:From CalDAV", "RRULE:FREQ=MONTHLY;BYDAY=2TH;COUNT=3", "CATEGORIES:Work,Blue", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
    const put = await dav(env, ALICE, PASS, "PUT", `/dav/calendars/${ALICE}/Calendar/dav-1.ics`, ics);
    expect(put.status).toBe(201);
    const r = await call(calendarView("2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z"));
    const fromDav = findAll(r.body, "CalendarItem").filter((i) => text(i, "Subject") === "From CalDAV");
    expect(fromDav.map((i) => text(i, "Start"))).toEqual(["2027-01-14T15:00:00Z", "2027-02-11T15:00:00Z"]);
    const [item] = await env.srv.store.getItemsByResourceNames((await env.srv.store.getItems([storeId(masterId)]))[0]!.folderId, ["dav-1.ics"]);
    const id = Buffer.from(`I:${item!.accountId}:C:${item!.id}`).toString("base64");
    const g = await call(getItem(id));
    const master = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(master, "Recurrence", "RelativeMonthlyRecurrence", "DaysOfWeek")).toBe("Thursday");
    expect(text(master, "Recurrence", "RelativeMonthlyRecurrence", "DayOfWeekIndex")).toBe("Second");
    expect(findAll(master!, "String").map((s) => s.text)).toEqual(["Work", "Blue"]);
  });

  test("all-day event in a time zone: DATE values in CalDAV, midnight of the zone over EWS", async () => {
    const r = await call(
      createCalendarItem(
        `<t:Subject>Holiday</t:Subject><t:Start>2026-12-24T00:00:00+01:00</t:Start><t:End>2026-12-26T00:00:00+01:00</t:End><t:IsAllDayEvent>true</t:IsAllDayEvent><t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/>`,
      ),
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const id = itemIds(r.body)[0]!.id;
    const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(id)))).text);
    expect(ics).toContain("DTSTART;VALUE=DATE:20261224");
    expect(ics).toContain("DTEND;VALUE=DATE:20261226");
    const tz = `<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>`;
    const g = await call(getItem(id), tz);
    const item = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(item, "IsAllDayEvent")).toBe("true");
    expect(text(item, "Start")).toBe("2026-12-23T23:00:00Z");
    expect(text(item, "End")).toBe("2026-12-25T23:00:00Z");
    expect(find(item, "StartTimeZone")!.attrs.Id).toBe("W. Europe Standard Time");
  });

  test("a timed event in a Windows zone is stored with the IANA TZID", async () => {
    const r = await call(
      createCalendarItem(`<t:Subject>Berlin call</t:Subject><t:Start>2026-12-08T10:00:00+01:00</t:Start><t:End>2026-12-08T11:00:00+01:00</t:End><t:StartTimeZone Id="W. Europe Standard Time"/><t:EndTimeZone Id="W. Europe Standard Time"/>`),
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const id = itemIds(r.body)[0]!.id;
    const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(id)))).text);
    expect(ics).toContain("DTSTART;TZID=Europe/Berlin:20261208T100000");
    expect(ics).toContain("BEGIN:VTIMEZONE");
    const g = await call(getItem(id));
    const item = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(item, "Start")).toBe("2026-12-08T09:00:00Z");
    expect(find(item, "StartTimeZone")!.attrs.Id).toBe("W. Europe Standard Time");
    // The full definition, as Exchange writes it: a standard and a daylight period, yearly transitions.
    expect(findAll(find(item, "StartTimeZone")!, "Period").length).toBe(2);
    expect(findAll(find(item, "StartTimeZone")!, "RecurringDayTransition").length).toBe(2);
  });

  test("times without an offset are wall times of the TimeZoneContext", async () => {
    const tz = `<t:TimeZoneContext><t:TimeZoneDefinition Id="W. Europe Standard Time"/></t:TimeZoneContext>`;
    const r = await call(createCalendarItem(`<t:Subject>local</t:Subject><t:Start>2027-01-05T10:00:00</t:Start><t:End>2027-01-05T11:00:00</t:End>`), tz);
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const g = await call(getItem(itemIds(r.body)[0]!.id));
    const item = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(item, "Start")).toBe("2027-01-05T09:00:00Z");
    expect(find(item, "StartTimeZone")!.attrs.Id).toBe("W. Europe Standard Time");
  });

  test("UpdateItem moves the event and changes the location; DeleteItem removes it from CalDAV", async () => {
    const r = await call(createCalendarItem(`<t:Subject>Move me</t:Subject><t:Start>2026-12-09T08:00:00Z</t:Start><t:End>2026-12-09T09:00:00Z</t:End>`));
    const id = itemIds(r.body)[0]!.id;
    const path = await davPathOf(env, ALICE, storeId(id));
    let u = await call(updateItem(id, "calendar:Start", "<t:Start>2026-12-09T12:00:00Z</t:Start>"));
    expect(responseCodes(u.body)).toEqual(["NoError"]);
    u = await call(updateItem(id, "calendar:Location", "<t:Location>Cafe</t:Location>"));
    expect(responseCodes(u.body)).toEqual(["NoError"]);
    const ics = unfold((await dav(env, ALICE, PASS, "GET", path)).text);
    expect(ics).toContain("DTSTART:20261209T120000Z");
    expect(ics).toContain("DTEND:20261209T130000Z");
    expect(ics).toContain("LOCATION:Cafe");
    const d = await call(deleteItem(id));
    expect(responseCodes(d.body)).toEqual(["NoError"]);
    expect((await dav(env, ALICE, PASS, "GET", path)).status).toBe(404);
  });
});

describe("views, conflicts, folders and versions", () => {
  test("MaxEntriesReturned cuts the CalendarView in time order", async () => {
    const r = await call(calendarView("2026-12-01T00:00:00Z", "2027-02-01T00:00:00Z", 2));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const root = find(r.body, "ResponseMessages", "FindItemResponseMessage", "RootFolder");
    expect(root?.attrs.IncludesLastItemInRange).toBe("false");
    const starts = findAll(root!, "CalendarItem").map((i) => text(i, "Start")!);
    expect(starts.length).toBe(2);
    expect([...starts].sort()).toEqual(starts);
  });

  test("FindItem without a view lists masters; an IdOnly shape of indexed fields reads them from the index", async () => {
    const r = await call(
      `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:CalendarItemType"/></t:AdditionalProperties></m:ItemShape>` +
        `<m:Restriction><t:IsEqualTo><t:FieldURI FieldURI="item:Subject"/><t:FieldURIOrConstant><t:Constant Value="Standup"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`,
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const items = findAll(r.body, "CalendarItem");
    expect(items.map((i) => [text(i, "Subject"), text(i, "Start"), text(i, "CalendarItemType")])).toEqual([["Standup", "2026-12-07T09:00:00Z", "RecurringMaster"]]);
    expect(find(items[0], "Location")).toBeUndefined();
  });

  test("SyncFolderItems of the calendar lists the events as CalendarItems", async () => {
    const r = await call(`<m:SyncFolderItems><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:SyncFolderId><t:DistinguishedFolderId Id="calendar"/></m:SyncFolderId><m:MaxChangesReturned>500</m:MaxChangesReturned></m:SyncFolderItems>`);
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const created = findAll(r.body, "Create").map((cr) => find(cr, "CalendarItem"));
    expect(created.length).toBeGreaterThan(3);
    expect(created.map((i) => text(i, "Subject"))).toContain("Standup");
    expect(created.every((i) => find(i, "ItemId")?.attrs.Id)).toBe(true);
  });

  test("UpdateItem with a stale ChangeKey under NeverOverwrite is refused", async () => {
    const r = await call(createCalendarItem(`<t:Subject>v1</t:Subject><t:Start>2026-12-11T08:00:00Z</t:Start><t:End>2026-12-11T09:00:00Z</t:End>`));
    const { id, ck } = itemIds(r.body)[0]!;
    let u = await call(updateItem(id, "item:Subject", "<t:Subject>v2</t:Subject>"));
    expect(responseCodes(u.body)).toEqual(["NoError"]);
    const stale = `<m:UpdateItem ConflictResolution="NeverOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}" ChangeKey="${ck}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="item:Subject"/><t:CalendarItem><t:Subject>v3</t:Subject></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`;
    u = await call(stale);
    expect(responseCodes(u.body)).toEqual(["ErrorIrresolvableConflict"]);
    const g = await call(getItem(id));
    expect(text(find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem"), "Subject")).toBe("v2");
  });

  test("MoveItem and CopyItem between two calendars; CalDAV sees both", async () => {
    expect((await dav(env, ALICE, PASS, "MKCALENDAR", `/dav/calendars/${ALICE}/second/`)).status).toBe(201);
    const acc = (await env.srv.store.getAccount(ALICE))!;
    const second = (await env.srv.store.listFolders(acc.id, { itemClass: "calendar" })).find((f) => f.name === "second")!;
    const to = `<m:ToFolderId><t:FolderId Id="${Buffer.from(`F:${acc.id}:${second.id}`).toString("base64")}"/></m:ToFolderId>`;
    const r = await call(createCalendarItem(`<t:Subject>travelling</t:Subject><t:Start>2026-12-12T08:00:00Z</t:Start><t:End>2026-12-12T09:00:00Z</t:End>`));
    const id = itemIds(r.body)[0]!.id;
    const name = (await env.srv.store.getItems([storeId(id)]))[0]!.resourceName!;
    const mv = await call(`<m:MoveItem>${to}<m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:MoveItem>`);
    expect(responseCodes(mv.body)).toEqual(["NoError"]);
    expect((await dav(env, ALICE, PASS, "GET", `/dav/calendars/${ALICE}/second/${name}`)).status).toBe(200);
    expect((await dav(env, ALICE, PASS, "GET", `/dav/calendars/${ALICE}/Calendar/${name}`)).status).toBe(404);
    const movedId = itemIds(mv.body)[0]?.id ?? id;
    const back = `<m:ToFolderId><t:DistinguishedFolderId Id="calendar"/></m:ToFolderId>`;
    const cp = await call(`<m:CopyItem>${back}<m:ItemIds><t:ItemId Id="${movedId}"/></m:ItemIds></m:CopyItem>`);
    expect(responseCodes(cp.body)).toEqual(["NoError"]);
    const copyId = itemIds(cp.body)[0]!.id;
    expect(storeId(copyId)).not.toBe(storeId(movedId));
    const copy = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(copyId)))).text);
    expect(copy).toContain("SUMMARY:travelling");
    const inbox = `<m:ToFolderId><t:DistinguishedFolderId Id="inbox"/></m:ToFolderId>`;
    const bad = await call(`<m:MoveItem>${inbox}<m:ItemIds><t:ItemId Id="${movedId}"/></m:ItemIds></m:MoveItem>`);
    expect(responseCodes(bad.body)[0]).toMatch(/^Error/);
  });

  test("Exchange 2007: MeetingTimeZone in, MeetingTimeZone out", async () => {
    const r = await env.call(
      ALICE,
      PASS,
      createCalendarItem(`<t:Subject>old client</t:Subject><t:Start>2026-12-16T15:00:00Z</t:Start><t:End>2026-12-16T16:00:00Z</t:End><t:MeetingTimeZone TimeZoneName="Eastern Standard Time"/>`),
      { version: "Exchange2007_SP1" },
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const id = itemIds(r.body)[0]!.id;
    const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(id)))).text);
    expect(ics).toContain("DTSTART;TZID=America/New_York:20261216T100000");
    const g = await env.call(ALICE, PASS, getItem(id), { version: "Exchange2007_SP1" });
    const item = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(find(item, "MeetingTimeZone")?.attrs.TimeZoneName).toBe("Eastern Standard Time");
    expect(find(item, "StartTimeZone")).toBeUndefined();
    expect(find(item, "UID")).toBeUndefined();
  });
});

describe("MimeContent and extended properties (as DavMail uses them)", () => {
  const ics = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//EN", "METHOD:PUBLISH", "BEGIN:VEVENT", "UID:mime-1@test", "DTSTAMP:20260101T000000Z", "DTSTART:20270511T140000Z", "DTEND:20270511T150000Z", "SUMMARY:From MIME", "END:VEVENT", "END:VCALENDAR", ""].join("\r\n");
  const urlName = `<t:ExtendedProperty><t:ExtendedFieldURI PropertyTag="0x10f3" PropertyType="String"/><t:Value>mime-1.ics</t:Value></t:ExtendedProperty>`;
  const state = `<t:ExtendedProperty><t:ExtendedFieldURI DistinguishedPropertySetId="Appointment" PropertyId="33303" PropertyType="Integer"/><t:Value>0</t:Value></t:ExtendedProperty>`;

  test("CreateItem with MimeContent stores the iCalendar (METHOD dropped) under the PidTagUrlCompName it names", async () => {
    const r = await call(createCalendarItem(`<t:MimeContent>${Buffer.from(ics).toString("base64")}</t:MimeContent><t:ReminderIsSet>false</t:ReminderIsSet>${urlName}${state}`));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const got = await dav(env, ALICE, PASS, "GET", `/dav/calendars/${ALICE}/Calendar/mime-1.ics`);
    expect(got.status).toBe(200);
    expect(got.text).toContain("SUMMARY:From MIME");
    expect(got.text).not.toContain("METHOD:");
    const id = itemIds(r.body)[0]!.id;
    const g = await call(`<m:GetItem><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:IncludeMimeContent>true</t:IncludeMimeContent><t:AdditionalProperties><t:ExtendedFieldURI DistinguishedPropertySetId="Appointment" PropertyId="33303" PropertyType="Integer"/><t:ExtendedFieldURI PropertyTag="0x3008" PropertyType="SystemTime"/></t:AdditionalProperties></m:ItemShape><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:GetItem>`);
    const item = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(Buffer.from(text(item, "MimeContent")!, "base64").toString("utf8")).toContain("UID:mime-1@test");
    const ext = findAll(item!, "ExtendedProperty").map((e) => text(e, "Value"));
    expect(ext.length).toBe(2);
    expect(ext[0]).toBe("0");
  });

  test("restrictions on the computed MAPI properties: instance type, recurring, resource name", async () => {
    const itype = `<t:ExtendedFieldURI DistinguishedPropertySetId="PublicStrings" PropertyName="urn:schemas:calendar:instancetype" PropertyType="Integer"/>`;
    const recurring = `<t:ExtendedFieldURI DistinguishedPropertySetId="Appointment" PropertyId="33315" PropertyType="Boolean"/>`;
    const find1 = (restriction: string) =>
      call(`<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/>${itype}</t:AdditionalProperties></m:ItemShape><m:Restriction>${restriction}</m:Restriction><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`);
    let r = await find1(`<t:IsEqualTo><t:ExtendedFieldURI PropertyTag="0x10f3" PropertyType="String"/><t:FieldURIOrConstant><t:Constant Value="mime-1.ics"/></t:FieldURIOrConstant></t:IsEqualTo>`);
    expect(findAll(r.body, "CalendarItem").map((i) => text(i, "Subject"))).toEqual(["From MIME"]);
    r = await find1(`<t:IsEqualTo>${itype}<t:FieldURIOrConstant><t:Constant Value="1"/></t:FieldURIOrConstant></t:IsEqualTo>`);
    const masters = findAll(r.body, "CalendarItem");
    expect(masters.map((i) => text(i, "Subject"))).toContain("Standup");
    expect(masters.every((i) => text(i, "ExtendedProperty", "Value") === "1")).toBe(true);
    r = await find1(`<t:And><t:IsEqualTo>${recurring}<t:FieldURIOrConstant><t:Constant Value="false"/></t:FieldURIOrConstant></t:IsEqualTo><t:IsGreaterThan><t:FieldURI FieldURI="calendar:End"/><t:FieldURIOrConstant><t:Constant Value="2027-05-11T00:00:00Z"/></t:FieldURIOrConstant></t:IsGreaterThan><t:IsLessThan><t:FieldURI FieldURI="calendar:Start"/><t:FieldURIOrConstant><t:Constant Value="2027-05-12T00:00:00Z"/></t:FieldURIOrConstant></t:IsLessThan></t:And>`);
    expect(findAll(r.body, "CalendarItem").map((i) => text(i, "Subject"))).toEqual(["From MIME"]);
  });

  test("UpdateItem of MimeContent replaces the event and keeps its UID; a bad MimeContent is refused", async () => {
    const [item] = await env.srv.store.getItemsByResourceNames((await env.srv.store.getItems([storeId(masterId())]))[0]!.folderId, ["mime-1.ics"]);
    const id = Buffer.from(`I:${item!.accountId}:C:${item!.id}`).toString("base64");
    const changed = ics.replace("SUMMARY:From MIME", "SUMMARY:From MIME v2").replace("UID:mime-1@test", "UID:other@test");
    let r = await call(updateItem(id, "item:MimeContent", `<t:MimeContent>${Buffer.from(changed).toString("base64")}</t:MimeContent>`));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const got = (await dav(env, ALICE, PASS, "GET", `/dav/calendars/${ALICE}/Calendar/mime-1.ics`)).text;
    expect(got).toContain("SUMMARY:From MIME v2");
    expect(got).toContain("UID:mime-1@test");
    r = await call(createCalendarItem(`<t:MimeContent>${Buffer.from("BEGIN:VCARD\r\nEND:VCARD\r\n").toString("base64")}</t:MimeContent>`));
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidRequest"]);
    r = await call(createCalendarItem(`<t:MimeContent>!!!not base64!!!</t:MimeContent>`));
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidRequest"]);
  });
});

describe("malformed calendar input", () => {
  test("bad items get ResponseCodes, not faults", async () => {
    const cases: [string, string][] = [
      [`<t:Subject>no start</t:Subject>`, "ErrorInvalidRequest"],
      [`<t:Start>2026-13-45T00:00:00Z</t:Start><t:End>2026-12-07T10:00:00Z</t:End>`, "ErrorInvalidRequest"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T09:00:00Z</t:End>`, "ErrorCalendarEndDateIsEarlierThanStartDate"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:StartTimeZone Id="Mars Standard Time"/>`, "ErrorCalendarInvalidTimeZone"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>0</t:Interval><t:DaysOfWeek>Monday</t:DaysOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2026-12-07</t:StartDate></t:NoEndRecurrence></t:Recurrence>`, "ErrorCalendarInvalidRecurrence"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:Recurrence><t:WeeklyRecurrence><t:Interval>1</t:Interval><t:DaysOfWeek>Funday</t:DaysOfWeek></t:WeeklyRecurrence><t:NoEndRecurrence><t:StartDate>2026-12-07</t:StartDate></t:NoEndRecurrence></t:Recurrence>`, "ErrorCalendarInvalidRecurrence"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence><t:NumberedRecurrence><t:StartDate>2026-12-07</t:StartDate><t:NumberOfOccurrences>100000</t:NumberOfOccurrences></t:NumberedRecurrence></t:Recurrence>`, "ErrorCalendarInvalidRecurrence"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:Recurrence><t:DailyRecurrence><t:Interval>1</t:Interval></t:DailyRecurrence></t:Recurrence>`, "ErrorCalendarInvalidRecurrence"],
      [`<t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>not an address</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>`, "ErrorInvalidRecipients"],
    ];
    for (const [inner, code] of cases) {
      const r = await call(createCalendarItem(inner));
      expect(r.status).toBe(200);
      expect([inner.slice(0, 60), responseCodes(r.body)[0]]).toEqual([inner.slice(0, 60), code]);
    }
  });

  test("every property with a nonsense value: a ResponseCode, never ErrorInternalServerError or a fault", async () => {
    const names = ["Subject", "Body", "Sensitivity", "Importance", "Categories", "ReminderIsSet", "ReminderMinutesBeforeStart", "Start", "End", "IsAllDayEvent", "StartTimeZone", "EndTimeZone", "MeetingTimeZone", "LegacyFreeBusyStatus", "Location", "RequiredAttendees", "OptionalAttendees", "Resources", "Recurrence", "UID", "IsResponseRequested", "AllowNewTimeProposal", "MimeContent"];
    // (A control character is not XML at all: the envelope's fault answers that, tests/ews/envelope.test.ts.)
    const junk = ["", " \t\n ", "x".repeat(40_000), "-1", "9999999999999", "<t:Bogus/>", "<t:Attendee><t:Mailbox/></t:Attendee>"];
    for (const name of names) {
      for (const j of junk) {
        const value = j.startsWith("<") ? j : j.replace(/&/g, "&amp;").replace(/</g, "&lt;");
        const inner = name === "Start" || name === "End" ? `<t:${name}>${value}</t:${name}>` : `<t:${name}>${value}</t:${name}><t:Start>2026-12-20T10:00:00Z</t:Start><t:End>2026-12-20T11:00:00Z</t:End>`;
        const r = await call(createCalendarItem(inner));
        expect([name, j.slice(0, 20), r.status]).toEqual([name, j.slice(0, 20), 200]);
        const code = responseCodes(r.body)[0];
        expect([name, j.slice(0, 20), code === "ErrorInternalServerError"]).toEqual([name, j.slice(0, 20), false]);
      }
    }
  }, 60_000);

  test("CalendarView with EndDate before StartDate, and a CalendarView on the Inbox", async () => {
    let r = await call(calendarView("2027-01-01T00:00:00Z", "2026-01-01T00:00:00Z"));
    expect(r.status).toBe(200);
    expect(responseCodes(r.body)[0]).toMatch(/^Error/);
    r = await call(calendarView("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z", undefined, `<t:DistinguishedFolderId Id="inbox"/>`));
    expect(r.status).toBe(200);
    expect(responseCodes(r.body)[0]).toMatch(/^Error/);
  });

  test("a calendar item in a mail folder, a read-only property set, an unknown occurrence", async () => {
    let r = await env.call(ALICE, PASS, `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId><t:DistinguishedFolderId Id="inbox"/></m:SavedItemFolderId><m:Items><t:CalendarItem><t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>`);
    expect(responseCodes(r.body)).toEqual(["ErrorCannotCreateCalendarItemInNonCalendarFolder"]);
    r = await call(createCalendarItem(`<t:Subject>ro</t:Subject><t:Start>2026-12-07T10:00:00Z</t:Start><t:End>2026-12-07T11:00:00Z</t:End>`));
    const id = itemIds(r.body)[0]!.id;
    r = await call(updateItem(id, "calendar:IsMeeting", "<t:IsMeeting>true</t:IsMeeting>"));
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidPropertySet"]);
    const fake = Buffer.from(Buffer.from(id, "base64").toString("utf8") + ":12345").toString("base64");
    r = await call(getItem(fake));
    expect(responseCodes(r.body)[0]).toBe("ErrorItemNotFound");
  });
});

test("an HTML body is kept as HTML and given to CalDAV as readable text (paragraphs and <br> as line breaks, scripts dropped)", async () => {
  const html = "&lt;p&gt;Agenda&lt;/p&gt;&lt;script&gt;x()&lt;/script&gt;&lt;p&gt;Budget &amp;amp; plans&lt;br&gt;Q&amp;amp;A&lt;/p&gt;";
  const r = await call(createCalendarItem(`<t:Subject>Html body</t:Subject><t:Body BodyType="HTML">${html}</t:Body><t:Start>2027-03-01T09:00:00Z</t:Start><t:End>2027-03-01T10:00:00Z</t:End>`));
  expect(responseCodes(r.body)).toEqual(["NoError"]);
  const id = itemIds(r.body)[0]!.id;
  const ics = unfold((await dav(env, ALICE, PASS, "GET", await davPathOf(env, ALICE, storeId(id)))).text);
  expect(ics).toContain("DESCRIPTION:Agenda\\nBudget & plans\\nQ&A");
  const got = find((await call(getItem(id))).body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
  expect(find(got, "Body")?.attrs.BodyType).toBe("HTML");
  expect(text(got, "Body")).toContain("<p>Agenda</p>");
});
