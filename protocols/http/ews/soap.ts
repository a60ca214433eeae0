/**
 * The SOAP 1.1 envelope of EWS (MS-OXWSCDATA; SOAP 1.1 §4): reading the
 * request's header (RequestServerVersion, TimeZoneContext,
 * ExchangeImpersonation) and body, writing the response envelope with the
 * ServerVersionInfo header, and SOAP faults.
 */
import { WINDOWS_ZONES } from "../../../src/groupware/ical/windows-zones.ts";
import { LEVEL, SoapFault, VERSIONS, type EwsVersion, type VersionName } from "./context.ts";
import { NS } from "./ns.ts";
import { attr, esc, kid, type XmlElement } from "./xml.ts";

export const SOAP_CONTENT_TYPE = "text/xml; charset=utf-8";

/** Exchange Server 2016 CU23's build: clients (exchangelib, Outlook for Mac) read the major/minor numbers to pick features. */
export const BUILD = { major: 15, minor: 1, majorBuild: 2507, minorBuild: 6 };

/**
 * The build as autodiscover's ServerVersion writes it (MS-OXDSCLI
 * §2.2.4.1.1.2.1.1.17 ServerVersion: 4 bits structure version 0111, 6 bits
 * major, 6 bits minor, 1 flag bit set, 15 bits build), e.g. "73C189CB".
 */
export function buildHex(): string {
  const v = ((0b0111 << 28) | (BUILD.major << 22) | (BUILD.minor << 16) | (1 << 15) | BUILD.majorBuild) >>> 0;
  return v.toString(16).toUpperCase().padStart(8, "0");
}

/** The build as "15.01.2507.006" (SOAP autodiscover's CasVersion / ExternalEwsVersion). */
export function buildDotted(): string {
  return `${BUILD.major}.${String(BUILD.minor).padStart(2, "0")}.${String(BUILD.majorBuild).padStart(4, "0")}.${String(BUILD.minorBuild).padStart(3, "0")}`;
}
const DEFAULT_VERSION: VersionName = "Exchange2016";

export interface SoapRequest {
  /** The operation element (first element of the Body). */
  operation: XmlElement;
  version: EwsVersion;
  timeZone: string | null;
  timeZoneDefinition: XmlElement | null;
  /** ExchangeImpersonation's target, lower-cased (the handler allows only the caller's own mailbox). */
  impersonate: string | null;
}

/** Reads the envelope; a SoapFault for anything that is not a SOAP request this server answers. */
export function readEnvelope(doc: XmlElement): SoapRequest {
  if (doc.ns !== NS.soap || doc.name !== "Envelope") {
    // SOAP 1.2 envelopes get the SOAP 1.1 VersionMismatch fault (SOAP 1.1 §4.4.1).
    if (doc.name === "Envelope") throw new SoapFault("VersionMismatch", "Only SOAP 1.1 envelopes are accepted.");
    throw new SoapFault("ErrorSchemaValidation", "The request is not a SOAP envelope.");
  }
  const header = kid(doc, "Header", NS.soap);
  const body = kid(doc, "Body", NS.soap);
  if (!body) throw new SoapFault("ErrorSchemaValidation", "The SOAP envelope has no Body.");
  const ops = body.children;
  if (ops.length !== 1) throw new SoapFault("ErrorSchemaValidation", "The SOAP Body must hold exactly one operation.");
  const operation = ops[0]!;
  let version: EwsVersion = { name: DEFAULT_VERSION, level: LEVEL[DEFAULT_VERSION] };
  let timeZone: string | null = null;
  let timeZoneDefinition: XmlElement | null = null;
  let impersonate: string | null = null;
  if (header) {
    const rsv = kid(header, "RequestServerVersion");
    if (rsv) {
      version = requestedVersion(attr(rsv, "Version") ?? "");
    }
    const tz = kid(header, "TimeZoneContext");
    const def = kid(tz, "TimeZoneDefinition");
    if (def) {
      timeZoneDefinition = def;
      const id = attr(def, "Id") ?? "";
      // Windows' "UTC" (exchangelib's id for UTC) is not in the CLDR table of named zones.
      timeZone = id === "UTC" ? "Etc/UTC" : (WINDOWS_ZONES[id] ?? (id.includes("/") ? id : null));
    }
    const imp = kid(header, "ExchangeImpersonation");
    if (imp) {
      const sid = kid(imp, "ConnectingSID");
      const who = sid?.children.find((k) => k.ns === NS.t && (k.name === "PrimarySmtpAddress" || k.name === "SmtpAddress" || k.name === "PrincipalName"));
      impersonate = who ? who.text.trim().toLowerCase() : "";
    }
  }
  return { operation, version, timeZone, timeZoneDefinition, impersonate };
}

/**
 * The version a RequestServerVersion names. A schema version newer than
 * this server's (Exchange2019, a later dated V20xx_xx_xx) is served as
 * Exchange2016 and the ServerVersionInfo header says so: clients such as
 * exchangelib open with the newest version they know and take the header's
 * Version as the one to use (MS-OXWSCDATA §2.2.3.10 ServerVersionInfo).
 * Anything else is not a version: ErrorInvalidServerVersion.
 */
export function requestedVersion(v: string): EwsVersion {
  if ((VERSIONS as readonly string[]).includes(v)) return { name: v as VersionName, level: LEVEL[v as VersionName] };
  const newer = /^Exchange(\d{4})(_SP\d)?$/.exec(v);
  if ((newer && Number(newer[1]) > 2016) || (/^V(\d{4})_\d{2}_\d{2}$/.test(v) && v > VERSIONS[VERSIONS.length - 1]!)) {
    return { name: DEFAULT_VERSION, level: LEVEL[DEFAULT_VERSION] };
  }
  throw new SoapFault("ErrorInvalidServerVersion", `The RequestServerVersion "${v.slice(0, 40)}" is not one this server knows.`);
}

function serverVersionInfo(v: VersionName): string {
  return `<h:ServerVersionInfo xmlns:h="${NS.t}" MajorVersion="${BUILD.major}" MinorVersion="${BUILD.minor}" MajorBuildNumber="${BUILD.majorBuild}" MinorBuildNumber="${BUILD.minorBuild}" Version="${v}"/>`;
}

const ENVELOPE_OPEN = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="${NS.soap}" xmlns:m="${NS.m}" xmlns:t="${NS.t}">`;

/** A response envelope around one serialised body element. */
export function envelope(body: string, version: VersionName = DEFAULT_VERSION): string {
  return `${ENVELOPE_OPEN}<s:Header>${serverVersionInfo(version)}</s:Header><s:Body>${body}</s:Body></s:Envelope>`;
}

/** The envelope split around its body, for responses written in pieces (long FindItem pages, streaming). */
export function envelopeParts(version: VersionName = DEFAULT_VERSION): { head: string; tail: string } {
  return { head: `${ENVELOPE_OPEN}<s:Header>${serverVersionInfo(version)}</s:Header><s:Body>`, tail: `</s:Body></s:Envelope>` };
}

/**
 * A SOAP 1.1 fault (§4.4) as Exchange writes it: faultcode in the types
 * namespace (or soap's own for VersionMismatch/Client), faultstring, and the
 * ResponseCode and Message in detail (MS-OXWSCDATA errors namespace), which is
 * what clients read to tell one error from another.
 */
export function faultEnvelope(code: string, message: string, version: VersionName = DEFAULT_VERSION): string {
  const soapCode = code === "VersionMismatch" || code === "Client" || code === "Server" || code === "MustUnderstand";
  const faultcode = soapCode ? `s:${code}` : `a:${esc(code)}`;
  return (
    `${ENVELOPE_OPEN}<s:Header>${serverVersionInfo(version)}</s:Header><s:Body><s:Fault>` +
    `<faultcode${soapCode ? "" : ` xmlns:a="${NS.t}"`}>${faultcode}</faultcode>` +
    `<faultstring xml:lang="en-US">${esc(message)}</faultstring>` +
    `<detail><e:ResponseCode xmlns:e="${NS.e}">${esc(code)}</e:ResponseCode><e:Message xmlns:e="${NS.e}">${esc(message)}</e:Message></detail>` +
    `</s:Fault></s:Body></s:Envelope>`
  );
}
