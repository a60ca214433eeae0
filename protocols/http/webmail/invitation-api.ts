/**
 * Invitations in mail (issue 17): the card of a message carrying an iTIP
 * object (RFC 6047 iMIP) and the answers given from it.
 *
 *   GET  /api/messages/:id/invitation -> InvitationView (404 with a reason when there is none or it is unusable)
 *   POST /api/messages/:id/invitation InvitationAnswer -> InvitationView
 *     answer: the user's PARTSTAT written into their calendar copy (created in
 *       the default calendar from the invitation when the iMIP processor has
 *       not filed it yet) and the REPLY sent to the organizer by the implicit
 *       scheduler, with the optional note as COMMENT (RFC 5546 §3.2.3);
 *     action "remove": a cancelled event taken out of the calendar, nothing sent.
 *
 * The message must be the signed-in account's (another's id is a 404, as in
 * the mail API).
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Account } from "../../../storage/api.ts";
import { GroupwareError } from "../../../src/groupware/types.ts";
import { ICalError } from "../../../src/groupware/ical/index.ts";
import { AnswerError, answerMeeting, MAX_COMMENT } from "../../../src/groupware/scheduling/answer.ts";
import type { AppEnv } from "../types.ts";
import type { InvitationAnswer, InvitationView } from "./api-types.ts";
import { ownedMessage } from "./mail-api.ts";
import { ApiError, readJson } from "./util.ts";
import { readInvitation, type MessageInvitation } from "./invitation-read.ts";
import { buildView } from "./invitation-view.ts";
import { isTimeZone } from "./settings-api.ts";

export interface InvitationApiDeps {
  ctx: ServerContext;
}

const ANSWERS = ["ACCEPTED", "TENTATIVE", "DECLINED"] as const;

/** The account's own addresses, lower case (its address and aliases). */
async function addressesOf(ctx: ServerContext, account: Account): Promise<Set<string>> {
  const out = new Set((await ctx.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()));
  out.add(account.email.toLowerCase());
  return out;
}

/** The user's zone: their setting, else the server's. */
function userZone(account: Account): string {
  const tz = account.settings.timeZone;
  if (typeof tz === "string" && tz && isTimeZone(tz)) return tz;
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

async function load(ctx: ServerContext, account: Account, idParam: string): Promise<{ inv: MessageInvitation; view: () => Promise<InvitationView>; mine: Set<string> }> {
  const m = await ownedMessage(ctx, account, Number(idParam));
  const inv = await readInvitation(m.root, (start, end) => ctx.store.readRange(m.blobId, start, end));
  const mine = await addressesOf(ctx, account);
  const zone = userZone(account);
  const from = { name: m.fromName, address: m.fromAddr };
  const view = async () => {
    try {
      return await buildView({ ctx, account, mine, userZone: zone, inv, from });
    } catch (e) {
      // A value the parser let through but the times can't be read from (an odd DTSTART, a zone that breaks
      // ical.js): the card is not shown, the message reads as any other.
      if (e instanceof ICalError || e instanceof TypeError || e instanceof RangeError) throw new ApiError(404, "invitation_unreadable", `The invitation in this message can't be read (${e.message.slice(0, 200)}).`);
      throw e;
    }
  };
  return { inv, mine, view };
}

export function mountInvitationApi(app: Hono<AppEnv>, deps: InvitationApiDeps): void {
  const { ctx } = deps;

  app.get("/api/messages/:id/invitation", async (c) => {
    const account = c.get("account");
    const { view } = await load(ctx, account, c.req.param("id"));
    c.header("cache-control", "no-store");
    return c.json(await view());
  });

  app.post("/api/messages/:id/invitation", async (c) => {
    const account = c.get("account");
    const body = await readJson<InvitationAnswer | null>(c, 64 * 1024);
    if (!body || typeof body !== "object" || Array.isArray(body)) throw new ApiError(400, "bad_request", "Send the answer as a JSON object.");
    const action: unknown = body.action ?? "answer";
    if (action !== "answer" && action !== "remove") throw new ApiError(400, "bad_action", 'The action must be "answer" or "remove".');
    const { inv, view, mine } = await load(ctx, account, c.req.param("id"));
    const before = await view();

    if (action === "remove") {
      if (!before.canRemove) throw new ApiError(409, "cannot_remove", before.inCalendar ? "Only a cancelled meeting you were invited to can be removed from here." : "This meeting is not in your calendar any more.");
      const found = await ctx.groupware.findByUid(account, "calendar", inv.uid);
      if (!found) throw new ApiError(409, "cannot_remove", "This meeting is not in your calendar any more.");
      try {
        // The organizer cancelled it: taking it out of the calendar answers nothing (schedule: false sends no REPLY).
        await ctx.groupware.deleteObject(found.collection, found.object.resourceName, { ifMatch: found.object.etag, schedule: false });
      } catch (e) {
        if (e instanceof GroupwareError && (e.code === "PRECONDITION" || e.code === "NOT_FOUND")) throw new ApiError(409, "changed", "The event changed meanwhile. Look at it again and retry.");
        throw e;
      }
      return c.json(await view());
    }

    const partstat: unknown = body.partstat;
    if (typeof partstat !== "string" || !(ANSWERS as readonly string[]).includes(partstat)) throw new ApiError(400, "bad_partstat", "Answer with ACCEPTED, TENTATIVE or DECLINED.");
    const comment: unknown = body.comment ?? "";
    if (typeof comment !== "string") throw new ApiError(400, "bad_comment", "The comment must be text.");
    if (comment.length > MAX_COMMENT) throw new ApiError(400, "bad_comment", `The comment is too long (${MAX_COMMENT.toLocaleString("en")} characters at most).`);
    if (!before.canAnswer) {
      const why = before.cancelled
        ? "This meeting was cancelled."
        : before.outdated
          ? "A newer version of this invitation is in your calendar: answer that one."
          : before.method !== "REQUEST"
            ? "This message is not an invitation to answer."
            : before.organizer && mine.has(before.organizer.address)
              ? "You organize this meeting."
              : "You are not invited to this meeting.";
      throw new ApiError(409, "cannot_answer", why);
    }
    try {
      await answerMeeting({
        groupware: ctx.groupware,
        account,
        mine,
        uid: inv.uid,
        targets: [{ partstat, instance: before.recurrenceId }],
        schedule: true,
        invitation: inv.storable,
        comment,
      });
    } catch (e) {
      if (e instanceof AnswerError) throw new ApiError(409, "cannot_answer", `The answer could not be saved: ${e.message}.`);
      if (e instanceof GroupwareError && e.code === "QUOTA") throw new ApiError(507, "quota", "Your mailbox is full: the event could not be saved.");
      throw e;
    }
    return c.json(await view());
  });
}
