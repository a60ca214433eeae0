/**
 * Command-line parsing shared by every command: `--name=value`,
 * `--name value` (for options that take a value), boolean `--flag`, `--` ends
 * options. Usage mistakes raise UsageError (exit code 2).
 */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose --help to suggest, e.g. "user add". */
    public command?: string,
  ) {
    super(message);
    this.name = "UsageError";
  }
}

/** A failure while running a valid command (exit code 1). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CliError";
  }
}

export interface OptionSpec {
  /** Takes a value (`--name=VALUE` or `--name VALUE`); otherwise a boolean switch. */
  value?: boolean;
  /** Placeholder for help, e.g. "FILE". */
  arg?: string;
  help: string;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | true>;
}

/**
 * Parses argv against `specs`. Unknown options are errors unless
 * `allowUnknown` returns true for them (serve takes every config flag).
 */
export function parseArgs(argv: string[], specs: Record<string, OptionSpec>, command: string, allowUnknown?: (name: string) => boolean): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--") && a.length > 2) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      const spec = specs[name];
      const takesValue = spec ? spec.value === true : allowUnknown?.(name) ? true : undefined;
      if (takesValue === undefined) throw new UsageError(`unknown option --${name}`, command);
      if (takesValue) {
        let v: string | undefined = eq >= 0 ? a.slice(eq + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option --${name} needs a value`, command);
        options[name] = v;
      } else {
        if (eq >= 0) throw new UsageError(`option --${name} takes no value`, command);
        options[name] = true;
      }
      continue;
    }
    if (a.startsWith("-") && a.length > 1 && a !== "-") {
      if (a === "-h") {
        options["help"] = true;
        continue;
      }
      throw new UsageError(`unknown option ${a}`, command);
    }
    positionals.push(a);
  }
  return { positionals, options };
}
