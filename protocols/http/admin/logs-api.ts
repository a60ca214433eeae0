/**
 * /admin/api/logs (the activity log with filters: kinds, text, time range,
 * limit) and /admin/api/stats (messages per hour, storage per account).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { ActivityKind, LogsResponse, StatsResponse } from "./api-types.ts";
import { ACTIVITY_KINDS } from "../../../src/activity.ts";
import { AdminError, route, type AdminDeps } from "./guard.ts";

/** The kinds the activity log records (src/activity.ts), so a kind added there is filterable here at once. */
const KINDS: readonly ActivityKind[] = [...ACTIVITY_KINDS];
const MAX_LIMIT = 1000;
const MAX_HOURS = 24 * 14;

/** A non-negative whole number from the query, or undefined when absent; a 400 in words otherwise. */
function intQuery(v: string | undefined, name: string, max: number): number | undefined {
  if (v === undefined || v === "") return undefined;
  if (!/^[0-9]{1,16}$/.test(v) || Number(v) > max) throw new AdminError(400, "bad_query", `"${name}" must be a whole number from 0 to ${max}.`);
  return Number(v);
}

export function mountLogsApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const { ctx } = deps;

  app.get(
    "/admin/api/logs",
    route(deps, (c) => {
      const kindParam = c.req.query("kind");
      let kinds: ActivityKind[] | undefined;
      if (kindParam) {
        const list = kindParam.split(",").map((k) => k.trim()).filter(Boolean).slice(0, 20);
        const unknown = list.filter((k) => !KINDS.includes(k as ActivityKind));
        if (unknown.length) throw new AdminError(400, "bad_query", `Unknown log kind ${JSON.stringify(unknown[0]!.slice(0, 40))}: use ${KINDS.join(", ")}.`);
        kinds = list as ActivityKind[];
      }
      const q = c.req.query("q");
      if (q !== undefined && q.length > 200) throw new AdminError(400, "bad_query", "The search text is too long (at most 200 characters).");
      const since = intQuery(c.req.query("since"), "since", Number.MAX_SAFE_INTEGER);
      const until = intQuery(c.req.query("until"), "until", Number.MAX_SAFE_INTEGER);
      const limit = intQuery(c.req.query("limit"), "limit", MAX_LIMIT) ?? 200;
      const body: LogsResponse = {
        entries: ctx.activity.recent({ ...(kinds ? { kinds } : {}), ...(q ? { text: q } : {}), ...(since !== undefined ? { since } : {}), ...(until !== undefined ? { until } : {}), limit: Math.max(1, limit) }),
      };
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );

  app.get(
    "/admin/api/stats",
    route(deps, async (c) => {
      const hours = intQuery(c.req.query("hours"), "hours", MAX_HOURS) ?? 48;
      const accounts = await ctx.store.listAccounts();
      const storage: StatsResponse["storage"] = [];
      for (const a of accounts) {
        const q = await ctx.store.quota(a.id);
        storage.push({ email: a.email, usedBytes: q.usedBytes, quotaBytes: a.quotaBytes });
      }
      storage.sort((x, y) => y.usedBytes - x.usedBytes || x.email.localeCompare(y.email));
      const body: StatsResponse = { hourly: await ctx.activity.hourly(Math.max(1, hours)), storage };
      return c.json(body, 200, { "cache-control": "no-store" });
    }),
  );
}
