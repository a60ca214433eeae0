/**
 * `pillarbox spam allow|deny|unlist|lists` and `pillarbox spam check` as an
 * administrator runs them (src/main.ts in a child process, a fresh data dir):
 * entries per account, per domain and server-wide; bad patterns and scopes
 * refused in words with no stack trace; `spam check` prints the score and
 * every rule that fired, and an account's deny entry makes it spam.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/proc.ts";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { GTUBE } from "../../src/spam/gtube.ts";

let root: string;
let dir: string;

function envFor(dataDir: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: "mail.cli-spam.test" };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  for (const l of Object.keys(LISTENER_DEFAULTS)) env[`PILLARBOX_${l}_LISTEN`] = "off";
  // No public DNS lists from a test.
  env.PILLARBOX_SPAM_DNS_BLOCKLISTS = "";
  env.PILLARBOX_SPAM_DOMAIN_BLOCKLISTS = "";
  env.PILLARBOX_SPAM_DNS_ALLOWLISTS = "";
  return env;
}
const cli = (args: string[], input?: string) => runCli(args, { env: envFor(dir), input });
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at \S|error: .*\n\s*\d+ \|/);

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "pb-cli-spam-"));
  dir = join(root, "data");
  expect((await cli(["domain", "add", "example.org"])).code).toBe(0);
  expect((await cli(["user", "add", "bob@example.org"])).code).toBe(0);
}, 60_000);

afterAll(() => rmSync(root, { recursive: true, force: true }));

test("allow, deny, lists, unlist in the three scopes", async () => {
  let r = await cli(["spam", "allow", "Friend@Partner.example", "--user", "bob@example.org"]);
  expect([r.code, r.stdout]).toEqual([0, "allowed friend@partner.example for account bob@example.org\n"]);
  r = await cli(["spam", "deny", "@spam.example", "--domain", "example.org"]);
  expect([r.code, r.stdout]).toEqual([0, "denied spam.example for domain example.org\n"]);
  r = await cli(["spam", "deny", "worse.example"]);
  expect([r.code, r.stdout]).toEqual([0, "denied worse.example for the server\n"]);
  r = await cli(["spam", "lists", "--user", "bob@example.org"]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^KIND +PATTERN +ADDED\nallow +friend@partner\.example +\d{4}-\d\d-\d\dT/);
  expect((await cli(["spam", "lists", "--domain", "example.org"])).stdout).toMatch(/deny +spam\.example/);
  expect((await cli(["spam", "lists", "--global"])).stdout).toContain("worse.example");
  r = await cli(["spam", "unlist", "worse.example", "--global"]);
  expect([r.code, r.stdout]).toEqual([0, "removed worse.example from the deny list of the server\n"]);
  expect((await cli(["spam", "lists"])).stdout).toBe("no entries for the server\n");
  r = await cli(["spam", "unlist", "worse.example"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("worse.example is on no list of the server");
}, 60_000);

test("bad input is refused in words, without a stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [["spam", "allow", "not a domain"], /not a domain name/],
    [["spam", "allow", "x.example", "--user", "nobody@example.org"], /no account nobody@example\.org/],
    [["spam", "deny", "x.example", "--domain", "elsewhere.example"], /not a local domain/],
    [["spam", "deny", "x.example", "--global", "--domain", "example.org"], /one of --user, --domain, --global/],
    [["spam", "check", join(root, "missing.eml")], /cannot read/],
  ];
  for (const [args, words] of cases) {
    const r = await cli(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(words);
    noStack(r.stderr);
  }
}, 60_000);

test("spam check prints the score and the rules; an account's deny entry decides", async () => {
  const file = join(root, "gtube.eml");
  writeFileSync(file, `From: a@b.example\r\nTo: bob@example.org\r\nSubject: test\r\n\r\n${GTUBE}\r\n`);
  let r = await cli(["spam", "check", file]);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^backend: builtin\nscore: 10\d\d\.\d \(junk at 5\.0\) -> spam\n/);
  expect(r.stdout).toMatch(/GTUBE +1000\.0 +the GTUBE test string/);
  expect(r.stdout).toMatch(/MISSING_DATE +0\.8/);

  const clean = join(root, "clean.eml");
  writeFileSync(clean, `From: news@pest.example\r\nTo: bob@example.org\r\nSubject: Hello\r\nDate: ${new Date().toUTCString()}\r\nMessage-ID: <a@pest.example>\r\n\r\nHi Bob.\r\n`);
  r = await cli(["spam", "check", clean, "--user", "bob@example.org"]);
  expect(r.stdout).toContain("-> not spam");
  expect(r.stdout).toContain("X-Spam-Status: No, score=");
  await cli(["spam", "deny", "pest.example", "--user", "bob@example.org"]);
  r = await cli(["spam", "check", "-", "--user", "bob@example.org"], `From: news@pest.example\r\nSubject: Hello\r\n\r\nHi\r\n`);
  expect(r.stdout).toContain("-> spam");
  expect(r.stdout).toMatch(/USER_IN_DENYLIST +100\.0 +pest\.example on the account deny list/);
  expect(r.stdout).toMatch(/X-Spam-Status: Yes, score=\d+\.\d required=5\.0 tests=/);
}, 60_000);
