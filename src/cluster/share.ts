/**
 * Connects one process's in-memory state to the server's other processes
 * (src/cluster/services.ts), so that several workers behave as one server:
 *
 * - store events: a message delivered by one worker wakes IDLE, push and
 *   streaming clients connected to the others (the event is published in every
 *   process after the commit, as in one process);
 * - the auth throttle: failures and successes count server-wide;
 * - connection caps: per-IP, per-family and total counts are the server's.
 */
import type { EventBus, StoreEvent } from "../../storage/api.ts";
import type { AuthThrottle, ThrottleRecord } from "../auth-throttle.ts";
import type { ConnectionAccounting, ConnectionDelta } from "../connection-limits.ts";
import type { Logger } from "../log.ts";
import { TOPIC } from "./messages.ts";
import type { ClusterServices } from "./services.ts";

export const TOPICS = {
  storeEvent: "store.event",
  throttle: "auth.throttle",
  connections: "connections",
} as const;

const EVENT_TYPES = new Set(["exists", "flags", "expunge", "folder"]);

export interface SharedParts {
  events: EventBus;
  throttle: AuthThrottle;
  connections: ConnectionAccounting;
  log: Logger;
}

/** Wires the parts to the cluster; returns the function that unwires them. */
export function shareServerState(cluster: ClusterServices, parts: SharedParts): () => void {
  if (cluster.role === "single") return () => {};
  const offs: (() => void)[] = [];

  // Events that came from another process are published here too, but not sent back.
  const remote = new WeakSet<StoreEvent>();
  offs.push(
    parts.events.subscribeAll((e) => {
      if (!remote.has(e)) cluster.broadcast(TOPICS.storeEvent, e);
    }),
  );
  offs.push(
    cluster.on(TOPICS.storeEvent, (data) => {
      const e = data as StoreEvent;
      if (!e || typeof e !== "object" || !EVENT_TYPES.has(e.type) || typeof e.accountId !== "number") return;
      remote.add(e);
      parts.events.publish(e);
    }),
  );

  parts.throttle.observe((r) => cluster.broadcast(TOPICS.throttle, r));
  offs.push(() => parts.throttle.observe(null));
  offs.push(
    cluster.on(TOPICS.throttle, (data) => {
      const r = data as ThrottleRecord;
      if (r && typeof r === "object" && typeof r.ip === "string") parts.throttle.apply(r);
    }),
  );

  // Connection counts change at every connect and close: sent in batches, once per loop turn.
  let pending = new Map<string, ConnectionDelta>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    const out = [...pending.values()].filter((d) => d.delta !== 0);
    pending = new Map();
    if (out.length) cluster.broadcast(TOPICS.connections, out);
  };
  parts.connections.observe((d) => {
    const k = `${d.family}\u0000${d.ip}`;
    const p = pending.get(k);
    if (p) p.delta += d.delta;
    else pending.set(k, { ...d });
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  });
  offs.push(() => parts.connections.observe(null));
  offs.push(
    cluster.on(TOPICS.connections, (data, from) => {
      if (!Array.isArray(data)) return;
      for (const d of data as ConnectionDelta[]) if (d && typeof d.ip === "string" && typeof d.delta === "number") parts.connections.applyPeer(from, d);
    }),
  );
  offs.push(cluster.on(TOPIC.gone, (index) => typeof index === "number" && parts.connections.dropPeer(index)));

  return () => {
    for (const off of offs) off();
  };
}
