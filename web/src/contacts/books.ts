/**
 * The side list of collections: the user's own (address books, or task
 * lists; the tasks app uses it too) with New / Rename / Delete, and for
 * contacts the domain's Directory (read-only) at the end.
 */
import { h, icon, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import type { CollectionInfo } from "./data.ts";

export const DIRECTORY = "\u0000directory";

export interface BookListHooks {
  open(name: string): void;
  create(): void;
  rename(c: CollectionInfo): void;
  remove(c: CollectionInfo): void;
}

export class BookList {
  readonly el: HTMLElement;
  private list: HTMLElement;
  private tools: HTMLElement;

  constructor(
    private prefix: "contacts" | "tasks",
    private withDirectory: boolean,
    private hooks: BookListHooks,
  ) {
    this.list = h("ul", { class: "gw-books-list" });
    this.tools = h("div", { class: "gw-books-tools" });
    this.el = h("nav", { class: "gw-books", "aria-label": t(`${prefix}.collections`) }, h("h2", { class: "gw-books-title" }, t(`${prefix}.collections`)), this.list, this.tools);
  }

  render(books: CollectionInfo[], current: string): void {
    clear(this.list);
    const item = (name: string, label: string, count: number | null, c: CollectionInfo | null) => {
      const b = h("button", { type: "button", class: "gw-book", "data-book": name === DIRECTORY ? "directory" : name, "aria-current": name === current ? "true" : null }, icon(name === DIRECTORY ? "search" : this.prefix === "tasks" ? "drafts" : "folder"), h("span", { class: "gw-book-name" }, label), count !== null ? h("span", { class: "badge" }, String(count)) : null);
      b.addEventListener("click", () => this.hooks.open(name));
      const li = h("li", { class: "gw-book-item" }, b);
      if (c && !c.readOnly) {
        const ren = h("button", { type: "button", class: "btn btn-icon btn-tiny", "data-action": "rename-book", "aria-label": t(`${this.prefix}.renameCollection`, { name: label }), title: t(`${this.prefix}.renameCollection`, { name: label }) }, "✎");
        ren.addEventListener("click", () => this.hooks.rename(c));
        li.append(ren);
        if (!c.isDefault) {
          const del = h("button", { type: "button", class: "btn btn-icon btn-tiny", "data-action": "delete-book", "aria-label": t(`${this.prefix}.deleteCollection`, { name: label }), title: t(`${this.prefix}.deleteCollection`, { name: label }) }, "×");
          del.addEventListener("click", () => this.hooks.remove(c));
          li.append(del);
        }
      }
      this.list.append(li);
    };
    for (const c of books) item(c.name, c.displayName || c.name, c.count, c);
    if (this.withDirectory) item(DIRECTORY, t("contacts.directory"), null, null);
    clear(this.tools);
    const add = h("button", { type: "button", class: "btn btn-small", "data-action": "new-book" }, icon("plus"), t(`${this.prefix}.newCollection`));
    add.addEventListener("click", () => this.hooks.create());
    this.tools.append(add);
  }
}
