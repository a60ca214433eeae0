/**
 * Socket glue for the line protocols whose sessions are sans-IO (POP3, ManageSieve): connects one accepted socket
 * to a session object — flow control both ways (write/drain with waiters, pause/resume of input), the STARTTLS/STLS
 * upgrade (detach, pause, upgrade, re-attach), the idle and login timers, and close with a linger. What differs per
 * protocol (the session, the timeouts, the log wording) comes in as options; the protocol keeps its own config
 * reading and its own session.
 *
 * IMAP does not use this: its session owns its socket (COMPRESS=DEFLATE sits between the two) and one sweeper
 * enforces the timeouts of every IMAP session (protocols/imap/index.ts).
 */
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { TlsProvider } from "./context.ts";
import type { Logger } from "./log.ts";

/** Linger after we end a connection before the socket is destroyed outright (a client that never reads). */
export const CLOSE_LINGER_MS = 10_000;

/** The connection side a session sees; the protocols' own Io interfaces are subsets of this. */
export interface LineIo {
  /** Queues bytes; false when the socket buffer is full (await `drain`). Writing after close is a no-op. */
  write(data: string | Uint8Array): boolean;
  /** Resolves when the output buffer has room again (or the connection closed). */
  drain(): Promise<void>;
  /** Sends `okLine` in the clear, then negotiates TLS as the server. Resolves false on failure. */
  startTls(okLine: string): Promise<boolean>;
  pauseInput(): void;
  resumeInput(): void;
  /** Ends the connection after the queued output; the socket is destroyed after CLOSE_LINGER_MS at the latest. */
  close(): void;
  /** Runs `fn` after this turn's socket writes and the I/O poll. Returns a cancel function. */
  whenIdle(fn: () => void): () => void;
  /** (Re)starts (true) or stops (false) the login deadline. It starts at connect. */
  loginTimer(on: boolean): void;
}

/** What every line session uses of its connection; a protocol adds the optional parts it needs (whenIdle, loginTimer). */
export type LineSessionIo = Pick<LineIo, "write" | "drain" | "startTls" | "pauseInput" | "resumeInput" | "close">;

/** What the glue calls on a session. */
export interface LineSession {
  greet(): void;
  receive(chunk: Uint8Array): void;
  /** The socket was idle for the idle timeout. */
  timeout(): void;
  /** The login deadline passed (the session checks whether it is still unauthenticated). */
  loginTimeout(): void;
  /** The socket closed under us (client hung up, network error, or after our own close). */
  onClose(): void;
}

export interface LineConnectionOptions<S extends LineSession> {
  /** The server's STARTTLS upgrader (ctx.tls). */
  tls: Pick<TlsProvider, "upgrade">;
  log: Logger;
  /** Names the protocol and its upgrade command in debug lines, e.g. "pop3" / "STLS". */
  protocol: string;
  startTlsCommand: string;
  /** Looked up whenever a socket is attached (connect, after the TLS upgrade): a live config change applies. */
  idleTimeoutMs(): number;
  /** From connect, and again each time the session restarts the login timer. */
  loginTimeoutMs: number;
  createSession(io: LineIo, remoteIp: string): S;
  /** Called once, when the socket has closed. */
  onEnd(session: S): void;
}

/** The client's address, IPv4-mapped IPv6 written as plain IPv4. */
export function remoteIpOf(socket: Socket): string {
  const ip = socket.remoteAddress ?? "unknown";
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

/** A timeout setting in seconds as milliseconds: a positive number, or else the default (never zero: no timer). */
export function secondsSetting(seconds: number | null | undefined, defaultSeconds: number): number {
  return (typeof seconds === "number" && seconds > 0 ? seconds : defaultSeconds) * 1000;
}

/**
 * A session's side of STARTTLS/STLS: drops what the client pipelined in the clear before the command's OK and
 * during the handshake (RFC 3207 §4.2, RFC 2595 §4, RFC 5804 §2.2), sends `okLine` and upgrades; on failure the
 * session ends. True once TLS is up: the caller then resets its cleartext state and answers as its protocol says.
 */
export async function upgradeSession(
  session: { readonly io: Pick<LineSessionIo, "startTls">; discardInput(): void; end(): void },
  okLine: string,
): Promise<boolean> {
  session.discardInput();
  const up = await session.io.startTls(okLine);
  session.discardInput();
  if (!up) session.end();
  return up;
}

export function serveLineConnection<S extends LineSession>(socket: Socket | TLSSocket, opts: LineConnectionOptions<S>): S {
  let sock: Socket = socket;
  let closed = false;
  let drainWaiters: (() => void)[] = [];
  const wakeDrain = () => {
    const w = drainWaiters;
    drainWaiters = [];
    for (const f of w) f();
  };
  let loginTimer: ReturnType<typeof setTimeout> | null = null;
  const armLogin = (on: boolean) => {
    if (loginTimer) clearTimeout(loginTimer);
    loginTimer = null;
    if (on && !closed) {
      loginTimer = setTimeout(() => session.loginTimeout(), opts.loginTimeoutMs);
      loginTimer.unref?.();
    }
  };
  const remoteIp = remoteIpOf(socket);

  const io: LineIo = {
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
      // TLS layer, not the parser (and what it pipelined in the clear is not read as commands, RFC 3207 §4.2).
      detach(sock);
      sock.pause();
      sock.write(okLine);
      try {
        const tls = await opts.tls.upgrade(sock);
        if (closed) {
          tls.destroy();
          return false;
        }
        sock = tls;
        attach(sock);
        sock.resume();
        return true;
      } catch (err) {
        opts.log.debug(`${opts.protocol} ${opts.startTlsCommand} handshake failed`, { err, ip: remoteIp });
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
    loginTimer: armLogin,
  };

  const session = opts.createSession(io, remoteIp);

  const onData = (chunk: Uint8Array) => session.receive(chunk);
  const onClose = () => {
    if (closed) return;
    closed = true;
    armLogin(false);
    wakeDrain();
    session.onClose();
    opts.onEnd(session);
  };
  const onError = (err: Error) => {
    opts.log.debug(`${opts.protocol} socket error`, { err });
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
    s.setTimeout(opts.idleTimeoutMs());
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
