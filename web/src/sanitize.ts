/**
 * Making mail HTML safe to show. Three layers, each enough on its own for
 * scripts:
 *  1. DOMPurify with the HTML profile only (no SVG/MathML), forms, frames,
 *     embeds, media, meta/base/link removed, and hooks below that rewrite
 *     URLs: links open in a new tab with noopener/noreferrer, `cid:` images
 *     become data: URLs from our own API, remote images and CSS url()s are
 *     parked until the user allows them;
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

let state: { opts: SanitizeOptions; blocked: number } | null = null;

function isRemote(u: string): boolean {
  return /^\s*(https?:)?\/\//i.test(u);
}

/** Rewrites url(...) inside CSS text: data: and known cid: stay, remote go unless allowed, anything else goes. */
function cleanCss(css: string): string {
  const s = state!;
  let out = css
    // Legacy script-in-CSS vectors (IE expression(), XBL bindings, behaviours): dropped whatever the browser.
    .replace(/expression\s*\(/gi, "blocked(")
    .replace(/-moz-binding|behavior\s*:/gi, "x-blocked:")
    // @import pulls in more CSS from anywhere (and the frame CSP would refuse it anyway).
    .replace(/@import[^;]*;?/gi, () => {
      s.blocked++;
      return "";
    });
  out = out.replace(/url\s*\(\s*(['"]?)(.*?)\1\s*\)/gi, (_m, _q: string, raw: string) => {
    const u = raw.trim();
    if (/^data:image\//i.test(u)) return `url("${u.replace(/"/g, "%22")}")`;
    if (/^cid:/i.test(u)) {
      const d = s.opts.cid.get(decodeURIComponent(u.slice(4)));
      return d ? `url("${d}")` : "none";
    }
    if (isRemote(u)) {
      if (s.opts.allowRemote) return `url("${u.replace(/"/g, "%22")}")`;
      s.blocked++;
      return "none";
    }
    return "none";
  });
  return out;
}

function hookElement(node: Node): void {
  if (node.nodeName === "STYLE" && node.textContent) node.textContent = cleanCss(node.textContent);
}

function hookAttributes(node: Element): void {
  const s = state!;
  if (node.hasAttribute("style")) {
    const v = cleanCss(node.getAttribute("style") ?? "");
    node.setAttribute("style", v);
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
  state = { opts, blocked: 0 };
  DOMPurify.addHook("uponSanitizeElement", hookElement);
  DOMPurify.addHook("afterSanitizeAttributes", hookAttributes);
  try {
    const clean = DOMPurify.sanitize(html, {
      USE_PROFILES: { html: true },
      FORBID_TAGS,
      FORBID_ATTR,
      ALLOW_DATA_ATTR: false,
      ALLOW_UNKNOWN_PROTOCOLS: false,
      FORCE_BODY: true,
      WHOLE_DOCUMENT: false,
      // Keep <style>: mail layouts depend on it; cleanCss removed what could load or run.
      ADD_TAGS: ["style"],
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
 * is stricter): the same sanitizer, remote images parked in data-pb-src so
 * they do not load while editing and are restored when sending.
 */
export function sanitizeForEditor(html: string, cid: Map<string, string>): string {
  const { html: clean } = sanitizeMail(html, { allowRemote: false, cid });
  return clean;
}
