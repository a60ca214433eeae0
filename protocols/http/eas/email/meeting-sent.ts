/**
 * A device's own meeting reply (MS-ASCMD §2.2.1.11: in 12.1–14.1 the device
 * answers the organizer itself, by SendMail/SmartReply of a message with a
 * `text/calendar; method=REPLY` part, RFC 6047): after the message was sent,
 * the user's own calendar copy gets the same answer (their PARTSTAT in the
 * instances the REPLY names), with scheduling off since the device already
 * sent the reply. A local organizer's copy is updated by the delivery hook
 * (src/groupware/scheduling/incoming.ts) when the REPLY is delivered.
 *
 * Never throws: the message is sent whatever happens here; a REPLY that
 * does not fit the calendar (another sender, unknown UID, no such
 * occurrence) is logged and left.
 */
import type { EasContext } from "../context.ts";
import { findCalendarPart } from "../../../../src/groupware/scheduling/imip.ts";
import { parseItip } from "../../../../src/groupware/scheduling/incoming.ts";
import { attendeesOfComponent, schedulingComponents } from "../../../../src/groupware/scheduling/itip.ts";
import { timeProp } from "../../../../src/groupware/ical/spans.ts";
import { timeToMs } from "../../../../src/groupware/ical/zones.ts";
import { AnswerError, answerMeeting, type AnswerTarget } from "../../../../src/groupware/scheduling/answer.ts";

/** UIDs applied from one message (an iTIP REPLY normally has one). */
const MAX_OBJECTS = 10;

/** Applies the REPLY a device sent (raw MIME as submitted) to the sender's own calendar. Returns what was done, for logs and tests. */
export async function applySentMeetingReply(c: EasContext, raw: Uint8Array): Promise<string> {
  // Ordinary mail is not parsed again: no "calendar" in it, no calendar part.
  const b = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (b.indexOf("calendar") < 0 && b.indexOf("Calendar") < 0 && b.indexOf("CALENDAR") < 0) return "no calendar part";
  try {
    const part = findCalendarPart(raw);
    if (!part) return "no calendar part";
    const parsed = parseItip(part.bytes);
    if (parsed.method.toUpperCase() !== "REPLY") return `method ${parsed.method}`;
    const mine = new Set((await c.store.sendAsAddresses(c.account.id)).map((a) => a.toLowerCase()));
    mine.add(c.account.email.toLowerCase());
    const done: string[] = [];
    for (const obj of parsed.objects.slice(0, MAX_OBJECTS)) {
      if (obj.kind !== "VEVENT") continue;
      const targets: AnswerTarget[] = [];
      for (const comp of schedulingComponents(parsed.root)) {
        if (String(comp.getFirstPropertyValue("uid") ?? "") !== obj.uid) continue;
        // RFC 5546 §3.2.3: one ATTENDEE, the one replying; it must be this account.
        const lines = [...attendeesOfComponent(comp).values()];
        if (lines.length !== 1 || !mine.has(lines[0]!.address)) continue;
        const rid = timeProp(comp, "recurrence-id");
        targets.push({ partstat: lines[0]!.partstat, instance: rid ? timeToMs(rid, null) : "master" });
      }
      if (!targets.length) {
        done.push(`${obj.uid}: not a reply of this account`);
        continue;
      }
      try {
        await answerMeeting({ groupware: c.server.groupware, account: c.account, mine, uid: obj.uid, targets, schedule: false, invitation: null });
        done.push(`${obj.uid}: applied`);
      } catch (e) {
        if (!(e instanceof AnswerError)) throw e;
        done.push(`${obj.uid}: ${e.message}`);
      }
    }
    const what = done.join("; ");
    c.log.debug("eas: sent meeting reply applied to the own calendar", { result: what });
    return what;
  } catch (e) {
    c.log.info("eas: sent meeting reply not applied", { err: e instanceof Error ? e.message : String(e) });
    return `failed: ${e instanceof Error ? e.message : String(e)}`;
  }
}
