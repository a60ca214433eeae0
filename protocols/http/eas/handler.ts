/**
 * The /Microsoft-Server-ActiveSync endpoint (MS-ASHTTP): HTTP Basic
 * authentication, OPTIONS discovery, request-line parsing, device tracking,
 * the provisioning gate (MS-ASPROV §3.2.5.1: HTTP 449 for 12.x, Status 142
 * / 144 / 140 in the command response for 14.0+), WBXML decoding with the
 * spec's status codes for malformed input, dispatch, and encoding.
 *
 * Fetch-style (Request in, Response out) so it mounts on any HTTP layer.
 */
import type { ServerContext } from "../../../src/context.ts";
import type { EasStore } from "../../../storage/eas-store.ts";
import { getAttachment } from "./commands/attachment.ts";
import { sendMail, smartForward, smartReply } from "./commands/compose.ts";
import { getItemEstimate } from "./commands/estimate.ts";
import { folderCreate, folderDelete, folderSync, folderUpdate } from "./commands/folders.ts";
import { itemOperations } from "./commands/itemoperations.ts";
import { meetingResponse } from "./commands/meetingresponse.ts";
import { moveItems } from "./commands/moveitems.ts";
import { ping } from "./commands/ping.ts";
import { policyRequired, provision } from "./commands/provision.ts";
import { resolveRecipients } from "./commands/resolve.ts";
import { find, search } from "./commands/search.ts";
import { settings } from "./commands/settings.ts";
import { sync } from "./commands/sync.ts";
import { EasStatusError, type CommandHandler, type EasContext, type EasResult } from "./context.ts";
import { COMMANDS, parseEasRequest, SUPPORTED_VERSIONS, versionNumber, type CommandName } from "./request.ts";
import { Common } from "./status.ts";
import { decode, encode, WbxmlError } from "./wbxml/codec.ts";
import { el, kids, kidText, qn, text, type WElement } from "./wbxml/tree.ts";
import "./sync/index.ts";
import { BodyTooLarge, readBody as readBoundedBody } from "../body.ts";

/** The MS-Server-ActiveSync header value: the newest protocol version we speak. */
const SERVER_VERSION = "16.1";
const WBXML_TYPE = "application/vnd.ms-sync.wbxml";

interface Route {
  handler: CommandHandler;
  /** Root element of request and response ("Namespace:Tag"); null = no WBXML (GetAttachment). */
  root: string | null;
  /** A request without a body is valid (Ping, Sync repeat the last one; 12.x SendMail posts MIME). */
  emptyOk?: boolean;
  /** Minimum protocol version. */
  since?: number;
}

const ROUTES: Record<CommandName, Route> = {
  Sync: { handler: sync, root: "AirSync:Sync", emptyOk: true },
  SendMail: { handler: sendMail, root: "ComposeMail:SendMail", emptyOk: true },
  SmartForward: { handler: smartForward, root: "ComposeMail:SmartForward", emptyOk: true },
  SmartReply: { handler: smartReply, root: "ComposeMail:SmartReply", emptyOk: true },
  GetAttachment: { handler: getAttachment, root: null, emptyOk: true },
  FolderSync: { handler: folderSync, root: "FolderHierarchy:FolderSync" },
  FolderCreate: { handler: folderCreate, root: "FolderHierarchy:FolderCreate" },
  FolderDelete: { handler: folderDelete, root: "FolderHierarchy:FolderDelete" },
  FolderUpdate: { handler: folderUpdate, root: "FolderHierarchy:FolderUpdate" },
  MoveItems: { handler: moveItems, root: "Move:MoveItems" },
  GetItemEstimate: { handler: getItemEstimate, root: "GetItemEstimate:GetItemEstimate" },
  Search: { handler: search, root: "Search:Search" },
  Settings: { handler: settings, root: "Settings:Settings" },
  Ping: { handler: ping, root: "Ping:Ping", emptyOk: true },
  ItemOperations: { handler: itemOperations, root: "ItemOperations:ItemOperations" },
  Provision: { handler: provision, root: "Provision:Provision" },
  ResolveRecipients: { handler: resolveRecipients, root: "ResolveRecipients:ResolveRecipients" },
  Find: { handler: find, root: "Find:Find", since: 161 },
  MeetingResponse: { handler: meetingResponse, root: "MeetingResponse:MeetingResponse" },
};

export function optionsHeaders(): Record<string, string> {
  return {
    "ms-server-activesync": SERVER_VERSION,
    "ms-asprotocolversions": SUPPORTED_VERSIONS.join(","),
    "ms-asprotocolcommands": COMMANDS.join(","),
    allow: "OPTIONS,POST",
    public: "OPTIONS,POST",
    "cache-control": "private",
  };
}

/** The ActiveSync state store (opened with the mail store by the server: storage/open.ts). */
export function easStoreOf(server: ServerContext): Promise<EasStore> {
  return Promise.resolve(server.storage.eas);
}

function respond(status: number, body: Uint8Array | null, headers: Record<string, string> = {}, statusText?: string): Response {
  return new Response(body && body.length ? (body as Uint8Array<ArrayBuffer>) : null, {
    status,
    statusText,
    headers: { "ms-server-activesync": SERVER_VERSION, "cache-control": "private", ...headers },
  });
}

function wbxmlResponse(doc: WElement, extra: Record<string, string> = {}): Response {
  return respond(200, encode(doc), { "content-type": WBXML_TYPE, ...extra });
}

/** A command-level status answer (MS-ASCMD §2.2.2): `<Root><Status>n</Status></Root>`. */
function statusDoc(root: string, status: number): WElement {
  const ns = root.slice(0, root.indexOf(":"));
  return el(root, el(`${ns}:Status`, status));
}

function unauthorized(): Response {
  return respond(401, new TextEncoder().encode("Authentication required\n"), { "www-authenticate": 'Basic realm="Pillarbox ActiveSync", charset="UTF-8"', "content-type": "text/plain; charset=utf-8" });
}

/** Reads the request body up to `limit` bytes (../body.ts); null when larger. */
async function readBody(req: Request, limit: number): Promise<Uint8Array | null> {
  try {
    return await readBoundedBody(req, limit);
  } catch (e) {
    if (e instanceof BodyTooLarge) return null;
    throw e;
  }
}

export function basicCredentials(header: string | null): { user: string; pass: string } | null {
  if (!header) return null;
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!m) return null;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = decoded.indexOf(":");
  if (i < 0) return null;
  let user = decoded.slice(0, i);
  // Windows-style DOMAIN\user (Outlook, some phones): the part after the backslash is the login.
  const bs = user.lastIndexOf("\\");
  if (bs >= 0) user = user.slice(bs + 1);
  return { user, pass: decoded.slice(i + 1) };
}

/** What the per-request log line tells (filled in as the request is understood). */
interface RequestLog {
  cmd?: string;
  device?: string;
  version?: string;
  /** The response document, for its command Status. */
  doc?: WElement;
}

/** The command Status of a response: the top-level Status, else those of its collections/responses (Sync, GetItemEstimate...). */
export function commandStatus(doc: WElement | undefined): string | undefined {
  if (!doc) return undefined;
  const top = kidText(doc, `${doc.ns}:Status`);
  if (top !== undefined) return top;
  const inner: string[] = [];
  const walk = (e: WElement, depth: number) => {
    for (const k of kids(e)) {
      if (k.name === "Status") inner.push(text(k));
      else if (depth < 2 && inner.length < 20) walk(k, depth + 1);
    }
  };
  walk(doc, 0);
  return inner.length ? inner.join(",") : undefined;
}

/**
 * The endpoint. One debug line per request (command, device, protocol
 * version, HTTP status, command Status, duration) lets an administrator
 * follow a phone's session with the log level at debug.
 */
export async function handleEas(req: Request, remoteIp: string, server: ServerContext): Promise<Response> {
  const started = performance.now();
  const info: RequestLog = {};
  const res = await handleRequest(req, remoteIp, server, info);
  if (info.cmd !== undefined) {
    server.log.debug("eas: request", {
      proto: "eas",
      cmd: info.cmd,
      device: info.device,
      version: info.version,
      http: res.status,
      status: commandStatus(info.doc),
      ms: Math.round(performance.now() - started),
    });
  }
  return res;
}

async function handleRequest(req: Request, remoteIp: string, server: ServerContext, info: RequestLog): Promise<Response> {
  const method = req.method.toUpperCase();
  if (method !== "POST" && method !== "OPTIONS") return respond(405, null, { allow: "OPTIONS,POST" });

  const cred = basicCredentials(req.headers.get("authorization"));
  if (!cred) return unauthorized();
  // The shared throttle (src/auth-throttle.ts): a refused attempt never reaches the password hash.
  const auth = await server.login(cred.user, cred.pass, remoteIp, { protocol: "eas" });
  if (!auth.ok && auth.reason === "throttled") {
    // HTTP 503 with Retry-After (RFC 9110 §15.6.4, §10.2.3): the device backs off instead of asking the user for a new password.
    return respond(503, null, { "retry-after": String(Math.max(1, Math.ceil(auth.retryAfterMs / 1000))) });
  }
  if (!auth.ok) return unauthorized();
  const account = auth.account;

  // MS-ASHTTP: OPTIONS tells the versions and commands.
  if (method === "OPTIONS") return respond(200, null, optionsHeaders());

  const url = new URL(req.url);
  const parsed = parseEasRequest(url, req.headers);
  if ("error" in parsed) return respond(400, new TextEncoder().encode(`${parsed.error}\n`), { "content-type": "text/plain; charset=utf-8" });
  const versionString = parsed.version ?? "";
  info.cmd = parsed.cmd;
  info.device = parsed.deviceId;
  info.version = versionString;
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(versionString)) {
    return respond(400, new TextEncoder().encode("unsupported MS-ASProtocolVersion\n"), { "ms-asprotocolversions": SUPPORTED_VERSIONS.join(","), "content-type": "text/plain; charset=utf-8" });
  }
  const version = versionNumber(versionString);
  const route = Object.hasOwn(ROUTES, parsed.cmd) ? (ROUTES as Record<string, Route>)[parsed.cmd] : undefined;
  if (!route || (route.since && version < route.since)) return respond(501, null, optionsHeaders()); // MS-ASHTTP: HTTP 501 for a command this server or this protocol version does not offer (OPTIONS lists those it does)

  const eas = await easStoreOf(server);
  let device = await eas.touchDevice(account.id, parsed.deviceId, { deviceType: parsed.deviceType, userAgent: parsed.userAgent, protocolVersion: versionString, ip: remoteIp }, Date.now());
  const log = server.log.child({ proto: "eas", device: parsed.deviceId, cmd: parsed.cmd });

  // A wiped device stays locked out until an administrator removes it.
  if (device.wipeStatus === "wiped") return respond(403, null);

  const statusAnswer = (status: number, http400 = 400): Response => {
    if (route.root && version >= 140) return wbxmlResponse((info.doc = statusDoc(route.root, status)));
    return respond(http400, null);
  };

  // Provisioning gate (MS-ASPROV §3.2.5.1).
  if (parsed.cmd !== "Provision") {
    const wipe = device.wipeStatus !== "none";
    let need: number | null = null;
    if (wipe) need = Common.RemoteWipeRequested;
    else if (policyRequired(account)) {
      const key = parsed.policyKey;
      if (!key || key === "0" || device.policyKey === null) need = Common.DeviceNotProvisioned;
      else if (key !== String(device.policyKey)) need = Common.InvalidPolicyKey;
    }
    if (need !== null) {
      log.debug("eas: provisioning required", { status: need });
      // MS-ASHTTP §3.2.5.1: HTTP 449 with its reason phrase for 12.x (and GetAttachment, which has no WBXML).
      if (version < 140 || !route.root) return respond(449, null, {}, "Retry after sending a PROVISION command");
      return wbxmlResponse((info.doc = statusDoc(route.root, need)));
    }
  }

  const limit = Math.floor(server.config.limits.maxMessageSize * 1.4) + 64 * 1024; // base64/WBXML overhead over the largest message
  let raw: Uint8Array | null;
  try {
    raw = await readBody(req, limit);
  } catch {
    return respond(400, null);
  }
  if (raw === null) return statusAnswer(Common.AttachmentIsTooLarge, 413);

  let doc: WElement | null = null;
  const ctype = (req.headers.get("content-type") ?? "").toLowerCase();
  const isMime = ctype.startsWith("message/rfc822");
  if (raw.length && !isMime && route.root) {
    try {
      doc = decode(raw).root;
    } catch (e) {
      if (!(e instanceof WbxmlError)) throw e;
      log.info("eas: malformed WBXML", { code: e.code, err: e.message });
      return statusAnswer(Common.InvalidWBXML);
    }
    if (qn(doc) !== route.root) {
      log.info("eas: unexpected root element", { root: qn(doc) });
      return statusAnswer(Common.InvalidXML);
    }
  } else if (!raw.length && !route.emptyOk) {
    return statusAnswer(Common.InvalidXML);
  }

  const c: EasContext = {
    server,
    store: server.store,
    eas,
    account,
    device,
    version,
    versionString,
    req: parsed,
    log,
    signal: req.signal,
    now: Date.now,
  };
  let result: EasResult;
  try {
    result = await route.handler(c, doc, raw);
  } catch (e) {
    if (e instanceof EasStatusError) return statusAnswer(e.statusCode);
    log.error("eas: command failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    // A server-side failure: 14.0+ clients understand "server error, retry later" in the body.
    if (route.root && version >= 140) return wbxmlResponse(statusDoc(route.root, Common.ServerErrorRetryLater));
    return respond(500, null);
  }
  device = c.device;
  const headers = result.headers ?? {};
  info.doc = result.wbxml;
  if (result.wbxml) return respond(result.status ?? 200, encode(result.wbxml), { "content-type": WBXML_TYPE, ...headers });
  return respond(result.status ?? 200, result.body ?? null, result.contentType ? { "content-type": result.contentType, ...headers } : headers);
}

/** Path test for the endpoint: /Microsoft-Server-ActiveSync, any case (MS-ASHTTP §2.2.1.1.1). */
export function isEasPath(pathname: string): boolean {
  return pathname.toLowerCase() === "/microsoft-server-activesync" || pathname.toLowerCase() === "/microsoft-server-activesync/";
}
