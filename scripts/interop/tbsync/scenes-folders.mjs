/**
 * EAS-4-TbSync interop run (harness.mjs), part: User folders, a rich
 * contact, far time zones, windowed first sync and a conflict, a repeated
 * FolderSync 0, edge cases.
 * Each scene takes the run state `t` (the add-on, the host, folders, what
 * earlier scenes found) and adds what later scenes need.
 */
import { BOOK, CAL, DAV, TASKS, USER, VTIMEZONES, check, dav, env, list, prop, propLine, put, step, unfold, vcal } from "./common.mjs";

/** folders the user made over CalDAV/CardDAV show up as folders of their class */
export async function scene08(t) {
  const { accountId, folderNow, host, provider, syncFolder } = t;
  // ── folders the user made over CalDAV/CardDAV show up as folders of their class
  const NSX = `xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav"`;
  const made = await step("DAV: make a calendar, a task list and an address book", async () => {
    const a = await dav("MKCALENDAR", `/calendars/${USER}/team/`, { headers: { "content-type": "application/xml" }, body: `<c:mkcalendar ${NSX}><d:set><d:prop><d:displayname>Team</d:displayname></d:prop></d:set></c:mkcalendar>` });
    const b = await dav("MKCALENDAR", `/calendars/${USER}/chores/`, { headers: { "content-type": "application/xml" }, body: `<c:mkcalendar ${NSX}><d:set><d:prop><d:displayname>Chores</d:displayname><c:supported-calendar-component-set><c:comp name="VTODO"/></c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>` });
    const c = await dav("MKCOL", `/addressbooks/${USER}/friends/`, { headers: { "content-type": "application/xml" }, body: `<d:mkcol ${NSX}><d:set><d:prop><d:resourcetype><d:collection/><cr:addressbook/></d:resourcetype><d:displayname>Friends</d:displayname></d:prop></d:set></d:mkcol>` });
    if (a.status !== 201 || b.status !== 201 || c.status !== 201) throw new Error(`MKCALENDAR/MKCOL: ${a.status} ${b.status} ${c.status}`);
    await put(`/calendars/${USER}/team/offsite.ics`, vcal("BEGIN:VEVENT", "UID:interop-team-1", "DTSTAMP:20261201T000000Z", "DTSTART:20270315T090000Z", "DTEND:20270315T170000Z", "SUMMARY:Team offsite", "END:VEVENT"), "text/calendar");
    await put(`/calendars/${USER}/chores/dishes.ics`, vcal("BEGIN:VTODO", "UID:interop-chore-1", "DTSTAMP:20261201T000000Z", "SUMMARY:Do the dishes", "END:VTODO"), "text/calendar");
    await put(`/addressbooks/${USER}/friends/gus.vcf`, ["BEGIN:VCARD", "VERSION:3.0", "UID:interop-friend-1", "FN:Gus Friend", "N:Friend;Gus;;;", "EMAIL:gus@example.org", "END:VCARD", ""].join("\r\n"), "text/vcard");
    return true;
  });
  if (made) {
    await step("account sync (incremental FolderSync)", () => provider.onSyncAccount({ accountId }));
    const offeredNow = host.folders(accountId).filter((f) => f.targetType && !f.hidden);
    const team = offeredNow.find((f) => f.displayName === "Team");
    const chores = offeredNow.find((f) => f.displayName === "Chores");
    const friends = offeredNow.find((f) => f.displayName === "Friends");
    check("folder selection offers the user calendar Team (type 13)", team && team.targetType === "calendars" && team.custom.type === "13", JSON.stringify(offeredNow.map((f) => [f.displayName, f.custom.type])));
    check("folder selection offers the user task list Chores (type 15)", chores && chores.targetType === "tasks" && chores.custom.type === "15");
    check("folder selection offers the user address book Friends (type 14)", friends && friends.targetType === "contacts" && friends.custom.type === "14");
    for (const [f, re, what] of [
      [team, /Team offsite/, "event"],
      [chores, /Do the dishes/, "task"],
      [friends, /Gus Friend/, "contact"],
    ]) {
      if (!f) continue;
      host.select(accountId, f.folderId);
      const ok = await syncFolder(f, `sync of ${f.displayName}`);
      const tid = folderNow(f)?.targetID;
      const items = !tid ? [] : f.targetType === "contacts" ? env.books.contacts(tid).map((c) => c.vCard) : env.calendars.items(tid).map((e) => e.item);
      check(`${f.displayName}: its ${what} arrives`, ok && items.length === 1 && re.test(items[0]), items.join("\n---\n"));
    }
  }

  Object.assign(t, { NSX, made });
}

/** a contact with most fields both ways (the ones the add-on maps) */
export async function scene09(t) {
  const { bookFolder, bookId, syncFolder } = t;
  // ── a contact with most fields both ways (the ones the add-on maps)
  if (bookId) {
    await step("contacts: user creates a contact with most fields", async () =>
      messenger.contacts.create(bookId, {
        vCard: [
          "BEGIN:VCARD",
          "VERSION:4.0",
          `UID:${crypto.randomUUID()}`,
          "FN:Hank Q. Rich Jr.",
          "N:Rich;Hank;Q.;;Jr.",
          "NICKNAME:Hanky",
          "EMAIL;TYPE=work:hank@work.example",
          "EMAIL;TYPE=home:hank@home.example",
          "EMAIL:hank@other.example",
          "TEL;TYPE=work;VALUE=TEXT:+1 555 0201",
          "TEL;TYPE=home;VALUE=TEXT:+1 555 0202",
          "TEL;TYPE=cell;VALUE=TEXT:+1 555 0203",
          "TEL;TYPE=fax;VALUE=TEXT:+1 555 0204",
          "TEL;TYPE=pager;VALUE=TEXT:+1 555 0205",
          "ADR;TYPE=work:;Suite 5;10 Work Rd;Worktown;WS;11111;Workland",
          "ADR;TYPE=home:;;20 Home Ln;Hometown;HS;22222;Homeland",
          "ORG:Rich Industries;Research",
          "TITLE:Director",
          "URL:https://rich.example/",
          "BDAY;VALUE=DATE:19700102",
          "ANNIVERSARY;VALUE=DATE:20000304",
          "NOTE:Notes about Hank",
          "CATEGORIES:VIP,Customers",
          "END:VCARD",
          "",
        ].join("\r\n"),
      }),
    );
    await env.books.settle();
    await syncFolder(bookFolder, "contacts sync with the rich contact");
    const srv = await step("CardDAV: list Contacts for the rich contact", () => list(BOOK));
    const hank = unfold(srv?.find((o) => /Hank/.test(prop(o.body, "FN") ?? ""))?.body);
    const want = [
      ["name parts", /^N[;:][^\r\n]*Rich;Hank;Q\.;[^;\r\n]*;Jr\./m],
      ["nickname", /^NICKNAME[;:][^\r\n]*Hanky/m],
      ["work email", /hank@work\.example/],
      ["home email", /hank@home\.example/],
      ["third email", /hank@other\.example/],
      ["work phone", /555 ?0201/],
      ["home phone", /555 ?0202/],
      ["mobile", /555 ?0203/],
      ["fax", /555 ?0204/],
      ["pager", /555 ?0205/],
      ["work address", /10 Work Rd[^\r\n]*Worktown/],
      ["home address", /20 Home Ln[^\r\n]*Hometown/],
      ["company and department", /^ORG[;:][^\r\n]*Rich Industries;Research/m],
      ["job title", /^TITLE[;:][^\r\n]*Director/m],
      ["web page", /rich\.example/],
      ["birthday", /^BDAY[;:][^\r\n]*1970-?01-?02/m],
      ["anniversary", /(ANNIVERSARY|X-ANNIVERSARY)[;:][^\r\n]*2000-?03-?04/],
      ["note", /Notes about Hank/],
      ["categories", /^CATEGORIES[;:][^\r\n]*VIP[^\r\n]*Customers|^CATEGORIES[;:][^\r\n]*Customers[^\r\n]*VIP/m],
    ];
    for (const [what, re] of want) check(`CardDAV: Thunderbird contact's ${what}`, hank && re.test(hank), hank);

    await step("CardDAV: a contact with most fields made on the server", () =>
      put(
        BOOK + "ivy.vcf",
        [
          "BEGIN:VCARD",
          "VERSION:3.0",
          "UID:interop-contact-rich",
          "FN:Ivy Rich",
          "N:Rich;Ivy;M.;Dr.;",
          "NICKNAME:Ives",
          "EMAIL;TYPE=INTERNET,WORK:ivy@work.example",
          "EMAIL;TYPE=INTERNET,HOME:ivy@home.example",
          "TEL;TYPE=WORK:+1 555 0301",
          "TEL;TYPE=HOME:+1 555 0302",
          "TEL;TYPE=CELL:+1 555 0303",
          "ADR;TYPE=HOME:;;30 Ivy St;Ivytown;IS;33333;Ivyland",
          "ORG:Ivy Labs;Botany",
          "TITLE:Botanist",
          "URL:https://ivy.example/",
          "BDAY:1980-05-06",
          "NOTE:Notes about Ivy",
          "CATEGORIES:Family",
          "END:VCARD",
          "",
        ].join("\r\n"),
        "text/vcard",
      ),
    );
    await syncFolder(bookFolder, "contacts sync with the server's rich contact");
    const ivy = unfold(env.books.contacts(bookId).find((c) => /Ivy Rich/.test(c.vCard))?.vCard);
    const wantIvy = [
      ["name parts", /Rich;Ivy;M\.;Dr\./],
      ["nickname", /NICKNAME[;:][^\r\n]*Ives/],
      ["emails", /ivy@work\.example[\s\S]*ivy@home\.example|ivy@home\.example[\s\S]*ivy@work\.example/],
      ["phones", /555 ?0301[\s\S]*555 ?0302|555 ?0302[\s\S]*555 ?0301/],
      ["mobile", /555 ?0303/],
      ["home address", /30 Ivy St[^\r\n]*Ivytown/],
      ["company and department", /Ivy Labs[\s\S]*Botany/],
      ["job title", /TITLE[;:][^\r\n]*Botanist/],
      ["web page", /ivy\.example/],
      ["birthday", /BDAY[;:][^\r\n]*1980-?05-?06/],
      ["note", /Notes about Ivy/],
      ["categories", /CATEGORIES[;:][^\r\n]*Family/],
    ];
    for (const [what, re] of wantIvy) check(`contacts: server contact's ${what} in Thunderbird`, ivy && re.test(ivy), ivy);
  }

}

/** time zones both ways: southern-hemisphere DST and a half-hour offset; */
export async function scene10(t) {
  const { calFolder, calId, made, syncFolder, taskFolder, taskId } = t;
  // ── time zones both ways: southern-hemisphere DST and a half-hour offset;
  //    tasks with times, a reminder and completion from the server
  if (calId) {
    await step("CalDAV: events in Sydney and Kolkata time", async () => {
      await put(CAL + "sydney.ics", vcal(VTIMEZONES["Australia/Sydney"], "BEGIN:VEVENT", "UID:interop-sydney-1", "DTSTAMP:20261201T000000Z", "DTSTART;TZID=Australia/Sydney:20270120T090000", "DTEND;TZID=Australia/Sydney:20270120T100000", "SUMMARY:Sydney summer meeting", "END:VEVENT"), "text/calendar");
      await put(CAL + "sydney-winter.ics", vcal(VTIMEZONES["Australia/Sydney"], "BEGIN:VEVENT", "UID:interop-sydney-2", "DTSTAMP:20261201T000000Z", "DTSTART;TZID=Australia/Sydney:20270720T090000", "DTEND;TZID=Australia/Sydney:20270720T100000", "RRULE:FREQ=MONTHLY;COUNT=3", "SUMMARY:Sydney winter meeting", "END:VEVENT"), "text/calendar");
      await put(CAL + "kolkata.ics", vcal(VTIMEZONES["Asia/Kolkata"], "BEGIN:VEVENT", "UID:interop-kolkata-1", "DTSTAMP:20261201T000000Z", "DTSTART;TZID=Asia/Kolkata:20270122T093000", "DTEND;TZID=Asia/Kolkata:20270122T103000", "SUMMARY:Kolkata meeting", "END:VEVENT"), "text/calendar");
    });
    await syncFolder(calFolder, "calendar sync with the far zones");
    const at = (uid) => env.calendars.items(calId).find((e) => e.item.includes(`UID:${uid}`));
    const utcOf = (item) => {
      // the instant of DTSTART, through the item's own VTIMEZONE when it has a TZID
      const line = propLine(item, "DTSTART") ?? "";
      const m = /:(\d{8}T\d{6})(Z?)$/.exec(line);
      if (!m) return null;
      const wall = Date.UTC(+m[1].slice(0, 4), +m[1].slice(4, 6) - 1, +m[1].slice(6, 8), +m[1].slice(9, 11), +m[1].slice(11, 13));
      if (m[2]) return new Date(wall).toISOString();
      const tzid = /TZID=("?)([^;:"]+)\1/.exec(line)?.[2];
      const def = VTIMEZONES[tzid];
      if (!def) return `floating or unknown zone ${tzid}`;
      const month = +m[1].slice(4, 6);
      // enough for these zones: the offset in force mid-month
      const offs = [...def.matchAll(/BEGIN:(STANDARD|DAYLIGHT)[\s\S]*?TZOFFSETTO:([+-]\d{4})[\s\S]*?(?:BYMONTH=(\d+))?[\s\S]*?END:\1/g)].map((x) => ({ kind: x[1], to: x[2] }));
      let off = offs.find((o) => o.kind === "STANDARD")?.to ?? "+0000";
      if (tzid === "Australia/Sydney" && (month >= 10 || month <= 3)) off = "+1100";
      else if (tzid === "Australia/Sydney") off = "+1000";
      const mins = (off[0] === "-" ? -1 : 1) * (+off.slice(1, 3) * 60 + +off.slice(3, 5));
      return new Date(wall - mins * 60000).toISOString();
    };
    check("calendar: Sydney summer event at 22:00Z the day before", utcOf(at("interop-sydney-1")?.item ?? "") === "2027-01-19T22:00:00.000Z", at("interop-sydney-1")?.item);
    check("calendar: Sydney winter series at 23:00Z the day before", utcOf(at("interop-sydney-2")?.item ?? "") === "2027-07-19T23:00:00.000Z", at("interop-sydney-2")?.item);
    check("calendar: Kolkata event at 04:00Z", utcOf(at("interop-kolkata-1")?.item ?? "") === "2027-01-22T04:00:00.000Z", at("interop-kolkata-1")?.item);
    await step("calendar: user creates an event in Sydney time", () =>
      env.calendars.userCreate(calId, { type: "event", item: vcal(VTIMEZONES["Australia/Sydney"], "BEGIN:VEVENT", "DTSTAMP:20261207T100000Z", "DTSTART;TZID=Australia/Sydney:20270805T080000", "DTEND;TZID=Australia/Sydney:20270805T090000", "SUMMARY:Sydney from Thunderbird", "END:VEVENT") }),
    );
    await syncFolder(calFolder, "calendar sync with the Sydney event");
    const syd = (await list(CAL)).find((o) => prop(o.body, "SUMMARY") === "Sydney from Thunderbird");
    const sline = propLine(syd?.body, "DTSTART") ?? "";
    check("CalDAV: Sydney event from Thunderbird starts 2027-08-04 22:00Z", /20270804T220000Z/.test(sline) || (/20270805T080000/.test(sline) && /Sydney|TZOFFSETTO:\+1000/.test(unfold(syd?.body))), syd?.body);
  }
  if (taskId) {
    await step("tasks: user creates a timed task with a reminder", () =>
      env.calendars.userCreate(taskId, {
        type: "task",
        item: vcal(VTIMEZONES["Europe/Berlin"], "BEGIN:VTODO", "DTSTAMP:20261207T100000Z", "DTSTART;TZID=Europe/Berlin:20270201T090000", "DUE;TZID=Europe/Berlin:20270203T170000", "SUMMARY:Timed task from Thunderbird", "BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER;VALUE=DATE-TIME:20270203T080000Z", "END:VALARM", "END:VTODO"),
      }),
    );
    await syncFolder(taskFolder, "tasks sync with the timed task");
    const tt = (await list(TASKS)).find((o) => prop(o.body, "SUMMARY") === "Timed task from Thunderbird");
    check("CalDAV: timed task's due date 2027-02-03", tt && /20270203/.test(prop(tt.body, "DUE") ?? ""), tt?.body);
    check("CalDAV: timed task's reminder at 2027-02-03 08:00Z", tt && /TRIGGER[^\r\n]*(20270203T080000Z|-P[^\r\n]*)/.test(unfold(tt.body)) && /BEGIN:VALARM/.test(tt.body), tt?.body);
    const made = (await list(TASKS)).find((o) => prop(o.body, "SUMMARY") === "Task from Thunderbird");
    if (made) {
      await step("CalDAV: complete the Thunderbird task on the server", () =>
        put(new URL(made.href, DAV + "/").href, unfold(made.body).replace(/^END:VTODO/m, "STATUS:COMPLETED\r\nCOMPLETED:20261207T150000Z\r\nPERCENT-COMPLETE:100\r\nEND:VTODO"), "text/calendar"),
      );
      await syncFolder(taskFolder, "tasks sync with the server's completion");
      const local = env.calendars.items(taskId).find((t) => prop(t.item, "SUMMARY") === "Task from Thunderbird");
      check("tasks: completion made on the server reaches Thunderbird", local && (prop(local.item, "STATUS") === "COMPLETED" || prop(local.item, "COMPLETED")), local?.item);
    }
  }

}

/** 250 events in windows (the add-on asks 25 at a time), and a conflict */
export async function scene11(t) {
  const { NSX, accountId, calFolder, calId, folderNow, host, provider, syncFolder } = t;
  // ── 250 events in windows (the add-on asks 25 at a time), and a conflict
  const BULK = 250;
  const bulkMade = await step(`DAV: a calendar with ${BULK} events`, async () => {
    const r = await dav("MKCALENDAR", `/calendars/${USER}/bulk/`, { headers: { "content-type": "application/xml" }, body: `<c:mkcalendar ${NSX}><d:set><d:prop><d:displayname>Bulk</d:displayname></d:prop></d:set></c:mkcalendar>` });
    if (r.status !== 201) throw new Error(`MKCALENDAR: ${r.status}`);
    for (let i = 0; i < BULK; i += 10) {
      await Promise.all(
        Array.from({ length: Math.min(10, BULK - i) }, (_, k) => {
          const n = i + k;
          const day = String(1 + (n % 28)).padStart(2, "0");
          const hour = String(8 + (n % 10)).padStart(2, "0");
          return put(`/calendars/${USER}/bulk/e${n}.ics`, vcal("BEGIN:VEVENT", `UID:interop-bulk-${n}`, "DTSTAMP:20261201T000000Z", `DTSTART:202704${day}T${hour}0000Z`, `DTEND:202704${day}T${hour}3000Z`, `SUMMARY:Bulk ${n}`, "END:VEVENT"), "text/calendar");
        }),
      );
    }
    return true;
  });
  if (bulkMade) {
    await step("account sync (FolderSync for Bulk)", () => provider.onSyncAccount({ accountId }));
    const bulk = host.folders(accountId).find((f) => f.displayName === "Bulk" && f.targetType === "calendars");
    if (check("folder selection offers Bulk", bulk)) {
      host.select(accountId, bulk.folderId);
      const before = env.requests.filter((r) => r.cmd === "Sync").length;
      await syncFolder(bulk, "sync of Bulk");
      const rounds = env.requests.filter((r) => r.cmd === "Sync").length - before;
      const items = env.calendars.items(folderNow(bulk).targetID);
      const uids = new Set(items.map((e) => prop(e.item, "UID")));
      check(`Bulk: all ${BULK} events arrive once`, items.length === BULK && uids.size === BULK, `${items.length} items, ${uids.size} distinct`);
      check("Bulk: fetched in windows (several Sync rounds)", rounds >= Math.ceil(BULK / 100), `${rounds} Sync requests`);
      console.log(`# Bulk: ${BULK} events in ${rounds} Sync requests`);
    }
  }
  if (calId) {
    const single2 = env.calendars.items(calId).find((e) => /interop-single-1/.test(e.item));
    const onSrv = (await list(CAL)).find((o) => /UID:interop-single-1/.test(o.body));
    if (single2 && onSrv) {
      await step("conflict: title changed over CalDAV", () => put(new URL(onSrv.href, DAV + "/").href, unfold(onSrv.body).replace(/^SUMMARY:.*$/m, "SUMMARY:Server side wins"), "text/calendar"));
      await step("conflict: and in Thunderbird", () => env.calendars.userUpdate(calId, single2.id, unfold(single2.item).replace(/^SUMMARY:.*$/m, "SUMMARY:Client side loses")));
      await syncFolder(calFolder, "calendar sync with a conflict");
      await syncFolder(calFolder, "calendar sync after the conflict");
      const srvNow = (await list(CAL)).filter((o) => /UID:interop-single-1/.test(o.body));
      const localNow = env.calendars.items(calId).filter((e) => /interop-single-1/.test(e.item));
      // the add-on asks <Conflict>1</Conflict>: the server's copy wins
      check("conflict: the server keeps its version (Conflict 1)", srvNow.length === 1 && prop(srvNow[0].body, "SUMMARY") === "Server side wins", srvNow.map((o) => prop(o.body, "SUMMARY")).join(", "));
      check("conflict: Thunderbird ends with the server's version, once", localNow.length === 1 && prop(localNow[0].item, "SUMMARY") === "Server side wins", localNow.map((e) => prop(e.item, "SUMMARY")).join(", "));
    }
  }

  Object.assign(t, { BULK, bulkMade });
}

/** a FolderSync key the server no longer knows: the add-on starts the */
export async function scene12(t) {
  const { accountId, calFolder, calId, folderNow, host, provider, syncFolder } = t;
  // ── a FolderSync key the server no longer knows: the add-on starts the
  //    hierarchy over (Status 9 -> FolderSync 0) and keeps its folders' keys;
  //    MS-ASCMD lets a client repeat the initial FolderSync, so those keys stay valid
  if (calId) {
    await provider.updateAccount({ accountId, patch: { custom: { foldersynckey: "12345" } } });
    const logBefore = host.log.length;
    await step("account sync with an unknown FolderSync key", () => provider.onSyncAccount({ accountId }));
    const fsStatuses = host.log.slice(logBefore).filter((l) => /receive FolderSync/.test(l.message)).map((l) => /<Status>(\d+)<\/Status>/.exec(l.details ?? "")?.[1]);
    check("FolderSync: the unknown key gets Status 9, the repeated SyncKey 0 Status 1", fsStatuses[0] === "9" && fsStatuses.includes("1"), fsStatuses.join(","));
    const keyBefore = folderNow(calFolder)?.custom?.synckey;
    const syncLog = host.log.length;
    const countBefore = env.calendars.items(calId).length;
    await syncFolder(calFolder, "calendar sync after the repeated FolderSync 0");
    const refused = host.log.slice(syncLog).some((l) => /refused our sync key/.test(l.message ?? ""));
    check("calendar: its sync key still valid after the repeated FolderSync 0 (no Status 3, no full resync)", !refused && keyBefore && keyBefore !== "0", `key ${keyBefore}; ${host.log.slice(syncLog).filter((l) => l.level !== "debug").map((l) => l.message).join(" | ")}`);
    check("calendar: nothing duplicated by it", env.calendars.items(calId).length === countBefore, `${countBefore} -> ${env.calendars.items(calId).length}`);
  }

}

/** edge cases from Thunderbird: a zero-length event, Unicode and a long */
export async function scene13(t) {
  const { bookFolder, bookId, calFolder, calId, syncFolder, taskFolder, taskId } = t;
  // ── edge cases from Thunderbird: a zero-length event, Unicode and a long
  //    body, a task without dates, a Unicode contact
  const LONG = Array.from({ length: 400 }, (_, i) => `Line ${i}: Grüße, 会議, emoji 🎉, quotes "x" & <y>`).join("\n");
  if (calId) {
    await step("calendar: user creates a zero-length event and a Unicode one with a long body", async () => {
      await env.calendars.userCreate(calId, { type: "event", item: vcal("BEGIN:VEVENT", "DTSTAMP:20261207T100000Z", "DTSTART:20270401T120000Z", "DTEND:20270401T120000Z", "SUMMARY:Zero length from Thunderbird", "END:VEVENT") });
      await env.calendars.userCreate(calId, {
        type: "event",
        item: vcal("BEGIN:VEVENT", "DTSTAMP:20261207T100000Z", "DTSTART:20270402T120000Z", "DTEND:20270402T130000Z", "SUMMARY:Café ☕ 会議 🎉", `DESCRIPTION:${LONG.replace(/\\/g, "\\\\").replace(/,/g, "\\,").replace(/;/g, "\\;").replace(/\n/g, "\\n")}`, "LOCATION:Zürich, Bahnhofstraße 1", "END:VEVENT"),
      });
    });
    await syncFolder(calFolder, "calendar sync with the edge cases");
    const srv = await list(CAL);
    const zero = srv.find((o) => prop(o.body, "SUMMARY") === "Zero length from Thunderbird");
    check("CalDAV: zero-length event stored, start 2027-04-01 12:00Z", zero && /20270401T120000Z/.test(propLine(zero.body, "DTSTART") ?? ""), zero?.body ?? srv.map((o) => prop(o.body, "SUMMARY")).join(", "));
    const uni = srv.find((o) => prop(o.body, "SUMMARY") === "Café ☕ 会議 🎉");
    const desc = uni ? prop(uni.body, "DESCRIPTION")?.replace(/\\n/gi, "\n").replace(/\\([,;\\])/g, "$1") : null;
    check("CalDAV: Unicode summary and location intact", uni && /Zürich\\?, Bahnhofstraße 1/.test(prop(uni.body, "LOCATION") ?? ""), uni?.body?.slice(0, 400) ?? srv.map((o) => prop(o.body, "SUMMARY")).join(", "));
    check(`CalDAV: the ${LONG.length}-character body intact`, desc === LONG, desc ? `${desc.length} chars; first difference at ${[...desc].findIndex((c, i) => c !== [...LONG][i])}` : "none");
    const before = env.calendars.items(calId).length;
    await syncFolder(calFolder, "calendar sync after the edge cases");
    check("calendar: nothing duplicated after the edge cases", env.calendars.items(calId).length === before, `${before} -> ${env.calendars.items(calId).length}`);
  }
  if (taskId) {
    await step("tasks: user creates a task without dates", () => env.calendars.userCreate(taskId, { type: "task", item: vcal("BEGIN:VTODO", "DTSTAMP:20261207T100000Z", "SUMMARY:Undated task from Thunderbird", "END:VTODO") }));
    await syncFolder(taskFolder, "tasks sync with the undated task");
    const u = (await list(TASKS)).find((o) => prop(o.body, "SUMMARY") === "Undated task from Thunderbird");
    check("CalDAV: the undated task is stored without DUE/DTSTART", u && !prop(u.body, "DUE") && !prop(u.body, "DTSTART"), u?.body);
  }
  if (bookId) {
    await step("contacts: user creates a Unicode contact", async () =>
      messenger.contacts.create(bookId, { vCard: ["BEGIN:VCARD", "VERSION:4.0", `UID:${crypto.randomUUID()}`, "FN:Zoë Ünïcødé 山田", "N:Ünïcødé 山田;Zoë;;;", "EMAIL:zoe@example.org", "NOTE:Ça va? 😀", "END:VCARD", ""].join("\r\n") }),
    );
    await env.books.settle();
    await syncFolder(bookFolder, "contacts sync with the Unicode contact");
    const z = (await list(BOOK)).find((o) => /zoe@example\.org/.test(o.body));
    check("CardDAV: the Unicode contact's names and note intact", z && /Ünïcødé 山田;Zoë/.test(prop(z.body, "N") ?? "") && /Ça va\? 😀/.test(prop(z.body, "NOTE") ?? ""), z?.body);
  }

  Object.assign(t, { LONG });
}
