/**
 * Configuration loader: defaults < TOML file < environment variables < flags.
 *
 * Every setting is described once in `SETTINGS` below (TOML key, environment
 * variable, flag, parser, help text); `serve --help` and docs/CONFIG.md are
 * generated from / kept in step with that table, so the contract has one
 * source. Invalid values raise `ConfigError` (the CLI prints it and exits 2).
 */
import { existsSync, readFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { isIP } from "node:net";
import { parse as parseToml } from "smol-toml";
import type { Config, ListenAddress } from "./config-types.ts";
import { LISTENER_DEFAULTS, type ListenerName } from "./registry.ts";
import type { LogLevel } from "./log.ts";

export type { Config, ListenAddress } from "./config-types.ts";

/** A recursive Partial, for test overrides (`startTestServer({ config })`). */
export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (infer U)[] ? U[] : T[K] extends object | null ? DeepPartial<NonNullable<T[K]>> | (null extends T[K] ? null : never) : T[K];
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** The config file quickstart writes and `serve` picks up when no --config is given. */
export const DEFAULT_CONFIG_FILE = "pillarbox.toml";

export const LISTENER_NAMES = Object.keys(LISTENER_DEFAULTS) as ListenerName[];

/** Let's Encrypt's production ACME directory (RFC 8555 §7.1.1). */
export const LETS_ENCRYPT_DIRECTORY = "https://acme-v02.api.letsencrypt.org/directory";

export function defaultConfig(): Config {
  const dataDir = resolve("data");
  const listeners = {} as Record<ListenerName, ListenAddress | null>;
  for (const name of LISTENER_NAMES) listeners[name] = { host: "0.0.0.0", port: LISTENER_DEFAULTS[name] };
  return {
    dataDir,
    hostname: safeHostname(),
    databaseUrl: `file:${dataDir}/pillarbox.db`,
    databaseAuthToken: null,
    changeRetentionDays: 90,
    workers: 0,
    listeners,
    tls: { certFile: null, keyFile: null },
    acme: { enabled: false, directoryUrl: LETS_ENCRYPT_DIRECTORY, email: null, caFile: null, challenge: "auto", domainNames: true, extraNames: [] },
    mtaSts: { mode: "testing", maxAgeSeconds: 604_800 },
    log: { level: "info" },
    limits: {
      maxMessageSize: 50 * 1024 * 1024,
      maxConnections: 4000,
      maxConnectionsPerIp: 50,
      connections: { ...DEFAULT_CONNECTION_CAPS },
      authFailuresPerIp: 10,
      authWindowSeconds: 300,
      passwordMinLength: 10,
    },
    smtp: { maxRecipients: 100, dmarcQuarantine: "junk", dmarcReject: true, verifyInbound: true, junkCommandLimit: 100, unauthenticatedIdleSeconds: 300 },
    queue: {
      lifetimeSeconds: 5 * 24 * 3600,
      dnsServers: [],
      perDomainConcurrency: 2,
      delayWarningSeconds: 4 * 3600,
      remotePort: 25,
    },
    // loginTimeoutSeconds: Dovecot's login processes give a client 3 minutes to log in.
    // maxOutputBytes: 2 MiB is ~50,000 IDLE flag updates behind on top of what the kernel
    // holds; 1,000 IMAP connections (the family cap) then pin at most ~2 GiB.
    imap: { allowPlaintextAuth: false, idleTimeoutSeconds: 30 * 60, loginTimeoutSeconds: 180, maxOutputBytes: 2 * 1024 * 1024 },
    pop3: { allowPlaintextAuth: false, idleTimeoutSeconds: 10 * 60, loginTimeoutSeconds: 180, loginDelaySeconds: null, expire: null },
    import: { allowPrivateHosts: false, maxBytes: 20 * 1024 ** 3, maxSeconds: 6 * 3600, caFile: null },
    // Pigeonhole's defaults: 32 actions, 4 redirects; vacation periods 1 day to 90 days, 7 by default (RFC 5230 §4.1).
    sieve: { maxScripts: 32, maxScriptBytes: 256 * 1024, maxActions: 32, maxRedirects: 4, maxRunMs: 1000, vacationMinSeconds: 86_400, vacationMaxSeconds: 90 * 86_400, vacationDefaultSeconds: 7 * 86_400 },
    spam: {
      enabled: true,
      backend: "builtin",
      rspamdUrl: "http://127.0.0.1:11333",
      rspamdPassword: null,
      junkScore: 5,
      rejectScore: null,
      dnsBlocklists: ["zen.spamhaus.org"],
      domainBlocklists: ["dbl.spamhaus.org"],
      dnsAllowlists: ["list.dnswl.org"],
      dnsTimeoutMs: 2000,
      greylisting: false,
      greylistDelaySeconds: 300,
      maxScanBytes: 512 * 1024,
    },
  };
}

function safeHostname(): string {
  try {
    return osHostname().toLowerCase() || "localhost";
  } catch {
    return "localhost";
  }
}

// ------------------------------------------------------------------ parsers

type Parser = (raw: unknown, where: string) => unknown;

const str: Parser = (raw, where) => {
  if (typeof raw !== "string" || raw === "") throw new ConfigError(`${where}: expected a non-empty string`);
  return raw;
};

const optionalStr: Parser = (raw, where) => {
  if (raw === "" || raw === null) return null;
  return str(raw, where);
};

const int = (min: number, max: number): Parser => (raw, where) => {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${where}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return n;
};

/** Sizes: plain octets or with a K/M/G suffix (powers of 1024). */
const size: Parser = (raw, where) => {
  if (typeof raw === "number") return int(1, 2 ** 40)(raw, where);
  const m = typeof raw === "string" ? /^\s*(\d+)\s*([kmg]i?b?)?\s*$/i.exec(raw) : null;
  if (!m) throw new ConfigError(`${where}: expected a size such as 52428800, 50M or 1G, got ${JSON.stringify(raw)}`);
  const mult = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? "").charAt(0).toLowerCase()] ?? 1;
  return int(1, 2 ** 40)(Number(m[1]) * mult, where);
};

const bool: Parser = (raw, where) => {
  if (typeof raw === "boolean") return raw;
  if (typeof raw === "string") {
    const v = raw.trim().toLowerCase();
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
  }
  throw new ConfigError(`${where}: expected true or false, got ${JSON.stringify(raw)}`);
};

const oneOf = (...values: string[]): Parser => (raw, where) => {
  if (typeof raw !== "string" || !values.includes(raw.trim().toLowerCase())) {
    throw new ConfigError(`${where}: expected one of ${values.join(", ")}, got ${JSON.stringify(raw)}`);
  }
  return raw.trim().toLowerCase();
};

/** A spam score: a decimal number from -1000 to 1000. */
const score: Parser = (raw, where) => {
  const n = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < -1000 || n > 1000) throw new ConfigError(`${where}: expected a score such as 5 or 7.5, got ${JSON.stringify(raw)}`);
  return n;
};

/** "" or "off" -> null, else a score. */
const optionalScore: Parser = (raw, where) => {
  if (raw === null || raw === "" || (typeof raw === "string" && raw.trim().toLowerCase() === "off")) return null;
  return score(raw, where);
};

/** "" or "off" -> null, else a whole number in range. */
const optionalInt = (min: number, max: number): Parser => (raw, where) => {
  if (raw === null || raw === "" || (typeof raw === "string" && raw.trim().toLowerCase() === "off")) return null;
  return int(min, max)(raw, where);
};

/** POP3 EXPIRE: days, "never", or off. */
const expirePolicy: Parser = (raw, where) => {
  if (typeof raw === "string" && raw.trim().toLowerCase() === "never") return "NEVER";
  return optionalInt(0, 36_500)(raw, where);
};

const list: Parser = (raw, where) => {
  if (Array.isArray(raw)) return raw.map((x, i) => str(x, `${where}[${i}]`));
  // "none"/"off" is the empty list: an empty environment variable counts as unset (the default applies).
  if (typeof raw === "string" && ["none", "off"].includes(raw.trim().toLowerCase())) return [];
  if (typeof raw === "string") return raw.split(",").map((s) => s.trim()).filter(Boolean);
  throw new ConfigError(`${where}: expected a list (comma-separated in environment variables)`);
};

const httpsUrl: Parser = (raw, where) => {
  const v = str(raw, where) as string;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(`${where}: expected an https:// URL, got ${JSON.stringify(v)}`);
  }
  // RFC 8555 §6.1: ACME is spoken over HTTPS only.
  if (u.protocol !== "https:") throw new ConfigError(`${where}: the ACME directory must be an https:// URL, got ${JSON.stringify(v)}`);
  return v;
};

const databaseUrl: Parser = (raw, where) => {
  const v = str(raw, where) as string;
  if (!/^(file:|libsql:\/\/|https?:\/\/|wss?:\/\/|postgres(ql)?:\/\/)/i.test(v)) {
    // the value may be a mistyped URL with a password in it: show only its scheme
    throw new ConfigError(`${where}: expected file:PATH, libsql://HOST, http(s)://HOST, ws(s)://HOST or postgres://USER@HOST/DB, got a value starting ${JSON.stringify(v.split(/[:/]/)[0])}`);
  }
  return v;
};

/**
 * `host:port`, `[v6]:port`, `:port`, `port` or `off`. Port 0 asks the OS for
 * a free port (tests). Returns null for off.
 */
export function parseListen(raw: unknown, where: string): ListenAddress | null {
  if (typeof raw === "boolean" && raw === false) return null;
  if (typeof raw === "number") raw = String(raw);
  if (typeof raw !== "string") throw new ConfigError(`${where}: expected host:port or off`);
  const v = raw.trim();
  if (["off", "none", "disabled", "false", "no"].includes(v.toLowerCase())) return null;
  let host: string;
  let portStr: string;
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(v);
  if (v6) {
    host = v6[1]!;
    portStr = v6[2]!;
    if (isIP(host) !== 6) throw new ConfigError(`${where}: ${JSON.stringify(v)} is not a valid IPv6 address`);
  } else if (/^\d+$/.test(v)) {
    host = "0.0.0.0";
    portStr = v;
  } else {
    const i = v.lastIndexOf(":");
    if (i < 0) throw new ConfigError(`${where}: expected host:port or off, got ${JSON.stringify(v)}`);
    host = v.slice(0, i) || "0.0.0.0";
    portStr = v.slice(i + 1);
    if (host.includes(":")) throw new ConfigError(`${where}: write IPv6 addresses in brackets, e.g. [::]:25`);
    if (!/^[A-Za-z0-9.-]+$/.test(host)) throw new ConfigError(`${where}: bad host ${JSON.stringify(host)}`);
  }
  if (!/^\d+$/.test(portStr)) throw new ConfigError(`${where}: bad port ${JSON.stringify(portStr)} in ${JSON.stringify(v)}`);
  const port = Number(portStr);
  if (port > 65535) throw new ConfigError(`${where}: port ${port} is out of range (0-65535)`);
  return { host, port };
}

// ------------------------------------------------------------------ the settings table

export interface Setting {
  /** Dotted path into Config, e.g. "limits.maxMessageSize". */
  path: string;
  /** Dotted TOML key, e.g. "limits.max_message_size". */
  toml: string;
  env: string;
  /** Flag name without dashes (also accepted on `serve`). */
  flag: string;
  parse: Parser;
  help: string;
  /** Human-readable default for docs and --help. */
  def: string;
}

const S = (path: string, toml: string, env: string, flag: string, parse: Parser, def: string, help: string): Setting => ({
  path,
  toml,
  env,
  flag,
  parse,
  def,
  help,
});

/**
 * Per-protocol-family connection caps (src/connection-limits.ts). They sum to 3,000, under the 4,000 backstop.
 * Like Postfix's per-service process limits, port 25 and submission are separate families.
 */
const DEFAULT_CONNECTION_CAPS: Config["limits"]["connections"] = { smtp: 500, submission: 200, imap: 1000, pop3: 200, http: 1000, managesieve: 100 };

/** [family, its listeners, why] for the settings table. */
const FAMILY_SETTINGS: [keyof Config["limits"]["connections"], string, string][] = [
  ["smtp", "SMTP (port 25)", ""],
  ["submission", "SUBMISSION and SUBMISSIONS (587, 465)", ", kept apart from port 25 so an MX flood never blocks users sending mail"],
  ["imap", "IMAP and IMAPS", ""],
  ["pop3", "POP3 and POP3S", ""],
  ["http", "HTTP and HTTPS (webmail, ActiveSync, autodiscover)", ""],
  ["managesieve", "MANAGESIEVE (4190, Sieve script uploads)", ""],
];

export const SETTINGS: Setting[] = [
  S("dataDir", "data_dir", "PILLARBOX_DATA_DIR", "data-dir", str, "./data", "Directory for the database, message blobs, TLS certificate and keys (created 0700)."),
  S("hostname", "hostname", "PILLARBOX_HOSTNAME", "hostname", str, "the machine's host name", "Public host name: SMTP greeting, Received: headers, self-signed certificate, DNS records."),
  S("databaseUrl", "database_url", "PILLARBOX_DATABASE_URL", "database-url", databaseUrl, "file:<data dir>/pillarbox.db", "Database: a libSQL file: path, libsql:// / http(s):// for a remote libSQL server, or postgres://USER:PASSWORD@HOST:PORT/DB for PostgreSQL."),
  S("databaseAuthToken", "database_auth_token", "PILLARBOX_DATABASE_AUTH_TOKEN", "database-auth-token", optionalStr, "(none)", "Auth token for a remote libSQL server."),
  S("changeRetentionDays", "change_retention_days", "PILLARBOX_CHANGE_RETENTION_DAYS", "change-retention-days", int(1, 36500), "90", "Days the change feed remembers deleted messages and folders; an ActiveSync device or IMAP (QRESYNC) client away longer resyncs."),
  S("workers", "workers", "PILLARBOX_WORKERS", "workers", int(0, 64), "0 (one per core)", "Server processes sharing the listeners and the data dir (SMTP, submission, POP3 and ManageSieve connections are spread over all of them; IMAP and HTTP are served by the first). 1 runs a single process. A Pi with 1 GB: 2; see docs/OPERATIONS.md."),
  ...LISTENER_NAMES.map((n) =>
    S(
      `listeners.${n}`,
      `listen.${n.toLowerCase()}`,
      `PILLARBOX_${n}_LISTEN`,
      `${n.toLowerCase()}-listen`,
      parseListen,
      `0.0.0.0:${LISTENER_DEFAULTS[n]}`,
      `${n} listener: host:port, [ipv6]:port, or off. Port 0 picks a free port.`,
    ),
  ),
  S("tls.certFile", "tls.cert_file", "PILLARBOX_TLS_CERT", "tls-cert", optionalStr, "(self-signed, generated)", "PEM certificate chain file. Reloaded on SIGHUP and when the file changes."),
  S("tls.keyFile", "tls.key_file", "PILLARBOX_TLS_KEY", "tls-key", optionalStr, "(self-signed, generated)", "PEM private key file for the certificate."),
  S("acme.enabled", "acme.enabled", "PILLARBOX_ACME", "acme", bool, "off", "Get and renew the certificate from an ACME CA (Let's Encrypt by default) for the host name and the autoconfig/autodiscover/mta-sts names; needs ports 80 or 443 reachable from the internet."),
  S("acme.directoryUrl", "acme.directory", "PILLARBOX_ACME_DIRECTORY", "acme-directory", httpsUrl, LETS_ENCRYPT_DIRECTORY, "ACME directory URL of the CA (e.g. Let's Encrypt staging, or a test CA)."),
  S("acme.email", "acme.email", "PILLARBOX_ACME_EMAIL", "acme-email", optionalStr, "(none)", "Contact address for the ACME account (the CA's expiry notices)."),
  S("acme.caFile", "acme.ca_file", "PILLARBOX_ACME_CA_FILE", "acme-ca-file", optionalStr, "(system roots)", "Extra PEM root certificate(s) to trust for the ACME directory's own HTTPS (a private or test CA)."),
  S("acme.challenge", "acme.challenge", "PILLARBOX_ACME_CHALLENGE", "acme-challenge", oneOf("auto", "http-01", "tls-alpn-01"), "auto", "ACME challenge: http-01 (HTTP listener, port 80), tls-alpn-01 (HTTPS listener, port 443), or auto (http-01, then tls-alpn-01 when the host name fails it: port 80 blocked)."),
  S("acme.domainNames", "acme.domain_names", "PILLARBOX_ACME_DOMAIN_NAMES", "acme-domain-names", bool, "true", "Also put autoconfig., autodiscover. and mta-sts. of every local domain on the certificate (a name whose validation fails is left out of the next order and logged, so the host name still gets its certificate)."),
  S("acme.extraNames", "acme.extra_names", "PILLARBOX_ACME_EXTRA_NAMES", "acme-extra-names", list, "(none)", "More DNS names for the certificate, comma-separated."),
  S("mtaSts.mode", "mta_sts.mode", "PILLARBOX_MTA_STS_MODE", "mta-sts-mode", oneOf("testing", "enforce"), "testing", "MTA-STS policy mode (RFC 8461). enforce takes effect only once a trusted certificate covers the host name; until then the policy says testing."),
  S("mtaSts.maxAgeSeconds", "mta_sts.max_age", "PILLARBOX_MTA_STS_MAX_AGE", "mta-sts-max-age", int(86_400, 31_557_600), "604800 (1 week)", "MTA-STS policy max_age, seconds (RFC 8461 §3.2: up to a year)."),
  S("log.level", "log.level", "PILLARBOX_LOG_LEVEL", "log-level", oneOf("debug", "info", "warn", "error"), "info", "Log level: debug, info, warn or error. Logs are JSON lines on stderr."),
  S("limits.maxMessageSize", "limits.max_message_size", "PILLARBOX_MAX_MESSAGE_SIZE", "max-message-size", size, "50M", "Largest accepted message (SMTP SIZE, IMAP APPENDLIMIT). Octets or K/M/G suffix."),
  S("limits.maxConnections", "limits.max_connections", "PILLARBOX_MAX_CONNECTIONS", "max-connections", int(1, 1_000_000), "4000", "Backstop on simultaneous connections, all listeners together; keep it at or above the sum of the per-protocol caps below."),
  ...FAMILY_SETTINGS.map(([family, listeners, why]) =>
    S(
      `limits.connections.${family}`,
      `limits.max_connections_${family}`,
      `PILLARBOX_MAX_CONNECTIONS_${family.toUpperCase()}`,
      `max-connections-${family}`,
      int(1, 1_000_000),
      String(DEFAULT_CONNECTION_CAPS[family]),
      `Simultaneous connections to ${listeners} together${why}.`,
    ),
  ),
  S("limits.maxConnectionsPerIp", "limits.max_connections_per_ip", "PILLARBOX_MAX_CONNECTIONS_PER_IP", "max-connections-per-ip", int(1, 1_000_000), "50", "Simultaneous connections from one IP address, counted per protocol family (SMTP, submission, IMAP, POP3, HTTP, ManageSieve)."),
  S("limits.authFailuresPerIp", "limits.auth_failures_per_ip", "PILLARBOX_AUTH_FAILURES_PER_IP", "auth-failures-per-ip", int(1, 1_000_000), "10", "Failed logins from one IP within the window before it is refused for a while."),
  S("limits.authWindowSeconds", "limits.auth_window_seconds", "PILLARBOX_AUTH_WINDOW_SECONDS", "auth-window-seconds", int(1, 86_400 * 7), "300", "Length of the failed-login window, seconds."),
  S("limits.passwordMinLength", "limits.password_min_length", "PILLARBOX_PASSWORD_MIN_LENGTH", "password-min-length", int(1, 1024), "10", "Shortest password `user add`, `user passwd`, the webmail and the admin accept (src/password-policy.ts; `--force` on the CLI overrides)."),
  S("smtp.maxRecipients", "smtp.max_recipients", "PILLARBOX_SMTP_MAX_RECIPIENTS", "smtp-max-recipients", int(1, 100_000), "100", "Recipients per message (RFC 5321 §4.5.3.1.8 requires at least 100)."),
  S("smtp.dmarcQuarantine", "smtp.dmarc_quarantine", "PILLARBOX_SMTP_DMARC_QUARANTINE", "smtp-dmarc-quarantine", oneOf("junk", "accept"), "junk", "Inbound mail failing DMARC with p=quarantine: file into Junk, or accept into INBOX."),
  S("smtp.dmarcReject", "smtp.dmarc_reject", "PILLARBOX_SMTP_DMARC_REJECT", "smtp-dmarc-reject", bool, "true", "Reject inbound mail failing DMARC with p=reject."),
  S("smtp.verifyInbound", "smtp.verify_inbound", "PILLARBOX_SMTP_VERIFY_INBOUND", "smtp-verify-inbound", bool, "true", "Check SPF, DKIM, DMARC and ARC on inbound mail."),
  S("smtp.junkCommandLimit", "smtp.junk_command_limit", "PILLARBOX_SMTP_JUNK_COMMAND_LIMIT", "smtp-junk-command-limit", int(1, 100_000), "100", "NOOP, RSET, VRFY, EXPN and HELP commands per SMTP session before it is closed with 421 (Postfix's smtpd_junk_command_limit)."),
  S("smtp.unauthenticatedIdleSeconds", "smtp.unauthenticated_idle_seconds", "PILLARBOX_SMTP_UNAUTHENTICATED_IDLE_SECONDS", "smtp-unauthenticated-idle-seconds", int(30, 86_400), "300", "Seconds an unauthenticated SMTP client may spend on commands (from connect, and again after each accepted message; message transfer not counted) before 421 4.4.2, however active it is."),
  S("queue.lifetimeSeconds", "queue.lifetime_seconds", "PILLARBOX_QUEUE_LIFETIME_SECONDS", "queue-lifetime-seconds", int(60, 86_400 * 30), "432000 (5 days)", "How long an undeliverable message is retried before it bounces."),
  S("queue.dnsServers", "queue.dns_servers", "PILLARBOX_QUEUE_DNS_SERVERS", "queue-dns-servers", list, "(system resolver)", "DNS servers for MX lookups, host or host:port, comma-separated."),
  S("queue.perDomainConcurrency", "queue.per_domain_concurrency", "PILLARBOX_QUEUE_PER_DOMAIN_CONCURRENCY", "queue-per-domain-concurrency", int(1, 100), "2", "Parallel outbound deliveries per destination domain."),
  S("queue.delayWarningSeconds", "queue.delay_warning_seconds", "PILLARBOX_QUEUE_DELAY_WARNING_SECONDS", "queue-delay-warning-seconds", int(0, 86_400 * 30), "14400 (4 hours)", "Send a delay notice to the sender after this long (0 = never)."),
  S("queue.remotePort", "queue.remote_port", "PILLARBOX_QUEUE_REMOTE_PORT", "queue-remote-port", int(1, 65535), "25", "Port used to reach remote MX hosts."),
  S("imap.allowPlaintextAuth", "imap.allow_plaintext_auth", "PILLARBOX_IMAP_ALLOW_PLAINTEXT_AUTH", "imap-allow-plaintext-auth", bool, "false", "Allow IMAP LOGIN / AUTHENTICATE PLAIN, and ManageSieve AUTHENTICATE PLAIN/LOGIN, without TLS (not recommended)."),
  S("imap.idleTimeoutSeconds", "imap.idle_timeout_seconds", "PILLARBOX_IMAP_IDLE_TIMEOUT_SECONDS", "imap-idle-timeout-seconds", int(1800, 86_400), "1800", "IMAP (and ManageSieve) inactivity timeout, seconds (RFC 9051 §5.4: at least 30 minutes)."),
  S("imap.loginTimeoutSeconds", "imap.login_timeout_seconds", "PILLARBOX_IMAP_LOGIN_TIMEOUT_SECONDS", "imap-login-timeout-seconds", int(10, 3600), "180", "An IMAP or ManageSieve client that has not logged in this many seconds after connecting is disconnected, however active (Dovecot's login timeout)."),
  S("imap.maxOutputBytes", "imap.max_output_bytes", "PILLARBOX_IMAP_MAX_OUTPUT", "imap-max-output", size, "2M", "Unsent output per IMAP connection; a client that falls further behind on IDLE/NOTIFY updates is disconnected (BYE Too much output). Octets or K/M/G suffix."),
  S("pop3.allowPlaintextAuth", "pop3.allow_plaintext_auth", "PILLARBOX_POP3_ALLOW_PLAINTEXT_AUTH", "pop3-allow-plaintext-auth", bool, "false", "Allow POP3 USER/PASS and AUTH PLAIN without TLS (not recommended)."),
  S("pop3.idleTimeoutSeconds", "pop3.idle_timeout_seconds", "PILLARBOX_POP3_IDLE_TIMEOUT_SECONDS", "pop3-idle-timeout-seconds", int(600, 86_400), "600", "POP3 inactivity timeout, seconds (RFC 1939 §3: at least 10 minutes)."),
  S("pop3.loginTimeoutSeconds", "pop3.login_timeout_seconds", "PILLARBOX_POP3_LOGIN_TIMEOUT_SECONDS", "pop3-login-timeout-seconds", int(10, 3600), "180", "A POP3 client that has not logged in this many seconds after connecting is disconnected, however active (Dovecot's login timeout)."),
  S("pop3.loginDelaySeconds", "pop3.login_delay_seconds", "PILLARBOX_POP3_LOGIN_DELAY_SECONDS", "pop3-login-delay-seconds", optionalInt(0, 86_400), "off", "Minimum seconds between POP3 logins per account, advertised as LOGIN-DELAY (RFC 2449 §6.8)."),
  S("pop3.expire", "pop3.expire", "PILLARBOX_POP3_EXPIRE", "pop3-expire", expirePolicy, "off", "POP3 EXPIRE policy advertised in CAPA: days kept after retrieval (0 = deleted at QUIT), never, or off (RFC 2449 §6.7)."),
  S("sieve.maxScripts", "sieve.max_scripts", "PILLARBOX_SIEVE_MAX_SCRIPTS", "sieve-max-scripts", int(1, 1000), "32", "Sieve scripts one account may store (ManageSieve, webmail rules, CLI)."),
  S("sieve.maxScriptBytes", "sieve.max_script_bytes", "PILLARBOX_SIEVE_MAX_SCRIPT_BYTES", "sieve-max-script-bytes", size, "256K", "Largest Sieve script, in octets or with a K/M suffix."),
  S("sieve.maxActions", "sieve.max_actions", "PILLARBOX_SIEVE_MAX_ACTIONS", "sieve-max-actions", int(1, 1000), "32", "Actions one Sieve run may take (fileinto, redirect, addflag ...); more is an error and the message is kept in INBOX."),
  S("sieve.maxRedirects", "sieve.max_redirects", "PILLARBOX_SIEVE_MAX_REDIRECTS", "sieve-max-redirects", int(0, 100), "4", "Redirects one Sieve run may send."),
  S("sieve.maxRunMs", "sieve.max_run_ms", "PILLARBOX_SIEVE_MAX_RUN_MS", "sieve-max-run-ms", int(10, 60_000), "1000", "Milliseconds one Sieve run may take; a slower script is stopped and the message kept in INBOX."),
  S("sieve.vacationMinSeconds", "sieve.vacation_min_seconds", "PILLARBOX_SIEVE_VACATION_MIN_SECONDS", "sieve-vacation-min-seconds", int(0, 365 * 86_400), "86400 (1 day)", "Shortest period between two vacation replies to one sender a script may ask for (RFC 5230 :days, RFC 6131 :seconds)."),
  S("sieve.vacationMaxSeconds", "sieve.vacation_max_seconds", "PILLARBOX_SIEVE_VACATION_MAX_SECONDS", "sieve-vacation-max-seconds", int(1, 365 * 86_400), "7776000 (90 days)", "Longest such period."),
  S("sieve.vacationDefaultSeconds", "sieve.vacation_default_seconds", "PILLARBOX_SIEVE_VACATION_DEFAULT_SECONDS", "sieve-vacation-default-seconds", int(1, 365 * 86_400), "604800 (7 days)", "The period when a script gives none."),
  S("spam.enabled", "spam.enabled", "PILLARBOX_SPAM", "spam", bool, "on", "Score inbound mail for spam: X-Spam-* header fields, Sieve spamtest, Junk above spam.junk_score."),
  S("spam.backend", "spam.backend", "PILLARBOX_SPAM_BACKEND", "spam-backend", oneOf("builtin", "rspamd"), "builtin", "builtin (no extra daemon) or rspamd (an existing rspamd scores through its HTTP checkv2 API)."),
  S("spam.rspamdUrl", "spam.rspamd_url", "PILLARBOX_SPAM_RSPAMD_URL", "spam-rspamd-url", str, "http://127.0.0.1:11333", "Base URL of rspamd's normal worker (spam.backend = rspamd)."),
  S("spam.rspamdPassword", "spam.rspamd_password", "PILLARBOX_SPAM_RSPAMD_PASSWORD", "spam-rspamd-password", optionalStr, "(none)", "Password rspamd asks for, if any."),
  S("spam.junkScore", "spam.junk_score", "PILLARBOX_SPAM_JUNK_SCORE", "spam-junk-score", score, "5.0", "Score at or above which a message goes to Junk (when no Sieve rule files it elsewhere)."),
  S("spam.rejectScore", "spam.reject_score", "PILLARBOX_SPAM_REJECT_SCORE", "spam-reject-score", optionalScore, "off", "Score at or above which SMTP refuses the message with 550 5.7.1; off (the default) never refuses."),
  S("spam.dnsBlocklists", "spam.dns_blocklists", "PILLARBOX_SPAM_DNS_BLOCKLISTS", "spam-dns-blocklists", list, "zen.spamhaus.org", "DNS blocklist zones for the connecting IP (comma-separated in the environment; none: no lookups)."),
  S("spam.domainBlocklists", "spam.domain_blocklists", "PILLARBOX_SPAM_DOMAIN_BLOCKLISTS", "spam-domain-blocklists", list, "dbl.spamhaus.org", "Domain blocklist zones for domains in the message (links, From, envelope sender); none: no lookups."),
  S("spam.dnsAllowlists", "spam.dns_allowlists", "PILLARBOX_SPAM_DNS_ALLOWLISTS", "spam-dns-allowlists", list, "list.dnswl.org", "DNS allowlist zones for the connecting IP; none: no lookups."),
  S("spam.dnsTimeoutMs", "spam.dns_timeout_ms", "PILLARBOX_SPAM_DNS_TIMEOUT_MS", "spam-dns-timeout-ms", int(50, 30_000), "2000", "Milliseconds one DNS list lookup may take; a slower answer counts as not listed."),
  S("spam.greylisting", "spam.greylisting", "PILLARBOX_SPAM_GREYLISTING", "spam-greylisting", bool, "off", "Greylist unknown senders (RFC 6647): the first attempt from a new IP/sender/recipient gets 451 4.7.1."),
  S("spam.greylistDelaySeconds", "spam.greylist_delay_seconds", "PILLARBOX_SPAM_GREYLIST_DELAY_SECONDS", "spam-greylist-delay-seconds", int(0, 86_400), "300", "Seconds a greylisted sender must wait before its retry is accepted."),
  S("spam.maxScanBytes", "spam.max_scan_bytes", "PILLARBOX_SPAM_MAX_SCAN_BYTES", "spam-max-scan-bytes", size, "512K", "Octets of a message the spam filter reads (header always; body up to this)."),
  S("import.allowPrivateHosts", "import.allow_private_hosts", "PILLARBOX_IMPORT_ALLOW_PRIVATE_HOSTS", "import-allow-private-hosts", bool, "false", "Let webmail users import from loopback, private and link-local addresses (off: the server never connects to internal hosts on a user's behalf)."),
  S("import.maxBytes", "import.max_bytes", "PILLARBOX_IMPORT_MAX_BYTES", "import-max-bytes", size, "20G", "Octets one webmail import copies before it stops (starting it again continues). Octets or K/M/G suffix."),
  S("import.maxSeconds", "import.max_seconds", "PILLARBOX_IMPORT_MAX_SECONDS", "import-max-seconds", int(60, 7 * 86_400), "21600 (6 hours)", "Seconds one webmail import runs before it stops (starting it again continues)."),
  S("import.caFile", "import.ca_file", "PILLARBOX_IMPORT_CA_FILE", "import-ca-file", optionalStr, "(system CAs)", "PEM file of extra CA certificates trusted when importing from an old server (one with a private CA), besides the system's."),
];

// ------------------------------------------------------------------ loading

export interface LoadConfigOptions {
  /** TOML file. undefined: PILLARBOX_CONFIG, else `<dataDir>/pillarbox.toml` if it exists. null: no file. */
  file?: string | null;
  /** Environment; default process.env. */
  env?: Record<string, string | undefined>;
  /** Flags by name without dashes, e.g. { "data-dir": "/srv/mail", "smtp-listen": "off" }. */
  flags?: Record<string, string>;
}

function setPath(obj: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let o = obj;
  for (const p of parts.slice(0, -1)) o = o[p] as Record<string, unknown>;
  o[parts[parts.length - 1]!] = value;
}

function getToml(doc: Record<string, unknown>, key: string): { found: boolean; value?: unknown } {
  let o: unknown = doc;
  for (const p of key.split(".")) {
    if (!o || typeof o !== "object" || !(p in (o as Record<string, unknown>))) return { found: false };
    o = (o as Record<string, unknown>)[p];
  }
  return { found: true, value: o };
}

/** Rejects unknown TOML keys so a typo does not silently leave a default in place. */
function checkUnknownKeys(doc: Record<string, unknown>, file: string): void {
  const known = new Set(SETTINGS.map((s) => s.toml));
  const sections = new Set(SETTINGS.map((s) => s.toml.split(".").slice(0, -1).join(".")).filter(Boolean));
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (known.has(key)) continue;
      if (sections.has(key) && v && typeof v === "object" && !Array.isArray(v)) {
        walk(v as Record<string, unknown>, key);
        continue;
      }
      throw new ConfigError(`${file}: unknown setting "${key}" (see docs/CONFIG.md)`);
    }
  };
  walk(doc, "");
}

/** The flag names `serve` accepts (without dashes). */
export const CONFIG_FLAGS: ReadonlySet<string> = new Set(SETTINGS.map((s) => s.flag));

export function loadConfig(opts: LoadConfigOptions = {}): Config {
  const env = opts.env ?? process.env;
  const flags = opts.flags ?? {};
  for (const k of Object.keys(flags)) {
    if (!CONFIG_FLAGS.has(k) && k !== "config") throw new ConfigError(`unknown option --${k}`);
  }

  // Locate the file: flag/option > PILLARBOX_CONFIG > <dataDir>/pillarbox.toml.
  let file: string | null = opts.file === undefined ? (flags["config"] ?? env["PILLARBOX_CONFIG"] ?? null) : opts.file;
  if (file === null && opts.file === undefined) {
    const dd = resolve(flags["data-dir"] ?? env["PILLARBOX_DATA_DIR"] ?? "data");
    const candidate = resolve(dd, DEFAULT_CONFIG_FILE);
    if (existsSync(candidate)) file = candidate;
  }
  let doc: Record<string, unknown> = {};
  if (file !== null) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new ConfigError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: invalid TOML: ${(e as Error).message.split("\n")[0]}`);
    }
    checkUnknownKeys(doc, file);
  }

  const cfg = defaultConfig() as unknown as Record<string, unknown>;
  let databaseUrlSet = false;
  for (const s of SETTINGS) {
    let raw: unknown;
    let where = "";
    let found = false;
    const t = getToml(doc, s.toml);
    if (t.found) {
      raw = t.value;
      where = `${file}: ${s.toml}`;
      found = true;
    }
    if (env[s.env] !== undefined && env[s.env] !== "") {
      raw = env[s.env];
      where = s.env;
      found = true;
    }
    if (flags[s.flag] !== undefined) {
      raw = flags[s.flag];
      where = `--${s.flag}`;
      found = true;
    }
    if (!found) continue;
    if (s.path === "databaseUrl") databaseUrlSet = true;
    setPath(cfg, s.path, s.parse(raw, where));
  }
  const config = cfg as unknown as Config;

  // Relative paths are relative to the working directory (the TOML file's dir would surprise CLI users).
  config.dataDir = resolve(config.dataDir);
  if (!databaseUrlSet) config.databaseUrl = `file:${config.dataDir}/pillarbox.db`;
  else if (config.databaseUrl.startsWith("file:")) {
    const p = config.databaseUrl.slice(5);
    if (!isAbsolute(p)) config.databaseUrl = `file:${resolve(p)}`;
  }
  config.hostname = config.hostname.toLowerCase();
  if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(config.hostname)) {
    throw new ConfigError(`hostname: ${JSON.stringify(config.hostname)} is not a valid host name`);
  }
  if ((config.tls.certFile === null) !== (config.tls.keyFile === null)) {
    throw new ConfigError("PILLARBOX_TLS_CERT and PILLARBOX_TLS_KEY must be set together");
  }
  if (config.tls.certFile) config.tls.certFile = resolve(config.tls.certFile);
  if (config.tls.keyFile) config.tls.keyFile = resolve(config.tls.keyFile);
  if (config.acme.caFile) config.acme.caFile = resolve(config.acme.caFile);
  if (config.import.caFile) config.import.caFile = resolve(config.import.caFile);
  config.acme.extraNames = config.acme.extraNames.map((n) => n.toLowerCase());
  for (const n of config.acme.extraNames) {
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(n)) throw new ConfigError(`acme.extra_names: ${JSON.stringify(n)} is not a valid host name`);
  }
  if (config.acme.enabled && config.tls.certFile) {
    throw new ConfigError("acme is on and tls.cert_file is set: use one or the other (ACME keeps its certificate in the data dir)");
  }
  return config;
}

/** Applies a deep partial on top of a config (tests). Arrays and null replace. */
export function mergeConfig<T>(base: T, patch: DeepPartial<T> | undefined): T {
  if (!patch) return base;
  const out = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === undefined) continue;
    const cur = out[k];
    if (v && typeof v === "object" && !Array.isArray(v) && cur && typeof cur === "object" && !Array.isArray(cur)) {
      out[k] = mergeConfig(cur, v as DeepPartial<typeof cur>);
    } else out[k] = v;
  }
  return out as T;
}

/** Help text listing every setting (used by `serve --help`). */
export function settingsHelp(): string {
  const lines: string[] = [];
  for (const s of SETTINGS) {
    lines.push(`  --${s.flag}=VALUE`);
    lines.push(`      ${s.env}   (TOML: ${s.toml}; default: ${s.def})`);
    lines.push(`      ${s.help}`);
  }
  return lines.join("\n");
}

export function isLogLevel(v: string): v is LogLevel {
  return v === "debug" || v === "info" || v === "warn" || v === "error";
}
