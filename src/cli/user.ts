/** `pillarbox user add|list|passwd|remove|quota|set|sessions|logout`. */
import type { Storage } from "../../storage/open.ts";
import type { MailStore } from "../../storage/api.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkPassword } from "../password-policy.ts";
import type { Config } from "../config-types.ts";
import { CliError, checkEmail, checkNewAddress, formatBytes, generatePassword, parseBytes, passwordFromStdin, table, UsageError, withStore, yesNo } from "./common.ts";

const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

async function accountOf(store: MailStore, email: string) {
  const a = await store.getAccount(email);
  if (!a) throw new CliError(`no such account: ${email}`);
  return a;
}

/** The webmail and ActiveSync stores on the CLI's one connection (closed by the caller's withStore). */
function sessionStores(storage: Storage) {
  return { web: storage.webmail, eas: storage.eas };
}

const PASSWORD_STDIN = { help: "read the password from the first line of standard input instead of generating one" };

/** The password policy (src/password-policy.ts) for a password the admin typed; --force overrides it. */
function checkPolicy(password: string, email: string, config: Config, force: boolean): void {
  if (force) return;
  const v = checkPassword(password, { email, minLength: config.limits.passwordMinLength });
  if (!v.ok) throw new CliError(`password refused: ${v.reason} (leave out --password-stdin to get a generated one, or add --force to use it anyway)`);
}

export const userCommands: Command[] = [
  {
    name: "user add",
    usage: "EMAIL [--password-stdin] [--quota BYTES] [--name NAME]",
    summary: "add an account (a password is generated and printed once unless --password-stdin)",
    help: "Creates the account EMAIL with the default folders (INBOX, Drafts, Sent, Trash, Junk, Archive).\nThe domain must exist (pillarbox domain add). Without --password-stdin a random password\nis generated and printed once: it is not stored anywhere in clear text. A password given on\nstandard input must pass the password policy (at least limits.password_min_length characters,\ndefault 10; not a common password; not the address): --force accepts it anyway.",
    options: {
      ...COMMON_OPTIONS,
      "password-stdin": PASSWORD_STDIN,
      quota: { value: true, arg: "BYTES", help: "storage quota, e.g. 2G, 500M, or none (default)" },
      name: { value: true, arg: "NAME", help: "display name" },
      force: { help: "create it even when EMAIL is the source of an alias (the account then takes that mail), and accept a password the password policy refuses" },
    },
    args: [1, 1],
    async run(args, io) {
      const email = checkNewAddress(args.positionals[0]!, "user add");
      const quota = typeof args.options["quota"] === "string" ? parseBytes(args.options["quota"], "user add") : null;
      const given = args.options["password-stdin"] ? await passwordFromStdin(io) : null;
      const password = given ?? generatePassword();
      await withStore(args, io, async (store, config) => {
        const displayName = typeof args.options["name"] === "string" ? args.options["name"] : undefined;
        const force = !!args.options["force"];
        if (given) checkPolicy(given, email, config, force);
        const shadowed = (await store.listAliases()).filter((a) => a.source === email);
        if (shadowed.length && !force) {
          throw new CliError(
            `${email} is the source of an alias (-> ${shadowed.map((a) => a.destination).join(", ")}): an account with that address would take its mail instead.\n` +
              `Remove the alias first (pillarbox alias remove ${email}), or add --force to create the account anyway.`,
          );
        }
        await store.addAccount(email, password, { quotaBytes: quota, displayName, force });
        io.out(`added account ${email}\n`);
        if (!given) io.out(`password: ${password}\n(shown once; change it with: pillarbox user passwd ${email})\n`);
      });
    },
  },
  {
    name: "user list",
    usage: "",
    summary: "list accounts with quota, usage and flags (admin, disabled, 2fa)",
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store) => {
        const accounts = await store.listAccounts();
        if (accounts.length === 0) {
          io.out("no accounts (add one with: pillarbox user add EMAIL)\n");
          return;
        }
        const rows = [["EMAIL", "USED", "QUOTA", "NAME", "FLAGS"]];
        for (const a of accounts) {
          // admin (may open /admin), disabled (every sign-in refused), 2fa (two-factor sign-in on)
          const flags = [a.admin ? "admin" : "", a.disabled ? "disabled" : "", (await store.twoFactorStatus(a.id)).enabled ? "2fa" : ""].filter(Boolean).join(",");
          rows.push([a.email, formatBytes(a.usedBytes), formatBytes(a.quotaBytes), a.settings.displayName ?? "", flags || "-"]);
        }
        io.out(table(rows));
      });
    },
  },
  {
    name: "user passwd",
    usage: "EMAIL [--password-stdin] [--force]",
    summary: "set a new password (generated and printed once unless --password-stdin); ends the webmail sessions",
    help: "Sets a new password. Every webmail session of the account ends, and the old password stops\nworking at once on every protocol, also in a running server. ActiveSync devices keep their\npartnership but must sign in with the new password.",
    options: { ...COMMON_OPTIONS, "password-stdin": PASSWORD_STDIN, force: { help: "accept a password the password policy refuses" } },
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user passwd");
      const given = args.options["password-stdin"] ? await passwordFromStdin(io) : null;
      const password = given ?? generatePassword();
      await withStore(args, io, async (store, config) => {
        if (given) checkPolicy(given, email, config, !!args.options["force"]);
        // The store ends every webmail session of the account in the same transaction; a running
        // server refuses the old password at once (its auth cache checks the credential stamp), and
        // ActiveSync devices must authenticate with the new one on their next request.
        await store.setPassword(email, password);
        io.out(`password changed for ${email}; its webmail sessions were ended\n`);
        if (!given) io.out(`password: ${password}\n(shown once)\n`);
      });
    },
  },
  {
    name: "user remove",
    usage: "EMAIL [--yes]",
    summary: "remove an account and all its mail (asks first; --yes in scripts)",
    help: "Deletes the account, every message, folder, calendar and contact in it, and the aliases\nthat point to it. On a terminal it says how many messages would go and asks; otherwise\n(a script, a pipe) it refuses unless --yes is given.",
    options: { ...COMMON_OPTIONS, yes: { help: "do not ask: remove the account and all its mail" } },
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user remove");
      return await withStore(args, io, async (store) => {
        const acct = await accountOf(store, email);
        if (!args.options["yes"]) {
          // Bounded: one STATUS per mail folder of the one account.
          let messages = 0;
          for (const f of await store.listFolders(acct.id, { itemClass: "mail" })) messages += (await store.folderStatus(f.id)).messages;
          const what = `${email} has ${messages} message${messages === 1 ? "" : "s"} (${formatBytes(acct.usedBytes)})`;
          const answer = io.confirm ? await io.confirm(`${what}. Remove the account and all its mail? Type yes to confirm: `) : null;
          if (answer === null) {
            io.err(`pillarbox: not removed: ${what} that would be deleted for good; run again with --yes to remove it\n`);
            return 1;
          }
          if (!/^\s*yes\s*$/i.test(answer)) {
            io.err("not removed\n");
            return 1;
          }
        }
        await store.removeAccount(email);
        io.out(`removed account ${email}\n`);
        return 0;
      });
    },
  },
  {
    name: "user quota",
    usage: "EMAIL BYTES|none",
    summary: "set or clear an account's storage quota (e.g. 2G, 500M, none)",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user quota");
      const bytes = parseBytes(args.positionals[1]!, "user quota");
      await withStore(args, io, async (store) => {
        await store.setQuota(email, bytes);
        io.out(`quota for ${email}: ${formatBytes(bytes)}\n`);
      });
    },
  },
  {
    name: "user set",
    usage: "EMAIL [--pop3-leave-on-server=yes|no] [--name NAME]",
    summary: "change account settings",
    help: "--pop3-leave-on-server=yes makes POP3 DELE move messages to Trash instead of deleting them,\nso IMAP, webmail and phones still see mail a POP3 client has downloaded.",
    options: {
      ...COMMON_OPTIONS,
      "pop3-leave-on-server": { value: true, arg: "yes|no", help: "POP3 DELE moves to Trash (yes) or deletes (no)" },
      name: { value: true, arg: "NAME", help: "display name" },
    },
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user set");
      const patch: Record<string, unknown> = {};
      const leave = args.options["pop3-leave-on-server"];
      if (leave !== undefined) patch.pop3LeaveOnServer = yesNo(leave, "pop3-leave-on-server", "user set");
      if (typeof args.options["name"] === "string") patch.displayName = args.options["name"];
      if (Object.keys(patch).length === 0) throw new UsageError("nothing to set", "user set");
      await withStore(args, io, async (store) => {
        const acct = await store.getAccount(email);
        if (!acct) throw new CliError(`no such account: ${email}`);
        const s = await store.updateSettings(acct.id, patch);
        io.out(`settings of ${email}: pop3-leave-on-server=${s.pop3LeaveOnServer ? "yes" : "no"}${s.displayName ? ` name=${JSON.stringify(s.displayName)}` : ""}\n`);
      });
    },
  },
  {
    name: "user sessions",
    usage: "EMAIL",
    summary: "list the account's webmail sessions and ActiveSync devices (created, last seen, IP)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user sessions");
      await withStore(args, io, async (store, _config, storage) => {
        const a = await accountOf(store, email);
        const { web, eas } = sessionStores(storage);
        const now = Date.now();
        const sessions = (await web.listAccountSessions(a.id)).filter((x) => x.expiresAt > now);
        const devices = await eas.listDevices(a.id);
        if (!sessions.length && !devices.length) {
          io.out(`no webmail sessions or ActiveSync devices for ${a.email}\n`);
          return;
        }
        const rows = [["KIND", "ID", "CREATED", "LAST SEEN", "IP", "CLIENT"]];
        // Only a prefix of the session id: enough to tell sessions apart, useless to anyone reading over a shoulder.
        for (const x of sessions) rows.push(["webmail", x.id.slice(0, 8), when(x.createdAt), when(x.lastSeenAt), x.ip || "-", x.userAgent.slice(0, 60) || "-"]);
        for (const d of devices) {
          const client = [d.deviceType, d.model, d.friendlyName].filter(Boolean).join(" ") || "-";
          rows.push(["activesync", d.deviceId, when(d.firstSeen), when(d.lastSeen), d.lastIp ?? "-", client]);
        }
        io.out(table(rows));
      });
    },
  },
  {
    name: "user logout",
    usage: "EMAIL",
    summary: "end every webmail session and ActiveSync device partnership of the account",
    help: "Signs the account out everywhere it has a session: every webmail session ends at once,\nand every ActiveSync device partnership is removed (the device must set up the account and\nsync again). Clients that send the password with each connection (IMAP, POP3, SMTP,\nActiveSync) can sign in again while the password is valid: to lock someone out, change\nthe password with pillarbox user passwd (which also ends the webmail sessions).",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user logout");
      await withStore(args, io, async (store, _config, storage) => {
        const a = await accountOf(store, email);
        const { web, eas } = sessionStores(storage);
        const sessions = await web.deleteAccountSessions(a.id);
        const devices = await eas.removeAccountDevices(a.id);
        io.out(`${a.email}: ended ${sessions} webmail session${sessions === 1 ? "" : "s"}, removed ${devices} ActiveSync device${devices === 1 ? "" : "s"}\n`);
      });
    },
  },
];
