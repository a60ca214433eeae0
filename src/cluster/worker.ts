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

export class WorkerCluster implements ClusterServices {
  readonly role = "worker" as const;
  private readonly handlers = new Handlers();
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private readonly pendingMax = new Map<number, (prev: number | null) => void>();
  private readonly pendingReq = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
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
      for (const r of this.pending.values()) r(false);
      this.pending.clear();
      for (const r of this.pendingMax.values()) r(null);
      this.pendingMax.clear();
      for (const r of this.pendingReq.values()) r.reject(new Error("the lead process is gone"));
      this.pendingReq.clear();
      this.handlers.dispatch(TOPIC.leadGone, null, 0, this.onError);
    });
  }

  /** Tells the lead this worker has bound its listeners. */
  ready(): void {
    this.send({ t: "ready" });
  }

  async lock(key: string): Promise<(() => void) | null> {
    if (!this.connected) return null;
    const id = this.nextId++;
    const ok = await new Promise<boolean>((resolve) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        resolve(false);
      }, LOCK_TIMEOUT_MS);
      t.unref?.();
      this.pending.set(id, (v) => {
        clearTimeout(t);
        resolve(v);
      });
      this.send({ t: "lock", id, key });
    });
    if (!ok) return null;
    return releaseOnce(() => this.send({ t: "unlock", key }));
  }

  /** Without the lead (gone, or no answer in time) the answer is null: nothing known, nothing claimed. */
  async claimMax(key: string, value: number | null): Promise<number | null> {
    if (!this.connected) return null;
    const id = this.nextId++;
    return new Promise<number | null>((resolve) => {
      const t = setTimeout(() => {
        this.pendingMax.delete(id);
        resolve(null);
      }, LOCK_TIMEOUT_MS);
      t.unref?.();
      this.pendingMax.set(id, (v) => {
        clearTimeout(t);
        resolve(v);
      });
      this.send({ t: "max", id, key, value });
    });
  }

  request(topic: string, data: unknown): Promise<unknown> {
    if (!this.connected) return Promise.reject(new Error("the lead process is gone"));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const t = setTimeout(() => {
        this.pendingReq.delete(id);
        reject(new Error(`the lead did not answer ${topic}`));
      }, LOCK_TIMEOUT_MS);
      t.unref?.();
      this.pendingReq.set(id, {
        resolve: (v) => {
          clearTimeout(t);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.send({ t: "req", id, topic, data });
    });
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
    if (m.t === "lock-r") {
      const r = this.pending.get(m.id);
      this.pending.delete(m.id);
      r?.(m.ok);
      return;
    }
    if (m.t === "res") {
      const r = this.pendingReq.get(m.id);
      this.pendingReq.delete(m.id);
      if (m.ok) r?.resolve(m.data);
      else r?.reject(new Error(String(m.data)));
      return;
    }
    if (m.t === "max-r") {
      const r = this.pendingMax.get(m.id);
      this.pendingMax.delete(m.id);
      r?.(m.prev);
      return;
    }
    this.handlers.dispatch(m.topic, m.data, m.from, this.onError);
  }
}
