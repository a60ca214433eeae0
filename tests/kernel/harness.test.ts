import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { X509Certificate } from "node:crypto";
import type { ProtocolModule } from "../../src/registry.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";

// A tiny line protocol served instead of the registered modules, so the
// kernel's socket handling is tested on its own: greeting, STARTTLS via
// ctx.tls.upgrade, implicit TLS, authenticate().
const ECHO_LISTENERS = ["POP3", "POP3S"] as const;
const echo: ProtocolModule = {
  name: "kernel-test-echo",
  listeners: [...ECHO_LISTENERS],
  onConnection(socket, info, ctx) {
    socket.write(`+OK ${ctx.config.hostname} ${info.name} tls=${info.implicitTls}\r\n`);
    let buf = "";
    const onData = async (d: Buffer) => {
      buf += d.toString("latin1");
      let i: number;
      while ((i = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const [cmd, ...args] = line.split(" ");
        if (cmd === "STLS") {
          socket.off("data", onData);
          buf = ""; // RFC 3207 §4.2: drop anything pipelined before the handshake
          socket.write("+OK begin TLS\r\n");
          const t = await ctx.tls.upgrade(socket as net.Socket);
          t.write("+OK secure\r\n");
          t.on("data", (x: Buffer) => t.write(`+OK echo ${x.toString().trim()}\r\n`));
          return;
        }
        if (cmd === "AUTH") {
          const acct = await ctx.authenticate(args[0]!, args[1]!, socket.remoteAddress ?? "");
          socket.write(acct ? `+OK ${acct.email}\r\n` : "-ERR auth\r\n");
          continue;
        }
        socket.write(`+OK ${line}\r\n`);
      }
    };
    socket.on("data", onData);
  },
};

function lines(socket: net.Socket | tls.TLSSocket) {
  let buf = "";
  const waiting: ((l: string) => void)[] = [];
  const ready: string[] = [];
  const onData = (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\r\n")) >= 0) {
      const l = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const w = waiting.shift();
      if (w) w(l);
      else ready.push(l);
    }
  };
  socket.on("data", onData);
  return {
    next: () => new Promise<string>((r) => (ready.length ? r(ready.shift()!) : waiting.push(r))),
    detach: () => socket.off("data", onData),
  };
}

let srv: TestServer;
beforeAll(async () => {
  srv = await startTestServer({ protocols: [echo] });
});
afterAll(async () => {
  await srv?.close();
});

describe("test harness / kernel sockets", () => {
  test("data dir is 0700, self-signed key is 0600 and names the hostname", () => {
    expect(statSync(srv.dataDir).mode & 0o777).toBe(0o700);
    const key = statSync(`${srv.dataDir}/tls/selfsigned-key.pem`);
    expect(key.mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(srv.server.tls.certPem);
    expect(cert.checkHost("mail.pillarbox.test")).toBe("mail.pillarbox.test");
  });

  test("plain listener greets and STARTTLS upgrade works, pipelined bytes are dropped", async () => {
    const s = net.connect(srv.port("POP3"), srv.host);
    const r = lines(s);
    expect(await r.next()).toBe("+OK mail.pillarbox.test POP3 tls=false");
    s.write("STLS\r\nINJECTED\r\n");
    expect(await r.next()).toBe("+OK begin TLS");
    r.detach();
    const t = tls.connect({ socket: s, rejectUnauthorized: false, servername: "mail.pillarbox.test" });
    await new Promise((res) => t.once("secureConnect", res));
    expect(["TLSv1.2", "TLSv1.3"]).toContain(t.getProtocol()!);
    const tr = lines(t);
    expect(await tr.next()).toBe("+OK secure");
    t.write("hello\r\n");
    expect(await tr.next()).toBe("+OK echo hello");
    t.destroy();
  });

  test("implicit TLS listener hands over a TLS socket", async () => {
    const t = tls.connect({ port: srv.port("POP3S"), host: srv.host, rejectUnauthorized: false });
    const r = lines(t);
    expect(await r.next()).toBe("+OK mail.pillarbox.test POP3S tls=true");
    expect(t.getPeerCertificate().subject.CN).toBe("mail.pillarbox.test");
    t.destroy();
  });

  test("TLS 1.1 is refused", async () => {
    const t = tls.connect({ port: srv.port("POP3S"), host: srv.host, rejectUnauthorized: false, maxVersion: "TLSv1.1", minVersion: "TLSv1" });
    const err = await new Promise<Error | null>((res) => {
      t.once("error", (e) => res(e));
      t.once("secureConnect", () => res(null));
    });
    expect(err).not.toBeNull();
    t.destroy();
  });

  test("authenticate() checks the store and caches success", async () => {
    await createUser(srv.store, "alice@example.test", "correct horse");
    const s = net.connect(srv.port("POP3"), srv.host);
    const r = lines(s);
    await r.next();
    s.write("AUTH alice@example.test wrong\r\n");
    expect(await r.next()).toBe("-ERR auth");
    s.write("AUTH alice@example.test staple\r\n");
    expect(await r.next()).toBe("-ERR auth");
    s.destroy();
    const a = await srv.ctx.authenticate("alice@example.test", "correct horse", "127.0.0.1");
    expect(a?.email).toBe("alice@example.test");
    expect(srv.server.authCache.size).toBe(1);
    // A password change through the context's store invalidates the cached login at once.
    await srv.ctx.store.setPassword("alice@example.test", "new secret");
    expect(await srv.ctx.authenticate("alice@example.test", "correct horse", "127.0.0.1")).toBeNull();
    expect((await srv.ctx.authenticate("Alice@Example.test", "new secret", "127.0.0.1"))?.email).toBe("alice@example.test");
  });

  test("per-IP failure limit blocks even correct passwords for a while", async () => {
    await createUser(srv.store, "bob@example.test", "bobpw");
    const ip = "192.0.2.77";
    // Guesses spread over many accounts (a password spray): each account stays under its own
    // progressive delay (src/auth-throttle.ts), so it is the per-IP limit that stops them.
    for (let i = 0; i < srv.config.limits.authFailuresPerIp; i++) {
      expect(await srv.ctx.authenticate(`user${i}@example.test`, `bad${i}`, ip)).toBeNull();
    }
    expect(await srv.ctx.authenticate("bob@example.test", "bobpw", ip)).toBeNull();
    expect((await srv.ctx.authenticate("bob@example.test", "bobpw", "192.0.2.78"))?.email).toBe("bob@example.test");
  });

  test("connections over the per-IP limit are refused at once; a freed slot is reusable", async () => {
    const limited = await startTestServer({ protocols: [echo], config: { limits: { maxConnectionsPerIp: 2 } } });
    try {
      const open = async () => {
        const s = net.connect(limited.port("POP3"), limited.host);
        const r = lines(s);
        const closed = new Promise<string>((res) => s.once("close", () => res("closed")));
        return { s, first: await Promise.race([r.next(), closed]) };
      };
      const a = await open();
      const b = await open();
      expect(a.first).toStartWith("+OK");
      expect(b.first).toStartWith("+OK");
      const c = await open();
      // Refused with the POP3 listener's one-line refusal (issue 13), then closed.
      expect(c.first).toStartWith("-ERR [SYS/TEMP] Too many connections");
      a.s.destroy();
      await new Promise((r) => setTimeout(r, 100));
      const d = await open();
      expect(d.first).toStartWith("+OK");
      b.s.destroy();
      d.s.destroy();
    } finally {
      await limited.close();
    }
  });

  test("close() stops accepting connections", async () => {
    const tmp = await startTestServer({ protocols: [echo] });
    const port = tmp.port("POP3");
    await tmp.close();
    const err = await new Promise<string>((res) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("error", (e: NodeJS.ErrnoException) => res(e.code ?? "error"));
      s.once("data", () => res("data"));
    });
    expect(err).toBe("ECONNREFUSED");
  });

  test("close() lets a protocol finish in-flight work before the store closes", async () => {
    const order: string[] = [];
    const slow: ProtocolModule = {
      name: "kernel-test-slow",
      listeners: ["IMAP"],
      onConnection(socket) {
        socket.write("* OK\r\n");
      },
      async stop() {
        order.push("stop begins");
        await new Promise((r) => setTimeout(r, 200));
        order.push("in-flight work done");
      },
    };
    const tmp = await startTestServer({ protocols: [slow] });
    const c = net.connect(tmp.port("IMAP"), tmp.host);
    const closed = new Promise<void>((r) => c.once("close", () => r()));
    await new Promise((r) => c.once("data", r));
    await tmp.close();
    order.push("close resolved");
    await closed; // the idle client was disconnected
    expect(order).toEqual(["stop begins", "in-flight work done", "close resolved"]);
    expect(tmp.ctx.shuttingDown).toBe(true);
  });

  test("port() names a listener that is not open; ctx.addresses has the bound ports", () => {
    expect(() => srv.port("IMAP")).toThrow(/IMAP is not open/);
    expect(srv.ctx.addresses.POP3).toEqual({ host: "127.0.0.1", port: srv.port("POP3") });
    expect(srv.ctx.addresses.POP3S).toEqual({ host: "127.0.0.1", port: srv.port("POP3S") });
    expect(srv.ctx.addresses.IMAP).toBeUndefined();
  });
});
