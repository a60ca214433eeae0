/**
 * The webmail's Sieve routes (issue 19): the rules editor, the raw script
 * view and the read-only vacation script (web/src/settings-rules.ts).
 *
 *   GET    /api/sieve                           -> SieveOverview
 *   PUT    /api/sieve/rules          RuleSet    -> { script } (stores and activates the rules script)
 *   POST   /api/sieve/check          { content } -> SieveCheckResult (200; ok false with the errors)
 *   GET    /api/sieve/scripts/:name             -> SieveScriptBody
 *   PUT    /api/sieve/scripts/:name  { content } -> SieveCheckResult (400 with the errors when it does not compile; nothing stored)
 *   DELETE /api/sieve/scripts/:name             -> 204 (409 for the active script, 404 unknown)
 *   POST   /api/sieve/active         { name | null } -> 204
 *
 * Scripts live in the SieveStore ManageSieve uses too (RFC 5804's model: many
 * scripts, at most one active), under the quotas of `config.sieve`. A script
 * is compiled before it is stored (RFC 5804 §2.6: PUTSCRIPT refuses a script
 * that does not compile), so delivery never meets a broken one. The routes sit
 * behind the session and CSRF middleware like the other webmail APIs.
 */
import type { Context, Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import { compile } from "../../../src/sieve/compile.ts";
import { RULES_SCRIPT_NAME, RuleError, checkRuleSet, rulesToSieve, sieveToRules } from "../../../src/sieve/rules.ts";
import { SIEVE_EXTENSIONS, type SieveError } from "../../../src/sieve/types.ts";
import { vacationScriptFor } from "../../../src/sieve/vacation-script.ts";
import { StoreError } from "../../../storage/api.ts";
import { sieveNameProblem } from "../../../storage/sieve-store.ts";
import type { AppEnv } from "../types.ts";
import type { SieveCheckResult, SieveOverview, SieveScriptBody } from "./api-types.ts";
import { ApiError, readJson } from "./util.ts";

/** Store errors of the script routes in words about scripts (the shared mapper speaks of folders). */
function scriptError(err: unknown): never {
  if (err instanceof StoreError) {
    if (err.code === "LIMIT") throw new ApiError(400, "quota", `That goes over your script quota: ${err.message}.`);
    if (err.code === "NONEXISTENT") throw new ApiError(404, "not_found", "There is no script with that name.");
    if (err.code === "CANNOT") throw new ApiError(409, "active", "That script is active. Deactivate it (or activate another one) first.");
    if (err.code === "ALREADYEXISTS") throw new ApiError(409, "exists", "A script with that name already exists.");
    if (err.code === "INVALID") throw new ApiError(400, "bad_name", `That script name is not allowed: ${err.message}.`);
  }
  throw err;
}

function problems(errors: readonly SieveError[]): SieveCheckResult {
  return { ok: false, errors: errors.slice(0, 50).map((e) => ({ line: e.line, message: e.message })) };
}

export function mountSieveApi(app: Hono<AppEnv>, deps: { ctx: ServerContext }): void {
  const { ctx } = deps;
  const scripts = ctx.storage.sieve;
  const limits = () => ({ maxScripts: ctx.config.sieve.maxScripts, maxBytes: ctx.config.sieve.maxScriptBytes });

  /** The script name from the path (Hono decodes it), checked as the store will check it. */
  const nameParam = (c: Context<AppEnv>): string => {
    const name = c.req.param("name") ?? "";
    const problem = sieveNameProblem(name);
    if (problem) throw new ApiError(400, "bad_name", `That script name is not allowed: ${problem}.`);
    return name;
  };

  /** A script's text from the body: a string within the quota (RFC 5804 §2.6 counts octets). */
  const content = async (c: Context<AppEnv>): Promise<string> => {
    // JSON may escape every character as a six-character \u escape: six times the octets, plus the rest of the object.
    const body = await readJson<{ content?: unknown }>(c, ctx.config.sieve.maxScriptBytes * 6 + 4096);
    if (typeof body.content !== "string") throw new ApiError(400, "bad_request", "Send the script as text in content.");
    const size = Buffer.byteLength(body.content, "utf8");
    if (size > ctx.config.sieve.maxScriptBytes) throw new ApiError(400, "quota", `A script is at most ${ctx.config.sieve.maxScriptBytes} bytes (this one has ${size}).`);
    return body.content;
  };

  const check = (text: string) => compile(text, { limits: { maxScriptBytes: ctx.config.sieve.maxScriptBytes } });

  app.get("/api/sieve", async (c) => {
    const a = c.get("account");
    const list = await scripts.listScripts(a.id);
    const rulesText = list.some((s) => s.name === RULES_SCRIPT_NAME) ? await scripts.getScript(a.id, RULES_SCRIPT_NAME) : null;
    const overview: SieveOverview = {
      scripts: list.map((s) => ({ name: s.name, active: s.active, size: s.size, updatedAt: s.updatedAt })),
      active: list.find((s) => s.active)?.name ?? null,
      rulesScriptName: RULES_SCRIPT_NAME,
      rules: rulesText === null ? null : sieveToRules(rulesText),
      vacationScript: vacationScriptFor(a.settings.oof),
      limits: { maxScripts: ctx.config.sieve.maxScripts, maxScriptBytes: ctx.config.sieve.maxScriptBytes },
      extensions: [...SIEVE_EXTENSIONS],
    };
    c.header("cache-control", "no-store");
    return c.json(overview);
  });

  app.put("/api/sieve/rules", async (c) => {
    const a = c.get("account");
    const body = await readJson<unknown>(c, 2 * 1024 * 1024);
    let script: string;
    try {
      script = rulesToSieve(checkRuleSet(body));
    } catch (ex) {
      if (ex instanceof RuleError) throw new ApiError(400, "bad_rules", ex.message);
      throw ex;
    }
    const size = Buffer.byteLength(script, "utf8");
    if (size > ctx.config.sieve.maxScriptBytes) throw new ApiError(400, "quota", `These rules make a script of ${size} bytes, over the limit of ${ctx.config.sieve.maxScriptBytes}. Remove some rules.`);
    const r = check(script);
    if (!r.ok) {
      // The generator writes only what the compiler accepts; if not, say so rather than store it.
      ctx.log.warn("rules script did not compile", { account: a.email, error: r.errors[0]?.message });
      throw new ApiError(400, "bad_rules", `These rules could not be turned into a working script: ${r.errors[0]?.message ?? "unknown error"} (line ${r.errors[0]?.line ?? 0}).`);
    }
    try {
      await scripts.putScript(a.id, RULES_SCRIPT_NAME, script, limits());
      await scripts.setActive(a.id, RULES_SCRIPT_NAME);
    } catch (ex) {
      scriptError(ex);
    }
    ctx.log.info("sieve rules saved", { account: a.email, rules: (body as { rules: unknown[] }).rules.length });
    return c.json({ script });
  });

  app.post("/api/sieve/check", async (c) => {
    const r = check(await content(c));
    return c.json((r.ok ? { ok: true, errors: [] } : problems(r.errors)) satisfies SieveCheckResult);
  });

  app.get("/api/sieve/scripts/:name", async (c) => {
    const a = c.get("account");
    const name = nameParam(c);
    const text = await scripts.getScript(a.id, name);
    if (text === null) throw new ApiError(404, "not_found", "There is no script with that name.");
    const active = (await scripts.activeScript(a.id))?.name === name;
    c.header("cache-control", "no-store");
    return c.json({ name, content: text, active } satisfies SieveScriptBody);
  });

  app.put("/api/sieve/scripts/:name", async (c) => {
    const a = c.get("account");
    const name = nameParam(c);
    const text = await content(c);
    const r = check(text);
    if (!r.ok) {
      const first = r.errors[0];
      return c.json({ ...problems(r.errors), error: "bad_script", message: `The script has an error${first ? ` on line ${first.line}: ${first.message}` : ""}.` }, 400, { "cache-control": "no-store" });
    }
    try {
      await scripts.putScript(a.id, name, text, limits());
    } catch (ex) {
      scriptError(ex);
    }
    ctx.log.info("sieve script saved", { account: a.email, script: name });
    return c.json({ ok: true, errors: [] } satisfies SieveCheckResult);
  });

  app.delete("/api/sieve/scripts/:name", async (c) => {
    const a = c.get("account");
    const name = nameParam(c);
    let gone = false;
    try {
      gone = await scripts.deleteScript(a.id, name);
    } catch (ex) {
      scriptError(ex);
    }
    if (!gone) throw new ApiError(404, "not_found", "There is no script with that name.");
    return c.body(null, 204);
  });

  app.post("/api/sieve/active", async (c) => {
    const a = c.get("account");
    const body = await readJson<{ name?: unknown }>(c, 8 * 1024);
    if (body.name !== null && typeof body.name !== "string") throw new ApiError(400, "bad_request", "Name the script to activate, or null to turn scripts off.");
    try {
      await scripts.setActive(a.id, body.name);
    } catch (ex) {
      scriptError(ex);
    }
    return c.body(null, 204);
  });
}
