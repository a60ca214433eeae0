/**
 * The calendar and address book the groupware ActiveSync benchmark syncs
 * (scripts/bench/eas-server.ts seeds them): deterministic iCalendar events
 * and vCards of the sizes phones see.
 *
 * Events, by index: every 5th a weekly series (26 weeks, one EXDATE, and for
 * every 10th one moved instance), every 7th an all-day event, every 4th a
 * meeting with an organizer and three attendees, the rest single timed
 * events; all with a description, a location and a reminder, spread over
 * the year before and after `now`.
 */
const CRLF = "\r\n";
const DAY = 86_400_000;

const utc = (ms: number) => new Date(ms).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
const date = (ms: number) => utc(ms).slice(0, 8);

const WORDS = "quarterly review planning budget design standup retro customer visit training workshop interview offsite launch roadmap sync".split(" ");
const words = (i: number, n: number) => Array.from({ length: n }, (_, k) => WORDS[(i * 31 + k * 7) % WORDS.length]).join(" ");

export function benchEvent(i: number, now: number): string {
  const today = Math.floor(now / DAY) * DAY;
  const start = today + (((i * 7919) % 730) - 365) * DAY + (7 + (i % 11)) * 3_600_000;
  const uid = `bench-event-${i}@bench.test`;
  const lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Pillarbox bench//EN", "BEGIN:VEVENT", `UID:${uid}`, `DTSTAMP:${utc(now)}`];
  const allDay = i % 7 === 3;
  if (allDay) lines.push(`DTSTART;VALUE=DATE:${date(start)}`, `DTEND;VALUE=DATE:${date(start + DAY)}`);
  else lines.push(`DTSTART:${utc(start)}`, `DTEND:${utc(start + (30 + (i % 4) * 30) * 60_000)}`);
  lines.push(`SUMMARY:${words(i, 3)} ${i}`, `LOCATION:Room ${100 + (i % 40)}`, `DESCRIPTION:${words(i + 1, 24)}`, `CATEGORIES:${WORDS[i % WORDS.length]}`);
  const recurring = i % 5 === 0;
  if (recurring) lines.push("RRULE:FREQ=WEEKLY;COUNT=26", allDay ? `EXDATE;VALUE=DATE:${date(start + 14 * DAY)}` : `EXDATE:${utc(start + 14 * DAY)}`);
  if (i % 4 === 1) {
    lines.push("ORGANIZER;CN=Calendar Owner:mailto:cal0@bench.test");
    for (let k = 0; k < 3; k++) lines.push(`ATTENDEE;CN=Guest ${k};PARTSTAT=${["ACCEPTED", "TENTATIVE", "NEEDS-ACTION"][k]};ROLE=REQ-PARTICIPANT:mailto:guest${(i + k) % 50}@example.org`);
  }
  lines.push("BEGIN:VALARM", "ACTION:DISPLAY", "DESCRIPTION:Reminder", "TRIGGER:-PT15M", "END:VALARM", "END:VEVENT");
  if (recurring && i % 10 === 0 && !allDay) {
    // one moved instance: the third occurrence an hour later
    const rid = start + 21 * DAY;
    lines.push("BEGIN:VEVENT", `UID:${uid}`, `DTSTAMP:${utc(now)}`, `RECURRENCE-ID:${utc(rid)}`, `DTSTART:${utc(rid + 3_600_000)}`, `DTEND:${utc(rid + 5_400_000)}`, `SUMMARY:${words(i, 3)} ${i} (moved)`, "END:VEVENT");
  }
  lines.push("END:VCALENDAR", "");
  return lines.join(CRLF);
}

const FIRST = "Ada Alan Grace Linus Margaret Ken Barbara Dennis Frances John Radia Tim Hedy Claude Edsger Donald".split(" ");
const LAST = "Lovelace Turing Hopper Torvalds Hamilton Thompson Liskov Ritchie Allen Backus Perlman Berners-Lee Lamarr Shannon Dijkstra Knuth".split(" ");

export function benchContact(i: number): string {
  const first = FIRST[i % FIRST.length]!;
  const last = `${LAST[(i * 7) % LAST.length]}${i}`;
  return [
    "BEGIN:VCARD",
    "VERSION:3.0",
    `UID:bench-contact-${i}`,
    `FN:${first} ${last}`,
    `N:${last};${first};;;`,
    `EMAIL;TYPE=INTERNET,WORK:${first.toLowerCase()}.${last.toLowerCase()}@example.org`,
    `EMAIL;TYPE=INTERNET,HOME:${first.toLowerCase()}${i}@home.example`,
    `TEL;TYPE=WORK,VOICE:+44 20 7946 ${String(i % 10000).padStart(4, "0")}`,
    `TEL;TYPE=CELL:+44 7700 9${String(i % 100000).padStart(5, "0")}`,
    `ADR;TYPE=WORK:;;${1 + (i % 200)} High Street;London;;EC1A ${i % 10}BB;United Kingdom`,
    `ORG:Example ${WORDS[i % WORDS.length]} Ltd`,
    `TITLE:${words(i, 2)} lead`,
    `BDAY:${1950 + (i % 50)}-${String(1 + (i % 12)).padStart(2, "0")}-${String(1 + (i % 28)).padStart(2, "0")}`,
    `CATEGORIES:${i % 3 === 0 ? "Work" : "Friends"}`,
    `NOTE:${words(i, 12)}`,
    "END:VCARD",
    "",
  ].join(CRLF);
}
