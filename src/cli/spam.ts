/**
 * `pillarbox spam allow|deny|unlist|lists` (the allow and deny lists of one
 * account, one local domain, or the whole server) and `pillarbox spam check
 * FILE` (scores a message file with the configured filter and prints every
 * symbol: what an administrator runs to see why a message was junked).
 */
import { readFileSync } from "node:fs";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkDomain, checkEmail, CliError, table, UsageError, withStore } from "./common.ts";
import type { ParsedArgs } from "./args.ts";
import type { MailStore } from "../../storage/api.ts";
import { StoreError } from "../../storage/api.ts";
import type { SpamListEntry } from "../../storage/filter-api.ts";
import { createLogger } from "../log.ts";
import { createSpamService } from "../spam/index.ts";
import { createBayesClassifier } from "../spam/bayes.ts";
import { formatScore } from "../spam/spam-headers.ts";
import { canonicalMessage } from "../../mail/index.ts";

const SCOPE_OPTIONS = {
  ...COMMON_OPTIONS,
  user: { value: true, arg: "EMAIL", help: "the list of one account" },
  domain: { value: true, arg: "DOMAIN", help: "the list of one local domain (every account in it)" },
  global: { help: "the server-wide list (the default)" },
};

/** Octets of a message `spam check` reads (the SMTP size limit is larger; this is a diagnostic). */
const MAX_CHECK_BYTES = 64 * 1024 * 1024;

async function scopeOf(args: ParsedArgs, store: MailStore, command: string): Promise<{ scope: SpamListEntry["scope"]; label: string }> {
  const user = args.options["user"];
  const domain = args.options["domain"];
  const given = [typeof user === "string", typeof domain === "string", !!args.options["global"]].filter(Boolean).length;
  if (given > 1) throw new UsageError("give one of --user, --domain, --global", command);
  if (typeof user === "string") {
    const email = checkEmail(user, command);
    const a = await store.getAccount(email);
    if (!a) throw new CliError(`no account ${email}`);
    return { scope: { accountId: a.id }, label: `account ${a.email}` };
  }
  if (typeof domain === "string") {
    const d = checkDomain(domain, command);
    if (!(await store.isLocalDomain(d))) throw new CliError(`${d} is not a local domain`);
    return { scope: { domain: d }, label: `domain ${d}` };
  }
  return { scope: "global", label: "the server" };
}

function addCommand(kind: "allow" | "deny"): Command {
  const command = `spam ${kind}`;
  return {
    name: command,
    usage: "PATTERN [--user EMAIL | --domain DOMAIN | --global]",
    summary: kind === "allow" ? "never junk mail from an address or domain (when the sender authenticated)" : "always junk mail from an address or domain",
    help:
      "PATTERN is an address (someone@example.com) or a domain (example.com, its subdomains too).\n" +
      (kind === "allow"
        ? "An allow entry only applies when the sender proved the address: SPF or DKIM passed for\nthe From domain, or SPF for the envelope sender. A forged From is scored as usual.\n"
        : "A deny entry applies to the From address and the envelope sender as the message claims them.\n") +
      "An address is on one list of a scope: allowing a denied address moves it, and the reverse.",
    options: SCOPE_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      return await withStore(args, io, async (store, _config, storage) => {
        const { scope, label } = await scopeOf(args, store, command);
        try {
          const e = await storage.spam.addEntry(scope, kind, args.positionals[0]!);
          io.out(`${kind === "allow" ? "allowed" : "denied"} ${e.pattern} for ${label}\n`);
          return 0;
        } catch (ex) {
          if (ex instanceof StoreError && (ex.code === "INVALID" || ex.code === "LIMIT")) throw new CliError(`${command}: ${ex.message}`);
          throw ex;
        }
      });
    },
  };
}

export const spamCommands: Command[] = [
  addCommand("allow"),
  addCommand("deny"),
  {
    name: "spam unlist",
    usage: "PATTERN [--user EMAIL | --domain DOMAIN | --global]",
    summary: "remove an address or domain from the allow and deny lists of a scope",
    options: SCOPE_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      return await withStore(args, io, async (store, _config, storage) => {
        const { scope, label } = await scopeOf(args, store, "spam unlist");
        const want = args.positionals[0]!.trim().toLowerCase().replace(/^@|^\*\./, "").replace(/\.$/, "");
        const hits = (await storage.spam.listEntries(scope)).filter((e) => e.pattern === want);
        if (!hits.length) {
          io.err(`${want} is on no list of ${label}\n`);
          return 1;
        }
        for (const e of hits) await storage.spam.removeEntry(scope, e.id);
        io.out(`removed ${want} from the ${hits.map((e) => e.kind).join(" and ")} list of ${label}\n`);
        return 0;
      });
    },
  },
  {
    name: "spam lists",
    usage: "[--user EMAIL | --domain DOMAIN | --global]",
    summary: "show the allow and deny lists of an account, a domain or the server",
    options: SCOPE_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store, _config, storage) => {
        const { scope, label } = await scopeOf(args, store, "spam lists");
        const entries = await storage.spam.listEntries(scope);
        if (!entries.length) {
          io.out(`no entries for ${label}\n`);
          return;
        }
        io.out(table([["KIND", "PATTERN", "ADDED"], ...entries.map((e) => [e.kind, e.pattern, new Date(e.createdAt).toISOString().slice(0, 19) + "Z"])]));
      });
    },
  },
  {
    name: "spam check",
    usage: "FILE [--user EMAIL] [--ip ADDRESS]",
    summary: "score a message file with the spam filter and print every rule that fired",
    help:
      "FILE is one message (RFC 5322; - reads standard input). The message is scored as inbound mail\n" +
      "with the configured backend, DNS lists and thresholds; sender authentication is not re-run\n" +
      "(the file has no SMTP envelope). --user adds that account's Bayes model and lists;\n" +
      "--ip looks the connecting address up in the DNS lists.",
    options: { ...COMMON_OPTIONS, user: { value: true, arg: "EMAIL", help: "score for this account (its Bayes model and lists)" }, ip: { value: true, arg: "ADDRESS", help: "the connecting client's IP address" } },
    args: [1, 1],
    async run(args, io) {
      const file = args.positionals[0]!;
      let bytes: Uint8Array;
      try {
        bytes = file === "-" ? new TextEncoder().encode(await io.readStdin()) : readFileSync(file);
      } catch (e) {
        throw new CliError(`cannot read ${file}: ${(e as Error).message}`);
      }
      if (bytes.length > MAX_CHECK_BYTES) throw new CliError(`${file} is larger than ${MAX_CHECK_BYTES} bytes`);
      const ip = typeof args.options["ip"] === "string" ? (args.options["ip"] as string) : null;
      return await withStore(args, io, async (store, config, storage) => {
        const recipients: { accountId: number; address: string }[] = [];
        if (typeof args.options["user"] === "string") {
          const email = checkEmail(args.options["user"] as string, "spam check");
          const a = await store.getAccount(email);
          if (!a) throw new CliError(`no account ${email}`);
          recipients.push({ accountId: a.id, address: a.email });
        }
        const spam = createSpamService({ config: () => config, store: storage.spam, mail: store, bayes: createBayesClassifier(storage.bayes), log: createLogger("warn") });
        try {
          const v = await spam.check({ raw: canonicalMessage(bytes), remoteIp: ip, helo: null, mailFrom: "", recipients, auth: null });
          const account = recipients.length ? v.accounts.get(recipients[0]!.accountId) : undefined;
          const symbols = account?.symbols ?? v.symbols;
          const score = account?.score ?? v.score;
          const isSpam = account?.isSpam ?? score >= config.spam.junkScore;
          io.out(`backend: ${v.backend}\n`);
          io.out(`score: ${formatScore(score)} (junk at ${formatScore(config.spam.junkScore)}${config.spam.rejectScore !== null ? `, refused at ${formatScore(config.spam.rejectScore)}` : ""}) -> ${isSpam ? "spam" : "not spam"}\n`);
          if (symbols.length) io.out(table([["RULE", "POINTS", "WHY"], ...[...symbols].sort((a, b) => b.score - a.score).map((s) => [s.name, formatScore(s.score), s.detail ?? ""])]));
          else io.out("no rule fired\n");
          if (account) io.out(account.headers);
          return 0;
        } finally {
          spam.close();
        }
      });
    },
  },
];
