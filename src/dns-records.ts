/**
 * The DNS records a domain needs to send and receive mail with Pillarbox,
 * printed by `pillarbox quickstart` (and usable by an admin UI).
 */
export interface DnsRecord {
  name: string; // fully qualified, with trailing dot
  type: "MX" | "A" | "AAAA" | "TXT" | "SRV" | "CNAME" | "CAA" | "TLSA";
  value: string; // zone-file syntax
  comment: string;
}

/** Splits a TXT value into quoted strings of at most 255 octets (RFC 1035 §3.3.14). */
export function txtValue(text: string): string {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += 255) chunks.push(`"${text.slice(i, i + 255)}"`);
  return chunks.join(" ");
}

export function dkimRecord(domain: string, selector: string, publicKeyB64: string): DnsRecord {
  return {
    name: `${selector}._domainkey.${domain}.`,
    type: "TXT",
    value: txtValue(`v=DKIM1; k=rsa; p=${publicKeyB64}`),
    comment: "DKIM public key (RFC 6376 §3.6.1): receivers verify Pillarbox's signatures with it",
  };
}

export interface DnsRecordInput {
  domain: string;
  /** The server's host name (MX target, SRV targets, certificate name). */
  hostname: string;
  dkimSelector: string | null;
  dkimPublicKey: string | null;
  /** Where DMARC and TLS-RPT reports go. */
  reportAddress: string;
  /** MTA-STS policy id; changes whenever the policy changes. */
  mtaStsId?: string;
  /** The port clients reach HTTPS on (CalDAV/CardDAV SRV records), default 443. */
  httpsPort?: number;
  /** The ManageSieve listener's port (RFC 5804 §1.8 SRV `_sieve._tcp`), default 4190; null: the listener is off, no record. */
  manageSievePort?: number | null;
  /** The server's public addresses (src/public-ip.ts or --public-ip); null/absent prints a placeholder A record. */
  ipv4?: string | null;
  ipv6?: string | null;
  /** CAA issuer domain of the CA that may issue for the domain (RFC 8659), e.g. "letsencrypt.org"; absent: no CAA record. */
  caaIssuer?: string | null;
  /** DANE-EE SPKI SHA-256 of the certificate key, hex (RFC 7672 §3.1.3, TLSA 3 1 1); only when the key is kept across renewals. */
  tlsaSpkiSha256?: string | null;
}

export function dnsRecords(i: DnsRecordInput): DnsRecord[] {
  const d = i.domain;
  const h = `${i.hostname}.`;
  const id = i.mtaStsId ?? new Date().toISOString().replace(/[-:TZ.]/g, "").slice(0, 14);
  const srv = (service: string, prio: number, port: number, what: string): DnsRecord => ({
    name: `_${service}._tcp.${d}.`,
    type: "SRV",
    value: `${prio} 1 ${port} ${h}`,
    comment: what,
  });
  const out: DnsRecord[] = [
    { name: `${d}.`, type: "MX", value: `10 ${h}`, comment: "mail for the domain goes to this server" },
    i.ipv4
      ? { name: h, type: "A", value: i.ipv4, comment: `this server's IPv4 address (seen on its interfaces or given with --public-ip); also a PTR (reverse DNS) record naming ${i.hostname}` }
      : { name: h, type: "A", value: "<this server's public IPv4 address>", comment: "no public address on this machine's interfaces (NAT?): fill in the address the internet reaches, or pass --public-ip; also a PTR (reverse DNS) record naming " + i.hostname },
  ];
  if (i.ipv6) out.push({ name: h, type: "AAAA", value: i.ipv6, comment: `this server's IPv6 address; also a PTR record naming ${i.hostname}` });
  out.push({ name: `${d}.`, type: "TXT", value: txtValue("v=spf1 mx -all"), comment: "SPF (RFC 7208): only the MX hosts send for the domain" });
  // RFC 7208 §2.3: receivers also check the HELO name; a record for the host name lets that check pass.
  if (i.hostname !== d) out.push({ name: h, type: "TXT", value: txtValue("v=spf1 a -all"), comment: `SPF for the host name (RFC 7208 §2.3): the HELO/EHLO identity ${i.hostname} sends only from its own address` });
  if (i.dkimSelector && i.dkimPublicKey) out.push(dkimRecord(d, i.dkimSelector, i.dkimPublicKey));
  out.push(
    {
      name: `_dmarc.${d}.`,
      type: "TXT",
      value: txtValue(`v=DMARC1; p=none; rua=mailto:${i.reportAddress}`),
      comment: "DMARC (RFC 7489): starts at p=none with daily reports; once the reports show only your servers send for the domain, tighten it to p=quarantine, then p=reject",
    },
    { name: `_mta-sts.${d}.`, type: "TXT", value: txtValue(`v=STSv1; id=${id}`), comment: "MTA-STS (RFC 8461): senders must use TLS; needs the policy host below and a trusted certificate" },
    { name: `mta-sts.${d}.`, type: "CNAME", value: h, comment: `policy host: serves https://mta-sts.${d}/.well-known/mta-sts.txt (its certificate must cover mta-sts.${d})` },
    { name: `_smtp._tls.${d}.`, type: "TXT", value: txtValue(`v=TLSRPTv1; rua=mailto:${i.reportAddress}`), comment: "TLS-RPT (RFC 8460): daily reports about TLS failures" },
    srv("submissions", 0, 465, "mail submission over implicit TLS (RFC 8314)"),
    srv("submission", 10, 587, "mail submission with STARTTLS (RFC 6186)"),
    srv("imaps", 0, 993, "IMAP over implicit TLS (RFC 8314)"),
    srv("imap", 10, 143, "IMAP with STARTTLS (RFC 6186)"),
    srv("pop3s", 20, 995, "POP3 over implicit TLS (RFC 8314)"),
    ...(i.manageSievePort === null ? [] : [srv("sieve", 0, i.manageSievePort ?? 4190, "ManageSieve: Sieve filter uploads (RFC 5804 §1.8)")]),
    srv("autodiscover", 0, 443, "autodiscover for Exchange clients (EWS: Outlook for Mac, macOS Mail, Thunderbird) and ActiveSync"),
    ...davRecords(d, h, i.httpsPort ?? 443),
    { name: `autoconfig.${d}.`, type: "CNAME", value: h, comment: "Thunderbird autoconfig" },
    { name: `autodiscover.${d}.`, type: "CNAME", value: h, comment: "autodiscover for Exchange (EWS) clients and phones" },
  );
  if (i.caaIssuer) {
    // RFC 8659 §4: CAA is looked up from the certified name up the tree; the domain's record covers its subdomains.
    const caa = (name: string): DnsRecord => ({ name, type: "CAA", value: `0 issue "${i.caaIssuer}"`, comment: `CAA (RFC 8659): only ${i.caaIssuer} may issue certificates for these names` });
    out.push(caa(`${d}.`));
    if (!i.hostname.endsWith(`.${d}`) && i.hostname !== d) out.push(caa(h));
  }
  if (i.tlsaSpkiSha256) {
    out.push({
      name: `_25._tcp.${h}`,
      type: "TLSA",
      value: `3 1 1 ${i.tlsaSpkiSha256}`,
      comment: "DANE (RFC 7672): senders that check DNSSEC require TLS with this key on port 25; the ACME certificate keeps its key across renewals, so the record stays valid (publish only in a DNSSEC-signed zone)",
    });
  }
  return out;
}

/**
 * CalDAV/CardDAV discovery (RFC 6764): SRV records for the TLS services with
 * a TXT record giving the context path (§3, §4), and the plain-text services
 * declared absent with target "." (RFC 2782; RFC 6764 §3 recommends
 * TLS-only), so clients never fall back to an unencrypted connection.
 */
function davRecords(d: string, h: string, port: number): DnsRecord[] {
  const out: DnsRecord[] = [];
  for (const [service, what] of [["caldav", "CalDAV (calendars, tasks)"], ["carddav", "CardDAV (contacts)"]] as const) {
    out.push(
      { name: `_${service}s._tcp.${d}.`, type: "SRV", value: `0 1 ${port} ${h}`, comment: `${what} over HTTPS (RFC 6764 §3)` },
      { name: `_${service}s._tcp.${d}.`, type: "TXT", value: txtValue("path=/dav/"), comment: `${what}: the context path clients start from (RFC 6764 §4)` },
      { name: `_${service}._tcp.${d}.`, type: "SRV", value: "0 0 0 .", comment: `${what} without TLS is not offered (RFC 6764 §3, RFC 2782 target ".")` },
    );
  }
  return out;
}

/** Zone-file lines with a comment above each record. */
export function formatZone(records: DnsRecord[]): string {
  const w = Math.max(...records.map((r) => r.name.length));
  return records.map((r) => `; ${r.comment}\n${r.name.padEnd(w)}  3600  IN  ${r.type.padEnd(5)}  ${r.value}`).join("\n") + "\n";
}
