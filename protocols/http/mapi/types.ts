/**
 * The seam between the MAPI/HTTP transport (index.ts, transport*.ts,
 * session*.ts) and the two services behind it: the EMSMDB ROP engine
 * (emsmdb/*) and the NSPI address book (nspi/*).
 *
 * The transport authenticates, frames (MS-OXCMAPIHTTP §2.2.2, §2.2.7),
 * keeps sessions and their cookies (§3.2.5.1) and hands each service the
 * raw request body bytes; a service answers with the raw response body bytes
 * (MS-OXCMAPIHTTP §2.2.4 for EMSMDB, §2.2.5 for NSPI), which the transport
 * writes after the meta-tags and additional headers. A service's state is
 * its own (a handle table, a bound address-book context); the transport only
 * stores it in the session and passes it back.
 *
 * Services register themselves at import time (`registerEmsmdb`,
 * `registerNspi`); the transport looks them up per request, so a request
 * that arrives before registration is answered with X-ResponseCode 16
 * (Endpoint Disabled), never a crash.
 */
import type { Account, MailStore } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import type { Logger } from "../../../src/log.ts";

/** What every service call receives. */
export interface MapiContext {
  server: ServerContext;
  store: MailStore;
  /** The account authenticated on this HTTP request (the same as the session's: the transport checks it). */
  account: Account;
  log: Logger;
  /** Aborted when the client goes away, the server shuts down, or a NotificationWait reaches its bound. */
  signal: AbortSignal;
  now(): number;
  /**
   * https://host[:port] clients reach this server by (the configured host
   * name, as autodiscover writes it): build URLs with identity.ts mapiUrls.
   * Optional so a test can make a context without it.
   */
  origin?: string;
}

/**
 * The X-ResponseCode values of MS-OXCMAPIHTTP §2.2.3.3.3 (also written in the
 * response's additional headers, §2.2.7). Everything but Success means the
 * request was refused before or instead of reaching a service.
 */
export const ResponseCode = {
  Success: 0,
  UnknownFailure: 1,
  InvalidVerb: 2,
  InvalidPath: 3,
  InvalidHeader: 4,
  InvalidRequestType: 5,
  InvalidContextCookie: 6,
  MissingHeader: 7,
  AnonymousNotAllowed: 8,
  TooLarge: 9,
  ContextNotFound: 10,
  NoPrivilege: 11,
  InvalidRequestBody: 12,
  MissingCookie: 13,
  Reserved: 14,
  InvalidSequence: 15,
  EndpointDisabled: 16,
  InvalidResponse: 17,
  EndpointShuttingDown: 18,
} as const;
export type ResponseCodeValue = (typeof ResponseCode)[keyof typeof ResponseCode];

/**
 * Thrown by a service when a request body cannot be acted on at all (for
 * instance one too short to hold the request's fixed fields): the transport
 * answers with this X-ResponseCode and no body instead of a response body.
 * Errors the protocol reports inside the body (a Connect's StatusCode, a
 * ROP's ReturnValue, an NSPI ErrorCode) are written by the service itself.
 */
export class MapiHttpError extends Error {
  constructor(
    public responseCode: ResponseCodeValue,
    message: string,
  ) {
    super(message);
    this.name = "MapiHttpError";
  }
}

/**
 * The EMSMDB endpoint's service (MS-OXCMAPIHTTP §2.2.4): `S` is its
 * per-session state. Connect creates it; a `state` of null means the Connect
 * response body reports a failure and no session is made.
 */
export interface EmsmdbService<S extends object = object> {
  /** §2.2.4.1 Connect: body = the Connect request body; answers the Connect response body. */
  connect(c: MapiContext, body: Uint8Array): Promise<{ body: Uint8Array; state: S | null }>;
  /** §2.2.4.2 Execute: the ROP buffers in, the ROP buffers out. */
  execute(c: MapiContext, state: S, body: Uint8Array): Promise<Uint8Array>;
  /** §2.2.4.3 Disconnect: the transport drops the session after this returns (or throws). */
  disconnect(c: MapiContext, state: S, body: Uint8Array): Promise<Uint8Array>;
  /**
   * §2.2.4.4 NotificationWait: may wait until something happens or
   * `c.signal` aborts (the transport bounds the wait and keeps the
   * connection alive with PROCESSING meta-tags meanwhile).
   */
  notificationWait(c: MapiContext, state: S, body: Uint8Array): Promise<Uint8Array>;
  /** Called once when the session ends without a Disconnect (expiry, eviction, shutdown): free what the state holds. */
  dispose?(state: S): void;
}

/**
 * The NSPI request types other than Bind and Unbind (MS-OXCMAPIHTTP §2.2.5),
 * exactly as they appear in the X-RequestType header.
 */
export const NSPI_CALLS = [
  "CompareMIds",
  "DNToMId",
  "GetMatches",
  "GetPropList",
  "GetProps",
  "GetSpecialTable",
  "GetTemplateInfo",
  "ModLinkAtt",
  "ModProps",
  "QueryColumns",
  "QueryRows",
  "ResolveNames",
  "ResortRestriction",
  "SeekEntries",
  "UpdateStat",
  "GetMailboxUrl",
  "GetAddressBookUrl",
] as const;
export type NspiRequestType = (typeof NSPI_CALLS)[number];

/** The NSPI endpoint's service (MS-OXCMAPIHTTP §2.2.5); `S` is its per-session state. */
export interface NspiService<S extends object = object> {
  /** §2.2.5.1 Bind; a `state` of null means the response body reports a failure and no session is made. */
  bind(c: MapiContext, body: Uint8Array): Promise<{ body: Uint8Array; state: S | null }>;
  /**
   * Every other call by its X-RequestType. A type the service does not offer
   * throws MapiHttpError(InvalidRequestType).
   */
  call(c: MapiContext, state: S, requestType: NspiRequestType, body: Uint8Array): Promise<Uint8Array>;
  /** §2.2.5.2 Unbind: the transport drops the session after this returns (or throws). */
  unbind(c: MapiContext, state: S, body: Uint8Array): Promise<Uint8Array>;
  /** Called once when the session ends without an Unbind. */
  dispose?(state: S): void;
}

let emsmdb: EmsmdbService | null = null;
let nspi: NspiService | null = null;

/** Installs the EMSMDB service (emsmdb/index.ts at import time). A second call replaces the first (tests). */
export function registerEmsmdb<S extends object>(svc: EmsmdbService<S>): void {
  emsmdb = svc as unknown as EmsmdbService; // the transport only hands back the state the same service made
}

/** Installs the NSPI service (nspi/index.ts at import time). A second call replaces the first (tests). */
export function registerNspi<S extends object>(svc: NspiService<S>): void {
  nspi = svc as unknown as NspiService; // as above
}

export function emsmdbService(): EmsmdbService | null {
  return emsmdb;
}

export function nspiService(): NspiService | null {
  return nspi;
}
