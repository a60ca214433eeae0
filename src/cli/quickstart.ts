/** `pillarbox quickstart ADMIN_EMAIL`: a working setup in one command. */
import { existsSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG_FILE } from "../config.ts";
import { dnsRecords, formatZone } from "../dns-records.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkNewAddress, generatePassword, passwordFromStdin, UsageError, withStore } from "./common.ts";

function configText(hostname: string): string {
  return `# Pillarbox configuration, written by \`pillarbox quickstart\` on ${new Date().toISOString()}.
# Every setting is described in docs/CONFIG.md (or: pillarbox serve --help).
# Environment variables (PILLARBOX_*) override this file; command-line flags override both.

hostname = "${hostname}"

# A certificate from a public CA (e.g. Let's Encrypt) instead of the self-signed one.
# Reloaded on SIGHUP and when the files change.
# [tls]
# cert_file = "/etc/letsencrypt/live/${hostname}/fullchain.pem"
# key_file = "/etc/letsencrypt/live/${hostname}/privkey.pem"

# Listeners: "host:port" or "off".
# [listen]
# smtp = "0.0.0.0:25"
# submission = "0.0.0.0:587"
# submissions = "0.0.0.0:465"
# imap = "0.0.0.0:143"
# imaps = "0.0.0.0:993"
# pop3 = "0.0.0.0:110"
# pop3s = "0.0.0.0:995"
# http = "0.0.0.0:80"
# https = "0.0.0.0:443"

# [limits]
# max_message_size = "50M"
`;
}

export const quickstartCommands: Command[] = [
  {
    name: "quickstart",
    usage: "ADMIN_EMAIL [--hostname HOST] [--password-stdin] [--force]",
    summary: "set up a domain and an admin account, write a config file, print the DNS records",
    help: `Creates the domain of ADMIN_EMAIL (with a DKIM key), the admin account (password generated
and printed once unless --password-stdin), the aliases postmaster@ and abuse@ (RFC 2142)
pointing at it, writes <data dir>/${DEFAULT_CONFIG_FILE} (kept if it exists, unless --force),
and prints every DNS record to publish: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV records
for client autoconfiguration (RFC 6186, RFC 8314), CalDAV/CardDAV SRV and TXT records
(RFC 6764, on the HTTPS port) and autoconfig/autodiscover CNAMEs.
The host name defaults to $PILLARBOX_HOSTNAME, else this machine's name if it is inside the
domain, else mail.<domain>.`,
    options: {
      ...COMMON_OPTIONS,
      hostname: { value: true, arg: "HOST", help: "public host name of this server (MX target)" },
      "password-stdin": { help: "read the admin password from the first line of standard input" },
      force: { help: `overwrite an existing ${DEFAULT_CONFIG_FILE}` },
    },
    args: [1, 1],
    async run(args, io) {
      const admin = checkNewAddress(args.positionals[0]!, "quickstart");
      const domain = admin.slice(admin.lastIndexOf("@") + 1);
      const given = args.options["password-stdin"] ? await passwordFromStdin(io) : null;
      let hostname: string;
      if (typeof args.options["hostname"] === "string") hostname = args.options["hostname"].toLowerCase();
      else if (io.env["PILLARBOX_HOSTNAME"]) hostname = io.env["PILLARBOX_HOSTNAME"].toLowerCase();
      else {
        const own = osHostname().toLowerCase();
        hostname = own.endsWith(`.${domain}`) ? own : `mail.${domain}`;
      }
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/.test(hostname)) {
        throw new UsageError(`not a fully qualified host name: ${JSON.stringify(hostname)}`, "quickstart");
      }

      await withStore(args, io, async (store, config) => {
        let dom = await store.getDomain(domain);
        if (dom) io.out(`domain ${domain} exists\n`);
        else {
          dom = await store.addDomain(domain);
          io.out(`added domain ${domain} (DKIM selector ${dom.dkimSelector})\n`);
        }
        let password: string | null = null;
        if (await store.getAccount(admin)) io.out(`account ${admin} exists; its password is unchanged\n`);
        else {
          password = given ?? generatePassword();
          await store.addAccount(admin, password, { displayName: "Administrator" });
          io.out(`added account ${admin}\n`);
        }
        const aliases = await store.listAliases();
        for (const local of ["postmaster", "abuse"]) {
          const src = `${local}@${domain}`;
          if (src === admin || (await store.getAccount(src)) || aliases.some((a) => a.source === src)) continue;
          await store.addAlias(src, admin);
          io.out(`added alias ${src} -> ${admin}\n`);
        }

        const file = join(config.dataDir, DEFAULT_CONFIG_FILE);
        if (existsSync(file) && !args.options["force"]) io.out(`kept existing config file ${file}\n`);
        else {
          writeFileSync(file, configText(hostname), { mode: 0o600 });
          io.out(`wrote config file ${file} (hostname = ${hostname})\n`);
          io.out(`a server already running on this data dir applies it on SIGHUP: pillarbox reload (or systemctl reload pillarbox); listener changes need a restart\n`);
        }

        if (password && !given) io.out(`\nadmin password: ${password}\n(shown once; change it with: pillarbox user passwd ${admin})\n`);

        // CalDAV/CardDAV SRV records point at the HTTPS listener (443 unless configured otherwise or off).
        const https = config.listeners.HTTPS;
        const httpsPort = https && https.port > 0 ? https.port : 443;
        const records = dnsRecords({ domain, hostname, dkimSelector: dom.dkimSelector, dkimPublicKey: dom.dkimPublicKey, reportAddress: `postmaster@${domain}`, httpsPort });
        io.out(`\nDNS records to publish for ${domain}:\n\n`);
        io.out(formatZone(records));
        io.out(`
Next steps:
  - Publish the records above; replace the A record value with this server's address.
  - Get a certificate for ${hostname} (and mta-sts.${domain}, autoconfig.${domain}, autodiscover.${domain})
    and set [tls] cert_file / key_file in ${file}; until then clients see a self-signed certificate.
  - Start the server: pillarbox serve${args.options["data-dir"] ? ` --data-dir ${args.options["data-dir"]}` : ""}
`);
      });
    },
  },
];
