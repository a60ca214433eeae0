/**
 * The server's limits, held by the lead when several processes serve
 * (src/cluster/services.ts). A limit counted in each process apart would let
 * a client spreading its connections or its password guesses over the
 * workers get N times the allowance, and a burst reaches every process
 * before any could tell the others. So the decisions that reserve something
 * are the lead's, answered in one table:
 *
 * - a worker's new connection asks the lead for admission (per-IP, per-family
 *   and total caps), and tells it when the connection closes;
 * - a worker's login attempt reserves its place in the lead's auth throttle
 *   (per-IP failures and attempts in flight, the per-account delay) and
 *   reports the outcome there.
 *
 * What the lead's throttle records comes back to every worker as a broadcast,
 * into a replica that answers the quick checks made before a login (is this
 * address blocked now?) without a round trip; the login itself asks the lead.
 * A process that dies frees what it held.
 */
import type { AuthThrottle, LocalAuthThrottle, ThrottleRecord, Verdict } from "../auth-throttle.ts";
import type { ConnectionAccounting, ConnectionFamily, Refusal } from "../connection-limits.ts";
import type { ListenerName } from "../registry.ts";
import { TOPIC } from "./messages.ts";
import type { ClusterServices } from "./services.ts";

const T = {
  admit: "limits.admit",
  release: "limits.release",
  check: "limits.auth-check",
  begin: "limits.auth-begin",
  end: "limits.auth-end",
  ipFailed: "limits.ip-failed",
  known: "limits.known",
  records: "limits.auth-records",
} as const;

type Outcome = "succeeded" | "failed" | "abandon";
type AdmitAnswer = { ok: true; family: ConnectionFamily; token: number } | { ok: false; family: ConnectionFamily; reason: Refusal };
type BeginAnswer = { ok: true; token: number } | { ok: false; scope: "ip" | "account"; retryAfterMs: number; busy: boolean };

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const obj = (v: unknown): Record<string, unknown> => (typeof v === "object" && v !== null ? (v as Record<string, unknown>) : {});

/** The lead: answers the workers from its own accounting and throttle. Returns the function that stops it. */
export function serveLimits(cluster: ClusterServices, parts: { connections: ConnectionAccounting; throttle: LocalAuthThrottle }): () => void {
  if (cluster.role !== "lead") return () => {};
  let next = 1;
  const admitted = new Map<number, { from: number; release: () => void }>();
  const attempts = new Map<number, { from: number; attempt: Extract<Verdict, { ok: true }>["attempt"] }>();

  cluster.handle(T.admit, (data, from): AdmitAnswer => {
    const d = obj(data);
    const a = parts.connections.admit(str(d.listener) as ListenerName, str(d.ip));
    if (!a.ok) return { ok: false, family: a.family, reason: a.reason };
    const token = next++;
    admitted.set(token, { from, release: a.release });
    return { ok: true, family: a.family, token };
  });
  const offRelease = cluster.on(T.release, (token, from) => {
    const a = admitted.get(Number(token));
    if (!a || a.from !== from) return;
    admitted.delete(Number(token));
    a.release();
  });

  cluster.handle(T.check, (data) => {
    const d = obj(data);
    return parts.throttle.check(str(d.account), str(d.ip), { trusted: d.trusted === true });
  });
  cluster.handle(T.begin, (data, from): BeginAnswer => {
    const d = obj(data);
    const v = parts.throttle.begin(str(d.account), str(d.ip), { trusted: d.trusted === true });
    if (!v.ok) return { ok: false, scope: v.scope, retryAfterMs: v.retryAfterMs, busy: v.busy };
    const token = next++;
    attempts.set(token, { from, attempt: v.attempt });
    return { ok: true, token };
  });
  const offEnd = cluster.on(T.end, (data, from) => {
    const d = obj(data);
    const a = attempts.get(Number(d.token));
    if (!a || a.from !== from) return;
    attempts.delete(Number(d.token));
    const outcome = d.outcome as Outcome;
    if (outcome === "succeeded") a.attempt.succeeded();
    else if (outcome === "failed") a.attempt.failed();
    else a.attempt.abandon();
  });
  const offIp = cluster.on(T.ipFailed, (ip) => typeof ip === "string" && parts.throttle.ipFailed(ip));
  const offKnown = cluster.on(T.known, (data) => {
    const d = obj(data);
    if (typeof d.account === "string" && typeof d.ip === "string") parts.throttle.noteSuccess(d.account, d.ip);
  });
  // Whatever the throttle records (the lead's own logins and the workers') goes to every worker's replica.
  parts.throttle.observe((r) => cluster.broadcast(T.records, r));

  const offGone = cluster.on(TOPIC.gone, (index) => {
    for (const [token, a] of admitted) {
      if (a.from !== index) continue;
      admitted.delete(token);
      a.release();
    }
    // An attempt whose process died is no guess: it neither counts nor stays in flight.
    for (const [token, a] of attempts) {
      if (a.from !== index) continue;
      attempts.delete(token);
      a.attempt.abandon();
    }
  });
  return () => {
    for (const off of [offRelease, offEnd, offIp, offKnown, offGone]) off();
    parts.throttle.observe(null);
  };
}

/** A worker's connection admission: the lead's answer (refused as "total" when the lead cannot answer). */
export async function admitAtLead(
  cluster: ClusterServices,
  listener: ListenerName,
  ip: string,
  family: ConnectionFamily,
): Promise<{ ok: true; family: ConnectionFamily; release(): void } | { ok: false; family: ConnectionFamily; reason: Refusal }> {
  let a: AdmitAnswer;
  try {
    a = (await cluster.request(T.admit, { listener, ip })) as AdmitAnswer;
  } catch {
    return { ok: false, family, reason: "shutdown" };
  }
  if (!a.ok) return a;
  let released = false;
  return {
    ok: true,
    family: a.family,
    release() {
      if (released) return;
      released = true;
      cluster.toLead(T.release, a.token);
    },
  };
}

/**
 * A worker's throttle: reservations and what they lead to are the lead's; the
 * quick checks read `replica`, which follows the lead's records.
 */
export function workerThrottle(cluster: ClusterServices, replica: LocalAuthThrottle): { throttle: AuthThrottle; stop(): void } {
  let inFlight = 0;
  const off = cluster.on(T.records, (r) => {
    if (r && typeof r === "object" && typeof (r as ThrottleRecord).ip === "string") replica.apply(r as ThrottleRecord);
  });
  const throttle: AuthThrottle = {
    // The lead's answer: a worker started after an address became known (or an account began to
    // be slowed down) has a replica that never saw it.
    async check(account, ip, o = {}) {
      try {
        return (await cluster.request(T.check, { account, ip, trusted: o.trusted === true })) as ReturnType<LocalAuthThrottle["check"]>;
      } catch {
        return { scope: "ip", retryAfterMs: 1000, busy: false };
      }
    },
    ipRetryAfter: (ip) => replica.ipRetryAfter(ip),
    isKnownIp: (account, ip) => replica.isKnownIp(account, ip),
    // Another attempt's end is seen by the lead: look again shortly.
    released: (timeoutMs = 5000) => new Promise<void>((r) => setTimeout(r, Math.min(timeoutMs, 50)).unref?.()),
    ipFailed: (ip) => cluster.toLead(T.ipFailed, ip),
    noteSuccess: (account, ip) => cluster.toLead(T.known, { account, ip }),
    get inFlight() {
      return inFlight;
    },
    observe: () => {},
    apply: (r) => replica.apply(r),
    async begin(account, ip, o = {}): Promise<Verdict> {
      let a: BeginAnswer;
      try {
        a = (await cluster.request(T.begin, { account, ip, trusted: o.trusted === true })) as BeginAnswer;
      } catch {
        // No lead to reserve with: refuse for now (temporary), never check unthrottled.
        return { ok: false, scope: "ip", retryAfterMs: 1000, busy: false };
      }
      if (!a.ok) return { ok: false, scope: a.scope, retryAfterMs: a.retryAfterMs, busy: a.busy };
      inFlight++;
      let done = false;
      const end = (outcome: Outcome) => {
        if (done) return;
        done = true;
        inFlight--;
        cluster.toLead(T.end, { token: a.token, outcome });
      };
      return { ok: true, attempt: { succeeded: () => end("succeeded"), failed: () => end("failed"), abandon: () => end("abandon") } };
    },
  };
  return { throttle, stop: off };
}
