/**
 * The outbound queue worker. Entries live in the store (durable across
 * restarts); a worker claims due entries with a lock that expires, so a
 * crashed worker's entries are picked up again. Per entry, pending
 * recipients are grouped by domain and delivered to the domain's MX hosts
 * (RFC 5321 §5.1), at most `perDomainConcurrency` connections per domain.
 *
 *  - 2xx: recipient done.
 *  - 5xx (or a permanent DNS answer): recipient failed, DSN to the sender.
 *  - 4xx / connection trouble: retried with exponential backoff until
 *    `lifetimeSeconds`, then failed with a DSN (RFC 5321 §4.5.4.1).
 *
 * `pillarbox queue flush|retry` set nextAttemptAt in the database; the
 * worker polls every `pollMs` so those take effect within seconds.
 */
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { MailStore, QueueEntry } from "../../storage/api.ts";
import { ConnectionError, deliverToHost, formatSmtpReply, type OutboundRecipient, type RecipientResult } from "./client.ts";
import { createDns, DnsError, lookupAddresses, lookupMx, type Dns } from "./dns.ts";
import { buildDsn, type DsnRecipient } from "./dsn.ts";
import { onwardDsn, reportPolicy, type ReturnContent } from "./dsn-policy.ts";
import { deliverMessage, resolveRecipients } from "./pipeline.ts";
import type { DeliveryFilter } from "./filter-types.ts";

const LOCK_MS = 15 * 60_000;
const MAX_PARALLEL_ENTRIES = 16;

/** Retry schedule: 1, 2, 4 ... minutes, at most one hour apart, with ±10% jitter. */
export function backoffBaseMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export function backoffMs(attempts: number): number {
  return Math.round(backoffBaseMs(attempts) * (0.9 + Math.random() * 0.2));
}

type Recipient = QueueEntry["recipients"][number];

class Semaphore {
  private active = 0;
  private waiters: (() => void)[] = [];
  constructor(private readonly max: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.max) await new Promise<void>((r) => this.waiters.push(r));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiters.shift()?.();
    }
  }
  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }
}

export class QueueWorker {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  private running = new Set<Promise<void>>();
  private polling: Promise<void> | null = null;
  private again = false;
  private readonly pollMs: number;
  private readonly perDomain = new Map<string, Semaphore>();
  private dnsFor: { key: string; dns: Dns };
  /** Sieve runs for the delivery reports filed locally too (issue 19). */
  private readonly filter: () => DeliveryFilter | null;

  constructor(
    private readonly store: MailStore,
    private readonly config: Config,
    private readonly log: Logger,
    opts: { pollMs?: number; filter?: () => DeliveryFilter | null } = {},
  ) {
    this.pollMs = opts.pollMs ?? 2000;
    this.filter = opts.filter ?? (() => null);
    this.dnsFor = { key: config.queue.dnsServers.join(","), dns: createDns(config.queue.dnsServers) };
  }

  /** The resolver for the configured DNS servers; a new one after a live config reload changed them (SIGHUP). */
  private get dns(): Dns {
    const key = this.config.queue.dnsServers.join(",");
    if (key !== this.dnsFor.key) this.dnsFor = { key, dns: createDns(this.config.queue.dnsServers) };
    return this.dnsFor.dns;
  }

  start(): void {
    this.schedule(0);
  }

  kick(): void {
    if (this.stopped) return;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.polling) await this.polling.catch(() => undefined);
    // In-flight deliveries finish (their results are recorded); the server's deadline bounds this.
    await Promise.all([...this.running]);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.polling) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = this.poll().finally(() => {
        this.polling = null;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        } else this.schedule(this.pollMs);
      });
    }, ms);
    this.timer.unref?.();
  }

  private async poll(): Promise<void> {
    if (this.stopped) return;
    const room = MAX_PARALLEL_ENTRIES - this.running.size;
    if (room <= 0) return;
    let entries: QueueEntry[];
    try {
      entries = await this.store.claimDueQueueEntries(Date.now(), room, LOCK_MS);
    } catch (e) {
      if (!this.stopped) this.log.error("queue claim failed", { error: e as Error });
      return;
    }
    for (const entry of entries) {
      const p = this.process(entry)
        .catch((e: Error) => this.log.error("queue entry failed", { id: entry.id, error: e }))
        .finally(() => {
          this.running.delete(p);
          // A slot is free: look for more due work.
          if (entries.length === room) this.kick();
        });
      this.running.add(p);
    }
  }

  private semaphore(domain: string): Semaphore {
    let s = this.perDomain.get(domain);
    if (!s) {
      s = new Semaphore(Math.max(1, this.config.queue.perDomainConcurrency));
      this.perDomain.set(domain, s);
    }
    return s;
  }

  /** One attempt at every pending recipient of an entry. */
  async process(entry: QueueEntry): Promise<void> {
    const now = Date.now();
    const recipients: Recipient[] = entry.recipients.map((r) => ({ ...r }));
    const pending = recipients.filter((r) => r.status === "pending");
    const byDomain = new Map<string, Recipient[]>();
    for (const r of pending) {
      const d = r.address.slice(r.address.lastIndexOf("@") + 1).toLowerCase();
      const list = byDomain.get(d) ?? [];
      list.push(r);
      byDomain.set(d, list);
    }
    let raw: Uint8Array | null = null;
    try {
      raw = await this.store.blobs.get(entry.blobId);
    } catch (e) {
      this.log.error("queue blob missing", { id: entry.id, blob: entry.blobId, error: e as Error });
    }
    const newlyFailed: DsnRecipient[] = [];
    const relayed: DsnRecipient[] = [];
    // Success and delay reports only to a verified sender; failure reports to everyone, headers only
    // unless verified (./dsn-policy.ts: no backscatter with content to forged senders).
    const policy = reportPolicy(entry);
    let lastError: string | null = null;
    // One "outbound attempt" line per recipient tried (issue 18 item 4), written once the outcome is final below.
    const attempted: { address: string; domain: string; mx: string | null; ip: string | null; code: number; status: string | null; reason: string }[] = [];

    await Promise.all(
      [...byDomain].map(async ([domain, rcpts]) => {
        const sem = this.semaphore(domain);
        const results: RecipientResult[] = raw
          ? await sem.run(() => this.deliverDomain(entry, domain, rcpts, raw!)).finally(() => {
              if (sem.idle) this.perDomain.delete(domain);
            })
          : rcpts.map((r) => ({ address: r.address, status: "temp" as const, reply: { code: 451, enhanced: "4.3.0", text: "message body missing from storage" } }));
        for (const res of results) {
          const r = rcpts.find((x) => x.address === res.address)!;
          const text = formatSmtpReply(res.reply);
          const via = res as { mx?: string; ip?: string };
          attempted.push({ address: r.address, domain, mx: via.mx ?? null, ip: via.ip ?? null, code: res.reply.code, status: res.reply.enhanced ?? null, reason: res.reply.text });
          if (res.status === "sent") {
            r.status = "sent";
            delete r.lastError;
            const notify = r.dsn?.notify;
            if (policy.successAndDelay && notify?.includes("SUCCESS") && !(res as RecipientResult & { remoteDsn?: boolean }).remoteDsn) {
              relayed.push({ address: r.address, action: "relayed", status: "2.0.0", orcpt: r.dsn?.orcpt, diagnostic: text });
            }
          } else if (res.status === "perm") {
            r.status = "failed";
            r.lastError = text;
            newlyFailed.push({ address: r.address, action: "failed", status: res.reply.enhanced ?? "5.0.0", diagnostic: text, remoteMta: (res as { mx?: string }).mx, orcpt: r.dsn?.orcpt });
          } else {
            r.lastError = text;
            lastError = `${r.address}: ${text}`;
          }
        }
        // Record progress per domain, so a crash does not resend to domains already done.
        await this.store.updateQueueEntry(entry.id, { recipients: recipients, lockedUntil: Date.now() + LOCK_MS });
      }),
    );

    const stillPending = recipients.filter((r) => r.status === "pending");
    const expired = now - entry.createdAt >= this.config.queue.lifetimeSeconds * 1000;
    if (stillPending.length && expired) {
      // RFC 5321 §4.5.4.1: give up after the retry lifetime; the sender gets a failure report.
      for (const r of stillPending) {
        r.status = "failed";
        const why = r.lastError ?? "no answer";
        r.lastError = `expired: ${why}`;
        newlyFailed.push({ address: r.address, action: "failed", status: "4.4.7", diagnostic: `delivery time expired; last error: ${why}`, orcpt: r.dsn?.orcpt });
      }
    }

    for (const a of attempted) {
      const r = recipients.find((x) => x.address === a.address);
      const result = r?.status === "sent" ? "delivered" : r?.status === "failed" ? "bounced" : "deferred";
      const line = { kind: "outbound", id: entry.id, from: entry.sender, rcpt: a.address, domain: a.domain, mx: a.mx, ip: a.ip, result, code: a.code, status: a.status, reason: result === "bounced" ? (r?.lastError ?? a.reason) : a.reason, attempt: entry.attempts + 1 };
      if (result === "delivered") this.log.info("outbound attempt", line);
      else this.log.warn("outbound attempt", line);
    }

    if (raw) {
      const wantFailure = newlyFailed.filter((f) => wants(recipients, f.address, "FAILURE"));
      if (wantFailure.length) await this.report(entry, raw, wantFailure, policy.failureReturn);
      if (relayed.length) await this.report(entry, raw, relayed, "HDRS");
    }

    const remaining = recipients.filter((r) => r.status === "pending");
    if (remaining.length === 0) {
      await this.store.removeQueueEntry(entry.id);
      this.log.info("queue entry done", { id: entry.id, sent: recipients.filter((r) => r.status === "sent").length, failed: recipients.filter((r) => r.status === "failed").length });
      return;
    }
    const attempts = entry.attempts + 1;
    const delay = backoffMs(attempts);
    // Optional delay warning (RFC 3464 Action: delayed), once: on the attempt that crosses the threshold.
    const warnAfter = this.config.queue.delayWarningSeconds * 1000;
    const age = now - entry.createdAt;
    // The previous attempt was at most one (jittered) backoff interval ago.
    const prevAge = age - backoffBaseMs(entry.attempts) * 1.1;
    if (raw && policy.successAndDelay && warnAfter > 0 && entry.attempts > 0 && age >= warnAfter && prevAge < warnAfter) {
      const delayed = remaining
        .filter((r) => wants(recipients, r.address, "DELAY"))
        .map((r) => ({ address: r.address, action: "delayed" as const, status: "4.4.1", diagnostic: r.lastError, orcpt: r.dsn?.orcpt }));
      if (delayed.length) await this.report(entry, raw, delayed, "HDRS");
    }
    await this.store.updateQueueEntry(entry.id, {
      recipients,
      attempts,
      nextAttemptAt: Date.now() + delay,
      lastError,
      lockedUntil: null,
    });
    this.log.info("queue entry deferred", { id: entry.id, attempts, retryInMs: delay, lastError });
  }

  /** Tries the domain's MX hosts in order until one takes the transaction. */
  private async deliverDomain(entry: QueueEntry, domain: string, rcpts: Recipient[], raw: Uint8Array): Promise<(RecipientResult & { mx?: string; ip?: string; remoteDsn?: boolean })[]> {
    const fail = (status: "temp" | "perm", code: number, enhanced: string, text: string) =>
      rcpts.map((r) => ({ address: r.address, status, reply: { code, enhanced, text } }));
    let mxs;
    try {
      mxs = await lookupMx(this.dns, domain);
    } catch (e) {
      if (e instanceof DnsError) return fail(e.permanent ? "perm" : "temp", e.permanent ? 550 : 451, e.permanent ? "5.1.2" : "4.4.3", e.message);
      throw e;
    }
    const me = this.config.hostname.toLowerCase();
    // A 5xx greeting from every host is still retried: it is often a temporary block list entry.
    let lastTemp: string = "no MX host could be reached";
    // A DSN-capable next hop reports in our stead: pass on only what this sender may get (./dsn-policy.ts).
    const policy = reportPolicy(entry);
    const out: OutboundRecipient[] = rcpts.map((r) => ({ address: r.address, notify: onwardDsn(policy, entry, r.dsn?.notify).notify, orcpt: r.dsn?.orcpt }));
    const onward = onwardDsn(policy, entry, undefined);
    const dsn = onward.ret || onward.envid ? { ret: onward.ret, envid: onward.envid } : null;
    for (const mx of mxs) {
      if (mx.host.toLowerCase() === me) {
        // RFC 5321 §5.1: an MX list naming ourselves means we are a backup MX or misconfigured: never loop.
        return fail("perm", 554, "5.4.6", `mail for ${domain} loops back to myself`);
      }
      const { addresses, temporary } = await lookupAddresses(this.dns, mx.host);
      if (addresses.length === 0) {
        lastTemp = temporary ? `cannot resolve MX host ${mx.host}` : `MX host ${mx.host} has no address`;
        continue;
      }
      for (const ip of addresses) {
        try {
          const res = await deliverToHost(
            { host: ip, port: this.config.queue.remotePort, mxName: mx.host, helo: this.config.hostname },
            { sender: entry.sender, recipients: out, raw, dsn },
          );
          this.log.info("delivery attempt", { id: entry.id, domain, mx: mx.host, ip, tls: res.tls, results: res.results.map((r) => `${r.address}=${r.status}`).join(" ") });
          return res.results.map((r) => ({ ...r, mx: mx.host, ip, remoteDsn: res.dsn }));
        } catch (e) {
          const err = e as ConnectionError;
          lastTemp = `${mx.host}[${ip}]: ${err.message}`;
          this.log.info("delivery attempt failed", { id: entry.id, domain, mx: mx.host, ip, error: err.message });
        }
      }
    }
    return fail("temp", 451, "4.4.1", lastTemp);
  }

  /**
   * Sends a DSN to the entry's sender: into their INBOX when local, else through the queue. Never for
   * bounces. `ret`: what of the original it returns, as decided by ./dsn-policy.ts.
   */
  private async report(entry: QueueEntry, raw: Uint8Array, recipients: DsnRecipient[], ret: ReturnContent): Promise<void> {
    if (!entry.sender) return; // RFC 3461 §6.2 / RFC 5321 §4.5.5: never report on a report
    const dsn = buildDsn({
      reportingMta: this.config.hostname,
      to: entry.sender,
      arrivalDate: new Date(entry.createdAt),
      envid: entry.dsn?.envid ?? null,
      ret,
      recipients,
      original: raw,
    });
    try {
      // The one delivery pipeline (./pipeline.ts): the sender's mailboxes and, for a remote or
      // forwarding sender, one queue entry, committed together. Reports go out with the null
      // reverse-path (RFC 5321 §4.5.5), so nothing answers them.
      const target = await resolveRecipients(this.store, [entry.sender]);
      if (target.recipients.length === 0) {
        this.log.warn("DSN dropped: sender unknown", { id: entry.id, sender: entry.sender });
        return;
      }
      await deliverMessage({ store: this.store, log: this.log, kick: () => this.kick(), filter: this.filter() }, { raw: dsn, envelopeFrom: "", recipients: target.recipients });
      this.log.info("DSN sent", { id: entry.id, to: entry.sender, action: recipients[0]?.action, count: recipients.length });
    } catch (e) {
      this.log.error("DSN delivery failed", { id: entry.id, error: e as Error });
    }
  }
}

/** RFC 3461 §4.1: without NOTIFY, failures and delays are reported; NOTIFY=NEVER reports nothing. */
function wants(all: Recipient[], address: string, what: "FAILURE" | "DELAY"): boolean {
  const r = all.find((x) => x.address === address);
  const notify = r?.dsn?.notify;
  if (!notify || notify.length === 0) return true;
  return notify.includes(what);
}
