/**
 * The line-end canonicaliser and the explicit header section
 * (mail/line-endings.ts) on malformed input: lone CR at the end,
 * CR CR LF, LF CR, empty input, empty header, NULs; and that after it the
 * store's parser, a plain CRLF split and the From check read the same fields.
 */
import { describe, expect, test } from "bun:test";
import { bareLineEndInHeader, canonicalLineEnds, canonicalMessage, firstBareLineEnd, fromFields } from "../../mail/line-endings.ts";
import { parseMime } from "../../mail/index.ts";

const b = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);
const s = (u: Uint8Array) => String.fromCharCode(...u);

describe("canonicalLineEnds", () => {
  const cases: [string, string, string][] = [
    ["empty", "", ""],
    ["already canonical", "A: b\r\n\r\nbody\r\n", "A: b\r\n\r\nbody\r\n"],
    ["lone CR at the end", "A: b\r", "A: b\r\n"],
    ["lone LF at the end", "A: b\n", "A: b\r\n"],
    ["only a CR", "\r", "\r\n"],
    ["only an LF", "\n", "\r\n"],
    ["CR CR LF is two line ends", "a\r\r\nb", "a\r\n\r\nb"],
    ["LF CR is two line ends", "a\n\rb", "a\r\n\r\nb"],
    ["LF CR LF", "a\n\r\nb", "a\r\n\r\nb"],
    ["CR LF LF", "a\r\n\nb", "a\r\n\r\nb"],
    ["runs of bare CR", "\r\r\r", "\r\n\r\n\r\n"],
    ["NULs are data", "A: \0x\r\0\n\0", "A: \0x\r\n\0\r\n\0"],
    ["8-bit bytes untouched", "S: \xe9\xff\rT", "S: \xe9\xff\r\nT"],
  ];
  for (const [name, input, want] of cases) {
    test(name, () => {
      const out = canonicalLineEnds(b(input));
      expect(s(out)).toBe(want);
      expect(firstBareLineEnd(out)).toBe(-1);
      // idempotent, and the fast path hands back the very same buffer
      expect(canonicalLineEnds(out)).toBe(out);
    });
  }

  test("canonical input is returned without a copy", () => {
    const raw = b("From: a@b\r\nSubject: x\r\n\r\nbody\r\n");
    expect(canonicalLineEnds(raw)).toBe(raw);
    expect(canonicalMessage(raw)).toBe(raw);
  });

  test("firstBareLineEnd respects its range", () => {
    const raw = b("ab\r\ncd\ref\n");
    expect(firstBareLineEnd(raw)).toBe(6);
    expect(firstBareLineEnd(raw, 0, 6)).toBe(-1);
    // a CR that is last in the range counts as bare (its LF is outside)
    expect(firstBareLineEnd(b("a\r\n"), 0, 2)).toBe(1);
  });
});

describe("canonicalMessage: one header section for every reader", () => {
  test("a From behind a bare CR becomes a field of its own", () => {
    const m = canonicalMessage(b("X-A: a\rFrom: PayPal <service@paypal.test>\r\nFrom: me@attacker.test\r\n\r\nx\r\n"));
    expect(s(m)).toBe("X-A: a\r\nFrom: PayPal <service@paypal.test>\r\nFrom: me@attacker.test\r\n\r\nx\r\n");
    expect(fromFields(m)).toEqual(["PayPal <service@paypal.test>", "me@attacker.test"]);
  });

  test("a line that is neither a field nor a continuation: an empty line is put before it", () => {
    const m = canonicalMessage(b("From: service@paypal.test\r\n<me@attacker.test>\r\nSubject: x\r\n\r\nbody\r\n"));
    expect(s(m)).toBe("From: service@paypal.test\r\n\r\n<me@attacker.test>\r\nSubject: x\r\n\r\nbody\r\n");
    expect(canonicalMessage(m)).toBe(m);
  });

  test("noise before the first field (mbox From_ line, whitespace lines) is dropped", () => {
    expect(s(canonicalMessage(b("From someone@x Mon Dec  7 03:00:00 2026\r\nFrom: a@b\r\n\r\nx")))).toBe("From: a@b\r\n\r\nx");
    expect(s(canonicalMessage(b("\tFrom: evil@x\r\n  more\r\nFrom: a@b\r\n\r\nx")))).toBe("From: a@b\r\n\r\nx");
  });

  test("empty header, empty message, header only, body only", () => {
    expect(s(canonicalMessage(b("")))).toBe("");
    expect(s(canonicalMessage(b("\r\nbody")))).toBe("\r\nbody");
    expect(s(canonicalMessage(b("\nbody\n")))).toBe("\r\nbody\r\n");
    expect(s(canonicalMessage(b("A: b")))).toBe("A: b");
    expect(s(canonicalMessage(b("A: b\r")))).toBe("A: b\r\n");
    expect(s(canonicalMessage(b("just text\r\n")))).toBe("\r\njust text\r\n");
    expect(s(canonicalMessage(b(":\r\n")))).toBe("\r\n:\r\n"); // a zero-length field name is not a field
  });

  test("NUL in a field name ends the header; NUL in a value is data", () => {
    expect(s(canonicalMessage(b("A\0: b\r\nFrom: x@y\r\n\r\n")))).toBe("\r\nA\0: b\r\nFrom: x@y\r\n\r\n");
    expect(fromFields(canonicalMessage(b("From: a\0@b\r\n\r\n")))).toEqual(["a\0@b"]);
  });

  test("after canonicalMessage the store's parser and a CRLF split list the same From fields", () => {
    const m = canonicalMessage(b("Subject: a\rFrom: one@x\n\tcontinued\r\rFrom: two@y\r\n\r\n"));
    const store = parseMime(m).headers.filter((h) => h.key === "from").map((h) => h.value);
    const head = s(m).split("\r\n\r\n")[0]!;
    const split = head
      .split("\r\n")
      .reduce<string[]>((acc, l) => (/^[ \t]/.test(l) && acc.length ? (acc[acc.length - 1] += l, acc) : (acc.push(l), acc)), [])
      .filter((l) => /^from\s*:/i.test(l))
      .map((l) => l.slice(l.indexOf(":") + 1).trim());
    expect(store).toEqual(["one@x\tcontinued"]);
    expect(split).toEqual(store);
    expect(fromFields(m)).toEqual(store);
  });
});

describe("bareLineEndInHeader", () => {
  test("finds a bare CR or LF up to the first empty CRLF line, not in the body", () => {
    expect(bareLineEndInHeader(b("X-Note: hi\rFrom: a\r\n\r\nbody"))).toBe(10);
    expect(bareLineEndInHeader(b("X-Note: hi\nFrom: a\r\n\r\nbody"))).toBe(10);
    expect(bareLineEndInHeader(b("From: a\r\n\r\nbody\rmore\n"))).toBe(-1);
    expect(bareLineEndInHeader(b("\r\nbody\r"))).toBe(-1);
    // a bare line end that some reader takes as the end of the header is inside the section
    expect(bareLineEndInHeader(b("From: a\r\n\nFrom: b\r\n\r\n"))).toBe(9);
    expect(bareLineEndInHeader(b("From: a\r\n\r\r\nFrom: b\r\n\r\n"))).toBe(9);
    // no empty line at all: the whole message is header
    expect(bareLineEndInHeader(b("From: a\r\nx\r"))).toBe(10);
    expect(bareLineEndInHeader(b(""))).toBe(-1);
  });
});
