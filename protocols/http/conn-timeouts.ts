/**
 * Time bounds for HTTP connections that are not doing anything useful:
 * a client that connects and sends nothing, sends its request headers a line
 * at a time (slow loris), keeps an idle keep-alive connection, or trickles a
 * request body.
 *
 * They are enforced here because Bun's node:http does not apply
 * `server.headersTimeout`, `keepAliveTimeout` or `requestTimeout` to the
 * connections the kernel hands over with `emit("connection")`: measured with
 * Bun 1.4.5, a silent socket, a request sending one header line every 300 ms
 * and an idle keep-alive connection all stayed open well past limits of 1-3 s.
 * The values follow Node's defaults in spirit (headers 60 s there, keep-alive
 * 5 s); nginx uses client_header_timeout 60 s and keepalive_timeout 75 s.
 *
 * A response being written (downloads, the webmail's event stream) is never
 * cut by these timers: its own backpressure bounds apply.
 */
import type http from "node:http";
import type { Socket } from "node:net";

export interface HttpTimeouts {
  /** The request headers must be complete this long after the connection opens or the next request starts. */
  headersMs: number;
  /** An idle keep-alive connection (no request in flight, nothing received) is closed after this long. */
  keepAliveMs: number;
  /** A request body must be received within this long (large uploads). */
  requestMs: number;
}

export const HTTP_TIMEOUTS: HttpTimeouts = { headersMs: 30_000, keepAliveMs: 10_000, requestMs: 600_000 };

interface ConnState {
  timer: ReturnType<typeof setTimeout> | null;
  inflight: number;
}

/** Installs the timers on `server`; call the returned function for each connection handed to it. */
export function connectionTimeouts(server: http.Server, t: HttpTimeouts = HTTP_TIMEOUTS): (socket: Socket) => void {
  const conns = new WeakMap<Socket, ConnState>();
  const clear = (st: ConnState) => {
    if (st.timer) clearTimeout(st.timer);
    st.timer = null;
  };
  const arm = (socket: Socket, st: ConnState, ms: number, onExpire: () => void) => {
    clear(st);
    st.timer = setTimeout(onExpire, ms);
    st.timer.unref?.();
  };
  // Between requests: close when idle; if the next request has started arriving, give its headers the rest of headersMs.
  const armKeepAlive = (socket: Socket, st: ConnState) => {
    const before = socket.bytesRead;
    arm(socket, st, t.keepAliveMs, () => {
      if (socket.bytesRead === before) socket.destroy();
      else arm(socket, st, Math.max(1, t.headersMs - t.keepAliveMs), () => socket.destroy());
    });
  };

  server.on("request", (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket as Socket;
    const st = conns.get(socket);
    if (!st) return;
    st.inflight++;
    clear(st);
    let body: ReturnType<typeof setTimeout> | null = null;
    // GET and HEAD carry no body (the bridge never reads one); a long GET such as the event stream is a response, not a slow request.
    if (req.method !== "GET" && req.method !== "HEAD" && !req.complete) {
      body = setTimeout(() => socket.destroy(), t.requestMs);
      body.unref?.();
      req.once("end", () => body && clearTimeout(body));
    }
    let done = false;
    const finished = () => {
      if (done) return;
      done = true;
      if (body) clearTimeout(body);
      st.inflight--;
      if (st.inflight === 0 && !socket.destroyed) armKeepAlive(socket, st);
    };
    res.once("finish", finished);
    res.once("close", finished);
  });

  return (socket: Socket) => {
    const st: ConnState = { timer: null, inflight: 0 };
    conns.set(socket, st);
    arm(socket, st, t.headersMs, () => socket.destroy());
    socket.once("close", () => clear(st));
  };
}
