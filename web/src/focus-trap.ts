/**
 * Focus handling for modal dialogs (WAI-ARIA Authoring Practices 1.2,
 * "Dialog (Modal) pattern"): while a dialog is open, Tab and Shift+Tab cycle
 * through its own controls only, Escape closes it, and when it closes the
 * focus goes back to the control that opened it (or to a fallback when that
 * one is gone), so a keyboard or screen-reader user never lands on the page
 * behind the dialog or at the top of the document.
 *
 * Used by the settings dialog and the composer, and meant for the groupware
 * dialogs too (event, contact and task editors):
 *
 *   const trap = trapFocus(dialogEl, { onEscape: () => close() });
 *   ...
 *   trap.release(); // on close: removes the listeners and restores focus
 */

/** What can take focus by keyboard (hidden, disabled and tabindex=-1 elements are left out). */
const FOCUSABLE = [
  "a[href]",
  "area[href]",
  "button:not([disabled])",
  "input:not([disabled]):not([type=hidden])",
  "select:not([disabled])",
  "textarea:not([disabled])",
  "iframe",
  "summary",
  "[contenteditable]:not([contenteditable=false])",
  "[tabindex]",
].join(",");

/** The keyboard-focusable elements inside `root`, in document (tab) order. */
export function focusableIn(root: ParentNode): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const el of root.querySelectorAll<HTMLElement>(FOCUSABLE)) {
    if (el.tabIndex < 0 || el.closest("[hidden],[inert]")) continue;
    // Not rendered (display:none here or in an ancestor, or visibility:hidden): the browser skips it too.
    if (!el.getClientRects().length || getComputedStyle(el).visibility === "hidden") continue;
    out.push(el);
  }
  return out;
}

export interface FocusTrapOptions {
  /** Called on Escape (the dialog closes itself, normally by calling release()). */
  onEscape?: () => void;
  /** Where focus goes at once; default: the first focusable element (or the dialog itself). */
  initial?: HTMLElement | null;
  /** Where focus returns on release; default: what had focus when the trap was set. */
  returnTo?: HTMLElement | null;
  /** When the element to return to is gone from the page by then. */
  fallback?: () => HTMLElement | null | undefined;
}

export interface FocusTrap {
  /** Stops trapping and puts focus back (call once the dialog is hidden or removed). */
  release(opts?: { restore?: boolean }): void;
  /** The element focus will return to. */
  readonly returnTo: HTMLElement | null;
}

/**
 * Keeps keyboard focus inside `root` until release(). Focus that escapes by
 * other means (a click on the page behind a non-modal panel, a script) is
 * brought back on the next Tab.
 */
export function trapFocus(root: HTMLElement, opts: FocusTrapOptions = {}): FocusTrap {
  const active = document.activeElement;
  const returnTo = opts.returnTo !== undefined ? opts.returnTo : active instanceof HTMLElement && active !== document.body ? active : null;
  // Escape bubbles up from inside the dialog: an autocomplete list or a menu in it handles its own Escape
  // first (and calls preventDefault) before the dialog closes.
  const onEscape = (e: KeyboardEvent): void => {
    if (e.key !== "Escape" || !opts.onEscape || e.defaultPrevented) return;
    e.preventDefault();
    e.stopPropagation();
    opts.onEscape();
  };
  const onKey = (e: KeyboardEvent): void => {
    if (e.key !== "Tab" || e.defaultPrevented) return;
    const items = focusableIn(root);
    if (!items.length) {
      e.preventDefault();
      root.focus();
      return;
    }
    const first = items[0]!;
    const last = items[items.length - 1]!;
    const cur = document.activeElement as HTMLElement | null;
    const inside = !!cur && root.contains(cur);
    if (e.shiftKey && (!inside || cur === first || cur === root)) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && (!inside || cur === last)) {
      e.preventDefault();
      first.focus();
    }
  };
  // Capture on the document: Tab pressed while focus already slipped out is caught too.
  document.addEventListener("keydown", onKey, true);
  root.addEventListener("keydown", onEscape);
  if (!root.hasAttribute("tabindex")) root.setAttribute("tabindex", "-1");
  const start = opts.initial ?? focusableIn(root)[0] ?? root;
  start.focus();
  let released = false;
  return {
    returnTo,
    release({ restore = true } = {}) {
      if (released) return;
      released = true;
      document.removeEventListener("keydown", onKey, true);
      root.removeEventListener("keydown", onEscape);
      if (!restore) return;
      const target = returnTo?.isConnected && returnTo.getClientRects().length ? returnTo : opts.fallback?.();
      target?.focus();
    },
  };
}
