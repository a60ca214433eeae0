/**
 * "Select all" for the message list (issue 17 item 13): the checkbox in
 * the list header and Ctrl/Cmd+A select every message of the folder, not
 * only the rows loaded so far.
 *
 * The list loads a folder a page at a time, so the selection is a snapshot
 * the server keeps the meaning of (protocols/http/webmail/bulk-api.ts): the
 * folder's count and highest UID when "all" was chosen. The bar says "All N
 * selected" with that N, and the action sends the same snapshot; mail that
 * arrives later is not part of it (its row stays unticked), and if any of
 * the N went away meanwhile the server refuses and the bar shows the new
 * count. So what is acted on is always what the bar said. Any other change
 * of the selection (a box ticked, a row clicked) leaves "all" for the
 * ordinary selection of ticked rows.
 */
import { api, type FolderInfo } from "./api.ts";
import { append, h } from "./dom.ts";
import type { MessageList } from "./list.ts";
import { t, tn } from "./i18n/index.ts";
import { typingTarget } from "./util.ts";
import "./i18n/mail-extra.ts";

type UndoMoves = { id: number; folderId: number }[];
type Action = "delete" | "read" | "unread" | "flag" | "junk" | "notJunk" | "archive" | "restore" | "move";

interface BulkAnswer {
  count: number;
  moved: number;
  deleted: number;
  undo?: UndoMoves;
  folderId?: number;
}

export interface SelectAllHost {
  list: MessageList;
  /** The folder the list shows; null while it shows search results (no folder-wide "all" there). */
  folderId(): number | null;
  folders(): FolderInfo[];
  /** The action is done: reload the list and the folder counts. */
  changed(): void;
  /** A toast with Undo that moves `undo` back (main.ts offerUndo). */
  offerUndo(text: string, undo: UndoMoves | undefined, keyword?: string): void;
  toast(text: string): void;
  error(e: unknown): void;
  /** Ctrl/Cmd+A is for the list now (no dialog open, the mail view shown). */
  keysAllowed(): boolean;
}

export class SelectAll {
  /** The checkbox for the list header. */
  readonly el: HTMLLabelElement;
  private box: HTMLInputElement;
  private snap: { folderId: number; total: number; uidLimit: number } | null = null;
  /** The list's selection is being changed by us, not by the user. */
  private applying = false;
  private bar: HTMLElement | null = null;

  constructor(private readonly host: SelectAllHost) {
    this.box = h("input", { type: "checkbox", class: "select-all-box", "data-action": "select-all" }) as HTMLInputElement;
    this.el = h("label", { class: "select-all", title: t("mail13.all.label") }, this.box, h("span", { class: "select-all-text" }, t("mail13.all.label"))) as HTMLLabelElement;
    this.box.setAttribute("aria-label", t("mail13.all.label"));
    this.box.addEventListener("change", () => {
      if (this.box.checked) void this.selectAll();
      else this.clear();
    });
    // Rows loaded later (scrolling, a reload after new mail) are ticked too when they belong to the snapshot.
    host.list.el.addEventListener("pb-loaded", () => {
      if (this.snap) this.apply();
    });
    document.addEventListener("keydown", (e) => {
      if (!(e.ctrlKey || e.metaKey) || e.altKey || e.shiftKey || e.key.toLowerCase() !== "a") return;
      const box = e.target instanceof HTMLInputElement && e.target.type === "checkbox";
      if ((typingTarget(e.target) && !box) || !host.keysAllowed()) return;
      // In the list (or nowhere in particular): Ctrl+A anywhere else (the reading pane's text) keeps selecting text.
      const target = e.target as Element | null;
      if (target && target !== document.body && !target.closest(".listpane")) return;
      if (host.folderId() === null) return;
      e.preventDefault();
      void this.selectAll();
    });
  }

  get active(): boolean {
    return this.snap !== null;
  }

  /** Selects the whole folder: asks the server what "all" is now, then ticks every loaded row of it. */
  async selectAll(): Promise<void> {
    const folderId = this.host.folderId();
    if (folderId === null) return;
    try {
      const info = await api<{ total: number; uidLimit: number }>("GET", `/api/folders/${folderId}/bulk`);
      if (this.host.folderId() !== folderId) return;
      if (!info.total) {
        this.box.checked = false;
        return;
      }
      this.snap = { folderId, total: info.total, uidLimit: info.uidLimit };
      this.box.checked = true;
      this.box.indeterminate = false;
      this.apply();
    } catch (e) {
      this.box.checked = false;
      this.host.error(e);
    }
  }

  private apply(): void {
    const snap = this.snap!;
    this.applying = true;
    try {
      this.host.list.selectAll((r) => r.uid <= snap.uidLimit);
    } finally {
      this.applying = false;
    }
  }

  /** Leaves "all" (the folder changed, or the user cleared it) and clears the list's selection. */
  clear(): void {
    const had = this.snap !== null;
    this.snap = null;
    this.box.checked = false;
    this.box.indeterminate = false;
    if (had) this.host.list.clearSelection();
  }

  /** The list now shows something else (another folder, a search, a new sort): "all" no longer applies. */
  reset(): void {
    this.snap = null;
    this.box.checked = false;
    this.box.indeterminate = false;
    this.el.hidden = false;
  }

  /** Search results are not a folder: no folder-wide "all" there. */
  setSearching(searching: boolean): void {
    this.reset();
    this.el.hidden = searching;
  }

  /**
   * Called with every selection change (main.ts updateBulk). While "all" is active and the change is
   * ours, fills the bulk bar with the folder-wide actions and returns true; a change by the user ends
   * "all" and the ordinary bar takes over (false).
   */
  onSelection(ids: number[], bar: HTMLElement): boolean {
    if (this.snap && !this.applying) {
      this.snap = null;
      this.box.checked = false;
    }
    if (!this.snap) {
      // Some rows ticked (a message only opened is not a selection the user made).
      this.box.indeterminate = ids.length > 0 && !this.host.list.implicitSelection;
      return false;
    }
    this.bar = bar;
    this.renderBar(bar);
    return true;
  }

  private renderBar(bar: HTMLElement): void {
    const snap = this.snap!;
    while (bar.firstChild) bar.firstChild.remove();
    bar.hidden = false;
    const folder = this.host.folders().find((f) => f.id === snap.folderId);
    const inTrash = folder?.specialUse === "\\Trash";
    const inJunk = folder?.specialUse === "\\Junk";
    const b = (label: string, action: Action, dataAction: string) => {
      const el = h("button", { type: "button", class: "btn btn-small", "data-action": dataAction }, label);
      el.addEventListener("click", () => void this.run(action));
      return el;
    };
    const moveSel = h(
      "select",
      { class: "btn-small", "aria-label": t("mail13.all.moveTo"), "data-action": "all-move" },
      h("option", { value: "" }, t("mail13.all.moveTo")),
      this.host.folders().filter((f) => f.id !== snap.folderId).map((f) => h("option", { value: f.id }, f.name === "INBOX" ? t("mail13.all.inbox") : f.name)),
    ) as HTMLSelectElement;
    moveSel.addEventListener("change", () => {
      if (moveSel.value) void this.run("move", Number(moveSel.value));
    });
    const clearBtn = h("button", { type: "button", class: "btn btn-small", "data-action": "all-clear" }, t("mail13.all.clear"));
    clearBtn.addEventListener("click", () => this.clear());
    append(bar, [
      h("span", { class: "bulk-n", "data-all": "1" }, tn("mail13.all.selected", snap.total)),
      b(inTrash ? t("mail13.all.deleteForever") : t("mail13.all.delete"), "delete", "all-delete"),
      b(t("mail13.all.read"), "read", "all-read"),
      b(t("mail13.all.unread"), "unread", "all-unread"),
      b(t("mail13.all.flag"), "flag", "all-flag"),
      inJunk ? b(t("mail13.all.notJunk"), "notJunk", "all-notjunk") : b(t("mail13.all.junk"), "junk", "all-junk"),
      inTrash ? b(t("mail13.all.restore"), "restore", "all-restore") : folder?.specialUse === "\\Archive" ? null : b(t("mail13.all.archive"), "archive", "all-archive"),
      moveSel,
      clearBtn,
    ]);
  }

  /**
   * The list's keys while the whole folder is selected (main.ts onKey): Delete/#, e (Archive, or
   * Restore in Trash), u (unread) act on all of it, v goes to the bar's Move list. True when handled.
   */
  handleKey(key: string): boolean {
    const snap = this.snap;
    if (!snap) return false;
    const trash = this.host.folders().find((f) => f.id === snap.folderId)?.specialUse === "\\Trash";
    if (key === "Delete" || key === "#") void this.run("delete");
    else if (key === "e") void this.run(trash ? "restore" : "archive");
    else if (key === "u") void this.run("unread");
    else if (key === "v") this.bar?.querySelector<HTMLSelectElement>('[data-action="all-move"]')?.focus();
    else return false;
    return true;
  }

  private async run(action: Action, folderId?: number): Promise<void> {
    const snap = this.snap;
    if (!snap) return;
    // Deleting from Trash is for good: the one action here without Undo asks first.
    const folder = this.host.folders().find((f) => f.id === snap.folderId);
    if (action === "delete" && folder?.specialUse === "\\Trash" && !confirm(tn("mail13.all.confirmForever", snap.total))) return;
    for (const el of this.bar?.querySelectorAll<HTMLButtonElement | HTMLSelectElement>("button, select") ?? []) el.disabled = true;
    let res: BulkAnswer;
    try {
      res = await api<BulkAnswer>("POST", `/api/folders/${snap.folderId}/bulk`, { action, uidLimit: snap.uidLimit, expect: snap.total, folderId });
    } catch (e) {
      this.host.error(e);
      // The folder changed meanwhile (409): show what "all" is now, for the person to decide again.
      if (this.snap === snap) {
        this.snap = null;
        await this.selectAll();
      }
      return;
    }
    this.clear();
    this.host.changed();
    const n = res.count;
    const dest = this.host.folders().find((f) => f.id === (folderId ?? res.folderId));
    const where = dest ? (dest.name === "INBOX" ? t("mail13.all.inbox") : dest.name) : "";
    switch (action) {
      case "delete":
        if (res.deleted) return this.host.toast(tn("mail13.done.deletedForever", res.deleted));
        return this.host.offerUndo(tn("mail13.done.trashed", res.moved), res.undo);
      case "junk":
        return this.host.offerUndo(tn("mail13.done.junk", res.moved), res.undo, "$Junk");
      case "notJunk":
        return this.host.offerUndo(tn("mail13.done.notJunk", res.moved), res.undo, "$NotJunk");
      case "archive":
      case "move":
        return this.host.offerUndo(tn("mail13.done.moved", res.moved, { folder: where }), res.undo);
      case "restore":
        return this.host.toast(tn("mail13.done.restored", res.moved));
      default:
        return this.host.toast(tn("mail13.done.updated", n));
    }
  }
}
