/**
 * In-process event bus (store.events). The store publishes only after the
 * transaction committed, so a listener never sees a change that could still
 * roll back. A multi-node bus can replace this class (ROADMAP step 8).
 */
import type { EventBus, StoreEvent } from "./api.ts";
import type { StoreLogger } from "./api.ts";

export class InProcessEventBus implements EventBus {
  private listeners = new Map<number, Set<(event: StoreEvent) => void>>();
  private any = new Set<(event: StoreEvent) => void>();
  constructor(private log?: StoreLogger) {}

  subscribe(accountId: number, listener: (event: StoreEvent) => void): () => void {
    let set = this.listeners.get(accountId);
    if (!set) {
      set = new Set();
      this.listeners.set(accountId, set);
    }
    set.add(listener);
    return () => {
      const s = this.listeners.get(accountId);
      if (!s) return;
      s.delete(listener);
      if (s.size === 0) this.listeners.delete(accountId);
    };
  }

  /** Every account's events (for a bridge to another node, or metrics). */
  subscribeAll(listener: (event: StoreEvent) => void): () => void {
    this.any.add(listener);
    return () => this.any.delete(listener);
  }

  publish(event: StoreEvent): void {
    const set = this.listeners.get(event.accountId);
    const targets = [...(set ?? []), ...this.any];
    for (const l of targets) {
      try {
        l(event);
      } catch (e) {
        // a faulty listener must not break delivery or other sessions
        this.log?.warn("store event listener failed", { error: e instanceof Error ? e.message : String(e), type: event.type });
      }
    }
  }
}
