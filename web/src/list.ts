/**
 * The virtualised message list. Only the rows in view (plus a margin) exist
 * in the DOM; rows are fetched from the server in pages as they come into
 * view, so a 50,000-message folder costs the same as a 50-message one.
 */
import type { Row } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { formatListDate, formatSize } from "./util.ts";
import { t, tn } from "./i18n/index.ts";

export interface ListSource {
  /** Stable identity: a new key resets scroll and selection. */
  key: string;
  threads: boolean;
  load(offset: number, limit: number): Promise<{ total: number; items: Row[] }>;
}

export interface ListEvents {
  open(row: Row, index: number): void;
  selectionChanged(ids: number[]): void;
  error(err: unknown): void;
}

const PAGE = 100;

/** A search result's folder as the user knows it (the Inbox in the chosen language). */
function shownFolder(name: string): string {
  return name === "INBOX" ? t("mail.folder.inbox") : name.startsWith("INBOX/") ? `${t("mail.folder.inbox")}/${name.slice(6)}` : name;
}
export const DRAG_TYPE = "application/x-pillarbox-ids";

export class MessageList {
  readonly el: HTMLElement;
  private spacer: HTMLElement;
  private empty: HTMLElement;
  private src: ListSource | null = null;
  private pages = new Map<number, Row[]>();
  private loading = new Set<number>();
  private total = 0;
  private gen = 0;
  private rendered = new Map<number, { el: HTMLElement; version: string }>();
  private rowH = 72;
  private frame = 0;
  selected = new Set<number>();
  cursor = -1;
  /** The cursor's message: after a reload the cursor follows it to its new place. */
  private cursorId: number | null = null;
  /**
   * The selection is only the message opened by a click or a key, not ticked by the user. Ticking a box then
   * starts a new selection: a message only read must not ride along into a Delete (it is invisible on a phone).
   */
  implicitSelection = false;
  private anchor = -1;
  private loadedOnce = false;
  emptyText = t("mail.list.empty");

  constructor(private readonly events: ListEvents) {
    // A grid, not a listbox of options: each row holds a check box, and an option may not contain a control
    // (WAI-ARIA 1.2 §5.3 "option": children presentational). The check box sits in a cell of its own.
    this.spacer = h("div", { class: "list-spacer", role: "rowgroup" });
    this.empty = h("div", { class: "list-empty", hidden: true }, "");
    this.el = h("div", { class: "list-scroll", role: "grid", "aria-label": t("mail.list.label"), "aria-multiselectable": "true", tabindex: 0 }, this.spacer, this.empty);
    this.el.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(this.el);
  }

  get count(): number {
    return this.total;
  }

  get isLoaded(): boolean {
    return this.loadedOnce;
  }

  setSource(src: ListSource): void {
    this.src = src;
    this.gen++;
    this.pages.clear();
    this.loading.clear();
    this.total = 0;
    this.loadedOnce = false;
    this.selected.clear();
    this.cursor = -1;
    this.cursorId = null;
    this.implicitSelection = false;
    this.anchor = -1;
    for (const r of this.rendered.values()) r.el.remove();
    this.rendered.clear();
    this.el.scrollTop = 0;
    this.el.classList.add("is-loading");
    void this.loadPage(0);
  }

  /** Refetches what is on screen (new mail, expunges) without losing the scroll position or selection. */
  reload(): void {
    if (!this.src) return;
    this.gen++;
    const keep = new Map(this.pages);
    this.pages.clear();
    this.loading.clear();
    const [first, last] = this.range();
    const want = new Set<number>();
    for (let i = Math.max(0, first); i <= last; i++) want.add(Math.floor(i / PAGE));
    if (!want.size) want.add(0);
    // Keep showing the old rows until the fresh ones arrive (no flash of "Loading").
    for (const p of want) {
      const old = keep.get(p);
      if (old) this.pages.set(p, old);
    }
    for (const p of want) void this.loadPage(p, true);
  }

  rowAt(index: number): Row | undefined {
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE];
  }

  indexOfId(id: number): number {
    for (const [p, rows] of this.pages) {
      const i = rows.findIndex((r) => r.id === id);
      if (i >= 0) return p * PAGE + i;
    }
    return -1;
  }

  /** Applies a flag change pushed by the server (or made here) to a loaded row. */
  updateFlags(id: number, flags: string[]): void {
    for (const rows of this.pages.values()) {
      const r = rows.find((x) => x.id === id);
      if (r) r.flags = flags;
    }
    this.render();
  }

  /** Removes rows locally (after a move/delete) before the server's view catches up. */
  removeIds(ids: number[]): void {
    const gone = new Set(ids);
    const all: Row[] = [];
    const maxPage = Math.ceil(this.total / PAGE);
    let contiguous = true;
    for (let p = 0; p < maxPage; p++) {
      const rows = this.pages.get(p);
      if (!rows) {
        contiguous = false;
        break;
      }
      all.push(...rows);
    }
    for (const id of ids) this.selected.delete(id);
    if (contiguous) {
      const kept = all.filter((r) => !gone.has(r.id));
      this.pages.clear();
      for (let i = 0; i * PAGE < kept.length; i++) this.pages.set(i, kept.slice(i * PAGE, (i + 1) * PAGE));
      this.total = kept.length;
      this.render();
    } else this.reload();
    this.events.selectionChanged([...this.selected]);
  }

  /** The row to open after `ids` leave the list while `fromId` is open: the next one below, else the one above. */
  neighbourAfterRemoval(ids: number[], fromId: number): number | null {
    const gone = new Set(ids);
    const at = this.indexOfId(fromId);
    const start = at >= 0 ? at : this.cursor;
    if (start < 0) return null;
    for (let i = start + 1; i < this.total; i++) {
      const r = this.rowAt(i);
      if (!r) break;
      if (!gone.has(r.id)) return r.id;
    }
    for (let i = start - 1; i >= 0; i--) {
      const r = this.rowAt(i);
      if (!r) break;
      if (!gone.has(r.id)) return r.id;
    }
    return null;
  }

  /** Forgets the selection (the reading pane was closed: nothing is selected that the user did not tick). */
  clearSelection(): void {
    if (!this.selected.size) return;
    this.selected.clear();
    this.implicitSelection = false;
    this.render();
    this.events.selectionChanged([]);
  }

  setCursor(index: number, opts: { open?: boolean; extend?: boolean } = {}): void {
    if (index < 0 || index >= this.total) return;
    this.cursor = index;
    const row = this.rowAt(index);
    this.cursorId = row?.id ?? null;
    if (!opts.extend) this.selected.clear();
    this.implicitSelection = !opts.extend;
    if (row) this.selected.add(row.id);
    this.anchor = index;
    this.scrollIntoView(index);
    this.render();
    this.events.selectionChanged([...this.selected]);
    if (opts.open && row) this.events.open(row, index);
  }

  move(delta: number): void {
    const next = this.cursor < 0 ? 0 : Math.min(this.total - 1, Math.max(0, this.cursor + delta));
    this.setCursor(next, { open: true });
  }

  /** Ticks every loaded row (that `keep` accepts: select-all.ts keeps to its snapshot of the folder). */
  selectAll(keep: (r: Row) => boolean = () => true): void {
    this.implicitSelection = false;
    for (const rows of this.pages.values()) for (const r of rows) if (keep(r)) this.selected.add(r.id);
    this.render();
    this.events.selectionChanged([...this.selected]);
  }

  private scrollIntoView(index: number): void {
    const top = index * this.rowH;
    if (top < this.el.scrollTop) this.el.scrollTop = top;
    else if (top + this.rowH > this.el.scrollTop + this.el.clientHeight) this.el.scrollTop = top + this.rowH - this.el.clientHeight;
  }

  private async loadPage(p: number, force = false): Promise<void> {
    if (!this.src || this.loading.has(p) || (!force && this.pages.has(p))) return;
    const gen = this.gen;
    const src = this.src;
    this.loading.add(p);
    try {
      const res = await src.load(p * PAGE, PAGE);
      if (gen !== this.gen) return;
      this.total = res.total;
      this.pages.set(p, res.items);
      if (this.cursorId !== null) {
        const at = this.indexOfId(this.cursorId);
        if (at >= 0) this.cursor = at;
      }
      this.loadedOnce = true;
      this.el.classList.remove("is-loading");
      this.render();
      this.el.dispatchEvent(new CustomEvent("pb-loaded", { detail: { total: res.total } }));
    } catch (err) {
      if (gen === this.gen) this.events.error(err);
    } finally {
      if (gen === this.gen) this.loading.delete(p);
    }
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  private range(): [number, number] {
    const top = this.el.scrollTop;
    const h = this.el.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / this.rowH) - 8);
    const last = Math.min(this.total - 1, Math.ceil((top + h) / this.rowH) + 8);
    return [first, last];
  }

  /** Draws the rows in view; rows whose content did not change are kept as they are. */
  private render(): void {
    this.spacer.style.height = `${this.total * this.rowH}px`;
    // Only the rows in view exist: the grid tells assistive technology how many there are in all.
    this.el.setAttribute("aria-rowcount", String(this.total));
    this.empty.hidden = !(this.loadedOnce && this.total === 0);
    this.empty.textContent = this.emptyText;
    const [first, last] = this.range();
    for (const [i, r] of this.rendered) {
      if (i < first || i > last) {
        r.el.remove();
        this.rendered.delete(i);
      }
    }
    for (let i = first; i <= last; i++) {
      const p = Math.floor(i / PAGE);
      if (!this.pages.has(p)) void this.loadPage(p);
      const row = this.rowAt(i);
      const version = row ? `${row.id}|${row.flags.join(",")}|${this.selected.has(row.id) ? 1 : 0}|${this.cursor === i ? 1 : 0}|${row.threadUnread}|${row.threadCount}` : "loading";
      const have = this.rendered.get(i);
      if (have && have.version === version) continue;
      const el = this.renderRow(row, i);
      if (have) have.el.replaceWith(el);
      else this.spacer.append(el);
      this.rendered.set(i, { el, version });
    }
    // Focus stays on the grid while j/k and the arrows move the cursor: assistive technology follows the
    // cursor row through aria-activedescendant (WAI-ARIA 1.2 §6.6 "aria-activedescendant").
    const cur = this.cursor >= 0 ? this.rendered.get(this.cursor)?.el.querySelector<HTMLElement>(".row-body[id]") : null;
    if (cur) this.el.setAttribute("aria-activedescendant", cur.id);
    else this.el.removeAttribute("aria-activedescendant");
  }

  private renderRow(row: Row | undefined, index: number): HTMLElement {
    const style = `transform:translateY(${index * this.rowH}px)`;
    if (!row) return h("div", { class: "row row-loading", style, "aria-hidden": "true" }, h("div", { class: "row-line" }, h("span", { class: "skeleton" })));
    const unread = this.src?.threads ? row.threadUnread > 0 : !row.flags.includes("\\Seen");
    const flagged = row.flags.includes("\\Flagged");
    const cls = ["row", unread ? "unread" : "", flagged ? "flagged" : "", this.selected.has(row.id) ? "selected" : "", this.cursor === index ? "cursor" : "", row.flags.includes("\\Deleted") ? "deleted" : ""]
      .filter(Boolean)
      .join(" ");
    const check = h("input", { type: "checkbox", class: "row-check", "aria-label": t("mail.list.select"), tabindex: -1 });
    check.checked = this.selected.has(row.id);
    check.addEventListener("click", (e) => {
      e.stopPropagation();
      if (this.implicitSelection) this.selected.clear();
      this.implicitSelection = false;
      if (check.checked) this.selected.add(row.id);
      else this.selected.delete(row.id);
      this.render();
      this.events.selectionChanged([...this.selected]);
    });
    const el = h(
      "div",
      { class: cls, style, role: "row", "aria-rowindex": index + 1, "aria-selected": this.selected.has(row.id) ? "true" : "false", draggable: "true", "data-id": row.id, "data-index": index },
      h("div", { class: "row-select", role: "gridcell" }, check),
      h(
        "div",
        { class: "row-body", role: "gridcell", id: `msg-cell-${row.id}` },
        h(
          "div",
          { class: "row-line" },
          h("span", { class: "row-from", title: row.fromAddr }, row.fromName || row.fromAddr || t("mail.noSender")),
          this.src?.threads && row.threadCount > 1 ? h("span", { class: "row-count", title: tn("mail.count.messages", row.threadCount) }, String(row.threadCount)) : null,
          h("span", { class: "row-date" }, formatListDate(row.internalDate)),
        ),
        h(
          "div",
          { class: "row-line" },
          h("span", { class: "row-subject" }, row.subject || t("mail.noSubject")),
          row.hasAttachment ? h("span", { class: "marker", title: t("mail.list.hasAttachments") }, icon("clip", t("mail.list.hasAttachments"))) : null,
          // search results span folders: each says where it is
          row.folderName ? h("span", { class: "row-folder", title: t("mail.list.inFolder", { folder: shownFolder(row.folderName) }) }, shownFolder(row.folderName)) : null,
          flagged ? h("span", { class: "marker marker-flag", title: t("mail.list.flagged") }, icon("star", t("mail.list.flagged"))) : null,
        ),
        h("div", { class: "row-line row-preview" }, row.preview || "\u00a0", h("span", { class: "row-size" }, formatSize(row.size))),
      ),
    );
    el.addEventListener("click", (e) => this.onClick(e, index, row));
    el.addEventListener("dragstart", (e) => {
      if (!this.selected.has(row.id)) {
        this.selected.clear();
        this.selected.add(row.id);
        this.render();
        this.events.selectionChanged([...this.selected]);
      }
      e.dataTransfer?.setData(DRAG_TYPE, JSON.stringify([...this.selected]));
      e.dataTransfer?.setData("text/plain", tn("mail.count.messages", this.selected.size));
      if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
    });
    return el;
  }

  private onClick(e: MouseEvent, index: number, row: Row): void {
    if ((e.shiftKey && this.anchor >= 0) || e.ctrlKey || e.metaKey) this.implicitSelection = false;
    if (e.shiftKey && this.anchor >= 0) {
      const [a, b] = this.anchor < index ? [this.anchor, index] : [index, this.anchor];
      if (!(e.ctrlKey || e.metaKey)) this.selected.clear();
      for (let i = a; i <= b; i++) {
        const r = this.rowAt(i);
        if (r) this.selected.add(r.id);
      }
      this.cursor = index;
      this.render();
      this.events.selectionChanged([...this.selected]);
      return;
    }
    if (e.ctrlKey || e.metaKey) {
      if (this.selected.has(row.id)) this.selected.delete(row.id);
      else this.selected.add(row.id);
      this.anchor = index;
      this.cursor = index;
      this.render();
      this.events.selectionChanged([...this.selected]);
      return;
    }
    this.setCursor(index, { open: true });
  }

  clearView(): void {
    for (const r of this.rendered.values()) r.el.remove();
    this.rendered.clear();
    clear(this.spacer);
  }
}
