/**
 * Reading a message as a person sees it (mail/read.ts, the webmail's reading
 * pane): body assembly across multiparts, conversions, flowed text, decoded
 * fields, and broken input.
 */
import { describe, expect, test } from "bun:test";
import { readMessage } from "../../mail/read.ts";
import { decodeFlowed } from "../../mail/flowed.ts";

const enc = new TextEncoder();
const msg = (lines: string[]) => enc.encode(lines.join("\r\n"));

describe("readMessage", () => {
  test("fields decoded: encoded words, groups flattened, addresses lower-case, ISO date, ids", () => {
    const m = readMessage(
      msg([
        "From: =?utf-8?B?Wm/Dqw==?= <Zoe@Example.ORG>",
        "To: team: a@x.org, \"B, Jr.\" <b@y.org>;, c@z.org",
        "Cc: undisclosed-recipients:;",
        "Subject: =?utf-8?Q?caf=C3=A9?=  =?utf-8?Q?_time?=",
        "Date: Fri, 27 Nov 2026 10:00:00 +0100",
        "Message-ID: <1@x>",
        "References: <0@x> (comment) <a@b>",
        "",
        "body",
      ]),
    );
    expect(m.from).toEqual([{ name: "Zoë", address: "zoe@example.org" }]);
    expect(m.to).toEqual([
      { name: "", address: "a@x.org" },
      { name: "B, Jr.", address: "b@y.org" },
      { name: "", address: "c@z.org" },
    ]);
    expect(m.cc).toEqual([]);
    expect(m.subject).toBe("café time");
    expect(m.date).toBe("2026-11-27T09:00:00.000Z");
    expect(m.messageId).toBe("<1@x>");
    expect(m.references).toEqual(["<0@x>", "<a@b>"]);
    expect(m.text).toBe("body");
    expect(m.html).toBeNull(); // a plain message is not converted
  });

  test("multipart/alternative gives one of each; mixed text and HTML parts are converted into both forms", () => {
    const alt = readMessage(
      msg(["Content-Type: multipart/alternative; boundary=a", "", "--a", "Content-Type: text/plain", "", "plain", "--a", "Content-Type: text/html", "", "<p>rich</p>", "--a--", ""]),
    );
    expect(alt.text).toBe("plain");
    expect(alt.html).toBe("<p>rich</p>");
    const mixed = readMessage(
      msg([
        "Content-Type: multipart/mixed; boundary=m",
        "",
        "--m",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Transfer-Encoding: quoted-printable",
        "",
        "caf=E9 <1>",
        "--m",
        "Content-Type: text/html",
        "",
        "<b>two</b>",
        "--m",
        "Content-Type: text/plain",
        "Content-Disposition: attachment; filename=notes.txt",
        "",
        "not body",
        "--m--",
        "",
      ]),
    );
    expect(mixed.text).toBe("café <1>\ntwo");
    expect(mixed.html).toBe("<div>café &lt;1&gt;</div>\n<b>two</b>");
  });

  test("attached messages are attachments unless marked inline; inline ones show a header block and their text", () => {
    const inner = ["From: inner@x.org", "Subject: inner one", "", "inner text"];
    const attached = readMessage(msg(["Content-Type: multipart/mixed; boundary=m", "", "--m", "Content-Type: text/plain", "", "outer", "--m", "Content-Type: message/rfc822", "", ...inner, "--m--", ""]));
    expect(attached.text).toBe("outer");
    const inline = readMessage(
      msg(["Content-Type: multipart/mixed; boundary=m", "", "--m", "Content-Type: text/plain", "", "outer", "--m", "Content-Type: message/rfc822", "Content-Disposition: inline", "", ...inner, "--m--", ""]),
    );
    expect(inline.text).toBe("outer\nFrom: inner@x.org\nSubject: inner one\n\ninner text");
  });

  test("format=flowed text is joined (RFC 3676)", () => {
    const m = readMessage(msg(["Content-Type: text/plain; format=flowed; delsp=yes", "", "one long para ", "graph that goes on", "", "-- ", "sig"]));
    expect(m.text).toBe("one long paragraph that goes on\n\n-- \nsig");
  });

  test("broken input: bad charset, bad date, no header, junk bytes — readable, never a throw", () => {
    const m = readMessage(msg(["Content-Type: text/plain; charset=x-nonsense", "Date: yesterday-ish", "From: @@@, <>", "", "\xff\xfe text"]));
    expect(m.date).toBe("yesterday-ish");
    expect(JSON.stringify(m.from)).not.toContain("MISSING"); // placeholders of the ENVELOPE form are not shown
    expect(m.text).toContain("text");
    expect(readMessage(new Uint8Array(0)).text).toBe("");
    expect(readMessage(Uint8Array.from([0, 13, 13, 10, 255])).subject).toBe("");
  });
});

describe("decodeFlowed", () => {
  test("soft breaks, space-stuffing, quote depth changes end a paragraph, signature separator kept", () => {
    expect(decodeFlowed("Hello \r\nworld\r\n> quoted \r\n> more\r\n>> deep \r\n> back\r\n From x\r\n-- \r\nsig")).toBe("Hello world\n> quoted more\n>> deep \n> back\nFrom x\n-- \nsig");
    expect(decodeFlowed("a  \r\nb", true)).toBe("a b");
    expect(decodeFlowed("")).toBe("");
  });
});
