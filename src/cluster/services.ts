/**
 * What the server's processes share (PILLARBOX_WORKERS, docs/OPERATIONS.md
 * "Workers"). `pillarbox serve` runs one process per core: the first (the
 * lead) opens and migrates the database, binds every listener and starts the
 * others (workers), which bind the same ports with SO_REUSEPORT, so the kernel
 * spreads new connections over all of them. They share the data dir and the
 * SQLite file (WAL: one writer at a time across processes, storage/db-sqlite.ts).
 *
 * What lives in memory crosses processes through the lead (src/cluster/lead.ts):
 * broadcasts (store events for IDLE and push, auth-throttle records, connection
 * counts, POP3 login times), messages to the lead alone (queue kicks, activity
 * entries) and named locks held by the lead (the POP3 maildrop lock). This file
 * is the protocols' view of it; a single process uses `localCluster()`.
 */

export type ClusterRole = "single" | "lead" | "worker";

/** A broadcast's handler; `from` is the sending process's index (0 = the lead). */
export type ClusterHandler = (data: unknown, from: number) => void;

export interface ClusterServices {
  readonly role: ClusterRole;
  /** This process's index: 0 for the lead (and a single process), 1.. for workers. */
  readonly index: number;
  /**
   * An exclusive lock on `key` across every process of this server: a release
   * function, or null when another session (in any process) holds it. A
   * process that dies loses its locks.
   */
  lock(key: string): Promise<(() => void) | null>;
  /**
   * A number shared by every process, raised atomically: sets `key` to
   * max(current, value) and resolves to the value before (null when the key
   * was never set). `value` null only reads. (IMAP's \Recent floor per
   * mailbox: RFC 3501 §2.3.2 gives a message \Recent in exactly one session,
   * whichever process serves it.)
   */
  claimMax(key: string, value: number | null): Promise<number | null>;
  /** Sends to every other process of the server (not to this one). */
  broadcast(topic: string, data: unknown): void;
  /** Sends to the lead (handled here when this process is the lead). */
  toLead(topic: string, data: unknown): void;
  /** Handles broadcasts and messages to the lead on `topic`. Returns an unsubscribe function. */
  on(topic: string, fn: ClusterHandler): () => void;
  /**
   * Asks the lead and resolves to its handler's answer (handled here when this
   * process is the lead or alone). Rejects when the lead is gone or does not
   * answer in time: callers refuse what they were asked, they never allow it.
   */
  request(topic: string, data: unknown): Promise<unknown>;
  /** The lead's answer to `request` on `topic` (one handler per topic). */
  handle(topic: string, fn: (data: unknown, from: number) => unknown): void;
}

/** Request handlers, in the lead (or a single process). */
export class RequestHandlers {
  private readonly map = new Map<string, (data: unknown, from: number) => unknown>();

  set(topic: string, fn: (data: unknown, from: number) => unknown): void {
    this.map.set(topic, fn);
  }

  answer(topic: string, data: unknown, from: number): unknown {
    const fn = this.map.get(topic);
    if (!fn) throw new Error(`no handler for ${topic}`);
    return fn(data, from);
  }
}

/** Topic handlers, shared by every ClusterServices implementation. */
export class Handlers {
  private readonly map = new Map<string, Set<ClusterHandler>>();

  on(topic: string, fn: ClusterHandler): () => void {
    let set = this.map.get(topic);
    if (!set) this.map.set(topic, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
    };
  }

  dispatch(topic: string, data: unknown, from: number, onError: (topic: string, e: unknown) => void): void {
    const set = this.map.get(topic);
    if (!set) return;
    for (const fn of [...set]) {
      try {
        fn(data, from);
      } catch (e) {
        onError(topic, e);
      }
    }
  }
}

/** Named locks held in one process (the lead's table; a single process's). Owner 0 = this process. */
export class LockTable {
  private readonly owners = new Map<string, number>();

  tryLock(key: string, owner: number): boolean {
    if (this.owners.has(key)) return false;
    this.owners.set(key, owner);
    return true;
  }

  unlock(key: string, owner: number): void {
    if (this.owners.get(key) === owner) this.owners.delete(key);
  }

  /** Every lock of a process that ended. */
  dropOwner(owner: number): number {
    let n = 0;
    for (const [k, o] of this.owners) {
      if (o === owner) {
        this.owners.delete(k);
        n++;
      }
    }
    return n;
  }

  get size(): number {
    return this.owners.size;
  }
}

/** Keys kept by MaxTable: a mailbox unused for long is forgotten first (it then counts all its messages as recent again, as after a restart). */
const MAX_KEYS = 200_000;

/** The values behind ClusterServices.claimMax, in the lead (or a single process). */
export class MaxTable {
  private readonly values = new Map<string, number>();

  claim(key: string, value: number | null): number | null {
    const prev = this.values.get(key);
    if (value === null) return prev ?? null;
    const next = prev === undefined ? value : Math.max(prev, value);
    // re-inserted at the end: the map drops the least recently claimed first
    this.values.delete(key);
    this.values.set(key, next);
    if (this.values.size > MAX_KEYS) this.values.delete(this.values.keys().next().value!);
    return prev ?? null;
  }
}

/** A release function that works once. */
export function releaseOnce(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** One process serving alone (also every in-process test server). */
export function localCluster(): ClusterServices {
  const handlers = new Handlers();
  const locks = new LockTable();
  const maxes = new MaxTable();
  const requests = new RequestHandlers();
  return {
    role: "single",
    index: 0,
    async request(topic, data) {
      return requests.answer(topic, data, 0);
    },
    handle: (topic, fn) => requests.set(topic, fn),
    async claimMax(key, value) {
      return maxes.claim(key, value);
    },
    async lock(key) {
      if (!locks.tryLock(key, 0)) return null;
      return releaseOnce(() => locks.unlock(key, 0));
    },
    broadcast() {},
    toLead(topic, data) {
      handlers.dispatch(topic, data, 0, () => {});
    },
    on: (topic, fn) => handlers.on(topic, fn),
  };
}
