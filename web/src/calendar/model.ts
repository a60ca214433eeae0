/**
 * The calendar view's data: the user's calendars (with show/hide remembered in
 * localStorage), and the event instances of the range on screen, cached per
 * range so flipping back and forth does not refetch. A live change to one of
 * the calendars (or a reconnect) drops the cache; the view reloads what it shows.
 */
import type { CollectionInfo, EventInstance, InstancesResponse } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";

const HIDDEN_KEY = "pb-cal-hidden";

/** Colours for calendars that have none (the server may also pick from its palette). */
export const PALETTE = ["#0b57d0", "#1e7b34", "#c8102e", "#8e24aa", "#e37400", "#00838f", "#5d4037", "#3949ab"];

export class CalendarModel {
  calendars: CollectionInfo[] = [];
  private hidden: Set<string>;
  private cache = new Map<string, Promise<EventInstance[]>>();
  /** Bumped on every invalidation: a fetch begun before it is not cached. */
  private generation = 0;

  constructor() {
    let list: string[] = [];
    try {
      const raw = JSON.parse(localStorage.getItem(HIDDEN_KEY) ?? "[]") as unknown;
      if (Array.isArray(raw)) list = raw.filter((x): x is string => typeof x === "string");
    } catch {
      list = [];
    }
    this.hidden = new Set(list);
  }

  async loadCalendars(): Promise<CollectionInfo[]> {
    const res = await api<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=calendar");
    this.calendars = res.collections.filter((c) => c.kind === "calendar");
    return this.calendars;
  }

  colorOf(name: string): string {
    const i = this.calendars.findIndex((c) => c.name === name);
    const c = this.calendars[i];
    if (c?.color && /^#[0-9a-fA-F]{6}$/.test(c.color)) return c.color;
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length]!;
  }

  calendar(name: string): CollectionInfo | undefined {
    return this.calendars.find((c) => c.name === name);
  }

  /** The default calendar for new events (the first writable visible one). */
  defaultCalendar(): CollectionInfo | undefined {
    const w = this.calendars.filter((c) => !c.readOnly);
    return w.find((c) => c.isDefault && this.isVisible(c.name)) ?? w.find((c) => this.isVisible(c.name)) ?? w[0];
  }

  isVisible(name: string): boolean {
    return !this.hidden.has(name);
  }

  setVisible(name: string, visible: boolean): void {
    if (visible) this.hidden.delete(name);
    else this.hidden.add(name);
    try {
      localStorage.setItem(HIDDEN_KEY, JSON.stringify([...this.hidden]));
    } catch {
      // storage full or disabled: the choice lasts for this page only
    }
  }

  /** True when a live change of this store folder concerns the calendar (-1: anything may have changed). */
  concerns(folderId: number): boolean {
    return folderId === -1 || this.calendars.some((c) => c.folderId === folderId);
  }

  invalidate(): void {
    this.generation++;
    this.cache.clear();
  }

  /** Every instance of every calendar in [from, to) (hidden ones are filtered by the views, so toggling needs no fetch). */
  instances(from: number, to: number): Promise<EventInstance[]> {
    const key = `${from}-${to}`;
    let p = this.cache.get(key);
    if (!p) {
      const gen = this.generation;
      p = api<InstancesResponse>("GET", `/api/calendar/instances?from=${from}&to=${to}`).then((r) => r.instances);
      p.catch(() => {
        if (this.cache.get(key) === p) this.cache.delete(key);
      });
      if (gen === this.generation) {
        if (this.cache.size > 24) this.cache.delete(this.cache.keys().next().value as string);
        this.cache.set(key, p);
      }
    }
    return p;
  }
}
