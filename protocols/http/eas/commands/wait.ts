/**
 * The long poll shared by Ping (MS-ASCMD §2.2.1.13) and Sync with Wait /
 * HeartbeatInterval (§2.2.3.198): waits on the store's event bus for a
 * change in one of the watched folders, re-checks that folder against the
 * device's sync state (so a change the device already has does not wake
 * it), and gives up after the heartbeat. One long poll per device: a new
 * one ends the previous one (its answer is "no changes"), as does the client
 * going away, so a device that reconnects never leaves a poll behind.
 *
 * Memory per held poll is what bounds how many phones one server keeps
 * (issue 16: under 40 KB per held Ping, TLS and HTTP included), so a poll is
 * one small object and shares the rest: one event-bus subscription per
 * account (not one per poll; 1,000 phones of one account are one listener),
 * and one timer wheel with a one-second tick for every heartbeat (not a
 * timer per poll; the heartbeat is 60 s or more, MS-ASCMD §2.2.3.79). The
 * poll is its own abort listener (handleEvent), so holding it creates no
 * closures.
 */
import type { EventBus, Folder, StoreEvent } from "../../../../storage/api.ts";
import type { EasStore } from "../../../../storage/eas-store.ts";
import type { EasContext } from "../context.ts";

export type WaitOutcome = { changed: Folder[] } | { hierarchy: true } | null;

/** Coalesces bursts of events (a 100-message move) into one check. */
const CHECK_DELAY_MS = 20;
/** Granularity of the heartbeat wheel: a poll ends within two ticks after its heartbeat (60 s or more). */
const TICK_MS = 1000;

/** One held long poll. */
class Waiter {
  done = false;
  checking = false;
  /** Folder ids with events not checked yet. */
  dirty: number[] = [];
  checkTimer: ReturnType<typeof setTimeout> | null = null;
  /** Slot of the heartbeat wheel (deadline in ticks). */
  slot = 0;

  constructor(
    readonly c: EasContext,
    readonly folders: Folder[],
    readonly check: (f: Folder) => Promise<boolean>,
    readonly watchHierarchy: boolean,
    readonly resolve: (v: WaitOutcome) => void,
    readonly watch: AccountWatch,
  ) {}

  /** The request's AbortSignal fired: the client went away or the server stops. */
  handleEvent(): void {
    this.finish(null);
  }

  onEvent(ev: StoreEvent): void {
    if (this.done) return;
    if (ev.type === "folder") {
      if (this.watchHierarchy && ev.change !== "subscribed") this.finish({ hierarchy: true });
      return;
    }
    if (!this.folders.some((f) => f.id === ev.folderId)) return;
    if (!this.dirty.includes(ev.folderId)) this.dirty.push(ev.folderId);
    this.schedule();
  }

  schedule(): void {
    if (!this.checkTimer && !this.checking && !this.done) this.checkTimer = setTimeout(runChecks, CHECK_DELAY_MS, this);
  }

  finish(v: WaitOutcome): void {
    if (this.done) return;
    this.done = true;
    if (this.checkTimer) clearTimeout(this.checkTimer);
    this.checkTimer = null;
    unschedule(this);
    this.watch.remove(this);
    this.c.signal.removeEventListener("abort", this);
    const byDevice = active.get(this.c.eas);
    if (byDevice?.get(this.c.device.pk) === this) {
      byDevice.delete(this.c.device.pk);
      if (byDevice.size === 0) active.delete(this.c.eas);
    }
    this.resolve(v);
  }
}

async function runChecks(w: Waiter): Promise<void> {
  w.checkTimer = null;
  if (w.done || w.checking) return;
  w.checking = true;
  try {
    const ids = w.dirty;
    w.dirty = [];
    const changed: Folder[] = [];
    for (const id of ids) {
      const f = w.folders.find((x) => x.id === id);
      if (f && (await w.check(f))) changed.push(f);
      if (w.done) return;
    }
    if (changed.length) w.finish({ changed });
  } catch (e) {
    w.c.log.warn("eas: change check failed during a long poll", { err: e });
  } finally {
    w.checking = false;
    if (w.dirty.length) w.schedule();
  }
}

/** The polls of one account on one event bus, behind a single subscription. */
class AccountWatch {
  readonly waiters = new Set<Waiter>();
  private unsubscribe: () => void;

  constructor(
    readonly bus: EventBus,
    readonly accountId: number,
  ) {
    this.unsubscribe = bus.subscribe(accountId, (ev) => {
      // A copy: a poll that finishes leaves the set while we walk it. One poll's failure must not starve the others.
      for (const w of [...this.waiters]) {
        try {
          w.onEvent(ev);
        } catch (e) {
          w.c.log.warn("eas: long poll failed on a store event", { err: e });
        }
      }
    });
  }

  remove(w: Waiter): void {
    this.waiters.delete(w);
    if (this.waiters.size) return;
    this.unsubscribe();
    const byAccount = watches.get(this.bus);
    if (byAccount?.get(this.accountId) === this) byAccount.delete(this.accountId);
  }
}

/** Subscriptions by event bus (one per store; tests run several servers in one process) and account id. */
const watches = new WeakMap<EventBus, Map<number, AccountWatch>>();

function watchFor(bus: EventBus, accountId: number): AccountWatch {
  let byAccount = watches.get(bus);
  if (!byAccount) watches.set(bus, (byAccount = new Map()));
  let w = byAccount.get(accountId);
  if (!w) byAccount.set(accountId, (w = new AccountWatch(bus, accountId)));
  return w;
}

/** Active long polls by ActiveSync store (device row ids repeat across stores) and device row id. */
const active = new Map<EasStore, Map<number, Waiter>>();

// ---------------------------------------------------------------- heartbeat wheel

/** Polls by the tick their heartbeat ends in. */
const wheel = new Map<number, Set<Waiter>>();
let ticker: ReturnType<typeof setInterval> | null = null;

function scheduleDeadline(w: Waiter, timeoutMs: number): void {
  w.slot = Math.ceil((Date.now() + timeoutMs) / TICK_MS);
  let set = wheel.get(w.slot);
  if (!set) wheel.set(w.slot, (set = new Set()));
  set.add(w);
  ticker ??= setInterval(tick, TICK_MS);
}

function unschedule(w: Waiter): void {
  const set = wheel.get(w.slot);
  if (!set) return;
  set.delete(w);
  if (set.size === 0) wheel.delete(w.slot);
  if (wheel.size === 0 && ticker) {
    clearInterval(ticker);
    ticker = null;
  }
}

function tick(): void {
  const now = Date.now() / TICK_MS;
  for (const [slot, set] of [...wheel]) if (slot <= now) for (const w of [...set]) w.finish(null);
}

// ---------------------------------------------------------------- API

/** Number of long polls held open right now (diagnostics, benchmarks). */
export function activeWaits(): number {
  let n = 0;
  for (const m of active.values()) n += m.size;
  return n;
}

/** Ends the device's outstanding long poll, if any (it answers "no changes"); every store's when none is named. */
export function endWait(devicePk: number, eas?: EasStore): void {
  for (const [store, byDevice] of [...active]) if (!eas || store === eas) byDevice.get(devicePk)?.finish(null);
}

export function waitForChange(
  c: EasContext,
  timeoutMs: number,
  folders: Folder[],
  check: (f: Folder) => Promise<boolean>,
  watchHierarchy = false,
): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    active.get(c.eas)?.get(c.device.pk)?.finish(null);
    const watch = watchFor(c.store.events, c.account.id);
    const w = new Waiter(c, folders, check, watchHierarchy, resolve, watch);
    let byDevice = active.get(c.eas);
    if (!byDevice) active.set(c.eas, (byDevice = new Map()));
    byDevice.set(c.device.pk, w);
    watch.waiters.add(w);
    scheduleDeadline(w, timeoutMs);
    if (c.signal.aborted) w.finish(null);
    else c.signal.addEventListener("abort", w);
  });
}
