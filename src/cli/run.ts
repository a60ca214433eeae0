/**
 * The CLI dispatcher: finds the command, parses its arguments, prints help,
 * maps errors to exit codes (0 ok, 1 runtime error, 2 usage error) with the
 * message on stderr.
 */
import pkg from "../../package.json" with { type: "json" };
import { ConfigError } from "../config.ts";
import { StoreError } from "../../storage/api.ts";
import { DataDirError } from "../data-dir.ts";
import { CliError, parseArgs, UsageError, type OptionSpec } from "./args.ts";
import type { CliIO, Command } from "./command.ts";
import { commands } from "./commands.ts";
import { versionLine } from "../version.ts";

export const VERSION: string = pkg.version;

function optionLines(options: Record<string, OptionSpec> | undefined): string {
  const entries: [string, OptionSpec][] = Object.entries({ ...(options ?? {}), help: { help: "show this help" } });
  const left = entries.map(([n, s]) => `  --${n}${s.value ? ` ${s.arg ?? "VALUE"}` : ""}`);
  const w = Math.max(...left.map((l) => l.length)) + 2;
  return entries.map(([, s], i) => `${left[i]!.padEnd(w)}${s.help}`).join("\n");
}

export function commandHelp(c: Command): string {
  return `Usage: pillarbox ${c.name}${c.usage ? ` ${c.usage}` : ""}\n\n${c.summary}\n${c.help ? `\n${c.help}\n` : ""}\nOptions:\n${optionLines(c.options)}\n`;
}

function groupHelp(group: string, list: Command[]): string {
  const w = Math.max(...list.map((c) => c.name.length + (c.usage ? c.usage.length + 1 : 0)));
  return `Usage: pillarbox ${group} COMMAND\n\nCommands:\n${list
    .map((c) => `  pillarbox ${`${c.name}${c.usage ? ` ${c.usage}` : ""}`.padEnd(w)}  ${c.summary}`)
    .join("\n")}\n\nRun 'pillarbox ${group} COMMAND --help' for details.\n`;
}

export function mainHelp(): string {
  const visible = commands.filter((c) => !c.hidden);
  const w = Math.max(...visible.map((c) => c.name.length));
  return `Pillarbox ${VERSION}: one executable mail server (SMTP, IMAP, POP3, webmail, ActiveSync).

Usage: pillarbox COMMAND [ARGS] [OPTIONS]

Commands:
${visible.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join("\n")}

Global options:
  --help       help for any command, e.g. pillarbox user add --help
  --version    print the version

Admin commands take --data-dir DIR, --config FILE and --database-url URL (or the
PILLARBOX_* environment variables) and work while the server runs on the same data.
Exit codes: 0 success, 1 error, 2 usage error.
`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  try {
    if (argv.length === 0) {
      io.err(mainHelp());
      return 2;
    }
    const first = argv[0]!;
    if (first === "--help" || first === "-h" || first === "help") {
      const rest = argv.slice(1).filter((a) => !a.startsWith("-"));
      if (rest.length) return runCli([...rest, "--help"], io);
      io.out(mainHelp());
      return 0;
    }
    if (first === "--version" || first === "-V" || first === "version") {
      io.out(`${versionLine()}\n`);
      return 0;
    }
    const two = argv.length > 1 ? `${argv[0]} ${argv[1]}` : "";
    let cmd = commands.find((c) => c.name === two);
    let rest = argv.slice(2);
    if (!cmd) {
      cmd = commands.find((c) => c.name === first);
      rest = argv.slice(1);
    }
    if (!cmd) {
      const group = commands.filter((c) => c.name.startsWith(first + " "));
      if (group.length) {
        const wantsHelp = argv.slice(1).some((a) => a === "--help" || a === "-h");
        if (wantsHelp) {
          io.out(groupHelp(first, group));
          return 0;
        }
        io.err(argv[1] && !argv[1].startsWith("-") ? `pillarbox: unknown command '${first} ${argv[1]}'\n\n` : "");
        io.err(groupHelp(first, group));
        return 2;
      }
      throw new UsageError(`unknown command '${first}' (see pillarbox --help)`);
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      io.out(commandHelp(cmd));
      return 0;
    }
    const args = parseArgs(rest, cmd.options ?? {}, cmd.name, cmd.allowUnknownOptions);
    const [min, max] = cmd.args ?? [0, Infinity];
    if (args.positionals.length < min) throw new UsageError(`missing argument (usage: pillarbox ${cmd.name} ${cmd.usage})`, cmd.name);
    if (args.positionals.length > max) throw new UsageError(`too many arguments (usage: pillarbox ${cmd.name} ${cmd.usage})`, cmd.name);
    return (await cmd.run(args, io)) ?? 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`pillarbox: ${e.message}\n${e.command ? `Run 'pillarbox ${e.command} --help' for usage.\n` : ""}`);
      return 2;
    }
    if (e instanceof ConfigError) {
      io.err(`pillarbox: configuration error: ${e.message}\n`);
      return 2;
    }
    if (e instanceof CliError || e instanceof StoreError || e instanceof DataDirError) {
      io.err(`pillarbox: ${e.message}\n`);
      return 1;
    }
    io.err(`pillarbox: error: ${(e as Error)?.message ?? String(e)}\n`);
    if (io.env["PILLARBOX_DEBUG"]) io.err(`${(e as Error)?.stack ?? ""}\n`);
    return 1;
  }
}
