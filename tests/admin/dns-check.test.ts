/**
 * The live DNS check (src/dns-check.ts) against a fake resolver: every
 * status (ok, missing, mismatch, error/timeout) for each kind of record, the
 * MTA-STS policy file, and the bounds (answer caps, a resolver that never
 * answers). The end-to-end check against dnsmasq is in api.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { checkDomainDns, parsePolicy, txtText, type CheckResolver } from "../../src/dns-check.ts";
import { dnsRecords, type DnsRecordInput } from "../../src/dns-records.ts";
import type { DnsRecordCheck } from "../../src/ops/types.ts";

const KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "x".repeat(300) + "IDAQAB";
const INPUT: DnsRecordInput = { domain: "example.org", hostname: "mail.example.org", dkimSelector: "pb202612", dkimPublicKey: KEY, reportAddress: "postmaster@example.org", httpsPort: 443 };

type Answers = Partial<Record<"MX" | "TXT" | "A" | "AAAA" | "CNAME" | "SRV" | "CAA" | "TLSA", Record<string, unknown>>>;

const err = (code: string) => Object.assign(new Error(code), { code });

/** A resolver answering from a table; a name absent from the table is NXDOMAIN, an Error value is thrown. */
function fakeResolver(a: Answers, opts: { tlsa?: boolean } = {}): CheckResolver {
  const get = <T>(type: keyof Answers, name: string): Promise<T> => {
    const v = a[type]?.[name];
    if (v === undefined) return Promise.reject(err("ENOTFOUND"));
    if (v instanceof Error) return Promise.reject(v);
    if (v === "hang") return new Promise<T>(() => {});
    return Promise.resolve(v as T);
  };
  return {
    resolveMx: (n) => get("MX", n),
    resolveTxt: (n) => get("TXT", n),
    resolve4: (n) => get("A", n),
    resolve6: (n) => get("AAAA", n),
    resolveCname: (n) => get("CNAME", n),
    resolveSrv: (n) => get("SRV", n),
    resolveCaa: (n) => get("CAA", n),
    ...(opts.tlsa ? { resolveTlsa: (n: string) => get<string[]>("TLSA", n) } : {}),
  };
}

/** Everything quickstart prints, published exactly. */
function perfectZone(input: DnsRecordInput = INPUT): Answers {
  const out: Answers = { MX: {}, TXT: {}, A: {}, AAAA: {}, CNAME: {}, SRV: {}, CAA: {}, TLSA: {} };
  for (const r of dnsRecords({ mtaStsId: "20261207", ...input })) {
    const name = r.name.replace(/\.$/, "");
    const type = r.type as string;
    if (type === "MX") out.MX![name] = [{ priority: 10, exchange: "mail.example.org" }];
    else if (type === "A") out.A![name] = [r.value.startsWith("<") ? "192.0.2.10" : r.value];
    else if (type === "AAAA") out.AAAA![name] = [r.value];
    else if (type === "TXT") {
      const text = txtText(r.value);
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += 255) chunks.push(text.slice(i, i + 255));
      ((out.TXT![name] ??= []) as string[][]).push(chunks);
    } else if (type === "CNAME") out.CNAME![name] = [r.value.replace(/\.$/, "")];
    else if (type === "SRV") {
      const [priority, weight, port, target] = r.value.split(/\s+/);
      ((out.SRV![name] ??= []) as unknown[]).push({ priority: Number(priority), weight: Number(weight), port: Number(port), name: target === "." ? "" : target!.replace(/\.$/, "") });
    } else if (type === "CAA") {
      const m = /^(\d+)\s+(\w+)\s+"([^"]*)"/.exec(r.value)!;
      ((out.CAA![name] ??= []) as unknown[]).push({ critical: Number(m[1]), [m[2]!]: m[3] });
    } else if (type === "TLSA") ((out.TLSA![name] ??= []) as string[]).push(r.value);
  }
  return out;
}

const GOOD_POLICY = "version: STSv1\r\nmode: testing\r\nmx: mail.example.org\r\nmax_age: 86400\r\n";
const byPurpose = (records: DnsRecordCheck[], p: string) => {
  const r = records.find((x) => x.purpose === p);
  if (!r) throw new Error(`no record for ${p}: ${records.map((x) => x.purpose).join(", ")}`);
  return r;
};

describe("dns check with a fake resolver", () => {
  test("a zone published exactly as quickstart prints it is ok everywhere", async () => {
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(perfectZone(), { tlsa: true }), fetchPolicy: async () => GOOD_POLICY, now: () => 42 });
    expect(rep.domain).toBe("example.org");
    expect(rep.checkedAt).toBe(42);
    expect(rep.zone).toContain("_dmarc.example.org.");
    const bad = rep.records.filter((r) => r.status !== "ok");
    expect(bad).toEqual([]);
    for (const p of ["MX", "SPF", "DKIM", "DMARC", "MTA-STS", "MTA-STS policy", "TLS-RPT", "SRV imaps", "SRV submission", "autoconfig", "autodiscover", "MTA-STS host"]) {
      expect(byPurpose(rep.records, p).status).toBe("ok");
    }
    expect(byPurpose(rep.records, "MX").found).toEqual(["10 mail.example.org."]);
  });

  test("with the ACME extras (addresses, SPF for the host, CAA, TLSA): ok when published, mismatch or missing otherwise", async () => {
    const full: DnsRecordInput = { ...INPUT, mtaStsId: "abc", ipv4: "192.0.2.25", ipv6: "2001:db8::25", caaIssuer: "letsencrypt.org", tlsaSpkiSha256: "ab".repeat(32) };
    const zone = perfectZone(full);
    let rep = await checkDomainDns(full, { resolver: fakeResolver(zone, { tlsa: true }), fetchPolicy: async () => GOOD_POLICY });
    expect(rep.records.filter((r) => r.status !== "ok")).toEqual([]);
    for (const p of ["A (host)", "AAAA (host)", "SPF (host)", "CAA", "TLSA"]) expect(byPurpose(rep.records, p).status).toBe("ok");
    expect(byPurpose(rep.records, "TLSA").name).toBe("_25._tcp.mail.example.org");

    zone.A!["mail.example.org"] = ["198.51.100.1"];
    zone.CAA!["example.org"] = [{ critical: 0, issue: "pki.goog" }];
    zone.TLSA!["_25._tcp.mail.example.org"] = [`3 1 1 ${"cd".repeat(32)}`];
    zone.TXT!["mail.example.org"] = [["v=spf1 ip4:192.0.2.25 -all"]];
    rep = await checkDomainDns(full, { resolver: fakeResolver(zone, { tlsa: true }), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "A (host)").status).toBe("mismatch");
    expect(byPurpose(rep.records, "A (host)").note).toContain("192.0.2.25");
    expect(byPurpose(rep.records, "CAA").status).toBe("mismatch");
    expect(byPurpose(rep.records, "TLSA").status).toBe("mismatch");
    expect(byPurpose(rep.records, "TLSA").note).toContain("key");
    expect(byPurpose(rep.records, "SPF (host)").status).toBe("ok");

    delete zone.TLSA!["_25._tcp.mail.example.org"];
    delete zone.CAA!["example.org"];
    rep = await checkDomainDns(full, { resolver: fakeResolver(zone, { tlsa: true }), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "TLSA").status).toBe("missing");
    expect(byPurpose(rep.records, "CAA").status).toBe("missing");
  });

  test("missing records are 'missing' with a reason, not errors", async () => {
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver({}), fetchPolicy: async () => Promise.reject(new Error("mta-sts.example.org has no address")) });
    for (const p of ["MX", "SPF", "DKIM", "DMARC", "TLS-RPT", "SRV imaps", "autoconfig"]) {
      const r = byPurpose(rep.records, p);
      expect(r.status).toBe("missing");
      expect(r.found).toEqual([]);
      expect(r.note?.length).toBeGreaterThan(5);
    }
    const pol = byPurpose(rep.records, "MTA-STS policy");
    expect(pol.status).toBe("error");
    expect(pol.note).toContain("has no address");
  });

  test("NODATA counts as missing too", async () => {
    const zone = perfectZone();
    zone.TXT!["_dmarc.example.org"] = err("ENODATA");
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "DMARC").status).toBe("missing");
  });

  test("records that differ are mismatches, naming what is wrong", async () => {
    const zone = perfectZone();
    zone.MX!["example.org"] = [{ priority: 10, exchange: "mx.other.net" }];
    zone.TXT!["example.org"] = [["v=spf1 include:_spf.other.net -all"]];
    zone.TXT!["pb202612._domainkey.example.org"] = [["v=DKIM1; k=rsa; p=AAAAB3NzaC1yc2E"]];
    zone.TXT!["_dmarc.example.org"] = [["v=DMARC1; p=none"], ["v=DMARC1; p=reject"]];
    zone.SRV!["_imaps._tcp.example.org"] = [{ priority: 0, weight: 1, port: 143, name: "mail.example.org" }];
    zone.CNAME!["autoconfig.example.org"] = ["web.other.net"];
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => "version: STSv1\nmode: enforce\nmx: mx.other.net\n" });
    const mx = byPurpose(rep.records, "MX");
    expect(mx.status).toBe("mismatch");
    expect(mx.found).toEqual(["10 mx.other.net."]);
    expect(mx.note).toContain("mail.example.org");
    expect(byPurpose(rep.records, "SPF").status).toBe("mismatch");
    expect(byPurpose(rep.records, "SPF").note).toContain("a:mail.example.org");
    expect(byPurpose(rep.records, "DKIM").note).toContain("not this domain's DKIM key");
    expect(byPurpose(rep.records, "DMARC").note).toContain("more than one");
    expect(byPurpose(rep.records, "SRV imaps").note).toContain("993");
    expect(byPurpose(rep.records, "autoconfig").status).toBe("mismatch");
    const pol = byPurpose(rep.records, "MTA-STS policy");
    expect(pol.status).toBe("mismatch");
    expect(pol.note).toContain("mail.example.org");
  });

  test("an SPF record that differs but names the MX hosts is ok with a note; two SPF records are a mismatch", async () => {
    const zone = perfectZone();
    zone.TXT!["example.org"] = [["v=spf1 mx ip4:192.0.2.0/24 ~all"]];
    let rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "SPF").status).toBe("ok");
    expect(byPurpose(rep.records, "SPF").note).toContain("differs");
    zone.TXT!["example.org"] = [["v=spf1 mx -all"], ["v=spf1 a -all"], ["google-site-verification=abc"]];
    rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    const spf = byPurpose(rep.records, "SPF");
    expect(spf.status).toBe("mismatch");
    expect(spf.found).toEqual(["v=spf1 mx -all", "v=spf1 a -all"]);
    expect(spf.note).toContain("RFC 7208");
  });

  test("an _mta-sts id other than the current policy's is a mismatch naming the id to publish", async () => {
    const rep = await checkDomainDns({ ...INPUT, mtaStsId: "abc123" }, { resolver: fakeResolver(perfectZone()), fetchPolicy: async () => GOOD_POLICY });
    const r = byPurpose(rep.records, "MTA-STS");
    expect(r.status).toBe("mismatch");
    expect(r.note).toContain("id=abc123");
    const zone = perfectZone();
    zone.TXT!["_mta-sts.example.org"] = [["v=STSv1; id=abc123"]];
    const good = await checkDomainDns({ ...INPUT, mtaStsId: "abc123" }, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(good.records, "MTA-STS").status).toBe("ok");
  });

  test("DMARC p=none is ok and says to tighten it", async () => {
    const zone = perfectZone();
    zone.TXT!["_dmarc.example.org"] = [["v=DMARC1; p=none; rua=mailto:dmarc@example.org"]];
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "DMARC").status).toBe("ok");
    expect(byPurpose(rep.records, "DMARC").note).toContain("tighten");
  });

  test("an A record with the host's address stands in for the autoconfig CNAME", async () => {
    const zone = perfectZone();
    delete zone.CNAME!["autoconfig.example.org"];
    zone.A!["autoconfig.example.org"] = ["192.0.2.10"];
    zone.A!["mail.example.org"] = ["192.0.2.10"];
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "autoconfig").status).toBe("ok");
    expect(byPurpose(rep.records, "autoconfig").note).toContain("instead of a CNAME");
  });

  test("failed queries (SERVFAIL, refused, timeout) are 'error', not 'missing'", async () => {
    const zone = perfectZone();
    zone.MX!["example.org"] = err("ESERVFAIL");
    zone.TXT!["_dmarc.example.org"] = err("ECONNREFUSED");
    zone.SRV!["_imaps._tcp.example.org"] = "hang";
    const started = Date.now();
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    expect(byPurpose(rep.records, "MX").status).toBe("error");
    expect(byPurpose(rep.records, "MX").note).toContain("ESERVFAIL");
    expect(byPurpose(rep.records, "DMARC").status).toBe("error");
    const srv = byPurpose(rep.records, "SRV imaps");
    expect(srv.status).toBe("error");
    expect(srv.note).toContain("ETIMEOUT");
    // The hanging query was cut off by the per-query timeout (4 s), it did not hold the report.
    expect(Date.now() - started).toBeLessThan(30_000);
  }, 20_000);

  test("answers are capped: a name with 500 TXT strings reports at most 20, each bounded", async () => {
    const zone = perfectZone();
    zone.TXT!["_smtp._tls.example.org"] = Array.from({ length: 500 }, (_, i) => [`v=TLSRPTv1; rua=mailto:r${i}@example.org` + "x".repeat(10_000)]);
    const rep = await checkDomainDns(INPUT, { resolver: fakeResolver(zone), fetchPolicy: async () => GOOD_POLICY });
    const r = byPurpose(rep.records, "TLS-RPT");
    expect(r.found.length).toBeLessThanOrEqual(20);
    for (const v of r.found) expect(v.length).toBeLessThanOrEqual(4096);
  });

  test("policy parsing: RFC 8461 §3.2 lines, wildcard mx, garbage", () => {
    expect(parsePolicy("version: STSv1\nmode: enforce\nmx: *.example.org\nmx: mail.example.org\nmax_age: 604800")).toEqual({
      version: "STSv1",
      mode: "enforce",
      mx: ["*.example.org", "mail.example.org"],
      maxAge: "604800",
    });
    expect(parsePolicy("\u0000\u0001 garbage\n:::\n")).toEqual({ mx: [] });
    expect(parsePolicy(Array.from({ length: 10_000 }, () => "mx: a.example").join("\n")).mx.length).toBeLessThanOrEqual(50);
  });

  test("a wildcard policy mx covers the host; a policy that is not STSv1 is a mismatch", async () => {
    let rep = await checkDomainDns(INPUT, { resolver: fakeResolver(perfectZone()), fetchPolicy: async () => "version: STSv1\nmode: enforce\nmx: *.example.org\n" });
    expect(byPurpose(rep.records, "MTA-STS policy").status).toBe("ok");
    rep = await checkDomainDns(INPUT, { resolver: fakeResolver(perfectZone()), fetchPolicy: async () => "<html>not found</html>" });
    expect(byPurpose(rep.records, "MTA-STS policy").status).toBe("mismatch");
  });
});
