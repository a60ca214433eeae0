/**
 * openStorage() (storage/open.ts): every store on one database connection,
 * and the password hasher the caller injects is the one the store uses.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { readdirSync, readlinkSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { PasswordHasher } from "../../storage/api.ts";
import { StoreError } from "../../storage/api.ts";
import { openDb } from "../../storage/db.ts";
import { migrate } from "../../storage/migrate.ts";
import { openStorage, type Storage } from "../../storage/open.ts";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { makeMessage, setupAccount, tempDir } from "./helpers.ts";

/** File descriptors of this process open on `path` (Linux /proc). */
function handlesOn(path: string): number {
  let n = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

const dirs: string[] = [];
const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function storageIn(opts: { hasher?: PasswordHasher } = {}): Promise<{ s: Storage; dir: string }> {
  const dir = tempDir();
  dirs.push(dir);
  const s = await openStorage({ url: `file:${join(dir, "mail.db")}`, dataDir: dir, gcIntervalMs: 0, hasher: opts.hasher ?? passwordHasher });
  open.push(s);
  return { s, dir };
}

describe("openStorage", () => {
  test("every store works on the one database the storage opened: no second connection", async () => {
    // what one Db holds open on its file, measured on a database of its own
    const base = tempDir();
    dirs.push(base);
    const db = await openDb({ url: `file:${join(base, "one.db")}` });
    await migrate(db);
    await db.get("SELECT 1 AS x");
    const perDb = handlesOn(join(base, "one.db"));
    await db.close();
    expect(perDb).toBeGreaterThan(0);

    const { s, dir } = await storageIn();
    expect(s.mail.db).toBe(s.db);
    const { account, inbox } = await setupAccount(s.mail, "one@example.com");
    await s.mail.deliver(makeMessage({ subject: "hello" }), [{ accountId: account.id }]);
    await s.eas.touchDevice(account.id, "DEV1", { deviceType: "Phone", userAgent: "t", protocolVersion: "14.1" }, Date.now());
    await s.webmail.createSession({ id: "s".repeat(32), accountId: account.id, createdAt: 1, lastSeenAt: 1, expiresAt: Date.now() + 60_000, ip: "", userAgent: "" });
    expect((await s.eas.listDevices(account.id)).map((d) => d.deviceId)).toEqual(["DEV1"]);
    expect((await s.webmail.listMessagePage(inbox.id, { sort: "date", desc: true, offset: 0, limit: 10, threads: false })).total).toBe(1);
    // the mail store, the ActiveSync store and the webmail store together hold what one Db holds
    expect(handlesOn(join(dir, "mail.db"))).toBe(perDb);

    // one connection, one transaction order: a password change ends the webmail session the webmail store wrote
    expect(await s.webmail.getSession("s".repeat(32))).not.toBeNull();
    await s.mail.setPassword("one@example.com", "new-password");
    expect(await s.webmail.getSession("s".repeat(32))).toBeNull();

    await s.close();
    await s.close(); // idempotent
    // closing the storage closed the one connection every store used
    expect(String(await s.eas.listDevices(account.id).catch((e: Error) => e.message))).toMatch(/not open|closed/);
  });

  test("the injected hasher is the one that hashes and checks passwords", async () => {
    const calls: string[] = [];
    const fake: PasswordHasher = {
      hash: async (p) => {
        calls.push(`hash:${p}`);
        return `fake$${p}`;
      },
      verify: async (p, h) => {
        calls.push(`verify:${p}:${h}`);
        return h === `fake$${p}`;
      },
      dummyHash: async () => {
        calls.push("dummy");
        return "fake$dummy";
      },
    };
    const { s } = await storageIn({ hasher: fake });
    await s.mail.addDomain("hash.example");
    const a = await s.mail.addAccount("u@hash.example", "pw1");
    expect(calls).toContain("hash:pw1");
    const row = await s.db.get<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE id = ?", [a.id]);
    expect(row?.password_hash).toBe("fake$pw1");
    calls.length = 0;
    expect((await s.mail.authenticate("u@hash.example", "pw1"))?.id).toBe(a.id);
    expect(await s.mail.authenticate("u@hash.example", "wrong")).toBeNull();
    expect(calls).toEqual(["verify:pw1:fake$pw1", "verify:wrong:fake$pw1"]);
    // an unknown user costs one check against the dummy hash
    calls.length = 0;
    expect(await s.mail.authenticate("nobody@hash.example", "pw1")).toBeNull();
    expect(calls).toEqual(["dummy", "verify:pw1:fake$dummy"]);
    await s.mail.setPassword("u@hash.example", "pw2");
    expect((await s.db.get<{ password_hash: string }>("SELECT password_hash FROM accounts WHERE id = ?", [a.id]))?.password_hash).toBe("fake$pw2");
  });

  test("a store opened without a hasher refuses password operations with a clear error", async () => {
    const dir = tempDir();
    dirs.push(dir);
    const store = await openStore({ url: `file:${join(dir, "mail.db")}`, dataDir: dir, gcIntervalMs: 0 });
    open.push(store);
    await store.addDomain("nohash.example");
    const err = await store.addAccount("u@nohash.example", "pw").catch((e) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("CANNOT");
    expect((err as Error).message).toContain("password hasher");
    expect(await store.getAccount("u@nohash.example")).toBeNull();
  });
});
