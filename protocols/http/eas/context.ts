/**
 * What every ActiveSync command handler receives: the server context, the
 * authenticated account, the device row, the negotiated protocol version
 * and the parsed request line.
 */
import type { Account, MailStore } from "../../../storage/api.ts";
import type { EasDevice, EasStore } from "../../../storage/eas-store.ts";
import type { ServerContext } from "../../../src/context.ts";
import type { Logger } from "../../../src/log.ts";
import type { EasRequest } from "./request.ts";
import type { WElement } from "./wbxml/tree.ts";

export interface EasContext {
  server: ServerContext;
  store: MailStore;
  eas: EasStore;
  account: Account;
  device: EasDevice;
  /** Negotiated protocol version as a number: 121, 140, 141, 160, 161. */
  version: number;
  versionString: string;
  req: EasRequest;
  log: Logger;
  /** Aborted when the client goes away or the server shuts down (long polls end). */
  signal: AbortSignal;
  now(): number;
}

/** What a command returns; the handler turns it into an HTTP response. */
export interface EasResult {
  /** HTTP status (default 200). */
  status?: number;
  /** A WBXML document. */
  wbxml?: WElement;
  /** Or a raw body (GetAttachment, multipart ItemOperations). */
  body?: Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
}

export type CommandHandler = (c: EasContext, doc: WElement | null, raw: Uint8Array) => Promise<EasResult>;

/** Thrown by a command to answer with a top-level status element (MS-ASCMD §2.2.2 common codes). */
export class EasStatusError extends Error {
  constructor(
    public statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "EasStatusError";
  }
}
