/**
 * `pillarbox calendar import|export|list` and `pillarbox contacts
 * import|export|list` end to end: each command in its own process (as an
 * admin runs it) on a temp data dir, with a 2,000-event file that holds
 * malformed entries, a re-import (updates, never duplicates), exports read
 * back by Python's icalendar and vobject (Debian python3-icalendar and
 * python3-vobject, which python3-caldav brings in CI), and byte-exact vCards.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { createGroupware } from "../../src/groupware/index.ts";
import { createLogger } from "../../src/log.ts";
import { run, runCli } from "../helpers/proc.ts";
import { eventsFile, generateContacts, generateEvents } from "../../scripts/bench/dav/generate.ts";

setDefaultTimeout(120_000);

const root = mkdtempSync(join(tmpdir(), "pb-cli-gw-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dir = join(root, "data");
const USER = "ann@gw.example";

function cli(args: string[], input?: string) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env, input, timeoutMs: 120_000 });
}

/** Reads the account's collections with the groupware service on the data dir. */
async function withGroupware<T>(fn: (gw: ReturnType<typeof createGroupware>, account: NonNullable<Awaited<ReturnType<Awaited<ReturnType<typeof openStore>>["getAccount"]>>>) => Promise<T>): Promise<T> {
  const s = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir });
  try {
    const account = (await s.getAccount(USER))!;
    return await fn(createGroupware(s, { log: createLogger("warn") }), account);
  } finally {
    await s.close();
  }
}

const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
/** Runs a Python script that needs Debian's icalendar/vobject; null when they are missing outside CI. */
async function python(script: string, args: string[]): Promise<string | null> {
  const probe = await run(PY, ["-c", "import icalendar, vobject"]);
  if (probe.code !== 0) {
    if (process.env.CI === "true") throw new Error(`python3-icalendar/python3-vobject missing under CI: ${probe.stderr}`);
    return null;
  }
  const r = await run(PY, ["-c", script, ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

// ------------------------------------------------------------------ the 2,000-event file

const CRLF = "\r\n";
const good = generateEvents(1994, 200, 4791);
const goodTodo = ["BEGIN:VTODO", "UID:todo-1@gw.example", "DTSTAMP:20260101T000000Z", "SUMMARY:file the report", "DUE:20260301T120000Z", "END:VTODO"].join(CRLF);
/** Malformed entries and where they go (index among the VEVENT blocks); each must be skipped with a reason. */
const bad = {
  noUid: ["BEGIN:VEVENT", "DTSTAMP:20260101T000000Z", "SUMMARY:no uid at all", "DTSTART:20260105T100000Z", "END:VEVENT"].join(CRLF),
  badDate: ["BEGIN:VEVENT", "UID:bad-date@gw.example", "DTSTAMP:20260101T000000Z", "SUMMARY:bad date", "DTSTART:2026-13-45 25:61", "DTEND:20260105T110000Z", "END:VEVENT"].join(CRLF),
  badRule: ["BEGIN:VEVENT", "UID:bad-rule@gw.example", "DTSTAMP:20260101T000000Z", "SUMMARY:bad rule", "DTSTART:20260105T100000Z", "RRULE:FREQ=SOMETIMES;COUNT=x", "END:VEVENT"].join(CRLF),
};
/** A truncated download: the last event and the calendar never end. */
const cutOff = ["BEGIN:VEVENT", "UID:cut-off@gw.example", "DTSTAMP:20260101T000000Z", "DTSTART:20260105T100000Z", "SUMMARY:cut o"].join(CRLF);

let icsText = "";
let eventCount = 0;
beforeAll(async () => {
  const blocks = good.map((e) => /BEGIN:VEVENT[\s\S]*END:VEVENT/.exec(e.text)![0]);
  blocks.splice(100, 0, bad.noUid);
  blocks.splice(700, 0, bad.badDate);
  blocks.splice(1300, 0, bad.badRule);
  blocks.splice(1500, 0, goodTodo);
  blocks.push(cutOff);
  eventCount = blocks.length;
  // one VCALENDAR with the zone once, as calendar apps export, cut off in the last event
  const base = eventsFile([]);
  icsText = base.replace(/END:VCALENDAR\r\n$/, blocks.join(CRLF) + CRLF);
  writeFileSync(join(root, "cal.ics"), icsText);
  const dom = await cli(["domain", "add", "gw.example"]);
  expect(dom.code).toBe(0);
  const add = await cli(["user", "add", USER, "--password-stdin"], "pw-1234567890\n");
  expect(add.code).toBe(0);
});

describe("calendar import", () => {
  test("a 2,000-object file with malformed entries: the good ones imported, the bad ones reported by position and skipped", async () => {
    expect(eventCount).toBe(1999);
    const r = await cli(["calendar", "import", USER, join(root, "cal.ics")]);
    // something was skipped: exit 1, but everything good is in
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/into ann@gw\.example\/\S+ and ann@gw\.example\/\S+: 1995 imported, 0 updated, 0 unchanged, \d+ skipped/);
    // the progress line every 500 objects (stderr is not a terminal here: one line each)
    for (const n of [500, 1000, 1500]) expect(r.stderr).toMatch(new RegExp(`importing .*cal\\.ics: ${n}/\\d+ \\(\\d+%\\)\\n`));
    // bad ones: each named with its position and a reason
    const skipped = r.stderr.split("\n").filter((l) => l.startsWith("skipped "));
    expect(skipped.length).toBeGreaterThanOrEqual(4);
    expect(skipped.some((l) => /UID/i.test(l) && /no uid|without (a )?uid|UID/i.test(l))).toBe(true);
    const badDate = skipped.find((l) => l.includes("bad-date@gw.example"));
    expect(badDate).toMatch(/object \d+ \(UID bad-date@gw\.example, line \d+\): \S/);
    const line = Number(/line (\d+)/.exec(badDate!)![1]);
    expect(icsText.split("\n")[line - 1]).toBe("UID:bad-date@gw.example\r");
    expect(skipped.some((l) => l.includes("bad-rule@gw.example"))).toBe(true);
    expect(skipped.some((l) => /END:V(EVENT|CALENDAR)|unterminated|missing/i.test(l))).toBe(true);

    await withGroupware(async (gw, account) => {
      const cal = (await gw.listCollections(account, "calendar")).find((c) => c.isDefault)!;
      const tasks = (await gw.listCollections(account, "tasks")).find((c) => c.isDefault)!;
      const events = await gw.listObjects(cal);
      expect(events.length).toBe(1994);
      expect(await gw.findByUid(account, "calendar", "cut-off@gw.example")).toBeNull();
      expect(await gw.findByUid(account, "calendar", "bad-date@gw.example")).toBeNull();
      // the VTODO went to the task list
      const todos = await gw.listObjects(tasks);
      expect(todos.map((o) => (o.item.fields as { uid: string }).uid)).toEqual(["todo-1@gw.example"]);
      // each stored object holds its component byte for byte (master and overrides of one UID together)
      const withOverride = good.find((e) => (e.text.match(/BEGIN:VEVENT/g) ?? []).length > 1)!;
      const stored = events.find((o) => (o.item.fields as { uid: string }).uid === withOverride.uid)!;
      const body = Buffer.from(await gw.readBody(stored)).toString("utf8");
      for (const block of withOverride.text.match(/BEGIN:VEVENT[\s\S]*?END:VEVENT/g)!) expect(body).toContain(block);
      expect(body).toContain("BEGIN:VTIMEZONE");
    });
  });

  test("importing again updates instead of duplicating; identical objects are left alone", async () => {
    const changedUid = good[10]!.uid;
    // edit the SUMMARY of one event by its UID
    const idx = icsText.indexOf(`UID:${changedUid}`);
    const sIdx = icsText.indexOf("SUMMARY:", idx);
    const text2 = icsText.slice(0, sIdx) + "SUMMARY:edited title" + icsText.slice(icsText.indexOf("\r\n", sIdx));
    writeFileSync(join(root, "cal2.ics"), text2);
    const r = await cli(["calendar", "import", USER, join(root, "cal2.ics")]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/: 0 imported, 1 updated, 1994 unchanged, \d+ skipped/);
    await withGroupware(async (gw, account) => {
      const cal = (await gw.listCollections(account, "calendar")).find((c) => c.isDefault)!;
      expect((await gw.listObjects(cal)).length).toBe(1994);
      const found = await gw.findByUid(account, "calendar", changedUid);
      expect(Buffer.from(await gw.readBody(found!.object)).toString("utf8")).toContain("SUMMARY:edited title");
    });
  });

  test("--calendar NAME imports into a new calendar (created) from standard input", async () => {
    const small = eventsFile(generateEvents(30, 5, 99));
    const r = await cli(["calendar", "import", USER, "-", "--calendar", "travel"], small);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("created calendar travel");
    expect(r.stdout).toContain("30 objects into ann@gw.example/travel: 30 imported, 0 updated, 0 unchanged, 0 skipped");
    const list = await cli(["calendar", "list", USER]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^travel\s+calendar\s+travel\s+30\s*$/m);
    expect(list.stdout).toMatch(/\s1994\s+yes/);
  });

  test("on a terminal the progress line is rewritten in place", async () => {
    // script(1) (bsdutils, essential in Debian) runs the CLI on a pseudo-terminal
    const file = join(root, "tty.ics");
    writeFileSync(file, eventsFile(generateEvents(600, 10, 7)));
    // an account of its own, so the other tests' counts stay as they are
    expect((await cli(["user", "add", "tty@gw.example", "--password-stdin"], "pw-1234567890\n")).code).toBe(0);
    const cmd = [process.execPath, join(import.meta.dir, "../../src/main.ts"), "calendar", "import", "tty@gw.example", file, "--calendar", "tty"].map((a) => `'${a}'`).join(" ");
    const r = await run("script", ["-qec", cmd, "/dev/null"], { env: { PILLARBOX_DATA_DIR: dir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined }, timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("\rimporting ");
    expect(r.stdout).toMatch(/\rimporting [^\n]*: 500\/600 \(83%\)\x1b\[K/);
    expect(r.stdout).toMatch(/600\/600 \(100%\)\x1b\[K\r?\n/);
    expect(r.stdout).toContain("600 objects into tty@gw.example/tty: 600 imported");
  });

  test("a task into an event calendar is refused per object, with the reason", async () => {
    const file = join(root, "todo.ics");
    writeFileSync(file, ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//t//t//EN", goodTodo.replace("todo-1", "todo-2"), "END:VCALENDAR", ""].join(CRLF));
    const r = await cli(["calendar", "import", USER, file, "--calendar", "travel"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/skipped object 1 \(UID todo-2@gw\.example, line 5\): .*VTODO/);
    expect(r.stdout).toContain("0 imported, 0 updated, 0 unchanged, 1 skipped");
  });

  test("errors: unknown account, missing file, a contacts collection as calendar", async () => {
    const a = await cli(["calendar", "import", "nobody@gw.example", join(root, "cal.ics")]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("no such account: nobody@gw.example");
    const b = await cli(["calendar", "import", USER, join(root, "missing.ics")]);
    expect(b.code).toBe(1);
    expect(b.stderr).toContain("no such file");
    const c = await cli(["calendar", "export", USER, join(root, "x.ics"), "--calendar", "Contacts"]);
    expect(c.code).toBe(1);
    expect(c.stderr).toContain("has no calendar or task list Contacts");
    expect(existsSync(join(root, "x.ics"))).toBe(false);
  });
});

describe("calendar export", () => {
  test("one VCALENDAR, each VTIMEZONE once, every object's components; Python's icalendar reads it", async () => {
    const file = join(root, "out.ics");
    const r = await cli(["calendar", "export", USER, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exported 2025 objects from .* to .*out\.ics/);
    expect(r.stderr).toMatch(/exporting to .*out\.ics: 2000\/2025/);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Pillarbox//")).toBe(true);
    expect(text.match(/^BEGIN:VCALENDAR\r$/gm)!.length).toBe(1);
    expect(text.match(/^BEGIN:VTIMEZONE\r$/gm)!.length).toBe(1);
    expect(text).toContain("BEGIN:VTODO");
    // an exported event's lines are the imported ones
    const one = good[42]!.text.match(/BEGIN:VEVENT[\s\S]*?END:VEVENT/)![0];
    expect(text).toContain(one);
    const out = await python(
      `
import sys, icalendar
cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
ev = [c for c in cal.walk('VEVENT')]
print(len(set(str(c['UID']) for c in ev)), len(ev), len(cal.walk('VTODO')), len(cal.walk('VTIMEZONE')))
`,
      [file],
    );
    if (out !== null) {
      const overrides = good.reduce((n, e) => n + (e.text.match(/BEGIN:VEVENT/g)!.length - 1), 0) + generateEvents(30, 5, 99).reduce((n, e) => n + (e.text.match(/BEGIN:VEVENT/g)!.length - 1), 0);
      expect(out.trim()).toBe(`2024 ${2024 + overrides} 1 1`);
    }
  });

  test("--calendar NAME and standard output", async () => {
    const r = await cli(["calendar", "export", USER, "-", "--calendar", "travel"]);
    expect(r.code).toBe(0);
    expect(r.stdout.match(/^BEGIN:VEVENT\r$/gm)!.length).toBeGreaterThanOrEqual(30);
    expect(r.stdout).toContain("X-WR-CALNAME:travel");
    expect(r.stderr).toContain("exported 30 objects from travel");
  });
});

describe("contacts import and export", () => {
  const cards = generateContacts(300, 42).map((c) => c.text);
  const noUid = ["BEGIN:VCARD", "VERSION:3.0", "FN:Nora Nouid", "N:Nouid;Nora;;;", "EMAIL:nora@example.org", "END:VCARD", ""].join(CRLF);
  const v21 = ["BEGIN:VCARD", "VERSION:2.1", "UID:old-21", "N:Old;Format", "FN:Old Format", "END:VCARD", ""].join(CRLF);
  const photo = [
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:photo-card",
    "FN:Pia Photo",
    "N:Photo;Pia;;;",
    "EMAIL;TYPE=INTERNET,WORK:pia@work.example",
    "EMAIL;TYPE=INTERNET,HOME:pia@home.example",
    "TEL;TYPE=CELL:+49 170 1234567",
    "TEL;TYPE=WORK:+49 30 7654321",
    "PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////",
    " ////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=",
    "X-SOCIALPROFILE;TYPE=mastodon:https://social.example/@pia",
    "END:VCARD",
    "",
  ].join(CRLF);
  const all = [...cards.slice(0, 150), noUid, v21, photo, ...cards.slice(150)];

  test("import: cards stored byte-exact, a card without UID gets one, a vCard 2.1 skipped with its line", async () => {
    const file = join(root, "book.vcf");
    writeFileSync(file, all.join(""));
    const r = await cli(["contacts", "import", USER, file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("303 cards into ann@gw.example/");
    expect(r.stdout).toContain(": 302 imported, 0 updated, 0 unchanged, 1 skipped");
    expect(r.stdout).toContain("1 cards had no UID and were given one");
    const line = all.slice(0, 151).join("").split("\n").length;
    expect(r.stderr).toMatch(new RegExp(`skipped card 152 \\(line ${line}\\): .*2\\.1`));
    // again: nothing new, the derived UID is stable
    const again = await cli(["contacts", "import", USER, file]);
    expect(again.stdout).toContain(": 0 imported, 0 updated, 302 unchanged, 1 skipped");
  });

  test("export: every card exactly as imported; vobject reads the file", async () => {
    const file = join(root, "out.vcf");
    const r = await cli(["contacts", "export", USER, file]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/exported 302 cards from \S+ \(\d+ bytes\) to .*out\.vcf/);
    const text = readFileSync(file, "utf8");
    for (const c of [...cards, photo]) expect(text).toContain(c);
    expect(text).toContain("FN:Nora Nouid");
    expect(text).toMatch(/UID:urn:uuid:[0-9a-f-]{36}\r\nFN:Nora Nouid/);
    const out = await python(
      `
import sys, vobject
n = 0; uids = set()
for c in vobject.readComponents(open(sys.argv[1], encoding='utf-8').read()):
    n += 1; uids.add(c.uid.value)
print(n, len(uids))
`,
      [file],
    );
    if (out !== null) expect(out.trim()).toBe("302 302");
    const list = await cli(["contacts", "list", USER]);
    expect(list.stdout).toMatch(/\s302\s+yes/);
  });
});

describe("--help", () => {
  test("each command documents itself", async () => {
    for (const [cmd, words] of [
      [["calendar", "import"], ["FILE.ics", "--calendar NAME", "never duplicated", "never send invitations", "progress"]],
      [["calendar", "export"], ["FILE.ics", "VTIMEZONE once"]],
      [["contacts", "import"], ["FILE.vcf", "--addressbook NAME", "without UID"]],
      [["contacts", "export"], ["FILE.vcf", "exactly as stored"]],
      [["calendar", "list"], ["calendars and task lists"]],
    ] as const) {
      const r = await cli([...cmd, "--help"]);
      expect(r.code).toBe(0);
      for (const w of words) expect(r.stdout).toContain(w);
    }
  });
});
