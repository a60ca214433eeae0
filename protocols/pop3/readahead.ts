/**
 * Read-ahead for clients that download the whole maildrop.
 *
 * POP3 clients fetch with RETR 1, RETR 2, ... and wait for each response
 * before asking for the next (RFC 1939 has no multi-message fetch, and most
 * clients do not pipeline). While a client takes one message in, the server
 * sits idle; so after answering RETR n we read and encode message n+1 in that
 * idle time, and when RETR n+1 arrives its response is ready to write. The
 * work is the same, only moved off the client's wait.
 *
 * Bounded: one message per session, only messages small enough to be read
 * in one synchronous call, nothing while more commands are queued, and at
 * most READ_AHEAD_BUDGET bytes prepared across all sessions (a thousand idle
 * sessions must not pin a thousand messages). The prepared response is used
 * only for exactly that message while it is still neither deleted nor
 * expunged by another session.
 */
import type { DropMessage } from "./maildrop.ts";
import type { Pop3Session } from "./session.ts";
import { SYNC_READ_LIMIT } from "../../storage/api.ts";

/** Largest stored message read ahead: what the blob store reads in one synchronous call. */
export const READ_AHEAD_LIMIT = SYNC_READ_LIMIT;
/** Bytes of prepared responses held by all sessions together. */
export const READ_AHEAD_BUDGET = 16 * 1024 * 1024;

let held = 0;

/** Bytes currently prepared across sessions (tests). */
export function readAheadHeld(): number {
  return held;
}

interface Prepared {
  pos: number;
  out: Uint8Array;
}

const prepared = new WeakMap<Pop3Session, Prepared>();
const scheduled = new WeakMap<Pop3Session, () => void>();

/** The response prepared for `m`, if any; the slot is emptied either way. */
export function takeReadAhead(s: Pop3Session, m: DropMessage): Uint8Array | null {
  const p = prepared.get(s);
  if (!p) return null;
  prepared.delete(s);
  held -= p.out.length;
  return p.pos === m.pos && !m.gone && !m.deleted ? p.out : null;
}

/** After answering for `after`, prepares the response for the next message once the loop is idle. */
export function scheduleReadAhead(
  s: Pop3Session,
  after: DropMessage,
  respond: (m: DropMessage, raw: Uint8Array) => Uint8Array,
): void {
  const idle = s.io.whenIdle;
  const drop = s.maildrop;
  if (!idle || !drop) return;
  const next = drop.messages[after.pos + 1];
  if (!next || next.deleted || next.gone || next.storedSize > READ_AHEAD_LIMIT) return;
  if (held + next.storedSize > READ_AHEAD_BUDGET) return;
  scheduled.get(s)?.();
  const cancel = idle.call(s.io, () => {
    scheduled.delete(s);
    // The client already asked for more: that command reads for itself.
    if (s.closed || s.busy || s.pendingCommands > 0) return;
    const seq = s.commandSeq;
    drop.readWhole(next).then(
      (raw) => {
        if (s.closed || s.commandSeq !== seq || next.deleted || next.gone || prepared.has(s)) return;
        const out = respond(next, raw);
        if (held + out.length > READ_AHEAD_BUDGET) return;
        held += out.length;
        prepared.set(s, { pos: next.pos, out });
      },
      // Unreadable now (expunged meanwhile): RETR reads again and reports it.
      () => {},
    );
  });
  scheduled.set(s, cancel);
}

/** Releases what the session had prepared or scheduled (it ended). */
export function clearReadAhead(s: Pop3Session): void {
  scheduled.get(s)?.();
  scheduled.delete(s);
  const p = prepared.get(s);
  if (p) {
    held -= p.out.length;
    prepared.delete(s);
  }
}
