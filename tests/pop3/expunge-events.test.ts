/**
 * POP3 deletions reach other sessions as expunges through the store's event
 * bus (the channel IMAP sessions listen on): nothing at DELE, one expunge
 * event with exactly the deleted UIDs at QUIT; nothing at all when the
 * connection drops.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import "../../protocols/pop3/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { Account, StoreEvent } from "../../storage/api.ts";
import { deliverTo, eventually, poplib } from "./util.ts";

const PW = "events pw";
let srv: TestServer;
let acc: Account;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["POP3S"] });
  acc = await createUser(srv.store, "events@pop.test", PW);
});
afterAll(async () => {
  await srv?.close();
});

test("DELE+QUIT publishes one expunge event for INBOX with the deleted UIDs", async () => {
  const uids: number[] = [];
  for (let i = 0; i < 4; i++) uids.push(await deliverTo(srv.store, acc.id, `Subject: m${i}\r\n\r\nbody ${i}\r\n`));
  const inbox = (await srv.store.getFolder(acc.id, "INBOX"))!;
  const events: StoreEvent[] = [];
  const unsubscribe = srv.store.events.subscribe(acc.id, (e) => events.push(e));
  try {
    const r = await poplib([
      ["a", "connect_ssl", srv.port("POP3S")],
      ["a", "auth_plain", "events@pop.test", PW],
      ["a", "dele", 2],
      ["a", "dele", 4],
      ["a", "noop"],
      ["a", "quit"],
    ]);
    expect(r[5]!.res).toStartWith("+OK");
    const expunges = events.filter((e) => e.type === "expunge");
    expect(expunges.length).toBe(1);
    const ex = expunges[0] as Extract<StoreEvent, { type: "expunge" }>;
    expect(ex.folderId).toBe(inbox.id);
    expect(ex.uids).toEqual([uids[1]!, uids[3]!]);
    expect((await srv.store.listMessages(inbox.id)).map((m) => m.uid)).toEqual([uids[0]!, uids[2]!]);
  } finally {
    unsubscribe();
  }
});

test("a dropped connection publishes no expunge", async () => {
  const events: StoreEvent[] = [];
  const unsubscribe = srv.store.events.subscribe(acc.id, (e) => events.push(e));
  try {
    await poplib([
      ["a", "connect_ssl", srv.port("POP3S")],
      ["a", "auth_plain", "events@pop.test", PW],
      ["a", "dele", 1],
      ["a", "retr", 2],
      ["a", "drop"],
    ]);
    // the next login succeeds once the server has processed the hang-up (lock released)
    const r = await eventually(async () => {
      const x = await poplib([
        ["b", "connect_ssl", srv.port("POP3S")],
        ["b", "auth_plain", "events@pop.test", PW],
        ["b", "stat"],
        ["b", "quit"],
      ]);
      return x[1]!.ok ? x : null;
    });
    expect(r[2]!.res[0]).toBe(2);
    expect(events.filter((e) => e.type === "expunge" || e.type === "flags")).toEqual([]);
  } finally {
    unsubscribe();
  }
});
