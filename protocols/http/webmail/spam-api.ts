/**
 * The webmail's spam list routes (issue 19): the signed-in user's own allow
 * and deny lists (web/src/settings-spam.ts), on the SpamStore the filter
 * reads (src/spam/lists.ts decides how an entry applies: allow only for a
 * sender that authenticated, deny for what a message claims).
 *
 *   GET    /api/spam/lists                     -> SpamListsResponse
 *   POST   /api/spam/lists { kind, pattern }   -> SpamListItem (400 for a bad pattern or kind)
 *   DELETE /api/spam/lists/:id                 -> 204 (404 unknown)
 *
 * Behind the session and CSRF middleware like the other webmail APIs.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import { StoreError } from "../../../storage/api.ts";
import type { SpamListEntry } from "../../../storage/filter-api.ts";
import type { AppEnv } from "../types.ts";
import type { SpamListItem, SpamListsResponse } from "./api-types.ts";
import { ApiError, readJson } from "./util.ts";

const item = (e: SpamListEntry): SpamListItem => ({ id: e.id, kind: e.kind, pattern: e.pattern, createdAt: e.createdAt });

export function mountSpamApi(app: Hono<AppEnv>, deps: { ctx: ServerContext }): void {
  const lists = deps.ctx.storage.spam;

  app.get("/api/spam/lists", async (c) => {
    const a = c.get("account");
    const entries = (await lists.listEntries({ accountId: a.id })).map(item);
    return c.json({ entries } satisfies SpamListsResponse);
  });

  app.post("/api/spam/lists", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ kind?: unknown; pattern?: unknown }>(c, 4096);
    if (body.kind !== "allow" && body.kind !== "deny") throw new ApiError(400, "bad_request", 'Say whether to allow or block the sender: kind is "allow" or "deny".');
    if (typeof body.pattern !== "string") throw new ApiError(400, "bad_request", "Give an address (someone@example.com) or a domain (example.com).");
    try {
      const e = await lists.addEntry({ accountId: a.id }, body.kind, body.pattern);
      deps.ctx.log.info("spam list entry added", { account: a.email, kind: e.kind, pattern: e.pattern });
      return c.json(item(e));
    } catch (ex) {
      if (ex instanceof StoreError && ex.code === "INVALID") throw new ApiError(400, "bad_pattern", `That is not an address or a domain: ${ex.message}.`);
      if (ex instanceof StoreError && ex.code === "LIMIT") throw new ApiError(400, "quota", `Your lists are full: ${ex.message}.`);
      throw ex;
    }
  });

  app.delete("/api/spam/lists/:id", async (c) => {
    const a = c.get("account");
    const raw = c.req.param("id") ?? "";
    const id = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(id)) throw new ApiError(400, "bad_request", "That is not an entry number.");
    if (!(await lists.removeEntry({ accountId: a.id }, id))) throw new ApiError(404, "not_found", "There is no such entry in your lists.");
    return c.body(null, 204);
  });
}
