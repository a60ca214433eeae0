/**
 * The web admin on the HTTPS listener: `GET /admin` (the page, page.ts) and
 * the JSON API under `/admin/api/` (api-types.ts is the contract with the
 * browser code in web/src/admin/). It rides on the webmail's sessions: an
 * account marked admin signs in through `/login?next=/admin`.
 *
 * Security: every API route checks the session and the admin flag afresh
 * (guard.ts), state-changing ones the CSRF token and Origin; bodies are
 * capped at 64 KiB; the live DNS check is rate limited per session; every
 * action writes an audit line (kind "admin") that the log viewer shows.
 */
import type { Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { AppEnv } from "../types.ts";
import { adminError, requireAdmin, type AdminDeps } from "./guard.ts";
import { mountAdminPage } from "./page.ts";
import { mountOverviewApi } from "./overview-api.ts";
import { mountDomainsApi, type DomainsApiOptions } from "./domains-api.ts";
import { mountAccountsApi } from "./accounts-api.ts";
import { mountAliasesApi } from "./aliases-api.ts";
import { mountQueueApi } from "./queue-api.ts";
import { mountDevicesApi } from "./devices-api.ts";
import { mountLogsApi } from "./logs-api.ts";

export type { AdminDeps } from "./guard.ts";

/** Largest request body the admin API takes (its bodies are a few fields). */
export const ADMIN_BODY_LIMIT = 64 * 1024;

export function mountAdmin(app: Hono<AppEnv>, deps: AdminDeps, opts: DomainsApiOptions = {}): void {
  const tooLarge = (c: Context<AppEnv>) => adminError(c, 413, "too_large", `That request is too large (at most ${ADMIN_BODY_LIMIT} bytes).`);
  app.use("/admin/api/*", bodyLimit({ maxSize: ADMIN_BODY_LIMIT, onError: tooLarge }));
  app.use("/admin/api/*", requireAdmin(deps));
  mountAdminPage(app, deps);
  mountOverviewApi(app, deps);
  mountDomainsApi(app, deps, opts);
  mountAccountsApi(app, deps);
  mountAliasesApi(app, deps);
  mountQueueApi(app, deps);
  mountDevicesApi(app, deps);
  mountLogsApi(app, deps);
  app.all("/admin/api/*", (c) => adminError(c, 404, "not_found", `There is no admin request ${c.req.method} ${c.req.path.slice(0, 200)}.`));
}
