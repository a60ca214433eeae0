/**
 * The ACME manager: keeps a CA-issued certificate for the mail host name (and
 * the autoconfig/autodiscover/mta-sts names) in the data dir, renews it ahead
 * of expiry with exponential backoff on failure, and hands each new one to the
 * TLS manager, which swaps it into every listener without a restart.
 * It is the server's CertificateService (src/ops/types.ts) when ACME is on.
 */
import { X509Certificate, generateKeyPairSync } from "node:crypto";
import { readFileSync } from "node:fs";
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { TlsManager } from "../tls.ts";
import type { CertificateService, CertificateStatus } from "../ops/types.ts";
import { certificateStatusOf } from "../certificates.ts";
import { acmePaths, ensureDir, readIfExists, readState, writeFileAtomic, writeState, type AcmeState } from "./files.ts";
import { certificateNames } from "./names.ts";
import { nextAttemptAt } from "./schedule.ts";
import { AcmeOrderError, describeAcmeError, orderCertificate, type ChallengeType } from "./order.ts";

export interface AcmeManager extends CertificateService {
  /** Starts the renewal timer (call once the listeners are bound: the CA connects to them). */
  start(): void;
  stop(): void;
}

export interface AcmeManagerOptions {
  config: Config;
  tls: TlsManager;
  /** The local domains (for the autoconfig./autodiscover./mta-sts. names). */
  listDomains: () => Promise<string[]>;
  log: Logger;
  /** Polling of pending ACME objects, ms (tests make it short). */
  pollMinMs?: number;
  /** The order itself (tests replace it to drive the fallbacks without a CA). */
  order?: typeof orderCertificate;
}

/** The longest single timer; a later renewal is re-planned when it fires. */
const MAX_TIMER_MS = 3_600_000;
/** One attempt (account, order, every challenge, finalize) ends by then, whatever the CA does. */
const ATTEMPT_TIMEOUT_MS = 10 * 60_000;
/** A name left out after its validation failed is tried again this much later (its CNAME may be published by then). */
const EXCLUDE_MS = 24 * 3_600_000;

/**
 * The challenge types to try, in order. "auto" tries HTTP-01 first and falls
 * back to TLS-ALPN-01 when the host name fails it (port 80 is often blocked
 * on home connections while 443 is open).
 */
export function challengeTypesFor(config: Config): ChallengeType[] {
  const c = config.acme.challenge;
  if (c === "http-01") return config.listeners.HTTP ? [c] : [];
  if (c === "tls-alpn-01") return config.listeners.HTTPS ? [c] : [];
  return [...(config.listeners.HTTP ? (["http-01"] as const) : []), ...(config.listeners.HTTPS ? (["tls-alpn-01"] as const) : [])];
}

export function createAcmeManager(o: AcmeManagerOptions): AcmeManager {
  const { config, tls, log } = o;
  const paths = acmePaths(config.dataDir);
  ensureDir(paths);
  let state: AcmeState = readState(paths);
  if (state.directoryUrl !== config.acme.directoryUrl) {
    // Another CA: a new account there (the key is kept); the old failures do not count against it.
    state = { directoryUrl: config.acme.directoryUrl, accountUrl: null, failures: 0, lastError: null, lastAttemptAt: null };
  }
  const httpTokens = new Map<string, string>();
  let cert: X509Certificate | null = null;

  const loadCert = (): boolean => {
    const pem = readIfExists(paths.cert);
    if (!pem || !readIfExists(paths.certKey)) return false;
    try {
      const x = new X509Certificate(pem);
      if (Date.parse(x.validTo) <= Date.now()) return false;
      if (!tls.useFiles({ certFile: paths.cert, keyFile: paths.certKey })) return false;
      cert = x;
      return true;
    } catch (e) {
      log.warn("acme: stored certificate unusable; ordering a new one", { error: (e as Error).message });
      return false;
    }
  };
  loadCert();

  const keyFile = (path: string): string => {
    const have = readIfExists(path);
    if (have) return have;
    // ECDSA P-256 keys: small, and what every CA and client accepts. Kept once made (TLSA, account).
    const pem = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;
    writeFileAtomic(path, pem, 0o600);
    return pem;
  };

  const sanNames = (x: X509Certificate): string[] =>
    (x.subjectAltName ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.startsWith("DNS:"))
      .map((s) => s.slice(4).toLowerCase());

  let names: string[] = [config.hostname];
  /** Names whose validation failed, with the time until which they are left out of orders. */
  const excluded = new Map<string, number>();
  const isExcluded = (n: string) => (excluded.get(n) ?? 0) > Date.now();
  const wantedNames = async (): Promise<string[]> => {
    let domains: string[] = [];
    try {
      domains = await o.listDomains();
    } catch (e) {
      log.warn("acme: cannot list domains; ordering the host name only", { error: (e as Error).message });
    }
    return certificateNames(config, domains).filter((n) => !isExcluded(n));
  };

  const save = () => {
    try {
      writeState(paths, state);
    } catch (e) {
      log.error("acme: cannot write state", { error: (e as Error).message });
    }
  };

  const attempt = async (): Promise<{ ok: boolean; message: string }> => {
    const types = challengeTypesFor(config);
    names = await wantedNames();
    const fail = (message: string) => {
      state = { ...state, failures: state.failures + 1, lastError: message, lastAttemptAt: Date.now() };
      save();
      log.error("acme: certificate order failed", { names, error: message, failures: state.failures });
      return { ok: false, message };
    };
    if (!types.length) return fail(`no listener for the ${config.acme.challenge} challenge: turn on HTTP (port 80) or HTTPS (port 443)`);
    let caPem: string | null = null;
    if (config.acme.caFile) {
      try {
        caPem = readFileSync(config.acme.caFile, "utf8");
      } catch (e) {
        return fail(`cannot read acme.ca_file ${config.acme.caFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
    const order = o.order ?? orderCertificate;
    let t = 0;
    let droppedOnce = false;
    const earlier: string[] = [];
    // At most: one order per challenge type, plus one after leaving out failed secondary names.
    for (let round = 0; round < types.length + 1; round++) {
      const challenge = types[t]!;
      log.info("acme: ordering certificate", { names, challenge, directory: config.acme.directoryUrl });
      try {
        const r = await order({
          directoryUrl: config.acme.directoryUrl,
          caPem,
          accountKey: keyFile(paths.accountKey),
          accountUrl: state.accountUrl,
          email: config.acme.email,
          names,
          certKey: keyFile(paths.certKey),
          challenge,
          responder: {
            setHttp: (token, ka) => (ka === null ? httpTokens.delete(token) : httpTokens.set(token, ka)),
            setAlpn: (name, pair) => tls.setAlpnChallenge(name, pair),
          },
          log,
          pollMinMs: o.pollMinMs,
        });
        state.accountUrl = r.accountUrl;
        writeFileAtomic(paths.cert, r.certPem, 0o644);
        if (!loadCert()) return fail("the CA's certificate could not be loaded into the TLS listeners");
        state = { ...state, failures: 0, lastError: null, lastAttemptAt: Date.now() };
        save();
        log.info("acme: certificate installed", { names: sanNames(cert!), notAfter: cert!.validTo, issuer: cert!.issuer.split("\n").join(", ") });
        return { ok: true, message: `certificate issued for ${names.join(", ")}, valid until ${new Date(cert!.validTo).toISOString()}` };
      } catch (e) {
        if (e instanceof AcmeOrderError && e.accountUrl) state.accountUrl = e.accountUrl;
        const message = describeAcmeError(e);
        // A CNAME the admin has not published yet must not keep the host name from its certificate:
        // drop the other names that failed and order again at once.
        const failedNames = e instanceof AcmeOrderError ? e.failedNames : [];
        const dropped = failedNames.filter((n) => n !== config.hostname);
        if (!droppedOnce && dropped.length && !failedNames.includes(config.hostname)) {
          droppedOnce = true;
          for (const n of dropped) excluded.set(n, Date.now() + EXCLUDE_MS);
          log.warn("acme: leaving out names whose validation failed (tried again in a day)", { names: dropped, error: message });
          names = names.filter((n) => !isExcluded(n));
          continue;
        }
        // The host name failed this challenge type: try the next one (auto: TLS-ALPN-01 on 443 after HTTP-01 on 80).
        if (failedNames.includes(config.hostname) && t + 1 < types.length) {
          earlier.push(message);
          log.warn(`acme: ${challenge} failed for the host name; trying ${types[t + 1]}`, { error: message });
          t++;
          continue;
        }
        return fail([...earlier, message].join("; then "));
      }
    }
    return fail(earlier.join("; then ") || "ACME order failed");
  };

  let running: Promise<{ ok: boolean; message: string }> | null = null;
  const run = (): Promise<{ ok: boolean; message: string }> => {
    if (running) return running;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<{ ok: boolean; message: string }>((resolve) => {
      timeout = setTimeout(() => resolve({ ok: false, message: `the ACME order did not finish within ${ATTEMPT_TIMEOUT_MS / 60_000} minutes` }), ATTEMPT_TIMEOUT_MS);
      timeout.unref?.();
    });
    running = Promise.race([attempt(), deadline])
      .catch((e) => ({ ok: false, message: describeAcmeError(e) }))
      .then((r) => {
        clearTimeout(timeout);
        if (!r.ok && r.message.startsWith("the ACME order did not finish")) {
          state = { ...state, failures: state.failures + 1, lastError: r.message, lastAttemptAt: Date.now() };
          save();
        }
        return r;
      })
      .finally(() => {
        running = null;
        schedule();
      });
    return running;
  };

  const nextAt = (): number => {
    const x = cert as X509Certificate | null;
    const base = nextAttemptAt(
      { certNotBefore: x ? Date.parse(x.validFrom) : null, certNotAfter: x ? Date.parse(x.validTo) : null, failures: state.failures, lastAttemptAt: state.lastAttemptAt },
      Date.now(),
    );
    return base;
  };

  let timer: ReturnType<typeof setTimeout> | null = null;
  let stopped = true;
  const schedule = () => {
    if (stopped) return;
    if (timer) clearTimeout(timer);
    const wait = Math.max(0, Math.min(MAX_TIMER_MS, nextAt() - Date.now()));
    timer = setTimeout(async () => {
      timer = null;
      if (stopped) return;
      // A name added since (a new domain) makes the certificate due now, within the failure backoff.
      const x = cert as X509Certificate | null;
      const missing = x ? (await wantedNames()).some((n) => !sanNames(x).includes(n)) : true;
      const due = Date.now() >= nextAt() || (missing && (state.failures === 0 || Date.now() >= nextAt()));
      if (due && !stopped) void run();
      else schedule();
    }, wait);
    timer.unref?.();
  };

  const status = (): CertificateStatus[] => {
    const base = certificateStatusOf(tls.certPem, cert ? "acme" : tls.files.selfSigned ? "self-signed" : "files");
    return [{ ...base, nextRenewalAt: nextAt(), lastError: state.lastError, lastAttemptAt: state.lastAttemptAt }];
  };

  return {
    status,
    renewNow: () => run(),
    httpChallenge: (token: string) => httpTokens.get(token) ?? null,
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
