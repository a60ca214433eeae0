import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { CommandParser, type ParseEvent, type Arg } from "../../protocols/imap/parser.ts";
import { utf7Decode, utf7Encode, formatSet, str, parseDateTime } from "../../protocols/imap/encode.ts";
import { parseSeqSet, resolveSeq, resolveUid, STAR } from "../../protocols/imap/seqset.ts";

const enc = new TextEncoder();

function all(p: CommandParser, input: string | Uint8Array): ParseEvent[] {
  p.push(typeof input === "string" ? enc.encode(input) : input);
  const out: ParseEvent[] = [];
  for (let ev = p.next(); ev; ev = p.next()) out.push(ev);
  return out;
}

function simple(a: Arg): unknown {
  if (a.t === "list") return a.v.map(simple);
  return a.v;
}

describe("IMAP command parser", () => {
  test("simple commands with atoms, quoted strings and lists", () => {
    const p = new CommandParser();
    const evs = all(p, 'a1 LOGIN "us\\"er" pa\\ss\r\nA2 fetch 1:* (UID FLAGS)\r\n');
    expect(evs.length).toBe(2);
    const [e1, e2] = evs;
    if (e1.type !== "command" || e2.type !== "command") throw new Error("expected commands");
    expect(e1.cmd.tag).toBe("a1");
    expect(e1.cmd.name).toBe("LOGIN");
    expect(e1.cmd.args.map(simple)).toEqual(['us"er', "pa\\ss"]);
    expect(e2.cmd.name).toBe("FETCH");
    expect(e2.cmd.args.map(simple)).toEqual(["1:*", ["UID", "FLAGS"]]);
  });

  test("UID prefix and fetch body sections with spaces", () => {
    const p = new CommandParser();
    const [e] = all(p, "t UID FETCH 1:5 (BODY.PEEK[HEADER.FIELDS (From To)]<0.100> FLAGS)\r\n");
    if (e.type !== "command") throw new Error(JSON.stringify(e));
    expect(e.cmd.name).toBe("UID FETCH");
    expect(e.cmd.uid).toBe(true);
    expect(e.cmd.args.map(simple)).toEqual(["1:5", ["BODY.PEEK[HEADER.FIELDS (From To)]<0.100>", "FLAGS"]]);
  });

  test("brackets outside FETCH are plain atom characters", () => {
    const p = new CommandParser();
    const [e] = all(p, "t LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n");
    if (e.type !== "command") throw new Error(JSON.stringify(e));
    expect(e.cmd.args.map(simple)).toEqual(["", "!#$&'+,-.0123456789:;<=>?@^_`|[}%*"]);
  });

  test("synchronising literal asks for continuation, split across chunks", () => {
    const p = new CommandParser();
    let evs = all(p, "a APPEND INBOX (\\Seen) {11}\r\n");
    expect(evs).toEqual([{ type: "continue", tag: "a" }]);
    evs = all(p, "Hello ");
    expect(evs).toEqual([]);
    evs = all(p, "World\r\n");
    expect(evs.length).toBe(1);
    const e = evs[0];
    if (e.type !== "command") throw new Error("no command");
    expect(e.cmd.args.map(simple)).toEqual(["INBOX", ["\\Seen"], "Hello World"]);
    const lit = e.cmd.args[2];
    expect(lit.t === "string" && lit.literal && lit.raw && new TextDecoder().decode(lit.raw)).toBe("Hello World");
  });

  test("non-synchronising literal and literal8", () => {
    const p = new CommandParser();
    const evs = all(p, "a APPEND INBOX {3+}\r\nabc ~{2}\r\n\x00\x01\r\n");
    // literal8 is synchronising: one continuation
    expect(evs[0]).toEqual({ type: "continue", tag: "a" });
    const e = evs[1];
    if (e.type !== "command") throw new Error("no command");
    expect(e.cmd.args.length).toBe(3);
    const l8 = e.cmd.args[2];
    expect(l8.t === "string" && l8.binary).toBe(true);
  });

  test("literal too large is refused before it is read", () => {
    const p = new CommandParser({ maxAppendLiteral: 100, maxOtherLiteral: 10 });
    // synchronising: NO [TOOBIG] immediately, no continuation
    let evs = all(p, "a APPEND INBOX {1000}\r\n");
    expect(evs).toEqual([{ type: "error", tag: "a", status: "NO", code: "TOOBIG", text: "Message too large" }]);
    // next command works
    evs = all(p, "b NOOP\r\n");
    expect(evs[0].type).toBe("command");
    // non-sync too large: BAD, the octets are skipped, then the session goes on
    evs = all(p, "c LOGIN {20+}\r\n" + "x".repeat(20) + " {5+}\r\nyyyyy\r\nd NOOP\r\n");
    expect(evs[0]).toMatchObject({ type: "error", tag: "c", status: "BAD" });
    expect(evs.length).toBe(2);
    expect(evs[1].type === "command" && evs[1].cmd.tag).toBe("d");
    expect(p.buffered).toBe(0);
  });

  test("non-sync literal bytes streamed in small chunks are skipped without buffering", () => {
    const p = new CommandParser({ maxOtherLiteral: 10 });
    expect(all(p, "c LOGIN {100000+}\r\n")[0]).toMatchObject({ type: "error", status: "BAD" });
    for (let i = 0; i < 100; i++) {
      expect(all(p, "z".repeat(1000))).toEqual([]);
      expect(p.buffered).toBe(0);
    }
    const evs = all(p, "\r\nd NOOP\r\n");
    expect(evs.length).toBe(1);
    expect(evs[0].type === "command" && evs[0].cmd.name).toBe("NOOP");
  });

  test("malformed commands give BAD and the parser goes on", () => {
    const p = new CommandParser();
    const cases = ['a LOGIN "unterminated\r\n', "a FETCH 1 (FLAGS\r\n", "a FETCH 1 FLAGS)\r\n", "* NOOP\r\n", "a\r\n", 'a LOGIN "x\\y"\r\n', "a LOGIN x\x00y\r\n", "a UID\r\n"];
    for (const c of cases) {
      const evs = all(p, c + "ok NOOP\r\n");
      expect(evs.length).toBe(2);
      expect(evs[0].type).toBe("error");
      expect(evs[1].type === "command" && evs[1].cmd.name).toBe("NOOP");
    }
  });

  test("line mode returns raw lines (IDLE DONE)", () => {
    const p = new CommandParser();
    p.lineMode = true;
    const evs = all(p, "DONE\r\n");
    expect(evs).toEqual([{ type: "line", line: "DONE" }]);
  });

  test("overlong line is fatal", () => {
    const p = new CommandParser({ maxLine: 100 });
    const evs = all(p, "a " + "x".repeat(200));
    expect(evs).toEqual([{ type: "fatal", text: "Line too long" }]);
  });

  test("8-bit strings are decoded as UTF-8", () => {
    const p = new CommandParser();
    const [e] = all(p, enc.encode('a CREATE "Ärger"\r\n'));
    expect(e.type === "command" && e.cmd.args[0].v).toBe("Ärger");
  });

  test("property: never throws, memory bounded, always recovers", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }), (chunks) => {
        const p = new CommandParser({ maxLine: 1000, maxOtherLiteral: 500, maxAppendLiteral: 2000, maxOtherTotal: 4000, maxAppendTotal: 8000 });
        for (const c of chunks) {
          p.push(c);
          for (let ev = p.next(), n = 0; ev && n < 10000; ev = p.next(), n++) {
            if (ev.type === "fatal") return;
          }
          expect(p.buffered).toBeLessThanOrEqual(1000 + 300 + 2);
        }
        // After garbage, a clean line terminator plus a command must still parse
        // unless a literal is pending (then the bytes are consumed as literal data).
      }),
      { numRuns: 300 },
    );
  });

  test("property: generated well-formed commands round-trip", () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9.\-_]{1,12}$/);
    const quoted = fc.string({ maxLength: 20 }).filter((s) => !/[\r\n\x00]/.test(s));
    fc.assert(
      fc.property(fc.array(fc.oneof(atom, quoted), { minLength: 1, maxLength: 6 }), fc.boolean(), (vals, useLit) => {
        const p = new CommandParser();
        let line = "t1 XCMD";
        const evs: ParseEvent[] = [];
        for (const v of vals) {
          if (useLit) {
            const b = enc.encode(v);
            evs.push(...all(p, `${line} {${b.length}}\r\n`));
            p.push(b);
            line = "";
          } else {
            line += " " + str(v);
          }
        }
        evs.push(...all(p, line + "\r\n"));
        const cmd = evs.find((e) => e.type === "command");
        if (!cmd || cmd.type !== "command") throw new Error("no command: " + JSON.stringify(evs));
        expect(cmd.cmd.args.map(simple)).toEqual(vals);
      }),
      { numRuns: 200 },
    );
  });
});

describe("modified UTF-7", () => {
  test("RFC 3501 examples", () => {
    expect(utf7Encode("~peter/mail/台北/日本語")).toBe("~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    expect(utf7Decode("~peter/mail/&U,BTFw-/&ZeVnLIqe-")).toBe("~peter/mail/台北/日本語");
    expect(utf7Encode("p&ää")).toBe("p&-&AOQA5A-");
    expect(utf7Decode("p&AOQA5A-")).toBe("pää");
    expect(utf7Decode("&Jjo!")).toBe(null);
    expect(utf7Decode("&U,BTF2XlZyyKng-")).toBe("台北日本語");
    expect(utf7Decode("&AGE-")).toBe(null); // encoded printable ASCII is invalid
  });
  test("property: round trip", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 30 }), (s) => {
        expect(utf7Decode(utf7Encode(s))).toBe(s);
      }),
    );
  });
});

describe("sequence sets", () => {
  test("parse and resolve", () => {
    const s = parseSeqSet("1:3,5,*")!;
    expect(s.ranges).toEqual([
      [1, 3],
      [5, 5],
      [STAR, STAR],
    ]);
    expect(resolveSeq(s, 7).idx).toEqual([0, 1, 2, 4, 6]);
    expect(resolveSeq(parseSeqSet("3:1")!, 3).idx).toEqual([0, 1, 2]);
    expect(resolveSeq(parseSeqSet("5")!, 3).outOfRange).toBe(true);
    expect(parseSeqSet("0")).toBe(null);
    expect(parseSeqSet("1:")).toBe(null);
    expect(parseSeqSet("$")!.saved).toBe(true);
    const uids = [3, 7, 9, 20];
    expect(resolveUid(parseSeqSet("1:8")!, uids, 4)).toEqual([0, 1]);
    expect(resolveUid(parseSeqSet("25:*")!, uids, 4)).toEqual([3]);
    expect(resolveUid(parseSeqSet("9,3,7:8")!, uids, 4)).toEqual([0, 1, 2]);
    expect(formatSet([1, 2, 3, 5, 7, 8])).toBe("1:3,5,7:8");
  });
  test("date-time parse", () => {
    expect(parseDateTime("17-Jul-1996 02:44:25 -0700")).toBe(Date.UTC(1996, 6, 17, 9, 44, 25));
    expect(parseDateTime(" 7-Jul-1996 02:44:25 +0000")).toBe(Date.UTC(1996, 6, 7, 2, 44, 25));
    expect(parseDateTime("31-Feb-1996 02:44:25 +0000")).toBe(null);
  });
});
