/**
 * RFC 5322 §3.4 address lists (with group syntax and the obsolete forms of
 * §4.4: routes, missing commas, comments as names), into the RFC 3501
 * §7.4.2 ENVELOPE address shape. Display names stay raw (RFC 2047 words
 * still encoded) as ENVELOPE requires; decode with decodeWords() for display.
 */
import type { Address } from "./types.ts";
import { encodeWords } from "./encode.ts";
import { decodeWords } from "./headers.ts";

/** Placeholders for broken addresses, as Dovecot uses: a NIL host would read as group syntax. */
export const MISSING_DOMAIN = "MISSING_DOMAIN";
export const MISSING_MAILBOX = "MISSING_MAILBOX";

type Tok =
  | { t: "word"; v: string; ws: boolean; quoted: boolean }
  | { t: "comment"; v: string; ws: boolean }
  | { t: "special"; v: string; ws: boolean };

const SPECIALS = new Set(["<", ">", "@", ",", ";", ":", "."]);

function tokenize(s: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  let ws = false;
  while (i < s.length) {
    const ch = s[i];
    if (ch === " " || ch === "\t" || ch === "\r" || ch === "\n") {
      ws = true;
      i++;
      continue;
    }
    if (ch === '"') {
      let v = "";
      i++;
      while (i < s.length && s[i] !== '"') {
        if (s[i] === "\\" && i + 1 < s.length) i++;
        v += s[i++];
      }
      i++;
      toks.push({ t: "word", v, ws, quoted: true });
    } else if (ch === "(") {
      let depth = 1;
      let v = "";
      i++;
      while (i < s.length && depth > 0) {
        const c = s[i];
        if (c === "\\" && i + 1 < s.length) {
          v += s[i + 1];
          i += 2;
          continue;
        }
        if (c === "(") depth++;
        else if (c === ")") {
          depth--;
          if (depth === 0) {
            i++;
            break;
          }
        }
        v += c;
        i++;
      }
      toks.push({ t: "comment", v, ws });
    } else if (ch === "[") {
      const e = s.indexOf("]", i);
      const stop = e < 0 ? s.length : e + 1;
      toks.push({ t: "word", v: s.slice(i, stop), ws, quoted: false });
      i = stop;
    } else if (SPECIALS.has(ch)) {
      toks.push({ t: "special", v: ch, ws });
      i++;
    } else if (ch === ")" || ch === "]") {
      i++; // stray closer: ignore
    } else {
      let j = i;
      while (j < s.length && !SPECIALS.has(s[j]) && !' \t\r\n"()['.includes(s[j])) j++;
      toks.push({ t: "word", v: s.slice(i, j), ws, quoted: false });
      i = j;
    }
    ws = false;
  }
  return toks;
}

function phrase(toks: Tok[]): string | null {
  let out = "";
  for (const t of toks) {
    if (t.t === "comment") continue;
    if (out !== "" && t.ws) out += " ";
    out += t.v;
  }
  out = out.trim();
  return out === "" ? null : out;
}

function addrSpec(toks: Tok[]): { mailbox: string | null; host: string | null; adl: string | null } {
  const clean = toks.filter((t) => t.t !== "comment");
  // obs-route "@a,@b:" before the address (RFC 5322 §4.4): kept apart as ENVELOPE's adl
  let start = 0;
  for (let i = 0; i < clean.length; i++) if (clean[i].t === "special" && clean[i].v === ":") start = i + 1;
  const route = start > 0 ? clean.slice(0, start - 1).map((t) => t.v).join("").trim() : "";
  const adl = route.startsWith("@") ? route : null;
  const list = clean.slice(start);
  let at = -1;
  for (let i = list.length - 1; i >= 0; i--) {
    if (list[i].t === "special" && list[i].v === "@") {
      at = i;
      break;
    }
  }
  const join = (ts: Tok[]) => ts.map((t) => t.v).join("");
  if (at < 0) {
    const local = join(list).trim();
    return { mailbox: local === "" ? null : local, host: null, adl };
  }
  const local = join(list.slice(0, at)).trim();
  const host = join(list.slice(at + 1)).trim();
  return { mailbox: local === "" ? null : local, host: host === "" ? null : host, adl };
}

function mailbox(toks: Tok[]): Address | null {
  if (!toks.some((t) => t.t !== "comment")) return null;
  const lt = toks.findIndex((t) => t.t === "special" && t.v === "<");
  let name: string | null;
  let spec: { mailbox: string | null; host: string | null; adl: string | null };
  if (lt >= 0) {
    let gt = toks.findIndex((t, i) => i > lt && t.t === "special" && t.v === ">");
    if (gt < 0) gt = toks.length;
    name = phrase(toks.slice(0, lt));
    if (name === null) {
      // "<a@b> (Name)": a trailing comment is the only name there is
      const cmt = toks.slice(gt + 1).find((t) => t.t === "comment");
      if (cmt && cmt.v.trim()) name = cmt.v.trim();
    }
    spec = addrSpec(toks.slice(lt + 1, gt));
  } else {
    // addr-spec alone; a comment is the traditional name: "user@host (Full Name)"
    const cmts = toks.filter((t) => t.t === "comment" && t.v.trim() !== "");
    name = cmts.length ? cmts[cmts.length - 1].v.trim() : null;
    spec = addrSpec(toks);
    // "Full Name user@host" with no angle brackets (broken): take the last word run as the address
    const words = toks.filter((t) => t.t !== "comment");
    const atIdx = words.findIndex((t) => t.t === "special" && t.v === "@");
    if (atIdx > 0) {
      const firstLocal = findLocalStart(words, atIdx);
      if (firstLocal > 0) {
        const n = phrase(words.slice(0, firstLocal));
        if (n) name = n;
        spec = addrSpec(words.slice(firstLocal));
      }
    }
  }
  if (spec.mailbox === null && spec.host === null) return null;
  const out: Address = { name, mailbox: spec.mailbox ?? MISSING_MAILBOX, host: spec.host ?? MISSING_DOMAIN };
  if (spec.adl) out.adl = spec.adl;
  return out;
}

/** Start index of the local part ending just before `atIdx` (a run of words/dots without whitespace). */
function findLocalStart(words: Tok[], atIdx: number): number {
  let i = atIdx - 1;
  while (i > 0 && !words[i].ws && (words[i - 1].t === "word" || (words[i - 1].t === "special" && words[i - 1].v === "."))) i--;
  return i;
}

/** Parses an address-list header value. Never throws; unparseable pieces are dropped. */
export function parseAddressList(raw: string | null): Address[] {
  if (!raw) return [];
  const toks = tokenize(raw);
  const out: Address[] = [];
  let cur: Tok[] = [];
  let inAngle = false;
  let inGroup = false;
  const finish = () => {
    const a = mailbox(cur);
    if (a) out.push(a);
    cur = [];
  };
  for (const t of toks) {
    if (t.t === "special") {
      if (t.v === "<") inAngle = true;
      else if (t.v === ">") inAngle = false;
      else if (!inAngle && t.v === ",") {
        finish();
        continue;
      } else if (!inAngle && t.v === ":" && !inGroup && !cur.some((x) => x.t === "special" && (x.v === "@" || x.v === "<"))) {
        // group start: display-name ":" (RFC 5322 §3.4)
        out.push({ name: null, mailbox: phrase(cur) ?? "", host: null });
        cur = [];
        inGroup = true;
        continue;
      } else if (!inAngle && t.v === ";" && inGroup) {
        finish();
        out.push({ name: null, mailbox: null, host: null });
        inGroup = false;
        continue;
      } else if (!inAngle && t.v === ";") {
        finish();
        continue;
      }
    }
    cur.push(t);
  }
  finish();
  if (inGroup) out.push({ name: null, mailbox: null, host: null }); // unterminated group: close it
  return out;
}

/** "local@host" lower-case, for the first real (non-group-marker) address. */
export function firstAddress(list: Address[]): Address | null {
  for (const a of list) if (a.host !== null && a.mailbox !== null) return a;
  return null;
}

export function addressString(a: Address | null): string {
  if (!a || a.mailbox === null || a.host === null) return "";
  if (a.host === MISSING_DOMAIN) return a.mailbox.toLowerCase();
  return `${a.mailbox}@${a.host}`.toLowerCase();
}

/** msg-id list (RFC 5322 §3.6.4): every `<...>`; a bare token when brackets are missing. */
export function parseMessageIds(raw: string | null): string[] {
  if (!raw) return [];
  const ids: string[] = [];
  const re = /<([^<>\s]+)>/g;
  let m: RegExpExecArray | null;
  const s = raw.replace(/\([^()]*\)/g, " ");
  while ((m = re.exec(s)) !== null) ids.push(`<${m[1]}>`);
  if (ids.length === 0) {
    const bare = s.trim().split(/\s+/).filter((w) => w.includes("@"));
    for (const b of bare) ids.push(`<${b.replace(/^<|>$/g, "")}>`);
  }
  return ids;
}

/** A mailbox as people write it: display name (may be empty) and address. */
export interface Mailbox {
  name: string;
  address: string;
}

// RFC 5322 §3.2.3 specials (plus ".", which only obs-phrase allows in a name): a name with one is quoted.
const NAME_SPECIALS = /[()<>\[\]:;@\\,."]/;

/**
 * A mailbox as written in a header (RFC 5322 §3.4): `address` alone, or
 * `name <address>` with the name as atoms, a quoted-string when it holds
 * specials, or RFC 2047 encoded words when it is not ASCII (§5: encoded
 * words may stand for a phrase, never inside quotes). `display` gives the
 * form for people (quoted when needed, Unicode left as it is), as used in
 * reply and forward quotes.
 */
export function formatAddress(m: Mailbox, opts?: { display?: boolean }): string {
  const name = m.name.replace(/[\t\r\n ]+/g, " ").trim(); // folding whitespace reads as one space anyway
  if (!name) return m.address;
  const quoted = () => `"${name.replace(/["\\]/g, "\\$&")}"`;
  // eslint-disable-next-line no-control-regex
  // "=?" in a plain name would be decoded by readers as an encoded word, so such a name is encoded too.
  if (!opts?.display && (!/^[\x20-\x7e]*$/.test(name) || name.includes("=?"))) return `${encodeWords(name)} <${m.address}>`;
  return `${NAME_SPECIALS.test(name) ? quoted() : name} <${m.address}>`;
}

/** Why a typed address was refused: the piece is named so the user can fix it. */
export class AddressError extends Error {
  constructor(public readonly address: string) {
    super(`"${address}" is not a valid email address`);
    this.name = "AddressError";
  }
}

/**
 * Whether `a` is usable as a recipient (RFC 5321 §4.1.2 Mailbox, kept
 * pragmatic): at most 254 octets (RFC 5321 §4.5.3.1.3), one local part and a
 * domain with a dot (or localhost); no whitespace, brackets or list
 * separators outside a quoted local part.
 */
export function isValidAddress(a: string): boolean {
  if (a.length > 254 || /[\s<>(),;:\\"\[\]]/.test(a.replace(/^"[^"]*"@/, "x@"))) return false;
  const at = a.lastIndexOf("@");
  if (at < 1 || at === a.length - 1) return false;
  const domain = a.slice(at + 1);
  return /^[^.\s][^\s]*$/.test(domain) && (domain.includes(".") || domain === "localhost");
}

/**
 * A recipient list as a person types it ("Ann <a@x>, b@y; c@z"): commas or
 * semicolons between entries, groups flattened, names as typed (encoded
 * words decoded). Throws AddressError naming the first entry that is not a
 * valid address.
 */
export function parseAddressInput(input: string | readonly string[] | undefined | null): Mailbox[] {
  if (!input) return [];
  const text = typeof input === "string" ? input : input.join(", ");
  const out: Mailbox[] = [];
  for (const entry of splitEntries(text)) {
    // The piece named in an error: what is inside <...> when there is one, else the entry as typed.
    const shown = () => /<([^<>]*)>/.exec(entry)?.[1]?.trim() || entry.trim();
    for (const a of parseAddressList(entry)) {
      if (a.host === null) continue; // group markers
      if (a.mailbox === null || a.mailbox === MISSING_MAILBOX || a.host === MISSING_DOMAIN) throw new AddressError(shown());
      const local = /^[!#-'*+\-/-9=?A-Z^-~.]+$/.test(a.mailbox) || /[^\x00-\x7f]/.test(a.mailbox) ? a.mailbox : `"${a.mailbox.replace(/["\\]/g, "\\$&")}"`;
      const address = `${local}@${a.host}`;
      if (!isValidAddress(address)) throw new AddressError(shown());
      out.push({ name: a.name ? decodeWords(a.name).trim() : "", address });
    }
  }
  return out;
}

/** Entries of a typed list: split at "," and ";" outside quotes, comments and angle brackets. */
function splitEntries(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let quote = false;
  let paren = 0;
  let angle = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === "\\" && i + 1 < text.length) {
        cur += c + text[++i];
        continue;
      }
      if (c === '"') quote = false;
    } else if (paren > 0) {
      if (c === "(") paren++;
      else if (c === ")") paren--;
    } else if (c === '"') quote = true;
    else if (c === "(") paren = 1;
    else if (c === "<") angle = true;
    else if (c === ">") angle = false;
    else if ((c === "," || c === ";") && !angle) {
      if (cur.trim()) out.push(cur);
      cur = "";
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur);
  return out;
}
