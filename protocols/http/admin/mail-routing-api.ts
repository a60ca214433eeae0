/**
 * /admin/api/aliases (incl. catch-alls `@domain`), /admin/api/queue (list,
 * retry now, drop) and /admin/api/devices (every account's ActiveSync
 * devices: wipe, remove).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { AliasView, QueueView } from "./api-types.ts";
import { kickQueues } from "../../../src/delivery/index.ts";
import { AdminError, audit, ok, pathParam, readJson, route, type AdminDeps } from "./guard.ts";
import { checkAddress, checkAliasSource, onlyFields } from "./validate.ts";
import { deviceView } from "./accounts-api.ts";

export function mountMailRoutingApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const { ctx } = deps;
  const store = ctx.store;

  // ---------------------------------------------------------------- aliases
  app.get(
    "/admin/api/aliases",
    route(deps, async (c) => {
      const list: AliasView[] = (await store.listAliases()).map((a) => ({ id: a.id, source: a.source, destination: a.destination }));
      return c.json(list, 200, { "cache-control": "no-store" });
    }),
  );

  app.post(
    "/admin/api/aliases",
    route(deps, async (c) => {
      const body = await readJson(c);
      onlyFields(body, ["source", "destination"]);
      const source = checkAliasSource(body.source);
      const destination = checkAddress(body.destination, "destination address");
      const domain = source.slice(source.lastIndexOf("@") + 1);
      if (!(await store.getDomain(domain))) throw new AdminError(400, "not_local", `${domain} is not a domain of this server: an alias must be in one of its domains.`);
      if (!source.startsWith("@") && (await store.getAccount(source))) {
        throw new AdminError(409, "shadows_account", `${source} is an account: an alias with that address would never receive mail (the account comes first). Pick another address.`);
      }
      if (source === destination) throw new AdminError(400, "loop", "An alias cannot point at itself.");
      if ((await store.listAliases()).some((a) => a.source === source && a.destination === destination)) {
        throw new AdminError(409, "exists", `The alias ${source} -> ${destination} exists already.`);
      }
      const a = await store.addAlias(source, destination);
      audit(deps, c, "alias.add", source, { destination });
      const view: AliasView = { id: a.id, source: a.source, destination: a.destination };
      return c.json(view, 201);
    }),
  );

  app.delete(
    "/admin/api/aliases",
    route(deps, async (c) => {
      const src = c.req.query("source");
      const dst = c.req.query("destination");
      if (src === undefined) throw new AdminError(400, "bad_query", "Say which alias to remove: ?source=ADDRESS (and &destination=ADDRESS for one destination only).");
      const source = checkAliasSource(src);
      const destination = dst === undefined || dst === "" ? undefined : checkAddress(dst, "destination address");
      const n = await store.removeAlias(source, destination);
      if (n === 0) throw new AdminError(404, "not_found", `There is no alias ${source}${destination ? ` -> ${destination}` : ""}.`);
      audit(deps, c, "alias.remove", source, { destination: destination ?? null, removed: n });
      return c.json(ok);
    }),
  );

  // ---------------------------------------------------------------- queue
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

  // ---------------------------------------------------------------- ActiveSync devices
  app.get(
    "/admin/api/devices",
    route(deps, async (c) => c.json((await ctx.storage.eas.listDevices()).map(deviceView), 200, { "cache-control": "no-store" })),
  );

  const device = async (accountParam: string, deviceId: string) => {
    const email = checkAddress(accountParam, "account address");
    const a = await store.getAccount(email);
    if (!a) throw new AdminError(404, "not_found", `There is no account ${email}.`);
    if (deviceId.length > 128) throw new AdminError(400, "bad_path", "The device id is too long.");
    const d = await ctx.storage.eas.getDevice(a.id, deviceId);
    if (!d) throw new AdminError(404, "not_found", `${email} has no device ${deviceId}.`);
    return { a, d };
  };

  app.post(
    "/admin/api/devices/:account/:deviceId/wipe",
    route(deps, async (c) => {
      const { a, d } = await device(pathParam(c, "account", "account address"), pathParam(c, "deviceId", "device id"));
      await ctx.storage.eas.requestWipe(a.id, d.deviceId);
      audit(deps, c, "device.wipe", a.email, { deviceId: d.deviceId });
      return c.json(ok);
    }),
  );

  app.delete(
    "/admin/api/devices/:account/:deviceId",
    route(deps, async (c) => {
      const { a, d } = await device(pathParam(c, "account", "account address"), pathParam(c, "deviceId", "device id"));
      await ctx.storage.eas.removeDevice(a.id, d.deviceId);
      audit(deps, c, "device.remove", a.email, { deviceId: d.deviceId });
      return c.json(ok);
    }),
  );
}
