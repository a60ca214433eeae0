/**
 * IMAP URLs (RFC 5092) as used by CATENATE (RFC 4469 §3) and URLAUTH
 * (RFC 4467): parsing, resolving to message bytes, and the URLAUTH
 * "INTERNAL" token (an HMAC under a per-mailbox key kept in the account's
 * settings so RESETKEY survives restarts).
 */
import { Buffer } from "node:buffer";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Account, Folder, MessageIndex, MimePart } from "../../storage/api.ts";
import { parseSection, resolvePart } from "./mime.ts";
import { readBytes, sectionContent } from "./fetch.ts";
import type { Session } from "./session.ts";

export interface ImapUrl {
  /** userinfo and host of an absolute URL (null for a relative one). */
  user: string | null;
  host: string | null;
  mailbox: string;
  uidValidity: number | null;
  uid: number;
  section: string | null;
  partial: [number, number | null] | null;
  expire: number | null;
  /** ";urlauth=access" */
  access: string | null;
  /** ":internal:<hex>" */
  mech: string | null;
  token: string | null;
  /** The URL up to and including ";urlauth=access" (what the token signs). */
  signed: string;
}

function pctDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** Parses an absolute or "/mailbox..." relative IMAP URL naming one message (or part). */
export function parseImapUrl(url: string): ImapUrl | null {
  let rest = url;
  let user: string | null = null;
  let host: string | null = null;
  const abs = /^imap:\/\/(?:([^@/]*)@)?([^/]+)(\/.*)$/i.exec(url);
  if (abs) {
    user = abs[1] !== undefined ? pctDecode(abs[1].replace(/;.*$/, "")) : null;
    host = abs[2].toLowerCase();
    rest = abs[3];
  }
  if (!rest.startsWith("/")) return null;
  // token part
  let mech: string | null = null;
  let token: string | null = null;
  let signed = url;
  const tm = /^(.*;urlauth=[^:/]+):([^:]+):([0-9a-fA-F]+)$/i.exec(url);
  if (tm) {
    signed = tm[1];
    mech = tm[2].toLowerCase();
    token = tm[3].toLowerCase();
    rest = rest.slice(0, rest.length - (url.length - tm[1].length));
  }
  // /mailbox[;uidvalidity=n]/;uid=n[/;section=x][/;partial=a[.b]][;expire=..][;urlauth=..]
  const m = /^\/(.*?)(?:;uidvalidity=(\d+))?\/;uid=(\d+)(.*)$/i.exec(rest);
  if (!m) return null;
  const mailbox = pctDecode(m[1]);
  if (mailbox === null || mailbox === "") return null;
  const out: ImapUrl = {
    user,
    host,
    mailbox,
    uidValidity: m[2] ? Number(m[2]) : null,
    uid: Number(m[3]),
    section: null,
    partial: null,
    expire: null,
    access: null,
    mech,
    token,
    signed,
  };
  let tail = m[4];
  const sec = /^\/;section=([^/;]*)/i.exec(tail);
  if (sec) {
    out.section = pctDecode(sec[1]);
    if (out.section === null) return null;
    tail = tail.slice(sec[0].length);
  }
  const part = /^\/;partial=(\d+)(?:\.(\d+))?/i.exec(tail);
  if (part) {
    out.partial = [Number(part[1]), part[2] !== undefined ? Number(part[2]) : null];
    tail = tail.slice(part[0].length);
  }
  const exp = /^;expire=([^;]+)/i.exec(tail);
  if (exp) {
    const d = pctDecode(exp[1]);
    const t = d ? Date.parse(d) : NaN;
    if (!Number.isFinite(t)) return null;
    out.expire = t;
    tail = tail.slice(exp[0].length);
  }
  const ua = /^;urlauth=([^;:]+)/i.exec(tail);
  if (ua) {
    out.access = ua[1].toLowerCase();
    tail = tail.slice(ua[0].length);
  }
  if (tail !== "") return null;
  return out;
}

export interface ResolvedUrl {
  account: Account;
  folder: Folder;
  ix: MessageIndex;
  part: MimePart | null;
}

/** Finds the account an absolute URL names: "user@domain" in the userinfo, or local part + host. */
export async function urlAccount(s: Session, u: ImapUrl): Promise<Account | null> {
  if (u.user === null) return s.account;
  const tries = u.user.includes("@") ? [u.user] : u.host ? [`${u.user}@${u.host}`] : [];
  for (const t of tries) {
    const a = await s.store.getAccount(t.toLowerCase());
    if (a) return a;
  }
  // our own host name with the session user's local part
  if (s.account && u.user.toLowerCase() === s.account.email.split("@")[0]) return s.account;
  return null;
}

/** Looks up the message a URL names, in `account`. Null when it does not exist or UIDVALIDITY differs. */
export async function resolveUrl(s: Session, u: ImapUrl, account: Account): Promise<ResolvedUrl | null> {
  let name = u.mailbox;
  if (/^inbox(\/|$)/i.test(name)) name = "INBOX" + name.slice(5);
  const folder = await s.store.getFolder(account.id, name);
  if (!folder) return null; // getFolder finds mail folders only
  if (u.uidValidity !== null && u.uidValidity !== folder.uidValidity) return null;
  const [ix] = await s.store.getMessages(folder.id, [u.uid]);
  if (!ix) return null;
  let part: MimePart | null = null;
  if (u.section) {
    const sec = parseSection(u.section);
    if (!sec) return null;
    if (sec.path.length) {
      part = resolvePart(ix.root, sec.path);
      if (!part) return null;
    }
  }
  return { account, folder, ix, part };
}

/** The bytes a URL stands for (section and partial applied), or null. */
export async function urlBytes(s: Session, u: ImapUrl, r: ResolvedUrl): Promise<Uint8Array | null> {
  let data: Uint8Array;
  if (u.section) {
    const sec = parseSection(u.section);
    if (!sec) return null;
    const c = await sectionContent(s, r.ix, sec, false);
    if (c === null || c === "badcte") return null;
    data = c instanceof Uint8Array ? c : await readBytes(s, r.ix, c.stream[0], c.stream[1]);
  } else data = await readBytes(s, r.ix, 0, r.ix.size);
  if (u.partial) {
    const [off, len] = u.partial;
    const a = Math.min(off, data.length);
    const b = len === null ? data.length : Math.min(a + len, data.length);
    data = data.subarray(a, b);
  }
  return data;
}

// ---------------------------------------------------------------- URLAUTH keys

const KEYS = "imapUrlauthKeys";

function keysOf(a: Account): Record<string, string> {
  const v = a.settings?.[KEYS];
  return v && typeof v === "object" ? (v as Record<string, string>) : {};
}

/** The mailbox access key (created on first use). */
export async function mailboxKey(s: Session, account: Account, folder: Folder, create: boolean): Promise<Buffer | null> {
  const keys = keysOf(account);
  const k = keys[String(folder.id)];
  if (k) return Buffer.from(k, "hex");
  if (!create) return null;
  const nk = randomBytes(32).toString("hex");
  const settings = await s.store.updateSettings(account.id, { [KEYS]: { ...keys, [String(folder.id)]: nk } });
  account.settings = settings;
  return Buffer.from(nk, "hex");
}

/** RFC 4467 §6.3 RESETKEY: new keys for one mailbox or all. */
export async function resetKeys(s: Session, folder: Folder | null): Promise<void> {
  const acct = s.account!;
  const fresh = await s.store.getAccountById(acct.id);
  const keys = { ...keysOf(fresh ?? acct) };
  if (folder) delete keys[String(folder.id)];
  const settings = await s.store.updateSettings(acct.id, { [KEYS]: folder ? keys : {} });
  acct.settings = settings;
}

export function urlToken(key: Buffer, signed: string): string {
  return createHmac("sha256", key).update(signed).digest("hex").slice(0, 40);
}

export function tokenMatches(key: Buffer, signed: string, token: string): boolean {
  const want = Buffer.from(urlToken(key, signed), "hex");
  const got = Buffer.from(token, "hex");
  return want.length === got.length && timingSafeEqual(want, got);
}
