/**
 * Session-token key ring, kept in `<dataDir>/webmail-keys.json` (mode 0600).
 *
 * Rotation: the newest key signs and encrypts new sessions; a new key is made
 * when the newest is older than `rotateMs`; an old key is kept (so the
 * sessions it sealed stay valid) until every session it could have sealed has
 * expired, i.e. `createdAt + rotateMs + maxSessionMs`. Each key has an id
 * (`kid`, carried in the token's protected headers) so the right one is found
 * without trial decryption.
 *
 * Each 32-byte master secret is split with HKDF (RFC 5869) into one key for
 * the HS256 signature and one for the A256GCM encryption, so the same bytes
 * are never used by two algorithms.
 */
import { randomBytes, hkdfSync } from "node:crypto";
import { promises as fsp, constants as fsc } from "node:fs";
import path from "node:path";

export interface SessionKey {
  kid: string;
  createdAt: number;
  signKey: Uint8Array;
  encKey: Uint8Array;
}

interface StoredKey {
  kid: string;
  createdAt: number;
  secret: string; // base64url, 32 bytes
}

export interface KeyRingOptions {
  dataDir: string;
  rotateMs: number;
  maxSessionMs: number;
  now?: () => number;
}

export class KeyRing {
  private keys: SessionKey[] = [];
  private stored: StoredKey[] = [];
  private readonly file: string;
  private readonly now: () => number;
  private pending: Promise<void> | null = null;

  constructor(private readonly opts: KeyRingOptions) {
    this.file = path.join(opts.dataDir, "webmail-keys.json");
    this.now = opts.now ?? Date.now;
  }

  async load(): Promise<void> {
    let stored: StoredKey[] = [];
    try {
      const text = await fsp.readFile(this.file, "utf8");
      const parsed = JSON.parse(text) as { keys?: StoredKey[] };
      stored = (parsed.keys ?? []).filter(
        (k) => typeof k.kid === "string" && typeof k.createdAt === "number" && typeof k.secret === "string" && Buffer.from(k.secret, "base64url").length === 32,
      );
      // Tighten permissions in case the file was copied around with a looser mode.
      await fsp.chmod(this.file, 0o600).catch(() => {});
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    this.setStored(stored);
    await this.rotateIfDue();
  }

  /** The key that seals new sessions (rotating first when due). */
  async current(): Promise<SessionKey> {
    await this.rotateIfDue();
    return this.keys[0]!;
  }

  byKid(kid: string): SessionKey | undefined {
    return this.keys.find((k) => k.kid === kid);
  }

  get all(): readonly SessionKey[] {
    return this.keys;
  }

  private setStored(stored: StoredKey[]): void {
    const now = this.now();
    const keep = stored
      .sort((a, b) => b.createdAt - a.createdAt)
      .filter((k, i) => i === 0 || k.createdAt + this.opts.rotateMs + this.opts.maxSessionMs > now);
    this.stored = keep;
    this.keys = keep.map((k) => derive(k));
  }

  private async rotateIfDue(): Promise<void> {
    if (this.pending) return this.pending;
    const newest = this.stored[0];
    const now = this.now();
    const expiredExist = this.stored.some((k, i) => i > 0 && k.createdAt + this.opts.rotateMs + this.opts.maxSessionMs <= now);
    if (newest && now - newest.createdAt < this.opts.rotateMs && !expiredExist) return;
    this.pending = (async () => {
      const next = [...this.stored];
      if (!newest || now - newest.createdAt >= this.opts.rotateMs) {
        next.unshift({ kid: randomBytes(6).toString("base64url"), createdAt: now, secret: randomBytes(32).toString("base64url") });
      }
      this.setStored(next);
      await this.save();
    })().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }

  /** Write-to-temp, fsync, rename: a crash never leaves a torn key file. */
  private async save(): Promise<void> {
    await fsp.mkdir(this.opts.dataDir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fh = await fsp.open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_TRUNC, 0o600);
    try {
      await fh.writeFile(JSON.stringify({ keys: this.stored }, null, 1));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, this.file);
  }
}

function derive(k: StoredKey): SessionKey {
  const secret = Buffer.from(k.secret, "base64url");
  return {
    kid: k.kid,
    createdAt: k.createdAt,
    signKey: new Uint8Array(hkdfSync("sha256", secret, Buffer.from(k.kid), "pillarbox webmail session sign", 32)),
    encKey: new Uint8Array(hkdfSync("sha256", secret, Buffer.from(k.kid), "pillarbox webmail session enc", 32)),
  };
}
