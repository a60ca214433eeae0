/**
 * Issue 13 item 4: connections that never log in or never finish a request
 * must not hold a connection slot for long.
 *
 * - POP3: a client must log in within pop3.loginTimeoutSeconds of connecting,
 *   however busy it keeps the session with commands (Dovecot's login timeout);
 *   after login only the RFC 1939 §3 autologout timer (>= 10 min) applies.
 * - HTTP: the bridge closes a connection that sends no request, sends its
 *   headers too slowly, or sits idle between keep-alive requests (Bun's
 *   node:http ignores server.headersTimeout/keepAliveTimeout for the sockets
 *   the kernel hands over, so the bridge keeps its own timers).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type AddressInfo, type Server } from "node:net";
import { LineConn } from "../reliability/lib/conn.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { createBridge } from "../../protocols/http/bridge.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("POP3 login deadline", () => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer({ listeners: ["POP3"], config: { pop3: { loginTimeoutSeconds: 1 } } });
    await createUser(srv.store, "dora@idle.test", "idle-pass");
  });
  afterAll(() => srv.close());

  test("a client busy with CAPA but never logging in is disconnected at the deadline", async () => {
    const c = await LineConn.connect(srv.port("POP3"));
    expect(await c.line()).toStartWith("+OK");
    const lines: string[] = [];
    // Keep the session active: a command every 200 ms would reset an inactivity timer forever.
    const tick = setInterval(() => c.write("CAPA\r\n"), 200);
    try {
      const closed = await c.waitClose(8000);
      expect(closed).toBe(true);
    } finally {
      clearInterval(tick);
    }
    // waitClose drops what it read; ask again on a fresh connection to see the reply text.
    const d = await LineConn.connect(srv.port("POP3"));
    await d.line();
    for (;;) {
      const l = await d.line(8000).catch(() => null);
      if (l === null) break;
      lines.push(l);
    }
    expect(lines.at(-1)).toBe("-ERR [SYS/TEMP] Disconnected: no login in time");
  }, 20_000);

  test("a logged-in session outlives the login deadline", async () => {
    const c = await LineConn.connect(srv.port("POP3"));
    await c.line();
    c.write("USER dora@idle.test\r\n");
    expect(await c.line()).toStartWith("+OK");
    c.write("PASS idle-pass\r\n");
    expect(await c.line()).toStartWith("+OK");
    await sleep(1600);
    c.write("STAT\r\n");
    expect(await c.line()).toStartWith("+OK 0 0");
    c.close();
  }, 20_000);
});

describe("HTTP connection time bounds", () => {
  let lsn: Server;
  let port = 0;
  beforeAll(async () => {
    const bridge = createBridge(async (req) => new Response(req.method === "POST" ? `got ${(await req.text()).length}\n` : "hi\n"), {
      scheme: "http",
      defaultHost: () => "localhost",
      timeouts: { headersMs: 1000, keepAliveMs: 500, requestMs: 2000 },
    });
    lsn = createServer((s) => bridge.server.emit("connection", s));
    await new Promise<void>((r) => lsn.listen(0, "127.0.0.1", r));
    port = (lsn.address() as AddressInfo).port;
  });
  afterAll(() => lsn.close());

  test("a connection that sends nothing is closed", async () => {
    const c = await LineConn.connect(port);
    expect(await c.waitClose(6000)).toBe(true);
  }, 15_000);

  test("request headers sent a line at a time (slow loris) are cut off", async () => {
    const c = await LineConn.connect(port);
    c.write("GET / HTTP/1.1\r\nHost: localhost\r\n");
    const tick = setInterval(() => c.write("X-Slow: 1\r\n"), 200);
    try {
      expect(await c.waitClose(6000)).toBe(true);
    } finally {
      clearInterval(tick);
    }
  }, 15_000);

  test("an idle keep-alive connection is closed after its response; a prompt next request is served", async () => {
    const c = await LineConn.connect(port);
    c.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
    expect(await c.line()).toBe("HTTP/1.1 200 OK");
    // Well inside the keep-alive window: served on the same connection.
    await sleep(100);
    c.write("GET /again HTTP/1.1\r\nHost: localhost\r\n\r\n");
    let second = "";
    for (let l = await c.line(); ; l = await c.line()) if (l.startsWith("HTTP/1.1")) { second = l; break; }
    expect(second).toBe("HTTP/1.1 200 OK");
    expect(await c.waitClose(6000)).toBe(true);
  }, 15_000);

  test("a request body trickled past the request deadline is cut off", async () => {
    const c = await LineConn.connect(port);
    c.write("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n");
    const tick = setInterval(() => c.write("x"), 100);
    try {
      expect(await c.waitClose(8000)).toBe(true);
    } finally {
      clearInterval(tick);
    }
  }, 15_000);
});
