/**
 * Out-of-office over EWS (MS-OXWSOOF): GetUserOofSettings and
 * SetUserOofSettings on the account's one out-of-office setting
 * (AccountSettings.oof), the same the webmail's Settings and ActiveSync's
 * Settings/Oof edit; the delivery filter turns it into the vacation script
 * (src/sieve/vacation-script.ts), so a change here changes the auto-reply.
 *
 * Our setting has one reply text for everyone and no audience:
 *  - SetUserOofSettings keeps the InternalReply (the ExternalReply when the
 *    internal one is empty); a different ExternalReply is not kept;
 *  - ExternalAudience is answered "All" (the vacation rule answers every
 *    sender it may, RFC 5230 §4.5), whatever was set;
 *  - HTML replies are stored as their text (mail/text.ts htmlToText), as
 *    ActiveSync does.
 * The request and response elements break the usual pattern
 * (Messages.xsd GetUserOofSettingsRequest/Response): the operation element
 * ends in "Request" and the response holds a single m:ResponseMessage.
 */
import type { AccountSettings } from "../../../storage/api.ts";
import { htmlToText } from "../../../mail/text.ts";
import { EwsError, registerOperation, SoapFault, type EwsContext } from "./context.ts";
import { asEwsError, failure, success } from "./responses.ts";
import { dateTime, kid, kidText, m, mv, parseDateTime, t, tv, type XmlElement } from "./xml.ts";

type Oof = NonNullable<AccountSettings["oof"]>;

/** Longest reply kept (the webmail's limit). */
const MAX_REPLY = 20_000;

/** The Mailbox element must name the caller (or an address it may send as): no delegate access. */
async function checkMailbox(c: EwsContext, op: XmlElement): Promise<void> {
  const mailbox = kid(op, "Mailbox");
  const address = kidText(mailbox, "Address")?.toLowerCase();
  if (!mailbox || !address) throw new SoapFault("ErrorSchemaValidation", "The request needs a Mailbox with an Address.");
  if (address === c.account.email) return;
  const own = (await c.store.sendAsAddresses(c.account.id)).some((a) => a.toLowerCase() === address);
  if (!own) throw new EwsError("ErrorAccessDenied", "Only your own out-of-office settings can be read or changed.");
}

function state(o: Oof | undefined): "Disabled" | "Enabled" | "Scheduled" {
  if (!o?.enabled) return "Disabled";
  return o.start !== undefined || o.end !== undefined ? "Scheduled" : "Enabled";
}

function settingsXml(o: Oof | undefined, now: number): string {
  const reply = tv("Message", o?.body ?? "");
  // Exchange always writes a Duration; without dates it is a day from now (clients show it greyed out).
  const start = o?.start ?? now;
  const end = o?.end ?? Math.max(start, now) + 24 * 3600_000;
  return t(
    "OofSettings",
    tv("OofState", state(o)),
    tv("ExternalAudience", "All"),
    t("Duration", tv("StartTime", dateTime(start)), tv("EndTime", dateTime(end))),
    t("InternalReply", reply),
    t("ExternalReply", reply),
  );
}

/** Wraps an operation's single message the way these two operations answer (not a ResponseMessages list). */
async function answer(c: EwsContext, op: string, fn: () => Promise<string>): Promise<string> {
  try {
    return m(`${op}Response`, await fn());
  } catch (e) {
    if (e instanceof SoapFault) throw e;
    const err = asEwsError(e, (x) => c.log.error("ews: out-of-office failed", { err: x instanceof Error ? (x.stack ?? x.message) : String(x) }));
    return m(`${op}Response`, failure("ResponseMessage", err));
  }
}

registerOperation("GetUserOofSettingsRequest", (c, op) =>
  answer(c, "GetUserOofSettings", async () => {
    await checkMailbox(c, op);
    const o = c.account.settings.oof;
    return success("ResponseMessage") + settingsXml(o, c.now()) + mv("AllowExternalOof", "All");
  }),
);

function replyText(el: XmlElement | undefined): string | undefined {
  const msg = kid(el, "Message");
  if (!msg) return undefined;
  let text = msg.text;
  if (/<\s*(html|body|p|div|br|span)\b/i.test(text)) text = htmlToText(text, { readable: true });
  return text.trim() ? text.slice(0, MAX_REPLY) : "";
}

registerOperation("SetUserOofSettingsRequest", (c, op) =>
  answer(c, "SetUserOofSettings", async () => {
    await checkMailbox(c, op);
    const s = kid(op, "UserOofSettings");
    if (!s) throw new SoapFault("ErrorSchemaValidation", "SetUserOofSettingsRequest needs UserOofSettings.");
    const wanted = kidText(s, "OofState");
    if (wanted !== "Disabled" && wanted !== "Enabled" && wanted !== "Scheduled") throw new SoapFault("ErrorSchemaValidation", "OofState must be Disabled, Enabled or Scheduled.");
    const audience = kidText(s, "ExternalAudience");
    if (audience !== undefined && audience !== "None" && audience !== "Known" && audience !== "All") throw new SoapFault("ErrorSchemaValidation", "ExternalAudience must be None, Known or All.");

    const prev = c.account.settings.oof;
    const next: Oof = { enabled: wanted !== "Disabled", subject: prev?.subject || "Out of office", body: prev?.body ?? "" };
    const internal = replyText(kid(s, "InternalReply"));
    const external = replyText(kid(s, "ExternalReply"));
    // An empty reply keeps the text there is (exchangelib sends empty Message elements with Disabled).
    const text = internal || external;
    if (text) next.body = text;
    if (wanted === "Scheduled") {
      const d = kid(s, "Duration");
      const start = parseDateTime(kidText(d, "StartTime"));
      const end = parseDateTime(kidText(d, "EndTime"));
      // MS-OXWSOOF §3.1.4.2: a scheduled absence needs a start before its end.
      if (start === undefined || end === undefined || end <= start) throw new EwsError("ErrorInvalidScheduledOofDuration", "A scheduled out-of-office needs a StartTime before its EndTime.");
      next.start = start;
      next.end = end;
    }
    // Enabled and Disabled have no period: the dates of an earlier Scheduled are dropped.
    if (next.enabled && !next.body.trim()) throw new EwsError("ErrorInvalidUserOofSettings", "Write the reply before turning out-of-office on.");
    c.account.settings = await c.store.updateSettings(c.account.id, { oof: next });
    return success("ResponseMessage");
  }),
);
