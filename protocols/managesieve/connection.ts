/**
 * Socket glue: connects one accepted socket to a sans-IO `SieveSession`
 * (flow control both ways, STARTTLS upgrade, idle and login timeouts, close).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { ServerContext } from "../../src/context.ts";
import type { Config } from "../../src/config-types.ts";
import { SieveSession, type ManageSieveDeps, type SieveIo } from "./session.ts";

/** Linger after we end a connection before the socket is destroyed outright. */
const CLOSE_LINGER_MS = 10_000;

/** The IMAP idle timeout (imap.idle_timeout_seconds): ManageSieve has its users and its clients. */
export function idleTimeoutMs(config: Config): number {
  const s = config.imap.idleTimeoutSeconds;
  return (typeof s === "number" && s > 0 ? s : 1800) * 1000;
}

/** The IMAP login timeout (imap.login_timeout_seconds), counted from connect or UNAUTHENTICATE, not reset by commands. */
export function loginTimeoutMs(config: Config): number {
  const s = config.imap.loginTimeoutSeconds;
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
  deps: ManageSieveDeps,
  onEnd: (s: SieveSession) => void,
): SieveSession {
  let sock: Socket = socket;
  let closed = false;
  let drainWaiters: (() => void)[] = [];
  const wakeDrain = () => {
    const w = drainWaiters;
    drainWaiters = [];
    for (const f of w) f();
  };
  const loginMs = loginTimeoutMs(ctx.config);
  let loginTimer: ReturnType<typeof setTimeout> | null = null;
  const armLogin = (on: boolean) => {
    if (loginTimer) clearTimeout(loginTimer);
    loginTimer = null;
    if (on && !closed) {
      loginTimer = setTimeout(() => session.loginTimeout(), loginMs);
      loginTimer.unref?.();
    }
  };

  const io: SieveIo = {
    write(data) {
      if (closed) return true;
      return sock.write(data);
    },
    drain() {
      if (closed || !sock.writableNeedDrain) return Promise.resolve();
      return new Promise((res) => drainWaiters.push(res));
    },
    async startTls(okLine) {
      // Stop reading the cleartext stream before the client can start the handshake: its ClientHello must reach the
      // TLS layer, not the parser.
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
        deps.log.debug("managesieve STARTTLS handshake failed", { err, ip: session.remoteIp });
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
    close() {
      if (closed) return;
      sock.end();
      const s = sock;
      setTimeout(() => s.destroy(), CLOSE_LINGER_MS).unref?.();
    },
    loginTimer: armLogin,
  };

  const session = new SieveSession(io, deps, remoteIpOf(socket), { secure: implicitTls });

  const onData = (chunk: Uint8Array) => session.receive(chunk);
  const onClose = () => {
    if (closed) return;
    closed = true;
    armLogin(false);
    wakeDrain();
    session.onClose();
    onEnd(session);
  };
  const onError = (err: Error) => {
    deps.log.debug("managesieve socket error", { err });
  };
  const onTimeout = () => session.timeout();

  function attach(s: Socket): void {
    s.setNoDelay?.(true);
    s.on("data", onData);
    s.on("close", onClose);
    s.on("error", onError);
    s.on("drain", wakeDrain);
    s.on("timeout", onTimeout);
    s.setTimeout(idleTimeoutMs(ctx.config));
  }
  function detach(s: Socket): void {
    s.removeListener("data", onData);
    s.removeListener("close", onClose);
    s.removeListener("drain", wakeDrain);
    s.removeListener("timeout", onTimeout);
    s.setTimeout(0);
    // Keep the error listener: an error on the old socket must not crash the process.
  }

  armLogin(true);
  attach(sock);
  session.greet();
  return session;
}
