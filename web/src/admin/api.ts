/**
 * The admin page's side of `/admin/api/*` (protocols/http/admin/api-types.ts):
 * one fetch wrapper that sends the CSRF token on every state-changing call,
 * turns a failure into a sentence a person understands (the server's own
 * `{ error }` words when it gave some) and types the answers.
 */
import { t } from "../i18n/index.ts";
import "../i18n/admin.ts";

export class AdminApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = "";

/** The token from GET /admin/api/me, sent as `X-CSRF-Token` with every POST, PATCH and DELETE. */
export function setCsrf(token: string): void {
  csrf = token;
}

/**
 * Where the browser goes when the session has ended: the sign-in form, then back to the admin's
 * current section. The form accepts only plain `/admin/...` paths (webmail/auth.ts safeNext), so the
 * section travels as a path (`/admin/queue`), which main.ts turns back into its `#/queue` route.
 */
export function signInUrl(): string {
  const section = /^#\/([a-z]+)/.exec(location.hash)?.[1];
  return "/login?next=" + encodeURIComponent(section ? `/admin/${section}` : "/admin");
}

/** An address or domain name as one path segment (api-types.ts: names in paths are URL-encoded). */
export function seg(s: string): string {
  return encodeURIComponent(s);
}

export async function api<T>(method: "GET" | "POST" | "PATCH" | "DELETE", path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (method !== "GET") headers["x-csrf-token"] = csrf;
  const init: RequestInit = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new AdminApiError(0, t("admin.net.offline"));
  }
  const type = res.headers.get("content-type") ?? "";
  const data: unknown = type.includes("application/json") ? await res.json().catch(() => null) : null;
  if (res.ok) return data as T;
  if (res.status === 401) {
    location.href = signInUrl();
    throw new AdminApiError(401, t("admin.net.signedOut"));
  }
  const words = data && typeof data === "object" && typeof (data as { error?: unknown }).error === "string" ? (data as { error: string }).error : "";
  throw new AdminApiError(res.status, words || plainStatus(res.status));
}

function plainStatus(status: number): string {
  if (status === 403) return t("admin.net.forbidden");
  if (status === 404) return t("admin.net.notFound");
  if (status === 413) return t("admin.net.tooLarge");
  if (status === 429) return t("admin.net.tooMany");
  if (status >= 500) return t("admin.net.server");
  return t("admin.net.status", { status });
}
