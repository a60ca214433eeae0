/**
 * The CLI of issue 18's account security, run as a separate process on a
 * data dir: `user admin`, `user disable|enable`, `user 2fa status|reset`,
 * `user app-password add|list|revoke`, and the password policy on `user add`
 * and `user passwd` (`--force` overrides, `limits.password_min_length`
 * changes the minimum). Bad arguments are refused in words with exit 2.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/proc.ts";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";

const dir = mkdtempSync(join(tmpdir(), "pb-sec-cli-"));
const cli = (args: string[], input?: string, env: Record<string, string> = {}) =>
  runCli(args, { env: { PILLARBOX_DATA_DIR: dir, PILLARBOX_CONFIG: undefined, ...env }, input });

async function withStore<T>(fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const s = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir, gcIntervalMs: 0 });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  expect((await cli(["domain", "add", "example.org"])).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("password policy on user add and user passwd", () => {
  test("a short, a common and an own-address password are refused in words; --force accepts; generated ones pass", async () => {
    for (const [pw, words] of [
      ["x", "too short"],
      ["Password2024!", "common"],
      ["bob@example.org", "address"],
    ] as const) {
      const r = await cli(["user", "add", "bob@example.org", "--password-stdin"], pw + "\n");
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(words);
      expect(r.stderr).toContain("--force");
    }
    expect((await cli(["user", "list"])).stdout).not.toContain("bob@example.org");
    const forced = await cli(["user", "add", "bob@example.org", "--password-stdin", "--force"], "x\n");
    expect(forced.code).toBe(0);
    const gen = await cli(["user", "passwd", "bob@example.org"]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toMatch(/password: \S{20}/);
    const weak = await cli(["user", "passwd", "bob@example.org", "--password-stdin"], "qwertyuiop\n");
    expect(weak.code).toBe(1);
    expect(weak.stderr).toContain("common");
    expect((await cli(["user", "passwd", "bob@example.org", "--password-stdin"], "a long unusual passphrase\n")).code).toBe(0);
  }, 60_000);

  test("the minimum comes from limits.password_min_length", async () => {
    const r = await cli(["user", "passwd", "bob@example.org", "--password-stdin"], "Zk4#wq9!\n", { PILLARBOX_PASSWORD_MIN_LENGTH: "8" });
    expect(r.code).toBe(0);
    const longer = await cli(["user", "passwd", "bob@example.org", "--password-stdin"], "a long unusual passphrase\n", { PILLARBOX_PASSWORD_MIN_LENGTH: "40" });
    expect(longer.code).toBe(1);
    expect(longer.stderr).toContain("at least 40");
  }, 60_000);
});

describe("account flags, two-factor and app passwords", () => {
  test("user admin on|off and user disable|enable change the flags", async () => {
    expect((await cli(["user", "admin", "bob@example.org", "on"])).stdout).toContain("is an administrator");
    expect(await withStore(async (s) => (await s.getAccount("bob@example.org"))!.admin)).toBe(true);
    expect((await cli(["user", "disable", "bob@example.org"])).code).toBe(0);
    expect(await withStore(async (s) => (await s.getAccount("bob@example.org"))!.disabled)).toBe(true);
    expect((await cli(["user", "list"])).stdout).toMatch(/bob@example\.org .*admin,disabled/);
    expect((await cli(["user", "enable", "bob@example.org"])).code).toBe(0);
    expect((await cli(["user", "admin", "bob@example.org", "off"])).stdout).toContain("is not an administrator");
    expect(await withStore(async (s) => s.getAccount("bob@example.org"))).toMatchObject({ admin: false, disabled: false });
    const bad = await cli(["user", "admin", "bob@example.org", "maybe"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("on or off");
    const ghost = await cli(["user", "admin", "ghost@example.org", "on"]);
    expect(ghost.code).not.toBe(0);
    expect(ghost.stderr).toContain("ghost@example.org");
  }, 60_000);

  test("user app-password add shows the password once; list shows no secret; revoke works once", async () => {
    const add = await cli(["user", "app-password", "bob@example.org", "add", "Work laptop"]);
    expect(add.code).toBe(0);
    const password = /: ([a-z2-9]{4}(?:-[a-z2-9]{4}){3})$/m.exec(add.stdout)?.[1];
    expect(password).toBeTruthy();
    const id = /app password (\d+)/.exec(add.stdout)![1]!;
    const list = await cli(["user", "app-password", "bob@example.org", "list"]);
    expect(list.stdout).toContain("Work laptop");
    expect(list.stdout).not.toContain(password!);
    expect(await withStore(async (s) => (await s.verifyAppPassword((await s.getAccount("bob@example.org"))!.id, password!))?.name)).toBe("Work laptop");
    expect((await cli(["user", "app-password", "bob@example.org", "revoke", id])).code).toBe(0);
    const again = await cli(["user", "app-password", "bob@example.org", "revoke", id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`no app password ${id}`);
    for (const args of [["revoke", "abc"], ["revoke"], ["add"], ["frob"], ["list", "extra"]]) {
      const r = await cli(["user", "app-password", "bob@example.org", ...args]);
      expect(r.code).toBe(2);
    }
    const longName = await cli(["user", "app-password", "bob@example.org", "add", "x".repeat(101)]);
    expect(longName.code).not.toBe(0);
    expect(longName.stderr).toContain("name");
  }, 60_000);

  test("user 2fa status and reset (the recovery path when the phone and the codes are lost)", async () => {
    expect((await cli(["user", "2fa", "bob@example.org", "status"])).stdout).toContain("off");
    await withStore(async (s) => {
      const a = (await s.getAccount("bob@example.org"))!;
      await s.beginTwoFactor(a.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
      await s.enableTwoFactor(a.id);
    });
    expect((await cli(["user", "2fa", "bob@example.org", "status"])).stdout).toContain("on (10 recovery codes left)");
    const reset = await cli(["user", "2fa", "bob@example.org", "reset"]);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain("off");
    expect(await withStore(async (s) => s.twoFactorStatus((await s.getAccount("bob@example.org"))!.id))).toEqual({ enabled: false, recoveryCodesLeft: 0 });
    expect((await cli(["user", "2fa", "bob@example.org", "toggle"])).code).toBe(2);
  }, 60_000);
});
