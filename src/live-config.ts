/**
 * Live configuration changes (issue 18, found item 1): SIGHUP re-reads
 * pillarbox.toml (and the environment and flags `serve` was started with) and
 * applies what can change without rebinding a socket or reopening the store.
 *
 * The running server's Config object is updated in place, leaf by leaf, in one
 * synchronous step: every reader that looks a setting up when it needs it
 * (`ctx.config.hostname` in greetings, Received: fields, autoconfig answers,
 * the queue's EHLO; limits; the SMTP and IMAP settings ...) sees the new value
 * from its next use, and nothing sees half a change (JavaScript runs one
 * handler at a time). What needs a restart keeps its old value and is named.
 */
import type { Config } from "./config-types.ts";

/**
 * Settings that a running server cannot take without a restart: the sockets
 * (listeners), where the data lives (data dir, database) and what the store
 * takes when it opens (the change feed's retention). Turning ACME off
 * is one too, but the server decides that (src/server.ts reloadConfig): ACME
 * can be turned on while running.
 */
export const RESTART_ONLY: readonly string[] = ["dataDir", "databaseUrl", "databaseAuthToken", "changeRetentionDays", "workers", "listeners"];

export interface ConfigChange {
  /** Dotted paths of the settings now in effect with a new value, e.g. "hostname", "limits.maxMessageSize". */
  applied: string[];
  /** Dotted paths that changed in the file but keep their old value until a restart. */
  restartNeeded: string[];
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function restartOnly(path: string): boolean {
  return RESTART_ONLY.some((p) => path === p || path.startsWith(p + "."));
}

function same(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function clone<T>(v: T): T {
  return Array.isArray(v) ? (v.map((x) => clone(x)) as T) : isPlainObject(v) ? (Object.fromEntries(Object.entries(v).map(([k, x]) => [k, clone(x)])) as T) : v;
}

/**
 * Copies into `live` every setting of `next` that differs and may change at
 * run time; returns what was applied and what waits for a restart. A section
 * that restart-only settings live in (listeners) is compared as a whole.
 */
export function applyConfig(live: Config, next: Config): ConfigChange {
  const out: ConfigChange = { applied: [], restartNeeded: [] };
  const walk = (cur: Record<string, unknown>, nxt: Record<string, unknown>, prefix: string) => {
    for (const key of Object.keys(nxt)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const a = cur[key];
      const b = nxt[key];
      if (same(a, b)) continue;
      const section = isPlainObject(a) && isPlainObject(b);
      if (restartOnly(path)) {
        // One line per listener ("listeners.SMTP"), not the whole section.
        if (section && path === "listeners") walk(a, b, path);
        else out.restartNeeded.push(path);
        continue;
      }
      if (section) {
        walk(a, b, path);
        continue;
      }
      cur[key] = clone(b);
      out.applied.push(path);
    }
  };
  walk(live as unknown as Record<string, unknown>, next as unknown as Record<string, unknown>, "");
  return out;
}
