/**
 * Settings (display name, signature, identities, out-of-office), password change,
 * address autocomplete, and the live event stream.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { AccountSettings } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import type { AppEnv } from "../types.ts";
import type { SessionManager } from "./session.ts";
import type { EventHub } from "./events.ts";
import { ApiError, readJson } from "./util.ts";
import { checkPassword } from "../../../src/password-policy.ts";
import { directory } from "../../../src/groupware/directory.ts";
import { checkIdentities, identitiesOf } from "./identities.ts";

export interface SettingsDeps {
  ctx: ServerContext;
  wstore: WebmailStore;
  sessions: SessionManager;
  hub: EventHub;
}


/** An IANA zone name the runtime knows (Intl throws a RangeError for others). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export function mountSettingsApi(app: Hono<AppEnv>, deps: SettingsDeps): void {
  const { ctx, wstore } = deps;
  const store = ctx.store;

  app.get("/api/settings", async (c) => {
    const a = c.get("account");
    c.header("cache-control", "no-store");
    return c.json({
      email: a.email,
      displayName: a.settings.displayName ?? "",
      signature: a.settings.signature ?? "",
      oof: a.settings.oof ?? { enabled: false, subject: "", body: "" },
      sendAs: await store.sendAsAddresses(a.id),
      ...(await identitiesOf(store, a)),
      trustedImageSenders: Array.isArray(a.settings.trustedImageSenders) ? a.settings.trustedImageSenders : [],
      language: typeof a.settings.language === "string" ? a.settings.language : "",
      timeZone: typeof a.settings.timeZone === "string" ? a.settings.timeZone : "",
    });
  });

  app.put("/api/settings", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ displayName?: unknown; signature?: unknown; oof?: unknown; trustedImageSenders?: unknown; identities?: unknown; defaultIdentity?: unknown; language?: unknown; timeZone?: unknown }>(c, 512 * 1024);
    const patch: Partial<AccountSettings> = {};
    if (body.language !== undefined) {
      if (typeof body.language !== "string" || !["", "en", "de", "fr", "es"].includes(body.language)) {
        throw new ApiError(400, "bad_language", "The language must be English, German, French, Spanish or the browser's.");
      }
      patch.language = body.language;
    }
    if (body.timeZone !== undefined) {
      if (typeof body.timeZone !== "string" || body.timeZone.length > 64 || (body.timeZone !== "" && !isTimeZone(body.timeZone))) {
        throw new ApiError(400, "bad_time_zone", "That time zone is not known.");
      }
      patch.timeZone = body.timeZone;
    }
    if (body.identities !== undefined || body.defaultIdentity !== undefined) Object.assign(patch, await checkIdentities(store, a, body.identities, body.defaultIdentity));
    if (body.trustedImageSenders !== undefined) {
      const list = body.trustedImageSenders;
      if (!Array.isArray(list) || list.length > 1000 || !list.every((x) => typeof x === "string" && x.length <= 320 && x.includes("@"))) {
        throw new ApiError(400, "bad_list", "The list of senders whose pictures are shown could not be saved.");
      }
      patch.trustedImageSenders = [...new Set(list.map((x: string) => x.trim().toLowerCase()))];
    }
    if (body.displayName !== undefined) {
      if (typeof body.displayName !== "string" || body.displayName.length > 200 || /[\r\n\u0000]/.test(body.displayName)) {
        throw new ApiError(400, "bad_name", "The display name must be one line of at most 200 characters.");
      }
      patch.displayName = body.displayName.trim();
    }
    if (body.signature !== undefined) {
      if (typeof body.signature !== "string" || body.signature.length > 20_000) throw new ApiError(400, "bad_signature", "The signature is too long (20,000 characters at most).");
      patch.signature = body.signature;
    }
    let oofTurnedOn = false;
    if (body.oof !== undefined) {
      const o = body.oof as Record<string, unknown>;
      if (typeof o !== "object" || o === null || typeof o.enabled !== "boolean") throw new ApiError(400, "bad_oof", "The out-of-office settings could not be understood.");
      const subject = typeof o.subject === "string" ? o.subject.replace(/[\r\n]+/g, " ").slice(0, 300) : "";
      const text = typeof o.body === "string" ? o.body.slice(0, 20_000) : "";
      const start = typeof o.start === "number" && Number.isFinite(o.start) ? o.start : undefined;
      const end = typeof o.end === "number" && Number.isFinite(o.end) ? o.end : undefined;
      if (o.enabled && !text.trim()) throw new ApiError(400, "bad_oof", "Write the auto-reply message before turning out-of-office on.");
      if (start !== undefined && end !== undefined && end <= start) throw new ApiError(400, "bad_oof", "The out-of-office end must be after its start.");
      oofTurnedOn = o.enabled && !a.settings.oof?.enabled;
      patch.oof = { enabled: o.enabled, subject, body: text, ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}) };
    }
    const settings = await store.updateSettings(a.id, patch);
    // A new absence is a new period: people who got the last auto-reply get one again (RFC 3834 §2).
    if (oofTurnedOn) await wstore.oofReset(a.id);
    return c.json({ ok: true, displayName: settings.displayName ?? "", signature: settings.signature ?? "", oof: settings.oof ?? null, language: settings.language ?? "", timeZone: settings.timeZone ?? "", ...(await identitiesOf(store, { ...a, settings })) });
  });

  app.post("/api/password", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ current?: unknown; next?: unknown }>(c);
    const current = typeof body.current === "string" ? body.current : "";
    const next = typeof body.next === "string" ? body.next : "";
    // The current password goes through the shared throttle like a sign-in: the per-IP limit applies;
    // the per-account delay does not (a signed-in session is the owner's known device).
    const check = await ctx.login(a.email, current, c.env.remoteIp, { trusted: true, protocol: "webmail", purpose: "confirm" });
    if (!check.ok && check.reason === "throttled") throw new ApiError(429, "throttled", "Too many wrong passwords. Wait a few minutes and try again.");
    if (!check.ok || check.account.id !== a.id) throw new ApiError(400, "wrong_password", "Your current password is not correct.");
    const policy = checkPassword(next, { email: a.email, minLength: ctx.config.limits.passwordMinLength });
    if (!policy.ok) throw new ApiError(400, "weak_password", `Choose another new password: ${policy.reason}.`);
    if (next === current) throw new ApiError(400, "same_password", "The new password is the same as the current one.");
    const sid = c.get("session").record.id;
    const others = (await wstore.listAccountSessions(a.id)).filter((x) => x.id !== sid);
    // The store ends every other webmail session in the same transaction (a lost phone, a shared
    // computer); cached logins of the old password fail at once on every protocol (credential stamp).
    await store.setPassword(a.email, next, { keepWebmailSession: sid });
    for (const o of others) deps.hub.closeSession(o.id);
    ctx.log.info("webmail password changed", { user: a.email, endedSessions: others.length });
    return c.json({ ok: true, endedSessions: others.length });
  });

  app.get("/api/contacts", async (c) => {
    const a = c.get("account");
    const q = (c.req.query("q") ?? "").trim().toLowerCase().slice(0, 100);
    const limit = 10;
    const out: { name: string; address: string; source: "recent" | "directory" }[] = [];
    const seen = new Set<string>();
    const push = (address: string, name: string, source: "recent" | "directory") => {
      const k = address.toLowerCase();
      if (seen.has(k) || out.length >= limit) return;
      seen.add(k);
      out.push({ name, address: k, source });
    };
    for (const r of await wstore.searchCorrespondents(a.id, q, limit)) push(r.address, r.name ?? "", "recent");
    if (out.length < limit && q.length >= 1) {
      // The directory (the global address list of the user's own domain, src/groupware/directory.ts):
      // accounts by address or display name, aliases by address.
      for (const e of await directory(store, a)) {
        const name = e.kind === "account" && e.displayName !== e.email ? e.displayName : "";
        if (e.email.includes(q) || name.toLowerCase().includes(q)) push(e.email, name, "directory");
      }
    }
    c.header("cache-control", "no-store");
    return c.json({ items: out });
  });

  app.get("/api/events", (c) => deps.hub.open(c.get("session").record.id, c.get("account").id));
}
