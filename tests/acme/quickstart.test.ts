/**
 * `pillarbox quickstart --acme` (issue 18, done-when 3 and found item 10):
 * ACME on in the written config, the admin flag and URL, and the DNS lines
 * (A/AAAA from --public-ip, SPF for the host name, DMARC p=none with the
 * advice to tighten it, CAA for Let's Encrypt, DANE TLSA 3 1 1 of the kept
 * certificate key, an MTA-STS id matching the policy served); `check` then
 * reads the config. Public-address detection from interfaces, unit-tested.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/proc.ts";
import { openStorage } from "../../storage/open.ts";
import { createLogger } from "../../src/log.ts";
import { passwordHasher } from "../../src/auth.ts";
import { detectPublicAddresses, isPublicAddress, parsePublicIps } from "../../src/public-ip.ts";
import { mtaStsId, mtaStsPolicy } from "../../src/mta-sts.ts";
import { loadConfig } from "../../src/config.ts";

setDefaultTimeout(60_000);
const root = mkdtempSync(join(tmpdir(), "pb-qs-acme-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(dataDir: string, args: string[]) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env });
}

const line = (out: string, name: string, type: string) => new RegExp(`^${name.replace(/\./g, "\\.")}\\s+3600\\s+IN\\s+${type}\\s+(.+)$`, "m").exec(out)?.[1];

describe("quickstart --acme", () => {
  const dir = join(root, "a");

  test("writes [acme] enabled, makes the admin, prints CAA, TLSA, SPF for the host, DMARC p=none, the addresses and the admin URL", async () => {
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example", "--acme", "--public-ip", "203.0.113.7,2001:4860::8"]);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(line(out, "mx1.corp.example.", "A")).toBe("203.0.113.7");
    expect(line(out, "mx1.corp.example.", "AAAA")).toBe("2001:4860::8");
    expect(line(out, "mx1.corp.example.", "TXT")).toBe('"v=spf1 a -all"');
    expect(line(out, "corp.example.", "CAA")).toBe('0 issue "letsencrypt.org"');
    expect(line(out, "_dmarc.corp.example.", "TXT")).toBe('"v=DMARC1; p=none; rua=mailto:postmaster@corp.example"');
    expect(out).toContain("tighten it to p=quarantine, then p=reject");
    // TLSA 3 1 1 = SHA-256 of the SubjectPublicKeyInfo of the key the ACME manager will use (kept, 0600).
    const keyFile = join(dir, "acme", "key.pem");
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const spki = createPublicKey(createPrivateKey(readFileSync(keyFile, "utf8"))).export({ type: "spki", format: "der" });
    expect(line(out, "_25._tcp.mx1.corp.example.", "TLSA")).toBe(`3 1 1 ${createHash("sha256").update(spki).digest("hex")}`);
    // The _mta-sts id is the one of the policy the server serves now (testing: no trusted certificate yet).
    expect(line(out, "_mta-sts.corp.example.", "TXT")).toBe(`"v=STSv1; id=${mtaStsId(mtaStsPolicy("mx1.corp.example", "testing", 604_800))}"`);
    expect(out).toContain("Web admin: https://mx1.corp.example/admin (sign in as admin@corp.example)");
    expect(out).toContain("comes\n    from Let's Encrypt by itself");
    const conf = loadConfig({ file: join(dir, "pillarbox.toml"), env: {} });
    expect(conf.acme.enabled).toBe(true);
    expect(conf.acme.email).toBe("admin@corp.example");
    const st = await openStorage({ url: `file:${join(dir, "pillarbox.db")}`, dataDir: dir, authToken: null, log: createLogger("error"), hasher: passwordHasher, changeRetentionMs: 86_400_000 });
    try {
      expect((await st.mail.getAccount("admin@corp.example"))?.admin).toBe(true);
    } finally {
      await st.mail.close();
    }
  });

  test("a second run keeps the key (same TLSA) and check reports ACME waiting for its first certificate", async () => {
    const first = readFileSync(join(dir, "acme", "key.pem"), "utf8");
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--public-ip", "203.0.113.7"]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(dir, "acme", "key.pem"), "utf8")).toBe(first);
    expect(r.stdout).toMatch(/^_25\._tcp\.mx1\.corp\.example\.\s+3600\s+IN\s+TLSA\s+3 1 1 [0-9a-f]{64}$/m);
    const c = await cli(dir, ["check"]);
    expect(c.stdout).toContain("warn  certificate (acme): none issued yet; the first order starts when the server runs (https://acme-v02.api.letsencrypt.org/directory)");
  });

  test("without --acme: no CAA or TLSA, the advice to use --acme; --acme later appends [acme] to the kept file", async () => {
    const d2 = join(root, "b");
    const r = await cli(d2, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example", "--public-ip", "203.0.113.7"]);
    expect(r.code).toBe(0);
    expect(line(r.stdout, "corp.example.", "CAA")).toBeUndefined();
    expect(line(r.stdout, "_25._tcp.mx1.corp.example.", "TLSA")).toBeUndefined();
    expect(r.stdout).toContain("run quickstart again with --acme");
    expect(loadConfig({ file: join(d2, "pillarbox.toml"), env: {} }).acme.enabled).toBe(false);
    const again = await cli(d2, ["quickstart", "admin@corp.example", "--acme", "--public-ip", "203.0.113.7"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("turned on ACME in");
    expect(loadConfig({ file: join(d2, "pillarbox.toml"), env: {} }).acme.enabled).toBe(true);
    expect(line(again.stdout, "corp.example.", "CAA")).toBe('0 issue "letsencrypt.org"');
  });

  test("a bad --public-ip is refused in words", async () => {
    const r = await cli(join(root, "c"), ["quickstart", "admin@corp.example", "--public-ip", "203.0.113.300"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--public-ip: "203.0.113.300" is not an IPv4 or IPv6 address');
  });
});

describe("public address detection", () => {
  test("private, loopback, link-local, CGNAT, ULA and documentation addresses are not public", () => {
    for (const ip of ["10.1.2.3", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "fd00::1", "fe80::1", "::1", "2001:db8::1", "nonsense"]) expect(isPublicAddress(ip)).toBe(false);
    for (const ip of ["203.0.114.1", "8.8.8.8", "2a01:4f8::1", "2001:4860::8"]) expect(isPublicAddress(ip)).toBe(true);
  });
  test("the first public address of each family from the interfaces; none behind NAT", () => {
    const nic = (address: string, family: "IPv4" | "IPv6", internal = false) => ({ address, family, internal, netmask: "", mac: "", cidr: null, scopeid: 0 }) as import("node:os").NetworkInterfaceInfo;
    expect(detectPublicAddresses({ lo: [nic("127.0.0.1", "IPv4", true)], eth0: [nic("192.168.1.5", "IPv4"), nic("fe80::1", "IPv6"), nic("198.51.99.7", "IPv4"), nic("2a01:4f8::5", "IPv6")] })).toEqual({ ipv4: "198.51.99.7", ipv6: "2a01:4f8::5" });
    expect(detectPublicAddresses({ eth0: [nic("10.0.0.2", "IPv4")] })).toEqual({ ipv4: null, ipv6: null });
  });
  test("--public-ip parsing", () => {
    expect(parsePublicIps("203.0.113.7")).toEqual({ ipv4: "203.0.113.7", ipv6: null });
    expect(parsePublicIps("2001:4860::8, 203.0.113.7")).toEqual({ ipv4: "203.0.113.7", ipv6: "2001:4860::8" });
    expect(() => parsePublicIps("1.2.3.4,5.6.7.8")).toThrow(/second one of its kind/);
  });
});
