/**
 * RFC 5228 §2.4.2.4 encoded-character: "${hex:41 42}" and "${unicode:1F600}"
 * inside strings, decoded at compile time when the script requires
 * "encoded-character". A sequence that does not follow the grammar is left as
 * written; a code point outside Unicode, or hex octets that are not UTF-8, is
 * an error.
 */
import { SieveSyntaxError, shown } from "./lexer.ts";

// ${hex: <hex-pair-seq>} / ${unicode: <unicode-hex-seq>}; blank = WSP / CRLF
const ENCODED = /\$\{(hex|unicode):([\s0-9a-fA-F]*)\}/gi;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeEncodedCharacters(s: string, line: number): string {
  if (!s.includes("${")) return s;
  return s.replace(ENCODED, (whole, kind: string, body: string) => {
    if (/[^ \t\r\n0-9a-fA-F]/.test(body)) return whole;
    const items = body.trim().split(/[ \t\r\n]+/).filter((x) => x.length > 0);
    if (items.length === 0) return whole;
    if (kind.toLowerCase() === "hex") {
      if (items.some((h) => h.length > 2)) return whole;
      const bytes = Uint8Array.from(items, (h) => parseInt(h, 16));
      try {
        return utf8.decode(bytes);
      } catch {
        throw new SieveSyntaxError(line, `\${hex:${shown(body.trim())}} is not valid UTF-8`);
      }
    }
    let out = "";
    for (const h of items) {
      const cp = h.replace(/^0+(?=.)/, "").length > 6 ? Infinity : parseInt(h, 16);
      // RFC 5228 §2.4.2.4: only 0..D7FF and E000..10FFFF are characters
      if (!(cp <= 0x10ffff) || (cp >= 0xd800 && cp <= 0xdfff)) throw new SieveSyntaxError(line, `\${unicode:${shown(h)}} is not a Unicode character`);
      out += String.fromCodePoint(cp);
    }
    return out;
  });
}
