/**
 * The documents clients fetch to configure themselves:
 *  - POX Autodiscover (MS-OXDSCLI for Outlook's "outlook" response
 *    schema 2006a; MS-ASCMD §2.2.1.1 for phones' "mobilesync" schema);
 *    The outlook response names the EWS endpoint (EXCH/EXPR sections)
 *    and, for a client that says X-MapiHttpCapability, MAPI over HTTP;
 *  - Autodiscover v2 JSON (the Exchange Online form:
 *    /autodiscover/autodiscover.json/v1.0/<address>?Protocol=...);
 *  - Thunderbird autoconfig (clientConfig version 1.1);
 *  - an Apple configuration profile (.mobileconfig) for EAS or IMAP+SMTP.
 */
import { createHash } from "node:crypto";
import { escapeXml } from "./xml.ts";
import { ewsUrl, type Endpoints } from "./endpoints.ts";
import { buildHex } from "../ews/soap.ts";

export const NS = {
  response: "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006",
  outlookRequest: "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006",
  outlookResponse: "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a",
  mobileRequest: "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006",
  mobileResponse: "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006",
};

const HEAD = '<?xml version="1.0" encoding="utf-8"?>\n';

export function easUrl(ep: Endpoints): string {
  return `${ep.httpsBase}/Microsoft-Server-ActiveSync`;
}

/** MS-ASCMD §2.2.1.1 mobilesync response: the ActiveSync URL. */
export function mobileSyncResponse(ep: Endpoints, user: { displayName: string; email: string }): string {
  const url = escapeXml(easUrl(ep));
  return (
    HEAD +
    `<Autodiscover xmlns="${NS.response}">` +
    `<Response xmlns="${NS.mobileResponse}">` +
    `<Culture>en:us</Culture>` +
    `<User><DisplayName>${escapeXml(user.displayName)}</DisplayName><EMailAddress>${escapeXml(user.email)}</EMailAddress></User>` +
    `<Action><Settings><Server><Type>MobileSync</Type><Url>${url}</Url><Name>${url}</Name></Server></Settings></Action>` +
    `</Response></Autodiscover>`
  );
}

/** A stable GUID naming this deployment (the server's host name): User/DeploymentId, SOAP autodiscover's UserDeploymentId. */
export function deploymentId(ep: Endpoints): string {
  return uuid(`pillarbox-deployment:${ep.hostname}`).toLowerCase();
}

/**
 * The Exchange protocol sections of the "outlook" response (MS-OXDSCLI
 * §2.2.4.1.1.2.1.1): EXCH (inside the organisation) and EXPR (from outside)
 * both name the EWS endpoint, as clients look in either (exchangelib
 * prefers EXPR, Outlook for Mac and Thunderbird take the first EwsUrl).
 * ASUrl (availability) and OOFUrl (out of office) are EWS operations
 * here, so they are the same URL. Nothing about RPC over HTTP (ServerDN,
 * MdbDN, the EXHTTP type): this server does not speak it; MAPI over HTTP
 * has its own section (mapiHttpProtocol).
 */
function exchangeProtocols(ep: Endpoints): string {
  const url = escapeXml(ewsUrl(ep));
  const section = (type: "EXCH" | "EXPR") =>
    `<Protocol><Type>${type}</Type><Server>${escapeXml(ep.hostname)}</Server><ServerVersion>${buildHex()}</ServerVersion>` +
    `<AuthPackage>basic</AuthPackage><SSL>On</SSL><AuthRequired>On</AuthRequired>` +
    `<ASUrl>${url}</ASUrl><EwsUrl>${url}</EwsUrl><OOFUrl>${url}</OOFUrl></Protocol>`;
  return section("EXCH") + section("EXPR");
}

/** What the "outlook" response says about MAPI over HTTP for the account (protocols/http/mapi/identity.ts). */
export interface MapiHttpSettings {
  /** The account's legacy DN (User/LegacyDN: the DN a MAPI client logs on with). */
  legacyDn: string;
  /** Whether the client asked for the mapiHttp section (the X-MapiHttpCapability request header). */
  section: boolean;
  emsmdbUrl: string;
  nspiUrl: string;
}

/**
 * The MAPI over HTTP section (MS-OXDSCLI §2.2.4.1.1.2.1.1 Protocol with
 * Type="mapiHttp" Version="1"; its MailStore and AddressBook elements):
 * the EMSMDB and NSPI endpoints, the same URL inside and outside.
 */
function mapiHttpProtocol(m: MapiHttpSettings): string {
  const urls = (u: string) => `<InternalUrl>${escapeXml(u)}</InternalUrl><ExternalUrl>${escapeXml(u)}</ExternalUrl>`;
  return `<Protocol Type="mapiHttp" Version="1"><MailStore>${urls(m.emsmdbUrl)}</MailStore><AddressBook>${urls(m.nspiUrl)}</AddressBook></Protocol>`;
}

/**
 * MS-OXDSCLI "outlook" response: the mapiHttp section first when the client
 * asked for it (Outlook takes the first protocol it can use), the EWS
 * endpoint (EXCH/EXPR), then POP3/IMAP/SMTP settings.
 */
export function outlookResponse(ep: Endpoints, user: { displayName: string; email: string }, mapi?: MapiHttpSettings): string {
  const proto = (type: string, port: number, socket: "SSL" | "STARTTLS") =>
    `<Protocol><Type>${type}</Type><Server>${escapeXml(ep.hostname)}</Server><Port>${port}</Port><DomainRequired>off</DomainRequired>` +
    `<LoginName>${escapeXml(user.email)}</LoginName><SPA>off</SPA>` +
    (socket === "SSL" ? `<SSL>on</SSL>` : `<SSL>on</SSL><Encryption>TLS</Encryption>`) +
    `<AuthRequired>on</AuthRequired>${type === "SMTP" ? "<UsePOPAuth>on</UsePOPAuth>" : ""}</Protocol>`;
  const pick = (kind: "imap" | "pop3" | "smtp") => ep.services.find((s) => s.kind === kind);
  const imap = pick("imap");
  const pop = pick("pop3");
  const smtp = pick("smtp");
  return (
    HEAD +
    `<Autodiscover xmlns="${NS.response}">` +
    `<Response xmlns="${NS.outlookResponse}">` +
    `<User><DisplayName>${escapeXml(user.displayName)}</DisplayName>${mapi ? `<LegacyDN>${escapeXml(mapi.legacyDn)}</LegacyDN>` : ""}` +
    `<AutoDiscoverSMTPAddress>${escapeXml(user.email)}</AutoDiscoverSMTPAddress><DeploymentId>${deploymentId(ep)}</DeploymentId></User>` +
    `<Account><AccountType>email</AccountType><Action>settings</Action><MicrosoftOnline>False</MicrosoftOnline>` +
    (mapi?.section ? mapiHttpProtocol(mapi) : "") +
    exchangeProtocols(ep) +
    (imap ? proto("IMAP", imap.port, imap.socket) : "") +
    (pop ? proto("POP3", pop.port, pop.socket) : "") +
    (smtp ? proto("SMTP", smtp.port, smtp.socket) : "") +
    `</Account></Response></Autodiscover>`
  );
}

/** Error response (MS-OXDSCLI: 500 address not found, 600 invalid request, 601 schema not available). */
export function errorResponse(code: 500 | 600 | 601, message: string): string {
  const id = createHash("sha1").update(`${Date.now()}${Math.random()}`).digest("hex").slice(0, 10);
  const time = new Date().toISOString().slice(11, 19);
  return HEAD + `<Autodiscover xmlns="${NS.response}"><Response><Error Time="${time}" Id="${id}"><ErrorCode>${code}</ErrorCode><Message>${escapeXml(message)}</Message><DebugData /></Error></Response></Autodiscover>`;
}

/** Thunderbird autoconfig, clientConfig version 1.1. */
export function thunderbirdConfig(ep: Endpoints, domain: string, orgName: string): string {
  const server = (tag: "incomingServer" | "outgoingServer", type: string, port: number, socket: string) =>
    `    <${tag} type="${type}">\n      <hostname>${escapeXml(ep.hostname)}</hostname>\n      <port>${port}</port>\n      <socketType>${socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      <username>%EMAILADDRESS%</username>\n    </${tag}>\n`;
  let body = "";
  for (const s of ep.services) if (s.kind !== "smtp") body += server("incomingServer", s.kind, s.port, s.socket);
  for (const s of ep.services) if (s.kind === "smtp") body += server("outgoingServer", "smtp", s.port, s.socket);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<clientConfig version="1.1">\n  <emailProvider id="${escapeXml(domain)}">\n    <domain>${escapeXml(domain)}</domain>\n` +
    `    <displayName>${escapeXml(orgName)}</displayName>\n    <displayShortName>${escapeXml(orgName)}</displayShortName>\n${body}  </emailProvider>\n</clientConfig>\n`
  );
}

/** A stable UUID for a profile payload (re-downloading replaces the same profile on the device). */
function uuid(seed: string): string {
  const h = createHash("sha1").update(seed).digest("hex");
  // RFC 9562 §5.5-style name-based layout: version 5, variant 10.
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16]!, 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

type PlistValue = string | number | boolean | PlistValue[] | { [k: string]: PlistValue };

function plist(v: PlistValue, indent = ""): string {
  if (typeof v === "string") return `${indent}<string>${escapeXml(v)}</string>\n`;
  if (typeof v === "number") return `${indent}<integer>${v}</integer>\n`;
  if (typeof v === "boolean") return `${indent}<${v}/>\n`;
  if (Array.isArray(v)) return `${indent}<array>\n${v.map((x) => plist(x, indent + "  ")).join("")}${indent}</array>\n`;
  return `${indent}<dict>\n${Object.entries(v)
    .map(([k, x]) => `${indent}  <key>${escapeXml(k)}</key>\n${plist(x, indent + "  ")}`)
    .join("")}${indent}</dict>\n`;
}

/**
 * An Apple configuration profile (Apple's Configuration Profile Reference:
 * com.apple.eas.account or com.apple.mail.managed payloads). No password in
 * it: the device asks when the profile is installed.
 */
export function appleProfile(ep: Endpoints, user: { email: string; displayName: string }, kind: "eas" | "imap"): string | null {
  const id = `${ep.hostname.split(".").reverse().join(".")}.pillarbox.${kind}.${user.email}`;
  let payload: Record<string, PlistValue>;
  if (kind === "eas") {
    payload = {
      PayloadType: "com.apple.eas.account",
      PayloadVersion: 1,
      PayloadIdentifier: `${id}.account`,
      PayloadUUID: uuid(`${id}.account`),
      PayloadDisplayName: `Exchange ActiveSync (${user.email})`,
      EmailAddress: user.email,
      UserName: user.email,
      Host: ep.hostname + (ep.httpsBase.match(/:(\d+)$/) ? `:${ep.httpsBase.match(/:(\d+)$/)![1]}` : ""),
      SSL: true,
      MailNumberOfPastDaysToSync: 0,
    };
  } else {
    const imap = ep.services.find((s) => s.kind === "imap");
    const smtp = ep.services.find((s) => s.kind === "smtp");
    if (!imap || !smtp) return null;
    payload = {
      PayloadType: "com.apple.mail.managed",
      PayloadVersion: 1,
      PayloadIdentifier: `${id}.account`,
      PayloadUUID: uuid(`${id}.account`),
      PayloadDisplayName: `Mail (${user.email})`,
      EmailAccountDescription: user.email,
      EmailAccountName: user.displayName,
      EmailAccountType: "EmailTypeIMAP",
      EmailAddress: user.email,
      IncomingMailServerAuthentication: "EmailAuthPassword",
      IncomingMailServerHostName: ep.hostname,
      IncomingMailServerPortNumber: imap.port,
      IncomingMailServerUseSSL: true,
      IncomingMailServerUsername: user.email,
      OutgoingMailServerAuthentication: "EmailAuthPassword",
      OutgoingMailServerHostName: ep.hostname,
      OutgoingMailServerPortNumber: smtp.port,
      OutgoingMailServerUseSSL: true,
      OutgoingMailServerUsername: user.email,
      OutgoingPasswordSameAsIncomingPassword: true,
    };
  }
  const top: Record<string, PlistValue> = {
    PayloadContent: [payload],
    PayloadDisplayName: `${user.email} on ${ep.hostname}`,
    PayloadDescription: kind === "eas" ? "Mail over Exchange ActiveSync" : "Mail over IMAP and SMTP",
    PayloadIdentifier: id,
    PayloadOrganization: ep.hostname,
    PayloadRemovalDisallowed: false,
    PayloadType: "Configuration",
    PayloadUUID: uuid(id),
    PayloadVersion: 1,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n<plist version="1.0">\n${plist(top)}</plist>\n`;
}
