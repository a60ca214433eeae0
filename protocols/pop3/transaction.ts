/**
 * TRANSACTION state commands (RFC 1939 §5, §7): STAT, LIST, UIDL, RETR, TOP,
 * DELE, RSET, NOOP, and QUIT's UPDATE step (RFC 1939 §6).
 */
import { parseNumber, type Command } from "./parser.ts";
import type { Pop3Session } from "./session.ts";
import type { DropMessage, Maildrop } from "./maildrop.ts";
import { WireEncoder, encodeCrlfMessage } from "./wire.ts";
import { WHOLE_READ_LIMIT } from "./maildrop.ts";
import { concatChunks } from "../../src/bytes.ts";
import { scheduleReadAhead, takeReadAhead } from "./readahead.ts";

type Handler = (s: Pop3Session, cmd: Command) => Promise<void> | void;

const enc = new TextEncoder();


function drop(s: Pop3Session): Maildrop {
  return s.maildrop!;
}

/**
 * Resolves a message-number argument. RFC 1939 §5: a number that is out of
 * range or marked deleted gets -ERR (and is not a protocol error of the
 * client's: the session goes on without counting it as a bad command).
 */
function target(s: Pop3Session, arg: string | undefined): DropMessage | null {
  const n = parseNumber(arg);
  if (n === null) {
    s.bad("-ERR Invalid message number");
    return null;
  }
  const m = drop(s).get(n);
  if (!m) {
    s.send("-ERR No such message");
    return null;
  }
  if (m.deleted) {
    s.send(`-ERR Message ${n} already deleted`);
    return null;
  }
  return m;
}

function stat(s: Pop3Session, cmd: Command): void {
  if (cmd.args.length) return s.bad("-ERR STAT takes no arguments");
  const st = drop(s).stat();
  // RFC 1939 §5: exactly "+OK nn mm".
  s.send(`+OK ${st.count} ${st.size}`);
}

async function list(s: Pop3Session, cmd: Command): Promise<void> {
  const d = drop(s);
  if (cmd.args.length > 1) return s.bad("-ERR Syntax: LIST [msg]");
  if (cmd.args.length === 1) {
    const m = target(s, cmd.args[0]);
    if (m) s.send(`+OK ${parseNumber(cmd.args[0])} ${m.size}`);
    return;
  }
  const lines: string[] = [];
  d.messages.forEach((m, i) => {
    if (!m.deleted) lines.push(`${i + 1} ${m.size}`);
  });
  const st = d.stat();
  await s.sendMulti(`+OK ${st.count} messages (${st.size} octets)`, lines);
}

async function uidl(s: Pop3Session, cmd: Command): Promise<void> {
  const d = drop(s);
  if (cmd.args.length > 1) return s.bad("-ERR Syntax: UIDL [msg]");
  if (cmd.args.length === 1) {
    const m = target(s, cmd.args[0]);
    if (m) s.send(`+OK ${parseNumber(cmd.args[0])} ${d.uidl(m)}`);
    return;
  }
  const lines: string[] = [];
  d.messages.forEach((m, i) => {
    if (!m.deleted) lines.push(`${i + 1} ${d.uidl(m)}`);
  });
  await s.sendMulti("+OK Unique-ID listing follows", lines);
}

async function retr(s: Pop3Session, cmd: Command): Promise<void> {
  if (cmd.args.length !== 1) return s.bad("-ERR Syntax: RETR msg");
  const m = target(s, cmd.args[0]);
  if (!m) return;
  const ok = m.storedSize <= WHOLE_READ_LIMIT ? await sendWhole(s, m) : await sendMessage(s, m, retrOk(m));
  if (ok) m.retrieved = true;
}

async function top(s: Pop3Session, cmd: Command): Promise<void> {
  if (cmd.args.length !== 2) return s.bad("-ERR Syntax: TOP msg lines");
  const lines = parseNumber(cmd.args[1]);
  if (lines === null) return s.bad("-ERR Invalid line count");
  const m = target(s, cmd.args[0]);
  if (!m) return;
  // TOP does not count as retrieval: no \Seen, no EXPIRE 0 removal.
  await sendMessage(s, m, "+OK Top of message follows", lines);
}

/**
 * Streams a message as a multi-line response: CRLF line ends, dot-stuffing,
 * ".CRLF" terminator (RFC 1939 §3), waiting for the socket to drain between
 * chunks so a slow client never makes us buffer a whole large message.
 * Returns true when the whole response went out.
 */
async function sendMessage(s: Pop3Session, m: DropMessage, okLine: string, bodyLines?: number): Promise<boolean> {
  const encoder = new WireEncoder(bodyLines);
  const it = drop(s).chunks(m)[Symbol.asyncIterator]();
  let first: IteratorResult<Uint8Array>;
  try {
    // Read before answering, so a message that vanished (expunged over IMAP
    // since login) gets a clean -ERR instead of a broken response.
    first = await it.next();
  } catch (err) {
    s.log.warn("pop3 message unreadable", { uid: m.uid, err });
    if (!s.closed) s.send(unreadableReply(err));
    return false;
  }
  if (s.closed) {
    await it.return?.(undefined);
    return false;
  }
  const head = enc.encode(okLine + "\r\n");
  if (first.done) {
    s.io.write(concat(head, encoder.finish()));
    return true;
  }
  const body = encoder.push(first.value);
  let next: IteratorResult<Uint8Array> | null = null;
  if (!encoder.done) {
    try {
      next = await it.next();
    } catch (err) {
      return abort(s, m, err);
    }
  } else await it.return?.(undefined);
  if (next === null || next.done) {
    // The common case (whole message in one read): one write, one syscall.
    if (!s.io.write(concat(head, body, encoder.finish()))) await s.io.drain();
    return !s.closed;
  }
  let ok = s.io.write(concat(head, body));
  let chunk: IteratorResult<Uint8Array> = next;
  try {
    while (!chunk.done) {
      if (!ok) await s.io.drain();
      if (s.closed) {
        await it.return?.(undefined);
        return false;
      }
      const out = encoder.push(chunk.value);
      ok = out.length === 0 ? true : s.io.write(out);
      if (encoder.done) {
        await it.return?.(undefined);
        break;
      }
      chunk = await it.next();
    }
  } catch (err) {
    return abort(s, m, err);
  }
  if (!s.io.write(encoder.finish())) await s.io.drain();
  return !s.closed;
}

const retrOk = (m: DropMessage) => `+OK ${m.size} octets`;

/** The complete RETR response for a message read whole: status line, wire form, terminator. */
function retrResponse(m: DropMessage, raw: Uint8Array): Uint8Array {
  const head = enc.encode(retrOk(m) + "\r\n");
  if (m.measured && raw.length > 0 && m.size === raw.length) {
    // Already CRLF throughout (the wire size equals the stored size): only stuffing remains.
    return encodeCrlfMessage(head, raw);
  }
  const encoder = new WireEncoder();
  return concat(head, encoder.push(raw), encoder.finish());
}

/**
 * RETR of a small message: one read, one write. The response may already be
 * prepared (read-ahead, see readahead.ts); after writing, the next message's
 * response is prepared while the client reads this one.
 */
async function sendWhole(s: Pop3Session, m: DropMessage): Promise<boolean> {
  let out = takeReadAhead(s, m);
  if (!out) {
    try {
      out = retrResponse(m, await drop(s).readWhole(m));
    } catch (err) {
      s.log.warn("pop3 message unreadable", { uid: m.uid, err });
      if (!s.closed) s.send(unreadableReply(err));
      return false;
    }
  }
  if (s.closed) return false;
  // A client that cannot take the response at once gains nothing from read-ahead.
  if (s.io.write(out)) scheduleReadAhead(s, m, retrResponse);
  else await s.io.drain();
  return !s.closed;
}

/**
 * The -ERR for a message that cannot be read: expunged meanwhile (temporary,
 * RFC 3206 §4 SYS/TEMP), or its stored content is gone (blob file missing:
 * SYS/PERM, retrying will not help; the session goes on either way).
 */
function unreadableReply(err: unknown): string {
  if ((err as Error | null)?.name === "BlobNotFoundError") return "-ERR [SYS/PERM] Message content is missing on the server (damaged store); other messages are available";
  return "-ERR [SYS/TEMP] Message is no longer available";
}

/** A read failed mid-response: the response cannot be completed honestly, so hang up (no UPDATE). */
function abort(s: Pop3Session, m: DropMessage, err: unknown): false {
  s.log.error("pop3 message read failed mid-response", { uid: m.uid, err });
  s.end();
  return false;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return concatChunks(parts);
}

function dele(s: Pop3Session, cmd: Command): void {
  if (cmd.args.length !== 1) return s.bad("-ERR Syntax: DELE msg");
  const m = target(s, cmd.args[0]);
  if (!m) return;
  // RFC 1939 §5: only marked now; removed in the UPDATE state.
  m.deleted = true;
  s.send(`+OK Message ${cmd.args[0]} marked for deletion`);
}

function rset(s: Pop3Session, cmd: Command): void {
  if (cmd.args.length) return s.bad("-ERR RSET takes no arguments");
  const d = drop(s);
  d.reset();
  const st = d.stat();
  s.send(`+OK Maildrop has ${st.count} messages (${st.size} octets)`);
}

function noop(s: Pop3Session, cmd: Command): void {
  if (cmd.args.length) return s.bad("-ERR NOOP takes no arguments");
  s.send("+OK");
}

/** RFC 1939 §6 UPDATE: apply the deletions, then answer. Only a successful commit says +OK. */
export async function quitTransaction(s: Pop3Session): Promise<void> {
  const d = drop(s);
  const account = s.account!;
  let leaveOnServer = account.settings.pop3LeaveOnServer === true;
  try {
    // The policy may have changed since login; the current one applies.
    const fresh = await s.deps.store.getAccountById(account.id);
    if (fresh) leaveOnServer = fresh.settings.pop3LeaveOnServer === true;
  } catch {
    // Keep the login-time setting.
  }
  try {
    const r = await d.commit({ leaveOnServer, expireRetrieved: s.deps.options.expire === 0 }, s.log);
    s.log.info("pop3 update", { account: account.email, removed: r.removed, trash: r.movedToTrash });
    s.send(r.removed ? `+OK Pillarbox POP3 signing off (${r.removed} messages ${r.movedToTrash ? "moved to Trash" : "deleted"})` : "+OK Pillarbox POP3 signing off");
  } catch (err) {
    s.log.error("pop3 update failed", { account: account.email, err });
    // RFC 1939 §6: -ERR when some deleted messages could not be removed.
    s.send("-ERR [SYS/TEMP] Some deleted messages not removed; try again later");
  }
}

export const TRANSACTION_COMMANDS: Record<string, Handler> = {
  STAT: stat,
  LIST: list,
  UIDL: uidl,
  RETR: retr,
  TOP: top,
  DELE: dele,
  RSET: rset,
  NOOP: noop,
};
