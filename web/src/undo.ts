/**
 * Undo and recovery in the page: the toast that offers Undo for a few seconds
 * after delete / move / junk / send (item 4), the one error slot that never
 * stacks and clears itself on recovery, and the live-update stream that
 * reconnects with backoff after the server went away (item 11).
 */
import { h } from "./dom.ts";
import { t as tr } from "./i18n/index.ts";

/** How long Undo is offered after delete / move / junk. */
export const UNDO_MS = 8000;

/**
 * Shows `text` with an Undo button for `ms`. Undo runs `undo` once; the toast goes
 * away when it is clicked or the time is up. Returns a function that dismisses it.
 */
export function undoToast(container: HTMLElement, text: string, undo: () => Promise<void>, ms = UNDO_MS): () => void {
  const btn = h("button", { type: "button", class: "btn btn-small toast-undo", "data-action": "undo" }, tr("mail.undo")) as HTMLButtonElement;
  const t = h("div", { class: "toast toast-info toast-with-undo", "data-undo": "1" }, h("span", null, text), btn);
  let done = false;
  const dismiss = () => {
    done = true;
    clearTimeout(timer);
    t.remove();
  };
  btn.addEventListener("click", () => {
    if (done) return;
    btn.disabled = true;
    void undo().finally(dismiss);
  });
  const timer = setTimeout(dismiss, ms);
  container.append(t);
  return dismiss;
}

/**
 * One visible error at a time: a new one replaces the text of the one shown; the
 * connection error stays until `clear` (recovery) takes it away.
 */
export class ErrorSlot {
  private el: HTMLElement | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private container: HTMLElement) {}

  show(text: string, opts: { sticky?: boolean; kind?: string } = {}): void {
    if (!this.el || !this.el.isConnected) {
      this.el = h("div", { class: "toast toast-error", role: "alert" });
      this.container.append(this.el);
    }
    this.el.textContent = text;
    this.el.dataset.kind = opts.kind ?? "error";
    clearTimeout(this.timer);
    if (!opts.sticky) this.timer = setTimeout(() => this.clear(), 8000);
  }

  /** Takes the error away (all of them, or only one of `kind`). */
  clear(kind?: string): void {
    if (!this.el) return;
    if (kind && this.el.dataset.kind !== kind) return;
    clearTimeout(this.timer);
    this.el.remove();
    this.el = null;
  }

  get text(): string | null {
    return this.el?.textContent ?? null;
  }
}

export interface LiveHandlers {
  /** The stream is (again) live; `reconnected` when it had been live before and may have missed changes. */
  ready(reconnected: boolean): void;
  /** The stream dropped; `attempt` counts failed tries since it was last live. */
  lost(attempt: number): void;
  /** Wires the stream's own events (mail, signed_out, ...). */
  wire(es: EventSource): void;
}

/**
 * The live-update stream (Server-Sent Events) with its own reconnect: after an error
 * the stream is closed and opened again after 1, 2, 4 … 30 s (with jitter), so a
 * server that restarts is found again without the browser's fixed retry or a reload.
 */
export class LiveStream {
  private es: EventSource | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private liveBefore = false;
  private closed = false;

  constructor(
    private url: string,
    private on: LiveHandlers,
    private maxDelayMs = 30_000,
  ) {}

  open(): void {
    if (this.closed) return;
    this.es?.close();
    const es = new EventSource(this.url);
    this.es = es;
    es.addEventListener("ready", () => {
      const again = this.liveBefore;
      this.liveBefore = true;
      this.attempt = 0;
      this.on.ready(again);
    });
    this.on.wire(es);
    es.onerror = () => {
      if (this.es !== es) return;
      es.close();
      this.es = null;
      this.attempt++;
      this.on.lost(this.attempt);
      const base = Math.min(this.maxDelayMs, 1000 * 2 ** Math.min(this.attempt - 1, 5));
      this.timer = setTimeout(() => this.open(), base / 2 + Math.random() * (base / 2));
    };
  }

  /** Tries at once (e.g. the browser says it is online again). */
  retryNow(): void {
    if (this.es || this.closed) return;
    clearTimeout(this.timer);
    this.open();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.es?.close();
    this.es = null;
  }
}
