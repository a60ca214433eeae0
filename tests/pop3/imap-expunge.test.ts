/**
 * An IMAP session on INBOX (python imaplib) sees POP3 deletions as EXPUNGE
 * responses (RFC 9051 §7.5.1): none while the POP3 session only marked them,
 * both once the POP3 session QUIT (RFC 1939 §6 UPDATE).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import "../../protocols/pop3/index.ts";
import "../../protocols/imap/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { run } from "../helpers/proc.ts";
import { deliverTo } from "./util.ts";

const PW = "imap sees pop3";
let srv: TestServer;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP", "POP3S"] });
});
afterAll(async () => {
  await srv?.close();
});

test("POP3 DELE+QUIT reaches an IMAP session on INBOX as EXPUNGE", async () => {
  const acc = await createUser(srv.store, "both@pop.test", PW);
  for (let i = 1; i <= 4; i++) await deliverTo(srv.store, acc.id, `Subject: m${i}\r\n\r\nbody ${i}\r\n`);
  const r = await run("python3", [resolve(import.meta.dir, "imap_sees_pop3.py"), String(srv.port("IMAP")), String(srv.port("POP3S")), "both@pop.test", PW], {
    timeoutMs: 60_000,
  });
  expect(r.stderr).toBe("");
  const out = JSON.parse(r.stdout);
  expect(out.exists_before).toBe(4);
  expect(out.expunge_before_quit).toEqual([]);
  expect(out.quit).toStartWith("+OK");
  // Messages 1 and 3 gone: the server reports them in an order that keeps
  // sequence numbers valid ("3" then "1", or "1" then "2").
  expect(out.expunge_after_quit.length).toBe(2);
  expect([["3", "1"], ["1", "2"]]).toContainEqual(out.expunge_after_quit);
  expect(out.exists_after).toBe(2);
});
