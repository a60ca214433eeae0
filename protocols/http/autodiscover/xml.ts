/**
 * A small, strict XML reader for the few XML documents clients send us
 * (autodiscover requests). No DTDs, no external or custom entities (so no
 * XXE or entity-expansion bombs, XML 1.0 §4.1 entities other than the five
 * predefined ones are refused), bounded size and depth. Namespaces are
 * resolved: each element carries its namespace URI and local name.
 */

export interface XmlElement {
  /** Namespace URI ("" when none). */
  ns: string;
  /** Local name (without prefix). */
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

export class XmlError extends Error {
  constructor(message: string, public offset: number) {
    super(`${message} at ${offset}`);
    this.name = "XmlError";
  }
}

const NAME = /[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?/y;

export function parseXml(src: string, opts: { maxDepth?: number; maxLength?: number } = {}): XmlElement {
  const maxDepth = opts.maxDepth ?? 64;
  if (src.length > (opts.maxLength ?? 1_000_000)) throw new XmlError("document too large", 0);
  let i = 0;
  if (src.charCodeAt(0) === 0xfeff) i = 1;
  const fail = (m: string): never => {
    throw new XmlError(m, i);
  };
  const skipWs = () => {
    while (i < src.length && /\s/.test(src[i]!)) i++;
  };
  const skipMisc = () => {
    for (;;) {
      skipWs();
      if (src.startsWith("<?", i)) {
        const e = src.indexOf("?>", i);
        if (e < 0) fail("unterminated processing instruction");
        i = e + 2;
      } else if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i);
        if (e < 0) fail("unterminated comment");
        i = e + 3;
      } else if (src.startsWith("<!DOCTYPE", i)) {
        // Only a DOCTYPE without an internal subset is accepted: no entity declarations.
        const e = src.indexOf(">", i);
        if (e < 0) fail("unterminated DOCTYPE");
        if (src.slice(i, e).includes("[")) fail("DOCTYPE internal subsets are not accepted");
        i = e + 1;
      } else return;
    }
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const m = NAME.exec(src);
    if (!m) fail("name expected");
    i += m![0].length;
    return m![0];
  };
  const unescape = (s: string, at: number): string =>
    s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos|[^;]*);?/g, (all, ref: string) => {
      if (!all.endsWith(";")) throw new XmlError("bad entity reference", at);
      if (ref === "amp") return "&";
      if (ref === "lt") return "<";
      if (ref === "gt") return ">";
      if (ref === "quot") return '"';
      if (ref === "apos") return "'";
      if (ref.startsWith("#")) {
        const cp = ref[1] === "x" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
        if (!(cp > 0 && cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) throw new XmlError("bad character reference", at);
        return String.fromCodePoint(cp);
      }
      throw new XmlError(`undeclared entity &${ref};`, at);
    });

  const parseEl = (scopes: Map<string, string>, depth: number): XmlElement => {
    if (depth > maxDepth) fail("nesting too deep");
    if (src[i] !== "<") fail("'<' expected");
    i++;
    const qname = name();
    const rawAttrs: [string, string][] = [];
    for (;;) {
      skipWs();
      if (src.startsWith("/>", i) || src[i] === ">") break;
      const an = name();
      skipWs();
      if (src[i] !== "=") fail("'=' expected");
      i++;
      skipWs();
      const q = src[i];
      if (q !== '"' && q !== "'") fail("quoted attribute value expected");
      const e = src.indexOf(q!, i + 1);
      if (e < 0) fail("unterminated attribute value");
      const v = src.slice(i + 1, e);
      if (v.includes("<")) fail("'<' in attribute value");
      rawAttrs.push([an, unescape(v, i)]);
      i = e + 1;
    }
    let scope = scopes;
    for (const [an, v] of rawAttrs) {
      if (an === "xmlns" || an.startsWith("xmlns:")) {
        if (scope === scopes) scope = new Map(scopes);
        scope.set(an === "xmlns" ? "" : an.slice(6), v);
      }
    }
    const attrs: Record<string, string> = {};
    for (const [an, v] of rawAttrs) if (an !== "xmlns" && !an.startsWith("xmlns:")) attrs[an.includes(":") ? an.slice(an.indexOf(":") + 1) : an] = v;
    const colon = qname.indexOf(":");
    const prefix = colon >= 0 ? qname.slice(0, colon) : "";
    const local = colon >= 0 ? qname.slice(colon + 1) : qname;
    const nsUri = scope.get(prefix);
    if (nsUri === undefined && prefix !== "") fail(`undeclared prefix ${prefix}`);
    const el: XmlElement = { ns: nsUri ?? "", name: local, attrs, children: [] };
    if (src.startsWith("/>", i)) {
      i += 2;
      return el;
    }
    i++; // '>'
    let text = "";
    for (;;) {
      if (i >= src.length) fail(`unterminated element ${qname}`);
      if (src.startsWith("</", i)) {
        i += 2;
        const close = name();
        if (close !== qname) fail(`mismatched end tag ${close} for ${qname}`);
        skipWs();
        if (src[i] !== ">") fail("'>' expected");
        i++;
        if (text !== "") el.children.push(text);
        return el;
      }
      if (src.startsWith("<![CDATA[", i)) {
        const e = src.indexOf("]]>", i);
        if (e < 0) fail("unterminated CDATA");
        text += src.slice(i + 9, e);
        i = e + 3;
      } else if (src.startsWith("<!--", i)) {
        const e = src.indexOf("-->", i);
        if (e < 0) fail("unterminated comment");
        i = e + 3;
      } else if (src.startsWith("<?", i)) {
        const e = src.indexOf("?>", i);
        if (e < 0) fail("unterminated processing instruction");
        i = e + 2;
      } else if (src[i] === "<") {
        if (text !== "") {
          el.children.push(text);
          text = "";
        }
        el.children.push(parseEl(scope, depth + 1));
      } else {
        const e = src.indexOf("<", i);
        const end = e < 0 ? src.length : e;
        text += unescape(src.slice(i, end), i);
        i = end;
      }
    }
  };

  skipMisc();
  const root = parseEl(new Map(), 1);
  skipMisc();
  if (i !== src.length) fail("content after the root element");
  return root;
}

/** Child elements by local name (and namespace when given). */
export function xmlKids(e: XmlElement | undefined, name?: string, ns?: string): XmlElement[] {
  if (!e) return [];
  return e.children.filter((c): c is XmlElement => typeof c !== "string" && (name === undefined || c.name === name) && (ns === undefined || c.ns === ns));
}

export function xmlKid(e: XmlElement | undefined, name: string, ns?: string): XmlElement | undefined {
  return xmlKids(e, name, ns)[0];
}

/** Text content with surrounding whitespace trimmed. */
export function xmlText(e: XmlElement | undefined): string {
  if (!e) return "";
  return e.children
    .filter((c): c is string => typeof c === "string")
    .join("")
    .trim();
}

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}
