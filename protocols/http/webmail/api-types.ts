/**
 * Types of the webmail's JSON API shared by the server and the browser
 * client (web/). Types only: this module imports nothing, so the client can
 * import it without pulling in server code (the layering test allows web/
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
