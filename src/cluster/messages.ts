/**
 * Messages between the lead and its workers over the child-process IPC
 * channel (JSON). Only the server's own processes are on the channel; the
 * shapes are still checked, so a bad message is dropped, never a crash.
 */

export type WorkerToLead =
  | { t: "ready" }
  | { t: "b"; topic: string; data: unknown }
  | { t: "l"; topic: string; data: unknown }
  | { t: "lock"; id: number; key: string }
  | { t: "unlock"; key: string }
  | { t: "max"; id: number; key: string; value: number | null }
  | { t: "req"; id: number; topic: string; data: unknown };

export type LeadToWorker =
  | { t: "b"; topic: string; data: unknown; from: number }
  | { t: "lock-r"; id: number; ok: boolean }
  | { t: "max-r"; id: number; prev: number | null }
  | { t: "res"; id: number; ok: boolean; data: unknown };

/** Topics the cluster itself uses (handlers may subscribe to them like any other). */
export const TOPIC = {
  /** A worker ended (data: its index): what it held in memory is gone with it. */
  gone: "cluster.gone",
  /** SIGHUP reached the lead: re-read the configuration. */
  reload: "cluster.reload",
  /** The lead is gone (seen by a worker when the channel closes). */
  leadGone: "cluster.lead-gone",
} as const;

const isObj = (m: unknown): m is Record<string, unknown> => typeof m === "object" && m !== null;

export function parseWorkerMessage(m: unknown): WorkerToLead | null {
  if (!isObj(m) || typeof m.t !== "string") return null;
  switch (m.t) {
    case "ready":
      return { t: "ready" };
    case "b":
    case "l":
      return typeof m.topic === "string" ? { t: m.t, topic: m.topic, data: m.data } : null;
    case "lock":
      return typeof m.id === "number" && typeof m.key === "string" ? { t: "lock", id: m.id, key: m.key } : null;
    case "unlock":
      return typeof m.key === "string" ? { t: "unlock", key: m.key } : null;
    case "req":
      return typeof m.id === "number" && typeof m.topic === "string" ? { t: "req", id: m.id, topic: m.topic, data: m.data } : null;
    case "max":
      return typeof m.id === "number" && typeof m.key === "string" && (m.value === null || typeof m.value === "number") ? { t: "max", id: m.id, key: m.key, value: m.value } : null;
    default:
      return null;
  }
}

export function parseLeadMessage(m: unknown): LeadToWorker | null {
  if (!isObj(m) || typeof m.t !== "string") return null;
  if (m.t === "b" && typeof m.topic === "string" && typeof m.from === "number") return { t: "b", topic: m.topic, data: m.data, from: m.from };
  if (m.t === "lock-r" && typeof m.id === "number" && typeof m.ok === "boolean") return { t: "lock-r", id: m.id, ok: m.ok };
  if (m.t === "res" && typeof m.id === "number" && typeof m.ok === "boolean") return { t: "res", id: m.id, ok: m.ok, data: m.data };
  if (m.t === "max-r" && typeof m.id === "number" && (m.prev === null || typeof m.prev === "number")) return { t: "max-r", id: m.id, prev: m.prev };
  return null;
}
