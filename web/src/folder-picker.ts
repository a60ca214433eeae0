/**
 * A small modal list of folders to choose one from ("Move to…" from the
 * reading pane or the `v` key). A filter box narrows the list; Enter takes
 * the first folder shown, Escape or Cancel gives null. Focus goes back where
 * it was when the dialog closes.
 */
import type { FolderInfo } from "./api.ts";
import { h, icon } from "./dom.ts";
import { folderIcon, folderLabel, folderPath } from "./util.ts";
import { t } from "./i18n/index.ts";

export function pickFolder(folders: FolderInfo[], opts: { title: string; exclude?: number }): Promise<FolderInfo | null> {
  const before = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => {
    const filter = h("input", { type: "search", class: "picker-filter", placeholder: t("mail.picker.find"), "aria-label": t("mail.picker.find"), autocomplete: "off" }) as HTMLInputElement;
    const list = h("ul", { class: "picker-list", role: "list" });
    const choices = folders.filter((f) => f.id !== opts.exclude);
    const buttons = choices.map((f) => {
      const depth = f.name.split("/").length - 1;
      const b = h(
        "button",
        { type: "button", class: "picker-folder", "data-folder-id": f.id, style: `padding-left:${12 + depth * 16}px`, title: folderPath(f) },
        icon(folderIcon(f)),
        h("span", null, folderLabel(f)),
      );
      b.addEventListener("click", () => done(f));
      list.append(h("li", null, b));
      return { f, b };
    });
    const cancel = h("button", { type: "button", class: "btn", "data-action": "picker-cancel" }, t("mail.cancel"));
    cancel.addEventListener("click", () => done(null));
    const dialog = h("div", { class: "panel picker", role: "dialog", "aria-modal": "true", "aria-label": opts.title }, h("h2", { class: "picker-title" }, opts.title), filter, list, h("div", { class: "picker-foot" }, cancel));
    const overlay = h("div", { class: "overlay picker-overlay" }, dialog);
    overlay.addEventListener("click", (e) => {
      if (e.target === overlay) done(null);
    });
    filter.addEventListener("input", () => {
      const q = filter.value.trim().toLowerCase();
      for (const { f, b } of buttons) b.parentElement!.hidden = q !== "" && !f.name.toLowerCase().includes(q) && !folderPath(f).toLowerCase().includes(q);
    });
    dialog.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        e.preventDefault();
        done(null);
      } else if (e.key === "Enter" && e.target === filter) {
        e.preventDefault();
        const first = buttons.find(({ b }) => !b.parentElement!.hidden);
        if (first) done(first.f);
      } else if (e.key === "Tab") {
        // Keep focus inside the dialog while it is open.
        const items: HTMLElement[] = [filter, ...buttons.filter(({ b }) => !b.parentElement!.hidden).map(({ b }) => b), cancel];
        const i = items.indexOf(document.activeElement as HTMLElement);
        const next = e.shiftKey ? (i <= 0 ? items.length - 1 : i - 1) : i === items.length - 1 ? 0 : i + 1;
        e.preventDefault();
        items[next]!.focus();
      }
    });
    let closed = false;
    function done(f: FolderInfo | null): void {
      if (closed) return;
      closed = true;
      overlay.remove();
      before?.focus();
      resolve(f);
    }
    document.body.append(overlay);
    filter.focus();
  });
}
