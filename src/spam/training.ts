/**
 * The spam trainer (issue 19): users teach the filter by what they do with
 * their mail, over any protocol, because it listens to the store rather than
 * to IMAP, ActiveSync or the webmail:
 *  - a message copied or moved into the account's Junk folder (special use
 *    \Junk, RFC 6154 §2) from a folder that is not Junk → spam;
 *  - a message copied or moved out of Junk into a folder that is neither
 *    Junk nor Trash → ham (moving junk to the Trash is not a verdict);
 *  - the keywords a client sets to say the same without moving (IANA IMAP
 *    keywords `$Junk` / `$NotJunk`, RFC 5788 registry; Thunderbird's `Junk` /
 *    `NonJunk`) → spam / ham.
 * Deliveries and appends never train. Training goes through
 * `spam.train(accountId, raw, as)` (SpamService: the Bayes models and the
 * sender reputation), which is idempotent per message, so a message that is
 * both flagged and moved is counted once.
 *
 * The work is a bounded queue processed one message at a time after the
 * event (never inside the protocol command that caused it): a user moving
 * 20,000 messages costs at most `maxQueue` queued ids; the excess is dropped
 * with one log line per overflow. Errors are logged, never thrown.
 */
import type { MailStore, StoreEvent, SpecialUse } from "../../storage/api.ts";
import type { SpamService } from "./types.ts";
import type { Logger } from "../log.ts";

export interface TrainerDeps {
  store: Pick<MailStore, "events" | "getFolderById" | "readMessage" | "getMessageById">;
  spam: Pick<SpamService, "train">;
  log: Logger;
  /** Most messages waiting to be trained (default 2,000). */
  maxQueue?: number;
  /** Read at each event: false (spam.enabled off, e.g. after a reload) means ignore it. Default: always on. */
  enabled?: () => boolean;
}

interface Job {
  accountId: number;
  id: number;
  as: "spam" | "ham";
}

const JUNK_KEYWORDS = new Set(["$junk", "junk"]);
const NOT_JUNK_KEYWORDS = new Set(["$notjunk", "nonjunk", "notjunk"]);
/**
 * How many messages' keyword verdicts are remembered, so that a flags event
 * trains only when the junk keywords changed: changing \Seen on a message
 * that still carries an old $Junk after it was moved out of Junk must not
 * train it as spam again.
 */
const FLAG_MEMORY = 10_000;

/** What a set of flags says about a message: spam, ham, or nothing (neither or both). */
export function flagVerdict(flags: readonly string[]): "spam" | "ham" | null {
  let junk = false;
  let notJunk = false;
  for (const f of flags) {
    const k = f.toLowerCase();
    if (JUNK_KEYWORDS.has(k)) junk = true;
    else if (NOT_JUNK_KEYWORDS.has(k)) notJunk = true;
  }
  if (junk === notJunk) return null;
  return junk ? "spam" : "ham";
}

/** What a copy or move from one folder to another says: into Junk → spam, out of Junk (not to Trash) → ham. */
export function moveVerdict(from: SpecialUse | null, to: SpecialUse | null): "spam" | "ham" | null {
  const fromJunk = from === "\\Junk";
  const toJunk = to === "\\Junk";
  if (toJunk && !fromJunk) return "spam";
  if (fromJunk && !toJunk && to !== "\\Trash") return "ham";
  return null;
}

export class SpamTrainer {
  private queue: Job[] = [];
  private queued = new Set<string>();
  private flagMemory = new Map<number, "spam" | "ham" | null>();
  private unsubscribe: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private dropped = 0;
  private stopped = false;
  private readonly maxQueue: number;
  /** Messages trained and failures since start (tests and metrics). */
  readonly stats = { trained: 0, failed: 0, dropped: 0 };
  /** Events whose folders are still being looked up (they may add jobs). */
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly deps: TrainerDeps) {
    this.maxQueue = Math.max(1, deps.maxQueue ?? 2000);
  }

  start(): this {
    if (this.unsubscribe || this.stopped) return this;
    this.unsubscribe = this.deps.store.events.subscribeAll((e) => this.onEvent(e));
    return this;
  }

  /** Stops listening, drops what is queued, and waits for the message in hand. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.queue = [];
    this.queued.clear();
    await this.running;
    this.wakeIdle();
  }

  /** Resolves once nothing is queued or in hand (tests: wait for state, not for time). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.pending === 0 && this.queue.length === 0 && this.running === null;
  }

  private wakeIdle(): void {
    if (!this.isIdle() && !this.stopped) return;
    const w = this.idleWaiters;
    this.idleWaiters = [];
    for (const r of w) r();
  }

  private onEvent(e: StoreEvent): void {
    if (this.stopped || (this.deps.enabled && !this.deps.enabled())) return;
    if (e.type === "exists") {
      if ((e.via !== "copy" && e.via !== "move") || e.fromFolderId === undefined) return;
      this.pending++;
      this.classifyMove(e.accountId, e.id, e.fromFolderId, e.folderId)
        .catch((err: unknown) => this.deps.log.warn("spam trainer: folder lookup failed", { accountId: e.accountId, error: err instanceof Error ? err.message : String(err) }))
        .finally(() => {
          this.pending--;
          this.kick();
        });
    } else if (e.type === "flags") {
      for (const u of e.updates.slice(0, this.maxQueue * 2)) {
        const v = flagVerdict(u.flags);
        // unchanged junk keywords (another flag changed): no new verdict
        if (this.flagMemory.has(u.id) && this.flagMemory.get(u.id) === v) continue;
        this.remember(u.id, v);
        if (v) this.enqueue({ accountId: e.accountId, id: u.id, as: v });
      }
      this.kick();
    }
  }

  private remember(id: number, v: "spam" | "ham" | null): void {
    this.flagMemory.delete(id);
    this.flagMemory.set(id, v);
    if (this.flagMemory.size > FLAG_MEMORY) {
      const oldest = this.flagMemory.keys().next().value;
      if (oldest !== undefined) this.flagMemory.delete(oldest);
    }
  }

  private async classifyMove(accountId: number, id: number, fromFolderId: number, toFolderId: number): Promise<void> {
    const [from, to] = await Promise.all([this.deps.store.getFolderById(fromFolderId), this.deps.store.getFolderById(toFolderId)]);
    // a folder deleted in between: the source is gone, read it as an ordinary folder
    if (!to || to.accountId !== accountId) return;
    const v = moveVerdict(from && from.accountId === accountId ? from.specialUse : null, to.specialUse);
    if (v) this.enqueue({ accountId, id, as: v });
  }

  private enqueue(job: Job): void {
    if (this.stopped) return;
    const key = `${job.accountId}:${job.id}:${job.as}`;
    if (this.queued.has(key)) return;
    if (this.queue.length >= this.maxQueue) {
      if (this.dropped === 0) this.deps.log.warn("spam trainer: queue full, further messages of this burst are not trained", { maxQueue: this.maxQueue, accountId: job.accountId });
      this.dropped++;
      this.stats.dropped++;
      return;
    }
    this.queue.push(job);
    this.queued.add(key);
  }

  private kick(): void {
    if (this.running || this.stopped) {
      this.wakeIdle();
      return;
    }
    if (this.queue.length === 0) {
      this.wakeIdle();
      return;
    }
    this.running = this.drain().finally(() => {
      this.running = null;
      if (this.queue.length > 0 && !this.stopped) this.kick();
      else this.wakeIdle();
    });
  }

  private async drain(): Promise<void> {
    // yield first: the protocol command that caused the events answers before any training work
    await new Promise<void>((r) => setImmediate(r));
    while (!this.stopped && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      this.queued.delete(`${job.accountId}:${job.id}:${job.as}`);
      try {
        const raw = await this.deps.store.readMessage(job.id);
        await this.deps.spam.train(job.accountId, raw, job.as);
        // the keywords it carries now are part of this verdict: only a later change of them is a new one
        if (!this.flagMemory.has(job.id)) {
          const m = await this.deps.store.getMessageById(job.id);
          if (m) this.remember(job.id, flagVerdict(m.flags));
        }
        this.stats.trained++;
      } catch (err) {
        // the message may have been expunged since (a MOVE's source, a quick delete): nothing to learn
        this.stats.failed++;
        this.deps.log.debug("spam trainer: message not trained", { accountId: job.accountId, id: job.id, as: job.as, error: err instanceof Error ? err.message : String(err) });
      }
    }
    if (this.queue.length === 0 && this.dropped > 0) {
      this.deps.log.info("spam trainer: queue drained after an overflow", { dropped: this.dropped });
      this.dropped = 0;
    }
  }
}

/** Starts the trainer on the store's events (src/server.ts; stopped on shutdown). */
export function startSpamTrainer(deps: TrainerDeps): SpamTrainer {
  return new SpamTrainer(deps).start();
}
