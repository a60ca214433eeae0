/**
 * The EWS endpoint, /EWS/Exchange.asmx (any letter case): HTTP Basic
 * authentication through the shared throttle (account password or app
 * password), a bounded body, the SOAP envelope, dispatch to the operation,
 * and SOAP faults for everything the client got wrong (HTTP 400; a 500 only
 * for the server's own failures, and then with a SOAP fault body too).
 *
 * Fetch-style (Request in, Response out) like the ActiveSync handler.
 */
import type { ServerContext } from "../../../src/context.ts";
import { BodyTooLarge, readBody } from "../body.ts";
import { basicCredentials } from "../eas/handler.ts";
import { EwsError, operation, SoapFault, type EwsContext } from "./context.ts";
import { failure, responseMessages } from "./responses.ts";
import { envelope, faultEnvelope, readEnvelope, SOAP_CONTENT_TYPE } from "./soap.ts";
import { NS } from "./ns.ts";
import { parseSoapXml, XmlError } from "./xml.ts";
import "./operations.ts";

/** Is this the EWS endpoint? (Exchange answers /EWS/Exchange.asmx in any case.) */
export function isEwsPath(pathname: string): boolean {
  const p = pathname.toLowerCase();
  return p === "/ews/exchange.asmx" || p === "/ews/exchange.asmx/";
}

/** Largest SOAP request: a whole message as base64 (4/3) in CreateItem, plus room for the XML around it. */
export function maxRequestBytes(server: ServerContext): number {
  return Math.floor(server.config.limits.maxMessageSize * 1.4) + 256 * 1024;
}

function soap(status: number, body: string, extra: Record<string, string> = {}): Response {
  return new Response(body, { status, headers: { "content-type": SOAP_CONTENT_TYPE, "cache-control": "private", ...extra } });
}

function unauthorized(): Response {
  return new Response("Authentication required\n", {
    status: 401,
    headers: { "www-authenticate": 'Basic realm="Pillarbox EWS", charset="UTF-8"', "content-type": "text/plain; charset=utf-8" },
  });
}

export async function handleEws(req: Request, remoteIp: string, server: ServerContext): Promise<Response> {
  const started = performance.now();
  const info: { op?: string; code?: string } = {};
  const res = await handle(req, remoteIp, server, info);
  if (info.op !== undefined) {
    server.log.debug("ews: request", { proto: "ews", op: info.op, http: res.status, code: info.code, ms: Math.round(performance.now() - started) });
  }
  return res;
}

async function handle(req: Request, remoteIp: string, server: ServerContext, info: { op?: string; code?: string }): Promise<Response> {
  const method = req.method.toUpperCase();
  if (method !== "POST" && method !== "GET") return new Response(null, { status: 405, headers: { allow: "GET, POST" } });
  const cred = basicCredentials(req.headers.get("authorization"));
  if (!cred) return unauthorized();
  const auth = await server.login(cred.user, cred.pass, remoteIp, { protocol: "ews" });
  if (!auth.ok && auth.reason === "throttled") {
    // RFC 9110 §15.6.4: a temporary refusal, so the client backs off instead of asking for a new password.
    return new Response(null, { status: 503, headers: { "retry-after": String(Math.max(1, Math.ceil(auth.retryAfterMs / 1000))) } });
  }
  if (!auth.ok) return unauthorized();
  const account = auth.account;
  if (method === "GET") {
    // Exchange answers a browser's GET with a page; clients probe it to test credentials.
    return new Response("Exchange Web Services (Pillarbox): POST SOAP requests to this URL.\n", { status: 200, headers: { "content-type": "text/plain; charset=utf-8" } });
  }

  let raw: Uint8Array;
  try {
    raw = await readBody(req, maxRequestBytes(server));
  } catch (e) {
    if (e instanceof BodyTooLarge) return soap(413, faultEnvelope("ErrorRequestTooLarge" /* not a schema code; clients read the HTTP status */, `The request is larger than ${e.limit} bytes.`));
    return soap(400, faultEnvelope("ErrorInvalidRequest", "The request body could not be read."));
  }

  let request;
  try {
    request = readEnvelope(parseSoapXml(raw, maxRequestBytes(server)));
  } catch (e) {
    if (e instanceof XmlError) {
      info.op = "(malformed)";
      info.code = "ErrorSchemaValidation";
      return soap(400, faultEnvelope("ErrorSchemaValidation", `The request is not valid XML: ${e.message}`));
    }
    if (e instanceof SoapFault) {
      info.op = "(envelope)";
      info.code = e.code;
      return soap(e.httpStatus, faultEnvelope(e.code, e.message));
    }
    throw e;
  }
  const name = request.operation.name;
  info.op = name;
  const op = request.operation.ns === NS.m ? operation(name) : undefined;
  if (!op || request.version.level < op.since) {
    info.code = "ErrorInvalidRequest";
    return soap(400, faultEnvelope("ErrorInvalidRequest", `The operation ${name.slice(0, 80)} is not offered by this server${op ? " in the requested server version" : ""}.`, request.version.name));
  }
  if (request.impersonate !== null && request.impersonate !== account.email) {
    const own = (await server.store.sendAsAddresses(account.id)).some((a) => a.toLowerCase() === request.impersonate);
    if (!own) {
      info.code = "ErrorImpersonationDenied";
      return soap(400, faultEnvelope("ErrorImpersonationDenied", "The account does not have permission to impersonate the requested user.", request.version.name));
    }
  }
  const c: EwsContext = {
    server,
    store: server.store,
    account,
    version: request.version,
    timeZone: request.timeZone,
    timeZoneDefinition: request.timeZoneDefinition,
    remoteIp,
    log: server.log.child({ proto: "ews", op: name }),
    signal: req.signal,
    now: Date.now,
  };
  try {
    const result = await op.handler(c, request.operation);
    if (result instanceof Response) return result;
    return soap(200, envelope(result, request.version.name));
  } catch (e) {
    if (e instanceof SoapFault) {
      info.code = e.code;
      return soap(e.httpStatus, faultEnvelope(e.code, e.message, request.version.name));
    }
    if (e instanceof EwsError) {
      // An operation-level error: one Error response message, as Exchange answers a request it cannot act on at all.
      info.code = e.code;
      return soap(200, envelope(responseMessages(name, [failure(`${name}ResponseMessage`, e)]), request.version.name));
    }
    c.log.error("ews: operation failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    info.code = "ErrorInternalServerError";
    return soap(500, faultEnvelope("ErrorInternalServerError", "The server could not complete the request; your data is unchanged. Try again.", request.version.name));
  }
}
