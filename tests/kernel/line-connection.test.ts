/**
 * The kernel's glue for the sans-IO line protocols (src/line-connection.ts) over real sockets, with a small test
 * session in place of POP3's or ManageSieve's, and the bounded command queue those sessions share
 * (src/command-queue.ts). The protocols' own suites (tests/pop3, tests/managesieve) cover the same code with the
 * real sessions and clients.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { createLogger } from "../../src/log.ts";
import { createTlsManager } from "../../src/tls.ts";
import { CommandQueue } from "../../src/command-queue.ts";
import { remoteIpOf, secondsSetting, serveLineConnection, upgradeSession, type LineIo, type LineSession } from "../../src/line-connection.ts";

const dir = mkdtempSync(join(tmpdir(), "pb-line-conn-"));
const quiet = createLogger("error", {}, () => {});
const mgr = createTlsManager({ dataDir: dir, hostname: "line.example.test", certFile: null, keyFile: null, log: quiet, watchIntervalMs: 0 });

/**
 * A line session: greets, answers each line with its upper case, and knows BIG (a large reply written with
 * flow control), STARTTLS, NOLOGIN (stops the login timer), QUIT. Remembers every line it acted on.
 */
class TestSession implements LineSession {
  lines: string[] = [];
  closes = 0;
  /** Writes that found the socket buffer full (and waited in drain()). */
  fullWrites = 0;
  secure = false;
  private buf = "";
  private pending: string[] = [];
  private running = false;
  ended = false;
  constructor(
    readonly io: LineIo,
    readonly ip: string,
  ) {}
  greet(): void {
    this.io.write("hello\r\n");
  }
  receive(chunk: Uint8Array): void {
    this.buf += Buffer.from(chunk).toString("latin1");
    let i: number;
    while ((i = this.buf.indexOf("\r\n")) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 2);
      this.pending.push(line);
    }
    if (!this.running) void this.run();
  }
  private async run(): Promise<void> {
    this.running = true;
    while (this.pending.length) await this.handle(this.pending.shift()!);
    this.running = false;
  }
  discardInput(): void {
    this.buf = "";
    this.pending.length = 0;
  }
  private async handle(line: string): Promise<void> {
    if (this.ended) return;
    this.lines.push(line);
    if (line === "BIG") {
      const block = "x".repeat(64 * 1024 - 2) + "\r\n";
      for (let i = 0; i < 128; i++) if (!this.io.write(block)) {
          this.fullWrites++;
          await this.io.drain();
        }
      this.io.write("done\r\n");
    } else if (line === "STARTTLS") {
      if (!(await upgradeSession(this, "go\r\n"))) return;
      this.secure = true;
      this.io.write("secure\r\n");
    } else if (line === "NOLOGIN") {
      this.io.loginTimer(false);
      this.io.write("ok\r\n");
    } else if (line === "QUIT") {
      this.io.write("bye\r\n");
      this.end();
    } else {
      this.io.write(line.toUpperCase() + "\r\n");
    }
  }
  end(): void {
    this.ended = true;
    this.io.close();
  }
  timeout(): void {
    this.io.write("idle\r\n");
    this.end();
  }
  loginTimeout(): void {
    this.io.write("login-timeout\r\n");
    this.end();
  }
  onClose(): void {
    this.closes++;
  }
}

interface Server {
  port: number;
  sessions: TestSession[];
  ended: TestSession[];
  close(): void;
}

function serve(idleMs: number, loginMs: number): Promise<Server> {
  const sessions: TestSession[] = [];
  const ended: TestSession[] = [];
  const srv = net.createServer((sock) => {
    serveLineConnection(sock, {
      tls: mgr,
      log: quiet,
      protocol: "test",
      startTlsCommand: "STARTTLS",
      idleTimeoutMs: () => idleMs,
      loginTimeoutMs: loginMs,
      createSession: (io, ip) => {
        const s = new TestSession(io, ip);
        sessions.push(s);
        return s;
      },
      onEnd: (s) => ended.push(s),
    });
  });
  return new Promise((r) =>
    srv.listen(0, "127.0.0.1", () => r({ port: (srv.address() as net.AddressInfo).port, sessions, ended, close: () => srv.close() })),
  );
}

/** Reads from a socket until `text` has arrived (or the socket ends); returns all that came. */
function readUntil(sock: net.Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = "";
    const onData = (d: Buffer) => {
      got += d.toString("latin1");
      if (got.includes(text)) done();
    };
    const done = () => {
      sock.removeListener("data", onData);
      sock.removeListener("end", done);
      resolve(got);
    };
    sock.on("data", onData);
    sock.on("end", done);
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((r) => {
    const c = net.connect(port, "127.0.0.1", () => r(c));
  });
}

function ended(sock: net.Socket): Promise<void> {
  return new Promise((r) => (sock.readableEnded ? r() : sock.once("end", () => r())));
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

let plain: Server;
beforeAll(async () => {
  // Timers far beyond the test's run: nothing here waits for them.
  plain = await serve(600_000, 600_000);
});
afterAll(() => {
  plain.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("serveLineConnection", () => {
  test("greets, runs lines, and on the session's close ends the socket; onClose and onEnd run once", async () => {
    const c = await connect(plain.port);
    expect(await readUntil(c, "hello\r\n")).toBe("hello\r\n");
    c.write("abc\r\nQUIT\r\n");
    const rest = await readUntil(c, "bye\r\n");
    expect(rest).toBe("ABC\r\nbye\r\n");
    await ended(c);
    c.destroy();
    const s = plain.sessions.at(-1)!;
    await until(() => plain.ended.includes(s));
    expect(s.closes).toBe(1);
    expect(plain.ended.filter((e) => e === s).length).toBe(1);
    expect(s.ip).toBe("127.0.0.1");
  });

  test("a reply larger than the socket buffers arrives whole: write reports a full buffer and drain waits for room", async () => {
    const c = await connect(plain.port);
    await readUntil(c, "hello\r\n");
    c.pause();
    c.write("BIG\r\n");
    // The client reads nothing yet: the server's writes fill the buffers and the session waits in drain().
    const s = plain.sessions.at(-1)!;
    await until(() => s.lines.includes("BIG"));
    c.resume();
    const all = await readUntil(c, "done\r\n");
    expect(all.length).toBe(128 * 64 * 1024 + "done\r\n".length);
    expect(s.fullWrites).toBeGreaterThan(0);
    c.end("QUIT\r\n");
    await ended(c);
  });

  test("STARTTLS: the OK goes in the clear, what was pipelined after it is dropped, the session continues over TLS", async () => {
    const c = await connect(plain.port);
    await readUntil(c, "hello\r\n");
    // RFC 3207 §4.2: a line injected behind STARTTLS must not run after the upgrade.
    c.write("STARTTLS\r\nINJECTED\r\n");
    expect(await readUntil(c, "go\r\n")).toBe("go\r\n");
    const t = tls.connect({ socket: c, rejectUnauthorized: false, servername: "line.example.test" });
    await new Promise<void>((r) => t.once("secureConnect", () => r()));
    expect(await readUntil(t, "secure\r\n")).toBe("secure\r\n");
    t.write("after\r\n");
    expect(await readUntil(t, "AFTER\r\n")).toBe("AFTER\r\n");
    const s = plain.sessions.at(-1)!;
    expect(s.secure).toBe(true);
    expect(s.lines).toEqual(["STARTTLS", "after"]);
    t.end("QUIT\r\n");
    await until(() => plain.ended.includes(s));
    expect(s.closes).toBe(1);
  });

  test("STARTTLS with a client that does not speak TLS: the handshake fails and the session ends the connection", async () => {
    const c = await connect(plain.port);
    await readUntil(c, "hello\r\n");
    c.write("STARTTLS\r\n");
    await readUntil(c, "go\r\n");
    c.write("this is not a ClientHello\r\n\r\n");
    await ended(c);
    c.destroy();
    const s = plain.sessions.at(-1)!;
    await until(() => plain.ended.includes(s));
    expect(s.secure).toBe(false);
    expect(s.lines).toEqual(["STARTTLS"]);
  });

  test("the login deadline ends a connection that does not log in, however busy it is", async () => {
    const srv = await serve(600_000, 100);
    try {
      const c = await connect(srv.port);
      let got = "";
      c.on("data", (d: Buffer) => (got += d.toString()));
      const timer = setInterval(() => c.writable && c.write("noop\r\n"), 10);
      await ended(c);
      clearInterval(timer);
      c.destroy();
      expect(got.startsWith("hello\r\n")).toBe(true);
      expect(got.endsWith("login-timeout\r\n")).toBe(true);
    } finally {
      srv.close();
    }
  });

  test("a stopped login timer does not fire: the idle timeout ends the quiet connection instead", async () => {
    // Login deadline 50 ms, stopped by NOLOGIN; idle 300 ms: only the idle timer can end this connection.
    const srv = await serve(300, 50);
    try {
      const c = await connect(srv.port);
      await readUntil(c, "hello\r\n");
      c.write("NOLOGIN\r\n");
      const rest = await readUntil(c, "idle\r\n");
      expect(rest).toBe("ok\r\nidle\r\n");
      await ended(c);
      c.destroy();
    } finally {
      srv.close();
    }
  });
});

describe("helpers", () => {
  test("remoteIpOf writes IPv4-mapped addresses as IPv4 and keeps IPv6", () => {
    expect(remoteIpOf({ remoteAddress: "::ffff:192.0.2.7" } as net.Socket)).toBe("192.0.2.7");
    expect(remoteIpOf({ remoteAddress: "2001:db8::1" } as net.Socket)).toBe("2001:db8::1");
    expect(remoteIpOf({ remoteAddress: undefined } as net.Socket)).toBe("unknown");
  });

  test("secondsSetting: a positive number of seconds, else the default; never zero", () => {
    expect(secondsSetting(5, 600)).toBe(5000);
    expect(secondsSetting(0, 600)).toBe(600_000);
    expect(secondsSetting(-3, 180)).toBe(180_000);
    expect(secondsSetting(undefined, 180)).toBe(180_000);
    expect(secondsSetting(null, 1800)).toBe(1_800_000);
  });
});

describe("CommandQueue", () => {
  function harness(limits: { high: number; low: number; weight?: (e: string) => number; bytesHigh?: number; bytesLow?: number }) {
    const log: string[] = [];
    let release: (() => void) | null = null;
    let stop = false;
    let failed: unknown = null;
    const q = new CommandQueue<string>(
      {
        async handle(ev) {
          log.push(`start ${ev}`);
          if (ev === "throw") throw new Error("boom");
          if (ev.startsWith("wait")) await new Promise<void>((r) => (release = r));
          log.push(`end ${ev}`);
        },
        canRun: () => !stop,
        closed: () => stop,
        failed: (err) => (failed = err),
        pauseInput: () => log.push("pause"),
        resumeInput: () => log.push("resume"),
      },
      limits,
    );
    return {
      q,
      log,
      release: () => release?.(),
      stop: () => (stop = true),
      get failed() {
        return failed;
      },
    };
  }

  test("events run one after another in arrival order, each finished before the next starts", async () => {
    const h = harness({ high: 100, low: 10 });
    h.q.push(["wait1", "b"]);
    h.q.push(["c"]);
    expect(h.q.busy).toBe(true);
    expect(h.q.length).toBe(2);
    expect(h.log).toEqual(["start wait1"]);
    h.release();
    await h.q.whenIdle();
    expect(h.log).toEqual(["start wait1", "end wait1", "start b", "end b", "start c", "end c"]);
    expect(h.q.busy).toBe(false);
  });

  test("reading pauses over the high mark and resumes at the low mark, once each", async () => {
    const h = harness({ high: 3, low: 1 });
    h.q.push(["wait", "a", "b"]);
    h.q.push(["c"]);
    // "wait" runs, 3 wait behind it: not over the mark yet.
    expect(h.log).toEqual(["start wait"]);
    h.q.push(["d"]);
    expect(h.log).toEqual(["start wait", "pause"]);
    h.q.push(["e"]);
    expect(h.log.filter((l) => l === "pause").length).toBe(1);
    h.release();
    await h.q.whenIdle();
    expect(h.log.filter((l) => l === "resume").length).toBe(1);
    // Resumed once at most one event waited: after "d" had run, with only "e" left.
    const resumeAt = h.log.indexOf("resume");
    expect(h.log.slice(0, resumeAt).filter((l) => l.startsWith("end"))).toEqual(["end wait", "end a", "end b", "end c", "end d"]);
  });

  test("with a weight, octets waiting over bytesHigh pause reading even under the count mark", async () => {
    const h = harness({ high: 100, low: 10, weight: (e) => e.length, bytesHigh: 1000, bytesLow: 250 });
    h.q.push(["wait"]);
    h.q.push(["y".repeat(600)]);
    expect(h.log).not.toContain("pause");
    h.q.push(["z".repeat(600)]);
    expect(h.log).toContain("pause");
    h.release();
    await h.q.whenIdle();
    expect(h.log.filter((l) => l === "resume").length).toBe(1);
  });

  test("a throwing handler stops the pump and reaches failed(); clear() drops what waits; a closed session is not resumed", async () => {
    const h = harness({ high: 1, low: 0 });
    h.q.push(["throw", "never1", "never2"]);
    await h.q.whenIdle();
    expect((h.failed as Error).message).toBe("boom");
    expect(h.log).toEqual(["pause", "start throw"]);
    h.q.clear();
    expect(h.q.length).toBe(0);

    const g = harness({ high: 1, low: 5 });
    g.q.push(["wait", "x", "y"]);
    g.stop();
    g.release();
    await g.q.whenIdle();
    expect(g.log).toEqual(["pause", "start wait", "end wait"]);
  });
});
