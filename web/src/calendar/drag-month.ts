/**
 * Dragging an event to another day in the month view (desktop; a touch only
 * taps). The event keeps its time of day (an all-day event its length in
 * days); a drop on its own day is a plain click. The day cells' boxes are read
 * once when the drag begins (a user gesture, not a render).
 */
import type { EventInstance } from "../../../protocols/http/webmail/api-types.ts";
import type { RenderCtx } from "./common.ts";
import { addDays, dayKey, daysBetween, wallMinutes, wallToMs } from "./dates.ts";

const THRESHOLD = 5;
const DAY = 86_400_000;

/** Calls `suppress()` when a drag ended, so the click that follows does not open the event. */
export function attachMonthDrag(root: HTMLElement, byEl: Map<HTMLElement, EventInstance>, ctx: RenderCtx, suppress: () => void): void {
  root.addEventListener("pointerdown", (e) => {
    if (e.button !== 0 || e.pointerType === "touch") return;
    const chipEl = (e.target as HTMLElement).closest<HTMLElement>(".cal-event");
    const inst = chipEl ? byEl.get(chipEl) : undefined;
    if (!chipEl || !inst) return;
    const cells = [...root.querySelectorAll<HTMLElement>(".cal-month-cell")].map((el) => ({ el, day: el.dataset.day!, r: el.getBoundingClientRect() }));
    const at = (x: number, y: number) => cells.find((c) => x >= c.r.left && x < c.r.right && y >= c.r.top && y < c.r.bottom);
    const from = at(e.clientX, e.clientY);
    if (!from) return;
    const x0 = e.clientX;
    const y0 = e.clientY;
    let moved = false;
    let over = from;
    const onMove = (ev: PointerEvent): void => {
      if (!moved && Math.abs(ev.clientX - x0) < THRESHOLD && Math.abs(ev.clientY - y0) < THRESHOLD) return;
      if (!moved) {
        moved = true;
        root.setPointerCapture(e.pointerId);
        root.classList.add("is-dragging");
        chipEl.classList.add("is-dragged");
      }
      const c = at(ev.clientX, ev.clientY);
      if (c && c !== over) {
        over.el.classList.remove("is-drop");
        over = c;
      }
      over.el.classList.add("is-drop");
      chipEl.style.transform = `translate(${ev.clientX - x0}px, ${ev.clientY - y0}px)`;
    };
    const end = (drop: boolean): void => {
      root.removeEventListener("pointermove", onMove);
      root.removeEventListener("pointerup", onUp);
      root.removeEventListener("pointercancel", onCancel);
      root.classList.remove("is-dragging");
      over.el.classList.remove("is-drop");
      chipEl.classList.remove("is-dragged");
      chipEl.style.transform = "";
      if (!moved) return;
      suppress();
      const days = daysBetween(from.day, over.day);
      if (!drop || days === 0) return;
      if (inst.allDay) {
        ctx.shift(inst, days * DAY, days * DAY);
        return;
      }
      // The same wall-clock time on the new day (a DST change in between does not move it by an hour).
      const start = wallToMs(addDays(dayKey(inst.start, ctx.tz), days), wallMinutes(inst.start, ctx.tz), ctx.tz);
      ctx.shift(inst, start - inst.start, start - inst.start);
    };
    const onUp = (): void => end(true);
    const onCancel = (): void => end(false);
    root.addEventListener("pointermove", onMove);
    root.addEventListener("pointerup", onUp);
    root.addEventListener("pointercancel", onCancel);
  });
}
