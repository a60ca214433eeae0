/** /admin/api/aliases: list, add (incl. catch-alls `@domain`; never over an account), remove. */
import type { Hono } from "hono";
import type { AppEnv } from "../types.ts";
import type { AliasView } from "./api-types.ts";
import { AdminError, audit, ok, readJson, route, type AdminDeps } from "./guard.ts";
import { checkAddress, checkAliasSource, onlyFields } from "./validate.ts";

export function mountAliasesApi(app: Hono<AppEnv>, deps: AdminDeps): void {
  const store = deps.ctx.store;

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
}
