/**
 * The mail library's transfer and header encodings with malformed input,
 * and the points where the copies it replaced disagreed (the stricter
 * behaviour was kept; each such case is named here).
 */
import { describe, expect, test } from "bun:test";
import {
  base64Lines,
  decodeBase64,
  decodeQuotedPrintable,
  decodeTransfer,
  decodeWords,
  decodedSizeEstimate,
  encodeQuotedPrintable,
  encodeWords,
  foldHeader,
  mimeParam,
  parseParams,
  quoteParamValue,
} from "../../mail/index.ts";

const enc = new TextEncoder();
const dec = (b: Uint8Array) => new TextDecoder("latin1").decode(b);
const utf8 = (b: Uint8Array) => new TextDecoder().decode(b);
const qp = (s: string, opts?: Parameters<typeof decodeQuotedPrintable>[1]) => dec(decodeQuotedPrintable(enc.encode(s), opts));

describe("quoted-printable decoding (RFC 2045 §6.7)", () => {
  test("escapes in either case, soft line breaks after CRLF, LF or CR", () => {
    expect(qp("caf=c3=A9")).toBe("caf\xc3\xa9");
    expect(qp("a=\r\nb=\nc=\rd")).toBe("abcd");
  });

  test("trailing whitespace is transport padding (was kept by the index's copy)", () => {
    expect(qp("a  \r\nb\t\r\nc ")).toBe("a\r\nb\r\nc");
    expect(qp("a =  \r\nb")).toBe("a b"); // padding after a soft break too
  });

  test("'=' at the very end is a soft break (the index and webmail copies kept it)", () => {
    expect(qp("no final newline=")).toBe("no final newline");
    expect(qp("=")).toBe("");
  });

  test("malformed escapes are kept literally, never dropped or thrown on", () => {
    expect(qp("=ZZ=4=G1 100%=")).toBe("=ZZ=4=G1 100%");
    expect(qp("=\u00ff")).toBe("=\xc3\xbf"); // (the UTF-8 bytes of ÿ after a lone "=")
  });

  test("hard line breaks as stored, or as CRLF for IMAP BINARY (RFC 3516)", () => {
    expect(qp("a\nb\r\nc\rd")).toBe("a\nb\r\nc\rd");
    expect(qp("a\nb\r\nc\rd", { crlf: true })).toBe("a\r\nb\r\nc\r\nd");
  });

  test("Q encoding of headers: '_' is a space only there", () => {
    expect(qp("a_b=5F", true)).toBe("a b_");
    expect(qp("a_b=5F")).toBe("a_b_");
  });

  test("decodeTransfer takes the encoding name in any case; unknown names pass the bytes through", () => {
    expect(utf8(decodeTransfer(enc.encode("aGk="), "BASE64"))).toBe("hi");
    expect(utf8(decodeTransfer(enc.encode("=41"), "Quoted-Printable"))).toBe("A");
    expect(utf8(decodeTransfer(enc.encode("=41"), "x-uuencode"))).toBe("=41");
  });
});

describe("quoted-printable encoding", () => {
  test("lines of at most 76 characters, escapes never split, trailing blanks encoded", () => {
    const data = enc.encode("é".repeat(60) + " \r\nend\t");
    const s = encodeQuotedPrintable(data);
    for (const line of s.split("\r\n")) expect(line.length).toBeLessThanOrEqual(76);
    expect(s).not.toMatch(/=[0-9A-F]?=\r\n/); // no escape cut by a soft break
    expect(s).toContain("=20\r\nend=09");
    expect(decodeQuotedPrintable(enc.encode(s))).toEqual(data);
  });

  test("bare CR and LF survive as escapes", () => {
    const data = enc.encode("a\nb\rc\r\nd=");
    const s = encodeQuotedPrintable(data);
    expect(s).toBe("a=0Ab=0Dc\r\nd=3D");
    expect(decodeQuotedPrintable(enc.encode(s))).toEqual(data);
  });
});

describe("base64", () => {
  test("tolerant decoding: whitespace and junk skipped, padded chunks concatenated, base64url accepted", () => {
    expect(utf8(decodeBase64(enc.encode("aGVs\r\nbG8=\r\n")))).toBe("hello");
    expect(utf8(decodeBase64(enc.encode("aGk=aGk=")))).toBe("hihi"); // the webmail's copy stopped at the first '='
    expect(utf8(decodeBase64(enc.encode("!!aGk*")))).toBe("hi");
    expect(Array.from(decodeBase64(enc.encode("-_8")))).toEqual([0xfb, 0xff]);
  });

  test("encoding in 76-character CRLF lines; nothing for no data", () => {
    const s = base64Lines(new Uint8Array(100));
    expect(s.split("\r\n").map((l) => l.length)).toEqual([76, 60, 0]);
    expect(base64Lines(new Uint8Array(0))).toBe("");
  });

  test("size estimate counts 3 octets per 4 characters less the line ends", () => {
    expect(decodedSizeEstimate(78 * 10, "base64")).toBe(570);
    expect(decodedSizeEstimate(100, "Base64")).toBe(73);
    expect(decodedSizeEstimate(100, "quoted-printable")).toBe(100);
  });
});

describe("RFC 2047 encoded words", () => {
  test("ASCII stays as it is; other text becomes words of at most 75 characters holding whole characters", () => {
    expect(encodeWords("Quarterly report")).toBe("Quarterly report");
    const long = "Réunion " + "😀".repeat(40);
    const w = encodeWords(long);
    for (const word of w.split(" ")) {
      expect(word.length).toBeLessThanOrEqual(75);
      expect(word).toMatch(/^=\?UTF-8\?B\?[A-Za-z0-9+/=]+\?=$/);
      // each word decodes on its own: no character is split between two words
      expect(decodeWords(word)).not.toContain("\uFFFD");
    }
    expect(decodeWords(w)).toBe(long);
  });

  test("a literal '=?' is encoded (a reader would decode it); line breaks become spaces (no forged field)", () => {
    expect(decodeWords(encodeWords("=?utf-8?B?aGk=?="))).toBe("=?utf-8?B?aGk=?=");
    expect(encodeWords("a\r\nBcc: x@evil.example")).toBe("a Bcc: x@evil.example");
  });

  test("malformed words decode to something, never throw", () => {
    expect(decodeWords("=?utf-8?q?broken=ZZ?= =?utf-8?b?####?= =?x-none?q?a?=")).toBeString();
    expect(decodeWords("=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=")).toBe("éé"); // space between words dropped (§6.2)
  });
});

describe("parameters and folding", () => {
  test("parameter values quoted and escaped; non-ASCII names as encoded words that parseParams keeps for decodeWords", () => {
    expect(quoteParamValue('a "b"\\c.pdf')).toBe('"a \\"b\\"\\\\c.pdf"');
    const back = parseParams(`application/pdf; name=${quoteParamValue("résumé 2026.pdf")}`).params.name!;
    expect(decodeWords(back)).toBe("résumé 2026.pdf");
    expect(quoteParamValue("a\r\nb")).toBe('"a b"');
  });

  test("RFC 2231 parameters: ASCII quoted, anything else percent-encoded UTF-8 in sections that parseParams joins", () => {
    expect(mimeParam("filename", 'a "b".pdf')).toBe('filename="a \\"b\\".pdf"');
    expect(mimeParam("filename", "é.txt")).toBe("filename*=utf-8''%C3%A9.txt");
    const long = "Übersicht der Quartalszahlen für das Geschäftsjahr 2026 – endgültig.pdf";
    const p = mimeParam("filename", long);
    expect(p).toStartWith("filename*0*=utf-8''");
    expect(p).toContain("; filename*1*=");
    expect(parseParams(`attachment; ${p}`).params.filename).toBe(long);
    // a literal "=?" would be decoded as an encoded word by readers: it goes in the extended form too
    expect(mimeParam("name", "=?utf-8?q?x?=")).toStartWith("name*=utf-8''");
  });

  test("fields fold at whitespace within 78 characters; a long word stays whole", () => {
    const f = foldHeader("Subject", "word ".repeat(30).trim());
    const lines = f.slice(0, -2).split("\r\n");
    expect(lines.length).toBeGreaterThan(1);
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(78);
    expect(lines.slice(1).every((l) => l.startsWith(" "))).toBe(true);
    expect(lines.join("")).toBe("Subject: " + "word ".repeat(30).trim());
    const long = foldHeader("X", "y".repeat(200));
    expect(long).toBe(`X: ${"y".repeat(200)}\r\n`);
    expect(foldHeader("X", "a\r\nInjected: 1")).toBe("X: a Injected: 1\r\n");
  });
});
