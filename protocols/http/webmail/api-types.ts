/**
 * Types of the webmail's JSON API shared by the server and the browser
 * client (web/): types, and the pure size rule both sides must agree on. It
 * imports nothing but the groupware model's types (src/groupware/model/types.ts,
 * itself import-free), so the client can import it without pulling in server
 * code (the layering test allows web/ this one server module).
 */
import type {
  ContactData,
  ContactSummary,
  EventData,
  EventInstance,
  EventPerson,
  Partstat,
  SeriesScope,
  TaskData,
  TaskSummary,
} from "../../../src/groupware/model/types.ts";

export type * from "../../../src/groupware/model/types.ts";

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
  /** The message carries an iCalendar part (text/calendar, application/ics): the reader asks for its invitation card. */
  hasInvitation?: boolean;
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

/**
 * Largest picture (decoded bytes) the preview route serves inline for the preview overlay and the
 * attachment thumbnails (issue 17 item 13); a larger one is only downloaded. Shared by
 * protocols/http/webmail/preview-api.ts and web/src/preview.ts.
 */
export const MAX_PREVIEW_IMAGE = 10 * 1024 * 1024;

// ================================================================ groupware (issue 17)
//
// Routes (all under the session + CSRF guard of /api/*; JSON in and out; errors are
// { error: { code, message } } with 400 bad input, 404 unknown, 409 conflict (stale etag or UID
// clash: reload and retry), 413 too large, 507 quota):
//
// Collections                                      (collections-api.ts)
//   GET    /api/groupware/collections?kind=calendar|tasks|contacts   -> { collections: CollectionInfo[] }
//   POST   /api/groupware/collections               CollectionWrite & { kind } -> CollectionInfo
//   PATCH  /api/groupware/collections/:name         CollectionWrite          -> CollectionInfo
//   DELETE /api/groupware/collections/:name                                   -> { ok: true }   (default ones: 403)
//
// Calendar                                          (calendar-api.ts)
//   GET    /api/calendar/instances?from=ms&to=ms[&calendars=a,b]  -> InstancesResponse (range ≤ 400 days)
//   GET    /api/calendar/events/:cal/:id[?recurrenceId=ms]         -> EventResponse (the master, or that occurrence)
//   POST   /api/calendar/events/:cal              EventWrite         -> EventResponse (201; invitations go out by iMIP)
//   PUT    /api/calendar/events/:cal/:id          EventWrite         -> EventResponse
//   DELETE /api/calendar/events/:cal/:id?etag=..&scope=all|this|following&recurrenceId=ms -> { ok: true }
//   POST   /api/calendar/events/:cal/:id/move     { to: string, etag } -> EventResponse  (to another calendar)
//   POST   /api/calendar/events/:cal/:id/respond  { partstat, comment, scope, recurrenceId } -> EventResponse (my answer as attendee)
//   GET    /api/calendar/freebusy?from=ms&to=ms&addresses=a,b       -> FreeBusyResponse
//   POST   /api/calendar/import/:cal              text/calendar body -> ImportResult
//   GET    /api/calendar/export/:cal                                 -> text/calendar file
//
// Tasks                                              (tasks-api.ts)
//   GET    /api/tasks?list=name[&completed=1]     -> { tasks: TaskSummary[] }
//   GET    /api/tasks/:list/:id                   -> TaskResponse
//   POST   /api/tasks/:list                       TaskWrite -> TaskResponse (201)
//   PUT    /api/tasks/:list/:id                   TaskWrite -> TaskResponse (completing a recurring task
//                                                  stores the done occurrence and moves the task to the next one)
//   DELETE /api/tasks/:list/:id?etag=..           -> { ok: true }
//
// Contacts                                           (contacts-api.ts)
//   GET    /api/contacts?book=name[&q=text]       -> { contacts: ContactSummary[] } (q: name, email, phone, organization; accent-insensitive)
//   GET    /api/contacts/:book/:id                -> ContactResponse
//   POST   /api/contacts/:book                    ContactWrite -> ContactResponse (201)
//   PUT    /api/contacts/:book/:id                ContactWrite -> ContactResponse
//   DELETE /api/contacts/:book/:id?etag=..        -> { ok: true }
//   GET    /api/contacts/:book/:id/photo          -> the image (for <img src>)
//   GET    /api/contacts/export/:book[?ids=a,b]   -> text/vcard file
//   POST   /api/contacts/import/:book             text/vcard body -> ImportResult
//   GET    /api/directory?q=text                  -> { entries: DirectoryPerson[] } (the domain's directory, read-only)
//   GET    /api/people?q=text                     -> { people: PersonSuggestion[] } (autocomplete: contacts, groups, directory, recent)
//   GET    /api/contacts/groups/:book/:id/expand  -> { members: Person[] } (a group as recipients)
//
// Invitations in mail                                (invitation-api.ts)
//   GET    /api/messages/:id/invitation           -> InvitationView (404 when the message carries none)
//   POST   /api/messages/:id/invitation           { partstat, comment } -> InvitationView (updates the calendar, sends the REPLY)
//
// Live updates: the "mail" event stream already carries every folder's changes; a change to a
// groupware collection arrives as { type: "exists"|"expunge"|"flags"|"folder", folderId } with the
// collection's `folderId` (CollectionInfo.folderId): the calendar/contacts/tasks views reload then.

export type CollectionKind = "calendar" | "tasks" | "contacts";

export interface CollectionInfo {
  kind: CollectionKind;
  /** URL segment, the id in API paths. */
  name: string;
  /** The store folder id (matches live events' folderId). */
  folderId: number;
  displayName: string;
  /** "#RRGGBB", "" = the client picks one. */
  color: string;
  description: string;
  isDefault: boolean;
  /** Objects in it (events, tasks or contacts). */
  count: number;
  /** Read-only (the directory): no writes offered. */
  readOnly: boolean;
}

export interface CollectionWrite {
  displayName?: string;
  color?: string;
  description?: string;
}

export interface InstancesResponse {
  /** The user's zone the all-day dates were placed in (settings timeZone, else the server's). */
  timeZone: string;
  instances: EventInstance[];
  /** The instance limit (5,000 per request) was reached: narrow the range. */
  truncated: boolean;
}

export interface EventResponse {
  calendar: string;
  id: string;
  etag: string;
  event: EventData;
  /** Recurring: the RECURRENCE-IDs (UTC ms) that have their own override. */
  overrides: number[];
  /** The user can edit everything (organizer or no attendees); else only their own answer. */
  editable: boolean;
}

export interface EventWrite {
  event: EventData;
  /** The etag the client read (409 when it changed meanwhile); omit on create. */
  etag?: string;
  /** For an edit of a recurring event: which occurrences (default "all"). */
  scope?: SeriesScope;
  /** With scope "this"/"following": the occurrence's RECURRENCE-ID (UTC ms). */
  recurrenceId?: number;
  /** Send invitations/updates/cancellations to attendees (default true). */
  notify?: boolean;
}

export interface FreeBusyResponse {
  /** Per address: busy periods in the range, or null when unknown (not a local account). */
  people: { address: string; busy: { start: number; end: number; type: string }[] | null }[];
}

export interface ImportResult {
  imported: number;
  /** Objects replaced (same UID already there). */
  updated: number;
  /** One line per object that could not be read or stored. */
  errors: string[];
}

export interface TaskResponse {
  list: string;
  id: string;
  etag: string;
  task: TaskData;
}

export interface TaskWrite {
  task: TaskData;
  etag?: string;
}

export interface ContactResponse {
  book: string;
  id: string;
  etag: string;
  contact: ContactData;
}

export interface ContactWrite {
  contact: ContactData;
  etag?: string;
}

export interface DirectoryPerson {
  address: string;
  name: string;
  kind: "account" | "alias";
}

export interface PersonSuggestion {
  name: string;
  address: string;
  source: "contact" | "directory" | "recent" | "group";
  /** For a group: book and id (expand before sending), else null. */
  group: { book: string; id: string } | null;
}

/** What the reading pane's invitation card shows (a text/calendar REQUEST, REPLY or CANCEL in a message). */
export interface InvitationView {
  method: "REQUEST" | "REPLY" | "CANCEL" | "COUNTER" | "ADD" | "REFRESH" | "PUBLISH";
  uid: string;
  title: string;
  location: string;
  description: string;
  /** UTC ms; all-day events give the dates too. */
  start: number;
  end: number;
  allDay: boolean;
  startDate: string | null;
  endDate: string | null;
  /** The event's own zone ("" floating). */
  timeZone: string;
  /** A human summary of the recurrence ("Every week on Tuesday, 10 times"), "" when single. */
  recurrence: string;
  /** The occurrence this message is about (an override), null for the whole event. */
  recurrenceId: number | null;
  organizer: EventPerson | null;
  attendees: { address: string; name: string; partstat: Partstat; comment: string }[];
  /** The user's answer as stored in their calendar (null when not an attendee or not in the calendar). */
  myPartstat: Partstat | null;
  /** The user may answer (REQUEST to one of their addresses, not cancelled). */
  canAnswer: boolean;
  /** Where the event is in the user's calendar, null when not there. */
  inCalendar: { calendar: string; id: string } | null;
  /** Events of the user's calendars overlapping it (title and time), at most 5. */
  conflicts: { title: string; start: number; end: number; allDay: boolean }[];
  /** For an update (REQUEST with a higher SEQUENCE than stored, or CANCEL): what changed, in words ready to show ("Time: … → …"). */
  changes: string[];
  /** For a REPLY: who answered and how. */
  reply: { address: string; name: string; partstat: Partstat; comment: string } | null;
  /** This message is outdated (a newer SEQUENCE is already in the calendar). */
  outdated: boolean;
  /** The RRULE value as sent ("FREQ=WEEKLY;COUNT=10"), "" when single: the client words it in the user's language. */
  rrule?: string;
  /** `changes` as data, for the client to word: one entry per field that changed. */
  fieldChanges?: InvitationChange[];
  /** The event (or this occurrence) is cancelled: a CANCEL message, or the calendar's copy says so. */
  cancelled?: boolean;
  /** A CANCEL whose event is still in the user's calendar: "Remove from calendar" is offered. */
  canRemove?: boolean;
  /** The user organizes this meeting (their own invitation, e.g. in Sent): nothing to answer. */
  isOrganizer?: boolean;
}

/** One changed field of an updated (or cancelled) invitation, compared with the version the user had before. */
export interface InvitationChange {
  field: "time" | "title" | "location" | "recurrence" | "cancelled";
  /** Text fields: old and new value ("" when absent); recurrence: the RRULE values. */
  before: string;
  after: string;
  /** For "time": old and new span (UTC ms; all-day with the dates). */
  beforeTime?: { start: number; end: number; allDay: boolean; startDate: string | null; endDate: string | null } | null;
  afterTime?: { start: number; end: number; allDay: boolean; startDate: string | null; endDate: string | null } | null;
}

/** POST /api/messages/:id/invitation: answer a REQUEST, or (`action: "remove"`) take a cancelled event out of the calendar without sending anything. */
export interface InvitationAnswer {
  partstat?: "ACCEPTED" | "TENTATIVE" | "DECLINED";
  /** A note for the organizer, sent in the REPLY (COMMENT, RFC 5546 §3.2.3); at most 2,000 characters. */
  comment?: string;
  action?: "answer" | "remove";
}

// ---------------------------------------------------------------- security (issue 18: protocols/http/webmail/security-api.ts)
/** An app password as listed (GET /api/security); the password itself is only in AppPasswordCreated. */
export interface AppPasswordInfo {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedProtocol: string | null;
}
/** GET /api/security */
export interface SecurityState {
  twoFactor: { enabled: boolean; recoveryCodesLeft: number };
  appPasswords: AppPasswordInfo[];
}
/** POST /api/security/2fa/setup { password } -> the pending secret to put into an authenticator app. */
export interface TwoFactorSetup {
  /** Base32, for typing in by hand. */
  secret: string;
  /** otpauth://totp/... (what the QR code holds). */
  uri: string;
  /** The QR code as an SVG data URL. */
  qr: string;
}
/** POST /api/security/2fa/enable { code } and POST /api/security/recovery-codes { password }: shown once. */
export interface RecoveryCodes {
  recoveryCodes: string[];
}
/** POST /api/security/app-passwords { password, name } -> shown once. */
export interface AppPasswordCreated {
  info: AppPasswordInfo;
  password: string;
}

// ---- Settings > Import (issue 18; protocols/http/webmail/import-api.ts)

/** POST /api/import: the old provider's IMAP server and the user's sign-in there (the password is kept in memory for the run only). */
export interface ImportStartRequest {
  host: string;
  port: number;
  /** "tls": TLS from the start (port 993); "starttls": plain connection upgraded with STARTTLS (port 143). */
  security: "tls" | "starttls";
  user: string;
  password: string;
}
/** GET /api/import, POST /api/import, DELETE /api/import (cancel). */
export interface ImportStatus {
  /** idle: none started since the server started. stopped: a time or size bound was reached; starting again continues. */
  state: "idle" | "connecting" | "running" | "done" | "failed" | "cancelled" | "stopped";
  /** imaps://user@host:port (no password). */
  source: string | null;
  folder: string | null;
  done: number;
  total: number;
  bytesDone: number;
  bytesTotal: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why it failed or stopped, in words. */
  error: string | null;
  folders: { source: string; target: string; messages: number; imported: number }[];
}

// ---------------------------------------------------------------- mail filtering (issue 19)
// Sieve rules: protocols/http/webmail/sieve-api.ts (routes under /api/sieve);
// the rule model <-> Sieve script translation is src/sieve/rules.ts.

/** A condition of a rule, as the rules editor shows it. */
export interface RuleCondition {
  /** What is tested: an address field, the subject, any header field (`header` names it), the size, the body text, or the spam score. */
  field: "from" | "to" | "cc" | "to-or-cc" | "subject" | "header" | "size" | "body" | "spam-score";
  /** Header field name when field is "header". */
  header?: string;
  /**
   * contains/is/matches(wildcards * ?)/starts/ends, their negations, "exists"/"not-exists" (header),
   * "over"/"under" (size in KB, spam-score 0..10).
   */
  op: "contains" | "not-contains" | "is" | "not-is" | "matches" | "not-matches" | "starts" | "ends" | "exists" | "not-exists" | "over" | "under";
  value: string;
}

export interface RuleAction {
  /** fileinto (move to folder), copyto (fileinto :copy), redirect (forward), redirect-copy (forward, keep a copy), discard, reject (with text), flag (add \Flagged), mark-read (add \Seen), keyword (add a keyword), stop. */
  type: "fileinto" | "copyto" | "redirect" | "redirect-copy" | "discard" | "reject" | "flag" | "mark-read" | "keyword" | "stop";
  /** Folder, address, reason or keyword, as the type needs. */
  value?: string;
}

export interface Rule {
  /** Stable id the editor uses (kept in the script's rule comments). */
  id: string;
  name: string;
  enabled: boolean;
  /** allof / anyof of the conditions; "always" ignores them. */
  match: "all" | "any" | "always";
  conditions: RuleCondition[];
  actions: RuleAction[];
}

export interface RuleSet {
  rules: Rule[];
}

export interface SieveScriptSummary {
  name: string;
  active: boolean;
  size: number;
  updatedAt: number;
}

/** GET /api/sieve */
export interface SieveOverview {
  scripts: SieveScriptSummary[];
  /** The name of the active script, or null. */
  active: string | null;
  /** The script the rules editor owns ("Pillarbox rules"). */
  rulesScriptName: string;
  /** The rules of that script when it exists and was written by the editor; null when it does not exist or was edited by hand (then only the raw view edits it). */
  rules: RuleSet | null;
  /** The Sieve script the out-of-office settings produce (run before the active script), or null when out-of-office is off. Read-only here. */
  vacationScript: string | null;
  limits: { maxScripts: number; maxScriptBytes: number };
  /** Extensions scripts may require (the SIEVE capability, RFC 5804 §1.7). */
  extensions: string[];
}

/** A compile error shown under the raw script editor. */
export interface SieveProblem {
  line: number;
  message: string;
}

/** 400 answers of the sieve routes that checked a script. */
export interface SieveCheckResult {
  ok: boolean;
  errors: SieveProblem[];
}

/**
 * Routes (JSON; CSRF as the other webmail routes):
 *   GET    /api/sieve                         -> SieveOverview
 *   PUT    /api/sieve/rules          RuleSet  -> { script: string } (stores and activates the rules script)
 *   POST   /api/sieve/check    { content }    -> SieveCheckResult
 *   GET    /api/sieve/scripts/:name           -> SieveScriptBody
 *   PUT    /api/sieve/scripts/:name { content } -> SieveCheckResult (400 when it does not compile; nothing stored)
 *   DELETE /api/sieve/scripts/:name           -> 204 (409 for the active script)
 *   POST   /api/sieve/active { name: string | null } -> 204
 */
export interface SieveScriptBody {
  name: string;
  content: string;
  active: boolean;
}

// Spam allow/deny lists of the signed-in user: protocols/http/webmail/spam-api.ts.
export interface SpamListItem {
  id: number;
  kind: "allow" | "deny";
  /** An address (user@example.com) or a domain (example.com, subdomains included). */
  pattern: string;
  createdAt: number;
}

/**
 * Routes:
 *   GET    /api/spam/lists                     -> { entries: SpamListItem[] }
 *   POST   /api/spam/lists { kind, pattern }   -> SpamListItem (400 for a bad pattern)
 *   DELETE /api/spam/lists/:id                 -> 204 (404 unknown)
 */
export interface SpamListsResponse {
  entries: SpamListItem[];
}
