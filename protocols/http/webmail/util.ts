/** Small helpers shared by the webmail routes: errors in plain words, cookies, downloads. */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { QuotaExceededError, StorageFullError, StoreError } from "../../../storage/api.ts";
import { SubmitError } from "../../../src/delivery/submit.ts";
import { AddressError } from "./mime.ts";
import type { AppEnv } from "../types.ts";

/** A user-facing failure: `message` is shown to the person as is, so it is written for them. */
export class ApiError extends Error {
  constructor(
    public readonly status: ContentfulStatusCode,
    public readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function apiError(c: Context<AppEnv>, status: ContentfulStatusCode, code: string, message: string, extra?: Record<string, unknown>): Response {
  return c.json({ error: code, message, ...extra }, status, { "cache-control": "no-store" });
}

/** Maps store/submit errors to words a person understands; anything else is an internal error (logged, not shown). */
export function toApiError(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof AddressError) return new ApiError(400, "bad_address", `${err.message}. Check the recipients and try again.`);
  if (err instanceof QuotaExceededError) return new ApiError(507, "quota", "The mailbox is full. Delete some messages (and empty the Trash), then try again.");
  if (err instanceof StorageFullError) return new ApiError(507, "storage_full", "The server is out of disk space. Please tell your administrator; try again later.");
  if (err instanceof StoreError) {
    const msg: Record<StoreError["code"], string> = {
      NONEXISTENT: "That folder or message no longer exists. It may have been moved or deleted from another device.",
      ALREADYEXISTS: "A folder with that name already exists.",
      CANNOT: "That can't be done: " + err.message,
      INUSE: "That folder is busy right now. Try again in a moment.",
      LIMIT: "That goes over a server limit: " + err.message,
      INVALID: "That name or value is not allowed: " + err.message,
      WRONG_CLASS: "That folder holds another kind of item: " + err.message,
      MODIFIED: "That item was changed elsewhere meanwhile. Reload it and try again.",
    };
    const status = err.code === "NONEXISTENT" ? 404 : err.code === "ALREADYEXISTS" || err.code === "INUSE" ? 409 : 400;
    return new ApiError(status, err.code.toLowerCase(), msg[err.code]);
  }
  if (err instanceof SubmitError) {
    const msg: Record<SubmitError["code"], string> = {
      SENDER: "You are not allowed to send from that address.",
      RECIPIENT: "The message could not be sent to one of the recipients: " + err.message,
      QUOTA: "The message could not be delivered because a mailbox is full.",
      SIZE: "The message is too large to send. Remove or shrink some attachments.",
      TEMP: "The message could not be sent right now. It has not been lost: try again in a moment.",
    };
    return new ApiError(err.code === "TEMP" ? 503 : 400, "submit_" + err.code.toLowerCase(), msg[err.code]);
  }
  return null;
}

/** RFC 6266 §4.3 + RFC 8187: an ASCII fallback and the exact UTF-8 name in filename*. */
export function contentDisposition(kind: "attachment" | "inline", filename: string): string {
  const clean = filename.replace(/[\u0000-\u001f\u007f/\\]/g, "_").slice(0, 200) || "download";
  const ascii = clean.replace(/[^\x20-\x7e]/g, "_").replace(/["%]/g, "_");
  const star = encodeURIComponent(clean).replace(/['()*]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase());
  return `${kind}; filename="${ascii}"; filename*=UTF-8''${star}`;
}

/** A MIME type safe to echo in Content-Type: a plain type/subtype token, else octet-stream. */
export function safeContentType(t: string | null | undefined): string {
  const v = (t ?? "").toLowerCase().trim();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/.test(v) ? v : "application/octet-stream";
}

/**
 * Types an attachment may keep when served from the app's origin: formats a
 * browser only ever displays (raster images, PDF in its own viewer, plain
 * text) and that no browser runs as script or as a document with script.
 * Everything else — text/html, text/javascript, image/svg+xml,
 * application/xhtml+xml, text/xml, text/css, multipart/x-mixed-replace,
 * unknown types — goes out as application/octet-stream, the type RFC 2046
 * §4.5.1 gives data with no known interpretation. Gmail and Outlook on the
 * web serve attachments the same way (a download of opaque bytes).
 */
const INERT_ATTACHMENT_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/gif",
  "image/webp",
  "image/avif",
  "image/bmp",
  "image/x-icon",
  "image/vnd.microsoft.icon",
  "application/pdf",
  "text/plain",
]);

/** The Content-Type an attachment is served with: its own if inert, else octet-stream (see INERT_ATTACHMENT_TYPES). */
export function attachmentContentType(type: string | null | undefined, charset?: string | null): string {
  const t = safeContentType(type);
  if (!INERT_ATTACHMENT_TYPES.has(t)) return "application/octet-stream";
  if (t === "text/plain") {
    // RFC 2046 §4.1.2: the charset parameter names the text's encoding; only a plain token is echoed.
    const cs = (charset ?? "").trim().toLowerCase();
    return `text/plain; charset=${/^[a-z0-9][a-z0-9_.:+-]{0,39}$/.test(cs) ? cs : "utf-8"}`;
  }
  return t;
}

export function intParam(v: string | undefined, def: number, min: number, max: number): number {
  const n = v === undefined || v === "" ? def : Number(v);
  if (!Number.isFinite(n)) return def;
  return Math.min(max, Math.max(min, Math.trunc(n)));
}

/** Reads a JSON object body with a size limit; a malformed body, or one that is not an object, is a 400 in words, not a crash. */
export async function readJson<T>(c: Context<AppEnv>, maxBytes = 1024 * 1024): Promise<T> {
  const len = Number(c.req.header("content-length") ?? "0");
  if (len > maxBytes) throw new ApiError(413, "too_large", "That request is too large.");
  const text = await c.req.text();
  if (text.length > maxBytes) throw new ApiError(413, "too_large", "That request is too large.");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ApiError(400, "bad_request", "The request could not be understood (invalid JSON).");
  }
  // Every route takes an object of named fields: null, a list or a bare value would otherwise reach
  // code that reads fields off it and fail as a server error instead of a client's mistake.
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ApiError(400, "bad_request", "The request must be a JSON object.");
  }
  return value as T;
}

export function isIdArray(v: unknown, max = 10_000): v is number[] {
  return Array.isArray(v) && v.length <= max && v.every((x) => Number.isSafeInteger(x) && x > 0);
}
