/** `pillarbox export EMAIL --format maildir|mbox DIR`. */
import { exportAccount } from "../import/export.ts";
import { createProgress } from "../import/progress.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { CliError, checkEmail, formatBytes, UsageError, withStore } from "./common.ts";

export const exportCommands: Command[] = [
  {
    name: "export",
    usage: "EMAIL --format maildir|mbox DIR",
    summary: "write every mail folder of an account to a maildir or to mbox files",
    help: [
      "maildir: Maildir++ as Dovecot reads it (INBOX at DIR, other folders as DIR/.Name, flags in",
      "the file names, keywords in dovecot-keywords, file times = the messages' dates).",
      "mbox: one mboxrd file per folder, DIR/<folder>.mbox (subfolders as directories), From_",
      "lines carrying the dates. Both re-import with `pillarbox import maildir|mbox DIR`.",
      "DIR must be new or empty. Files are 0600 in 0700 directories. The server may run meanwhile.",
    ].join("\n"),
    options: { ...COMMON_OPTIONS, format: { value: true, arg: "maildir|mbox", help: "output format (required)" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "export");
      const dir = args.positionals[1]!;
      const format = args.options["format"];
      if (format !== "maildir" && format !== "mbox") throw new UsageError("--format maildir or --format mbox is required", "export");
      const bar = createProgress((s) => io.err(s), !!process.stderr.isTTY);
      const s = await withStore(args, io, async (store) => {
        const a = await store.getAccount(email);
        if (!a) throw new CliError(`no such account: ${email}`);
        try {
          return await exportAccount({ store, accountId: a.id, dir, format, onProgress: (p) => bar.update(p) });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === "EACCES") throw new CliError(`${(e as Error).message} (admin commands run as the data dir's owner, uid ${process.getuid?.() ?? "?"}: export into a directory it can write)`);
          throw new CliError((e as Error).message);
        } finally {
          bar.end();
        }
      });
      io.out(`exported ${s.messages} messages (${formatBytes(s.bytes)}) in ${s.folders.length} folders to ${dir} (${format}) in ${(s.ms / 1000).toFixed(1)} s\n`);
      return 0;
    },
  },
];
