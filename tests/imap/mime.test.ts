/**
 * Unit tests of the sans-IO helpers: section addressing over the stored MIME
 * tree, header field filtering, transfer decoding, ENVELOPE/BODYSTRUCTURE
 * serialisation and the SEARCH key parser.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { parseMime } from "../../mail/parse.ts";
import { binaryEntity, decodeCte, filterHeader, parseSection, resolvePart, sectionRange, sevenBitEntity } from "../../protocols/imap/mime.ts";
import { bodyStructureString, envelopeString, str, nstr } from "../../protocols/imap/encode.ts";
import { parseSearchKeys } from "../../protocols/imap/search.ts";
import type { Arg } from "../../protocols/imap/parser.ts";

const enc = new TextEncoder();
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

const raw = enc.encode(
  [
    "From: A <a@example.org>",
    "Subject: hi",
    "X-Long: first",
    "  folded",
    'Content-Type: multipart/mixed; boundary="B"',
    "",
    "pre",
    "--B",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "caf=C3=A9  ",
    "soft=",
    "break",
    "--B",
    "Content-Type: message/rfc822",
    "",
    "From: inner@example.org",
    "Subject: inner",
    "",
    "inner body",
    "--B",
    "Content-Type: application/octet-stream",
    "Content-Transfer-Encoding: base64",
    "",
    "AAEC",
    "--B--",
    "",
  ].join("\r\n"),
);
const { root, envelope } = parseMime(raw);

describe("sections", () => {
  test("parseSection", () => {
    expect(parseSection("")).toMatchObject({ kind: "all", path: [] });
    expect(parseSection("1.2.MIME")).toMatchObject({ kind: "mime", path: [1, 2] });
    expect(parseSection("HEADER.FIELDS.NOT (From To)")).toMatchObject({ kind: "fieldsNot", fields: ["From", "To"] });
    expect(parseSection("2.HEADER")).toMatchObject({ kind: "header", path: [2] });
    expect(parseSection("MIME")).toBe(null);
    expect(parseSection("0")).toBe(null);
    expect(parseSection("HEADER.FIELDS ()")).toBe(null);
    expect(parseSection("TEXT (x)")).toBe(null);
  });

  test("byte ranges, message/rfc822 entry, header filtering", () => {
    const text = (spec: string) => {
      const r = sectionRange(root, parseSection(spec)!, raw.length)!;
      const b = raw.subarray(r.start, r.end);
      return r.filter ? dec(filterHeader(b, r.filter.fields, r.filter.not)) : dec(b);
    };
    expect(text("1")).toBe("caf=C3=A9  \r\nsoft=\r\nbreak");
    expect(text("1.MIME")).toBe("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n");
    expect(text("2.HEADER")).toBe("From: inner@example.org\r\nSubject: inner\r\n\r\n");
    expect(text("2.TEXT")).toBe("inner body");
    expect(text("2.1")).toBe("inner body");
    expect(text("HEADER.FIELDS (x-long SUBJECT)")).toBe("Subject: hi\r\nX-Long: first\r\n  folded\r\n\r\n");
    expect(text("HEADER.FIELDS.NOT (Content-Type X-Long)")).toBe("From: A <a@example.org>\r\nSubject: hi\r\n\r\n");
    expect(text("HEADER.FIELDS (nothing)")).toBe("\r\n");
    expect(resolvePart(root, [4])).toBe(null);
    expect(resolvePart(root, [1, 1])).toBe(null);
  });

  test("transfer decoding and binary forms", () => {
    expect(dec(decodeCte(enc.encode("caf=C3=A9  \r\nsoft=\r\nbreak"), "quoted-printable")!)).toBe("café\r\nsoftbreak");
    expect(dec(decodeCte(enc.encode("a =\t\r\nb=3D=\r\n"), "quoted-printable")!)).toBe("a b=");
    const bin = binaryEntity(raw, root, true)!;
    const s = Buffer.from(bin).toString("latin1");
    expect(s).toContain("Content-Transfer-Encoding: binary\r\n\r\n" + Buffer.from("café\r\nsoftbreak").toString("latin1"));
    expect(s).toContain("Content-Transfer-Encoding: binary\r\n\r\n\x00\x01\x02\r\n--B--");
    // BODY[] of binary content: NUL never goes out, the part is base64 again
    const seven = dec(sevenBitEntity(bin, parseMime(bin).root, true));
    expect(seven).not.toContain("\x00");
    expect(seven).toContain("Content-Transfer-Encoding: base64\r\n\r\nAAEC\r\n");
  });
});

describe("serialisation", () => {
  test("ENVELOPE and BODYSTRUCTURE from the stored tree", () => {
    expect(envelopeString(envelope)).toBe('(NIL "hi" (("A" NIL "a" "example.org")) (("A" NIL "a" "example.org")) (("A" NIL "a" "example.org")) NIL NIL NIL NIL NIL)');
    const bs = bodyStructureString(root, true);
    expect(bs).toStartWith('(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 25 3 NIL NIL NIL NIL)("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 53 (NIL "inner"');
    expect(bs).toEndWith('"MIXED" ("BOUNDARY" "B") NIL NIL NIL)');
    expect(bodyStructureString(root, false)).toEndWith(' "MIXED")');
  });
  test("strings: quoted, escaped, literal for 8-bit and CR/LF", () => {
    expect(str('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(str("é")).toBe("{2}\r\né");
    expect(str("a\r\nb")).toBe("{4}\r\na\r\nb");
    expect(nstr(null)).toBe("NIL");
  });
});

describe("SEARCH key parser", () => {
  const atoms = (s: string): Arg[] => s.split(" ").map((v) => ({ t: "atom" as const, v }));
  test("keys, OR/NOT, sets, dates", () => {
    expect(parseSearchKeys(atoms("OR SEEN NOT FLAGGED 1:3"), 0)).toEqual({
      t: "and",
      list: [
        { t: "or", a: { t: "flag", bit: 1, neg: false }, b: { t: "not", a: { t: "flag", bit: 4, neg: false } } },
        { t: "seq", set: { saved: false, ranges: [[1, 3]] } },
      ],
    });
    expect(parseSearchKeys(atoms("SINCE 1-Feb-2024"), 0)).toEqual({ t: "date", sent: false, op: "since", day: Date.UTC(2024, 1, 1) });
    expect(() => parseSearchKeys(atoms("SINCE 31-Feb-2024"), 0)).toThrow();
    expect(() => parseSearchKeys(atoms("OR SEEN"), 0)).toThrow();
    expect(() => parseSearchKeys(atoms("BOGUS"), 0)).toThrow();
    expect(parseSearchKeys(atoms("$"), 0)).toEqual({ t: "saved" });
  });
});

describe("filterHeader against a string reference", () => {
  // The plain way: split into fields (a field continues on lines starting with SP/HTAB), compare lower-cased names.
  function reference(block: string, fields: Set<string>, not: boolean): string {
    const end = block.search(/\r?\n\r?\n|^\r?\n/);
    const head = end < 0 ? block : block.slice(0, block.indexOf("\n", end) + 1);
    const lines = head.split(/(?<=\n)/);
    let out = "";
    let cur = "";
    let keep = false;
    const flush = () => {
      if (cur && keep) out += cur;
      cur = "";
    };
    for (const l of lines) {
      if (l === "\n" || l === "\r\n") break;
      if (l[0] === " " || l[0] === "\t") {
        cur += l;
        continue;
      }
      flush();
      cur = l;
      const colon = l.indexOf(":");
      const name = colon < 0 ? null : l.slice(0, colon).replace(/[ \t]+$/, "").toLowerCase();
      const listed = name !== null && fields.has(name);
      keep = not ? name !== null && !listed : listed;
    }
    flush();
    if (out && !out.endsWith("\n")) out += "\r\n";
    return out + "\r\n";
  }
  const nameArb = fc.constantFrom("Subject", "FROM", "to", "Cc", "X-Mailer", "Message-ID", "subject ", "Received", "x-a", "DATE");
  const lineArb = fc.tuple(nameArb, fc.stringMatching(/^[ -~]{0,20}$/), fc.boolean()).map(([n, v, folded]) => `${n}: ${v}\r\n${folded ? `\t${v}\r\n` : ""}`);
  test("property: same bytes as the reference for any header and field list", () => {
    fc.assert(
      fc.property(fc.array(lineArb, { maxLength: 12 }), fc.subarray(["subject", "from", "to", "cc", "x-mailer", "message-id", "date"]), fc.boolean(), (lines, wanted, not) => {
        const block = lines.join("") + "\r\nbody line\r\n";
        const set = new Set(wanted);
        const got = new TextDecoder().decode(filterHeader(new TextEncoder().encode(block), set, not));
        expect(got).toBe(reference(block, set, not));
      }),
      { numRuns: 500 },
    );
  });
});
