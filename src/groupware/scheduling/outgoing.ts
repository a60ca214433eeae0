/**
 * Implicit scheduling (RFC 6638 §3.2): what a write of a calendar object
 * sends, decided from the versions before and after it. Pure planning here
 * (tested directly); ./index.ts sends the plan as iMIP mail through the one
 * submit path, local attendees included, so every attendee (local or remote)
 * gets the same message and the same delivery hook applies it.
 *
 * Organizer (ORGANIZER is one of the writer's addresses), for the attendees
 * with SCHEDULE-AGENT=SERVER (RFC 6638 §7.1; CLIENT and NONE are left to the
 * client):
 *  - a new object, or one whose times/recurrence/location/summary/status
 *    changed or whose SEQUENCE the client raised: REQUEST to every attendee
 *    (RFC 6638 §3.2.1.1/§3.2.1.2); otherwise REQUEST only to attendees who
 *    were added (a PARTSTAT refresh or a new description sends nothing);
 *  - attendees removed: CANCEL to them (§3.2.1.2);
 *  - deletion, or STATUS becoming CANCELLED: CANCEL to all (§3.2.1.3).
 * Attendee (the writer is an ATTENDEE and not the organizer), when the
 * ORGANIZER's SCHEDULE-AGENT is SERVER:
 *  - its PARTSTAT changed in the master or in overridden instances: REPLY
 *    to the organizer for those instances (§3.2.2.1);
 *  - deletion of an event that is not cancelled: REPLY with
 *    PARTSTAT=DECLINED (§3.2.2.3).
 */
import type ICAL from "ical.js";
import {
  buildCancel,
  buildReply,
  buildRequest,
  instanceKey,
  isCancelled,
  organizerAgent,
  organizerOf,
  partstatsOf,
  schedulingComponents,
  serverAttendees,
  significantChange,
} from "./itip.ts";

export interface PlannedMessage {
  method: "REQUEST" | "REPLY" | "CANCEL";
  /** The address the message is sent as (the organizer's, or the replying attendee's). */
  from: string;
  /** Recipient addresses (lower case) with display names when known. */
  to: { address: string; name: string }[];
  calendar: ICAL.Component;
  /** The object the message describes (for the text part and subject). */
  source: ICAL.Component;
  /** REQUEST to attendees who had it already. */
  update?: boolean;
  /** REPLY: the PARTSTAT sent. */
  partstat?: string;
}

/** Limit of recipients for one change (the ical parser already refuses more than 500 attendees). */
export const MAX_RECIPIENTS = 500;

/** What the change of one object by a writer with addresses `mine` sends. */
export function planChange(before: ICAL.Component | null, after: ICAL.Component | null, mine: ReadonlySet<string>, now: number): PlannedMessage[] {
  const ref = after ?? before;
  if (!ref) return [];
  const organizer = organizerOf(ref);
  if (!organizer) return [];
  if (mine.has(organizer)) return planOrganizer(before, after, organizer, now);
  return planAttendee(before, after, organizer, mine, now);
}

function toList(m: Map<string, string>, only?: (a: string) => boolean): { address: string; name: string }[] {
  const out: { address: string; name: string }[] = [];
  for (const [address, name] of m) if (!only || only(address)) out.push({ address, name });
  return out.slice(0, MAX_RECIPIENTS);
}

function planOrganizer(before: ICAL.Component | null, after: ICAL.Component | null, organizer: string, now: number): PlannedMessage[] {
  const out: PlannedMessage[] = [];
  const prev = before ? serverAttendees(before) : new Map<string, string>();
  if (!after) {
    // §3.2.1.3: deleting a scheduled event cancels it for everyone, unless it was already cancelled (they were told).
    if (before && prev.size && !isCancelled(before)) {
      out.push({ method: "CANCEL", from: organizer, to: toList(prev), calendar: buildCancel(before, new Set(prev.keys()), now), source: before });
    }
    return out;
  }
  const cur = serverAttendees(after);
  if (isCancelled(after)) {
    if (!before || !isCancelled(before)) {
      const all = new Map([...prev, ...cur]);
      if (all.size) out.push({ method: "CANCEL", from: organizer, to: toList(all), calendar: buildCancel(after, new Set(all.keys()), now), source: after });
    }
    return out;
  }
  const removed = new Map([...prev].filter(([a]) => !cur.has(a)));
  if (removed.size && before) {
    out.push({ method: "CANCEL", from: organizer, to: toList(removed), calendar: buildCancel(before, new Set(removed.keys()), now), source: before });
  }
  if (!cur.size) return out;
  const changed = !before || isCancelled(before) || significantChange(before, after);
  const recipients = changed ? toList(cur) : toList(cur, (a) => !prev.has(a));
  if (recipients.length) {
    out.push({ method: "REQUEST", from: organizer, to: recipients, calendar: buildRequest(after, now), source: after, update: !!before && changed && recipients.some((r) => prev.has(r.address)) });
  }
  return out;
}

function planAttendee(before: ICAL.Component | null, after: ICAL.Component | null, organizer: string, mine: ReadonlySet<string>, now: number): PlannedMessage[] {
  const ref = (after ?? before)!;
  // RFC 6638 §3.2.2: the organizer's client does its own scheduling when its SCHEDULE-AGENT is not SERVER.
  if (organizerAgent(ref) !== "SERVER") return [];
  const to = [{ address: organizer, name: "" }];
  if (!after) {
    if (!before || isCancelled(before)) return [];
    const mineBefore = partstatsOf(before, mine);
    const master = mineBefore.get("") ?? [...mineBefore.values()][0];
    if (!master) return [];
    const keys = new Set(mineBefore.has("") ? [""] : [...mineBefore.keys()]);
    return [{ method: "REPLY", from: master.address, to, calendar: buildReply(before, master.address, keys, now, "DECLINED"), source: before, partstat: "DECLINED" }];
  }
  if (isCancelled(after)) return [];
  const now_ = partstatsOf(after, mine);
  if (!now_.size) return [];
  const was = before ? partstatsOf(before, mine) : new Map<string, { address: string; partstat: string }>();
  const keys = new Set<string>();
  let address = "";
  let partstat = "";
  // A new note for the organizer (COMMENT, RFC 5546 §3.2.3) with the same answer is sent too (answered again with a comment).
  const notes = (root: ICAL.Component | null) => new Map(root ? schedulingComponents(root).map((c) => [instanceKey(c), String(c.getFirstPropertyValue("comment") ?? "")]) : []);
  const notesWas = notes(before);
  const notesNow = notes(after);
  for (const [key, v] of now_) {
    const old = was.get(key) ?? (before ? was.get("") : undefined);
    const noteChanged = v.partstat !== "NEEDS-ACTION" && (notesNow.get(key) ?? "") !== (notesWas.get(key) ?? notesWas.get("") ?? "");
    // A new object written by the attendee's client (it stored an invitation it got elsewhere) replies only with a real answer.
    if (old ? old.partstat !== v.partstat || noteChanged : v.partstat !== "NEEDS-ACTION") {
      keys.add(key);
      if (!address || key === "") {
        address = v.address;
        partstat = v.partstat;
      }
    }
  }
  if (!keys.size) return [];
  // Components of instances whose answer changed; the message lists them all (RFC 5546 §3.2.3 allows several).
  return [{ method: "REPLY", from: address, to, calendar: buildReply(after, address, keys, now), source: after, partstat }];
}
