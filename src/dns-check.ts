/**
 * The live DNS check of the web admin: for one domain, every record
 * `pillarbox quickstart` prints (src/dns-records.ts) compared with what the
 * server's own resolver returns now (the one the delivery code uses,
 * config.queue.dnsServers), plus the MTA-STS policy file fetched over HTTPS.
 *
 * Bounded: one timeout per query, at most MAX_ANSWERS answers and
 * MAX_TEXT characters each are looked at, the policy fetch has a time and
 * size cap. A query that fails (timeout, SERVFAIL, refused) is "error", not
 * "missing": only a name without such records is missing.
 */
import { Resolver } from "node:dns/promises";
import { getServers } from "node:dns";
import { isIP } from "node:net";
import https from "node:https";
import type { DnsCheckStatus, DnsRecordCheck } from "./ops/types.ts";
import { dnsRecords, formatZone, type DnsRecord, type DnsRecordInput } from "./dns-records.ts";
import { queryRecords, tlsaOf, txtOf, TYPE_TLSA, TYPE_TXT } from "./dns-wire.ts";

const MAX_ANSWERS = 20;
const MAX_TEXT = 4096;
const QUERY_TIMEOUT_MS = 4000;
const POLICY_TIMEOUT_MS = 5000;
/** RFC 8461 §3.2 sets no size; a policy is a few lines, 64 KiB is generous. */
const POLICY_MAX_BYTES = 64 * 1024;

/** What the check asks of a resolver (node:dns/promises Resolver has all of these; tests pass a fake). */
export interface CheckResolver {
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolveTxt(name: string): Promise<string[][]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveCname(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolveCaa(name: string): Promise<{ critical: number; issue?: string; issuewild?: string; iodef?: string }[]>;
  /** TLSA (RFC 6698) as "usage selector matching hex"; absent when the resolver library cannot ask for TLSA. */
  resolveTlsa?(name: string): Promise<string[]>;
}

/** Fetches https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3); throws in words. */
export type PolicyFetcher = (domain: string) => Promise<string>;

export interface DnsCheckResult {
  domain: string;
  checkedAt: number;
  records: DnsRecordCheck[];
  zone: string;
}

export interface DnsCheckDeps {
  resolver: CheckResolver;
  fetchPolicy: PolicyFetcher;
  now?: () => number;
}

/** A resolver on the given servers ("ip" or "ip:port"; none = the system's), with a short timeout. */
export function checkResolver(servers: readonly string[]): CheckResolver {
  const r = new Resolver({ timeout: QUERY_TIMEOUT_MS, tries: 1 });
  if (servers.length) r.setServers([...servers]);
  // TXT and TLSA on the wire (src/dns-wire.ts): node:dns cannot ask for TLSA, and Bun's resolveTxt
  // splits a record's strings into separate records (a DKIM key then never matches).
  const wireServers = () => (servers.length ? [...servers] : getServers());
  return {
    resolveMx: (n) => r.resolveMx(n),
    resolveTxt: async (n) => (await queryRecords(wireServers(), n, TYPE_TXT, QUERY_TIMEOUT_MS)).map((d) => [txtOf(d)]),
    resolveTlsa: async (n) => (await queryRecords(wireServers(), n, TYPE_TLSA, QUERY_TIMEOUT_MS)).map(tlsaOf),
    resolve4: (n) => r.resolve4(n),
    resolve6: (n) => r.resolve6(n),
    resolveCname: (n) => r.resolveCname(n),
    resolveSrv: (n) => r.resolveSrv(n),
    resolveCaa: (n) => r.resolveCaa(n),
  };
}

/**
 * The policy fetcher: the name is resolved through `resolver` (the same view
 * of DNS as the rest of the check), the connection goes to that address with
 * SNI and Host set to the policy host, and the certificate must be valid for
 * it (RFC 8461 §3.3: a policy behind an untrusted certificate does not count).
 */
export function policyFetcher(resolver: CheckResolver, opts: { ca?: string | string[]; port?: number; timeoutMs?: number } = {}): PolicyFetcher {
  const timeoutMs = opts.timeoutMs ?? POLICY_TIMEOUT_MS;
  return async (domain) => {
    const host = `mta-sts.${domain}`;
    let addr: string | undefined;
    try {
      addr = (await withTimeout(resolver.resolve4(host), QUERY_TIMEOUT_MS))[0];
    } catch {
      addr = undefined;
    }
    if (!addr) {
      try {
        addr = (await withTimeout(resolver.resolve6(host), QUERY_TIMEOUT_MS))[0];
      } catch {
        addr = undefined;
      }
    }
    if (!addr || !isIP(addr)) throw new Error(`${host} has no address`);
    return new Promise<string>((resolve, reject) => {
      // One deadline for the whole exchange (a server dripping bytes cannot hold it open), one outcome.
      let settled = false;
      const settle = (err: Error | null, text = "") => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(text);
      };
      const deadline = setTimeout(() => settle(new Error(`no complete answer from ${host} within ${timeoutMs / 1000} s`)), timeoutMs);
      const req = https.request(
        {
          host: addr,
          port: opts.port ?? 443,
          path: "/.well-known/mta-sts.txt",
          method: "GET",
          servername: host,
          headers: { host, "user-agent": "Pillarbox DNS check" },
          ...(opts.ca ? { ca: opts.ca } : {}),
          agent: false,
        },
        (res) => {
          if (res.statusCode !== 200) {
            settle(new Error(`the policy host answered HTTP ${res.statusCode}`));
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (d: Buffer) => {
            size += d.length;
            if (size > POLICY_MAX_BYTES) settle(new Error(`the policy is larger than ${POLICY_MAX_BYTES} bytes`));
            else chunks.push(d);
          });
          res.on("end", () => settle(null, Buffer.concat(chunks).toString("utf8")));
          res.on("error", (e) => settle(e));
        },
      );
      req.on("error", (e) => settle(new Error(certificateWords(e))));
      req.end();
    });
  };
}

function certificateWords(e: Error): string {
  const code = (e as { code?: string }).code ?? "";
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/.test(code)) return `the certificate of the policy host is not trusted (${code}); MTA-STS needs a certificate from a public CA`;
  return e.message;
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`no answer within ${ms / 1000} s`), { code: "ETIMEOUT" })), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** "no records" (the name or the type does not exist) vs a failed query. */
function isAbsent(e: unknown): boolean {
  const code = (e as { code?: string })?.code;
  return code === "ENODATA" || code === "ENOTFOUND" || code === "NXDOMAIN";
}

type Lookup = { ok: true; values: string[] } | { ok: false; error: string };

async function lookup(fn: () => Promise<string[]>): Promise<Lookup> {
  try {
    const values = (await withTimeout(fn(), QUERY_TIMEOUT_MS)).slice(0, MAX_ANSWERS).map((v) => v.slice(0, MAX_TEXT));
    return { ok: true, values };
  } catch (e) {
    if (isAbsent(e)) return { ok: true, values: [] };
    const code = (e as { code?: string })?.code;
    return { ok: false, error: `the query failed (${code ?? (e as Error)?.message ?? "unknown error"})` };
  }
}

const bare = (n: string) => n.toLowerCase().replace(/\.$/, "");

/** The text of a zone-file TXT value: its quoted strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2). */
export function txtText(value: string): string {
  const parts = [...value.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, "$1"));
  return parts.length ? parts.join("") : value;
}

/** Tag=value pairs of a DKIM/DMARC/STS-style record (RFC 6376 §3.2), keys lower-case. */
export function tags(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const part of text.split(";")) {
    const i = part.indexOf("=");
    if (i > 0) m.set(part.slice(0, i).trim().toLowerCase(), part.slice(i + 1).replace(/\s+/g, ""));
  }
  return m;
}

/** What a record is for, in the admin's words. */
export function purposeOf(r: DnsRecord, domain: string, hostname: string): string {
  const name = bare(r.name);
  const type = r.type as string;
  if (type === "TXT") {
    const t = txtText(r.value).toLowerCase();
    if (t.startsWith("v=spf1")) return name === bare(hostname) && name !== domain ? "SPF (host)" : "SPF";
    if (t.startsWith("v=dkim1")) return "DKIM";
    if (t.startsWith("v=dmarc1")) return "DMARC";
    if (t.startsWith("v=stsv1")) return "MTA-STS";
    if (t.startsWith("v=tlsrptv1")) return "TLS-RPT";
    if (t.startsWith("path=")) return `${srvService(name)} path`;
    return "TXT";
  }
  if (type === "SRV") return `SRV ${srvService(name)}`;
  if (type === "CNAME") {
    const first = name.split(".")[0]!;
    return first === "mta-sts" ? "MTA-STS host" : first;
  }
  if (type === "A" || type === "AAAA") return `${type} (host)`;
  return type;
}

function srvService(name: string): string {
  return /^_([a-z0-9-]+)\._/.exec(name)?.[1] ?? name;
}

/** Compares one expected record with the live answers. */
export async function checkRecord(r: DnsRecord, input: DnsRecordInput, resolver: CheckResolver): Promise<DnsRecordCheck> {
  const name = bare(r.name);
  const type = r.type as string;
  const purpose = purposeOf(r, input.domain, input.hostname);
  const base = { purpose, name, type: r.type as DnsRecordCheck["type"], expected: r.value };
  const done = (status: DnsCheckStatus, found: string[], note?: string): DnsRecordCheck => ({ ...base, found, status, ...(note ? { note } : {}) });
  const failed = (l: Lookup & { ok: false }) => done("error", [], l.error);

  switch (type) {
    case "MX": {
      const l = await lookup(async () => (await resolver.resolveMx(name)).sort((a, b) => a.priority - b.priority).map((m) => `${m.priority} ${m.exchange}.`.replace(/\.\.$/, ".")));
      if (!l.ok) return failed(l);
      if (!l.values.length) return done("missing", [], "no MX record: other servers cannot find where to deliver mail for the domain");
      const target = bare(r.value.split(/\s+/)[1] ?? "");
      return l.values.some((v) => bare(v.split(/\s+/)[1] ?? "") === target) ? done("ok", l.values) : done("mismatch", l.values, `no MX record points at ${target}`);
    }
    case "A":
    case "AAAA": {
      const l = await lookup(() => (type === "A" ? resolver.resolve4(name) : resolver.resolve6(name)));
      if (!l.ok) return failed(l);
      if (!l.values.length) return done("missing", [], `${name} has no ${type} record`);
      if (isIP(r.value.trim())) return l.values.includes(r.value.trim()) ? done("ok", l.values) : done("mismatch", l.values, `expected ${r.value.trim()}`);
      return done("ok", l.values, "check that this is the server's public address");
    }
    case "TXT":
      return checkTxt(r, input, resolver, done);
    case "CNAME": {
      const target = bare(r.value);
      const l = await lookup(() => resolver.resolveCname(name));
      if (!l.ok) return failed(l);
      if (l.values.some((v) => bare(v) === target)) return done("ok", l.values.map((v) => bare(v) + "."));
      if (l.values.length) return done("mismatch", l.values.map((v) => bare(v) + "."), `points elsewhere, expected ${target}`);
      // An address record with the host's addresses does the same job as the CNAME.
      const [own, theirs] = await Promise.all([lookup(() => resolver.resolve4(name)), lookup(() => resolver.resolve4(target))]);
      if (own.ok && theirs.ok && own.values.length && own.values.some((a) => theirs.values.includes(a))) {
        return done("ok", own.values, `an A record with ${target}'s address instead of a CNAME: fine, but keep it in step`);
      }
      if (own.ok && own.values.length) return done("mismatch", own.values, `has an address that is not ${target}'s`);
      return done("missing", [], `no CNAME to ${target}`);
    }
    case "SRV": {
      const [, , port, target] = r.value.trim().split(/\s+/);
      const l = await lookup(async () => (await resolver.resolveSrv(name)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name === "" || s.name === "." ? "." : bare(s.name) + "."}`));
      if (!l.ok) return failed(l);
      if (!l.values.length) return done("missing", [], `no SRV record (clients then guess the server)`);
      const want = bare(target ?? "");
      const hit = l.values.some((v) => {
        const p = v.split(/\s+/);
        return p[2] === port && (bare(p[3] ?? "") === want || (want === "" && p[3] === "."));
      });
      return hit ? done("ok", l.values) : done("mismatch", l.values, `expected port ${port} on ${target}`);
    }
    case "CAA": {
      const l = await lookup(async () => (await resolver.resolveCaa(name)).map((c) => caaText(c)));
      if (!l.ok) return failed(l);
      if (!l.values.length) return done("missing", [], "no CAA record: any CA may issue certificates for the name (optional, but recommended)");
      const want = normCaa(r.value);
      return l.values.some((v) => normCaa(v) === want) ? done("ok", l.values) : done("mismatch", l.values, `the CAA records do not allow ${r.value}`);
    }
    case "TLSA": {
      if (!resolver.resolveTlsa) return done("error", [], `this server's resolver cannot query TLSA records; check with: dig +short TLSA ${name}`);
      const l = await lookup(() => resolver.resolveTlsa!(name));
      if (!l.ok) return failed(l);
      if (!l.values.length) return done("missing", [], "no TLSA record (DANE, RFC 7672)");
      const norm = (v: string) => v.replace(/\s+/g, " ").trim().toLowerCase();
      return l.values.some((v) => norm(v) === norm(r.value)) ? done("ok", l.values) : done("mismatch", l.values, "the TLSA record does not match the certificate's key: update it before the old key goes away");
    }
    default:
      return done("error", [], `records of type ${type} are not checked`);
  }
}

function caaText(c: { critical: number; issue?: string; issuewild?: string; iodef?: string }): string {
  const [tag, value] = c.issue !== undefined ? ["issue", c.issue] : c.issuewild !== undefined ? ["issuewild", c.issuewild] : ["iodef", c.iodef ?? ""];
  return `${c.critical ?? 0} ${tag} "${value}"`;
}

function normCaa(v: string): string {
  const m = /^\s*(\d+)\s+([a-z]+)\s+"?([^"]*)"?\s*$/i.exec(v);
  return m ? `${m[2]!.toLowerCase()} ${m[3]!.trim().toLowerCase()}` : v.trim().toLowerCase();
}

async function checkTxt(
  r: DnsRecord,
  input: DnsRecordInput,
  resolver: CheckResolver,
  done: (status: DnsCheckStatus, found: string[], note?: string) => DnsRecordCheck,
): Promise<DnsRecordCheck> {
  const name = bare(r.name);
  const want = txtText(r.value);
  const l = await lookup(async () => (await resolver.resolveTxt(name)).map((chunks) => chunks.join("")));
  if (!l.ok) return done("error", [], l.error);
  const kind = want.toLowerCase().split(/[;\s]/)[0]!;
  const same = l.values.filter((v) => v.toLowerCase().replace(/\s+/g, "").startsWith(kind.replace(/\s+/g, "")));
  const relevant = kind.startsWith("v=") ? same : l.values;
  if (!relevant.length) return done("missing", l.values, `no ${kind.startsWith("v=") ? kind.slice(2).toUpperCase() + " " : ""}TXT record at ${name}`);
  // RFC 7208 §3.2 / RFC 7489 §6.6.3: with more than one SPF (DMARC) record, receivers treat SPF as an error (ignore DMARC).
  if (relevant.length > 1 && kind === "v=spf1") return done("mismatch", relevant, "more than one SPF record: receivers treat that as an error (RFC 7208 §3.2); merge them into one");
  if (relevant.length > 1 && kind === "v=dmarc1") return done("mismatch", relevant, "more than one DMARC record: receivers ignore them all (RFC 7489 §6.6.3)");
  if (relevant.some((v) => v.replace(/\s+/g, " ").trim() === want.replace(/\s+/g, " ").trim())) return done("ok", relevant);

  switch (kind) {
    case "v=spf1": {
      const t = ` ${relevant[0]!.toLowerCase()} `;
      const forHost = name === bare(input.hostname);
      // RFC 7208 §5: "mx" names the domain's MX hosts, "a:<host>" the host, a bare "a" (at the host name) itself, "ip4:" the address.
      const lets =
        /\s[+]?mx[\s/:]/.test(t) || t.includes(`a:${input.hostname.toLowerCase()}`) || (forHost && /\s[+]?a[\s/]/.test(t)) || (!!input.ipv4 && t.includes(`ip4:${input.ipv4}`));
      if (lets) return done("ok", relevant, "differs from the suggested record but lets this server send");
      return done("mismatch", relevant, `does not let this server send (add ${forHost ? '"a"' : `"mx" or "a:${input.hostname}"`})`);
    }
    case "v=dkim1": {
      const p = relevant.map((v) => tags(v).get("p") ?? "");
      if (input.dkimPublicKey && p.includes(input.dkimPublicKey.replace(/\s+/g, ""))) return done("ok", relevant);
      return done("mismatch", relevant, "the published public key is not this domain's DKIM key: receivers will fail its signatures");
    }
    case "v=dmarc1": {
      const policy = tags(relevant[0]!).get("p");
      if (!policy) return done("mismatch", relevant, "the DMARC record has no p= policy");
      return done("ok", relevant, `policy p=${policy}${policy === "none" ? ": reports only; tighten to quarantine or reject once reports look clean" : ""}`);
    }
    case "v=stsv1": {
      const id = tags(relevant[0]!).get("id");
      if (!id) return done("mismatch", relevant, "the record has no id=");
      // RFC 8461 §3.1: senders refetch the policy only when the id changes, so a stale id hides a policy change.
      if (input.mtaStsId) return done("mismatch", relevant, `publish id=${input.mtaStsId}: the policy changed since this id, and senders refetch it only when the id changes (RFC 8461 §3.1)`);
      return done("ok", relevant, "the id differs from the suggested one; change it whenever the policy changes");
    }
    case "v=tlsrptv1":
      return tags(relevant[0]!).get("rua") ? done("ok", relevant, "reports go to another address than suggested") : done("mismatch", relevant, "the record has no rua= report address");
    default:
      return done("mismatch", relevant, `expected ${want}`);
  }
}

/** RFC 8461 §3.2 policy lines: version, mode, mx (repeatable), max_age. */
export function parsePolicy(text: string): { version?: string; mode?: string; mx: string[]; maxAge?: string } {
  const out: { version?: string; mode?: string; mx: string[]; maxAge?: string } = { mx: [] };
  for (const line of text.split(/\r?\n/).slice(0, 200)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    if (k === "version") out.version = v;
    else if (k === "mode") out.mode = v;
    else if (k === "mx" && out.mx.length < 50) out.mx.push(v.toLowerCase());
    else if (k === "max_age") out.maxAge = v;
  }
  return out;
}

/** Does a policy `mx:` pattern cover the host (RFC 8461 §4.1: a leading `*.` matches one label)? */
function mxMatches(pattern: string, host: string): boolean {
  const p = bare(pattern);
  const h = bare(host);
  if (p.startsWith("*.")) return h.split(".").slice(1).join(".") === p.slice(2);
  return p === h;
}

async function checkPolicy(input: DnsRecordInput, fetchPolicy: PolicyFetcher): Promise<DnsRecordCheck> {
  const base = { purpose: "MTA-STS policy", name: `mta-sts.${input.domain}`, type: "HTTPS" as const, expected: `version: STSv1, mode: testing or enforce, mx: ${input.hostname}` };
  let text: string;
  try {
    text = await withTimeout(fetchPolicy(input.domain), POLICY_TIMEOUT_MS + 1000);
  } catch (e) {
    return { ...base, found: [], status: "error", note: `https://mta-sts.${input.domain}/.well-known/mta-sts.txt could not be fetched: ${(e as Error).message}` };
  }
  const p = parsePolicy(text);
  const found = [`version: ${p.version ?? "-"}, mode: ${p.mode ?? "-"}, mx: ${p.mx.join(" ") || "-"}${p.maxAge ? `, max_age: ${p.maxAge}` : ""}`];
  if (p.version !== "STSv1") return { ...base, found, status: "mismatch", note: "the file is not an STSv1 policy" };
  if (!p.mx.some((m) => mxMatches(m, input.hostname))) return { ...base, found, status: "mismatch", note: `no mx: line covers ${input.hostname}` };
  if (p.mode !== "testing" && p.mode !== "enforce" && p.mode !== "none") return { ...base, found, status: "mismatch", note: "mode must be testing, enforce or none" };
  return { ...base, found, status: "ok", ...(p.mode === "testing" ? { note: "mode testing: failures are reported, not enforced" } : {}) };
}

/** Checks every record of the domain (queries run in parallel, each bounded). */
export async function checkDomainDns(input: DnsRecordInput, deps: DnsCheckDeps): Promise<DnsCheckResult> {
  const expected = dnsRecords(input);
  const checks = expected.map((r) => checkRecord(r, input, deps.resolver));
  const policy = expected.some((r) => bare(r.name) === `_mta-sts.${input.domain}`) ? [checkPolicy(input, deps.fetchPolicy)] : [];
  const records = await Promise.all([...checks, ...policy]);
  return { domain: input.domain, checkedAt: (deps.now ?? Date.now)(), records, zone: formatZone(expected) };
}
