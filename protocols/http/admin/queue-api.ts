/** /admin/api/queue: the outbound queue — list, retry now (wakes the worker), drop (no bounce). */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { QueueView } from "./api-types.ts";
import { kickQueues } from "../../../src/delivery/index.ts";
import { AdminError, audit, ok, pathParam, route, type AdminDeps } from "./guard.ts";

export function mountQueueApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const store = deps.ctx.store;

  const queueId = (raw: string): number => {
    if (!/^[1-9][0-9]{0,15}$/.test(raw)) throw new AdminError(400, "bad_path", "The queue id must be a positive whole number.");
    return Number(raw);
  };

  app.get(
    "/admin/api/queue",
    route(deps, async (c) => {
      const list: QueueView[] = (await store.listQueue()).map((e) => ({
        id: e.id,
        sender: e.sender,
        recipients: e.recipients.filter((r) => r.status === "pending").map((r) => r.address),
        size: e.size,
        createdAt: e.createdAt,
        attempts: e.attempts,
        nextAttemptAt: e.nextAttemptAt,
        lastError: e.lastError,
      }));
      return c.json(list, 200, { "cache-control": "no-store" });
    }),
  );

  app.post(
    "/admin/api/queue/:id/retry",
    route(deps, async (c) => {
      const id = queueId(pathParam(c, "id", "queue id"));
      if (!(await store.getQueueEntry(id))) throw new AdminError(404, "not_found", `There is no queued message ${id} (it may have been delivered meanwhile).`);
      await store.updateQueueEntry(id, { nextAttemptAt: Date.now(), lockedUntil: null });
      // The worker also polls, but a kick starts the attempt now.
      kickQueues();
      audit(deps, c, "queue.retry", String(id));
      return c.json(ok);
    }),
  );

  app.delete(
    "/admin/api/queue/:id",
    route(deps, async (c) => {
      const id = queueId(pathParam(c, "id", "queue id"));
      const e = await store.getQueueEntry(id);
      if (!e) throw new AdminError(404, "not_found", `There is no queued message ${id} (it may have been delivered meanwhile).`);
      await store.removeQueueEntry(id);
      audit(deps, c, "queue.drop", String(id), { sender: e.sender, recipients: e.recipients.map((r) => r.address).join(", ").slice(0, 500) });
      return c.json(ok);
    }),
  );
}
