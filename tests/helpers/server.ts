/**
 * In-process test server: a temp data dir, a self-signed certificate, the
 * requested listeners on 127.0.0.1 with OS-chosen ports, everything else off.
 *
 *   const srv = await startTestServer({ listeners: ["IMAP"] });
 *   await createUser(srv.store, "alice@example.test", "secret");
 *   ... connect to srv.host:srv.port("IMAP") ...
 *   await srv.close();
 *
 * Defaults differ from production on purpose: inbound SPF/DKIM/DMARC checks
 * off (no DNS in tests), plaintext auth allowed for IMAP/POP3. Override with
 * `config`. Set PILLARBOX_TEST_LOG=debug|info|warn|error to see server logs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfig, mergeConfig, type DeepPartial } from "../../src/config.ts";
import type { Config, ListenAddress } from "../../src/config-types.ts";
import type { ServerContext } from "../../src/context.ts";
import { createLogger, type LogLevel } from "../../src/log.ts";
import { LISTENER_DEFAULTS, protocolFor, type ListenerName, type ProtocolModule } from "../../src/registry.ts";
import { startServer, type RunningServer, type StartServerOptions } from "../../src/server.ts";
import type { Account, MailStore } from "../../storage/api.ts";

export type { ListenerName } from "../../src/registry.ts";

export interface TestServer {
  ctx: ServerContext;
  store: MailStore;
  dataDir: string;
  config: Config;
  host: "127.0.0.1";
  /** The bound port of a listener; throws if that listener is not open. */
  port(name: ListenerName): number;
  server: RunningServer;
  /** Closes the server and removes the data dir (set keepDataDir to keep it). */
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Listeners to open on 127.0.0.1:0. Default: every listener whose protocol is built. */
  listeners?: ListenerName[];
  config?: DeepPartial<Config>;
  /** Reuse a data dir (restart tests); it is then not deleted on close. */
  dataDir?: string;
  keepDataDir?: boolean;
  /** Serve these protocol modules instead of the registered ones (kernel tests). */
  protocols?: readonly ProtocolModule[];
  /** The per-account throttle's delays (src/server.ts StartServerOptions.accountThrottle). */
  accountThrottle?: StartServerOptions["accountThrottle"];
}

export function testConfig(dataDir: string, listeners: ListenerName[], patch?: DeepPartial<Config>): Config {
  const base = defaultConfig();
  base.dataDir = dataDir;
  base.hostname = "mail.pillarbox.test";
  base.databaseUrl = `file:${join(dataDir, "pillarbox.db")}`;
  for (const name of Object.keys(LISTENER_DEFAULTS) as ListenerName[]) {
    base.listeners[name] = listeners.includes(name) ? { host: "127.0.0.1", port: 0 } : null;
  }
  base.log.level = (process.env.PILLARBOX_TEST_LOG as LogLevel | undefined) ?? "error";
  base.smtp.verifyInbound = false;
  base.imap.allowPlaintextAuth = true;
  base.pop3.allowPlaintextAuth = true;
  // The spam filter stays on, but tests never ask public DNS lists (a test that does gives its own zones).
  base.spam.dnsBlocklists = [];
  base.spam.domainBlocklists = [];
  base.spam.dnsAllowlists = [];
  return mergeConfig(base, patch);
}

export async function startTestServer(opts: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "pillarbox-test-"));
  const listeners =
    opts.listeners ??
    (Object.keys(LISTENER_DEFAULTS) as ListenerName[]).filter((n) => (opts.protocols ? opts.protocols.some((m) => m.listeners.includes(n)) : protocolFor(n)));
  const config = testConfig(dataDir, listeners, opts.config);
  if (process.env.PILLARBOX_TEST_SERVER_ENGINE === "postgres" && !opts.config?.databaseUrl) config.databaseUrl = await pgUrlFor(dataDir);
  let server: RunningServer;
  try {
    server = await startServer(config, { log: createLogger(config.log.level, { test: true }), tlsWatchIntervalMs: 0, shutdownTimeoutMs: 3000, protocols: opts.protocols, accountThrottle: opts.accountThrottle });
  } catch (e) {
    if (ownDir && !opts.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    ctx: server.ctx,
    store: server.store,
    dataDir,
    config,
    host: "127.0.0.1",
    server,
    port(name) {
      const a: ListenAddress | undefined = server.addresses[name];
      if (!a) throw new Error(`listener ${name} is not open (requested: ${listeners.join(", ") || "none"}; is its protocol registered?)`);
      return a.port;
    },
    async close() {
      await server.close();
      if (ownDir && !opts.keepDataDir) {
        rmSync(dataDir, { recursive: true, force: true });
        const pg = pgUrls.get(dataDir);
        if (pg) {
          pgUrls.delete(dataDir);
          await (await import("./engines.ts")).dropPgSchema(pg);
        }
      }
    },
  };
}

/**
 * PILLARBOX_TEST_SERVER_ENGINE=postgres runs every in-process test server on
 * PostgreSQL (PILLARBOX_TEST_PG_URL), so any protocol suite can be run on the
 * second engine: one fresh schema per data dir, so a restart on the same data
 * dir finds its data again.
 */
const pgUrls = new Map<string, string>();
async function pgUrlFor(dataDir: string): Promise<string> {
  let url = pgUrls.get(dataDir);
  if (!url) {
    const { freshPgUrl } = await import("./engines.ts");
    url = await freshPgUrl("srv");
    pgUrls.set(dataDir, url);
  }
  return url;
}

/** Adds the domain if needed, then the account. */
export async function createUser(store: MailStore, email: string, password: string, opts?: { quotaBytes?: number | null; displayName?: string }): Promise<Account> {
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  if (!(await store.getDomain(domain))) await store.addDomain(domain);
  return store.addAccount(email, password, opts);
}
