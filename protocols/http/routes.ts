/**
 * The HTTP route registry. The HTTP protocol module owns one Hono app served
 * on the HTTP and HTTPS listeners; other modules (ActiveSync, autodiscover,
 * later EWS/MAPI) mount their routes here instead of opening listeners.
 *
 * Usage, from a module imported before the server starts (e.g. its index.ts):
 *
 *   import { registerHttpRoutes } from "../http/routes.ts";
 *   registerHttpRoutes((app, ctx) => {
 *     app.post("/Microsoft-Server-ActiveSync", (c) => ...);
 *   });
 *
 * Mounters run once, in registration order, when the HTTP module builds its
 * app (at `start`), before the webmail routes and the catch-all 404. Every
 * response still gets the security headers. Routes mounted here are served
 * over HTTPS; plain HTTP redirects to HTTPS except for the paths listed with
 * `registerPlainHttpPath` (ACME challenges are always plain).
 *
 * CSRF: the webmail's session/CSRF middleware only guards `/api/` and
 * `/login`, `/logout`. Routes mounted here do their own authentication
 * (e.g. HTTP Basic for ActiveSync, which is not cookie-based and so not
 * CSRF-prone).
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../src/context.ts";

export type HttpRouteMounter = (app: Hono, ctx: ServerContext) => void;

const mounters: HttpRouteMounter[] = [];
const plainPrefixes: string[] = ["/.well-known/acme-challenge/"];

/** Adds routes to the shared Hono app. Call before the server starts. */
export function registerHttpRoutes(fn: HttpRouteMounter): void {
  mounters.push(fn);
}

/** A path prefix that is served on plain HTTP too instead of being redirected to HTTPS. */
export function registerPlainHttpPath(prefix: string): void {
  if (!plainPrefixes.includes(prefix)) plainPrefixes.push(prefix);
}

/** @internal used by the HTTP module. */
export function httpRouteMounters(): readonly HttpRouteMounter[] {
  return mounters;
}

/** @internal used by the HTTP module. */
export function plainHttpPrefixes(): readonly string[] {
  return plainPrefixes;
}
