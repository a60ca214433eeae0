/**
 * The webmail: sign-in, the JSON API under /api/, live events and the
 * embedded browser client. `createWebmail` wires the parts; the HTTP module
 * mounts it on its Hono app.
 */
import type { Context, Hono } from "hono";
import { getCookie } from "hono/cookie";
import { bodyLimit } from "hono/body-limit";
import type { ServerContext } from "../../../src/context.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import type { AppEnv } from "../types.ts";
import { APP_CSP } from "../headers.ts";
import { KeyRing } from "./keys.ts";
import { SessionManager, DEFAULT_POLICY, type SessionPolicy } from "./session.ts";
import { EventHub } from "./events.ts";
import { Assets } from "./assets.ts";
import { UploadStore } from "./uploads.ts";
import { langOf, mountAuth, requireCsrf, requireSession, sessionCookieName, type AuthDeps } from "./auth.ts";
import { pageText, type PageLang } from "./login-i18n.ts";
import { escapeHtml } from "./mime.ts";
import { ParsedCache, mountMailApi } from "./mail-api.ts";
import { mountComposeApi } from "./compose-api.ts";
import { sendSchedulerFor, mountSendDelayApi } from "./send-delay.ts";
import { mountSettingsApi } from "./settings-api.ts";
import { mountSecurityApi } from "./security-api.ts";
import { mountImportApi } from "./import-api.ts";
import { mountSieveApi } from "./sieve-api.ts";
import { mountSpamApi } from "./spam-api.ts";
import { mountContactsApi } from "./contacts-api.ts";
import { mountCollectionsApi } from "./collections-api.ts";
import { mountCalendarApi } from "./calendar-api.ts";
import { mountTasksApi } from "./tasks-api.ts";
import { ContactCache } from "./contacts-cache.ts";
import { mountPeopleApi } from "./people-api.ts";
import { apiError, toApiError } from "./util.ts";
import { mountMailFrame } from "./mail-frame.ts";
import { mountInvitationApi } from "./invitation-api.ts";
import { mountPreviewApi } from "./preview-api.ts";
import { mountBulkApi } from "./bulk-api.ts";

export interface WebmailOptions {
  policy?: SessionPolicy;
  /** New session key every this often (default 7 days). */
  keyRotateMs?: number;
}

export interface Webmail {
  mount(app: Hono<AppEnv>): void;
  /** Maps an error thrown by a webmail route to a response in words; null if not ours. */
  errorResponse(err: unknown, c: Context<AppEnv>): Response | null;
  stop(): void;
  readonly sessions: SessionManager;
  readonly hub: EventHub;
  /** The embedded bundle (hashed asset URLs), shared with the web admin's page. */
  readonly assets: Assets;
}

export async function createWebmail(ctx: ServerContext, wstore: WebmailStore, opts: WebmailOptions = {}): Promise<Webmail> {
  const policy = opts.policy ?? DEFAULT_POLICY;
  const keys = new KeyRing({ dataDir: ctx.config.dataDir, rotateMs: opts.keyRotateMs ?? 7 * 24 * 3600_000, maxSessionMs: policy.maxAgeMs });
  await keys.load();
  const sessions = new SessionManager(keys, wstore, policy);
  const hub = new EventHub(ctx.store, wstore, undefined, {}, (info) =>
    // Dovecot logs the same condition as "Client has too much output".
    ctx.log.warn("webmail event stream closed: client has too much unsent output", info),
  );
  const assets = new Assets();
  const uploads = new UploadStore(wstore, Math.max(ctx.config.limits.maxMessageSize * 2, 100 * 1024 * 1024), ctx.config.dataDir);
  await uploads.init();
  const parsed = new ParsedCache();
  // Sends held for the send delay (send-delay.ts); the HTTP module's start found those held before a restart.
  const sendLater = sendSchedulerFor(ctx, wstore);
  const deps: AuthDeps = { ctx, sessions, hub, assets };

  // Housekeeping: expired sessions and stale uploads, hourly.
  const sweep = setInterval(() => {
    void wstore.purgeExpiredSessions(Date.now(), policy.idleMs).catch((err) => ctx.log.warn("webmail session sweep failed", { err }));
    void uploads.sweep().catch(() => {});
  }, 3600_000);
  sweep.unref?.();
  await wstore.purgeExpiredSessions(Date.now(), policy.idleMs).catch(() => 0);

  return {
    sessions,
    hub,
    assets,
    mount(app) {
      // Bounded request bodies, also for chunked uploads without Content-Length (the limit wraps the stream).
      const tooLarge = (c: Context<AppEnv>) => apiError(c, 413, "too_large", "That is too large for the server to accept.");
      // The limit is read per request: a configuration reload (SIGHUP) changes it without a restart.
      app.use("/api/uploads", (c, next) => bodyLimit({ maxSize: ctx.config.limits.maxMessageSize + 64 * 1024, onError: tooLarge })(c, next));
      app.use("/api/*", async (c, next) => (c.req.path === "/api/uploads" ? next() : bodyLimit({ maxSize: 10 * 1024 * 1024, onError: tooLarge })(c, next)));
      app.use("/login", bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("Request too large\n", 413) }));
      app.use("/login/code", bodyLimit({ maxSize: 64 * 1024, onError: (c) => c.text("Request too large\n", 413) }));
      assets.mount(app);
      mountMailFrame(app, { sessions, maxMessageSize: ctx.config.limits.maxMessageSize });
      mountAuth(app, deps);
      app.use("/api/*", requireSession(deps), requireCsrf(deps));
      mountMailApi(app, { ctx, wstore, parsed });
      mountComposeApi(app, { ctx, wstore, parsed, uploads, sendLater });
      mountSendDelayApi(app, sendLater);
      // Contacts before settings: GET /api/contacts without ?book= falls through to the older autocomplete there.
      const contactCache = new ContactCache(ctx.groupware);
      mountContactsApi(app, { ctx, cache: contactCache });
      mountPeopleApi(app, { ctx, wstore, cache: contactCache });
      mountSettingsApi(app, { ctx, wstore, sessions, hub });
      mountSecurityApi(app, { ctx });
      mountImportApi(app, { ctx });
      mountSieveApi(app, { ctx });
      mountSpamApi(app, { ctx });
      mountCollectionsApi(app, { ctx });
      mountCalendarApi(app, { ctx });
      mountTasksApi(app, { ctx });
      mountInvitationApi(app, { ctx });
      mountPreviewApi(app, { ctx, parsed });
      mountBulkApi(app, { ctx });
      app.all("/api/*", (c) => apiError(c, 404, "not_found", "Unknown request."));

      app.get("/", async (c) => {
        const s = await sessions.open(getCookie(c, sessionCookieName(c)));
        if (!s) return c.redirect("/login", 302);
        return c.html(shell(assets, langOf(c)), 200, { "content-security-policy": APP_CSP, "cache-control": "no-store", vary: "Accept-Language" });
      });
      app.get("/favicon.ico", (c) => c.body(null, 204));
    },
    errorResponse(err, c) {
      const e = toApiError(err);
      if (!e) return null;
      return apiError(c, e.status, e.code, e.message);
    },
    stop() {
      clearInterval(sweep);
      sendLater.stop();
      hub.closeAll();
    },
  };
}

/** The app page; its few words before the script runs are in the browser's language (the app then follows the setting). */
function shell(assets: Assets, lang: PageLang): string {
  return `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1,viewport-fit=cover">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(pageText(lang, "appTitle"))}</title>
<link rel="stylesheet" href="${assets.url("app.css")}">
<script type="module" src="${assets.url("app.js")}"></script>
</head><body><div id="app" class="app"><p class="boot">${escapeHtml(pageText(lang, "loading"))}</p></div><noscript><p class="boot">${escapeHtml(pageText(lang, "noScript"))}</p></noscript></body></html>`;
}
