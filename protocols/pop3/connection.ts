/**
 * Connects one accepted socket to a sans-IO `Pop3Session` through the kernel's line-protocol glue
 * (src/line-connection.ts: flow control both ways, STLS upgrade, idle and login timeouts, close), and reads the
 * POP3 settings it needs.
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerContext } from "../../src/context.ts";
import type { Config } from "../../src/config-types.ts";
import { secondsSetting, serveLineConnection } from "../../src/line-connection.ts";
import { Pop3Session, type Pop3Deps, type Pop3Options } from "./session.ts";

export function pop3Options(config: Config): Pop3Options {
  const p = config.pop3;
  // RFC 2449 §6.5 LOGIN-DELAY / §6.7 EXPIRE: null means "not advertised".
  const delay = p.loginDelaySeconds ?? null;
  const expire: Pop3Options["expire"] = p.expire ?? null;
  return {
    hostname: config.hostname,
    allowPlaintextAuth: p.allowPlaintextAuth === true,
    tlsAvailable: true,
    loginDelaySeconds: delay,
    expire,
  };
}

/** RFC 1939 §3: the autologout timer is at least 10 minutes; a config may shorten it (tests), never to zero. */
export function idleTimeoutMs(config: Config): number {
  return secondsSetting(config.pop3.idleTimeoutSeconds, 600);
}

/**
 * How long a client may stay connected without logging in, counted from connect and not reset by commands
 * (pop3.login_timeout_seconds; Dovecot's login processes give 3 minutes the same way).
 */
export function loginTimeoutMs(config: Config): number {
  return secondsSetting(config.pop3.loginTimeoutSeconds, 180);
}

export function serveConnection(
  socket: Socket | TLSSocket,
  implicitTls: boolean,
  ctx: ServerContext,
  deps: Pop3Deps,
  onEnd: (s: Pop3Session) => void,
): Pop3Session {
  return serveLineConnection(socket, {
    tls: ctx.tls,
    log: deps.log,
    protocol: "pop3",
    startTlsCommand: "STLS",
    idleTimeoutMs: () => idleTimeoutMs(ctx.config),
    // Never restarted: the session ignores it once logged in (Pop3Session.loginTimeout).
    loginTimeoutMs: loginTimeoutMs(ctx.config),
    createSession: (io, ip) => new Pop3Session(io, deps, ip, { secure: implicitTls }),
    onEnd,
  });
}
