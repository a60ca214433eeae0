/** `pillarbox device list|remove|wipe`: ActiveSync devices (storage/eas-store.ts). */
import type { MailStore } from "../../storage/api.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkEmail, table, UsageError, withStore } from "./common.ts";

async function account(store: MailStore, email: string, command: string) {
  const a = await store.getAccount(email);
  if (!a) throw new UsageError(`no account ${email}`, command);
  return a;
}


const when = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z"));

export const deviceCommands: Command[] = [
  {
    name: "device list",
    usage: "[EMAIL]",
    summary: "list ActiveSync devices (of one account, or all)",
    options: COMMON_OPTIONS,
    args: [0, 1],
    async run(args, io) {
      const email = args.positionals[0] !== undefined ? checkEmail(args.positionals[0], "device list") : undefined;
      await withStore(args, io, async (store, _config, storage) => {
        const accountId = email ? (await account(store, email, "device list")).id : undefined;
        const devices = await storage.eas.listDevices(accountId);
        if (devices.length === 0) {
          io.out("no devices\n");
          return;
        }
        io.out(
          table([
            ["ACCOUNT", "DEVICE ID", "TYPE", "MODEL", "NAME", "PROTOCOL", "PROVISIONED", "WIPE", "LAST SEEN"],
            ...devices.map((d) => [d.email, d.deviceId, d.deviceType || "-", d.model ?? "-", d.friendlyName ?? "-", d.protocolVersion ?? "-", d.policyKey !== null ? "yes" : "no", d.wipeStatus, when(d.lastSeen)]),
          ]),
        );
      });
    },
  },
  {
    name: "device remove",
    usage: "EMAIL DEVICE-ID",
    summary: "forget a device and its sync state (it provisions and syncs again from scratch)",
    options: COMMON_OPTIONS,
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "device remove");
      const deviceId = args.positionals[1]!;
      return await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email, "device remove");
        if (!(await storage.eas.removeDevice(a.id, deviceId))) {
          io.err(`no device ${deviceId} for ${email}\n`);
          return 1;
        }
        io.out(`removed device ${deviceId} of ${email}\n`);
        return 0;
      });
    },
  },
  {
    name: "device wipe",
    usage: "EMAIL DEVICE-ID [--account-only]",
    summary: "order a remote wipe: the device erases itself at its next contact",
    help: "The device receives the wipe order through Provision the next time it connects,\nconfirms it, and is locked out afterwards (remove it to allow it again).\n--account-only asks a 16.1 device to remove only this account's data.",
    options: { ...COMMON_OPTIONS, "account-only": { help: "wipe only this account's data (protocol 16.1 devices)" } },
    args: [2, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "device wipe");
      const deviceId = args.positionals[1]!;
      return await withStore(args, io, async (store, _config, storage) => {
        const a = await account(store, email, "device wipe");
        if (!(await storage.eas.requestWipe(a.id, deviceId, !!args.options["account-only"]))) {
          io.err(`no device ${deviceId} for ${email}\n`);
          return 1;
        }
        io.out(`remote wipe ordered for device ${deviceId} of ${email}; it happens at the device's next connection\n`);
        return 0;
      });
    },
  },
  {
    name: "device policy",
    usage: "EMAIL [required|none]",
    summary: "show or set whether the account's devices must accept the ActiveSync policy (Provision)",
    help: "required (the default): a device must provision before it may sync.\nnone: devices sync without provisioning (remote wipe then needs provisioning again).",
    options: COMMON_OPTIONS,
    args: [1, 2],
    async run(args, io) {
      const email = checkEmail(args.positionals[0]!, "device policy");
      const want = args.positionals[1];
      if (want !== undefined && want !== "required" && want !== "none") throw new UsageError("the policy is required or none", "device policy");
      await withStore(args, io, async (store) => {
        const a = await account(store, email, "device policy");
        if (want !== undefined) await store.updateSettings(a.id, { easPolicy: want === "none" ? "none" : undefined });
        const now = want ?? (a.settings.easPolicy === "none" ? "none" : "required");
        io.out(`${email}: ActiveSync policy ${now}\n`);
      });
    },
  },
];
