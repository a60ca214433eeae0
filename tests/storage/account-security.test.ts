/**
 * storage/account-security.ts on both engines: the admin and disabled flags,
 * app passwords (hash only, shown once, canonical forms, revocation, the
 * per-account limit), the sealed TOTP secret and its replay-safe step, the
 * single-use recovery codes, the credential stamp following all of them, and
 * malformed input refused in words.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../../storage/api.ts";
import { MAX_APP_PASSWORDS } from "../../storage/account-security.ts";
import { storeEngines } from "../helpers/engines.ts";
import { setupAccount, tempStore, type TempStore } from "./helpers.ts";

const SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

for (const engine of storeEngines()) {
  describe(`engine ${engine}`, () => {
    let t: TempStore;
    let id: number;
    beforeAll(async () => {
      t = await tempStore({ engine });
      id = (await setupAccount(t.store, "sec@example.com")).account.id;
    });
    afterAll(async () => t.cleanup());

    test("flags: off by default, on every account read, and each change of `disabled` changes the stamp", async () => {
      const a = await t.store.getAccountById(id);
      expect([a!.admin, a!.disabled]).toEqual([false, false]);
      const s0 = await t.store.credentialStamp(id);
      const b = await t.store.setAccountFlags("SEC@example.com", { admin: true });
      expect([b.admin, b.disabled]).toEqual([true, false]);
      expect(await t.store.credentialStamp(id)).toBe(s0); // admin does not touch credentials
      const c = await t.store.setAccountFlags("sec@example.com", { disabled: true });
      expect(c.disabled).toBe(true);
      const s1 = await t.store.credentialStamp(id);
      expect(s1).not.toBe(s0);
      for (const x of [await t.store.getAccount("sec@example.com"), (await t.store.listAccounts())[0]]) expect([x!.admin, x!.disabled]).toEqual([true, true]);
      await t.store.setAccountFlags("sec@example.com", { disabled: false, admin: false });
      expect(await t.store.credentialStamp(id)).not.toBe(s1);
      await expect(t.store.setAccountFlags("nobody@example.com", { admin: true })).rejects.toThrow(StoreError);
    });

    test("disabling ends the account's webmail sessions in the same transaction", async () => {
      const now = Date.now();
      await t.store.db.run("INSERT INTO webmail_sessions (id, account_id, created_at, last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)", ["s-1", id, now, now, now + 60_000]);
      await t.store.setAccountFlags("sec@example.com", { disabled: true });
      expect(await t.store.db.get("SELECT id FROM webmail_sessions WHERE id = ?", ["s-1"])).toBeUndefined();
      await t.store.setAccountFlags("sec@example.com", { disabled: false });
    });

    test("app passwords: shown once, only a hash kept, any spelling accepted, revocation final and stamped", async () => {
      const { info, password } = await t.store.createAppPassword(id, "  Phone  ");
      expect(info.name).toBe("Phone");
      expect(password).toMatch(/^[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}$/);
      const row = (await t.store.db.get<Record<string, unknown>>("SELECT hash, lookup FROM app_passwords WHERE id = ?", [info.id]))!;
      expect(String(row.hash)).not.toContain(password.replace(/-/g, ""));
      expect(String(row.hash)).toMatch(/^\$(argon2id|scrypt)\$/);
      expect(JSON.stringify(await t.store.listAppPasswords(id))).not.toContain("hash");
      for (const spelling of [password, password.toUpperCase(), password.replace(/-/g, " "), password.replace(/-/g, "")]) {
        expect((await t.store.verifyAppPassword(id, spelling))?.id).toBe(info.id);
      }
      for (const bad of ["", "x", password.slice(0, -1) + (password.endsWith("a") ? "b" : "a"), "0".repeat(16), "é".repeat(16), "a".repeat(5000)]) {
        expect(await t.store.verifyAppPassword(id, bad)).toBeNull();
      }
      const other = (await setupAccount(t.store, "other@example.com")).account.id;
      expect(await t.store.verifyAppPassword(other, password)).toBeNull(); // bound to its account
      await t.store.noteAppPasswordUse(info.id, "imap", 12345);
      expect((await t.store.listAppPasswords(id))[0]).toMatchObject({ lastUsedAt: 12345, lastUsedProtocol: "imap" });
      const s0 = await t.store.credentialStamp(id);
      expect(await t.store.revokeAppPassword(other, info.id)).toBe(false); // not another account's
      expect(await t.store.revokeAppPassword(id, info.id)).toBe(true);
      expect(await t.store.revokeAppPassword(id, info.id)).toBe(false);
      expect(await t.store.revokeAppPassword(id, Number.NaN)).toBe(false);
      expect(await t.store.credentialStamp(id)).not.toBe(s0);
      expect(await t.store.verifyAppPassword(id, password)).toBeNull();
      expect(await t.store.listAppPasswords(id)).toEqual([]);
    });

    test("app password names are checked; at most MAX_APP_PASSWORDS live per account", async () => {
      for (const bad of ["", "   ", "x".repeat(101), "a\nb", "tab\there"]) await expect(t.store.createAppPassword(id, bad)).rejects.toThrow(StoreError);
      await expect(t.store.createAppPassword(999_999, "ghost")).rejects.toThrow(StoreError);
      const acct = (await setupAccount(t.store, "many@example.com")).account.id;
      // the limit is checked in the transaction; fill it directly, the hashing is not what is tested here
      for (let i = 0; i < MAX_APP_PASSWORDS; i++) {
        await t.store.db.run("INSERT INTO app_passwords (account_id, name, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?)", [acct, `d${i}`, `l${i}`, "h", i]);
      }
      await expect(t.store.createAppPassword(acct, "one too many")).rejects.toMatchObject({ code: "LIMIT" });
    });

    test("two-factor: pending until enabled, secret sealed at rest with a 0600 key in a 0700 dir", async () => {
      expect(await t.store.twoFactorStatus(id)).toEqual({ enabled: false, recoveryCodesLeft: 0 });
      for (const bad of ["", "short", "lowercase234567abcd", "JBSWY3DP!", "A".repeat(200)]) await expect(t.store.beginTwoFactor(id, bad)).rejects.toThrow(StoreError);
      const s0 = await t.store.credentialStamp(id);
      await t.store.beginTwoFactor(id, SECRET);
      expect(await t.store.twoFactorSecret(id)).toEqual({ secret: SECRET, enabled: false, lastStep: 0 });
      expect((await t.store.twoFactorStatus(id)).enabled).toBe(false);
      const raw = (await t.store.db.get<Record<string, unknown>>("SELECT secret_sealed FROM two_factor WHERE account_id = ?", [id]))!;
      expect(String(raw.secret_sealed)).toStartWith("v1:");
      expect(String(raw.secret_sealed)).not.toContain(SECRET);
      const keyFile = join(t.dir, "keys", "account-security.key");
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(statSync(join(t.dir, "keys")).mode & 0o777).toBe(0o700);
      expect(await t.store.credentialStamp(id)).toBe(s0); // pending changes nothing yet
      const codes = await t.store.enableTwoFactor(id);
      expect(codes.length).toBe(10);
      expect(new Set(codes).size).toBe(10);
      expect(await t.store.credentialStamp(id)).not.toBe(s0);
      expect(await t.store.twoFactorStatus(id)).toEqual({ enabled: true, recoveryCodesLeft: 10 });
      await expect(t.store.enableTwoFactor(id)).rejects.toThrow(StoreError);
      await expect(t.store.beginTwoFactor(id, SECRET)).rejects.toMatchObject({ code: "CANNOT" });
      // the recovery codes are kept as digests only
      const stored = await t.store.db.all<Record<string, unknown>>("SELECT code_hash FROM recovery_codes WHERE account_id = ?", [id]);
      expect(stored.length).toBe(10);
      for (const c of codes) expect(JSON.stringify(stored)).not.toContain(c.replace("-", ""));

      // a reopened store (same data dir) opens the sealed secret again
      await t.reopen();
      expect((await t.store.twoFactorSecret(id))?.secret).toBe(SECRET);

      // recovery codes: single use, any spelling, malformed refused
      expect(await t.store.useRecoveryCode(id, codes[0]!.toUpperCase())).toBe(true);
      expect(await t.store.useRecoveryCode(id, codes[0]!)).toBe(false);
      for (const bad of ["", "123456", "x".repeat(1000), codes[1]!.slice(0, 8)]) expect(await t.store.useRecoveryCode(id, bad)).toBe(false);
      expect((await t.store.twoFactorStatus(id)).recoveryCodesLeft).toBe(9);
      const fresh = await t.store.regenerateRecoveryCodes(id);
      expect(await t.store.useRecoveryCode(id, codes[1]!)).toBe(false); // the old set is gone
      expect(await t.store.useRecoveryCode(id, fresh[0]!.replace("-", " "))).toBe(true);
    });

    test("TOTP steps: each accepted once, never an earlier one (RFC 6238 §5.2)", async () => {
      expect(await t.store.claimTotpStep(id, 1000)).toBe(true);
      expect(await t.store.claimTotpStep(id, 1000)).toBe(false);
      expect(await t.store.claimTotpStep(id, 999)).toBe(false);
      expect(await t.store.claimTotpStep(id, 1001)).toBe(true);
      for (const bad of [0, -1, Number.NaN, 1.5, Number.MAX_SAFE_INTEGER + 2]) expect(await t.store.claimTotpStep(id, bad)).toBe(false);
      // two claims of one step at once: exactly one wins
      const both = await Promise.all([t.store.claimTotpStep(id, 2000), t.store.claimTotpStep(id, 2000)]);
      expect(both.filter(Boolean).length).toBe(1);
    });

    test("reset turns 2FA off, deletes the secret and the codes, changes the stamp", async () => {
      const s0 = await t.store.credentialStamp(id);
      await t.store.resetTwoFactor(id);
      expect(await t.store.twoFactorStatus(id)).toEqual({ enabled: false, recoveryCodesLeft: 0 });
      expect(await t.store.twoFactorSecret(id)).toBeNull();
      expect(await t.store.credentialStamp(id)).not.toBe(s0);
      await expect(t.store.regenerateRecoveryCodes(id)).rejects.toThrow(StoreError);
    });

    test("removing the account removes its app passwords, second factor and recovery codes", async () => {
      const a = (await setupAccount(t.store, "gone@example.com")).account.id;
      await t.store.createAppPassword(a, "x");
      await t.store.beginTwoFactor(a, SECRET);
      await t.store.enableTwoFactor(a);
      await t.store.removeAccount("gone@example.com");
      for (const table of ["app_passwords", "two_factor", "recovery_codes"]) {
        expect(await t.store.db.get(`SELECT 1 AS x FROM ${table} WHERE account_id = ?`, [a])).toBeUndefined();
      }
    });
  });
}
