/**
 * Response encoding helpers: quoted strings and literals, modified UTF-7
 * mailbox names, sequence sets, ENVELOPE and BODYSTRUCTURE serialisation
 * from the stored index (never from re-parsing the message).
 */
import { Buffer } from "node:buffer";
import type { Address, Envelope, MimePart } from "../../storage/api.ts";

// ---------------------------------------------------------------- strings

/**
 * A string as IMAP `string`: quoted when it is short 7-bit text without
 * CR/LF/NUL, otherwise a literal (RFC 9051 §4.3). 8-bit text always goes as a
 * literal so IMAP4rev1 clients without UTF8=ACCEPT never see raw 8-bit quoted.
 */
export function str(s: string): string {
  if (s.length <= 1024) {
    let ok = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c < 32 || c > 126) {
        ok = false;
        break;
      }
    }
    if (ok) return quoteRaw(s);
  }
  return `{${Buffer.byteLength(s, "utf8")}}\r\n${s}`;
}

/** Quoted string with escapes; caller guarantees no CR/LF/NUL. */
export function quoteRaw(s: string): string {
  if (s.indexOf("\\") < 0 && s.indexOf('"') < 0) return '"' + s + '"';
  return '"' + s.replace(/[\\"]/g, (m) => "\\" + m) + '"';
}

/** nstring: NIL for null. */
export function nstr(s: string | null | undefined): string {
  return s === null || s === undefined ? "NIL" : str(s);
}

/** A string that may carry UTF-8 (quoted for rev2/UTF8 clients, else literal when 8-bit). */
export function strUtf8(s: string, utf8: boolean): string {
  if (!utf8) return str(s);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c === 127) return `{${Buffer.byteLength(s, "utf8")}}\r\n${s}`;
  }
  return s.length > 4096 ? `{${Buffer.byteLength(s, "utf8")}}\r\n${s}` : quoteRaw(s);
}

// ---------------------------------------------------------------- modified UTF-7 (RFC 3501 §5.1.3)

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";
const B64REV = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64REV[B64.charCodeAt(i)] = i;

export function utf7Encode(s: string): string {
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? "&-" : s[i];
      i++;
      continue;
    }
    // run of non-printable characters, as UTF-16 code units
    let bits = 0;
    let nbits = 0;
    out += "&";
    while (i < s.length) {
      const d = s.charCodeAt(i);
      if (d >= 0x20 && d <= 0x7e) break;
      bits = (bits << 16) | d;
      nbits += 16;
      while (nbits >= 6) {
        nbits -= 6;
        out += B64[(bits >> nbits) & 63];
      }
      bits &= (1 << nbits) - 1;
      i++;
    }
    if (nbits > 0) out += B64[(bits << (6 - nbits)) & 63];
    out += "-";
  }
  return out;
}

/** UTF-16 units with no lone surrogates. */
function wellFormed(u: number[]): boolean {
  for (let i = 0; i < u.length; i++) {
    const c = u[i];
    if (c >= 0xd800 && c <= 0xdbff) {
      const n = u[i + 1];
      if (n === undefined || n < 0xdc00 || n > 0xdfff) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) return false;
  }
  return true;
}

/** Decodes modified UTF-7; returns null for invalid encodings (the command then fails). */
export function utf7Decode(s: string): string | null {
  if (s.indexOf("&") < 0) {
    for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7e) return null;
    return s;
  }
  let out = "";
  let i = 0;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c > 0x7e || c < 0x20) return null;
    if (c !== 0x26) {
      out += s[i++];
      continue;
    }
    const end = s.indexOf("-", i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += "&";
      i = end + 1;
      continue;
    }
    let bits = 0;
    let nbits = 0;
    const units: number[] = [];
    for (let k = i + 1; k < end; k++) {
      const ch = s.charCodeAt(k);
      const v = ch < 128 ? B64REV[ch] : -1;
      if (v < 0) return null;
      bits = (bits << 6) | v;
      nbits += 6;
      if (nbits >= 16) {
        nbits -= 16;
        units.push((bits >> nbits) & 0xffff);
        bits &= (1 << nbits) - 1;
      }
    }
    // leftover bits must be zero padding (< 6 bits)
    if (nbits >= 6 || bits !== 0) return null;
    const chunk = String.fromCharCode(...units);
    // RFC 3501: printable US-ASCII must not be encoded
    for (let k = 0; k < units.length; k++) if (units[k] >= 0x20 && units[k] <= 0x7e) return null;
    if (!wellFormed(units)) return null;
    out += chunk;
    i = end + 1;
    // "&AAA-&BBB-" (two adjacent encodings) is not canonical
    if (s.charCodeAt(i) === 0x26 && s.charCodeAt(i + 1) !== 0x2d) return null;
  }
  return out;
}

// ---------------------------------------------------------------- sequence sets

/**
 * Formats numbers as "1:3,5,7:9", joining ascending consecutive runs and
 * keeping the given order otherwise (ESORT results keep their sort order).
 */
export function formatSet(nums: ArrayLike<number>, count = nums.length): string {
  if (count === 0) return "";
  const parts: string[] = [];
  let a = nums[0];
  let b = a;
  for (let i = 1; i < count; i++) {
    const n = nums[i];
    if (n === b + 1) {
      b = n;
      continue;
    }
    parts.push(a === b ? String(a) : `${a}:${b}`);
    a = b = n;
  }
  parts.push(a === b ? String(a) : `${a}:${b}`);
  return parts.join(",");
}

// ---------------------------------------------------------------- dates

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 9051 date-time "dd-Mon-yyyy hh:mm:ss +zzzz" (UTC). */
export function formatInternalDate(ms: number): string {
  const d = new Date(ms);
  const day = d.getUTCDate();
  const p2 = (n: number) => (n < 10 ? "0" + n : String(n));
  return `"${day < 10 ? " " + day : day}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000"`;
}

/** Parses IMAP date-time `dd-Mon-yyyy hh:mm:ss +zzzz`; null if invalid. */
export function parseDateTime(s: string): number | null {
  const m = /^\s?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (mon < 0) return null;
  const day = +m[1];
  const [h, mi, se] = [+m[4], +m[5], +m[6]];
  if (day < 1 || day > 31 || h > 23 || mi > 59 || se > 60) return null;
  const off = (+m[8] * 60 + +m[9]) * (m[7] === "-" ? -1 : 1);
  const t = Date.UTC(+m[3], mon, day, h, mi, Math.min(se, 59)) - off * 60000;
  const chk = new Date(Date.UTC(+m[3], mon, day));
  if (chk.getUTCDate() !== day) return null;
  return t;
}

/** Parses IMAP `date` (d-Mon-yyyy, optionally quoted by the caller) into UTC midnight ms; null if invalid. */
export function parseSearchDate(s: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(s);
  if (!m) return null;
  const mon = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (mon < 0) return null;
  const day = +m[1];
  const t = Date.UTC(+m[3], mon, day);
  if (new Date(t).getUTCDate() !== day) return null;
  return t;
}

// ---------------------------------------------------------------- ENVELOPE / BODYSTRUCTURE

function addrList(list: Address[] | null): string {
  if (!list || list.length === 0) return "NIL";
  let out = "(";
  for (const a of list) {
    // RFC 3501 §7.4.2 address: (name adl mailbox host); adl is the obsolete source route.
    const adl = (a as Address & { adl?: string | null }).adl ?? null;
    out += `(${nstr(a.name)} ${nstr(adl)} ${nstr(a.mailbox)} ${nstr(a.host)})`;
  }
  return out + ")";
}

/** RFC 9051 §7.5.2 ENVELOPE; Sender and Reply-To default to From (RFC 3501 §7.4.2). */
export function envelopeString(e: Envelope): string {
  const from = e.from;
  const sender = e.sender && e.sender.length ? e.sender : from;
  const replyTo = e.replyTo && e.replyTo.length ? e.replyTo : from;
  return `(${nstr(e.date)} ${nstr(e.subject)} ${addrList(from)} ${addrList(sender)} ${addrList(replyTo)} ${addrList(e.to)} ${addrList(e.cc)} ${addrList(e.bcc)} ${nstr(e.inReplyTo)} ${nstr(e.messageId)})`;
}

function paramList(p: Record<string, string> | null | undefined): string {
  if (!p) return "NIL";
  const keys = Object.keys(p);
  if (!keys.length) return "NIL";
  let out = "(";
  for (let i = 0; i < keys.length; i++) {
    if (i) out += " ";
    out += str(keys[i].toUpperCase()) + " " + str(p[keys[i]]);
  }
  return out + ")";
}

function dispositionString(d: MimePart["disposition"]): string {
  if (!d) return "NIL";
  return `(${str(d.type.toUpperCase())} ${paramList(d.params)})`;
}

function languageString(l: string[] | null): string {
  if (!l || !l.length) return "NIL";
  if (l.length === 1) return str(l[0]);
  return "(" + l.map(str).join(" ") + ")";
}

/** BODY (extensible = false) or BODYSTRUCTURE (extensible = true), RFC 9051 §7.5.2. */
export function bodyStructureString(p: MimePart, extensible: boolean): string {
  if (p.type === "multipart") {
    let out = "(";
    const parts = p.parts && p.parts.length ? p.parts : null;
    if (parts) for (const c of parts) out += bodyStructureString(c, extensible);
    else out += `("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 0 0)`;
    out += " " + str(p.subtype.toUpperCase());
    if (extensible) {
      out += ` ${paramList(p.params)} ${dispositionString(p.disposition)} ${languageString(p.language)} ${nstr(p.location)}`;
    }
    return out + ")";
  }
  const size = Math.max(0, p.bodyEnd - p.bodyStart);
  let params = p.params;
  if (p.type === "text" && (!params || !("charset" in params))) params = { charset: "us-ascii", ...(params ?? {}) };
  let out = `(${str(p.type.toUpperCase())} ${str(p.subtype.toUpperCase())} ${paramList(params)} ${nstr(p.id)} ${nstr(p.description)} ${str((p.encoding || "7bit").toUpperCase())} ${size}`;
  if (p.type === "message" && (p.subtype === "rfc822" || p.subtype === "global") && p.message) {
    out += ` ${envelopeString(p.message.envelope)} ${bodyStructureString(p.message.root, extensible)} ${p.lines}`;
  } else if (p.type === "text") {
    out += ` ${p.lines}`;
  }
  if (extensible) {
    out += ` ${nstr(p.md5)} ${dispositionString(p.disposition)} ${languageString(p.language)} ${nstr(p.location)}`;
  }
  return out + ")";
}
