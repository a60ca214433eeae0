/**
 * The indexed fields of each non-mail class: checked (types and ranges; the
 * store does not parse the iCalendar/vCard body, the caller supplies what it
 * says), written to the class's index table (migration 0030) and read back.
 */
import { StoreError } from "./api.ts";
import type { Queryable } from "./db.ts";
import type { CalendarFields, ClassFields, ContactFields, GroupwareClass, NoteFields, TaskFields } from "./item-api.ts";

type Row = Record<string, unknown>;
type Stored<C extends GroupwareClass> = Required<ClassFields[C]>;
/** Checked fields of any class (what checkFields returns and writeIndexRow takes). */
export type CheckedFields = Stored<GroupwareClass>;

/** Table holding each class's index row. */
export const CLASS_TABLE: Record<GroupwareClass, string> = {
  calendar: "calendar_items",
  contacts: "contact_items",
  tasks: "task_items",
  notes: "note_items",
};

export const GROUPWARE_CLASSES: readonly GroupwareClass[] = ["calendar", "contacts", "tasks", "notes"];

// A time is UTC ms within years 0001-9999 (RFC 5545 §3.3.4 dates have four-digit years).
const MIN_TIME = -62135596800000;
const MAX_TIME = 253402300799999;
/** calendar_items.span_end_utc of an unbounded recurring event (migration 0032): after every accepted time. */
export const UNBOUNDED_SPAN_END = MAX_TIME + 1;

/** When an event's last instance ends (migration 0032): what the time-range index is ordered by. */
export function spanEnd(e: Required<CalendarFields>): number {
  const base = !e.isRecurring ? e.dtEnd : e.lastInstance === null ? UNBOUNDED_SPAN_END : Math.min(UNBOUNDED_SPAN_END, e.lastInstance + (e.dtEnd - e.dtStart));
  // an overridden instance that ends later (moved or lengthened) extends it (the caller expanded the object)
  return e.spanEnd === null ? base : Math.max(base, e.spanEnd);
}
const MAX_TEXT = 64 * 1024;
const MAX_UID = 2048;
const MAX_LIST = 500;

const bad = (msg: string) => new StoreError("INVALID", msg);

function text(v: unknown, name: string, max = MAX_TEXT): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string" || v.length > max) throw bad(`${name} must be a string of at most ${max} characters`);
  return v;
}

function textOrNull(v: unknown, name: string, max = MAX_TEXT): string | null {
  if (v === undefined || v === null) return null;
  return text(v, name, max);
}

function uid(v: unknown): string {
  if (typeof v !== "string" || v === "" || v.length > MAX_UID || /[\x00-\x08\x0a-\x1f\x7f]/.test(v)) throw bad("uid must be 1-2048 characters without control characters");
  return v;
}

function time(v: unknown, name: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < MIN_TIME || v > MAX_TIME) throw bad(`${name} must be a time in UTC milliseconds (years 1-9999)`);
  return v;
}

function timeOrNull(v: unknown, name: string): number | null {
  return v === undefined || v === null ? null : time(v, name);
}

function bool(v: unknown, name: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw bad(`${name} must be true or false`);
  return v;
}

function oneOf(v: unknown, name: string, allowed: readonly string[]): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string" || !allowed.includes(v.toUpperCase())) throw bad(`${name} must be one of ${allowed.join(", ")}`);
  return v.toUpperCase();
}

function list(v: unknown, name: string, each: (s: string) => string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_LIST) throw bad(`${name} must be a list of at most ${MAX_LIST} strings`);
  return v.map((s) => {
    if (typeof s !== "string" || s.trim() === "" || s.length > 320 || /[\x00-\x1f\x7f]/.test(s)) throw bad(`${name} has a value that is empty, over 320 characters or has control characters`);
    return each(s.trim());
  });
}

/** Attendees: lower-case addresses (mailto: stripped), once each, PARTSTAT upper case (RFC 5545 §3.2.12). */
function people(v: unknown): { address: string; partstat: string }[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_LIST) throw bad(`attendees must be a list of at most ${MAX_LIST}`);
  const seen = new Map<string, { address: string; partstat: string }>();
  for (const a of v as unknown[]) {
    const o = a as { address?: unknown; partstat?: unknown };
    if (!o || typeof o.address !== "string" || o.address.trim() === "" || o.address.length > 1024 || /[\x00-\x1f\x7f]/.test(o.address)) {
      throw bad("an attendee is { address, partstat? } with a non-empty address of at most 1024 characters");
    }
    if (o.partstat !== undefined && (typeof o.partstat !== "string" || o.partstat.length > 64)) throw bad("an attendee's partstat is text of at most 64 characters");
    const address = o.address.trim().replace(/^mailto:/i, "").toLowerCase();
    if (address === "") continue; // a bare "mailto:" names nobody
    if (!seen.has(address)) seen.set(address, { address, partstat: (o.partstat ?? "NEEDS-ACTION").toUpperCase() });
  }
  return [...seen.values()];
}

function calendar(f: CalendarFields): Stored<"calendar"> {
  const dtStart = time(f.dtStart, "dtStart");
  const dtEnd = time(f.dtEnd, "dtEnd");
  if (dtEnd < dtStart) throw bad("dtEnd must not be before dtStart");
  const isRecurring = bool(f.isRecurring, "isRecurring");
  const lastInstance = timeOrNull(f.lastInstance, "lastInstance");
  if (!isRecurring && lastInstance !== null) throw bad("lastInstance is only for a recurring event");
  if (lastInstance !== null && lastInstance < dtStart) throw bad("lastInstance must not be before dtStart");
  const sequence = f.sequence ?? 0;
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw bad("sequence must be a non-negative integer");
  return {
    uid: uid(f.uid),
    recurrenceId: timeOrNull(f.recurrenceId, "recurrenceId"),
    dtStart,
    dtEnd,
    allDay: bool(f.allDay, "allDay"),
    isRecurring,
    rrule: textOrNull(f.rrule, "rrule", 4096),
    lastInstance,
    spanEnd: timeOrNull(f.spanEnd, "spanEnd"),
    summary: text(f.summary, "summary"),
    location: text(f.location, "location"),
    organizer: textOrNull(f.organizer, "organizer", 1024),
    attendees: people(f.attendees),
    // RFC 5545 §3.8.1.11 (VEVENT statuses), §3.8.2.7 (TRANSP)
    status: oneOf(f.status, "status", ["TENTATIVE", "CONFIRMED", "CANCELLED"]),
    transp: oneOf(f.transp, "transp", ["OPAQUE", "TRANSPARENT"]),
    sequence,
  };
}

function contact(f: ContactFields): Stored<"contacts"> {
  const fullName = text(f.fullName, "fullName", 1024);
  return {
    uid: uid(f.uid),
    fullName,
    sortName: f.sortName === undefined ? fullName : text(f.sortName, "sortName", 1024),
    emails: list(f.emails, "emails", (s) => {
      if (!s.includes("@") || /\s/.test(s)) throw bad(`emails: not an address: ${s.slice(0, 100)}`);
      return s.toLowerCase();
    }),
    phones: list(f.phones, "phones", (s) => s),
    org: text(f.org, "org", 1024),
  };
}

function task(f: TaskFields): Stored<"tasks"> {
  const priority = f.priority ?? 0;
  // RFC 5545 §3.8.1.9: 0 = undefined, 1 highest .. 9 lowest
  if (!Number.isInteger(priority) || priority < 0 || priority > 9) throw bad("priority must be an integer 0-9");
  return {
    uid: uid(f.uid),
    summary: text(f.summary, "summary"),
    due: timeOrNull(f.due, "due"),
    start: timeOrNull(f.start, "start"),
    completed: timeOrNull(f.completed, "completed"),
    // RFC 5545 §3.8.1.11 (VTODO statuses)
    status: oneOf(f.status, "status", ["NEEDS-ACTION", "COMPLETED", "IN-PROCESS", "CANCELLED"]),
    priority,
    isRecurring: bool(f.isRecurring, "isRecurring"),
  };
}

function note(f: NoteFields): Stored<"notes"> {
  return { subject: text(f.subject, "subject", 4096) };
}

/** Checks `fields` for class `c`, filling defaults. */
export function checkFields(c: GroupwareClass, fields: unknown): Stored<GroupwareClass> {
  if (!fields || typeof fields !== "object") throw bad("fields must be an object");
  switch (c) {
    case "calendar":
      return calendar(fields as CalendarFields);
    case "contacts":
      return contact(fields as ContactFields);
    case "tasks":
      return task(fields as TaskFields);
    case "notes":
      return note(fields as NoteFields);
  }
  throw bad(`not an item class the item API creates: ${String(c)}`);
}

/** What list views show as the item's title (kept in items.subject). */
export function titleOf(c: GroupwareClass, f: Stored<GroupwareClass>): string {
  if (c === "contacts") return (f as Stored<"contacts">).fullName;
  if (c === "notes") return (f as Stored<"notes">).subject;
  return (f as Stored<"calendar" | "tasks">).summary;
}

/**
 * Rough check that the body is the class's canonical format (the first line,
 * after an optional BOM and blank space): iCalendar for events and tasks
 * (RFC 5545 §3.4), vCard for contacts (RFC 6350 §6.1.1), a header field for
 * a MIME note. It catches a body of the wrong kind, not a malformed one.
 */
export function checkBody(c: GroupwareClass, body: unknown): void {
  if (!(body instanceof Uint8Array) || body.byteLength === 0) throw bad("body must be non-empty bytes");
  let head = new TextDecoder("utf-8", { fatal: false }).decode(body.subarray(0, 64)).replace(/^\uFEFF/, "").trimStart().toUpperCase();
  if (c === "calendar" || c === "tasks") {
    if (!head.startsWith("BEGIN:VCALENDAR")) throw bad("an event or task body must be an iCalendar object (BEGIN:VCALENDAR)");
  } else if (c === "contacts") {
    if (!head.startsWith("BEGIN:VCARD")) throw bad("a contact body must be a vCard (BEGIN:VCARD)");
  } else {
    head = head.split(/\r?\n/)[0];
    // RFC 5322 §2.2: a header field name is printable ASCII except colon, then ':'
    if (!/^[\x21-\x39\x3b-\x7e]+:/.test(head)) throw bad("a note body must be a MIME message (header fields first)");
  }
}

/** Writes (replacing) the class index row of item `id`. Caller holds the write transaction. */
export async function writeIndexRow(tx: Queryable, c: GroupwareClass, id: number, accountId: number, folderId: number, f: Stored<GroupwareClass>): Promise<void> {
  await tx.run(`DELETE FROM ${CLASS_TABLE[c]} WHERE item_id = ?`, [id]);
  if (c === "calendar") {
    const e = f as Stored<"calendar">;
    await tx.run(
      `INSERT INTO calendar_items (item_id, account_id, folder_id, uid, recurrence_id, dtstart_utc, dtend_utc, all_day, is_recurring, rrule,
         last_instance_utc, span_end_utc, summary, location, organizer, status, transp, sequence) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [id, accountId, folderId, e.uid, e.recurrenceId, e.dtStart, e.dtEnd, e.allDay ? 1 : 0, e.isRecurring ? 1 : 0, e.rrule, e.lastInstance, spanEnd(e), e.summary, e.location, e.organizer, e.status, e.transp, e.sequence],
    );
    // the organizer and the attendees, for lookups by address (migration 0035)
    await tx.run("DELETE FROM calendar_people WHERE item_id = ?", [id]);
    const rows: [string, string, string | null][] = [];
    if (e.organizer) rows.push([e.organizer.replace(/^mailto:/i, "").toLowerCase(), "ORGANIZER", null]);
    for (const a of e.attendees as { address: string; partstat: string }[]) rows.push([a.address, "ATTENDEE", a.partstat]);
    for (let i = 0; i < rows.length; i += 200) {
      const chunk = rows.slice(i, i + 200);
      await tx.run(`INSERT INTO calendar_people (item_id, account_id, address, role, partstat) VALUES ${chunk.map(() => "(?, ?, ?, ?, ?)").join(", ")}`, chunk.flatMap(([a, r, p]) => [id, accountId, a, r, p]));
    }
  } else if (c === "contacts") {
    const k = f as Stored<"contacts">;
    await tx.run("INSERT INTO contact_items (item_id, account_id, folder_id, uid, full_name, sort_name, emails, phones, org) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
      id, accountId, folderId, k.uid, k.fullName, k.sortName, k.emails.join("\n"), k.phones.join("\n"), k.org,
    ]);
    await tx.run("DELETE FROM contact_terms WHERE item_id = ?", [id]);
    const terms = contactTerms(k);
    for (let i = 0; i < terms.length; i += 200) {
      const chunk = terms.slice(i, i + 200);
      await tx.run(`INSERT INTO contact_terms (item_id, account_id, term) VALUES ${chunk.map(() => "(?, ?, ?)").join(", ")}`, chunk.flatMap((t) => [id, accountId, t]));
    }
  } else if (c === "tasks") {
    const t = f as Stored<"tasks">;
    await tx.run(
      "INSERT INTO task_items (item_id, account_id, folder_id, uid, summary, due_utc, start_utc, completed_utc, status, priority, is_recurring) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      [id, accountId, folderId, t.uid, t.summary, t.due, t.start, t.completed, t.status, t.priority, t.isRecurring ? 1 : 0],
    );
  } else {
    await tx.run("INSERT INTO note_items (item_id, account_id, folder_id, subject) VALUES (?, ?, ?, ?)", [id, accountId, folderId, (f as Stored<"notes">).subject]);
  }
}

/** Lower-case search terms of a contact: each address, the whole name, and each word of the names and organisation. */
export function contactTerms(k: Stored<"contacts">): string[] {
  const out = new Set<string>();
  for (const e of k.emails) out.add(e);
  for (const s of [k.fullName, k.sortName, k.org]) {
    const n = foldCase(s).trim();
    if (!n) continue;
    out.add(n.slice(0, 256));
    for (const w of n.split(/[\s,;]+/)) if (w) out.add(w.slice(0, 256));
  }
  return [...out];
}

/** Case folding for search terms and prefixes (same on both sides of the comparison). */
export function foldCase(s: string): string {
  return s.normalize("NFC").toLowerCase();
}

/** Reads the index rows of items `ids` of class `c`, by item id. */
export async function readIndexRows(q: Queryable, c: GroupwareClass, ids: readonly number[], intList: string): Promise<Map<number, Stored<GroupwareClass>>> {
  const out = new Map<number, Stored<GroupwareClass>>();
  if (ids.length === 0) return out;
  const rows = await q.all<Row>(`SELECT * FROM ${CLASS_TABLE[c]} WHERE item_id IN (${intList})`, [JSON.stringify(ids)]);
  for (const r of rows) {
    const f = rowToFields(c, r);
    if (c === "calendar") {
      delete (f as Partial<Stored<"calendar">>).spanEnd;
      delete (f as Partial<Stored<"calendar">>).attendees;
    }
    out.set(Number(r.item_id), f);
  }
  return out;
}

const n = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const s = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const lines = (v: unknown): string[] => (v ? String(v).split("\n").filter(Boolean) : []);

function rowToFields(c: GroupwareClass, r: Row): Stored<GroupwareClass> {
  switch (c) {
    case "calendar":
      return {
        uid: String(r.uid),
        recurrenceId: n(r.recurrence_id),
        dtStart: Number(r.dtstart_utc),
        dtEnd: Number(r.dtend_utc),
        allDay: Number(r.all_day) !== 0,
        isRecurring: Number(r.is_recurring) !== 0,
        rrule: s(r.rrule),
        lastInstance: n(r.last_instance_utc),
        spanEnd: null, // an input only (what was written is in span_end_utc); left out of Item.fields below
        attendees: [], // an input only (indexed in calendar_people); left out too
        summary: String(r.summary ?? ""),
        location: String(r.location ?? ""),
        organizer: s(r.organizer),
        status: s(r.status),
        transp: s(r.transp),
        sequence: Number(r.sequence ?? 0),
      };
    case "contacts":
      return { uid: String(r.uid), fullName: String(r.full_name ?? ""), sortName: String(r.sort_name ?? ""), emails: lines(r.emails), phones: lines(r.phones), org: String(r.org ?? "") };
    case "tasks":
      return {
        uid: String(r.uid),
        summary: String(r.summary ?? ""),
        due: n(r.due_utc),
        start: n(r.start_utc),
        completed: n(r.completed_utc),
        status: s(r.status),
        priority: Number(r.priority ?? 0),
        isRecurring: Number(r.is_recurring) !== 0,
      };
    case "notes":
      return { subject: String(r.subject ?? "") };
  }
}
