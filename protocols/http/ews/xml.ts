/**
 * The EWS XML reader and writer.
 *
 * Reading: the DAV module's hardened parser (../dav/xml.ts: saxes, no
 * DOCTYPE so no entity expansion or external entities, bounded depth,
 * elements, names, attribute values and text) with limits sized for SOAP
 * requests that carry whole messages as base64 (CreateItem MimeContent,
 * CreateAttachment Content).
 *
 * Writing: responses are built as strings, element by element. `t()`/`m()`
 * take already-serialised XML children; `tv()`/`mv()` take one text value
 * (escaped) and leave the element out when the value is null or undefined,
 * which is how EWS says "no value" (Types.xsd: minOccurs="0").
 */
import { parseXml, XmlError, type XmlElement, type XmlLimits } from "../dav/xml.ts";
import { escapeAttr, escapeContent } from "../dav/xml-writer.ts";
import { NS } from "./ns.ts";

export { XmlError, type XmlElement };

/** Limits of one SOAP request: the body limit is set per request by the handler (the message size limit plus base64). */
export function soapLimits(maxBody: number): XmlLimits {
  return {
    MAX_BODY: maxBody,
    MAX_DEPTH: 64,
    MAX_ELEMENTS: 50_000,
    MAX_ATTRS: 32,
    MAX_NAME: 256,
    MAX_ATTR_VALUE: 64 * 1024,
    MAX_TEXT: maxBody,
  };
}

export function parseSoapXml(body: Uint8Array, maxBody: number): XmlElement {
  return parseXml(body, soapLimits(maxBody));
}

// ------------------------------------------------------------ reading helpers

/** The first child `{ns}name` (types namespace by default). */
export function kid(e: XmlElement | undefined, name: string, ns: string = NS.t): XmlElement | undefined {
  if (!e) return undefined;
  for (const c of e.children) if (c.name === name && c.ns === ns) return c;
  return undefined;
}

/** Every child `{ns}name` (types namespace by default). */
export function kidsNamed(e: XmlElement | undefined, name: string, ns: string = NS.t): XmlElement[] {
  return e ? e.children.filter((c) => c.name === name && c.ns === ns) : [];
}

/** The first child named `name` in the messages namespace. */
export function mkid(e: XmlElement | undefined, name: string): XmlElement | undefined {
  return kid(e, name, NS.m);
}

/** The trimmed text of the child `{ns}name`, or undefined when absent. */
export function kidText(e: XmlElement | undefined, name: string, ns: string = NS.t): string | undefined {
  const k = kid(e, name, ns);
  return k ? k.text.trim() : undefined;
}

/** An attribute without a namespace. */
export function attr(e: XmlElement | undefined, name: string): string | undefined {
  return e?.attrs[name];
}

/** xs:boolean (XML Schema §3.2.2: true, false, 1, 0). */
export function parseBool(s: string | undefined): boolean | undefined {
  if (s === undefined) return undefined;
  const v = s.trim().toLowerCase();
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  return undefined;
}

// ------------------------------------------------------------ writing

type Kid = string | null | undefined | false;

function attrString(attrs: Record<string, string | number | boolean | null | undefined> | undefined): string {
  if (!attrs) return "";
  let s = "";
  for (const k in attrs) {
    const v = attrs[k];
    if (v === null || v === undefined) continue;
    s += ` ${k}="${escapeAttr(String(v))}"`;
  }
  return s;
}

function element(qname: string, attrs: Record<string, string | number | boolean | null | undefined> | undefined, kids: Kid[]): string {
  let inner = "";
  for (let i = 0; i < kids.length; i++) if (kids[i]) inner += kids[i]; // indexed: no iterator per element (lists write thousands)
  const a = attrString(attrs);
  return inner ? `<${qname}${a}>${inner}</${qname}>` : `<${qname}${a}/>`;
}

/** `<t:name>` with serialised children. */
export function t(name: string, ...kids: Kid[]): string {
  return element(`t:${name}`, undefined, kids);
}
/** `<t:name attrs>` with serialised children. */
export function ta(name: string, attrs: Record<string, string | number | boolean | null | undefined>, ...kids: Kid[]): string {
  return element(`t:${name}`, attrs, kids);
}
/** `<m:name>` with serialised children. */
export function m(name: string, ...kids: Kid[]): string {
  return element(`m:${name}`, undefined, kids);
}
/** `<m:name attrs>` with serialised children. */
export function ma(name: string, attrs: Record<string, string | number | boolean | null | undefined>, ...kids: Kid[]): string {
  return element(`m:${name}`, attrs, kids);
}

/** Characters escapeContent changes (XML specials, CR, characters XML cannot carry): most values have none. */
const NEEDS_ESCAPE = /[&<>\r\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function valueText(v: string | number | boolean | Date): string {
  if (typeof v === "number" || typeof v === "boolean") return String(v); // digits, "true": nothing to escape
  if (v instanceof Date) return dateTime(v.getTime());
  return NEEDS_ESCAPE.test(v) ? escapeContent(v) : v;
}

/** `<t:name>text</t:name>`, or "" when the value is null/undefined. */
export function tv(name: string, v: string | number | boolean | Date | null | undefined, attrs?: Record<string, string | number | boolean | null | undefined>): string {
  if (v === null || v === undefined) return "";
  return `<t:${name}${attrString(attrs)}>${valueText(v)}</t:${name}>`;
}
/** `<m:name>text</m:name>`, or "" when the value is null/undefined. */
export function mv(name: string, v: string | number | boolean | Date | null | undefined, attrs?: Record<string, string | number | boolean | null | undefined>): string {
  if (v === null || v === undefined) return "";
  return `<m:${name}${attrString(attrs)}>${valueText(v)}</m:${name}>`;
}

/** Escaped text for hand-built fragments. */
export function esc(s: string): string {
  return escapeContent(s);
}

/** xs:dateTime in UTC without fractions, as Exchange writes it ("2026-12-07T21:30:00Z"). */
export function dateTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // always ends in ".sssZ": cut the fraction without a regular expression (lists write two per item)
  return iso.slice(0, -5) + "Z";
}

/** Parses xs:dateTime (with a zone offset or Z; a value without a zone is read as UTC). Undefined when malformed. */
export function parseDateTime(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const v = s.trim();
  if (!/^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/.test(v)) return undefined;
  const ms = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(v) ? v : v + "Z");
  return Number.isFinite(ms) ? ms : undefined;
}
