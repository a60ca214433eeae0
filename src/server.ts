/**
 * The in-process server: opens the store, builds the shared context, starts
 * every registered protocol and binds its configured listeners. Used by
 * `pillarbox serve` and by the test harness (tests/helpers/server.ts).
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import * as net from "node:net";
import type { TLSSocket } from "node:tls";
import type { Config, ListenAddress } from "./config-types.ts";
import type { ServerContext } from "./context.ts";
import { createLogger, type Logger } from "./log.ts";
import { createAuthThrottle, type AuthThrottleOptions } from "./auth-throttle.ts";
import { IMPLICIT_TLS, protocolFor, registeredProtocols, type ListenerInfo, type ListenerName, type ProtocolModule } from "./registry.ts";
import { createTlsManager, type TlsManager } from "./tls.ts";
import { staticCertificates } from "./certificates.ts";
import { createAcmeManager, type AcmeManager } from "./acme/index.ts";
import { createActivity, type ActivityRecorder } from "./activity.ts";
import { activityLogger } from "./activity-log.ts";
import { applyConfig, type ConfigChange } from "./live-config.ts";
import { SETTINGS } from "./config.ts";
import { buildInfo } from "./version.ts";
import { ConnectionAccounting, capWarning, FAMILY_OF, refusalLine, type Admission, type ConnectionFamily, type Refusal } from "./connection-limits.ts";
import { createAuthCache, createAuthenticator, ipLimiterView, normalizeIp, passwordHasher, storeWithAuthInvalidation, type AuthCache } from "./auth.ts";
import type { MailStore } from "../storage/api.ts";
import { openStorage, type Storage } from "../storage/open.ts";
import { createSubmit, kickQueues, setQueueKickRelay, startQueue } from "./delivery/index.ts";
import { createSieveFilter } from "./delivery/sieve-filter.ts";
import { sieveEngine } from "./sieve/index.ts";
import { createScheduler, itipDeliveryHook } from "./groupware/scheduling/index.ts";
import { createGroupware } from "./groupware/index.ts";
import { startSpamTrainer, type SpamTrainer } from "./spam/training.ts";
import { createSpamService } from "./spam/index.ts";
import { createBayesClassifier } from "./spam/bayes.ts";
import { localCluster, type ClusterServices } from "./cluster/services.ts";
import { shareStoreEvents } from "./cluster/share.ts";
import { admitAtLead, serveLimits, workerThrottle } from "./cluster/limits.ts";
import "../protocols/index.ts";

/** Topics of the kernel's messages to the lead (src/cluster/). */
const LEAD_TOPICS = { kickQueue: "queue.kick", activity: "activity" } as const;
/**
 * Listeners only the lead serves. HTTP: MAPI sessions, EWS pull subscriptions and ACME's
 * challenges live in its memory. IMAP: a mailbox's sessions must agree on sequence numbers,
 * \Recent and the order of what they are told (RFC 9051 §2.3.1, RFC 3501 §2.3.2), which one
 * process's folder caches give exactly; what the workers change (SMTP deliveries, POP3
 * deletions) reaches those caches as relayed events, new messages always in UID order
 * (protocols/imap/state.ts loadNew).
 */
const LEAD_ONLY_LISTENERS: ReadonlySet<ListenerName> = new Set(["HTTP", "HTTPS", "IMAP", "IMAPS"]);

export interface StartServerOptions {
  log?: Logger;
  /** Use this storage instead of opening one (it is still closed by close()). */
  storage?: Storage;
  /** How long close() lets in-flight work finish before dropping connections (ms). */
  shutdownTimeoutMs?: number;
  /** Certificate file polling interval (ms); 0 disables (SIGHUP still works). */
  tlsWatchIntervalMs?: number;
  /** Serve these modules instead of the registry's (kernel tests). */
  protocols?: readonly ProtocolModule[];
  /** ACME polling of pending orders, ms (tests against pebble make it short). */
  acmePollMs?: number;
  /** The per-account throttle's free failures and delays (tests that must stay inside a delay on a loaded machine make it long). */
  accountThrottle?: Pick<AuthThrottleOptions, "accountFreeFailures" | "accountBaseDelayMs" | "accountMaxDelayMs">;
  /**
   * This process's place among the server's processes (src/cluster/): the lead
   * runs the one-of-a-kind jobs (outbound queue, ACME, spam training, blob
   * collection, the activity files) and the HTTP listeners; workers share the
   * mail listeners with it through SO_REUSEPORT. Default: a single process.
   */
  cluster?: ClusterServices;
}

export interface RunningServer {
  ctx: ServerContext;
  store: MailStore;
  tls: TlsManager;
  log: Logger;
  authCache: AuthCache;
  /** Actually bound addresses of the listeners that are open (port 0 resolved). */
  addresses: Partial<Record<ListenerName, ListenAddress>>;
  /** Graceful: stop accepting, let protocols finish in-flight work (with a deadline), close the store. Idempotent. */
  close(): Promise<void>;
  /**
   * Applies a newly loaded configuration to the running server (SIGHUP; found
   * item 1): host name, [tls] files, limits, log level, SMTP/IMAP/POP3 and
   * queue settings take effect at once; listeners, data dir and database are
   * named in one warning and wait for a restart. Also re-reads the certificate files.
   */
  reloadConfig(next: Config): ConfigChange;
  /**
   * SIGHUP: loads the configuration with `load` and applies it; when it does
   * not load, logs why, keeps the running one and still re-reads the
   * certificate files. Either outcome is written to the activity log at once
   * (`pillarbox reload` reads it there). Null when nothing was applied.
   */
  reloadFrom(load: () => Config): ConfigChange | null;
}

/** A listener that could not be opened. `message` is the one line to show the operator. */
export class BindError extends Error {
  constructor(
    public listener: ListenerName,
    public address: string,
    public code: string,
    message: string,
  ) {
    super(message);
    this.name = "BindError";
  }
}

export function bindErrorMessage(listener: ListenerName, address: string, err: NodeJS.ErrnoException): string {
  const code = err.code ?? "ERROR";
  const env = `PILLARBOX_${listener}_LISTEN`;
  const other = `set ${env} to another host:port, or ${env}=off`;
  switch (code) {
    case "EACCES":
    case "EPERM":
      return `cannot listen for ${listener} on ${address}: permission denied (${code}) - ports below 1024 need root: run as root, grant the capability (setcap cap_net_bind_service=+ep on the binary, or AmbientCapabilities=CAP_NET_BIND_SERVICE in systemd), or ${other}`;
    case "EADDRINUSE":
      return `cannot listen for ${listener} on ${address}: address already in use (EADDRINUSE) - stop the program using that port, or ${other}`;
    case "EADDRNOTAVAIL":
      return `cannot listen for ${listener} on ${address}: address not available on this machine (EADDRNOTAVAIL) - ${other} (e.g. 0.0.0.0:port)`;
    default:
      return `cannot listen for ${listener} on ${address}: ${err.message} (${code}) - run as root or grant CAP_NET_BIND_SERVICE if the port is below 1024, or ${other}`;
  }
}

function fmtAddr(a: ListenAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

function listen(server: net.Server, name: ListenerName, addr: ListenAddress, reusePort: boolean): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(new BindError(name, fmtAddr(addr), err.code ?? "ERROR", bindErrorMessage(name, fmtAddr(addr), err)));
    };
    const onListening = () => {
      server.off("error", onError);
      const a = server.address();
      resolve(a && typeof a === "object" ? { host: addr.host, port: a.port } : addr);
    };
    server.once("error", onError);
    server.once("listening", onListening);
    try {
      // reusePort: every process of the server binds the port and the kernel spreads connections (src/cluster/).
      server.listen({ host: addr.host, port: addr.port, exclusive: true, ...(reusePort ? { reusePort: true } : {}) });
    } catch (e) {
      onError(e as NodeJS.ErrnoException);
    }
  });
}

export async function startServer(config: Config, opts: StartServerOptions = {}): Promise<RunningServer> {
  const baseLog = opts.log ?? createLogger(config.log.level);
  const cluster = opts.cluster ?? localCluster();
  const isWorker = cluster.role === "worker";
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // The admin's activity log (src/activity.ts), fed by every log line that names a kind, kept in the data dir.
  // A worker keeps none of its own: its entries go to the lead's, which the admin pages read.
  const activity: ActivityRecorder = createActivity({ dir: isWorker ? null : join(config.dataDir, "activity"), onError: (m) => baseLog.warn(m) });
  const log = activityLogger(baseLog, isWorker ? (e) => cluster.toLead(LEAD_TOPICS.activity, e) : (e) => activity.record(e));
  if (cluster.role === "lead") cluster.on(LEAD_TOPICS.activity, (e) => activity.record(e as Parameters<ActivityRecorder["record"]>[0]));

  const tlsManager = createTlsManager({
    dataDir: config.dataDir,
    hostname: config.hostname,
    certFile: config.tls.certFile,
    keyFile: config.tls.keyFile,
    log,
    watchIntervalMs: opts.tlsWatchIntervalMs,
  });

  let storage: Storage;
  try {
    storage = opts.storage ?? (await openStorage({ url: config.databaseUrl, dataDir: config.dataDir, authToken: config.databaseAuthToken, log, hasher: passwordHasher, changeRetentionMs: config.changeRetentionDays * 86_400_000, ...(isWorker ? { gcIntervalMs: 0 } : {}) }));
  } catch (e) {
    tlsManager.close();
    activity.close();
    throw e;
  }
  const authCache = createAuthCache();
  const store = storeWithAuthInvalidation(storage.mail, authCache);
  // One throttle for every protocol: per IP (hard, the configured limit) and per account (progressive delay).
  // Kept as an object: a live reload updates the two limits in place (the throttle reads them at each check).
  const throttleLimits: AuthThrottleOptions = { ipMaxFailures: config.limits.authFailuresPerIp, ipWindowMs: config.limits.authWindowSeconds * 1000, ...opts.accountThrottle };
  const ownThrottle = createAuthThrottle(throttleLimits);
  // A worker's reservations are the lead's; its own throttle is a replica for the quick checks (src/cluster/limits.ts).
  const proxied = isWorker ? workerThrottle(cluster, ownThrottle) : null;
  const authThrottle = proxied?.throttle ?? ownThrottle;
  const authLimiter = ipLimiterView(authThrottle);
  const authenticator = createAuthenticator({ store, throttle: authThrottle, cache: authCache, log });
  // ACME on: the manager is the certificate service (its stored certificate is served from the first connection).
  const newAcme = () => createAcmeManager({ config, tls: tlsManager, listDomains: async () => (await store.listDomains()).map((d) => d.name), log: log.child({ component: "acme" }), pollMinMs: opts.acmePollMs });
  // `let`: a configuration reload may turn ACME on (quickstart --acme on a running server).
  let acme: AcmeManager | null = config.acme.enabled ? newAcme() : null;

  let shuttingDown = false;
  const addresses: Partial<Record<ListenerName, ListenAddress>> = {};
  const ctx: ServerContext = {
    config,
    store,
    storage: { eas: storage.eas, webmail: storage.webmail, sieve: storage.sieve, bayes: storage.bayes, spam: storage.spam },
    tls: tlsManager,
    log,
    authLimiter,
    authThrottle,
    login: authenticator.login,
    authenticate: authenticator.authenticate,
    submit: async () => {
      throw new Error("submit used before the server started");
    },
    addresses,
    deliveryHooks: [],
    get shuttingDown() {
      return shuttingDown;
    },
    groupware: createGroupware(store, { log }),
    certificates: acme ?? staticCertificates(tlsManager),
    activity,
    // The spam filter (src/spam/): scoring at SMTP, greylisting at RCPT, training; reads the live config.
    spam: createSpamService({ config: () => ctx.config, store: storage.spam, mail: store, bayes: createBayesClassifier(storage.bayes), log }),
    // Sieve for every local delivery (src/delivery/sieve-filter.ts): set below, once the context exists.
    deliveryFilter: null,
    cluster,
  };
  // The out-of-office settings run as a generated vacation script before the user's own (one mechanism).
  ctx.deliveryFilter = createSieveFilter({ store, sieve: storage.sieve, engine: sieveEngine, config, log: log.child({ component: "sieve" }), kick: kickQueues });
  ctx.submit = createSubmit(ctx);
  // Implicit scheduling (RFC 6638) over iMIP (RFC 6047): the scheduler sends every invitation,
  // reply and cancellation as mail through ctx.submit, local attendees included; one delivery
  // hook applies what arrives, from local users and from SMTP alike (src/groupware/scheduling/).
  ctx.groupware.setScheduler(createScheduler({ store, submit: () => ctx.submit, log: log.child({ component: "scheduling" }) }));
  ctx.deliveryHooks.push(itipDeliveryHook({ store, groupware: () => ctx.groupware, log: log.child({ component: "imip" }) }));

  const sockets = new Set<net.Socket>();
  const accounting = new ConnectionAccounting(config.limits);
  // Several processes serve as one (src/cluster/share.ts): events, the auth throttle and connection caps are shared.
  const unshareEvents = shareStoreEvents(cluster, store.events);
  const unserveLimits = serveLimits(cluster, { connections: accounting, throttle: ownThrottle });
  const unshare = () => {
    unshareEvents();
    unserveLimits();
    proxied?.stop();
  };
  // Mail queued by a worker is sent by the lead's queue runner: the worker's kick goes there.
  const unkick = isWorker ? setQueueKickRelay(() => cluster.toLead(LEAD_TOPICS.kickQueue, null)) : cluster.on(LEAD_TOPICS.kickQueue, () => kickQueues());
  const capProblem = capWarning(config.limits);
  if (capProblem) log.warn(capProblem);
  // One warning per family per 10 s with a count, so a flood does not become a log flood.
  const refusedSince = new Map<string, { n: number; at: number }>();
  const servers: net.Server[] = [];
  const started: ProtocolModule[] = [];
  let queue: { stop(): Promise<void> } | null = null;
  let spamTrainer: SpamTrainer | null = null;
  let ready = false;
  const early: { s: net.Socket; run: () => void }[] = [];

  const onConnection = (mod: ProtocolModule, info: ListenerInfo, socket: net.Socket) => {
    // A protocol that forgets an 'error' handler must not take the process down on ECONNRESET.
    socket.on("error", (err) => log.debug("socket error", { listener: info.name, error: err.message }));
    const ip = normalizeIp(socket.remoteAddress);
    if (shuttingDown) return accept(mod, info, socket, ip, { ok: false, family: FAMILY_OF[info.name], reason: "shutdown" });
    // A worker's connections are admitted by the lead, against the server's caps (src/cluster/limits.ts).
    if (isWorker) {
      void admitAtLead(cluster, info.name, ip, FAMILY_OF[info.name]).then((a) => {
        if (a.ok && (socket.destroyed || shuttingDown)) {
          a.release();
          socket.destroy();
          return;
        }
        accept(mod, info, socket, ip, a);
      });
      return;
    }
    accept(mod, info, socket, ip, accounting.admit(info.name, ip));
  };

  const accept = (mod: ProtocolModule, info: ListenerInfo, socket: net.Socket, ip: string, admitted: Admission | { ok: false; family: ConnectionFamily; reason: Refusal }) => {
    if (!admitted.ok) {
      const key = `${admitted.family}/${admitted.reason}`;
      const r = refusedSince.get(key) ?? { n: 0, at: 0 };
      r.n++;
      refusedSince.set(key, r);
      if (admitted.reason !== "shutdown" && Date.now() - r.at >= 10_000) {
        log.warn("connection refused: limit reached", { listener: info.name, family: admitted.family, limit: admitted.reason, ip, refused: r.n, open: accounting.counts() });
        refusedSince.set(key, { n: 0, at: Date.now() });
      }
      // A one-line refusal where the protocol allows it cheaply, then close; never a lingering socket.
      const line = refusalLine(info.name, config.hostname, admitted.reason);
      if (line) {
        socket.end(line);
        setTimeout(() => socket.destroy(), 2000).unref?.();
      } else socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.once("close", () => {
      sockets.delete(socket);
      admitted.release();
    });
    const hand = (s: net.Socket | TLSSocket) => {
      try {
        mod.onConnection(s, info, ctx);
      } catch (e) {
        log.error("protocol failed to take a connection", { protocol: mod.name, error: e as Error });
        s.destroy();
      }
    };
    if (info.implicitTls) {
      tlsManager.upgrade(socket, { acmeAlpn: info.name === "HTTPS" }).then(hand, (e: Error) => log.debug("TLS handshake failed", { listener: info.name, ip, error: e.message }));
    } else hand(socket);
  };

  const shutdown = async (timeoutMs: number) => {
    shuttingDown = true;
    // Stop accepting now, without waiting: net.Server.close's callback fires only once every
    // connection has ended, and idle clients end only when the protocols' stop() below tells them.
    for (const s of servers) s.close();
    acme?.stop();
    const deadline = new Promise<void>((r) => setTimeout(r, timeoutMs).unref?.());
    const stopping = Promise.all([
      ...started.map(async (m) => {
        try {
          await m.stop?.();
        } catch (e) {
          log.error("protocol stop failed", { protocol: m.name, error: e as Error });
        }
      }),
      queue?.stop().catch((e: Error) => log.error("queue stop failed", { error: e })),
      spamTrainer?.stop(),
    ]);
    ctx.spam.close();
    await Promise.race([stopping, deadline]);
    for (const s of sockets) s.destroy();
    // Give a protocol's in-flight store call a last moment to settle after the sockets are gone.
    await Promise.race([stopping, new Promise<void>((r) => setTimeout(r, 200).unref?.())]);
    tlsManager.close();
    unshare();
    unkick();
    try {
      await store.close();
    } catch (e) {
      log.error("store close failed", { error: e as Error });
    }
    activity.close();
  };

  try {
    // One outbound queue runner and one spam trainer per server: the lead's.
    if (!isWorker) queue = startQueue(ctx);
    // Moves into and out of Junk (and $Junk/$NotJunk keywords) over any protocol train the spam filter (src/spam/training.ts).
    if (!isWorker) spamTrainer = startSpamTrainer({ store, spam: { train: (id, raw, as) => ctx.spam.train(id, raw, as) }, enabled: () => ctx.spam.enabled, log: log.child({ component: "spam-trainer" }) });
    const modules = opts.protocols ?? registeredProtocols();
    const moduleFor = (l: ListenerName) => (opts.protocols ? modules.find((m) => m.listeners.includes(l)) : protocolFor(l));
    for (const mod of modules) {
      const wanted = mod.listeners.some((l) => config.listeners[l] !== null);
      if (!wanted) continue;
      await mod.start?.(ctx);
      started.push(mod);
    }
    for (const name of Object.keys(config.listeners) as ListenerName[]) {
      const addr = config.listeners[name];
      const mod = moduleFor(name);
      if (!addr || !mod || !started.includes(mod)) continue;
      if (isWorker && LEAD_ONLY_LISTENERS.has(name)) continue;
      const info: ListenerInfo = { name, host: addr.host, port: addr.port, implicitTls: IMPLICIT_TLS.has(name) };
      // Connections that arrive before every listener is bound wait, so ctx.addresses is complete when a protocol sees one.
      const server = net.createServer((s) => (ready ? onConnection(mod, info, s) : early.push({ s, run: () => onConnection(mod, info, s) })));
      const bound = await listen(server, name, addr, cluster.role !== "single");
      info.port = bound.port;
      servers.push(server);
      addresses[name] = bound;
      server.on("error", (err) => log.error("listener error", { listener: name, error: err }));
    }
  } catch (e) {
    for (const { s } of early.splice(0)) s.destroy();
    await shutdown(1000);
    throw e;
  }
  ready = true;
  for (const { run } of early.splice(0)) run();
  // The CA connects to the HTTP/HTTPS listeners for its challenges: order only once they are bound.
  // Workers only serve the certificate the lead's manager stored (the TLS manager follows its files).
  if (!isWorker) acme?.start();

  const build = buildInfo();
  log.info("pillarbox serving", {
    kind: "system",
    version: build.version,
    commit: build.commit,
    hostname: config.hostname,
    dataDir: config.dataDir,
    listeners: Object.fromEntries(Object.entries(addresses).map(([k, v]) => [k, fmtAddr(v!)])),
  });

  // The answer to a reload is the lead's (`pillarbox reload` reads it from the activity log):
  // a worker's own lines about the same reload stay out of it.
  const reloadKind = isWorker ? {} : { kind: "system" };
  let closing: Promise<void> | null = null;
  const running: RunningServer = {
    ctx,
    store,
    tls: tlsManager,
    log,
    authCache,
    addresses,
    close() {
      closing ??= shutdown(opts.shutdownTimeoutMs ?? 10_000).then(() => log.info("pillarbox stopped"));
      return closing;
    },
    reloadConfig(next) {
      // ACME can be turned on while running, not off: the certificate it got stays served until a restart.
      const acmeOffAsked = config.acme.enabled && !next.acme.enabled;
      if (acmeOffAsked) next = { ...next, acme: { ...next.acme, enabled: true } };
      const change = applyConfig(config, next);
      if (acmeOffAsked) change.restartNeeded.push("acme.enabled");
      const touched = (prefix: string) => change.applied.some((p) => p === prefix || p.startsWith(prefix + "."));
      log.setLevel?.(config.log.level);
      throttleLimits.ipMaxFailures = config.limits.authFailuresPerIp;
      throttleLimits.ipWindowMs = config.limits.authWindowSeconds * 1000;
      if (touched("limits.connections") || touched("limits.maxConnections")) {
        const problem = capWarning(config.limits);
        if (problem) log.warn(problem);
      }
      // The certificate follows the host name (self-signed) and the [tls] files; unchanged files are re-read as SIGHUP always did.
      tlsManager.reconfigure({ hostname: config.hostname, certFile: config.tls.certFile, keyFile: config.tls.keyFile });
      if (config.acme.enabled && !acme && !shuttingDown) {
        // Turned on by this reload: the manager becomes the certificate service and orders at once.
        acme = newAcme();
        ctx.certificates = acme;
        if (!isWorker) acme.start();
        log.info("acme: turned on by the configuration reload", { kind: "system" });
      } else if (!isWorker && config.acme.enabled && (touched("hostname") || touched("acme"))) {
        // With ACME, a new host name (or new names) needs a new certificate: order it now, not at the next hourly check.
        void ctx.certificates.renewNow().catch((e: Error) => log.error("acme: order after a configuration reload failed", { error: e.message }));
      }
      const names = (paths: string[]) => paths.map((p) => SETTINGS.find((s) => s.path === p)?.toml ?? p).join(", ");
      log.info("configuration reloaded", { ...reloadKind, applied: names(change.applied) || "(no change)", hostname: config.hostname });
      if (change.restartNeeded.length) {
        log.warn("configuration: these settings changed but need a restart to apply", { ...reloadKind, settings: names(change.restartNeeded) });
      }
      return change;
    },
    reloadFrom(load) {
      let change: ConfigChange | null = null;
      try {
        change = running.reloadConfig(load());
      } catch (e) {
        log.error("SIGHUP: configuration not reloaded, the running one stays", { ...reloadKind, error: (e as Error).message });
        tlsManager.reload();
      }
      // The answer is on disk before anything else happens: `pillarbox reload` waits for it there.
      activity.flush();
      return change;
    },
  };
  return running;
}
