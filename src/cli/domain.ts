/** `pillarbox domain add|list|remove`. */
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkDomain, table, withStore } from "./common.ts";
import { dkimRecord } from "../dns-records.ts";

export const domainCommands: Command[] = [
  {
    name: "domain add",
    usage: "DOMAIN",
    summary: "add a mail domain (creates its DKIM key)",
    help: "Adds DOMAIN as a local mail domain and creates an RSA-2048 DKIM key for it.\nPrints the DKIM TXT record to publish. `pillarbox quickstart` prints every record.",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const name = checkDomain(args.positionals[0]!, "domain add");
      await withStore(args, io, async (store) => {
        const d = await store.addDomain(name);
        io.out(`added domain ${d.name}\n`);
        if (d.dkimSelector && d.dkimPublicKey) {
          const r = dkimRecord(d.name, d.dkimSelector, d.dkimPublicKey);
          io.out(`publish this DKIM record:\n${r.name} IN TXT ${r.value}\n`);
        }
      });
    },
  },
  {
    name: "domain list",
    usage: "",
    summary: "list mail domains",
    options: COMMON_OPTIONS,
    args: [0, 0],
    async run(args, io) {
      await withStore(args, io, async (store) => {
        const domains = await store.listDomains();
        const accounts = await store.listAccounts();
        if (domains.length === 0) {
          io.out("no domains (add one with: pillarbox domain add DOMAIN)\n");
          return;
        }
        const rows = [["DOMAIN", "ACCOUNTS", "DKIM SELECTOR"]];
        for (const d of domains) rows.push([d.name, String(accounts.filter((a) => a.domainId === d.id).length), d.dkimSelector ?? "-"]);
        io.out(table(rows));
      });
    },
  },
  {
    name: "domain remove",
    usage: "DOMAIN",
    summary: "remove a mail domain (only when it has no accounts)",
    options: COMMON_OPTIONS,
    args: [1, 1],
    async run(args, io) {
      const name = checkDomain(args.positionals[0]!, "domain remove");
      await withStore(args, io, async (store) => {
        await store.removeDomain(name);
        io.out(`removed domain ${name}\n`);
      });
    },
  },
];
