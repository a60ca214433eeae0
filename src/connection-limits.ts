/**
 * Connection accounting for the kernel: one cap per protocol family, one cap
 * per client IP within each family, and a global backstop.
 *
 * Why per family: with a single global cap, idle connections to one port
 * (21 IPs x 50 idle SMTP sessions) used up every slot and a legitimate user
 * then got no IMAPS, HTTPS or submission service at all. Postfix gives each
 * master.cf service its own process limit and Dovecot each service its own
 * `client_limit`/`process_limit`; we do the same per protocol family, and
 * keep port 25 (anyone on the Internet) apart from submission (587/465, where
 * users authenticate) so an MX flood never takes the users' outgoing mail.
 *
 * The global backstop (limits.maxConnections) stays, sized above the sum of
 * the family caps: it is what bounds file descriptors and memory if an
 * operator raises family caps carelessly, and it keeps old configurations
 * that set it meaningful. When it is below the sum, families can starve each
 * other again; the server logs a warning at start (`capWarning`).
 */
import type { Config } from "./config-types.ts";
import type { ListenerName } from "./registry.ts";

export type ConnectionFamily = "smtp" | "submission" | "imap" | "pop3" | "http" | "managesieve";
export const CONNECTION_FAMILIES: readonly ConnectionFamily[] = ["smtp", "submission", "imap", "pop3", "http", "managesieve"];

/** Which family a listener's connections count against. */
export const FAMILY_OF: Readonly<Record<ListenerName, ConnectionFamily>> = {
  SMTP: "smtp",
  SUBMISSION: "submission",
  SUBMISSIONS: "submission",
  IMAP: "imap",
  IMAPS: "imap",
  POP3: "pop3",
  POP3S: "pop3",
  HTTP: "http",
  HTTPS: "http",
  MANAGESIEVE: "managesieve",
};

export type Refusal = "shutdown" | "total" | "family" | "ip";

export interface Admission {
  ok: true;
  family: ConnectionFamily;
  /** Call once when the connection closes. */
  release(): void;
}

export interface ConnectionCounts {
  total: number;
  family: Record<ConnectionFamily, number>;
}

/** Counts open connections and decides whether a new one may be served. Sans-IO. */
/** A change of one process's open connections, for the other processes of the server (src/cluster/). */
export interface ConnectionDelta {
  family: ConnectionFamily;
  ip: string;
  delta: number;
}

export class ConnectionAccounting {
  private total = 0;
  private readonly perFamily = new Map<ConnectionFamily, number>();
  /** family -> ip -> open connections */
  private readonly perIp = new Map<ConnectionFamily, Map<string, number>>();
  /**
   * The other processes' open connections (src/cluster/), by process index:
   * the caps are the server's, not each process's, so a client spreading its
   * connections over the workers meets the same per-IP limit. Learned a few
   * milliseconds late, which a cap of tens of connections absorbs.
   */
  private readonly peers = new Map<number, { total: number; perFamily: Map<ConnectionFamily, number>; perIp: Map<string, number> }>();
  private observer: ((d: ConnectionDelta) => void) | null = null;

  constructor(private readonly limits: Config["limits"]) {
    for (const f of CONNECTION_FAMILIES) {
      this.perFamily.set(f, 0);
      this.perIp.set(f, new Map());
    }
  }

  /** Called with every local admission (+1) and release (-1). */
  observe(fn: ((d: ConnectionDelta) => void) | null): void {
    this.observer = fn;
  }

  /** Another process's admissions and releases. */
  applyPeer(peer: number, d: ConnectionDelta): void {
    let p = this.peers.get(peer);
    if (!p) this.peers.set(peer, (p = { total: 0, perFamily: new Map(), perIp: new Map() }));
    p.total = Math.max(0, p.total + d.delta);
    p.perFamily.set(d.family, Math.max(0, (p.perFamily.get(d.family) ?? 0) + d.delta));
    const k = `${d.family}\u0000${d.ip}`;
    const n = (p.perIp.get(k) ?? 0) + d.delta;
    if (n > 0) p.perIp.set(k, n);
    else p.perIp.delete(k);
  }

  /** A process ended: its connections are gone with it. */
  dropPeer(peer: number): void {
    this.peers.delete(peer);
  }

  private peerCounts(family: ConnectionFamily, ip: string): { total: number; family: number; ip: number } {
    const out = { total: 0, family: 0, ip: 0 };
    if (this.peers.size === 0) return out;
    const k = `${family}\u0000${ip}`;
    for (const p of this.peers.values()) {
      out.total += p.total;
      out.family += p.perFamily.get(family) ?? 0;
      out.ip += p.perIp.get(k) ?? 0;
    }
    return out;
  }

  admit(listener: ListenerName, ip: string): Admission | { ok: false; family: ConnectionFamily; reason: Refusal } {
    const family = FAMILY_OF[listener];
    const ips = this.perIp.get(family)!;
    const n = this.perFamily.get(family)!;
    const peer = this.peerCounts(family, ip);
    if (this.total + peer.total >= this.limits.maxConnections) return { ok: false, family, reason: "total" };
    if (n + peer.family >= this.limits.connections[family]) return { ok: false, family, reason: "family" };
    if ((ips.get(ip) ?? 0) + peer.ip >= this.limits.maxConnectionsPerIp) return { ok: false, family, reason: "ip" };
    this.total++;
    this.perFamily.set(family, n + 1);
    ips.set(ip, (ips.get(ip) ?? 0) + 1);
    this.observer?.({ family, ip, delta: 1 });
    let released = false;
    return {
      ok: true,
      family,
      release: () => {
        if (released) return;
        released = true;
        this.total--;
        this.perFamily.set(family, this.perFamily.get(family)! - 1);
        const left = (ips.get(ip) ?? 1) - 1;
        if (left > 0) ips.set(ip, left);
        else ips.delete(ip);
        this.observer?.({ family, ip, delta: -1 });
      },
    };
  }

  counts(): ConnectionCounts {
    return { total: this.total, family: Object.fromEntries(this.perFamily) as Record<ConnectionFamily, number> };
  }
}

/** A warning for the start-up log when the backstop undoes the per-family isolation, else null. */
export function capWarning(limits: Config["limits"]): string | null {
  const sum = CONNECTION_FAMILIES.reduce((a, f) => a + limits.connections[f], 0);
  if (limits.maxConnections >= sum) return null;
  return `limits.max_connections (${limits.maxConnections}) is below the sum of the per-protocol caps (${sum}): one protocol can fill the server and starve the others; raise it to at least ${sum}`;
}

/**
 * The one line a refused client is sent before the socket closes, or null
 * where that is not cheap: on implicit-TLS listeners a reply would first need
 * a full TLS handshake (the CPU an overloaded server should not spend), so
 * those are closed without a word, like a refused TCP connection.
 */
export function refusalLine(listener: ListenerName, hostname: string, reason: Refusal): string | null {
  const shutdown = reason === "shutdown";
  switch (listener) {
    case "SMTP":
    case "SUBMISSION":
      // RFC 5321 §3.8 / §4.2.3: 421 closes the transmission channel; RFC 3463 4.7.0 (security/policy, temporary). Postfix's
      // anvil limit answers "421 4.7.0 <host> Error: too many connections from <ip>".
      return shutdown ? `421 4.3.2 ${hostname} Service shutting down\r\n` : `421 4.7.0 ${hostname} Too many connections, try again later\r\n`;
    case "IMAP":
      // RFC 9051 §7.1.5 BYE, RFC 5530 §3 UNAVAILABLE: temporary, try again later.
      return shutdown ? "* BYE [UNAVAILABLE] Server shutting down\r\n" : "* BYE [UNAVAILABLE] Too many connections, try again later\r\n";
    case "POP3":
      // RFC 3206 §4 SYS/TEMP: a transient system error.
      return shutdown ? "-ERR [SYS/TEMP] Server shutting down\r\n" : "-ERR [SYS/TEMP] Too many connections, try again later\r\n";
    case "MANAGESIEVE":
      // RFC 5804 §1.3 TRYLATER: a temporary failure; BYE closes the connection (§4 response-bye).
      return shutdown ? 'BYE (TRYLATER) "Server shutting down"\r\n' : 'BYE (TRYLATER) "Too many connections, try again later"\r\n';
    case "HTTP":
      // RFC 9110 §15.6.4 503 with Retry-After (§10.2.3).
      return "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 10\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: 33\r\n\r\nToo many connections, try later.\n";
    default:
      return null;
  }
}
