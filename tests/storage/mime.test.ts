/** The structural MIME parser: exact offsets, envelope, decoding, broken-message corpus, random input. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { MimePart } from "../../storage/api.ts";
import { analyzeMessage, baseSubject, decodeWords, parseAddressList, parseMailDate, parseMime, parseParams, partText } from "../../mail/index.ts";
import { bytes, setupAccount, tempStore, text, type TempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";

/** Structural invariants every parse result must satisfy. */
function checkTree(p: MimePart, lo: number, hi: number, depth = 0): number {
  expect(p.headerStart).toBeGreaterThanOrEqual(lo);
  expect(p.bodyStart).toBeGreaterThanOrEqual(p.headerStart);
  expect(p.bodyEnd).toBeGreaterThanOrEqual(p.bodyStart);
  expect(p.bodyEnd).toBeLessThanOrEqual(hi);
  expect(typeof p.type).toBe("string");
  expect(p.type).toBe(p.type.toLowerCase());
  let count = 1;
  if (p.type === "multipart") {
    expect(p.parts?.length ?? 0).toBeGreaterThan(0);
    let prev = p.bodyStart;
    for (const c of p.parts ?? []) {
      expect(c.headerStart).toBeGreaterThanOrEqual(prev);
      count += checkTree(c, p.bodyStart, p.bodyEnd, depth + 1);
      prev = c.bodyEnd;
    }
  } else expect(p.parts).toBeUndefined();
  if (p.message) count += checkTree(p.message.root, p.bodyStart, p.bodyEnd, depth + 1);
  return count;
}

const slice = (raw: Uint8Array, a: number, b: number) => text(raw.subarray(a, b));

function nestedMessage(eol: string): string {
  return [
    "From: Outer <outer@example.com>",
    "To: a@example.com",
    "Subject: nested",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "preamble text",
    "--outer",
    "Content-Type: multipart/alternative; boundary=inner",
    "",
    "--inner",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "plain body",
    "second line",
    "--inner",
    "Content-Type: text/html; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "<p>html =C3=A9</p>",
    "--inner--",
    "--outer",
    "Content-Type: message/rfc822",
    "Content-Disposition: attachment",
    "",
    "From: inner@example.org",
    "Subject: the inner one",
    "Content-Type: multipart/mixed; boundary=deep",
    "",
    "--deep",
    "",
    "deep text without part headers",
    "--deep",
    "Content-Type: image/png; name=dot.png",
    "Content-Transfer-Encoding: base64",
    "Content-ID: <dot@x>",
    "",
    "iVBORw0KGgo=",
    "--deep--",
    "--outer",
    "Content-Type: application/pdf",
    'Content-Disposition: attachment; filename="r.pdf"',
    "Content-Transfer-Encoding: base64",
    "",
    "JVBERi0xLjQK",
    "--outer--",
    "epilogue",
    "",
  ].join(eol);
}

describe("offsets", () => {
  for (const [label, eol] of [["CRLF", "\r\n"], ["LF", "\n"]] as const) {
    test(`nested multiparts and message/rfc822 have exact offsets (${label})`, () => {
      const raw = bytes(nestedMessage(eol));
      const { root } = parseMime(raw);
      expect(checkTree(root, 0, raw.length)).toBe(9);
      expect(root.headerStart).toBe(0);
      expect(root.bodyEnd).toBe(raw.length);
      expect(slice(raw, 0, root.bodyStart).endsWith(`boundary="outer"${eol}${eol}`)).toBe(true);
      const [alt, msg, pdf] = root.parts!;
      expect([alt.type, alt.subtype, msg.type, msg.subtype, pdf.subtype]).toEqual(["multipart", "alternative", "message", "rfc822", "pdf"]);
      const [plain, html] = alt.parts!;
      expect(slice(raw, plain.headerStart, plain.bodyStart)).toBe(`Content-Type: text/plain; charset=utf-8${eol}${eol}`);
      expect(slice(raw, plain.bodyStart, plain.bodyEnd)).toBe(`plain body${eol}second line`); // delimiter's line break excluded
      expect(plain.lines).toBe(2);
      expect(slice(raw, html.bodyStart, html.bodyEnd)).toBe("<p>html =C3=A9</p>");
      expect(partText(raw, html)).toBe("<p>html é</p>");
      expect(slice(raw, alt.headerStart, alt.bodyStart)).toBe(`Content-Type: multipart/alternative; boundary=inner${eol}${eol}`);
      expect(slice(raw, alt.bodyEnd - 9, alt.bodyEnd)).toBe("--inner--");
      // message/rfc822: the body is the whole embedded message
      expect(slice(raw, msg.bodyStart, msg.bodyStart + 23)).toBe("From: inner@example.org");
      expect(msg.disposition?.type).toBe("attachment");
      const inner = msg.message!;
      expect(inner.envelope.subject).toBe("the inner one");
      expect(inner.envelope.from).toEqual([{ name: null, mailbox: "inner", host: "example.org" }]);
      expect(inner.root.headerStart).toBe(msg.bodyStart);
      expect(inner.root.bodyEnd).toBe(msg.bodyEnd);
      expect(msg.lines).toBe(slice(raw, msg.bodyStart, msg.bodyEnd).split(eol).length);
      const [deepText, png] = inner.root.parts!;
      expect(deepText.bodyStart - deepText.headerStart).toBe(eol.length); // a part with no header lines
      expect(slice(raw, deepText.bodyStart, deepText.bodyEnd)).toBe("deep text without part headers");
      expect([deepText.type, deepText.subtype, deepText.params.charset]).toEqual(["text", "plain", "us-ascii"]);
      expect(png.id).toBe("<dot@x>");
      expect(png.params.name).toBe("dot.png");
      expect(png.encoding).toBe("base64");
      expect(slice(raw, png.bodyStart, png.bodyEnd)).toBe("iVBORw0KGgo=");
      expect(slice(raw, pdf.bodyStart, pdf.bodyEnd)).toBe("JVBERi0xLjQK");
      expect(pdf.disposition).toEqual({ type: "attachment", params: { filename: "r.pdf" } });
      const a = analyzeMessage(raw);
      expect(a.hasAttachment).toBe(true);
      expect(a.preview).toBe("plain body second line");
    });
  }

  test("CR-only line ends", () => {
    const raw = bytes("Subject: cr\rContent-Type: multipart/mixed; boundary=b\r\r--b\rContent-Type: text/plain\r\rmac\rtext\r--b--\r");
    const { root, envelope } = parseMime(raw);
    expect(envelope.subject).toBe("cr");
    checkTree(root, 0, raw.length);
    expect(slice(raw, root.parts![0].bodyStart, root.parts![0].bodyEnd)).toBe("mac\rtext");
    expect(root.parts![0].lines).toBe(2);
  });
});

describe("headers and envelope", () => {
  test("ENVELOPE fields: raw values, groups, defaults for Sender/Reply-To", () => {
    const raw = bytes(
      [
        "Date: Tue, 1 Jul 2003 10:52:37 +0200",
        "Subject: =?ISO-8859-1?Q?Caf=E9?= time",
        'From: "Joe Q. Public" <john.q.public@example.com>',
        "To: Mary Smith <mary@x.test>, jdoe@example.org, Who? <one@y.test>",
        "Cc: A Group:Ed Jones <c@a.test>,joe@where.test,John <jdoe@one.test>;, Undisclosed recipients:;",
        "In-Reply-To: <parent@x>",
        "Message-ID: <1234@local.machine.example>",
        "References: <a@x> <b@x>\r\n <parent@x>",
        "",
        "body",
      ].join("\r\n"),
    );
    const a = analyzeMessage(raw);
    const e = a.envelope;
    expect(e.date).toBe("Tue, 1 Jul 2003 10:52:37 +0200");
    expect(e.subject).toBe("=?ISO-8859-1?Q?Caf=E9?= time");
    expect(e.from).toEqual([{ name: "Joe Q. Public", mailbox: "john.q.public", host: "example.com" }]);
    expect(e.sender).toEqual(e.from);
    expect(e.replyTo).toEqual(e.from);
    expect(e.to?.map((x) => `${x.name}|${x.mailbox}@${x.host}`)).toEqual(["Mary Smith|mary@x.test", "null|jdoe@example.org", "Who?|one@y.test"]);
    expect(e.cc).toEqual([
      { name: null, mailbox: "A Group", host: null },
      { name: "Ed Jones", mailbox: "c", host: "a.test" },
      { name: null, mailbox: "joe", host: "where.test" },
      { name: "John", mailbox: "jdoe", host: "one.test" },
      { name: null, mailbox: null, host: null },
      { name: null, mailbox: "Undisclosed recipients", host: null },
      { name: null, mailbox: null, host: null },
    ]);
    expect(e.bcc).toBeNull();
    expect(e.inReplyTo).toBe("<parent@x>");
    expect(e.messageId).toBe("<1234@local.machine.example>");
    expect(a.subject).toBe("Café time");
    expect(a.references).toEqual(["<a@x>", "<b@x>", "<parent@x>"]);
    expect(a.fromName).toBe("Joe Q. Public");
    expect(a.fromAddr).toBe("john.q.public@example.com");
    expect(a.toAddr).toBe("mary@x.test");
    expect(a.ccAddr).toBe("c@a.test");
    expect(a.sentDate).toBe(Date.UTC(2003, 6, 1, 8, 52, 37));
  });

  test("RFC 2047 words, RFC 2231 parameters", () => {
    expect(decodeWords("=?utf-8?B?w6Q=?= =?utf-8?Q?_b?=")).toBe("ä b");
    expect(decodeWords("=?utf-8?Q?=E2=82?= =?utf-8?Q?=AC?=")).toBe("€"); // split multi-byte char
    expect(decodeWords("a =?iso-8859-1?q?=E9?= b")).toBe("a é b");
    expect(decodeWords("=?utf-8*en?q?x?=")).toBe("x");
    const p = parseParams("attachment; filename*0*=utf-8''%E2%82%AC; filename*1=\" rates\"; filename*2*=.pdf; size=10 (comment)");
    expect(p).toEqual({ value: "attachment", params: { filename: "€ rates.pdf", size: "10" } });
    expect(parseParams('text/plain; charset="UTF-8"; format=flowed').params).toEqual({ charset: "UTF-8", format: "flowed" });
    expect(parseParams("application/x; name*=iso-8859-1'de'%FCber.txt").params.name).toBe("über.txt");
  });

  test("base subject (RFC 5256 §2.1)", () => {
    const cases: [string, string][] = [
      ["Re: hello", "hello"],
      ["RE: Re: re:hello", "hello"],
      ["Fwd: [list] Re: hello (fwd)", "hello"],
      ["[fwd: Re: hello]", "hello"],
      ["[list] [other]", "[other]"],
      ["Re: [list] Fw: hello  world\t(fwd) ", "hello world"],
      ["", ""],
      ["Re:", ""],
    ];
    for (const [s, want] of cases) expect(baseSubject(s)).toBe(want);
  });

  test("dates: RFC 5322 and obsolete forms", () => {
    expect(parseMailDate("Fri, 21 Nov 1997 09:55:06 -0600")).toBe(Date.UTC(1997, 10, 21, 15, 55, 6));
    expect(parseMailDate("21 Nov 97 09:55:06 GMT")).toBe(Date.UTC(1997, 10, 21, 9, 55, 6));
    expect(parseMailDate("Thu, 13 Feb 1969 23:32 -0330 (Newfoundland Time)")).toBe(Date.UTC(1969, 1, 14, 3, 2, 0));
    expect(parseMailDate("Mon, 2 Jan 2006 15:04:05 EST")).toBe(Date.UTC(2006, 0, 2, 20, 4, 5));
    expect(parseMailDate("not a date")).toBeNull();
    expect(parseMailDate(null)).toBeNull();
  });

  test("address lists: obsolete routes, comments, broken input", () => {
    expect(parseAddressList("<@a,@b:user@host>")).toEqual([{ name: null, mailbox: "user", host: "host", adl: "@a,@b" }]);
    expect(parseAddressList("user@host (Full Name)")).toEqual([{ name: "Full Name", mailbox: "user", host: "host" }]);
    expect(parseAddressList('"a, b" <x@y>, c@d')).toEqual([
      { name: "a, b", mailbox: "x", host: "y" },
      { name: null, mailbox: "c", host: "d" },
    ]);
    expect(parseAddressList("bare")).toEqual([{ name: null, mailbox: "bare", host: "MISSING_DOMAIN" }]);
    for (const junk of ["<<<>>>", '"unterminated', "(unterminated", ",,,;;;", ":::", "@", "<@>"]) expect(() => parseAddressList(junk)).not.toThrow();
  });
});

// stored on every engine (PostgreSQL's TEXT, unlike SQLite's, refuses U+0000: see storage/pg-db.ts)
for (const engine of storeEngines())
describe(`broken-message corpus (${engine})`, () => {
  let t: TempStore;
  beforeAll(async () => {
    t = await tempStore({ engine });
  });
  afterAll(async () => t.cleanup());

  const dir = join(import.meta.dir, "corpus");
  const corpus: [string, Uint8Array][] = readdirSync(dir)
    .filter((f) => f.endsWith(".eml"))
    .sort()
    .map((f) => [f, new Uint8Array(readFileSync(join(dir, f)))]);
  // large cases are built here rather than stored in the repository
  {
    let m = "Subject: huge header\r\nX-Long: " + "a".repeat(300_000) + "\r\n";
    for (let i = 0; i < 12_000; i++) m += `X-Field-${i}: value ${i}\r\n`;
    corpus.push(["(generated) huge-header", bytes(m + "\r\nbody after a huge header\r\n")]);
    corpus.push(["(generated) 2 MB line", bytes("Subject: long line\r\n\r\n" + "x".repeat(2_000_000) + " needle\r\n")]);
  }

  test("the corpus is there", () => {
    expect(corpus.length).toBeGreaterThanOrEqual(30);
  });

  for (const [name, raw] of corpus) {
    test(`stored and indexed: ${name}`, async () => {
      const a = analyzeMessage(raw);
      checkTree(a.root, 0, raw.length);
      expect(a.root.bodyEnd).toBe(raw.length);
      expect(typeof a.subject).toBe("string");
      const { inbox } = await setupAccount(t.store, `c${Math.random().toString(36).slice(2)}@corpus.example`);
      const [r] = await t.store.append(inbox.id, [{ raw }]);
      const [m] = await t.store.getMessages(inbox.id, [r.uid]);
      expect(m.size).toBe(raw.length);
      expect(m.root).toEqual(a.root);
      expect(m.subject).toBe(a.subject);
      expect(Buffer.compare(Buffer.from(await t.store.readMessage(m.id)), Buffer.from(raw))).toBe(0);
      expect(Array.isArray(await t.store.searchText(inbox.id, "text", "body"))).toBe(true);
    });
  }

  test("specific broken cases parse sensibly", () => {
    const get = (n: string) => analyzeMessage(corpus.find(([f]) => f === n)![1]);
    expect(get("deep-multipart.eml").root.type).toBe("multipart");
    let depth = 0;
    for (let p: MimePart | undefined = get("deep-multipart.eml").root; p?.parts; p = p.parts[0]) depth++;
    expect(depth).toBe(50); // capped
    expect(get("no-separator.eml").subject).toBe("missing blank line");
    expect(get("no-separator.eml").preview).toContain("This is body text");
    expect(get("missing-boundary-param.eml").root.type).toBe("text");
    expect(get("no-close-delimiter.eml").root.parts?.length).toBe(2);
    expect(get("boundary-prefix.eml").root.parts?.length).toBe(2);
    expect(get("8bit-headers.eml").subject).toBe("Grüße aus Köln");
    expect(get("utf8-headers.eml").subject).toBe("日本語の件名 and émoji 🎉");
    expect(get("mbox-from-line.eml").subject).toBe("mbox style");
    expect(get("multipart-digest.eml").root.parts?.[0].message?.envelope.subject).toBe("first in digest");
    expect(get("base64-rfc822.eml").root.message).toBeUndefined();
    expect(get("bad-encoded-words.eml").fromName).toBe("Jörg");
    expect(get("rfc2231-broken.eml").hasAttachment).toBe(true);
    expect(get("empty.eml").root).toMatchObject({ headerStart: 0, bodyStart: 0, bodyEnd: 0 });
    expect(get("leading-continuation.eml").subject).toBe("after it continued subject");
  });
});

describe("property: the parser never throws", () => {
  test("random bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (raw) => {
        const a = analyzeMessage(raw);
        checkTree(a.root, 0, raw.length);
      }),
      { numRuns: 400 },
    );
  });

  test("random MIME-ish text built from the tricky tokens", () => {
    const tokens = ["\r\n", "\n", "\r", "--b", "--b--", "--c", "Content-Type: multipart/mixed; boundary=b", "Content-Type: multipart/alternative; boundary=c",
      "Content-Type: message/rfc822", "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable", "Subject: =?utf-8?B?", "?=",
      "From: \"", "<", ">", "@", ":", ";", "(", ")", "=", "=\r\n", " ", "\t", "x", "\u00e9", "\u0000", "Content-Disposition: attachment; filename*0*=utf-8''%E2"];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tokens), { maxLength: 200 }), (parts) => {
        const raw = bytes(parts.join(""));
        const a = analyzeMessage(raw);
        checkTree(a.root, 0, raw.length);
      }),
      { numRuns: 400 },
    );
  });

  test("mutations of a valid nested message", () => {
    const base = bytes(nestedMessage("\r\n"));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 30 }), fc.nat(base.length), (muts, cut) => {
        const raw = base.slice(0, Math.max(cut, 1));
        for (const [i, v] of muts) if (i < raw.length) raw[i] = v;
        checkTree(analyzeMessage(raw).root, 0, raw.length);
      }),
      { numRuns: 300 },
    );
  });
});
