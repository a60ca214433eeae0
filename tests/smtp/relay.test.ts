/**
 * No open relay: every relay trick is refused with 554 5.7.1 on port 25
 * (connections from 127.0.0.1 get no trust either), and the submission
 * ports refuse unauthenticated clients before any recipient is looked at.
 * Nothing is ever queued.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawSmtp, ehloSession } from "./helpers.ts";

let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP", "SUBMISSION", "SUBMISSIONS"] });
  await createUser(srv.store, "alice@example.test", "pw-relay-1");
});

afterAll(async () => {
  await srv?.close();
});

/** Recipient forms that ask us to route mail elsewhere (Postfix: "sender-specified routing"). */
const TRICKS: [string, string][] = [
  ["plain remote domain", "<victim@remote.test>"],
  ["remote domain, upper case", "<VICTIM@REMOTE.TEST>"],
  ["percent hack", "<victim%remote.test@example.test>"],
  ["percent hack, quoted", '<"victim%remote.test"@example.test>'],
  ["double percent hack", "<victim%remote.test%example.test@example.test>"],
  ["bang path via local domain", "<remote.test!victim@example.test>"],
  ["bare bang path", "<remote.test!victim>"],
  ["source route to remote", "<@example.test:victim@remote.test>"],
  ["source route to local (routing request)", "<@remote.test:alice@example.test>"],
  ["multi-hop source route", "<@example.test,@relay.test:victim@remote.test>"],
  ["quoted local part with @", '<"victim@remote.test"@example.test>'],
  ["unquoted double @", "<victim@remote.test@example.test>"],
  ["local then remote @", "<alice@example.test@remote.test>"],
  ["trailing dot on local domain", "<alice@example.test.>"],
  ["trailing dot on remote domain", "<victim@remote.test.>"],
  ["two trailing dots", "<victim@remote.test..>"],
  ["IPv4 literal (not ours)", "<victim@[192.0.2.1]>"],
  ["IPv6 literal (not ours)", "<victim@[IPv6:2001:db8::1]>"],
  ["UTF-8 remote domain", "<victim@bücher.test>"],
];

describe("relay matrix on port 25 (unauthenticated)", () => {
  for (const [name, addr] of TRICKS) {
    test(`${name}: ${addr} -> 554 5.7.1`, async () => {
      const c = await ehloSession(srv.port("SMTP"), "attacker.example");
      // a local sender address does not help either
      expect((await c.cmd("MAIL FROM:<alice@example.test> SMTPUTF8")).code).toBe(250);
      const r = await c.cmd(`RCPT TO:${addr}`);
      expect(r.code).toBe(554);
      expect(r.text).toStartWith("5.7.1");
      // the session stays usable, and DATA has nothing to deliver
      expect((await c.cmd("DATA")).code).toBe(554);
      c.close();
    });
  }

  test("our own address literal is not a relay but has no mailboxes (550 5.1.1)", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    const r = await c.cmd("RCPT TO:<alice@[127.0.0.1]>");
    expect(r.code).toBe(550);
    expect(r.text).toStartWith("5.1.1");
    c.close();
  });

  test("control: a local recipient is accepted", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    expect((await c.cmd("RCPT TO:<alice@EXAMPLE.test>")).code).toBe(250);
    c.close();
  });
});

describe("submission ports without authentication", () => {
  for (const [name, port, tls] of [
    ["587 before STARTTLS", "SUBMISSION", false],
    ["587 after STARTTLS", "SUBMISSION", true],
    ["465", "SUBMISSIONS", true],
  ] as const) {
    test(`${name}: MAIL needs AUTH (530 5.7.0), no recipient is ever considered`, async () => {
      let c: RawSmtp;
      if (port === "SUBMISSIONS") {
        c = await RawSmtp.connect(srv.port(port), { tls: true });
        await c.read();
      } else {
        c = await ehloSession(srv.port(port));
        if (tls) await c.startTls();
      }
      await c.cmd("EHLO attacker.example");
      const m = await c.cmd("MAIL FROM:<alice@example.test>");
      expect(m.code).toBe(530);
      expect(m.text).toStartWith("5.7.0");
      for (const [, addr] of TRICKS.slice(0, 4)) {
        expect((await c.cmd(`RCPT TO:${addr}`)).code).toBe(503);
      }
      expect((await c.cmd("DATA")).code).toBe(503);
      c.close();
    });
  }
});

test("nothing was queued by any of the attempts", async () => {
  expect(await srv.store.listQueue()).toEqual([]);
});
