/**
 * The webmail's Security settings (issue 18): two-factor sign-in (TOTP,
 * RFC 6238) with recovery codes, and app passwords for mail apps.
 *
 *   GET    /api/security                     -> SecurityState
 *   POST   /api/security/2fa/setup           { password } -> TwoFactorSetup (pending until enabled)
 *   POST   /api/security/2fa/enable          { code } -> RecoveryCodes (shown once)
 *   POST   /api/security/2fa/disable         { password } -> { ok }
 *   POST   /api/security/recovery-codes      { password } -> RecoveryCodes (the old ones stop working)
 *   POST   /api/security/app-passwords       { password, name } -> AppPasswordCreated (shown once)
 *   DELETE /api/security/app-passwords/:id   -> { ok }
 *
 * Whatever adds a way in or removes the second factor asks for the current
 * password again (through the shared throttle, like the password change): a
 * browser left signed in must not be enough to plant a device's password or
 * turn the second factor off. Revoking only takes access away, so the session
 * suffices. The routes sit behind the session and CSRF middleware.
 */
import type { Context, Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import { checkTotp, newTotpSecret, otpauthUri, qrDataUrl } from "../../../src/auth-factors.ts";
import type { Account } from "../../../storage/api.ts";
import type { AppEnv } from "../types.ts";
import type { AppPasswordCreated, RecoveryCodes, SecurityState, TwoFactorSetup } from "./api-types.ts";
import { ApiError, readJson } from "./util.ts";

export interface SecurityDeps {
  ctx: ServerContext;
}

export function mountSecurityApi(app: Hono<AppEnv>, deps: SecurityDeps): void {
  const { ctx } = deps;
  const store = ctx.store;

  /** The current password of the signed-in account, checked like a sign-in (per-IP limit; the session's device is trusted). */
  const confirmPassword = async (c: Context<AppEnv>, a: Account, password: unknown): Promise<void> => {
    if (typeof password !== "string" || password === "") throw new ApiError(400, "password_required", "Enter your current password to confirm.");
    const r = await ctx.login(a.email, password.slice(0, 1024), c.env.remoteIp, { trusted: true, protocol: "webmail", purpose: "confirm" });
    if (!r.ok && r.reason === "throttled") throw new ApiError(429, "throttled", "Too many wrong passwords. Wait a few minutes and try again.");
    if (!r.ok || r.account.id !== a.id) throw new ApiError(400, "wrong_password", "Your current password is not correct.");
  };

  app.get("/api/security", async (c) => {
    const a = c.get("account");
    const [twoFactor, appPasswords] = await Promise.all([store.twoFactorStatus(a.id), store.listAppPasswords(a.id)]);
    c.header("cache-control", "no-store");
    return c.json({ twoFactor, appPasswords } satisfies SecurityState);
  });

  app.post("/api/security/2fa/setup", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ password?: unknown }>(c, 8 * 1024);
    await confirmPassword(c, a, body.password);
    if ((await store.twoFactorStatus(a.id)).enabled) throw new ApiError(409, "already_on", "Two-factor sign-in is already on. Turn it off first to set up a new app.");
    const secret = newTotpSecret();
    await store.beginTwoFactor(a.id, secret);
    const uri = otpauthUri(secret, a.email, ctx.config.hostname);
    c.header("cache-control", "no-store");
    return c.json({ secret, uri, qr: await qrDataUrl(uri) } satisfies TwoFactorSetup);
  });

  app.post("/api/security/2fa/enable", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ code?: unknown }>(c, 8 * 1024);
    const pending = await store.twoFactorSecret(a.id);
    if (!pending) throw new ApiError(409, "no_setup", "Start the set-up first (your password, then scan the code).");
    if (pending.enabled) throw new ApiError(409, "already_on", "Two-factor sign-in is already on.");
    // A wrong code counts against this address like a wrong password (the per-IP limit).
    if (!(await checkTotp(store, a.id, body.code))) {
      ctx.authLimiter.fail(c.env.remoteIp);
      throw new ApiError(400, "wrong_code", "That code is not correct. Check the time on your phone and enter the current 6-digit code.");
    }
    const recoveryCodes = await store.enableTwoFactor(a.id);
    ctx.log.info("two-factor sign-in turned on", { kind: "security", account: a.email, ip: c.env.remoteIp });
    c.header("cache-control", "no-store");
    return c.json({ recoveryCodes } satisfies RecoveryCodes);
  });

  app.post("/api/security/2fa/disable", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ password?: unknown }>(c, 8 * 1024);
    await confirmPassword(c, a, body.password);
    await store.resetTwoFactor(a.id);
    ctx.log.info("two-factor sign-in turned off", { kind: "security", account: a.email, ip: c.env.remoteIp });
    return c.json({ ok: true });
  });

  app.post("/api/security/recovery-codes", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ password?: unknown }>(c, 8 * 1024);
    await confirmPassword(c, a, body.password);
    if (!(await store.twoFactorStatus(a.id)).enabled) throw new ApiError(409, "two_factor_off", "Two-factor sign-in is off: there are no recovery codes to renew.");
    const recoveryCodes = await store.regenerateRecoveryCodes(a.id);
    c.header("cache-control", "no-store");
    return c.json({ recoveryCodes } satisfies RecoveryCodes);
  });

  app.post("/api/security/app-passwords", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ password?: unknown; name?: unknown }>(c, 8 * 1024);
    const name = typeof body.name === "string" ? body.name.trim() : "";
    if (!name || name.length > 100) throw new ApiError(400, "bad_name", "Give the app password a name of up to 100 characters (e.g. \"Phone\").");
    await confirmPassword(c, a, body.password);
    const created = await store.createAppPassword(a.id, name);
    ctx.log.info("app password created", { kind: "security", account: a.email, ip: c.env.remoteIp, appId: created.info.id, device: created.info.name });
    c.header("cache-control", "no-store");
    return c.json(created satisfies AppPasswordCreated, 201);
  });

  app.delete("/api/security/app-passwords/:id", async (c) => {
    const a = c.get("account");
    const raw = c.req.param("id");
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(id)) throw new ApiError(400, "bad_id", "That is not an app password id.");
    if (!(await store.revokeAppPassword(a.id, id))) throw new ApiError(404, "not_found", "No such app password (already revoked?).");
    ctx.log.info("app password revoked", { kind: "security", account: a.email, ip: c.env.remoteIp, appId: id });
    return c.json({ ok: true });
  });
}
