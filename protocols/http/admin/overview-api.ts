/**
 * /admin/api/me, /admin/api/overview and the certificates: who is signed in,
 * what the server is (version, listeners, counts) and the certificates the
 * TLS listeners serve, with a renewal on request (ACME).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { AdminMe, AdminOverview, RenewResult } from "./api-types.ts";
import { versionLine } from "../../../src/version.ts";
import { AdminError, audit, route, SessionRateLimit, type AdminDeps } from "./guard.ts";

/** Renewals on request per session: 3 in 10 minutes (a CA limits orders too, e.g. Let's Encrypt's failed-validation limit). */
const RENEWALS_PER_10_MIN = 3;

/** `pillarbox --version` without the program name, e.g. "0.1.0 (commit 1a2b3c4d5e, built ...)". */
export function serverVersion(): string {
  return versionLine().replace(/^pillarbox /, "");
}

export function mountOverviewApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const { ctx } = deps;
  const renewals = new SessionRateLimit(RENEWALS_PER_10_MIN, 600_000);

  app.get(
    "/admin/api/me",
    route(deps, (c) => {
      const me: AdminMe = { email: c.get("account").email, csrf: c.get("session").csrf, hostname: ctx.config.hostname, version: serverVersion() };
      return c.json(me, 200, { "cache-control": "no-store" });
    }),
  );

  app.get(
    "/admin/api/overview",
    route(deps, async (c) => {
      const [domains, accounts, queue] = await Promise.all([ctx.store.listDomains(), ctx.store.listAccounts(), ctx.store.listQueue()]);
      const listeners: Record<string, string> = {};
      for (const [name, a] of Object.entries(ctx.addresses)) {
        if (a) listeners[name] = `${a.host.includes(":") ? `[${a.host}]` : a.host}:${a.port}`;
      }
      const body: AdminOverview = {
        hostname: ctx.config.hostname,
        version: serverVersion(),
        uptimeSeconds: Math.max(0, Math.floor((Date.now() - deps.startedAt) / 1000)),
        domains: domains.length,
        accounts: accounts.length,
        queued: queue.length,
        certificates: ctx.certificates.status(),
        listeners,
      };
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );

  app.get(
    "/admin/api/certificates",
    route(deps, (c) => c.json(ctx.certificates.status(), 200, { "cache-control": "no-store" })),
  );

  app.post(
    "/admin/api/certificates/renew",
    route(deps, async (c) => {
      const wait = renewals.take(c.get("session").record.id);
      if (wait > 0) {
        c.header("retry-after", String(Math.ceil(wait / 1000)));
        throw new AdminError(429, "too_many", `Too many renewals asked in a short time: try again in ${Math.ceil(wait / 60_000)} minutes.`);
      }
      const r = await ctx.certificates.renewNow();
      const body: RenewResult = { ok: r.ok, message: r.message };
      audit(deps, c, "certificate.renew", ctx.config.hostname, { result: r.ok ? "ok" : "failed", message: r.message.slice(0, 300) });
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );
}
