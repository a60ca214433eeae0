/**
 * Sieve tests (RFC 5228 §5 and the extensions'): each evaluates to a
 * boolean, counting its work against the run's step budget. Header values
 * come from the run's MessageView, so editheader changes are visible (RFC
 * 5293 §5); lookups (mailbox, metadata, duplicate) go through
 * SieveRunInput.lookup.
 */
import { createHash } from "node:crypto";
import { MISSING_DOMAIN, MISSING_MAILBOX } from "../../mail/address.ts";
import type { SieveTest } from "./types.ts";
import { matchValues } from "./match.ts";
import { MessageView, type ViewField } from "./message-view.ts";
import { bodyValues, type BodyTransform } from "./body-text.ts";
import { datePart, headerDate, parseZone, type ZonedTime } from "./dates.ts";
import { splitFlags } from "./flags.ts";
import { parseMime } from "../../mail/parse.ts";
import { RunState, SieveRuntimeError, listArg, rawList, strArg, tagList, tagNumber, tagString } from "./interpret-state.ts";

/** RFC 5233 §4: the separator between user and detail (Pigeonhole's default recipient_delimiter). */
const SUBADDRESS_SEPARATOR = "+";

/** RFC 7352 §3 defaults when the limits say nothing: Pigeonhole's 12 hours and 2 days. */
const DUPLICATE_DEFAULT_SECONDS = 12 * 3600;
const DUPLICATE_MAX_SECONDS = 2 * 86_400;

/** The environment items Pillarbox always has (RFC 5183 §4.1), beside those the caller gives. */
const BUILTIN_ENVIRONMENT: Record<string, string> = { name: "Pillarbox", location: "MDA", phase: "during" };

export async function evalTest(st: RunState, t: SieveTest): Promise<boolean> {
  st.step(t.line);
  switch (t.name) {
    case "true":
      return true;
    case "false":
      return false;
    case "not":
      return !(await evalTest(st, one(t)));
    case "allof":
      // RFC 5228 §5.2: evaluated left to right, stopping at the first false
      for (const sub of t.tests) if (!(await evalTest(st, sub))) return false;
      return true;
    case "anyof":
      for (const sub of t.tests) if (await evalTest(st, sub)) return true;
      return false;
    case "header":
      return match(st, t, headerFieldsOf(st, t, listArg(st, t, 0)).map(MessageView.decoded), listArg(st, t, 1));
    case "address":
      return match(st, t, addressValues(st, t), listArg(st, t, 1));
    case "envelope":
      return match(st, t, envelopeValues(st, t), listArg(st, t, 1));
    case "exists":
      // RFC 5228 §5.5: true when every named field is present
      return listArg(st, t, 0).every((name) => st.view.named(name).length > 0);
    case "size":
      return sizeTest(st, t);
    case "body":
      // Pigeonhole's body test leaves the match variables as they were (it sets no ${N})
      return match(st, t, bodyTestValues(st, t), listArg(st, t, 0), false);
    case "string":
      return stringTest(st, t);
    case "hasflag":
      return hasflagTest(st, t);
    case "date":
      return dateTest(st, t);
    case "currentdate": {
      const z = tagString(st, t, "zone");
      const zone = (z !== undefined ? parseZone(z) : null) ?? st.input.zoneOffsetMinutes;
      const v = datePart({ ms: st.input.now, zone }, strArg(st, t, 0));
      return match(st, t, v === null ? [] : [v], listArg(st, t, 1));
    }
    case "mailboxexists": {
      // RFC 5490 §3.1: true when every named mailbox exists
      for (const name of listArg(st, t, 0)) if (!(await st.input.lookup.mailboxExists(name))) return false;
      return true;
    }
    case "metadata": {
      const v = await st.input.lookup.mailboxMetadata(strArg(st, t, 0), strArg(st, t, 1));
      return v !== null && match(st, t, [v], listArg(st, t, 2));
    }
    case "metadataexists": {
      const mailbox = strArg(st, t, 0);
      for (const a of listArg(st, t, 1)) if ((await st.input.lookup.mailboxMetadata(mailbox, a)) === null) return false;
      return true;
    }
    case "servermetadata": {
      const v = await st.input.lookup.serverMetadata(strArg(st, t, 0));
      return v !== null && match(st, t, [v], listArg(st, t, 1));
    }
    case "servermetadataexists": {
      for (const a of listArg(st, t, 0)) if ((await st.input.lookup.serverMetadata(a)) === null) return false;
      return true;
    }
    case "duplicate":
      return duplicateTest(st, t);
    case "spamtest": {
      // RFC 5235 §3.2/§3.3: "0" when the message was not tested
      const spam = st.input.spam;
      const v = t.tags.percent ? (spam && spam.percent !== null ? spam.percent : 0) : spam ? spam.value : 0;
      return match(st, t, [String(v)], listArg(st, t, 0));
    }
    case "environment": {
      // RFC 5183 §4: an item the server does not know makes the test false
      const name = strArg(st, t, 0).toLowerCase();
      const v = Object.hasOwn(st.input.environment, name) ? st.input.environment[name] : BUILTIN_ENVIRONMENT[name];
      return v !== undefined && match(st, t, [v], listArg(st, t, 1));
    }
    default:
      throw new SieveRuntimeError(t.line, `unknown test "${t.name}"`);
  }
}

function one(t: SieveTest): SieveTest {
  const sub = t.tests[0];
  if (!sub) throw new SieveRuntimeError(t.line, `${t.name} needs a test`);
  return sub;
}

/** The comparison of RFC 5228 §2.7 (S1's matcher); a successful :matches sets ${0}..${9} (RFC 5229 §3.2). */
export function match(
  st: RunState,
  t: { line: number; comparator?: string; match?: SieveTest["match"] },
  values: readonly string[],
  keys: readonly string[],
  capture = true,
): boolean {
  // Every 16 comparisons of values with keys cost a step, so 10,000 tests over huge lists stay bounded.
  st.step(t.line, Math.floor((values.length * keys.length) / 16));
  const comparator = t.comparator ?? "i;ascii-casemap";
  const onCapture =
    capture && t.match?.type === "matches"
      ? (groups: string[]) => {
          st.matchVars = groups;
        }
      : undefined;
  let chars = 0;
  for (const v of values) chars += v.length;
  if (t.match?.type === "count" || chars * keys.length <= SLICE_WORK) return matchValues(values, keys, comparator, t.match, onCapture);
  // Long values (a body) against many keys: matched in slices, value by value and keys in
  // order (the order RFC 5229 §3.2 takes the first match in), with the step count and the
  // clock checked between slices, so maxRunMs holds inside one test too.
  for (const v of values) {
    const per = Math.max(1, Math.floor(SLICE_WORK / Math.max(1, v.length)));
    for (let i = 0; i < keys.length; i += per) {
      const slice = keys.slice(i, i + per);
      st.step(t.line, Math.ceil((v.length * slice.length) / SLICE_WORK) * 64);
      if (matchValues([v], slice, comparator, t.match, onCapture)) return true;
    }
  }
  return false;
}

/** Characters × keys one matcher call may compare before the step count and clock are looked at again. */
const SLICE_WORK = 4 * 1024 * 1024;

/**
 * RFC 5260 §6 :index n [:last]: only the nth field (counted from the end with
 * :last) of the fields of all the names given, taken name by name in the
 * order listed (Pigeonhole counts over that list).
 */
function indexed(t: SieveTest, fields: ViewField[]): ViewField[] {
  const n = tagNumber(t, "index");
  if (n === undefined) return fields;
  if (n < 1 || n > fields.length) return [];
  return [t.tags.last ? fields[fields.length - n] : fields[n - 1]];
}

function headerFieldsOf(st: RunState, t: SieveTest, names: readonly string[]): ViewField[] {
  const out: ViewField[] = [];
  for (const name of names) for (const f of st.view.named(name)) out.push(f);
  return indexed(t, out);
}

interface AddrParts {
  local: string | null;
  domain: string | null;
}

/** RFC 5228 §2.7.4 and RFC 5233 §4: one address part, or null when the address has none (never matches). */
function addressPart(t: SieveTest, a: AddrParts, whole: string): string | null {
  switch (t.addressPart ?? "all") {
    case "all":
      return whole;
    case "localpart":
      return a.local;
    case "domain":
      return a.domain;
    case "user": {
      if (a.local === null) return null;
      const sep = a.local.indexOf(SUBADDRESS_SEPARATOR);
      return sep < 0 ? a.local : a.local.slice(0, sep);
    }
    case "detail": {
      // no separator: the address matches no key at all (RFC 5233 §4); "user+" has the empty detail
      if (a.local === null) return null;
      const sep = a.local.indexOf(SUBADDRESS_SEPARATOR);
      return sep < 0 ? null : a.local.slice(sep + SUBADDRESS_SEPARATOR.length);
    }
  }
}

function addressValues(st: RunState, t: SieveTest): string[] {
  const out: string[] = [];
  for (const f of headerFieldsOf(st, t, listArg(st, t, 0))) {
    // Group names and ends (RFC 5322 §3.4) and entries without a local part or domain are skipped
    // ("a@x, justlocal" is one address), as Pigeonhole does.
    const valid = MessageView.addresses(f).filter((a) => a.mailbox !== null && a.host !== null && a.mailbox !== MISSING_MAILBOX && a.host !== MISSING_DOMAIN);
    if (valid.length === 0) {
      // No address at all ("undisclosed-recipients:;", "justlocal"): Pigeonhole compares the
      // value as it is for :all and finds no other part.
      const v = MessageView.decoded(f);
      if (v !== "" && (t.addressPart ?? "all") === "all") out.push(v);
      continue;
    }
    for (const a of valid) {
      const local = a.mailbox as string;
      const domain = a.host as string;
      const v = addressPart(t, { local, domain }, `${quoteLocal(local)}@${domain}`);
      if (v !== null) out.push(v);
      if (out.length >= 10_000) return out;
    }
  }
  return out;
}

// RFC 5322 §3.2.3 dot-atom (RFC 6532 §3.2: non-ASCII is atext too)
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+(?:\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+)*$/;

/** A local part as an address writes it: a quoted-string unless it is a dot-atom (`"a@b"@c.org`, as Pigeonhole gives :all). */
export function quoteLocal(local: string): string {
  return DOT_ATOM.test(local) ? local : `"${local.replace(/["\\]/g, "\\$&")}"`;
}

/** An SMTP path split at its last "@" (RFC 5321 §4.1.2). */
function splitPath(p: string): AddrParts {
  const at = p.lastIndexOf("@");
  return at < 0 ? { local: p, domain: null } : { local: p.slice(0, at), domain: p.slice(at + 1) };
}

function envelopeValues(st: RunState, t: SieveTest): string[] {
  const env = st.input.envelope;
  const out: string[] = [];
  for (const part of listArg(st, t, 0)) {
    const p = part.toLowerCase();
    const path = p === "from" ? env.from : p === "to" ? env.to : p === "auth" ? (env.auth ?? null) : null;
    if (path === null || path === undefined) continue;
    if (path === "") {
      // RFC 5228 §5.4: the null reverse-path compares as the empty string, whatever the
      // address part (Pigeonhole gives "" for :localpart, :domain, :user and :detail too)
      out.push("");
      continue;
    }
    const v = addressPart(t, splitPath(path), path);
    if (v !== null) out.push(v);
  }
  return out;
}

function sizeTest(st: RunState, t: SieveTest): boolean {
  // RFC 5228 §5.9: the message size in octets, strictly over / under
  const size = st.input.message.length;
  const over = tagNumber(t, "over");
  if (over !== undefined) return size > over;
  const under = tagNumber(t, "under");
  if (under !== undefined) return size < under;
  throw new SieveRuntimeError(t.line, "size needs :over or :under");
}

function bodyTestValues(st: RunState, t: SieveTest): string[] {
  const types = tagList(st, t, "content");
  const transform: BodyTransform = t.tags.raw ? { kind: "raw" } : types ? { kind: "content", types } : { kind: "text" };
  const key = JSON.stringify(transform);
  let values = st.bodyCache.get(key);
  if (!values) {
    st.mimeRoot ??= parseMime(st.input.message).root;
    values = bodyValues(st.input.message, transform, st.limits.maxBodyBytes, st.mimeRoot);
    st.bodyCache.set(key, values);
  }
  return values;
}

function stringTest(st: RunState, t: SieveTest): boolean {
  let values = listArg(st, t, 0);
  // RFC 5229 §5: with :count, empty strings are not counted
  if (t.match?.type === "count") values = values.filter((v) => v !== "");
  return match(st, t, values, listArg(st, t, 1));
}

function hasflagTest(st: RunState, t: SieveTest): boolean {
  // RFC 5232 §4: [variable-list] list-of-flags; without a variable list the internal variable
  let lists: string[];
  if (t.args.length >= 2) lists = rawList(t.args[0], t).map((name) => st.vars.get(st.expand(name).toLowerCase()) ?? "");
  else lists = [st.flags];
  // Keys are flag lists too: "\\Flagged \\Answered" holds when either flag is set (as Pigeonhole reads them).
  const keys = listArg(st, t, t.args.length - 1);
  return match(st, t, splitFlags(lists), t.match?.type === "count" || t.match?.type === "value" ? keys : splitFlags(keys));
}

function dateTest(st: RunState, t: SieveTest): boolean {
  const name = strArg(st, t, 0);
  const part = strArg(st, t, 1);
  const keys = listArg(st, t, 2);
  const received = name.toLowerCase() === "received";
  const z = tagString(st, t, "zone");
  const values: string[] = [];
  for (const f of indexed(t, st.view.named(name))) {
    const d: ZonedTime | null = headerDate(MessageView.decoded(f), received);
    if (d === null) continue; // RFC 5260 §4: a field without a valid date is skipped
    // RFC 5260 §4.1: :originalzone keeps the field's zone; :zone shows it in that zone; else the local zone
    const zone = t.tags.originalzone ? d.zone : ((z !== undefined ? parseZone(z) : null) ?? st.input.zoneOffsetMinutes);
    const v = datePart({ ms: d.ms, zone }, part);
    if (v !== null) values.push(v);
  }
  return match(st, t, values, keys);
}

async function duplicateTest(st: RunState, t: SieveTest): Promise<boolean> {
  const handle = tagString(st, t, "handle");
  let id: string | null = tagString(st, t, "uniqueid") ?? null;
  if (id === null) {
    // RFC 7352 §3: the value of :header's field, by default Message-ID; absent -> false, nothing recorded
    const f = st.view.named(tagString(st, t, "header") ?? "message-id")[0];
    id = f ? MessageView.decoded(f) : null;
  }
  if (id === null || id === "") return false;
  const key = createHash("sha256")
    .update(JSON.stringify([handle ?? null, id]))
    .digest("hex");
  const known = st.duplicates.get(key);
  if (known !== undefined) return known; // the same answer for the same id within one run
  const seen = await st.input.lookup.duplicateSeen(key);
  st.duplicates.set(key, seen);
  const max = st.limits.duplicateMaxSeconds ?? DUPLICATE_MAX_SECONDS;
  const seconds = Math.max(0, Math.min(tagNumber(t, "seconds") ?? st.limits.duplicateDefaultSeconds ?? DUPLICATE_DEFAULT_SECONDS, max));
  // Record a new id; with :last a seen one is refreshed so its expiry counts from now (RFC 7352 §3).
  if (!seen || t.tags.last) st.actions.push({ type: "duplicate", key, expirySeconds: seconds });
  return seen;
}
