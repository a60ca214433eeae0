/**
 * EAS-4-TbSync interop run (harness.mjs), part: Server to client and back:
 * the first syncs, edits made in Thunderbird and on the server, harder
 * edits.
 * Each scene takes the run state `t` (the add-on, the host, folders, what
 * earlier scenes found) and adds what later scenes need.
 */
import { BOOK, CAL, DAV, PHOTO_B64, TASKS, USER, VTIMEZONES, check, dav, env, list, noZones, prop, propLine, put, step, unfold, vcal } from "./common.mjs";

/** server -> client */
export async function scene01(t) {
  const { bookFolder, calFolder, folderNow, syncFolder, taskFolder } = t;
  // ── server -> client ───────────────────────────────────────────────────
  await syncFolder(calFolder, "calendar first sync");
  await syncFolder(taskFolder, "tasks first sync");
  await syncFolder(bookFolder, "contacts first sync");

  const calId = folderNow(calFolder)?.targetID;
  const taskId = folderNow(taskFolder)?.targetID;
  const bookId = folderNow(bookFolder)?.targetID;
  const events = calId ? env.calendars.items(calId) : [];
  const tasks = taskId ? env.calendars.items(taskId) : [];
  const cards = bookId ? env.books.contacts(bookId) : [];
  console.log(`# local after first sync: ${events.length} events, ${tasks.length} tasks, ${cards.length} contacts`);
  const ev = (summary) => events.find((e) => prop(e.item, "SUMMARY") === summary);
  const weekly = ev("Interop weekly");
  check("calendar: 3 events decoded", events.length === 3, events.map((e) => prop(e.item, "SUMMARY")).join(", "));
  check("calendar: weekly series keeps RRULE FREQ=WEEKLY with 6 occurrences", weekly && /FREQ=WEEKLY/.test(prop(weekly.item, "RRULE") ?? "") && /COUNT=6|UNTIL=2027020/.test(prop(weekly.item, "RRULE") ?? ""), weekly?.item);
  check("calendar: weekly series starts 10:00 Europe/Berlin", weekly && /TZID=Europe\/Berlin:20270105T100000/.test(propLine(weekly.item, "DTSTART") ?? ""), propLine(weekly?.item, "DTSTART"));
  check("calendar: moved instance arrives as an exception (RECURRENCE-ID 2027-01-12, 14:00)", weekly && /RECURRENCE-ID[^\r\n]*20270112T(100000|090000Z)/.test(unfold(weekly.item)) && /DTSTART[^\r\n]*20270112T(140000|130000Z)/.test(unfold(weekly.item)) && /SUMMARY:Interop weekly \(moved\)/.test(weekly.item), weekly?.item);
  check("calendar: attendee bob on the series, still NEEDS-ACTION", weekly && /ATTENDEE[^\r\n]*PARTSTAT=NEEDS-ACTION[^\r\n]*bob@interop\.test/i.test(noZones(weekly.item)), (noZones(weekly?.item).match(/^ATTENDEE.*$/gm) ?? []).join(" | "));
  check("calendar: organizer alice", weekly && /ORGANIZER[^\r\n]*alice@interop\.test/i.test(noZones(weekly.item)), propLine(weekly?.item, "ORGANIZER"));
  check("calendar: location and categories", weekly && prop(weekly.item, "LOCATION") === "Room 1" && /Interop/.test(prop(weekly.item, "CATEGORIES") ?? ""));
  const allday = ev("Interop all-day");
  check("calendar: all-day event is a DATE on 2027-01-20", allday && /VALUE=DATE[^\r\n]*:20270120$/m.test(unfold(allday.item)), propLine(allday?.item, "DTSTART"));
  const single = ev("Interop single");
  check("calendar: single event 13:00Z with a 15-minute reminder", single && /TRIGGER[^\r\n]*:-PT15M/.test(unfold(single.item)) && /20270107T(130000Z|140000)/.test(propLine(single.item, "DTSTART") ?? ""), single?.item);
  check("calendar: body text", single && /Line one/.test(unfold(single.item)), prop(single?.item, "DESCRIPTION"));
  check("calendar: sensitivity private", single && /PRIVATE/.test(prop(single.item, "CLASS") ?? ""), prop(single?.item, "CLASS"));

  const task = tasks.find((t) => prop(t.item, "SUMMARY") === "Interop task");
  check("tasks: 2 tasks decoded", tasks.length === 2, tasks.map((t) => prop(t.item, "SUMMARY")).join(", "));
  check("tasks: due 2027-01-15 and start 2027-01-10", task && /20270115/.test(prop(task.item, "DUE") ?? "") && /20270110/.test(prop(task.item, "DTSTART") ?? ""), task?.item);
  check("tasks: high priority", task && ["1", "2", "3", "4"].includes(prop(task.item, "PRIORITY") ?? ""), prop(task?.item, "PRIORITY"));

  const carol = cards.find((c) => /Carol/.test(prop(c.vCard, "FN") ?? ""));
  check("contacts: 1 contact decoded", cards.length === 1, cards.map((c) => prop(c.vCard, "FN")).join(", "));
  check("contacts: both emails", carol && /carol@example\.org/i.test(carol.vCard) && /carol\.home@example\.org/i.test(carol.vCard), carol?.vCard);
  check("contacts: both phones", carol && /555 ?0100/.test(carol.vCard) && /555 ?0101/.test(carol.vCard), carol?.vCard);
  check("contacts: name, organization, title, birthday", carol && /Interop;Carol/.test(prop(carol.vCard, "N") ?? "") && /Interop Corp/.test(prop(carol.vCard, "ORG") ?? "") && prop(carol.vCard, "TITLE") === "Engineer" && /1990-?04-?01/.test(prop(carol.vCard, "BDAY") ?? ""), carol?.vCard);
  check("contacts: address", carol && /1 Main St/.test(carol.vCard) && /Springfield/.test(carol.vCard), carol?.vCard);

  Object.assign(t, { allday, bookId, calId, cards, carol, ev, events, single, task, taskId, tasks, weekly });
}

/** client -> server */
export async function scene02(t) {
  const { allday, bookFolder, bookId, calFolder, calId, carol, made, single, syncFolder, task, taskFolder, taskId, w } = t;
  // ── client -> server ───────────────────────────────────────────────────
  let madeEvent, madeTask;
  if (calId) {
    madeEvent = await step("calendar: user creates an event", () =>
      env.calendars.userCreate(calId, {
        type: "event",
        item: vcal(
          VTIMEZONES["Europe/Berlin"],
          "BEGIN:VEVENT",
          "DTSTAMP:20261207T100000Z",
          "CREATED:20261207T100000Z",
          "LAST-MODIFIED:20261207T100000Z",
          "DTSTART;TZID=Europe/Berlin:20270210T090000",
          "DTEND;TZID=Europe/Berlin:20270210T100000",
          "SUMMARY:Made in Thunderbird",
          "LOCATION:Room 2",
          "DESCRIPTION:Created by EAS-4-TbSync",
          "CATEGORIES:Interop",
          "BEGIN:VALARM",
          "ACTION:DISPLAY",
          "DESCRIPTION:Reminder",
          "TRIGGER;VALUE=DURATION:-PT30M",
          "END:VALARM",
          "END:VEVENT",
        ),
      }),
    );
    const singleNow = single && env.calendars.items(calId).find((e) => e.id === single.id);
    if (singleNow) await step("calendar: user edits the single event's title", () => env.calendars.userUpdate(calId, single.id, singleNow.item.replace(/^SUMMARY:.*$/m, "SUMMARY:Interop single (edited in Thunderbird)")));
    if (allday) await step("calendar: user deletes the all-day event", () => env.calendars.userRemove(calId, allday.id));
  }
  if (taskId) {
    madeTask = await step("tasks: user creates a task", () =>
      env.calendars.userCreate(taskId, {
        type: "task",
        item: vcal("BEGIN:VTODO", "DTSTAMP:20261207T100000Z", "CREATED:20261207T100000Z", "LAST-MODIFIED:20261207T100000Z", "SUMMARY:Task from Thunderbird", "DUE;VALUE=DATE:20270301", "PRIORITY:9", "DESCRIPTION:Low priority", "END:VTODO"),
      }),
    );
    if (task)
      await step("tasks: user completes the seeded task", () =>
        env.calendars.userUpdate(
          taskId,
          task.id,
          unfold(task.item)
            .replace(/^STATUS:.*\r?\n/m, "")
            .replace(/^PERCENT-COMPLETE:.*\r?\n/m, "")
            .replace(/^END:VTODO/m, "STATUS:COMPLETED\r\nCOMPLETED:20261207T120000Z\r\nPERCENT-COMPLETE:100\r\nEND:VTODO"),
        ),
      );
  }
  if (bookId) {
    await step("contacts: user creates a contact", async () =>
      messenger.contacts.create(bookId, {
        vCard: ["BEGIN:VCARD", "VERSION:4.0", `UID:${crypto.randomUUID()}`, "FN:Dave Thunderbird", "N:Thunderbird;Dave;;;", "EMAIL;PREF=1:dave@example.org", "TEL;TYPE=cell;VALUE=TEXT:+1 555 0199", "ORG:Mozilla Fans", "END:VCARD", ""].join("\r\n"),
      }),
    );
    if (carol) await step("contacts: user edits Carol's title", async () => messenger.contacts.update(carol.id, { vCard: carol.vCard.replace(/^TITLE:.*$/m, "TITLE:Principal Engineer") }));
    await env.books.settle();
  }

  await syncFolder(calFolder, "calendar push");
  await syncFolder(taskFolder, "tasks push");
  await syncFolder(bookFolder, "contacts push");

  const calObjs = await step("CalDAV: list Calendar", () => list(CAL));
  const taskObjs = await step("CalDAV: list Tasks", () => list(TASKS));
  const cardObjs = await step("CardDAV: list Contacts", () => list(BOOK));
  const onServer = (objs, summary) => objs?.find((o) => prop(o.body, "SUMMARY") === summary);
  if (calObjs) {
    const made = onServer(calObjs, "Made in Thunderbird");
    check("CalDAV: event made in Thunderbird is on the server", made, calObjs.map((o) => prop(o.body, "SUMMARY")).join(", "));
    check("CalDAV: its start is 09:00 Europe/Berlin (08:00Z)", made && (/TZID=[^:]*Berlin[^:]*:20270210T090000/.test(propLine(made.body, "DTSTART") ?? "") || /20270210T080000Z/.test(propLine(made.body, "DTSTART") ?? "")), propLine(made?.body, "DTSTART"));
    check("CalDAV: its location, description and 30-minute reminder", made && prop(made.body, "LOCATION") === "Room 2" && /Created by EAS-4-TbSync/.test(unfold(made.body)) && /TRIGGER[^\r\n]*-PT30M/.test(unfold(made.body)), made?.body);
    const edited = onServer(calObjs, "Interop single (edited in Thunderbird)");
    check("CalDAV: title edited in Thunderbird", edited, calObjs.map((o) => prop(o.body, "SUMMARY")).join(", "));
    check("CalDAV: unknown property X-PILLARBOX-INTEROP survives the edit", edited && /X-PILLARBOX-INTEROP:keep-me/.test(edited.body), edited?.body);
    check("CalDAV: reminder survives the edit", edited && /TRIGGER[^\r\n]*-PT15M/.test(unfold(edited.body)), edited?.body);
    check("CalDAV: event deleted in Thunderbird is gone", !calObjs.some((o) => /interop-allday-1/.test(o.body)));
    const w = calObjs.find((o) => /UID:interop-weekly-1/.test(o.body));
    check("CalDAV: weekly series untouched (still 2 components, RRULE)", edited && w && (w.body.match(/BEGIN:VEVENT/g) ?? []).length === 2 && /RRULE:FREQ=WEEKLY/.test(w.body), w?.body);
  }
  if (taskObjs) {
    const made = onServer(taskObjs, "Task from Thunderbird");
    check("CalDAV: task made in Thunderbird is on the server", made, taskObjs.map((o) => prop(o.body, "SUMMARY")).join(", "));
    check("CalDAV: its due date 2027-03-01", made && /20270301/.test(prop(made.body, "DUE") ?? ""), made?.body);
    const done = taskObjs.find((o) => /UID:interop-task-1/.test(o.body));
    check("CalDAV: seeded task completed in Thunderbird", done && (prop(done.body, "STATUS") === "COMPLETED" || prop(done.body, "COMPLETED")), done?.body);
  }
  if (cardObjs) {
    const dave = cardObjs.find((o) => /Dave/.test(prop(o.body, "FN") ?? ""));
    check("CardDAV: contact made in Thunderbird is on the server", dave, cardObjs.map((o) => prop(o.body, "FN")).join(", "));
    check("CardDAV: its email and phone", dave && /dave@example\.org/i.test(dave.body) && /555 ?0199/.test(dave.body), dave?.body);
    const c = cardObjs.find((o) => /UID:interop-contact-1/.test(o.body));
    check("CardDAV: Carol's title edited in Thunderbird", c && prop(c.body, "TITLE") === "Principal Engineer", c?.body);
    const cEdited = c && prop(c.body, "TITLE") === "Principal Engineer";
    check("CardDAV: Carol's note, address and second email survive", cEdited && /Seeded over CardDAV/.test(c.body) && /Springfield/.test(c.body) && /carol\.home@example\.org/i.test(c.body), c?.body);
    check("CardDAV: unknown property X-PILLARBOX-INTEROP survives the edit", cEdited && /X-PILLARBOX-INTEROP:keep-me/.test(c.body), c?.body);
  }

  Object.assign(t, { calObjs, cardObjs, madeEvent, madeTask, onServer, taskObjs });
}

/** server -> client changes */
export async function scene03(t) {
  const { bookFolder, bookId, calFolder, calId, calObjs, madeEvent, madeTask, syncFolder, taskFolder, taskId } = t;
  // ── server -> client changes ───────────────────────────────────────────
  const w = calObjs?.find((o) => /UID:interop-weekly-1/.test(o.body));
  if (w) await step("CalDAV: rename the weekly series", () => put(new URL(w.href, DAV + "/").href, w.body.replace(/^SUMMARY:Interop weekly\r?$/m, "SUMMARY:Interop weekly (renamed over CalDAV)"), "text/calendar"));
  await step("CalDAV: delete a task", () => dav("DELETE", TASKS + "task2.ics"));
  await step("CardDAV: add a contact", () => put(BOOK + "erin.vcf", ["BEGIN:VCARD", "VERSION:3.0", "UID:interop-contact-2", "FN:Erin Server", "N:Server;Erin;;;", "EMAIL:erin@example.org", "END:VCARD", ""].join("\r\n"), "text/vcard"));
  await syncFolder(calFolder, "calendar second sync");
  await syncFolder(taskFolder, "tasks second sync");
  await syncFolder(bookFolder, "contacts second sync");
  if (calId) {
    const again = env.calendars.items(calId).find((e) => /interop-weekly-1/.test(e.item));
    check("calendar: CalDAV rename reaches Thunderbird", again && prop(again.item, "SUMMARY") === "Interop weekly (renamed over CalDAV)", prop(again?.item, "SUMMARY"));
    check("calendar: its exception is still there", again && /RECURRENCE-ID/.test(again.item), again?.item);
    check("calendar: Thunderbird's own event kept once", env.calendars.items(calId).filter((e) => prop(e.item, "SUMMARY") === "Made in Thunderbird").length === 1);
  }
  if (taskId) check("tasks: CalDAV delete reaches Thunderbird", !env.calendars.items(taskId).some((t) => /interop-task-2|to delete over CalDAV/.test(t.item)));
  if (bookId) {
    check("contacts: CardDAV add reaches Thunderbird", env.books.contacts(bookId).some((c) => /Erin Server/.test(c.vCard)));
    check("contacts: Thunderbird's own contact kept once", env.books.contacts(bookId).filter((c) => /Dave Thunderbird/.test(c.vCard)).length === 1);
  }
  void madeEvent;
  void madeTask;

  Object.assign(t, { w });
}

/** harder edits from Thunderbird: one occurrence moved, one deleted; an */
export async function scene04(t) {
  const { bookFolder, bookId, calFolder, calId, syncFolder, taskFolder, taskId } = t;
  // ── harder edits from Thunderbird: one occurrence moved, one deleted; an
  //    all-day yearly event; a New York event; a recurring task; a birthday
  const NY = VTIMEZONES["America/New_York"];
  if (calId) {
    const cur = env.calendars.items(calId).find((e) => /interop-weekly-1/.test(e.item));
    if (cur) {
      let t = unfold(cur.item);
      // EXDATE on the master (the VEVENT without RECURRENCE-ID), a new override before END:VCALENDAR
      t = t.replace(/(BEGIN:VEVENT\r?\n(?:(?!RECURRENCE-ID)(?!END:VEVENT)[^\n]*\n)*?)(END:VEVENT)/, (m, body, end) => (/RECURRENCE-ID/.test(body) ? m : `${body}EXDATE;TZID=Europe/Berlin:20270126T100000\r\n${end}`));
      t = t.replace(/END:VCALENDAR\s*$/, ["BEGIN:VEVENT", "UID:interop-weekly-1", "DTSTAMP:20261207T110000Z", "RECURRENCE-ID;TZID=Europe/Berlin:20270119T100000", "DTSTART;TZID=Europe/Berlin:20270119T160000", "DTEND;TZID=Europe/Berlin:20270119T170000", "SUMMARY:Interop weekly (moved in Thunderbird)", `ORGANIZER;CN=Alice Interop:mailto:${USER}`, "END:VEVENT", "END:VCALENDAR", ""].join("\r\n"));
      await step("calendar: user moves the 2027-01-19 occurrence and deletes the 2027-01-26 one", () => env.calendars.userUpdate(calId, cur.id, t));
    }
    await step("calendar: user creates a yearly all-day event", () =>
      env.calendars.userCreate(calId, { type: "event", item: vcal("BEGIN:VEVENT", "DTSTAMP:20261207T100000Z", "DTSTART;VALUE=DATE:20270301", "DTEND;VALUE=DATE:20270302", "RRULE:FREQ=YEARLY", "SUMMARY:Yearly all-day from Thunderbird", "TRANSP:TRANSPARENT", "END:VEVENT") }),
    );
    await step("calendar: user creates an event in New York time", () =>
      env.calendars.userCreate(calId, { type: "event", item: vcal(NY, "BEGIN:VEVENT", "DTSTAMP:20261207T100000Z", "DTSTART;TZID=America/New_York:20270215T090000", "DTEND;TZID=America/New_York:20270215T093000", "SUMMARY:New York call from Thunderbird", "END:VEVENT") }),
    );
  }
  if (taskId)
    await step("tasks: user creates a weekly task", () =>
      env.calendars.userCreate(taskId, { type: "task", item: vcal("BEGIN:VTODO", "DTSTAMP:20261207T100000Z", "DTSTART;VALUE=DATE:20270104", "DUE;VALUE=DATE:20270105", "RRULE:FREQ=WEEKLY;COUNT=4", "SUMMARY:Weekly task from Thunderbird", "END:VTODO") }),
    );
  if (bookId) {
    await step("contacts: user creates a contact with a birthday and two phones", async () =>
      messenger.contacts.create(bookId, {
        vCard: ["BEGIN:VCARD", "VERSION:4.0", `UID:${crypto.randomUUID()}`, "FN:Fay Birthday", "N:Birthday;Fay;;;", "EMAIL;TYPE=home:fay@example.org", "TEL;TYPE=home;VALUE=TEXT:+1 555 0111", "TEL;TYPE=work;VALUE=TEXT:+1 555 0112", "BDAY;VALUE=DATE:19850215", "ADR;TYPE=home:;;2 Side St;Shelbyville;;12345;USA", `PHOTO;VALUE=URI:data:image/png;base64,${PHOTO_B64}`, "END:VCARD", ""].join("\r\n"),
      }),
    );
    await env.books.settle();
  }
  await syncFolder(calFolder, "calendar third sync");
  await syncFolder(taskFolder, "tasks third sync");
  await syncFolder(bookFolder, "contacts third sync");
  const cal3 = await step("CalDAV: list Calendar again", () => list(CAL));
  if (cal3) {
    const w3 = cal3.find((o) => /UID:interop-weekly-1/.test(o.body));
    const b3 = noZones(w3?.body);
    check("CalDAV: occurrence moved in Thunderbird is an override at 16:00 Berlin", /RECURRENCE-ID[^\r\n]*20270119T(100000|090000Z)[\s\S]*?DTSTART[^\r\n]*20270119T(160000|150000Z)/.test(b3) || /DTSTART[^\r\n]*20270119T(160000|150000Z)[\s\S]*?RECURRENCE-ID[^\r\n]*20270119T(100000|090000Z)/.test(b3), b3);
    check("CalDAV: its title", /SUMMARY:Interop weekly \(moved in Thunderbird\)/.test(b3), b3);
    check("CalDAV: occurrence deleted in Thunderbird is excluded", /EXDATE[^\r\n]*20270126T(100000|090000Z)/.test(b3) || /RECURRENCE-ID[^\r\n]*20270126[\s\S]*?STATUS:CANCELLED/.test(b3), b3);
    check("CalDAV: the server-side exception (2027-01-12) survives", /RECURRENCE-ID[^\r\n]*20270112T(100000|090000Z)/.test(b3), b3);
    check("CalDAV: series still weekly x6", /RRULE:FREQ=WEEKLY[^\r\n]*(COUNT=6|UNTIL=2027020)/.test(b3), prop(w3?.body, "RRULE"));
    const y = cal3.find((o) => prop(o.body, "SUMMARY") === "Yearly all-day from Thunderbird");
    check("CalDAV: yearly all-day event is a DATE with RRULE FREQ=YEARLY", y && /VALUE=DATE[^\r\n]*:20270301/.test(propLine(y.body, "DTSTART") ?? "") && /FREQ=YEARLY/.test(prop(y.body, "RRULE") ?? ""), y?.body ?? cal3.map((o) => prop(o.body, "SUMMARY")).join(", "));
    const ny = cal3.find((o) => prop(o.body, "SUMMARY") === "New York call from Thunderbird");
    const nyStart = propLine(ny?.body, "DTSTART") ?? "";
    const nyZone = /TZID=([^:;]+)/.exec(nyStart)?.[1];
    const nyDef = nyZone ? new RegExp(`BEGIN:VTIMEZONE\\r?\\nTZID:${nyZone.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}[\\s\\S]*?END:VTIMEZONE`).exec(unfold(ny?.body))?.[0] ?? "" : "";
    check("CalDAV: New York event starts 09:00 New York time (14:00Z)", ny && (/20270215T140000Z/.test(nyStart) || (/20270215T090000/.test(nyStart) && (/New_York/.test(nyZone ?? "") || /TZOFFSETTO:-0500/.test(nyDef)))), ny?.body);
  }
  const task3 = await step("CalDAV: list Tasks again", () => list(TASKS));
  if (task3) {
    const wt = task3.find((o) => prop(o.body, "SUMMARY") === "Weekly task from Thunderbird");
    check("CalDAV: weekly task keeps its recurrence", wt && /FREQ=WEEKLY/.test(prop(wt.body, "RRULE") ?? ""), wt?.body ?? task3.map((o) => prop(o.body, "SUMMARY")).join(", "));
  }
  const card3 = await step("CardDAV: list Contacts again", () => list(BOOK));
  if (card3) {
    const fay = card3.find((o) => /Fay/.test(prop(o.body, "FN") ?? ""));
    check("CardDAV: birthday 1985-02-15", fay && /1985-?02-?15/.test(prop(fay.body, "BDAY") ?? ""), fay?.body);
    check("CardDAV: both phones and the home address", fay && /555 ?0111/.test(fay.body) && /555 ?0112/.test(fay.body) && /Shelbyville/.test(fay.body), fay?.body);
    check("CardDAV: the photo made in Thunderbird, byte for byte", fay && unfold(fay.body).replace(/\s/g, "").includes(PHOTO_B64), fay?.body);
  }
  Object.assign(t, { NY, cal3, card3, task3 });
}
