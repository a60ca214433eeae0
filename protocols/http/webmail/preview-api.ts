/**
 * Attachment previews and thumbnails (issue 17 item 13).
 *
 *   GET /api/messages/:id/attachments/:index/preview
 *
 * The download route (mail-api.ts) always answers `Content-Disposition:
 * attachment`. This route answers `inline`, and only for content that a
 * browser shows without running anything of the sender's: raster pictures
 * and PDF, recognised by their first bytes (the declared type is the
 * sender's claim; an HTML page labelled application/pdf is refused), and
 * SVG as a picture. Everything else, text/html first of all, is a 415: the
 * person downloads it instead.
 *
 * Each answer carries its own policy: CSP `sandbox` (CSP3 §6.3.2) puts the
 * document, if one is ever made of it (an SVG opened on its own), in an
 * opaque origin without scripts, so it can never reach the app;
 * `default-src 'none'` lets it load nothing; frame-ancestors 'self' lets
 * only our own page frame it. nosniff keeps the browser from reading the
 * bytes as anything else (Fetch §"X-Content-Type-Options"). A PDF is shown
 * by the browser's own viewer (Chromium: its wrapper page, the PDF drawn in
 * the viewer's extension origin); see web/src/preview.ts for why the frame
 * carries no sandbox attribute.
 *
 * Pictures are capped (MAX_PREVIEW_IMAGE): the browser decodes and scales
 * them for thumbnails, and a 200 MB picture should be downloaded, not
 * decoded in a mail page. PDF has no cap beyond the message size.
 */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import { ApiError, contentDisposition } from "./util.ts";
import { attachmentContent, ownedMessage, type ParsedCache } from "./mail-api.ts";
import type { ServerContext } from "../../../src/context.ts";

import { MAX_PREVIEW_IMAGE } from "./api-types.ts";

export const PREVIEW_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; frame-ancestors 'self'";

export type PreviewKind = "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/bmp" | "image/avif" | "image/svg+xml" | "application/pdf";

const startsWith = (b: Uint8Array, sig: number[], at = 0) => b.length >= at + sig.length && sig.every((x, i) => b[at + i] === x);
const ascii = (s: string) => [...s].map((ch) => ch.charCodeAt(0));

/**
 * What the bytes are, by their signature (the magic numbers of each
 * format's own spec: PNG §5.2, JFIF SOI marker, GIF87a/89a header, RIFF
 * WEBP, BMP "BM", ISO-BMFF `ftyp` with an AVIF brand, PDF 1.7 §7.5.2 header
 * within the first 1024 bytes), or null when it is none of them. SVG has
 * no signature: it counts only when the sender called it SVG (type or
 * `.svg` name) and it is XML with an <svg> root near the start.
 */
export function previewKind(bytes: Uint8Array, declaredType: string, filename: string): PreviewKind | null {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return "image/png";
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "image/jpeg";
  if (startsWith(bytes, ascii("GIF87a")) || startsWith(bytes, ascii("GIF89a"))) return "image/gif";
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "image/webp";
  if (startsWith(bytes, ascii("BM")) && bytes.length > 26) return "image/bmp";
  if (startsWith(bytes, ascii("ftyp"), 4) && (startsWith(bytes, ascii("avif"), 8) || startsWith(bytes, ascii("avis"), 8))) return "image/avif";
  const head = new TextDecoder("latin1").decode(bytes.subarray(0, 1024));
  if (head.includes("%PDF-")) return "application/pdf";
  const t = declaredType.toLowerCase();
  if ((t === "image/svg+xml" || /\.svg$/i.test(filename)) && /^(\ufeff|\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!doctype svg[^>]*>\s*)?<svg[\s>]/i.test(head)) return "image/svg+xml";
  return null;
}

export function mountPreviewApi(app: Hono<AppEnv>, deps: { ctx: ServerContext; parsed: ParsedCache }): void {
  app.get("/api/messages/:id/attachments/:index/preview", async (c) => {
    const m = await ownedMessage(deps.ctx, c.get("account"), Number(c.req.param("id")));
    const { info, bytes } = await attachmentContent(deps, m, Number(c.req.param("index")));
    const kind = previewKind(bytes, info.type, info.filename);
    if (!kind) throw new ApiError(415, "no_preview", "This file can't be shown here. Download it to open it.");
    if (kind !== "application/pdf" && bytes.byteLength > MAX_PREVIEW_IMAGE) {
      throw new ApiError(413, "too_large_preview", "This picture is too large to show here. Download it to open it.");
    }
    return new Response(bytes as Uint8Array<ArrayBuffer>, {
      headers: {
        "content-type": kind,
        // Inline only here, for the preview overlay; the download route stays an attachment (RFC 6266 §4.2).
        "content-disposition": contentDisposition("inline", info.filename),
        "content-length": String(bytes.byteLength),
        "cache-control": "private, max-age=3600",
        "x-content-type-options": "nosniff",
        "content-security-policy": PREVIEW_CSP,
        // RFC 7034: framed by our own page only (the security headers would otherwise add DENY).
        "x-frame-options": "SAMEORIGIN",
      },
    });
  });
}
