/**
 * The one path from log lines to the admin's activity log: a Logger that
 * passes every call on unchanged and, for a line whose fields carry a `kind`
 * (delivery, rejection, login, login-failed, outbound, admin, system), also
 * hands an ActivityEntry to the recorder (./activity.ts). Code that wants an
 * entry just logs with a kind, e.g. `log.info("admin action", { kind:
 * "admin", account, action, target })`; the JSON line on stderr stays the
 * record of truth. Entries are recorded whatever the log level (the admin's
 * view does not depend on how verbose stderr is).
 */
import type { Logger, LogLevel } from "./log.ts";
import type { ActivityEntry, ActivityKind } from "./ops/types.ts";
import { ACTIVITY_KINDS } from "./activity.ts";

const MAX_FIELDS = 40;
const MAX_STRING = 500;
/** The logger's own rule (src/log.ts): such keys never carry their value anywhere. */
const SECRET_KEY = /pass(word)?|secret|token/i;
/** Fields lifted into the entry itself, or of no use in it. */
const LIFTED = new Set(["kind", "protocol", "proto", "account", "user", "ip", "ts", "level", "msg", "session", "stack"]);

function scalar(v: unknown): string | number | boolean | null | undefined {
  if (v === null) return null;
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (typeof v === "boolean") return v;
  if (typeof v === "string") return v.length > MAX_STRING ? v.slice(0, MAX_STRING) + "…" : v;
  if (v instanceof Error) return scalar(v.message);
  return undefined; // objects and arrays stay on the JSON line only
}

/** The entry for one log call, or null when the line names no (known) kind. */
export function entryFromLine(level: LogLevel, msg: string, f: Record<string, unknown>, ts = Date.now()): ActivityEntry | null {
  const kind = f.kind;
  if (typeof kind !== "string" || !ACTIVITY_KINDS.has(kind as ActivityKind)) return null;
  const fields: ActivityEntry["fields"] = {};
  let n = 0;
  for (const [k, v] of Object.entries(f)) {
    if (LIFTED.has(k) || n >= MAX_FIELDS) continue;
    const s = SECRET_KEY.test(k) ? "[redacted]" : scalar(v);
    if (s === undefined) continue;
    fields[k] = s;
    n++;
  }
  const str = (v: unknown) => (typeof v === "string" && v ? v.slice(0, MAX_STRING) : undefined);
  const entry: ActivityEntry = { ts, kind: kind as ActivityKind, level: level === "debug" ? "info" : level, msg: msg.slice(0, MAX_STRING), fields };
  const protocol = str(f.protocol) ?? str(f.proto);
  const account = str(f.account) ?? str(f.user);
  const ip = str(f.ip);
  if (protocol) entry.protocol = protocol;
  if (account) entry.account = account;
  if (ip) entry.ip = ip;
  return entry;
}

/**
 * A child keeps a reference to its own fields and its parent rather than a
 * merged copy: child loggers are made per connection and per request (an
 * ActiveSync Ping may be held for an hour), and the merge is needed only for
 * the few lines that carry a kind.
 */
class TapLogger implements Logger {
  private readonly baseHasKind: boolean;
  constructor(
    private readonly inner: Logger,
    private readonly parent: TapLogger | null,
    private readonly own: Record<string, unknown> | null,
    private readonly sink: (e: ActivityEntry) => void,
  ) {
    this.baseHasKind = (own?.kind !== undefined) || (parent?.baseHasKind ?? false);
  }

  private base(): Record<string, unknown> {
    return { ...(this.parent ? this.parent.base() : {}), ...this.own };
  }

  private tap(level: LogLevel, msg: string, f: Record<string, unknown> | undefined): void {
    if (f?.kind === undefined && !this.baseHasKind) return;
    try {
      const e = entryFromLine(level, msg, { ...this.base(), ...f });
      if (e) this.sink(e);
    } catch {
      // The activity view must never break the code that logs.
    }
  }
  debug(m: string, f?: Record<string, unknown>): void {
    this.inner.debug(m, f);
    this.tap("debug", m, f);
  }
  info(m: string, f?: Record<string, unknown>): void {
    this.inner.info(m, f);
    this.tap("info", m, f);
  }
  warn(m: string, f?: Record<string, unknown>): void {
    this.inner.warn(m, f);
    this.tap("warn", m, f);
  }
  error(m: string, f?: Record<string, unknown>): void {
    this.inner.error(m, f);
    this.tap("error", m, f);
  }
  child(f: Record<string, unknown>): Logger {
    return new TapLogger(this.inner.child(f), this, f, this.sink);
  }
  setLevel(level: LogLevel): void {
    this.inner.setLevel?.(level);
  }
}

/** `inner` with every line that names a kind also recorded by `sink`. */
export function activityLogger(inner: Logger, sink: (e: ActivityEntry) => void): Logger {
  return new TapLogger(inner, null, null, sink);
}
