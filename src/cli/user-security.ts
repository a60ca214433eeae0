/**
 * `pillarbox user admin|disable|enable|2fa|app-password`: the account flags,
 * two-factor sign-in and app passwords (issue 18). Everything here works on
 * a running server's data dir: the credential stamp makes a running server
 * refuse a revoked app password, a disabled account or a main password no
 * longer allowed at once.
 */
import type { MailStore } from "../../storage/api.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { CliError, checkEmail, table, UsageError, withStore } from "./common.ts";

const when = (ms: number | null) => (ms === null ? "never" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

async function accountOf(store: MailStore, email: string) {
  const a = await store.getAccount(email);
  if (!a) throw new CliError(`no such account: ${email}`);
  return a;
}

function onOff(v: string, cmd: string): boolean {
  if (v === "on") return true;
  if (v === "off") return false;
  throw new UsageError(`say on or off, not ${JSON.stringify(v)}`, cmd);
}

export const userSecurityCommands: Command[] = [
  {
    name: "user admin",
    usage: "EMAIL on|off",
    summary: "let the account open the web admin at /admin (on), or not (off)",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user admin");
      const on = onOff(args.positionals[1]!, "user admin");
      await withStore(args, io, async (store) => {
        const a = await store.setAccountFlags(email, { admin: on });
        io.out(`${a.email} ${a.admin ? "is an administrator: sign in at https://<host>/admin" : "is not an administrator"}\n`);
      });
    },
  },
  {
    name: "user disable",
    usage: "EMAIL",
    summary: "refuse every sign-in of the account (its mail stays and still arrives); ends its webmail sessions",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user disable");
      await withStore(args, io, async (store) => {
        const a = await store.setAccountFlags(email, { disabled: true });
        io.out(`${a.email} is disabled: IMAP, POP3, SMTP, ActiveSync, DAV and the webmail refuse it (pillarbox user enable ${a.email} to undo)\n`);
      });
    },
  },
  {
    name: "user enable",
    usage: "EMAIL",
    summary: "allow sign-ins of a disabled account again",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user enable");
      await withStore(args, io, async (store) => {
        const a = await store.setAccountFlags(email, { disabled: false });
        io.out(`${a.email} is enabled\n`);
      });
    },
  },
  {
    name: "user 2fa",
    usage: "EMAIL status|reset",
    summary: "show two-factor sign-in of the account, or turn it off (the owner lost the phone and the recovery codes)",
    help:
      "status: whether two-factor sign-in is on and how many recovery codes are left.\n" +
      "reset: turns it off (secret and recovery codes deleted): the owner signs in to the webmail\n" +
      "with the password alone and sets it up again under Settings > Security. App passwords\n" +
      "stay valid. Check who is asking before you do this: it removes the second factor.",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user 2fa");
      const action = args.positionals[1]!;
      if (action !== "status" && action !== "reset") throw new UsageError(`unknown action ${JSON.stringify(action)}: status or reset`, "user 2fa");
      await withStore(args, io, async (store) => {
        const a = await accountOf(store, email);
        if (action === "reset") {
          await store.resetTwoFactor(a.id);
          io.out(`two-factor sign-in is off for ${a.email}; the owner can set it up again in the webmail (Settings > Security)\n`);
          return;
        }
        const s = await store.twoFactorStatus(a.id);
        io.out(s.enabled ? `two-factor sign-in: on (${s.recoveryCodesLeft} recovery code${s.recoveryCodesLeft === 1 ? "" : "s"} left)\n` : "two-factor sign-in: off\n");
      });
    },
  },
  {
    name: "user app-password",
    usage: "EMAIL add NAME | list | revoke ID",
    summary: "app passwords for mail apps (IMAP, POP3, SMTP, ActiveSync, DAV): add one (shown once), list, revoke",
    help:
      "An app password is a separate password for one device or program, named so you know which\n" +
      "one to revoke. It opens IMAP, POP3, SMTP, ActiveSync and CalDAV/CardDAV, never the webmail or\n" +
      "the admin. With two-factor sign-in on, it is the only way those protocols get in.\n" +
      "Revoking one ends that device's access at once, also on a running server.",
    options: COMMON_OPTIONS,
    args: [2, 3],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "user app-password");
      const action = args.positionals[1]!;
      const arg = args.positionals[2];
      await withStore(args, io, async (store) => {
        const a = await accountOf(store, email);
        if (action === "add") {
          if (!arg) throw new UsageError("add needs a NAME (e.g. \"Phone\")", "user app-password");
          const { info, password } = await store.createAppPassword(a.id, arg);
          io.out(`app password ${info.id} "${info.name}" for ${a.email}: ${password}\n(shown once; use it as the password in the mail app)\n`);
          return;
        }
        if (action === "list") {
          if (arg !== undefined) throw new UsageError("list takes no argument", "user app-password");
          const list = await store.listAppPasswords(a.id);
          if (!list.length) {
            io.out(`no app passwords for ${a.email} (add one with: pillarbox user app-password ${a.email} add NAME)\n`);
            return;
          }
          const rows = [["ID", "NAME", "CREATED", "LAST USED", "PROTOCOL"]];
          for (const p of list) rows.push([String(p.id), p.name, when(p.createdAt), when(p.lastUsedAt), p.lastUsedProtocol ?? "-"]);
          io.out(table(rows));
          return;
        }
        if (action === "revoke") {
          const id = arg !== undefined && /^\d{1,15}$/.test(arg) ? Number(arg) : NaN;
          if (!Number.isSafeInteger(id)) throw new UsageError("revoke needs the ID shown by list", "user app-password");
          if (!(await store.revokeAppPassword(a.id, id))) throw new CliError(`${a.email} has no app password ${id}`);
          io.out(`app password ${id} of ${a.email} revoked\n`);
          return;
        }
        throw new UsageError(`unknown action ${JSON.stringify(action)}: add, list or revoke`, "user app-password");
      });
    },
  },
];
