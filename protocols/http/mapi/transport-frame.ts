/**
 * The MAPI/HTTP response framing (MS-OXCMAPIHTTP §2.2.2.2 common response
 * format, §2.2.7 meta-tags and additional headers), sans-IO: the request
 * types, the response headers, and the bytes of a response body:
 *
 *   PROCESSING\r\n          (first, on a streamed response, §3.2.5.2)
 *   PENDING\r\n             (every X-PendingPeriod while the call runs)
 *   DONE\r\n
 *   X-ResponseCode: n\r\n   (additional headers, §2.2.3.3.3)
 *   X-ElapsedTime: ms\r\n   (§2.2.3.3.8)
 *   X-StartTime: date\r\n   (§2.2.3.3.9, an RFC 1123 date)
 *   \r\n
 *   <the binary response body>
 */
import { buildDotted } from "../ews/soap.ts";
import { NSPI_CALLS, type NspiRequestType, type ResponseCodeValue } from "./types.ts";
import type { Endpoint } from "./session.ts";

export const MAPI_CONTENT_TYPE = "application/mapi-http";

/** The EMSMDB request types (MS-OXCMAPIHTTP §2.2.3.3.1 X-RequestType), as written in responses. */
export const EMSMDB_TYPES = ["Connect", "Execute", "Disconnect", "NotificationWait", "PING"] as const;
export type EmsmdbRequestType = (typeof EMSMDB_TYPES)[number];
export type NspiEndpointRequestType = "Bind" | "Unbind" | "PING" | NspiRequestType;
export type RequestType = EmsmdbRequestType | NspiEndpointRequestType;

const NSPI_TYPES: readonly NspiEndpointRequestType[] = ["Bind", "Unbind", "PING", ...NSPI_CALLS];

/**
 * The request type an X-RequestType value names on this endpoint, in its
 * canonical spelling, or null. Matched without regard to case: clients
 * differ (ruler sends "BIND").
 */
export function requestType(endpoint: Endpoint, header: string): RequestType | null {
  const h = header.trim().toLowerCase();
  const list: readonly RequestType[] = endpoint === "emsmdb" ? EMSMDB_TYPES : NSPI_TYPES;
  return list.find((t) => t.toLowerCase() === h) ?? null;
}

/** X-ServerApplication (§2.2.3.3.6): the Exchange build clients compare against (the one EWS and autodiscover announce). */
export function serverApplication(): string {
  return `Exchange/${buildDotted()}`;
}

/** RFC 1123 date, as X-StartTime is written. */
export function httpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

const enc = new TextEncoder();

export const META = {
  processing: enc.encode("PROCESSING\r\n"),
  pending: enc.encode("PENDING\r\n"),
  done: enc.encode("DONE\r\n"),
} as const;

/** The additional headers after DONE, ending with the empty line that precedes the body. */
export function additionalHeaders(code: ResponseCodeValue, startedAt: number, now: number): Uint8Array {
  return enc.encode(`X-ResponseCode: ${code}\r\nX-ElapsedTime: ${Math.max(0, Math.round(now - startedAt))}\r\nX-StartTime: ${httpDate(startedAt)}\r\n\r\n`);
}

/** DONE, the additional headers and the body, as one buffer (a response that is not streamed). */
export function finalChunk(code: ResponseCodeValue, startedAt: number, now: number, body: Uint8Array): Uint8Array<ArrayBuffer> {
  const head = additionalHeaders(code, startedAt, now);
  const out = new Uint8Array(META.done.length + head.length + body.length);
  out.set(META.done, 0);
  out.set(head, META.done.length);
  out.set(body, META.done.length + head.length);
  return out;
}

/** The cookie names (what Exchange uses; the values are opaque to the client, §3.1.5.2). */
export const CONTEXT_COOKIE = "MapiContext";
export const SEQUENCE_COOKIE = "MapiSequence";

/**
 * A Set-Cookie for one of our cookies, scoped to the endpoint's path as the
 * client spelled it (so the emsmdb and nspi sessions, which share the cookie
 * names, never see each other's), Secure and HttpOnly. An empty value with
 * Max-Age=0 removes it.
 */
export function setCookie(name: string, value: string, path: string): string {
  return `${name}=${value}; Path=${path}; Secure; HttpOnly${value === "" ? "; Max-Age=0" : ""}`;
}

/** The named cookie's values in a Cookie header (all of them: a client may carry one per path). */
export function cookieValues(header: string | null, name: string): string[] {
  if (!header) return [];
  const out: string[] = [];
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) out.push(part.slice(i + 1).trim());
    if (out.length >= 8) break; // a bound on what one request may make us compare
  }
  return out;
}
