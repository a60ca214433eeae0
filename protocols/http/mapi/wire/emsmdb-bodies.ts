/**
 * EMSMDB request and response bodies of MAPI over HTTP (MS-OXCMAPIHTTP
 * §2.2.4.1 Connect, §2.2.4.2 Execute, §2.2.4.3 Disconnect, §2.2.4.4
 * NotificationWait). Requests are parsed, responses written; the reverse pair
 * exists for tests and the fuzz target.
 */
import { WireError } from "./errors.ts";
import { Reader } from "./reader.ts";
import { Writer } from "./writer.ts";

/** Largest AuxiliaryBuffer accepted (MS-OXCMAPIHTTP §2.2.4.1.1: the client sends at most 0x1008 bytes). */
export const MAX_AUX = 0x1008;
/** Largest RopBuffer accepted in Execute (MS-OXCMAPIHTTP §2.2.4.2.1: at most 0x40000 bytes). */
export const MAX_ROP_BUFFER = 0x40000;

function readAux(r: Reader): Uint8Array {
  const n = r.u32();
  if (n > MAX_AUX) throw new WireError("too-large", `AuxiliaryBufferSize ${n}`);
  return r.bytes(n, "AuxiliaryBuffer");
}

/** §2.2.4.1.1 Connect request. */
export interface ConnectRequest {
  userDn: string;
  flags: number;
  defaultCodePage: number;
  lcidSort: number;
  lcidString: number;
  auxiliary: Uint8Array;
}
export function parseConnectRequest(body: Uint8Array): ConnectRequest {
  const r = new Reader(body);
  const userDn = r.cstr8();
  const req = { userDn, flags: r.u32(), defaultCodePage: r.u32(), lcidSort: r.u32(), lcidString: r.u32(), auxiliary: readAux(r) };
  r.done("Connect request");
  return req;
}
export function writeConnectRequest(q: ConnectRequest): Uint8Array {
  return new Writer().cstr8(q.userDn).u32(q.flags).u32(q.defaultCodePage).u32(q.lcidSort).u32(q.lcidString).bin32(q.auxiliary).finish();
}

/** §2.2.4.1.2 Connect response (StatusCode 0: the request was processed; ErrorCode is the EMSMDB result). */
export interface ConnectResponse {
  statusCode: number;
  errorCode: number;
  maxPollingInterval: number;
  retryCount: number;
  retryDelay: number;
  dnPrefix: string;
  displayName: string;
  auxiliary: Uint8Array;
}
export function writeConnectResponse(s: ConnectResponse): Uint8Array {
  const w = new Writer().u32(s.statusCode);
  // §2.2.2.? a non-zero StatusCode is followed only by the AuxiliaryBuffer.
  if (s.statusCode !== 0) return w.bin32(s.auxiliary).finish();
  w.u32(s.errorCode).u32(s.maxPollingInterval).u32(s.retryCount).u32(s.retryDelay);
  return w.cstr8(s.dnPrefix).cstr16(s.displayName).bin32(s.auxiliary).finish();
}
export function parseConnectResponse(body: Uint8Array): ConnectResponse {
  const r = new Reader(body);
  const statusCode = r.u32();
  if (statusCode !== 0) {
    return { statusCode, errorCode: 0, maxPollingInterval: 0, retryCount: 0, retryDelay: 0, dnPrefix: "", displayName: "", auxiliary: readAux(r) };
  }
  const s = { statusCode, errorCode: r.u32(), maxPollingInterval: r.u32(), retryCount: r.u32(), retryDelay: r.u32(), dnPrefix: r.cstr8(), displayName: r.cstr16(), auxiliary: readAux(r) };
  r.done("Connect response");
  return s;
}

/** §2.2.4.2.1 Execute request. Flags 0x1 NoCompression, 0x2 NoXorMagic, 0x4 Chain. */
export interface ExecuteRequest {
  flags: number;
  ropBuffer: Uint8Array;
  maxRopOut: number;
  auxiliary: Uint8Array;
}
export function parseExecuteRequest(body: Uint8Array): ExecuteRequest {
  const r = new Reader(body);
  const flags = r.u32();
  const size = r.u32();
  if (size > MAX_ROP_BUFFER) throw new WireError("too-large", `RopBufferSize ${size}`);
  const ropBuffer = r.bytes(size, "RopBuffer");
  const req = { flags, ropBuffer, maxRopOut: r.u32(), auxiliary: readAux(r) };
  r.done("Execute request");
  return req;
}
export function writeExecuteRequest(q: ExecuteRequest): Uint8Array {
  return new Writer().u32(q.flags).bin32(q.ropBuffer).u32(q.maxRopOut).bin32(q.auxiliary).finish();
}

/** §2.2.4.2.2 Execute response. */
export interface ExecuteResponse {
  statusCode: number;
  errorCode: number;
  flags: number;
  ropBuffer: Uint8Array;
  auxiliary: Uint8Array;
}
export function writeExecuteResponse(s: ExecuteResponse): Uint8Array {
  const w = new Writer().u32(s.statusCode);
  if (s.statusCode !== 0) return w.bin32(s.auxiliary).finish();
  return w.u32(s.errorCode).u32(s.flags).bin32(s.ropBuffer).bin32(s.auxiliary).finish();
}
export function parseExecuteResponse(body: Uint8Array): ExecuteResponse {
  const r = new Reader(body);
  const statusCode = r.u32();
  if (statusCode !== 0) return { statusCode, errorCode: 0, flags: 0, ropBuffer: new Uint8Array(), auxiliary: readAux(r) };
  const errorCode = r.u32();
  const flags = r.u32();
  const ropBuffer = r.bin32();
  return { statusCode, errorCode, flags, ropBuffer, auxiliary: readAux(r) };
}

/** §2.2.4.3.1 Disconnect request: only an AuxiliaryBuffer. */
export function parseDisconnectRequest(body: Uint8Array): { auxiliary: Uint8Array } {
  const r = new Reader(body);
  const auxiliary = readAux(r);
  r.done("Disconnect request");
  return { auxiliary };
}
/** §2.2.4.3.2 Disconnect response. */
export function writeDisconnectResponse(s: { statusCode: number; errorCode: number; auxiliary?: Uint8Array }): Uint8Array {
  const w = new Writer().u32(s.statusCode);
  if (s.statusCode === 0) w.u32(s.errorCode);
  return w.bin32(s.auxiliary ?? new Uint8Array()).finish();
}

/** §2.2.4.4.1 NotificationWait request: Flags (reserved, 0) and AuxiliaryBuffer. */
export function parseNotificationWaitRequest(body: Uint8Array): { flags: number; auxiliary: Uint8Array } {
  const r = new Reader(body);
  const flags = r.u32();
  const auxiliary = readAux(r);
  r.done("NotificationWait request");
  return { flags, auxiliary };
}
/** §2.2.4.4.2 NotificationWait response: EventPending 0x00000001 when a notification waits. */
export function writeNotificationWaitResponse(s: { statusCode: number; errorCode: number; eventPending: boolean; auxiliary?: Uint8Array }): Uint8Array {
  const w = new Writer().u32(s.statusCode);
  if (s.statusCode === 0) w.u32(s.errorCode).u32(s.eventPending ? 1 : 0);
  return w.bin32(s.auxiliary ?? new Uint8Array()).finish();
}

/** A response body for a failed request whose type has no other fields: StatusCode + empty AuxiliaryBuffer. */
export function writeStatusOnly(statusCode: number): Uint8Array {
  return new Writer().u32(statusCode).u32(0).finish();
}
