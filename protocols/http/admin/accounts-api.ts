/**
 * /admin/api/accounts: list with usage, create (password policy), change
 * (quota, display name, admin, disabled, password reset, two-factor reset),
 * delete (the address repeated in ?confirm=), and what can reach an account
 * (webmail sessions, app passwords, ActiveSync devices) with revocation.
 */
import type { Context, Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { AccountAccess, AccountView, AppPasswordView, DeviceView, SessionView } from "./api-types.ts";
import type { Account } from "../../../storage/api.ts";
import type { EasDevice } from "../../../storage/eas-store.ts";
import { checkPassword } from "../../../src/password-policy.ts";
import { AdminError, audit, ok, pathParam, readJson, route, sessionViewId, type AdminDeps } from "./guard.ts";
import { checkAddress, checkBool, checkDisplayName, checkQuota, onlyFields } from "./validate.ts";

export function deviceView(d: EasDevice): DeviceView {
  return {
    account: d.email,
    deviceId: d.deviceId,
    deviceType: d.deviceType,
    model: d.model ?? d.friendlyName ?? null,
    userAgent: d.userAgent,
    lastSeenAt: d.lastSeen ?? null,
    lastIp: d.lastIp,
    wipeStatus: d.wipeStatus,
  };
}

export function mountAccountsApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const { ctx } = deps;
  const store = ctx.store;

  const view = async (a: Account): Promise<AccountView> => {
    const [q, tf, apps] = await Promise.all([store.quota(a.id), store.twoFactorStatus(a.id), store.listAppPasswords(a.id)]);
    return {
      email: a.email,
      displayName: a.settings.displayName ?? "",
      quotaBytes: a.quotaBytes,
      usedBytes: q.usedBytes,
      messages: q.messages,
      admin: a.admin,
      disabled: a.disabled,
      twoFactor: tf.enabled,
      appPasswords: apps.length,
      createdAt: a.createdAt,
    };
  };

  /** The account named in the path (URL-encoded address); 400 when malformed, 404 when unknown. */
  const target = async (c: Context<AppEnv>): Promise<Account> => {
    const email = checkAddress(pathParam(c, "email", "address"), "account address");
    const a = await store.getAccount(email);
    if (!a) throw new AdminError(404, "not_found", `There is no account ${email}.`);
    return a;
  };

  /** Ends an account's webmail sessions and their live event streams. */
  const endSessions = async (accountId: number) => {
    for (const s of await ctx.storage.webmail.listAccountSessions(accountId)) deps.hub.closeSession(s.id);
    await ctx.storage.webmail.deleteAccountSessions(accountId);
  };

  app.get(
    "/admin/api/accounts",
    route(deps, async (c) => {
      const accounts = await store.listAccounts();
      const out: AccountView[] = [];
      for (const a of accounts) out.push(await view(a));
      return c.json(out, 200, { "cache-control": "no-store" });
    }),
  );

  app.post(
    "/admin/api/accounts",
    route(deps, async (c) => {
      const body = await readJson(c);
      onlyFields(body, ["email", "password", "displayName", "quotaBytes", "admin"]);
      const email = checkAddress(body.email, "account address");
      if (typeof body.password !== "string" || body.password === "") throw new AdminError(400, "bad_password", "Give a password for the new account.");
      if (body.password.length > 1024) throw new AdminError(400, "bad_password", "The password is too long (at most 1024 characters).");
      const policy = checkPassword(body.password, { email, minLength: ctx.config.limits.passwordMinLength });
      if (!policy.ok) throw new AdminError(400, "weak_password", `The password is not accepted: ${policy.reason}`);
      const displayName = body.displayName === undefined ? undefined : checkDisplayName(body.displayName);
      const quotaBytes = body.quotaBytes === undefined ? undefined : checkQuota(body.quotaBytes);
      const admin = body.admin === undefined ? false : checkBool(body.admin, "admin");
      const domain = email.slice(email.lastIndexOf("@") + 1);
      if (!(await store.getDomain(domain))) throw new AdminError(400, "not_local", `${domain} is not a domain of this server: add the domain first.`);
      if (await store.getAccount(email)) throw new AdminError(409, "exists", `The account ${email} already exists.`);
      if ((await store.listAliases()).some((al) => al.source === email)) {
        throw new AdminError(409, "alias_exists", `${email} is an alias already: remove the alias first, or the account would silently take its mail.`);
      }
      let a = await store.addAccount(email, body.password, { quotaBytes: quotaBytes ?? null, ...(displayName ? { displayName } : {}) });
      if (admin) a = await store.setAccountFlags(email, { admin: true });
      audit(deps, c, "account.create", email, { admin });
      return c.json(await view(a), 201);
    }),
  );

  app.patch(
    "/admin/api/accounts/:email",
    route(deps, async (c) => {
      const a = await target(c);
      const body = await readJson(c);
      onlyFields(body, ["displayName", "quotaBytes", "admin", "disabled", "password", "resetTwoFactor"]);
      const self = a.id === c.get("account").id;
      // Validate everything before changing anything: a refused field leaves the account as it was.
      const displayName = body.displayName === undefined ? undefined : checkDisplayName(body.displayName);
      const quotaBytes = body.quotaBytes === undefined ? undefined : checkQuota(body.quotaBytes);
      const admin = body.admin === undefined ? undefined : checkBool(body.admin, "admin");
      const disabled = body.disabled === undefined ? undefined : checkBool(body.disabled, "disabled");
      const resetTwoFactor = body.resetTwoFactor === undefined ? false : checkBool(body.resetTwoFactor, "resetTwoFactor");
      let password: string | undefined;
      if (body.password !== undefined) {
        if (typeof body.password !== "string" || body.password === "" || body.password.length > 1024) throw new AdminError(400, "bad_password", "The new password must be text of 1 to 1024 characters.");
        const policy = checkPassword(body.password, { email: a.email, minLength: ctx.config.limits.passwordMinLength });
        if (!policy.ok) throw new AdminError(400, "weak_password", `The password is not accepted: ${policy.reason}`);
        password = body.password;
      }
      if (self && admin === false) throw new AdminError(400, "self", "You cannot take away your own admin rights: ask another administrator.");
      if (self && disabled === true) throw new AdminError(400, "self", "You cannot disable your own account.");

      const changed: string[] = [];
      if (displayName !== undefined) {
        await store.updateSettings(a.id, { displayName: displayName || undefined });
        changed.push("displayName");
      }
      if (quotaBytes !== undefined) {
        await store.setQuota(a.email, quotaBytes);
        changed.push("quota");
      }
      if (admin !== undefined || disabled !== undefined) {
        await store.setAccountFlags(a.email, { ...(admin !== undefined ? { admin } : {}), ...(disabled !== undefined ? { disabled } : {}) });
        if (admin !== undefined) changed.push(admin ? "admin on" : "admin off");
        if (disabled !== undefined) changed.push(disabled ? "disabled" : "enabled");
        if (disabled) await endSessions(a.id);
      }
      if (password !== undefined) {
        // Ends the account's webmail sessions (all of them, also the admin's own when resetting their own).
        await endSessions(a.id);
        await store.setPassword(a.email, password);
        changed.push("password reset");
      }
      if (resetTwoFactor) {
        await store.resetTwoFactor(a.id);
        changed.push("two-factor reset");
      }
      if (changed.length) audit(deps, c, "account.update", a.email, { changes: changed.join(", ") });
      const fresh = await store.getAccount(a.email);
      if (!fresh) throw new AdminError(404, "not_found", `The account ${a.email} was removed meanwhile.`);
      return c.json(await view(fresh));
    }),
  );

  app.delete(
    "/admin/api/accounts/:email",
    route(deps, async (c) => {
      const a = await target(c);
      const confirm = c.req.query("confirm");
      if (typeof confirm !== "string" || confirm.trim().toLowerCase() !== a.email) {
        throw new AdminError(400, "confirm", `Deleting ${a.email} removes all its mail, calendars and contacts: repeat the address in ?confirm= to go ahead.`);
      }
      if (a.id === c.get("account").id) throw new AdminError(400, "self", "You cannot delete your own account.");
      const q = await store.quota(a.id);
      await endSessions(a.id);
      await ctx.storage.eas.removeAccountDevices(a.id);
      await store.removeAccount(a.email);
      audit(deps, c, "account.delete", a.email, { messages: q.messages, bytes: q.usedBytes });
      return c.json(ok);
    }),
  );

  app.get(
    "/admin/api/accounts/:email/access",
    route(deps, async (c) => {
      const a = await target(c);
      const [sessions, apps, devices] = await Promise.all([ctx.storage.webmail.listAccountSessions(a.id), store.listAppPasswords(a.id), ctx.storage.eas.listDevices(a.id)]);
      const body: AccountAccess = {
        sessions: sessions.map(
          (s): SessionView => ({ id: sessionViewId(s.id), createdAt: s.createdAt, lastSeenAt: s.lastSeenAt, ip: s.ip || null, userAgent: s.userAgent || null }),
        ),
        appPasswords: apps.map(
          (p): AppPasswordView => ({ id: p.id, name: p.name, createdAt: p.createdAt, lastUsedAt: p.lastUsedAt ?? null, lastUsedProtocol: p.lastUsedProtocol ?? null }),
        ),
        devices: devices.map(deviceView),
      };
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );

  app.delete(
    "/admin/api/accounts/:email/sessions/:id",
    route(deps, async (c) => {
      const a = await target(c);
      const id = pathParam(c, "id", "session id");
      const s = (await ctx.storage.webmail.listAccountSessions(a.id)).find((x) => sessionViewId(x.id) === id);
      if (!s) throw new AdminError(404, "not_found", `${a.email} has no such session (it may have ended already).`);
      await ctx.storage.webmail.deleteSession(s.id);
      deps.hub.closeSession(s.id);
      audit(deps, c, "session.revoke", a.email, { sessionIp: s.ip || null });
      return c.json(ok);
    }),
  );

  app.delete(
    "/admin/api/accounts/:email/app-passwords/:id",
    route(deps, async (c) => {
      const a = await target(c);
      const raw = pathParam(c, "id", "app password id");
      if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new AdminError(400, "bad_path", "The app password id must be a positive whole number.");
      if (!(await store.revokeAppPassword(a.id, Number(raw)))) throw new AdminError(404, "not_found", `${a.email} has no app password ${raw}.`);
      audit(deps, c, "app-password.revoke", a.email, { id: Number(raw) });
      return c.json(ok);
    }),
  );
}
