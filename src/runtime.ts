/**
 * The one adapter over runtime-specific APIs. Everything else uses `node:*`
 * and web-standard APIs so the code stays portable to Deno and Node.
 */
import { scrypt, randomBytes, timingSafeEqual } from "node:crypto";

// Bun's global, typed loosely here so Deno/Node type-checks do not need bun-types.
// deno-lint-ignore no-explicit-any
const BunGlobal: any = (globalThis as any).Bun; // any: optional runtime global, absent on Deno/Node

export const runtimeName: "bun" | "deno" | "node" = BunGlobal ? "bun" : "Deno" in globalThis ? "deno" : "node";

/** argon2id via Bun.password; scrypt (N=2^15) elsewhere. The hash string says which, so both verify. */
export async function hashPassword(password: string): Promise<string> {
  if (BunGlobal?.password) {
    return await BunGlobal.password.hash(password, { algorithm: "argon2id", memoryCost: 19456, timeCost: 2 });
  }
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt);
  return `$scrypt$N=32768,r=8,p=1$${salt.toString("base64")}$${key.toString("base64")}`;
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (hash.startsWith("$scrypt$")) {
    const [, , , saltB64, keyB64] = hash.split("$");
    if (!saltB64 || !keyB64) return false;
    const want = Buffer.from(keyB64, "base64");
    const got = await scryptAsync(password, Buffer.from(saltB64, "base64"));
    return got.length === want.length && timingSafeEqual(got, want);
  }
  if (BunGlobal?.password) {
    try {
      return await BunGlobal.password.verify(password, hash);
    } catch {
      return false;
    }
  }
  return false;
}

/** A valid hash of a random password: verifying against it costs the same as a real account (no user enumeration by timing). */
let dummyHash: Promise<string> | null = null;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
  return dummyHash;
}

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}
