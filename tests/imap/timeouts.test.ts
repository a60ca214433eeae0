/**
 * IMAP connections that never log in get a short, configurable deadline
 * (`imap.loginTimeoutSeconds`, Dovecot's 3-minute login timeout), however
 * busy they keep the connection; logged-in sessions keep the long RFC 9051
 * §5.4 inactivity timeout (issue 13 item 4).
 */
import { describe, expect, test } from "bun:test";
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
});
