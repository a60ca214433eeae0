/**
 * The configuration contract (issue "Foundation"): TOML file < environment
 * variables < command-line flags. `src/config.ts` loads it; this file holds
 * the shape so every module can import it without pulling the loader.
 */
import type { ListenerName } from "./registry.ts";
import type { LogLevel } from "./log.ts";

export interface ListenAddress {
  host: string;
  port: number;
}

export interface Config {
  /** PILLARBOX_DATA_DIR, default "./data" (absolute after loading). */
  dataDir: string;
  /** PILLARBOX_HOSTNAME, default os.hostname(). Used in greetings, Received:, the self-signed certificate. */
  hostname: string;
  /** PILLARBOX_DATABASE_URL, default `file:<dataDir>/pillarbox.db`. */
  databaseUrl: string;
  /** PILLARBOX_DATABASE_AUTH_TOKEN for remote libSQL. */
  databaseAuthToken: string | null;
  /** PILLARBOX_CHANGE_RETENTION_DAYS: how long the change feed remembers deletions (storage/changes.ts), default 90. */
  changeRetentionDays: number;
  /**
   * PILLARBOX_WORKERS / --workers: server processes sharing the listeners and the data dir
   * (src/cluster/). 0 = one per core. 1 = a single process.
   */
  workers: number;
  /** PILLARBOX_<NAME>_LISTEN=host:port | off. null = off. */
  listeners: Record<ListenerName, ListenAddress | null>;
  tls: {
    /** PILLARBOX_TLS_CERT / PILLARBOX_TLS_KEY (PEM files). null = self-signed in the data dir. */
    certFile: string | null;
    keyFile: string | null;
  };
  /** Certificates from an ACME CA (RFC 8555; src/acme/). Off: the [tls] files or a self-signed pair. */
  acme: {
    /** PILLARBOX_ACME=on|off. */
    enabled: boolean;
    /** PILLARBOX_ACME_DIRECTORY: the CA's directory URL (default Let's Encrypt production). */
    directoryUrl: string;
    /** PILLARBOX_ACME_EMAIL: contact for the ACME account (expiry notices). */
    email: string | null;
    /** PILLARBOX_ACME_CA_FILE: extra PEM root(s) trusted for the CA's own HTTPS (a test CA such as pebble). */
    caFile: string | null;
    /** Challenge type: http-01 on the HTTP listener, tls-alpn-01 on HTTPS, or auto (http-01 when HTTP is on). */
    challenge: "auto" | "http-01" | "tls-alpn-01";
    /** Also certify autoconfig., autodiscover. and mta-sts. of every local domain (the names quickstart prints). */
    domainNames: boolean;
    /** More names for the certificate. */
    extraNames: string[];
  };
  /** The MTA-STS policy served at https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.2). */
  mtaSts: {
    /** "enforce" applies only once a trusted certificate covers the host name; until then the policy says testing. */
    mode: "testing" | "enforce";
    maxAgeSeconds: number;
  };
  log: { level: LogLevel };
  limits: {
    /** Max message size in octets (SMTP SIZE, IMAP APPENDLIMIT). PILLARBOX_MAX_MESSAGE_SIZE, default 50 MiB. */
    maxMessageSize: number;
    /** Global backstop on simultaneous connections, all listeners together (above the sum of `connections`). */
    maxConnections: number;
    /** Simultaneous connections from one IP address, per protocol family. */
    maxConnectionsPerIp: number;
    /** Simultaneous connections per protocol family (src/connection-limits.ts): port 25; 587+465; IMAP(S); POP3(S); HTTP(S); ManageSieve. */
    connections: { smtp: number; submission: number; imap: number; pop3: number; http: number; managesieve: number };
    /** Failed authentications per IP before a temporary lock-out. */
    authFailuresPerIp: number;
    authWindowSeconds: number;
    /** Shortest password accepted by the password policy (src/password-policy.ts), default 10. */
    passwordMinLength: number;
  };
  smtp: {
    maxRecipients: number;
    /** What to do with DMARC quarantine failures: "junk" (file into Junk) or "accept". */
    dmarcQuarantine: "junk" | "accept";
    /** Reject DMARC p=reject failures. */
    dmarcReject: boolean;
    /** Run SPF/DKIM/DMARC/ARC checks on inbound mail (tests may turn off). */
    verifyInbound: boolean;
    /** NOOP/RSET/VRFY/EXPN/HELP per session before 421 (Postfix's smtpd_junk_command_limit). */
    junkCommandLimit: number;
    /**
     * Seconds of command time an unauthenticated session gets from connect, and again after
     * each accepted message (message transfer not counted), before 421 4.4.2, however active it is.
     */
    unauthenticatedIdleSeconds: number;
  };
  queue: {
    /** Max lifetime of a queued message before it bounces, seconds (default 5 days). */
    lifetimeSeconds: number;
    /** DNS servers for MX lookups ("host" or "host:port"); empty = system resolver. */
    dnsServers: string[];
    /** Parallel deliveries per destination domain. */
    perDomainConcurrency: number;
    /** Send a delay warning DSN after this many seconds (0 = never). */
    delayWarningSeconds: number;
    /** Port to deliver to on remote MX hosts (25; tests point it elsewhere). */
    remotePort: number;
  };
  imap: {
    /** Allow LOGIN/AUTHENTICATE PLAIN before STARTTLS (LOGINDISABLED otherwise). */
    allowPlaintextAuth: boolean;
    /** Idle timeout in seconds (RFC 9051 §5.4: at least 30 minutes). */
    idleTimeoutSeconds: number;
    /** Seconds from connect (or UNAUTHENTICATE) within which a client must log in, however active (Dovecot: 3 minutes). */
    loginTimeoutSeconds: number;
    /** Unsent output per connection above which a client that gets unsolicited updates (IDLE, NOTIFY) is disconnected. */
    maxOutputBytes: number;
  };
  pop3: {
    allowPlaintextAuth: boolean;
    idleTimeoutSeconds: number;
    /** Seconds from connect within which a client must log in (AUTHORIZATION state), however active it is. */
    loginTimeoutSeconds: number;
    /** RFC 2449 §6.8 LOGIN-DELAY: minimum seconds between logins; null = not enforced or advertised. */
    loginDelaySeconds: number | null;
    /** RFC 2449 §6.7 EXPIRE: days kept after retrieval (0 = deleted at QUIT), "NEVER", or null = not advertised. */
    expire: number | "NEVER" | null;
  };
  /** Sieve filtering in delivery (src/delivery/sieve-filter.ts) and ManageSieve (RFC 5804) quotas. */
  sieve: {
    /** Scripts one account may store (RFC 5804 §2.6 quota). */
    maxScripts: number;
    /** Octets of one script. */
    maxScriptBytes: number;
    /** Actions one run may produce (fileinto, redirect, addflag ...). */
    maxActions: number;
    /** `redirect` actions one run may produce. */
    maxRedirects: number;
    /** Wall-clock ms one script run may take before it is stopped (the message is kept in INBOX). */
    maxRunMs: number;
    /** RFC 5230 §4.1 / RFC 6131: shortest and longest vacation period a script may ask for, and the default (seconds). */
    vacationMinSeconds: number;
    vacationMaxSeconds: number;
    vacationDefaultSeconds: number;
  };
  /** The spam filter (src/spam/). */
  spam: {
    /** Score inbound mail at all (off: every message is delivered unscored, as before issue 19). */
    enabled: boolean;
    /** "builtin" (the default: src/spam/) or "rspamd" (its HTTP checkv2 API at `rspamdUrl`). */
    backend: "builtin" | "rspamd";
    rspamdUrl: string;
    /** rspamd's controller password, sent as the Password header (null: none). */
    rspamdPassword: string | null;
    /** Score at or above which a message is filed into Junk (SpamAssassin's required_score, 5.0). */
    junkScore: number;
    /** Score at or above which SMTP refuses the message (550 5.7.1); null: never refuse (the default). */
    rejectScore: number | null;
    /** DNS blocklist zones queried with the connecting IP (RFC 5782), e.g. zen.spamhaus.org. */
    dnsBlocklists: string[];
    /** Domain blocklist zones queried with domains in the message (links, From, envelope sender), e.g. dbl.spamhaus.org. */
    domainBlocklists: string[];
    /** DNS allowlist zones queried with the connecting IP, e.g. list.dnswl.org. */
    dnsAllowlists: string[];
    /** Time one DNS list lookup may take (ms); slower answers count as not listed. */
    dnsTimeoutMs: number;
    /** RFC 6647 greylisting of unknown senders at RCPT (451 4.7.1 first, accepted on retry after the delay). */
    greylisting: boolean;
    greylistDelaySeconds: number;
    /** Octets of a message the filter reads (headers always; body text and attachments up to this). */
    maxScanBytes: number;
  };
  /** Imports a user starts from the webmail (protocols/http/webmail/import-api.ts). */
  import: {
    /** Let users import from loopback, private and link-local addresses (off: the server must not reach internal hosts for them). */
    allowPrivateHosts: boolean;
    /** Octets one webmail import may copy before it stops (resumable). */
    maxBytes: number;
    /** Seconds one webmail import may run before it stops (resumable). */
    maxSeconds: number;
    /** PEM file of extra CA certificates trusted for old servers (a provider with a private CA); null: the system's. */
    caFile: string | null;
  };
}
