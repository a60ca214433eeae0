/**
 * Protocol behaviour over a raw socket: pipelining, DATA/BDAT, limits,
 * error recovery, STARTTLS injection, AUTH rules, recipient handling.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as net from "node:net";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawSmtp, ehloSession, folderMessages, stripTrace, submissionSession, text } from "./helpers.ts";

let srv: TestServer;
const MAX = 100_000;
const PASS = "pw-123456";

beforeAll(async () => {
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION", "SUBMISSIONS"],
    // DNS pointed at a closed local port: queued remote mail fails temporarily at once (no
    // bounces into the test mailboxes, no waiting for the system resolver).
    config: { limits: { maxMessageSize: MAX }, smtp: { maxRecipients: 5 }, queue: { dnsServers: ["127.0.0.1:9"] } },
  });
  for (const u of ["alice", "bob", "carol", "dave", "full", "tight"]) await createUser(srv.store, `${u}@example.test`, PASS);
  await createUser(srv.store, "zed@other.test", PASS);
  await srv.store.addAlias("sales@example.test", "alice@example.test");
  await srv.store.addAlias("sales@example.test", "bob@example.test");
  await srv.store.addAlias("@other.test", "carol@example.test");
  await srv.store.addAlias("fwd@example.test", "someone@remote.test");
  await srv.store.addAlias("postmaster@example.test", "dave@example.test");
  await srv.store.addAlias("alice.alias@example.test", "alice@example.test");
  const full = (await srv.store.getAccount("full@example.test"))!;
  await srv.store.deliver(new TextEncoder().encode("Subject: filler\r\n\r\n" + "f".repeat(100) + "\r\n"), [{ accountId: full.id }]);
  await srv.store.setQuota("full@example.test", 50);
  await srv.store.setQuota("tight@example.test", 300);
});

afterAll(async () => {
  await srv?.close();
});

const count = async (email: string, folder = "INBOX") => (await folderMessages(srv.store, email, folder)).length;

describe("pipelining (RFC 2920)", () => {
  test("a pipelined transaction gets its replies in order, batched in one write", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const chunks: string[] = [];
    c.sock.on("data", (d: Buffer) => chunks.push(d.toString()));
    c.write("MAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push((await c.read())!);
    expect(replies.map((r) => r.code)).toEqual([250, 250, 550, 250, 354]);
    expect(replies[2]!.text).toStartWith("5.1.1");
    expect(chunks.length).toBe(1); // all five replies in one write
    c.write("Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT\r\n");
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(221);
    const a = await folderMessages(srv.store, "alice@example.test");
    expect(stripTrace(a[a.length - 1]!)).toBe("Subject: pipelined\r\n\r\nhi\r\n");
  });

  test("DATA with no valid recipient: 554, and the client's data is then read as commands", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    c.write("MAIL FROM:<x@remote.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n");
    expect((await c.read())!.code).toBe(250);
    expect((await c.read())!.code).toBe(550);
    const d = (await c.read())!;
    expect(d.code).toBe(554);
    expect((await c.cmd("NOOP")).code).toBe(250);
    c.close();
  });
});

describe("DATA", () => {
  test("SMTP smuggling sequences stay inside the message", async () => {
    const before = await count("bob@example.test");
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    expect((await c.cmd("DATA")).code).toBe(354);
    c.write("Subject: s\r\n\r\nhello\n.\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<carol@example.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nx\r\n.\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(250);
    expect((await c.cmd("NOOP")).code).toBe(250);
    expect(await count("bob@example.test")).toBe(before + 1);
    const m = await folderMessages(srv.store, "bob@example.test");
    expect(stripTrace(m[m.length - 1]!)).toContain("MAIL FROM:<evil@remote.test>");
    c.close();
  });

  test("size limit enforced while streaming (552 5.3.4), session continues", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const e = await c.cmd("EHLO again.example");
    expect(e.lines).toContain(`250-SIZE ${MAX}`);
    expect((await c.cmd(`MAIL FROM:<x@remote.test> SIZE=${MAX + 1}`)).text).toStartWith("5.3.4");
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    await c.cmd("DATA");
    const line = "x".repeat(998) + "\r\n";
    for (let i = 0; i < 300; i++) c.write(line); // 300 KB, three times the limit
    c.write(".\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(552);
    expect(r.text).toStartWith("5.3.4");
    expect((await c.cmd("NOOP")).code).toBe(250);
    c.close();
  });

  test("a text line over 1000 octets is accepted and stored as received (issue 13 item 16; cap tested in long-lines.test.ts)", async () => {
    const before = await count("bob@example.test");
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    await c.cmd("DATA");
    c.write("Subject: long\r\n\r\n" + "y".repeat(1200) + "\r\n.\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(250);
    expect(await count("bob@example.test")).toBe(before + 1);
    const m = await folderMessages(srv.store, "bob@example.test");
    expect(stripTrace(m[m.length - 1]!)).toBe("Subject: long\r\n\r\n" + "y".repeat(1200) + "\r\n");
    c.close();
  });
});

describe("BDAT (RFC 3030)", () => {
  test("chunks, binary-exact, pipelined with LAST", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const part1 = "Subject: chunked\r\n\r\n.\r\nnot the end\r\n";
    const part2 = "..two dots stay two\r\n";
    c.write(`MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.test>\r\nBDAT ${Buffer.byteLength(part1)}\r\n${part1}BDAT ${Buffer.byteLength(part2)} LAST\r\n${part2}`);
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await c.read())!.code);
    expect(codes).toEqual([250, 250, 250, 250]);
    const m = await folderMessages(srv.store, "carol@example.test");
    expect(stripTrace(m[m.length - 1]!)).toBe(part1 + part2);
    // a zero-length LAST chunk also ends a transaction
    c.write(`MAIL FROM:<x@remote.test>\r\nRCPT TO:<carol@example.test>\r\nBDAT 9\r\nA: b\r\n\r\nxBDAT 0 LAST\r\n`);
    for (let i = 0; i < 4; i++) expect((await c.read())!.code).toBe(250);
    c.close();
  });

  test("BDAT without recipients is read and refused; oversize BDAT gets 552", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    c.write("BDAT 5 LAST\r\nNOOP\r\n");
    expect((await c.read())!.code).toBe(503);
    // the five bytes "NOOP\r" were the chunk, "\n" is an empty command line
    expect((await c.read())!.code).toBe(500);
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<carol@example.test>");
    const big = "z".repeat(MAX / 2 + 10);
    c.write(`BDAT ${big.length}\r\n${big}BDAT ${big.length}\r\n${big}BDAT ${big.length} LAST\r\n${big}`);
    expect((await c.read())!.code).toBe(250);
    const second = (await c.read())!;
    expect(second.code).toBe(552);
    expect(second.text).toStartWith("5.3.4");
    expect((await c.read())!.code).toBe(552);
    expect((await c.cmd("NOOP")).code).toBe(250);
    // DATA after BDAT in the same transaction is refused
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<carol@example.test>");
    c.write("BDAT 3\r\nabc");
    expect((await c.read())!.code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(503);
    c.close();
  });
});

describe("limits and bad input", () => {
  test("over-long command lines: 500 5.5.2, then the session goes on", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    const r = await c.cmd("NOOP " + "a".repeat(600));
    expect(r.code).toBe(500);
    expect(r.text).toStartWith("5.5.2");
    c.write("x".repeat(50_000));
    c.write("\r\nNOOP\r\n");
    expect((await c.read())!.code).toBe(500);
    expect((await c.read())!.code).toBe(250);
    c.close();
  });

  test("unknown and malformed commands get 500/501/503 and the session goes on", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("FOO bar")).code).toBe(500);
    expect((await c.cmd("")).code).toBe(500);
    expect((await c.cmd("MAIL FROM:bad")).code).toBe(501);
    expect((await c.cmd("RCPT TO:<bob@example.test>")).code).toBe(503);
    expect((await c.cmd("MAIL FROM:<x@remote.test> FOO=1")).code).toBe(555);
    c.write(Buffer.from([0xff, 0xfe, 0x0d, 0x0a]));
    expect((await c.read())!.code).toBe(500);
    expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(250);
    expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(503);
    c.close();
  });

  test("commands before EHLO, VRFY, EXPN, HELP, NOOP, RSET, QUIT", async () => {
    const c = await RawSmtp.connect(srv.port("SMTP"));
    expect((await c.read())!.text).toContain("ESMTP");
    expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(503);
    expect((await c.cmd("HELO old.example")).code).toBe(250);
    expect((await c.cmd("MAIL FROM:<x@remote.test> SIZE=10")).code).toBe(555); // parameters need EHLO
    const v = await c.cmd("VRFY bob");
    expect(v.code).toBe(252);
    expect((await c.cmd("EXPN staff")).code).toBe(502);
    expect((await c.cmd("HELP")).code).toBe(214);
    expect((await c.cmd("NOOP anything")).code).toBe(250);
    expect((await c.cmd("RSET")).code).toBe(250);
    expect((await c.cmd("QUIT")).code).toBe(221);
    expect(await c.read()).toBeNull();
  });

  test("too many errors: 421 and the connection closes", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    let last = null;
    for (let i = 0; i < 25; i++) {
      c.write("BOGUS\r\n");
    }
    for (;;) {
      const r = await c.read();
      if (!r) break;
      last = r;
    }
    expect(last!.code).toBe(421);
    expect(c.closed).toBe(true);
  });

  test("too many recipients: 452 4.5.3 beyond the limit", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    const rc = ["alice", "bob", "carol", "dave", "sales", "alice.alias"];
    const codes = [];
    for (const u of rc) codes.push(await c.cmd(`RCPT TO:<${u}@example.test>`));
    expect(codes.slice(0, 5).map((r) => r.code)).toEqual([250, 250, 250, 250, 250]);
    expect(codes[5]!.code).toBe(452);
    expect(codes[5]!.text).toStartWith("4.5.3");
    c.close();
  });

  test("an HTTP request on the SMTP port is dropped", async () => {
    const c = await RawSmtp.connect(srv.port("SMTP"));
    await c.read();
    c.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    const r = await c.read();
    expect(r!.code).toBe(221);
    expect(await c.read()).toBeNull();
  });

  test("a client that sends without reading cannot make the server buffer without bound", async () => {
    // 5 MB of pipelined NOOPs, never reading: the server stops reading (backpressure) and stays healthy.
    const sock = net.connect({ host: "127.0.0.1", port: srv.port("SMTP") });
    await new Promise<void>((r) => sock.once("connect", () => r()));
    sock.pause();
    const chunk = Buffer.from("EHLO x\r\n".repeat(8192));
    let written = 0;
    const deadline = Date.now() + 3000;
    while (written < 5_000_000 && Date.now() < deadline) {
      if (!sock.write(chunk)) await new Promise<void>((r) => setTimeout(r, 20));
      written += chunk.length;
    }
    sock.destroy();
    // the server still answers others
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("NOOP")).code).toBe(250);
    c.close();
  });
});

describe("STARTTLS", () => {
  test("commands pipelined after STARTTLS are discarded (RFC 3207 §4.2), state is reset", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    // Inject: the MAIL must never be executed.
    c.write("STARTTLS\r\nMAIL FROM:<injected@remote.test>\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(220);
    const raw = c.sock as net.Socket;
    raw.removeAllListeners("data");
    const tls = await import("node:tls");
    const t = await new Promise<import("node:tls").TLSSocket>((resolve, reject) => {
      const s = tls.connect({ socket: raw, rejectUnauthorized: false }, () => resolve(s));
      s.once("error", reject);
    });
    let got = "";
    t.on("data", (d: Buffer) => (got += d.toString()));
    t.write("RCPT TO:<bob@example.test>\r\nEHLO again\r\nSTARTTLS\r\n");
    const deadline = Date.now() + 5000;
    while (!got.includes("503 5.5.1 TLS already active") && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    // no reply for the injected MAIL; RCPT finds no transaction; EHLO no longer offers STARTTLS
    expect(got.startsWith("503 5.5.1 Error: need MAIL command\r\n")).toBe(true);
    expect(got).not.toContain("250-STARTTLS");
    expect(got).toContain("503 5.5.1 TLS already active");
    t.destroy();
  });
});

describe("AUTH and submission", () => {
  test("no AUTH on port 25; none before TLS on 587", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.test\0" + PASS).toString("base64"))).code).toBe(503);
    c.close();
    const s = await RawSmtp.connect(srv.port("SUBMISSION"));
    await s.read();
    const e = await s.cmd("EHLO me");
    expect(e.text).not.toContain("AUTH");
    expect(e.text).toContain("STARTTLS");
    const a = await s.cmd("AUTH PLAIN " + Buffer.from("\0alice@example.test\0" + PASS).toString("base64"));
    expect(a.code).toBe(530);
    expect(a.text).toStartWith("5.7.0");
    expect((await s.cmd("MAIL FROM:<alice@example.test>")).code).toBe(530);
    s.close();
  });

  test("submission: unauthenticated MAIL gets 530; senders limited to own addresses and aliases", async () => {
    const s = await RawSmtp.connect(srv.port("SUBMISSIONS"), { tls: true });
    await s.read();
    await s.cmd("EHLO me");
    const m = await s.cmd("MAIL FROM:<alice@example.test>");
    expect(m.code).toBe(530);
    s.close();
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    expect((await c.cmd("AUTH PLAIN xxxx")).code).toBe(503); // already authenticated
    const bad = await c.cmd("MAIL FROM:<bob@example.test>");
    expect(bad.code).toBe(553);
    expect(bad.text).toStartWith("5.7.1");
    expect((await c.cmd("MAIL FROM:<>")).code).toBe(553);
    expect((await c.cmd("MAIL FROM:<alice.alias@example.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<nobody@example.test>")).code).toBe(550);
    expect((await c.cmd("RCPT TO:<friend@remote.test>")).code).toBe(250); // authenticated: relaying allowed
    expect((await c.cmd("RCPT TO:<bob@example.test>")).code).toBe(250);
    await c.cmd("DATA");
    const msg = "From: Alice <alice.alias@example.test>\r\nTo: bob@example.test, friend@remote.test\r\nSubject: via alias\r\nMessage-ID: <alias1@example.test>\r\nDate: Fri, 27 Nov 2026 12:00:00 +0000\r\n\r\nhello\r\n";
    c.write(msg + ".\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(250);
    const m2 = await folderMessages(srv.store, "bob@example.test");
    expect(stripTrace(m2[m2.length - 1]!)).toBe(msg);
    const q = await srv.store.listQueue();
    const entry = q.find((e) => e.recipients.some((x) => x.address === "friend@remote.test"));
    expect(entry?.sender).toBe("alice.alias@example.test");
    expect(text(await srv.store.blobs.get(entry!.blobId))).toContain("DKIM-Signature:");
    await srv.store.removeQueueEntry(entry!.id);
    c.close();
  });

  test("AUTH LOGIN with continuation lines, cancel with *", async () => {
    const c = await ehloSession(srv.port("SUBMISSION"));
    await c.startTls();
    await c.cmd("EHLO me");
    expect((await c.cmd("AUTH LOGIN")).text).toBe("VXNlcm5hbWU6");
    expect((await c.cmd("*")).code).toBe(501);
    expect((await c.cmd("AUTH LOGIN")).code).toBe(334);
    expect((await c.cmd(Buffer.from("alice@example.test").toString("base64"))).text).toBe("UGFzc3dvcmQ6");
    expect((await c.cmd(Buffer.from(PASS).toString("base64"))).code).toBe(235);
    expect((await c.cmd("MAIL FROM:<alice@example.test>")).code).toBe(250);
    c.close();
  });
});

describe("inbound recipients", () => {
  test("unknown user 550 5.1.1; one-to-many alias and catch-all expand; postmaster accepted", async () => {
    const before = { alice: await count("alice@example.test"), bob: await count("bob@example.test"), carol: await count("carol@example.test"), dave: await count("dave@example.test") };
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    const u = await c.cmd("RCPT TO:<nobody@example.test>");
    expect(u.code).toBe(550);
    expect(u.text).toStartWith("5.1.1");
    expect((await c.cmd("RCPT TO:<sales@example.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<anything@other.test>")).code).toBe(250); // catch-all -> carol
    expect((await c.cmd("RCPT TO:<Postmaster>")).code).toBe(250); // -> dave
    expect((await c.cmd("RCPT TO:<ALICE@Example.TEST>")).code).toBe(250); // alice again (case-insensitive)
    await c.cmd("DATA");
    c.write("Subject: expand\r\n\r\nx\r\n.\r\n");
    expect((await c.read())!.code).toBe(250);
    expect(await count("alice@example.test")).toBe(before.alice + 1); // once, despite two routes
    expect(await count("bob@example.test")).toBe(before.bob + 1);
    expect(await count("carol@example.test")).toBe(before.carol + 1);
    expect(await count("dave@example.test")).toBe(before.dave + 1);
    // one blob shared by all copies
    const blobs = new Set<string>();
    for (const who of ["alice", "bob", "carol", "dave"]) {
      const acct = (await srv.store.getAccount(`${who}@example.test`))!;
      const f = (await srv.store.getFolder(acct.id, "INBOX"))!;
      const list = await srv.store.listMessages(f.id);
      const idx = (await srv.store.getMessages(f.id, [list[list.length - 1]!.uid]))[0]!;
      blobs.add(idx.blobId);
    }
    expect(blobs.size).toBe(1);
    c.close();
  });

  test("quota full: 452 4.2.2 for that recipient only", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    expect((await c.cmd("RCPT TO:<carol@example.test>")).code).toBe(250);
    const r = await c.cmd("RCPT TO:<full@example.test>");
    expect(r.code).toBe(452);
    expect(r.text).toStartWith("4.2.2");
    expect((await c.cmd("RCPT TO:<bob@example.test>")).code).toBe(250);
    c.close();
  });

  test("quota exceeded by the actual size at end of DATA: 452 4.2.2, nothing stored", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>"); // no SIZE: RCPT cannot know
    expect((await c.cmd("RCPT TO:<tight@example.test>")).code).toBe(250);
    await c.cmd("DATA");
    c.write("Subject: big\r\n\r\n" + "b".repeat(900) + "\r\n.\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(452);
    expect(r.text).toStartWith("4.2.2");
    expect(await count("tight@example.test")).toBe(0);
    // with SIZE declared, RCPT already says so
    await c.cmd("MAIL FROM:<x@remote.test> SIZE=1000");
    expect((await c.cmd("RCPT TO:<tight@example.test>")).code).toBe(452);
    c.close();
  });

  test("RCPT's quota check reads the usage of that moment, through aliases too (the resolver's account row)", async () => {
    await createUser(srv.store, "growing@example.test", PASS);
    await srv.store.setQuota("growing@example.test", 3000);
    await srv.store.addAlias("growing.alias@example.test", "growing@example.test");
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test> SIZE=1500");
    expect((await c.cmd("RCPT TO:<growing@example.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<growing.alias@example.test>")).code).toBe(250);
    await c.cmd("RSET");
    // 2,000 bytes arrive by another way (another process, IMAP APPEND): the next RCPT sees them
    const growing = (await srv.store.getAccount("growing@example.test"))!;
    await srv.store.deliver(new TextEncoder().encode("Subject: filler\r\n\r\n" + "g".repeat(1980) + "\r\n"), [{ accountId: growing.id }]);
    await c.cmd("MAIL FROM:<x@remote.test> SIZE=1500");
    const direct = await c.cmd("RCPT TO:<growing@example.test>");
    expect(direct.code).toBe(452);
    expect(direct.text).toBe("4.2.2 Mailbox full: growing@example.test");
    expect((await c.cmd("RCPT TO:<growing.alias@example.test>")).code).toBe(452);
    // a mailbox without a quota takes any size the server does
    expect((await c.cmd("RCPT TO:<carol@example.test>")).code).toBe(250);
    c.close();
  });

  test("forwarding alias to a remote address is queued, not refused", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    expect((await c.cmd("RCPT TO:<fwd@example.test> NOTIFY=FAILURE")).code).toBe(250);
    await c.cmd("DATA");
    c.write("Subject: forward me\r\n\r\nx\r\n.\r\n");
    expect((await c.read())!.code).toBe(250);
    const q = await srv.store.listQueue();
    const e = q.find((x) => x.recipients.some((r) => r.address === "someone@remote.test"));
    expect(e).toBeDefined();
    expect(e!.sender).toBe("x@remote.test");
    expect(e!.recipients[0]!.dsn?.notify).toEqual(["FAILURE"]);
    await srv.store.removeQueueEntry(e!.id);
    c.close();
  });
});

describe("auth failure limit", () => {
  test("535 5.7.8 per failure, then 421 4.7.0 once the address is blocked", async () => {
    const s2 = await startTestServer({ listeners: ["SUBMISSIONS"], config: { limits: { authFailuresPerIp: 3, authWindowSeconds: 600 } } });
    try {
      await createUser(s2.store, "u@example.test", PASS);
      const c = await RawSmtp.connect(s2.port("SUBMISSIONS"), { tls: true });
      await c.read();
      await c.cmd("EHLO me");
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await c.cmd("AUTH PLAIN " + Buffer.from(`\0u@example.test\0wrong${i}`).toString("base64"));
        codes.push(r.code);
        expect(r.text).toStartWith("5.7.8");
      }
      expect(codes).toEqual([535, 535, 535]);
      const blocked = await c.cmd("AUTH PLAIN " + Buffer.from(`\0u@example.test\0${PASS}`).toString("base64"));
      expect(blocked.code).toBe(421);
      expect(blocked.text).toStartWith("4.7.0");
      expect(await c.read()).toBeNull();
    } finally {
      await s2.close();
    }
  });
});

describe("loops", () => {
  test("a message with 50 Received: fields is refused (554 5.4.6)", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    await c.cmd("MAIL FROM:<x@remote.test>");
    await c.cmd("RCPT TO:<bob@example.test>");
    await c.cmd("DATA");
    const hops = Array.from({ length: 50 }, (_, i) => `Received: from hop${i}.example by hop${i + 1}.example; Fri, 27 Nov 2026 12:00:00 +0000\r\n`).join("");
    c.write(hops + "Subject: loop\r\n\r\nx\r\n.\r\n");
    const r = (await c.read())!;
    expect(r.code).toBe(554);
    expect(r.text).toStartWith("5.4.6");
    c.close();
  });
});

describe("SMTPUTF8 and CHUNKING on submission", () => {
  test("a UTF-8 address needs the SMTPUTF8 parameter (553 5.6.7)", async () => {
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("MAIL FROM:<jörg@remote.test>")).code).toBe(553);
    expect((await c.cmd("MAIL FROM:<x@remote.test>")).code).toBe(250);
    const r = await c.cmd("RCPT TO:<jörg@example.test>");
    expect(r.code).toBe(553);
    expect(r.text).toStartWith("5.6.7");
    c.close();
  });

  test("an authenticated BDAT submission is delivered and signed", async () => {
    const c = await submissionSession(srv.port("SUBMISSION"), "alice@example.test", PASS);
    const msg = "From: alice@example.test\r\nTo: dave@example.test\r\nSubject: bdat submission\r\nMessage-ID: <bdat1@example.test>\r\nDate: Fri, 27 Nov 2026 12:00:00 +0000\r\n\r\nchunked\r\n";
    c.write(`MAIL FROM:<alice@example.test>\r\nRCPT TO:<dave@example.test>\r\nBDAT ${Buffer.byteLength(msg)} LAST\r\n${msg}`);
    for (let i = 0; i < 3; i++) expect((await c.read())!.code).toBe(250);
    const m = await folderMessages(srv.store, "dave@example.test");
    const last = m[m.length - 1]!;
    expect(stripTrace(last)).toBe(msg);
    expect(text(last)).toStartWith("DKIM-Signature:");
    c.close();
  });
});
