/**
 * Routes for account discovery, answered on every host name the server is
 * reached by (the main host, autodiscover.<domain>, autoconfig.<domain>):
 *
 *   /autodiscover/autodiscover.xml (any case)       POX, Basic auth: Outlook
 *        ("outlook" schema) and phones ("mobilesync" schema)
 *   /autodiscover/autodiscover.json[/v1.0/<addr>]   Autodiscover v2 JSON,
 *        ?Protocol=ActiveSync|AutodiscoverV1|EWS|MapiHttp (anonymous, as Exchange Online)
 *   /autodiscover/autodiscover.svc[/wssecurity]     SOAP autodiscover (MS-OXWSADISC),
 *        Basic auth: GetUserSettings, GetDomainSettings (soap.ts)
 *   /.well-known/autoconfig/mail/config-v1.1.xml    Thunderbird autoconfig
 *   /mail/config-v1.1.xml                           (autoconfig.<domain> form)
 *   /autodiscover/pillarbox.mobileconfig?type=eas|imap   Apple profile, Basic auth
 *
 * The address's domain must be one of ours; nothing is revealed about
 * which accounts exist to anonymous callers.
 */
import type { Account } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import { BodyTooLarge, readBody } from "../body.ts";
import { basicCredentials } from "../eas/handler.ts";
import { appleProfile, easUrl, errorResponse, mobileSyncResponse, NS, outlookResponse, thunderbirdConfig } from "./documents.ts";
import { endpoints, ewsUrl } from "./endpoints.ts";
import { soapAutodiscover } from "./soap.ts";
import { legacyDn, mapiUrls } from "../mapi/identity.ts";
import { parseXml, xmlKid, xmlText, XmlError } from "./xml.ts";

const XML_TYPE = "text/xml; charset=utf-8";
const MAX_REQUEST = 64 * 1024;

function text(status: number, body: string, type = XML_TYPE, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": type, "cache-control": "no-store", ...extra } });
}

function unauthorized(): Response {
  return new Response("Authentication required\n", { status: 401, headers: { "www-authenticate": 'Basic realm="Pillarbox Autodiscover", charset="UTF-8"', "content-type": "text/plain; charset=utf-8" } });
}

/** Which of our routes a path is (case-insensitive), or null. */
export function autodiscoverRoute(pathname: string): "pox" | "soap" | "json" | "autoconfig" | "mobileconfig" | null {
  const p = pathname.toLowerCase().replace(/\/+$/, "");
  if (p === "/autodiscover/autodiscover.xml") return "pox";
  if (p === "/autodiscover/autodiscover.svc" || p === "/autodiscover/autodiscover.svc/wssecurity") return "soap";
  if (p === "/autodiscover/autodiscover.json" || p.startsWith("/autodiscover/autodiscover.json/")) return "json";
  if (p === "/.well-known/autoconfig/mail/config-v1.1.xml" || p === "/mail/config-v1.1.xml") return "autoconfig";
  if (p === "/autodiscover/pillarbox.mobileconfig") return "mobileconfig";
  return null;
}

async function authenticated(req: Request, ip: string, ctx: ServerContext): Promise<Account | null> {
  const cred = basicCredentials(req.headers.get("authorization"));
  if (!cred) return null;
  return ctx.authenticate(cred.user, cred.pass, ip);
}

function displayName(a: Account): string {
  return (a.settings.displayName as string | undefined) || a.email;
}

function domainOf(addr: string): string | null {
  const at = addr.lastIndexOf("@");
  return at > 0 && at < addr.length - 1 ? addr.slice(at + 1).toLowerCase() : null;
}

/** The request body as text, or null when it is larger than MAX_REQUEST (a chunked body is cut off there, not read to the end). */
async function readText(req: Request): Promise<string | null> {
  try {
    return new TextDecoder().decode(await readBody(req, MAX_REQUEST));
  } catch (e) {
    if (e instanceof BodyTooLarge) return null;
    throw e;
  }
}

async function pox(req: Request, ip: string, ctx: ServerContext): Promise<Response> {
  const account = await authenticated(req, ip, ctx);
  if (!account) return unauthorized();
  if (req.method !== "POST") return text(200, errorResponse(600, "Invalid Request"));
  const body = await readText(req);
  if (body === null) return text(413, errorResponse(600, "Request too large"));
  let email = "";
  let schema = "";
  try {
    const doc = parseXml(body);
    if (doc.name !== "Autodiscover") throw new XmlError("not an Autodiscover request", 0);
    const r = xmlKid(doc, "Request");
    email = xmlText(xmlKid(r, "EMailAddress")).toLowerCase();
    schema = xmlText(xmlKid(r, "AcceptableResponseSchema"));
  } catch {
    return text(200, errorResponse(600, "Invalid Request"));
  }
  const ep = endpoints(ctx.config, new URL(req.url));
  const mine = email === account.email || (await ctx.store.sendAsAddresses(account.id)).map((a) => a.toLowerCase()).includes(email);
  if (!email || !mine) return text(200, errorResponse(500, "The e-mail address cannot be found."));
  const user = { displayName: displayName(account), email };
  if (schema === NS.mobileResponse) return text(200, mobileSyncResponse(ep, user));
  // MS-OXDSCLI AutoDiscoverSMTPAddress is the mailbox's primary address (asked for by an alias or not); clients
  // (Outlook for Mac, exchangelib) take it as the account's address, and it is the login name.
  if (schema === NS.outlookResponse) {
    // MS-OXDSCLI §2.2.3.1 X-MapiHttpCapability: a client that speaks MAPI over HTTP (version >= 1) gets its section.
    const cap = Number((req.headers.get("x-mapihttpcapability") ?? "").trim());
    const urls = mapiUrls(ep.httpsBase, account);
    const mapi = { legacyDn: legacyDn(account), section: Number.isInteger(cap) && cap >= 1, emsmdbUrl: urls.emsmdb, nspiUrl: urls.nspi };
    return text(200, outlookResponse(ep, { ...user, email: account.email }, mapi));
  }
  return text(200, errorResponse(601, "The requested schema is not available."));
}

async function soap(req: Request, ip: string, ctx: ServerContext): Promise<Response> {
  const account = await authenticated(req, ip, ctx);
  if (!account) return unauthorized();
  const body = await readText(req);
  if (body === null) return text(413, "Request too large\n", "text/plain; charset=utf-8");
  const r = await soapAutodiscover(ctx, account, new URL(req.url), body);
  return text(r.status, r.body);
}

async function json(req: Request, ctx: ServerContext): Promise<Response> {
  const url = new URL(req.url);
  const parts = url.pathname.split("/").filter(Boolean); // autodiscover, autodiscover.json, v1.0, <addr>
  const q = (k: string) => [...url.searchParams].find(([n]) => n.toLowerCase() === k.toLowerCase())?.[1];
  const email = decodeURIComponent(parts[3] ?? q("Email") ?? "");
  const protocol = (q("Protocol") ?? "").toLowerCase();
  const j = (status: number, body: unknown) => text(status, JSON.stringify(body), "application/json; charset=utf-8");
  const domain = domainOf(email);
  if (!domain || !(await ctx.store.isLocalDomain(domain))) return j(404, { ErrorCode: "UserNotFound", ErrorMessage: "The given user is not served here." });
  const ep = endpoints(ctx.config, url);
  if (protocol === "activesync") return j(200, { Protocol: "ActiveSync", Url: easUrl(ep) });
  if (protocol === "autodiscoverv1") return j(200, { Protocol: "AutodiscoverV1", Url: `${ep.httpsBase}/autodiscover/autodiscover.xml` });
  if (protocol === "ews") return j(200, { Protocol: "EWS", Url: ewsUrl(ep) });
  // The EMSMDB endpoint without a MailboxId: this answer is anonymous and a mailbox GUID would tell that the account exists
  // (the transport takes a request without MailboxId as one for the authenticated account's own mailbox).
  if (protocol === "mapihttp") return j(200, { Protocol: "MapiHttp", Url: `${ep.httpsBase}/mapi/emsmdb/` });
  return j(400, { ErrorCode: "ProtocolNotSupported", ErrorMessage: `The given protocol value '${q("Protocol") ?? ""}' is invalid. Supported values are 'ActiveSync,AutodiscoverV1,EWS,MapiHttp'.` });
}

async function autoconfig(req: Request, ctx: ServerContext): Promise<Response> {
  const url = new URL(req.url);
  const addr = [...url.searchParams].find(([n]) => n.toLowerCase() === "emailaddress")?.[1] ?? "";
  // Thunderbird asks autoconfig.<domain> (and the well-known path of <domain>); without an address, the host names the domain.
  const domain = domainOf(addr) ?? url.hostname.toLowerCase().replace(/^autoconfig\./, "");
  if (!(await ctx.store.isLocalDomain(domain))) return text(404, "No configuration for this domain\n", "text/plain; charset=utf-8");
  return text(200, thunderbirdConfig(endpoints(ctx.config, url), domain, domain), "application/xml; charset=utf-8");
}

async function mobileconfig(req: Request, ip: string, ctx: ServerContext): Promise<Response> {
  const account = await authenticated(req, ip, ctx);
  if (!account) return unauthorized();
  const url = new URL(req.url);
  const kind = (url.searchParams.get("type") ?? "eas").toLowerCase();
  if (kind !== "eas" && kind !== "imap") return text(400, "type must be eas or imap\n", "text/plain; charset=utf-8");
  const profile = appleProfile(endpoints(ctx.config, url), { email: account.email, displayName: displayName(account) }, kind);
  if (!profile) return text(404, "IMAP or SMTP submission is not enabled on this server\n", "text/plain; charset=utf-8");
  return new Response(profile, {
    status: 200,
    headers: { "content-type": "application/x-apple-aspen-config", "content-disposition": `attachment; filename="${kind === "eas" ? "exchange" : "mail"}.mobileconfig"`, "cache-control": "no-store" },
  });
}

export async function handleAutodiscover(req: Request, remoteIp: string, ctx: ServerContext): Promise<Response | null> {
  const route = autodiscoverRoute(new URL(req.url).pathname);
  if (!route) return null;
  const m = req.method.toUpperCase();
  if (route === "pox") return m === "GET" || m === "POST" ? pox(req, remoteIp, ctx) : new Response(null, { status: 405, headers: { allow: "GET, POST" } });
  if (route === "soap") return m === "POST" ? soap(req, remoteIp, ctx) : new Response(null, { status: 405, headers: { allow: "POST" } });
  if (m !== "GET" && m !== "HEAD") return new Response(null, { status: 405, headers: { allow: "GET" } });
  if (route === "json") return json(req, ctx);
  if (route === "autoconfig") return autoconfig(req, ctx);
  return mobileconfig(req, remoteIp, ctx);
}
