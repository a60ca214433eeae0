/**
 * Making mail HTML safe to show. Three layers, each enough on its own for
 * scripts:
 *  1. DOMPurify with the HTML profile only (no SVG/MathML), forms, frames,
 *     embeds, media, meta/base/link removed, and hooks below that rewrite
 *     URLs: links open in a new tab with noopener/noreferrer, `cid:` images
 *     become data: URLs from our own API, remote images and CSS images
 *     (url(), image-set() and friends, after the browser has parsed the CSS
 *     so escapes cannot hide them) are parked until the user allows them;
 *  2. the frame's own Content-Security-Policy (a <meta> in srcdoc): no
 *     script, no connections, images only from data: (plus http/https once
 *     allowed), no forms, no base URL;
 *  3. the iframe sandbox without allow-scripts, allow-forms,
 *     allow-same-origin or allow-top-navigation.
 */
import DOMPurify from "dompurify";

export interface SanitizeOptions {
  allowRemote: boolean;
  /** Content-ID (without <>) to a data: URL. */
  cid: Map<string, string>;
}

export interface Sanitized {
  html: string;
  /** Remote resources held back (images, backgrounds, CSS url()s). */
  blocked: number;
}

const FORBID_TAGS = [
  "script", "noscript", "template", "style-sheet", "form", "input", "button", "select", "option", "optgroup", "textarea", "datalist", "output",
  "meta", "base", "link", "iframe", "frame", "frameset", "object", "embed", "applet", "param", "audio", "video", "source", "track",
  "picture", "portal", "dialog", "svg", "math", "canvas", "keygen", "menu", "title", "head",
];
const FORBID_ATTR = ["action", "formaction", "srcset", "ping", "poster", "longdesc", "srcdoc", "autofocus", "tabindex", "xmlns", "accesskey", "contenteditable", "draggable"];

/**
 * Two uses. "frame": the reading pane, whose document is the sandboxed frame
 * (its own CSS cannot see the app); <style> stays, url()s are rewritten.
 * "editor": the composer, a contenteditable in the app page itself, where
 * any CSS of the message would apply to the app (restyle it, load remote
 * pictures, probe the message list with attribute selectors): no <style>,
 * no class or id, and only a short list of harmless inline properties.
 */
type Mode = "frame" | "editor";

let state: { opts: SanitizeOptions; blocked: number; mode: Mode } | null = null;

function isRemote(u: string): boolean {
  return /^\s*(https?:)?\/\//i.test(u);
}

/**
 * CSS as this browser parsed it: escapes resolved (`\75 rl(` is `url(`,
 * CSS Syntax §4.3.7), comments gone, rules it does not know dropped, and
 * @import refused (a constructed sheet never loads imports; CSSOM §6.1.2
 * replaceSync). The filters below then see every url() in one spelling.
 * Null when the browser cannot do this: the caller then drops the CSS.
 */
function canonicalSheet(css: string): string | null {
  if (typeof CSSStyleSheet !== "function") return null;
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    return Array.from(sheet.cssRules, (r) => r.cssText).join("\n");
  } catch {
    return null;
  }
}

/** Undoes CSS escapes inside a string or url token (CSS Syntax §4.3.7). */
function unescapeCss(v: string): string {
  return v.replace(/\\(?:([0-9a-f]{1,6})[ \t\n\r\f]?|([\s\S]))/gi, (_m, hex: string | undefined, ch: string | undefined) => {
    if (hex) {
      const n = parseInt(hex, 16);
      return n === 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? "\ufffd" : String.fromCodePoint(n);
    }
    return ch === "\n" ? "" : (ch ?? "");
  });
}

const URL_RE = /url\(\s*(?:"((?:[^"\\\n]|\\[\s\S])*)"|'((?:[^'\\\n]|\\[\s\S])*)'|((?:[^\s"'()\\]|\\[\s\S])*))\s*\)/gi;
/**
 * Functions whose arguments may name an image by a bare string, not only by
 * url(): image-set() and -webkit-image-set() (CSS Images 4 §2.2), image()
 * (§3.2), src() (CSS Values 5 §4.5.2), cross-fade() (§2.6).
 */
const IMAGE_FN_RE = /(?:-webkit-)?(?:image-set|image|src|cross-fade)\(/gi;

/** Replaces each call of the functions IMAGE_FN_RE finds (balanced parentheses, strings skipped). */
function replaceImageFunctions(css: string, fn: (call: string) => string): string {
  let out = "";
  let last = 0;
  IMAGE_FN_RE.lastIndex = 0;
  for (let m = IMAGE_FN_RE.exec(css); m; m = IMAGE_FN_RE.exec(css)) {
    // Only a function name, not the tail of an identifier such as "background-image(".
    if (m.index > 0 && /[\w-]/.test(css[m.index - 1]!)) continue;
    let depth = 0;
    let i = m.index + m[0].length - 1;
    let quote = "";
    for (; i < css.length; i++) {
      const ch = css[i]!;
      if (quote) {
        if (ch === "\\") i++;
        else if (ch === quote) quote = "";
      } else if (ch === '"' || ch === "'") quote = ch;
      else if (ch === "\\") i++;
      else if (ch === "(") depth++;
      else if (ch === ")" && --depth === 0) break;
    }
    const end = Math.min(css.length, i + 1);
    out += css.slice(last, m.index) + fn(css.slice(m.index, end));
    last = end;
    IMAGE_FN_RE.lastIndex = end;
  }
  return out + css.slice(last);
}

/**
 * Rewrites the images of canonical CSS text: data: and known cid: stay,
 * remote ones stay only once the user allowed them, anything else goes.
 * The frame's own policy enforces the same; this counts what was held back
 * (for the "pictures are hidden" banner) and keeps cid: pictures working.
 */
function rewriteImages(css: string): string {
  const s = state!;
  const url = (raw: string): string => {
    const u = unescapeCss(raw).trim();
    if (/^data:image\//i.test(u)) return `url("${u.replace(/["\\\n]/g, encodeURIComponent)}")`;
    if (/^cid:/i.test(u)) {
      const d = s.opts.cid.get(safeDecode(u.slice(4)));
      return d ? `url("${d}")` : "none";
    }
    if (isRemote(u)) {
      if (s.opts.allowRemote) return `url("${u.replace(/["\\\n]/g, encodeURIComponent)}")`;
      s.blocked++;
      return "none";
    }
    return "none";
  };
  let out = replaceImageFunctions(css, (call) => {
    if (s.opts.allowRemote) return call.replace(URL_RE, (_m, a?: string, b?: string, c?: string) => url(a ?? b ?? c ?? ""));
    // Held back whole: a candidate may be a bare string, which the url() filter would not see.
    s.blocked++;
    return "none";
  });
  let seen = 0;
  let rewritten = 0;
  out = out.replace(URL_RE, (_m, a?: string, b?: string, c?: string) => {
    rewritten++;
    return url(a ?? b ?? c ?? "");
  });
  // Fail closed: a url( the pattern did not understand drops the whole text.
  out.replace(/url\(/gi, () => {
    seen++;
    return "";
  });
  return seen > rewritten * 2 ? "" : out;
}

/** A <style> block for the frame: parsed by the browser, then its images rewritten. */
function cleanSheet(css: string): string {
  const s = state!;
  if (/@import/i.test(unescapeCss(css))) s.blocked++;
  const canonical = canonicalSheet(css);
  return canonical === null ? "" : rewriteImages(canonical);
}

/**
 * Inline properties the composer keeps: text and box formatting that stays
 * inside the editor (which clips what overflows). No position, z-index,
 * transform, float, content, cursor, filter or any image, so quoted mail can
 * neither cover the app nor load anything.
 */
const EDITOR_STYLE = new Set([
  "color", "background-color", "font-family", "font-size", "font-style", "font-weight", "font-variant",
  "text-decoration", "text-decoration-line", "text-decoration-color", "text-decoration-style", "text-align", "text-indent", "text-transform",
  "line-height", "letter-spacing", "word-spacing", "white-space", "vertical-align", "direction",
  "margin-top", "margin-right", "margin-bottom", "margin-left", "padding-top", "padding-right", "padding-bottom", "padding-left",
  "border-top-width", "border-right-width", "border-bottom-width", "border-left-width",
  "border-top-style", "border-right-style", "border-bottom-style", "border-left-style",
  "border-top-color", "border-right-color", "border-bottom-color", "border-left-color",
  "border-collapse", "border-spacing", "width", "max-width", "min-width", "list-style-type",
]);
/** A value is kept only if it calls no function but a colour one: no url(), image-set(), var(), attr(), env(), escapes. */
function harmlessValue(v: string): boolean {
  if (/[\\@<>{};]/.test(v)) return false;
  return !v.replace(/\b(?:rgba?|hsla?)\([^()]*\)/gi, "").includes("(");
}

/** Classes our own compose templates use; nothing in app.css styles them. */
const EDITOR_CLASSES = new Set(["pb-quote-head", "pb-fwd-head", "pb-signature"]);

function editorStyle(node: Element): string {
  const decl = (node as HTMLElement).style as CSSStyleDeclaration | undefined;
  if (!decl) return "";
  const out: string[] = [];
  for (let i = 0; i < decl.length; i++) {
    const prop = decl[i]!;
    const value = decl.getPropertyValue(prop).trim();
    // !important is dropped with the rest: the app's own rules must win.
    if (EDITOR_STYLE.has(prop) && value && harmlessValue(value)) out.push(`${prop}: ${value}`);
  }
  return out.join("; ");
}

function hookElement(node: Node): void {
  if (node.nodeName === "STYLE" && state!.mode === "frame") node.textContent = cleanSheet(node.textContent ?? "");
}

function hookAttributes(node: Element): void {
  const s = state!;
  if (s.mode === "editor") {
    // Nothing of the message may match or clobber the app's selectors and ids (DOM clobbering via id/name).
    node.removeAttribute("id");
    node.removeAttribute("name");
    if (node.hasAttribute("class")) {
      const keep = (node.getAttribute("class") ?? "").split(/\s+/).filter((c) => EDITOR_CLASSES.has(c));
      if (keep.length) node.setAttribute("class", keep.join(" "));
      else node.removeAttribute("class");
    }
  }
  if (node.hasAttribute("style")) {
    let v = "";
    if (s.mode === "editor") v = editorStyle(node);
    else {
      // The browser's own reading of the attribute (escapes resolved), so the rewrite sees every url().
      const decl = (node as HTMLElement).style as CSSStyleDeclaration | undefined;
      v = decl ? rewriteImages(decl.cssText) : "";
    }
    if (v) node.setAttribute("style", v);
    else node.removeAttribute("style");
  }
  if (node.hasAttribute("background")) {
    const bg = node.getAttribute("background") ?? "";
    node.removeAttribute("background");
    if (isRemote(bg)) {
      if (s.opts.allowRemote) node.setAttribute("background", bg);
      else s.blocked++;
    }
  }
  const tag = node.nodeName;
  if (tag === "A" || tag === "AREA") {
    const href = node.getAttribute("href") ?? "";
    if (href && !/^(https?:|mailto:|tel:)/i.test(href.trim())) node.removeAttribute("href");
    node.setAttribute("target", "_blank");
    node.setAttribute("rel", "noopener noreferrer");
  }
  if (tag === "IMG") {
    const src = (node.getAttribute("src") ?? "").trim();
    node.removeAttribute("src");
    if (/^cid:/i.test(src)) {
      const id = safeDecode(src.slice(4));
      const d = s.opts.cid.get(id);
      if (d) {
        node.setAttribute("src", d);
        node.setAttribute("data-pb-cid", id);
      }
    } else if (/^data:image\//i.test(src)) {
      node.setAttribute("src", src);
    } else if (isRemote(src)) {
      if (s.opts.allowRemote) node.setAttribute("src", src.startsWith("//") ? "https:" + src : src);
      else {
        s.blocked++;
        node.setAttribute("data-pb-blocked", "1");
        node.setAttribute("data-pb-src", src);
        if (!node.getAttribute("alt")) node.setAttribute("alt", "[image]");
      }
    }
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function sanitizeMail(html: string, opts: SanitizeOptions): Sanitized {
  return sanitize(html, opts, "frame");
}

function sanitize(html: string, opts: SanitizeOptions, mode: Mode): Sanitized {
  state = { opts, blocked: 0, mode };
  DOMPurify.addHook("uponSanitizeElement", hookElement);
  DOMPurify.addHook("afterSanitizeAttributes", hookAttributes);
  try {
    const clean = DOMPurify.sanitize(html, {
      USE_PROFILES: { html: true },
      FORBID_TAGS: mode === "editor" ? [...FORBID_TAGS, "style"] : FORBID_TAGS,
      FORBID_ATTR,
      ALLOW_DATA_ATTR: false,
      ALLOW_UNKNOWN_PROTOCOLS: false,
      FORCE_BODY: true,
      WHOLE_DOCUMENT: false,
      // The frame keeps <style> (mail layouts depend on it; cleanSheet removed what could load); the editor never does.
      ADD_TAGS: mode === "frame" ? ["style"] : [],
    });
    return { html: String(clean), blocked: state.blocked };
  } finally {
    DOMPurify.removeHook("uponSanitizeElement");
    DOMPurify.removeHook("afterSanitizeAttributes");
    state = null;
  }
}

/** The frame document: our CSP first, then the sanitized body. */
export function frameDocument(body: string, allowRemote: boolean): string {
  const img = allowRemote ? "data: https: http:" : "data:";
  const csp = `default-src 'none'; img-src ${img}; style-src 'unsafe-inline'; font-src data:; form-action 'none'; base-uri 'none'; media-src 'none'; connect-src 'none'`;
  // Mail is written for a white page (its inline colours assume one), so the frame stays light in the dark theme too.
  const colors = "color:#1d1d1f;background:#fff;color-scheme:light";
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer"><style>html{${colors}}body{margin:0;padding:16px;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;overflow-wrap:anywhere}img{max-width:100%;height:auto}img[data-pb-blocked]{display:inline-block;min-width:20px;min-height:20px;outline:1px dashed #999}blockquote{margin:0 0 0 .5em;padding-left:.8em;border-left:3px solid #bbb}pre{white-space:pre-wrap}table{max-width:100%}</style></head><body>${body}</body></html>`;
}

/**
 * HTML for the composer (a contenteditable in the app page itself, so this
 * is stricter; issue 13 item 14): no <style>, class or id, only harmless
 * inline formatting (see EDITOR_STYLE), remote images parked in data-pb-src
 * so they do not load while editing and are restored when sending. Quoted
 * mail keeps its text, structure and basic formatting, not its layout CSS —
 * the trade Gmail and Roundcube make for quotes too.
 */
export function sanitizeForEditor(html: string, cid: Map<string, string>): string {
  return sanitize(html, { allowRemote: false, cid }, "editor").html;
}
