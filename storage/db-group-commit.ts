/**
 * Group commit, shared by every engine's Db (storage/db-sqlite.ts,
 * storage/db-libsql-remote.ts, storage/pg-db.ts): writes are serialized
 * in-process and every `write()` queued while a transaction runs joins the
 * next one, each job in its own SAVEPOINT so one failing job does not undo
 * the others. Every job resolves only after the COMMIT that contains it.
 */
import type { Queryable, Row, RunResult, SqlValue } from "./db.ts";

interface Job {
  fn: (tx: Queryable) => Promise<unknown>;
  durable: boolean;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

/** Group commit over any engine's transactions (exported for storage/pg-db.ts). */
export abstract class GroupCommitter {
  private queue: Job[] = [];
  private running = false;
  private scheduled = false;
  protected closed = false;
  constructor(private maxGroup: number) {}

  write<T>(fn: (tx: Queryable) => Promise<T>, opts?: { durable?: boolean }): Promise<T> {
    if (this.closed) return Promise.reject(new Error("database is closed"));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, durable: opts?.durable !== false, resolve: resolve as (v: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule() {
    if (this.running || this.scheduled) return;
    this.scheduled = true;
    // setImmediate: let I/O completions of the same loop turn (other deliveries
    // whose blob fsync just finished) queue up and share this commit.
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const jobs = this.queue.splice(0, this.maxGroup);
        await this.runGroup(jobs);
      }
    } finally {
      this.running = false;
      if (this.queue.length > 0) this.schedule();
    }
  }

  private async runGroup(jobs: Job[]) {
    let tx: Queryable;
    try {
      tx = await this.begin(jobs.some((j) => j.durable));
    } catch (e) {
      for (const j of jobs) j.reject(e);
      return;
    }
    const outcomes: { ok: boolean; value: unknown }[] = [];
    const single = jobs.length === 1;
    for (const job of jobs) {
      if (single) {
        try {
          outcomes.push({ ok: true, value: await job.fn(tx) });
        } catch (e) {
          outcomes.push({ ok: false, value: e });
        }
        continue;
      }
      try {
        await tx.run("SAVEPOINT job");
      } catch (e) {
        outcomes.push({ ok: false, value: e });
        continue;
      }
      try {
        const value = await job.fn(tx);
        await tx.run("RELEASE job");
        outcomes.push({ ok: true, value });
      } catch (e) {
        try {
          await tx.run("ROLLBACK TO job");
          await tx.run("RELEASE job");
        } catch {
          // the transaction itself is gone; COMMIT below will fail and reject all
        }
        outcomes.push({ ok: false, value: e });
      }
    }
    if (single && !outcomes[0].ok) {
      await this.rollback();
      jobs[0].reject(outcomes[0].value);
      return;
    }
    try {
      await this.commit();
    } catch (e) {
      await this.rollback();
      for (let i = 0; i < jobs.length; i++) {
        if (outcomes[i].ok) jobs[i].reject(e);
        else jobs[i].reject(outcomes[i].value);
      }
      return;
    }
    const settle = () => {
      for (let i = 0; i < jobs.length; i++) {
        if (outcomes[i].ok) jobs[i].resolve(outcomes[i].value);
        else jobs[i].reject(outcomes[i].value);
      }
    };
    const barrier = jobs.some((j, i) => j.durable && outcomes[i].ok) ? this.durableBarrier() : null;
    if (!barrier) return settle();
    // Not awaited: the next group may run while this one's fsync is in flight;
    // its jobs are answered only when the data is on disk.
    barrier.then(settle, (e) => {
      // Committed but not known to be durable: the caller must not acknowledge.
      for (const j of jobs) j.reject(e);
    });
  }

  /** Resolves once every commit made so far is on stable storage (null/none: commit itself was durable). */
  protected durableBarrier(): Promise<void> | null {
    return null;
  }

  /** Where reads outside a transaction go (a reader connection or pool). */
  protected abstract readonly reads: Queryable;

  all<T = Row>(sql: string, args?: SqlValue[]): Promise<T[]> {
    return this.reads.all<T>(sql, args);
  }
  raw(sql: string, args?: SqlValue[]): Promise<unknown[][]> {
    return this.reads.raw(sql, args);
  }
  get<T = Row>(sql: string, args?: SqlValue[]): Promise<T | undefined> {
    return this.reads.get<T>(sql, args);
  }
  /** A lone statement outside write(): still serialized with the writer. */
  run(sql: string, args?: SqlValue[]): Promise<RunResult> {
    return this.write((tx) => tx.run(sql, args));
  }

  /** Starts the group's transaction; `durable` is false when no job in it asked for durability. */
  protected abstract begin(durable: boolean): Promise<Queryable>;
  protected abstract commit(): Promise<void>;
  protected abstract rollback(): Promise<void>;

  /** A write job is queued or running (a checkpoint now would only slow it). */
  protected busyWriting(): boolean {
    return this.running || this.scheduled || this.queue.length > 0;
  }

  protected async waitIdle() {
    while (this.running || this.scheduled || this.queue.length > 0) await new Promise((r) => setTimeout(r, 5));
  }
}
