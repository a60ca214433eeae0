/**
 * A small EMSMDB client for the ROP engine's tests: builds ROP requests byte
 * by byte (MS-OXCROPS §2.2 request layouts), wraps them with the wire
 * module's ROP buffer and Execute writers, and calls the service directly
 * with a MapiContext for an account of a real test server.
 */
import { emsmdb } from "../../protocols/http/mapi/emsmdb/index.ts";
import type { EmsmdbState } from "../../protocols/http/mapi/emsmdb/objects.ts";
import type { MapiContext } from "../../protocols/http/mapi/types.ts";
import { legacyDn } from "../../protocols/http/mapi/identity.ts";
import { writeConnectRequest, writeExecuteRequest, parseConnectResponse, parseExecuteResponse } from "../../protocols/http/mapi/wire/emsmdb-bodies.ts";
import { buildRopRequestBuffer, parseRopBuffer } from "../../protocols/http/mapi/wire/rop-buffer.ts";
import { Reader } from "../../protocols/http/mapi/wire/reader.ts";
import { Writer } from "../../protocols/http/mapi/wire/writer.ts";
import type { Account } from "../../storage/api.ts";
import type { TestServer } from "../helpers/server.ts";

export const LOGON = 0x0c; // ruler's LogonId
export const NULL_HANDLE = 0xffffffff;

export function contextFor(srv: TestServer, account: Account): MapiContext {
  return { server: srv.ctx, store: srv.store, account, log: srv.ctx.log, signal: new AbortController().signal, now: () => Date.now() };
}

export async function connect(c: MapiContext, dn = legacyDn(c.account)): Promise<{ errorCode: number; state: EmsmdbState | null; displayName: string }> {
  const body = writeConnectRequest({ userDn: dn, flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, auxiliary: new Uint8Array() });
  const r = await emsmdb.connect(c, body);
  const parsed = parseConnectResponse(r.body);
  return { errorCode: parsed.errorCode, state: r.state, displayName: parsed.displayName };
}

/** One Execute: returns the response ROPs (a Reader over them) and the handle table after. */
export async function exec(c: MapiContext, s: EmsmdbState, rops: Uint8Array[], handles: number[], maxRopOut = 0x10008): Promise<{ r: Reader; handles: number[]; errorCode: number }> {
  const list = new Writer();
  for (const x of rops) list.bytes(x);
  const body = writeExecuteRequest({ flags: 0, ropBuffer: buildRopRequestBuffer(list.finish(), handles), maxRopOut, auxiliary: new Uint8Array() });
  const res = parseExecuteResponse(await emsmdb.execute(c, s, body));
  if (res.errorCode !== 0) return { r: new Reader(new Uint8Array()), handles: [], errorCode: res.errorCode };
  const out = parseRopBuffer(res.ropBuffer);
  return { r: new Reader(out.rops), handles: out.handles, errorCode: 0 };
}

const w = () => new Writer();
export const rop = {
  logon: (essdn: string, out = 0) => w().u8(0xfe).u8(LOGON).u8(out).u8(0x01).u32(0x01000000 | 0x2 | 0x400).u32(0).bin16(new TextEncoder().encode(essdn + "\0")).finish(),
  openFolder: (inI: number, outI: number, fid: bigint) => w().u8(0x02).u8(LOGON).u8(inI).u8(outI).u64(fid).u8(0).finish(),
  hierarchy: (inI: number, outI: number, flags = 0x40) => w().u8(0x04).u8(LOGON).u8(inI).u8(outI).u8(flags).finish(),
  contents: (inI: number, outI: number, flags = 0x40) => w().u8(0x05).u8(LOGON).u8(inI).u8(outI).u8(flags).finish(),
  rules: (inI: number, outI: number) => w().u8(0x3f).u8(LOGON).u8(inI).u8(outI).u8(0x40).finish(),
  setColumns: (inI: number, tags: number[]) => {
    const x = w().u8(0x12).u8(LOGON).u8(inI).u8(0).u16(tags.length);
    for (const t of tags) x.u32(t);
    return x.finish();
  },
  sort: (inI: number, tag: number, desc: boolean) => w().u8(0x13).u8(LOGON).u8(inI).u8(0).u16(1).u16(0).u16(0).u16(tag & 0xffff).u16(tag >>> 16).u8(desc ? 1 : 0).finish(),
  restrict: (inI: number, restriction: Uint8Array) => w().u8(0x14).u8(LOGON).u8(inI).u8(0).bin16(restriction).finish(),
  queryRows: (inI: number, count: number, forward = true) => w().u8(0x15).u8(LOGON).u8(inI).u8(0).u8(forward ? 1 : 0).u16(count).finish(),
  queryPosition: (inI: number) => w().u8(0x17).u8(LOGON).u8(inI).finish(),
  seekRow: (inI: number, origin: number, count: number) => w().u8(0x18).u8(LOGON).u8(inI).u8(origin).i32(count).u8(1).finish(),
  getProps: (inI: number, tags: number[]) => {
    const x = w().u8(0x07).u8(LOGON).u8(inI).u16(0).u16(1).u16(tags.length);
    for (const t of tags) x.u32(t);
    return x.finish();
  },
  getPropsAll: (inI: number) => w().u8(0x08).u8(LOGON).u8(inI).u16(0).u16(1).finish(),
  getPropsList: (inI: number) => w().u8(0x09).u8(LOGON).u8(inI).finish(),
  openMessage: (inI: number, outI: number, fid: bigint, mid: bigint) => w().u8(0x03).u8(LOGON).u8(inI).u8(outI).u16(0xfff).u64(fid).u8(0).u64(mid).finish(),
  createMessage: (inI: number, outI: number, fid: bigint) => w().u8(0x06).u8(LOGON).u8(inI).u8(outI).u16(0xfff).u64(fid).u8(0).finish(),
  setProps: (inI: number, values: Uint8Array[]) => {
    const body = w().u16(values.length);
    for (const v of values) body.bytes(v);
    const b = body.finish();
    return w().u8(0x0a).u8(LOGON).u8(inI).u16(b.length).bytes(b.subarray(0)).finish().slice();
  },
  /** One To recipient as ruler sends it: RecipientFlags 0x023B (T D E, Type SMTP, Unicode), three strings, 0 columns. */
  modifyRecipients: (inI: number, address: string, name: string) => {
    const row = w().u16(0x023b).cstr16(address).cstr16(name).cstr16(name).u16(0).u8(0).finish();
    return w().u8(0x0e).u8(LOGON).u8(inI).u16(0).u16(1).u32(1).u8(1).bin16(row).finish();
  },
  save: (respI: number, inI: number) => w().u8(0x0c).u8(LOGON).u8(respI).u8(inI).u8(0x0a).finish(),
  submit: (inI: number) => w().u8(0x32).u8(LOGON).u8(inI).u8(0).finish(),
  openStream: (inI: number, outI: number, tag: number) => w().u8(0x2b).u8(LOGON).u8(inI).u8(outI).u32(tag).u8(0).finish(),
  readStream: (inI: number, n: number) => w().u8(0x2c).u8(LOGON).u8(inI).u16(n).finish(),
  streamSize: (inI: number) => w().u8(0x5e).u8(LOGON).u8(inI).finish(),
  attachments: (inI: number, outI: number) => w().u8(0x21).u8(LOGON).u8(inI).u8(outI).u8(0).finish(),
  openAttachment: (inI: number, outI: number, n: number) => w().u8(0x22).u8(LOGON).u8(inI).u8(outI).u8(0).u32(n).finish(),
  receiveFolder: (inI: number) => w().u8(0x27).u8(LOGON).u8(inI).cstr8("IPM.Note").finish(),
  release: (inI: number) => w().u8(0x01).u8(LOGON).u8(inI).finish(),
  namesToIds: (inI: number, guid: Uint8Array, lid: number) => w().u8(0x56).u8(LOGON).u8(inI).u8(0x02).u16(1).u8(0).bytes(guid).u32(lid).finish(),
};

/** A TaggedPropertyValue of a Unicode string / 32-bit integer / boolean. */
export const tv = {
  str: (tag: number, s: string) => w().u32(tag).cstr16(s).finish(),
  i32: (tag: number, n: number) => w().u32(tag).u32(n).finish(),
  bool: (tag: number, b: boolean) => w().u32(tag).u8(b ? 1 : 0).finish(),
};

/** Reads the common response header: RopId, handle index, ReturnValue. */
export function head(r: Reader): { ropId: number; index: number; rv: number } {
  return { ropId: r.u8(), index: r.u8(), rv: r.u32() };
}

/** A value of `type` in a response row. */
export function value(r: Reader, type: number): string | number | bigint | boolean | Uint8Array {
  switch (type) {
    case 0x0003:
    case 0x000a:
      return r.u32();
    case 0x000b:
      return r.u8() !== 0;
    case 0x0014:
    case 0x0040:
      return r.u64();
    case 0x001f:
      return r.cstr16();
    case 0x001e:
      return r.cstr8();
    case 0x0102:
      return r.bin16();
    default:
      throw new Error(`type ${type}`);
  }
}

/** A PropertyRow (MS-OXCDATA §2.8.1) of `tags`: a missing value (flagged, 0x0A) is answered as {error}. */
export function row(r: Reader, tags: number[]): (string | number | bigint | boolean | Uint8Array | { error: number })[] {
  const flagged = r.u8() === 1;
  return tags.map((t) => {
    if (flagged) {
      const f = r.u8();
      if (f === 0x0a) return { error: r.u32() };
    }
    return value(r, t & 0xffff);
  });
}
