import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import {
  ChunkCollector,
  DataDecoder,
  InputBuffer,
  MAX_BODY_LINE,
  decodeXtext,
  formatReply,
  parseBdatArg,
  parseCommandLine,
  parseMailArg,
  parseMailbox,
  parseParams,
  parsePlainResponse,
  parseRcptArg,
  reply,
  decodeBase64,
  type MailCommand,
  type ParseError,
  type RcptCommand,
} from "../../protocols/smtp/parser.ts";
import { dotStuff, xtext } from "../../src/delivery/client.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

function decodeAll(chunks: string[], max = 1_000_000) {
  const d = new DataDecoder(max);
  let rest = "";
  let done = false;
  for (const c of chunks) {
    if (done) {
      rest += c;
      continue;
    }
    const bytes = enc(c);
    const r = d.push(bytes);
    if (r.done) {
      done = true;
      rest += dec(bytes.subarray(r.consumed));
    }
  }
  return { done, message: dec(d.message()), rest, d };
}

describe("InputBuffer", () => {
  test("splits CRLF and bare LF lines across chunks", () => {
    const b = new InputBuffer();
    b.push(enc("EHLO a"));
    expect(b.readLine(512)).toBeNull();
    b.push(enc(".example\r\nNOOP\nQU"));
    expect(dec((b.readLine(512) as { bytes: Uint8Array }).bytes)).toBe("EHLO a.example");
    expect(dec((b.readLine(512) as { bytes: Uint8Array }).bytes)).toBe("NOOP");
    expect(b.readLine(512)).toBeNull();
    expect(b.length).toBe(2);
  });

  test("an over-long line is dropped while streaming and reported once, then the next line is fine", () => {
    const b = new InputBuffer();
    b.push(enc("X".repeat(600)));
    expect(b.readLine(512)).toBeNull();
    expect(b.length).toBe(0); // nothing kept
    b.push(enc("Y".repeat(5000)));
    expect(b.readLine(512)).toBeNull();
    expect(b.length).toBe(0);
    b.push(enc("ZZ\r\nNOOP\r\n"));
    expect(b.readLine(512)).toEqual({ kind: "toolong" });
    expect(dec((b.readLine(512) as { bytes: Uint8Array }).bytes)).toBe("NOOP");
  });

  test("a line of exactly the limit is accepted, one more octet is not", () => {
    const b = new InputBuffer();
    b.push(enc("A".repeat(510) + "\r\n" + "B".repeat(511) + "\r\n"));
    expect(b.readLine(512)!.kind).toBe("line");
    expect(b.readLine(512)).toEqual({ kind: "toolong" });
  });

  test("readBytes takes raw bytes for BDAT", () => {
    const b = new InputBuffer();
    b.push(enc("abc\r\ndefQUIT\r\n"));
    expect(dec(b.readBytes(8))).toBe("abc\r\ndef");
    expect(dec((b.readLine(512) as { bytes: Uint8Array }).bytes)).toBe("QUIT");
  });
});

describe("DataDecoder", () => {
  test("dot-unstuffing and end of data", () => {
    const r = decodeAll(["Subject: x\r\n\r\n..leading dot\r\n.\r\nQUIT\r\n"]);
    expect(r.done).toBe(true);
    expect(r.message).toBe("Subject: x\r\n\r\n.leading dot\r\n");
    expect(r.rest).toBe("QUIT\r\n");
  });

  test("end of data split over every possible chunk boundary", () => {
    const msg = "A: b\r\n\r\nline\r\n..x\r\n.\r\nNOOP\r\n";
    for (let i = 1; i < msg.length; i++) {
      for (let j = i; j < msg.length; j++) {
        const r = decodeAll([msg.slice(0, i), msg.slice(i, j), msg.slice(j)]);
        expect(r.done).toBe(true);
        expect(r.message).toBe("A: b\r\n\r\nline\r\n.x\r\n");
        expect(r.rest).toBe("NOOP\r\n");
      }
    }
  });

  test("empty message", () => {
    const r = decodeAll([".\r\n"]);
    expect(r.done).toBe(true);
    expect(r.message).toBe("");
  });

  test("smuggling sequences are not end of data (<LF>.<LF>, <CRLF>.<LF>, <LF>.<CRLF>)", () => {
    for (const trick of ["a\n.\nMAIL FROM:<x@y>\r\n", "a\r\n.\nMAIL FROM:<x@y>\r\n", "a\n.\r\nMAIL FROM:<x@y>\r\n", "a\r.\r\nMAIL\r\n"]) {
      const r = decodeAll([trick]);
      expect(r.done).toBe(false);
    }
    // and the message goes on until the real terminator
    const r = decodeAll(["a\n.\nMAIL FROM:<x@y>\r\n.\r\n"]);
    expect(r.done).toBe(true);
    expect(r.message).toBe("a\r\n.\r\nMAIL FROM:<x@y>\r\n");
  });

  test("bare LF line ends are normalised to CRLF", () => {
    const r = decodeAll(["a\nb\r\n.\r\n"]);
    expect(r.message).toBe("a\r\nb\r\n");
  });

  test("size limit: bytes past the limit are not kept", () => {
    const d = new DataDecoder(100);
    const r1 = d.push(enc("x".repeat(90) + "\r\n"));
    expect(r1.done).toBe(false);
    d.push(enc("y".repeat(500) + "\r\n"));
    const r = d.push(enc(".\r\n"));
    expect(r.done).toBe(true);
    expect(d.oversize).toBe(true);
    expect(d.message().length).toBe(0);
    expect(d.size).toBe(594);
  });

  test("line length cap (here 1000): 1000 octets with CRLF is fine, 1001 is not", () => {
    const run = (parts: string[]) => {
      const d = new DataDecoder(1_000_000, 1000);
      for (const p of parts) d.push(enc(p));
      return d;
    };
    expect(run(["x".repeat(998) + "\r\n.\r\n"]).lineTooLong).toBe(false);
    expect(run(["x".repeat(999) + "\r\n.\r\n"]).lineTooLong).toBe(true);
    // split across chunks
    expect(run(["x".repeat(500), "x".repeat(499), "\r\n.\r\n"]).lineTooLong).toBe(true);
  });

  test("lines past 1000 octets are kept as received, up to the MAX_BODY_LINE hard cap", () => {
    const html = "<p>" + "w".repeat(49_990) + "</p>";
    const r = decodeAll(["Subject: one line\r\n\r\n", html.slice(0, 20_000), html.slice(20_000) + "\r\n.\r\n"]);
    expect(r.d.lineTooLong).toBe(false);
    expect(r.message).toBe("Subject: one line\r\n\r\n" + html + "\r\n");
    const atCap = decodeAll(["y".repeat(MAX_BODY_LINE - 2) + "\r\n.\r\n"], 4 * MAX_BODY_LINE);
    expect(atCap.d.lineTooLong).toBe(false);
    expect(atCap.message.length).toBe(MAX_BODY_LINE);
    const over = decodeAll(["y".repeat(MAX_BODY_LINE - 1) + "\r\n.\r\n"], 4 * MAX_BODY_LINE);
    expect(over.done).toBe(true);
    expect(over.d.lineTooLong).toBe(true);
    expect(over.d.retainedBytes).toBe(0); // a refused message is not kept
  });

  test("property: stuffing then decoding gives the original (CRLF text), at any chunking", () => {
    const line = fc.stringMatching(/^[ -~]{0,40}$/);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 10 }), (lines, cuts) => {
        const original = lines.map((l) => l + "\r\n").join("");
        const wire = dotStuff(enc(original));
        const d = new DataDecoder(1_000_000);
        let pos = 0;
        let done = false;
        const sizes = [...cuts, wire.length];
        for (const c of sizes) {
          if (pos >= wire.length || done) break;
          const chunk = wire.subarray(pos, Math.min(wire.length, pos + c));
          const r = d.push(chunk);
          pos += r.consumed;
          done = r.done;
        }
        while (!done && pos < wire.length) {
          const r = d.push(wire.subarray(pos));
          pos += r.consumed;
          done = r.done;
        }
        return done && pos === wire.length && dec(d.message()) === original;
      }),
      { numRuns: 300 },
    );
  });

  test("property: the result does not depend on how the bytes are chunked", () => {
    const alphabet = fc.constantFrom(..."ab.\r\n \r\n..\r\n.\r".split(""));
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 200 }), fc.array(fc.integer({ min: 1, max: 7 }), { maxLength: 60 }), (chars, cuts) => {
        const input = enc(chars.join("") + "\r\n.\r\nTAIL");
        const whole = new DataDecoder(10_000, 20);
        const r1 = whole.push(input);
        const split = new DataDecoder(10_000, 20);
        let pos = 0;
        let r2 = { done: false, consumed: 0 };
        for (const c of [...cuts, input.length]) {
          if (pos >= input.length) break;
          const part = input.subarray(pos, Math.min(input.length, pos + c));
          r2 = split.push(part);
          pos += r2.consumed;
          if (r2.done) break;
        }
        return (
          r1.done &&
          r2.done &&
          r1.consumed === pos &&
          dec(whole.message()) === dec(split.message()) &&
          whole.lineTooLong === split.lineTooLong
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("property: never throws, output bounded by limit", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), fc.integer({ min: 0, max: 2000 }), (chunks, limit) => {
        const d = new DataDecoder(limit);
        for (const c of chunks) {
          const r = d.push(c);
          expect(r.consumed).toBeLessThanOrEqual(c.length);
          if (r.done) break;
        }
        const m = d.message();
        return m.length <= limit;
      }),
      { numRuns: 300 },
    );
  });
});

describe("ChunkCollector (BDAT)", () => {
  test("lines are measured across chunks against the hard cap; data is kept as is", () => {
    const c = new ChunkCollector(100_000, 1000);
    c.push(enc("a\nb\r\n" + "x".repeat(600)));
    c.push(enc("x".repeat(398) + "\r\n")); // 1000 octets with CRLF
    expect(c.lineTooLong).toBe(false);
    expect(dec(c.message())).toBe("a\nb\r\n" + "x".repeat(998) + "\r\n");
    c.push(enc("z".repeat(1000)));
    expect(c.lineTooLong).toBe(true); // still open and already at the cap
    expect(c.retainedBytes).toBe(0);
    expect(c.message().length).toBe(0);
  });

  test("collects and enforces the limit", () => {
    const c = new ChunkCollector(10);
    c.push(enc("hello"));
    c.push(enc("world"));
    expect(dec(c.message())).toBe("helloworld");
    c.push(enc("!"));
    expect(c.oversize).toBe(true);
    expect(c.message().length).toBe(0);
  });
});

const isErr = (x: unknown): x is ParseError => typeof x === "object" && x !== null && "code" in x;

describe("MAIL / RCPT arguments", () => {
  test("plain, null sender, parameters", () => {
    const m = parseMailArg("FROM:<alice@example.com> SIZE=1000 BODY=8BITMIME SMTPUTF8 RET=HDRS ENVID=abc+2Bdef") as MailCommand;
    expect(isErr(m)).toBe(false);
    expect(m.path.mailbox).toMatchObject({ local: "alice", domain: "example.com", domainKind: "domain" });
    expect(m).toMatchObject({ size: 1000, body: "8BITMIME", smtputf8: true, ret: "HDRS", envid: "abc+def" });
    const n = parseMailArg("FROM:<>") as MailCommand;
    expect(n.path.mailbox).toBeNull();
    // lenient: space after the colon, lower-case keyword
    expect(isErr(parseMailArg("from: <a@b.c>"))).toBe(false);
  });

  test("malformed MAIL arguments get 5xx with a reason", () => {
    const bad = [
      "FROM:a@b.c", // no brackets
      "FROM:<a@b.c",
      "FROM:<a@@b.c>",
      "FROM:<a@b..c>",
      "FROM:<.a@b.c>",
      "FROM:<a.@b.c>",
      "FROM:<a..b@c.d>",
      "FROM:<a@-b.c>",
      "FROM:<a b@c.d>",
      "FROM:<a@b.c> SIZE=abc",
      "FROM:<a@b.c> SIZE=",
      "FROM:<a@b.c> BODY=BINARYMIME",
      "FROM:<a@b.c> SIZE=1 SIZE=2",
      "FROM:<a@b.c> RET=ALL",
      "FROM:<a@b.c> ENVID=a+zz",
      "FROM:<a@b.c> SMTPUTF8=yes",
      "FROM:<a@b.c>X",
      "TO:<a@b.c>",
      "FROM:<" + "a".repeat(65) + "@b.c>",
      "FROM:<a@" + "b".repeat(64) + ".c>",
      "FROM:<\"unterminated@b.c>",
      "FROM:<a@[1.2.3]>",
      "FROM:<a@[300.1.1.1]>",
      "FROM:<a@[IPv6:zz::1]>",
    ];
    for (const b of bad) {
      const r = parseMailArg(b);
      expect(isErr(r), b).toBe(true);
      expect((r as ParseError).code, b).toBeGreaterThanOrEqual(500);
    }
    expect((parseMailArg("FROM:<a@b.c> FOO=bar") as ParseError).code).toBe(555);
  });

  test("address forms: quoted local parts, literals, UTF-8, source routes, postmaster", () => {
    const q = parseRcptArg('TO:<"john doe"@example.com>') as RcptCommand;
    expect(q.path.mailbox).toMatchObject({ local: "john doe", quoted: true });
    const qa = parseRcptArg('TO:<"user@other.com"@example.com>') as RcptCommand;
    expect(qa.path.mailbox!.local).toBe("user@other.com");
    const esc = parseRcptArg('TO:<"a\\"b"@example.com>') as RcptCommand;
    expect(esc.path.mailbox!.local).toBe('a"b');
    const v4 = parseRcptArg("TO:<u@[192.0.2.1]>") as RcptCommand;
    expect(v4.path.mailbox).toMatchObject({ domain: "192.0.2.1", domainKind: "ipv4" });
    const v6 = parseRcptArg("TO:<u@[IPv6:2001:db8::1]>") as RcptCommand;
    expect(v6.path.mailbox).toMatchObject({ domain: "2001:db8::1", domainKind: "ipv6" });
    const u = parseRcptArg("TO:<jösé@bücher.example>") as RcptCommand;
    expect(u.path.mailbox).toMatchObject({ local: "jösé", domain: "bücher.example", utf8: true });
    const sr = parseRcptArg("TO:<@relay.example,@other.example:user@final.example>") as RcptCommand;
    expect(sr.path.route).toEqual(["relay.example", "other.example"]);
    expect(sr.path.mailbox!.domain).toBe("final.example");
    const pm = parseRcptArg("TO:<Postmaster>") as RcptCommand;
    expect(pm.path.postmaster).toBe(true);
    const pct = parseRcptArg("TO:<user%other.com@example.com>") as RcptCommand;
    expect(pct.path.mailbox!.local).toBe("user%other.com");
    const bang = parseRcptArg("TO:<other.com!user@example.com>") as RcptCommand;
    expect(bang.path.mailbox!.local).toBe("other.com!user");
  });

  test("relay tricks that are syntax errors carry a reason", () => {
    expect((parseRcptArg("TO:<user@example.com.>") as ParseError).reason).toBe("trailingdot");
    expect((parseRcptArg("TO:<user@other.com@example.com>") as ParseError).reason).toBe("routing");
    expect((parseRcptArg("TO:<other!user>") as ParseError).reason).toBe("nodomain");
    expect((parseRcptArg("TO:<user>") as ParseError).reason).toBe("nodomain");
  });

  test("RCPT DSN parameters (RFC 3461)", () => {
    const r = parseRcptArg("TO:<a@b.c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.c") as RcptCommand;
    expect(r.notify).toEqual(["SUCCESS", "FAILURE"]);
    expect(r.orcpt).toBe("rfc822;a@b.c");
    for (const bad of ["TO:<a@b.c> NOTIFY=NEVER,SUCCESS", "TO:<a@b.c> NOTIFY=SOMETIMES", "TO:<a@b.c> ORCPT=rfc822", "TO:<a@b.c> ORCPT=;x"]) {
      expect(isErr(parseRcptArg(bad)), bad).toBe(true);
    }
  });

  test("path length limit (RFC 5321 §4.5.3.1.3)", () => {
    const long = "a".repeat(60) + "@" + Array.from({ length: 4 }, () => "b".repeat(60)).join(".") + ".cc";
    expect(isErr(parseMailbox(long))).toBe(false);
    expect(isErr(parseMailArg(`FROM:<${long}>`))).toBe(true);
  });

  test("property: argument parsers never throw on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        for (const input of [s, "FROM:" + s, "TO:" + s, "FROM:<" + s, "TO:<" + s + ">"]) {
          const m = parseMailArg(input);
          const r = parseRcptArg(input);
          parseParams(input);
          parseBdatArg(input);
          decodeXtext(input);
          parseMailbox(input);
          parseCommandLine(input);
          for (const x of [m, r]) if (isErr(x)) expect(x.code).toBeGreaterThanOrEqual(500);
        }
        return true;
      }),
      { numRuns: 1000 },
    );
  });

  test("property: full-unicode input never throws either", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (s) => {
        parseMailArg("FROM:<" + s + "@x.y>");
        parseRcptArg("TO:<" + s + ">");
        return true;
      }),
      { numRuns: 500 },
    );
  });
});

describe("other commands", () => {
  test("BDAT arguments", () => {
    expect(parseBdatArg("100")).toEqual({ size: 100, last: false });
    expect(parseBdatArg("0 LAST")).toEqual({ size: 0, last: true });
    expect(parseBdatArg("12 last")).toEqual({ size: 12, last: true });
    for (const b of ["", "-1", "abc", "1 MORE", "1LAST", "9999999999999999"]) expect(isErr(parseBdatArg(b)), b).toBe(true);
  });

  test("AUTH PLAIN decoding", () => {
    const ok = decodeBase64(Buffer.from("\0alice@x.y\0secret").toString("base64"))!;
    expect(parsePlainResponse(ok)).toEqual({ authzid: "", authcid: "alice@x.y", password: "secret" });
    expect(decodeBase64("not base64!")).toBeNull();
    expect(decodeBase64("abc")).toBeNull();
    expect(parsePlainResponse(enc("no-nuls"))).toBeNull();
    expect(parsePlainResponse(enc("\0user\0"))).toBeNull();
  });

  test("reply formatting (RFC 5321 §4.2.1 multi-line)", () => {
    expect(formatReply(reply(250, "2.0.0", "Ok"))).toBe("250 2.0.0 Ok\r\n");
    expect(formatReply(reply(250, undefined, "a", "b", "c"))).toBe("250-a\r\n250-b\r\n250 c\r\n");
    expect(formatReply(reply(500, "5.5.2", "bad\r\ninjected"))).toBe("500 5.5.2 bad  injected\r\n");
  });

  test("xtext round trip", () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[\x21-\x7e]{1,50}$/), (s) => decodeXtext(xtext(s)) === s),
      { numRuns: 300 },
    );
  });
});
