/**
 * Building blocks every admin page uses: tables with real headers, status
 * badges that say their state in words (colour is only a second cue, WCAG
 * 1.4.1), modal dialogs that keep the focus inside (web/src/focus-trap.ts),
 * confirmations (typed ones for what cannot be undone), a live status line,
 * and the formatting of sizes and times in the chosen language.
 */
import { h, clear } from "../dom.ts";
import { trapFocus } from "../focus-trap.ts";
import { formatDate, formatNumber, formatRelative, t } from "../i18n/index.ts";
import { AdminApiError } from "./api.ts";

// ------------------------------------------------------------------ status line

let statusEl: HTMLElement | null = null;
let alertEl: HTMLElement | null = null;
let statusTimer: ReturnType<typeof setTimeout> | undefined;

/** The two live regions: polite for results, assertive for errors (created once by main.ts). */
export function statusRegions(): HTMLElement {
  statusEl = h("div", { class: "toast", role: "status", "aria-live": "polite" });
  alertEl = h("div", { class: "toast toast-error", role: "alert" });
  return h("div", { class: "toasts" }, statusEl, alertEl);
}

/** Shows a result ("Account created.") for a few seconds. */
export function say(text: string): void {
  show(statusEl, text);
  show(alertEl, "");
}

/** Shows an error in words until the next message. */
export function sayError(err: unknown): void {
  show(alertEl, errorText(err));
  show(statusEl, "");
}

export function errorText(err: unknown): string {
  if (err instanceof AdminApiError) return err.message;
  if (err instanceof Error && err.message) return err.message;
  return t("admin.net.server");
}

function show(el: HTMLElement | null, text: string): void {
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
  if (el === statusEl && text) {
    clearTimeout(statusTimer);
    statusTimer = setTimeout(() => show(statusEl, ""), 6000);
  }
}

/** Runs an action from a button: the button is disabled meanwhile, an error is shown in words. Resolves true on success. */
export async function act(button: HTMLButtonElement | null, fn: () => Promise<unknown>, done?: string): Promise<boolean> {
  if (button) button.disabled = true;
  try {
    await fn();
    if (done) say(done);
    return true;
  } catch (err) {
    sayError(err);
    return false;
  } finally {
    if (button?.isConnected) button.disabled = false;
  }
}

// ------------------------------------------------------------------ elements

export function button(label: string, onClick: (e: MouseEvent) => void, cls = "btn", attrs: Record<string, string> = {}): HTMLButtonElement {
  return h("button", { type: "button", class: cls, onclick: onClick, ...attrs }, label);
}

/** A table with column headers (scope=col), a caption, and a scroll box so it stays usable on a phone. */
export function table(caption: string, headers: string[], rows: (Node | string | number | null)[][], empty: string): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption },
    h(
      "table",
      { class: "grid" },
      h("caption", { class: "sr-only" }, caption),
      h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
      h(
        "tbody",
        null,
        // One box per cell: on a phone each row becomes a card with the column's name before the box (admin.css).
        rows.map((r) => h("tr", null, r.map((c, i) => h("td", { "data-label": headers[i] ?? "" }, h("div", { class: "cell" }, c ?? ""))))),
      ),
    ),
  );
}

export type Tone = "ok" | "warn" | "bad" | "info";

/** A state in words with a symbol and a colour: the words carry it, the rest only helps. */
export function badge(tone: Tone, text: string): HTMLElement {
  const sym = tone === "ok" ? "✓" : tone === "warn" ? "!" : tone === "bad" ? "✗" : "•";
  return h("span", { class: `badge badge-${tone}` }, h("span", { "aria-hidden": "true", class: "badge-sym" }, sym), text);
}

/** A usage bar: the words say the numbers, the bar shows them (against the quota, else against `scale`). */
export function usageBar(used: number, quota: number | null, scale?: number): HTMLElement {
  const words = quota ? t("admin.usage.of", { used: bytes(used), quota: bytes(quota) }) : t("admin.usage.noQuota", { used: bytes(used) });
  const bar = h("span", { class: "bar-fill" });
  const of = quota || scale || 0;
  const share = of ? Math.min(1, used / of) : 0;
  bar.style.width = `${(share * 100).toFixed(1)}%`;
  if (quota && share >= 0.9) bar.classList.add("bar-high");
  // Without a quota (and nothing to compare with) a bar would say nothing: the words alone.
  return h("span", { class: "usage" }, of ? h("span", { class: "bar", "aria-hidden": "true" }, bar) : null, h("span", { class: "usage-text" }, words));
}

export function heading(title: string, ...extra: Node[]): HTMLElement {
  return h("div", { class: "page-head" }, h("h1", { id: "page-title", tabindex: -1 }, title), h("div", { class: "page-actions" }, extra));
}

export function section(title: string, ...children: (Node | null)[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), children);
}

/** A labelled field: the label is tied to the control (for=id). */
let fieldSeq = 0;
export function field(label: string, control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, hint?: string): HTMLElement {
  const id = control.id || `f${++fieldSeq}`;
  control.id = id;
  const hintEl = hint ? h("span", { class: "hint", id: `${id}-hint` }, hint) : null;
  if (hintEl) control.setAttribute("aria-describedby", hintEl.id);
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hintEl);
}

// ------------------------------------------------------------------ dialogs

export interface DialogHandle {
  root: HTMLElement;
  close(): void;
  /** Shows an error in words inside the dialog (role=alert). */
  error(text: string): void;
}

/** A modal dialog (WAI-ARIA dialog pattern): the page behind is inert, focus stays inside, Escape closes. */
export function openDialog(title: string, body: (Node | null)[], actions: HTMLElement[], onClose?: () => void): DialogHandle {
  const titleId = `dlg-title-${++fieldSeq}`;
  const err = h("p", { class: "dialog-error", role: "alert" });
  err.hidden = true;
  const box = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId }, h("h2", { id: titleId }, title), body, err, h("div", { class: "dialog-actions" }, actions));
  const scrim = h("div", { class: "scrim" }, box);
  const shell = document.querySelector(".shell");
  shell?.setAttribute("inert", "");
  document.body.append(scrim);
  let closed = false;
  const trap = trapFocus(box, { onEscape: () => handle.close(), fallback: () => document.getElementById("page-title") });
  const handle: DialogHandle = {
    root: box,
    close() {
      if (closed) return;
      closed = true;
      shell?.removeAttribute("inert");
      scrim.remove();
      trap.release();
      onClose?.();
    },
    error(text) {
      err.textContent = text;
      err.hidden = !text;
    },
  };
  return handle;
}

export interface ConfirmOptions {
  title: string;
  text: string;
  confirm: string;
  danger?: boolean;
  /** The user must type this exactly before the confirm button works (deleting an account). */
  typed?: string;
}

/** Asks before doing something; the promise says whether the user confirmed. */
export function confirmDialog(opts: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = false;
    const ok = button(opts.confirm, () => {
      answer = true;
      dlg.close();
    }, opts.danger ? "btn btn-danger-solid" : "btn btn-primary");
    const cancel = button(t("admin.cancel"), () => dlg.close());
    const body: Node[] = [h("p", null, opts.text)];
    if (opts.typed) {
      const input = h("input", { type: "text", autocomplete: "off", spellcheck: "false", class: "input" });
      ok.disabled = true;
      input.addEventListener("input", () => {
        ok.disabled = input.value.trim() !== opts.typed;
      });
      body.push(field(t("admin.confirm.typeToConfirm", { text: opts.typed }), input));
    }
    const dlg = openDialog(opts.title, body, [cancel, ok], () => resolve(answer));
    if (!opts.typed) cancel.focus();
  });
}

/**
 * A form in a dialog: `submit` returns nothing on success (the dialog closes) or throws; the error is
 * shown in words inside the dialog and the form stays open for a correction.
 */
export function formDialog(title: string, fields: HTMLElement[], submitLabel: string, submit: () => Promise<void>): DialogHandle {
  const form = h("form", { class: "form", novalidate: true }, fields);
  const ok = h("button", { type: "submit", class: "btn btn-primary" }, submitLabel);
  const cancel = button(t("admin.cancel"), () => dlg.close());
  form.id = `form-${++fieldSeq}`;
  ok.setAttribute("form", form.id);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ok.disabled = true;
    dlg.error("");
    submit()
      .then(() => dlg.close())
      .catch((err: unknown) => dlg.error(errorText(err)))
      .finally(() => {
        ok.disabled = false;
      });
  });
  const dlg = openDialog(title, [form], [cancel, ok]);
  return dlg;
}

// ------------------------------------------------------------------ formatting

export function bytes(n: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${formatNumber(v, { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}

export function when(ms: number | null | undefined): string {
  if (!ms) return t("admin.never");
  return formatDate(ms, { dateStyle: "medium", timeStyle: "short" });
}

/** A time with its distance from now, the exact one in a tooltip. */
export function ago(ms: number | null | undefined): HTMLElement {
  if (!ms) return h("span", null, t("admin.never"));
  return h("time", { datetime: new Date(ms).toISOString(), title: when(ms) }, formatRelative(ms));
}

/** Megabytes typed by the admin to bytes; "" = no limit; NaN when it is not a number. */
export function parseQuotaMb(s: string): number | null {
  const v = s.trim().replace(",", ".");
  if (!v) return null;
  if (!/^\d+(\.\d+)?$/.test(v)) return NaN;
  return Math.round(parseFloat(v) * 1024 * 1024);
}

export function quotaMb(bytesOrNull: number | null): string {
  return bytesOrNull === null ? "" : String(Math.round((bytesOrNull / 1024 / 1024) * 10) / 10);
}

export { clear };
