/**
 * The sans-IO parts: line splitting with RFC 2449 §4 limits, command
 * parsing, and the RFC 1939 §3 wire form of messages (CRLF, byte-stuffing,
 * TOP), with fast-check properties over arbitrary bytes and chunkings.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LineReader, MAX_AUTH_LINE, MAX_COMMAND_LINE, parseCommand, parseNumber, type LineEvent } from "../../protocols/pop3/parser.ts";
import { WireEncoder, WireSizeCounter, encodeCrlfMessage, encodeMessage, wireSize } from "../../protocols/pop3/wire.ts";

const te = new TextEncoder();
const td = new TextDecoder();

function feedAll(reader: LineReader, chunks: Uint8Array[]): LineEvent[] {
  return chunks.flatMap((c) => reader.feed(c));
}

/** Splits `bytes` at the given cut points. */
function chunked(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const pts = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const p of pts) {
    out.push(bytes.slice(prev, p));
    prev = p;
  }
  out.push(bytes.slice(prev));
  return out;
}

describe("LineReader", () => {
  test("CRLF and bare LF lines; partial lines wait", () => {
    const r = new LineReader();
    expect(r.feed(te.encode("USER a\r\nPASS b\nNO"))).toEqual([
      { type: "line", line: "USER a" },
      { type: "line", line: "PASS b" },
    ]);
    expect(r.pending).toBe(2);
    expect(r.feed(te.encode("OP\r\n"))).toEqual([{ type: "line", line: "NOOP" }]);
  });

  test("255 octets including CRLF is accepted, 256 is refused (RFC 2449 §4)", () => {
    const r = new LineReader();
    const ok = "NOOP " + "a".repeat(MAX_COMMAND_LINE - 2 - 5);
    expect(r.feed(te.encode(ok + "\r\n"))).toEqual([{ type: "line", line: ok }]);
    expect(r.feed(te.encode(ok + "a\r\n"))).toEqual([{ type: "toolong" }]);
  });

  test("an endless line is never buffered beyond the limit, and the stream recovers", () => {
    const r = new LineReader();
    for (let i = 0; i < 1000; i++) {
      expect(r.feed(te.encode("x".repeat(1000)))).toEqual([]);
      expect(r.pending).toBeLessThanOrEqual(MAX_COMMAND_LINE);
    }
    expect(r.feed(te.encode("yyy\r\nNOOP\r\n"))).toEqual([{ type: "toolong" }, { type: "line", line: "NOOP" }]);
  });

  test("AUTH lines and SASL responses get the larger limit", () => {
    const r = new LineReader();
    const long = "AUTH PLAIN " + "A".repeat(1000);
    expect(r.feed(te.encode(long.slice(0, 3)))).toEqual([]);
    expect(r.feed(te.encode(long.slice(3) + "\r\n"))).toEqual([{ type: "line", line: long }]);
    r.saslMode = true;
    expect(r.feed(te.encode("B".repeat(4000) + "\r\n"))).toEqual([{ type: "line", line: "B".repeat(4000) }]);
    expect(r.feed(te.encode("B".repeat(MAX_AUTH_LINE) + "\r\n"))).toEqual([{ type: "toolong" }]);
  });

  test("reset drops buffered bytes (STLS)", () => {
    const r = new LineReader();
    r.feed(te.encode("USER evil"));
    r.reset();
    expect(r.feed(te.encode("NOOP\r\n"))).toEqual([{ type: "line", line: "NOOP" }]);
  });

  test("property: any chunking of any bytes yields the same events, and buffering stays bounded", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const whole = new LineReader().feed(bytes);
        const r = new LineReader();
        const parts: LineEvent[] = [];
        for (const c of chunked(bytes, cuts)) {
          parts.push(...r.feed(c));
          expect(r.pending).toBeLessThanOrEqual(MAX_AUTH_LINE);
        }
        expect(parts).toEqual(whole);
        // one event per LF, never more
        const lfs = bytes.filter((b) => b === 10).length;
        expect(whole.length).toBe(lfs);
      }),
      { numRuns: 300 },
    );
  });

  test("property: lines of printable text round-trip", () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[\x20-\x7e]{0,60}$/), { maxLength: 30 }), (lines) => {
        const r = new LineReader();
        const ev = r.feed(te.encode(lines.map((l) => l + "\r\n").join("")));
        expect(ev).toEqual(lines.map((line) => ({ type: "line", line })));
      }),
    );
  });
});

describe("parseCommand / parseNumber", () => {
  test("keyword is case-insensitive; PASS keeps spaces in rest", () => {
    expect(parseCommand("retr 1")).toEqual({ name: "RETR", args: ["1"], rest: "1" });
    expect(parseCommand("PASS my secret  pw")).toEqual({ name: "PASS", args: ["my", "secret", "", "pw"], rest: "my secret  pw" });
    expect(parseCommand("")).toBeNull();
    expect(parseCommand(" NOOP")).toBeNull();
    expect(parseCommand("NO\x01OP")).toBeNull();
  });

  test("numbers: digits only", () => {
    expect(parseNumber("1")).toBe(1);
    expect(parseNumber("0")).toBe(0);
    expect(parseNumber("0012")).toBe(12);
    for (const bad of [undefined, "", "-1", "+1", "1.0", "1e3", " 1", "0x1", "12345678901"]) expect(parseNumber(bad)).toBeNull();
  });

  test("property: never throws on arbitrary input", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        const c = parseCommand(s);
        if (c) expect(c.name).toBe(c.name.toUpperCase());
        parseNumber(s);
      }),
    );
  });
});

/** What a client does with a multi-line response: split on CRLF, stop at ".", un-stuff. */
function clientDecode(wire: Uint8Array): { body: string; terminated: boolean } {
  const s = td.decode(wire);
  const lines = s.split("\r\n");
  const out: string[] = [];
  for (const l of lines) {
    if (l === ".") return { body: out.map((x) => x + "\r\n").join(""), terminated: true };
    out.push(l.startsWith(".") ? l.slice(1) : l);
  }
  return { body: out.join("\r\n"), terminated: false };
}

const messageArb = fc
  .array(fc.constantFrom("a", "b", ".", "\r", "\n", "\r\n", "..", " ", "\n.", "\r\n.\r\n"), { maxLength: 200 })
  .map((parts) => te.encode(parts.join("")));

describe("wire form", () => {
  test("CRLF conversion, stuffing and terminator", () => {
    expect(td.decode(encodeMessage(te.encode("a\nb\r\n.c\n..d")))).toBe("a\r\nb\r\n..c\r\n...d\r\n.\r\n");
    expect(td.decode(encodeMessage(te.encode("")))).toBe(".\r\n");
    expect(td.decode(encodeMessage(te.encode(".\r\n")))).toBe("..\r\n.\r\n");
    expect(wireSize(te.encode("a\nb\r\n.c\n..d"))).toBe(15);
  });

  test("property: chunked encoding equals whole encoding; size matches; no bare LF; client gets CRLF form back", () => {
    fc.assert(
      fc.property(messageArb, fc.array(fc.nat(), { maxLength: 10 }), (msg, cuts) => {
        const whole = encodeMessage(msg);
        const enc = new WireEncoder();
        const counter = new WireSizeCounter();
        const parts: Uint8Array[] = [];
        for (const c of chunked(msg, cuts)) {
          parts.push(enc.push(c));
          counter.push(c);
        }
        parts.push(enc.finish());
        const joined = Buffer.concat(parts);
        expect(Buffer.from(whole).equals(joined)).toBe(true);
        expect(counter.size).toBe(wireSize(msg));
        // every LF is preceded by CR
        for (let i = 0; i < joined.length; i++) if (joined[i] === 10) expect(joined[i - 1]).toBe(13);
        const { body, terminated } = clientDecode(whole);
        expect(terminated).toBe(true);
        expect(Buffer.byteLength(body, "utf8")).toBe(wireSize(msg));
        // the CRLF form of the message: bare LF -> CRLF, final line end added
        let crlf = td.decode(msg).replace(/\r?\n/g, (m) => (m === "\n" ? "\r\n" : m));
        if (msg.length && !crlf.endsWith("\n")) crlf += "\r\n";
        expect(body).toBe(crlf);
      }),
      { numRuns: 500 },
    );
  });

  test("property: TOP output is a prefix of RETR output, cut at a line end", () => {
    fc.assert(
      fc.property(messageArb, fc.nat({ max: 6 }), fc.array(fc.nat(), { maxLength: 6 }), (msg, n, cuts) => {
        const full = td.decode(encodeMessage(msg));
        const enc = new WireEncoder(n);
        const parts: Uint8Array[] = [];
        for (const c of chunked(msg, cuts)) {
          parts.push(enc.push(c));
          if (enc.done) break;
        }
        parts.push(enc.finish());
        const topWire = Buffer.concat(parts).toString("utf8");
        expect(topWire.endsWith(".\r\n")).toBe(true);
        const topBody = topWire.slice(0, -3);
        expect(full.startsWith(topBody)).toBe(true);
        if (topBody.length) expect(topBody.endsWith("\r\n")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test("property: the CRLF fast path equals the general encoder on CRLF-form messages", () => {
    const crlfArb = fc.array(fc.constantFrom("a", ".", "..", " ", "x.y", ""), { maxLength: 8 }).map((lines) => lines.map((l) => l + "\r\n").join(""));
    fc.assert(
      fc.property(fc.array(crlfArb, { maxLength: 20 }), (parts) => {
        const msg = te.encode(parts.join(""));
        if (msg.length === 0 || wireSize(msg) !== msg.length) return;
        const head = te.encode("+OK x\r\n");
        const fast = encodeCrlfMessage(head, msg);
        const slow = Buffer.concat([head, encodeMessage(msg)]);
        expect(Buffer.from(fast).equals(slow)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test("TOP n: header, blank line, n lines", () => {
    const m = te.encode("A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n");
    expect(td.decode(encodeMessage(m, 0))).toBe("A: 1\r\nB: 2\r\n\r\n.\r\n");
    expect(td.decode(encodeMessage(m, 2))).toBe("A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\n.\r\n");
    expect(td.decode(encodeMessage(m, 10))).toBe("A: 1\r\nB: 2\r\n\r\none\r\ntwo\r\nthree\r\n.\r\n");
    // header only, no blank line: the whole message
    expect(td.decode(encodeMessage(te.encode("A: 1\nB: 2"), 0))).toBe("A: 1\r\nB: 2\r\n.\r\n");
  });
});
