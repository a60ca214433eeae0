/**
 * A small escaping XML writer for DAV response bodies (multistatus, error,
 * prop). Nodes are plain objects; the well-known DAV namespaces get fixed
 * prefixes declared once on the root, any other namespace (a client's dead
 * property, an unknown property echoed in a 404 propstat) gets a generated
 * prefix declared on the element that uses it.
 */
import { CALDAV_NS, CARDDAV_NS, CS_NS, DAV_NS, ICAL_NS } from "./xml.ts";

export const XML_CONTENT_TYPE = "application/xml; charset=utf-8";

const TEXT_SPECIAL = /[&<>\r]/;
const ATTR_SPECIAL = /[&<>\r"\n\t]/;

export interface XNode {
  ns: string;
  name: string;
  attrs?: Record<string, string>;
  /** Child nodes and text (escaped when written). */
  children?: (XNode | string)[];
  /** Already-serialised XML inserted as is (a stored dead property). Only for text this module wrote. */
  raw?: string;
}

/** Builds a node: `x(DAV_NS, "href", "/dav/")`, `x(DAV_NS, "prop", x(DAV_NS, "displayname", "Work"))`. */
export function x(ns: string, name: string, ...children: (XNode | string | null | undefined | false)[]): XNode {
  return { ns, name, children: children.filter((c): c is XNode | string => c !== null && c !== undefined && c !== false) };
}

/** Like x() with attributes. */
export function xa(ns: string, name: string, attrs: Record<string, string>, ...children: (XNode | string | null | undefined | false)[]): XNode {
  return { ...x(ns, name, ...children), attrs };
}

const PREFIXES: Record<string, string> = {
  [DAV_NS]: "D",
  [CALDAV_NS]: "C",
  [CARDDAV_NS]: "CR",
  [CS_NS]: "CS",
  [ICAL_NS]: "ICAL",
};

const ROOT_DECLS = Object.entries(PREFIXES)
  .map(([ns, p]) => ` xmlns:${p}="${escapeAttr(ns)}"`)
  .join("");

/** The xmlns declarations of the fixed prefixes (for a root element written by hand, e.g. a streamed multistatus). */
export function rootDeclarations(): string {
  return ROOT_DECLS;
}

export function escapeText(s: string): string {
  if (!TEXT_SPECIAL.test(s)) return s; // the common case: nothing to escape
  return s.replace(/[&<>]/g, (c) => (c === "&" ? "&amp;" : c === "<" ? "&lt;" : "&gt;")).replace(/\r/g, "&#13;");
}

export function escapeAttr(s: string): string {
  if (!ATTR_SPECIAL.test(s)) return s;
  return escapeText(s).replace(/"/g, "&quot;").replace(/\n/g, "&#10;").replace(/\t/g, "&#9;");
}

// XML 1.0 §2.2: characters that cannot appear in a document at all, even escaped.
// eslint-disable-next-line no-control-regex
const INVALID_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

const HAS_INVALID = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function clean(s: string): string {
  return HAS_INVALID.test(s) ? s.replace(INVALID_CHARS, "\ufffd") : s;
}

/** Text content as it goes between tags (characters XML cannot carry replaced, specials escaped): for a node's `raw`. */
export function escapeContent(s: string): string {
  return escapeText(clean(s));
}

/** Serialises a node. `root` adds the namespace declarations of the fixed prefixes. */
export function serialize(node: XNode, root = true): string {
  const out: string[] = [];
  write(node, out, root);
  return out.join("");
}

function write(node: XNode, out: string[], root: boolean): void {
  let decl = root ? ROOT_DECLS : "";
  let qname: string;
  const fixed = PREFIXES[node.ns];
  if (fixed) qname = `${fixed}:${node.name}`;
  else if (node.ns === "") qname = node.name;
  else {
    // A namespace without a fixed prefix: a local default namespace keeps its children readable.
    qname = node.name;
    decl += ` xmlns="${escapeAttr(node.ns)}"`;
  }
  let attrs = "";
  for (const [k, v] of Object.entries(node.attrs ?? {})) attrs += ` ${k}="${escapeAttr(clean(v))}"`;
  if (node.raw !== undefined) {
    out.push(`<${qname}${decl}${attrs}>${node.raw}</${qname}>`);
    return;
  }
  const kids = node.children ?? [];
  if (!kids.length) {
    out.push(`<${qname}${decl}${attrs}/>`);
    return;
  }
  out.push(`<${qname}${decl}${attrs}>`);
  for (const k of kids) {
    if (typeof k === "string") out.push(escapeText(clean(k)));
    // An element in no namespace inside one with a default namespace must reset it.
    else if (k.ns === "" && !PREFIXES[node.ns] && node.ns !== "") {
      out.push(serialize({ ...k, attrs: { ...k.attrs, xmlns: "" } }, false));
    } else write(k, out, false);
  }
  out.push(`</${qname}>`);
}

/** A whole document with the XML declaration. */
export function xmlDocument(node: XNode): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n${serialize(node)}`;
}

/** A Response with an XML body. */
export function xmlResponse(status: number, node: XNode, headers: Record<string, string> = {}): Response {
  return new Response(xmlDocument(node), { status, headers: { "content-type": XML_CONTENT_TYPE, ...headers } });
}
