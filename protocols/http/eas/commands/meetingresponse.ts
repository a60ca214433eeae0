/**
 * MeetingResponse (MS-ASCMD §2.2.1.11): the device's Accept / Tentative /
 * Decline of a meeting request, given as a meeting request mail
 * (CollectionId + RequestId of a mail folder, or search:LongId) or as the
 * meeting in a calendar folder, for the whole meeting or one occurrence
 * (InstanceId, 14.1+).
 *
 * The answer is written into the user's calendar copy (./../email/
 * src/groupware/scheduling/answer.ts); when the calendar has no copy yet (the iMIP processor
 * had not filed it, or refused it) it is created from the mail's
 * text/calendar. Who tells the organizer (MS-ASCMD §2.2.1.11):
 *  - 12.1–14.1: the device, by SendMail of its own REPLY
 *    (../email/meeting-sent.ts applies that one to the calendar copy);
 *    nothing is sent here;
 *  - 16.0/16.1: the server, when the request has SendResponse: the write
 *    runs with implicit scheduling on, which sends the iMIP REPLY for the
 *    instances whose answer changed (RFC 6638 §3.2.2.1).
 *
 * The meeting request mail then goes to Deleted Items, as Exchange does with
 * an answered request (the device sees it leave the Inbox at its next Sync).
 *
 * Result per Request: RequestId, Status (§2.2.3.177.9: 1 success, 2 invalid
 * meeting request, 3 mailbox error, 4 server error) and CalendarId (the
 * event's ServerId) unless the meeting was declined (§2.2.3.18).
 */
import ICAL from "ical.js";
import type { Folder } from "../../../../storage/api.ts";
import { parseEasDate } from "../groupware/codec.ts";
import { findCalendarPart } from "../../../../src/groupware/scheduling/imip.ts";
import { calendarForUid, parseItip } from "../../../../src/groupware/scheduling/incoming.ts";
import { EasStatusError, type CommandHandler, type EasContext } from "../context.ts";
import { AnswerError, answerMeeting, type Partstat } from "../../../../src/groupware/scheduling/answer.ts";
import { folderByServerId, itemServerId, parseItemServerId } from "../folders.ts";
import { trashFolder } from "../sync/email.ts";
import { Common } from "../status.ts";
import { kid, kids, kidText, ns, type WElement } from "../wbxml/tree.ts";

const M = ns("MeetingResponse");

/** MS-ASCMD §2.2.3.177.9 Status (MeetingResponse). */
export const MeetingStatus = { Success: 1, InvalidRequest: 2, MailboxError: 3, ServerError: 4 } as const;

/** MS-ASCMD §2.2.3.194 UserResponse: 1 accepted, 2 tentatively accepted, 3 declined. */
const PARTSTAT: Record<string, Partstat> = { "1": "ACCEPTED", "2": "TENTATIVE", "3": "DECLINED" };

/** Requests answered in one command (a device answers one at a time; a batch of thousands is not a device). */
const MAX_REQUESTS = 100;

/** The account's own addresses, lower case. */
export async function ownAddresses(c: EasContext): Promise<Set<string>> {
  const out = new Set((await c.store.sendAsAddresses(c.account.id)).map((a) => a.toLowerCase()));
  out.add(c.account.email.toLowerCase());
  return out;
}

interface Source {
  uid: string;
  /** The invitation of the mail, to create the calendar copy from. */
  invitation: ICAL.Component | null;
  /** The meeting request mail (to move to Deleted Items afterwards). */
  mail: { folderId: number; uid: number } | null;
}

class Invalid extends Error {}

/** The meeting a Request names. Throws Invalid for anything that is not a meeting request of this account. */
async function sourceOf(c: EasContext, req: WElement): Promise<Source> {
  const longId = kidText(req, "Search:LongId");
  const requestId = kidText(req, "MeetingResponse:RequestId");
  const collectionId = kidText(req, "MeetingResponse:CollectionId");
  const ids = parseItemServerId(longId ?? requestId);
  if (!ids) throw new Invalid("no valid RequestId or LongId");
  const folder: Folder | null = await folderByServerId(c.store, c.account.id, collectionId ?? (ids.folderId !== null ? String(ids.folderId) : undefined));
  if (!folder || (ids.folderId !== null && ids.folderId !== folder.id)) throw new Invalid("unknown collection");
  if (folder.itemClass === "mail") {
    const msg = await c.store.getMessageById(ids.itemId);
    if (!msg || msg.folderId !== folder.id) throw new Invalid("no such message");
    const part = findCalendarPart(await c.store.readMessage(msg.id));
    if (!part) throw new Invalid("the message is not a meeting request");
    let parsed: ReturnType<typeof parseItip>;
    try {
      parsed = parseItip(part.bytes);
    } catch (e) {
      throw new Invalid(`the invitation cannot be read: ${(e as Error).message}`);
    }
    const obj = parsed.objects[0];
    if (parsed.method.toUpperCase() !== "REQUEST" || !obj || obj.kind !== "VEVENT") throw new Invalid("the message is not a meeting request");
    return { uid: obj.uid, invitation: calendarForUid(parsed.root, obj.uid), mail: { folderId: folder.id, uid: msg.uid } };
  }
  if (folder.itemClass === "calendar") {
    const item = await c.store.getItem(ids.itemId);
    if (!item || item.folderId !== folder.id) throw new Invalid("no such calendar item");
    const uid = item.itemClass === "calendar" ? item.fields.uid : "";
    if (!uid) throw new Invalid("the calendar item has no UID");
    return { uid, invitation: null, mail: null };
  }
  throw new Invalid("the collection holds neither mail nor a calendar");
}

async function answerOne(c: EasContext, req: WElement, mine: Set<string>): Promise<{ status: number; calendarId?: string }> {
  const partstat = PARTSTAT[(kidText(req, "MeetingResponse:UserResponse") ?? "").trim()];
  if (!partstat) return { status: MeetingStatus.InvalidRequest };
  const instanceText = kidText(req, "MeetingResponse:InstanceId");
  let instance: number | null = null;
  if (instanceText !== undefined) {
    try {
      instance = parseEasDate(instanceText);
    } catch {
      return { status: MeetingStatus.InvalidRequest };
    }
  }
  // 16.x: SendResponse asks the server to send the reply (MS-ASCMD §2.2.3.163); earlier versions never have it.
  const send = c.version >= 160 ? kid(req, "MeetingResponse:SendResponse") : undefined;
  const sendResponse = send !== undefined;
  // A proposed new time (16.x ProposedStartTime/EndTime) would be an iTIP COUNTER (RFC 5546 §3.2.7), which the
  // scheduler does not send: the answer itself is stored and sent, the proposal is logged and left.
  if (kid(send, "MeetingResponse:ProposedStartTime") || kid(send, "MeetingResponse:ProposedEndTime")) c.log.info("eas: MeetingResponse time proposal not sent (no iTIP COUNTER)");
  let src: Source;
  try {
    src = await sourceOf(c, req);
  } catch (e) {
    if (e instanceof Invalid) {
      c.log.info("eas: MeetingResponse refused", { err: e.message });
      return { status: MeetingStatus.InvalidRequest };
    }
    throw e;
  }
  let stored: Awaited<ReturnType<typeof answerMeeting>>;
  try {
    stored = await answerMeeting({ groupware: c.server.groupware, account: c.account, mine, uid: src.uid, targets: [{ partstat, instance }], schedule: sendResponse, invitation: src.invitation });
  } catch (e) {
    if (e instanceof AnswerError) {
      c.log.info("eas: MeetingResponse refused", { uid: src.uid, err: e.message });
      return { status: e.status };
    }
    c.log.warn("eas: MeetingResponse failed", { uid: src.uid, err: e instanceof Error ? e.message : String(e) });
    return { status: MeetingStatus.MailboxError };
  }
  if (src.mail) await moveToTrash(c, src.mail);
  c.log.debug("eas: meeting answered", { uid: src.uid, partstat, instance, sent: sendResponse });
  return { status: MeetingStatus.Success, calendarId: partstat === "DECLINED" ? undefined : itemServerId(stored.collection.id, stored.object.item.id) };
}

/** The answered request leaves the Inbox for Deleted Items; a failure leaves it where it is (the answer is stored). */
async function moveToTrash(c: EasContext, mail: { folderId: number; uid: number }): Promise<void> {
  try {
    const trash = await trashFolder(c);
    if (trash && trash.id !== mail.folderId) await c.store.move(mail.folderId, [mail.uid], trash.id);
  } catch (e) {
    c.log.info("eas: answered meeting request not moved", { err: e instanceof Error ? e.message : String(e) });
  }
}

export const meetingResponse: CommandHandler = async (c, doc) => {
  const requests = kids(doc ?? undefined, "MeetingResponse:Request");
  if (!requests.length || requests.length > MAX_REQUESTS) throw new EasStatusError(Common.InvalidXML, `${requests.length} Request elements`);
  const mine = await ownAddresses(c);
  const results: WElement[] = [];
  for (const req of requests) {
    const r = await answerOne(c, req, mine);
    results.push(M("Result", kidText(req, "MeetingResponse:RequestId") !== undefined && M("RequestId", kidText(req, "MeetingResponse:RequestId")!), M("Status", r.status), r.calendarId !== undefined && M("CalendarId", r.calendarId)));
  }
  return { wbxml: M("MeetingResponse", results) };
};
