/**
 * Store events across the server's processes (src/cluster/services.ts): a
 * message delivered by one worker wakes IDLE, push and streaming clients
 * connected to the others (the event is published in every process after the
 * commit, as in one process). The limits are the lead's: src/cluster/limits.ts.
 */
import type { EventBus, StoreEvent } from "../../storage/api.ts";
import type { ClusterServices } from "./services.ts";

export const TOPICS = {
  storeEvent: "store.event",
} as const;

const EVENT_TYPES = new Set(["exists", "flags", "expunge", "folder"]);

/** Relays the store's events to and from the other processes; returns the function that stops it. */
export function shareStoreEvents(cluster: ClusterServices, events: EventBus): () => void {
  if (cluster.role === "single") return () => {};
  const offs: (() => void)[] = [];

  // Events that came from another process are published here too, but not sent back.
  const remote = new WeakSet<StoreEvent>();
  offs.push(
    events.subscribeAll((e) => {
      if (!remote.has(e)) cluster.broadcast(TOPICS.storeEvent, e);
    }),
  );
  offs.push(
    cluster.on(TOPICS.storeEvent, (data) => {
      const e = data as StoreEvent;
      if (!e || typeof e !== "object" || !EVENT_TYPES.has(e.type) || typeof e.accountId !== "number") return;
      remote.add(e);
      events.publish(e);
    }),
  );

  return () => {
    for (const off of offs) off();
  };
}
