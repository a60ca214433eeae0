/**
 * MIME heuristics: executable attachments (the Windows and script types mail
 * clients run on a double-click, and the "invoice.pdf.exe" double extension
 * that hides them), charset tricks (8-bit text with no declared charset,
 * RFC 2045 §6.2 / RFC 2046 §4.1.2), HTML-only mail with almost no text, and a
 * MIME tree too large to read.
 */
import { decodeWords, htmlToText } from "../../mail/index.ts";
import type { SpamSymbol } from "./types.ts";
import type { ScanView } from "./scan.ts";

export const MIME_SCORES = {
  EXECUTABLE_ATTACHMENT: 3.5,
  DOUBLE_EXTENSION: 2.0,
  // 0.3: on the benchmark's training half 11 spam, 20 ham (old mail programs): a weak hint only
  MIME_8BIT_NO_CHARSET: 0.3,
  MIME_HTML_ONLY: 0.3,
  HTML_SHORT_TEXT: 1.0,
  MIME_TOO_MANY_PARTS: 1.0,
} as const;

/** Extensions Windows (and the Java / script hosts) execute when opened. */
export const EXECUTABLE_EXTENSIONS = ["exe", "scr", "js", "vbs", "vbe", "bat", "cmd", "com", "pif", "jar", "lnk", "hta", "msi", "wsf", "cpl", "ps1"];
/** What a disguised executable pretends to be. */
const DOCUMENT_EXTENSIONS = ["pdf", "doc", "docx", "xls", "xlsx", "txt", "jpg", "jpeg", "png", "gif", "zip", "rtf", "htm", "html", "odt"];

function extensionsOf(name: string): string[] {
  // Trailing dots and blanks are dropped by Windows ("a.exe." runs as a.exe).
  const clean = name.trim().replace(/[.\s]+$/, "").toLowerCase();
  return clean.split(".").slice(1).slice(-3);
}

export function mimeRules(view: ScanView): SpamSymbol[] {
  const out: SpamSymbol[] = [];
  let exe: string | null = null;
  let double: string | null = null;
  let undeclared = false;
  for (const leaf of view.leaves) {
    if (leaf.filename) {
      const name = decodeWords(leaf.filename.slice(0, 512));
      const ext = extensionsOf(name);
      const last = ext[ext.length - 1];
      if (last && EXECUTABLE_EXTENSIONS.includes(last)) {
        exe ??= name.slice(0, 100);
        const before = ext[ext.length - 2];
        if (before && DOCUMENT_EXTENSIONS.includes(before)) double ??= name.slice(0, 100);
      }
    }
    if (leaf.type === "text" && leaf.eightBit && !leaf.charset && leaf.encoding !== "base64" && leaf.encoding !== "quoted-printable") undeclared = true;
  }
  if (exe) out.push({ name: "EXECUTABLE_ATTACHMENT", score: MIME_SCORES.EXECUTABLE_ATTACHMENT, detail: `attachment ${exe}` });
  if (double) out.push({ name: "DOUBLE_EXTENSION", score: MIME_SCORES.DOUBLE_EXTENSION, detail: `disguised as a document: ${double}` });
  if (undeclared) out.push({ name: "MIME_8BIT_NO_CHARSET", score: MIME_SCORES.MIME_8BIT_NO_CHARSET, detail: "8-bit text without a declared charset" });
  const hasPlain = view.leaves.some((l) => l.type === "text" && l.subtype === "plain" && !l.attachment);
  const hasHtml = view.leaves.some((l) => l.type === "text" && l.subtype === "html" && !l.attachment);
  if (hasHtml && !hasPlain) {
    out.push({ name: "MIME_HTML_ONLY", score: MIME_SCORES.MIME_HTML_ONLY });
    const visible = htmlToText(view.html.slice(0, 100_000)).replace(/\s+/g, "");
    if (visible.length < 30 && /<(a|img)\b/i.test(view.html)) out.push({ name: "HTML_SHORT_TEXT", score: MIME_SCORES.HTML_SHORT_TEXT, detail: "HTML with links or images and almost no text" });
  }
  if (view.truncatedParts) out.push({ name: "MIME_TOO_MANY_PARTS", score: MIME_SCORES.MIME_TOO_MANY_PARTS });
  return out;
}
