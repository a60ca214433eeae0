/**
 * The DAV request-body parser: bytes in, a namespace-resolved element tree
 * out (sans-IO, a pure function of the bytes), built on saxes.
 *
 * Hostile input is the normal case here (RFC 4918 §20.6 warns about XML
 * bombs and external entities), so everything is bounded:
 * - a DOCTYPE is refused outright: no internal entity declarations (billion
 *   laughs), no external entities or DTDs (file:// disclosure). DAV bodies
 *   never need one (RFC 4918 §17 lets servers refuse DTD processing);
 * - only the five predefined entities and character references; an
 *   undefined entity is an error, not an empty string;
 * - at most MAX_BODY bytes (the HTTP layer refuses larger bodies with 413
 *   before reading them, body.ts), MAX_DEPTH nesting, MAX_ELEMENTS elements,
 *   MAX_ATTRS attributes per element, MAX_NAME / MAX_ATTR_VALUE characters.
 * Text is kept per element (concatenated direct text and CDATA; mixed content
 * is not meaningful in DAV).
 */
import { SaxesParser, type SaxesAttributeNS } from "saxes";

export const DAV_NS = "DAV:";
export const CALDAV_NS = "urn:ietf:params:xml:ns:caldav";
export const CARDDAV_NS = "urn:ietf:params:xml:ns:carddav";
export const CS_NS = "http://calendarserver.org/ns/";
export const ICAL_NS = "http://apple.com/ns/ical/";

export const XML_LIMITS = {
  /** Largest body accepted (bytes). */
  MAX_BODY: 1024 * 1024,
  MAX_DEPTH: 64,
  MAX_ELEMENTS: 20_000,
  MAX_ATTRS: 64,
  MAX_NAME: 1024,
  MAX_ATTR_VALUE: 64 * 1024,
} as const;

export interface XmlElement {
  /** Namespace URI ("" when none). */
  ns: string;
  /** Local name. */
  name: string;
  /** Attribute values by "{ns}name", or "name" for an attribute without a namespace. xmlns declarations are left out. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (text and CDATA directly inside it, concatenated). */
  text: string;
}

export class XmlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "XmlError";
  }
}

/** An NCName does not start with a digit, "-", "." or a combining character (XML 1.0 §2.3 NameStartChar minus ":"). */
const NC_START = /^[A-Za-z_\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\uD800-\uDBFF]/;

const decoder = new TextDecoder("utf-8", { fatal: true });

/** The bounds one parse applies (XML_LIMITS for DAV; EWS passes larger ones for message bodies). */
export type XmlLimits = { readonly [K in keyof typeof XML_LIMITS]: number } & { /** Longest text of one element (characters); default MAX_BODY. */ readonly MAX_TEXT?: number };

function decode(body: Uint8Array | string, limits: XmlLimits): string {
  if (typeof body === "string") {
    if (body.length > limits.MAX_BODY) throw new XmlError(`the XML body is larger than ${limits.MAX_BODY} bytes`);
    return body;
  }
  if (body.length > limits.MAX_BODY) throw new XmlError(`the XML body is larger than ${limits.MAX_BODY} bytes`);
  try {
    return decoder.decode(body);
  } catch {
    throw new XmlError("the XML body is not valid UTF-8");
  }
}

/** Parses one XML document; throws XmlError with a readable message on anything malformed or over a limit. */
export function parseXml(body: Uint8Array | string, limits: XmlLimits = XML_LIMITS): XmlElement {
  let text = decode(body, limits);
  const maxText = limits.MAX_TEXT ?? limits.MAX_BODY;
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 byte order mark
  const parser = new SaxesParser({ xmlns: true, position: true });
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let count = 0;
  let failure: XmlError | null = null;
  const fail = (msg: string): never => {
    failure ??= new XmlError(msg);
    throw failure;
  };

  parser.on("error", (err) => fail(`malformed XML: ${err.message}`));
  parser.on("xmldecl", (decl) => {
    const enc = decl.encoding?.toLowerCase();
    // We decode as UTF-8 (RFC 7303 §3.2 lets the charset come from the body); refuse a declared other encoding instead of misreading it.
    if (enc && enc !== "utf-8" && enc !== "utf8" && enc !== "us-ascii") fail(`unsupported XML encoding "${decl.encoding}" (use UTF-8)`);
  });
  // RFC 4918 §20.6: no DTD processing at all, so no entity expansion and no external entities.
  parser.on("doctype", () => fail("a DOCTYPE is not allowed in a request body"));
  parser.on("opentagstart", (tag) => {
    if (++count > limits.MAX_ELEMENTS) fail(`more than ${limits.MAX_ELEMENTS} XML elements`);
    if (stack.length >= limits.MAX_DEPTH) fail(`XML nested deeper than ${limits.MAX_DEPTH} levels`);
    if (tag.name.length > limits.MAX_NAME) fail("an XML element name is too long");
  });
  parser.on("attribute", (attr) => {
    if (attr.name.length > limits.MAX_NAME) fail("an XML attribute name is too long");
    if (attr.value.length > limits.MAX_ATTR_VALUE) fail("an XML attribute value is too long");
  });
  parser.on("opentag", (tag) => {
    // Namespaces in XML §3: a prefixed name's local part is an NCName too (saxes checks only the whole QName).
    if (!NC_START.test(tag.local ?? tag.name)) fail(`invalid XML element name "${tag.name.slice(0, 64)}"`);
    const attrs: Record<string, string> = {};
    let n = 0;
    for (const a of Object.values(tag.attributes as Record<string, SaxesAttributeNS>)) {
      if (a.prefix === "xmlns" || a.name === "xmlns") continue;
      if (!NC_START.test(a.local)) fail(`invalid XML attribute name "${a.name.slice(0, 64)}"`);
      if (++n > limits.MAX_ATTRS) fail(`more than ${limits.MAX_ATTRS} attributes on one XML element`);
      attrs[a.uri ? `{${a.uri}}${a.local}` : a.local] = a.value;
    }
    const el: XmlElement = { ns: tag.uri ?? "", name: tag.local ?? tag.name, attrs, children: [], text: "" };
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(el);
    else root = el;
    stack.push(el);
  });
  parser.on("closetag", () => {
    stack.pop();
  });
  const addText = (t: string) => {
    const top = stack[stack.length - 1];
    if (!top) return;
    if (top.text.length + t.length > maxText) fail(`an XML element's text is longer than ${maxText} characters`);
    top.text += t;
  };
  parser.on("text", addText);
  parser.on("cdata", addText);

  try {
    parser.write(text);
    parser.close();
  } catch (e) {
    if (failure) throw failure;
    if (e instanceof XmlError) throw e;
    throw new XmlError(`malformed XML: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (failure) throw failure;
  if (!root) throw new XmlError("the XML body has no root element");
  return root;
}

/** The first child element `{ns}name`, or undefined. */
export function child(el: XmlElement, ns: string, name: string): XmlElement | undefined {
  return el.children.find((c) => c.ns === ns && c.name === name);
}

/** All child elements `{ns}name`. */
export function children(el: XmlElement, ns: string, name: string): XmlElement[] {
  return el.children.filter((c) => c.ns === ns && c.name === name);
}

/** "{ns}name" — the key used for property maps. */
export function clark(ns: string, name: string): string {
  return `{${ns}}${name}`;
}
