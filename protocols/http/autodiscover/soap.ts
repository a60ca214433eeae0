/**
 * SOAP Autodiscover (MS-OXWSADISC): POST /autodiscover/autodiscover.svc
 * (and its /wssecurity form), Basic auth as the POX route. Two operations:
 *
 *  - GetUserSettings (§3.1.4.1): per user, the settings asked for that this
 *    server can truthfully answer (the EWS URL and version, display name,
 *    deployment id...); every other requested name is listed in
 *    UserSettingErrors as SettingIsNotAvailable (a name Exchange knows that
 *    has no value here) or InvalidSetting (not a setting name at all). An
 *    address that is not the caller's own is InvalidUser: nothing is said
 *    about other accounts.
 *  - GetDomainSettings (§3.1.4.2): ExternalEwsUrl / ExternalEwsVersion of
 *    one of our domains.
 *
 * Responses carry the WS-Addressing Action of the response (§3.1.4.1.1.1:
 * the request's Action + "Response") and the ServerVersionInfo header in
 * the autodiscover namespace.
 */
import type { Account } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import { buildDotted, BUILD } from "../ews/soap.ts";
import { deploymentId } from "./documents.ts";
import { endpoints, ewsUrl, type Endpoints } from "./endpoints.ts";
import { escapeXml, parseXml, xmlKid, xmlKids, xmlText, type XmlElement } from "./xml.ts";

export const NS_AD = "http://schemas.microsoft.com/exchange/2010/Autodiscover";
const NS_SOAP = "http://schemas.xmlsoap.org/soap/envelope/";
const NS_WSA = "http://www.w3.org/2005/08/addressing";
const NS_XSI = "http://www.w3.org/2001/XMLSchema-instance";
const ACTION_BASE = "http://schemas.microsoft.com/exchange/2010/Autodiscover/Autodiscover/";

/** Users and settings per request: MS-OXWSADISC §3.1.4.1 lets a server cap both; Exchange takes up to 100 users. */
export const MAX_USERS = 100;
export const MAX_SETTINGS = 100;

/** The EWS schema versions this server answers (the handler's VERSIONS from Exchange2007 to Exchange2016), for EwsSupportedSchemas. */
const SUPPORTED_SCHEMAS = "Exchange2007, Exchange2007_SP1, Exchange2010, Exchange2010_SP1, Exchange2010_SP2, Exchange2013, Exchange2013_SP1, Exchange2016";

/**
 * The setting names MS-OXWSADISC §2.2.4.x defines that this server has no
 * value for (MAPI/RPC, Outlook Anywhere, ECP, UM, OAB, public folders...).
 * Asked for, they are SettingIsNotAvailable; any name outside both lists
 * is InvalidSetting.
 */
const KNOWN_UNAVAILABLE = new Set([
  "UserDN",
  "MailboxDN",
  "ActiveDirectoryServer",
  "InternalMailboxServer",
  "InternalRpcClientServer",
  "InternalMailboxServerDN",
  "InternalEcpUrl",
  "InternalEcpVoicemailUrl",
  "InternalEcpEmailSubscriptionsUrl",
  "InternalEcpTextMessagingUrl",
  "InternalEcpDeliveryReportUrl",
  "InternalEcpRetentionPolicyTagsUrl",
  "InternalEcpPublishingUrl",
  "InternalOABUrl",
  "InternalUMUrl",
  "InternalWebClientUrls",
  "PublicFolderServer",
  "ExternalMailboxServer",
  "ExternalMailboxServerRequiresSSL",
  "ExternalMailboxServerAuthenticationMethods",
  "EcpVoicemailUrlFragment",
  "EcpEmailSubscriptionsUrlFragment",
  "EcpTextMessagingUrlFragment",
  "EcpDeliveryReportUrlFragment",
  "EcpRetentionPolicyTagsUrlFragment",
  "EcpPublishingUrlFragment",
  "ExternalEcpUrl",
  "ExternalEcpVoicemailUrl",
  "ExternalEcpEmailSubscriptionsUrl",
  "ExternalEcpTextMessagingUrl",
  "ExternalEcpDeliveryReportUrl",
  "ExternalEcpRetentionPolicyTagsUrl",
  "ExternalEcpPublishingUrl",
  "ExternalOABUrl",
  "ExternalUMUrl",
  "ExternalWebClientUrls",
  "CrossOrganizationSharingEnabled",
  "AlternateMailboxes",
  "InternalPop3Connections",
  "ExternalPop3Connections",
  "InternalImap4Connections",
  "ExternalImap4Connections",
  "InternalSmtpConnections",
  "ExternalSmtpConnections",
  "InternalServerExclusiveConnect",
  "ExternalServerExclusiveConnect",
  "ExchangeRpcUrl",
  "ShowGalAsDefaultView",
  "InteropExternalEwsUrl",
  "InteropExternalEwsVersion",
  "MobileMailboxPolicyInterop",
  "GroupingInformation",
  "MapiHttpEnabled",
  "MapiHttpVersion",
  "MapiHttpServerUrl",
  "ExternalEwsPartnerUrl",
  "ExternalPhotosUrl",
  "InternalPhotosUrl",
  "SiteMailboxCreationURL",
  "EwsPartnerUrl",
  "ExternalServerUrl",
  "InternalServerUrl",
]);

type SettingValue = { type: "StringSetting"; value: string };

/** The settings we answer, for one user. */
function userSettings(ep: Endpoints, account: Account): Record<string, SettingValue> {
  const s = (value: string): SettingValue => ({ type: "StringSetting", value });
  const url = ewsUrl(ep);
  return {
    UserDisplayName: s((account.settings.displayName as string | undefined) || account.email),
    UserDeploymentId: s(deploymentId(ep)),
    // The primary address, as POX says it (the request may name an alias).
    AutoDiscoverSMTPAddress: s(account.email),
    CasVersion: s(buildDotted()),
    EwsSupportedSchemas: s(SUPPORTED_SCHEMAS),
    ExternalEwsUrl: s(url),
    InternalEwsUrl: s(url),
    ExternalEwsVersion: s(buildDotted()),
    UserMSOnline: s("False"),
  };
}

function responseEnvelope(action: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?>` +
    `<s:Envelope xmlns:s="${NS_SOAP}" xmlns:a="${NS_WSA}">` +
    `<s:Header><a:Action s:mustUnderstand="1">${ACTION_BASE}${action}</a:Action>` +
    `<h:ServerVersionInfo xmlns:h="${NS_AD}" xmlns:i="${NS_XSI}">` +
    `<h:MajorVersion>${BUILD.major}</h:MajorVersion><h:MinorVersion>${BUILD.minor}</h:MinorVersion>` +
    `<h:MajorBuildNumber>${BUILD.majorBuild}</h:MajorBuildNumber><h:MinorBuildNumber>${BUILD.minorBuild}</h:MinorBuildNumber>` +
    // MS-OXWSADISC §2.2.4.40 ServerVersionInfo Version: Exchange 2016 reports the "Exchange2015" autodiscover schema.
    `<h:Version>Exchange2015</h:Version></h:ServerVersionInfo></s:Header>` +
    `<s:Body>${body}</s:Body></s:Envelope>`
  );
}

/** A request-level fault (SOAP 1.1 §4.4), for what is not a GetUserSettings/GetDomainSettings request at all. */
function fault(message: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS_SOAP}"><s:Body><s:Fault>` +
    `<faultcode>s:Client</faultcode><faultstring xml:lang="en-US">${escapeXml(message)}</faultstring></s:Fault></s:Body></s:Envelope>`
  );
}

const el = (name: string, text: string) => `<${name}>${escapeXml(text)}</${name}>`;

function requestError(op: "GetUserSettings" | "GetDomainSettings", code: string, message: string): string {
  return responseEnvelope(
    `${op}Response`,
    `<${op}ResponseMessage xmlns="${NS_AD}"><Response xmlns:i="${NS_XSI}">${el("ErrorCode", code)}${el("ErrorMessage", message)}</Response></${op}ResponseMessage>`,
  );
}

function settingNames(request: XmlElement | undefined): string[] | null {
  const names = xmlKids(xmlKid(request, "RequestedSettings", NS_AD), "Setting", NS_AD).map((s) => xmlText(s));
  return names.length > MAX_SETTINGS ? null : names;
}

/** The per-setting answer: values for what we have, errors for the rest (in the order asked). */
function settingsXml(values: Record<string, SettingValue>, names: string[], kind: "User" | "Domain"): string {
  let ok = "";
  let errs = "";
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const v = values[name];
    if (v) ok += `<${kind}Setting i:type="${v.type}">${el("Name", name)}${el("Value", v.value)}</${kind}Setting>`;
    else {
      const code = KNOWN_UNAVAILABLE.has(name) ? "SettingIsNotAvailable" : "InvalidSetting";
      const text = code === "SettingIsNotAvailable" ? "This setting is not available on this server." : "The requested setting is not a setting name.";
      errs += `<${kind}SettingError>${el("ErrorCode", code)}${el("ErrorMessage", text)}${el("SettingName", name)}</${kind}SettingError>`;
    }
  }
  return `<${kind}SettingErrors>${errs}</${kind}SettingErrors><${kind}Settings>${ok}</${kind}Settings>`;
}

async function getUserSettings(ctx: ServerContext, account: Account, ep: Endpoints, request: XmlElement | undefined): Promise<string> {
  const users = xmlKids(xmlKid(request, "Users", NS_AD), "User", NS_AD);
  const names = settingNames(request);
  if (users.length === 0) return requestError("GetUserSettings", "InvalidRequest", "The request names no user.");
  if (users.length > MAX_USERS) return requestError("GetUserSettings", "InvalidRequest", `At most ${MAX_USERS} users per request.`);
  if (names === null) return requestError("GetUserSettings", "InvalidRequest", `At most ${MAX_SETTINGS} settings per request.`);
  if (names.length === 0) return requestError("GetUserSettings", "InvalidRequest", "The request names no setting.");
  const own = new Set([account.email.toLowerCase(), ...(await ctx.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase())]);
  let responses = "";
  for (const u of users) {
    const email = xmlText(xmlKid(u, "Mailbox", NS_AD)).toLowerCase();
    if (!own.has(email)) {
      // MS-OXWSADISC §2.2.4.12 ErrorCode InvalidUser; the same answer for unknown and other users' addresses.
      responses += `<UserResponse>${el("ErrorCode", "InvalidUser")}${el("ErrorMessage", "The e-mail address cannot be found.")}<RedirectTarget i:nil="true"/><UserSettingErrors/><UserSettings/></UserResponse>`;
      continue;
    }
    responses += `<UserResponse>${el("ErrorCode", "NoError")}${el("ErrorMessage", "No error.")}<RedirectTarget i:nil="true"/>${settingsXml(userSettings(ep, account), names, "User")}</UserResponse>`;
  }
  return responseEnvelope(
    "GetUserSettingsResponse",
    `<GetUserSettingsResponseMessage xmlns="${NS_AD}"><Response xmlns:i="${NS_XSI}">${el("ErrorCode", "NoError")}${el("ErrorMessage", "")}<UserResponses>${responses}</UserResponses></Response></GetUserSettingsResponseMessage>`,
  );
}

async function getDomainSettings(ctx: ServerContext, ep: Endpoints, request: XmlElement | undefined): Promise<string> {
  const domains = xmlKids(xmlKid(request, "Domains", NS_AD), "Domain", NS_AD).map((d) => xmlText(d).toLowerCase());
  const names = settingNames(request);
  if (domains.length === 0 || domains.length > MAX_USERS) return requestError("GetDomainSettings", "InvalidRequest", `Name between 1 and ${MAX_USERS} domains.`);
  if (names === null || names.length === 0) return requestError("GetDomainSettings", "InvalidRequest", `Name between 1 and ${MAX_SETTINGS} settings.`);
  const values: Record<string, SettingValue> = {
    ExternalEwsUrl: { type: "StringSetting", value: ewsUrl(ep) },
    ExternalEwsVersion: { type: "StringSetting", value: buildDotted() },
  };
  let responses = "";
  for (const d of domains) {
    if (!(await ctx.store.isLocalDomain(d))) {
      responses += `<DomainResponse>${el("ErrorCode", "InvalidDomain")}${el("ErrorMessage", "The domain is not served here.")}<DomainSettingErrors/><DomainSettings/><RedirectTarget i:nil="true"/></DomainResponse>`;
      continue;
    }
    responses += `<DomainResponse>${el("ErrorCode", "NoError")}${el("ErrorMessage", "No error.")}${settingsXml(values, names, "Domain")}<RedirectTarget i:nil="true"/></DomainResponse>`;
  }
  return responseEnvelope(
    "GetDomainSettingsResponse",
    `<GetDomainSettingsResponseMessage xmlns="${NS_AD}"><Response xmlns:i="${NS_XSI}">${el("ErrorCode", "NoError")}${el("ErrorMessage", "")}<DomainResponses>${responses}</DomainResponses></Response></GetDomainSettingsResponseMessage>`,
  );
}

/**
 * Answers one SOAP autodiscover request body (already authenticated as
 * `account`): { status, body }. Malformed requests get a SOAP fault with
 * HTTP 400; a request this server cannot serve gets the operation's
 * response with a request-level ErrorCode.
 */
export async function soapAutodiscover(ctx: ServerContext, account: Account, requestUrl: URL, body: string): Promise<{ status: number; body: string }> {
  let doc: XmlElement;
  try {
    doc = parseXml(body);
  } catch {
    return { status: 400, body: fault("The request is not well-formed XML.") };
  }
  if (doc.ns !== NS_SOAP || doc.name !== "Envelope") return { status: 400, body: fault("The request is not a SOAP 1.1 envelope.") };
  const op = xmlKids(xmlKid(doc, "Body", NS_SOAP))[0];
  if (!op || op.ns !== NS_AD) return { status: 400, body: fault("The SOAP body holds no autodiscover request.") };
  const request = xmlKid(op, "Request", NS_AD);
  const ep = endpoints(ctx.config, requestUrl);
  if (op.name === "GetUserSettingsRequestMessage") return { status: 200, body: await getUserSettings(ctx, account, ep, request) };
  if (op.name === "GetDomainSettingsRequestMessage") return { status: 200, body: await getDomainSettings(ctx, ep, request) };
  return { status: 400, body: fault(`${op.name.slice(0, 80)} is not an operation of this server.`) };
}
