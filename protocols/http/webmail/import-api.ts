/**
 * Settings > Import: a user copies their mail from their old provider's
 * IMAP server into this account (the engine of `pillarbox import
 * imap://...`, src/import/imap-import.ts), started from the webmail.
 *
 *   GET    /api/import  -> ImportStatus (the current or last run of this account)
 *   POST   /api/import  ImportStartRequest -> 202 ImportStatus
 *   DELETE /api/import  -> ImportStatus (cancel: stops after the current batch)
 *
 * The run happens in the server process, one at a time per account and a
 * few at a time server-wide, bounded in time and size ([import] max_seconds,
 * max_bytes); a bound stops it like a cancel, and starting again continues
 * where it stopped (the resume state in the data dir). The password lives
 * only in this run's closure and is never logged or stored. The server never
 * connects to loopback, private or link-local addresses for a user unless
 * the admin allows it ([import] allow_private_hosts): src/import/address-check.ts.
 */
import { readFileSync } from "node:fs";
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import { AddressRefused, vetHost } from "../../../src/import/address-check.ts";
import { importImap, sourceUrl, type ImapSourceOptions } from "../../../src/import/imap-import.ts";
import { ImportError } from "../../../src/import/sink.ts";
import type { AppEnv } from "../types.ts";
import type { ImportStartRequest, ImportStatus } from "./api-types.ts";
import { ApiError, readJson } from "./util.ts";

/** Imports running at once on the whole server (each holds a connection and a batch in memory). */
const MAX_RUNNING = 3;
/** Starts per account per hour: a failed sign-in at the old provider costs that provider a login attempt; this is not a password-guessing service. */
const STARTS_PER_HOUR = 12;

interface Job {
  status: ImportStatus;
  abort: AbortController;
  running: boolean;
  starts: number[];
}

const jobsByServer = new WeakMap<ServerContext, Map<number, Job>>();

function idle(): ImportStatus {
  return { state: "idle", source: null, folder: null, done: 0, total: 0, bytesDone: 0, bytesTotal: 0, startedAt: null, finishedAt: null, error: null, folders: [] };
}

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function validate(body: Partial<Record<keyof ImportStartRequest, unknown>>): ImportStartRequest {
  const host = typeof body.host === "string" ? body.host.trim().replace(/\.$/, "").replace(/^\[|\]$/g, "") : "";
  if (!host || (!HOST_RE.test(host) && !/^[0-9a-f:.]+$/i.test(host))) throw new ApiError(400, "bad_host", "Enter the server name of your old provider, for example imap.example.com.");
  const security = body.security;
  if (security !== "tls" && security !== "starttls") throw new ApiError(400, "bad_security", "Choose how to connect: TLS or STARTTLS.");
  const port = body.port === undefined || body.port === null || body.port === "" ? (security === "tls" ? 993 : 143) : Number(body.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ApiError(400, "bad_port", "The port is a number from 1 to 65535 (usually 993).");
  const user = typeof body.user === "string" ? body.user.trim() : "";
  if (!user || user.length > 320 || /[\r\n\0]/.test(user)) throw new ApiError(400, "bad_user", "Enter the user name you sign in with at your old provider (often your full address).");
  const password = typeof body.password === "string" ? body.password : "";
  if (!password || password.length > 1024 || /[\r\n\0]/.test(password)) throw new ApiError(400, "bad_password", "Enter your password at the old provider.");
  return { host: host.toLowerCase(), port, security, user, password };
}

export function mountImportApi(app: Hono<AppEnv>, deps: { ctx: ServerContext }): void {
  const { ctx } = deps;
  let jobs = jobsByServer.get(ctx);
  if (!jobs) jobsByServer.set(ctx, (jobs = new Map()));
  const all = jobs;
  const running = () => [...all.values()].filter((j) => j.running).length;

  app.get("/api/import", (c) => {
    c.header("cache-control", "no-store");
    return c.json(all.get(c.get("account").id)?.status ?? idle());
  });

  app.delete("/api/import", (c) => {
    const job = all.get(c.get("account").id);
    if (job?.running) job.abort.abort();
    c.header("cache-control", "no-store");
    return c.json(job?.status ?? idle());
  });

  app.post("/api/import", async (c) => {
    const account = c.get("account");
    const req = validate(await readJson<Partial<Record<keyof ImportStartRequest, unknown>>>(c, 8 * 1024));
    const prev = all.get(account.id);
    if (prev?.running) throw new ApiError(409, "running", "An import is already running for your account. Wait for it to finish or cancel it.");
    const now = Date.now();
    const starts = (prev?.starts ?? []).filter((t) => now - t < 3_600_000);
    if (starts.length >= STARTS_PER_HOUR) throw new ApiError(429, "too_many", "Too many imports started in the last hour. Try again later.");
    if (running() >= MAX_RUNNING) throw new ApiError(429, "busy", "The server is busy with other imports. Try again in a few minutes.");
    let address: string;
    try {
      address = await vetHost(req.host, ctx.config.import.allowPrivateHosts);
    } catch (e) {
      if (e instanceof AddressRefused) throw new ApiError(400, "refused_host", e.message);
      throw e;
    }
    let ca: string | undefined;
    if (ctx.config.import.caFile) {
      try {
        ca = readFileSync(ctx.config.import.caFile, "utf8");
      } catch (e) {
        ctx.log.warn("import: cannot read [import] ca_file", { file: ctx.config.import.caFile, error: (e as Error).message });
      }
    }
    const source: ImapSourceOptions = { host: req.host, port: req.port, tls: req.security === "tls" ? "implicit" : "starttls", user: req.user, password: req.password, address, ca };
    const status: ImportStatus = { ...idle(), state: "connecting", source: sourceUrl(source), startedAt: now };
    const job: Job = { status, abort: new AbortController(), running: true, starts: [...starts, now] };
    all.set(account.id, job);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      job.abort.abort();
    }, ctx.config.import.maxSeconds * 1000);
    ctx.log.info("import started", { kind: "import", account: account.email, source: status.source, ip: c.env.remoteIp });
    void (async () => {
      try {
        const r = await importImap({
          store: ctx.store,
          accountId: account.id,
          dataDir: ctx.config.dataDir,
          source,
          signal: job.abort.signal,
          maxBytes: ctx.config.import.maxBytes,
          maxMessageBytes: ctx.config.limits.maxMessageSize,
          onProgress: (p) => {
            Object.assign(status, { state: "running", folder: p.folder, done: p.done, total: p.total, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal });
          },
        });
        status.folders = r.folders.filter((f) => !f.skipped).map((f) => ({ source: f.source, target: f.target, messages: f.messages, imported: f.imported }));
        status.done = Math.max(status.done, r.imported);
        if (!r.stopped) status.state = "done";
        else if (timedOut || status.bytesDone >= ctx.config.import.maxBytes) {
          status.state = "stopped";
          status.error = "The import reached its time or size limit. Start it again to continue where it stopped.";
        } else status.state = "cancelled";
        ctx.log.info("import finished", { kind: "import", account: account.email, source: status.source, state: status.state, imported: r.imported, bytes: r.bytes });
      } catch (e) {
        status.state = "failed";
        status.error = e instanceof ImportError ? e.message : "The import failed unexpectedly; what was imported so far stays, and starting again continues.";
        ctx.log.warn("import failed", { kind: "import", account: account.email, source: status.source, error: e instanceof Error ? e.message : String(e) });
      } finally {
        clearTimeout(timer);
        job.running = false;
        status.finishedAt = Date.now();
      }
    })();
    c.header("cache-control", "no-store");
    return c.json(status, 202);
  });
}
