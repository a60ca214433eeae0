/** /admin/api/devices: every account's ActiveSync devices — list, wipe (at the next contact), remove. */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import { AdminError, audit, ok, pathParam, route, type AdminDeps } from "./guard.ts";
import { checkAddress } from "./validate.ts";
import { deviceView } from "./accounts-api.ts";

export function mountDevicesApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const { ctx } = deps;
  const store = ctx.store;

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
