/**
 * Sieve in the one delivery pipeline (issue 19; the seam is
 * ./filter-types.ts). For every local account a message reaches:
 *
 *  1. the bytes it sees: the message with that account's spam header fields
 *     (SpamVerdict.accounts -> headers) on top; that is also what is stored;
 *  2. the scripts, as Pigeonhole runs a sieve_before script and then the
 *     personal one: the out-of-office vacation script generated from
 *     settings.oof (src/sieve/vacation-script.ts), then the user's active
 *     script. Actions accumulate; the implicit keep applies only when no
 *     script cancelled it (RFC 5228 §2.10.2). Each text is compiled once and
 *     cached by digest (a bounded LRU);
 *  3. the actions become copies, queue entries and notices (./sieve-actions.ts);
 *     keep goes to Junk when the verdict says spam (fileinto is honoured);
 *  4. after the commit: vacation replies (./vacation-reply.ts), duplicate ids,
 *     and one report per failing script version to its owner.
 *
 * A failing script (a compile error in a stored script, a runtime error, a
 * limit) never loses the message: it is kept in INBOX (RFC 5228 §2.10.6),
 * logged, and reported once. An unexpected error inside the filter itself
 * delivers that account's copy as if there were no script.
 */
import { createHash } from "node:crypto";
import type { Account, DeliveryRecipient, MailStore } from "../../storage/api.ts";
import type { SieveStore } from "../../storage/filter-api.ts";
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import { DEFAULT_SIEVE_LIMITS, type CompileResult, type SieveAction, type SieveEngine, type SieveLimits, type SieveRunInput } from "../sieve/types.ts";
import { vacationScriptFor } from "../sieve/vacation-script.ts";
import { decodeHeaderText } from "../../mail/headers.ts";
import { headerFieldsNamed } from "../../mail/line-endings.ts";
import type { DeliveryFilter, FilterInput, FilterPlan } from "./filter-types.ts";
import { withSpamFields } from "./pipeline.ts";
import { planAccount, isJunk } from "./sieve-actions.ts";
import { buildErrorReport } from "./sieve-reject.ts";
import { Srs, loadSrsKey, type SrsReverse } from "./srs.ts";
import { sendVacation, type VacationOutcome } from "./sieve-vacation.ts";

export interface SieveFilterDeps {
  store: MailStore;
  sieve: SieveStore;
  /** compile (S1) + run (S2): src/sieve/index.ts `sieveEngine`. */
  engine: SieveEngine;
  config: Pick<Config, "hostname" | "dataDir" | "sieve">;
  log: Logger;
  /** Wakes the queue after a reply was queued. */
  kick?: () => void;
  /** An SRS rewriter (tests); by default one keyed from `<dataDir>/srs.key`. */
  srs?: Srs;
}

export interface SieveDeliveryFilter extends DeliveryFilter {
  reverseSrs(address: string): SrsReverse;
  /** Runs the out-of-office vacation script alone for a message already delivered to the account (tests, tools). */
  outOfOffice(msg: { accountId: number; envelopeFrom: string; raw: Uint8Array; now?: number }): Promise<VacationOutcome>;
}

/** Compiled scripts kept (by digest of the text): enough for every active script of a small office. */
const CACHE_SIZE = 512;

interface ScriptRef {
  name: string;
  text: string;
  /** The out-of-office script, not the user's: its errors are ours to log, not the user's to be told. */
  generated: boolean;
}

interface AccountRun {
  actions: SieveAction[];
  implicitKeep: boolean;
  implicitKeepFlags: string[];
  finalMessage: Uint8Array;
  error: { script: ScriptRef; line: number; message: string; digest: string } | null;
}


/** RFC 3461 §4.2 ORCPT of the recipient ("rfc822;addr", xtext-decoded), or null when the client gave none. */
function orcptOf(input: FilterInput, recipient: string): string | null {
  const o = input.recipients.find((x) => x.address === recipient)?.orcpt ?? null;
  if (!o) return null;
  const semi = o.indexOf(";");
  const addr = (semi >= 0 ? o.slice(semi + 1) : o).trim().replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
  return addr || null;
}

export function createSieveFilter(deps: SieveFilterDeps): SieveDeliveryFilter {
  const { store, sieve, engine, log } = deps;
  const cache = new Map<string, CompileResult>();
  let srs: Srs | null = deps.srs ?? null;
  const getSrs = (): Srs => (srs ??= new Srs(loadSrsKey(deps.config.dataDir)));
  // read at each use: a live reload (SIGHUP) changes config.sieve in place
  const currentLimits = (): SieveLimits => {
    const cfg = deps.config.sieve;
    return {
      ...DEFAULT_SIEVE_LIMITS,
      maxScriptBytes: cfg.maxScriptBytes,
      maxActions: cfg.maxActions,
      maxRedirects: cfg.maxRedirects,
      maxRunMs: cfg.maxRunMs,
      vacationMinSeconds: cfg.vacationMinSeconds,
      vacationMaxSeconds: cfg.vacationMaxSeconds,
      vacationDefaultSeconds: cfg.vacationDefaultSeconds,
    };
  };

  function compiled(text: string): CompileResult {
    const key = createHash("sha256").update(text).digest("hex");
    const hit = cache.get(key);
    if (hit) {
      cache.delete(key); // LRU: most recently used last
      cache.set(key, hit);
      return hit;
    }
    let r: CompileResult;
    try {
      r = engine.compile(text, { limits: currentLimits() });
    } catch (e) {
      r = { ok: false, errors: [{ line: 1, message: `compile failed: ${e instanceof Error ? e.message : String(e)}` }] };
    }
    cache.set(key, r);
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    return r;
  }

  async function scriptsOf(account: Account): Promise<ScriptRef[]> {
    const out: ScriptRef[] = [];
    const oof = vacationScriptFor(account.settings.oof);
    if (oof) out.push({ name: "out-of-office", text: oof, generated: true });
    const active = await sieve.activeScript(account.id);
    if (active) out.push({ name: active.name, text: active.content, generated: false });
    return out;
  }

  /** Runs the scripts in order over `message`; a failure stops there and keeps the message (RFC 5228 §2.10.6). */
  async function runScripts(scripts: ScriptRef[], base: Omit<SieveRunInput, "message">, message: Uint8Array): Promise<AccountRun> {
    const run: AccountRun = { actions: [], implicitKeep: true, implicitKeepFlags: [], finalMessage: message, error: null };
    let current = message;
    for (const s of scripts) {
      const c = compiled(s.text);
      if (!c.ok) {
        const e = c.errors[0] ?? { line: 1, message: "invalid script" };
        run.error = { script: s, line: e.line, message: e.message, digest: createHash("sha256").update(s.text).digest("hex") };
        break;
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        // the interpreter bounds itself (steps, actions, maxRunMs); this is the backstop behind it
        const outcome = await Promise.race([
          engine.run(c.script, { ...base, message: current }),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error("script took too long")), base.limits.maxRunMs * 2 + 100);
          }),
        ]);
        if (outcome.error) {
          run.error = { script: s, line: outcome.error.line, message: outcome.error.message, digest: c.script.digest };
          break;
        }
        run.actions.push(...outcome.actions);
        run.implicitKeep &&= outcome.implicitKeep;
        run.implicitKeepFlags = outcome.implicitKeepFlags;
        if (outcome.message) current = outcome.message;
      } catch (e) {
        run.error = { script: s, line: 0, message: e instanceof Error ? e.message : String(e), digest: c.script.digest };
        break;
      } finally {
        clearTimeout(timer);
      }
    }
    run.finalMessage = current;
    return run;
  }

  function runInput(account: Account, addresses: string[], recipient: string, input: FilterInput, now: number, auth: string | null = null): Omit<SieveRunInput, "message"> {
    const v = input.spam?.accounts.get(account.id);
    const domain = account.email.slice(account.email.lastIndexOf("@") + 1);
    return {
      // RFC 5228 §5.4 envelope "auth": the authenticated sender of a submission (RFC 4954 AUTH identity)
      envelope: { from: input.envelopeFrom, to: recipient, originalTo: orcptOf(input, recipient), auth },
      account: { id: account.id, email: account.email, addresses },
      spam: v ? { value: v.spamtest, percent: v.percent } : null,
      now,
      zoneOffsetMinutes: -new Date(now).getTimezoneOffset(),
      // RFC 5183 §4
      environment: {
        domain,
        host: deps.config.hostname,
        location: "MDA",
        name: "Pillarbox",
        phase: "during",
        ...(input.remoteIp ? { "remote-ip": input.remoteIp } : {}),
      },
      lookup: {
        mailboxExists: async (name) => (await store.getFolder(account.id, name)) !== null,
        mailboxMetadata: async () => null,
        serverMetadata: async () => null,
        duplicateSeen: (key) => sieve.duplicateSeen(account.id, key, now),
      },
      limits: currentLimits(),
    };
  }

  async function reportError(account: Account, err: NonNullable<AccountRun["error"]>, message: Uint8Array): Promise<void> {
    if (err.script.generated) {
      log.error("out-of-office script failed", { account: account.email, line: err.line, error: err.message });
      return;
    }
    // once per script version: the log line and the notice
    if (!(await sieve.claimErrorReport(account.id, err.digest, Date.now()))) return;
    log.warn("sieve script failed; message kept in INBOX", { account: account.email, script: err.script.name, line: err.line, error: err.message });
    const subject = decodeHeaderText(headerFieldsNamed(message, ["subject"])[0]?.value ?? "").replace(/[\r\n]+/g, " ").slice(0, 200);
    const report = buildErrorReport({ to: account.email, scriptName: err.script.name, line: err.line, message: err.message, subject });
    await store.deliver(report, [{ accountId: account.id }]);
  }

  async function plan(input: FilterInput): Promise<FilterPlan> {
    const now = Date.now();
    const result: FilterPlan = { local: [], extraQueues: [], rejected: [], notices: { local: [], queues: [] }, hookAccountIds: [], afterCommit: () => {} };
    const after: (() => Promise<void>)[] = [];
    const seen = new Set<number>();
    let authUser: string | null | undefined;
    for (const r of input.recipients) {
      for (const a of r.accounts) {
        if (seen.has(a.id)) continue;
        seen.add(a.id);
        const v = input.spam?.accounts.get(a.id);
        const keepFolder = v?.isSpam ? "Junk" : (input.folder ?? "INBOX");
        const message = v?.headers ? withSpamFields(input.raw, v.headers) : input.raw;
        const fallback: DeliveryRecipient = { accountId: a.id, folder: keepFolder, ...(message !== input.raw ? { raw: message } : {}) };
        try {
          const account = await store.getAccountById(a.id);
          const scripts = account ? await scriptsOf(account) : [];
          if (!account || scripts.length === 0) {
            result.local.push(fallback);
            if (!isJunk(keepFolder)) result.hookAccountIds.push(a.id);
            continue;
          }
          // the account's addresses (aliases) only when a redirect or a vacation needs them
          let own: Promise<string[]> | null = null;
          const addresses = () => (own ??= store.sendAsAddresses(account.id).then((l) => [...new Set([account.email, ...l].map((x) => x.toLowerCase()))]));
          if (authUser === undefined) authUser = input.origin?.kind === "submit" ? ((await store.getAccountById(input.origin.accountId))?.email ?? null) : null;
          const run = await runScripts(scripts, runInput(account, [account.email], r.address, input, now, authUser), message);
          const vacationLater = (vacs: readonly Extract<SieveAction, { type: "vacation" }>[]) => {
            // no auto-reply to spam (RFC 3834 §2: it would answer forged senders)
            if (v?.isSpam) return;
            for (const vac of vacs) {
              after.push(async () => {
                const out = await sendVacation(vacationDeps, { account, addresses: await addresses(), action: vac, envelopeFrom: input.envelopeFrom, recipient: r.address, message, now });
                log.debug("vacation", { account: account.email, ...out });
              });
            }
          };
          if (run.error) {
            const err = run.error;
            after.push(() => reportError(account, err, message));
            // the out-of-office script ran before the failing one: its reply still goes (run.actions holds only completed scripts' actions)
            if (!err.script.generated) vacationLater(run.actions.filter((x): x is Extract<SieveAction, { type: "vacation" }> => x.type === "vacation"));
            // RFC 5228 §2.10.6: only the implicit keep (INBOX, or Junk for spam), none of the script's actions (as Pigeonhole)
            result.local.push(fallback);
            if (!isJunk(keepFolder)) result.hookAccountIds.push(a.id);
            continue;
          }
          const plan = await planAccount(
            {
              store,
              sieve,
              srs: getSrs,
              log,
              hostname: deps.config.hostname,
              accountId: a.id,
              accountEmail: account.email,
              ownAddresses: async () => new Set(await addresses()),
              recipient: r.address,
              envelopeFrom: input.envelopeFrom,
              keepFolder,
              now,
            },
            { ...run, message },
            input.raw,
          );
          result.local.push(...plan.copies);
          result.extraQueues.push(...plan.extraQueues);
          result.notices.local.push(...plan.notices.local);
          result.notices.queues.push(...plan.notices.queues);
          if (plan.rejected) result.rejected.push({ accountId: a.id, ...plan.rejected });
          if (plan.copies.some((c) => c.accountId === a.id && !isJunk(c.folder ?? "INBOX"))) result.hookAccountIds.push(a.id);
          for (const d of plan.duplicates) after.push(() => sieve.duplicateRecord(a.id, d.key, d.expiresAt));
          vacationLater(plan.vacations);
        } catch (e) {
          log.error("sieve filter failed; delivering without it", { accountId: a.id, error: e instanceof Error ? e.message : String(e) });
          result.local.push(fallback);
          if (!isJunk(keepFolder)) result.hookAccountIds.push(a.id);
        }
      }
    }
    result.afterCommit = async () => {
      for (const job of after) {
        try {
          await job();
        } catch (e) {
          log.warn("sieve after-delivery work failed", { error: e instanceof Error ? e.message : String(e) });
        }
      }
    };
    return result;
  }

  const self: SieveDeliveryFilter = {
    plan,
    reverseSrs: (address) => getSrs().reverse(address),
    async outOfOffice(msg) {
      const account = await store.getAccountById(msg.accountId);
      const text = account ? vacationScriptFor(account.settings.oof) : null;
      if (!account || !text) return { sent: false, reason: "disabled" };
      const now = msg.now ?? Date.now();
      const addresses = [...new Set([account.email, ...(await store.sendAsAddresses(account.id))].map((x) => x.toLowerCase()))];
      const input: FilterInput = { raw: msg.raw, envelopeFrom: msg.envelopeFrom, recipients: [] };
      const run = await runScripts([{ name: "out-of-office", text, generated: true }], runInput(account, addresses, account.email, input, now), msg.raw);
      if (run.error) return { sent: false, reason: run.error.message };
      const vac = run.actions.find((x): x is Extract<SieveAction, { type: "vacation" }> => x.type === "vacation");
      if (!vac) return { sent: false, reason: "not in the out-of-office period" };
      return sendVacation(vacationDeps, { account, addresses, action: vac, envelopeFrom: msg.envelopeFrom, recipient: account.email, message: msg.raw, now });
    },
  };
  const vacationDeps = { store, sieve, log, filter: self, kick: deps.kick };
  return self;
}
