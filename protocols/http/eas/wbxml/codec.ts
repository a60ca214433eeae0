/**
 * WBXML 1.3 encoder and decoder for ActiveSync (WAP-192-WBXML, profiled by
 * MS-ASWBXML): tags from the ActiveSync code pages, inline strings,
 * opaque data, SWITCH_PAGE. Decoding is strict: anything ActiveSync does not
 * use (attributes, LITERAL, extensions, processing instructions) or that is
 * malformed (truncated input, unknown page or tag, bad mb_u_int32, string
 * table references out of range, invalid UTF-8, trailing bytes) raises a
 * WbxmlError, which the command layer maps to the protocol's status code.
 */
import { pageById, pageByNamespace } from "./codepages.ts";
import type { WElement, WNode } from "./tree.ts";

export type WbxmlErrorCode =
  | "TRUNCATED"
  | "VERSION"
  | "CHARSET"
  | "PUBLIC_ID"
  | "BAD_MB_UINT32"
  | "UNKNOWN_PAGE"
  | "UNKNOWN_TAG"
  | "UNSUPPORTED_TOKEN"
  | "STRING_TABLE"
  | "BAD_UTF8"
  | "STRUCTURE"
  | "LIMIT";

export class WbxmlError extends Error {
  constructor(
    public code: WbxmlErrorCode,
    message: string,
    public offset = -1,
  ) {
    super(offset >= 0 ? `${message} at byte ${offset}` : message);
    this.name = "WbxmlError";
  }
}

// WAP-192 §7.1 global tokens
const SWITCH_PAGE = 0x00;
const END = 0x01;
const ENTITY = 0x02;
const STR_I = 0x03;
const LITERAL = 0x04;
const STR_T = 0x83;
const OPAQUE = 0xc3;
const UTF8_MIB = 106; // IANA MIBenum for UTF-8 (MS-ASWBXML: the charset is UTF-8)

export interface DecodeOptions {
  /** Maximum element nesting (protects the recursion and the client). */
  maxDepth?: number;
  /** Maximum number of elements. */
  maxElements?: number;
}

export interface WbxmlDocument {
  version: number;
  publicId: number;
  root: WElement;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  byte(): number {
    if (this.pos >= this.buf.length) throw new WbxmlError("TRUNCATED", "unexpected end of WBXML", this.pos);
    return this.buf[this.pos++]!;
  }
  peek(): number | undefined {
    return this.buf[this.pos];
  }
  /** WAP-192 §5.1 mb_u_int32: big-endian 7-bit groups, continuation bit 0x80, at most 32 bits. */
  mbUint32(): number {
    const start = this.pos;
    let v = 0;
    for (let i = 0; i < 5; i++) {
      const b = this.byte();
      v = v * 128 + (b & 0x7f);
      if (v > 0xffffffff) throw new WbxmlError("BAD_MB_UINT32", "mb_u_int32 exceeds 32 bits", start);
      if ((b & 0x80) === 0) return v;
    }
    throw new WbxmlError("BAD_MB_UINT32", "mb_u_int32 longer than 5 bytes", start);
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new WbxmlError("TRUNCATED", `opaque/string of ${n} bytes runs past the end`, this.pos);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  termstr(): string {
    const start = this.pos;
    const end = this.buf.indexOf(0, start);
    if (end < 0) throw new WbxmlError("TRUNCATED", "unterminated inline string", start);
    this.pos = end + 1;
    return decodeUtf8(this.buf.subarray(start, end), start);
  }
}

function decodeUtf8(b: Uint8Array, offset: number): string {
  try {
    return utf8.decode(b);
  } catch {
    throw new WbxmlError("BAD_UTF8", "string is not valid UTF-8", offset);
  }
}

export function decode(input: Uint8Array, opts: DecodeOptions = {}): WbxmlDocument {
  const maxDepth = opts.maxDepth ?? 64;
  const maxElements = opts.maxElements ?? 500_000;
  const r = new Reader(input);
  if (input.length === 0) throw new WbxmlError("TRUNCATED", "empty WBXML document", 0);
  // WAP-192 §5.4: version byte (major-1)<<4 | minor; ActiveSync uses 1.3 but 1.1/1.2 are structurally identical.
  const version = r.byte();
  if (version !== 0x01 && version !== 0x02 && version !== 0x03) throw new WbxmlError("VERSION", `unsupported WBXML version 0x${version.toString(16)}`, 0);
  const publicId = r.mbUint32();
  let publicIdIndex = -1;
  if (publicId === 0) publicIdIndex = r.mbUint32(); // §5.5: 0 = string-table reference follows
  const charset = r.mbUint32();
  if (charset !== UTF8_MIB) throw new WbxmlError("CHARSET", `charset MIBenum ${charset} is not UTF-8`, r.pos);
  const tableLen = r.mbUint32();
  const table = r.bytes(tableLen);
  if (publicIdIndex >= 0) readTableString(table, publicIdIndex, r.pos);

  let page = 0;
  let elements = 0;

  const parseElement = (token: number, depth: number): WElement => {
    if (depth > maxDepth) throw new WbxmlError("LIMIT", `elements nested deeper than ${maxDepth}`, r.pos - 1);
    if (++elements > maxElements) throw new WbxmlError("LIMIT", `more than ${maxElements} elements`, r.pos - 1);
    if (token & 0x80) throw new WbxmlError("UNSUPPORTED_TOKEN", "attributes are not used by ActiveSync", r.pos - 1);
    const cp = pageById(page)!;
    const name = cp.tags.get(token & 0x3f);
    if (!name) throw new WbxmlError("UNKNOWN_TAG", `unknown tag 0x${(token & 0x3f).toString(16)} in code page ${page} (${cp.namespace})`, r.pos - 1);
    const e: WElement = { ns: cp.namespace, name, children: [] };
    if (!(token & 0x40)) return e;
    let textBuf = "";
    const flush = () => {
      if (textBuf !== "") {
        e.children.push(textBuf);
        textBuf = "";
      }
    };
    for (;;) {
      const at = r.pos;
      const t = r.byte();
      switch (t) {
        case END:
          flush();
          return e;
        case SWITCH_PAGE:
          switchPage(r.byte(), at);
          break;
        case STR_I:
          textBuf += r.termstr();
          break;
        case STR_T:
          textBuf += readTableString(table, r.mbUint32(), at);
          break;
        case ENTITY: {
          const cpnt = r.mbUint32();
          if (cpnt > 0x10ffff || (cpnt >= 0xd800 && cpnt <= 0xdfff) || cpnt === 0) throw new WbxmlError("BAD_UTF8", `entity U+${cpnt.toString(16)} is not a character`, at);
          textBuf += String.fromCodePoint(cpnt);
          break;
        }
        case OPAQUE: {
          flush();
          const len = r.mbUint32();
          e.children.push(r.bytes(len).slice());
          break;
        }
        default:
          if (isGlobal(t)) throw new WbxmlError("UNSUPPORTED_TOKEN", `token 0x${t.toString(16)} is not used by ActiveSync`, at);
          flush();
          e.children.push(parseElement(t, depth + 1));
      }
    }
  };

  const switchPage = (p: number, at: number) => {
    if (!pageById(p)) throw new WbxmlError("UNKNOWN_PAGE", `unknown code page ${p}`, at);
    page = p;
  };

  // Body: optional PIs are not used; SWITCH_PAGE may precede the root.
  let t = r.byte();
  while (t === SWITCH_PAGE) {
    switchPage(r.byte(), r.pos - 2);
    t = r.byte();
  }
  if (isGlobal(t)) throw new WbxmlError("STRUCTURE", `document must start with an element, found token 0x${t.toString(16)}`, r.pos - 1);
  const root = parseElement(t, 1);
  if (r.pos !== input.length) throw new WbxmlError("STRUCTURE", `${input.length - r.pos} trailing bytes after the root element`, r.pos);
  return { version, publicId, root };
}

function isGlobal(t: number): boolean {
  const low = t & 0x3f;
  return low <= 0x04; // SWITCH_PAGE, END, ENTITY, STR_I, LITERAL and their 0x40/0x80/0xC0 variants (EXT_*, PI, STR_T, OPAQUE, LITERAL_*)
}

function readTableString(table: Uint8Array, offset: number, at: number): string {
  if (offset >= table.length) throw new WbxmlError("STRING_TABLE", `string table reference ${offset} outside a table of ${table.length} bytes`, at);
  const end = table.indexOf(0, offset);
  if (end < 0) throw new WbxmlError("STRING_TABLE", "string table entry is not terminated", at);
  return decodeUtf8(table.subarray(offset, end), at);
}

// ------------------------------------------------------------------ encoder

const enc = new TextEncoder();

class Writer {
  chunks: Uint8Array[] = [];
  cur = new Uint8Array(4096);
  len = 0;
  ensure(n: number) {
    if (this.len + n <= this.cur.length) return;
    this.chunks.push(this.cur.subarray(0, this.len));
    this.cur = new Uint8Array(Math.max(4096, n));
    this.len = 0;
  }
  byte(b: number) {
    this.ensure(1);
    this.cur[this.len++] = b;
  }
  raw(b: Uint8Array) {
    if (b.length > 65536) {
      this.chunks.push(this.cur.subarray(0, this.len));
      this.chunks.push(b);
      this.cur = new Uint8Array(4096);
      this.len = 0;
      return;
    }
    this.ensure(b.length);
    this.cur.set(b, this.len);
    this.len += b.length;
  }
  mbUint32(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new WbxmlError("BAD_MB_UINT32", `cannot encode ${v} as mb_u_int32`);
    const groups: number[] = [v % 128];
    v = Math.floor(v / 128);
    while (v > 0) {
      groups.unshift((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    for (const g of groups) this.byte(g);
  }
  finish(): Uint8Array {
    this.chunks.push(this.cur.subarray(0, this.len));
    const total = this.chunks.reduce((n, c) => n + c.length, 0);
    const out = new Uint8Array(total);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/**
 * Encodes a document the way ActiveSync peers do (and `xml2wbxml -a -n -v
 * 1.3`): version 1.3, public id 1 (unknown), UTF-8, no string table, inline
 * strings, a content bit on every tag that has children.
 */
export function encode(root: WElement): Uint8Array {
  const w = new Writer();
  w.byte(0x03);
  w.byte(0x01);
  w.byte(UTF8_MIB);
  w.byte(0x00);
  let page = 0;
  const walk = (e: WElement) => {
    const cp = pageByNamespace(e.ns);
    if (!cp) throw new WbxmlError("UNKNOWN_PAGE", `no code page for namespace ${e.ns}`);
    const tok = cp.tokens.get(e.name);
    if (tok === undefined) throw new WbxmlError("UNKNOWN_TAG", `no token for ${e.ns}:${e.name}`);
    if (cp.id !== page) {
      w.byte(SWITCH_PAGE);
      w.byte(cp.id);
      page = cp.id;
    }
    const content = e.children.filter((c: WNode) => !(typeof c === "string" && c === ""));
    if (content.length === 0) {
      w.byte(tok);
      return;
    }
    w.byte(tok | 0x40);
    for (const c of content) {
      if (typeof c === "string") {
        if (c.includes("\0")) throw new WbxmlError("STRUCTURE", `NUL in text of ${e.ns}:${e.name}`);
        w.byte(STR_I);
        w.raw(enc.encode(c));
        w.byte(0);
      } else if (c instanceof Uint8Array) {
        w.byte(OPAQUE);
        w.mbUint32(c.length);
        w.raw(c);
      } else walk(c);
    }
    w.byte(END);
  };
  walk(root);
  return w.finish();
}
