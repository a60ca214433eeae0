/**
 * Settings (MS-ASCMD §2.2.1.18): Oof get/set (the account's out-of-office,
 * AccountSettings.oof), DeviceInformation set (stored on the device row),
 * UserInformation get (addresses the account may send as), DevicePassword
 * (accepted, not stored: we do not escrow device passwords).
 */
import { easDate } from "../email/convert.ts";
import type { CommandHandler, EasContext } from "../context.ts";
import { kid, kidText, kids, ns, text, type WElement } from "../wbxml/tree.ts";
import { textToHtml } from "../../../../mail/html.ts";
import { htmlToText } from "../../../../mail/text.ts";

const S = ns("Settings");

const MAX_FIELD = 1024;
const field = (e: WElement, name: string): string | undefined => {
  const v = kidText(e, `Settings:${name}`);
  return v === undefined ? undefined : v.slice(0, MAX_FIELD);
};

/** Stores DeviceInformation/Set (also sent inside Provision, 14.1+). Returns the Settings Status. */
export async function applyDeviceInformation(c: EasContext, info: WElement): Promise<number> {
  const set = kid(info, "Settings:Set");
  if (!set) return 2; // MS-ASCMD §2.2.3.177.15: 2 protocol error
  await c.eas.updateDevice(c.device.pk, {
    model: field(set, "Model"),
    imei: field(set, "IMEI"),
    friendlyName: field(set, "FriendlyName"),
    os: field(set, "OS"),
    osLanguage: field(set, "OSLanguage"),
    phoneNumber: field(set, "PhoneNumber"),
    mobileOperator: field(set, "MobileOperator"),
    userAgent: field(set, "UserAgent"),
  });
  return 1;
}

function parseEasDate(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isFinite(t) ? t : undefined;
}

async function oof(c: EasContext, e: WElement): Promise<WElement> {
  const get = kid(e, "Settings:Get");
  const set = kid(e, "Settings:Set");
  if (get) {
    const o = c.account.settings.oof;
    const state = !o?.enabled ? 0 : o.start !== undefined || o.end !== undefined ? 2 : 1;
    const wantHtml = (kidText(get, "Settings:BodyType") ?? "Text").toUpperCase() === "HTML";
    const body = o?.body ?? "";
    const msg = wantHtml ? `<html><body>${textToHtml(body)}</body></html>` : body;
    const msgKids = () => [S("Enabled", o?.enabled ? "1" : "0"), S("ReplyMessage", msg), S("BodyType", wantHtml ? "HTML" : "Text")];
    return S(
      "Oof",
      S("Status", "1"),
      S(
        "Get",
        S("OofState", state),
        state === 2 && o?.start !== undefined && S("StartTime", easDate(o.start)),
        state === 2 && o?.end !== undefined && S("EndTime", easDate(o.end)),
        S("OofMessage", S("AppliesToInternal"), msgKids()),
        S("OofMessage", S("AppliesToExternalKnown"), msgKids()),
        S("OofMessage", S("AppliesToExternalUnknown"), msgKids()),
      ),
    );
  }
  if (set) {
    const state = kidText(set, "Settings:OofState");
    if (state !== undefined && !["0", "1", "2"].includes(state)) return S("Oof", S("Status", "2"));
    const prev = c.account.settings.oof ?? { enabled: false, subject: "Out of office", body: "" };
    const next = { ...prev };
    if (state !== undefined) next.enabled = state !== "0";
    if (state === "2") {
      next.start = parseEasDate(kidText(set, "Settings:StartTime"));
      next.end = parseEasDate(kidText(set, "Settings:EndTime"));
    } else if (state === "1") {
      delete next.start;
      delete next.end;
    }
    // One message for everyone: the internal one if given, else the first enabled one.
    const messages = kids(set, "Settings:OofMessage");
    const pick = messages.find((m) => kid(m, "Settings:AppliesToInternal")) ?? messages.find((m) => kidText(m, "Settings:Enabled") === "1") ?? messages[0];
    if (pick) {
      const reply = kid(pick, "Settings:ReplyMessage");
      if (reply) {
        const isHtml = (kidText(pick, "Settings:BodyType") ?? "Text").toUpperCase() === "HTML";
        let body = text(reply);
        if (isHtml) body = htmlToText(body, { readable: true });
        next.body = body.slice(0, 64 * 1024);
      }
    }
    c.account.settings = await c.store.updateSettings(c.account.id, { oof: next });
    return S("Oof", S("Status", "1"));
  }
  return S("Oof", S("Status", "2"));
}

async function userInformation(c: EasContext): Promise<WElement> {
  const addrs = await c.store.sendAsAddresses(c.account.id);
  const primary = c.account.email;
  const others = addrs.filter((a) => a !== primary && !a.startsWith("@"));
  const name = (c.account.settings.displayName as string | undefined) ?? primary;
  if (c.version >= 141) {
    // MS-ASCMD Accounts (14.1+): one Account with its addresses.
    return S(
      "UserInformation",
      S("Status", "1"),
      S("Get", S("Accounts", S("Account", S("UserDisplayName", name), S("EmailAddresses", S("SmtpAddress", primary), others.map((a) => S("SmtpAddress", a)), S("PrimarySmtpAddress", primary))))),
    );
  }
  return S("UserInformation", S("Status", "1"), S("Get", S("EmailAddresses", S("SmtpAddress", primary), others.map((a) => S("SmtpAddress", a)))));
}

export const settings: CommandHandler = async (c, doc) => {
  const out: WElement[] = [];
  for (const e of kids(doc!)) {
    switch (e.name) {
      case "Oof":
        out.push(await oof(c, e));
        break;
      case "DeviceInformation":
        out.push(S("DeviceInformation", S("Status", await applyDeviceInformation(c, e))));
        break;
      case "UserInformation":
        out.push(await userInformation(c));
        break;
      case "DevicePassword":
        out.push(S("DevicePassword", S("Status", "1")));
        break;
      case "RightsManagementInformation":
        out.push(S("RightsManagementInformation", S("Status", "1"), S("Get")));
        break;
      default:
        return { wbxml: S("Settings", S("Status", "2")) };
    }
  }
  return { wbxml: S("Settings", S("Status", "1"), out) };
};
