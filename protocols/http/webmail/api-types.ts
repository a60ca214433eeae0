/**
 * Types of the webmail's JSON API shared by the server and the browser
 * client (web/): types, and the pure size rule both sides must agree on. It
 * imports nothing, so the client can import it without pulling in server code (the layering test allows web/
 * this one server module).
 */

/** A person in an address field: display name ("" when none) and address. */
export interface Person {
  name: string;
  address: string;
}

export interface AttachmentInfo {
  /** Index into the parsed attachment list: the download key. */
  index: number;
  filename: string;
  type: string;
  size: number;
  contentId: string | null;
  /** Referenced from the HTML body (cid:) rather than a file for the user. */
  inline: boolean;
}

/** A message as the reading pane shows it. */
export interface ReadView {
  subject: string;
  from: Person[];
  sender: Person[];
  to: Person[];
  cc: Person[];
  bcc: Person[];
  replyTo: Person[];
  date: string | null;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  text: string | null;
  html: string | null;
  attachments: AttachmentInfo[];
  /** List-Unsubscribe etc. are not shown; a few headers the reader may want. */
  headers: { name: string; value: string }[];
}

/** GET /api/messages/:id: the reading view of one stored message and where it is. */
export interface MessageView extends ReadView {
  id: number;
  folderId: number;
  uid: number;
  flags: string[];
  size: number;
  threadId: number;
  internalDate: number;
}

/** One address the user may send from, with the From name and an HTML signature (settings identities). */
export interface Identity {
  address: string;
  name: string;
  /** HTML, sanitized by the composer before it is inserted. */
  signature: string;
}

/**
 * The size a file takes in a message: base64 (RFC 2045 §6.8) turns every 3 bytes into 4 characters,
 * in lines of 76 characters each ended by CRLF, so n bytes take 4·⌈n/3⌉ + 2·⌈4⌈n/3⌉/76⌉ octets,
 * plus the part's own headers (~300 octets). Shared with the composer (web/src/compose.ts) so both sides
 * refuse the same files.
 */
export function encodedSize(n: number): number {
  const chars = 4 * Math.ceil(n / 3);
  return chars + 2 * Math.ceil(chars / 76) + 300;
}

/** The largest file whose encoded form fits in a message of `max` octets. */
export function largestFile(max: number): number {
  // encodedSize grows with n, so a binary search (≤ 64 steps for any safe integer) finds the edge.
  let lo = 0;
  let hi = Math.max(0, Math.floor(max));
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (encodedSize(mid) <= max) lo = mid;
    else hi = mid - 1;
  }
  return encodedSize(lo) <= max ? lo : 0;
}
