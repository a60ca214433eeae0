/**
 * The web admin (`/admin`): a second browser entry point beside the webmail,
 * built by scripts/build-web.ts into admin.js. It signs in through the
 * webmail's session, reads who it is and the CSRF token from /admin/api/me,
 * and draws one page per hash route (#/overview, #/domains, #/domains/<name>,
 * #/accounts, #/accounts/<email>, #/aliases, #/queue, #/devices,
 * #/certificates, #/logs, #/stats). Everything is built with text nodes
 * (dom.ts `h`), never HTML strings.
 */
import type { AdminMe } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { chooseLang, setLang, setTimeZone, t } from "../i18n/index.ts";
import { AdminApiError, api, setCsrf } from "./api.ts";
import { errorText, statusRegions } from "./ui.ts";
import { parseRoute, type Page, type PageContext } from "./page.ts";
import { overviewPage } from "./overview.ts";
import { domainsPage, dnsPage } from "./domains.ts";
import { accountsPage } from "./accounts.ts";
import { accountPage } from "./account.ts";
import { aliasesPage } from "./aliases.ts";
import { queuePage } from "./queue.ts";
import { devicesPage } from "./devices.ts";
import { certificatesPage } from "./certificates.ts";
import { logsPage } from "./logs.ts";
import { statsPage } from "./stats.ts";

const SECTIONS: { route: string; key: string; page: Page }[] = [
  { route: "overview", key: "admin.nav.overview", page: overviewPage },
  { route: "domains", key: "admin.nav.domains", page: domainsPage },
  { route: "accounts", key: "admin.nav.accounts", page: accountsPage },
  { route: "aliases", key: "admin.nav.aliases", page: aliasesPage },
  { route: "queue", key: "admin.nav.queue", page: queuePage },
  { route: "devices", key: "admin.nav.devices", page: devicesPage },
  { route: "certificates", key: "admin.nav.certificates", page: certificatesPage },
  { route: "logs", key: "admin.nav.logs", page: logsPage },
  { route: "stats", key: "admin.nav.stats", page: statsPage },
];

let me: AdminMe;
let main: HTMLElement;
let nav: HTMLElement;
let menuBtn: HTMLButtonElement;
let cleanup: (() => void) | void = undefined;
let renderSeq = 0;

async function render(): Promise<void> {
  const seq = ++renderSeq;
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  const { route, param } = parseRoute(location.hash);
  const section = SECTIONS.find((s) => s.route === route) ?? SECTIONS[0]!;
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.route === section.route) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  setMenu(false);
  let page: Page = section.page;
  if (param && section.route === "domains") page = dnsPage;
  if (param && section.route === "accounts") page = accountPage;
  const ctx: PageContext = {
    me,
    param,
    stale: () => seq !== renderSeq,
    reload: () => void render(),
  };
  const holder = h("div", { class: "page" }, h("p", { class: "loading" }, t("admin.loading")));
  clear(main);
  main.append(holder);
  try {
    const out = await page(holder, ctx);
    if (seq !== renderSeq) {
      if (typeof out === "function") out();
      return;
    }
    cleanup = out;
  } catch (err) {
    if (seq !== renderSeq) return;
    clear(holder);
    holder.append(h("h1", { id: "page-title", tabindex: -1 }, t(section.key)), h("p", { class: "page-error", role: "alert" }, errorText(err)), h("button", { type: "button", class: "btn", onclick: () => void render() }, t("admin.retry")));
  }
  document.title = `${t(section.key)} · ${t("admin.title")}`;
  document.body.dataset.adminReady = "";
  document.body.dataset.route = section.route + (param ? "/" : "");
}

function setMenu(open: boolean): void {
  if (!menuBtn) return;
  menuBtn.setAttribute("aria-expanded", String(open));
  nav.classList.toggle("open", open);
}

function layout(root: HTMLElement): void {
  menuBtn = h("button", { type: "button", class: "btn menu-btn", "aria-expanded": "false", "aria-controls": "admin-nav" }, t("admin.menu"));
  menuBtn.addEventListener("click", () => setMenu(menuBtn.getAttribute("aria-expanded") !== "true"));
  nav = h(
    "nav",
    { id: "admin-nav", class: "nav", "aria-label": t("admin.nav.label") },
    h("ul", null, SECTIONS.map((s) => h("li", null, h("a", { href: `#/${s.route}`, "data-route": s.route }, t(s.key))))),
  );
  nav.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && nav.classList.contains("open")) {
      setMenu(false);
      menuBtn.focus();
    }
  });
  main = h("main", { id: "admin-main", class: "main", tabindex: -1 });
  const top = h(
    "header",
    { class: "topbar" },
    menuBtn,
    h("span", { class: "brand" }, t("admin.title")),
    h("span", { class: "host" }, me.hostname),
    h("span", { class: "spacer" }),
    h("span", { class: "me" }, me.email),
    h("a", { href: "/", class: "btn btn-small" }, t("admin.toWebmail")),
  );
  clear(root);
  root.append(h("a", { href: "#admin-main", class: "skip", onclick: (e: MouseEvent) => (e.preventDefault(), main.focus()) }, t("admin.skip")), h("div", { class: "shell" }, top, nav, main), statusRegions());
}

/** A page that replaces the admin when it cannot start (not an admin, network down). */
function stop(root: HTMLElement, title: string, text: string): void {
  clear(root);
  root.append(
    h(
      "main",
      { class: "stop" },
      h("h1", null, title),
      h("p", { role: "alert" }, text),
      h("p", null, h("a", { href: "/" }, t("admin.toWebmail"))),
    ),
  );
  document.body.dataset.adminReady = "";
}

/**
 * The admin's own webmail settings (same session): the language and time zone chosen there, so the
 * admin speaks the language the mailbox does; the browser's language when unset or unreadable.
 */
async function applySettings(): Promise<void> {
  let language: string | null = null;
  try {
    const res = await fetch("/api/settings", { credentials: "same-origin", headers: { accept: "application/json" } });
    if (res.ok) {
      const s = (await res.json()) as { language?: unknown; timeZone?: unknown };
      if (typeof s.language === "string") language = s.language;
      if (typeof s.timeZone === "string") setTimeZone(s.timeZone);
    }
  } catch {
    // offline or not JSON: the browser's language
  }
  setLang(chooseLang(language, navigator.languages ?? [navigator.language]));
}

async function boot(): Promise<void> {
  setLang(chooseLang(null, navigator.languages ?? [navigator.language]));
  // A section given as a path (/admin/queue, from the sign-in form's return) becomes its hash route.
  const path = /^\/admin\/([a-z]+)\/?$/.exec(location.pathname);
  if (path && !location.hash) history.replaceState(null, "", `/admin#/${path[1]}`);
  const root = document.getElementById("admin") ?? document.body.appendChild(h("div", { id: "admin" }));
  root.classList.add("admin");
  try {
    me = await api<AdminMe>("GET", "/admin/api/me");
  } catch (err) {
    if (err instanceof AdminApiError && err.status === 401) return; // on its way to the sign-in form
    if (err instanceof AdminApiError && err.status === 403) stop(root, t("admin.forbidden.title"), t("admin.forbidden.text"));
    else stop(root, t("admin.title"), errorText(err));
    return;
  }
  setCsrf(me.csrf);
  await applySettings();
  layout(root);
  window.addEventListener("hashchange", () => {
    void render().then(() => document.getElementById("page-title")?.focus());
  });
  await render();
}

void boot();
