/**
 * `pillarbox sieve list|get|put|activate|deactivate|delete|check`: users'
 * Sieve scripts (issue 19), the same store ManageSieve (RFC 5804) and the
 * webmail rules use. `put` and `check` compile the script first and print
 * every error with its line number; nothing invalid is stored.
 * Exit codes: 0 done, 1 refused (invalid script, no such script or user, a
 * quota), 2 usage.
 */
import { readFileSync } from "node:fs";
import type { Account, MailStore } from "../../storage/api.ts";
import { StoreError } from "../../storage/api.ts";
import { compileSieve, formatSieveError } from "../sieve/index.ts";
import type { Config } from "../config-types.ts";
import { COMMON_OPTIONS, type CliIO, type Command } from "./command.ts";
import { checkEmail, CliError, configFromArgs, table, withStore } from "./common.ts";

async function account(store: MailStore, email: string): Promise<Account> {
  const a = await store.getAccount(email);
  if (!a) throw new CliError(`no such user: ${email}`);
  return a;
}

/** The script text from FILE, or standard input for "-" (or no FILE). */
async function readScript(file: string | undefined, io: CliIO, command: string): Promise<string> {
  if (file === undefined || file === "-") return io.readStdin();
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    throw new CliError(`${command}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Compiles; prints errors (and warnings) with line numbers; true when it compiled. */
function check(text: string, config: Config, io: CliIO, label: string): boolean {
  const r = compileSieve(text, { limits: { maxScriptBytes: config.sieve.maxScriptBytes } });
  if (!r.ok) {
    for (const e of r.errors) io.err(`${label}: ${formatSieveError(e)}\n`);
    return false;
  }
  for (const w of r.warnings) io.err(`${label}: warning: ${formatSieveError(w)}\n`);
  return true;
}

const storeErrorText = (e: unknown): never => {
  if (e instanceof StoreError) throw new CliError(e.message);
  throw e;
};

export const sieveCommands: Command[] = [
  {
    name: "sieve list",
    usage: "USER",
    summary: "list a user's Sieve scripts (the active one marked)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve list");
      await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email);
        const list = await storage.sieve.listScripts(a.id);
        if (list.length === 0) {
          io.out(`no scripts for ${a.email}\n`);
          return;
        }
        io.out(table([["NAME", "ACTIVE", "SIZE", "UPDATED"], ...list.map((s) => [s.name, s.active ? "yes" : "", String(s.size), new Date(s.updatedAt).toISOString()])]));
      });
    },
  },
  {
    name: "sieve get",
    usage: "USER NAME",
    summary: "print one of a user's Sieve scripts",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve get");
      const name = args.positionals[1]!;
      return await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email);
        const text = await storage.sieve.getScript(a.id, name);
        if (text === null) {
          io.err(`no script "${name}" for ${a.email}\n`);
          return 1;
        }
        io.out(text.endsWith("\n") ? text : text + "\n");
        return 0;
      });
    },
  },
  {
    name: "sieve put",
    usage: "USER NAME [FILE|-] [--activate]",
    summary: "store a Sieve script (from FILE, or standard input) after checking it",
    help:
      "The script is compiled first; errors are printed with their line numbers and nothing is stored.\n" +
      "An existing script of that name is replaced (and stays active if it was). Quotas: [sieve]\n" +
      "max_scripts and max_script_bytes. --activate makes it the active script.",
    options: { ...COMMON_OPTIONS, activate: { help: "make it the user's active script" } },
    args: [2, 3],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve put");
      const name = args.positionals[1]!;
      const text = await readScript(args.positionals[2], io, "sieve put");
      return await withStore(args, io, async (store, config, storage) => {
        const a = await account(store, email);
        if (!check(text, config, io, args.positionals[2] && args.positionals[2] !== "-" ? args.positionals[2] : "script")) return 1;
        await storage.sieve.putScript(a.id, name, text, { maxScripts: config.sieve.maxScripts, maxBytes: config.sieve.maxScriptBytes }).catch(storeErrorText);
        if (args.options["activate"]) await storage.sieve.setActive(a.id, name);
        io.out(`stored script "${name}" for ${a.email}${args.options["activate"] ? " (active)" : ""}\n`);
        return 0;
      });
    },
  },
  {
    name: "sieve activate",
    usage: "USER NAME",
    summary: "make NAME the user's active Sieve script (one is active at a time)",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve activate");
      const name = args.positionals[1]!;
      await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email);
        await storage.sieve.setActive(a.id, name).catch(storeErrorText);
        io.out(`script "${name}" is now active for ${a.email}\n`);
      });
    },
  },
  {
    name: "sieve deactivate",
    usage: "USER",
    summary: "run no Sieve script for the user (out-of-office still answers when on)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve deactivate");
      await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email);
        await storage.sieve.setActive(a.id, null);
        io.out(`no active script for ${a.email}\n`);
      });
    },
  },
  {
    name: "sieve delete",
    usage: "USER NAME",
    summary: "delete one of a user's Sieve scripts (not the active one)",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "sieve delete");
      const name = args.positionals[1]!;
      return await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email);
        const gone = await storage.sieve.deleteScript(a.id, name).catch(storeErrorText);
        if (!gone) {
          io.err(`no script "${name}" for ${a.email}\n`);
          return 1;
        }
        io.out(`deleted script "${name}" of ${a.email}\n`);
        return 0;
      });
    },
  },
  {
    name: "sieve check",
    usage: "FILE|-",
    summary: "check a Sieve script without storing it (errors with line numbers)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const file = args.positionals[0]!;
      const text = await readScript(file, io, "sieve check");
      // the configured size limit applies; no database is opened
      const config = configFromArgs(args, io);
      if (!check(text, config, io, file === "-" ? "script" : file)) return 1;
      io.out("ok\n");
      return 0;
    },
  },
];
