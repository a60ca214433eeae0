/**
 * The shared context every protocol receives from the registry.
 */
import type { ClusterServices } from "./cluster/services.ts";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { MailStore, Account } from "../storage/api.ts";
import type { ProtocolStores } from "../storage/open.ts";
import type { Config, ListenAddress } from "./config-types.ts";
import type { ListenerName } from "./registry.ts";
import type { Logger } from "./log.ts";
import type { RateLimiter } from "./ratelimit.ts";
import type { SubmitFn } from "./delivery/submit.ts";
import type { LoginOptions, LoginResult } from "./auth.ts";
import type { AuthThrottle } from "./auth-throttle.ts";
import type { Groupware } from "./groupware/types.ts";
import type { ActivityService, CertificateService } from "./ops/types.ts";
import type { SpamService } from "./spam/types.ts";
import type { DeliveryFilter } from "./delivery/filter-types.ts";

export interface TlsProvider {
  /**
   * Upgrades a plain socket to TLS as the server (STARTTLS/STLS). Uses the
   * `tls.Server` + `emit("connection")` pattern, which works on Bun, Deno and
   * Node. Resolves once the handshake completes; rejects on handshake failure.
   * Callers must discard anything the client pipelined before the handshake
   * (RFC 3207 §4.2).
   */
  upgrade(socket: Socket): Promise<TLSSocket>;
  /** Current secure context options (reloaded on SIGHUP / file change). */
  readonly hostname: string;
}

export interface LocalDelivery {
  accountIds: number[];
  /** Envelope sender ("" for bounces). */
  envelopeFrom: string;
  raw: Uint8Array;
  /**
   * How the message came in, for hooks that act on what it claims (the iMIP
   * processor, src/groupware/scheduling/): absent when unknown (e.g. a
   * delivery report), which a hook must treat as unauthenticated.
   */
  origin?: DeliveryOrigin;
}
/**
 * "submit": an authenticated local sender whose From the submit path checked
 * (src/delivery/index.ts). "inbound": SMTP from outside, with the parts of the
 * sender authentication verdict (mailauth) when inbound checks ran, else null.
 */
export type DeliveryOrigin =
  | { kind: "submit"; accountId: number }
  | { kind: "inbound"; mailFrom: string; auth: InboundAuthVerdict | null };
/** The parts of mailauth's authenticate() result a hook may read (see src/delivery/dsn-policy.ts). */
export interface InboundAuthVerdict {
  spf?: { domain?: string; status?: { result?: string } } | false | null;
  dkim?: { results?: { signingDomain?: string; status?: { result?: string } }[] } | null;
  dmarc?: { status?: { result?: string; header?: { from?: string } }; domain?: string } | false | null;
  /** RFC 8617 ARC chain validation (the spam filter scores it; issue 19). */
  arc?: { status?: { result?: string } } | false | null;
}
export type DeliveryHook = (delivery: LocalDelivery) => void;

/** Runs every hook; one that throws is logged and does not stop the others. */
export function runDeliveryHooks(hooks: readonly DeliveryHook[], d: LocalDelivery, log: Logger): void {
  for (const h of hooks) {
    try {
      h(d);
    } catch (err) {
      log.warn("delivery hook failed", { error: err instanceof Error ? err.message : String(err) });
    }
  }
}

export interface ServerContext {
  config: Config;
  store: MailStore;
  /** The ActiveSync and webmail state stores, on the mail store's one database (storage/open.ts). */
  storage: ProtocolStores;
  tls: TlsProvider;
  log: Logger;
  /**
   * The per-IP side of the authentication throttle as a limiter (shared by
   * SMTP, IMAP, POP3, HTTP): `isBlocked` before a login exchange starts,
   * `fail` for an exchange that was malformed before any password check.
   */
  authLimiter: RateLimiter;
  /** The shared authentication throttle (per IP and per account; src/auth-throttle.ts). */
  authThrottle: AuthThrottle;
  /**
   * Verifies credentials through the throttle: the attempt is reserved before
   * the password hash is checked. Says whether a refusal was a wrong password
   * or a throttle (answer the latter as a temporary failure).
   */
  login(username: string, password: string, remoteIp: string, opts?: LoginOptions): Promise<LoginResult>;
  /** `login` reduced to the account or null (refused either way). */
  authenticate(username: string, password: string, remoteIp: string): Promise<Account | null>;
  /** The protocol-neutral send path (sender checks, DKIM, local delivery, queue, copy to Sent). */
  submit: SubmitFn;
  /**
   * The listeners that are open, with their actually bound ports (port 0 in
   * the config resolved), e.g. for HTTP -> HTTPS redirects. Filled before the
   * first connection is accepted.
   */
  readonly addresses: Readonly<Partial<Record<ListenerName, ListenAddress>>>;
  /**
   * Called by the delivery pipeline (src/delivery/pipeline.ts) after a message
   * is durably in local mailboxes (MX delivery and the submit path; never for
   * Junk): the kernel registers the out-of-office responder here, and modules
   * may add theirs in start(). Hooks run after the commit and must not throw.
   */
  readonly deliveryHooks: DeliveryHook[];
  /** Set while shutting down; protocols stop accepting new work. */
  readonly shuttingDown: boolean;
  /** Calendars, address books and task lists (src/groupware/): what CalDAV/CardDAV, iMIP and the CLI use. */
  groupware: Groupware;
  /** The certificates the TLS listeners serve, and ACME renewal (src/certificates.ts, src/acme/). */
  certificates: CertificateService;
  /** Recent activity and hourly counters for the admin (src/activity.ts). */
  activity: ActivityService;
  /**
   * The server's other processes (src/cluster/services.ts): cross-process locks
   * (the POP3 maildrop) and broadcasts of small in-memory state. A single
   * process (and every in-process test server) has `localCluster()`.
   */
  cluster: ClusterServices;
  /** The spam filter (src/spam/): scoring inbound mail, greylisting, training. */
  spam: SpamService;
  /**
   * Sieve for every local delivery (src/delivery/sieve-filter.ts): every caller
   * of the pipeline passes it in PipelineDeps.filter. Null only before start.
   */
  deliveryFilter: DeliveryFilter | null;
}
