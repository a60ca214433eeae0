/**
 * Socket glue: connects one accepted socket to a sans-IO `Pop3Session`
 * (flow control both ways, STLS upgrade, idle timeout, close).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerContext } from "../../src/context.ts";
import type { Config } from "../../src/config-types.ts";
import { Pop3Session, type Pop3Deps, type Pop3Io, type Pop3Options } from "./session.ts";

/** Seconds of linger after we end a connection before the socket is destroyed outright. */
const CLOSE_LINGER_MS = 10_000;

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
  const s = config.pop3.idleTimeoutSeconds;
  return (typeof s === "number" && s > 0 ? s : 600) * 1000;
}

/**
 * How long a client may stay connected without logging in, counted from connect and not reset by commands
 * (pop3.login_timeout_seconds; Dovecot's login processes give 3 minutes the same way).
 */
export function loginTimeoutMs(config: Config): number {
  const s = config.pop3.loginTimeoutSeconds;
  return (typeof s === "number" && s > 0 ? s : 180) * 1000;
}

export function remoteIpOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? "unknown";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

export function serveConnection(
  socket: Socket | TLSSocket,
  implicitTls: boolean,
  ctx: ServerContext,
  deps: Pop3Deps,
  onEnd: (s: Pop3Session) => void,
): Pop3Session {
  let sock: Socket = socket;
  let closed = false;
  let drainWaiters: (() => void)[] = [];
  const wakeDrain = () => {
    const w = drainWaiters;
    drainWaiters = [];
    for (const f of w) f();
  };
  const timeoutMs = idleTimeoutMs(ctx.config);

  const io: Pop3Io = {
    write(data) {
      if (closed) return true;
      return sock.write(data);
    },
    drain() {
      if (closed || !sock.writableNeedDrain) return Promise.resolve();
      return new Promise((res) => drainWaiters.push(res));
    },
    async startTls(okLine) {
      // Stop reading the cleartext stream before the client can start the
      // handshake: its ClientHello must reach the TLS layer, not the parser.
      detach(sock);
      sock.pause();
      sock.write(okLine);
      try {
        const tls = await ctx.tls.upgrade(sock);
        if (closed) {
          tls.destroy();
          return false;
        }
        sock = tls;
        attach(sock);
        sock.resume();
        return true;
      } catch (err) {
        deps.log.debug("pop3 STLS handshake failed", { err });
        attach(sock);
        return false;
      }
    },
    pauseInput() {
      sock.pause();
    },
    resumeInput() {
      sock.resume();
    },
    whenIdle(fn) {
      // setImmediate runs after this turn's socket writes and the I/O poll.
      const t = setImmediate(fn);
      return () => clearImmediate(t);
    },
    close() {
      if (closed) return;
      sock.end();
      const s = sock;
      setTimeout(() => s.destroy(), CLOSE_LINGER_MS).unref?.();
    },
  };

  const session = new Pop3Session(io, deps, remoteIpOf(socket), { secure: implicitTls });

  const onData = (chunk: Uint8Array) => session.receive(chunk);
  const onClose = () => {
    if (closed) return;
    closed = true;
    clearTimeout(loginTimer);
    wakeDrain();
    session.onClose();
    onEnd(session);
  };
  const onError = (err: Error) => {
    deps.log.debug("pop3 socket error", { err });
  };
  const onTimeout = () => session.timeout();

  function attach(s: Socket): void {
    // Every response is written whole; Nagle's algorithm would only delay the last segment.
    s.setNoDelay?.(true);
    s.on("data", onData);
    s.on("close", onClose);
    s.on("error", onError);
    s.on("drain", wakeDrain);
    s.on("timeout", onTimeout);
    s.setTimeout(timeoutMs);
  }
  function detach(s: Socket): void {
    s.removeListener("data", onData);
    s.removeListener("close", onClose);
    s.removeListener("drain", wakeDrain);
    s.removeListener("timeout", onTimeout);
    s.setTimeout(0);
    // Keep the error listener: an error on the old socket must not crash the process.
  }

  const loginTimer = setTimeout(() => session.loginTimeout(), loginTimeoutMs(ctx.config));
  loginTimer.unref?.();
  attach(sock);
  session.greet();
  return session;
}
