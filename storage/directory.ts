/**
 * The directory: domains (with their DKIM keys), accounts (passwords hashed
 * by the injected PasswordHasher, settings, quota) and aliases, and the
 * resolution of an envelope recipient to local accounts and forwards.
 */
import { Buffer } from "node:buffer";
import { createHash, generateKeyPair } from "node:crypto";
import { StoreError, type Account, type AccountSettings, type Alias, type Domain, type ItemClass, type SpecialUse } from "./api.ts";
import { folderKey } from "./folder-names.ts";
import type { StoreCore } from "./core.ts";
import type { Folders } from "./folders.ts";
import { addressProblem, domainOf, domainProblem, likeEscape, normalizeAddress, normalizeDomain } from "./names.ts";
import { ACCOUNT_COLS, num, parseJson, str, toAccount, toDomain, type R } from "./rows.ts";

/** Default folders of a new account (RFC 6154 special-use). */
const DEFAULT_FOLDERS: [string, SpecialUse | null][] = [
  ["INBOX", null],
  ["Drafts", "\\Drafts"],
  ["Sent", "\\Sent"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
  ["Archive", "\\Archive"],
];

/**
 * Default groupware folders of a new account: a calendar, an address book and
 * a task list (their names are the last segment of their CalDAV/CardDAV URLs;
 * src/groupware/collections.ts creates the same for older accounts), and the
 * notes folder ActiveSync shows (older accounts get it on their first
 * FolderSync, protocols/http/eas/sync/notes.ts).
 */
export const DEFAULT_GROUPWARE_FOLDERS: readonly [string, ItemClass][] = [
  ["Calendar", "calendar"],
  ["Contacts", "contacts"],
  ["Tasks", "tasks"],
  ["Notes", "notes"],
];

function dkimSelector(now = new Date()): string {
  return `pb${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, "0")}`;
}

function genRsaKey(): Promise<{ privateKeyPem: string; publicKeyB64: string }> {
  return new Promise((resolve, reject) =>
    generateKeyPair(
      "rsa",
      { modulusLength: 2048, publicKeyEncoding: { type: "spki", format: "der" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } },
      (err, pub, priv) => (err ? reject(err) : resolve({ privateKeyPem: priv, publicKeyB64: Buffer.from(pub).toString("base64") })),
    ),
  );
}

export class Directory {
  constructor(
    private readonly core: StoreCore,
    private readonly folders: Folders,
  ) {}

  async addDomain(name: string): Promise<Domain> {
    const d = normalizeDomain(name);
    if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(d) || d.length > 253) {
      throw new StoreError("INVALID", `invalid domain name: ${name}`);
    }
    if (await this.getDomain(d)) throw new StoreError("ALREADYEXISTS", `domain exists: ${d}`);
    const key = await genRsaKey();
    const selector = dkimSelector();
    const now = Date.now();
    await this.core.tx(async (tx) => {
      const exists = await tx.get("SELECT 1 AS x FROM domains WHERE name = ?", [d]);
      if (exists) throw new StoreError("ALREADYEXISTS", `domain exists: ${d}`);
      await tx.run("INSERT INTO domains (name, dkim_selector, dkim_private_key, dkim_public_key, created_at) VALUES (?, ?, ?, ?, ?)", [
        d,
        selector,
        key.privateKeyPem,
        key.publicKeyB64,
        now,
      ]);
    });
    return (await this.getDomain(d)) as Domain;
  }

  async listDomains(): Promise<Domain[]> {
    return (await this.core.db.all<R>("SELECT * FROM domains ORDER BY name")).map(toDomain);
  }

  async getDomain(name: string): Promise<Domain | null> {
    const r = await this.core.db.get<R>("SELECT * FROM domains WHERE name = ?", [normalizeDomain(name)]);
    return r ? toDomain(r) : null;
  }

  async removeDomain(name: string): Promise<void> {
    const d = normalizeDomain(name);
    await this.core.tx(async (tx) => {
      const dom = await tx.get<R>("SELECT id FROM domains WHERE name = ?", [d]);
      if (!dom) throw new StoreError("NONEXISTENT", `no such domain: ${d}`);
      const acct = await tx.get("SELECT 1 AS x FROM accounts WHERE domain_id = ? LIMIT 1", [num(dom.id)]);
      if (acct) throw new StoreError("CANNOT", `domain ${d} still has accounts`);
      await tx.run("DELETE FROM aliases WHERE source = ? OR source LIKE ? ESCAPE '\\'", ["@" + d, "%@" + likeEscape(d)]);
      await tx.run("DELETE FROM domains WHERE id = ?", [num(dom.id)]);
    });
  }

  async isLocalDomain(name: string): Promise<boolean> {
    return !!(await this.core.db.get("SELECT 1 AS x FROM domains WHERE name = ?", [normalizeDomain(name)]));
  }

  async getDkimKey(domain: string): Promise<{ selector: string; privateKeyPem: string } | null> {
    const r = await this.core.db.get<R>("SELECT dkim_selector, dkim_private_key FROM domains WHERE name = ?", [normalizeDomain(domain)]);
    if (!r || !r.dkim_selector || !r.dkim_private_key) return null;
    return { selector: str(r.dkim_selector), privateKeyPem: str(r.dkim_private_key) };
  }

  async addAccount(email: string, password: string, opts: { quotaBytes?: number | null; displayName?: string; force?: boolean } = {}): Promise<Account> {
    const e = normalizeAddress(email);
    const problem = addressProblem(email);
    if (problem) throw new StoreError("INVALID", `invalid address ${problem}`);
    const dom = await this.getDomain(domainOf(e));
    if (!dom) throw new StoreError("NONEXISTENT", `domain is not local: ${domainOf(e)}`);
    if (typeof password !== "string" || password === "") throw new StoreError("INVALID", "empty password");
    const hash = await this.core.hasher.hash(password);
    const settings: AccountSettings = {};
    if (opts.displayName) settings.displayName = opts.displayName;
    const now = Date.now();
    const id = await this.core.tx(async (tx, ev) => {
      if (await tx.get("SELECT 1 AS x FROM accounts WHERE email = ?", [e])) throw new StoreError("ALREADYEXISTS", `account exists: ${e}`);
      // An account wins over an alias of the same address (resolveRecipient step 1): creating one
      // over an alias source silently ends that alias's routing, so it takes `force`.
      if (!opts.force && (await tx.get("SELECT 1 AS x FROM aliases WHERE source = ?", [e]))) {
        throw new StoreError("ALREADYEXISTS", `${e} is the source of an alias: an account with that address would take its mail instead of the alias's destinations (remove the alias first, or force it)`);
      }
      const r = await tx.get<R>(
        "INSERT INTO accounts (email, domain_id, password_hash, quota_bytes, settings, modseq, created_at) VALUES (?, ?, ?, ?, ?, 1, ?) RETURNING id",
        [e, dom.id, hash, opts.quotaBytes ?? null, JSON.stringify(settings), now],
      );
      const accountId = num(r?.id);
      for (const [name, use] of DEFAULT_FOLDERS) await this.folders.insertFolder(tx, ev, accountId, name, null, "mail", use, true);
      // the groupware defaults (issue 15), each in its class's name space (storage/folder-names.ts)
      for (const [name, itemClass] of DEFAULT_GROUPWARE_FOLDERS) await this.folders.insertFolder(tx, ev, accountId, folderKey(itemClass, name), null, itemClass, null, true);
      return accountId;
    });
    return (await this.getAccountById(id)) as Account;
  }

  async listAccounts(): Promise<Account[]> {
    return (await this.core.db.all<R>(`SELECT ${ACCOUNT_COLS} FROM accounts ORDER BY email`)).map(toAccount);
  }

  async getAccount(email: string): Promise<Account | null> {
    const r = await this.core.db.get<R>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE email = ?`, [normalizeAddress(email)]);
    return r ? toAccount(r) : null;
  }

  async getAccountById(id: number): Promise<Account | null> {
    const r = await this.core.db.get<R>(`SELECT ${ACCOUNT_COLS} FROM accounts WHERE id = ?`, [id]);
    return r ? toAccount(r) : null;
  }

  async authenticate(email: string, password: string): Promise<Account | null> {
    const r = typeof email === "string" ? await this.core.db.get<R>(`SELECT ${ACCOUNT_COLS}, password_hash FROM accounts WHERE email = ?`, [normalizeAddress(email)]) : undefined;
    if (!r || typeof password !== "string") {
      // same work for an unknown user: no enumeration by timing
      await this.core.hasher.verify(String(password ?? ""), await this.core.hasher.dummyHash());
      return null;
    }
    return (await this.core.hasher.verify(password, str(r.password_hash))) ? toAccount(r) : null;
  }

  async setPassword(email: string, password: string, opts: { keepWebmailSession?: string } = {}): Promise<void> {
    if (typeof password !== "string" || password === "") throw new StoreError("INVALID", "empty password");
    const hash = await this.core.hasher.hash(password);
    const e = normalizeAddress(email);
    await this.core.tx(async (tx) => {
      const a = await tx.get<R>("SELECT id FROM accounts WHERE email = ?", [e]);
      if (!a) throw new StoreError("NONEXISTENT", `no such account: ${email}`);
      await tx.run("UPDATE accounts SET password_hash = ? WHERE id = ?", [hash, num(a.id)]);
      // A new password ends every other webmail session in the same transaction, whichever
      // process made the change (the CLI included): a stolen cookie dies with the old password.
      if (opts.keepWebmailSession) await tx.run("DELETE FROM webmail_sessions WHERE account_id = ? AND id <> ?", [num(a.id), opts.keepWebmailSession]);
      else await tx.run("DELETE FROM webmail_sessions WHERE account_id = ?", [num(a.id)]);
    });
  }

  async credentialStamp(accountId: number): Promise<string | null> {
    const r = await this.core.db.get<R>("SELECT password_hash, security_epoch, disabled FROM accounts WHERE id = ?", [accountId]);
    // The hash is salted afresh on every change, so its digest changes even for the same password;
    // the security epoch changes with the second factor and the app passwords (account-security.ts).
    return r ? createHash("sha256").update(`${str(r.password_hash)}\0${num(r.security_epoch)}\0${num(r.disabled)}`).digest("base64url").slice(0, 22) : null;
  }

  async removeAccount(email: string): Promise<void> {
    const e = normalizeAddress(email);
    await this.core.tx(async (tx) => {
      const a = await tx.get<R>("SELECT id FROM accounts WHERE email = ?", [e]);
      if (!a) throw new StoreError("NONEXISTENT", `no such account: ${e}`);
      const id = num(a.id);
      await tx.run("DELETE FROM items WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM expunged WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM folder_tombstones WHERE account_id = ?", [id]);
      await tx.run("UPDATE folders SET parent_id = NULL WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM folders WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM aliases WHERE destination = ?", [e]);
      // explicit: the cascade needs foreign_keys=ON, which a remote engine may not have
      await tx.run("DELETE FROM app_passwords WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM recovery_codes WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM two_factor WHERE account_id = ?", [id]);
      // the account's Bayes model (migration 0042): its tokens and trained messages, then the model row
      await tx.run("DELETE FROM bayes_tokens WHERE model_id IN (SELECT id FROM bayes_models WHERE account_id = ?)", [id]);
      await tx.run("DELETE FROM bayes_trained WHERE model_id IN (SELECT id FROM bayes_models WHERE account_id = ?)", [id]);
      await tx.run("DELETE FROM bayes_models WHERE account_id = ?", [id]);
      await tx.run("DELETE FROM accounts WHERE id = ?", [id]);
    });
  }

  async setQuota(email: string, quotaBytes: number | null): Promise<void> {
    if (quotaBytes !== null && (!Number.isFinite(quotaBytes) || quotaBytes < 0)) throw new StoreError("INVALID", "quota must be >= 0 or null");
    const n = await this.core.db.run("UPDATE accounts SET quota_bytes = ? WHERE email = ?", [quotaBytes === null ? null : Math.floor(quotaBytes), normalizeAddress(email)]);
    if (n.changes === 0) throw new StoreError("NONEXISTENT", `no such account: ${email}`);
  }

  async updateSettings(accountId: number, patch: Partial<AccountSettings>): Promise<AccountSettings> {
    return this.core.tx(async (tx) => {
      const r = await tx.get<R>("SELECT settings FROM accounts WHERE id = ?", [accountId]);
      if (!r) throw new StoreError("NONEXISTENT", "no such account");
      const cur = parseJson<AccountSettings>(r.settings, {});
      for (const [k, v] of Object.entries(patch)) {
        if (v === undefined || v === null) delete cur[k];
        else cur[k] = v;
      }
      await tx.run("UPDATE accounts SET settings = ? WHERE id = ?", [JSON.stringify(cur), accountId]);
      return cur;
    });
  }

  async addAlias(source: string, destination: string, opts: { force?: boolean } = {}): Promise<Alias> {
    const src = source.trim().startsWith("@") ? "@" + normalizeDomain(source.trim().slice(1)) : normalizeAddress(source);
    const dst = normalizeAddress(destination);
    const srcDom = domainOf(src);
    if (!srcDom || (!src.startsWith("@") && src.indexOf("@") <= 0)) throw new StoreError("INVALID", `invalid alias source: ${source}`);
    // `@domain` (catch-all source, or a destination that rewrites the domain) has no local part to check.
    const srcProblem = src.startsWith("@") ? domainProblem(srcDom) : addressProblem(src);
    if (srcProblem) throw new StoreError("INVALID", `invalid alias source ${srcProblem}`);
    if (!dst.includes("@") || dst.startsWith("@") && dst.length < 2) throw new StoreError("INVALID", `invalid alias destination: ${destination}`);
    const dstProblem = dst.startsWith("@") ? domainProblem(dst.slice(1)) : addressProblem(dst);
    if (dstProblem) throw new StoreError("INVALID", `invalid alias destination ${dstProblem}`);
    if (!(await this.isLocalDomain(srcDom))) throw new StoreError("NONEXISTENT", `domain is not local: ${srcDom}`);
    return this.core.tx(async (tx) => {
      // An account wins over an alias of the same address (resolveRecipient step 1): such an alias
      // would never route anything, so it takes `force` (kept for when the account is removed).
      if (!opts.force && !src.startsWith("@") && (await tx.get("SELECT 1 AS x FROM accounts WHERE email = ?", [src]))) {
        throw new StoreError("ALREADYEXISTS", `${src} is an account: an alias with that source would not route its mail while the account exists (force it to add it anyway)`);
      }
      if (await tx.get("SELECT 1 AS x FROM aliases WHERE source = ? AND destination = ?", [src, dst])) {
        throw new StoreError("ALREADYEXISTS", `alias exists: ${src} -> ${dst}`);
      }
      const r = await tx.get<R>("INSERT INTO aliases (source, destination, created_at) VALUES (?, ?, ?) RETURNING id", [src, dst, Date.now()]);
      return { id: num(r?.id), source: src, destination: dst };
    });
  }

  async listAliases(): Promise<Alias[]> {
    const rows = await this.core.db.all<R>("SELECT id, source, destination FROM aliases ORDER BY source, destination");
    return rows.map((r) => ({ id: num(r.id), source: str(r.source), destination: str(r.destination) }));
  }

  async removeAlias(source: string, destination?: string): Promise<number> {
    const src = source.trim().startsWith("@") ? "@" + normalizeDomain(source.trim().slice(1)) : normalizeAddress(source);
    const r =
      destination === undefined
        ? await this.core.db.run("DELETE FROM aliases WHERE source = ?", [src])
        : await this.core.db.run("DELETE FROM aliases WHERE source = ? AND destination = ?", [src, normalizeAddress(destination)]);
    return r.changes;
  }

  async resolveRecipient(address: string): Promise<{ accounts: Account[]; forward: string[] } | null | "remote"> {
    const addr = normalizeAddress(address);
    const at = addr.lastIndexOf("@");
    if (at <= 0 || at === addr.length - 1) return null;
    if (!(await this.isLocalDomain(domainOf(addr)))) return "remote";
    const accounts = new Map<number, Account>();
    const forward = new Set<string>();
    const seen = new Set<string>();
    // the recipient's own domain was just found local (above): no second lookup for it
    const localDomains = new Map<string, boolean>([[domainOf(addr), true]]);
    const isLocal = async (d: string) => {
      let v = localDomains.get(d);
      if (v === undefined) {
        v = await this.isLocalDomain(d);
        localDomains.set(d, v);
      }
      return v;
    };
    // Loop guard: every address is expanded once, and chains stop at depth 20.
    const visit = async (a: string, depth: number): Promise<boolean> => {
      if (seen.has(a) || depth > 20 || seen.size > 1000) return false;
      seen.add(a);
      const dom = domainOf(a);
      if (!(await isLocal(dom))) {
        forward.add(a);
        return true;
      }
      // 1. an account with exactly this address
      const acct = await this.getAccount(a);
      if (acct) {
        accounts.set(acct.id, acct);
        return true;
      }
      // 2. aliases (one-to-many)
      const dests = await this.core.db.all<R>("SELECT destination FROM aliases WHERE source = ?", [a]);
      if (dests.length) {
        let any = false;
        for (const d of dests) any = (await visit(str(d.destination), depth + 1)) || any;
        return any;
      }
      // 3. sub-addressing: user+tag@dom resolves as user@dom
      const local = a.slice(0, a.lastIndexOf("@"));
      const plus = local.indexOf("+");
      if (plus > 0) {
        if (await visit(`${local.slice(0, plus)}@${dom}`, depth + 1)) return true;
      }
      // 4. catch-all of the domain
      const catchAll = await this.core.db.all<R>("SELECT destination FROM aliases WHERE source = ?", ["@" + dom]);
      let any = false;
      for (const d of catchAll) {
        const dest = str(d.destination);
        // "@other.dom" as destination rewrites the domain and keeps the local part
        any = (await visit(dest.startsWith("@") ? local + dest : dest, depth + 1)) || any;
      }
      return any;
    };
    await visit(addr, 0);
    if (accounts.size === 0 && forward.size === 0) return null;
    return { accounts: [...accounts.values()], forward: [...forward] };
  }

  async sendAsAddresses(accountId: number): Promise<string[]> {
    const acct = await this.getAccountById(accountId);
    if (!acct) return [];
    const out = new Set<string>([acct.email]);
    let frontier = [acct.email];
    for (let depth = 0; depth < 10 && frontier.length; depth++) {
      const next: string[] = [];
      for (const d of frontier) {
        const rows = await this.core.db.all<R>("SELECT source FROM aliases WHERE destination = ?", [d]);
        for (const r of rows) {
          const s = str(r.source);
          if (s.startsWith("@") || out.has(s)) continue; // a catch-all is not a sender identity
          out.add(s);
          next.push(s);
        }
      }
      frontier = next;
    }
    return [...out];
  }
}
