/**
 * What the invitation card shows (InvitationView): the event of an iTIP
 * message (invitation-read.ts) next to the user's calendar — their stored
 * copy and answer, other events at the same time (conflicts), and for an
 * update what changed since the version they had.
 *
 * "What changed" needs the version before: the iMIP processor usually
 * applied the update to the calendar at delivery, so the stored copy is
 * already the new one. The older version is then the previous REQUEST of
 * the same UID in the user's schedule inbox (RFC 6638 §2.2, where the
 * processor files every message it applied, src/groupware/scheduling/inbox.ts).
 */
import ICAL from "ical.js";
import type { Account } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import type { Collection, StoredObject } from "../../../src/groupware/types.ts";
import { spanOf, timeProp } from "../../../src/groupware/ical/spans.ts";
import { floatingZone, ianaName, timeToMs } from "../../../src/groupware/ical/zones.ts";
import { formatWhen } from "../../../src/groupware/scheduling/imip.ts";
import { listInbox } from "../../../src/groupware/scheduling/inbox.ts";
import { attendeesOfComponent, calAddress, instanceKey, isCancelled, organizerOf, schedulingComponents, sequenceOf } from "../../../src/groupware/scheduling/itip.ts";
import type { EventPerson, InvitationChange, InvitationView, Partstat } from "./api-types.ts";
import { parseInvitation, type MessageInvitation } from "./invitation-read.ts";
import { startForm } from "../../../src/groupware/model/event.ts";
import { ruleFromComponent, summariseRule } from "../../../src/groupware/model/recurrence.ts";

/** Conflicts listed at most (InvitationView.conflicts). */
const MAX_CONFLICTS = 5;
/** Objects of one calendar looked at for conflicts (a day packed with hundreds of events stops here). */
const MAX_CONFLICT_OBJECTS = 200;
/** Schedule-inbox entries read when looking for the previous version of an update (newest first), and the bytes read at most. */
const MAX_INBOX_SCAN = 100;
const MAX_INBOX_BYTES = 4 * 1024 * 1024;
/** An entry larger than this is not a version of a meeting worth reading for "what changed". */
const MAX_INBOX_ENTRY = 256 * 1024;
const MAX_DESCRIPTION = 10_000;
const MAX_LISTED_ATTENDEES = 500;

const PARTSTATS: readonly Partstat[] = ["NEEDS-ACTION", "ACCEPTED", "TENTATIVE", "DECLINED", "DELEGATED"];
const partstat = (v: string): Partstat => (PARTSTATS.includes(v as Partstat) ? (v as Partstat) : "NEEDS-ACTION");

export interface ViewInput {
  ctx: ServerContext;
  account: Account;
  /** The account's own addresses, lower case. */
  mine: ReadonlySet<string>;
  /** The user's zone (settings, else the server's): where floating and all-day times are placed. */
  userZone: string;
  inv: MessageInvitation;
  /** The message's From (the name of who answered, when a REPLY's ATTENDEE line has none). */
  from?: { name: string; address: string };
}

interface When {
  start: number;
  end: number;
  allDay: boolean;
  startDate: string | null;
  endDate: string | null;
  /** The DTSTART's zone (IANA when known), "UTC", or "" floating. */
  timeZone: string;
}

/** Start, end and zone of a component (all-day: the dates too, the instants at midnight of the user's zone). */
export function whenOf(comp: ICAL.Component, userZone: string): When {
  const floating = floatingZone(userZone);
  const span = spanOf(comp, floating);
  const start = timeProp(comp, "dtstart");
  let startDate: string | null = null;
  let endDate: string | null = null;
  if (start?.isDate) {
    startDate = start.toString();
    const endT = timeProp(comp, "dtend");
    if (endT?.isDate && endT.compare(start) > 0) endDate = endT.toString();
    else {
      // RFC 5545 §3.6.1: a DATE start without end (or a DURATION) lasts one day.
      const t = start.clone();
      const dur = comp.getFirstPropertyValue("duration");
      t.addDuration(dur instanceof ICAL.Duration && !dur.isNegative && dur.toSeconds() >= 86400 ? dur : new ICAL.Duration({ days: 1 }));
      endDate = t.toString();
    }
  }
  let timeZone = "";
  const startProp = comp.getFirstProperty("dtstart");
  const tzid = startProp?.getFirstParameter("tzid");
  if (start && !start.isDate) {
    if (typeof tzid === "string" && tzid) timeZone = ianaName(tzid) ?? tzid;
    else if (start.zone === ICAL.Timezone.utcTimezone) timeZone = "UTC";
  }
  if (timeZone === "Etc/UTC") timeZone = "UTC";
  return { start: span.start, end: span.end, allDay: span.allDay, startDate, endDate, timeZone };
}

function text(comp: ICAL.Component, name: string, max = 1000): string {
  const v = comp.getFirstPropertyValue(name);
  return typeof v === "string" ? v.slice(0, max) : v === null || v === undefined ? "" : String(v).slice(0, max);
}

/** The recurrence of a component in plain English ("Every week on Tuesday, 10 times"), "" when single or unreadable. */
function ruleWords(comp: ICAL.Component, userZone: string): string {
  try {
    const rule = ruleFromComponent(comp, startForm(comp, userZone));
    return rule ? summariseRule(rule) : "";
  } catch {
    return "";
  }
}

/** The RRULE value as sent (ical.js would reorder its parts). */
function rruleOf(comp: ICAL.Component): string {
  const p = comp.getFirstProperty("rrule");
  return p ? p.toICALString().replace(/^RRULE[^:]*:/i, "").slice(0, 1000) : "";
}

function organizerPerson(comp: ICAL.Component): EventPerson | null {
  const p = comp.getFirstProperty("organizer");
  if (!p) return null;
  const address = calAddress(p.getFirstValue());
  if (!address) return null;
  const cn = p.getFirstParameter("cn");
  return { address, name: typeof cn === "string" ? cn.slice(0, 200) : "" };
}

/** The component of `root` for the same occurrence as `comp` (same RECURRENCE-ID), else the master. */
function counterpart(root: ICAL.Component, comp: ICAL.Component): ICAL.Component | null {
  const comps = schedulingComponents(root).filter((c) => c.name === "vevent");
  const key = instanceKey(comp);
  return comps.find((c) => instanceKey(c) === key) ?? comps.find((c) => instanceKey(c) === "") ?? null;
}

function parseStored(body: Uint8Array): ICAL.Component | null {
  try {
    return ICAL.Component.fromString(new TextDecoder().decode(body));
  } catch {
    return null;
  }
}

/** The InvitationView of a message's invitation for the signed-in user. */
export async function buildView(x: ViewInput): Promise<InvitationView> {
  const { ctx, account, mine, inv, userZone } = x;
  const gw = ctx.groupware;
  const found = await gw.findByUid(account, "calendar", inv.uid);
  const stored = found ? parseStored(await gw.readBody(found.object)) : null;
  const storedComp = stored ? counterpart(stored, inv.main) : null;
  // A REPLY or CANCEL without times shows the calendar's (RFC 5546 §3.2.3/§3.2.5 make DTSTART optional there).
  const shown = inv.timeless && storedComp ? storedComp : inv.main;
  const when = whenOf(shown, userZone);
  const ridTime = timeProp(inv.main, "recurrence-id");
  const recurrenceId = ridTime ? timeToMs(ridTime, floatingZone(userZone)) : null;
  const organizer = organizerPerson(inv.main) ?? (storedComp ? organizerPerson(storedComp) : null);
  const isOrganizer = !!organizer && mine.has(organizer.address);
  const lines = [...attendeesOfComponent(inv.main).values()];
  const attendees = lines
    .filter((a) => a.address !== organizer?.address)
    .slice(0, MAX_LISTED_ATTENDEES)
    .map((a) => ({ address: a.address, name: a.name.slice(0, 200), partstat: partstat(a.partstat), comment: "" }));
  const amInvited = inv.comps.some((c) => [...attendeesOfComponent(c).keys()].some((a) => mine.has(a)));

  let myPartstat: Partstat | null = null;
  if (stored && storedComp && !isOrganizer) {
    const line = [...attendeesOfComponent(storedComp).values()].find((a) => mine.has(a.address));
    if (line) myPartstat = partstat(line.partstat);
  }
  const storedSeq = stored ? sequenceOf(stored) : -1;
  const outdated = !!stored && storedSeq > inv.sequence;
  const storedCancelled = !!storedComp && text(storedComp, "status").toUpperCase() === "CANCELLED";
  const cancelled = inv.method === "CANCEL" || isCancelled(inv.storable) || text(inv.main, "status").toUpperCase() === "CANCELLED" || (!!stored && (isCancelled(stored) || storedCancelled));
  const storedOrganizer = stored ? organizerOf(stored) : null;
  const canAnswer = inv.method === "REQUEST" && amInvited && !isOrganizer && !cancelled && !outdated;
  const canRemove = inv.method === "CANCEL" && !!found && !!storedOrganizer && !mine.has(storedOrganizer) && storedOrganizer === organizer?.address;

  let reply: InvitationView["reply"] = null;
  if (inv.method === "REPLY") {
    const who = lines[0];
    if (who) {
      const known = storedComp ? attendeesOfComponent(storedComp).get(who.address) : undefined;
      const fromName = x.from && x.from.address.toLowerCase() === who.address ? x.from.name : "";
      reply = { address: who.address, name: (who.name || known?.name || fromName || "").slice(0, 200), partstat: partstat(who.partstat), comment: text(inv.main, "comment", 2000) };
    }
  }

  const { changes, fieldChanges } = await whatChanged(x, stored, when, cancelled);
  const conflicts = inv.method === "REQUEST" && !cancelled ? await findConflicts(x, found?.object ?? null, when) : [];
  const rrule = rruleOf(inv.main) || (inv.timeless && storedComp ? rruleOf(storedComp) : "");

  return {
    method: inv.method,
    uid: inv.uid,
    title: text(shown, "summary", 500),
    location: text(shown, "location", 500),
    description: text(inv.main, "description", MAX_DESCRIPTION) || (storedComp ? text(storedComp, "description", MAX_DESCRIPTION) : ""),
    start: when.start,
    end: when.end,
    allDay: when.allDay,
    startDate: when.startDate,
    endDate: when.endDate,
    timeZone: when.timeZone,
    recurrence: rrule ? ruleWords(rruleOf(inv.main) ? inv.main : storedComp!, userZone) : "",
    recurrenceId,
    organizer,
    attendees,
    myPartstat,
    canAnswer,
    inCalendar: found ? { calendar: found.collection.name, id: found.object.resourceName } : null,
    conflicts,
    changes,
    reply,
    outdated,
    rrule,
    fieldChanges,
    cancelled,
    canRemove,
    isOrganizer,
  };
}

// ------------------------------------------------------------------ what changed

/**
 * The version of this event the user had before this message: the calendar's
 * copy while it is older than the message, else the newest REQUEST of the
 * UID with a lower SEQUENCE in the schedule inbox; null when none is known.
 */
async function previousVersion(x: ViewInput, stored: ICAL.Component | null): Promise<ICAL.Component | null> {
  if (stored && sequenceOf(stored) < x.inv.sequence) return stored;
  if (x.inv.sequence === 0 && x.inv.method === "REQUEST") return null;
  const { items } = await listInbox(x.ctx.store, x.account.id);
  const needle = x.inv.uid.slice(0, 60);
  let budget = MAX_INBOX_BYTES;
  for (const item of items.slice(-MAX_INBOX_SCAN).reverse()) {
    if (item.size > MAX_INBOX_ENTRY) continue;
    budget -= item.size;
    if (budget < 0) break;
    let body: string;
    try {
      body = new TextDecoder().decode(await x.ctx.store.readItemBody(item.id));
    } catch {
      continue;
    }
    if (!body.includes(needle)) continue;
    let prev: MessageInvitation;
    try {
      prev = parseInvitation(body);
    } catch {
      continue;
    }
    if (prev.method !== "REQUEST" || prev.uid !== x.inv.uid) continue;
    if (prev.sequence < x.inv.sequence || (x.inv.method === "CANCEL" && prev.sequence <= x.inv.sequence)) return prev.storable;
  }
  return null;
}

async function whatChanged(x: ViewInput, stored: ICAL.Component | null, now: When, cancelled: boolean): Promise<{ changes: string[]; fieldChanges: InvitationChange[] }> {
  const fieldChanges: InvitationChange[] = [];
  const { inv } = x;
  if (inv.method === "CANCEL") {
    fieldChanges.push({ field: "cancelled", before: "", after: "" });
    return { changes: [inv.main.hasProperty("recurrence-id") ? "This occurrence was cancelled." : "The event was cancelled."], fieldChanges };
  }
  if (inv.method !== "REQUEST") return { changes: [], fieldChanges };
  const before = await previousVersion(x, stored);
  const old = before ? counterpart(before, inv.main) : null;
  if (!old) return { changes: cancelled ? ["The event was cancelled."] : [], fieldChanges };
  let was: When;
  try {
    was = whenOf(old, x.userZone);
  } catch {
    return { changes: [], fieldChanges };
  }
  if (was.start !== now.start || was.end !== now.end || was.allDay !== now.allDay) {
    fieldChanges.push({ field: "time", before: "", after: "", beforeTime: span(was), afterTime: span(now) });
  }
  for (const [field, prop] of [["title", "summary"], ["location", "location"]] as const) {
    const a = text(old, prop, 500);
    const b = text(inv.main, prop, 500);
    if (a !== b) fieldChanges.push({ field, before: a, after: b });
  }
  const ra = rruleOf(old);
  const rb = rruleOf(inv.main);
  if (ra !== rb) fieldChanges.push({ field: "recurrence", before: ra, after: rb });
  const changes = fieldChanges.map((c) => {
    switch (c.field) {
      case "time":
        return `Time: ${whenText(was)} → ${whenText(now)}`;
      case "recurrence":
        return `Repeats: ${ruleWords(old, x.userZone) || "once"} → ${ruleWords(inv.main, x.userZone) || "once"}`;
      default:
        return `${c.field === "title" ? "Title" : "Location"}: ${c.before || "(none)"} → ${c.after || "(none)"}`;
    }
  });
  return { changes, fieldChanges };
}

const span = (w: When) => ({ start: w.start, end: w.end, allDay: w.allDay, startDate: w.startDate, endDate: w.endDate });

function whenText(w: When): string {
  return formatWhen({ summary: "", start: w.start, end: w.end, allDay: w.allDay, timeZone: w.timeZone || null, location: "", organizer: null, attendees: [] });
}

// ------------------------------------------------------------------ conflicts

/**
 * Busy events of the user's calendars overlapping the invitation's time
 * (its first occurrence), not the event itself, not free (TRANSP), not
 * cancelled and not declined by the user.
 */
async function findConflicts(x: ViewInput, self: StoredObject | null, when: When): Promise<InvitationView["conflicts"]> {
  const gw = x.ctx.groupware;
  const range = { start: when.start, end: Math.max(when.end, when.start + 1) };
  const out: InvitationView["conflicts"] = [];
  let calendars: Collection[];
  try {
    calendars = await gw.listCollections(x.account, "calendar");
  } catch {
    return out;
  }
  for (const cal of calendars) {
    const objects = (await gw.objectsInRange(cal, range)).slice(0, MAX_CONFLICT_OBJECTS);
    for (const obj of objects) {
      if (out.length >= MAX_CONFLICTS) return out;
      if (self && obj.item.id === self.item.id) continue;
      const root = parseStored(await gw.readBody(obj));
      if (!root) continue;
      const comps = schedulingComponents(root).filter((c) => c.name === "vevent");
      if (comps.some((c) => text(c, "uid", 2000) === x.inv.uid)) continue;
      for (const inst of await gw.instances(obj, range)) {
        if (out.length >= MAX_CONFLICTS) break;
        if (inst.transparent || inst.status === "CANCELLED") continue;
        const comp = (inst.recurrenceId !== null ? comps.find((c) => { const r = timeProp(c, "recurrence-id"); return !!r && timeToMs(r, floatingZone(x.userZone)) === inst.recurrenceId; }) : undefined) ?? comps.find((c) => instanceKey(c) === "") ?? comps[0];
        if (!comp) continue;
        const me = [...attendeesOfComponent(comp).values()].find((a) => x.mine.has(a.address));
        if (me?.partstat === "DECLINED") continue;
        out.push({ title: text(comp, "summary", 200), start: inst.start, end: inst.end, allDay: inst.allDay });
      }
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
