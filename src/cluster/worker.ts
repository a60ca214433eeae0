/**
 * A worker's side of the cluster (src/cluster/services.ts): everything goes
 * through the IPC channel to the lead, which relays broadcasts and holds the
 * locks. When the channel closes the lead is gone: TOPIC.leadGone tells the
 * serve command to stop this worker too (a restarted server starts new ones).
 */
import { parseLeadMessage, TOPIC, type WorkerToLead } from "./messages.ts";
import { Handlers, releaseOnce, type ClusterServices } from "./services.ts";

/** A lock request the lead does not answer in this time counts as refused. */
const LOCK_TIMEOUT_MS = 10_000;

type Answer = { ok: true; value: unknown } | { ok: false; error: string };

export class WorkerCluster implements ClusterServices {
  readonly role = "worker" as const;
  private readonly handlers = new Handlers();
  /** Questions to the lead (locks, claimMax, requests) waiting for their answer, by id. */
  private readonly pending = new Map<number, (a: Answer) => void>();
  private nextId = 1;
  private connected: boolean;

  constructor(
    readonly index: number,
    private readonly onError: (topic: string, e: unknown) => void = () => {},
  ) {
    this.connected = typeof process.send === "function" && process.connected !== false;
    process.on("message", (raw) => this.onMessage(raw));
    process.once("disconnect", () => {
      this.connected = false;
      for (const r of this.pending.values()) r({ ok: false, error: "the lead process is gone" });
      this.pending.clear();
      this.handlers.dispatch(TOPIC.leadGone, null, 0, this.onError);
    });
  }

  /** Tells the lead this worker has bound its listeners. */
  ready(): void {
    this.send({ t: "ready" });
  }

  /** Sends a question to the lead; rejects when the lead is gone or does not answer in time. */
  private ask(build: (id: number) => WorkerToLead, what: string): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error("the lead process is gone"));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the lead did not answer ${what}`));
      }, LOCK_TIMEOUT_MS);
      t.unref?.();
      this.pending.set(id, (a) => {
        clearTimeout(t);
        if (a.ok) resolve(a.value);
        else reject(new Error(a.error));
      });
      this.send(build(id));
    });
  }

  private answer(id: number, a: Answer): void {
    const r = this.pending.get(id);
    this.pending.delete(id);
    r?.(a);
  }

  /** Without an answer from the lead the lock counts as refused. */
  async lock(key: string): Promise<(() => void) | null> {
    const ok = await this.ask((id) => ({ t: "lock", id, key }), "lock").catch(() => false);
    if (ok !== true) return null;
    return releaseOnce(() => this.send({ t: "unlock", key }));
  }

  /** Without the lead (gone, or no answer in time) the answer is null: nothing known, nothing claimed. */
  async claimMax(key: string, value: number | null): Promise<number | null> {
    const prev = await this.ask((id) => ({ t: "max", id, key, value }), "claimMax").catch(() => null);
    return typeof prev === "number" ? prev : null;
  }

  request(topic: string, data: unknown): Promise<unknown> {
    return this.ask((id) => ({ t: "req", id, topic, data }), topic);
  }

  handle(): void {
    throw new Error("requests are answered by the lead");
  }

  broadcast(topic: string, data: unknown): void {
    this.send({ t: "b", topic, data });
  }

  toLead(topic: string, data: unknown): void {
    this.send({ t: "l", topic, data });
  }

  on(topic: string, fn: (data: unknown, from: number) => void): () => void {
    return this.handlers.on(topic, fn);
  }

  private send(m: WorkerToLead): void {
    if (!this.connected || !process.send) return;
    try {
      process.send(m);
    } catch {
      // the channel closed under us: 'disconnect' follows
    }
  }

  private onMessage(raw: unknown): void {
    const m = parseLeadMessage(raw);
    if (!m) return;
    if (m.t === "lock-r") return this.answer(m.id, { ok: true, value: m.ok });
    if (m.t === "max-r") return this.answer(m.id, { ok: true, value: m.prev });
    if (m.t === "res") return this.answer(m.id, m.ok ? { ok: true, value: m.data } : { ok: false, error: String(m.data) });
    this.handlers.dispatch(m.topic, m.data, m.from, this.onError);
  }
}
