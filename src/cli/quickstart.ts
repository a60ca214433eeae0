/** `pillarbox quickstart ADMIN_EMAIL`: a working setup in one command. */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname as osHostname } from "node:os";
import { join } from "node:path";
import { DEFAULT_CONFIG_FILE } from "../config.ts";
import { dnsRecords, formatZone } from "../dns-records.ts";
import { caaIssuerFor, ensureCertKey, tlsaSpkiSha256 } from "../acme/dns.ts";
import { storedAcmeStatus } from "../acme/status.ts";
import { effectiveMtaStsMode, mtaStsId, mtaStsPolicy } from "../mta-sts.ts";
import { detectPublicAddresses, parsePublicIps } from "../public-ip.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { checkNewAddress, generatePassword, passwordFromStdin, UsageError, withStore } from "./common.ts";

/** The [acme] section `quickstart --acme` writes (or appends to a kept config file). */
function acmeSection(email: string): string {
  return `
# Certificates from Let's Encrypt (ACME, RFC 8555) for the host name and the
# autoconfig/autodiscover/mta-sts names of each domain, renewed by themselves.
# Needs port 80 (or 443) reachable from the internet and the DNS records below.
[acme]
enabled = true
email = "${email}"
`;
}

function configText(hostname: string, acmeEmail: string | null): string {
  return `# Pillarbox configuration, written by \`pillarbox quickstart\` on ${new Date().toISOString()}.
# Every setting is described in docs/CONFIG.md (or: pillarbox serve --help).
# Environment variables (PILLARBOX_*) override this file; command-line flags override both.

hostname = "${hostname}"

${
    acmeEmail
      ? acmeSection(acmeEmail)
      : `
# A trusted certificate instead of the self-signed one: let Pillarbox get it
# from Let's Encrypt (pillarbox quickstart --acme writes this):
# [acme]
# enabled = true
# email = "you@example.org"
# or name certificate files (reloaded on SIGHUP and when the files change):
# [tls]
# cert_file = "/etc/ssl/${hostname}/fullchain.pem"
# key_file = "/etc/ssl/${hostname}/privkey.pem"
`
  }
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
# managesieve = "0.0.0.0:4190"

# [limits]
# max_message_size = "50M"
`;
}

export const quickstartCommands: Command[] = [
  {
    name: "quickstart",
    usage: "ADMIN_EMAIL [--hostname HOST] [--acme] [--public-ip IP[,IPv6]] [--password-stdin] [--force]",
    summary: "set up a domain and an admin account, write a config file, print the DNS records",
    help: `Creates the domain of ADMIN_EMAIL (with a DKIM key), the admin account (password generated
and printed once unless --password-stdin), the aliases postmaster@ and abuse@ (RFC 2142)
pointing at it, writes <data dir>/${DEFAULT_CONFIG_FILE} (kept if it exists, unless --force),
and prints every DNS record to publish: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV records
for client autoconfiguration (RFC 6186, RFC 8314) and ManageSieve (RFC 5804), CalDAV/CardDAV SRV and TXT records
(RFC 6764, on the HTTPS port) and autoconfig/autodiscover CNAMEs.
The host name defaults to $PILLARBOX_HOSTNAME, else this machine's name if it is inside the
domain, else mail.<domain>.
--acme turns on certificates from Let's Encrypt in the config (appended to a kept file): the
certificate comes once the DNS records point here; the records then include CAA for the CA
and a DANE TLSA record for the certificate key, which is made now and kept across renewals.
The A/AAAA records use the public addresses of this machine's interfaces, or --public-ip.
The admin account may sign in to the web admin at https://HOST/admin.`,
    options: {
      ...COMMON_OPTIONS,
      hostname: { value: true, arg: "HOST", help: "public host name of this server (MX target)" },
      "password-stdin": { help: "read the admin password from the first line of standard input" },
      force: { help: `overwrite an existing ${DEFAULT_CONFIG_FILE}` },
      acme: { help: "get the certificate from Let's Encrypt (ACME): writes [acme] enabled = true" },
      "public-ip": { value: true, arg: "IP[,IPv6]", help: "the server's public address(es) for the A/AAAA records (default: from the interfaces)" },
    },
    args: [1, 1],
    async run(args, io) {
      const admin = checkNewAddress(args.positionals[0]!, "quickstart");
      const domain = admin.slice(admin.lastIndexOf("@") + 1);
      const given = args.options["password-stdin"] ? await passwordFromStdin(io) : null;
      const wantAcme = args.options["acme"] === true;
      let ips: { ipv4: string | null; ipv6: string | null };
      try {
        ips = typeof args.options["public-ip"] === "string" ? parsePublicIps(args.options["public-ip"]) : detectPublicAddresses();
      } catch (e) {
        throw new UsageError((e as Error).message, "quickstart");
      }
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
          // The account quickstart makes runs the web admin (/admin).
          await store.setAccountFlags(admin, { admin: true });
          io.out(`added account ${admin} (admin)\n`);
        }
        const aliases = await store.listAliases();
        for (const local of ["postmaster", "abuse"]) {
          const src = `${local}@${domain}`;
          if (src === admin || (await store.getAccount(src)) || aliases.some((a) => a.source === src)) continue;
          await store.addAlias(src, admin);
          io.out(`added alias ${src} -> ${admin}\n`);
        }

        const file = join(config.dataDir, DEFAULT_CONFIG_FILE);
        // A kept config file names the host already: the records must match what the server will use.
        if (existsSync(file) && !args.options["force"] && typeof args.options["hostname"] !== "string" && !io.env["PILLARBOX_HOSTNAME"]) hostname = config.hostname;
        if (existsSync(file) && !args.options["force"]) {
          io.out(`kept existing config file ${file}\n`);
          if (wantAcme && !/^\s*\[acme\]/m.test(readFileSync(file, "utf8"))) {
            appendFileSync(file, acmeSection(admin));
            io.out(`turned on ACME in ${file} ([acme] enabled = true)\n`);
          } else if (wantAcme) io.out(`${file} has an [acme] section already: check that it says enabled = true\n`);
        } else {
          writeFileSync(file, configText(hostname, wantAcme ? admin : null), { mode: 0o600 });
          io.out(`wrote config file ${file} (hostname = ${hostname})\n`);
          io.out(`a server already running on this data dir applies it on SIGHUP: pillarbox reload (or systemctl reload pillarbox); listener changes need a restart\n`);
        }

        if (password && !given) io.out(`\nadmin password: ${password}\n(shown once; change it with: pillarbox user passwd ${admin})\n`);

        // CalDAV/CardDAV SRV records point at the HTTPS listener (443 unless configured otherwise or off).
        const https = config.listeners.HTTPS;
        const httpsPort = https && https.port > 0 ? https.port : 443;
        const acmeOn = wantAcme || config.acme.enabled;
        const stored = storedAcmeStatus(config);
        const policy = mtaStsPolicy(hostname, effectiveMtaStsMode({ mtaSts: config.mtaSts, hostname }, stored ? [stored] : []), config.mtaSts.maxAgeSeconds);
        const records = dnsRecords({
          domain,
          hostname,
          dkimSelector: dom.dkimSelector,
          dkimPublicKey: dom.dkimPublicKey,
          reportAddress: `postmaster@${domain}`,
          httpsPort,
          // RFC 5804 §1.8: _sieve._tcp names the ManageSieve port (no record when the listener is off).
          manageSievePort: config.listeners.MANAGESIEVE ? (config.listeners.MANAGESIEVE.port > 0 ? config.listeners.MANAGESIEVE.port : 4190) : null,
          mtaStsId: mtaStsId(policy),
          ipv4: ips.ipv4,
          ipv6: ips.ipv6,
          caaIssuer: acmeOn ? caaIssuerFor(config.acme.directoryUrl) : null,
          // The ACME key is made now and kept across renewals: its TLSA record holds from the first certificate on.
          tlsaSpkiSha256: acmeOn ? tlsaSpkiSha256(ensureCertKey(config.dataDir)) : null,
        });
        io.out(`\nDNS records to publish for ${domain}:\n\n`);
        io.out(formatZone(records));
        io.out(`
Next steps:
  - Publish the records above; ${ips.ipv4 ? "check that the A record is the address the internet reaches (behind NAT: the router's)" : "replace the A record value with this server's public address"}.
${
  acmeOn
    ? `  - The certificate for ${hostname}, mta-sts.${domain}, autoconfig.${domain} and autodiscover.${domain} comes
    from Let's Encrypt by itself once these names point here and port 80 (or 443) is open; until then
    clients see a self-signed certificate. Follow it with: pillarbox check
    The TLSA record is optional: publish it only in a DNSSEC-signed zone.`
    : `  - Get a trusted certificate: run quickstart again with --acme (Let's Encrypt, renewed by itself),
    or set [tls] cert_file / key_file in ${file}; until then clients see a self-signed certificate.`
}
  - DMARC starts at p=none (reports only): tighten it to p=quarantine, then p=reject, once the reports
    show that only this server sends for ${domain}.
  - Start the server: pillarbox serve${args.options["data-dir"] ? ` --data-dir ${args.options["data-dir"]}` : ""}
  - Web admin: https://${hostname}${httpsPort === 443 ? "" : `:${httpsPort}`}/admin (sign in as ${admin})
`);
      });
    },
  },
];
