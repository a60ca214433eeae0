/** `pillarbox alias add|list|remove`. */
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkDomain, checkEmail, checkNewAddress, CliError, table, UsageError, withStore } from "./common.ts";

/** `local@domain` or `@domain` (catch-all). */
function checkSource(s: string, command: string): string {
  if (s.startsWith("@")) return "@" + checkDomain(s.slice(1), command);
  return checkNewAddress(s, command);
}

export const aliasCommands: Command[] = [
  {
    name: "alias add",
    usage: "SOURCE DESTINATION",
    summary: "route mail for SOURCE (an address, or @domain for a catch-all) to DESTINATION",
    help: "SOURCE is an address in a local domain, or @domain to catch every address of that\ndomain that has no account or alias. Add the same SOURCE several times for one-to-many.\nDESTINATION may be a local account or a remote address (forwarding).\nThe destination account may also send as SOURCE.",
    options: { ...COMMON_OPTIONS, force: { help: "add it even when SOURCE is an account (it routes nothing while the account exists)" } },
    args: [2, 2],
    async run(args, io) {
      const src = checkSource(args.positionals[0]!, "alias add");
      const dest = checkNewAddress(args.positionals[1]!, "alias add");
      const force = !!args.options["force"];
      await withStore(args, io, async (store) => {
        const domain = src.slice(src.lastIndexOf("@") + 1);
        if (!(await store.isLocalDomain(domain))) throw new UsageError(`${domain} is not a local domain (add it with: pillarbox domain add ${domain})`, "alias add");
        if (!force && !src.startsWith("@") && (await store.getAccount(src))) {
          throw new CliError(
            `${src} is an account: mail to it goes to that account, so an alias with that source would route nothing.\n` +
              `Remove the account first (pillarbox user remove ${src}), or add --force to keep the alias for later.`,
          );
        }
        await store.addAlias(src, dest, { force });
        io.out(`added alias ${src} -> ${dest}\n`);
      });
    },
  },
  {
    name: "alias list",
    usage: "",
    summary: "list aliases",
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store) => {
        const aliases = await store.listAliases();
        if (aliases.length === 0) {
          io.out("no aliases\n");
          return;
        }
        io.out(table([["SOURCE", "DESTINATION"], ...aliases.map((a) => [a.source, a.destination])]));
      });
    },
  },
  {
    name: "alias remove",
    usage: "SOURCE [DESTINATION]",
    summary: "remove an alias (every destination of SOURCE unless DESTINATION is given)",
    options: COMMON_OPTIONS,
    args: [1, 2],
    async run(args, io) {
      const src = checkSource(args.positionals[0]!, "alias remove");
      const dest = args.positionals[1] !== undefined ? checkEmail(args.positionals[1], "alias remove") : undefined;
      return await withStore(args, io, async (store) => {
        const n = await store.removeAlias(src, dest);
        if (n === 0) {
          io.err(`no alias ${src}${dest ? ` -> ${dest}` : ""}\n`);
          return 1;
        }
        io.out(`removed ${n} alias${n === 1 ? "" : "es"} for ${src}\n`);
        return 0;
      });
    },
  },
];
