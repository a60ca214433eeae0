/**
 * The Bayesian classifier's tokens (src/spam/bayes.ts): what a message says,
 * as a bounded set of short strings. Header tokens carry their field as a
 * prefix ("subject:cheap", "from:dom:example.com"), because the same word
 * means different things in a Subject and in a body; body words come from the
 * decoded text parts (the project's one MIME parser, mail/); URL hosts and
 * their registrable domains are tokens of their own.
 *
 * Bounds (a hostile message must not cost more than a normal one): the header
 * is read whole (mail/headers.ts already caps fields), the body only up to
 * `maxScanBytes`; at most MAX_PARTS_READ text parts, MAX_TOKENS tokens; words
 * shorter than 3 or longer than MAX_WORD characters become a "skip" token
 * (their first letter and length class, as SpamBayes does), so a long base64
 * run or a made-up word adds one token, not one per variant.
 */
import { parseMime, decodeHeaderText, parseAddressList, partText, htmlToText, headerEnd } from "../../mail/index.ts";
import type { MimePart, HeaderField } from "../../mail/index.ts";

export interface TokenizeOptions {
  /** Octets of the body read (the header is always read). */
  maxScanBytes: number;
  /** Upper bound of tokens returned (default MAX_TOKENS). */
  maxTokens?: number;
}

export const MAX_TOKENS = 3000;
const MAX_WORD = 24;
const MIN_WORD = 3;
const MAX_PARTS_READ = 20;
/** Characters of decoded text read per part and per message (a part's text may be larger than its encoded bytes). */
const MAX_TEXT_CHARS = 200_000;
const MAX_URLS = 200;

/** Short fields whose whole value (lower-cased, cut to 40 characters) is a token: how a message was sent says much about who sent it. */
const VALUE_FIELDS = new Set(["precedence", "x-priority", "x-msmail-priority", "importance", "mime-version", "x-mimeole", "list-id", "x-mailing-list", "content-transfer-encoding", "x-beenthere"]);

/** Fields whose presence is a token ("hdr:x-mailing-list"); the rest are read as words only where named below. */
const SKIP_FIELDS = new Set(["x-spam-status", "x-spam-score", "x-spam-flag", "x-spam-level", "x-spam-checker-version", "x-spam-report"]);

class Bag {
  readonly set = new Set<string>();
  constructor(readonly max: number) {}
  get full(): boolean {
    return this.set.size >= this.max;
  }
  add(t: string): void {
    if (this.set.size >= this.max) return;
    this.set.add(t.length > 64 ? `${t.slice(0, 20)}#${fnv(t)}` : t);
  }
}

/** FNV-1a (32 bits) in hex: a short stable stand-in for an over-long token. */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16);
}

/** Words of a text: letters, digits and a few joiners, lower-cased; the very short and very long become skip tokens. */
const WORD = /[\p{L}\p{N}$€£¥%][\p{L}\p{N}$€£¥%'._-]*/gu;

function addWords(bag: Bag, text: string, prefix: string): void {
  WORD.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (!bag.full && (m = WORD.exec(text)) !== null) {
    let w = m[0];
    // trailing punctuation of a sentence ("offer." "now!") is not part of the word
    while (w.length > 1 && (w.endsWith(".") || w.endsWith("-") || w.endsWith("'") || w.endsWith("_"))) w = w.slice(0, -1);
    if (w.length < MIN_WORD) continue;
    w = w.toLowerCase();
    if (w.length > MAX_WORD) {
      // SpamBayes' "skip:c n": one token per first character and length class
      bag.add(`${prefix}skip:${w[0]}${Math.floor(w.length / 10) * 10}`);
      continue;
    }
    bag.add(prefix + w);
  }
}

const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;
/** Second-level labels under which registrations sit one level deeper (co.uk, com.au, ...): a small fixed list, no public suffix list. */
const SECOND_LEVEL = new Set(["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or", "go", "gob", "nic", "ltd", "plc", "mil"]);

/** The registrable domain of a host: the last two labels, three under a country code's common second level (example.co.uk). */
export function registrableDomain(host: string): string {
  const labels = host.split(".").filter((l) => l.length > 0);
  if (labels.length <= 2) return labels.join(".");
  const tld = labels[labels.length - 1];
  const sld = labels[labels.length - 2];
  if (tld.length === 2 && SECOND_LEVEL.has(sld)) return labels.slice(-3).join(".");
  return labels.slice(-2).join(".");
}

const URL_RE = /\b(?:https?|ftp):\/\/(?:[^\s/@"'<>]*@)?([a-z0-9.-]{1,253}|\[[0-9a-f:.]+\])/gi;
const WWW_RE = /\bwww\.([a-z0-9-]{1,63}\.[a-z0-9.-]{2,200})/gi;

function addHost(bag: Bag, prefix: string, host0: string): void {
  const host = host0.toLowerCase().replace(/\.+$/, "");
  if (!host) return;
  if (IPV4.test(host) || host.startsWith("[")) {
    bag.add(`${prefix}ip`);
    return;
  }
  if (!host.includes(".")) return;
  bag.add(`${prefix}${host}`);
  const reg = registrableDomain(host);
  if (reg !== host) bag.add(`${prefix}dom:${reg}`);
}

function addUrls(bag: Bag, text: string): void {
  let n = 0;
  URL_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while (n < MAX_URLS && !bag.full && (m = URL_RE.exec(text)) !== null) {
    addHost(bag, "url:", m[1]);
    n++;
  }
  WWW_RE.lastIndex = 0;
  while (n < MAX_URLS && !bag.full && (m = WWW_RE.exec(text)) !== null) {
    addHost(bag, "url:", `www.${m[1]}`);
    n++;
  }
  if (n >= 10) bag.add(`url:count:${n >= 50 ? "50+" : n >= 20 ? "20+" : "10+"}`);
}

function countClass(n: number): string {
  return n <= 1 ? String(n) : n <= 3 ? "2-3" : n <= 10 ? "4-10" : "many";
}

const PRIVATE_IP = /^(?:10\.|127\.|192\.168\.|172\.(?:1[6-9]|2\d|3[01])\.|169\.254\.)/;

/** Received: the client of the topmost hops that are not private ("from host (rdns [ip])"): its names, IP and /24. */
function addReceived(bag: Bag, values: string[]): void {
  let external = 0;
  for (const v of values.slice(0, 4)) {
    const ips = v.match(/\[(\d{1,3}(?:\.\d{1,3}){3})\]/g) ?? [];
    const ip = ips.map((s) => s.slice(1, -1)).find((s) => !PRIVATE_IP.test(s));
    if (!ip) continue;
    bag.add(`rcvd:ip:${ip}`);
    bag.add(`rcvd:net:${ip.split(".").slice(0, 3).join(".")}`);
    const from = /\bfrom\s+([^\s()]+)(?:\s*\(([^)]*)\))?/i.exec(v);
    if (from) {
      for (const h of [from[1], ...(from[2] ?? "").split(/\s+/)]) {
        const host = h.replace(/[[\]]/g, "").toLowerCase();
        if (host.includes(".") && !IPV4.test(host) && /^[a-z0-9.-]+$/.test(host)) addHost(bag, "rcvd:", host);
      }
    }
    if (++external >= 1) break; // the last external hop is the one that tells
  }
}

function addHeaders(bag: Bag, fields: HeaderField[]): void {
  const received: string[] = [];
  let to = 0;
  let cc = 0;
  for (const f of fields.slice(0, 500)) {
    const key = f.key;
    if (SKIP_FIELDS.has(key)) continue;
    bag.add(`hdr:${key.length > 40 ? key.slice(0, 40) : key}`);
    if (VALUE_FIELDS.has(key)) bag.add(`${key}:${f.value.slice(0, 40).toLowerCase().replace(/\s+/g, " ")}`);
    switch (key) {
      case "date": {
        // the zone and the shape of the date: bulk mailers write odd ones
        const tz = /([+-]\d{4}|\b[A-Z]{2,4})\s*(?:\([^)]*\))?\s*$/.exec(f.value.slice(0, 200));
        bag.add(`date:tz:${tz ? tz[1].toLowerCase() : "none"}`);
        break;
      }
      case "return-path": {
        const at = f.value.lastIndexOf("@");
        if (at >= 0) addHost(bag, "rp:", f.value.slice(at + 1, at + 200).replace(/[>\s].*$/, ""));
        else bag.add("rp:null");
        break;
      }
      case "subject": {
        const s = decodeHeaderText(f.value.slice(0, 2000));
        addWords(bag, s, "subject:");
        if (s.length > 8 && s === s.toUpperCase() && /\p{Lu}/u.test(s)) bag.add("subject:allcaps");
        if (/=\?/.test(f.value)) bag.add("subject:encoded");
        break;
      }
      case "from":
      case "reply-to":
      case "sender": {
        const p = key === "from" ? "from:" : `${key}:`;
        const list = parseAddressList(f.value.slice(0, 2000));
        const a = list.find((x) => x.mailbox !== null && x.host !== null);
        if (a && a.host) {
          const addr = `${a.mailbox}@${a.host}`.toLowerCase();
          bag.add(`${p}addr:${addr}`);
          addHost(bag, `${p}dom:`, a.host);
          if (a.name) addWords(bag, decodeHeaderText(a.name).slice(0, 200), `${p}name:`);
          else bag.add(`${p}noname`);
        } else bag.add(`${p}invalid`);
        break;
      }
      case "to":
        to += parseAddressList(f.value.slice(0, 20_000)).length;
        break;
      case "cc":
        cc += parseAddressList(f.value.slice(0, 20_000)).length;
        break;
      case "received":
        received.push(f.value.slice(0, 2000));
        break;
      case "x-mailer":
      case "user-agent": {
        const v = decodeHeaderText(f.value.slice(0, 200)).toLowerCase();
        bag.add(`xm:${v.replace(/\s+/g, " ")}`);
        addWords(bag, v, "xm:");
        break;
      }
      case "message-id": {
        const at = f.value.lastIndexOf("@");
        if (at >= 0) {
          const host = f.value.slice(at + 1).replace(/[>\s].*$/, "");
          if (/^[a-z0-9.-]+$/i.test(host)) addHost(bag, "mid:", host);
        } else bag.add("mid:noat");
        break;
      }
    }
  }
  bag.add(`to:n:${countClass(to)}`);
  if (cc > 0) bag.add(`cc:n:${countClass(cc)}`);
  addReceived(bag, received);
}

/** The message's leaf parts in order (attached messages included), at most `max`. */
function leaves(root: MimePart, max: number): MimePart[] {
  const out: MimePart[] = [];
  const walk = (p: MimePart, depth: number) => {
    if (out.length >= max || depth > 30) return;
    if (p.parts) for (const c of p.parts) walk(c, depth + 1);
    else if (p.message) walk(p.message.root, depth + 1);
    else out.push(p);
  };
  walk(root, 0);
  return out;
}

/** The classifier's tokens for one message: deduplicated, at most `maxTokens`. Never throws. */
export function tokenizeMessage(raw: Uint8Array, opts: TokenizeOptions): string[] {
  const bag = new Bag(opts.maxTokens ?? MAX_TOKENS);
  try {
    const hEnd = headerEnd(raw);
    const limit = Math.min(raw.length, (hEnd < 0 ? 0 : hEnd) + Math.max(0, opts.maxScanBytes));
    const msg = parseMime(limit < raw.length ? raw.subarray(0, limit) : raw);
    addHeaders(bag, msg.headers);
    let chars = 0;
    for (const p of leaves(msg.root, MAX_PARTS_READ * 4)) {
      if (bag.full || chars >= MAX_TEXT_CHARS) break;
      const type = `${p.type}/${p.subtype}`;
      bag.add(`ct:${type}`);
      if (p.params.charset) bag.add(`cs:${p.params.charset.toLowerCase().slice(0, 30)}`);
      if (p.encoding !== "7bit" && p.encoding !== "8bit") bag.add(`cte:${p.encoding.slice(0, 20)}`);
      const name = p.disposition?.params.filename ?? p.params.name;
      if (name) {
        const dot = name.lastIndexOf(".");
        bag.add(`att:ext:${dot >= 0 ? name.slice(dot + 1, dot + 9).toLowerCase() : "none"}`);
      }
      if (p.type !== "text" || (p.subtype !== "plain" && p.subtype !== "html")) continue;
      let text = partText(raw, p);
      if (text.length > MAX_TEXT_CHARS - chars) text = text.slice(0, MAX_TEXT_CHARS - chars);
      chars += text.length;
      addUrls(bag, text);
      if (p.subtype === "html") {
        bag.add("body:html");
        text = htmlToText(text);
      }
      addWords(bag, text, "");
    }
  } catch {
    // the parser is tolerant and nothing above should throw; a token set of what was read is still useful
  }
  return [...bag.set];
}
