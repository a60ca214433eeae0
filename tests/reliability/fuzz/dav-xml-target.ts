/**
 * Fuzz target for the DAV XML parser (protocols/http/dav/xml.ts): any input
 * either parses into a tree within the documented limits or throws XmlError;
 * a parsed tree written back with the DAV XML writer parses to the same tree
 * (names, namespaces, attributes without a namespace, text).
 */
import fc from "fast-check";
import { parseXml, XmlError, XML_LIMITS, type XmlElement } from "../../../protocols/http/dav/xml.ts";
import { serialize, type XNode } from "../../../protocols/http/dav/xml-writer.ts";
import type { FuzzTarget } from "./engine.ts";

const enc = new TextEncoder();
const NS = `xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" xmlns:cr="urn:ietf:params:xml:ns:carddav"`;

const SEEDS = [
  `<?xml version="1.0" encoding="utf-8"?><d:propfind ${NS}><d:prop><d:displayname/><c:calendar-home-set/><d:resourcetype/></d:prop></d:propfind>`,
  `<d:propertyupdate ${NS}><d:set><d:prop><d:displayname>Work &amp; more</d:displayname><x:color xmlns:x="http://apple.com/ns/ical/">#FF0000</x:color></d:prop></d:set><d:remove><d:prop><c:calendar-description/></d:prop></d:remove></d:propertyupdate>`,
  `<c:calendar-query ${NS}><d:prop><d:getetag/><c:calendar-data><c:expand start="20260101T000000Z" end="20260201T000000Z"/></c:calendar-data></d:prop><c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT"><c:time-range start="20260101T000000Z"/><c:prop-filter name="SUMMARY"><c:text-match collation="i;ascii-casemap" negate-condition="yes">x</c:text-match></c:prop-filter></c:comp-filter></c:comp-filter></c:filter></c:calendar-query>`,
  `<d:sync-collection xmlns:d="DAV:"><d:sync-token>urn:pillarbox:sync:1:2</d:sync-token><d:sync-level>1</d:sync-level><d:limit><d:nresults>10</d:nresults></d:limit><d:prop><d:getetag/></d:prop></d:sync-collection>`,
  `<c:mkcalendar ${NS}><d:set><d:prop><c:calendar-timezone><![CDATA[BEGIN:VCALENDAR\r\nEND:VCALENDAR]]></c:calendar-timezone></d:prop></d:set></c:mkcalendar>`,
  `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><d:propfind xmlns:d="DAV:">&lol2;</d:propfind>`,
  `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><x>&xxe;</x>`,
  `<a>&#x1F600;&#65;&lt;&gt;&quot;&apos;</a>`,
  `<a:b xmlns:a="urn:x" a:c="1" d="2"><a:e/>text<f xmlns="urn:y">t</f></a:b>`,
].map((s) => enc.encode(s));

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

function toNode(el: XmlElement): XNode {
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(el.attrs)) if (!k.startsWith("{") && !k.includes(":")) attrs[k] = v;
  const kids: (XNode | string)[] = [];
  if (el.text) kids.push(el.text);
  for (const c of el.children) kids.push(toNode(c));
  return { ns: el.ns, name: el.name, attrs, children: kids };
}

function shape(el: XmlElement): unknown {
  const attrs = Object.entries(el.attrs).filter(([k]) => !k.startsWith("{") && !k.includes(":")).sort();
  return [el.ns, el.name, attrs, el.text, el.children.map(shape)];
}

function stats(el: XmlElement, depth: number, acc: { n: number; depth: number }): void {
  acc.n++;
  acc.depth = Math.max(acc.depth, depth);
  for (const c of el.children) stats(c, depth + 1, acc);
}

function run(input: Uint8Array): void {
  let tree: XmlElement;
  try {
    tree = parseXml(input);
  } catch (e) {
    if (e instanceof XmlError) return; // documented: the handler answers 400
    throw e;
  }
  const acc = { n: 0, depth: 0 };
  stats(tree, 1, acc);
  assert(acc.n <= XML_LIMITS.MAX_ELEMENTS, "more elements than the limit");
  assert(acc.depth <= XML_LIMITS.MAX_DEPTH, "deeper than the limit");
  // Element names of a namespace-less document written with a default namespace would differ; text with characters
  // the writer must replace (not allowed in XML) cannot come out of the parser, so the round trip is exact.
  const again = parseXml(serialize(toNode(tree)));
  assert(JSON.stringify(shape(again)) === JSON.stringify(shape(tree)), "writer round trip changed the tree");
}

const name = fc.constantFrom("d:prop", "d:propfind", "c:filter", "x", "d:href", "c:comp-filter");
const xmlArb: fc.Arbitrary<Uint8Array> = fc
  .array(fc.oneof(name.map((n) => `<${n}>`), name.map((n) => `</${n}>`), name.map((n) => `<${n}/>`), fc.constantFrom("&amp;", "&lt;", "&#0;", "&#x110000;", "&foo;", "<![CDATA[", "]]>", "<!--", "-->", "<?pi x?>", ' a="1"', "\u00e9", "\r\n"), fc.string({ maxLength: 8 })), { maxLength: 60 })
  .map((parts) => enc.encode(`<d:multistatus ${NS}>${parts.join("")}</d:multistatus>`));

export const DAV_XML_TARGET: FuzzTarget = { name: "dav-xml", seeds: SEEDS, run, arbitrary: xmlArb, maxLen: 65536 };
