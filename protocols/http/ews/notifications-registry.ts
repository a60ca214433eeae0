/**
 * The subscriptions of this process (MS-OXWSNTIF §3.1.1: a subscription
 * lives on the server that made it; ours live in memory and end with the
 * process, which clients handle as ErrorSubscriptionNotFound and subscribe
 * again).
 *
 * One listener per account on the store's event bus (storage/api.ts
 * EventBus; the store publishes after commit) fans each change out to that
 * account's subscriptions: a subscription holds no closure and no copy of
 * the store's data, only its filter and a bounded queue of flat event
 * records (notifications-events.ts). That is what keeps an open streaming
 * subscription to a few hundred bytes.
 *
 * Bounds: subscriptions per account and in all, events waiting per
 * subscription (overflow empties the queue and the next read answers
 * ErrorMissedNotificationEvents, MS-OXWSNTIF §3.1.4.2.3.1), and expiry
 * (a pull subscription not read within its Timeout, a streaming one without
 * a connection for 30 minutes).
 */
import { randomBytes } from "node:crypto";
import type { MailStore, StoreEvent } from "../../../storage/api.ts";
import { EwsError } from "./context.ts";
import { eventBit, type EwsEvent, type Watermark } from "./notifications-events.ts";
import { mapStoreEvents, type FolderFacts, type FolderInfo } from "./notifications-mapping.ts";

export const LIMITS = {
  /** Exchange's default EwsMaxSubscriptions throttling value. */
  perAccount: 20,
  total: 20_000,
  /** Events waiting for one subscription before it reports missed events. */
  queue: 500,
  /** Events in one GetEvents answer or one streamed notification (the rest: MoreEvents). */
  perResponse: 100,
  /** A streaming subscription with no connection expires after this long (MS-OXWSNTIF §3.1.4.4: 30 minutes). */
  streamingIdleMs: 30 * 60_000,
  /** Store events waiting to be mapped for one account before its subscriptions are told they missed some. */
  pending: 20_000,
};

/** A streaming connection a subscription is delivered on (notifications-stream.ts). */
export interface StreamSink {
  /** Events (or a missed-events state) wait for this subscription. */
  wake(): void;
  /** Another connection took the subscription over, or it was removed. */
  detach(sub: Subscription, code: string): void;
}

export interface Subscription {
  id: string;
  accountId: number;
  /** The account's listener on its store (several servers in one process, as in tests, keep apart). */
  hub: AccountHub;
  streaming: boolean;
  /** EventTypes as bits (notifications-events.ts eventBit). */
  mask: number;
  /** Store folder ids subscribed to; null = every folder (SubscribeToAllFolders). */
  folders: Set<number> | null;
  /** Subscribed to the root or the IPM subtree: events of top-level folders. */
  root: boolean;
  queue: EwsEvent[];
  /** The last sequence number given to an event; `mark` is where the client is (pull: its last watermark). */
  seq: number;
  mark: Watermark;
  /** The newest account change number seen (the watermark of a StatusEvent). */
  modseq: number;
  missed: boolean;
  /**
   * Pull: the last GetEvents (the watermark's seq it gave, the last seq sent,
   * whether MoreEvents was true), so a client that pages with the same
   * watermark (exchangelib's get_events loop) gets the next page.
   */
  lastAsk: { from: number; sent: number; more: boolean } | null;
  /** Pull: the Timeout in ms, renewed by every GetEvents. */
  timeoutMs: number;
  expiresAt: number;
  sink: StreamSink | null;
}


/** One account's listener and the folder facts its events need (class, parent). */
export class AccountHub {
  readonly subs = new Set<Subscription>();
  /** Streaming connections open on this account's subscriptions (notifications-stream.ts). */
  connections = 0;
  private readonly folders = new Map<number, FolderInfo>();
  private pending: StoreEvent[] = [];
  private draining = false;
  private readonly off: () => void;

  constructor(
    readonly store: MailStore,
    readonly accountId: number,
  ) {
    this.off = store.events.subscribe(accountId, (e) => this.onEvent(e));
  }

  close(): void {
    this.off();
    this.pending = [];
  }

  private onEvent(e: StoreEvent): void {
    if (this.pending.length >= LIMITS.pending) {
      this.pending = [];
      for (const s of this.subs) markMissed(s);
      return;
    }
    this.pending.push(e);
    if (!this.draining) {
      this.draining = true;
      // After the publishing loop: a move's expunge and its new arrival come in one batch and pair up.
      queueMicrotask(() => void this.drain());
    }
  }

  private async drain(): Promise<void> {
    try {
      while (this.pending.length > 0 && this.subs.size > 0) {
        const batch = this.pending;
        this.pending = [];
        const events = await mapStoreEvents(batch, this.folderFacts);
        if (events.length) for (const s of this.subs) deliver(s, events);
      }
    } catch {
      // A folder lookup failed (store closing): the subscriptions learn they missed events rather than hear nothing.
      for (const s of this.subs) markMissed(s);
    } finally {
      this.pending = [];
      this.draining = false;
    }
  }

  private readonly folderFacts: FolderFacts = {
    get: (id, refresh) => this.folder(id, refresh),
    known: (id) => this.folders.get(id),
    forget: (id) => void this.folders.delete(id),
  };

  private async folder(id: number, refresh = false): Promise<FolderInfo | null> {
    const known = this.folders.get(id);
    if (known && !refresh) return known;
    const f = await this.store.getFolderById(id);
    if (!f || f.accountId !== this.accountId) return known ?? null;
    const info: FolderInfo = { cls: f.itemClass, parent: f.parentId ?? 0 };
    if (this.folders.size > 10_000) this.folders.clear();
    this.folders.set(id, info);
    return info;
  }

}

function matches(s: Subscription, e: EwsEvent): boolean {
  if ((s.mask & eventBit(e.code)) === 0) return false;
  if (s.folders === null) return true;
  if (s.folders.has(e.parent) || (e.oldParent !== 0 && s.folders.has(e.oldParent))) return true;
  if (e.cls === null) return s.folders.has(e.id) || (s.root && (e.parent === 0 || e.oldParent === 0));
  return false;
}

function markMissed(s: Subscription): void {
  s.missed = true;
  s.queue = [];
  s.sink?.wake();
}

function deliver(s: Subscription, events: EwsEvent[]): void {
  let added = false;
  for (const e of events) {
    if (e.modseq > s.modseq) s.modseq = e.modseq;
    if (!matches(s, e)) continue;
    if (s.missed) continue;
    if (s.queue.length >= LIMITS.queue) {
      markMissed(s);
      return;
    }
    s.queue.push({ ...e, seq: ++s.seq });
    added = true;
  }
  if (added) s.sink?.wake();
}

// ------------------------------------------------------------ the registry

const subscriptions = new Map<string, Subscription>();
/** Per store, per account: one listener each. */
const hubs = new Map<MailStore, Map<number, AccountHub>>();
let hubCount = 0;

/** The account's hub, when it has subscriptions. */
export function hubOf(store: MailStore, accountId: number): AccountHub | undefined {
  return hubs.get(store)?.get(accountId);
}
let sweeper: ReturnType<typeof setInterval> | null = null;

export interface NewSubscription {
  streaming: boolean;
  mask: number;
  folders: Set<number> | null;
  root: boolean;
  /** The account's change number now (the first watermark). */
  modseq: number;
  timeoutMs: number;
}

/** Makes a subscription; ErrorExceededSubscriptionCount past the bounds. */
export function createSubscription(store: MailStore, accountId: number, init: NewSubscription, now = Date.now()): Subscription {
  let hub = hubOf(store, accountId);
  if ((hub?.subs.size ?? 0) >= LIMITS.perAccount) throw new EwsError("ErrorExceededSubscriptionCount", `This mailbox has ${LIMITS.perAccount} subscriptions; end one (Unsubscribe) first.`);
  if (subscriptions.size >= LIMITS.total) throw new EwsError("ErrorExceededSubscriptionCount", "The server has no room for more subscriptions; try again later.");
  if (!hub) {
    hub = new AccountHub(store, accountId);
    let perStore = hubs.get(store);
    if (!perStore) hubs.set(store, (perStore = new Map()));
    perStore.set(accountId, hub);
    hubCount++;
  }
  let id: string;
  do id = randomBytes(15).toString("base64url");
  while (subscriptions.has(id));
  const sub: Subscription = {
    id,
    accountId,
    hub,
    streaming: init.streaming,
    mask: init.mask,
    folders: init.folders,
    root: init.root,
    queue: [],
    seq: 0,
    mark: { modseq: init.modseq, seq: 0 },
    modseq: init.modseq,
    missed: false,
    lastAsk: null,
    timeoutMs: init.timeoutMs,
    expiresAt: now + (init.streaming ? LIMITS.streamingIdleMs : init.timeoutMs),
    sink: null,
  };
  subscriptions.set(id, sub);
  hub.subs.add(sub);
  if (!sweeper) {
    sweeper = setInterval(sweep, 60_000);
    sweeper.unref?.();
  }
  return sub;
}

/** The caller's subscription by id, or null (unknown, another account's, expired). */
export function findSubscription(store: MailStore, accountId: number, id: string, now = Date.now()): Subscription | null {
  const s = subscriptions.get(id);
  if (!s || s.accountId !== accountId || s.hub.store !== store) return null;
  if (s.sink === null && now >= s.expiresAt) {
    removeSubscription(s);
    return null;
  }
  return s;
}

export function removeSubscription(s: Subscription): void {
  if (subscriptions.get(s.id) !== s) return;
  subscriptions.delete(s.id);
  s.queue = [];
  const sink = s.sink;
  s.sink = null;
  sink?.detach(s, "ErrorSubscriptionNotFound");
  const hub = s.hub;
  hub.subs.delete(s);
  if (hub.subs.size === 0) {
    hub.close();
    const perStore = hubs.get(hub.store);
    if (perStore?.get(hub.accountId) === hub) {
      perStore.delete(hub.accountId);
      hubCount--;
      if (perStore.size === 0) hubs.delete(hub.store);
    }
  }
}

/** Adds events found another way (Subscribe resuming from a watermark): numbered and bounded as live ones. */
export function enqueue(s: Subscription, events: EwsEvent[]): void {
  deliver(s, events);
}

/**
 * Pull: up to `max` events after `w` (already acknowledged by the caller),
 * kept until a later watermark acknowledges them, so a lost answer is asked
 * for again with the same watermark. The same watermark after an answer with
 * MoreEvents asks for the next page instead.
 */
export function pullEvents(s: Subscription, w: Watermark, max = LIMITS.perResponse): { events: EwsEvent[]; more: boolean } {
  let from = w.seq;
  if (s.lastAsk && s.lastAsk.from === w.seq && s.lastAsk.more) from = s.lastAsk.sent;
  const start = s.queue.findIndex((e) => e.seq > from);
  const events = start < 0 ? [] : s.queue.slice(start, start + max);
  const more = start >= 0 && s.queue.length > start + max;
  s.lastAsk = { from: w.seq, sent: events.length ? events[events.length - 1]!.seq : from, more };
  return { events, more };
}

/** Streaming: takes up to `max` waiting events (the open connection is the acknowledgement). */
export function takeEvents(s: Subscription, max = LIMITS.perResponse): { events: EwsEvent[]; more: boolean } {
  const events = s.queue.splice(0, max);
  if (events.length) s.mark = { modseq: events[events.length - 1]!.modseq, seq: events[events.length - 1]!.seq };
  return { events, more: s.queue.length > 0 };
}

/**
 * GetEvents' watermark: the events up to it are seen and dropped. False when
 * the watermark is not a position of this subscription (ErrorInvalidWatermark).
 */
export function acknowledge(s: Subscription, w: Watermark): boolean {
  if (w.seq < s.mark.seq || w.seq > s.seq) return false;
  if (w.seq === s.mark.seq) return true;
  const i = s.queue.findIndex((e) => e.seq === w.seq);
  if (i < 0) return false;
  s.mark = { modseq: s.queue[i]!.modseq, seq: w.seq };
  s.queue.splice(0, i + 1);
  return true;
}

/** Renews a pull subscription's lease (every GetEvents). */
export function touch(s: Subscription, now = Date.now()): void {
  s.expiresAt = now + (s.streaming ? LIMITS.streamingIdleMs : s.timeoutMs);
}

function sweep(): void {
  const now = Date.now();
  for (const s of subscriptions.values()) if (s.sink === null && now >= s.expiresAt) removeSubscription(s);
  if (subscriptions.size === 0 && sweeper) {
    clearInterval(sweeper);
    sweeper = null;
  }
}

/** Counts for tests and the benchmark. */
export function registryStats(): { subscriptions: number; accounts: number } {
  return { subscriptions: subscriptions.size, accounts: hubCount };
}
