/**
 * Meetings over EWS between local users: an invitation sent with
 * SendMeetingInvitations reaches the attendee as t:MeetingRequest (with the
 * calendar item the iMIP processor filed), AcceptItem / DeclineItem /
 * TentativelyAcceptItem answer it (the organizer's calendar shows the
 * PARTSTAT), CancelCalendarItem sends t:MeetingCancellation and RemoveItem
 * takes the cancelled meeting out of the attendee's calendar.
 */
import { describe, expect, test } from "bun:test";
import { ewsFixture, find, findAll, responseCodes, type XmlElement } from "./helpers.ts";
import { createCalendarItem, dav, davPathOf, getItem, itemIds, storeId, text, unfold, until } from "./calendar-helpers.ts";

const ORG = "olga@meet.test";
const BOB = "bob@meet.test";
const CAROL = "carol@meet.test";
const PASS = "meeting-pass-1";
const { env } = ewsFixture({ users: [{ email: ORG, pass: PASS, displayName: "Olga Organizer" }, { email: BOB, pass: PASS, displayName: "Bob" }, { email: CAROL, pass: PASS, displayName: "Carol" }] });

const inboxShape = `<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape></m:ItemShape>`;
async function inbox(user: string): Promise<XmlElement[]> {
  const r = await env.call(user, PASS, `<m:FindItem Traversal="Shallow">${inboxShape}<m:ParentFolderIds><t:DistinguishedFolderId Id="inbox"/></m:ParentFolderIds></m:FindItem>`);
  return find(r.body, "ResponseMessages", "FindItemResponseMessage", "RootFolder", "Items")?.children ?? [];
}
async function waitFor(user: string, element: string, subject: string): Promise<XmlElement> {
  return until(`${element} "${subject}" for ${user}`, async () => (await inbox(user)).find((e) => e.name === element && text(e, "Subject")?.includes(subject)));
}
async function organizerIcs(id: string): Promise<string> {
  return unfold((await dav(env, ORG, PASS, "GET", await davPathOf(env, ORG, storeId(id)))).text);
}
const respond = (element: string, refId: string, disposition = "SendAndSaveCopy", body = "") =>
  `<m:CreateItem MessageDisposition="${disposition}"><m:Items><t:${element}>${body}<t:ReferenceItemId Id="${refId}"/></t:${element}></m:Items></m:CreateItem>`;

describe("meetings between local users", () => {
  let meetingId = "";

  test("the invitation reaches the attendees as MeetingRequest with the calendar item the iMIP processor filed", async () => {
    const r = await env.call(
      ORG,
      PASS,
      createCalendarItem(
        `<t:Subject>Planning</t:Subject><t:Body BodyType="Text">Agenda</t:Body><t:Start>2026-12-15T10:00:00Z</t:Start><t:End>2026-12-15T11:00:00Z</t:End><t:Location>Room 7</t:Location>` +
          `<t:RequiredAttendees><t:Attendee><t:Mailbox><t:Name>Bob</t:Name><t:EmailAddress>${BOB}</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>` +
          `<t:OptionalAttendees><t:Attendee><t:Mailbox><t:EmailAddress>${CAROL}</t:EmailAddress></t:Mailbox></t:Attendee></t:OptionalAttendees>`,
        "SendToAllAndSaveCopy",
      ),
    );
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    meetingId = itemIds(r.body)[0]!.id;
    const ics = await organizerIcs(meetingId);
    expect(ics).toContain(`ORGANIZER;CN=Olga Organizer:mailto:${ORG}`);
    expect(ics).toMatch(new RegExp(`ATTENDEE;[^\\r\\n]*ROLE=OPT-PARTICIPANT[^\\r\\n]*:mailto:${CAROL}`));

    const g = await env.call(ORG, PASS, getItem(meetingId));
    const mine = find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(mine, "IsMeeting")).toBe("true");
    expect(text(mine, "MyResponseType")).toBe("Organizer");
    expect(text(mine, "RequiredAttendees", "Attendee", "Mailbox", "EmailAddress")).toBe(BOB);
    expect(text(mine, "OptionalAttendees", "Attendee", "Mailbox", "EmailAddress")).toBe(CAROL);

    const req = await waitFor(BOB, "MeetingRequest", "Planning");
    expect(text(req, "ItemClass")).toBe("IPM.Schedule.Meeting.Request");
    const id = find(req, "ItemId")!.attrs.Id!;
    const got = await env.call(BOB, PASS, getItem(id));
    const mr = find(got.body, "ResponseMessages", "GetItemResponseMessage", "Items", "MeetingRequest");
    expect(mr).toBeDefined();
    expect(text(mr, "Start")).toBe("2026-12-15T10:00:00Z");
    expect(text(mr, "Location")).toBe("Room 7");
    expect(text(mr, "Organizer", "Mailbox", "EmailAddress")).toBe(ORG);
    expect(text(mr, "MeetingRequestType")).toBe("NewMeetingRequest");
    const assoc = find(mr, "AssociatedCalendarItemId");
    expect(assoc?.attrs.Id).toBeTruthy();
    const cal = await env.call(BOB, PASS, getItem(assoc!.attrs.Id!));
    const bobsCopy = find(cal.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem");
    expect(text(bobsCopy, "Subject")).toBe("Planning");
    expect(text(bobsCopy, "MyResponseType")).toBe("NoResponseReceived");
  });

  test("AcceptItem on the request: the organizer's calendar shows PARTSTAT=ACCEPTED", async () => {
    const req = await waitFor(BOB, "MeetingRequest", "Planning");
    const r = await env.call(BOB, PASS, respond("AcceptItem", find(req, "ItemId")!.attrs.Id!, "SendAndSaveCopy", `<t:Body BodyType="Text">See you</t:Body>`));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const calItem = itemIds(r.body)[0];
    expect(calItem).toBeDefined();
    const g = await env.call(BOB, PASS, getItem(calItem!.id));
    expect(text(find(g.body, "ResponseMessages", "GetItemResponseMessage", "Items", "CalendarItem"), "MyResponseType")).toBe("Accept");
    await until("organizer sees ACCEPTED", async () => new RegExp(`PARTSTAT=ACCEPTED[^\\r\\n]*:mailto:${BOB}`).test(await organizerIcs(meetingId)));
    // The organizer gets the reply as a MeetingResponse.
    const resp = await waitFor(ORG, "MeetingResponse", "Planning");
    expect(text(resp, "ItemClass")).toBe("IPM.Schedule.Meeting.Resp.Pos");
    const attendee = await env.call(ORG, PASS, getItem(meetingId));
    const bob = findAll(attendee.body, "Attendee").find((a) => text(a, "Mailbox", "EmailAddress") === BOB);
    expect(text(bob, "ResponseType")).toBe("Accept");
  });

  test("DeclineItem on the calendar item: PARTSTAT=DECLINED at the organizer", async () => {
    const req = await waitFor(CAROL, "MeetingRequest", "Planning");
    const got = await env.call(CAROL, PASS, getItem(find(req, "ItemId")!.attrs.Id!));
    const assoc = find(got.body, "ResponseMessages", "GetItemResponseMessage", "Items", "MeetingRequest", "AssociatedCalendarItemId")!.attrs.Id!;
    const r = await env.call(CAROL, PASS, respond("DeclineItem", assoc));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    await until("organizer sees DECLINED", async () => new RegExp(`PARTSTAT=DECLINED[^\\r\\n]*:mailto:${CAROL}`).test(await organizerIcs(meetingId)));
  });

  test("the organizer cannot accept their own meeting; AcceptItem without ReferenceItemId or on a plain mail", async () => {
    let r = await env.call(ORG, PASS, respond("AcceptItem", meetingId));
    expect(responseCodes(r.body)).toEqual(["ErrorCalendarIsOrganizerForAccept"]);
    r = await env.call(ORG, PASS, `<m:CreateItem MessageDisposition="SendAndSaveCopy"><m:Items><t:AcceptItem/></m:Items></m:CreateItem>`);
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidRequest"]);
    r = await env.call(ORG, PASS, respond("TentativelyAcceptItem", "not-an-id"));
    expect(responseCodes(r.body)).toEqual(["ErrorInvalidIdMalformed"]);
  });


  test("UpdateItem with SendToAllAndSaveCopy sends an updated request; DeleteItem with cancellations sends a cancellation", async () => {
    const r = await env.call(
      ORG,
      PASS,
      createCalendarItem(`<t:Subject>Retro</t:Subject><t:Start>2026-12-17T10:00:00Z</t:Start><t:End>2026-12-17T11:00:00Z</t:End><t:RequiredAttendees><t:Attendee><t:Mailbox><t:EmailAddress>${BOB}</t:EmailAddress></t:Mailbox></t:Attendee></t:RequiredAttendees>`, "SendToAllAndSaveCopy"),
    );
    const id = itemIds(r.body)[0]!.id;
    await waitFor(BOB, "MeetingRequest", "Retro");
    const u = await env.call(
      ORG,
      PASS,
      `<m:UpdateItem ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToAllAndSaveCopy"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="calendar:Start"/><t:CalendarItem><t:Start>2026-12-17T14:00:00Z</t:Start></t:CalendarItem></t:SetItemField><t:SetItemField><t:FieldURI FieldURI="calendar:End"/><t:CalendarItem><t:End>2026-12-17T15:00:00Z</t:End></t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`,
    );
    expect(responseCodes(u.body)).toEqual(["NoError"]);
    const updated = await until("the updated request", async () => (await inbox(BOB)).find((e) => e.name === "MeetingRequest" && text(e, "Subject")?.includes("Retro") && text(e, "MeetingRequestType") === "FullUpdate"));
    expect(text(updated, "Start")).toBe("2026-12-17T14:00:00Z");
    const d = await env.call(ORG, PASS, `<m:DeleteItem DeleteType="MoveToDeletedItems" SendMeetingCancellations="SendToAllAndSaveCopy"><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:DeleteItem>`);
    expect(responseCodes(d.body)).toEqual(["NoError"]);
    await waitFor(BOB, "MeetingCancellation", "Retro");
  });

  test("CancelCalendarItem: the attendee gets a MeetingCancellation, RemoveItem takes the event out of the calendar", async () => {
    let r = await env.call(BOB, PASS, respond("CancelCalendarItem", itemIds((await env.call(BOB, PASS, `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape></m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds></m:FindItem>`)).body)[0]!.id));
    expect(responseCodes(r.body)).toEqual(["ErrorCalendarIsNotOrganizer"]);
    r = await env.call(ORG, PASS, respond("CancelCalendarItem", meetingId));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const cancel = await waitFor(BOB, "MeetingCancellation", "Planning");
    expect(text(cancel, "ItemClass")).toBe("IPM.Schedule.Meeting.Canceled");
    const uid = (await env.srv.store.listItems((await env.srv.store.listFolders((await env.srv.store.getAccount(BOB))!.id, { itemClass: "calendar" })).find((f) => f.name === "Calendar")!.id))[0];
    expect(uid).toBeDefined();
    r = await env.call(BOB, PASS, respond("RemoveItem", find(cancel, "ItemId")!.attrs.Id!));
    expect(responseCodes(r.body)).toEqual(["NoError"]);
    const bob = (await env.srv.store.getAccount(BOB))!;
    const cal = (await env.srv.store.listFolders(bob.id, { itemClass: "calendar" })).find((f) => f.name === "Calendar")!;
    expect((await env.srv.store.listItems(cal.id)).filter((i) => i.itemClass === "calendar" && i.fields.uid === (uid as { fields: { uid: string } }).fields.uid)).toEqual([]);
  });
});
