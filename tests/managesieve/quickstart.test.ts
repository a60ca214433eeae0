/**
 * `pillarbox quickstart` prints the ManageSieve SRV record of RFC 5804 §1.8
 * (`_sieve._tcp`) on the MANAGESIEVE listener's port, and none when the
 * listener is off; the config file it writes names the listener.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/proc.ts";
import { dnsRecords } from "../../src/dns-records.ts";

setDefaultTimeout(60_000);

const root = mkdtempSync(join(tmpdir(), "pb-sieve-dns-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(dataDir: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env: { ...env, ...extraEnv } });
}

const sieveLines = (stdout: string) => stdout.split("\n").filter((l) => l.startsWith("_sieve._tcp.corp.example. "));

describe("quickstart: _sieve._tcp SRV", () => {
  test("default listener: SRV 0 1 4190 on the host name; the config file lists the listener", async () => {
    const dir = join(root, "a");
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"], {});
    expect(r.code).toBe(0);
    const lines = sieveLines(r.stdout);
    expect(lines.length).toBe(1);
    expect(lines[0]).toMatch(/^_sieve\._tcp\.corp\.example\.\s+\d+\s+IN\s+SRV\s+0 1 4190 mx1\.corp\.example\.$/);
    expect(readFileSync(join(dir, "pillarbox.toml"), "utf8")).toContain('# managesieve = "0.0.0.0:4190"');
  });

  test("the SRV port follows PILLARBOX_MANAGESIEVE_LISTEN; off prints no record", async () => {
    const moved = await cli(join(root, "b"), ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"], { PILLARBOX_MANAGESIEVE_LISTEN: "0.0.0.0:14190" });
    expect(moved.code).toBe(0);
    expect(sieveLines(moved.stdout)[0]).toMatch(/ SRV\s+0 1 14190 mx1\.corp\.example\.$/);
    const off = await cli(join(root, "c"), ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"], { PILLARBOX_MANAGESIEVE_LISTEN: "off" });
    expect(off.code).toBe(0);
    expect(sieveLines(off.stdout)).toEqual([]);
  });

  test("dnsRecords: the record and its absence", () => {
    const base = { domain: "corp.example", hostname: "mx1.corp.example", dkimSelector: null, dkimPublicKey: null, reportAddress: "postmaster@corp.example" };
    expect(dnsRecords(base).find((x) => x.name === "_sieve._tcp.corp.example.")).toMatchObject({ type: "SRV", value: "0 1 4190 mx1.corp.example." });
    expect(dnsRecords({ ...base, manageSievePort: null }).some((x) => x.name.startsWith("_sieve."))).toBe(false);
  });
});
