/** `pillarbox calendar import|export|list`: calendars and task lists of an account as iCalendar files (RFC 5545). */
import { splitICalendar } from "../groupware/ical/index.ts";
import type { Collection } from "../groupware/types.ts";
import pkg from "../../package.json" with { type: "json" };
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkEmail, table, withStore } from "./common.ts";
import { CliError } from "./args.ts";
import { accountOf, collectionFor, importEntries, lineNumbers, openGroupware, OutputFile, printSummary, Progress, readInput, uidOf, type ImportEntry } from "./groupware-io.ts";

const CRLF = "\r\n";

/** A UID's first line in the file (for messages), one pass over the text. */
function uidLines(text: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = /^UID(?:;[^:\r\n]*)?:(.*?)\r?$/gim;
  const hits: { uid: string; at: number }[] = [];
  for (let m = re.exec(text); m; m = re.exec(text)) hits.push({ uid: m[1]!.trim(), at: m.index });
  const lines = lineNumbers(text, hits.map((h) => h.at));
  hits.forEach((h, i) => {
    if (!out.has(h.uid)) out.set(h.uid, lines[i]!);
  });
  return out;
}

const isTodo = (text: string) => /^BEGIN:VTODO\r?$/im.test(text);
const isEvent = (text: string) => /^BEGIN:VEVENT\r?$/im.test(text);

/**
 * The top-level components of one stored iCalendar object, as text (each
 * line as stored, CRLF-terminated): VTIMEZONEs by TZID, and the rest
 * (VEVENT/VTODO master and overrides). The VCALENDAR's own properties
 * (PRODID, VERSION, METHOD...) are left out: the export writes its own.
 */
export function componentsOf(body: string): { timezones: [tzid: string, text: string][]; components: string[] } {
  const timezones: [string, string][] = [];
  const components: string[] = [];
  let depth = 0;
  let cur: string[] = [];
  let curName = "";
  for (const line of body.split(/\r?\n/)) {
    const begin = /^BEGIN:([A-Za-z0-9-]+)\s*$/i.exec(line);
    const end = /^END:([A-Za-z0-9-]+)\s*$/i.exec(line);
    if (begin) {
      depth++;
      if (depth === 2) {
        cur = [];
        curName = begin[1]!.toUpperCase();
      }
    }
    if (depth >= 2) cur.push(line);
    if (end) {
      if (depth === 2) {
        const text = cur.join(CRLF) + CRLF;
        if (curName === "VTIMEZONE") timezones.push([uidOfTz(cur), text]);
        else components.push(text);
      }
      depth = Math.max(0, depth - 1);
    }
  }
  return { timezones, components };
}

function uidOfTz(lines: string[]): string {
  const l = lines.find((x) => /^TZID[;:]/i.test(x));
  return l ? l.slice(l.indexOf(":") + 1).trim() : "";
}

/** Writes the objects of `collections` as one VCALENDAR; returns the number of objects. */
async function exportCalendars(gw: ReturnType<typeof openGroupware>, collections: Collection[], out: OutputFile, progress: Progress): Promise<number> {
  out.write(`BEGIN:VCALENDAR${CRLF}VERSION:2.0${CRLF}PRODID:-//Pillarbox//Pillarbox ${pkg.version}//EN${CRLF}`);
  // RFC 7986 §5.1 NAME and the de-facto X-WR-CALNAME carry the calendar's name when there is one calendar.
  if (collections.length === 1) out.write(`X-WR-CALNAME:${escapeText(collections[0]!.displayName || collections[0]!.name)}${CRLF}`);
  const seenTz = new Set<string>();
  const bodies: string[] = [];
  let n = 0;
  // VTIMEZONEs first (RFC 5545 §3.6.5: referenced zones must be in the same object), each TZID once.
  for (const c of collections) {
    for (const o of await gw.listObjects(c)) {
      const text = Buffer.from(await gw.readBody(o)).toString("utf8");
      const parts = componentsOf(text);
      for (const [tzid, tz] of parts.timezones) {
        if (seenTz.has(tzid)) continue;
        seenTz.add(tzid);
        out.write(tz);
      }
      bodies.push(...parts.components);
      progress.tick(++n);
    }
  }
  for (const b of bodies) out.write(b);
  out.write(`END:VCALENDAR${CRLF}`);
  progress.done();
  return n;
}

/** RFC 5545 §3.3.11 TEXT escaping. */
function escapeText(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/;/g, "\\;").replace(/,/g, "\\,").replace(/\r?\n/g, "\\n");
}

export const calendarCommands: Command[] = [
  {
    name: "calendar list",
    usage: "EMAIL",
    summary: "list the calendars and task lists of an account",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "calendar list");
      await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        await gw.ensureDefaults(account);
        const rows: string[][] = [["NAME", "KIND", "DISPLAY NAME", "OBJECTS", "DEFAULT"]];
        for (const c of [...(await gw.listCollections(account, "calendar")), ...(await gw.listCollections(account, "tasks"))]) {
          rows.push([c.name, c.kind, c.displayName, String((await gw.listObjects(c)).length), c.isDefault ? "yes" : ""]);
        }
        io.out(table(rows));
      });
    },
  },
  {
    name: "calendar import",
    usage: "EMAIL FILE.ics [--calendar NAME]",
    summary: "import events and tasks from an iCalendar file",
    help: `Reads FILE.ics ("-" = standard input), splits it into one object per UID (with the
VTIMEZONEs each uses) and stores each one: events into the default calendar and tasks
into the default task list, or all into the calendar or task list NAME (created when
missing: a task list if the file holds only tasks, else a calendar). An object whose UID
is already in the target is updated (left alone when identical), never duplicated.
Imports never send invitations. Objects that cannot be stored (invalid iCalendar, no UID,
a task into a calendar...) are listed on standard error with their position and the
reason, and skipped; the rest is imported. A progress line is shown for large files.
Exit code 1 when anything was skipped.`,
    options: { ...COMMON_OPTIONS, calendar: { value: true, arg: "NAME", help: "the calendar or task list (URL name) to import into" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "calendar import");
      const file = args.positionals[1]!;
      const name = typeof args.options["calendar"] === "string" ? args.options["calendar"] : undefined;
      const text = await readInput(file, io);
      return await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        const split = splitICalendar(text);
        const lines = uidLines(text);
        const entries: ImportEntry[] = split.objects.map((t, i) => {
          const uid = uidOf(t);
          const line = uid !== null ? lines.get(uid) : undefined;
          return { position: `object ${i + 1}${uid !== null ? ` (UID ${uid}${line !== undefined ? `, line ${line}` : ""})` : ""}`, text: t, uid };
        });
        let where: string;
        let target: (e: ImportEntry) => Collection | string;
        if (name !== undefined) {
          const onlyTasks = entries.length > 0 && entries.every((e) => isTodo(e.text) && !isEvent(e.text));
          const c = await collectionFor(gw, account, name, ["calendar", "tasks"], onlyTasks ? "tasks" : "calendar", io);
          where = `${email}/${c.name}`;
          target = () => c;
        } else {
          const cal = await collectionFor(gw, account, undefined, ["calendar"], "calendar", io);
          const tasks = await collectionFor(gw, account, undefined, ["tasks"], "tasks", io);
          where = `${email}/${cal.name} and ${email}/${tasks.name}`;
          target = (e) => (isTodo(e.text) && !isEvent(e.text) ? tasks : cal);
        }
        const progress = new Progress(io, `importing ${file === "-" ? "standard input" : file}`, entries.length);
        const r = await importEntries(gw, entries, target, ".ics", progress);
        // what the splitter could not make an object of (its messages say where)
        r.skipped.unshift(...split.errors.map((reason) => ({ position: "in the file", reason })));
        return printSummary(io, `${entries.length} objects`, where, r);
      });
    },
  },
  {
    name: "calendar export",
    usage: "EMAIL FILE.ics [--calendar NAME]",
    summary: "export events and tasks to an iCalendar file",
    help: `Writes every calendar and task list of EMAIL (or only NAME) to FILE.ics ("-" = standard
output) as one VCALENDAR: each stored object's components exactly as stored (master and
overridden instances), each VTIMEZONE once. FILE is replaced only when the export is complete.`,
    options: { ...COMMON_OPTIONS, calendar: { value: true, arg: "NAME", help: "export only this calendar or task list (URL name)" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "calendar export");
      const file = args.positionals[1]!;
      const name = typeof args.options["calendar"] === "string" ? args.options["calendar"] : undefined;
      await withStore(args, io, async (store) => {
        const account = await accountOf(store, email);
        const gw = openGroupware(store);
        await gw.ensureDefaults(account);
        let collections: Collection[];
        if (name !== undefined) {
          const c = await gw.getCollection(account, name);
          if (!c || c.kind === "contacts") throw new CliError(`${email} has no calendar or task list ${name} (see: pillarbox calendar list ${email})`);
          collections = [c];
        } else collections = [...(await gw.listCollections(account, "calendar")), ...(await gw.listCollections(account, "tasks"))];
        let total = 0;
        for (const c of collections) total += (await gw.listObjects(c)).length;
        const out = new OutputFile(file, io);
        try {
          const n = await exportCalendars(gw, collections, out, new Progress(io, `exporting to ${file}`, total));
          out.commit();
          const msg = `exported ${n} objects from ${collections.map((c) => c.name).join(", ")} (${out.bytes} bytes)\n`;
          if (file === "-") io.err(msg);
          else io.out(msg.replace(/\n$/, ` to ${file}\n`));
        } catch (e) {
          out.abort();
          throw e;
        }
      });
    },
  },
];
