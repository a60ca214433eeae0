/**
 * The in-memory form of an ActiveSync document: elements named by
 * namespace (= code page, MS-ASWBXML §2.1.2.1) and tag, whose content is
 * text (WBXML inline strings) or opaque bytes (WBXML OPAQUE, used for MIME
 * and binary data, MS-ASWBXML).
 */
import { concatChunks } from "../../../../src/bytes.ts";

export interface WElement {
  ns: string;
  name: string;
  children: WNode[];
}

export type WNode = WElement | string | Uint8Array;

export type Child = WNode | null | undefined | false | Child[];

export function isElement(n: WNode): n is WElement {
  return typeof n === "object" && !(n instanceof Uint8Array);
}

/**
 * Builds an element. `qname` is "Namespace:Tag". Numbers become text;
 * null/undefined/false children are dropped (so optional parts read
 * naturally); empty strings are dropped too (an empty element and an element
 * with empty text encode the same way in WBXML).
 */
export function el(qname: string, ...children: (Child | number)[]): WElement {
  const i = qname.indexOf(":");
  if (i <= 0) throw new Error(`qualified name expected: ${qname}`);
  const out: WNode[] = [];
  const add = (c: Child | number): void => {
    if (c === null || c === undefined || c === false) return;
    if (typeof c === "number") out.push(String(c));
    else if (Array.isArray(c)) c.forEach(add);
    else if (typeof c === "string") {
      if (c !== "") out.push(c);
    } else out.push(c);
  };
  children.forEach(add);
  return { ns: qname.slice(0, i), name: qname.slice(i + 1), children: out };
}

/** A builder bound to one namespace: `const as = ns("AirSync"); as("Sync", ...)`. */
export function ns(namespace: string): (name: string, ...children: (Child | number)[]) => WElement {
  return (name, ...children) => el(`${namespace}:${name}`, ...children);
}

function matches(e: WElement, qname: string): boolean {
  const i = qname.indexOf(":");
  return e.ns === qname.slice(0, i) && e.name === qname.slice(i + 1);
}

export function qn(e: WElement): string {
  return `${e.ns}:${e.name}`;
}

/** Child elements, optionally only those named `qname`. */
export function kids(e: WElement | undefined, qname?: string): WElement[] {
  if (!e) return [];
  const out: WElement[] = [];
  for (const c of e.children) if (isElement(c) && (qname === undefined || matches(c, qname))) out.push(c);
  return out;
}

export function kid(e: WElement | undefined, qname: string): WElement | undefined {
  if (!e) return undefined;
  for (const c of e.children) if (isElement(c) && matches(c, qname)) return c;
  return undefined;
}

/** Concatenated text content (opaque content decoded as UTF-8). */
export function text(e: WElement | undefined): string {
  if (!e) return "";
  let s = "";
  for (const c of e.children) {
    if (typeof c === "string") s += c;
    else if (c instanceof Uint8Array) s += new TextDecoder().decode(c);
  }
  return s;
}

/** Text of the first child named `qname`, or undefined when absent. */
export function kidText(e: WElement | undefined, qname: string): string | undefined {
  const k = kid(e, qname);
  return k ? text(k) : undefined;
}

/** Raw bytes of an element's content: opaque as is, text as UTF-8. */
export function bytes(e: WElement | undefined): Uint8Array {
  if (!e) return new Uint8Array(0);
  const parts: Uint8Array[] = [];
  for (const c of e.children) {
    if (typeof c === "string") parts.push(new TextEncoder().encode(c));
    else if (c instanceof Uint8Array) parts.push(c);
  }
  if (parts.length === 1) return parts[0]!;
  return concatChunks(parts);
}

/** Renders a tree as XML, for logs and test diagnostics (opaque shown as base64). */
export function toXml(e: WElement, indent = ""): string {
  const open = `${indent}<${e.ns}:${e.name}`;
  if (e.children.length === 0) return `${open}/>`;
  if (e.children.every((c) => !isElement(c))) {
    const body = e.children.map((c) => (typeof c === "string" ? escapeXml(c) : `[opaque ${Buffer.from(c as Uint8Array).toString("base64")}]`)).join("");
    return `${open}>${body}</${e.ns}:${e.name}>`;
  }
  const inner = e.children
    .map((c) => (isElement(c) ? toXml(c, indent + "  ") : `${indent}  ${typeof c === "string" ? escapeXml(c) : "[opaque]"}`))
    .join("\n");
  return `${open}>\n${inner}\n${indent}</${e.ns}:${e.name}>`;
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}
