/**
 * The small operations clients call at start-up (read from exchangelib,
 * DavMail's EWS methods and what Outlook for Mac asks):
 *
 *  - GetUserConfiguration (Exchange2010+; MS-OXWSUSRCFG): the one
 *    configuration object this server keeps the data of is OWA.UserOptions'
 *    "timezone" (DavMail reads it to learn the user's zone): the webmail's
 *    time zone setting as its Windows name. Every other configuration
 *    (CategoryList, Calendar, OWA.ViewStateConfiguration...) is
 *    ErrorItemNotFound, which is what Exchange answers for one that was
 *    never created.
 *  - GetUserPhoto (Exchange2013+; MS-OXWSGTPH): no photos are kept, so every
 *    address is ErrorItemNotFound (clients then show initials).
 *  - GetServerTimeZones: ./misc-timezones.ts; GetMailTips: ./misc-mailtips.ts;
 *    GetInboxRules (read-only, the webmail's Sieve rules): ./misc-rules.ts.
 */
import { WINDOWS_ZONES } from "../../../src/groupware/ical/windows-zones.ts";
import { EwsError, registerOperation } from "./context.ts";
import { folderId, resolveFolder } from "./ids.ts";
import { failure, responseMessages, success } from "./responses.ts";
import { attr, esc, kid, m, ma, mkid, mv, t, ta, tv } from "./xml.ts";
import "./misc-timezones.ts";
import "./misc-mailtips.ts";
import "./misc-rules.ts";

const windowsByIana = new Map<string, string>();
for (const [win, iana] of Object.entries(WINDOWS_ZONES)) if (!windowsByIana.has(iana)) windowsByIana.set(iana, win);

/** Types.xsd UserConfigurationPropertyType: a space-separated list. */
const CONFIG_PROPERTIES = new Set(["Id", "Dictionary", "XmlData", "BinaryData", "All"]);

/** A Types.xsd UserConfigurationDictionaryEntryType with a String key and value. */
function stringEntry(key: string, value: string): string {
  return t("DictionaryEntry", t("DictionaryKey", tv("Type", "String"), tv("Value", key)), t("DictionaryValue", tv("Type", "String"), tv("Value", value)));
}

registerOperation(
  "GetUserConfiguration",
  async (c, op) => {
    const tag = "GetUserConfigurationResponseMessage";
    const nameEl = mkid(op, "UserConfigurationName");
    const name = attr(nameEl, "Name")?.trim();
    if (!nameEl || !name) throw new EwsError("ErrorInvalidRequest", "UserConfigurationName with a Name is required.");
    const props = (mkid(op, "UserConfigurationProperties")?.text ?? "").trim().split(/\s+/).filter(Boolean);
    if (props.length === 0 || props.some((p) => !CONFIG_PROPERTIES.has(p))) throw new EwsError("ErrorInvalidRequest", "UserConfigurationProperties must list Id, Dictionary, XmlData, BinaryData or All.");
    const folder = await resolveFolder(c, kid(nameEl, "FolderId") ?? kid(nameEl, "DistinguishedFolderId"));
    const zone = typeof c.account.settings.timeZone === "string" ? windowsByIana.get(c.account.settings.timeZone) : undefined;
    // OWA keeps OWA.UserOptions on the mailbox root; DavMail asks for it there.
    if (name !== "OWA.UserOptions" || folder.kind !== "virtual" || folder.name !== "root" || !zone) {
      return responseMessages("GetUserConfiguration", [failure(tag, new EwsError("ErrorItemNotFound", `The configuration ${name.slice(0, 80)} does not exist in this folder.`))]);
    }
    const want = (p: string) => props.includes(p) || props.includes("All");
    const config = m(
      "UserConfiguration",
      ta("UserConfigurationName", { Name: name }, `<t:FolderId Id="${esc(folderId(c.account.id, folder.name))}"/>`),
      want("Dictionary") && t("Dictionary", stringEntry("timezone", zone)),
    );
    return responseMessages("GetUserConfiguration", [success(tag, config)]);
  },
  { since: "Exchange2010" },
);

/** GetUserPhoto's single response message (Messages.xsd GetUserPhotoResponseMessageType: not a ResponseMessages list). */
function photoError(code: string, text: string): string {
  return ma("GetUserPhotoResponse", { ResponseClass: "Error" }, mv("MessageText", text), mv("ResponseCode", code), mv("DescriptiveLinkKey", 0), mv("HasChanged", false));
}

registerOperation(
  "GetUserPhoto",
  async (_c, op) => {
    const email = mkid(op, "Email")?.text.trim();
    const size = mkid(op, "SizeRequested")?.text.trim();
    // MS-OXWSGTPH §3.1.4.1: Email and SizeRequested are required; sizes are HR48x48 ... HR648x648.
    if (!email) return photoError("ErrorInvalidRequest", "Email is required.");
    if (!size || !/^HR\d{2,3}x\d{2,3}$/.test(size)) return photoError("ErrorInvalidRequest", "SizeRequested must be one of HR48x48 ... HR648x648.");
    return photoError("ErrorItemNotFound", "There is no photo for this address.");
  },
  { since: "Exchange2013" },
);
