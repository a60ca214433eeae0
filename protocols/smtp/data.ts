/**
 * DATA (RFC 5321 §4.1.1.4) and BDAT (RFC 3030 CHUNKING): reading the
 * message and handing it to inbound delivery (MX) or the send path
 * (submission). A 250 is sent only after the store call resolved.
 */
import { ChunkCollector, DataDecoder, MAX_BODY_LINE, MAX_HEADER_SECTION, parseBdatArg, reply, type Reply } from "./parser.ts";
import type { SmtpSession } from "./session.ts";
import { deliverInbound } from "./inbound.ts";
import { submitMessage } from "./submission.ts";
import { logTransaction } from "./outcome.ts";

function checkReady(s: SmtpSession): Reply | null {
  const tx = s.tx;
  if (!tx) return reply(503, "5.5.1", "Error: need MAIL command");
  // RFC 5321 §3.3 / RFC 2920 §3.1: no valid recipients -> 554 and the client sends no data.
  if (tx.recipients.length === 0) return reply(554, "5.5.1", "Error: no valid recipients");
  return null;
}

export function handleData(s: SmtpSession, arg: string): Reply {
  if (arg.trim() !== "") return reply(501, "5.5.4", "Syntax: DATA takes no parameters");
  if (s.tx?.bdat) return reply(503, "5.5.1", "Error: DATA not allowed after BDAT");
  const bad = checkReady(s);
  if (bad) return bad;
  s.enterData(new DataDecoder(s.maxSize));
  return reply(354, undefined, "End data with <CR><LF>.<CR><LF>");
}

/**
 * RFC 3030 §2: the chunk is always read in full (the client does not wait
 * for a reply before sending it), even when it will be refused. Returns null:
 * the reply comes from `bdatChunkDone` once the bytes are in.
 */
export function handleBdat(s: SmtpSession, arg: string): Reply | null {
  const p = parseBdatArg(arg);
  if ("code" in p) {
    // We cannot know how many bytes follow: the session can no longer be in sync.
    s.send(reply(p.code, p.enhanced, p.text));
    s.close();
    return null;
  }
  const tx = s.tx;
  const err = checkReady(s);
  if (err || !tx) {
    s.enterBdat(p.size, p.last, null);
    pendingBdatError.set(s, err ?? reply(503, "5.5.1", "Error: need MAIL command"));
    return null;
  }
  if (tx.bdatError) {
    s.enterBdat(p.size, p.last, null);
    pendingBdatError.set(s, tx.bdatError);
    return null;
  }
  tx.bdat ??= new ChunkCollector(s.maxSize);
  s.enterBdat(p.size, p.last, tx.bdat);
  return null;
}

const pendingBdatError = new WeakMap<SmtpSession, Reply>();

export async function bdatChunkDone(s: SmtpSession, last: boolean): Promise<Reply> {
  const early = pendingBdatError.get(s);
  if (early) {
    pendingBdatError.delete(s);
    // After a failed chunk, LAST ends the (failed) transaction.
    if (last && s.tx) s.resetTransaction();
    return early;
  }
  const tx = s.tx!;
  const col = tx.bdat!;
  if (col.refused) {
    const r = col.oversize ? reply(552, "5.3.4", "Message size exceeds fixed maximum message size") : col.headerTooLong ? headerTooLongReply() : lineTooLongReply();
    logTransaction(s, tx, r, null);
    if (last) s.resetTransaction();
    else tx.bdatError = r;
    return r;
  }
  if (!last) return reply(250, "2.0.0", `${col.size} octets received`);
  const raw = col.message();
  return complete(s, raw);
}

/**
 * Lines past 1,000 octets are accepted and stored as received (RFC 5321
 * §4.5.3.1: receivers should avoid such limits; Postfix and Exchange accept
 * them); only a line past the MAX_BODY_LINE hard cap refuses the message,
 * with RFC 5321 §4.5.3.1.10's "500 Line too long".
 */
function lineTooLongReply(): Reply {
  return reply(500, "5.5.2", `Line too long: message contains a line longer than ${MAX_BODY_LINE} octets`);
}

/** The header section is over MAX_HEADER_SECTION: Exchange's answer to a header over its MaxHeaderSize. */
function headerTooLongReply(): Reply {
  return reply(552, "5.3.4", `Header size exceeds fixed maximum size (${MAX_HEADER_SECTION} octets)`);
}

/** End of DATA: limits first, then delivery. */
export async function finishMessage(s: SmtpSession, d: DataDecoder): Promise<Reply> {
  const refused = d.oversize ? reply(552, "5.3.4", "Message size exceeds fixed maximum message size") : d.headerTooLong ? headerTooLongReply() : d.lineTooLong ? lineTooLongReply() : null;
  if (refused) {
    if (s.tx) logTransaction(s, s.tx, refused, null);
    s.resetTransaction();
    return refused;
  }
  return complete(s, d.message());
}

async function complete(s: SmtpSession, raw: Uint8Array): Promise<Reply> {
  const tx = s.tx!;
  try {
    let r: Reply;
    try {
      r = s.mode === "submission" && s.account ? await submitMessage(s, tx, raw) : await deliverInbound(s, tx, raw);
    } catch (e) {
      // The session answers 421 and logs the error; the transaction line still says how it ended.
      logTransaction(s, tx, reply(421, "4.3.0", "Internal error"), raw);
      throw e;
    }
    logTransaction(s, tx, r, raw);
    return r;
  } finally {
    s.resetTransaction();
  }
}
