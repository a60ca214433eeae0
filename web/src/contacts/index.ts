/**
 * The Contacts app (registered with the shell, apps.ts): address books and
 * the domain's Directory on the left, the list of the chosen book with a
 * search box in the middle, the contact (or its editor) on the right. On a
 * phone the three are stacked panes with Back at the top
 * (section[data-pane] = books | list | detail).
 *
 * Hash argument: "book/id" opens that contact (add-sender.ts uses it).
 * Live: a change to the shown book's folder (or -1 after a reconnect)
 * reloads the list, keeping selection and scroll.
 */
import { ApiError } from "../api.ts";
import { registerApp, type AppContext, type AppView } from "../apps.ts";
import { h, icon, clear } from "../dom.ts";
import { t, tn, onLocaleChange } from "../i18n/index.ts";
import "../i18n/contacts.ts";
import { debounce } from "../util.ts";
import { BookList, DIRECTORY } from "./books.ts";
import * as data from "./data.ts";
import type { CollectionInfo, ContactData, ContactResponse, ContactSummary, DirectoryPerson, Person } from "./data.ts";
import { renderContact, renderDirectoryEntry, type DetailActions } from "./detail.ts";
import { renderEditor } from "./editor.ts";
import { ImportBox } from "./import-export.ts";
import { takeNotice } from "./add-sender.ts";
import { ContactList, type ListItem } from "./list.ts";

type Pane = "books" | "list" | "detail";

/** At most this many contacts found by a search are exported by id (the ids travel in the URL). */
const EXPORT_SHOWN = 200;

class ContactsView implements AppView {
  readonly el: HTMLElement;
  private books: CollectionInfo[] = [];
  private book = "";
  private q = "";
  private contacts: ContactSummary[] = [];
  private directory: DirectoryPerson[] = [];
  private selected: string | null = null;
  private open: ContactResponse | null = null;
  private editing = false;
  private loadSeq = 0;
  private started = false;
  private side: BookList;
  private list: ContactList;
  private search: HTMLInputElement;
  private title: HTMLElement;
  private tools: HTMLElement;
  private detail: HTMLElement;
  private importBox: ImportBox;
  private exportLink = h("a", { class: "btn btn-small" });
  private selBar = h("div", { class: "ct-selbar", role: "toolbar", hidden: true });
  private collator = new Intl.Collator(undefined, { sensitivity: "base", numeric: true });

  constructor(private ctx: AppContext) {
    this.side = new BookList("contacts", true, {
      open: (name) => void this.openBook(name),
      create: () => void this.createBook(),
      rename: (c) => void this.renameBook(c),
      remove: (c) => void this.deleteBook(c),
    });
    this.list = new ContactList(
      (key) => void this.openContact(key),
      () => this.renderSelectionBar(),
    );
    this.search = h("input", { type: "search", class: "ct-search", name: "contact-search", placeholder: t("contacts.search"), "aria-label": t("contacts.search"), autocomplete: "off" }) as HTMLInputElement;
    // A short pause gathers a burst of keys into one request; a stale answer is dropped (loadSeq).
    const runSearch = debounce(() => void this.loadList(), 50);
    this.search.addEventListener("input", () => {
      this.q = this.search.value.trim();
      runSearch();
    });
    this.search.addEventListener("keydown", (e) => {
      if (e.key === "Enter") runSearch.flush();
    });
    this.title = h("h2", { class: "ct-list-title" });
    this.tools = h("div", { class: "ct-list-tools" });
    this.importBox = new ImportBox(() => this.book, () => void this.refresh(), (e) => this.ctx.error(e));
    const back = h("button", { type: "button", class: "btn btn-icon ct-back", "aria-label": t("contacts.books"), title: t("contacts.books"), onclick: () => this.pane("books") }, icon("back"));
    const listPane = h("div", { class: "ct-listpane" }, h("div", { class: "ct-list-head" }, h("div", { class: "ct-list-row" }, back, this.title), this.search, this.tools, this.selBar, this.importBox.el), this.list.el);
    this.detail = h("div", { class: "ct-detail", "aria-live": "polite" });
    this.el = h("section", { class: "app-view app-contacts", role: "main", "aria-label": t("app.contacts"), "data-pane": "list" }, this.side.el, listPane, this.detail);
    this.showEmptyDetail();
    onLocaleChange(() => {
      this.search.placeholder = t("contacts.search");
      this.renderSide();
      this.renderTools();
      this.renderList(true);
    });
  }

  show(arg?: string): void {
    const notice = takeNotice();
    if (notice) this.ctx.toast(notice);
    const target = arg ? /^([^/]+)\/(.+)$/.exec(arg) : null;
    if (!this.started) {
      this.started = true;
      void this.start(target?.[1], target?.[2]);
    } else if (target) {
      void this.openBook(target[1]!, target[2]);
    }
  }

  hide(): void {}

  changed(folderId: number): void {
    const mine = this.books.find((b) => b.folderId === folderId);
    if (!this.started) return;
    this.reloadBooks(); // counts, and books made or renamed elsewhere (debounced: one request for a burst)
    if (folderId === -1 || (mine && mine.name === this.book)) void this.refresh();
  }

  private reloadBooks = debounce(() => {
    data
      .listBooks()
      .then((b) => {
        this.books = b;
        this.renderSide();
      })
      .catch(() => {});
  }, 300);

  private async start(book?: string, id?: string): Promise<void> {
    try {
      this.books = await data.listBooks();
    } catch (e) {
      this.ctx.error(e);
    }
    const first = book && (book === "directory" || this.books.some((b) => b.name === book)) ? book : (this.books.find((b) => b.isDefault) ?? this.books[0])?.name ?? DIRECTORY;
    await this.openBook(first, id);
  }

  private pane(p: Pane): void {
    this.el.dataset.pane = p;
  }

  private get isDirectory(): boolean {
    return this.book === DIRECTORY;
  }

  private get current(): CollectionInfo | undefined {
    return this.books.find((b) => b.name === this.book);
  }

  private renderSide(): void {
    this.side.render(this.books, this.book);
  }

  private renderTools(): void {
    clear(this.tools);
    this.title.textContent = this.isDirectory ? t("contacts.directory") : (this.current?.displayName ?? "");
    if (this.isDirectory || this.current?.readOnly) return;
    const btn = (action: string, label: string, fn: () => void, ic = "plus") => h("button", { type: "button", class: "btn btn-small", "data-action": action, onclick: fn }, icon(ic), label);
    this.tools.append(
      btn("new-contact", t("contacts.newContact"), () => this.edit(data.blankContact("individual"), null)),
      btn("new-group", t("contacts.newGroup"), () => this.edit(data.blankContact("group"), null)),
      this.importBox.button(),
      this.exportLink,
      btn("select", t("contacts.select"), () => this.list.setSelecting(true), "more"),
    );
    this.updateExport();
  }

  /** The bar of select mode: how many are ticked, Export and Write email for them, Done. */
  private renderSelectionBar(): void {
    const ids = [...this.list.checked];
    const on = this.list.el.classList.contains("ct-selecting");
    this.selBar.hidden = !on;
    clear(this.selBar);
    if (!on) return;
    this.selBar.setAttribute("aria-label", t("contacts.select"));
    const exp = h("a", { class: "btn btn-small", "data-action": "export-selected", download: `${this.current?.displayName || this.book}.vcf` }, t("contacts.exportSelected"));
    // The ids travel in the URL: at most EXPORT_SHOWN at once.
    if (ids.length && ids.length <= EXPORT_SHOWN) exp.setAttribute("href", data.exportUrl(this.book, ids));
    else exp.setAttribute("aria-disabled", "true");
    const write = h("button", { type: "button", class: "btn btn-small", "data-action": "write-selected", disabled: !ids.length }, icon("mail"), t("contacts.writeEmail"));
    write.addEventListener("click", () => void this.writeSelected(ids));
    const done = h("button", { type: "button", class: "btn btn-small", "data-action": "select-done", onclick: () => this.list.setSelecting(false) }, t("contacts.selectDone"));
    this.selBar.append(h("span", { class: "ct-selcount" }, tn("contacts.selected", ids.length)), exp, write, done);
  }

  /** Write email to the ticked contacts: each one's preferred (else first) address; groups expanded. */
  private async writeSelected(ids: string[]): Promise<void> {
    const people: Person[] = [];
    const seen = new Set<string>();
    const add = (p: Person) => {
      const k = p.address.toLowerCase();
      if (!k || seen.has(k)) return;
      seen.add(k);
      people.push(p);
    };
    try {
      for (const id of ids) {
        const c = this.contacts.find((x) => x.id === id);
        if (!c) continue;
        if (c.kind === "group") for (const m of await data.expandGroup(this.book, id)) add(m);
        else if (c.emails[0]) add({ name: c.fullName, address: c.emails[0] });
      }
    } catch (e) {
      this.ctx.error(e);
      return;
    }
    if (people.length) this.ctx.compose(people);
    else this.ctx.toast(t("contacts.noAddresses"));
  }

  /** Export: the whole book, or while searching the contacts found (up to EXPORT_SHOWN, kept in one URL). */
  private updateExport(): void {
    const a = this.exportLink;
    const shown = this.q && this.contacts.length && this.contacts.length <= EXPORT_SHOWN ? this.contacts : null;
    a.href = data.exportUrl(this.book, shown?.map((c) => c.id));
    a.download = `${this.current?.displayName || this.book}.vcf`;
    a.dataset.action = shown ? "export-shown" : "export-book";
    a.textContent = shown ? t("contacts.exportShown", { n: shown.length }) : t("contacts.export");
  }

  async openBook(name: string, id?: string): Promise<void> {
    if (name === "directory") name = DIRECTORY; // the hash form ("#/contacts/directory/...")
    if (name !== this.book) {
      this.book = name;
      this.selected = null;
      this.list.setSelecting(false);
      this.importBox.clear();
      if (!this.editing) this.showEmptyDetail();
    }
    this.renderSide();
    this.renderTools();
    this.pane("list");
    await this.loadList();
    if (id) await this.openContact(id);
  }

  /** Re-reads the list (and the open contact unless it is being edited), keeping selection and scroll. */
  private async refresh(): Promise<void> {
    await this.loadList(true);
    if (this.open && !this.editing && !this.isDirectory) {
      try {
        const fresh = await data.readContact(this.open.book, this.open.id);
        if (fresh.etag !== this.open.etag) this.showContact(fresh);
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) {
          this.open = null;
          this.showEmptyDetail();
        }
      }
    }
  }

  async loadList(keepScroll = false): Promise<void> {
    const seq = ++this.loadSeq;
    const book = this.book;
    try {
      if (book === DIRECTORY) {
        const entries = await data.listDirectory(this.q);
        if (seq !== this.loadSeq) return;
        this.directory = entries;
      } else {
        const list = await data.listContacts(book, this.q);
        if (seq !== this.loadSeq) return;
        this.contacts = list;
      }
      this.renderList(keepScroll);
    } catch (e) {
      if (seq === this.loadSeq) this.ctx.error(e);
    }
  }

  private renderList(keepScroll: boolean): void {
    let items: ListItem[];
    if (this.isDirectory) {
      items = this.directory.map((p) => ({ key: `dir:${p.address}`, name: p.name || p.address, sortName: p.name || p.address, sub: p.address, photo: null, group: false }));
    } else {
      items = this.contacts.map((c) => ({
        key: c.id,
        name: c.fullName || c.emails[0] || c.organization,
        sortName: c.sortName || c.fullName,
        sub: c.kind === "group" ? t("contacts.groupOf", { n: c.memberCount }) : (c.emails[0] ?? c.organization ?? c.phones[0] ?? ""),
        photo: c.hasPhoto ? data.photoUrl(c.book, c.id, c.etag) : null,
        group: c.kind === "group",
      }));
    }
    // Sort keys are made once per item (not per comparison): 5,000 contacts sort in a few ms.
    const coll = this.collator;
    const keyed = items.map((it) => {
      const key = it.sortName || it.name;
      const letter = data.letterOf(key);
      // "#" (names not starting with a letter) goes last, as in the phone address books.
      return { it, key, letter: letter === "#" ? "~" : letter };
    });
    keyed.sort((a, b) => (a.letter !== b.letter ? (a.letter < b.letter ? -1 : 1) : coll.compare(a.key, b.key)));
    items = keyed.map((k) => k.it);
    this.list.set(items, { keepScroll, empty: this.q ? t("contacts.noMatch") : t("contacts.empty") });
    if (!this.isDirectory) this.updateExport();
    this.list.select(this.selected);
    performance.mark("pb-contacts-painted");
    this.el.dataset.count = String(items.length);
  }

  private actions(): DetailActions {
    return {
      back: () => this.pane("list"),
      edit: () => this.open && this.edit(this.open.contact, this.open),
      remove: () => void this.remove(),
      writeEmail: () => void this.writeEmail(),
    };
  }

  async openContact(key: string): Promise<void> {
    this.selected = key;
    this.list.select(key);
    this.editing = false;
    if (key.startsWith("dir:")) {
      const p = this.directory.find((d) => `dir:${d.address}` === key);
      if (!p) return;
      this.open = null;
      this.detail.replaceChildren(renderDirectoryEntry(p, { ...this.actions(), writeEmail: () => this.ctx.compose([{ name: p.name, address: p.address }]) }));
      this.pane("detail");
      return;
    }
    try {
      this.showContact(await data.readContact(this.book, key));
      this.pane("detail");
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private showContact(r: ContactResponse): void {
    this.open = r;
    this.editing = false;
    const readOnly = this.current?.readOnly ?? false;
    this.detail.replaceChildren(renderContact(r.book, r.id, r.contact, readOnly, this.contacts, this.actions()));
  }

  private showEmptyDetail(): void {
    this.open = null;
    this.editing = false;
    this.detail.replaceChildren(h("p", { class: "ct-empty ct-detail-empty" }, t("contacts.pick")));
  }

  private edit(c: ContactData, existing: ContactResponse | null): void {
    this.editing = true;
    const form = renderEditor(c, !existing, {
      people: async () => (this.q ? data.listContacts(this.book) : this.contacts),
      cancel: () => {
        this.editing = false;
        if (this.open) this.showContact(this.open);
        else {
          this.showEmptyDetail();
          this.pane("list");
        }
      },
      save: async (next) => {
        try {
          const saved = await data.saveContact(this.book, existing?.id ?? null, next, existing?.etag);
          this.selected = saved.id;
          this.showContact(saved);
          this.ctx.toast(t("contacts.saved"));
          void this.loadList(true);
          this.reloadBooks();
        } catch (e) {
          if (e instanceof ApiError && e.status === 409 && existing) {
            // Stale etag: someone else changed it meanwhile. Show their version and say so.
            const fresh = await data.readContact(existing.book, existing.id);
            this.showContact(fresh);
            this.ctx.toast(t("contacts.conflict"));
            return;
          }
          throw e;
        }
      },
    });
    this.detail.replaceChildren(form);
    this.pane("detail");
    form.querySelector<HTMLElement>("input:not([type=file]), select, textarea")?.focus();
  }

  private async remove(): Promise<void> {
    const r = this.open;
    if (!r) return;
    if (!confirm(t("contacts.confirmDelete", { name: data.displayName(r.contact) || t("contacts.noName") }))) return;
    try {
      await data.deleteContact(r.book, r.id, r.etag);
      this.selected = null;
      this.showEmptyDetail();
      this.pane("list");
      this.ctx.toast(t("contacts.deleted"));
      await this.loadList(true);
      this.reloadBooks();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        this.ctx.toast(t("contacts.conflict"));
        await this.refresh();
        return;
      }
      this.ctx.error(e);
    }
  }

  private async writeEmail(): Promise<void> {
    const r = this.open;
    if (!r) return;
    try {
      if (r.contact.kind === "group") {
        const people = await data.expandGroup(r.book, r.id);
        if (!people.length) return this.ctx.toast(t("contacts.noMembers"));
        this.ctx.compose(people);
      } else {
        const name = data.displayName(r.contact);
        const mail = r.contact.emails.find((e) => e.pref) ?? r.contact.emails[0];
        if (mail) this.ctx.compose([{ name, address: mail.value }]);
      }
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private async createBook(): Promise<void> {
    const name = prompt(t("contacts.newCollectionName"));
    if (!name?.trim()) return;
    try {
      const c = await data.createBook("contacts", name.trim());
      this.books = await data.listBooks();
      await this.openBook(c.name);
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private async renameBook(c: CollectionInfo): Promise<void> {
    const name = prompt(t("contacts.renameCollectionTo"), c.displayName);
    if (!name?.trim() || name.trim() === c.displayName) return;
    try {
      await data.renameBook(c.name, name.trim());
      this.books = await data.listBooks();
      this.renderSide();
      this.renderTools();
    } catch (e) {
      this.ctx.error(e);
    }
  }

  private async deleteBook(c: CollectionInfo): Promise<void> {
    if (!confirm(t("contacts.confirmDeleteCollection", { name: c.displayName, n: c.count }))) return;
    try {
      await data.deleteBook(c.name);
      this.books = await data.listBooks();
      if (this.book === c.name) await this.openBook((this.books.find((b) => b.isDefault) ?? this.books[0])?.name ?? DIRECTORY);
      else this.renderSide();
    } catch (e) {
      this.ctx.error(e);
    }
  }
}

registerApp("contacts", (ctx) => new ContactsView(ctx));
