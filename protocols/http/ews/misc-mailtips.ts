/**
 * GetMailTips (Messages.xsd GetMailTipsType, Exchange2010; MS-OXWSMTGS):
 * what a client shows while a message is written — a local recipient's
 * out-of-office reply (the webmail's vacation setting while it is in force),
 * a full mailbox, a local address nobody has, how many mailboxes an alias
 * reaches, the message size limit. Delivery restrictions and moderation do
 * not exist here (false); custom MailTips are not kept (left out).
 */
import type { Account } from "../../../storage/api.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { NS } from "./ns.ts";
import { dateTime, kid, type XmlElement, kidsNamed, kidText, m, ma, mkid, mv, t, tv } from "./xml.ts";

/** Recipients per request (Exchange's default cap is 50; exchangelib sends up to 100 at once). */
export const MAX_RECIPIENTS = 100;

const TIP_TYPES = new Set(["All", "OutOfOfficeMessage", "MailboxFullStatus", "CustomMailTip", "ExternalMemberCount", "TotalMemberCount", "MaxMessageSize", "DeliveryRestriction", "ModerationStatus", "InvalidRecipient", "Scope"]);

/** The vacation reply in force now, or null. */
function oofNow(a: Account, now: number): { body: string; start?: number; end?: number } | null {
  const o = a.settings.oof;
  if (!o || !o.enabled) return null;
  if (o.start !== undefined && now < o.start) return null;
  if (o.end !== undefined && now >= o.end) return null;
  return o;
}

async function tipsFor(c: EwsContext, address: string, want: (tip: string) => boolean): Promise<string> {
  const who = address.includes("@") ? await c.store.resolveRecipient(address.toLowerCase()) : null;
  const accounts = who && who !== "remote" ? who.accounts : [];
  const forward = who && who !== "remote" ? who.forward : [];
  const single = accounts.length === 1 && forward.length === 0 ? accounts[0]! : null;
  let oof = "";
  if (want("OutOfOfficeMessage") && single) {
    const o = oofNow(single, c.now());
    oof = t(
      "OutOfOffice",
      t("ReplyBody", tv("Message", o ? o.body : "")),
      o && (o.start !== undefined || o.end !== undefined) ? t("Duration", tv("StartTime", dateTime(o.start ?? c.now())), tv("EndTime", dateTime(o.end ?? 253402300799000))) : "",
    );
  }
  let full = "";
  if (want("MailboxFullStatus") && single) {
    const q = await c.store.quota(single.id);
    full = tv("MailboxFull", q.limitBytes !== null && q.usedBytes >= q.limitBytes);
  }
  return m(
    "MailTips",
    t("RecipientAddress", tv("EmailAddress", address), tv("RoutingType", "SMTP")),
    "<t:PendingMailTips/>",
    oof,
    full,
    want("TotalMemberCount") && who && who !== "remote" ? tv("TotalMemberCount", accounts.length + forward.length) : "",
    want("ExternalMemberCount") && who && who !== "remote" ? tv("ExternalMemberCount", forward.length) : "",
    want("MaxMessageSize") ? tv("MaxMessageSize", c.server.config.limits.maxMessageSize) : "",
    want("DeliveryRestriction") ? tv("DeliveryRestricted", false) : "",
    want("ModerationStatus") ? tv("IsModerated", false) : "",
    want("InvalidRecipient") ? tv("InvalidRecipient", who === null) : "",
  );
}

registerOperation(
  "GetMailTips",
  async (c, op) => {
    try {
      return await mailTips(c, op);
    } catch (e) {
      if (!(e instanceof EwsError)) throw e;
      // The request-level error in the operation's own shape (a response message, not a list).
      return ma("GetMailTipsResponse", { ResponseClass: "Error" }, mv("MessageText", e.message), mv("ResponseCode", e.code), mv("DescriptiveLinkKey", 0));
    }
  },
  { since: "Exchange2010" },
);

async function mailTips(c: EwsContext, op: XmlElement): Promise<string> {
  if (!kidText(mkid(op, "SendingAs"), "EmailAddress")) throw new EwsError("ErrorInvalidRequest", "SendingAs with an EmailAddress is required.");
  const recipients = kidsNamed(mkid(op, "Recipients"), "Mailbox", NS.t);
  if (recipients.length === 0) throw new EwsError("ErrorInvalidRequest", "Recipients names no mailbox.");
  if (recipients.length > MAX_RECIPIENTS) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_RECIPIENTS} recipients per request.`);
  // MailTipsRequested is required by the schema; exchangelib 4.9 writes its value as the operation's own text
  // instead (set_xml_value on the payload), so a missing element is read from there, and else as All.
  const requestedEl = mkid(op, "MailTipsRequested");
  const requested = (requestedEl ? requestedEl.text : op.text.trim() || "All").trim().split(/\s+/).filter(Boolean);
  if (requested.length === 0 || requested.some((x) => !TIP_TYPES.has(x))) throw new EwsError("ErrorInvalidRequest", "MailTipsRequested must list MailTip types.");
  const want = (tip: string) => requested.includes("All") || requested.includes(tip);
  const msgs: string[] = [];
  for (const r of recipients) {
    const address = (kid(r, "EmailAddress")?.text ?? "").trim();
    msgs.push(ma("MailTipsResponseMessageType", { ResponseClass: "Success" }, "<m:ResponseCode>NoError</m:ResponseCode>", await tipsFor(c, address.slice(0, 320), want)));
  }
  // Messages.xsd GetMailTipsResponseMessageType: a response message itself, holding the per-recipient list.
  return ma("GetMailTipsResponse", { ResponseClass: "Success" }, "<m:ResponseCode>NoError</m:ResponseCode>", m("ResponseMessages", msgs.join("")));
}
