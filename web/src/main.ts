/**
 * Pillarbox webmail client: boots from /api/session, lays out the folder
 * pane, message list and reading pane, and wires actions, live updates,
 * search, keyboard shortcuts and themes.
 */
import { api, setCsrf, ApiError, type FolderInfo, type Message, type Row, type Session, type Settings } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { MessageList, DRAG_TYPE, type ListSource } from "./list.ts";
import { Reader } from "./reader.ts";
import { Composer } from "./compose.ts";
import { SettingsPanel } from "./settings.ts";
import { pickFolder } from "./folder-picker.ts";
import { debounce, folderIcon, folderLabel, folderPath, typingTarget } from "./util.ts";
import { undoToast, ErrorSlot, LiveStream } from "./undo.ts";
import { AppShell } from "./apps.ts";
import { SelectAll } from "./select-all.ts";
import { MailNotifier } from "./notify.ts";
import { printMessage, installPrintHook } from "./print.ts";
import { chooseLang, formatNumber, onLocaleChange, setLang, setTimeZone, t, tn, lang, timeZone } from "./i18n/index.ts";
import "./i18n/mail.ts";
// The groupware views register themselves with the app shell (apps.ts).
import "./calendar/index.ts";
import { startReminders } from "./calendar/reminders.ts";
import "./contacts/index.ts";
import "./tasks/index.ts";

/** Where a moved message is now and the folder it came from (the server's `undo` answer). */
type UndoMoves = { id: number; folderId: number }[];

type Sort = "date" | "from" | "subject" | "size";

/** The browser's own zone (a time zone setting of "" means this one). */
const BROWSER_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

class App {
  session!: Session;
  settings: Settings | null = null;
  folders: FolderInfo[] = [];
  folderId = 0;
  sort: Sort = "date";
  desc = true;
  threads = false;
  searching: { q: string; from: string; after: string; before: string; attachment: boolean; all: boolean } | null = null;

  list!: MessageList;
  reader!: Reader;
  composer!: Composer;
  settingsPanel!: SettingsPanel;
  /** Item 13: the whole folder selected, and desktop notifications. */
  selectAll!: SelectAll;
  notifier!: MailNotifier;
  /** Mail, Calendar, Contacts, Tasks: which one is shown (apps.ts). */
  apps!: AppShell;
  folderNav!: HTMLElement;
  listTitle!: HTMLElement;
  listCount!: HTMLElement;
  bulkBar!: HTMLElement;
  toasts!: HTMLElement;
  searchInput!: HTMLInputElement;
  /** The live-update stream; it reconnects with backoff by itself (undo.ts). */
  private events: LiveStream | null = null;
  /** One visible error at a time (item 11). */
  private errors!: ErrorSlot;
  /** The live stream is down (the server restarts or the network is gone). */
  private offline = false;
  private refreshFolders = debounce(() => void this.loadFolders(), 250);
  private reloadList = debounce(() => this.list.reload(), 200);
  /** Messages this page is moving or deleting right now (their expunge events are expected). */
  private removingIds = new Set<number>();

  async boot(): Promise<void> {
    this.applyTheme();
    // The settings (language, time zone) are asked for together with the session, so the page is built
    // once in the right language and zone (item 12); they cost no extra round trip.
    const settings = api<Settings>("GET", "/api/settings").catch(() => null);
    try {
      this.session = await api<Session>("GET", "/api/session");
    } catch {
      location.href = "/login";
      return;
    }
    setCsrf(this.session.csrf);
    this.settings = await settings;
    // Language and zone before the first paint: the saved setting, else the last one this browser saw,
    // else the browser's languages.
    if (this.settings) this.applyLocale(this.settings, false);
    else setLang(chooseLang(localStorage.getItem("pb-lang"), navigator.languages ?? [navigator.language]));
    this.build();
    onLocaleChange(() => this.apps.relabel());
    this.apps.route();
    await this.loadFolders();
    const inbox = this.folders.find((f) => f.name === "INBOX") ?? this.folders[0];
    if (inbox) this.openFolder(inbox.id);
    this.connectEvents();
    startReminders({ openApp: (name, arg) => (location.hash = `#/${name}${arg ? "/" + arg : ""}`) });
    installPrintHook(() => (this.apps.current === "mail" ? this.reader.current : null));
    document.addEventListener("keydown", (e) => this.onKey(e));
    matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => this.applyTheme());
  }

  /**
   * The language and time zone of the settings (a setting of "" follows the browser). Once the page is
   * built (`built`), a change reloads it: every text and date (toolbars, labels, the list, the open views)
   * is then drawn afresh in the new language and zone, which no per-widget re-render would guarantee.
   */
  applyLocale(s: Settings, built = true): void {
    const chosen = chooseLang(s.language ?? "", navigator.languages ?? [navigator.language]);
    const zone = s.timeZone || BROWSER_ZONE;
    localStorage.setItem("pb-lang", s.language ?? "");
    if (built && (chosen !== lang() || zone !== timeZone())) {
      location.reload();
      return;
    }
    setTimeZone(zone);
    setLang(chosen);
  }

  // ---------------------------------------------------------------- layout
  private build(): void {
    const root = document.getElementById("app")!;
    clear(root);
    this.list = new MessageList({
      open: (row) => this.openRow(row),
      selectionChanged: (ids) => this.updateBulk(ids),
      error: (e) => this.error(e),
    });
    // Item 13: select the whole folder (header checkbox, Ctrl/Cmd+A) and desktop notifications for new mail.
    this.selectAll = new SelectAll({
      list: this.list,
      folderId: () => (this.searching ? null : this.folderId),
      folders: () => this.folders,
      changed: () => {
        this.list.reload();
        this.refreshFolders();
      },
      offerUndo: (text, undo, keyword) => this.offerUndo(text, undo, keyword),
      toast: (text) => this.toast(text),
      error: (e) => this.error(e),
      keysAllowed: () => !this.composer.isOpen && !this.settingsPanel.isOpen && this.apps.current === "mail",
    });
    this.notifier = new MailNotifier({
      inboxId: () => this.folders.find((f) => f.name === "INBOX")?.id,
      open: (id) => {
        if (this.apps.current !== "mail") location.hash = "#/";
        const inbox = this.folders.find((f) => f.name === "INBOX");
        if (inbox && (inbox.id !== this.folderId || this.searching)) this.openFolder(inbox.id);
        if (id !== null) {
          document.body.classList.add("reading");
          void this.reader.show(id);
        }
      },
    });
    this.list.el.addEventListener("pb-loaded", () => {
      this.listCount.textContent = this.countText();
      if (!document.body.dataset.listReady) {
        // The second frame callback runs once the first frame with the rows has been painted.
        requestAnimationFrame(() =>
          requestAnimationFrame(() => {
            document.body.dataset.listReady = "1";
            performance.mark("pb-list-painted");
          }),
        );
      }
    });
    this.reader = new Reader({
      trustedSender: (a) => (this.settings?.trustedImageSenders ?? []).includes(a.toLowerCase()),
      trustSender: async (a) => {
        const list = [...new Set([...(this.settings?.trustedImageSenders ?? []), a.toLowerCase()])];
        await api("PUT", "/api/settings", { trustedImageSenders: list });
        if (this.settings) this.settings.trustedImageSenders = list;
      },
      action: (name, msg) => void this.messageAction(name, msg).catch((e) => this.error(e)),
      markSeen: (msg) => void this.setFlags([msg.id], ["\\Seen"], []).catch(() => {}),
      error: (e) => this.error(e),
      isJunkFolder: (id) => this.folders.find((f) => f.id === id)?.specialUse === "\\Junk",
      isDraftsFolder: (id) => this.folders.find((f) => f.id === id)?.specialUse === "\\Drafts",
      isTrashFolder: (id) => this.folders.find((f) => f.id === id)?.specialUse === "\\Trash",
      isArchiveFolder: (id) => this.folders.find((f) => f.id === id)?.specialUse === "\\Archive",
      close: () => this.closeReader(),
    });
    this.composer = new Composer({
      session: this.session,
      settings: () => this.settings,
      error: (e) => this.error(e),
      toast: (t) => this.toast(t),
      afterSend: (res?: { held?: { id: number; sendAt: number } }) => {
        this.refreshFolders();
        this.reloadList();
        if (res?.held) this.offerUndoSend(res.held);
      },
      draftsChanged: () => {
        this.refreshFolders();
        if (this.currentFolder()?.specialUse === "\\Drafts") this.reloadList();
      },
    });
    this.settingsPanel = new SettingsPanel({
      settings: () => this.settings,
      saved: (s) => (this.settings = s),
      applyLocale: (s) => this.applyLocale(s),
      toast: (t) => this.toast(t),
      theme: () => localStorage.getItem("pb-theme") ?? "auto",
      setTheme: (t) => {
        localStorage.setItem("pb-theme", t);
        this.applyTheme();
      },
    });

    this.searchInput = h("input", { type: "search", name: "q", placeholder: t("mail.search.placeholder"), "aria-label": t("mail.search.placeholder"), autocomplete: "off", title: t("mail.search.help") }) as HTMLInputElement;
    const fFrom = h("input", { type: "text", name: "from", placeholder: t("mail.search.from") }) as HTMLInputElement;
    const fAfter = h("input", { type: "date", name: "after", "aria-label": t("mail.search.after") }) as HTMLInputElement;
    const fBefore = h("input", { type: "date", name: "before", "aria-label": t("mail.search.before") }) as HTMLInputElement;
    const fAtt = h("input", { type: "checkbox", name: "attachment" }) as HTMLInputElement;
    const fAll = h("input", { type: "checkbox", name: "all", checked: true }) as HTMLInputElement;
    const filters = h(
      "div",
      { class: "search-filters", hidden: true },
      h("label", null, t("mail.search.from") + " ", fFrom),
      h("label", null, t("mail.search.after") + " ", fAfter),
      h("label", null, t("mail.search.before") + " ", fBefore),
      h("label", { class: "check" }, fAtt, " " + t("mail.search.hasAttachments")),
      h("label", { class: "check" }, fAll, " " + t("mail.search.allFolders")),
      h("button", { type: "submit", class: "btn btn-small" }, t("mail.search.submit")),
    );
    const filterBtn = h("button", { type: "button", class: "btn btn-icon", title: t("mail.search.options"), "aria-label": t("mail.search.options"), "aria-expanded": "false" }, icon("more"));
    filterBtn.addEventListener("click", () => {
      filters.hidden = !filters.hidden;
      filterBtn.setAttribute("aria-expanded", String(!filters.hidden));
    });
    this.apps = new AppShell(
      {
        session: this.session,
        settings: () => this.settings,
        toast: (t) => this.toast(t),
        error: (e) => this.error(e),
        compose: (to, opts) => {
          void this.composer.openNew({ to: to.map((p) => (p.name ? `"${p.name.replace(/["\\]/g, "")}" <${p.address}>` : p.address)).join(", "), subject: opts?.subject ?? "", text: opts?.text ?? "" }).catch((e) => this.error(e));
        },
        openApp: (name, arg) => {
          location.hash = name === "mail" ? "#/" : `#/${name}${arg ? "/" + encodeURIComponent(arg) : ""}`;
        },
      },
      (visible) => document.body.classList.toggle("mail-hidden", !visible),
    );
    const searchForm = h("form", { class: "search", role: "search" }, icon("search"), this.searchInput, filterBtn, filters);
    searchForm.addEventListener("submit", (e) => {
      e.preventDefault();
      filters.hidden = true;
      const q = this.searchInput.value.trim();
      if (!q && !fFrom.value.trim() && !fAfter.value && !fBefore.value && !fAtt.checked) {
        this.endSearch();
        return;
      }
      this.startSearch({ q, from: fFrom.value.trim(), after: fAfter.value, before: fBefore.value, attachment: fAtt.checked, all: fAll.checked });
    });
    this.searchInput.addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        this.searchInput.value = "";
        this.searchInput.blur();
        this.endSearch();
      }
    });

    const menuBtn = h("button", { type: "button", class: "btn btn-icon menu-btn", "aria-label": t("mail.folders"), title: t("mail.folders") }, icon("menu"));
    menuBtn.addEventListener("click", () => document.body.classList.toggle("nav-open"));
    // The drawer opens and closes from several places (a folder, the scrim, Escape): the button follows the body class.
    menuBtn.setAttribute("aria-expanded", "false");
    new MutationObserver(() => menuBtn.setAttribute("aria-expanded", String(document.body.classList.contains("nav-open")))).observe(document.body, { attributes: true, attributeFilter: ["class"] });
    const composeBtn = h("button", { type: "button", class: "btn btn-primary compose-btn", title: t("mail.newMessage.key"), "data-action": "compose" }, icon("compose"), h("span", { class: "btn-text" }, t("mail.newMessage")));
    composeBtn.addEventListener("click", () => void this.composer.openNew().catch((e) => this.error(e)));
    const themeBtn = h("button", { type: "button", class: "btn btn-icon", title: t("mail.theme.title"), "aria-label": t("mail.theme.label"), "data-action": "theme" }, icon("theme"));
    themeBtn.addEventListener("click", () => {
      localStorage.setItem("pb-theme", this.isDark() ? "light" : "dark");
      this.applyTheme();
    });
    const settingsBtn = h("button", { type: "button", class: "btn btn-icon", title: t("mail.settings"), "aria-label": t("mail.settings"), "data-action": "settings" }, icon("settings"));
    settingsBtn.addEventListener("click", () => this.settingsPanel.open());
    const logoutBtn = h("button", { type: "button", class: "btn btn-icon", title: t("mail.signOut.as", { email: this.session.email }), "aria-label": t("mail.signOut"), "data-action": "logout" }, icon("logout"));
    logoutBtn.addEventListener("click", () => void this.logout());

    const top = h(
      "header",
      { class: "topbar" },
      menuBtn,
      h("div", { class: "brand" }, "Pillarbox"),
      this.apps.nav,
      searchForm,
      composeBtn,
      themeBtn,
      settingsBtn,
      h("span", { class: "me", title: this.session.email }, this.session.displayName || this.session.email),
      this.session.admin ? h("a", { href: "/admin", class: "btn btn-small admin-link", title: t("mail.admin.title") }, t("mail.admin")) : null,
      logoutBtn,
    );

    this.folderNav = h("nav", { class: "folders", "aria-label": t("mail.folders") });

    this.listTitle = h("h1", { class: "list-title" }, t("mail.folder.inbox"));
    this.listCount = h("span", { class: "list-count" });
    const sortSel = h(
      "select",
      { class: "sort", "aria-label": t("mail.sort.label") },
      h("option", { value: "date:desc" }, t("mail.sort.newest")),
      h("option", { value: "date:asc" }, t("mail.sort.oldest")),
      h("option", { value: "from:asc" }, t("mail.sort.sender")),
      h("option", { value: "subject:asc" }, t("mail.sort.subject")),
      h("option", { value: "size:desc" }, t("mail.sort.largest")),
      h("option", { value: "size:asc" }, t("mail.sort.smallest")),
    ) as HTMLSelectElement;
    sortSel.addEventListener("change", () => {
      const [s, o] = sortSel.value.split(":");
      this.sort = s as Sort;
      this.desc = o === "desc";
      // the chosen order applies to search results too
      if (this.searching) this.startSearch(this.searching);
      else this.setListSource();
    });
    const threadToggle = h("input", { type: "checkbox", "aria-label": t("mail.threads.label") }) as HTMLInputElement;
    threadToggle.addEventListener("change", () => {
      this.threads = threadToggle.checked;
      this.setListSource();
    });
    this.bulkBar = h("div", { class: "bulk", hidden: true });
    const listHead = h(
      "div",
      { class: "list-head" },
      h("div", { class: "list-head-row" }, this.selectAll.el, this.listTitle, this.listCount),
      h("div", { class: "list-head-row" }, sortSel, h("label", { class: "check thread-toggle" }, threadToggle, " " + t("mail.threads"))),
      this.bulkBar,
    );
    const listPane = h("main", { class: "listpane" }, listHead, this.list.el);
    this.toasts = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    this.errors = new ErrorSlot(this.toasts);
    const scrim = h("div", { class: "scrim" });
    scrim.addEventListener("click", () => document.body.classList.remove("nav-open"));
    root.append(top, this.folderNav, listPane, this.reader.el, this.apps.area, scrim, this.composer.el, this.settingsPanel.el, this.toasts);
  }

  private countText(): string {
    if (this.searching) return tn("mail.count.found", this.list.count);
    const f = this.currentFolder();
    if (!f) return "";
    return f.unread ? t("mail.count.unreadOf", { unread: formatNumber(f.unread), total: formatNumber(f.total) }) : tn("mail.count.messages", f.total);
  }

  // ---------------------------------------------------------------- folders
  currentFolder(): FolderInfo | undefined {
    return this.folders.find((f) => f.id === this.folderId);
  }

  async loadFolders(): Promise<void> {
    try {
      const res = await api<{ folders: FolderInfo[] }>("GET", "/api/folders");
      this.folders = res.folders;
      this.renderFolders();
      if (this.listCount) this.listCount.textContent = this.countText();
      const inbox = this.folders.find((f) => f.name === "INBOX");
      document.title = inbox?.unread ? `(${inbox.unread}) ${t("mail.docTitle")}` : t("mail.docTitle");
    } catch (e) {
      this.error(e);
    }
  }

  private renderFolders(): void {
    clear(this.folderNav);
    const ul = h("ul", { class: "folder-list" });
    for (const f of this.folders) {
      const depth = f.name.split("/").length - 1;
      const btn = h(
        "button",
        { type: "button", class: "folder" + (f.id === this.folderId && !this.searching ? " active" : ""), "data-folder-id": f.id, style: `padding-left:${12 + depth * 14}px`, title: f.name },
        icon(folderIcon(f)),
        h("span", { class: "folder-name" }, folderLabel(f)),
        f.unread ? h("span", { class: "badge", "aria-label": tn("mail.count.unread", f.unread) }, String(f.unread)) : null,
      );
      btn.addEventListener("click", () => {
        this.openFolder(f.id);
        document.body.classList.remove("nav-open");
      });
      // Drop target for messages dragged from the list.
      btn.addEventListener("dragover", (e) => {
        if (e.dataTransfer?.types.includes(DRAG_TYPE)) {
          e.preventDefault();
          btn.classList.add("drop");
        }
      });
      btn.addEventListener("dragleave", () => btn.classList.remove("drop"));
      btn.addEventListener("drop", (e) => {
        btn.classList.remove("drop");
        const data = e.dataTransfer?.getData(DRAG_TYPE);
        if (!data) return;
        e.preventDefault();
        const ids = (JSON.parse(data) as unknown[]).filter((x): x is number => typeof x === "number");
        void this.move(ids, f.id);
      });
      const li = h("li", { class: "folder-item" }, btn);
      if (f.name !== "INBOX" && !f.specialUse) {
        const ren = h("button", { type: "button", class: "btn btn-icon btn-tiny", title: t("mail.folder.rename", { name: folderLabel(f) }), "aria-label": t("mail.folder.rename", { name: folderLabel(f) }) }, "✎");
        ren.addEventListener("click", () => void this.renameFolder(f));
        const del = h("button", { type: "button", class: "btn btn-icon btn-tiny", title: t("mail.folder.delete", { name: folderLabel(f) }), "aria-label": t("mail.folder.delete", { name: folderLabel(f) }) }, "×");
        del.addEventListener("click", () => void this.deleteFolder(f));
        const sub = h("button", { type: "button", class: "btn btn-icon btn-tiny", title: t("mail.folder.newIn", { name: folderLabel(f) }), "aria-label": t("mail.folder.newIn", { name: folderLabel(f) }) }, "+");
        sub.addEventListener("click", () => void this.newFolder(f));
        li.append(h("span", { class: "folder-tools" }, sub, ren, del));
      }
      ul.append(li);
    }
    const add = h("button", { type: "button", class: "btn btn-small new-folder", "data-action": "new-folder" }, icon("plus"), " " + t("mail.folder.new"));
    add.addEventListener("click", () => void this.newFolder());
    this.folderNav.append(ul, add);
  }

  /** A new folder at the top, or inside `parent`; a name with "/" (Projects/2026) makes nested folders. */
  private async newFolder(parent?: FolderInfo): Promise<void> {
    const name = prompt(parent ? t("mail.folder.promptIn", { name: folderLabel(parent) }) : t("mail.folder.prompt"));
    if (!name?.trim()) return;
    try {
      await api("POST", "/api/folders", { name: name.trim(), parentId: parent?.id });
      await this.loadFolders();
      this.toast(t("mail.folder.created", { name: name.trim() }));
    } catch (e) {
      this.error(e);
    }
  }

  private async renameFolder(f: FolderInfo): Promise<void> {
    const name = prompt(t("mail.folder.promptRename"), folderLabel(f));
    if (!name?.trim() || name.trim() === folderLabel(f)) return;
    try {
      await api("PATCH", `/api/folders/${f.id}`, { name: name.trim() });
      await this.loadFolders();
    } catch (e) {
      this.error(e);
    }
  }

  private async deleteFolder(f: FolderInfo): Promise<void> {
    if (!confirm(tn("mail.folder.confirmDelete", f.total, { name: folderLabel(f) }))) return;
    try {
      await api("DELETE", `/api/folders/${f.id}`);
      if (this.folderId === f.id) {
        const inbox = this.folders.find((x) => x.name === "INBOX");
        if (inbox) this.openFolder(inbox.id);
      }
      await this.loadFolders();
    } catch (e) {
      this.error(e);
    }
  }

  openFolder(id: number): void {
    this.searching = null;
    this.folderId = id;
    const f = this.currentFolder();
    this.listTitle.textContent = f ? folderPath(f) : "";
    this.renderFolders();
    this.reader.showEmpty();
    document.body.classList.remove("reading");
    this.setListSource();
  }

  private setListSource(): void {
    if (this.searching) return;
    this.selectAll.setSearching(false);
    const folderId = this.folderId;
    const { sort, desc, threads } = this;
    const src: ListSource = {
      key: `${folderId}:${sort}:${desc}:${threads}`,
      threads,
      load: (offset, limit) =>
        api<{ total: number; items: Row[] }>("GET", `/api/folders/${folderId}/messages?offset=${offset}&limit=${limit}&sort=${sort}&order=${desc ? "desc" : "asc"}${threads ? "&threads=1" : ""}`),
    };
    this.list.emptyText = t("mail.list.emptyFolder");
    this.list.setSource(src);
  }

  // ---------------------------------------------------------------- search
  private startSearch(s: NonNullable<App["searching"]>): void {
    this.searching = s;
    this.selectAll.setSearching(true);
    this.listTitle.textContent = t("mail.search.results");
    this.renderFolders();
    this.reader.showEmpty();
    const params = new URLSearchParams();
    if (s.q) params.set("q", s.q);
    if (s.from) params.set("from", s.from);
    if (s.after) params.set("after", s.after);
    if (s.before) params.set("before", s.before);
    if (s.attachment) params.set("attachment", "1");
    if (!s.all) params.set("folderId", String(this.folderId));
    params.set("sort", this.sort);
    params.set("order", this.desc ? "desc" : "asc");
    let cached: Promise<{ total: number; items: Row[] }> | null = null;
    const src: ListSource = {
      key: "search:" + params.toString(),
      threads: false,
      load: async (offset, limit) => {
        cached ??= api<{ total: number; partial?: boolean; items: Row[] }>("GET", `/api/search?${params.toString()}`).then((r) => {
          // the server stops a costly search (short words over a very large mailbox) early
          if (r.partial) this.toast(t("mail.search.partial"));
          // each result's folder as the folder pane names it (special folders in the chosen language)
          for (const it of r.items) {
            const f = this.folders.find((x) => x.id === it.folderId);
            if (f) it.folderName = folderPath(f);
          }
          return r;
        });
        const all = await cached;
        return { total: all.items.length, items: all.items.slice(offset, offset + limit) };
      },
    };
    this.list.emptyText = t("mail.search.none");
    this.list.setSource(src);
  }

  private endSearch(): void {
    if (!this.searching) return;
    this.openFolder(this.folderId);
  }

  // ---------------------------------------------------------------- messages
  private openRow(row: Row): void {
    document.body.classList.add("reading");
    const shown = this.threads && row.threadCount > 1 && !this.searching ? this.reader.showThread(this.folderId, row) : this.reader.show(row.id);
    // On a phone the reader covers the list: the focus moves into it (to Back, at its top), as into a dialog,
    // unless it is somewhere else on purpose (the search box).
    if (onePane())
      void shown.then(() => {
        const a = document.activeElement;
        if (!a || a === document.body || this.list.el.contains(a)) this.reader.el.querySelector<HTMLElement>(".back-btn")?.focus({ preventScroll: true });
      });
  }

  private updateBulk(ids: number[]): void {
    clear(this.bulkBar);
    // The whole folder selected (select-all.ts): its own bar acts on all of it through the API.
    if (this.selectAll.onSelection(ids, this.bulkBar)) return;
    // One message the user ticked gets the bar too; one only opened has its actions in the reading pane.
    const none = ids.length === 0 || (ids.length === 1 && this.list.implicitSelection);
    this.bulkBar.hidden = none;
    if (none) return;
    const b = (label: string, fn: () => Promise<void>, action: string) => {
      const el = h("button", { type: "button", class: "btn btn-small", "data-action": action }, label);
      el.addEventListener("click", () => void fn().catch((e) => this.error(e)));
      return el;
    };
    const moveSel = h("select", { class: "btn-small", "aria-label": t("mail.bulk.moveLabel") }, h("option", { value: "" }, t("mail.action.moveTo")), this.folders.map((f) => h("option", { value: f.id }, folderPath(f)))) as HTMLSelectElement;
    moveSel.addEventListener("change", () => {
      if (moveSel.value) void this.move(ids, Number(moveSel.value));
    });
    this.bulkBar.append(
      h("span", { class: "bulk-n" }, tn("mail.bulk.selected", ids.length)),
      b(t("mail.action.delete"), () => this.remove(ids), "bulk-delete"),
      b(t("mail.action.markRead"), () => this.setFlags(ids, ["\\Seen"], []), "bulk-read"),
      b(t("mail.action.markUnread"), () => this.setFlags(ids, [], ["\\Seen"]), "bulk-unread"),
      b(t("mail.action.flag"), () => this.setFlags(ids, ["\\Flagged"], []), "bulk-flag"),
      b(t("mail.action.junk"), () => this.junk(ids, true), "bulk-junk"),
      this.inTrash(ids) ? b(t("mail.action.restore"), () => this.restore(ids), "bulk-restore") : b(t("mail.action.archive"), () => this.archive(ids), "bulk-archive"),
      moveSel,
    );
  }

  private selectedIds(): number[] {
    if (this.list.selected.size) return [...this.list.selected];
    return this.reader.current ? [this.reader.current.id] : [];
  }

  async setFlags(ids: number[], add: string[], remove: string[]): Promise<void> {
    if (!ids.length) return;
    const res = await api<{ updated: { id: number; flags: string[] }[] }>("POST", "/api/messages/flags", { ids, add: add.length ? add : undefined, remove: remove.length ? remove : undefined });
    for (const u of res.updated) this.list.updateFlags(u.id, u.flags);
    if (this.reader.current && res.updated.some((u) => u.id === this.reader.current!.id)) {
      this.reader.current.flags = res.updated.filter((u) => u.id === this.reader.current!.id).pop()!.flags;
    }
    this.refreshFolders();
  }

  async move(ids: number[], folderId: number): Promise<void> {
    if (!ids.length) return;
    try {
      const res = await this.removing(ids, () => api<{ moved: number; undo?: UndoMoves }>("POST", "/api/messages/move", { ids, folderId }));
      const f = this.folders.find((x) => x.id === folderId);
      this.offerUndo(tn("mail.toast.moved", res.moved, { folder: f ? folderLabel(f) : t("mail.toast.theFolder") }), res.undo);
    } catch (e) {
      this.error(e);
    }
  }

  async remove(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const res = await this.removing(ids, () => api<{ moved: number; deleted: number; undo?: UndoMoves }>("POST", "/api/messages/delete", { ids }));
    if (res.undo?.length && !res.deleted) return this.offerUndo(tn("mail.toast.trashed", res.moved), res.undo);
    this.toast(res.deleted ? tn("mail.toast.deleted", res.deleted) : tn("mail.toast.trashed", res.moved));
  }

  async junk(ids: number[], junk: boolean): Promise<void> {
    if (!ids.length) return;
    const res = await this.removing(ids, () => api<{ undo?: UndoMoves }>("POST", "/api/messages/junk", { ids, junk }));
    this.offerUndo(junk ? t("mail.toast.junk") : t("mail.toast.notJunk"), res.undo, junk ? "$Junk" : "$NotJunk");
  }

  /**
   * Runs a move/delete/junk/archive/restore of `ids` and then opens the message that follows the open one,
   * like desktop mail clients do. While the request runs, the server's expunge events for these ids are ours:
   * they must not replace the reading pane with "moved or deleted".
   */
  private async removing<T>(ids: number[], call: () => Promise<T>): Promise<T> {
    const openId = this.reader.openId;
    const next = openId !== null && ids.includes(openId) ? this.list.neighbourAfterRemoval(ids, openId) : null;
    for (const id of ids) this.removingIds.add(id);
    try {
      const res = await call();
      this.afterRemoval(ids, openId, next);
      return res;
    } finally {
      for (const id of ids) this.removingIds.delete(id);
    }
  }

  /**
   * A toast with Undo (item 4): Undo moves each message back to the folder it came from
   * (and takes off the junk verdict `keyword` the action set), then shows it again.
   */
  private offerUndo(text: string, undo: UndoMoves | undefined, keyword?: string): void {
    if (!undo?.length) return this.toast(text);
    undoToast(this.toasts, text, async () => {
      try {
        if (keyword) await api("POST", "/api/messages/flags", { ids: undo.map((u) => u.id), remove: [keyword] });
        const byFolder = new Map<number, number[]>();
        for (const u of undo) byFolder.set(u.folderId, [...(byFolder.get(u.folderId) ?? []), u.id]);
        for (const [folderId, ids] of byFolder) await api("POST", "/api/messages/move", { ids, folderId });
        if (!this.searching) this.list.reload();
        this.refreshFolders();
        this.toast(tn("mail.toast.undone", undo.length));
      } catch (e) {
        this.error(e);
      }
    });
  }

  /** "Sending…" with Undo until the send delay is over; Undo puts the message back into the composer. */
  private offerUndoSend(held: { id: number; sendAt: number }): void {
    const ms = Math.max(1000, held.sendAt - Date.now());
    undoToast(
      this.toasts,
      t("mail.toast.sending"),
      async () => {
        try {
          await api("POST", `/api/send/${held.id}/undo`);
          this.refreshFolders();
          await this.composer.openFrom(held.id, "edit");
        } catch (e) {
          this.error(e);
        }
      },
      ms,
    );
  }

  private afterRemoval(ids: number[], openId: number | null = this.reader.openId, next: number | null = null): void {
    this.list.removeIds(ids);
    if (openId !== null && ids.includes(openId) && this.reader.openId === openId) {
      const at = next !== null ? this.list.indexOfId(next) : -1;
      if (at >= 0) this.list.setCursor(at, { open: true });
      else if (next !== null) void this.reader.show(next);
      else {
        this.reader.showEmpty();
        document.body.classList.remove("reading");
      }
    }
    this.refreshFolders();
  }

  /** The messages are in Trash (the open one tells its folder; a list outside search is one folder). */
  private inTrash(ids: number[]): boolean {
    const isTrash = (folderId: number | undefined) => this.folders.find((f) => f.id === folderId)?.specialUse === "\\Trash";
    const cur = this.reader.current;
    if (cur && ids.length === 1 && ids[0] === cur.id) return isTrash(cur.folderId);
    return !this.searching && isTrash(this.folderId);
  }

  /** Moves one message (or the ticked ones) to a folder chosen in a dialog. */
  private async moveWithPicker(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const f = await pickFolder(this.folders, { title: tn("mail.picker.title", ids.length), exclude: this.searching ? undefined : this.folderId });
    if (f) await this.move(ids, f.id);
  }

  async archive(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const res = await this.removing(ids, () => api<{ moved: number }>("POST", "/api/messages/archive", { ids }));
    this.toast(tn("mail.toast.archived", res.moved));
  }

  /** Puts messages in Trash back where they were deleted from (the server knows; else the Inbox). */
  async restore(ids: number[]): Promise<void> {
    if (!ids.length) return;
    const res = await this.removing(ids, () => api<{ moved: number; folders: { id: number; folderId: number }[] }>("POST", "/api/messages/restore", { ids }));
    const dest = [...new Set(res.folders.map((x) => x.folderId))].map((id) => this.folders.find((f) => f.id === id)).filter((f): f is FolderInfo => !!f);
    this.toast(dest.length === 1 ? tn("mail.toast.restoredTo", res.moved, { folder: folderLabel(dest[0]!) }) : tn("mail.toast.restored", res.moved));
  }

  /** Back to the list: nothing open, and a message only read is not selected any more (a phone shows no sign of it). */
  private closeReader(): void {
    // On a phone the list comes back in the reader's place: so does the focus.
    if (onePane() && this.reader.el.contains(document.activeElement)) this.list.el.focus({ preventScroll: true });
    this.reader.showEmpty();
    document.body.classList.remove("reading");
    this.list.clearSelection();
  }

  private async messageAction(name: string, msg: Message): Promise<void> {
    switch (name) {
      case "reply":
      case "replyAll":
      case "forward":
      case "forwardAttachment":
        return this.composer.openFrom(msg.id, name);
      case "editDraft":
        return this.composer.openFrom(msg.id, "edit");
      case "delete":
        return this.remove([msg.id]);
      case "move":
        return this.moveWithPicker([msg.id]);
      case "archive":
        return this.archive([msg.id]);
      case "restore":
        return this.restore([msg.id]);
      case "junk":
        return this.junk([msg.id], true);
      case "notJunk":
        return this.junk([msg.id], false);
      case "flag":
        await this.setFlags([msg.id], msg.flags.includes("\\Flagged") ? [] : ["\\Flagged"], msg.flags.includes("\\Flagged") ? ["\\Flagged"] : []);
        return this.reader.show(msg.id);
      case "unread":
        await this.setFlags([msg.id], [], ["\\Seen"]);
        this.reader.showEmpty();
        document.body.classList.remove("reading");
        this.list.clearSelection();
        return;
      case "close":
        return this.closeReader();
      case "print":
        return printMessage(msg);
    }
  }

  // ---------------------------------------------------------------- live updates
  private connectEvents(): void {
    this.events?.close();
    this.events = new LiveStream("/api/events", {
      ready: (reconnected) => {
        document.body.setAttribute("data-live", "1");
        this.offline = false;
        // Recovered (item 11): the one connection error goes away.
        this.errors.clear();
        // A reconnect (the server restarted, dropped a stream that fell too far behind, or the network blinked)
        // may have missed changes: reload what the page shows.
        if (reconnected) {
          if (!this.searching) this.reloadList();
          this.refreshFolders();
          this.apps.changed(-1);
        }
      },
      lost: (attempt) => {
        document.body.setAttribute("data-live", "0");
        this.offline = true;
        this.errors.show(t("mail.error.offline"), { sticky: true, kind: "connection" });
        // Signed out meanwhile? A 401 takes the page to the sign-in form (api.ts); a network error is expected here.
        if (attempt > 1) void api("GET", "/api/session").catch(() => {});
      },
      wire: (es) => this.wireEvents(es),
    });
    this.events.open();
    addEventListener("online", () => this.events?.retryNow());
  }

  private wireEvents(es: EventSource): void {
    es.addEventListener("mail", (ev) => {
      let e: { type: string; folderId: number; id?: number; ids?: number[]; updates?: { id: number; flags: string[] }[] };
      try {
        e = JSON.parse((ev as MessageEvent).data);
      } catch {
        return;
      }
      // A folder that is not mail (a calendar, address book or task list): the groupware views reload it.
      if (e.folderId !== undefined && !this.folders.some((f) => f.id === e.folderId)) this.apps.changed(e.folderId);
      if (e.type === "flags" && e.updates) for (const u of e.updates) this.list.updateFlags(u.id, u.flags);
      if (e.type === "exists") this.notifier.arrived(e.folderId, e.id);
      // "resync": too much changed at once for one event; reload the list instead.
      if (!this.searching && e.folderId === this.folderId && (e.type === "exists" || e.type === "expunge" || e.type === "resync")) this.reloadList();
      const open = this.reader.openId;
      if (e.type === "expunge" && open !== null && !this.removingIds.has(open) && e.ids?.includes(open)) {
        this.reader.showEmpty(t("mail.reader.gone"));
      }
      this.refreshFolders();
    });
    es.addEventListener("signed_out", () => {
      this.events?.close();
      location.href = "/login";
    });
  }

  // ---------------------------------------------------------------- keyboard
  private onKey(e: KeyboardEvent): void {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (typingTarget(e.target) || this.composer.isOpen || this.settingsPanel.isOpen || this.apps.current !== "mail") return;
    const cur = this.reader.current;
    if (this.selectAll.handleKey(e.key)) {
      e.preventDefault();
      return;
    }
    switch (e.key) {
      case "p":
        if (cur) void printMessage(cur).catch((x) => this.error(x));
        break;
      case "j":
      case "ArrowDown":
        this.list.move(1);
        break;
      case "k":
      case "ArrowUp":
        this.list.move(-1);
        break;
      case "r":
        if (cur) void this.composer.openFrom(cur.id, "reply").catch((x) => this.error(x));
        break;
      case "a":
        if (cur) void this.composer.openFrom(cur.id, "replyAll").catch((x) => this.error(x));
        break;
      case "f":
        if (cur) void this.composer.openFrom(cur.id, "forward").catch((x) => this.error(x));
        break;
      case "c":
        void this.composer.openNew().catch((x) => this.error(x));
        break;
      case "Delete":
      case "#":
        void this.remove(this.selectedIds()).catch((x) => this.error(x));
        break;
      case "e": {
        // Archive, or in Trash Restore (the reading pane shows the same key on whichever button it has).
        const ids = this.selectedIds();
        void (this.inTrash(ids) ? this.restore(ids) : this.archive(ids)).catch((x) => this.error(x));
        break;
      }
      case "v":
        void this.moveWithPicker(this.selectedIds()).catch((x) => this.error(x));
        break;
      case "u":
        void this.setFlags(this.selectedIds(), [], ["\\Seen"]).catch((x) => this.error(x));
        break;
      case "s":
        if (cur) void this.messageAction("flag", cur).catch((x) => this.error(x));
        break;
      case "/":
        this.searchInput.focus();
        break;
      case "Escape":
        this.reader.showEmpty();
        document.body.classList.remove("reading", "nav-open");
        this.list.clearSelection();
        break;
      default:
        return;
    }
    e.preventDefault();
  }

  // ---------------------------------------------------------------- misc
  isDark(): boolean {
    const t = localStorage.getItem("pb-theme") ?? "auto";
    return t === "dark" || (t === "auto" && matchMedia("(prefers-color-scheme: dark)").matches);
  }

  applyTheme(): void {
    const t = localStorage.getItem("pb-theme") ?? "auto";
    document.documentElement.dataset.theme = t === "auto" ? (this.isDark() ? "dark" : "light") : t;
  }

  private async logout(): Promise<void> {
    await this.composer.close(true).catch(() => {});
    try {
      await api("POST", "/api/logout");
    } catch {
      // Signed out already, or the server is gone: either way, go to the sign-in page.
    }
    this.events?.close();
    location.href = "/login";
  }

  toast(text: string, kind: "info" | "error" = "info"): void {
    const t = h("div", { class: `toast toast-${kind}` }, text);
    this.toasts.append(t);
    setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
  }

  /** Shows one error at a time (a new one replaces the last); while the server is away its own message stays. */
  error(e: unknown): void {
    if (e instanceof ApiError && e.status === 401) return;
    if (this.offline && e instanceof ApiError && (e.status === 0 || e.status >= 500)) return;
    this.errors.show(e instanceof Error ? e.message : t("mail.error.generic"));
  }
}

/** One pane at a time (phone width, styles.css max-width: 680px): the reader covers the list. */
function onePane(): boolean {
  return matchMedia("(max-width: 680px)").matches;
}

void new App().boot();
