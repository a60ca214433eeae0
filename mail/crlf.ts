/**
 * A message's size in CRLF form. Messages are stored byte-for-byte as
 * received, and one that came through IMAP APPEND may use bare LF line ends
 * or lack a final line end; protocols that must announce an exact size of
 * the CRLF form before sending it (POP3 LIST/STAT/RETR, RFC 1939 §5) need
 * this number, so the store records it once at ingest (migration 0004)
 * instead of every reader scanning every message.
 */

const LF = 0x0a;
const CR = 0x0d;

/** Octets after turning each bare LF into CRLF and ending a last unterminated line with CRLF. */
export function crlfSize(msg: Uint8Array): number {
  let bareLf = 0;
  let i = msg.indexOf(LF);
  while (i !== -1) {
    if (i === 0 || msg[i - 1] !== CR) bareLf++;
    i = msg.indexOf(LF, i + 1);
  }
  const tail = msg.length > 0 && msg[msg.length - 1] !== LF ? 2 : 0;
  return msg.length + bareLf + tail;
}
