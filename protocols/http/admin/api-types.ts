/**
 * The web admin's JSON API (`/admin/api/*` on the HTTPS listener), shared by
 * the server routes (protocols/http/admin/) and the browser code
 * (web/src/admin/). Like the webmail's api-types.ts it imports nothing but the
 * import-free shapes of src/ops/types.ts.
 *
 * Every route: an admin account's webmail session (cookie) + the CSRF header
 * and our Origin for anything that changes state; a non-admin gets 403, no
 * session 401. Errors are `{ error: string }` in words with a 4xx status.
 * Addresses and domain names in paths are URL-encoded.
 */
export type * from "../../../src/ops/types.ts";
import type { ActivityEntry, CertificateStatus, DnsRecordCheck, HourlyCounts } from "../../../src/ops/types.ts";

export interface AdminError {
  error: string;
}

/** GET /admin/api/me: who is signed in, and the CSRF token for the header `X-CSRF-Token`. */
export interface AdminMe {
  email: string;
  csrf: string;
  hostname: string;
  /** `pillarbox --version` of the running server. */
  version: string;
}

/** GET /admin/api/overview */
export interface AdminOverview {
  hostname: string;
  version: string;
  uptimeSeconds: number;
  domains: number;
  accounts: number;
  queued: number;
  certificates: CertificateStatus[];
  /** Listener name -> "host:port" for every open listener. */
  listeners: Record<string, string>;
}

// ---------------------------------------------------------------- domains
/** GET /admin/api/domains */
export interface DomainView {
  name: string;
  accounts: number;
  aliases: number;
  dkimSelector: string | null;
}
/** POST /admin/api/domains  body { name } -> DomainView (201) */
export interface DomainCreate {
  name: string;
}
/** DELETE /admin/api/domains/:name -> { ok: true }; 409 while it has accounts. */
/** GET /admin/api/domains/:name/dns -> DnsReport (queried live through the server's own resolver). */
export interface DnsReport {
  domain: string;
  checkedAt: number;
  records: DnsRecordCheck[];
  /** The whole zone-file block quickstart prints, for copy and paste. */
  zone: string;
}

// ---------------------------------------------------------------- accounts
/** GET /admin/api/accounts */
export interface AccountView {
  email: string;
  displayName: string;
  quotaBytes: number | null;
  usedBytes: number;
  messages: number;
  admin: boolean;
  disabled: boolean;
  twoFactor: boolean;
  appPasswords: number;
  createdAt: number;
}
/** POST /admin/api/accounts -> AccountView (201). The password passes the password policy (400 in words if not). */
export interface AccountCreate {
  email: string;
  password: string;
  displayName?: string;
  quotaBytes?: number | null;
  admin?: boolean;
}
/**
 * PATCH /admin/api/accounts/:email -> AccountView. Each field optional.
 * `password` resets it (ends the account's webmail sessions); `disabled`
 * refuses every login and ends sessions; an admin cannot disable or demote
 * themselves (400).
 */
export interface AccountPatch {
  displayName?: string;
  quotaBytes?: number | null;
  admin?: boolean;
  disabled?: boolean;
  password?: string;
  /** true: turns off two-factor sign-in (the owner lost the device and the recovery codes). */
  resetTwoFactor?: boolean;
}
/** DELETE /admin/api/accounts/:email?confirm=<email> -> { ok: true } (the confirm must repeat the address). */

/** GET /admin/api/accounts/:email/access: what can currently reach the account. */
export interface AccountAccess {
  sessions: SessionView[];
  appPasswords: AppPasswordView[];
  devices: DeviceView[];
}
export interface SessionView {
  id: string; // opaque id, not the cookie
  createdAt: number;
  lastSeenAt: number;
  ip: string | null;
  userAgent: string | null;
}
export interface AppPasswordView {
  id: number;
  name: string;
  createdAt: number;
  lastUsedAt: number | null;
  lastUsedProtocol: string | null;
}
/** DELETE /admin/api/accounts/:email/sessions/:id, /admin/api/accounts/:email/app-passwords/:id -> { ok: true } */

// ---------------------------------------------------------------- aliases
/** GET /admin/api/aliases; POST { source, destination } (201); DELETE /admin/api/aliases?source=&destination= */
export interface AliasView {
  id: number;
  /** `local@domain`, or `@domain` for a catch-all. */
  source: string;
  destination: string;
}

// ---------------------------------------------------------------- queue
/** GET /admin/api/queue */
export interface QueueView {
  id: number;
  sender: string;
  recipients: string[];
  size: number;
  createdAt: number;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
}
/** POST /admin/api/queue/:id/retry (due now) -> { ok: true }; DELETE /admin/api/queue/:id (drop, no bounce) -> { ok: true } */

// ---------------------------------------------------------------- ActiveSync devices
/** GET /admin/api/devices (every account's) */
export interface DeviceView {
  account: string;
  deviceId: string;
  deviceType: string;
  model: string | null;
  userAgent: string | null;
  lastSeenAt: number | null;
  lastIp: string | null;
  wipeStatus: string;
}
/** POST /admin/api/devices/:account/:deviceId/wipe -> { ok: true }; DELETE /admin/api/devices/:account/:deviceId -> { ok: true } */

// ---------------------------------------------------------------- certificates
/** GET /admin/api/certificates -> CertificateStatus[]; POST /admin/api/certificates/renew -> { ok, message } */
export interface RenewResult {
  ok: boolean;
  message: string;
}

// ---------------------------------------------------------------- logs and graphs
/** GET /admin/api/logs?kind=delivery,rejection&q=text&since=ms&limit=200 */
export interface LogsResponse {
  entries: ActivityEntry[];
}
/** GET /admin/api/stats?hours=48 */
export interface StatsResponse {
  hourly: HourlyCounts[];
  storage: { email: string; usedBytes: number; quotaBytes: number | null }[];
}
