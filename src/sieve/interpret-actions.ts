/**
 * Sieve action commands (RFC 5228 §4 and the extensions'), and how actions
 * combine (§2.10): the implicit keep and what cancels it (§2.10.2), duplicate
 * actions done once (§2.10.3), actions that conflict (RFC 5429 §2.1: reject
 * with anything that delivers; one vacation; one reject), and the limits on
 * actions and redirects.
 */
import { Buffer } from "node:buffer";
import { MISSING_DOMAIN, MISSING_MAILBOX, parseAddressList } from "../../mail/address.ts";
import type { SieveAction, SieveCommand } from "./types.ts";
import { matchValues } from "./match.ts";
import { applySetModifiers } from "./variables.ts";
import { MessageView, type ViewField } from "./message-view.ts";
import { isFieldName } from "./validate.ts";
import { addFlags, removeFlags, setFlags, storableFlags } from "./flags.ts";
import { vacationAction } from "./vacation-params.ts";
import { quoteLocal } from "./interpret-tests.ts";
import { RunState, SieveRuntimeError, listArg, rawString, strArg, tagList, tagNumber } from "./interpret-state.ts";

/**
 * RFC 5293 §6 (trace fields must stay) and Pigeonhole's default protection:
 * a script cannot delete these fields. Adding them is allowed, as in
 * Pigeonhole (an added field goes on top, above the real trace).
 */
const PROTECTED_FIELDS = new Set(["received", "auto-submitted"]);
/** Pigeonhole's sieve_editheader_max_header_size: a longer addheader value is an error. */
const MAX_ADDED_FIELD_BYTES = 2048;

/** Runs one action command; returns false for commands it does not know. */
export async function runAction(st: RunState, cmd: SieveCommand): Promise<boolean> {
  switch (cmd.name) {
    case "keep":
      addStore(st, cmd, "INBOX", { copy: false, create: false });
      return true;
    case "fileinto":
      await fileinto(st, cmd);
      return true;
    case "redirect":
      redirect(st, cmd);
      return true;
    case "discard":
      // RFC 5228 §4.4: cancels the implicit keep; an explicit keep still stores
      addAction(st, cmd, { type: "discard" });
      st.implicitKeep = false;
      return true;
    case "reject":
    case "ereject":
      addAction(st, cmd, { type: "reject", reason: strArg(st, cmd, 0), extended: cmd.name === "ereject" });
      st.implicitKeep = false; // RFC 5429 §2.1
      return true;
    case "vacation":
      // RFC 5230 §4: vacation does not cancel the implicit keep
      addAction(st, cmd, vacationAction(st, cmd));
      return true;
    case "set": {
      // RFC 5229 §4: the name is not expanded; the value is, then the modifiers apply
      const name = rawString(cmd.args[0], cmd);
      st.setVar(name, applySetModifiers(strArg(st, cmd, 1), cmd.tags), cmd.line);
      return true;
    }
    case "setflag":
    case "addflag":
    case "removeflag":
      flagCommand(st, cmd);
      return true;
    case "addheader":
      addHeader(st, cmd);
      return true;
    case "deleteheader":
      deleteHeader(st, cmd);
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------- combining actions

type Store = Extract<SieveAction, { type: "keep" | "fileinto" }>;

function isStore(a: SieveAction): a is Store {
  return a.type === "keep" || a.type === "fileinto";
}

/** RFC 3501 §5.1: INBOX is case-insensitive; other names are compared as written. */
function storeTarget(a: Store): string {
  return a.type === "keep" ? "INBOX" : a.mailbox.toUpperCase() === "INBOX" ? "INBOX" : a.mailbox;
}

/** Actions that deliver the message somewhere (Pigeonhole's "tries to deliver"). */
function delivers(a: SieveAction): boolean {
  return a.type === "keep" || a.type === "fileinto" || a.type === "redirect";
}

/** Actions that answer the sender (Pigeonhole's "sends a response"). */
function responds(a: SieveAction): boolean {
  return a.type === "reject" || a.type === "vacation";
}

/**
 * Adds an action after the conflict checks (RFC 5429 §2.1: reject/ereject
 * MUST NOT be combined with actions that deliver the message, and a
 * vacation response together with a rejection is an error in Pigeonhole;
 * only one reject and one vacation per run) and the action limit.
 */
function addAction(st: RunState, cmd: SieveCommand, a: SieveAction): void {
  for (const old of st.actions) {
    if (old.type === "reject" && a.type === "reject") throw new SieveRuntimeError(cmd.line, "only one reject/ereject action is allowed");
    if (old.type === "vacation" && a.type === "vacation") throw new SieveRuntimeError(cmd.line, "only one vacation action is allowed");
    if ((old.type === "reject" && (delivers(a) || responds(a))) || (a.type === "reject" && (delivers(old) || responds(old)))) {
      throw new SieveRuntimeError(cmd.line, `the ${a.type === "reject" ? cmd.name : a.type} action conflicts with the earlier ${old.type} action`);
    }
    if (old.type === "discard" && a.type === "discard") return; // RFC 5228 §2.10.3: once is enough
  }
  const counted = st.actions.filter((x) => x.type !== "duplicate").length;
  if (counted >= st.limits.maxActions) throw new SieveRuntimeError(cmd.line, `more than ${st.limits.maxActions} actions`);
  st.actions.push(a);
}

/** The message as it is now, for an action recorded after editheader changed it (RFC 5293 §7). */
function snapshot(st: RunState): Uint8Array | undefined {
  return st.view.edited ? st.view.bytes() : undefined;
}

/**
 * RFC 5232 §5: :flags given -> those flags; else, with imap4flags, the
 * internal variable's value now; else none.
 */
function actionFlags(st: RunState, cmd: SieveCommand): string[] {
  const given = tagList(st, cmd, "flags");
  if (given) return storableFlags(setFlags(given));
  return st.imap4flags ? storableFlags(st.flags) : [];
}

function addStore(st: RunState, cmd: SieveCommand, mailbox: string, opts: { copy: boolean; create: boolean }): void {
  const flags = actionFlags(st, cmd);
  const message = snapshot(st);
  const a: Store =
    cmd.name === "keep"
      ? { type: "keep", flags, ...(message ? { message } : {}) }
      : { type: "fileinto", mailbox, create: opts.create, copy: opts.copy, flags, ...(message ? { message } : {}) };
  const target = storeTarget(a);
  // RFC 5228 §2.10.3: storing into the same mailbox twice is one store (keep and fileinto "INBOX" too).
  const dup = st.actions.find((x): x is Store => isStore(x) && storeTarget(x) === target);
  if (dup) {
    for (const old of st.actions) if (old.type === "reject") throw new SieveRuntimeError(cmd.line, `the ${cmd.name} action conflicts with the earlier reject action`);
    // Pigeonhole merges the two: the later flags replace the earlier ones. The duplicate is
    // otherwise dropped, so it does not cancel the implicit keep (`fileinto :copy "a"; fileinto "a";`
    // still keeps, as Pigeonhole does).
    dup.flags = flags;
    if (dup.type === "fileinto" && a.type === "fileinto") dup.create ||= a.create;
    return;
  }
  addAction(st, cmd, a);
  // RFC 3894 §3: with :copy the implicit keep stays
  if (!opts.copy) st.implicitKeep = false;
}

async function fileinto(st: RunState, cmd: SieveCommand): Promise<void> {
  let mailbox = strArg(st, cmd, 0);
  // eslint-disable-next-line no-control-regex
  if (mailbox === "" || /[\x00-\x1f\x7f]/.test(mailbox) || mailbox.length > 1024) {
    throw new SieveRuntimeError(cmd.line, `fileinto: "${mailbox.slice(0, 100)}" is not a valid mailbox name`);
  }
  if (mailbox.toUpperCase() === "INBOX") mailbox = "INBOX";
  const create = cmd.tags.create === true;
  const copy = cmd.tags.copy === true;
  // RFC 5490 §3.2: without :create, filing into a mailbox that does not exist is an error (the message is kept)
  if (!create && mailbox !== "INBOX" && !(await st.input.lookup.mailboxExists(mailbox))) {
    throw new SieveRuntimeError(cmd.line, `fileinto: mailbox "${mailbox}" does not exist`);
  }
  addStore(st, cmd, mailbox, { copy, create });
}

function redirect(st: RunState, cmd: SieveCommand): void {
  const given = strArg(st, cmd, 0);
  const address = plainAddress(given);
  // RFC 5228 §4.2: the argument must be a valid address
  if (address === null) throw new SieveRuntimeError(cmd.line, `redirect: "${given.slice(0, 200)}" is not a valid address`);
  const copy = cmd.tags.copy === true;
  // RFC 5228 §4.2: the same message is never redirected to the same address twice
  const dup = st.actions.find((x) => x.type === "redirect" && sameAddress(x.address, address));
  if (dup) {
    // dropped as a duplicate (Pigeonhole): it neither counts nor cancels the implicit keep
    for (const old of st.actions) if (old.type === "reject") throw new SieveRuntimeError(cmd.line, "the redirect action conflicts with the earlier reject action");
    return;
  }
  if (st.redirects >= st.limits.maxRedirects) throw new SieveRuntimeError(cmd.line, `more than ${st.limits.maxRedirects} redirects`);
  const message = snapshot(st);
  addAction(st, cmd, { type: "redirect", address, copy, ...(message ? { message } : {}) });
  st.redirects++;
  if (!copy) st.implicitKeep = false; // RFC 3894 §3
}

/** RFC 5321 §2.4: the local part is case-sensitive, the domain is not (Pigeonhole compares them so too). */
function sameAddress(a: string, b: string): boolean {
  const i = a.lastIndexOf("@");
  const j = b.lastIndexOf("@");
  return a.slice(0, i) === b.slice(0, j) && a.slice(i + 1).toLowerCase() === b.slice(j + 1).toLowerCase();
}

/** "local@domain" of an addr-spec (RFC 5322 §3.4.1; no display name, as the compiler checks constant ones), or null. */
function plainAddress(s: string): string | null {
  if (/[<>]/.test(s)) return null;
  const list = parseAddressList(s).filter((a) => a.host !== null || a.mailbox !== null);
  if (list.length !== 1) return null;
  const a = list[0];
  if (a.name !== null) return null;
  if (a.mailbox === null || a.host === null || a.mailbox === MISSING_MAILBOX || a.host === MISSING_DOMAIN) return null;
  return `${quoteLocal(a.mailbox)}@${a.host}`;
}

// ---------------------------------------------------------------- imap4flags

function flagCommand(st: RunState, cmd: SieveCommand): void {
  // RFC 5232 §4: [<variablename>] <list-of-flags>
  const named = cmd.args.length >= 2;
  const varName = named ? rawString(cmd.args[0], cmd) : null;
  const list = listArg(st, cmd, cmd.args.length - 1);
  const current = varName === null ? st.flags : (st.vars.get(varName.toLowerCase()) ?? "");
  const next = cmd.name === "setflag" ? setFlags(list) : cmd.name === "addflag" ? addFlags(current, list) : removeFlags(current, list);
  if (next.length > st.limits.maxVariableBytes) {
    throw new SieveRuntimeError(cmd.line, `${cmd.name}: the flag list grew past ${st.limits.maxVariableBytes} octets`);
  }
  if (varName === null) st.flags = next;
  else st.setVar(varName, next, cmd.line);
}

// ---------------------------------------------------------------- editheader

function addHeader(st: RunState, cmd: SieveCommand): void {
  const name = strArg(st, cmd, 0).trim();
  if (!isFieldName(name)) throw new SieveRuntimeError(cmd.line, `addheader: "${name.slice(0, 100)}" is not a valid header field name`);
  // RFC 5293 §4: folding in the value is undone; other line breaks and NUL make it invalid
  const value = strArg(st, cmd, 1).replace(/\r?\n(?=[ \t])/g, "");
  // eslint-disable-next-line no-control-regex
  if (/[\r\n\x00]/.test(value)) throw new SieveRuntimeError(cmd.line, `addheader: the value of "${name}" holds a line break`);
  if (Buffer.byteLength(value, "utf8") + name.length + 2 > MAX_ADDED_FIELD_BYTES) {
    throw new SieveRuntimeError(cmd.line, `addheader: the "${name}" field is longer than ${MAX_ADDED_FIELD_BYTES} octets`);
  }
  st.view.add(name, value, cmd.tags.last === true);
}

function deleteHeader(st: RunState, cmd: SieveCommand): void {
  const name = strArg(st, cmd, 0).trim();
  if (!isFieldName(name)) throw new SieveRuntimeError(cmd.line, `deleteheader: "${name.slice(0, 100)}" is not a valid header field name`);
  if (PROTECTED_FIELDS.has(name.toLowerCase())) return; // refused quietly, as Pigeonhole does
  let fields: ViewField[] = st.view.named(name);
  // RFC 5293 §5: :index n [:last] picks one occurrence, counted from the top or the bottom
  const n = tagNumber(cmd, "index");
  if (n !== undefined) fields = n >= 1 && n <= fields.length ? [cmd.tags.last ? fields[fields.length - n] : fields[n - 1]] : [];
  if (cmd.args.length >= 2) {
    const patterns = listArg(st, cmd, 1);
    const comparator = cmd.tags.comparator;
    const matchType = matchTypeOf(cmd);
    st.step(cmd.line, Math.floor((fields.length * patterns.length) / 16));
    fields = fields.filter((f) => matchValues([MessageView.decoded(f)], patterns, typeof comparator === "string" ? comparator : "i;ascii-casemap", matchType));
  }
  st.view.remove(new Set(fields));
}

/** deleteheader carries its match type as tags (validate.ts): the SieveTest form of it. */
function matchTypeOf(cmd: SieveCommand): { type: "is" | "contains" | "matches" | "value" | "count"; relation?: "gt" | "ge" | "lt" | "le" | "eq" | "ne" } {
  for (const type of ["is", "contains", "matches"] as const) if (cmd.tags[type]) return { type };
  for (const type of ["value", "count"] as const) {
    const rel = cmd.tags[type];
    if (typeof rel === "string") return { type, relation: rel.toLowerCase() as "gt" };
  }
  return { type: "is" };
}
