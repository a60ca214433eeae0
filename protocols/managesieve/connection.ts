/**
 * Connects one accepted socket to a sans-IO `SieveSession` through the kernel's line-protocol glue
 * (src/line-connection.ts: flow control both ways, STARTTLS upgrade, idle and login timeouts, close), with the
 * IMAP timeouts.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerContext } from "../../src/context.ts";
import type { Config } from "../../src/config-types.ts";
import { secondsSetting, serveLineConnection } from "../../src/line-connection.ts";
import { SieveSession, type ManageSieveDeps } from "./session.ts";

/** The IMAP idle timeout (imap.idle_timeout_seconds): ManageSieve has its users and its clients. */
export function idleTimeoutMs(config: Config): number {
  return secondsSetting(config.imap.idleTimeoutSeconds, 1800);
}

/** The IMAP login timeout (imap.login_timeout_seconds), counted from connect or UNAUTHENTICATE, not reset by commands. */
export function loginTimeoutMs(config: Config): number {
  return secondsSetting(config.imap.loginTimeoutSeconds, 180);
}

export function serveConnection(
  socket: Socket | TLSSocket,
  implicitTls: boolean,
  ctx: ServerContext,
  deps: ManageSieveDeps,
  onEnd: (s: SieveSession) => void,
): SieveSession {
  return serveLineConnection(socket, {
    tls: ctx.tls,
    log: deps.log,
    protocol: "managesieve",
    startTlsCommand: "STARTTLS",
    idleTimeoutMs: () => idleTimeoutMs(ctx.config),
    // Stopped at login and restarted by UNAUTHENTICATE (SieveSession.loggedIn / loggedOut).
    loginTimeoutMs: loginTimeoutMs(ctx.config),
    createSession: (io, ip) => new SieveSession(io, deps, ip, { secure: implicitTls }),
    onEnd,
  });
}
