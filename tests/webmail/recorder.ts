/**
 * A recording forward proxy for Chromium (`--proxy-server`): every request
 * the browser makes to a host other than loopback goes through it and is
 * written down, whatever frame or tab made it (Playwright's own request
 * events do not see requests from sandboxed srcdoc frames). Hosts the test
 * chooses get an answer (HTTPS via CONNECT + TLS with the test server's
 * certificate); everything else is refused.
 */
import http from "node:http";
import type { Socket } from "node:net";
import type { TlsProvider } from "../../src/context.ts";

export interface Answer {
  status: number;
  type: string;
  body: Buffer;
}

export interface Recorder {
  port: number;
  /** URLs (https CONNECT tunnels to refused hosts as `https://host:port/`). */
  requests: string[];
  close(): Promise<void>;
}

export async function startRecorder(tls: TlsProvider, answer: (url: URL) => Answer | null): Promise<Recorder> {
  const requests: string[] = [];
  const sockets = new Set<Socket>();
  const respond = (url: URL, res: http.ServerResponse) => {
    const a = answer(url);
    if (!a) {
      res.writeHead(403, { "content-type": "text/plain" });
      res.end("refused by test recorder\n");
      return;
    }
    res.writeHead(a.status, { "content-type": a.type, "content-length": String(a.body.length), "access-control-allow-origin": "*" });
    res.end(a.body);
  };
  // Inside CONNECT tunnels, after TLS: origin-form requests.
  const inner = http.createServer((req, res) => {
    const url = new URL(`https://${req.headers.host}${req.url}`);
    requests.push(url.href);
    respond(url, res);
  });
  const proxy = http.createServer((req, res) => {
    // Plain-http proxy requests carry an absolute URL.
    let url: URL;
    try {
      url = new URL(req.url ?? "");
    } catch {
      res.writeHead(400).end();
      return;
    }
    requests.push(url.href);
    respond(url, res);
  });
  proxy.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
    s.on("error", () => {});
  });
  proxy.on("connect", (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    const target = req.url ?? "";
    const host = target.replace(/:\d+$/, "");
    if (!answer(new URL(`https://${host}/`))) {
      requests.push(`https://${target}/`);
      socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    socket.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length) socket.unshift(head);
    tls.upgrade(socket).then(
      (t) => inner.emit("connection", t),
      () => socket.destroy(),
    );
  });
  await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
  const port = (proxy.address() as { port: number }).port;
  return {
    port,
    requests,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => proxy.close(() => r()));
    },
  };
}
