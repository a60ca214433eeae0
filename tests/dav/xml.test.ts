/**
 * The DAV XML parser and writer as functions: namespaces resolved, the
 * predefined entities and character references, and every limit (DOCTYPE,
 * undefined entities, depth, element count, attribute sizes, body size,
 * encodings) refused with XmlError; the writer escapes what it must.
 */
import { describe, expect, test } from "bun:test";
import { child, children, parseXml, XmlError, XML_LIMITS } from "../../protocols/http/dav/xml.ts";
import { serialize, x, xa } from "../../protocols/http/dav/xml-writer.ts";

const bad = (input: string | Uint8Array, re: RegExp) => {
  let err: unknown;
  try {
    parseXml(input);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(XmlError);
  expect((err as Error).message).toMatch(re);
};

describe("parseXml", () => {
  test("resolves namespaces, prefixes and default namespaces; attributes by {ns}name or name", () => {
    const t = parseXml(`<?xml version="1.0" encoding="UTF-8"?><D:propfind xmlns:D="DAV:"><D:prop xmlns="urn:ietf:params:xml:ns:caldav"><calendar-data a="1" D:b="2"/><D:getetag/></D:prop></D:propfind>`);
    expect([t.ns, t.name]).toEqual(["DAV:", "propfind"]);
    const prop = child(t, "DAV:", "prop")!;
    const cd = child(prop, "urn:ietf:params:xml:ns:caldav", "calendar-data")!;
    expect(cd.attrs).toEqual({ a: "1", "{DAV:}b": "2" });
    expect(children(prop, "DAV:", "getetag").length).toBe(1);
  });

  test("text: predefined entities, character references, CDATA; a byte order mark is skipped", () => {
    const t = parseXml("\ufeff<a>x &amp; &lt;y&gt; &#65;&#x1F600; <![CDATA[<raw>&]]></a>");
    expect(t.text).toBe("x & <y> A\u{1F600} <raw>&");
  });

  test("a DOCTYPE is refused: billion laughs and external entities never expand", () => {
    bad(`<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><a>&lol1;</a>`, /DOCTYPE/);
    bad(`<?xml version="1.0"?><!DOCTYPE a [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><a>&xxe;</a>`, /DOCTYPE/);
    bad(`<!DOCTYPE a SYSTEM "http://127.0.0.1:1/evil.dtd"><a/>`, /DOCTYPE/);
  });

  test("undefined entities, malformed documents, garbage and wrong encodings are errors", () => {
    bad("<a>&xxe;</a>", /undefined entity/);
    bad("<a><b></a>", /malformed/);
    bad("not xml at all", /malformed/);
    bad("", /no root|malformed/);
    bad("<a/><b/>", /malformed/);
    bad(Uint8Array.from([0x3c, 0x61, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x61, 0x3e]), /UTF-8/);
    bad(`<?xml version="1.0" encoding="UTF-16"?><a/>`, /encoding/);
    bad("<a:-x xmlns:a='urn:x'/>", /invalid XML element name/);
    bad("<a>\u0001</a>", /malformed/);
  });

  test("limits: depth, element count, attribute count and size, body size", () => {
    bad("<a>".repeat(XML_LIMITS.MAX_DEPTH + 1) + "</a>".repeat(XML_LIMITS.MAX_DEPTH + 1), /deeper/);
    expect(() => parseXml("<a>".repeat(XML_LIMITS.MAX_DEPTH) + "</a>".repeat(XML_LIMITS.MAX_DEPTH))).not.toThrow();
    bad(`<a>${"<b/>".repeat(XML_LIMITS.MAX_ELEMENTS)}</a>`, /more than/);
    bad(`<a ${Array.from({ length: XML_LIMITS.MAX_ATTRS + 1 }, (_, i) => `x${i}="1"`).join(" ")}/>`, /attributes/);
    bad(`<a x="${"v".repeat(XML_LIMITS.MAX_ATTR_VALUE + 1)}"/>`, /attribute value/);
    bad(`<a>${"t".repeat(XML_LIMITS.MAX_BODY)}</a>`, /larger than/);
    bad(new Uint8Array(XML_LIMITS.MAX_BODY + 1).fill(0x20), /larger than/);
  });

  test("a 10,000-level nesting attempt fails fast at the depth limit", () => {
    const input = "<a>".repeat(10_000) + "</a>".repeat(10_000);
    bad(input, /deeper/);
  });
});

describe("XML writer", () => {
  test("escapes text and attributes, keeps fixed prefixes, declares other namespaces", () => {
    const s = serialize(x("DAV:", "multistatus", xa("DAV:", "href", { a: `"<&>` }, "a<b & c>d\r"), x("urn:example", "custom", x("", "plain", "t"))));
    expect(s).toContain('<D:href a="&quot;&lt;&amp;&gt;">a&lt;b &amp; c&gt;d&#13;</D:href>');
    expect(s).toContain('<custom xmlns="urn:example"><plain xmlns="">t</plain></custom>');
    expect(s).toContain('xmlns:C="urn:ietf:params:xml:ns:caldav"');
    const back = parseXml(s);
    const custom = child(back, "urn:example", "custom")!;
    expect(child(custom, "", "plain")!.text).toBe("t");
    expect(child(back, "DAV:", "href")!.text).toBe("a<b & c>d\r");
  });

  test("characters XML cannot carry are replaced, never written raw", () => {
    const s = serialize(x("DAV:", "displayname", "bell\u0007 nul\u0000"));
    expect(() => parseXml(s)).not.toThrow();
    expect(parseXml(s).text).toBe("bell\ufffd nul\ufffd");
  });
});
