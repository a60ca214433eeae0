/**
 * BODY[section] / BINARY[section] addressing over the stored MIME tree
 * (RFC 9051 §6.4.5 section-spec; RFC 3516 BINARY). Byte ranges come from the
 * index; only header filtering and transfer decoding touch message bytes.
 */
import { Buffer } from "node:buffer";
import type { MimePart } from "../../storage/api.ts";
import { base64Lines as mailBase64Lines } from "../../mail/encode.ts";
import { decodeTransfer } from "../../mail/text.ts";
import { eachHeaderField } from "../../mail/headers.ts";
import { concatChunks } from "../../src/bytes.ts";

export type SectionKind = "all" | "header" | "fields" | "fieldsNot" | "text" | "mime" | "part";

export interface Section {
  path: number[];
  kind: SectionKind;
  fields: string[];
  /** The section text as the client wrote it (echoed in the response). */
  spec: string;
}

/** Parses the inside of `[...]`; null when invalid. */
export function parseSection(spec: string): Section | null {
  const s = spec.trim();
  if (s === "") return { path: [], kind: "all", fields: [], spec };
  const m = /^((?:[1-9][0-9]*)(?:\.[1-9][0-9]*)*)?(?:(?:^|\.)(HEADER\.FIELDS\.NOT|HEADER\.FIELDS|HEADER|TEXT|MIME))?(?:\s+\((.*)\))?$/i.exec(s);
  if (!m) return null;
  const path = m[1] ? m[1].split(".").map(Number) : [];
  const kw = m[2]?.toUpperCase();
  if (!m[1] && !kw) return null;
  if (path.length > 100) return null;
  let kind: SectionKind = "part";
  if (kw === "HEADER") kind = "header";
  else if (kw === "HEADER.FIELDS") kind = "fields";
  else if (kw === "HEADER.FIELDS.NOT") kind = "fieldsNot";
  else if (kw === "TEXT") kind = "text";
  else if (kw === "MIME") {
    if (!path.length) return null; // RFC 9051: MIME needs a part number
    kind = "mime";
  }
  let fields: string[] = [];
  if (kind === "fields" || kind === "fieldsNot") {
    if (m[3] === undefined) return null;
    fields = m[3]
      .trim()
      .split(/\s+/)
      .filter((x) => x !== "")
      .map((f) => f.replace(/^"(.*)"$/, "$1"));
    if (!fields.length) return null;
    for (const f of fields) if (!/^[\x21-\x39\x3b-\x7e]+$/.test(f)) return null;
  } else if (m[3] !== undefined) return null;
  return { path, kind, fields, spec: s };
}

/**
 * Finds the MIME part a section path names. The top level is the message
 * itself; "1" of a non-multipart message is its body. A message/rfc822 part
 * is entered: its sub-parts are those of the encapsulated message.
 */
export function resolvePart(root: MimePart, path: number[]): MimePart | null {
  let cur = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i];
    let container: MimePart | null;
    if (i === 0) container = cur;
    else if (cur.type === "multipart") container = cur;
    else if (cur.message) container = cur.message.root;
    else return null;
    if (container.type === "multipart") {
      const c = container.parts?.[n - 1];
      if (!c) return null;
      cur = c;
    } else {
      if (n !== 1) return null;
      cur = container;
    }
  }
  return cur;
}

export interface ByteRange {
  start: number;
  end: number;
  /** Header filtering needed on this range. */
  filter?: { fields: Set<string>; not: boolean };
}

/** The byte range of a section (before any partial). Null when the section does not exist. */
/**
 * The lower-cased field names of a HEADER.FIELDS section, one Set per parsed
 * section: a FETCH of many messages then builds its byte table (fieldTable,
 * keyed by this Set) once instead of once per message.
 */
const fieldSets = new WeakMap<Section, Set<string>>();
function fieldSet(sec: Section): Set<string> {
  let f = fieldSets.get(sec);
  if (!f) fieldSets.set(sec, (f = new Set(sec.fields.map((x) => x.toLowerCase()))));
  return f;
}

export function sectionRange(root: MimePart, sec: Section, size: number): ByteRange | null {
  if (!sec.path.length) {
    switch (sec.kind) {
      case "all":
        return { start: 0, end: size };
      case "header":
        return { start: root.headerStart, end: root.bodyStart };
      case "text":
        return { start: root.bodyStart, end: root.bodyEnd };
      case "fields":
      case "fieldsNot":
        return { start: root.headerStart, end: root.bodyStart, filter: { fields: fieldSet(sec), not: sec.kind === "fieldsNot" } };
      default:
        return null;
    }
  }
  const p = resolvePart(root, sec.path);
  if (!p) return null;
  switch (sec.kind) {
    case "part":
      return { start: p.bodyStart, end: p.bodyEnd };
    case "mime":
      return { start: p.headerStart, end: p.bodyStart };
    case "header":
    case "text":
    case "fields":
    case "fieldsNot": {
      // RFC 9051: HEADER/TEXT after a part number apply to an encapsulated message
      const inner = p.message?.root;
      const h = inner ?? p;
      if (sec.kind === "text") return inner ? { start: inner.bodyStart, end: inner.bodyEnd } : { start: p.bodyStart, end: p.bodyEnd };
      const r: ByteRange = { start: h.headerStart, end: h.bodyStart };
      if (sec.kind !== "header") r.filter = { fields: fieldSet(sec), not: sec.kind === "fieldsNot" };
      return r;
    }
  }
  return null;
}

/** Requested field names as lower-case bytes, by length (one table per parsed section). */
const fieldTables = new WeakMap<Set<string>, Map<number, Uint8Array[]>>();

function fieldTable(fields: Set<string>): Map<number, Uint8Array[]> {
  let t = fieldTables.get(fields);
  if (t) return t;
  t = new Map();
  for (const f of fields) {
    const lower = f.toLowerCase();
    // Field names are printable US-ASCII (RFC 5322 §3.6.8); anything wider cannot match a byte name.
    if ([...lower].some((ch) => ch.charCodeAt(0) > 0xff)) continue;
    const b = Uint8Array.from(lower, (ch) => ch.charCodeAt(0));
    const list = t.get(b.length);
    if (list) list.push(b);
    else t.set(b.length, [b]);
  }
  fieldTables.set(fields, t);
  return t;
}

/** Is block[start, end) one of the names, ASCII case-insensitively? No string is built per header line. */
function isListed(block: Uint8Array, start: number, end: number, table: Map<number, Uint8Array[]>): boolean {
  const candidates = table.get(end - start);
  if (!candidates) return false;
  next: for (const c of candidates) {
    for (let k = 0; k < c.length; k++) {
      let b = block[start + k]!;
      if (b >= 65 && b <= 90) b |= 32;
      if (b !== c[k]) continue next;
    }
    return true;
  }
  return false;
}

/**
 * Keeps (or drops) header fields by name, preserving their exact bytes and
 * folding, and ends with the blank line (RFC 9051 §6.4.5 HEADER.FIELDS).
 * A line without a colon is no field: HEADER.FIELDS.NOT drops it too.
 */
export function filterHeader(block: Uint8Array, fields: Set<string>, not: boolean): Uint8Array {
  const out: Uint8Array[] = [];
  const table = fieldTable(fields);
  let total = 0;
  eachHeaderField(block, 0, block.length, (start, end, colon) => {
    if (colon < 0) return;
    let nameEnd = colon;
    while (nameEnd > start && (block[nameEnd - 1] === 32 || block[nameEnd - 1] === 9)) nameEnd--;
    if (isListed(block, start, nameEnd, table) === not) return;
    const seg = block.subarray(start, end);
    out.push(seg);
    total += seg.length;
  });
  const res = new Uint8Array(total + 2);
  let o = 0;
  for (const seg of out) {
    res.set(seg, o);
    o += seg.length;
  }
  // a field without its line end (header block ending abruptly) still gets one
  if (o > 0 && res[o - 1] !== 10) {
    const r2 = new Uint8Array(o + 4);
    r2.set(res.subarray(0, o));
    r2[o] = 13;
    r2[o + 1] = 10;
    r2[o + 2] = 13;
    r2[o + 3] = 10;
    return r2;
  }
  res[o] = 13;
  res[o + 1] = 10;
  return res;
}

/** RFC 3516: content of a part with its Content-Transfer-Encoding removed; null for an unknown encoding. */
export function decodeCte(data: Uint8Array, encoding: string): Uint8Array | null {
  switch (encoding.toLowerCase()) {
    case "":
    case "7bit":
    case "8bit":
    case "binary":
      return data;
    case "base64":
    case "quoted-printable":
      // RFC 3516 §4.2: the decoded content in canonical form (QP hard line breaks are CRLF).
      return decodeTransfer(data, encoding, { crlf: true });
    default:
      return null;
  }
}

/** The part BINARY[section] decodes: leaves only; multipart and messages are served as they are. */
export function binaryPart(root: MimePart, sec: Section): MimePart | null {
  if (!sec.path.length) return null;
  return resolvePart(root, sec.path);
}

/** Replaces the value of Content-Transfer-Encoding in a header block (keeps everything else byte for byte). */
function rewriteCte(block: Uint8Array, value: string): Uint8Array {
  const s = Buffer.from(block.buffer, block.byteOffset, block.length).toString("latin1");
  const re = /(^|\n)(content-transfer-encoding[ \t]*:)([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/i;
  const m = re.exec(s);
  if (!m) return block;
  const start = m.index + m[1].length + m[2].length;
  const end = start + m[3].length;
  return Buffer.from(s.slice(0, start) + " " + value + s.slice(end), "latin1");
}

/**
 * The binary form of an entity (RFC 3516 §4.2, as URLAUTH=BINARY and BINARY[]
 * of a message part deliver it): base64 / quoted-printable leaves decoded and
 * their Content-Transfer-Encoding changed to binary; structure, boundaries,
 * prologues and epilogues kept as they are. Null for an unknown encoding.
 */
export function binaryEntity(raw: Uint8Array, p: MimePart, withHeader: boolean): Uint8Array | null {
  const pieces: Uint8Array[] = [];
  const walk = (part: MimePart, header: boolean): boolean => {
    if (part.type === "multipart" && part.parts?.length) {
      if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
      let pos = part.bodyStart;
      for (const c of part.parts) {
        pieces.push(raw.subarray(pos, c.headerStart));
        if (!walk(c, true)) return false;
        pos = c.bodyEnd;
      }
      pieces.push(raw.subarray(pos, part.bodyEnd));
      return true;
    }
    if (part.message) {
      if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
      return walk(part.message.root, true);
    }
    const enc = (part.encoding || "7bit").toLowerCase();
    const body = raw.subarray(part.bodyStart, part.bodyEnd);
    if (enc === "base64" || enc === "quoted-printable") {
      const dec = decodeCte(body, enc);
      if (!dec) return false;
      if (header) pieces.push(rewriteCte(raw.subarray(part.headerStart, part.bodyStart), "binary"));
      pieces.push(dec);
      return true;
    }
    if (!["7bit", "8bit", "binary", ""].includes(enc)) return false;
    if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
    pieces.push(body);
    return true;
  };
  if (!walk(p, withHeader)) return null;
  return concatChunks(pieces);
}

/** Structure of the binary form (URLFETCH BINARY + BODYPARTSTRUCTURE, RFC 5524): sizes after decoding. */
export function binaryStructure(raw: Uint8Array, p: MimePart): MimePart {
  const clone = (x: MimePart): MimePart => {
    if (x.type === "multipart" && x.parts?.length) return { ...x, parts: x.parts.map(clone) };
    if (x.message) {
      const body = binaryEntity(raw, x, false) ?? raw.subarray(x.bodyStart, x.bodyEnd);
      let lines = 0;
      for (let i = 0; i < body.length; i++) if (body[i] === 10) lines++;
      return { ...x, headerStart: 0, bodyStart: 0, bodyEnd: body.length, lines, message: { envelope: x.message.envelope, root: clone(x.message.root) } };
    }
    const enc = (x.encoding || "7bit").toLowerCase();
    if (enc === "base64" || enc === "quoted-printable") {
      const dec = decodeCte(raw.subarray(x.bodyStart, x.bodyEnd), enc);
      if (dec) return { ...x, headerStart: 0, bodyStart: 0, bodyEnd: dec.length, lines: 0 };
    }
    return x;
  };
  return clone(p);
}

/** Base64 of a leaf's content in 76-character CRLF lines (BODY[n] of a binary part with NUL bytes). */
function base64Lines(data: Uint8Array): Uint8Array {
  return Buffer.from(mailBase64Lines(data), "latin1");
}

/**
 * A NUL-free form for BODY[] fetches of content that arrived as binary
 * (RFC 3516 §4.3: a literal must not carry NUL): leaves with NUL bytes are
 * returned base64-encoded, with their Content-Transfer-Encoding rewritten.
 */
export function sevenBitEntity(raw: Uint8Array, p: MimePart, withHeader: boolean): Uint8Array {
  const pieces: Uint8Array[] = [];
  const walk = (part: MimePart, header: boolean): void => {
    if (part.type === "multipart" && part.parts?.length) {
      if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
      let pos = part.bodyStart;
      for (const c of part.parts) {
        pieces.push(raw.subarray(pos, c.headerStart));
        walk(c, true);
        pos = c.bodyEnd;
      }
      pieces.push(raw.subarray(pos, part.bodyEnd));
      return;
    }
    if (part.message) {
      if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
      walk(part.message.root, true);
      return;
    }
    const body = raw.subarray(part.bodyStart, part.bodyEnd);
    if (body.indexOf(0) >= 0) {
      if (header) pieces.push(rewriteCte(raw.subarray(part.headerStart, part.bodyStart), "base64"));
      pieces.push(base64Lines(body));
      return;
    }
    if (header) pieces.push(raw.subarray(part.headerStart, part.bodyStart));
    pieces.push(body);
  };
  walk(p, withHeader);
  return concatChunks(pieces);
}

export { base64Lines };
