/**
 * The second factor: TOTP (RFC 6238: HMAC-SHA-1, 30-second steps, 6 digits,
 * one step of drift either way, each step accepted once) and single-use
 * recovery codes, plus what enrolment needs (a fresh secret, its otpauth://
 * URI and a QR code as an SVG data URL drawn on the server, so the page needs
 * no script from elsewhere).
 *
 * A code is checked through the shared authentication throttle like a
 * password: a wrong code counts as a failed attempt for the account and the
 * client address, so the 10^6 codes cannot be walked through.
 */
import { randomBytes } from "node:crypto";
import { Secret, TOTP } from "otpauth";
import QRCode from "qrcode";
import type { Account, MailStore } from "../storage/api.ts";
import type { AuthThrottle } from "./auth-throttle.ts";
import type { Logger } from "./log.ts";
import { normalizeIp, type LoginOptions, type LoginResult } from "./auth.ts";

/** RFC 6238 §4: T0 = 0, X = 30 s; §5.2: one step back or forward for clock drift and typing time. */
export const TOTP_PERIOD = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;

function totpFor(secretBase32: string, digits = TOTP_DIGITS): TOTP {
  return new TOTP({ algorithm: "SHA1", digits, period: TOTP_PERIOD, secret: Secret.fromBase32(secretBase32) });
}

/** A new secret: 160 bits (RFC 4226 §4 recommends the HMAC-SHA-1 output length), base32 without padding. */
export function newTotpSecret(): string {
  return new Secret({ size: 20 }).base32;
}

/** The code for `timeMs` (for tests and the RFC 6238 Appendix B vectors: `digits` 8). */
export function totpCode(secretBase32: string, timeMs: number, digits = TOTP_DIGITS): string {
  return totpFor(secretBase32, digits).generate({ timestamp: timeMs });
}

/** The RFC 6238 time step of `timeMs`. */
export function totpStep(timeMs: number): number {
  return Math.floor(timeMs / 1000 / TOTP_PERIOD);
}

/** A typed code with spaces removed, or null if it is not 6 digits. */
export function parseTotp(input: unknown): string | null {
  if (typeof input !== "string" || input.length > 20) return null;
  const s = input.replace(/\s/g, "");
  return /^\d{6}$/.test(s) ? s : null;
}

/**
 * The step `code` belongs to, within one step of `timeMs`, or null. The
 * caller still claims the step (MailStore.claimTotpStep) so it is used once.
 */
export function matchTotp(secretBase32: string, code: string, timeMs: number): number | null {
  const delta = totpFor(secretBase32).validate({ token: code, timestamp: timeMs, window: TOTP_WINDOW });
  return delta === null ? null : totpStep(timeMs) + delta;
}

/** The otpauth:// URI authenticator apps read from the QR code (issuer "Pillarbox (host)", label the address). */
export function otpauthUri(secretBase32: string, email: string, hostname: string): string {
  return new TOTP({ issuer: `Pillarbox (${hostname})`, label: email, algorithm: "SHA1", digits: TOTP_DIGITS, period: TOTP_PERIOD, secret: Secret.fromBase32(secretBase32) }).toString();
}

/** The URI as a QR code, an SVG data URL (an <img> source under the webmail's CSP). */
export async function qrDataUrl(text: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`;
}

/**
 * Checks a TOTP code against the account's secret (pending or enabled) and
 * claims its step: true once per step.
 */
export async function checkTotp(store: MailStore, accountId: number, input: unknown, timeMs = Date.now()): Promise<boolean> {
  const code = parseTotp(input);
  if (!code) return false;
  const s = await store.twoFactorSecret(accountId);
  if (!s) return false;
  const step = matchTotp(s.secret, code, timeMs);
  if (step === null) return false;
  return store.claimTotpStep(accountId, step);
}

export interface SecondFactorDeps {
  store: MailStore;
  throttle: AuthThrottle;
  log: Logger;
}

/**
 * The second step of an interactive sign-in (webmail, admin) after the
 * password was right and `login` answered "second-factor": a TOTP code or a
 * recovery code, through the throttle. Answers like `login`.
 */
export async function verifySecondFactor(
  deps: SecondFactorDeps,
  account: Account,
  code: unknown,
  remoteIp: string,
  opts: LoginOptions = {},
): Promise<LoginResult & { method?: "totp" | "recovery" }> {
  const ip = normalizeIp(remoteIp);
  const protocol = opts.protocol ?? "webmail";
  const user = account.email;
  const verdict = await deps.throttle.begin(user, ip, { trusted: opts.trusted });
  if (!verdict.ok) {
    deps.log.warn("login throttled", { kind: "login-failed", scope: verdict.scope, ip, user, account: user, retryAfterMs: verdict.retryAfterMs, protocol, reason: "throttled" });
    return { ok: false, reason: "throttled", retryAfterMs: verdict.retryAfterMs };
  }
  let method: "totp" | "recovery" | null = null;
  try {
    const fresh = await deps.store.getAccountById(account.id);
    if (fresh && !fresh.disabled && typeof code === "string") {
      if (parseTotp(code)) method = (await checkTotp(deps.store, account.id, code)) ? "totp" : null;
      else method = (await deps.store.useRecoveryCode(account.id, code)) ? "recovery" : null;
    }
  } catch (err) {
    verdict.attempt.abandon();
    throw err;
  }
  if (!method) {
    verdict.attempt.failed();
    deps.log.warn("login failed", { kind: "login-failed", protocol, user, account: user, ip, reason: "2fa: wrong or reused code" });
    return { ok: false, reason: "failed", retryAfterMs: 0 };
  }
  verdict.attempt.succeeded();
  const left = method === "recovery" ? (await deps.store.twoFactorStatus(account.id)).recoveryCodesLeft : undefined;
  deps.log.info("login", { kind: "login", protocol, account: user, ip, credential: "main", secondFactor: method, ...(left !== undefined ? { recoveryCodesLeft: left } : {}) });
  return { ok: true, account: (await deps.store.getAccountById(account.id)) ?? account, method };
}

/** A sign-in waiting for its second factor (the password was right). */
export interface PendingSignIn {
  accountId: number;
  email: string;
  /** Where the sign-in returns to (already checked by the caller). */
  next: string;
  trusted: boolean;
  expires: number;
  tries: number;
}

/**
 * The sign-ins between their password and their code, in memory, keyed by
 * a random token the page carries in a hidden field (with the page's CSRF
 * token beside it). Each lives 5 minutes and takes at most 5 codes; then the
 * password must be entered again. Bounded: the oldest are dropped first.
 */
export class PendingSignIns {
  private readonly map = new Map<string, PendingSignIn>();
  constructor(
    private readonly opts: { ttlMs?: number; maxTries?: number; maxEntries?: number; now?: () => number } = {},
  ) {}

  get maxTries(): number {
    return this.opts.maxTries ?? 5;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  create(p: Omit<PendingSignIn, "expires" | "tries">): string {
    const now = this.now();
    for (const [k, v] of this.map) {
      if (v.expires > now && this.map.size < (this.opts.maxEntries ?? 10_000)) break;
      this.map.delete(k);
    }
    const token = randomBytes(24).toString("base64url");
    this.map.set(token, { ...p, expires: now + (this.opts.ttlMs ?? 5 * 60_000), tries: 0 });
    return token;
  }

  /** The pending sign-in for a token, counting one more try; null when unknown, expired or out of tries (then forgotten). */
  take(token: unknown): PendingSignIn | null {
    if (typeof token !== "string" || token.length > 64) return null;
    const p = this.map.get(token);
    if (!p) return null;
    if (p.expires <= this.now() || p.tries >= this.maxTries) {
      this.map.delete(token);
      return null;
    }
    p.tries++;
    return p;
  }

  /** Ends a pending sign-in (it succeeded). */
  finish(token: string): void {
    this.map.delete(token);
  }

  get size(): number {
    return this.map.size;
  }
}
