/**
 * MAIL and RCPT: the envelope, sender rules for submission and the relay
 * rules for everyone else.
 *
 * Relay policy (an open relay is the one thing an MX must never be): a client
 * that has not authenticated may only address local recipients, and any
 * address that asks us to route the message somewhere else is refused with
 * 554 5.7.1, as Postfix's reject_unauth_destination does with
 * allow_untrusted_routing=no:
 *  - `user%host@local` (the "percent hack") and `host!user@local` (UUCP bang
 *    paths): routing characters in the local part;
 *  - `"user@host"@local`: a quoted local part hiding an address;
 *  - `<@relay:user@host>`: an RFC 5321 Appendix C source route. The RFC asks
 *    servers to ignore routes, but a route naming other hosts is a routing
 *    request nonetheless, so an unauthenticated one is refused outright;
 *  - `user@host.` and `user@a@b`: trailing dots / extra at-signs;
 *  - `user@[1.2.3.4]`: an address literal that is not one of our addresses.
 */
import { domainToASCII } from "node:url";
import type { Account } from "../../storage/api.ts";
import { resolveRecipients } from "../../src/delivery/pipeline.ts";
import { parseMailArg, parseRcptArg, reply, type Mailbox, type ParseError, type Reply } from "./parser.ts";
import type { SmtpSession } from "./session.ts";

export interface AcceptedRecipient {
  /** The address as accepted (domain in A-label form, lower-case). */
  address: string;
  /** Local accounts it expands to (aliases, catch-all, one-to-many). */
  accounts: Account[];
  /** Remote addresses it forwards to, or itself when remote (submission). */
  forward: string[];
  notify: string[] | null;
  orcpt: string | null;
}

const relayDenied = () => reply(554, "5.7.1", "Relay access denied");

/** RFC 5321 §4.1.2: a local part that needs quoting is written as a Quoted-string. */
export function formatLocalPart(local: string): string {
  if (/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+(\.[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uffff]+)*$/.test(local)) return local;
  return `"${local.replace(/(["\\])/g, "\\$1")}"`;
}

/** Lower-cased address with the domain as an A-label (what the store keys on). */
export function normalizeMailbox(mb: Mailbox): string | null {
  if (mb.domainKind !== "domain") return `${formatLocalPart(mb.local)}@[${mb.domainKind === "ipv6" ? "IPv6:" : ""}${mb.domain}]`.toLowerCase();
  const ascii = domainToASCII(mb.domain.toLowerCase());
  if (!ascii) return null;
  return `${formatLocalPart(mb.local).toLowerCase()}@${ascii}`;
}

function parseErrorReply(e: ParseError): Reply {
  return reply(e.code, e.enhanced, e.text);
}

/**
 * RFC 3461 §4: ENVID and ORCPT are xtext, and the decoded value is copied
 * into the delivery-status part of a report (RFC 3464 §2.2.1
 * Original-Envelope-Id, §2.3.1 Original-Recipient). A value that decodes to
 * a control character (CR, LF, NUL, any other C0, DEL) would let the client
 * write its own report lines (`Action: failed`, `X-Injected: yes`), so it is
 * refused like malformed xtext (the parser already refuses that): 501 5.5.4.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x1f\x7f]/;

/** RFC 5321 §4.1.1.2. */
export async function handleMail(s: SmtpSession, arg: string): Promise<Reply> {
  if (!s.helo) return reply(503, "5.5.1", "Error: send HELO/EHLO first");
  if (s.tx) return reply(503, "5.5.1", "Error: nested MAIL command");
  if (s.mode === "submission") {
    // RFC 3207 §4 / RFC 8314: no submission over cleartext; RFC 4954 §6: authentication required.
    if (!s.secure) return reply(530, "5.7.0", "Must issue a STARTTLS command first");
    if (!s.account) return reply(530, "5.7.0", "Authentication required");
  }
  const cmd = parseMailArg(arg);
  if ("code" in cmd) return parseErrorReply(cmd);
  if (cmd.envid !== null && CONTROL.test(cmd.envid)) return reply(501, "5.5.4", "Bad ENVID value: control characters are not allowed");
  if (!s.esmtp && (cmd.size !== null || cmd.body || cmd.smtputf8 || cmd.ret || cmd.envid || cmd.auth)) {
    // RFC 5321 §4.1.1.2: parameters need EHLO
    return reply(555, "5.5.4", "Parameters not allowed after HELO");
  }
  if (cmd.size !== null && cmd.size > s.maxSize) return reply(552, "5.3.4", "Message size exceeds fixed maximum message size");
  const mb = cmd.path.mailbox;
  if (mb?.utf8 && !cmd.smtputf8) return reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
  let mailFrom = "";
  if (mb) {
    const norm = normalizeMailbox(mb);
    if (!norm) return reply(501, "5.1.7", "Bad sender address syntax");
    mailFrom = norm;
  }
  if (s.mode === "submission") {
    // RFC 6409 §6.1 (the server may enforce the sender): only the user's own addresses and aliases.
    const allowed = await sendAsSet(s);
    if (!mailFrom || !allowed.has(mailFrom)) return reply(553, "5.7.1", `Sender address rejected: not owned by user ${s.account!.email}`);
  }
  s.tx = {
    mailFrom,
    size: cmd.size,
    body: cmd.body,
    smtputf8: cmd.smtputf8,
    ret: cmd.ret,
    envid: cmd.envid,
    recipients: [],
    bdat: null,
    bdatError: null,
  };
  return reply(250, "2.1.0", "Ok");
}

export async function sendAsSet(s: SmtpSession): Promise<Set<string>> {
  const list = await s.ctx.store.sendAsAddresses(s.account!.id);
  return new Set([s.account!.email, ...list].map((a) => a.toLowerCase()));
}

/**
 * The RCPT-time quota check (RFC 5321 §4.2.5, RFC 3463 4.2.2) on the account
 * row the resolver read in this same RCPT command (MailStore.resolveRecipient
 * returns whole rows, used and quota bytes included): reading that row a
 * second time (MailStore.checkQuota) cost one more SQL statement per
 * recipient and answered the same question from a snapshot no fresher. The
 * check is advisory either way: the store enforces the quota atomically with
 * the real size when the message commits (QuotaExceededError, 452 at DATA).
 */
export function hasRoomFor(a: Pick<Account, "quotaBytes" | "usedBytes">, size: number): boolean {
  return a.quotaBytes === null || a.usedBytes + size <= a.quotaBytes;
}

/** RFC 5321 §4.1.1.3. */
export async function handleRcpt(s: SmtpSession, arg: string): Promise<Reply> {
  const tx = s.tx;
  if (!tx) return reply(503, "5.5.1", "Error: need MAIL command");
  if (tx.bdat) return reply(503, "5.5.1", "Error: RCPT after BDAT");
  const authed = s.account !== null;
  const cmd = parseRcptArg(arg);
  if ("code" in cmd) {
    if (!authed && (cmd.reason === "routing" || cmd.reason === "trailingdot")) return relayDenied();
    if (!authed && cmd.reason === "nodomain" && /[!%@]/.test(arg)) return relayDenied();
    return parseErrorReply(cmd);
  }
  if (!s.esmtp && (cmd.notify || cmd.orcpt)) return reply(555, "5.5.4", "Parameters not allowed after HELO");
  if (cmd.orcpt !== null && CONTROL.test(cmd.orcpt)) return reply(501, "5.5.4", "Bad ORCPT value: control characters are not allowed");
  // RFC 5321 §4.5.3.1.8: at least 100 must be accepted; beyond our limit, 452 asks the client to send the rest later.
  if (tx.recipients.length >= s.ctx.config.smtp.maxRecipients) return reply(452, "4.5.3", "Error: too many recipients");

  const rcpt = await resolveForwardPath(s, cmd.path.mailbox, cmd.path.route, !!cmd.path.postmaster);
  if ("code" in rcpt) return rcpt;
  if (tx.recipients.some((r) => r.address === rcpt.address)) return reply(250, "2.1.5", "Ok (duplicate recipient)");

  // RFC 5321 §4.2.5 / RFC 3463 4.2.2: a full mailbox is a temporary, per-recipient failure.
  const size = Math.max(tx.size ?? 0, 1);
  for (const a of rcpt.accounts) {
    if (!hasRoomFor(a, size)) return reply(452, "4.2.2", `Mailbox full: ${rcpt.address}`);
  }
  // RFC 6647 greylisting (spam.greylisting): an unknown (network, sender, recipient) triplet from outside waits once.
  const cfgSpam = s.ctx.config.spam;
  if (!authed && s.mode === "mx" && cfgSpam.enabled && cfgSpam.greylisting && rcpt.accounts.length) {
    const g = await s.ctx.spam.greylist({ remoteIp: s.remoteIp, mailFrom: tx.mailFrom, recipient: rcpt.address, accountId: rcpt.accounts[0]!.id });
    if (g === "defer") return reply(451, "4.7.1", `Greylisted: this sender is new here, please retry in ${Math.max(cfgSpam.greylistDelaySeconds, 1)} seconds (RFC 6647)`);
  }
  rcpt.notify = cmd.notify;
  rcpt.orcpt = cmd.orcpt;
  tx.recipients.push(rcpt);
  return reply(250, "2.1.5", "Ok");
}

async function resolveForwardPath(s: SmtpSession, mb: Mailbox | null, route: string[], postmaster: boolean): Promise<AcceptedRecipient | Reply> {
  const authed = s.account !== null;
  const store = s.ctx.store;
  const tx = s.tx!;
  if (postmaster || (mb && mb.domainKind !== "domain" && mb.local.toLowerCase() === "postmaster" && isOurLiteral(s, mb))) {
    // RFC 5321 §4.5.1: <Postmaster> must be accepted.
    return resolvePostmaster(s);
  }
  if (!mb) return reply(501, "5.1.3", "Bad recipient address syntax");
  if (mb.utf8 && !tx.smtputf8) return reply(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
  if (route.length > 0 && !authed) return relayDenied();
  if (mb.domainKind !== "domain") {
    if (isOurLiteral(s, mb)) return reply(550, "5.1.1", "Recipient address rejected: use a domain name, not an address literal");
    if (!authed) return relayDenied();
    if (mb.domainKind === "general") return reply(553, "5.1.2", "Unsupported address literal");
    const addr = normalizeMailbox(mb)!;
    return { address: addr, accounts: [], forward: [addr], notify: null, orcpt: null };
  }
  // Routing characters in the local part: percent hack, bang path, quoted "@".
  if (!authed && /[%!@]/.test(mb.local)) return relayDenied();
  const address = normalizeMailbox(mb);
  if (!address) return reply(501, "5.1.2", "Bad recipient domain");
  // The delivery pipeline's resolver (aliases, catch-alls, one-to-many, forwards; each account once).
  // (and a bounce to a Sieve redirect's SRS sender, forwarded to the original sender when it verifies)
  const [res] = (await resolveRecipients(store, [address], s.ctx.deliveryFilter)).recipients;
  if (res?.remote) {
    if (!authed) return relayDenied();
    return { address, accounts: [], forward: [address], notify: null, orcpt: null };
  }
  if (!res) return reply(550, "5.1.1", `Recipient address rejected: ${address}: user unknown`);
  return { address, accounts: [...res.accounts], forward: [...res.forward], notify: null, orcpt: null };
}

function isOurLiteral(s: SmtpSession, mb: Mailbox): boolean {
  if (mb.domainKind === "ipv4") return mb.domain === s.localIp;
  if (mb.domainKind === "ipv6") return mb.domain === s.localIp.toLowerCase();
  return false;
}

async function resolvePostmaster(s: SmtpSession): Promise<AcceptedRecipient | Reply> {
  const store = s.ctx.store;
  const host = s.hostname.toLowerCase();
  const candidates: string[] = [];
  // the host name's own domain, its parent domain, then every local domain
  candidates.push(host, host.slice(host.indexOf(".") + 1));
  for (const d of await store.listDomains()) candidates.push(d.name);
  for (const d of candidates) {
    if (!d || !(await store.isLocalDomain(d))) continue;
    const res = await store.resolveRecipient(`postmaster@${d}`);
    if (res && res !== "remote" && (res.accounts.length || res.forward.length)) {
      return { address: `postmaster@${d}`, accounts: res.accounts, forward: res.forward, notify: null, orcpt: null };
    }
  }
  return reply(550, "5.1.1", "Recipient address rejected: no postmaster mailbox configured");
}
