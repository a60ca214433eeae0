/**
 * Account security in the store: the admin and disabled flags, app passwords
 * (per device, named, revocable, shown once), the TOTP second factor (RFC
 * 6238) and its single-use recovery codes. Protocols never see a hash or a
 * secret's storage form: app passwords are argon2id hashes (the injected
 * PasswordHasher), TOTP secrets are sealed with AES-256-GCM under a key kept
 * in the data dir (`keys/account-security.key`, 0600 in a 0700 directory),
 * recovery codes are SHA-256 digests (each code carries 60 random bits, so a
 * fast digest of it cannot be searched; it lets a code be found in one query).
 *
 * Every change here bumps `accounts.security_epoch`, part of the credential
 * stamp (directory.ts credentialStamp): the kernel's auth cache then stops
 * trusting logins made before the change at once.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from "node:crypto";
import { mkdirSync, openSync, readFileSync, writeSync, closeSync, fsyncSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { StoreError, type Account, type AppPassword, type TwoFactorSecret, type TwoFactorStatus } from "./api.ts";
import type { StoreCore } from "./core.ts";
import type { Queryable } from "./db.ts";
import { normalizeAddress } from "./names.ts";
import { ACCOUNT_COLS, num, numOrNull, str, strOrNull, toAccount, type R } from "./rows.ts";

/** At most this many live app passwords per account (each login may check one of them). */
export const MAX_APP_PASSWORDS = 50;
/** Recovery codes made at once (shown once, each single use). */
export const RECOVERY_CODE_COUNT = 10;

// App passwords and recovery codes use an alphabet without look-alikes (no 0/o, 1/l/i).
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";

function randomCode(len: number): string {
  let s = "";
  for (let i = 0; i < len; i++) s += ALPHABET[randomInt(ALPHABET.length)];
  return s;
}

/** An app password as shown once: 4 groups of 4 (about 79 bits). */
function newAppPassword(): string {
  const s = randomCode(16);
  return `${s.slice(0, 4)}-${s.slice(4, 8)}-${s.slice(8, 12)}-${s.slice(12)}`;
}

/** A recovery code as shown once: 2 groups of 6 (about 59 bits). */
function newRecoveryCode(): string {
  const s = randomCode(12);
  return `${s.slice(0, 6)}-${s.slice(6)}`;
}

/**
 * The canonical form of a typed app password or recovery code: lower case,
 * spaces and dashes dropped (users copy them in groups). Null when it cannot
 * be one (wrong length or a character outside the alphabet): such a password
 * is only ever checked as the account's main password.
 */
export function canonicalCode(input: string, len: number): string | null {
  if (typeof input !== "string" || input.length > 64) return null;
  const s = input.toLowerCase().replace(/[\s-]/g, "");
  if (s.length !== len) return null;
  for (const ch of s) if (!ALPHABET.includes(ch)) return null;
  return s;
}

const digest = (s: string) => createHash("sha256").update(s).digest("base64url");

function toAppPassword(r: R): AppPassword {
  return {
    id: num(r.id),
    name: str(r.name),
    createdAt: num(r.created_at),
    lastUsedAt: numOrNull(r.last_used_at),
    lastUsedProtocol: strOrNull(r.last_used_protocol),
  };
}

export class AccountSecurity {
  private key: Buffer | null = null;

  constructor(
    private readonly core: StoreCore,
    /** The data dir (the sealing key lives in its `keys/`); null: TOTP enrolment refused. */
    private readonly dataDir: string | null,
  ) {}

  private async bumpEpoch(tx: Queryable, accountId: number): Promise<void> {
    await tx.run("UPDATE accounts SET security_epoch = security_epoch + 1 WHERE id = ?", [accountId]);
  }

  async setAccountFlags(email: string, flags: { admin?: boolean; disabled?: boolean }): Promise<Account> {
    const e = normalizeAddress(email);
    return this.core.tx(async (tx) => {
      const a = await tx.get<R>("SELECT id, disabled FROM accounts WHERE email = ?", [e]);
      if (!a) throw new StoreError("NONEXISTENT", `no such account: ${email}`);
      const id = num(a.id);
      if (flags.admin !== undefined) await tx.run("UPDATE accounts SET is_admin = ? WHERE id = ?", [flags.admin ? 1 : 0, id]);
      if (flags.disabled !== undefined) {
        await tx.run("UPDATE accounts SET disabled = ? WHERE id = ?", [flags.disabled ? 1 : 0, id]);
        if (flags.disabled) {
          // A disabled account keeps no way in: its webmail sessions end in the same
          // transaction and the new stamp voids every cached login.
          await tx.run("DELETE FROM webmail_sessions WHERE account_id = ?", [id]);
        }
        if (flags.disabled !== (num(a.disabled) !== 0)) await this.bumpEpoch(tx, id);
      }
      const r = await tx.get<R>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE id = ?`, [id]);
      return toAccount(r as R);
    });
  }

  // ---- app passwords -------------------------------------------------------

  async listAppPasswords(accountId: number): Promise<AppPassword[]> {
    const rows = await this.core.db.all<R>(
      "SELECT id, name, created_at, last_used_at, last_used_protocol FROM app_passwords WHERE account_id = ? AND revoked_at IS NULL ORDER BY created_at, id",
      [accountId],
    );
    return rows.map(toAppPassword);
  }

  async createAppPassword(accountId: number, name: string): Promise<{ info: AppPassword; password: string }> {
    const label = typeof name === "string" ? name.trim() : "";
    if (label === "" || label.length > 100 || /[\u0000-\u001f\u007f]/.test(label)) {
      throw new StoreError("INVALID", "an app password needs a name of 1 to 100 printable characters");
    }
    const password = newAppPassword();
    const canonical = canonicalCode(password, 16) as string;
    const hash = await this.core.hasher.hash(canonical);
    const now = Date.now();
    const id = await this.core.tx(async (tx) => {
      if (!(await tx.get("SELECT 1 AS x FROM accounts WHERE id = ?", [accountId]))) throw new StoreError("NONEXISTENT", "no such account");
      const c = await tx.get<R>("SELECT COUNT(*) AS n FROM app_passwords WHERE account_id = ? AND revoked_at IS NULL", [accountId]);
      if (num(c?.n) >= MAX_APP_PASSWORDS) throw new StoreError("LIMIT", `at most ${MAX_APP_PASSWORDS} app passwords per account: revoke one first`);
      const r = await tx.get<R>("INSERT INTO app_passwords (account_id, name, lookup, hash, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id", [
        accountId,
        label,
        digest(canonical),
        hash,
        now,
      ]);
      return num(r?.id);
    });
    return { info: { id, name: label, createdAt: now, lastUsedAt: null, lastUsedProtocol: null }, password };
  }

  async revokeAppPassword(accountId: number, id: number): Promise<boolean> {
    if (!Number.isSafeInteger(id)) return false;
    return this.core.tx(async (tx) => {
      const r = await tx.run("UPDATE app_passwords SET revoked_at = ? WHERE id = ? AND account_id = ? AND revoked_at IS NULL", [Date.now(), id, accountId]);
      if (r.changes === 0) return false;
      await this.bumpEpoch(tx, accountId);
      return true;
    });
  }

  async verifyAppPassword(accountId: number, password: string): Promise<AppPassword | null> {
    const canonical = canonicalCode(password, 16);
    if (!canonical) return null;
    const r = await this.core.db.get<R>(
      "SELECT id, name, created_at, last_used_at, last_used_protocol, hash FROM app_passwords WHERE account_id = ? AND lookup = ? AND revoked_at IS NULL",
      [accountId, digest(canonical)],
    );
    if (!r) return null;
    return (await this.core.hasher.verify(canonical, str(r.hash))) ? toAppPassword(r) : null;
  }

  async noteAppPasswordUse(id: number, protocol: string, at: number): Promise<void> {
    await this.core.db.run("UPDATE app_passwords SET last_used_at = ?, last_used_protocol = ? WHERE id = ?", [at, protocol.slice(0, 20), id]);
  }

  // ---- TOTP second factor ----------------------------------------------------

  async twoFactorStatus(accountId: number): Promise<TwoFactorStatus> {
    const r = await this.core.db.get<R>("SELECT enabled_at FROM two_factor WHERE account_id = ?", [accountId]);
    const enabled = !!r && r.enabled_at !== null && r.enabled_at !== undefined;
    if (!enabled) return { enabled: false, recoveryCodesLeft: 0 };
    const c = await this.core.db.get<R>("SELECT COUNT(*) AS n FROM recovery_codes WHERE account_id = ? AND used_at IS NULL", [accountId]);
    return { enabled: true, recoveryCodesLeft: num(c?.n) };
  }

  /** Stores a new, not yet enabled secret (base32), replacing a pending one; refused while 2FA is on. */
  async beginTwoFactor(accountId: number, secretBase32: string): Promise<void> {
    if (!/^[A-Z2-7]{16,128}$/.test(secretBase32)) throw new StoreError("INVALID", "a TOTP secret is 16 to 128 base32 characters");
    const sealed = this.seal(secretBase32);
    await this.core.tx(async (tx) => {
      if (!(await tx.get("SELECT 1 AS x FROM accounts WHERE id = ?", [accountId]))) throw new StoreError("NONEXISTENT", "no such account");
      const cur = await tx.get<R>("SELECT enabled_at FROM two_factor WHERE account_id = ?", [accountId]);
      if (cur && cur.enabled_at !== null) throw new StoreError("CANNOT", "two-factor sign-in is already on: turn it off first");
      await tx.run("DELETE FROM two_factor WHERE account_id = ?", [accountId]);
      await tx.run("INSERT INTO two_factor (account_id, secret_sealed, created_at, last_step) VALUES (?, ?, ?, 0)", [accountId, sealed, Date.now()]);
    });
  }

  /** The account's secret (pending or enabled) and the last step used; null without one. */
  async twoFactorSecret(accountId: number): Promise<TwoFactorSecret | null> {
    const r = await this.core.db.get<R>("SELECT secret_sealed, enabled_at, last_step FROM two_factor WHERE account_id = ?", [accountId]);
    if (!r) return null;
    return { secret: this.unseal(str(r.secret_sealed)), enabled: r.enabled_at !== null && r.enabled_at !== undefined, lastStep: num(r.last_step) };
  }

  /**
   * Records `step` as used if it is later than the last one used (RFC 6238
   * §5.2: a code is accepted once). False: that step, or a later one, was
   * already used — a replay.
   */
  async claimTotpStep(accountId: number, step: number): Promise<boolean> {
    if (!Number.isSafeInteger(step) || step <= 0) return false;
    const r = await this.core.db.run("UPDATE two_factor SET last_step = ? WHERE account_id = ? AND last_step < ?", [step, accountId, step]);
    return r.changes > 0;
  }

  /**
   * Turns the pending secret on (its first code was verified and its step
   * claimed by the caller) and returns fresh recovery codes, shown once.
   */
  async enableTwoFactor(accountId: number): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.core.tx(async (tx) => {
      const r = await tx.run("UPDATE two_factor SET enabled_at = ? WHERE account_id = ? AND enabled_at IS NULL", [Date.now(), accountId]);
      if (r.changes === 0) throw new StoreError("CANNOT", "no pending two-factor set-up for this account");
      await this.writeRecoveryCodes(tx, accountId, codes);
      await this.bumpEpoch(tx, accountId);
    });
    return codes;
  }

  /** New recovery codes replacing the old ones (2FA must be on). */
  async regenerateRecoveryCodes(accountId: number): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.core.tx(async (tx) => {
      const cur = await tx.get<R>("SELECT enabled_at FROM two_factor WHERE account_id = ?", [accountId]);
      if (!cur || cur.enabled_at === null) throw new StoreError("CANNOT", "two-factor sign-in is off");
      await this.writeRecoveryCodes(tx, accountId, codes);
    });
    return codes;
  }

  private async writeRecoveryCodes(tx: Queryable, accountId: number, codes: string[]): Promise<void> {
    await tx.run("DELETE FROM recovery_codes WHERE account_id = ?", [accountId]);
    for (const c of codes) {
      await tx.run("INSERT INTO recovery_codes (account_id, code_hash) VALUES (?, ?)", [accountId, digest(canonicalCode(c, 12) as string)]);
    }
  }

  /** Spends one recovery code: true once per code, false for a used, unknown or malformed one. */
  async useRecoveryCode(accountId: number, code: string): Promise<boolean> {
    const canonical = canonicalCode(code, 12);
    if (!canonical) return false;
    const r = await this.core.db.run("UPDATE recovery_codes SET used_at = ? WHERE account_id = ? AND code_hash = ? AND used_at IS NULL", [
      Date.now(),
      accountId,
      digest(canonical),
    ]);
    return r.changes > 0;
  }

  /** Turns the second factor off (secret and recovery codes deleted): the owner's disable, or the admin's recovery. */
  async resetTwoFactor(accountId: number): Promise<void> {
    await this.core.tx(async (tx) => {
      await tx.run("DELETE FROM recovery_codes WHERE account_id = ?", [accountId]);
      const r = await tx.run("DELETE FROM two_factor WHERE account_id = ?", [accountId]);
      if (r.changes > 0) await this.bumpEpoch(tx, accountId);
    });
  }

  // ---- sealing ---------------------------------------------------------------

  private sealingKey(): Buffer {
    if (this.key) return this.key;
    if (!this.dataDir) throw new StoreError("CANNOT", "no data dir for the two-factor sealing key");
    const dir = join(this.dataDir, "keys");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    const file = join(dir, "account-security.key");
    try {
      const fd = openSync(file, "wx", 0o600);
      try {
        writeSync(fd, randomBytes(32).toString("base64") + "\n");
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new StoreError("CANNOT", `${file} does not hold a 32-byte key`);
    return (this.key = key);
  }

  private seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.sealingKey(), iv);
    const ct = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `v1:${Buffer.concat([iv, c.getAuthTag(), ct]).toString("base64")}`;
  }

  private unseal(sealed: string): string {
    if (!sealed.startsWith("v1:")) throw new StoreError("CANNOT", "unknown two-factor secret format");
    const b = Buffer.from(sealed.slice(3), "base64");
    const d = createDecipheriv("aes-256-gcm", this.sealingKey(), b.subarray(0, 12));
    d.setAuthTag(b.subarray(12, 28));
    try {
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString("utf8");
    } catch {
      throw new StoreError("CANNOT", "the two-factor secret does not open with keys/account-security.key (was the key file replaced?)");
    }
  }
}
