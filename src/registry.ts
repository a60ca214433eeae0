/**
 * The protocol registry. Each protocol module registers itself here (its
 * `index.ts` calls `registerProtocol`), and `serve` starts every registered
 * listener that the configuration enables, handing it the shared context
 * (store, TLS, auth, logger, submission path).
 *
 * The kernel owns the sockets: it binds every listener, reports bind errors
 * in one line, wraps implicit-TLS listeners, and passes each accepted
 * connection to the protocol's `onConnection`. A protocol that needs to
 * own its server (HTTP) may implement `attach` instead.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerContext } from "./context.ts";

/** Every listener name the configuration knows, with its default port. */
export const LISTENER_DEFAULTS = {
  SMTP: 25,
  SUBMISSION: 587,
  SUBMISSIONS: 465,
  IMAP: 143,
  IMAPS: 993,
  POP3: 110,
  POP3S: 995,
  HTTP: 80,
  HTTPS: 443,
  /** ManageSieve (RFC 5804 §1.8: port 4190), STARTTLS. */
  MANAGESIEVE: 4190,
} as const;
export type ListenerName = keyof typeof LISTENER_DEFAULTS;

/** Implicit TLS listeners: the kernel completes the handshake before `onConnection`. */
export const IMPLICIT_TLS: ReadonlySet<ListenerName> = new Set(["SUBMISSIONS", "IMAPS", "POP3S", "HTTPS"]);

export interface ListenerInfo {
  name: ListenerName;
  host: string;
  port: number;
  /** True when the socket handed over is already TLS (implicit TLS listener). */
  implicitTls: boolean;
}

export interface ProtocolModule {
  /** e.g. "smtp", "imap". */
  name: string;
  /** The listeners this protocol serves. */
  listeners: ListenerName[];
  /** Called once before any listener opens (start queues, timers...). */
  start?(ctx: ServerContext): Promise<void> | void;
  /** One accepted connection. For implicit TLS listeners `socket` is a TLSSocket. */
  onConnection(socket: Socket | TLSSocket, listener: ListenerInfo, ctx: ServerContext): void;
  /** Graceful shutdown: stop accepting, finish in-flight writes, close sessions. */
  stop?(): Promise<void> | void;
}

const modules: ProtocolModule[] = [];

export function registerProtocol(mod: ProtocolModule): void {
  if (modules.some((m) => m.name === mod.name)) throw new Error(`protocol ${mod.name} registered twice`);
  modules.push(mod);
}

export function registeredProtocols(): readonly ProtocolModule[] {
  return modules;
}

/** The module serving a listener, if its protocol is built. */
export function protocolFor(listener: ListenerName): ProtocolModule | undefined {
  return modules.find((m) => m.listeners.includes(listener));
}
