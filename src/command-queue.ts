/**
 * The command queue of a sans-IO line-protocol session (POP3, ManageSieve): parsed input events wait here and run
 * strictly one after another in arrival order (what RFC 2449 §6.6 PIPELINING asks of a POP3 server, and what
 * RFC 5804 §1.2 implies for ManageSieve's responses), and the backlog is bounded: reading pauses when more than
 * `high` events (or `bytesHigh` weighed octets) wait, and resumes once the backlog is down to `low` (and `bytesLow`).
 */

export interface CommandQueueHooks<E> {
  /** Runs one event; the next one starts only when this one has finished. */
  handle(ev: E): Promise<void>;
  /** Whether the next waiting event may start (false once the session is closed, or in POP3's UPDATE state). */
  canRun(): boolean;
  /** The session has closed: reading is not resumed. */
  closed(): boolean;
  /**
   * After each event, before reading may resume: a promise to wait for (ManageSieve waits for a full output buffer
   * to drain), or nothing to go straight on.
   */
  afterEach?(): Promise<void> | void;
  /** A handler threw: the session answers and closes as its protocol says. */
  failed(err: unknown): void;
  pauseInput(): void;
  resumeInput(): void;
}

export interface CommandQueueLimits<E> {
  /** Events waiting before reading pauses. */
  high: number;
  /** Events waiting at or below which reading resumes. */
  low: number;
  /** The octets an event holds (literals, script uploads); without it only events are counted. */
  weight?(ev: E): number;
  /** Weighed octets waiting before reading pauses, and at or below which it resumes (with `weight`). */
  bytesHigh?: number;
  bytesLow?: number;
}

export class CommandQueue<E> {
  private readonly events: E[] = [];
  private bytes = 0;
  private running = false;
  private pump: Promise<void> | null = null;
  private paused = false;

  constructor(
    private readonly hooks: CommandQueueHooks<E>,
    private readonly limits: CommandQueueLimits<E>,
  ) {}

  /** Queues what the reader parsed from one chunk, pauses reading over the high mark, and starts the pump if idle. */
  push(events: Iterable<E>): void {
    const weight = this.limits.weight;
    for (const ev of events) {
      this.events.push(ev);
      if (weight) this.bytes += weight(ev);
    }
    if (!this.paused && (this.events.length > this.limits.high || this.bytes > (this.limits.bytesHigh ?? Infinity))) {
      this.paused = true;
      this.hooks.pauseInput();
    }
    if (!this.running && this.events.length) this.pump = this.run();
  }

  /** Resolves once every queued event has been handled (tests, orderly shutdown). */
  async whenIdle(): Promise<void> {
    while (this.running && this.pump) await this.pump;
  }

  /** An event is being handled. */
  get busy(): boolean {
    return this.running;
  }

  /** Events received and not yet started. */
  get length(): number {
    return this.events.length;
  }

  /** Forgets every waiting event (close, or input pipelined before a TLS upgrade). */
  clear(): void {
    this.events.length = 0;
    this.bytes = 0;
  }

  private async run(): Promise<void> {
    this.running = true;
    const weight = this.limits.weight;
    try {
      while (this.events.length && this.hooks.canRun()) {
        const ev = this.events.shift()!;
        if (weight) this.bytes -= weight(ev);
        await this.hooks.handle(ev);
        const settle = this.hooks.afterEach?.();
        if (settle) await settle;
        if (
          this.paused &&
          this.events.length <= this.limits.low &&
          this.bytes <= (this.limits.bytesLow ?? Infinity) &&
          !this.hooks.closed()
        ) {
          this.paused = false;
          this.hooks.resumeInput();
        }
      }
    } catch (err) {
      this.hooks.failed(err);
    } finally {
      this.running = false;
    }
  }
}
