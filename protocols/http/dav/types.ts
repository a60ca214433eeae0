/**
 * What the DAV handlers share: the per-request context, the resolved target
 * of a request URL, the resource abstraction over store collections and the
 * directory book, and the response builders (multistatus, RFC 4918 §16
 * error bodies). The report and scheduling modules code against this file
 * and extensions.ts.
 */
import type { ServerContext } from "../../../src/context.ts";
import type { Logger } from "../../../src/log.ts";
import type { Collection, Groupware, StoredObject } from "../../../src/groupware/types.ts";
import type { Account } from "../../../storage/api.ts";
import { DAV_NS } from "./xml.ts";
import { rootDeclarations, serialize, x, xmlDocument, XML_CONTENT_TYPE, type XNode } from "./xml-writer.ts";

export interface DavContext {
  ctx: ServerContext;
  /** The authenticated account; every target belongs to it (paths.ts refuses other users' URLs). */
  account: Account;
  groupware: Groupware;
  /** "https://host[:port]" of this request, for absolute URIs (sync tokens). */
  baseUrl: string;
  req: Request;
  /** The Depth header (RFC 4918 §10.2); "infinity" when absent, as the RFC says for PROPFIND. */
  depth: "0" | "1" | "infinity";
  log: Logger;
}

/** Where the URL path points. `href` is the canonical path (percent-encoded, collections end with "/"). */
export type DavTarget =
  | { kind: "root"; href: string }
  | { kind: "principal"; href: string }
  | { kind: "calendar-home"; href: string }
  | { kind: "addressbook-home"; href: string }
  | { kind: "collection"; href: string; collection: Collection }
  /** An object URL in a collection; `object` is null when nothing is stored there yet (a PUT creates it). */
  | { kind: "object"; href: string; collection: Collection; name: string; object: StoredObject | null }
  | { kind: "directory"; href: string }
  /** `resource` is filled when the target comes from a listing (Depth 1), saving a lookup. */
  | { kind: "directory-object"; href: string; name: string; resource?: DavResource }
  | { kind: "schedule-inbox"; href: string }
  | { kind: "schedule-outbox"; href: string }
  | { kind: "schedule-inbox-object"; href: string; name: string; resource?: DavResource }
  /** A collection URL under a home with nothing there (the target of MKCALENDAR / MKCOL). */
  | { kind: "missing"; href: string; home: "calendars" | "addressbooks"; name: string };

export type TargetKind = DavTarget["kind"];

/** One readable resource of a collection: a stored object or a directory entry. */
export interface DavResource {
  /** Last URL segment (decoded). */
  name: string;
  href: string;
  /** Strong ETag with its quotes. */
  etag: string;
  contentType: string;
  size: number;
  /** ms since the epoch. */
  lastModified: number;
  /** The exact bytes. */
  body(): Promise<Uint8Array>;
  /** The stored object behind it (null for directory entries). */
  object: StoredObject | null;
}

// ---- hrefs ----

/** Percent-encodes one path segment, leaving RFC 3986 pchar characters readable ("@", ":", sub-delims). */
const PCHAR_ONLY = /^[A-Za-z0-9._~@:!$&'()*+,;=-]*$/;

export function encodeSegment(s: string): string {
  if (PCHAR_ONLY.test(s)) return s; // nothing to encode (the usual resource name)
  return encodeURIComponent(s).replace(/%(40|3A|21|24|26|27|28|29|2A|2B|2C|3B|3D)/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export const DAV_ROOT = "/dav/";
export const principalHref = (email: string) => `/dav/principals/${encodeSegment(email)}/`;
export const calendarHomeHref = (email: string) => `/dav/calendars/${encodeSegment(email)}/`;
export const addressbookHomeHref = (email: string) => `/dav/addressbooks/${encodeSegment(email)}/`;
export const collectionHref = (email: string, c: Collection) =>
  (c.kind === "contacts" ? addressbookHomeHref(email) : calendarHomeHref(email)) + encodeSegment(c.name) + "/";
export const objectHref = (email: string, c: Collection, name: string) => collectionHref(email, c) + encodeSegment(name);
export const directoryHref = (email: string) => addressbookHomeHref(email) + "directory/";
export const scheduleInboxHref = (email: string) => calendarHomeHref(email) + "inbox/";
export const scheduleOutboxHref = (email: string) => calendarHomeHref(email) + "outbox/";

/** Content type of an object of a collection (RFC 4791 §5.3.2 "component" parameter helps clients). */
export function objectContentType(c: Collection): string {
  if (c.kind === "contacts") return "text/vcard; charset=utf-8";
  return `text/calendar; charset=utf-8; component=${c.kind === "tasks" ? "VTODO" : "VEVENT"}`;
}

// ---- responses ----

export interface PropStat {
  status: number;
  props: XNode[];
  /** An RFC 4918 §14.5 error element for this propstat (e.g. 403 with cannot-modify-protected-property). */
  error?: XNode;
  description?: string;
}

/** One <D:response>: either propstats or a status for the whole href. */
export interface DavResponse {
  href: string;
  propstats?: PropStat[];
  status?: number;
  error?: XNode;
  description?: string;
}

const REASONS: Record<number, string> = {
  200: "OK",
  201: "Created",
  204: "No Content",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  412: "Precondition Failed",
  424: "Failed Dependency",
  500: "Internal Server Error",
  507: "Insufficient Storage",
};

export function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${REASONS[status] ?? ""}`.trimEnd();
}

/** The XML of one <D:response> (RFC 4918 §14.24). */
export function responseNode(r: DavResponse): XNode {
  const kids: XNode[] = [x(DAV_NS, "href", r.href)];
  if (r.propstats) {
    for (const ps of r.propstats) {
      kids.push(
        x(
          DAV_NS,
          "propstat",
          x(DAV_NS, "prop", ...ps.props),
          x(DAV_NS, "status", statusLine(ps.status)),
          ps.error && x(DAV_NS, "error", ps.error),
          ps.description && x(DAV_NS, "responsedescription", ps.description),
        ),
      );
    }
  } else kids.push(x(DAV_NS, "status", statusLine(r.status ?? 200)));
  if (r.error) kids.push(x(DAV_NS, "error", r.error));
  if (r.description && !r.propstats) kids.push(x(DAV_NS, "responsedescription", r.description));
  return x(DAV_NS, "response", ...kids);
}

/** A propstat response from what was found (200) and what was not (404). */
export function propResponse(href: string, found: XNode[], missing: XNode[]): DavResponse {
  const propstats: PropStat[] = [];
  if (found.length) propstats.push({ status: 200, props: found });
  if (missing.length) propstats.push({ status: 404, props: missing });
  if (!propstats.length) propstats.push({ status: 200, props: [] });
  return { href, propstats };
}

export interface MultistatusOptions {
  /** RFC 6578 §6.2: <D:sync-token> after the responses. */
  syncToken?: string;
  /** HTTP status (207 normally). */
  status?: number;
  headers?: Record<string, string>;
}

/**
 * A 207 Multi-Status response. An array is written at once; an async
 * iterable (a big collection) is streamed response by response so memory
 * stays bounded by one response's XML.
 */
export function multistatus(responses: DavResponse[] | AsyncIterable<DavResponse>, opts: MultistatusOptions = {}): Response {
  const head = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus${rootDeclarations()}>`;
  const tail = (opts.syncToken !== undefined ? `<D:sync-token>${escapeHref(opts.syncToken)}</D:sync-token>` : "") + "</D:multistatus>";
  const headers = { "content-type": XML_CONTENT_TYPE, ...opts.headers };
  const status = opts.status ?? 207;
  if (Array.isArray(responses)) {
    const body = head + responses.map((r) => serializeResponse(r)).join("") + tail;
    return new Response(body, { status, headers });
  }
  return streamed(responses, head, tail, status, headers);
}

/**
 * multistatus() for an async iterable whose answer is usually small (a multiget, a month's
 * query): up to BUFFER_LIMIT characters are gathered first, and an answer that fits is sent whole
 * with a Content-Length (clients read it in one go, no chunked framing); a larger one streams
 * on from there, as multistatus() does.
 */
export async function multistatusBuffered(responses: AsyncIterable<DavResponse>, opts: MultistatusOptions = {}): Promise<Response> {
  const head = `<?xml version="1.0" encoding="utf-8"?>\n<D:multistatus${rootDeclarations()}>`;
  const tail = (opts.syncToken !== undefined ? `<D:sync-token>${escapeHref(opts.syncToken)}</D:sync-token>` : "") + "</D:multistatus>";
  const headers = { "content-type": XML_CONTENT_TYPE, ...opts.headers };
  const status = opts.status ?? 207;
  const it = responses[Symbol.asyncIterator]();
  const parts: string[] = [head];
  let size = head.length;
  while (size < BUFFER_LIMIT) {
    const next = await it.next();
    if (next.done) {
      parts.push(tail);
      const bytes = new TextEncoder().encode(parts.join(""));
      return new Response(bytes, { status, headers: { ...headers, "content-length": String(bytes.byteLength) } });
    }
    const s = serializeResponse(next.value);
    parts.push(s);
    size += s.length;
  }
  return streamed({ [Symbol.asyncIterator]: () => it }, parts.join(""), tail, status, headers);
}

/** Most characters of a multistatus gathered before it is streamed instead (bounded memory per request). */
const BUFFER_LIMIT = 4 * 1024 * 1024;

function streamed(responses: AsyncIterable<DavResponse>, head: string, tail: string, status: number, headers: Record<string, string>): Response {
  const it = responses[Symbol.asyncIterator]();
  const enc = new TextEncoder();
  let started = false;
  // Responses are sent in chunks of about STREAM_CHUNK characters: bounded memory, few writes.
  const stream = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      let buf = started ? "" : head;
      started = true;
      while (buf.length < STREAM_CHUNK) {
        const next = await it.next();
        if (next.done) {
          ctrl.enqueue(enc.encode(buf + tail));
          ctrl.close();
          return;
        }
        buf += serializeResponse(next.value);
      }
      ctrl.enqueue(enc.encode(buf));
    },
    async cancel() {
      await it.return?.();
    },
  });
  return new Response(stream, { status, headers });
}

const STREAM_CHUNK = 64 * 1024;

function escapeHref(s: string): string {
  return s.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;"));
}

function serializeResponse(r: DavResponse): string {
  return serialize(responseNode(r), false);
}

/**
 * An RFC 4918 §16 error response: `<D:error><ns:name/><D:responsedescription>why</D:responsedescription></D:error>`
 * (precondition/postcondition codes of RFC 4918, 4791, 6352, 6578). `extra` goes inside the
 * condition element (e.g. the <D:href> of a UID conflict, RFC 4791 §5.3.2.1).
 */
export function davError(status: number, ns: string, name: string, description: string, extra: XNode[] = []): Response {
  const node = x(DAV_NS, "error", x(ns, name, ...extra), x(DAV_NS, "responsedescription", description));
  return new Response(xmlDocument(node), { status, headers: { "content-type": XML_CONTENT_TYPE } });
}

/** A plain error without a precondition element (400 bad XML, 404...): a short text body saying what was wrong. */
export function textError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message.endsWith("\n") ? message : message + "\n", { status, headers: { "content-type": "text/plain; charset=utf-8", ...headers } });
}

export { resources, resourceOf } from "./resources.ts";
