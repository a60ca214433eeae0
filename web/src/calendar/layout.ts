/**
 * Where events go on screen, as pure functions of their times (no DOM, no
 * layout reads: the views turn these numbers into styles in one pass).
 *
 * - Timed events in a day column: wall-clock minutes from local midnight
 *   (a DST day keeps its 24 hour lines like every calendar client; a
 *   spring-forward day has one hour nobody can be in, a fall-back day shows
 *   the repeated hour once), side by side in columns where they overlap.
 * - All-day and multi-day events as bars across a row of days (the top of the
 *   day/week views, each week row of the month view), stacked in lanes, with
 *   "+N more" per day when a row has fewer lanes than events.
 *
 * Unit-tested in tests/webmail/calendar-layout.test.ts.
 */
import { addDays, dayKey, dayStart, daysBetween, wallMinutes } from "./dates.ts";

/** The shortest block drawn in a day column, in minutes (a 0-minute event still needs a target). */
export const MIN_MINUTES = 20;

export interface Timed<T> {
  item: T;
  start: number;
  end: number;
}

export interface PlacedTimed<T> {
  item: T;
  /** Minutes from the top of the column (local midnight). */
  top: number;
  /** Minutes of height (≥ MIN_MINUTES, never past midnight). */
  height: number;
  /** Column within its cluster of overlapping events, and the cluster's column count. */
  col: number;
  cols: number;
  /** The event began before this day / goes on after it. */
  clippedStart: boolean;
  clippedEnd: boolean;
}

/**
 * Places the timed events that touch day `key` in the zone. Events are given
 * as UTC ms; what lies outside the day is clipped. Overlapping events share the
 * width: each cluster (events linked by overlap) gets as many columns as the
 * most events that overlap at once, and each event takes the first free column
 * (the greedy interval colouring, which is optimal for intervals).
 */
export function layoutDay<T>(events: readonly Timed<T>[], key: string, tz: string): PlacedTimed<T>[] {
  const from = dayStart(key, tz);
  const to = dayStart(addDays(key, 1), tz);
  const rows: PlacedTimed<T>[] = [];
  for (const e of events) {
    if (e.end <= from || e.start >= to) {
      // A zero-length event at midnight still belongs to the day it starts.
      if (!(e.start === e.end && e.start === from)) continue;
    }
    const clippedStart = e.start < from;
    const clippedEnd = e.end > to;
    const top = clippedStart ? 0 : wallMinutes(e.start, tz);
    const wallBottom = clippedEnd || e.end >= to ? 1440 : wallMinutes(e.end, tz);
    // On a fall-back day the wall clock repeats an hour: an event across it lasts longer than its clock times
    // say (or even ends "before" it starts), so the block is never shorter than the time that really passes.
    const elapsed = Math.round((Math.min(e.end, to) - Math.max(e.start, from)) / 60_000);
    const bottom = Math.min(1440, Math.max(wallBottom, top + elapsed));
    const height = Math.max(MIN_MINUTES, bottom - top);
    rows.push({ item: e.item, top: Math.min(top, 1440 - MIN_MINUTES), height: Math.min(height, 1440 - Math.min(top, 1440 - MIN_MINUTES)), col: 0, cols: 1, clippedStart, clippedEnd });
  }
  rows.sort((a, b) => a.top - b.top || b.height - a.height);
  let cluster: PlacedTimed<T>[] = [];
  let clusterEnd = -1;
  let colEnds: number[] = [];
  const close = (): void => {
    for (const r of cluster) r.cols = colEnds.length;
    cluster = [];
    colEnds = [];
  };
  for (const r of rows) {
    if (r.top >= clusterEnd) {
      close();
      clusterEnd = -1;
    }
    let col = colEnds.findIndex((end) => end <= r.top);
    if (col < 0) {
      col = colEnds.length;
      colEnds.push(0);
    }
    colEnds[col] = r.top + r.height;
    r.col = col;
    cluster.push(r);
    clusterEnd = Math.max(clusterEnd, r.top + r.height);
  }
  close();
  return rows;
}

export interface Spanning<T> {
  item: T;
  /** First day (inclusive) and the day after the last (exclusive), "YYYY-MM-DD". */
  startDay: string;
  endDay: string;
}

export interface PlacedBar<T> {
  item: T;
  /** Day index in the row where the bar starts, and how many days it covers within the row. */
  col: number;
  span: number;
  lane: number;
  /** The event goes on before the row's first day / after its last. */
  continuesBefore: boolean;
  continuesAfter: boolean;
}

export interface BarRow<T> {
  bars: PlacedBar<T>[];
  /** Lanes used (≤ maxLanes). */
  lanes: number;
  /** Per day of the row: events not drawn because the lanes ran out ("+N more"). */
  more: number[];
}

/**
 * Stacks bars over a row of `days` consecutive days starting at `first`. Longer
 * and earlier bars take the upper lanes (Outlook and Google order them so);
 * each bar takes the lowest lane free over its whole span. With `maxLanes`, a
 * bar that finds no lane is counted in `more` for each of its days.
 */
export function layoutBars<T>(items: readonly Spanning<T>[], first: string, days: number, maxLanes = Infinity): BarRow<T> {
  const last = addDays(first, days);
  const cand: { s: Spanning<T>; col: number; end: number }[] = [];
  for (const s of items) {
    if (daysBetween(s.endDay, first) >= 0 && s.endDay !== s.startDay) continue; // ends before the row
    if (daysBetween(last, s.startDay) >= 0) continue; // starts after the row
    const col = Math.max(0, daysBetween(first, s.startDay));
    const end = Math.min(days, Math.max(col + 1, daysBetween(first, s.endDay)));
    cand.push({ s, col, end });
  }
  cand.sort((a, b) => a.col - b.col || b.end - b.col - (a.end - a.col) || (a.s.startDay < b.s.startDay ? -1 : a.s.startDay > b.s.startDay ? 1 : 0));
  // lanes[l][d]: lane l is taken on day d.
  const lanes: boolean[][] = [];
  const bars: PlacedBar<T>[] = [];
  const more = new Array<number>(days).fill(0);
  for (const c of cand) {
    let lane = -1;
    for (let l = 0; l < lanes.length; l++) {
      let free = true;
      for (let d = c.col; d < c.end; d++) if (lanes[l]![d]) free = false;
      if (free) {
        lane = l;
        break;
      }
    }
    if (lane < 0) {
      if (lanes.length >= maxLanes) {
        for (let d = c.col; d < c.end; d++) more[d]!++;
        continue;
      }
      lane = lanes.length;
      lanes.push(new Array<boolean>(days).fill(false));
    }
    for (let d = c.col; d < c.end; d++) lanes[lane]![d] = true;
    bars.push({
      item: c.s.item,
      col: c.col,
      span: c.end - c.col,
      lane,
      continuesBefore: daysBetween(first, c.s.startDay) < 0,
      continuesAfter: daysBetween(first, c.s.endDay) > days,
    });
  }
  return { bars, lanes: lanes.length, more };
}

/**
 * The days an instance covers, as a Spanning: all-day events by their dates;
 * timed events from the day they start to the day after the day they end
 * (an end exactly at midnight does not reach into that day).
 */
export function spanOf<T>(item: T, inst: { allDay: boolean; startDate: string | null; endDate: string | null; start: number; end: number }, tz: string): Spanning<T> {
  if (inst.allDay && inst.startDate && inst.endDate) {
    const endDay = daysBetween(inst.startDate, inst.endDate) > 0 ? inst.endDate : addDays(inst.startDate, 1);
    return { item, startDay: inst.startDate, endDay };
  }
  const startDay = dayKey(inst.start, tz);
  const lastMs = inst.end > inst.start ? inst.end - 1 : inst.start;
  const endDay = addDays(dayKey(lastMs, tz), 1);
  return { item, startDay, endDay };
}

/** A timed event that crosses midnight is shown as a bar in the day/week views' all-day area (as Outlook does past 24 h). */
export function isBar(inst: { allDay: boolean; start: number; end: number }, tz: string): boolean {
  if (inst.allDay) return true;
  return inst.end - inst.start >= 86_400_000 && dayKey(inst.start, tz) !== dayKey(inst.end - 1, tz);
}
