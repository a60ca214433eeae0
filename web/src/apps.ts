/**
 * The workspace's apps: Mail (main.ts) and the groupware views (Calendar,
 * Contacts, Tasks). Each groupware view registers a factory here; the shell
 * shows one app at a time below the top bar, chosen by the location hash
 * (#/calendar, #/contacts, #/tasks; anything else is Mail), so Back and
 * bookmarks work and a reload stays where the user was.
 *
 * A view is built the first time it is opened and kept (hidden) after, so
 * switching back is instant and keeps its scroll and selection.
 */
import type { Person } from "../../protocols/http/webmail/api-types.ts";
import type { Session, Settings } from "./api.ts";
import { h } from "./dom.ts";
import { register, t } from "./i18n/index.ts";

export type AppName = "mail" | "calendar" | "contacts" | "tasks";

/** What the shell offers every view. */
export interface AppContext {
  session: Session;
  settings(): Settings | null;
  /** A short confirmation in the shell's toast area. */
  toast(text: string): void;
  /** An error shown in the shell's one error slot (ApiError messages are in words already). */
  error(e: unknown): void;
  /** Opens the mail composer (a new message to these people, with an optional subject/body). */
  compose(to: Person[], opts?: { subject?: string; text?: string }): void;
  /** Switches app; `arg` is the part of the hash after the app (e.g. a date or a contact id). */
  openApp(name: AppName, arg?: string): void;
}

export interface AppView {
  /** The view's root; the shell places it in the app area. */
  el: HTMLElement;
  /** The view became visible (first open or switched back), with the hash argument if any. */
  show(arg?: string): void;
  hide(): void;
  /**
   * A store folder changed (live event). Views reload when the folder id is one of
   * their collections (CollectionInfo.folderId); also called after the stream reconnects with folderId = -1
   * (anything may have changed).
   */
  changed(folderId: number): void;
}

export type AppFactory = (ctx: AppContext) => AppView;

const factories = new Map<AppName, AppFactory>();

/** Called by each groupware view module at load (calendar/index.ts, contacts/index.ts, tasks/index.ts). */
export function registerApp(name: Exclude<AppName, "mail">, factory: AppFactory): void {
  factories.set(name, factory);
}

register({
  en: { "app.mail": "Mail", "app.calendar": "Calendar", "app.contacts": "Contacts", "app.tasks": "Tasks", "app.switch": "Apps" },
  de: { "app.mail": "E-Mail", "app.calendar": "Kalender", "app.contacts": "Kontakte", "app.tasks": "Aufgaben", "app.switch": "Apps" },
  fr: { "app.mail": "Courrier", "app.calendar": "Calendrier", "app.contacts": "Contacts", "app.tasks": "Tâches", "app.switch": "Applications" },
  es: { "app.mail": "Correo", "app.calendar": "Calendario", "app.contacts": "Contactos", "app.tasks": "Tareas", "app.switch": "Aplicaciones" },
});

const ORDER: AppName[] = ["mail", "calendar", "contacts", "tasks"];

/** The app and argument a location hash names ("#/calendar/2026-12-07" -> calendar, "2026-12-07"). */
export function parseRoute(hash: string): { app: AppName; arg: string } {
  const m = /^#\/(calendar|contacts|tasks)(?:\/(.*))?$/.exec(hash);
  if (!m) return { app: "mail", arg: "" };
  return { app: m[1] as AppName, arg: m[2] ? decodeURIComponent(m[2]) : "" };
}

/**
 * The app switcher (a nav of links in the top bar) and the area the
 * groupware views live in. main.ts builds one, puts `nav` in its top bar and
 * `area` in its layout, and calls `route()` at boot and on hashchange.
 */
export class AppShell {
  readonly nav: HTMLElement;
  readonly area: HTMLElement;
  current: AppName = "mail";
  private views = new Map<AppName, AppView>();
  private links = new Map<AppName, HTMLAnchorElement>();

  constructor(
    private ctx: AppContext,
    /** Shows or hides the mail layout (folder pane, list, reader). */
    private showMail: (visible: boolean) => void,
  ) {
    this.nav = h("nav", { class: "app-switch", "aria-label": t("app.switch") });
    for (const name of ORDER) {
      if (name !== "mail" && !factories.has(name)) continue;
      const a = h("a", { href: name === "mail" ? "#/" : `#/${name}`, class: "app-link", "data-app": name }, t(`app.${name}`));
      this.links.set(name, a);
      this.nav.append(a);
    }
    // The groupware app's landmark: the mail layout's own <main> (the list pane) is hidden while an app shows,
    // so there is one visible main at a time (HTML §4.4.14).
    this.area = h("main", { class: "app-area", hidden: true });
    addEventListener("hashchange", () => this.route());
  }

  /** Re-labels the switcher after a language change. */
  relabel(): void {
    this.nav.setAttribute("aria-label", t("app.switch"));
    for (const [name, a] of this.links) a.textContent = t(`app.${name}`);
  }

  /** Shows the app the location hash names. */
  route(): void {
    const { app, arg } = parseRoute(location.hash);
    this.show(factories.has(app as Exclude<AppName, "mail">) || app === "mail" ? app : "mail", arg);
  }

  private show(app: AppName, arg: string): void {
    if (app !== this.current) this.views.get(this.current)?.hide();
    this.current = app;
    document.body.dataset.app = app;
    for (const [name, a] of this.links) {
      if (name === app) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (app === "mail") {
      this.area.hidden = true;
      this.showMail(true);
      return;
    }
    this.showMail(false);
    this.area.hidden = false;
    let view = this.views.get(app);
    if (!view) {
      view = factories.get(app)!(this.ctx);
      this.views.set(app, view);
      this.area.append(view.el);
    }
    for (const [name, v] of this.views) v.el.hidden = name !== app;
    this.area.setAttribute("aria-label", t(`app.${app}`));
    view.show(arg || undefined);
  }

  /** Forwards a live change to every built view (hidden ones reload lazily on their next show if they choose). */
  changed(folderId: number): void {
    for (const v of this.views.values()) v.changed(folderId);
  }
}
