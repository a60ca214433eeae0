/**
 * Structured logging: one JSON object per line on stderr (so stdout stays
 * for command output). Levels: debug < info < warn < error. Never pass a
 * password or secret in `fields`.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /**
   * Changes the level of this logger and of every logger made from it or
   * sharing its root (a live config reload, SIGHUP). Optional: test loggers
   * need not have it.
   */
  setLevel?(level: LogLevel): void;
}

export function createLogger(
  level: LogLevel = "info",
  base: Record<string, unknown> = {},
  sink: (line: string) => void = (l) => process.stderr.write(l + "\n"),
): Logger {
  return new JsonLogger({ min: ORDER[level] }, base, sink);
}

/**
 * Methods on the prototype, not closures per logger: a child logger is made
 * per request (ActiveSync), and one held per long poll should be a few fields.
 */
class JsonLogger implements Logger {
  constructor(
    /** Shared by the root and all its children, so setLevel reaches loggers already handed out. */
    private readonly level: { min: number },
    private readonly base: Record<string, unknown>,
    private readonly sink: (line: string) => void,
  ) {}

  private emit(lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[lvl] < this.level.min) return;
    const rec: Record<string, unknown> = { ts: new Date().toISOString(), level: lvl, msg, ...this.base, ...fields };
    for (const k of Object.keys(rec)) {
      const v = rec[k];
      if (v instanceof Error) rec[k] = v.message;
      if (/pass(word)?|secret|token/i.test(k)) rec[k] = "[redacted]";
    }
    this.sink(JSON.stringify(rec));
  }

  debug(m: string, f?: Record<string, unknown>): void {
    this.emit("debug", m, f);
  }
  info(m: string, f?: Record<string, unknown>): void {
    this.emit("info", m, f);
  }
  warn(m: string, f?: Record<string, unknown>): void {
    this.emit("warn", m, f);
  }
  error(m: string, f?: Record<string, unknown>): void {
    this.emit("error", m, f);
  }
  child(f: Record<string, unknown>): Logger {
    return new JsonLogger(this.level, { ...this.base, ...f }, this.sink);
  }
  setLevel(level: LogLevel): void {
    this.level.min = ORDER[level];
  }
}
