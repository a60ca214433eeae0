/**
 * The client side of the JSON API: one fetch wrapper that adds the CSRF
 * token, turns failures into messages a person understands, and types the
 * answers.
 */
import { keyForEnglish, lang, t } from "./i18n/index.ts";
import "./i18n/mail.ts";

export interface Session {
  accountId: number;
  email: string;
  displayName: string;
  csrf: string;
  maxMessageSize: number;
  expiresAt: number;
  /** The account may use the web admin at /admin. */
  admin: boolean;
}

export interface FolderInfo {
  id: number;
  name: string;
  parentId: number | null;
  specialUse: string | null;
  subscribed: boolean;
  total: number;
  unread: number;
  size: number;
}

export interface Row {
  id: number;
  uid: number;
  folderId?: number;
  /** Search results: the folder's display name. */
  folderName?: string;
  flags: string[];
  date: number;
  internalDate: number;
  size: number;
  subject: string;
  fromName: string;
  fromAddr: string;
  toAddr: string;
  preview: string;
  hasAttachment: boolean;
  threadId: number;
  threadCount: number;
  threadUnread: number;
}

// The server's own shapes (type-only: nothing of the server enters the bundle).
import type { Person, AttachmentInfo, MessageView, Identity } from "../../protocols/http/webmail/api-types.ts";
export type { Person, AttachmentInfo, Identity };

/** One message as the reading pane gets it (the server's shape). */
export type Message = MessageView;

export type AttachmentRef = { upload: string } | { message: number; index: number } | { forward: number };

export interface ComposeTemplate {
  draftId: number | null;
  to: string;
  cc: string;
  bcc: string;
  subject: string;
  html: string | null;
  text: string;
  inReplyTo: string | null;
  references: string[];
  attachments: { ref: AttachmentRef; name: string; size: number; type: string; inline: boolean }[];
  source: { id: number; mode: "reply" | "forward" } | null;
  /** The user's own address the original was sent to (reply/forward): the identity to answer from. */
  identity?: string | null;
}

export interface Settings {
  email: string;
  displayName: string;
  signature: string;
  oof: { enabled: boolean; subject: string; body: string; start?: number; end?: number };
  sendAs: string[];
  trustedImageSenders?: string[];
  /** One per address in sendAs, with its From name and HTML signature. */
  identities: Identity[];
  defaultIdentity: string;
  /** Interface language: "en" | "de" | "fr" | "es", or "" to follow the browser. */
  language: string;
  /** IANA time zone for dates and the calendar; "" = the browser's. */
  timeZone: string;
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";
let onSignedOut: () => void = () => {
  location.href = "/login";
};

export function setCsrf(token: string): void {
  csrf = token;
}

/** The session's CSRF token, for the one form the app posts itself (the reading frame, reader.ts). */
export function csrfToken(): string {
  return csrf;
}

export function setSignedOutHandler(fn: () => void): void {
  onSignedOut = fn;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  let init: RequestInit = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init = { ...init, body: JSON.stringify(body) };
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "network", t("mail.net.offline"));
  }
  return handle<T>(res);
}

async function handle<T>(res: Response): Promise<T> {
  const type = res.headers.get("content-type") ?? "";
  const data = type.includes("application/json") ? await res.json().catch(() => null) : null;
  if (res.ok) return data as T;
  const code = (data && typeof data.error === "string" && data.error) || "http_" + res.status;
  const message = (data && typeof data.message === "string" && localized(data.message)) || plainStatus(res.status);
  if (res.status === 401) onSignedOut();
  throw new ApiError(res.status, code, message);
}

/**
 * The server writes its error messages in English; the ones the mail catalog knows (mail.err.*, the same
 * English sentence) are shown in the chosen language instead (item 12). Others stay as they are.
 */
function localized(message: string): string {
  if (lang() === "en") return message;
  const key = keyForEnglish("mail.err.", message);
  return key ? t(key) : message;
}

function plainStatus(status: number): string {
  if (status === 413) return t("mail.net.tooLarge");
  if (status === 429) return t("mail.net.tooMany");
  if (status >= 500) return t("mail.net.server");
  return t("mail.net.status", { status });
}

/** Multipart upload with progress (fetch has no upload progress; XHR does). */
export function upload(file: File, onProgress: (fraction: number) => void, signal?: AbortSignal): Promise<{ id: string; name: string; size: number; type: string }> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    xhr.setRequestHeader("x-csrf-token", csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) onProgress(e.loaded / e.total);
    };
    xhr.onload = () => {
      let data: { error?: string; message?: string } | null = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data as { id: string; name: string; size: number; type: string });
      else {
        if (xhr.status === 401) onSignedOut();
        reject(new ApiError(xhr.status, data?.error ?? "upload", data?.message ?? plainStatus(xhr.status)));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, "network", t("mail.net.uploadInterrupted")));
    xhr.onabort = () => reject(new ApiError(0, "aborted", t("mail.net.uploadCancelled")));
    signal?.addEventListener("abort", () => xhr.abort());
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
}

/** Fetches a binary resource of our own API (inline images) as a data: URL. */
export async function fetchDataUrl(path: string): Promise<string | null> {
  try {
    const res = await fetch(path, { credentials: "same-origin" });
    if (!res.ok) return null;
    const blob = await res.blob();
    return await new Promise<string>((resolve, reject) => {
      const r = new FileReader();
      r.onload = () => resolve(String(r.result));
      r.onerror = () => reject(r.error);
      r.readAsDataURL(blob);
    });
  } catch {
    return null;
  }
}

/**
 * A message's inline pictures (cid:, RFC 2392) as data: URLs for the sanitizer, for the reading pane
 * and the print view; at most 10 MB of pictures per message are fetched, larger ones stay out.
 */
export async function inlinePictures(msg: Pick<Message, "id" | "attachments">): Promise<Map<string, string>> {
  const cid = new Map<string, string>();
  let budget = 10 * 1024 * 1024;
  for (const a of msg.attachments) {
    if (!a.contentId || !a.type.startsWith("image/") || a.size > budget) continue;
    budget -= a.size;
    const url = await fetchDataUrl(`/api/messages/${msg.id}/attachments/${a.index}`);
    if (url && url.startsWith("data:image/")) cid.set(a.contentId, url);
  }
  return cid;
}
