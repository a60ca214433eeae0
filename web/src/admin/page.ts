/** What every admin page gets and returns, and the hash routes main.ts draws them by. */
import type { AdminMe } from "../../../protocols/http/admin/api-types.ts";

export interface PageContext {
  me: AdminMe;
  /** The part after the section in the route, decoded (a domain name, an address), or null. */
  param: string | null;
  /** True once the user went to another page meanwhile (a late answer must not draw over it). */
  stale(): boolean;
  /** Draws the current page again from fresh data. */
  reload(): void;
}

/**
 * Draws into `root` (which shows "Loading…" until then). May return a function that stops what the
 * page keeps running (a refresh timer), called when the user leaves it. A thrown error is shown in words.
 */
export type Page = (root: HTMLElement, ctx: PageContext) => Promise<(() => void) | void>;

/** "#/accounts/bob%40example.org" -> { route: "accounts", param: "bob@example.org" }. */
export function parseRoute(hash: string): { route: string; param: string | null } {
  const parts = hash.replace(/^#\/?/, "").split("/");
  const route = parts[0] || "overview";
  let param: string | null = null;
  if (parts.length > 1 && parts[1]) {
    try {
      param = decodeURIComponent(parts.slice(1).join("/"));
    } catch {
      param = null; // a malformed escape: show the list instead
    }
  }
  return { route, param };
}
