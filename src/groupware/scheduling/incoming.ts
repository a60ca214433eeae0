/**
 * Incoming iMIP (RFC 6047) applied to calendars: the processing behind the
 * delivery hook (./index.ts). Every scheduling message reaches an account as
 * mail, from a local organizer or attendee (the submit path) or from outside
 * (inbound SMTP), and is applied here, once, after it was delivered:
 *
 *  - REQUEST (RFC 5546 §3.2.2) to an attendee: From must be the ORGANIZER;
 *    the event is created or updated in the attendee's calendar when its
 *    SEQUENCE is not older than the stored copy and the organizer matches
 *    the stored copy. A new invitation keeps the attendee's
 *    PARTSTAT=NEEDS-ACTION: that (and not a changed STATUS, which is the
 *    organizer's) is what marks it as not yet answered ("tentative") in
 *    CalDAV clients; an update of the same SEQUENCE keeps the answer the
 *    attendee already gave.
 *  - REPLY (§3.2.3) to the organizer: From must be the replying ATTENDEE,
 *    who must already be invited; that attendee's PARTSTAT is updated in the
 *    organizer's copy (in the overridden instance for a RECURRENCE-ID reply,
 *    created from the master when the organizer has none), nothing else.
 *  - CANCEL (§3.2.5) to an attendee: From must be the stored ORGANIZER; the
 *    attendee's copy is marked STATUS:CANCELLED, or one instance is (its
 *    override marked, else an EXDATE added to the master).
 *  - Anything else, or any mismatch: the mail stays as it is, nothing
 *    changes, one info line says why.
 *
 * The writes use `schedule: false`: applying a message never sends one.
 * Processed messages are filed in the account's schedule inbox (./inbox.ts).
 */
import ICAL from "ical.js";
import type { Account, MailStore } from "../../../storage/api.ts";
import type { DeliveryOrigin } from "../../context.ts";
import type { Logger } from "../../log.ts";
import { parseAddressList } from "../../../mail/address.ts";
import { fromFields } from "../../../mail/line-endings.ts";
import { ICalError, parseItipMessage, serialize, type CalendarObject } from "../ical/index.ts";
import { GroupwareError, type Collection, type CollectionKind, type Groupware, type StoredObject } from "../types.ts";
import { findCalendarPart } from "./imip.ts";
import { fileInInbox, type InboxStore } from "./inbox.ts";
import { checkSender, type RemoteAuthPolicy } from "./sender-auth.ts";
import { attendeesOfComponent, calAddress, instanceKey, schedulingComponents, sequenceOf } from "./itip.ts";

export interface IncomingDeps {
  store: Pick<MailStore, "getAccountById" | "sendAsAddresses"> & InboxStore;
  groupware: Groupware;
  log: Logger;
  /** Who is trusted for mail from outside (./sender-auth.ts); default "dmarc". */
  remoteAuth?: RemoteAuthPolicy;
}

export type IncomingOutcome = { applied: true; action: string } | { applied: false; reason: string; calendar: boolean };

/** Objects (UIDs) applied from one message at most: an iTIP message normally has one. */
const MAX_OBJECTS = 10;
const WRITE_ATTEMPTS = 4;

const skip = (reason: string, calendar = true): IncomingOutcome => ({ applied: false, reason, calendar });

/** The one From address of a message, lower case, or null (none, several, or a group). */
export function fromAddress(raw: Uint8Array): string | null {
  const values = fromFields(raw);
  if (values.length !== 1) return null;
  const list = parseAddressList(values[0]!).filter((a) => a.mailbox !== null && a.host !== null);
  if (list.length !== 1) return null;
  return `${list[0]!.mailbox}@${list[0]!.host}`.toLowerCase();
}

/** Addresses that are this account: its own and its aliases, lower case. */
async function addressesOf(store: IncomingDeps["store"], account: Account): Promise<Set<string>> {
  const out = new Set((await store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()));
  out.add(account.email.toLowerCase());
  return out;
}

/** Processes one delivered message for one account. Never throws for bad input: the outcome says why nothing happened. */
export async function processIncoming(deps: IncomingDeps, msg: { accountId: number; raw: Uint8Array; origin?: DeliveryOrigin }): Promise<IncomingOutcome> {
  const part = findCalendarPart(msg.raw);
  if (!part) return skip("no calendar part", false);
  const account = await deps.store.getAccountById(msg.accountId);
  if (!account) return skip("no such account");
  const from = fromAddress(msg.raw);
  if (!from) return skip("no single From address");
  let parsed: ReturnType<typeof parseItipMessage>;
  try {
    parsed = parseItip(part.bytes);
  } catch (e) {
    return skip(`malformed iCalendar: ${(e as Error).message}`);
  }
  const method = parsed.method.toUpperCase();
  // RFC 6047 §2.4: the Content-Type's method parameter must equal METHOD.
  if (part.method && part.method !== method) return skip(`Content-Type method=${part.method} differs from METHOD:${method}`);
  if (method !== "REQUEST" && method !== "REPLY" && method !== "CANCEL") return skip(`method ${method} is not processed automatically`);
  const sender = checkSender(msg.origin, from, deps.remoteAuth);
  if (!sender.ok) return skip(sender.reason);
  const mine = await addressesOf(deps.store, account);
  if (mine.has(from)) return skip("sent by this account itself");
  if (!parsed.objects.length) return skip("no VEVENT or VTODO");

  const actions: string[] = [];
  const reasons: string[] = [];
  for (const obj of parsed.objects.slice(0, MAX_OBJECTS)) {
    const kind: CollectionKind = obj.kind === "VTODO" ? "tasks" : "calendar";
    let out: IncomingOutcome = skip("not applied");
    for (let attempt = 0; ; attempt++) {
      try {
        if (method === "REQUEST") out = await applyRequest(deps, account, mine, from, obj, kind, parsed.root);
        else if (method === "REPLY") out = await applyReply(deps, account, mine, from, obj, kind, parsed.root);
        else out = await applyCancel(deps, account, mine, from, obj, kind, parsed.root);
        break;
      } catch (e) {
        // Another write of the same event came in between (a client's PUT): decide again on what is stored now.
        const raced = e instanceof GroupwareError && (e.code === "PRECONDITION" || e.code === "UID_CONFLICT");
        if (raced && attempt < WRITE_ATTEMPTS) continue;
        out = skip(`could not apply: ${e instanceof GroupwareError ? `${e.code} ${e.message}` : (e as Error).message}`);
        break;
      }
    }
    if (out.applied) actions.push(out.action);
    else reasons.push(out.reason);
  }
  if (!actions.length) return skip(reasons.join("; "));
  // RFC 6638 §2.2: the processed message is kept in the schedule inbox, byte for byte.
  const first = parsed.objects[0]!;
  try {
    await fileInInbox(deps.store, account.id, part.bytes, { method, uid: first.uid, summary: first.calendarFields?.summary ?? first.taskFields?.summary ?? "" });
  } catch (e) {
    deps.log.warn("iMIP: could not file the message in the schedule inbox", { account: account.email, error: (e as Error).message });
  }
  return { applied: true, action: actions.join("; ") };
}

// ------------------------------------------------------------------ helpers

/**
 * parseItipMessage, but a REPLY or CANCEL whose components have no DTSTART
 * is accepted (RFC 5546 §3.2.3 and §3.2.5 make DTSTART optional there, and
 * Outlook and Google leave it out of a CANCEL): the component gets its
 * RECURRENCE-ID (or DTSTAMP) as DTSTART for the parser's fields. Only the
 * identifying properties of such messages are used here (UID, ORGANIZER,
 * ATTENDEE, SEQUENCE, RECURRENCE-ID); the inbox keeps the original bytes.
 * The first parse already applied the parser's size and count limits.
 */
export function parseItip(bytes: Uint8Array): ReturnType<typeof parseItipMessage> {
  try {
    return parseItipMessage(bytes);
  } catch (e) {
    if (!(e instanceof ICalError) || !/without DTSTART/.test(e.message)) throw e;
    const root = ICAL.Component.fromString(new TextDecoder().decode(bytes));
    const method = String(root.getFirstPropertyValue("method") ?? "").toUpperCase();
    if (method !== "REPLY" && method !== "CANCEL") throw e;
    for (const c of schedulingComponents(root)) {
      if (c.hasProperty("dtstart")) continue;
      const from = c.getFirstProperty("recurrence-id") ?? c.getFirstProperty("dtstamp");
      if (!from) throw e;
      c.addProperty(ICAL.Property.fromString(from.toICALString().replace(/^[A-Z-]+/i, "DTSTART")));
    }
    return parseItipMessage(serialize(root));
  }
}

/** A VCALENDAR with the components of one UID and the VTIMEZONEs they use, without METHOD (RFC 4791 §4.1). */
export function calendarForUid(root: ICAL.Component, uid: string): ICAL.Component {
  const cal = new ICAL.Component("vcalendar");
  for (const p of root.getAllProperties()) {
    if (p.name !== "method") cal.addProperty(ICAL.Property.fromString(p.toICALString()));
  }
  if (!cal.hasProperty("version")) cal.addPropertyWithValue("version", "2.0");
  if (!cal.hasProperty("prodid")) cal.addPropertyWithValue("prodid", "-//Pillarbox//Groupware//EN");
  const comps = schedulingComponents(root).filter((c) => String(c.getFirstPropertyValue("uid") ?? "") === uid);
  const used = new Set<string>();
  const collect = (c: ICAL.Component) => {
    for (const p of c.getAllProperties()) {
      const tz = p.getFirstParameter("tzid");
      if (typeof tz === "string") used.add(tz);
    }
    for (const s of c.getAllSubcomponents()) collect(s);
  };
  comps.forEach(collect);
  for (const z of root.getAllSubcomponents("vtimezone")) {
    if (used.has(String(z.getFirstPropertyValue("tzid") ?? ""))) cal.addSubcomponent(new ICAL.Component(ICAL.helpers.clone(z.toJSON(), true) as unknown[]));
  }
  for (const c of comps) cal.addSubcomponent(new ICAL.Component(ICAL.helpers.clone(c.toJSON(), true) as unknown[]));
  return cal;
}

function parseStored(body: Uint8Array): ICAL.Component {
  return ICAL.Component.fromString(new TextDecoder().decode(body));
}

async function defaultCollection(gw: Groupware, account: Account, kind: CollectionKind): Promise<Collection> {
  await gw.ensureDefaults(account);
  const list = await gw.listCollections(account, kind);
  const c = list.find((x) => x.isDefault) ?? list[0];
  if (!c) throw new GroupwareError("NOT_FOUND", `no ${kind} collection`);
  return c;
}

/** A resource name from a UID: URL-safe, bounded. */
export function resourceNameFor(uid: string): string {
  const safe = uid.replace(/[^A-Za-z0-9._@-]/g, "_").replace(/^\.+/, "_").slice(0, 120);
  return `${safe || "event"}.ics`;
}

/**
 * Read-modify-write of a stored object with its ETag as the condition
 * (If-Match), retried when another write came in between (two replies
 * arriving at once must both land).
 */
async function editStored(
  gw: Groupware,
  account: Account,
  kind: CollectionKind,
  uid: string,
  edit: (root: ICAL.Component, found: { collection: Collection; object: StoredObject }) => string | null,
): Promise<IncomingOutcome> {
  for (let attempt = 0; ; attempt++) {
    const found = await gw.findByUid(account, kind, uid);
    if (!found) return skip(`no event with UID ${uid}`);
    const root = parseStored(await gw.readBody(found.object));
    const result = edit(root, found);
    if (result !== null) return skip(result);
    try {
      await gw.putObject(found.collection, found.object.resourceName, new TextEncoder().encode(serialize(root)), { ifMatch: found.object.etag, schedule: false });
      return { applied: true, action: "updated" };
    } catch (e) {
      if (e instanceof GroupwareError && e.code === "PRECONDITION" && attempt < WRITE_ATTEMPTS) continue;
      throw e;
    }
  }
}

function setPartstat(p: ICAL.Property, partstat: string): void {
  p.setParameter("partstat", partstat);
}

// ------------------------------------------------------------------ REQUEST

async function applyRequest(deps: IncomingDeps, account: Account, mine: Set<string>, from: string, obj: CalendarObject, kind: CollectionKind, root: ICAL.Component): Promise<IncomingOutcome> {
  const organizer = obj.organizer;
  if (!organizer) return skip("REQUEST without ORGANIZER");
  if (mine.has(organizer)) return skip("this account is the organizer");
  if (from !== organizer) return skip(`From ${from} is not the organizer ${organizer}`);
  const incoming = calendarForUid(root, obj.uid);
  const comps = schedulingComponents(incoming);
  const me = comps.flatMap((c) => [...attendeesOfComponent(c).keys()]).find((a) => mine.has(a));
  if (!me) return skip("this account is not an attendee");
  const gw = deps.groupware;
  const existing = await gw.findByUid(account, kind, obj.uid);
  if (existing) {
    const stored = parseStored(await gw.readBody(existing.object));
    // Only the organizer of the stored event may change it; an event without one is the user's own (RFC 5546 §6.1.1).
    const storedOrganizer = schedulingComponents(stored).map((c) => calAddress(c.getFirstPropertyValue("organizer"))).find((a) => a);
    if (storedOrganizer !== organizer) return skip(`organizer ${organizer} differs from the stored organizer ${storedOrganizer ?? "(none: the user's own event)"}`);
    const storedSeq = sequenceOf(stored);
    if (obj.sequence < storedSeq) return skip(`SEQUENCE ${obj.sequence} is older than the stored ${storedSeq}`);
    if (obj.sequence === storedSeq) {
      // RFC 5546 §2.1.5: an update without a new SEQUENCE does not reset the attendee's answer.
      const answers = new Map<string, ICAL.Property>();
      for (const c of schedulingComponents(stored)) {
        const line = c.getAllProperties("attendee").find((p) => mine.has(calAddress(p.getFirstValue())));
        if (line) answers.set(instanceKey(c), line);
      }
      for (const c of comps) {
        const old = answers.get(instanceKey(c)) ?? answers.get("");
        const ps = old?.getFirstParameter("partstat");
        if (!old || typeof ps !== "string") continue;
        for (const p of c.getAllProperties("attendee")) if (mine.has(calAddress(p.getFirstValue()))) setPartstat(p, ps);
      }
    }
    const body = new TextEncoder().encode(serialize(incoming));
    // If-Match: a client's write in between makes this a PRECONDITION, and processIncoming decides again.
    await gw.putObject(existing.collection, existing.object.resourceName, body, { ifMatch: existing.object.etag, schedule: false });
    return { applied: true, action: `REQUEST updated ${obj.uid}` };
  }
  const collection = await defaultCollection(gw, account, kind);
  const body = new TextEncoder().encode(serialize(incoming));
  let name = resourceNameFor(obj.uid);
  // A resource of another UID that already has the name (a client chose it): the event gets another name.
  const taken = await gw.getObject(collection, name);
  if (taken) name = `${name.slice(0, -4)}-${taken.item.id.toString(36)}-${Date.now().toString(36)}.ics`;
  // If-None-Match: the same event created in between is a PRECONDITION (or UID_CONFLICT), and processIncoming decides again.
  await gw.putObject(collection, name, body, { ifNoneMatch: "*", schedule: false });
  return { applied: true, action: `REQUEST created ${obj.uid}` };
}

// ------------------------------------------------------------------ REPLY

/** An override for `recurrence` (a RECURRENCE-ID property of a reply) made from the master: same properties, this instance's start. */
function overrideFromMaster(master: ICAL.Component, recurrence: ICAL.Property): ICAL.Component | null {
  const rid = recurrence.getFirstValue();
  const start = master.getFirstPropertyValue("dtstart");
  if (!(rid instanceof ICAL.Time) || !(start instanceof ICAL.Time)) return null;
  const comp = new ICAL.Component(ICAL.helpers.clone(master.toJSON(), true) as unknown[]);
  for (const name of ["rrule", "rdate", "exdate", "recurrence-id", "dtstart", "dtend", "duration"]) comp.removeAllProperties(name);
  comp.removeAllSubcomponents("valarm");
  comp.addProperty(ICAL.Property.fromString(recurrence.toICALString()));
  const dtstart = ICAL.Property.fromString(recurrence.toICALString().replace(/^RECURRENCE-ID/i, "DTSTART"));
  comp.addProperty(dtstart);
  const end = master.getFirstPropertyValue("dtend");
  const duration = master.getFirstPropertyValue("duration");
  if (end instanceof ICAL.Time) {
    const len = end.subtractDate(start);
    const e = rid.clone();
    e.addDuration(len);
    const dtend = ICAL.Property.fromString(recurrence.toICALString().replace(/^RECURRENCE-ID/i, "DTEND"));
    dtend.setValue(e);
    comp.addProperty(dtend);
  } else if (duration instanceof ICAL.Duration) {
    comp.addPropertyWithValue("duration", duration);
  }
  return comp;
}

/** Longest attendee note kept on the organizer's ATTENDEE line. */
const MAX_RESPONSE_COMMENT = 500;

/**
 * X-RESPONSE-COMMENT (an x-param, RFC 5545 §3.2) on the organizer's copy of an
 * ATTENDEE: the COMMENT of that attendee's last REPLY, as one line of at most
 * MAX_RESPONSE_COMMENT characters without DQUOTE (a parameter value, §3.1).
 * Not sent on to other attendees (itip.ts stripServerParams).
 */
function setResponseComment(p: ICAL.Property, comment: unknown): void {
  const text = typeof comment === "string" ? comment.replace(/[\u0000-\u001f\u007f]+/g, " ").replace(/"/g, "'").trim().slice(0, MAX_RESPONSE_COMMENT) : "";
  if (text) p.setParameter("x-response-comment", text);
  else p.removeParameter("x-response-comment");
}

async function applyReply(deps: IncomingDeps, account: Account, mine: Set<string>, from: string, obj: CalendarObject, kind: CollectionKind, root: ICAL.Component): Promise<IncomingOutcome> {
  const organizer = obj.organizer;
  if (!organizer || !mine.has(organizer)) return skip("this account is not the organizer of the REPLY");
  const reply = calendarForUid(root, obj.uid);
  const replyComps = schedulingComponents(reply);
  const replying = new Set(replyComps.flatMap((c) => [...attendeesOfComponent(c).keys()]));
  // RFC 5546 §3.2.3: a REPLY carries exactly one ATTENDEE, the one replying.
  if (replying.size !== 1) return skip(`a REPLY must name exactly one attendee (it names ${replying.size})`);
  const attendee = [...replying][0]!;
  if (attendee !== from) return skip(`From ${from} is not the replying attendee ${attendee}`);
  const out = await editStored(deps.groupware, account, kind, obj.uid, (stored) => {
    const storedComps = schedulingComponents(stored);
    const storedOrganizer = storedComps.map((c) => calAddress(c.getFirstPropertyValue("organizer"))).find((a) => a);
    if (storedOrganizer !== organizer) return `the stored event's organizer is ${storedOrganizer ?? "none"}, not ${organizer}`;
    const storedSeq = sequenceOf(stored);
    if (obj.sequence < storedSeq) return `REPLY to SEQUENCE ${obj.sequence}, the event is at ${storedSeq}`;
    const master = storedComps.find((c) => instanceKey(c) === "");
    if (!storedComps.some((c) => attendeesOfComponent(c).has(attendee))) return `${attendee} is not an attendee of the event`;
    let changed = 0;
    for (const rc of replyComps) {
      const line = rc.getAllProperties("attendee")[0]!;
      const ps = line.getFirstParameter("partstat");
      const partstat = typeof ps === "string" && ps ? ps.toUpperCase() : "NEEDS-ACTION";
      const key = instanceKey(rc);
      let target = storedComps.find((c) => instanceKey(c) === key);
      if (!target && key !== "" && master) {
        const rid = rc.getFirstProperty("recurrence-id");
        target = rid ? (overrideFromMaster(master, rid) ?? undefined) : undefined;
        if (target) stored.addSubcomponent(target);
      }
      if (!target) continue;
      const p = target.getAllProperties("attendee").find((a) => calAddress(a.getFirstValue()) === attendee);
      if (!p) continue;
      setPartstat(p, partstat);
      // The answer arrived: the request for one is settled.
      p.removeParameter("rsvp");
      // The attendee's note (RFC 5546 §3.2.3 COMMENT) kept on their line for the organizer's views; a reply without one clears it.
      setResponseComment(p, rc.getFirstPropertyValue("comment"));
      const delegatedTo = line.getFirstParameter("delegated-to");
      if (typeof delegatedTo === "string" && delegatedTo) p.setParameter("delegated-to", delegatedTo);
      changed++;
    }
    return changed ? null : "no instance of the REPLY matches the event";
  });
  return out.applied ? { applied: true, action: `REPLY from ${attendee} applied to ${obj.uid}` } : out;
}

// ------------------------------------------------------------------ CANCEL

async function applyCancel(deps: IncomingDeps, account: Account, mine: Set<string>, from: string, obj: CalendarObject, kind: CollectionKind, root: ICAL.Component): Promise<IncomingOutcome> {
  const organizer = obj.organizer;
  if (!organizer) return skip("CANCEL without ORGANIZER");
  if (mine.has(organizer)) return skip("this account is the organizer");
  if (from !== organizer) return skip(`From ${from} is not the organizer ${organizer}`);
  const cancel = calendarForUid(root, obj.uid);
  const keys = schedulingComponents(cancel).map((c) => ({ key: instanceKey(c), rid: c.getFirstProperty("recurrence-id") }));
  const out = await editStored(deps.groupware, account, kind, obj.uid, (stored) => {
    const comps = schedulingComponents(stored);
    const storedOrganizer = comps.map((c) => calAddress(c.getFirstPropertyValue("organizer"))).find((a) => a);
    if (storedOrganizer !== organizer) return `the stored event's organizer is ${storedOrganizer ?? "none"}, not ${organizer}`;
    const storedSeq = sequenceOf(stored);
    if (obj.sequence < storedSeq) return `SEQUENCE ${obj.sequence} is older than the stored ${storedSeq}`;
    const setCancelled = (c: ICAL.Component) => {
      c.updatePropertyWithValue("status", "CANCELLED");
      c.updatePropertyWithValue("sequence", Math.max(obj.sequence, Number(c.getFirstPropertyValue("sequence") ?? 0)));
    };
    for (const { key, rid } of keys) {
      if (key === "") {
        comps.forEach(setCancelled);
        continue;
      }
      const override = comps.find((c) => instanceKey(c) === key);
      if (override) setCancelled(override);
      else {
        const master = comps.find((c) => instanceKey(c) === "");
        // RFC 5545 §3.8.5.1: the cancelled instance leaves the set (same value type and zone as its RECURRENCE-ID).
        if (master && rid) master.addProperty(ICAL.Property.fromString(rid.toICALString().replace(/^RECURRENCE-ID/i, "EXDATE")));
      }
    }
    return null;
  });
  return out.applied ? { applied: true, action: `CANCEL applied to ${obj.uid}` } : out;
}
