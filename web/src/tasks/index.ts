/**
 * The Tasks app (registered with the shell, apps.ts): task lists on the
 * left, the chosen list in the middle (quick-add box on top, sort, show or
 * hide completed), the editor on the right. On a phone the three are
 * stacked panes with Back at the top (section[data-pane]).
 *
 * Completing a recurring task: the server stores the done occurrence and
 * moves the task to its next one (api-types.ts, PUT /api/tasks); the page
 * says the next due date. Live: a change to the shown list's folder (or -1
 * after a reconnect) reloads.
 */
import { ApiError } from "../api.ts";
import { registerApp, type AppContext, type AppView } from "../apps.ts";
import { h, icon, clear } from "../dom.ts";
import { t, onLocaleChange } from "../i18n/index.ts";
import "../i18n/tasks.ts";
import { debounce } from "../util.ts";
import { BookList } from "../contacts/books.ts";
import { createBook, deleteBook, listBooks, renameBook, type CollectionInfo } from "../contacts/data.ts";
import * as data from "./data.ts";
import type { SortKey, TaskData, TaskSummary } from "./data.ts";
import { renderTaskEditor } from "./editor.ts";
import { taskRow } from "./list.ts";

class TasksView implements AppView {
  readonly el: HTMLElement;
  private lists: CollectionInfo[] = [];
  private list = "";
  private tasks: TaskSummary[] = [];
  private sort: SortKey = (localStorage.getItem("pb-tasks-sort") as SortKey | null) ?? "due";
  private showCompleted = localStorage.getItem("pb-tasks-completed") === "1";
  private selected: string | null = null;
  private editing: string | null = null;
  private seq = 0;
  private started = false;
  private side: BookList;
  private rows: HTMLElement;
  private title: HTMLElement;
  private quick: HTMLInputElement;
  private detail: HTMLElement;
  private collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

  constructor(private ctx: AppContext) {
    this.side = new BookList("tasks", false, {
      open: (name) => void this.openList(name),
      create: () => void this.createList(),
      rename: (c) => void this.renameList(c),
      remove: (c) => void this.deleteList(c),
    });
    this.quick = h("input", { type: "text", class: "tk-quick", name: "quick-add", placeholder: t("tasks.quickAdd"), "aria-label": t("tasks.quickAdd"), autocomplete: "off", maxlength: 500, disabled: true }) as HTMLInputElement;
    // Enabled once a list is open (openList): a task typed before the lists arrive would have nowhere to go.
    this.quick.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && this.quick.value.trim()) {
        e.preventDefault();
        void this.quickAdd(this.quick.value.trim());
      }
    });
    const sort = h("select", { class: "tk-sort", "aria-label": t("tasks.sortBy") }, (["due", "priority", "title"] as const).map((k) => h("option", { value: k, selected: k === this.sort }, t(`tasks.sort.${k}`)))) as HTMLSelectElement;
    sort.addEventListener("change", () => {
      this.sort = sort.value as SortKey;
      localStorage.setItem("pb-tasks-sort", this.sort);
      this.render();
    });
    const completed = h("input", { type: "checkbox", name: "show-completed", checked: this.showCompleted }) as HTMLInputElement;
    completed.addEventListener("change", () => {
      this.showCompleted = completed.checked;
      localStorage.setItem("pb-tasks-completed", this.showCompleted ? "1" : "0");
      void this.load();
    });
    this.title = h("h2", { class: "ct-list-title" });
    this.rows = h("ul", { class: "tk-list", "aria-label": t("app.tasks") });
    const back = h("button", { type: "button", class: "btn btn-icon ct-back", "aria-label": t("tasks.lists"), title: t("tasks.lists"), onclick: () => this.pane("books") }, icon("back"));
    const head = h(
      "div",
      { class: "ct-list-head" },
      h("div", { class: "ct-list-row" }, back, this.title),
      this.quick,
      h("div", { class: "tk-controls" }, h("label", { class: "tk-sort-label" }, t("tasks.sortBy"), " ", sort), h("label", { class: "check" }, completed, " ", t("tasks.showCompleted"))),
    );
    this.detail = h("div", { class: "ct-detail" });
    this.el = h("section", { class: "app-view app-tasks", role: "main", "aria-label": t("app.tasks"), "data-pane": "list" }, this.side.el, h("div", { class: "ct-listpane" }, head, h("div", { class: "tk-scroll" }, this.rows)), this.detail);
    this.showEmpty();
    onLocaleChange(() => {
      this.side.render(this.lists, this.list);
      this.render();
    });
  }

  show(arg?: string): void {
    if (!this.started) {
      this.started = true;
      void this.start(arg);
    } else if (arg && arg !== this.list) void this.openList(arg);
  }

  hide(): void {}

  changed(folderId: number): void {
    if (!this.started) return;
    const mine = this.lists.find((l) => l.folderId === folderId);
    this.reloadLists(); // counts, and lists made or renamed elsewhere (debounced)
    if (folderId === -1 || mine?.name === this.list) void this.load();
  }

  private reloadLists = debounce(() => {
    listBooks("tasks")
      .then((l) => {
        this.lists = l;
        this.side.render(this.lists, this.list);
      })
      .catch(() => {});
  }, 300);

  private async start(arg?: string): Promise<void> {
    try {
      this.lists = await listBooks("tasks");
    } catch (e) {
      this.ctx.error(e);
    }
    const first = (arg && this.lists.find((l) => l.name === arg)) || this.lists.find((l) => l.isDefault) || this.lists[0];
    if (first) await this.openList(first.name);
    else this.side.render(this.lists, "");
  }

  private pane(p: "books" | "list" | "detail"): void {
    this.el.dataset.pane = p;
  }

  private async openList(name: string): Promise<void> {
    if (name !== this.list) {
      this.list = name;
      this.selected = null;
      this.showEmpty();
    }
    this.quick.disabled = false;
    this.side.render(this.lists, this.list);
    this.title.textContent = this.lists.find((l) => l.name === name)?.displayName ?? name;
    this.pane("list");
    await this.load();
  }

  private async load(): Promise<void> {
    if (!this.list) return;
    const seq = ++this.seq;
    try {
      const tasks = await data.listTasks(this.list, this.showCompleted);
      if (seq !== this.seq) return;
      this.tasks = tasks;
      this.render();
    } catch (e) {
      if (seq === this.seq) this.ctx.error(e);
    }
  }

  private render(): void {
    const shown = data.sortTasks(this.showCompleted ? this.tasks : this.tasks.filter((x) => x.status !== "COMPLETED"), this.sort, this.collator);
    const top = this.rows.parentElement?.scrollTop ?? 0;
    clear(this.rows);
    if (!shown.length) this.rows.append(h("li", { class: "ct-empty" }, t("tasks.empty")));
    const hooks = { toggle: (x: TaskSummary, done: boolean) => void this.toggle(x, done), open: (x: TaskSummary) => void this.openTask(x) };
    for (const task of shown) this.rows.append(taskRow(task, task.id === this.selected, hooks));
    if (this.rows.parentElement) this.rows.parentElement.scrollTop = top;
    this.el.dataset.count = String(shown.length);
  }

  private showEmpty(): void {
    this.editing = null;
    this.detail.replaceChildren(h("p", { class: "ct-empty ct-detail-empty" }, t("tasks.pick")));
  }

  private async quickAdd(title: string): Promise<void> {
    this.quick.disabled = true;
    try {
      await data.saveTask(this.list, null, data.blankTask(title));
      this.quick.value = "";
      await this.load();
    } catch (e) {
      this.ctx.error(e);
    } finally {
      this.quick.disabled = false;
      this.quick.focus();
    }
  }

  private async toggle(s: TaskSummary, done: boolean): Promise<void> {
    const task = data.taskOf(s);
    task.status = done ? "COMPLETED" : "NEEDS-ACTION";
    task.percent = done ? 100 : 0;
    task.completed = done ? Date.now() : null;
    try {
      const r = await data.saveTask(s.list, s.id, task, s.etag);
      // A recurring task comes back open on its next occurrence.
      if (done && s.recurrence && r.task.status !== "COMPLETED") this.ctx.toast(r.task.due ? t("tasks.nextDue", { date: data.wallText(r.task.due) }) : t("tasks.nextOccurrence"));
      await this.load();
      if (this.editing === s.id) this.edit(r.task, r.id, r.etag);
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) this.ctx.toast(t("tasks.conflict"));
      else this.ctx.error(e);
      await this.load();
    }
  }

  private async openTask(s: TaskSummary): Promise<void> {
    try {
      const r = await data.readTask(s.list, s.id);
      this.edit(r.task, r.id, r.etag);
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private edit(task: TaskData, id: string | null, etag?: string): void {
    this.selected = id;
    this.editing = id;
    this.render();
    const list = this.list;
    const form = renderTaskEditor(task, !id, {
      cancel: () => {
        this.selected = null;
        this.showEmpty();
        this.render();
        this.pane("list");
      },
      remove: id
        ? () => {
            if (!confirm(t("tasks.confirmDelete", { title: task.title || t("tasks.untitled") }))) return;
            data
              .deleteTask(list, id, etag ?? "")
              .then(async () => {
                this.selected = null;
                this.showEmpty();
                this.pane("list");
                this.ctx.toast(t("tasks.deleted"));
                await this.load();
              })
              .catch(async (e: unknown) => {
                if (e instanceof ApiError && e.status === 409) {
                  this.ctx.toast(t("tasks.conflict"));
                  const fresh = await data.readTask(list, id);
                  this.edit(fresh.task, fresh.id, fresh.etag);
                } else this.ctx.error(e);
              });
          }
        : null,
      save: async (next) => {
        try {
          const r = await data.saveTask(list, id, next, etag);
          if (id && next.status === "COMPLETED" && next.recurrence && r.task.status !== "COMPLETED") this.ctx.toast(r.task.due ? t("tasks.nextDue", { date: data.wallText(r.task.due) }) : t("tasks.nextOccurrence"));
          else this.ctx.toast(t("tasks.saved"));
          this.edit(r.task, r.id, r.etag);
          await this.load();
        } catch (e) {
          if (e instanceof ApiError && e.status === 409 && id) {
            const fresh = await data.readTask(list, id);
            this.edit(fresh.task, fresh.id, fresh.etag);
            this.ctx.toast(t("tasks.conflict"));
            return;
          }
          throw e;
        }
      },
    });
    this.detail.replaceChildren(form);
    this.pane("detail");
  }

  private async createList(): Promise<void> {
    const name = prompt(t("tasks.newCollectionName"));
    if (!name?.trim()) return;
    try {
      const c = await createBook("tasks", name.trim());
      this.lists = await listBooks("tasks");
      await this.openList(c.name);
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private async renameList(c: CollectionInfo): Promise<void> {
    const name = prompt(t("tasks.renameCollectionTo"), c.displayName);
    if (!name?.trim() || name.trim() === c.displayName) return;
    try {
      await renameBook(c.name, name.trim());
      this.lists = await listBooks("tasks");
      await this.openList(this.list);
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private async deleteList(c: CollectionInfo): Promise<void> {
    if (!confirm(t("tasks.confirmDeleteCollection", { name: c.displayName, n: c.count }))) return;
    try {
      await deleteBook(c.name);
      this.lists = await listBooks("tasks");
      const next = this.lists.find((l) => l.isDefault) ?? this.lists[0];
      if (this.list === c.name) {
        this.list = "";
        this.quick.disabled = true;
        if (next) await this.openList(next.name);
      } else this.side.render(this.lists, this.list);
    } catch (e) {
      this.ctx.error(e);
    }
  }
}

registerApp("tasks", (ctx) => new TasksView(ctx));
