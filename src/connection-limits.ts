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
export class ConnectionAccounting {
  private total = 0;
  private readonly perFamily = new Map<ConnectionFamily, number>();
  /** family -> ip -> open connections */
  private readonly perIp = new Map<ConnectionFamily, Map<string, number>>();

  constructor(private readonly limits: Config["limits"]) {
    for (const f of CONNECTION_FAMILIES) {
      this.perFamily.set(f, 0);
      this.perIp.set(f, new Map());
    }
  }

  admit(listener: ListenerName, ip: string): Admission | { ok: false; family: ConnectionFamily; reason: Refusal } {
    const family = FAMILY_OF[listener];
    const ips = this.perIp.get(family)!;
    const n = this.perFamily.get(family)!;
    if (this.total >= this.limits.maxConnections) return { ok: false, family, reason: "total" };
    if (n >= this.limits.connections[family]) return { ok: false, family, reason: "family" };
    if ((ips.get(ip) ?? 0) >= this.limits.maxConnectionsPerIp) return { ok: false, family, reason: "ip" };
    this.total++;
    this.perFamily.set(family, n + 1);
    ips.set(ip, (ips.get(ip) ?? 0) + 1);
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
