/**
 * Drives EAS-4-TbSync's own modules (from a copy of its checkout) against a
 * running Pillarbox, as Thunderbird with TbSync would: Autodiscover, account
 * setup, connect (OPTIONS, Provision, FolderSync), the add-on's folder
 * selection, then per-folder sync of calendar, contacts and tasks both ways.
 * The results are checked over CalDAV/CardDAV. Prints one line per check
 * and, last, "N passed, M failed".
 *
 *   node harness.mjs --src <copy>/src --port <https> --http-port <http>
 *        --jsdom <dir with node_modules/jsdom> [--as-version 16.1|14.1|14.0]
 *
 * The add-on's code is imported, never copied into this repository; what
 * stands in for Thunderbird and the TbSync host is in host-env.mjs.
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { FakeHost, installHostEnv, VTIMEZONES } from "./host-env.mjs";

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : fallback;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const SRC = arg("src");
const PORT = Number(arg("port"));
const HTTP_PORT = Number(arg("http-port", "0"));
const JSDOM = arg("jsdom");
const AS_VERSION = arg("as-version", "auto");
const DOMAIN = "interop.test";
const USER = `alice@${DOMAIN}`;
const PASS = "interop-pass-1";
const DAV = `https://localhost:${PORT}/dav`;
const AUTH = "Basic " + Buffer.from(`${USER}:${PASS}`).toString("base64");

const env = installHostEnv({ srcDir: SRC, domain: DOMAIN, httpsPort: PORT, httpPort: HTTP_PORT, jsdomDir: JSDOM });
const mod = (p) => import(pathToFileURL(join(SRC, p)).href);

// ── checks ────────────────────────────────────────────────────────────────
let passed = 0;
let failed = 0;
function check(name, ok, detail = "") {
  if (ok) {
    passed++;
    console.log(`PASS ${name}`);
  } else {
    failed++;
    console.log(`FAIL ${name}${detail ? ` -- ${String(detail).slice(0, 600)}` : ""}`);
  }
  return !!ok;
}
async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    check(name, false, `${e?.code ? e.code + " " : ""}${e?.message ?? e}`);
    return undefined;
  }
}
const unfold = (s) => String(s ?? "").replace(/\r?\n[ \t]/g, "");
/** The text without VTIMEZONE blocks (their DTSTART/RRULE are not the item's). */
const noZones = (s) => unfold(s).replace(/BEGIN:VTIMEZONE[\s\S]*?END:VTIMEZONE\r?\n?/g, "");
const prop = (text, name) => {
  const m = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:(.*)$`, "mi").exec(noZones(text));
  return m ? m[1].trim() : null;
};
const propLine = (text, name) => {
  const m = new RegExp(`^${name}(?:;[^:\\r\\n]*)?:.*$`, "mi").exec(noZones(text));
  return m ? m[0] : null;
};

// ── CalDAV / CardDAV ──────────────────────────────────────────────────────
async function dav(method, path, { body, headers = {} } = {}) {
  const r = await fetch(path.startsWith("http") ? path : DAV + path, { method, body, headers: { authorization: AUTH, ...headers } });
  return { status: r.status, etag: r.headers.get("etag"), text: await r.text() };
}
async function put(path, body, type) {
  const r = await dav("PUT", path, { body, headers: { "content-type": type } });
  if (r.status >= 300) throw new Error(`PUT ${path}: HTTP ${r.status} ${r.text.slice(0, 300)}`);
  return r;
}
/** Every object of a collection: [{href, body}]. */
async function list(collection) {
  const r = await dav("PROPFIND", collection, {
    headers: { depth: "1", "content-type": "application/xml" },
    body: '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>',
  });
  if (r.status !== 207) throw new Error(`PROPFIND ${collection}: HTTP ${r.status}`);
  const hrefs = [...r.text.matchAll(/<(?:[a-z]+:)?href>([^<]+)<\/(?:[a-z]+:)?href>/gi)].map((m) => m[1]).filter((h) => /\.(ics|vcf)$/.test(h) || !h.endsWith("/"));
  const out = [];
  for (const href of hrefs) {
    const g = await dav("GET", new URL(href, DAV + "/").href);
    if (g.status === 200) out.push({ href, body: g.text, etag: g.etag });
  }
  return out;
}

/** A 1x1 PNG, the photo of a contact made in Thunderbird. */
const PHOTO_B64 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const CAL = `/calendars/${USER}/Calendar/`;
const TASKS = `/calendars/${USER}/Tasks/`;
const BOOK = `/addressbooks/${USER}/Contacts/`;
const vcal = (...lines) => ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox interop//EN", ...lines, "END:VCALENDAR", ""].join("\r\n");

async function seed() {
  await dav("PROPFIND", `/calendars/${USER}/`, { headers: { depth: "1" } });
  await dav("PROPFIND", `/addressbooks/${USER}/`, { headers: { depth: "1" } });
  await put(
    CAL + "weekly.ics",
    vcal(
      VTIMEZONES["Europe/Berlin"],
      "BEGIN:VEVENT",
      "UID:interop-weekly-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART;TZID=Europe/Berlin:20270105T100000",
      "DTEND;TZID=Europe/Berlin:20270105T110000",
      "RRULE:FREQ=WEEKLY;COUNT=6",
      "SUMMARY:Interop weekly",
      "LOCATION:Room 1",
      "DESCRIPTION:Weekly sync meeting",
      `ORGANIZER;CN=Alice Interop:mailto:${USER}`,
      `ATTENDEE;CN=Bob Organizer;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:bob@${DOMAIN}`,
      "CATEGORIES:Interop",
      "END:VEVENT",
      "BEGIN:VEVENT",
      "UID:interop-weekly-1",
      "DTSTAMP:20261201T000000Z",
      "RECURRENCE-ID;TZID=Europe/Berlin:20270112T100000",
      "DTSTART;TZID=Europe/Berlin:20270112T140000",
      "DTEND;TZID=Europe/Berlin:20270112T150000",
      "SUMMARY:Interop weekly (moved)",
      `ORGANIZER;CN=Alice Interop:mailto:${USER}`,
      `ATTENDEE;CN=Bob Organizer;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT:mailto:bob@${DOMAIN}`,
      "END:VEVENT",
    ),
    "text/calendar",
  );
  await put(
    CAL + "allday.ics",
    vcal("BEGIN:VEVENT", "UID:interop-allday-1", "DTSTAMP:20261201T000000Z", "DTSTART;VALUE=DATE:20270120", "DTEND;VALUE=DATE:20270121", "SUMMARY:Interop all-day", "TRANSP:TRANSPARENT", "END:VEVENT"),
    "text/calendar",
  );
  await put(
    CAL + "single.ics",
    vcal(
      "BEGIN:VEVENT",
      "UID:interop-single-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART:20270107T130000Z",
      "DTEND:20270107T143000Z",
      "SUMMARY:Interop single",
      "DESCRIPTION:Line one\\nLine two",
      "CLASS:PRIVATE",
      "X-PILLARBOX-INTEROP:keep-me",
      "BEGIN:VALARM",
      "ACTION:DISPLAY",
      "DESCRIPTION:Reminder",
      "TRIGGER:-PT15M",
      "END:VALARM",
      "END:VEVENT",
    ),
    "text/calendar",
  );
  await put(
    TASKS + "task.ics",
    vcal(
      "BEGIN:VTODO",
      "UID:interop-task-1",
      "DTSTAMP:20261201T000000Z",
      "DTSTART;VALUE=DATE:20270110",
      "DUE;VALUE=DATE:20270115",
      "SUMMARY:Interop task",
      "DESCRIPTION:Seeded over CalDAV",
      "PRIORITY:1",
      "STATUS:NEEDS-ACTION",
      "END:VTODO",
    ),
    "text/calendar",
  );
  await put(
    TASKS + "task2.ics",
    vcal("BEGIN:VTODO", "UID:interop-task-2", "DTSTAMP:20261201T000000Z", "DUE;VALUE=DATE:20270118", "SUMMARY:Interop task to delete over CalDAV", "END:VTODO"),
    "text/calendar",
  );
  await put(
    BOOK + "carol.vcf",
    [
      "BEGIN:VCARD",
      "VERSION:3.0",
      "UID:interop-contact-1",
      "FN:Carol Interop",
      "N:Interop;Carol;;;",
      "EMAIL;TYPE=INTERNET,WORK:carol@example.org",
      "EMAIL;TYPE=INTERNET,HOME:carol.home@example.org",
      "TEL;TYPE=WORK,VOICE:+1 555 0100",
      "TEL;TYPE=CELL:+1 555 0101",
      "ADR;TYPE=WORK:;;1 Main St;Springfield;IL;62701;USA",
      "ORG:Interop Corp",
      "TITLE:Engineer",
      "BDAY:1990-04-01",
      "NOTE:Seeded over CardDAV",
      "X-PILLARBOX-INTEROP:keep-me",
      "END:VCARD",
      "",
    ].join("\r\n"),
    "text/vcard",
  );
}

// ── the run ───────────────────────────────────────────────────────────────
async function main() {
  console.log(`EAS-4-TbSync harness: ${SRC} against https://localhost:${PORT} (EAS version ${AS_VERSION})`);
  const seeded = await step("seed over CalDAV/CardDAV", async () => (await seed(), true));
  if (!seeded) return;

  const { EasProvider } = await mod("modules/eas-provider.mjs");
  const { registerCalendarProvider, setSyncHandlers } = await mod("modules/calendar-provider.mjs");
  const { discoverEasServer } = await mod("modules/eas/autodiscover.mjs");
  const addressBook = await mod("vendor/tbsync/address-book.mjs");

  registerCalendarProvider();
  const provider = new EasProvider();
  const host = new FakeHost(provider);
  globalThis.__host = host;
  setSyncHandlers({ provider, reportEventLog: (p) => provider.reportEventLog(p) });
  await step("onConnectedToHost", async () => provider.onConnectedToHost());
  addressBook.installContactsObserver({ provider, report: (p) => provider.reportEventLog(p) });

  // Autodiscover as the setup dialog runs it (the email's domain is mapped to the server).
  const found = await step("autodiscover", () => discoverEasServer({ email: USER, password: PASS }));
  check("autodiscover finds the ActiveSync URL", found?.server && /\/Microsoft-Server-ActiveSync$/i.test(found.server), JSON.stringify(found));
  const server = found?.server ?? `https://mail.${DOMAIN}/Microsoft-Server-ActiveSync`;

  const setup = await provider.createAccountFromSetup({ servertype: "auto", email: USER, server, password: PASS, label: "Interop" });
  const accountId = "account1";
  host.register(accountId, setup);
  // A forced version: the add-on's config popup sets asversionselected, which
  // only its connect path reads; its folder syncs use the negotiated
  // `asversion`, which is sticky while the server advertises it. So both
  // are set, as for an account first connected when that was the version.
  if (AS_VERSION !== "auto") await provider.updateAccount({ accountId, patch: { custom: { asversionselected: AS_VERSION, asversion: AS_VERSION } } });

  await step("connect (OPTIONS, Provision, FolderSync)", () => provider.onAccountEnabled({ accountId }));
  const acct = host.accounts.get(accountId).account;
  check("version negotiated", acct.custom.asversion, JSON.stringify(acct.custom.allowedEasVersions));
  const used = acct.custom.asversion;
  if (AS_VERSION !== "auto") check(`account syncs with EAS ${AS_VERSION}`, used === AS_VERSION, used);
  console.log(`# EAS version in use: ${used}; server advertises ${acct.custom.allowedEasVersions?.join(",")}`);
  check("provisioned after the server asked (policy key stored)", acct.custom.provision === true && acct.custom.policykey && acct.custom.policykey !== "0", `${acct.custom.provision} ${acct.custom.policykey}`);
  check("FolderSync key stored", acct.custom.foldersynckey && acct.custom.foldersynckey !== "0", acct.custom.foldersynckey);
  check("user address learned (Settings UserInformation)", acct.custom.userSmtpAddress === USER, acct.custom.userSmtpAddress);

  // The add-on's own folder selection: which folders it offers (a target type, not hidden).
  const offered = host.folders(accountId).filter((f) => f.targetType && !f.hidden);
  console.log(`# folders offered: ${offered.map((f) => `${f.displayName} (${f.targetType}, type ${f.custom.type})`).join("; ") || "none"}`);
  const byType = (t) => offered.find((f) => f.targetType === t && ["7", "8", "9"].includes(String(f.custom.type))) ?? offered.find((f) => f.targetType === t);
  const calFolder = byType("calendars");
  const bookFolder = byType("contacts");
  const taskFolder = byType("tasks");
  check("folder selection offers a calendar (default Calendar, type 8)", calFolder && calFolder.custom.type === "8", JSON.stringify(host.pushed?.map((f) => [f.displayName, f.custom.type, f.targetType])));
  check("folder selection offers contacts (default Contacts, type 9)", bookFolder && bookFolder.custom.type === "9");
  check("folder selection offers tasks (default Tasks, type 7)", taskFolder && taskFolder.custom.type === "7");
  for (const f of [calFolder, bookFolder, taskFolder]) if (f) host.select(accountId, f.folderId);

  await step("account sync", () => provider.onSyncAccount({ accountId }));

  const syncFolder = async (f, label) => {
    if (!f) return check(`${label}: sync`, false, "folder not offered");
    const res = await step(`${label}: sync`, () => provider.onSyncFolder({ accountId, folderId: f.folderId }));
    await env.books.settle();
    if (res === undefined) return false;
    const errs = host.log.filter((l) => l.level === "error" && (!l.folderId || l.folderId === f.folderId));
    return check(`${label}: sync`, res?.type === "success", `${JSON.stringify(res)} ${errs.map((e) => e.message).join(" | ")}`);
  };
  /** A sync inside a wait loop: counted as a check only when it fails, so the
   *  number of checks does not depend on how many rounds the wait took. */
  const syncQuiet = async (f, label) => {
    try {
      const res = await provider.onSyncFolder({ accountId, folderId: f.folderId });
      await env.books.settle();
      if (res?.type !== "success") check(label, false, JSON.stringify(res));
    } catch (e) {
      check(label, false, e?.message ?? e);
    }
  };
  const folderNow = (f) => f && host.folders(accountId).find((x) => x.folderId === f.folderId);

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
  // ── a meeting: bob invites alice over CalDAV, alice accepts in Thunderbird
  const bobAuth = "Basic " + Buffer.from(`bob@${DOMAIN}:${PASS}`).toString("base64");
  const bobDav = async (method, path, body, headers = {}) => {
    const r = await fetch(`${DAV}/calendars/bob@${DOMAIN}/${path}`, { method, body, headers: { authorization: bobAuth, ...headers } });
    return { status: r.status, text: await r.text() };
  };
  const invited = calId
    ? await step("CalDAV: bob invites alice", async () => {
        await bobDav("PROPFIND", "", undefined, { depth: "1" });
        const r = await bobDav(
          "PUT",
          "Calendar/invite.ics",
          vcal(
            "BEGIN:VEVENT",
            "UID:interop-invite-1",
            "DTSTAMP:20261207T100000Z",
            "DTSTART:20270204T150000Z",
            "DTEND:20270204T160000Z",
            "SUMMARY:Invitation from Bob",
            "SEQUENCE:0",
            `ORGANIZER;CN=Bob Organizer:mailto:bob@${DOMAIN}`,
            `ATTENDEE;CN=Bob Organizer;PARTSTAT=ACCEPTED;ROLE=CHAIR:mailto:bob@${DOMAIN}`,
            `ATTENDEE;CN=Alice Interop;PARTSTAT=NEEDS-ACTION;RSVP=TRUE;ROLE=REQ-PARTICIPANT:mailto:${USER}`,
            "END:VEVENT",
          ),
          { "content-type": "text/calendar" },
        );
        if (r.status >= 300) throw new Error(`PUT: HTTP ${r.status} ${r.text.slice(0, 200)}`);
        // the invitation reaches alice's calendar through iTIP delivery
        for (let i = 0; i < 50; i++) {
          const mine = await list(CAL);
          if (mine.some((o) => /UID:interop-invite-1/.test(o.body))) return true;
          await new Promise((r2) => setTimeout(r2, 200));
        }
        throw new Error("the invitation never reached alice's calendar (CalDAV)");
      })
    : undefined;
  if (invited) {
    await syncFolder(calFolder, "calendar sync with the invitation");
    const inv = env.calendars.items(calId).find((e) => /interop-invite-1/.test(e.item));
    check("calendar: invitation in Thunderbird, organized by bob, alice NEEDS-ACTION", inv && /ORGANIZER[^\r\n]*bob@interop\.test/i.test(noZones(inv.item)) && /ATTENDEE[^\r\n]*PARTSTAT=NEEDS-ACTION[^\r\n]*alice@interop\.test/i.test(noZones(inv.item)), inv?.item);
    if (inv) {
      await step("calendar: user accepts the invitation in Thunderbird", () =>
        env.calendars.userUpdate(calId, inv.id, unfold(inv.item).replace(/^(ATTENDEE[^\r\n]*?)PARTSTAT=NEEDS-ACTION([^\r\n]*alice@interop\.test)/im, "$1PARTSTAT=ACCEPTED$2")),
      );
      await syncFolder(calFolder, "calendar sync with the answer");
      const sent = env.requests.filter((r) => r.cmd === "MeetingResponse" || r.cmd === "SendMail");
      // 16.x: MeetingResponse with SendResponse (the server mails the organizer);
      // 14.x: the add-on pushes the answer as a Sync Change and mails the iMIP REPLY itself (SendMail).
      const want16 = parseFloat(used) >= 16;
      check(
        want16 ? "the add-on answered with MeetingResponse" : "the add-on mailed its iMIP REPLY with SendMail",
        sent.some((r) => r.cmd === (want16 ? "MeetingResponse" : "SendMail") && r.status === 200),
        sent.map((r) => `${r.cmd} ${r.status}`).join(", "),
      );
      let mineOk = false;
      let bobsOk = false;
      let last = "";
      for (let i = 0; i < 50 && !(mineOk && bobsOk); i++) {
        const mine = (await list(CAL)).find((o) => /UID:interop-invite-1/.test(o.body));
        mineOk = !!mine && /ATTENDEE[^\r\n]*PARTSTAT=ACCEPTED[^\r\n]*alice@interop\.test/i.test(unfold(mine.body));
        const bobs = await bobDav("GET", "Calendar/invite.ics");
        last = bobs.text;
        bobsOk = /ATTENDEE[^\r\n]*PARTSTAT=ACCEPTED[^\r\n]*alice@interop\.test/i.test(unfold(bobs.text));
        if (!(mineOk && bobsOk)) await new Promise((r2) => setTimeout(r2, 200));
      }
      check("CalDAV: alice's copy says ACCEPTED", mineOk);
      check("CalDAV: the organizer's copy says alice ACCEPTED (iMIP REPLY reached bob)", bobsOk, last);
      await syncFolder(calFolder, "calendar sync after the answer");
      const after = env.calendars.items(calId).filter((e) => /interop-invite-1/.test(e.item));
      check("calendar: the accepted meeting stays once in Thunderbird, accepted", after.length === 1 && /ATTENDEE[^\r\n]*PARTSTAT=ACCEPTED[^\r\n]*alice@interop\.test/i.test(noZones(after[0].item)), after.map((a) => a.item).join("\n---\n"));
    }
  }

  // ── alice organizes a meeting in Thunderbird: bob gets the invitation
  if (calId) {
    await step("calendar: user creates a meeting with bob as attendee", () =>
      env.calendars.userCreate(calId, {
        type: "event",
        item: vcal(
          "BEGIN:VEVENT",
          "DTSTAMP:20261207T100000Z",
          "DTSTART:20270211T130000Z",
          "DTEND:20270211T140000Z",
          "SUMMARY:Planning from Thunderbird",
          `ORGANIZER;CN=Alice Interop:mailto:${USER}`,
          `ATTENDEE;CN=Bob Organizer;PARTSTAT=NEEDS-ACTION;ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:bob@${DOMAIN}`,
          "END:VEVENT",
        ),
      }),
    );
    await syncFolder(calFolder, "calendar sync with the meeting");
    let copies = [];
    for (let i = 0; i < 50; i++) {
      const r = await bobDav("PROPFIND", "Calendar/", '<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>', { depth: "1", "content-type": "application/xml" });
      copies = [];
      for (const m of r.text.matchAll(/<(?:[a-z]+:)?href>([^<]+\.ics)<\/(?:[a-z]+:)?href>/gi)) {
        const g = await fetch(new URL(m[1], DAV + "/").href, { headers: { authorization: bobAuth } });
        const body = await g.text();
        if (/SUMMARY:Planning from Thunderbird/.test(unfold(body))) copies.push(body);
      }
      if (copies.length) break;
      await new Promise((r2) => setTimeout(r2, 200));
    }
    check("CalDAV: bob's calendar has the invitation alice made in Thunderbird, once", copies.length === 1, `${copies.length} copies`);
    check("CalDAV: bob's copy names alice as organizer, 13:00Z", copies[0] && /ORGANIZER[^\r\n]*alice@interop\.test/i.test(unfold(copies[0])) && /20270211T130000Z|TZID=[^:]*:20270211T140000/.test(propLine(copies[0], "DTSTART") ?? ""), copies[0]);
  }

  // ── the organizer changes and then cancels; a recurring invitation is
  //    declined for one occurrence in Thunderbird
  if (calId && invited) {
    await step("CalDAV: bob moves his meeting to 16:00Z (SEQUENCE 1)", async () => {
      const cur = await bobDav("GET", "Calendar/invite.ics");
      const next = unfold(cur.text).replace(/^DTSTART:20270204T150000Z/m, "DTSTART:20270204T160000Z").replace(/^DTEND:20270204T160000Z/m, "DTEND:20270204T170000Z").replace(/^SEQUENCE:\d+/m, "SEQUENCE:1");
      const r = await bobDav("PUT", "Calendar/invite.ics", next, { "content-type": "text/calendar" });
      if (r.status >= 300) throw new Error(`PUT: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    });
    let moved = null;
    for (let i = 0; i < 25 && !moved; i++) {
      await syncQuiet(calFolder, "calendar sync for the organizer's update");
      moved = env.calendars.items(calId).find((e) => /interop-invite-1/.test(e.item) && /20270204T160000Z|TZID=[^:]*:20270204T170000/.test(propLine(e.item, "DTSTART") ?? ""));
      if (!moved) await new Promise((r2) => setTimeout(r2, 200));
    }
    check("calendar: the organizer's new time reaches Thunderbird", moved, env.calendars.items(calId).filter((e) => /interop-invite-1/.test(e.item)).map((e) => propLine(e.item, "DTSTART")).join(", "));
    await step("CalDAV: bob cancels his meeting", async () => {
      const r = await bobDav("DELETE", "Calendar/invite.ics");
      if (r.status >= 300) throw new Error(`DELETE: HTTP ${r.status}`);
    });
    let gone = false;
    for (let i = 0; i < 25 && !gone; i++) {
      await syncQuiet(calFolder, "calendar sync for the cancellation");
      const inv = env.calendars.items(calId).find((e) => /interop-invite-1/.test(e.item));
      gone = !inv || /STATUS:CANCELLED/.test(noZones(inv.item));
      if (!gone) await new Promise((r2) => setTimeout(r2, 200));
    }
    check("calendar: the cancellation reaches Thunderbird (removed or CANCELLED)", gone);

    // a weekly invitation; alice declines only the second occurrence
    await step("CalDAV: bob invites alice to a weekly meeting", async () => {
      const r = await bobDav(
        "PUT",
        "Calendar/weekly-invite.ics",
        vcal(
          "BEGIN:VEVENT",
          "UID:interop-invite-weekly",
          "DTSTAMP:20261207T100000Z",
          "DTSTART:20270301T090000Z",
          "DTEND:20270301T093000Z",
          "RRULE:FREQ=WEEKLY;COUNT=4",
          "SUMMARY:Weekly standup from Bob",
          `ORGANIZER;CN=Bob Organizer:mailto:bob@${DOMAIN}`,
          `ATTENDEE;CN=Alice Interop;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:${USER}`,
          "END:VEVENT",
        ),
        { "content-type": "text/calendar" },
      );
      if (r.status >= 300) throw new Error(`PUT: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    });
    let winv = null;
    for (let i = 0; i < 25 && !winv; i++) {
      await syncQuiet(calFolder, "calendar sync for the weekly invitation");
      winv = env.calendars.items(calId).find((e) => /interop-invite-weekly/.test(e.item));
      if (!winv) await new Promise((r2) => setTimeout(r2, 200));
    }
    check("calendar: the weekly invitation reaches Thunderbird", winv);
    if (winv) {
      // accept the series, decline the occurrence of 2027-03-08 (an override with alice DECLINED)
      let t = unfold(winv.item).replace(/^(ATTENDEE[^\r\n]*?)PARTSTAT=NEEDS-ACTION([^\r\n]*alice@interop\.test)/im, "$1PARTSTAT=ACCEPTED$2");
      t = t.replace(/END:VCALENDAR\s*$/, ["BEGIN:VEVENT", "UID:interop-invite-weekly", "DTSTAMP:20261207T110000Z", "RECURRENCE-ID:20270308T090000Z", "DTSTART:20270308T090000Z", "DTEND:20270308T093000Z", "SUMMARY:Weekly standup from Bob", `ORGANIZER;CN=Bob Organizer:mailto:bob@${DOMAIN}`, `ATTENDEE;CN=Alice Interop;PARTSTAT=DECLINED:mailto:${USER}`, "END:VEVENT", "END:VCALENDAR", ""].join("\r\n"));
      await step("calendar: user accepts the series and declines one occurrence", () => env.calendars.userUpdate(calId, winv.id, t));
      await syncFolder(calFolder, "calendar sync with the answers");
      let bobs = "";
      let ok1 = false;
      let ok2 = false;
      for (let i = 0; i < 50 && !(ok1 && ok2); i++) {
        bobs = unfold((await bobDav("GET", "Calendar/weekly-invite.ics")).text);
        const comps = bobs.split("BEGIN:VEVENT").slice(1);
        const master = comps.find((c) => !/RECURRENCE-ID/.test(c)) ?? "";
        const occ = comps.find((c) => /RECURRENCE-ID[^\r\n]*20270308/.test(c)) ?? "";
        ok1 = /ATTENDEE[^\r\n]*PARTSTAT=ACCEPTED[^\r\n]*alice@interop\.test/i.test(master);
        ok2 = /ATTENDEE[^\r\n]*PARTSTAT=DECLINED[^\r\n]*alice@interop\.test/i.test(occ);
        if (!(ok1 && ok2)) await new Promise((r2) => setTimeout(r2, 200));
      }
      check("CalDAV: bob's copy has alice ACCEPTED for the series", ok1, bobs);
      const mineW = unfold((await list(CAL)).find((o) => /UID:interop-invite-weekly/.test(o.body))?.body);
      check("CalDAV: alice's copy has the series ACCEPTED", /ATTENDEE[^\r\n]*PARTSTAT=ACCEPTED[^\r\n]*alice@interop\.test/i.test((mineW.split("BEGIN:VEVENT").slice(1).find((c) => !/RECURRENCE-ID/.test(c))) ?? ""), mineW);
      if (parseFloat(used) >= 16) check("CalDAV: bob's copy has alice DECLINED for 2027-03-08 only", ok2, bobs);
      else {
        const occ = mineW.split("BEGIN:VEVENT").slice(1).find((c) => /RECURRENCE-ID[^\r\n]*20270308/.test(c));
        check("CalDAV: alice's copy: an override made by a 14.x Exception without Attendees inherits the series' answer", !occ || !/PARTSTAT=NEEDS-ACTION[^\r\n]*alice@interop\.test/i.test(occ), occ);
        console.log(`# note: below 16.0 the add-on answers an occurrence by no message and no AttendeeStatus in its Exception (it mails the series answer only), so the organizer cannot learn of the declined occurrence; alice's copy:\n${mineW.replace(/\r/g, "").replace(/^/gm, "#   ")}`);
      }
    }
  }

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

  // ── address book and free/busy, through the add-on's own listeners ───
  const galListeners = messenger.addressBooks.provider.onSearchRequest.fns;
  check("GAL: the add-on registered its directory search", galListeners.length > 0, "no onSearchRequest listener (GAL Search not advertised?)");
  if (galListeners.length) {
    const ans = await step("GAL: search", () => galListeners[0]({ id: "gal" }, "Bob", {}));
    const bob = ans?.results?.find((r) => /bob@interop\.test/i.test(r.PrimaryEmail ?? ""));
    check("GAL: Bob found with his address", bob, JSON.stringify(ans));
    check("GAL: display name split into first/last name", bob && bob.FirstName === "Bob" && bob.LastName === "Organizer", JSON.stringify(bob));
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
}

try {
  await main();
} catch (e) {
  check("harness", false, e?.stack ?? e);
}
const bad = env.requests.filter((r) => r.status >= 500);
check("no HTTP 5xx from the server", bad.length === 0, bad.map((r) => `${r.method} ${r.cmd ?? r.url} -> ${r.status}`).join("; "));
for (const l of globalThis.__host?.log ?? []) {
  if (l.level === "error" || l.level === "warning" || process.env.INTEROP_VERBOSE) console.log(`# [${l.level}] ${l.message}${process.env.INTEROP_VERBOSE && l.details ? "\n" + l.details : ""}`);
}
console.log(`# ${env.requests.length} HTTP requests: ${[...new Set(env.requests.map((r) => r.cmd ?? r.method))].join(", ")}; ActiveSync versions on the wire: ${[...new Set(env.requests.filter((r) => r.version).map((r) => r.version))].join(", ")}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
