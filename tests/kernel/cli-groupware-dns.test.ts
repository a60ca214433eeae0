/**
 * `pillarbox quickstart` prints the CalDAV/CardDAV discovery records of
 * RFC 6764: SRV for _caldavs/_carddavs on the HTTPS port with a TXT
 * path=/dav/, and the plain-text services declared absent (target ".").
 * The printed zone lines are read back with dnspython (Debian's
 * python3-dnspython, a dependency of python3-dkim in CI) as an independent
 * zone-file parser.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run, runCli } from "../helpers/proc.ts";

setDefaultTimeout(60_000);

const root = mkdtempSync(join(tmpdir(), "pb-cli-dns-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function cli(dataDir: string, args: string[], extraEnv: Record<string, string> = {}) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env: { ...env, ...extraEnv } });
}

/** The zone lines (not comments) of quickstart's output whose owner name is one of `names`. */
function zoneLines(stdout: string, names: string[]): string[] {
  return stdout.split("\n").filter((l) => names.some((n) => l.startsWith(n + " ")));
}

const PY = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const DAV_NAMES = ["_caldavs._tcp.corp.example.", "_carddavs._tcp.corp.example.", "_caldav._tcp.corp.example.", "_carddav._tcp.corp.example."];

/** Parses zone lines with dnspython; returns [name, type, rdata text] per record, or null without dnspython (outside CI). */
async function parseZone(lines: string[]): Promise<[string, string, string][] | null> {
  const script = `
import sys, json
try:
    import dns.zone, dns.rdatatype
except ImportError:
    print("NO-DNSPYTHON"); sys.exit(0)
z = dns.zone.from_text(sys.stdin.read(), origin="corp.example.", relativize=False, check_origin=False)
out = []
for name, rds in z.iterate_rdatasets():
    for rd in rds:
        out.append([name.to_text(), dns.rdatatype.to_text(rds.rdtype), rd.to_text()])
print(json.dumps(sorted(out)))
`;
  const r = await run(PY, ["-c", script], { input: lines.join("\n") + "\n" });
  if (r.code !== 0) throw new Error(`dnspython failed: ${r.stderr}`);
  if (r.stdout.trim() === "NO-DNSPYTHON") {
    if (process.env.CI === "true") throw new Error("python3-dnspython is missing under CI");
    return null;
  }
  return JSON.parse(r.stdout) as [string, string, string][];
}

describe("quickstart: CalDAV/CardDAV discovery records (RFC 6764)", () => {
  test("SRV on port 443 with TXT path=/dav/, plain-text services absent", async () => {
    const dir = join(root, "a");
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"]);
    expect(r.code).toBe(0);
    const lines = zoneLines(r.stdout, DAV_NAMES);
    expect(lines.length).toBe(6);
    // the comment above each says what it is for
    expect(r.stdout).toContain("; CalDAV (calendars, tasks) over HTTPS (RFC 6764 §3)");
    expect(r.stdout).toContain("; CardDAV (contacts): the context path clients start from (RFC 6764 §4)");
    const parsed = await parseZone(lines);
    const expected: [string, string, string][] = [
      ["_caldav._tcp.corp.example.", "SRV", "0 0 0 ."],
      ["_caldavs._tcp.corp.example.", "SRV", "0 1 443 mx1.corp.example."],
      ["_caldavs._tcp.corp.example.", "TXT", '"path=/dav/"'],
      ["_carddav._tcp.corp.example.", "SRV", "0 0 0 ."],
      ["_carddavs._tcp.corp.example.", "SRV", "0 1 443 mx1.corp.example."],
      ["_carddavs._tcp.corp.example.", "TXT", '"path=/dav/"'],
    ];
    if (parsed) expect(parsed).toEqual(expected);
    else {
      // without dnspython (outside CI): the same facts from the text
      for (const [name, type, value] of expected) expect(lines.some((l) => l.startsWith(name + " ") && l.includes(` ${type} `) && l.trimEnd().endsWith(value))).toBe(true);
    }
  });

  test("the SRV port follows the configured HTTPS listener", async () => {
    const dir = join(root, "b");
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"], { PILLARBOX_HTTPS_LISTEN: "0.0.0.0:8443" });
    expect(r.code).toBe(0);
    const srv = zoneLines(r.stdout, ["_caldavs._tcp.corp.example.", "_carddavs._tcp.corp.example."]).filter((l) => / SRV /.test(l));
    expect(srv.length).toBe(2);
    for (const l of srv) expect(l).toMatch(/ SRV\s+0 1 8443 mx1\.corp\.example\.$/);
    // the other HTTPS-based record (autodiscover) is untouched by the DAV port
    expect(r.stdout).toMatch(/_autodiscover\._tcp\.corp\.example\.\s+3600\s+IN\s+SRV\s+0 1 443 mx1\.corp\.example\./);
  });
});
