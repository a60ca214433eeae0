/**
 * An attendee's answer to a meeting written into their own calendar copy:
 * their ATTENDEE line's PARTSTAT (RFC 5545 §3.2.12) in the whole event or
 * in one occurrence (an override with RECURRENCE-ID, RFC 5545 §3.8.4.4,
 * made from the master when there is none yet). Used by ActiveSync's
 * MeetingResponse (protocols/http/eas/commands/meetingresponse.ts), a
 * device's own iMIP REPLY sent with SendMail (eas/email/meeting-sent.ts) and
 * the webmail's invitation card.
 *
 * The write goes through the groupware service with the stored ETag as
 * If-Match (retried when another write came in between). With
 * `schedule: true` the implicit scheduler (src/groupware/scheduling/
 * outgoing.ts, RFC 6638 §3.2.2) sends the iMIP REPLY to the organizer for
 * exactly the instances whose answer changed.
 */
import ICAL from "ical.js";
import type { Account } from "../../../storage/api.ts";
import { GroupwareError, type Collection, type Groupware, type StoredObject } from "../types.ts";
import { serialize } from "../ical/index.ts";
import { timeProp } from "../ical/spans.ts";
import { timeToMs } from "../ical/zones.ts";
import { resourceNameFor } from "./incoming.ts";
import { calAddress, instanceKey, isCancelled, organizerOf, schedulingComponents } from "./itip.ts";

/** Why an answer could not be stored; `status` is the MeetingResponse Status (MS-ASCMD §2.2.3.177.9: 2 invalid meeting request, 3 mailbox error). */
export class AnswerError extends Error {
  constructor(
    message: string,
    public readonly status: number = 2,
  ) {
    super(message);
    this.name = "AnswerError";
  }
}

export type Partstat = "ACCEPTED" | "TENTATIVE" | "DECLINED";

export interface AnswerTarget {
  partstat: string;
  /**
   * UTC ms of the occurrence's RECURRENCE-ID (its original start); null =
   * the whole event (the master and every override: a MeetingResponse for
   * the series); "master" = the master component only (an iTIP REPLY
   * without RECURRENCE-ID, RFC 5546 §3.2.3, as the organizer's copy reads it).
   */
  instance: number | null | "master";
}

export interface AnswerInput {
  groupware: Groupware;
  account: Account;
  /** The account's own addresses, lower case (its address and aliases). */
  mine: ReadonlySet<string>;
  uid: string;
  targets: AnswerTarget[];
  /** Send the iMIP REPLY (16.x SendResponse); false when the device sends its own. */
  schedule: boolean;
  /** The invitation (a VCALENDAR of this UID without METHOD) to create the event from when the calendar has none yet; null: AnswerError. */
  invitation: ICAL.Component | null;
  /**
   * The attendee's note for the organizer, carried by the REPLY as COMMENT (RFC 5546 §3.2.3,
   * RFC 5545 §3.8.1.4): given, it replaces the COMMENT of every component answered ("" removes
   * it, so an earlier note is not sent again); undefined leaves COMMENT as stored (ActiveSync).
   */
  comment?: string;
}

/** A comment longer than this is cut (a note, not a document). */
export const MAX_COMMENT = 2000;

const WRITE_ATTEMPTS = 4;
/** Occurrences answered in one call (a REPLY may list several). */
const MAX_TARGETS = 100;

/** Stores the answer; returns where the event is. */
export async function answerMeeting(x: AnswerInput): Promise<{ collection: Collection; object: StoredObject }> {
  if (!x.targets.length || x.targets.length > MAX_TARGETS) throw new AnswerError(`${x.targets.length} answers in one message`);
  for (let attempt = 0; ; attempt++) {
    const found = await x.groupware.findByUid(x.account, "calendar", x.uid);
    let root: ICAL.Component;
    let collection: Collection;
    let name: string;
    if (found) {
      root = ICAL.Component.fromString(new TextDecoder().decode(await x.groupware.readBody(found.object)));
      collection = found.collection;
      name = found.object.resourceName;
    } else {
      if (!x.invitation) throw new AnswerError(`no event with UID ${x.uid.slice(0, 100)} in the calendar`);
      root = new ICAL.Component(ICAL.helpers.clone(x.invitation.toJSON(), true) as unknown[]);
      collection = await defaultCalendar(x.groupware, x.account);
      name = resourceNameFor(x.uid);
    }
    const answered = applyAnswers(root, x.mine, x.targets);
    if (x.comment !== undefined) setComment(answered, x.comment);
    const body = new TextEncoder().encode(serialize(root));
    try {
      const r = await x.groupware.putObject(collection, name, body, found ? { ifMatch: found.object.etag, actor: x.account, schedule: x.schedule } : { ifNoneMatch: "*", actor: x.account, schedule: x.schedule });
      return { collection, object: r.object };
    } catch (e) {
      // Another write came in between (the iMIP processor filing the same invitation, a CalDAV client): decide again on what is stored now.
      const raced = e instanceof GroupwareError && (e.code === "PRECONDITION" || e.code === "UID_CONFLICT");
      if (raced && attempt < WRITE_ATTEMPTS) continue;
      if (e instanceof GroupwareError && (e.code === "INVALID_DATA" || e.code === "INVALID_OBJECT" || e.code === "LIMIT")) throw new AnswerError(`the event cannot be stored: ${e.message}`);
      throw e;
    }
  }
}

async function defaultCalendar(gw: Groupware, account: Account): Promise<Collection> {
  await gw.ensureDefaults(account);
  const list = await gw.listCollections(account, "calendar");
  const c = list.find((x) => x.isDefault) ?? list[0];
  if (!c) throw new AnswerError("the account has no calendar", 3);
  return c;
}

/** UTC ms of a component's RECURRENCE-ID, or null. */
function recurrenceMs(comp: ICAL.Component): number | null {
  const t = timeProp(comp, "recurrence-id");
  return t ? timeToMs(t, null) : null;
}

/** The account's ATTENDEE lines in a component. */
function myLines(comp: ICAL.Component, mine: ReadonlySet<string>): ICAL.Property[] {
  return comp.getAllProperties("attendee").filter((p) => mine.has(calAddress(p.getFirstValue())));
}

/** Replaces the COMMENT of each component with `text` (cut to MAX_COMMENT, control characters but line breaks dropped); "" removes it. */
export function setComment(comps: readonly ICAL.Component[], text: string): void {
  const clean = text.replace(/\r\n?/g, "\n").replace(/[\u0000-\u0009\u000b-\u001f\u007f]/g, "").trim().slice(0, MAX_COMMENT);
  for (const c of comps) {
    c.removeAllProperties("comment");
    if (clean) c.addPropertyWithValue("comment", clean);
  }
}

/**
 * Edits `root` in place: the account's PARTSTAT for each target. Throws
 * AnswerError when the account is the organizer, is not invited, the event
 * is cancelled, or an occurrence does not exist. Returns the components
 * whose answer was set.
 */
export function applyAnswers(root: ICAL.Component, mine: ReadonlySet<string>, targets: readonly AnswerTarget[]): ICAL.Component[] {
  const comps = schedulingComponents(root).filter((c) => c.name === "vevent");
  if (!comps.length) throw new AnswerError("not an event");
  const organizer = organizerOf(root);
  if (!organizer) throw new AnswerError("the event has no organizer: it is not a meeting");
  if (mine.has(organizer)) throw new AnswerError("the account organizes this meeting");
  if (isCancelled(root)) throw new AnswerError("the meeting was cancelled");
  if (!comps.some((c) => myLines(c, mine).length)) throw new AnswerError("the account is not an attendee of this meeting");
  const master = comps.find((c) => instanceKey(c) === "");
  const answered = new Set<ICAL.Component>();
  for (const t of targets) {
    const partstat = t.partstat.toUpperCase();
    if (t.instance === "master") {
      const lines = master ? myLines(master, mine) : [];
      if (!lines.length) throw new AnswerError("the account is not an attendee of the series");
      for (const p of lines) p.setParameter("partstat", partstat);
      if (master) answered.add(master);
      continue;
    }
    if (t.instance === null) {
      // The whole series: the master and every occurrence the account is invited to.
      for (const c of comps) {
        const lines = myLines(c, mine);
        for (const p of lines) p.setParameter("partstat", partstat);
        if (lines.length) answered.add(c);
      }
      continue;
    }
    let target = comps.find((c) => recurrenceMs(c) === t.instance);
    if (!target) {
      if (!master) throw new AnswerError("the meeting has no such occurrence");
      target = overrideFor(master, t.instance);
      root.addSubcomponent(target);
      comps.push(target);
    }
    if (String(target.getFirstPropertyValue("status") ?? "").toUpperCase() === "CANCELLED") throw new AnswerError("this occurrence was cancelled");
    const lines = myLines(target, mine);
    if (!lines.length) throw new AnswerError("the account is not an attendee of this occurrence");
    for (const p of lines) p.setParameter("partstat", partstat);
    answered.add(target);
  }
  return [...answered];
}

/** An ICAL.Time for UTC ms in the form of `like` (a DATE, a floating time, UTC, or a time in like's zone). */
function timeLike(ms: number, like: ICAL.Time): ICAL.Time {
  const utc = ICAL.Time.fromJSDate(new Date(ms), true);
  if (like.isDate) return ICAL.Time.fromData({ year: utc.year, month: utc.month, day: utc.day, isDate: true });
  const z = like.zone;
  if (!z || z === ICAL.Timezone.localTimezone || z.tzid === "floating") {
    return ICAL.Time.fromData({ year: utc.year, month: utc.month, day: utc.day, hour: utc.hour, minute: utc.minute, second: utc.second, isDate: false });
  }
  if (z === ICAL.Timezone.utcTimezone) return utc;
  return utc.convertToZone(z);
}

/** Does the master's recurrence set contain an occurrence starting at `ms`? (RRULE/RDATE minus EXDATE, bounded walk.) */
function hasOccurrence(master: ICAL.Component, ms: number): boolean {
  const start = timeProp(master, "dtstart");
  if (!start) return false;
  if (timeToMs(start, null) === ms) return true;
  const ev = new ICAL.Event(master);
  const it = ev.iterator();
  // A meeting's occurrences before the one asked for: bounded (a daily series over 30 years).
  for (let i = 0; i < 20_000; i++) {
    const next = it.next();
    if (!next) return false;
    const at = timeToMs(next, null);
    if (at === ms) return true;
    if (at > ms) return false;
  }
  return false;
}

/** An override of the occurrence at `ms` made from the master: same properties, the occurrence's times, RECURRENCE-ID in the DTSTART's form. */
function overrideFor(master: ICAL.Component, ms: number): ICAL.Component {
  if (!hasOccurrence(master, ms)) throw new AnswerError("the meeting has no occurrence at that time");
  const startProp = master.getFirstProperty("dtstart")!;
  const start = startProp.getFirstValue() as ICAL.Time;
  const comp = new ICAL.Component(ICAL.helpers.clone(master.toJSON(), true) as unknown[]);
  for (const name of ["rrule", "rdate", "exdate", "recurrence-id", "dtstart", "dtend", "duration"]) comp.removeAllProperties(name);
  const rid = timeLike(ms, start);
  const ridProp = ICAL.Property.fromString(startProp.toICALString().replace(/^DTSTART/i, "RECURRENCE-ID"));
  ridProp.setValue(rid);
  comp.addProperty(ridProp);
  const dtstart = ICAL.Property.fromString(startProp.toICALString());
  dtstart.setValue(rid.clone());
  comp.addProperty(dtstart);
  const endProp = master.getFirstProperty("dtend");
  const end = endProp?.getFirstValue();
  const duration = master.getFirstPropertyValue("duration");
  if (endProp && end instanceof ICAL.Time) {
    const e = rid.clone();
    e.addDuration(end.subtractDate(start));
    const dtend = ICAL.Property.fromString(endProp.toICALString());
    dtend.setValue(e);
    comp.addProperty(dtend);
  } else if (duration instanceof ICAL.Duration) {
    comp.addPropertyWithValue("duration", duration);
  }
  return comp;
}
