/**
 * The shape of a CLI command. Each command group lives in its own file in
 * src/cli/ and exports an array of commands; src/cli/commands.ts lists the
 * groups (add one import line there to add a group, e.g. `device`).
 */
import type { OptionSpec, ParsedArgs } from "./args.ts";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** All of stdin as text (for --password-stdin). */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  /**
   * Asks a question on the terminal and returns the answer line; null when standard input is
   * not a terminal (a script, a pipe): commands that need a confirmation then ask for --yes.
   */
  confirm?(question: string): Promise<string | null>;
}

export interface Command {
  /** Words after `pillarbox`, e.g. "user add" or "serve". */
  name: string;
  /** Argument synopsis after the name, e.g. "EMAIL [--password-stdin]". */
  usage: string;
  summary: string;
  /** Longer help text (optional). */
  help?: string;
  options?: Record<string, OptionSpec>;
  /** Positional argument count bounds. */
  args?: [min: number, max: number];
  /** Accept unknown --options with values (serve: every config setting). */
  allowUnknownOptions?: (name: string) => boolean;
  /** Not listed in `pillarbox --help`. */
  hidden?: boolean;
  /** Returns the exit code (default 0). */
  run(args: ParsedArgs, io: CliIO): Promise<number | void>;
}

/** Options every command that opens the data dir accepts. */
export const COMMON_OPTIONS: Record<string, OptionSpec> = {
  config: { value: true, arg: "FILE", help: "TOML config file (default: $PILLARBOX_CONFIG, else <data dir>/pillarbox.toml if present)" },
  "data-dir": { value: true, arg: "DIR", help: "data directory (default: $PILLARBOX_DATA_DIR or ./data)" },
  "database-url": { value: true, arg: "URL", help: "database URL (default: $PILLARBOX_DATABASE_URL or file:<data dir>/pillarbox.db)" },
};
