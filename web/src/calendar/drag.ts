/**
 * Pointer handling of the time grid (desktop; a touch only taps, so the grid
 * still scrolls under a finger):
 * - press on an empty slot and drag: a new event over that range; a plain
 *   click: a new one-hour event at the half hour clicked;
 * - drag an event: move it (also to another day's column); drag its bottom
 *   edge: change its end. Times snap to 15 minutes.
 * Geometry is read once when the press begins (a user gesture, not a render),
 * and the element is moved with styles while dragging.
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import { h } from "../dom.ts";
import type { RenderCtx } from "./common.ts";
import { wallToMs } from "./dates.ts";

const SNAP = 15;
const THRESHOLD = 4;

type Mode = "create" | "move" | "resize";

export function attachTimeDrag(grid: HTMLElement, days: string[], ctx: RenderCtx, byEl: Map<HTMLElement, EventInstance>, hourPx: number): void {
  let suppressClick = false;
  const minutesAt = (y: number, top: number): number => Math.max(0, Math.min(1440, ((y - top) / hourPx) * 60));
  const snap = (m: number): number => Math.round(m / SNAP) * SNAP;

  grid.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.pointerType === "touch") return;
    const target = e.target as HTMLElement;
    const evEl = target.closest<HTMLElement>(".cal-timed");
    const colEl = target.closest<HTMLElement>(".cal-col");
    if (!colEl) return;
    const inst = evEl ? byEl.get(evEl) : undefined;
    if (evEl && !inst) return;
    const mode: Mode = evEl ? (target.closest(".cal-resize") ? "resize" : "move") : "create";
    const cols = [...grid.querySelectorAll<HTMLElement>(".cal-col")];
    const rects = cols.map((c) => c.getBoundingClientRect());
    const startCol = cols.indexOf(colEl);
    const r0 = rects[startCol]!;
    const x0 = e.clientX;
    const y0 = e.clientY;
    const origTop = evEl ? parseFloat(evEl.style.top) : 0;
    const origHeight = evEl ? parseFloat(evEl.style.height) + 2 : 0;
    let moved = false;
    let curCol = startCol;
    let ghost: HTMLElement | null = null;
    const anchor = snap(minutesAt(y0, r0.top));
    let result: { col: number; top: number; bottom: number } | null = null;

    const onMove = (ev: PointerEvent): void => {
      if (!moved && Math.abs(ev.clientX - x0) < THRESHOLD && Math.abs(ev.clientY - y0) < THRESHOLD) return;
      if (!moved) {
        moved = true;
        grid.setPointerCapture(e.pointerId);
        grid.classList.add("is-dragging");
        if (mode === "create") {
          ghost = h("div", { class: "cal-ghost", "aria-hidden": "true" });
          colEl.append(ghost);
        } else evEl!.classList.add("is-dragged");
      }
      const dy = ev.clientY - y0;
      if (mode === "create") {
        const m = snap(minutesAt(ev.clientY, r0.top));
        const top = Math.min(anchor, m);
        const bottom = Math.max(anchor + SNAP, m);
        ghost!.style.top = `${(top / 60) * hourPx}px`;
        ghost!.style.height = `${((bottom - top) / 60) * hourPx}px`;
        result = { col: startCol, top, bottom };
      } else if (mode === "move") {
        const found = rects.findIndex((r) => ev.clientX >= r.left && ev.clientX < r.right);
        if (found >= 0 && found !== curCol) {
          curCol = found;
          cols[found]!.append(evEl!);
        }
        const top = Math.max(0, Math.min(1440 - SNAP, snap(((origTop + dy) / hourPx) * 60)));
        const len = Math.round((origHeight / hourPx) * 60);
        evEl!.style.top = `${(top / 60) * hourPx}px`;
        evEl!.style.left = "0";
        evEl!.style.width = "calc(100% - 3px)";
        result = { col: curCol, top, bottom: top + len };
      } else {
        const top = Math.round((origTop / hourPx) * 60);
        const bottom = Math.max(top + SNAP, Math.min(1440, snap(((origTop + origHeight + dy) / hourPx) * 60)));
        evEl!.style.height = `${((bottom - top) / 60) * hourPx - 2}px`;
        result = { col: startCol, top, bottom };
      }
    };
    const onUp = (): void => {
      grid.removeEventListener("pointermove", onMove);
      grid.removeEventListener("pointerup", onUp);
      grid.removeEventListener("pointercancel", onCancel);
      grid.classList.remove("is-dragging");
      if (!moved || !result) return;
      suppressClick = true;
      setTimeout(() => (suppressClick = false), 0);
      ghost?.remove();
      const day = days[result.col]!;
      if (mode === "create") {
        ctx.create(wallToMs(day, result.top, ctx.tz), wallToMs(day, result.bottom, ctx.tz), false);
        return;
      }
      const i = inst!;
      if (mode === "move") {
        const dStart = wallToMs(day, result.top, ctx.tz) - i.start;
        if (dStart === 0) return;
        ctx.shift(i, dStart, dStart);
      } else {
        const dEnd = wallToMs(day, result.bottom, ctx.tz) - i.end;
        if (dEnd === 0) return;
        ctx.shift(i, 0, dEnd);
      }
    };
    const onCancel = (): void => {
      moved = false;
      ghost?.remove();
      onUp();
    };
    grid.addEventListener("pointermove", onMove);
    grid.addEventListener("pointerup", onUp);
    grid.addEventListener("pointercancel", onCancel);
  });

  // Clicks (and Enter/Space on a focused event): open the event, or start one in the slot clicked.
  grid.addEventListener("click", (e) => {
    if (suppressClick) {
      suppressClick = false;
      return;
    }
    const target = e.target as HTMLElement;
    const evEl = target.closest<HTMLElement>(".cal-timed");
    if (evEl) {
      const inst = byEl.get(evEl);
      if (inst) ctx.open(inst);
      return;
    }
    const colEl = target.closest<HTMLElement>(".cal-col");
    if (!colEl) return;
    const day = colEl.dataset.day!;
    const r = colEl.getBoundingClientRect();
    const m = Math.min(1440 - 60, Math.floor(minutesAt(e.clientY, r.top) / 30) * 30);
    ctx.create(wallToMs(day, m, ctx.tz), wallToMs(day, m + 60, ctx.tz), false);
  });
}
