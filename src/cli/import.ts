/** `pillarbox import imap://USER@HOST[:PORT] | mbox PATH | maildir PATH --to EMAIL`. */
import { readFileSync } from "node:fs";
import type { MailStore } from "../../storage/api.ts";
import { importImap, sourceUrl, type ImapSourceOptions, type ImportSummary, type TlsMode } from "../import/imap-import.ts";
import { importMaildir, importMbox } from "../import/file-import.ts";
import { createProgress } from "../import/progress.ts";
import { ImportError } from "../import/sink.ts";
import { COMMON_OPTIONS, type CliIO, type Command } from "./command.ts";
import { CliError, checkEmail, formatBytes, parseBytes, table, UsageError, withStore } from "./common.ts";

const CMD = "import";

/** imap://user@host[:port] (STARTTLS, 143) or imaps://user@host[:port] (TLS, 993). The user may contain '@' (the last one separates the host). */
export function parseImapUrl(url: string): { host: string; port: number; tls: TlsMode; user: string } {
  const m = /^(imaps?):\/\/(.+)$/i.exec(url.trim());
  if (!m) throw new UsageError(`not an IMAP address: ${JSON.stringify(url)} (use imap://user@host or imaps://user@host:993)`, CMD);
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!.replace(/\/+$/, "");
  const at = rest.lastIndexOf("@");
  if (at <= 0) throw new UsageError(`${JSON.stringify(url)} names no user: use imap://user@host`, CMD);
  let user = rest.slice(0, at);
  if (user.includes(":")) throw new UsageError("do not put the password in the address (it would show in the process list and shell history): use --password-file, $PILLARBOX_IMPORT_PASSWORD or the prompt", CMD);
  try {
    user = decodeURIComponent(user);
  } catch {
    throw new UsageError(`bad %-escape in the user name of ${JSON.stringify(url)}`, CMD);
  }
  const hp = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(rest.slice(at + 1));
  if (!hp) throw new UsageError(`bad host in ${JSON.stringify(url)}`, CMD);
  const port = hp[2] ? Number(hp[2]) : scheme === "imaps" ? 993 : 143;
  if (port < 1 || port > 65535) throw new UsageError(`bad port in ${JSON.stringify(url)}`, CMD);
  return { host: hp[1]!.replace(/^\[|\]$/g, ""), port, tls: scheme === "imaps" ? "implicit" : "starttls", user };
}

/** Reads a password on the terminal without echoing it. */
async function promptPassword(prompt: string, io: CliIO): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError("no password: give --password-file FILE, --password-stdin or $PILLARBOX_IMPORT_PASSWORD (no terminal to ask on)", CMD);
  io.err(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  return await new Promise<string>((resolve, reject) => {
    let pw = "";
    const onData = (d: Buffer) => {
      for (const ch of d.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done(null);
        if (ch === "\u0003") return done(new CliError("cancelled"));
        if (ch === "\u007f" || ch === "\b") pw = pw.slice(0, -1);
        else if (pw.length < 1024) pw += ch;
      }
    };
    const done = (e: Error | null) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      io.err("\n");
      if (e) reject(e);
      else resolve(pw);
    };
    stdin.on("data", onData);
  });
}

async function password(args: { options: Record<string, string | true> }, io: CliIO, who: string): Promise<string> {
  const file = args.options["password-file"];
  if (typeof file === "string") {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (e) {
      throw new CliError(`cannot read --password-file ${file}: ${(e as Error).message}`);
    }
    const pw = text.split(/\r?\n/)[0] ?? "";
    if (!pw) throw new CliError(`--password-file ${file} is empty`);
    return pw;
  }
  if (args.options["password-stdin"]) {
    const pw = (await io.readStdin()).split(/\r?\n/)[0] ?? "";
    if (!pw) throw new UsageError("--password-stdin: no password on standard input", CMD);
    return pw;
  }
  const env = io.env["PILLARBOX_IMPORT_PASSWORD"];
  if (env) return env;
  return await promptPassword(`Password for ${who}: `, io);
}

function printSummary(s: ImportSummary, io: CliIO): void {
  io.out(
    table([
      ["SOURCE", "TARGET", "MESSAGES", s.dryRun ? "TO IMPORT" : "IMPORTED", "SIZE", "NOTE"],
      ...s.folders.map((f) => [f.source, f.skipped ? "-" : f.target, String(f.messages), String(s.dryRun ? f.toImport : f.imported), formatBytes(f.bytes), f.skipped ? `skipped: ${f.skipped}` : f.tooLarge ? `${f.tooLarge} over the size limit` : ""]),
    ]),
  );
  for (const w of s.warnings) io.err(`warning: ${w}\n`);
  const secs = s.ms / 1000;
  if (s.dryRun) io.out(`dry run: ${s.folders.reduce((n, f) => n + f.toImport, 0)} messages (${formatBytes(s.bytes)}) would be imported; nothing was changed\n`);
  else io.out(`imported ${s.imported} messages (${formatBytes(s.bytes)}) in ${secs.toFixed(1)} s${secs > 0 ? ` (${Math.round(s.imported / secs)} msg/s)` : ""}${s.tooLarge ? `; ${s.tooLarge} over the size limit left out` : ""}\n`);
  if (s.stopped) io.out("stopped before the end: run the same command again to continue where it stopped\n");
}

export const importCommands: Command[] = [
  {
    name: "import",
    usage: "imap://USER@HOST[:PORT] | imaps://USER@HOST[:PORT] | mbox PATH | maildir PATH --to EMAIL [--dry-run]",
    summary: "import mail from another IMAP server, an mbox file or a maildir into an account",
    help: [
      "From an IMAP server: every folder is copied with its flags, keywords and dates; Sent, Drafts,",
      "Trash, Junk and Archive go to this account's own folders (by the server's special-use",
      "attributes, else by common names such as \"Sent Items\" or \"[Gmail]/Sent Mail\"). The old",
      "server is only read. imaps:// is TLS (port 993), imap:// requires STARTTLS (port 143) unless",
      "--no-tls ([import] ca_file in pillarbox.toml trusts a private CA). The password comes from",
      "--password-file, --password-stdin, $PILLARBOX_IMPORT_PASSWORD or a prompt; never put it in",
      "the address. Running the same import again continues where it stopped and imports nothing",
      "twice (state in <data dir>/import/). Ctrl-C stops after the current batch. A full quota",
      "stops the import; it resumes once there is room.",
      "",
      "From files: maildir PATH (Maildir++ folders, flags from the file names, dates from the",
      "files' times); mbox PATH (one file into --folder, default INBOX; or a directory of *.mbox",
      "files as `pillarbox export --format mbox` writes, one folder per file). mboxrd quoting",
      "(>From) is undone; dates come from the From_ lines, else the Date: header. Run as root on",
      "a data dir owned by the service user, the command runs as that user: the files must be",
      "readable to it.",
      "",
      "The server may run meanwhile: imported mail appears to connected clients as it arrives.",
    ].join("\n"),
    options: {
      ...COMMON_OPTIONS,
      to: { value: true, arg: "EMAIL", help: "the local account to import into (required)" },
      "dry-run": { help: "list folders, counts and sizes; change nothing" },
      "password-file": { value: true, arg: "FILE", help: "read the old server's password from the first line of FILE" },
      "password-stdin": { help: "read the old server's password from the first line of standard input" },
      insecure: { help: "accept the old server's certificate even if it does not verify (self-signed)" },
      "no-tls": { help: "talk to the old server without TLS (the password crosses in clear; local networks only)" },
      folder: { value: true, arg: "NAME", help: "mbox/maildir: import into this folder (subfolders below it)" },
      limit: { value: true, arg: "N", help: "stop after N messages (the next run continues)" },
      "max-message-size": { value: true, arg: "BYTES", help: "leave out larger messages (default 64M)" },
    },
    args: [1, 2],
    async run(args, io) {
      const to = args.options["to"];
      if (typeof to !== "string") throw new UsageError("--to EMAIL is required (the account to import into)", CMD);
      const email = checkEmail(to, CMD);
      const [kind, path] = args.positionals as [string, string | undefined];
      const dryRun = args.options["dry-run"] === true;
      const limitOpt = args.options["limit"];
      const limit = typeof limitOpt === "string" ? Number(limitOpt) : undefined;
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError("--limit takes a positive whole number", CMD);
      const maxOpt = args.options["max-message-size"];
      const maxMessageBytes = typeof maxOpt === "string" ? (parseBytes(maxOpt, CMD) ?? Number.MAX_SAFE_INTEGER) : undefined;
      const folder = typeof args.options["folder"] === "string" ? args.options["folder"].replace(/^\/+|\/+$/g, "") : undefined;
      if (folder !== undefined && folder === "") throw new UsageError("--folder needs a folder name", CMD);
      const tty = !!process.stderr.isTTY;
      const bar = createProgress((s) => io.err(s), tty);
      const account = async (store: MailStore) => {
        const a = await store.getAccount(email);
        if (!a) throw new CliError(`no such account: ${email} (create it first: pillarbox user add ${email})`);
        return a;
      };

      let summary: ImportSummary;
      if (kind === "mbox" || kind === "maildir") {
        if (!path) throw new UsageError(`import ${kind} needs a PATH`, CMD);
        summary = await withStore(args, io, async (store) => {
          const a = await account(store);
          const fn = kind === "mbox" ? importMbox : importMaildir;
          try {
            return await fn({ store, accountId: a.id, path, folder, dryRun, maxMessageBytes, onProgress: (p) => bar.update(p) });
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "EACCES") throw new CliError(`${(e as Error).message} (admin commands run as the data dir's owner, uid ${process.getuid?.() ?? "?"}: make the files readable to it)`);
            if (e instanceof Error) throw new CliError(e.message);
            throw e;
          } finally {
            bar.end();
          }
        });
      } else {
        if (path !== undefined) throw new UsageError(`unexpected argument ${JSON.stringify(path)}`, CMD);
        const src = parseImapUrl(kind);
        if (args.options["no-tls"]) src.tls = "none";
        const pw = await password(args, io, sourceUrl(src));
        const source: ImapSourceOptions = { ...src, password: pw, insecure: args.options["insecure"] === true };
        const ac = new AbortController();
        const onInt = () => {
          io.err("\nstopping after the current batch (Ctrl-C again to quit at once)\n");
          ac.abort();
          process.once("SIGINT", () => process.exit(130));
        };
        process.once("SIGINT", onInt);
        try {
          summary = await withStore(args, io, async (store, config) => {
            const a = await account(store);
            if (config.import.caFile) {
              try {
                source.ca = readFileSync(config.import.caFile, "utf8");
              } catch (e) {
                throw new CliError(`cannot read [import] ca_file ${config.import.caFile}: ${(e as Error).message}`);
              }
            }
            try {
              return await importImap({ store, accountId: a.id, dataDir: config.dataDir, source, dryRun, limit, maxMessageBytes, signal: ac.signal, onProgress: (p) => bar.update(p) });
            } catch (e) {
              if (e instanceof ImportError) throw new CliError(e.message);
              throw e;
            } finally {
              bar.end();
            }
          });
        } finally {
          process.off("SIGINT", onInt);
        }
      }
      printSummary(summary, io);
      return 0;
    },
  },
];
