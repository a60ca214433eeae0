/**
 * Operations shapes shared by the kernel (certificates, activity log, hourly
 * counters, DNS checks), the CLI and the web admin (protocols/http/admin/).
 * Import-free on purpose: the admin's browser code reads them through
 * protocols/http/admin/api-types.ts (scripts/check-layers.ts allows exactly that).
 */

/** Where the certificate a listener serves comes from. */
export type CertificateSource = "acme" | "files" | "self-signed";

/** One certificate the TLS listeners serve (src/acme/ keeps these current). */
export interface CertificateStatus {
  source: CertificateSource;
  /** Subject alternative names (DNS), as in the certificate. */
  names: string[];
  /** Issuer's common name or organisation, e.g. "Pebble Intermediate CA" or "R11". */
  issuer: string;
  notBefore: number; // ms since epoch
  notAfter: number; // ms since epoch
  /** SHA-256 of the certificate (hex, lower case). */
  fingerprint: string;
  /** ACME only: when the next renewal attempt is due (ms), null when not managed. */
  nextRenewalAt: number | null;
  /** ACME only: the last failure in words (challenge, CA, network), null after a success. */
  lastError: string | null;
  /** ACME only: when the last attempt (success or failure) ended, ms. */
  lastAttemptAt: number | null;
}

/** The certificate service the kernel offers (ServerContext.certificates). */
export interface CertificateService {
  status(): CertificateStatus[];
  /** Starts an ACME order now for the configured names (no-op answer in words when ACME is off). Resolves when it ended. */
  renewNow(): Promise<{ ok: boolean; message: string }>;
  /** ACME only: the key authorization for an HTTP-01 token being validated (RFC 8555 §8.3), else null. */
  httpChallenge?(token: string): string | null;
}

/** Kinds of activity the admin log viewer filters on (src/activity.ts records them; also on stderr as JSON lines). */
/** "security": an account's own security changes (two-factor sign-in on/off, app passwords created/revoked). */
export type ActivityKind = "delivery" | "rejection" | "login" | "login-failed" | "outbound" | "admin" | "security" | "system";

export interface ActivityEntry {
  ts: number; // ms since epoch
  kind: ActivityKind;
  level: "info" | "warn" | "error";
  /** The log line's message, e.g. "smtp transaction", "login", "outbound attempt". */
  msg: string;
  /** Protocol for logins and transactions: smtp, submission, imap, pop3, eas, dav, webmail, admin. */
  protocol?: string;
  account?: string;
  ip?: string;
  /** The remaining structured fields of the line (codes, reasons, Message-ID, recipients, sizes, verdicts). */
  fields: Record<string, string | number | boolean | null>;
}

export interface ActivityFilter {
  kinds?: ActivityKind[];
  /** Case-insensitive substring over msg, account, ip and field values. */
  text?: string;
  since?: number;
  until?: number;
  /** At most this many, newest first (capped by the service). */
  limit?: number;
}

/** One hour's counters (hour = start of the hour in ms, UTC). */
export interface HourlyCounts {
  hour: number;
  messagesIn: number;
  messagesOut: number;
  rejected: number;
  loginsFailed: number;
}

/** The activity service the kernel offers (ServerContext.activity). */
export interface ActivityService {
  /** Newest first, from a bounded in-memory ring (kept across a restart when a data dir file holds it). */
  recent(filter?: ActivityFilter): ActivityEntry[];
  /** The last `hours` hours (max 24*14), oldest first, zero-filled. */
  hourly(hours: number): Promise<HourlyCounts[]>;
}

/** What a DNS check compares for one record. */
export type DnsCheckStatus = "ok" | "missing" | "mismatch" | "error";

export interface DnsRecordCheck {
  /** What the record is for: MX, SPF, SPF (host), DKIM, DMARC, MTA-STS, MTA-STS policy, TLS-RPT, SRV imaps, autoconfig, CAA, TLSA ... */
  purpose: string;
  /** The DNS name queried, e.g. "_dmarc.example.org". */
  name: string;
  type: "A" | "AAAA" | "MX" | "TXT" | "CNAME" | "SRV" | "CAA" | "TLSA" | "HTTPS";
  /** What Pillarbox expects (the zone-file value quickstart prints). */
  expected: string;
  /** What the server's resolver returned (empty when nothing). */
  found: string[];
  status: DnsCheckStatus;
  /** Why it is not ok, in words. */
  note?: string;
}
