/**
 * Writing mail: message building, addresses, dates, Message-IDs, subjects
 * and HTML, with hostile and malformed input, plus the points where the
 * copies the mail library replaced disagreed.
 */
import { describe, expect, test } from "bun:test";
import {
  AddressError,
  analyzeMessage,
  composeMessage,
  escapeHtml,
  formatAddress,
  formatMailDate,
  headerEnd,
  headerFieldSpans,
  htmlToText,
  newMessageId,
  parseAddressInput,
  parseAddressList,
  parseMailDate,
  parseMessageIds,
  parseMime,
  partContent,
  partText,
  prefixSubject,
  renderMessage,
  textToHtml,
  firstBareLineEnd,
  type MimePart,
} from "../../mail/index.ts";

const enc = new TextEncoder();
const latin1 = (b: Uint8Array) => new TextDecoder("latin1").decode(b);

function leaves(p: MimePart, out: MimePart[] = []): MimePart[] {
  if (p.parts) for (const c of p.parts) leaves(c, out);
  else out.push(p);
  return out;
}

describe("composeMessage", () => {
  const base = { from: { name: "Zoë Ämtler", address: "zoe@example.org" }, to: [{ name: "Bob, Jr.", address: "bob@example.com" }], subject: "Grüße", text: "Hallo\nBob" };

  test("a text message: encoded name and subject, CRLF everywhere, Date and Message-ID on the sender's domain", () => {
    const raw = composeMessage(base);
    const s = latin1(raw);
    expect(firstBareLineEnd(raw)).toBe(-1);
    expect(s).toContain("From: =?UTF-8?B?");
    expect(s).toContain('To: "Bob, Jr." <bob@example.com>');
    expect(s).toMatch(/\r\nMessage-ID: <[0-9a-z]+\.[0-9a-f]{18}@example\.org>\r\n/);
    const a = analyzeMessage(raw);
    expect(a.subject).toBe("Grüße");
    expect(a.fromName).toBe("Zoë Ämtler");
    expect(a.root.type + "/" + a.root.subtype).toBe("text/plain");
    expect(a.root.encoding).toBe("7bit");
    expect(partText(raw, a.root)).toBe("Hallo\r\nBob");
    expect(Math.abs((a.sentDate ?? 0) - Date.now())).toBeLessThan(5 * 60_000);
  });

  test("non-ASCII or long-lined text goes as quoted-printable UTF-8 and reads back exactly", () => {
    const text = "é\n" + "x".repeat(2000) + "\ntrailing space \n";
    const raw = composeMessage({ ...base, text });
    const a = analyzeMessage(raw);
    expect(a.root.encoding).toBe("quoted-printable");
    expect(a.root.params.charset).toBe("utf-8");
    expect(partText(raw, a.root)).toBe(text.replace(/\n/g, "\r\n"));
    for (const line of latin1(raw).split("\r\n")) expect(line.length).toBeLessThanOrEqual(998);
  });

  test("HTML with cid: images in multipart/related, files in multipart/mixed, bytes exact", () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 255]);
    const pdf = enc.encode("%PDF-1.4\n\x00binary");
    const raw = composeMessage({
      ...base,
      html: '<p>Hi <img src="cid:logo@x"></p>',
      attachments: [
        { filename: "logo.png", contentType: "image/png", content: png, cid: "logo@x" },
        { filename: "Bericht – März.pdf", contentType: "application/pdf", content: pdf },
      ],
    });
    const { root } = parseMime(raw);
    expect(`${root.type}/${root.subtype}`).toBe("multipart/mixed");
    const [alt, file] = root.parts!;
    expect(alt!.subtype).toBe("alternative");
    const related = alt!.parts![1]!;
    expect(related.subtype).toBe("related");
    const [html, img] = related.parts!;
    expect(html!.subtype).toBe("html");
    expect(img!.id).toBe("<logo@x>");
    expect(img!.disposition?.type).toBe("inline");
    expect(partContent(raw, img!)).toEqual(png);
    expect(file!.disposition?.type).toBe("attachment");
    // RFC 2231 filename (the standard form) and the encoded-word name= that older readers use
    expect(latin1(raw)).toContain("filename*=utf-8''Bericht%20%E2%80%93%20M%C3%A4rz.pdf");
    expect(file!.disposition?.params.filename).toBe("Bericht – März.pdf");
    expect(file!.encoding).toBe("base64");
    expect(partContent(raw, file!)).toEqual(pdf);
    expect(analyzeMessage(raw).hasAttachment).toBe(true);
  });

  test("a forwarded message stays message/rfc822 in its own bytes, never base64 (RFC 2046 §5.2.1)", () => {
    const inner = enc.encode("From: a@b\r\nSubject: inner\r\n\r\nbody é\r\n");
    const raw = composeMessage({ ...base, attachments: [{ filename: "fwd.eml", contentType: "message/rfc822", content: inner }] });
    const att = parseMime(raw).root.parts![1]!;
    expect(att.encoding).toBe("8bit");
    expect(att.message?.envelope.subject).toBe("inner");
  });

  test("Bcc only in drafts (RFC 5322 §3.6.3); threading headers; header injection through any field is impossible", () => {
    const input = { ...base, bcc: [{ name: "", address: "hidden@example.net" }], subject: "x\r\nBcc: evil@example.com", inReplyTo: "<a@b>\r\nX-Evil: 1", references: ["<r1@x>", "<a@b>"] };
    const sent = latin1(composeMessage(input));
    expect(sent).not.toContain("hidden@example.net");
    expect(sent).not.toMatch(/\r\nBcc:/);
    expect(sent).not.toMatch(/\r\nX-Evil:/);
    expect(sent).toContain("References: <r1@x> <a@b>\r\n");
    const draft = latin1(composeMessage({ ...input, keepBcc: true }));
    expect(draft).toContain("\r\nBcc: hidden@example.net\r\n");
    expect(latin1(composeMessage({ ...base, extraHeaders: { "Bad Name": "x", "X-Ok": "Grüße" } }))).toMatch(/\r\nX-Ok: =\?UTF-8\?B\?[^\r\n]+\r\n(?![\s\S]*Bad Name)/);
  });

  test("the boundary never occurs in a part, even when the text tries to guess it", () => {
    const raw = composeMessage({ ...base, text: "--=_pb_\r\n--=_pb_00\r\n", html: "<p>--=_pb_</p>" });
    const { root } = parseMime(raw);
    expect(root.parts!.length).toBe(2);
    expect(partText(raw, root.parts![0]!)).toBe("--=_pb_\r\n--=_pb_00\r\n");
  });

  test("renderMessage writes any tree (a report, nested multiparts) and bad content types are sent as octets", () => {
    const raw = renderMessage([["Subject", "report"]], {
      multipart: "report",
      params: { "report-type": "delivery-status" },
      preamble: "This is a MIME-encapsulated message.",
      parts: [
        { type: "text/plain", content: "failed" },
        { type: "message/delivery-status", content: enc.encode("Reporting-MTA: dns; x\r\n"), encoding: "as-is" },
        { type: "text/html\r\nX-Evil: 1", content: enc.encode("x") },
      ],
    });
    const { root } = parseMime(raw);
    expect(root.params["report-type"]).toBe("delivery-status");
    expect(leaves(root).map((p) => `${p.type}/${p.subtype}`)).toEqual(["text/plain", "message/delivery-status", "application/octet-stream"]);
    // RFC 3464 §2.1: the status stays readable (7bit, not base64); the preamble is for readers without MIME
    expect(leaves(root)[1]!.encoding).toBe("7bit");
    expect(latin1(raw.subarray(root.bodyStart, root.parts![0]!.headerStart))).toStartWith("This is a MIME-encapsulated message.\r\n\r\n--=_pb_");
  });
});

describe("addresses", () => {
  test("formatAddress: atoms as they are, specials quoted, non-ASCII and '=?' encoded; display form keeps Unicode", () => {
    expect(formatAddress({ name: "", address: "a@x" })).toBe("a@x");
    expect(formatAddress({ name: "Ann Lee", address: "a@x" })).toBe("Ann Lee <a@x>");
    expect(formatAddress({ name: 'A "B" C\\', address: "a@x" })).toBe('"A \\"B\\" C\\\\" <a@x>');
    expect(formatAddress({ name: "John Q. Public", address: "a@x" })).toBe('"John Q. Public" <a@x>');
    expect(formatAddress({ name: "Zoë", address: "z@x" })).toMatch(/^=\?UTF-8\?B\?\S+\?= <z@x>$/);
    expect(formatAddress({ name: "=?utf-8?q?x?=", address: "z@x" })).toMatch(/^=\?UTF-8\?B\?/);
    expect(formatAddress({ name: "Zoë, Q", address: "z@x" }, { display: true })).toBe('"Zoë, Q" <z@x>');
    expect(formatAddress({ name: "a\r\nBcc: e@x", address: "z@x" })).toBe('"a Bcc: e@x" <z@x>');
  });

  test("typed lists: commas, semicolons, groups, quoted names with commas, encoded names decoded", () => {
    expect(parseAddressInput('Ann <a@x.org>; b@y.com, "Lee, Bo" <c@z.de>, team: d@t.io, e@t.io;, =?utf-8?B?Wm/Dqw==?= <z@z.de>')).toEqual([
      { name: "Ann", address: "a@x.org" },
      { name: "", address: "b@y.com" },
      { name: "Lee, Bo", address: "c@z.de" },
      { name: "", address: "d@t.io" },
      { name: "", address: "e@t.io" },
      { name: "Zoë", address: "z@z.de" },
    ]);
    expect(parseAddressInput(["a@x.org", "b@y.org"]).length).toBe(2);
    expect(parseAddressInput("  ,, ;")).toEqual([]);
  });

  test("typed lists name the bad entry: no domain, no local part, no dot, spaces", () => {
    for (const [input, piece] of [["bob@", "bob@"], ["Ann <bob@>", "bob@"], ["ok@x.org, bob", "bob"], ["x@localhostx", "x@localhostx"], ["@x.org", "@x.org"]] as const) {
      let err: unknown = null;
      try {
        parseAddressInput(input);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AddressError);
      expect((err as AddressError).message).toBe(`"${piece}" is not a valid email address`);
    }
  });

  test("message ids: brackets, comments, bare ids", () => {
    expect(parseMessageIds("<a@b> (comment <c@d>) <e@f>")).toEqual(["<a@b>", "<e@f>"]);
    expect(parseMessageIds("bare@id")).toEqual(["<bare@id>"]);
    expect(parseMessageIds("no id here")).toEqual([]);
  });

  test("Message-IDs are unique, on a clean domain", () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newMessageId("mail.example.org")));
    expect(ids.size).toBe(1000);
    expect(newMessageId("bad host>\r\n<x")).toMatch(/^<[0-9a-z]+\.[0-9a-f]{18}@badhostx>$/);
    expect(newMessageId("")).toMatch(/@localhost>$/);
    expect(parseMessageIds(newMessageId("[192.0.2.1]"))[0]).toMatch(/@192\.0\.2\.1>$/);
  });
});

describe("dates, subjects, header end", () => {
  test("formatMailDate writes RFC 5322 §3.3 with +0000 and parses back; invalid dates do not write NaN", () => {
    const t = Date.UTC(2026, 11, 7, 5, 3, 9);
    expect(formatMailDate(t)).toBe("Mon, 7 Dec 2026 05:03:09 +0000");
    expect(formatMailDate(new Date(t))).toBe("Mon, 7 Dec 2026 05:03:09 +0000");
    expect(parseMailDate(formatMailDate(t))).toBe(t);
    expect(formatMailDate(Number.NaN)).toBe("Thu, 1 Jan 1970 00:00:00 +0000");
    expect(formatMailDate(new Date("garbage"))).not.toContain("NaN");
  });

  test("reply and forward prefixes are added once", () => {
    expect(prefixSubject("Re", "hello")).toBe("Re: hello");
    expect(prefixSubject("Re", "RE : hello")).toBe("RE : hello");
    expect(prefixSubject("Fwd", "Fw: x")).toBe("Fw: x");
    expect(prefixSubject("Fwd", "Re: x")).toBe("Fwd: Re: x");
  });

  test("headerFieldSpans: fields with their folded lines as byte ranges; noise and no-colon lines; stops at the blank line", () => {
    const raw = enc.encode(" noise\r\nA: 1\r\n  more\r\nno colon\r\nB:2\n\r\nC: body\r\n");
    const spans = headerFieldSpans(raw);
    expect(spans.map((f) => latin1(raw.subarray(f.start, f.end)))).toEqual(["A: 1\r\n  more\r\n", "no colon\r\n", "B:2\n"]);
    expect(spans.map((f) => f.colon)).toEqual([9, -1, 33]);
    expect(headerFieldSpans(enc.encode("X: unterminated"))).toEqual([{ start: 0, end: 15, colon: 1 }]);
  });

  test("headerEnd: CRLF and LF blank lines, an empty first line, none at all", () => {
    expect(headerEnd(enc.encode("A: 1\r\n\r\nbody"))).toBe(8);
    expect(headerEnd(enc.encode("A: 1\n\nbody"))).toBe(6);
    expect(headerEnd(enc.encode("\r\nbody"))).toBe(2);
    expect(headerEnd(enc.encode("A: 1\r\nB: 2"))).toBe(-1);
    expect(headerEnd(new Uint8Array(0))).toBe(-1);
  });
});

describe("HTML", () => {
  test("escapeHtml escapes all five characters (the ActiveSync copies left ' as it was)", () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;");
    expect(textToHtml("a<b\r\nc\nd\re")).toBe("a&lt;b<br>c<br>d<br>e");
    expect(textToHtml("a\nb", "<br>\n")).toBe("a<br>\nb");
  });

  test("readable htmlToText: paragraphs, breaks, bullets, no scripts, entities, tidy blank lines", () => {
    const html = "<head><title>T</title></head><p>One &amp; two</p><p>three<br>four</p><ul><li>x</li><li>y</li></ul><script>alert(1)</script>\n\n\n\n<div>end&nbsp;&#33;&#x263a;</div>";
    expect(htmlToText(html, { readable: true })).toBe("One & two\nthree\nfour\n• x\n• y\n\nend\u00a0!☺".replace("\u00a0", htmlToText("&nbsp;")));
    // index form: every block separates words, nothing is lost or merged
    expect(htmlToText("<b>bo</b>ld<p>next</p><td>a</td><td>b</td>").replace(/\s+/g, " ").trim()).toBe("bold next a b");
  });

  test("hostile markup: unclosed scripts drop only their tags, a later closed one still hides its content", () => {
    // (20 000 unclosed <script> tags each searched the rest of the text for "</script": quadratic)
    const hostile = "<script>".repeat(20000) + "visible" + "<".repeat(1000) + "&#".repeat(1000);
    expect(htmlToText(hostile, { readable: true })).toBe("visible" + "<".repeat(1000) + "&#".repeat(1000));
    expect(htmlToText("if a < b then")).toBe("if a < b then"); // a "<" that opens no tag is text
    expect(htmlToText("<script>a<script>b</script>c<style>d")).toBe(" cd");
  });
});
