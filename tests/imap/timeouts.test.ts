/**
 * IMAP connections that never log in get a short, configurable deadline
 * (`imap.loginTimeoutSeconds`, Dovecot's 3-minute login timeout), however
 * busy they keep the connection; logged-in sessions keep the long RFC 9051
 * §5.4 inactivity timeout (issue 13 item 4).
 */
import { describe, expect, test } from "bun:test";
import { createDeflateRaw, createInflateRaw, constants as zc } from "node:zlib";
import { createUser, startTestServer } from "../helpers/server.ts";
import { RawImap } from "./client.ts";
import "../../protocols/imap/index.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("login timeout", () => {
  test("a client that never logs in is disconnected after the login timeout even while sending NOOPs; a logged-in idle one stays", async () => {
    const srv = await startTestServer({ listeners: ["IMAP"], config: { imap: { loginTimeoutSeconds: 2 } } });
    try {
      await createUser(srv.store, "lou@timeout.test", "lou-secret");
      const port = srv.port("IMAP");
      const { c: user } = await RawImap.connect(port);
      expect((await user.cmd("LOGIN lou@timeout.test lou-secret")).status).toBe("OK");
      const { c: anon } = await RawImap.connect(port);
      const seen: string[] = [];
      // keep the unauthenticated connection busy; it must still be dropped
      for (let i = 0; i < 40; i++) {
        if (!anon.closed) anon.write(`n${i} NOOP\r\n`);
        try {
          for (;;) {
            const l = await anon.line(3000);
            seen.push(l);
            if (l.startsWith(`n${i} `)) break;
          }
        } catch (e) {
          seen.push(String(e));
          break; // closed
        }
        await sleep(250);
      }
      const bye = seen.find((l) => l.startsWith("* BYE")) ?? "";
      expect(bye, seen.join("\n")).toMatch(/^\* BYE /);
      // the logged-in session, idle all along, is still served
      expect(user.closed).toBe(false);
      expect((await user.cmd("NOOP")).status).toBe("OK");
      user.close();
      anon.close();
    } finally {
      await srv.close();
    }
  }, 30_000);

  test("after UNAUTHENTICATE the login deadline applies again, and its BYE reaches a COMPRESS client through the deflater", async () => {
    const srv = await startTestServer({ listeners: ["IMAP"], config: { imap: { loginTimeoutSeconds: 2 } } });
    try {
      await createUser(srv.store, "lou@timeout.test", "lou-secret");
      const { c } = await RawImap.connect(srv.port("IMAP"));
      expect((await c.cmd("LOGIN lou@timeout.test lou-secret")).status).toBe("OK");
      // logged in for longer than the login timeout: not disconnected
      await sleep(3000);
      expect((await c.cmd("COMPRESS DEFLATE")).status).toBe("OK");
      const def = createDeflateRaw();
      const inf = createInflateRaw();
      let text = "";
      c.sock.removeAllListeners("data");
      inf.on("data", (d: Buffer) => (text += d.toString("latin1")));
      c.sock.on("data", (d: Buffer) => inf.write(d));
      def.on("data", (d: Buffer) => c.sock.write(d));
      def.write("u1 UNAUTHENTICATE\r\n");
      def.flush(zc.Z_SYNC_FLUSH);
      const deadline = Date.now() + 15_000;
      while (!c.closed && Date.now() < deadline) await sleep(50);
      await sleep(50);
      expect(text).toContain("u1 OK");
      expect(text).toMatch(/\* BYE [^\r\n]*\r\n$/);
    } finally {
      await srv.close();
    }
  }, 30_000);
});
