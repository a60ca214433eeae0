/**
 * Modal dialogs of the calendar on <dialog>.showModal(): the browser keeps
 * focus inside (the rest of the page is inert) and Escape closes; focus goes
 * back where it was when the dialog closes. On a phone the dialog is full
 * screen (CSS) and the Back button closes it: opening pushes a history entry
 * with the same URL, so Back pops it instead of leaving the calendar.
 */
import { h, icon } from "../dom.ts";
import { t } from "../i18n/index.ts";
import type { SeriesScope } from "../../../protocols/http/webmail/api-types.ts";

let seq = 0;

export interface Modal {
  dialog: HTMLDialogElement;
  body: HTMLElement;
  foot: HTMLElement;
  close(): void;
  /** Resolves when the dialog closed (any way). */
  closed: Promise<void>;
}

export function openModal(title: string, opts: { cls?: string; backCloses?: boolean } = {}): Modal {
  const id = ++seq;
  const back = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const headId = `cal-dlg-${id}`;
  const body = h("div", { class: "cal-dlg-body" });
  const foot = h("div", { class: "cal-dlg-foot" });
  const closeBtn = h("button", { type: "button", class: "btn btn-icon cal-dlg-x", "aria-label": t("cal.close"), title: t("cal.close") }, icon("close"));
  const dialog = h(
    "dialog",
    { class: "cal-dialog " + (opts.cls ?? ""), "aria-labelledby": headId },
    h("div", { class: "cal-dlg-head" }, h("h2", { id: headId }, title), closeBtn),
    body,
    foot,
  ) as HTMLDialogElement;
  let resolve!: () => void;
  const closed = new Promise<void>((r) => (resolve = r));
  let done = false;
  const onPop = (): void => {
    if (!done) dialog.close();
  };
  dialog.addEventListener("close", () => {
    if (done) return;
    done = true;
    removeEventListener("popstate", onPop);
    dialog.remove();
    if ((history.state as { pbCalDialog?: number } | null)?.pbCalDialog === id) history.back();
    if (back?.isConnected) back.focus();
    resolve();
  });
  closeBtn.addEventListener("click", () => dialog.close());
  document.body.append(dialog);
  dialog.showModal();
  if (opts.backCloses !== false) {
    history.pushState({ ...(history.state as object | null), pbCalDialog: id }, "", location.href);
    addEventListener("popstate", onPop);
  }
  return { dialog, body, foot, close: () => dialog.close(), closed };
}

/** Asks which occurrences a change or delete of a recurring event applies to; null = cancelled. */
export function askScope(kind: "edit" | "delete"): Promise<SeriesScope | null> {
  const m = openModal(t(kind === "delete" ? "cal.scope.deleteTitle" : "cal.scope.editTitle"), { cls: "cal-scope", backCloses: false });
  let chosen: SeriesScope | null = null;
  const pick = (s: SeriesScope): void => {
    chosen = s;
    m.close();
  };
  const opts: [SeriesScope, string][] = [
    ["this", t("cal.scope.this")],
    ["following", t("cal.scope.following")],
    ["all", t("cal.scope.all")],
  ];
  for (const [s, label] of opts) m.body.append(h("button", { type: "button", class: "btn cal-scope-btn", "data-scope": s, onclick: () => pick(s) }, label));
  m.foot.append(h("button", { type: "button", class: "btn", onclick: () => m.close() }, t("cal.cancel")));
  (m.body.firstElementChild as HTMLElement | null)?.focus();
  return m.closed.then(() => chosen);
}

/** A yes/no question in words; resolves true when confirmed. */
export function confirmModal(title: string, text: string, yes: string): Promise<boolean> {
  const m = openModal(title, { backCloses: false });
  let ok = false;
  m.body.append(h("p", null, text));
  const yesBtn = h("button", { type: "button", class: "btn btn-danger", "data-action": "confirm", onclick: () => ((ok = true), m.close()) }, yes);
  m.foot.append(h("button", { type: "button", class: "btn", onclick: () => m.close() }, t("cal.cancel")), yesBtn);
  yesBtn.focus();
  return m.closed.then(() => ok);
}
