/**
 * The /dav/ endpoint: HTTP Basic authentication over HTTPS through the
 * shared login throttle (as ActiveSync), the per-request context, target
 * resolution, and method dispatch. Fetch-style (Request in, Response out).
 */
import type { ServerContext } from "../../../src/context.ts";
import { GroupwareError } from "../../../src/groupware/types.ts";
import { basicCredentials } from "../eas/handler.ts";
import { BodyTooLarge, readBody } from "../body.ts";
import { groupwareErrorResponse } from "./errors.ts";
import { pathHandlerFor, pathMethodsOf, reportFor } from "./extensions.ts";
import { mkcol } from "./mkcol.ts";
import { deleteTarget, getObject, moveCopy, putObject } from "./objects.ts";
import { resolvePath } from "./paths.ts";
import { propfind } from "./propfind.ts";
import { proppatch } from "./proppatch.ts";
import { davError, textError, type DavContext, type DavTarget, type TargetKind } from "./types.ts";
import { DAV_NS, parseXml, XML_LIMITS, XmlError, type XmlElement } from "./xml.ts";
import "./plugins.ts";

/** RFC 4918 §10.1, RFC 3744 §7.2, RFC 4791 §5.1, RFC 6352 §6.1, RFC 5689 §3.1, RFC 6638 §2. */
export const DAV_COMPLIANCE = "1, 3, access-control, calendar-access, addressbook, extended-mkcol, calendar-auto-schedule";

const BASE_ALLOW: Record<TargetKind, string[]> = {
  root: ["OPTIONS", "PROPFIND", "REPORT"],
  principal: ["OPTIONS", "PROPFIND", "REPORT"],
  "calendar-home": ["OPTIONS", "PROPFIND", "REPORT"],
  "addressbook-home": ["OPTIONS", "PROPFIND", "REPORT"],
  collection: ["OPTIONS", "PROPFIND", "PROPPATCH", "REPORT", "DELETE"],
  object: ["OPTIONS", "GET", "HEAD", "PUT", "DELETE", "PROPFIND", "REPORT", "MOVE", "COPY"],
  directory: ["OPTIONS", "PROPFIND", "REPORT"],
  "directory-object": ["OPTIONS", "GET", "HEAD", "PROPFIND", "REPORT", "COPY"],
  "schedule-inbox": ["OPTIONS", "PROPFIND"],
  "schedule-outbox": ["OPTIONS", "PROPFIND"],
  "schedule-inbox-object": ["OPTIONS"],
  missing: ["OPTIONS", "MKCOL", "MKCALENDAR"],
};

export function allowFor(kind: TargetKind): string {
  return [...new Set([...BASE_ALLOW[kind], ...pathMethodsOf(kind)])].join(", ");
}

function optionsResponse(allow: string): Response {
  return new Response(null, { status: 200, headers: { dav: DAV_COMPLIANCE, allow, "content-length": "0" } });
}

function unauthorized(): Response {
  return textError(401, "Authentication required: sign in with your email address and password", { "www-authenticate": 'Basic realm="Pillarbox CalDAV/CardDAV", charset="UTF-8"' });
}


function parseDepth(h: string | null, dflt: DavContext["depth"]): DavContext["depth"] | null {
  if (h === null) return dflt;
  const v = h.trim().toLowerCase();
  return v === "0" || v === "1" || v === "infinity" ? v : null;
}

const XML_TYPES = /^(application|text)\/([a-z0-9.+-]+\+)?xml$/;

/** The request's XML body (null when empty), bounded; a Response for an unacceptable one. */
async function xmlBody(req: Request): Promise<XmlElement | null | Response> {
  const type = (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  let raw: Uint8Array;
  try {
    raw = await readBody(req, XML_LIMITS.MAX_BODY);
  } catch (e) {
    if (e instanceof BodyTooLarge) return textError(413, `the XML body is larger than ${XML_LIMITS.MAX_BODY} bytes`);
    throw e;
  }
  if (raw.length === 0 || (raw.length < 64 && /^\s*$/.test(new TextDecoder().decode(raw)))) return null;
  // RFC 4918 §8.2: DAV bodies are XML; anything else declared is refused instead of guessed at.
  if (type && !XML_TYPES.test(type)) return textError(415, `the request body must be XML (application/xml or text/xml), not ${type}`);
  try {
    return parseXml(raw);
  } catch (e) {
    if (e instanceof XmlError) return textError(400, `bad XML body: ${e.message}`);
    throw e;
  }
}

export async function handleDav(req: Request, env: { remoteIp?: string; scheme?: string }, ctx: ServerContext): Promise<Response> {
  const method = req.method.toUpperCase();
  // Credentials travel only over TLS (routes.ts redirects plain HTTP when HTTPS is on; this covers a server without it).
  if (env.scheme === "http") return textError(403, "CalDAV/CardDAV is only served over HTTPS");
  const cred = basicCredentials(req.headers.get("authorization"));
  if (!cred) return method === "OPTIONS" ? optionsResponse("OPTIONS, PROPFIND") : unauthorized();
  const auth = await ctx.login(cred.user, cred.pass, env.remoteIp ?? "", { protocol: "dav" });
  if (!auth.ok && auth.reason === "throttled") {
    // RFC 9110 §15.6.4: the client backs off instead of asking for a new password.
    return textError(503, "Too many failed sign-ins from here; try again later", { "retry-after": String(Math.max(1, Math.ceil(auth.retryAfterMs / 1000))) });
  }
  if (!auth.ok) return unauthorized();
  const groupware = ctx.groupware;

  const url = new URL(req.url);
  const depth = parseDepth(req.headers.get("depth"), method === "PROPFIND" ? "infinity" : "0");
  if (depth === null) return textError(400, "the Depth header must be 0, 1 or infinity");
  const dc: DavContext = { ctx, account: auth.account, groupware, baseUrl: url.origin, req, depth, log: ctx.log.child({ proto: "dav" }) };
  try {
    const resolved = await resolvePath(dc, url.pathname);
    if ("status" in resolved) {
      dc.log.debug("dav: refused path", { method, path: url.pathname, status: resolved.status, why: resolved.message });
      return textError(resolved.status, resolved.message);
    }
    const res = await dispatch(dc, resolved.target, method);
    dc.log.debug("dav", { method, path: url.pathname, kind: resolved.target.kind, depth, status: res.status });
    return res;
  } catch (e) {
    if (e instanceof GroupwareError) return groupwareErrorResponse(e, null);
    if (e instanceof BodyTooLarge) return textError(413, e.message);
    if (e instanceof RangeError) return textError(400, e.message);
    dc.log.error("dav request failed", { method, path: url.pathname, err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return textError(500, "Something went wrong on the server; your data is safe, please try again");
  }
}

async function dispatch(dc: DavContext, t: DavTarget, method: string): Promise<Response> {
  const ext = pathHandlerFor(t.kind, method);
  if (ext) return ext(dc, t);
  const allow = allowFor(t.kind);
  const notAllowed = () => textError(405, `${method} is not allowed on this resource`, { allow });
  if (!allow.split(", ").includes(method)) {
    if (method === "PUT" && t.kind === "directory-object") return putObject(dc, t);
    if (method === "DELETE" && (t.kind === "directory" || t.kind === "directory-object")) return deleteTarget(dc, t);
    if (method === "MOVE" && t.kind === "directory-object") return moveCopy(dc, t, true);
    if (method === "PROPPATCH" && (t.kind === "directory" || t.kind === "directory-object")) return proppatch(dc, t, null);
    if (t.kind === "missing" && method !== "MKCOL" && method !== "MKCALENDAR") return textError(404, "no such resource");
    return notAllowed();
  }
  switch (method) {
    case "OPTIONS":
      return optionsResponse(allow);
    case "GET":
    case "HEAD":
      return getObject(dc, t);
    case "PUT":
      return putObject(dc, t);
    case "DELETE":
      return deleteTarget(dc, t);
    case "MOVE":
    case "COPY":
      return moveCopy(dc, t, method === "MOVE");
  }
  const body = await xmlBody(dc.req);
  if (body instanceof Response) return body;
  switch (method) {
    case "PROPFIND":
      return propfind(dc, t, body);
    case "PROPPATCH":
      return proppatch(dc, t, body);
    case "MKCOL":
    case "MKCALENDAR":
      return mkcol(dc, t, body, method);
    case "REPORT": {
      if (!body) return textError(400, "REPORT needs an XML body naming the report");
      if (t.kind === "object" && !t.object) return textError(404, "no such resource");
      const handler = reportFor(body.ns, body.name, t);
      if (!handler) return davError(403, DAV_NS, "supported-report", `the report {${body.ns}}${body.name} is not supported on this resource`);
      return handler(dc, t, body);
    }
  }
  return notAllowed();
}
