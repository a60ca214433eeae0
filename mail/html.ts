/**
 * Text to HTML for messages Pillarbox writes (reply and forward quotes, the
 * HTML alternative of a text body, auto-replies). The reverse direction,
 * HTML to text for the index and for quoting, is htmlToText in ./text.ts.
 */

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * Escapes the five characters that can end text or an attribute value (HTML
 * Living Standard §13.1.2.3/§13.1.2.5): safe inside element content and in
 * single- or double-quoted attributes alike.
 */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** Plain text as HTML: escaped, each line break (CRLF, LF or CR) a `<br>`. */
export function textToHtml(text: string, lineBreak = "<br>"): string {
  return escapeHtml(text).replace(/\r\n|\r|\n/g, lineBreak);
}
