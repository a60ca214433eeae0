/**
 * A small MAPI over HTTP client for the end-to-end tests (tests/mapi/e2e*.test.ts):
 * what Outlook or ruler put on the wire, built from the specifications with
 * the wire module's Writer/Reader (protocols/http/mapi/wire), over real
 * HTTPS to a real server. It keeps the session cookies (MS-OXCMAPIHTTP
 * §3.2.5.1) and the ROP handle table between Execute requests the way a
 * client must (MS-OXCRPC §3.1.4.2: handles come back in the response's
 * ServerObjectHandleTable).
 */
import { httpsRequest } from "../eas/client.ts";
import { Reader } from "../../protocols/http/mapi/wire/reader.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";

export const NEW_HANDLE = 0xffffffff;

export interface MapiHttpReply {
  status: number;
  responseCode: string | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** The binary response body after the meta-tags and additional headers (MS-OXCMAPIHTTP §2.2.2.2). */
  body: Uint8Array;
  /** The meta-tags and additional headers as text. */
  preamble: string;
}

const crlf2 = [0x0d, 0x0a, 0x0d, 0x0a];

/** Splits a 200 response into its text part (PROCESSING/DONE, X-ElapsedTime...) and the binary body after the blank line. */
export function splitMapiBody(raw: Uint8Array): { preamble: string; body: Uint8Array } {
  const text = Buffer.from(raw).toString("latin1");
  const done = text.indexOf("DONE\r\n");
  if (done < 0) return { preamble: text, body: new Uint8Array() };
  for (let i = done; i + 3 < raw.length; i++) {
    if (crlf2.every((b, k) => raw[i + k] === b)) return { preamble: text.slice(0, i), body: raw.subarray(i + 4) };
  }
  return { preamble: text, body: new Uint8Array() };
}

export class MapiHttpClient {
  private cookies = new Map<string, string>();
  private seq = 0;
  readonly clientInfo = "{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}";

  constructor(
    readonly port: number,
    readonly user: string,
    readonly pass: string,
  ) {}

  /** POSTs one MAPI/HTTP request (§2.2.1 request headers) and reads the framed answer. */
  async post(path: string, requestType: string, body: Uint8Array, extra: Record<string, string> = {}): Promise<MapiHttpReply> {
    const headers: Record<string, string> = {
      "content-type": "application/mapi-http",
      "x-requesttype": requestType,
      "x-requestid": `{C715155F-2BE8-44E0-BD34-2960065754C8}:${++this.seq}`,
      "x-clientinfo": this.clientInfo,
      "x-clientapplication": "Outlook/16.0.17928.20114",
      authorization: "Basic " + Buffer.from(`${this.user}:${this.pass}`).toString("base64"),
      ...extra,
    };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const r = await httpsRequest({ host: "127.0.0.1", port: this.port, method: "POST", path, headers, body });
    const setCookie = r.headers["set-cookie"];
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      if (eq > 0) this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim());
    }
    const rc = r.headers["x-responsecode"];
    const { preamble, body: out } = r.status === 200 ? splitMapiBody(r.body) : { preamble: "", body: r.body };
    return { status: r.status, responseCode: Array.isArray(rc) ? rc[0] : rc, headers: r.headers, body: out, preamble };
  }
}

/** MS-OXCMAPIHTTP §2.2.4.1.1 Connect request body. */
export function connectRequest(userDn: string): Uint8Array {
  return new Writer().cstr8(userDn).u32(0).u32(1252).u32(1033).u32(1033).u32(0).finish();
}

export interface ConnectResponse {
  statusCode: number;
  errorCode: number;
  pollsMax: number;
  retryCount: number;
  retryDelay: number;
  dnPrefix: string;
  displayName: string;
}

/** MS-OXCMAPIHTTP §2.2.4.1.2 Connect response body. */
export function parseConnectResponse(b: Uint8Array): ConnectResponse {
  const r = new Reader(b);
  const statusCode = r.u32();
  if (statusCode !== 0) return { statusCode, errorCode: 0, pollsMax: 0, retryCount: 0, retryDelay: 0, dnPrefix: "", displayName: "" };
  return { statusCode, errorCode: r.u32(), pollsMax: r.u32(), retryCount: r.u32(), retryDelay: r.u32(), dnPrefix: r.cstr8(), displayName: r.cstr16() };
}

/**
 * MS-OXCMAPIHTTP §2.2.4.2.1 Execute request around one ROP request buffer
 * (MS-OXCRPC §2.2.2.1 RPC_HEADER_EXT, Last flag, not compressed or obfuscated;
 * the payload is RopSize, the RopsList and the ServerObjectHandleTable).
 */
export function executeRequest(rops: Uint8Array, handles: readonly number[], maxRopOut = 0x10008): Uint8Array {
  const payload = new Writer().u16(rops.length + 2).bytes(rops);
  for (const h of handles) payload.u32(h);
  const p = payload.finish();
  const ropBuffer = new Writer().u16(0).u16(0x0004).u16(p.length).u16(p.length).bytes(p).finish();
  return new Writer().u32(0).u32(ropBuffer.length).bytes(ropBuffer).u32(maxRopOut).u32(0).finish();
}

export interface ExecuteResponse {
  statusCode: number;
  errorCode: number;
  /** The ROP responses, back to back (MS-OXCROPS §2.2). */
  rops: Uint8Array;
  handles: number[];
}

/** MS-OXCMAPIHTTP §2.2.4.2.2 Execute response body, its ROP buffer unwrapped (one RPC_HEADER_EXT, uncompressed). */
export function parseExecuteResponse(b: Uint8Array): ExecuteResponse {
  const r = new Reader(b);
  const statusCode = r.u32();
  if (statusCode !== 0) return { statusCode, errorCode: 0, rops: new Uint8Array(), handles: [] };
  const errorCode = r.u32();
  r.u32(); // Flags
  const size = r.u32();
  const buf = new Reader(r.bytes(size));
  buf.u16(); // Version
  const flags = buf.u16();
  if (flags & 0x0003) throw new Error(`compressed/obfuscated ROP buffer in a test response (flags 0x${flags.toString(16)})`);
  const payloadSize = buf.u16();
  buf.u16(); // SizeActual
  const payload = new Reader(buf.bytes(payloadSize));
  const ropSize = payload.u16();
  const rops = payload.bytes(ropSize - 2);
  const handles: number[] = [];
  while (payload.pos < payload.end) handles.push(payload.u32());
  return { statusCode, errorCode, rops, handles };
}

/** MS-OXCROPS §2.2.3.1.1 RopLogon (private mailbox), OutputHandleIndex 0. */
export function ropLogon(logonId: number, essdn: string): Uint8Array {
  const dn = new Writer().cstr8(essdn).finish();
  // LogonFlags Private (0x01); OpenFlags USE_PER_MDB_REPLID_MAPPING | HOME_LOGON | TAKE_OWNERSHIP (MS-OXCROPS §2.2.3.1.1).
  return new Writer().u8(0xfe).u8(logonId).u8(0).u8(0x01).u32(0x01000000 | 0x00000002 | 0x00000400).u32(0).u16(dn.length).bytes(dn).finish();
}

export interface LogonResponse {
  returnValue: number;
  folderIds: bigint[];
  mailboxGuid: Uint8Array;
}

/** MS-OXCROPS §2.2.3.1.2 RopLogon response for a private mailbox. */
export function readLogonResponse(r: Reader): LogonResponse {
  const ropId = r.u8();
  if (ropId !== 0xfe) throw new Error(`expected RopLogon's response, got RopId 0x${ropId.toString(16)}`);
  r.u8(); // OutputHandleIndex
  const returnValue = r.u32();
  if (returnValue !== 0) return { returnValue, folderIds: [], mailboxGuid: new Uint8Array() };
  r.u8(); // LogonFlags
  const folderIds: bigint[] = [];
  for (let i = 0; i < 13; i++) folderIds.push(r.u64());
  r.u8(); // ResponseFlags
  const mailboxGuid = r.bytes(16);
  r.u16(); // ReplId
  r.bytes(16); // ReplGuid
  r.bytes(8); // LogonTime
  r.u64(); // GwartTime
  r.u32(); // StoreState
  return { returnValue, folderIds, mailboxGuid };
}

/** The fixed head of every ROP response: RopId, a handle index, ReturnValue (MS-OXCROPS §2.2.1). */
export function readRopHead(r: Reader, expectRopId: number): { handleIndex: number; returnValue: number } {
  const ropId = r.u8();
  if (ropId !== expectRopId) throw new Error(`expected the response of ROP 0x${expectRopId.toString(16)}, got 0x${ropId.toString(16)}`);
  return { handleIndex: r.u8(), returnValue: r.u32() };
}

/** Folder ids in RopLogon's FolderIds order (MS-OXCSTOR §2.2.1.1.3). */
export const FOLDER = { root: 0, deferredAction: 1, spoolerQueue: 2, ipmSubtree: 3, inbox: 4, outbox: 5, sentItems: 6, deletedItems: 7 } as const;
