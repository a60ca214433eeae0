/**
 * What every EWS operation receives, how it answers, and the operation
 * registry. Operation modules (folders.ts, items-*.ts, calendar-*.ts...)
 * call `registerOperation` at import time; ./operations.ts imports them all.
 */
import type { Account, MailStore } from "../../../storage/api.ts";
import type { ServerContext } from "../../../src/context.ts";
import type { Logger } from "../../../src/log.ts";
import type { XmlElement } from "./xml.ts";

/**
 * The schema versions a client may ask for in RequestServerVersion
 * (Types.xsd ExchangeVersionType), oldest first. The index is the level
 * operations compare against (`c.version.level >= LEVEL.Exchange2013`).
 */
export const VERSIONS = [
  "Exchange2007",
  "Exchange2007_SP1",
  "Exchange2009",
  "Exchange2010",
  "Exchange2010_SP1",
  "Exchange2010_SP2",
  "Exchange2013",
  "Exchange2013_SP1",
  "Exchange2015",
  "Exchange2016",
  "V2015_10_05",
  "V2016_01_06",
  "V2016_04_13",
  "V2016_07_13",
  "V2016_10_10",
  "V2017_01_07",
  "V2017_04_14",
  "V2017_07_11",
] as const;
export type VersionName = (typeof VERSIONS)[number];

export const LEVEL = Object.fromEntries(VERSIONS.map((v, i) => [v, i])) as Record<VersionName, number>;

export interface EwsVersion {
  /** As the client asked (or the default, Exchange2016, when it did not). */
  name: VersionName;
  level: number;
}

export interface EwsContext {
  server: ServerContext;
  store: MailStore;
  account: Account;
  version: EwsVersion;
  /**
   * The client's time zone from the TimeZoneContext header (an IANA name
   * mapped from the Windows id when we know it), or null. Times in responses
   * are written in UTC ("Z") either way; operations that interpret local
   * times (all-day events, recurrence start dates) use it.
   */
  timeZone: string | null;
  /** The TimeZoneDefinition element of the header as sent, for operations that need its rules. */
  timeZoneDefinition: XmlElement | null;
  remoteIp: string;
  log: Logger;
  /** Aborted when the client goes away or the server shuts down (streaming subscriptions end). */
  signal: AbortSignal;
  now(): number;
}

/**
 * An error one response message reports (ResponseClass="Error" with this
 * ResponseCode, Types.xsd ResponseCodeType), or, thrown from an operation
 * outside any per-item loop, the whole operation's single response message.
 */
export class EwsError extends Error {
  constructor(
    public code: string,
    message: string,
  ) {
    super(message);
    this.name = "EwsError";
  }
}

/**
 * A request-level failure answered as a SOAP fault (HTTP 400 for the client's
 * mistakes: malformed XML, a schema violation, an unknown operation; HTTP 500
 * only for the server's own failures).
 */
export class SoapFault extends Error {
  constructor(
    public code: string,
    message: string,
    public httpStatus = 400,
  ) {
    super(message);
    this.name = "SoapFault";
  }
}

/**
 * What an operation returns: the serialised response element for the SOAP
 * body (e.g. `<m:GetFolderResponse>...`), or a whole HTTP Response (the
 * streaming notifications write several envelopes on one chunked response).
 */
export type OperationResult = string | Response;

export type OperationHandler = (c: EwsContext, op: XmlElement) => Promise<OperationResult>;

interface Operation {
  handler: OperationHandler;
  /** The oldest RequestServerVersion that has it (Messages.xsd); older ones get ErrorInvalidRequest. */
  since: number;
}

const operations = new Map<string, Operation>();

/** Adds an operation by its element name in the SOAP body (messages namespace). */
export function registerOperation(name: string, handler: OperationHandler, opts: { since?: VersionName } = {}): void {
  if (operations.has(name)) throw new Error(`EWS operation ${name} registered twice`);
  operations.set(name, { handler, since: opts.since ? LEVEL[opts.since] : 0 });
}

export function operation(name: string): Operation | undefined {
  return operations.get(name);
}

export function operationNames(): string[] {
  return [...operations.keys()].sort();
}
