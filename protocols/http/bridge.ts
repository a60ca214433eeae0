/**
 * Bridges node:http to a fetch-style handler (Hono's `app.fetch`).
 *
 * The kernel owns the listening sockets and hands each accepted connection
 * to the protocol; we feed it to a non-listening `http.Server` with
 * `emit("connection", socket)` (works on Bun, Deno and Node), turn each
 * IncomingMessage into a web `Request`, and write the `Response` back with
 * backpressure, streaming (Server-Sent Events rely on it) and the security
 * headers filled in.
 */
import http from "node:http";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import { securityHeaders } from "./headers.ts";
import { connectionTimeouts, HTTP_TIMEOUTS, type HttpTimeouts } from "./conn-timeouts.ts";

export interface HttpEnv {
  /** Scheme of the listener the request came in on. */
  scheme: "http" | "https";
  remoteIp: string;
  /** Port of the listener. */
  localPort: number;
}

export type FetchHandler = (req: Request, env: HttpEnv) => Response | Promise<Response>;

export interface BridgeOptions {
  scheme: "http" | "https";
  /** Fallback Host when the client sent none (HTTP/1.0). */
  defaultHost: () => string;
  onError?: (err: unknown) => void;
  /** Overrides of the connection time bounds (tests). */
  timeouts?: Partial<HttpTimeouts>;
}

// RFC 9110 §7.2 / RFC 3986 §3.2.2: host [":" port]; anything else is refused so a URL can always be built.
const HOST_RE = /^(?:[a-z0-9.-]+|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

export function createBridge(handler: FetchHandler, opts: BridgeOptions): { server: http.Server; sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  const server = http.createServer({ maxHeaderSize: 32 * 1024 }, (req, res) => {
    void serve(req, res).catch((err) => {
      // AbortError: the handler ended its own streamed body on purpose (events.ts); not a server failure.
      if (!(err instanceof Error && err.name === "AbortError")) opts.onError?.(err);
      if (!res.headersSent) {
        res.writeHead(500, Object.fromEntries([...securityHeaders(opts.scheme === "https"), ["content-type", "text/plain; charset=utf-8"]]));
        res.end("Internal error\n");
      } else res.destroy();
    });
  });
  // Slow-loris bounds: headers within 30 s, a whole request body within 10 min (large uploads), idle keep-alive 10 s.
  // node:http's own settings below hold on Node; Bun ignores them for handed-over sockets, so conn-timeouts.ts enforces them.
  server.headersTimeout = 30_000;
  server.requestTimeout = 600_000;
  server.keepAliveTimeout = 10_000;
  const watch = connectionTimeouts(server, { ...HTTP_TIMEOUTS, ...opts.timeouts });
  server.on("connection", (s: Socket) => {
    watch(s);
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });

  async function serve(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const https = opts.scheme === "https";
    let host = req.headers.host ?? opts.defaultHost();
    if (!HOST_RE.test(host)) {
      res.writeHead(400, Object.fromEntries([...securityHeaders(https), ["content-type", "text/plain; charset=utf-8"]]));
      res.end("Bad Host header\n");
      return;
    }
    host = host.toLowerCase();
    const url = `${opts.scheme}://${host}${req.url?.startsWith("/") ? req.url : "/"}`;
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      try {
        headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
      } catch {
        // A header the fetch API refuses (invalid bytes): drop it rather than fail the request.
      }
    }
    const method = req.method ?? "GET";
    const hasBody = method !== "GET" && method !== "HEAD";
    const abort = new AbortController();
    res.on("close", () => abort.abort());
    const init: RequestInit & { duplex?: "half" } = { method, headers, signal: abort.signal };
    if (hasBody) {
      init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
      init.duplex = "half";
    }
    const request = new Request(url, init);
    const env: HttpEnv = {
      scheme: opts.scheme,
      remoteIp: normaliseIp(req.socket.remoteAddress ?? ""),
      localPort: req.socket.localPort ?? 0,
    };
    const response = await handler(request, env);
    const unread = () => hasBody && !req.readableEnded;
    await writeResponse(response, res, method === "HEAD", https, abort.signal, () => unread() && response.status >= 400);
    // An unread request body must not stall keep-alive: a refused one (e.g. an upload over the limit)
    // closes the connection instead of reading the rest; otherwise drain it.
    if (unread()) {
      if (response.status >= 400) req.socket?.end(); // null when the runtime already detached it
      else req.resume();
    }
  }

  return { server, sockets };
}

function normaliseIp(ip: string): string {
  return ip.startsWith("::ffff:") ? ip.slice(7) : ip;
}

async function writeResponse(response: Response, res: http.ServerResponse, head: boolean, https: boolean, signal: AbortSignal, closing: () => boolean): Promise<void> {
  const out: Record<string, string | string[]> = {};
  if (closing()) out.connection = "close";
  response.headers.forEach((v, k) => {
    if (k !== "set-cookie") out[k] = v;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies;
  for (const [k, v] of securityHeaders(https)) if (!(k in out)) out[k] = v;
  res.writeHead(response.status, response.statusText || undefined, out);
  if (head || !response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  const onAbort = () => void reader.cancel().catch(() => {});
  signal.addEventListener("abort", onAbort, { once: true });
  // A body that fails while we wait for the socket to drain (an event stream whose client fell too far
  // behind, events.ts) must end the wait too: the next read() then throws and the connection is dropped.
  let failed: () => void = () => {};
  const bodyFailed = new Promise<void>((resolve) => (failed = resolve));
  reader.closed.catch(() => failed());
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) break;
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            res.off("drain", done);
            res.off("close", done);
            resolve();
          };
          res.on("drain", done);
          res.on("close", done);
          void bodyFailed.then(done);
        });
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    if (!res.destroyed) res.end();
    reader.releaseLock?.();
  }
}
