/**
 * `pillarbox sieve ...` as a real process on a data dir: put (checked first,
 * errors with line numbers, nothing invalid stored; from a file and from
 * stdin), list, get, activate, deactivate, delete (not the active one),
 * check; exit codes 0/1/2; malformed input refused in words; the store
 * holds what the CLI said.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../../storage/open.ts";
import { passwordHasher } from "../../src/auth.ts";
import { runCli } from "../helpers/proc.ts";

setDefaultTimeout(60_000);

const root = mkdtempSync(join(tmpdir(), "pb-cli-sieve-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const dataDir = join(root, "data");

function cli(args: string[], input?: string) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env, input });
}

const GOOD = 'require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" {\n  fileinto :create "Accounts";\n}\n';
const BAD = 'require "fileinto";\nif header :contains "subject" "x" {\n  fileinto "A"\n}\n';

describe("pillarbox sieve", () => {
  test("put checks first; list, get, activate, deactivate, delete; exit codes", async () => {
    expect((await cli(["domain", "add", "example.test"])).code).toBe(0);
    const add = await cli(["user", "add", "ann@example.test", "--password-stdin", "--force"], "ann password 12345\n");
    expect([add.code, add.stderr]).toEqual([0, ""]);
    const file = join(root, "main.sieve");
    writeFileSync(file, GOOD);
    const put = await cli(["sieve", "put", "ann@example.test", "main", file]);
    expect([put.code, put.stdout]).toEqual([0, 'stored script "main" for ann@example.test\n']);
    const bad = join(root, "bad.sieve");
    writeFileSync(bad, BAD);
    const refused = await cli(["sieve", "put", "ann@example.test", "broken", bad]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/bad\.sieve: line [34]: /);
    const fromStdin = await cli(["sieve", "put", "ann@example.test", "second", "-", "--activate"], "keep;\n");
    expect([fromStdin.code, fromStdin.stdout]).toEqual([0, 'stored script "second" for ann@example.test (active)\n']);
    const list = await cli(["sieve", "list", "ann@example.test"]);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+ACTIVE\s+SIZE\s+UPDATED/);
    expect(list.stdout).toMatch(/\nmain\s+\d+/);
    expect(list.stdout).toMatch(/\nsecond\s+yes\s+6\s/);
    expect(list.stdout).not.toContain("broken");
    const get = await cli(["sieve", "get", "ann@example.test", "main"]);
    expect([get.code, get.stdout]).toEqual([0, GOOD]);
    expect((await cli(["sieve", "get", "ann@example.test", "nope"])).code).toBe(1);
    const delActive = await cli(["sieve", "delete", "ann@example.test", "second"]);
    expect(delActive.code).toBe(1);
    expect(delActive.stderr).toContain("active");
    expect((await cli(["sieve", "activate", "ann@example.test", "main"])).code).toBe(0);
    expect((await cli(["sieve", "activate", "ann@example.test", "nope"])).code).toBe(1);
    expect((await cli(["sieve", "delete", "ann@example.test", "second"])).code).toBe(0);
    expect((await cli(["sieve", "delete", "ann@example.test", "second"])).code).toBe(1);
    // the store has what the CLI said
    const storage = await openStorage({ url: `file:${dataDir}/pillarbox.db`, dataDir, hasher: passwordHasher });
    try {
      const a = (await storage.mail.getAccount("ann@example.test"))!;
      expect((await storage.sieve.activeScript(a.id))?.name).toBe("main");
      expect((await storage.sieve.listScripts(a.id)).map((s) => s.name)).toEqual(["main"]);
    } finally {
      await storage.close();
    }
    expect((await cli(["sieve", "deactivate", "ann@example.test"])).code).toBe(0);
    expect((await cli(["sieve", "list", "ann@example.test"])).stdout).not.toMatch(/\byes\b/);
  });

  test("check, usage errors, unknown users, bad names", async () => {
    const ok = await cli(["sieve", "check", "-"], GOOD);
    expect([ok.code, ok.stdout]).toEqual([0, "ok\n"]);
    const bad = await cli(["sieve", "check", "-"], BAD);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^script: line \d+: \S/m);
    const missing = await cli(["sieve", "check", join(root, "absent.sieve")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read");
    expect((await cli(["sieve", "list"])).code).toBe(2);
    expect((await cli(["sieve", "get", "ann@example.test", "a", "b"])).code).toBe(2);
    const nobody = await cli(["sieve", "list", "nobody@example.test"]);
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toContain("no such user");
    const badName = await cli(["sieve", "put", "ann@example.test", "two\tlines", "-"], "keep;\n");
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain("control characters");
    const help = await cli(["sieve", "put", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: pillarbox sieve put");
  });
});
