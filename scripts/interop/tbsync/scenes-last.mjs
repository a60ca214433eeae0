/**
 * EAS-4-TbSync interop run (harness.mjs), part: What ActiveSync cannot
 * carry, moves and deletions across folders, a second profile, deleting a
 * series, GAL and free/busy.
 * Each scene takes the run state `t` (the add-on, the host, folders, what
 * earlier scenes found) and adds what later scenes need.
 */
import { AS_VERSION, AUTH, BOOK, CAL, DAV, DOMAIN, PASS, PHOTO_B64, TASKS, USER, check, dav, env, list, noZones, prop, put, step, unfold, vcal } from "./common.mjs";

/** what ActiveSync cannot say survives an edit in Thunderbird */
export async function scene14(t) {
  const { bookFolder, bookId, calFolder, calId, ev, syncFolder } = t;
  // ── what ActiveSync cannot say survives an edit in Thunderbird
  if (calId && bookId) {
    await step("DAV: an event and a contact with properties ActiveSync cannot carry", async () => {
      await put(
        CAL + "rich.ics",
        vcal(
          "BEGIN:VEVENT",
          "UID:interop-rich-1",
          "DTSTAMP:20261201T000000Z",
          "DTSTART:20270405T080000Z",
          "DTEND:20270405T090000Z",
          "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=6",
          "RDATE:20270601T080000Z",
          "SUMMARY:Last workday of the month",
          "GEO:48.137;11.575",
          "COLOR:teal",
          "URL:https://example.org/agenda",
          "ATTACH;FMTTYPE=text/plain:https://example.org/notes.txt",
          "X-PILLARBOX-RICH:keep-me-too",
          "END:VEVENT",
        ),
        "text/calendar",
      );
      await put(
        BOOK + "rich.vcf",
        ["BEGIN:VCARD", "VERSION:3.0", "UID:interop-contact-x", "FN:Xena Extra", "N:Extra;Xena;;;", "EMAIL:xena@example.org", "GEO:48.1;11.5", "X-SOCIALPROFILE;TYPE=mastodon:https://social.example/@xena", "RELATED;TYPE=friend:urn:uuid:interop-contact-1", "URL;TYPE=work:https://work.example/xena", "URL;TYPE=home:https://home.example/xena", "END:VCARD", ""].join("\r\n"),
        "text/vcard",
      );
    });
    await syncFolder(calFolder, "calendar sync with the rich event");
    await syncFolder(bookFolder, "contacts sync with the rich contact");
    const ev = env.calendars.items(calId).find((e) => /interop-rich-1/.test(e.item));
    const xc = env.books.contacts(bookId).find((c) => /Xena/.test(c.vCard));
    if (ev) await step("calendar: user renames the rich event", () => env.calendars.userUpdate(calId, ev.id, unfold(ev.item).replace(/^SUMMARY:.*$/m, "SUMMARY:Last workday (renamed in Thunderbird)")));
    if (xc) await step("contacts: user edits the rich contact's email", async () => messenger.contacts.update(xc.id, { vCard: xc.vCard.replace(/xena@example\.org/, "xena@new.example") }));
    await env.books.settle();
    await syncFolder(calFolder, "calendar sync with the rich edit");
    await syncFolder(bookFolder, "contacts sync with the rich edit");
    const sev = unfold((await list(CAL)).find((o) => /UID:interop-rich-1/.test(o.body))?.body);
    check("CalDAV: the rich event is renamed", /SUMMARY:Last workday \(renamed in Thunderbird\)/.test(sev), sev);
    for (const [what, re] of [
      ["its BYSETPOS rule", /RRULE:FREQ=MONTHLY;[^\r\n]*BYSETPOS=-1/],
      ["its RDATE", /RDATE[^\r\n]*20270601T080000Z/],
      ["GEO", /GEO:48\.137;11\.575/],
      ["COLOR", /COLOR:teal/],
      ["URL", /URL[^\r\n]*example\.org\/agenda/],
      ["ATTACH", /ATTACH[^\r\n]*example\.org\/notes\.txt/],
      ["an X- property", /X-PILLARBOX-RICH:keep-me-too/],
    ])
      check(`CalDAV: ${what} survives the Thunderbird edit`, re.test(sev), sev);
    const sxc = unfold((await list(BOOK)).find((o) => /UID:interop-contact-x/.test(o.body))?.body);
    check("CardDAV: the rich contact's new email", /xena@new\.example/.test(sxc) && !/xena@example\.org/.test(sxc), sxc);
    for (const [what, re] of [
      ["GEO", /GEO[;:][^\r\n]*48\.1/],
      ["X-SOCIALPROFILE", /X-SOCIALPROFILE[^\r\n]*social\.example/],
      ["RELATED", /RELATED[^\r\n]*interop-contact-1/],
      ["the second URL", /home\.example\/xena/],
    ])
      check(`CardDAV: ${what} survives the Thunderbird edit`, re.test(sxc), sxc);
  }

}

/** moves and deletions across folders; a folder renamed and one deleted over DAV */
export async function scene15(t) {
  const { accountId, bookFolder, bookId, calFolder, calId, folderNow, host, provider, syncFolder } = t;
  // ── moves and deletions across folders; a folder renamed and one deleted over DAV
  const teamF = host.folders(accountId).find((f) => f.displayName === "Team" && f.selected);
  if (calId && teamF && folderNow(teamF)?.targetID) {
    await step("CalDAV: MOVE the team offsite into the default calendar", async () => {
      const r = await fetch(`${DAV}/calendars/${USER}/team/offsite.ics`, { method: "MOVE", headers: { authorization: AUTH, destination: `${DAV}/calendars/${USER}/Calendar/offsite.ics`, overwrite: "F" } });
      if (r.status >= 300) throw new Error(`MOVE: HTTP ${r.status}`);
    });
    await syncFolder(teamF, "Team sync after the MOVE");
    await syncFolder(calFolder, "calendar sync after the MOVE");
    check("calendar: the moved event left Team", !env.calendars.items(folderNow(teamF).targetID).some((e) => /interop-team-1/.test(e.item)));
    check("calendar: and arrived once in Calendar", env.calendars.items(calId).filter((e) => /interop-team-1/.test(e.item)).length === 1);
  }
  if (bookId) {
    const erin = env.books.contacts(bookId).find((c) => /Erin Server/.test(c.vCard));
    if (erin) await step("contacts: user deletes Erin", async () => messenger.contacts.delete(erin.id));
    await step("CardDAV: delete Carol on the server", () => dav("DELETE", BOOK + "carol.vcf"));
    await env.books.settle();
    await syncFolder(bookFolder, "contacts sync with deletions both ways");
    const srvCards = await list(BOOK);
    check("CardDAV: the contact deleted in Thunderbird is gone", !srvCards.some((o) => /UID:interop-contact-2/.test(o.body)), srvCards.map((o) => prop(o.body, "FN")).join(", "));
    check("contacts: the contact deleted on the server left Thunderbird", !env.books.contacts(bookId).some((c) => /Carol Interop/.test(c.vCard)));
  }
  const friendsF = host.folders(accountId).find((f) => f.displayName === "Friends");
  const choresF = host.folders(accountId).find((f) => f.displayName === "Chores");
  if (friendsF && choresF) {
    await step("DAV: rename Friends, delete Chores", async () => {
      const r1 = await dav("PROPPATCH", `/addressbooks/${USER}/friends/`, { headers: { "content-type": "application/xml" }, body: `<d:propertyupdate xmlns:d="DAV:"><d:set><d:prop><d:displayname>Good friends</d:displayname></d:prop></d:set></d:propertyupdate>` });
      const r2 = await dav("DELETE", `/calendars/${USER}/chores/`);
      if (r1.status !== 207 || r2.status >= 300) throw new Error(`PROPPATCH ${r1.status}, DELETE ${r2.status}`);
    });
    await step("account sync (FolderSync after the rename and deletion)", () => provider.onSyncAccount({ accountId }));
    const fl = host.folders(accountId);
    check("FolderSync: the renamed address book keeps its folder, new name", fl.some((f) => f.folderId === friendsF.folderId && f.displayName === "Good friends"), JSON.stringify(fl.map((f) => f.displayName)));
    check("FolderSync: the deleted task list is gone", !fl.some((f) => f.folderId === choresF.folderId), JSON.stringify(fl.map((f) => f.displayName)));
  }

  Object.assign(t, { choresF, friendsF, teamF });
}

/** a second Thunderbird profile on the same account: its first sync */
export async function scene16(t) {
  const { accountId, cal3, calId, host, provider, server } = t;
  // ── a second Thunderbird profile on the same account: its first sync
  //    must rebuild what the first one left on the server
  const setup2 = await provider.createAccountFromSetup({ servertype: "auto", email: USER, server, password: PASS, label: "Interop 2" });
  host.register("account2", setup2);
  if (AS_VERSION !== "auto") await provider.updateAccount({ accountId: "account2", patch: { custom: { asversionselected: AS_VERSION, asversion: AS_VERSION } } });
  await step("second profile: connect", () => provider.onAccountEnabled({ accountId: "account2" }));
  const off2 = host.folders("account2").filter((f) => f.targetType && !f.hidden && ["7", "8", "9"].includes(String(f.custom.type)));
  for (const f of off2) host.select("account2", f.folderId);
  for (const f of off2) {
    const res = await step(`second profile: sync ${f.displayName}`, () => provider.onSyncFolder({ accountId: "account2", folderId: f.folderId }));
    await env.books.settle();
    check(`second profile: sync ${f.displayName}`, res?.type === "success", JSON.stringify(res));
  }
  const f2 = (t) => host.folders("account2").find((f) => f.targetType === t && ["7", "8", "9"].includes(String(f.custom.type)));
  const cal2 = f2("calendars")?.targetID;
  if (cal2) {
    const srv = await list(CAL);
    const mine2 = env.calendars.items(cal2);
    check("second profile: as many events as the server holds", mine2.length === srv.length, `${mine2.length} local, ${srv.length} on the server`);
    const w2 = mine2.find((e) => /interop-weekly-1/.test(e.item));
    const b2 = noZones(w2?.item);
    check("second profile: the series has both overrides and the excluded occurrence", /RECURRENCE-ID[^\r\n]*20270112/.test(b2) && /RECURRENCE-ID[^\r\n]*20270119/.test(b2) && /EXDATE[^\r\n]*20270126/.test(b2), b2);
    check("second profile: the moved occurrence at 16:00 Berlin", /DTSTART[^\r\n]*20270119T(160000|150000Z)/.test(b2), b2);
  }
  const book2 = f2("contacts")?.targetID;
  if (book2) {
    const srv = await list(BOOK);
    check("second profile: as many contacts as the server holds", env.books.contacts(book2).length === srv.length, `${env.books.contacts(book2).length} local, ${srv.length} on the server`);
    const fay2 = env.books.contacts(book2).find((c) => /Fay/.test(c.vCard));
    check("second profile: Fay's photo arrives", fay2 && unfold(fay2.vCard).replace(/\s/g, "").includes(PHOTO_B64), fay2?.vCard);
  }
  const tasks2 = f2("tasks")?.targetID;
  if (tasks2) {
    const srv = await list(TASKS);
    check("second profile: as many tasks as the server holds", env.calendars.items(tasks2).length === srv.length, `${env.calendars.items(tasks2).length} local, ${srv.length} on the server`);
  }

  // No duplicates anywhere after three rounds.
  if (calId) {
    const sums = env.calendars.items(calId).map((e) => prop(e.item, "SUMMARY"));
    check("calendar: no duplicates in Thunderbird after three syncs", new Set(sums).size === sums.length, sums.join(", "));
  }
  if (cal3) {
    const uids = cal3.map((o) => prop(o.body, "UID"));
    check("CalDAV: no duplicates on the server", new Set(uids).size === uids.length && cal3.length === 5, cal3.map((o) => prop(o.body, "SUMMARY")).join(", "));
  }

  Object.assign(t, { book2, cal2, f2, off2, setup2, tasks2 });
}

/** the whole weekly series deleted in Thunderbird */
export async function scene17(t) {
  const { calFolder, calId, syncFolder } = t;
  // ── the whole weekly series deleted in Thunderbird
  if (calId) {
    const series = env.calendars.items(calId).find((e) => /interop-weekly-1/.test(e.item));
    if (series) {
      await step("calendar: user deletes the whole weekly series", () => env.calendars.userRemove(calId, series.id));
      await syncFolder(calFolder, "calendar sync with the series deletion");
      const after = await step("CalDAV: list Calendar after the deletion", () => list(CAL));
      if (after) check("CalDAV: the series is gone", !after.some((o) => /UID:interop-weekly-1/.test(o.body)));
    }
  }

}

/** address book and free/busy, through the add-on's own listeners */
export async function scene18(t) {
  const { accountId, bobAuth, provider } = t;
  // ── address book and free/busy, through the add-on's own listeners ───
  const galListeners = messenger.addressBooks.provider.onSearchRequest.fns;
  check("GAL: the add-on registered its directory search", galListeners.length > 0, "no onSearchRequest listener (GAL Search not advertised?)");
  if (galListeners.length) {
    const ans = await step("GAL: search", () => galListeners[0]({ id: "gal" }, "Bob", {}));
    const bob = ans?.results?.find((r) => /bob@interop\.test/i.test(r.PrimaryEmail ?? ""));
    check("GAL: Bob found with his address", bob, JSON.stringify(ans));
    check("GAL: display name split into first/last name", bob && bob.FirstName === "Bob" && bob.LastName === "Organizer", JSON.stringify(bob));
    const ans2 = await step("GAL: search for an account without a display name", () => galListeners[0]({ id: "gal" }, "carl", {}));
    const carl = ans2?.results?.find((r) => /carl@interop\.test/i.test(r.PrimaryEmail ?? ""));
    check("GAL: carl found, his address not made his first name", carl && !/@/.test(carl.FirstName ?? "") && !/@/.test(carl.LastName ?? ""), JSON.stringify(ans2));
  }
  const fbListeners = messenger.calendar.provider.onFreeBusy.fns;
  check("free/busy: the add-on registered its free/busy lookup", fbListeners.length > 0, "no onFreeBusy listener (ResolveRecipients not advertised?)");
  if (fbListeners.length) {
    const bobAuth = "Basic " + Buffer.from(`bob@${DOMAIN}:${PASS}`).toString("base64");
    await step("CalDAV: bob's busy hour", async () => {
      await fetch(`${DAV}/calendars/bob@${DOMAIN}/`, { method: "PROPFIND", headers: { authorization: bobAuth, depth: "1" } });
      const r = await fetch(`${DAV}/calendars/bob@${DOMAIN}/Calendar/busy.ics`, {
        method: "PUT",
        headers: { authorization: bobAuth, "content-type": "text/calendar" },
        body: vcal("BEGIN:VEVENT", "UID:interop-bob-busy", "DTSTAMP:20261201T000000Z", "DTSTART:20270108T100000Z", "DTEND:20270108T110000Z", "SUMMARY:Bob is busy", "END:VEVENT"),
      });
      if (r.status >= 300) throw new Error(`PUT: HTTP ${r.status}`);
    });
    const iv = await step("free/busy: lookup", () => fbListeners[0](`mailto:bob@${DOMAIN}`, "2027-01-08T08:00:00Z", "2027-01-08T14:00:00Z", ["free", "busy", "unavailable", "tentative"]));
    // two profiles of one account both answer for bob's domain by now; the add-on merges their intervals
    const seen = new Set();
    const uniq = (iv ?? []).filter((i) => !seen.has(`${i.start}|${i.end}|${i.type}`) && seen.add(`${i.start}|${i.end}|${i.type}`));
    const busy = uniq.filter((i) => i.type !== "free");
    check(
      "free/busy: bob busy 10:00-11:00Z, free around it",
      busy.length === 1 && Date.parse(busy[0].start) === Date.parse("2027-01-08T10:00:00Z") && Date.parse(busy[0].end) === Date.parse("2027-01-08T11:00:00Z") && (iv ?? []).some((i) => i.type === "free"),
      JSON.stringify(iv),
    );
  }
  Object.assign(t, { fbListeners, galListeners });

  // out of office through the add-on's Services dialog backing
  const before = await step("OOF: read", () => provider.readOofForServices(accountId));
  check("OOF: read answers a state", before && ["0", "1", "2"].includes(String(before.state)), JSON.stringify(before));
  const wanted = { state: "2", startTime: "2027-05-01T00:00:00.000Z", endTime: "2027-05-08T00:00:00.000Z", messages: { internal: { enabled: true, reply: "Away in May (internal)" }, externalKnown: { enabled: true, reply: "Away in May" }, externalUnknown: { enabled: true, reply: "Away in May" } } };
  await step("OOF: write a scheduled reply", () => provider.writeOofFromServices({ accountId, settings: wanted }));
  const after = await step("OOF: read it back", () => provider.readOofForServices(accountId));
  check("OOF: the scheduled state and window come back", after && String(after.state) === "2" && Date.parse(after.startTime) === Date.parse(wanted.startTime) && Date.parse(after.endTime) === Date.parse(wanted.endTime), JSON.stringify(after));
  check("OOF: the internal reply comes back", after?.messages?.internal?.reply === "Away in May (internal)" && after.messages.internal.enabled, JSON.stringify(after?.messages));
  await step("OOF: switch it off", () => provider.writeOofFromServices({ accountId, settings: { state: "0", messages: wanted.messages } }));
  const off = await step("OOF: read after switching off", () => provider.readOofForServices(accountId));
  check("OOF: off", off && String(off.state) === "0", JSON.stringify(off));

  // the add-on's calendar window (FilterType 7, six months back): an old single
  // event stays out, an old series that still recurs and a recent event come in
  const { calFolder, calId, syncFolder } = t;
  if (calId) {
    await step("CalDAV: an old event, an old open-ended series, a recent event", async () => {
      await put(CAL + "old.ics", vcal("BEGIN:VEVENT", "UID:interop-old-1", "DTSTAMP:20250101T000000Z", "DTSTART:20250110T100000Z", "DTEND:20250110T110000Z", "SUMMARY:Old single", "END:VEVENT"), "text/calendar");
      await put(CAL + "old-series.ics", vcal("BEGIN:VEVENT", "UID:interop-old-2", "DTSTAMP:20250101T000000Z", "DTSTART:20250106T100000Z", "DTEND:20250106T110000Z", "RRULE:FREQ=WEEKLY", "SUMMARY:Old open-ended series", "END:VEVENT"), "text/calendar");
      await put(CAL + "recent.ics", vcal("BEGIN:VEVENT", "UID:interop-recent-1", "DTSTAMP:20261001T000000Z", "DTSTART:20261001T100000Z", "DTEND:20261001T110000Z", "SUMMARY:Recent past", "END:VEVENT"), "text/calendar");
    });
    await syncFolder(calFolder, "calendar sync with old and recent events");
    const have = (uid) => env.calendars.items(calId).some((e) => e.item.includes(`UID:${uid}`));
    check("calendar window: a single event from 2025 stays out (FilterType 7)", !have("interop-old-1"));
    check("calendar window: a series from 2025 that still recurs comes in", have("interop-old-2"));
    check("calendar window: an event two months back comes in", have("interop-recent-1"));
  }
}
