/**
 * POP3 end to end over real sockets with real clients: python3 poplib
 * (STLS, USER/PASS, AUTH PLAIN, LIST, UIDL, TOP, RETR, DELE, QUIT) and curl
 * (pop3:// with STLS, pop3s://).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../../protocols/pop3/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { run } from "../helpers/proc.ts";
import type { Account } from "../../storage/api.ts";
import { b64decode, deliverTo, eventually, poplib, type Step } from "./util.ts";

const PW = "correct horse battery";
// CRLF message with a line starting with "." (byte-stuffed on the wire) and non-ASCII UTF-8.
const MSG_A =
  "From: Carol <carol@example.org>\r\nTo: alice@pop.test\r\nSubject: first\r\nMessage-ID: <a@example.org>\r\n\r\n" +
  "Hello Alice,\r\n.this line starts with a dot\r\n..and this with two\r\nGrüße\r\n.\r\nend\r\n";
// Stored with bare LFs (as an old client might APPEND it): POP3 sends CRLF, LIST counts CRLF.
const MSG_B = "From: dave@example.org\nTo: alice@pop.test\nSubject: second\n\nbare LF body\nline 2\n";
const MSG_C = "From: erin@example.org\r\nTo: alice@pop.test\r\nSubject: third\r\n\r\n" + "0123456789abcdef\r\n".repeat(4000);

let srv: TestServer;
let alice: Account;
let port: number;
let sport: number;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["POP3", "POP3S"], config: { pop3: { allowPlaintextAuth: false } } });
  port = srv.port("POP3");
  sport = srv.port("POP3S");
  alice = await createUser(srv.store, "alice@pop.test", PW);
  await createUser(srv.store, "curl@pop.test", PW);
});

afterAll(async () => {
  await srv?.close();
});

const crlf = (s: string) => s.replace(/\r?\n/g, "\r\n");

describe("poplib", () => {
  test("STLS, USER/PASS, STAT, LIST, UIDL, TOP, RETR byte-exact, DELE+QUIT", async () => {
    await deliverTo(srv.store, alice.id, MSG_A);
    await deliverTo(srv.store, alice.id, MSG_B);
    await deliverTo(srv.store, alice.id, MSG_C);
    const inbox = (await srv.store.getFolder(alice.id, "INBOX"))!;
    const uids = (await srv.store.listMessages(inbox.id)).map((m) => m.uid);
    const steps: Step[] = [
      ["a", "connect", port],
      ["a", "capa"],
      ["a", "user", "alice@pop.test"], // refused before TLS
      ["a", "stls"],
      ["a", "capa"],
      ["a", "user", "alice@pop.test"],
      ["a", "pass_", PW],
      ["a", "stat"],
      ["a", "list"],
      ["a", "uidl"],
      ["a", "top", 1, 1],
      ["a", "retr", 1],
      ["a", "retr", 2],
      ["a", "retr", 3],
      ["a", "dele", 2],
      ["a", "retr", 2],
      ["a", "quit"],
    ];
    const r = await poplib(steps);
    expect(r[0]!.res).toStartWith("+OK");
    expect(Object.keys(r[1]!.res)).toContain("STLS");
    expect(Object.keys(r[1]!.res)).not.toContain("USER");
    expect(r[2]!.ok).toBe(false);
    expect(r[2]!.err).toContain("[AUTH]");
    expect(r[3]!.res).toStartWith("+OK");
    const capsTls = Object.keys(r[4]!.res);
    expect(capsTls).toEqual(expect.arrayContaining(["USER", "SASL", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "IMPLEMENTATION"]));
    expect(capsTls).not.toContain("STLS");
    expect(r[6]!.res).toStartWith("+OK");
    const sizes = [crlf(MSG_A), crlf(MSG_B), crlf(MSG_C)].map((m) => Buffer.byteLength(m));
    expect(r[7]!.res).toEqual([3, sizes[0]! + sizes[1]! + sizes[2]!]);
    expect(r[8]!.res.lines).toEqual(sizes.map((s, i) => `${i + 1} ${s}`));
    expect(r[9]!.res.lines).toEqual(uids.map((u, i) => `${i + 1} ${inbox.uidValidity}.${u}`));
    // TOP 1 1: header, blank line, first body line
    expect(b64decode(r[10]!.res.body).toString("utf8")).toBe(MSG_A.slice(0, MSG_A.indexOf("\r\n\r\n") + 4) + "Hello Alice,\r\n");
    // RETR: exactly the delivered bytes (CRLF form), and poplib's octet count equals LIST
    const bodies = [11, 12, 13].map((i) => b64decode(r[i]!.res.body));
    expect(bodies[0]!.equals(Buffer.from(MSG_A, "utf8"))).toBe(true);
    expect(bodies[1]!.toString("utf8")).toBe(crlf(MSG_B));
    expect(bodies[2]!.equals(Buffer.from(MSG_C))).toBe(true);
    expect([11, 12, 13].map((i) => r[i]!.res.octets)).toEqual(sizes);
    expect(r[14]!.res).toStartWith("+OK");
    expect(r[15]!.ok).toBe(false); // deleted message
    expect(r[16]!.res).toStartWith("+OK");
    const left = (await srv.store.listMessages(inbox.id)).map((m) => m.uid);
    expect(left).toEqual([uids[0]!, uids[2]!]);
    // retrieved messages were marked \Seen at QUIT
    expect((await srv.store.listMessages(inbox.id)).every((m) => m.flags.includes("\\Seen"))).toBe(true);
  });

  test("later logins (sizes kept in memory) list exactly what RETR sends as mail arrives and is expunged", async () => {
    const acc = await createUser(srv.store, "sizes@pop.test", PW);
    const inbox = (await srv.store.getFolder(acc.id, "INBOX"))!;
    const msgs = [MSG_A, MSG_B];
    for (const m of msgs) await deliverTo(srv.store, acc.id, m);
    // Each login: LIST octets equal what RETR gives back (RFC 1939 §5), and the bytes are the CRLF form.
    const check = async (want: string[]) => {
      const steps: Step[] = [["a", "connect_ssl", sport], ["a", "user", "sizes@pop.test"], ["a", "pass_", PW], ["a", "list"]];
      want.forEach((_, i) => steps.push(["a", "retr", i + 1]));
      steps.push(["a", "drop"]);
      const r = await poplib(steps);
      const bodies = want.map((_, i) => b64decode(r[4 + i]!.res.body));
      // Delivery may prepend trace headers: the message is the tail; the sizes must match exactly.
      want.forEach((m, i) => expect(bodies[i]!.toString("utf8")).toEndWith(crlf(m)));
      expect(r[3]!.res.lines).toEqual(bodies.map((b, i) => `${i + 1} ${b.length}`));
    };
    await check(msgs);
    await check(msgs);
    // New mail, stored with bare LFs and no line end at all: measured, not taken from memory.
    const late = "From: x@example.org\nSubject: late\n\n.dot first\nno line end";
    await deliverTo(srv.store, acc.id, late);
    await check([...msgs, late + "\n"]);
    // Expunged elsewhere (IMAP): gone from the next login's listing, the others unchanged.
    const uids = (await srv.store.listMessages(inbox.id)).map((m) => m.uid);
    await srv.store.expunge(inbox.id, [uids[0]!]);
    await check([MSG_B, late + "\n"]);
  });

  test("AUTH PLAIN with an initial response (poplib _shortcmd) over POP3S", async () => {
    const r = await poplib([
      ["a", "connect_ssl", sport],
      ["a", "auth_plain", "alice@pop.test", PW],
      ["a", "stat"],
      ["a", "quit"],
    ]);
    expect(r[1]!.res).toStartWith("+OK");
    expect(r[2]!.res[0]).toBe(2);
  });

  test("a wrong password is refused with [AUTH]", async () => {
    const r = await poplib([
      ["a", "connect_ssl", sport],
      ["a", "user", "alice@pop.test"],
      ["a", "pass_", "wrong"],
      ["a", "auth_plain", "alice@pop.test", PW],
      ["a", "quit"],
    ]);
    expect(r[2]!.err).toStartWith("-ERR [AUTH]");
    expect(r[3]!.res).toStartWith("+OK");
  });

  test("a dropped connection after DELE deletes nothing", async () => {
    const inbox = (await srv.store.getFolder(alice.id, "INBOX"))!;
    const before = (await srv.store.listMessages(inbox.id)).map((m) => m.uid);
    expect(before.length).toBe(2);
    const r = await poplib([
      ["a", "connect_ssl", sport],
      ["a", "auth_plain", "alice@pop.test", PW],
      ["a", "dele", 1],
      ["a", "dele", 2],
      ["a", "drop"],
    ]);
    expect(r[2]!.res).toStartWith("+OK");
    expect(r[3]!.res).toStartWith("+OK");
    // Once the server has seen the hang-up, the lock is free again; nothing was removed.
    const again = await eventually(async () => {
      const x = await poplib([
        ["b", "connect_ssl", sport],
        ["b", "auth_plain", "alice@pop.test", PW],
        ["b", "stat"],
        ["b", "quit"],
      ]);
      return x[1]!.ok ? x : null;
    });
    expect(again[2]!.res[0]).toBe(2);
    expect((await srv.store.listMessages(inbox.id)).map((m) => m.uid)).toEqual(before);
  });

  test("a second session on the same maildrop gets [IN-USE]; RSET undoes DELE", async () => {
    const r = await poplib([
      ["a", "connect_ssl", sport],
      ["a", "auth_plain", "alice@pop.test", PW],
      ["a", "dele", 1],
      ["b", "connect_ssl", sport],
      ["b", "user", "alice@pop.test"],
      ["b", "pass_", PW],
      ["a", "rset"],
      ["a", "quit"],
      ["b", "user", "alice@pop.test"],
      ["b", "pass_", PW],
      ["b", "stat"],
      ["b", "quit"],
    ]);
    expect(r[1]!.res).toStartWith("+OK");
    expect(r[5]!.err).toStartWith("-ERR [IN-USE]");
    expect(r[6]!.res).toStartWith("+OK");
    expect(r[9]!.res).toStartWith("+OK");
    expect(r[10]!.res[0]).toBe(2);
  });
});

describe("sequential download (read-ahead)", () => {
  test("RETR 1..n over POP3S, DELE after each as fetchmail does: every message byte-exact, sizes as LIST", async () => {
    const acc = await createUser(srv.store, "seq@pop.test", PW);
    const raws: string[] = [];
    for (let i = 1; i <= 24; i++) {
      // CRLF, bare LF, dot lines, no final line end, and one message over the read-ahead limit.
      const body =
        i === 7 ? ("x".repeat(70) + "\r\n").repeat(4000) : i % 3 === 0 ? `bare ${i}\nlf\n.dot\n` : i % 5 === 0 ? `no final newline ${i}` : `body ${i}\r\n.dot\r\n..two\r\n`;
      const raw = `From: s${i}@example.org\r\nSubject: seq ${i}\r\n\r\n${body}`;
      raws.push(raw);
      await deliverTo(srv.store, acc.id, raw);
    }
    const steps: Step[] = [
      ["a", "connect_ssl", sport],
      ["a", "auth_plain", "seq@pop.test", PW],
      ["a", "list"],
    ];
    for (let i = 1; i <= raws.length; i++) steps.push(["a", "retr", i], ["a", "dele", i]);
    steps.push(["a", "quit"]);
    const r = await poplib(steps);
    const want = raws.map((m) => {
      const c = crlf(m);
      return c.endsWith("\r\n") ? c : c + "\r\n";
    });
    // LIST counts the message exactly as RETR sends it (CRLF, a line end added to an unterminated last line).
    expect(r[2]!.res.lines).toEqual(want.map((m, i) => `${i + 1} ${Buffer.byteLength(m)}`));
    for (let i = 0; i < raws.length; i++) {
      const got = r[3 + 2 * i]!;
      expect(got.err ?? "").toBe("");
      expect(got.ok).toBe(true);
      expect(b64decode(got.res.body).toString("latin1")).toBe(want[i]!);
      expect(r[4 + 2 * i]!.res).toStartWith("+OK");
    }
    expect(r[r.length - 1]!.res).toStartWith("+OK");
    const inbox = (await srv.store.getFolder(acc.id, "INBOX"))!;
    expect(await srv.store.listMessages(inbox.id)).toEqual([]);
  });
});

describe("large message", () => {
  test("a 3 MB message (streamed from the blob) arrives byte-exact, TOP stops early", async () => {
    const acc = await createUser(srv.store, "big@pop.test", PW);
    const lines = ["From: big@example.org", "Subject: big", ""];
    for (let i = 0; i < 40_000; i++) lines.push(i % 13 === 0 ? `.dot line ${i}` : `line ${i} ${"z".repeat(64)}`);
    const raw = lines.join("\n") + "\n"; // bare LF throughout: converted on the fly
    expect(raw.length).toBeGreaterThan(2_500_000);
    await deliverTo(srv.store, acc.id, raw);
    const r = await poplib([
      ["a", "connect_ssl", sport],
      ["a", "auth_plain", "big@pop.test", PW],
      ["a", "list"],
      ["a", "retr", 1],
      ["a", "top", 1, 2],
      ["a", "quit"],
    ]);
    const want = crlf(raw);
    expect(r[2]!.res.lines).toEqual([`1 ${want.length}`]);
    expect(r[3]!.res.octets).toBe(want.length);
    expect(b64decode(r[3]!.res.body).toString("latin1") === want).toBe(true);
    expect(b64decode(r[4]!.res.body).toString("latin1")).toBe("From: big@example.org\r\nSubject: big\r\n\r\n.dot line 0\r\nline 1 " + "z".repeat(64) + "\r\n");
  });
});

describe("curl", () => {
  let curlAcc: Account;
  const MSG = "From: frank@example.org\r\nTo: curl@pop.test\r\nSubject: via curl\r\n\r\nbody line\r\n.dot line\r\n";
  beforeAll(async () => {
    curlAcc = (await srv.store.getAccount("curl@pop.test"))!;
    await deliverTo(srv.store, curlAcc.id, MSG);
  });

  test("pop3:// with STLS (--ssl-reqd): list and retrieve", async () => {
    const list = await run("curl", ["-sS", "--ssl-reqd", "-k", "-u", `curl@pop.test:${PW}`, `pop3://127.0.0.1:${port}/`]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(`1 ${MSG.length}\r\n`);
    const retr = await run("curl", ["-sS", "--ssl-reqd", "-k", "-u", `curl@pop.test:${PW}`, `pop3://127.0.0.1:${port}/1`]);
    expect(retr.code).toBe(0);
    expect(retr.stdout).toBe(MSG);
  });

  test("pop3s://: list and retrieve", async () => {
    const list = await run("curl", ["-sS", "-k", "-u", `curl@pop.test:${PW}`, `pop3s://127.0.0.1:${sport}/`]);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(`1 ${MSG.length}\r\n`);
    const retr = await run("curl", ["-sS", "-k", "-u", `curl@pop.test:${PW}`, `pop3s://127.0.0.1:${sport}/1`]);
    expect(retr.stdout).toBe(MSG);
  });

  test("pop3:// without TLS cannot log in when plaintext auth is off", async () => {
    const r = await run("curl", ["-sS", "-u", `curl@pop.test:${PW}`, `pop3://127.0.0.1:${port}/`]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toBe("");
  });
});
