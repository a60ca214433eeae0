/**
 * The POP3 state machine against an in-memory store (no sockets): RFC 1939
 * commands, RFC 2449 CAPA and response codes, RFC 5034 AUTH, RFC 2595 STLS.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { harness } from "./fake.ts";
import { memorySizeCache } from "../../protocols/pop3/sizes.ts";

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");

const MSG1 = "From: a@example.test\r\nSubject: one\r\n\r\nline 1\r\n.dotted\r\nline 3\r\n";
const MSG2_LF = "From: b@example.test\nSubject: two\n\nbare\nlf\n";
const MSG3 = "Subject: three\r\n\r\nno final newline";

async function loggedIn(opts: Parameters<typeof harness>[0] = {}) {
  const h = harness(opts);
  h.store.deliver(1, MSG1);
  h.store.deliver(1, MSG2_LF);
  h.store.deliver(1, MSG3);
  const c = h.session({ secure: true });
  expect(await c.cmd("USER alice@example.test")).toStartWith("+OK");
  expect(await c.cmd("PASS secret pw")).toStartWith("+OK");
  return { h, c };
}

describe("greeting and CAPA", () => {
  test("greeting is +OK", () => {
    const h = harness();
    const c = h.session();
    expect(c.io.text()).toBe("+OK Pillarbox POP3 ready\r\n");
  });

  test("before TLS: STLS offered, no USER or SASL when plaintext auth is off", async () => {
    const c = harness().session();
    const r = await c.cmd("CAPA");
    const lines = r.split("\r\n");
    expect(lines[0]).toStartWith("+OK");
    expect(lines).toContain("STLS");
    expect(lines).toContain("TOP");
    expect(lines).toContain("UIDL");
    expect(lines).toContain("RESP-CODES");
    expect(lines).toContain("PIPELINING");
    expect(lines).toContain("AUTH-RESP-CODE");
    expect(lines).toContain("IMPLEMENTATION Pillarbox");
    expect(lines).not.toContain("USER");
    expect(lines.some((l) => l.startsWith("SASL"))).toBe(false);
    expect(r.endsWith("\r\n.\r\n")).toBe(true);
  });

  test("over TLS: USER and SASL PLAIN, no STLS; EXPIRE/LOGIN-DELAY only when configured", async () => {
    let lines = (await harness().session({ secure: true }).cmd("CAPA")).split("\r\n");
    expect(lines).toContain("USER");
    expect(lines).toContain("SASL PLAIN");
    expect(lines).not.toContain("STLS");
    expect(lines.some((l) => l.startsWith("EXPIRE") || l.startsWith("LOGIN-DELAY"))).toBe(false);
    lines = (await harness({ expire: "NEVER", loginDelaySeconds: 60 }).session({ secure: true }).cmd("CAPA")).split("\r\n");
    expect(lines).toContain("EXPIRE NEVER");
    expect(lines).toContain("LOGIN-DELAY 60");
  });

  test("plaintext allowed by config: USER offered before TLS", async () => {
    const lines = (await harness({ allowPlaintextAuth: true }).session().cmd("CAPA")).split("\r\n");
    expect(lines).toContain("USER");
    expect(lines).toContain("SASL PLAIN");
    expect(lines).toContain("STLS");
  });

  test("CAPA in TRANSACTION drops USER/SASL/STLS", async () => {
    const { c } = await loggedIn();
    const lines = (await c.cmd("CAPA")).split("\r\n");
    expect(lines).toContain("UIDL");
    expect(lines).not.toContain("USER");
    expect(lines.some((l) => l.startsWith("SASL"))).toBe(false);
  });
});

describe("authorization", () => {
  test("USER/PASS refused before TLS unless allowed", async () => {
    const c = harness().session();
    expect(await c.cmd("USER alice@example.test")).toStartWith("-ERR [AUTH] Plaintext authentication disallowed");
    expect(await c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0secret pw"))).toStartWith("-ERR [AUTH]");
    expect(c.s.state).toBe("AUTHORIZATION");
  });

  test("USER/PASS with spaces in the password", async () => {
    const { c } = await loggedIn();
    expect(c.s.state).toBe("TRANSACTION");
  });

  test("wrong password gets [AUTH]; three failures close the connection", async () => {
    const h = harness();
    const c = h.session({ secure: true });
    await c.cmd("USER alice@example.test");
    expect(await c.cmd("PASS nope")).toBe("-ERR [AUTH] Authentication failed\r\n");
    expect(await c.cmd("PASS secret pw")).toBe("-ERR USER first\r\n");
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS nope");
    expect(c.io.closed).toBe(false);
    await c.cmd("USER alice@example.test");
    const r = await c.cmd("PASS nope");
    expect(r).toContain("Too many authentication failures");
    expect(c.io.closed).toBe(true);
  });

  test("a blocked IP gets [SYS/TEMP] without a credential check", async () => {
    const h = harness();
    h.blocked.add("192.0.2.9");
    const c = h.session({ secure: true, ip: "192.0.2.9" });
    await c.cmd("USER alice@example.test");
    expect(await c.cmd("PASS secret pw")).toStartWith("-ERR [SYS/TEMP]");
    expect(c.s.state).toBe("AUTHORIZATION");
  });

  test("AUTH PLAIN with initial response", async () => {
    const h = harness();
    const c = h.session({ secure: true });
    expect(await c.cmd("AUTH PLAIN " + b64("\0alice@example.test\0secret pw"))).toStartWith("+OK");
    expect(c.s.state).toBe("TRANSACTION");
  });

  test("AUTH PLAIN with a continuation, authzid equal to authcid", async () => {
    const c = harness().session({ secure: true });
    expect(await c.cmd("auth plain")).toBe("+ \r\n");
    expect(await c.cmd(b64("alice@example.test\0alice@example.test\0secret pw"))).toStartWith("+OK");
  });

  test("AUTH PLAIN: cancel, bad base64, empty (=), foreign authzid, unknown mechanism", async () => {
    const c = harness().session({ secure: true });
    await c.cmd("AUTH PLAIN");
    expect(await c.cmd("*")).toBe("-ERR Authentication cancelled\r\n");
    expect(await c.cmd("AUTH PLAIN !!!notbase64")).toBe("-ERR [AUTH] Invalid base64 data\r\n");
    expect(await c.cmd("AUTH PLAIN =")).toStartWith("-ERR [AUTH]");
    expect(await c.cmd("AUTH CRAM-MD5")).toBe("-ERR Unsupported authentication mechanism\r\n");
    expect(await c.cmd("AUTH PLAIN " + b64("bob@example.test\0alice@example.test\0secret pw"))).toStartWith("-ERR [AUTH]");
    expect(c.s.state).toBe("AUTHORIZATION");
  });

  test("bare AUTH lists mechanisms", async () => {
    const c = harness().session({ secure: true });
    expect(await c.cmd("AUTH")).toBe("+OK Supported mechanisms\r\nPLAIN\r\n.\r\n");
  });

  test("APOP is refused", async () => {
    const c = harness().session({ secure: true });
    expect(await c.cmd("APOP alice@example.test 0123456789abcdef0123456789abcdef")).toStartWith("-ERR");
  });

  test("second session on the same maildrop gets [IN-USE] until the first closes", async () => {
    const h = harness();
    const a = h.session({ secure: true });
    await a.cmd("USER alice@example.test");
    expect(await a.cmd("PASS secret pw")).toStartWith("+OK");
    const b = h.session({ secure: true });
    await b.cmd("USER alice@example.test");
    expect(await b.cmd("PASS secret pw")).toStartWith("-ERR [IN-USE]");
    // another account is not affected
    await b.cmd("USER bob@example.test");
    expect(await b.cmd("PASS hunter2")).toStartWith("+OK");
    a.s.onClose();
    const c = h.session({ secure: true });
    await c.cmd("USER alice@example.test");
    expect(await c.cmd("PASS secret pw")).toStartWith("+OK");
  });

  test("LOGIN-DELAY refuses a second login within the delay", async () => {
    const h = harness({ loginDelaySeconds: 300 });
    let now = 1_000_000;
    h.deps.now = () => now;
    const a = h.session({ secure: true });
    await a.cmd("USER alice@example.test");
    expect(await a.cmd("PASS secret pw")).toStartWith("+OK");
    expect(await a.cmd("QUIT")).toStartWith("+OK");
    now += 10_000;
    const b = h.session({ secure: true });
    await b.cmd("USER alice@example.test");
    expect(await b.cmd("PASS secret pw")).toStartWith("-ERR [LOGIN-DELAY]");
    now += 300_000;
    await b.cmd("USER alice@example.test");
    expect(await b.cmd("PASS secret pw")).toStartWith("+OK");
  });

  test("transaction commands before login are refused", async () => {
    const c = harness().session({ secure: true });
    expect(await c.cmd("STAT")).toBe("-ERR Not logged in\r\n");
    expect(await c.cmd("RETR 1")).toBe("-ERR Not logged in\r\n");
  });
});

describe("STLS", () => {
  test("discards pipelined commands and forgets USER", async () => {
    const h = harness();
    const c = h.session();
    const r = await c.raw("STLS\r\nUSER alice@example.test\r\nPASS secret pw\r\n");
    expect(r).toBe("+OK Begin TLS negotiation now\r\n");
    expect(c.io.tlsStarted).toBe(1);
    expect(c.s.secure).toBe(true);
    expect(c.s.state).toBe("AUTHORIZATION");
    expect(await c.cmd("PASS secret pw")).toBe("-ERR USER first\r\n");
    expect(await c.cmd("STLS")).toBe("-ERR Already using TLS\r\n");
  });

  test("failed handshake closes", async () => {
    const c = harness().session();
    c.io.tlsFails = true;
    await c.cmd("STLS");
    expect(c.io.closed).toBe(true);
  });
});

describe("transaction", () => {
  test("STAT and LIST report CRLF-form sizes", async () => {
    const { c } = await loggedIn();
    const s1 = Buffer.byteLength(MSG1);
    const s2 = Buffer.byteLength(MSG2_LF.replace(/\n/g, "\r\n"));
    const s3 = Buffer.byteLength(MSG3) + 2;
    expect(await c.cmd("STAT")).toBe(`+OK 3 ${s1 + s2 + s3}\r\n`);
    expect(await c.cmd("LIST")).toBe(`+OK 3 messages (${s1 + s2 + s3} octets)\r\n1 ${s1}\r\n2 ${s2}\r\n3 ${s3}\r\n.\r\n`);
    expect(await c.cmd("LIST 2")).toBe(`+OK 2 ${s2}\r\n`);
  });

  test("RETR: CRLF, dot-stuffing, terminator; sizes match LIST", async () => {
    const { c } = await loggedIn();
    const r1 = await c.cmd("RETR 1");
    expect(r1).toBe(`+OK ${Buffer.byteLength(MSG1)} octets\r\n${MSG1.replace("\r\n.dotted", "\r\n..dotted")}.\r\n`);
    const r2 = await c.cmd("RETR 2");
    const body2 = MSG2_LF.replace(/\n/g, "\r\n");
    expect(r2).toBe(`+OK ${body2.length} octets\r\n${body2}.\r\n`);
    const r3 = await c.cmd("RETR 3");
    expect(r3).toBe(`+OK ${MSG3.length + 2} octets\r\n${MSG3}\r\n.\r\n`);
  });

  test("TOP sends the header, the blank line and n body lines", async () => {
    const { c } = await loggedIn();
    expect(await c.cmd("TOP 1 0")).toBe("+OK Top of message follows\r\nFrom: a@example.test\r\nSubject: one\r\n\r\n.\r\n");
    expect(await c.cmd("TOP 1 2")).toBe("+OK Top of message follows\r\nFrom: a@example.test\r\nSubject: one\r\n\r\nline 1\r\n..dotted\r\n.\r\n");
    expect(await c.cmd("TOP 2 99")).toBe(`+OK Top of message follows\r\n${MSG2_LF.replace(/\n/g, "\r\n")}.\r\n`);
  });

  test("UIDL is <uidvalidity>.<uid> and survives a new session", async () => {
    const { h, c } = await loggedIn();
    const inbox = await h.store.getFolder(1, "INBOX");
    const all = await c.cmd("UIDL");
    expect(all).toBe(`+OK Unique-ID listing follows\r\n1 ${inbox!.uidValidity}.1\r\n2 ${inbox!.uidValidity}.2\r\n3 ${inbox!.uidValidity}.3\r\n.\r\n`);
    expect(await c.cmd("UIDL 3")).toBe(`+OK 3 ${inbox!.uidValidity}.3\r\n`);
    await c.cmd("DELE 1");
    expect(await c.cmd("QUIT")).toStartWith("+OK");
    const d = h.session({ secure: true });
    await d.cmd("USER alice@example.test");
    await d.cmd("PASS secret pw");
    // numbering restarts, unique ids stay
    expect(await d.cmd("UIDL")).toBe(`+OK Unique-ID listing follows\r\n1 ${inbox!.uidValidity}.2\r\n2 ${inbox!.uidValidity}.3\r\n.\r\n`);
  });

  test("DELE marks, hides from LIST/STAT, RSET unmarks", async () => {
    const { c } = await loggedIn();
    expect(await c.cmd("DELE 2")).toStartWith("+OK");
    expect(await c.cmd("DELE 2")).toBe("-ERR Message 2 already deleted\r\n");
    expect(await c.cmd("RETR 2")).toBe("-ERR Message 2 already deleted\r\n");
    expect(await c.cmd("LIST 2")).toStartWith("-ERR");
    expect(await c.cmd("LIST")).not.toContain("\r\n2 ");
    expect((await c.cmd("STAT")).split(" ")[1]).toBe("2");
    expect(await c.cmd("RSET")).toStartWith("+OK Maildrop has 3 messages");
    expect((await c.cmd("STAT")).split(" ")[1]).toBe("3");
  });

  test("QUIT applies deletions in one expunge and marks retrieved messages \\Seen", async () => {
    const { h, c } = await loggedIn();
    await c.cmd("RETR 1");
    await c.cmd("DELE 2");
    await c.cmd("DELE 3");
    expect(h.store.calls.filter((x) => x.startsWith("expunge"))).toEqual([]);
    expect(await c.cmd("QUIT")).toBe("+OK Pillarbox POP3 signing off (2 messages deleted)\r\n");
    expect(c.io.closed).toBe(true);
    expect(h.store.calls).toEqual(["flags add \\Seen 1", "expunge 1 2,3"]);
    expect(h.store.inbox(1).map((m) => m.uid)).toEqual([1]);
    expect(h.deps.locks.isLocked(1)).toBe(false);
  });

  test("a connection dropped after DELE deletes nothing and releases the lock", async () => {
    const { h, c } = await loggedIn();
    await c.cmd("DELE 1");
    await c.cmd("RETR 2");
    c.s.onClose();
    expect(h.store.calls).toEqual([]);
    expect(h.store.inbox(1).length).toBe(3);
    expect(h.deps.locks.isLocked(1)).toBe(false);
  });

  test("idle timeout deletes nothing", async () => {
    const { h, c } = await loggedIn();
    await c.cmd("DELE 1");
    c.s.timeout();
    expect(c.io.text()).toContain("-ERR Disconnected for inactivity");
    expect(c.io.closed).toBe(true);
    expect(h.store.inbox(1).length).toBe(3);
  });

  test("a failed expunge answers -ERR [SYS/TEMP] and still releases the lock", async () => {
    const { h, c } = await loggedIn();
    h.store.failExpunge = true;
    await c.cmd("DELE 1");
    expect(await c.cmd("QUIT")).toStartWith("-ERR [SYS/TEMP]");
    expect(h.deps.locks.isLocked(1)).toBe(false);
  });

  test("leave-on-server moves deleted messages to Trash", async () => {
    const { h, c } = await loggedIn();
    h.store.accounts.get(1)!.settings.pop3LeaveOnServer = true;
    await c.cmd("RETR 1");
    await c.cmd("DELE 1");
    expect(await c.cmd("QUIT")).toContain("moved to Trash");
    expect(h.store.calls).toContain("createFolder Trash");
    expect(h.store.inbox(1).map((m) => m.uid)).toEqual([2, 3]);
    const trash = h.store.folderMsgs(1, "Trash");
    expect(trash.length).toBe(1);
    expect(trash[0]!.flags).toContain("\\Seen");
  });

  test("EXPIRE 0 removes retrieved messages at QUIT", async () => {
    const { h, c } = await loggedIn({ expire: 0 });
    await c.cmd("RETR 2");
    await c.cmd("TOP 3 1");
    await c.cmd("QUIT");
    expect(h.store.inbox(1).map((m) => m.uid)).toEqual([1, 3]);
  });

  test("bad arguments and out-of-range numbers get -ERR and the session goes on", async () => {
    const { c } = await loggedIn();
    for (const line of ["RETR", "RETR 0", "RETR 4", "RETR -1", "RETR +1", "RETR 1x", "RETR 99999999999999", "TOP 1", "TOP 1 -1", "TOP x 1", "DELE", "LIST 1 2", "STAT 1", "NOOP x", "FOO", "", "   "]) {
      expect(await c.cmd(line)).toStartWith("-ERR");
    }
    expect(c.s.state).toBe("TRANSACTION");
    expect(await c.cmd("NOOP")).toBe("+OK\r\n");
    expect(await c.cmd("USER x")).toBe("-ERR Already logged in\r\n");
  });

  test("too many bad commands close the connection", async () => {
    const c = harness().session({ secure: true });
    for (let i = 0; i < 19; i++) await c.cmd("BOGUS");
    expect(c.io.closed).toBe(false);
    expect(await c.cmd("BOGUS")).toContain("Too many bad commands");
    expect(c.io.closed).toBe(true);
  });

  test("pipelined commands are answered in order", async () => {
    const { c } = await loggedIn();
    const r = await c.raw("NOOP\r\nSTAT\r\nLIST 1\r\nUIDL 1\r\nDELE 1\r\nSTAT\r\n");
    const lines = r.split("\r\n");
    expect(lines[0]).toBe("+OK");
    expect(lines[1]).toStartWith("+OK 3 ");
    expect(lines[2]).toStartWith("+OK 1 ");
    expect(lines[3]).toStartWith("+OK 1 ");
    expect(lines[4]).toStartWith("+OK Message 1");
    expect(lines[5]).toStartWith("+OK 2 ");
  });

  test("an over-long line is refused and the next command works", async () => {
    const { c } = await loggedIn();
    const r = await c.raw("NOOP " + "x".repeat(300) + "\r\nNOOP\r\n");
    expect(r).toBe("-ERR Line too long\r\n+OK\r\n");
  });

  test("a message expunged elsewhere after login gets -ERR, the session goes on", async () => {
    const { h, c } = await loggedIn();
    await h.store.expunge(1, [1]);
    expect(await c.cmd("RETR 1")).toStartWith("-ERR [SYS/TEMP]");
    expect(await c.cmd("RETR 3")).toStartWith("+OK");
  });

  test("large messages are streamed in chunks and still byte-exact", async () => {
    const h = harness();
    const lines: string[] = ["Subject: big", ""];
    let len = 0;
    for (let i = 0; len < 1_100_000; i++) {
      const l = i % 7 === 0 ? `.line ${i}` : `line ${i} ${"y".repeat(60)}`;
      lines.push(l);
      len += l.length + 1;
    }
    const raw = lines.join("\n") + "\n";
    h.store.deliver(1, raw);
    const c = h.session({ secure: true });
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret pw");
    const expectBody = raw.replace(/\n/g, "\r\n").replace(/\r\n\./g, "\r\n..");
    expect(await c.cmd("LIST 1")).toBe(`+OK 1 ${raw.length + lines.length}\r\n`);
    const r = await c.cmd("RETR 1");
    expect(r).toBe(`+OK ${raw.length + lines.length} octets\r\n${expectBody}.\r\n`);
    const t = await c.cmd("TOP 1 1");
    expect(t).toBe("+OK Top of message follows\r\nSubject: big\r\n\r\n..line 0\r\n.\r\n");
  });
});

describe("size cache", () => {
  test("second login reads no message to compute sizes", async () => {
    const sizes = memorySizeCache();
    const h = harness({}, sizes);
    h.store.deliver(1, MSG1);
    h.store.deliver(1, MSG2_LF);
    const a = h.session({ secure: true });
    await a.cmd("USER alice@example.test");
    await a.cmd("PASS secret pw");
    const first = await a.cmd("LIST");
    await a.cmd("QUIT");
    expect(h.store.reads).toBe(2);
    h.store.deliver(1, MSG3);
    const b = h.session({ secure: true });
    await b.cmd("USER alice@example.test");
    await b.cmd("PASS secret pw");
    const second = await b.cmd("LIST");
    expect(h.store.reads).toBe(3); // only the new message
    expect(second.startsWith("+OK 3 messages")).toBe(true);
    expect(second).toContain(first.split("\r\n")[2]!); // "2 <size>" line unchanged
    expect(second).toContain(`3 ${MSG3.length + 2}`);
  });
});

describe("sizes recorded at ingest (migration 0004)", () => {
  test("login reads no message; LIST, STAT and RETR agree with the CRLF form", async () => {
    const h = harness();
    h.store.recordSizes = true;
    h.store.deliver(1, MSG1);
    h.store.deliver(1, MSG2_LF);
    const c = h.session({ secure: true });
    await c.cmd("USER alice@example.test");
    await c.cmd("PASS secret pw");
    expect(h.store.reads).toBe(0);
    const list = await c.cmd("LIST 2");
    const size = Number(list.trim().split(" ")[2]);
    const lfLines = MSG2_LF.split("\n").length - 1;
    expect(size).toBe(MSG2_LF.length + lfLines + (MSG2_LF.endsWith("\n") ? 0 : 2));
    const r = await c.cmd("RETR 2");
    expect(r.startsWith(`+OK ${size} octets\r\n`)).toBe(true);
    // Status line, message in CRLF form, ".CRLF": the message part is exactly `size` octets.
    const body = r.slice(r.indexOf("\r\n") + 2, r.length - 3).replace(/\r\n\.\./g, "\r\n.");
    expect(Buffer.byteLength(body)).toBe(size);
    expect(h.store.reads).toBe(1);
  });
});

describe("fuzz", () => {
  const lineArb = fc.oneof(
    fc.constantFrom("STAT", "LIST", "UIDL", "NOOP", "RSET", "CAPA", "AUTH", "AUTH PLAIN", "*", "STLS", "APOP x y", "USER alice@example.test", "PASS secret pw"),
    fc.tuple(fc.constantFrom("RETR", "TOP", "DELE", "LIST", "UIDL"), fc.array(fc.oneof(fc.nat({ max: 5 }).map(String), fc.string({ maxLength: 6 })), { maxLength: 3 })).map(
      ([c, a]) => [c, ...a].join(" "),
    ),
    fc.string({ maxLength: 40 }).map((x) => x.replace(/[\r\n]/g, "")),
  );

  test("property: any command sequence gets one status line per command, in order, and never crashes", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(lineArb, { maxLength: 25 }), async (lines) => {
        const h = harness();
        h.store.deliver(1, MSG1);
        h.store.deliver(1, MSG2_LF);
        const c = h.session({ secure: true });
        for (const line of lines) {
          if (c.io.closed) break;
          const r = await c.cmd(line);
          // every reply starts with a status indicator or a SASL continuation
          expect(r === "" ? c.io.closed : /^(\+OK|-ERR|\+ )/.test(r)).toBe(true);
        }
        // inside a SASL exchange the next line is the client's response (RFC 5034 §4): cancel first
        if (!c.io.closed && c.s.sasl) expect(await c.cmd("*")).toBe("-ERR Authentication cancelled\r\n");
        if (!c.io.closed) expect(await c.cmd("QUIT")).toStartWith("+OK");
        // the lock never outlives the session
        expect(h.deps.locks.isLocked(1)).toBe(false);
        // only QUIT in TRANSACTION may delete: the store holds 2 minus deletions
        expect(h.store.inbox(1).length).toBeLessThanOrEqual(2);
      }),
      { numRuns: 150 },
    );
  });
});
