/**
 * The structural types of a parsed message (addresses, RFC 3501 ENVELOPE,
 * the MIME tree with byte offsets). They belong to the mail library because
 * the parser produces them; the store persists them and protocols read them.
 */
export interface Address {
  name: string | null;
  /** local part; null for group syntax markers (RFC 3501 §7.4.2). */
  mailbox: string | null;
  host: string | null;
  /** (Added by storage) Obsolete source route (RFC 5322 §4.4), e.g. "@a,@b"; null/absent when none. ENVELOPE's adl. */
  adl?: string | null;
}

/** RFC 3501 §7.4.2 ENVELOPE, pre-computed at delivery. Strings are the raw (still encoded) header values. */
export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/**
 * One node of the MIME tree with byte offsets into the stored blob, so
 * BODY[section]<partial>, BINARY and BODYSTRUCTURE are served without
 * re-parsing. Offsets are absolute within the message blob.
 */
export interface MimePart {
  /** Start of this part's header block. */
  headerStart: number;
  /** Start of the body (just after the blank line ending the header), = headerEnd. */
  bodyStart: number;
  /** End of the body (exclusive). */
  bodyEnd: number;
  type: string; // lower-case, e.g. "text"
  subtype: string; // lower-case, e.g. "plain"
  params: Record<string, string>; // lower-case names; values decoded (RFC 2231 joined)
  id: string | null; // Content-ID
  description: string | null;
  encoding: string; // Content-Transfer-Encoding, lower-case, default "7bit"
  md5: string | null;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  /** Number of lines in the body (text/* and message/rfc822). */
  lines: number;
  /** Children of multipart/*. */
  parts?: MimePart[];
  /** For message/rfc822 (and message/global): the embedded message's envelope and root part. */
  message?: { envelope: Envelope; root: MimePart };
}

