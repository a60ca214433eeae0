/**
 * Helpers for the web admin's Chromium tests (tests/admin/ui*.test.ts): a
 * browser per file, a signed-in admin page at desktop or phone size (signed
 * in through the webmail form at /login?next=/admin, as a person would), a
 * confirmation-dialog helper, axe-core, and screenshots for docs/ADMIN.md
 * when PB_SCREENSHOTS=1; `startAdminUi` starts the server (queue and DNS
 * checks resolving through a local dnsmasq) and a signed-in admin page that
 * records every state-changing API call it makes.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from "playwright-core";
import type * as Axe from "axe-core";
import { ALICE, CHROMIUM_ARGS, startWebmailServer, waitFor } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import { closedTcpPort, dnsmasqTxt, freeUdpPort, startDnsmasqLines, type Dnsmasq } from "./helpers.ts";

export const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
export type Size = keyof typeof SIZES;
const AXE_SOURCE = readFileSync(join(import.meta.dir, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8");

export function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}

/** A fresh context (own cookies) at a size, in a language and colour scheme; the phone one as a touch device. */
export async function newPage(browser: Browser, size: Size = "desktop", locale = "en-GB", colorScheme: "light" | "dark" = "light"): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({ viewport: SIZES[size], locale, colorScheme, ignoreHTTPSErrors: true, ...(size === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}) });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { page, context };
}

/** Opens /admin, which sends the browser to the sign-in form and back; waits for the first page. */
export async function signInAdmin(page: Page, base: string, user: { email: string; password: string }, path = "/admin"): Promise<void> {
  await page.goto(base + path);
  await page.waitForURL(/\/login\?next=/);
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL((u) => u.pathname.startsWith("/admin")), page.click('button[type="submit"]')]);
  await page.waitForSelector("body[data-admin-ready]", { state: "attached" });
}

/** Goes to a hash route and waits until that page is drawn (not its "Loading…"). */
export async function go(page: Page, hash: string): Promise<void> {
  await page.evaluate(() => {
    delete document.body.dataset.adminReady;
  });
  await page.evaluate((h) => {
    if (location.hash === h) window.dispatchEvent(new HashChangeEvent("hashchange"));
    else location.hash = h;
  }, hash);
  await page.waitForSelector("body[data-admin-ready]", { state: "attached" });
  await page.waitForSelector(".page .loading", { state: "detached" });
}

/** Answers the open confirmation dialog (typing the text first when it asks for that). */
export async function confirm(page: Page, typed?: string): Promise<void> {
  const dlg = page.locator('[role="dialog"]');
  await dlg.waitFor();
  if (typed) await dlg.locator("input").fill(typed);
  await dlg.locator(".dialog-actions button").last().click();
  await dlg.waitFor({ state: "detached" });
}

export type Finding = { id: string; impact: string | null; help: string; nodes: string[] };

/** axe-core on the page as it is (injected through DevTools, so the page keeps its CSP); serious and critical findings. */
export async function axe(page: Page, what: string): Promise<Finding[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE_SOURCE);
  const found = await page.evaluate(async () => {
    const a = (window as unknown as { axe: typeof Axe }).axe;
    const r = await a.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact ?? null, help: v.help, nodes: v.nodes.slice(0, 6).map((n) => `${n.target.join(" ")} -> ${n.failureSummary ?? ""}`) }));
  });
  const bad = found.filter((v) => v.impact === "serious" || v.impact === "critical");
  for (const v of found) if (!bad.includes(v)) console.log(`axe (${what}) ${v.impact}: ${v.id}: ${v.help} [${v.nodes.length} element(s)]`);
  return bad;
}

export const screenshots = process.env.PB_SCREENSHOTS === "1";

export async function shot(page: Page, name: string): Promise<void> {
  if (!screenshots) return;
  mkdirSync("docs/screenshots", { recursive: true });
  // Without the passing status line (the test reads its text, not its visibility).
  await page.evaluate(() => document.querySelector(".toasts")?.classList.add("sr-only"));
  await page.screenshot({ path: `docs/screenshots/${name}.png` });
  await page.evaluate(() => document.querySelector(".toasts")?.classList.remove("sr-only"));
}


export interface AdminUi {
  srv: TestServer & { base: string; httpBase: string };
  browser: Browser;
  /** ALICE (an admin), signed in, on the overview. */
  page: Page;
  /** Every POST, PATCH and DELETE the page sent to /admin/api, with its X-CSRF-Token. */
  changes: { method: string; path: string; token: string }[];
  /** Console messages of the page about its Content-Security-Policy (a style or script it refused) and page errors. */
  problems: string[];
  close(): Promise<void>;
}

/**
 * The server with ALICE as admin; dnsmasq answers for example.test (MX and DKIM as expected, an SPF
 * that differs, no DMARC) and remote.test (an MX whose port refuses connections, so queued mail waits).
 */
export async function startAdminUi(): Promise<AdminUi> {
  const dnsPort = await freeUdpPort();
  const srv = await startWebmailServer({ queue: { dnsServers: [`127.0.0.1:${dnsPort}`], remotePort: await closedTcpPort() } });
  await srv.store.setAccountFlags(ALICE.email, { admin: true });
  const d = (await srv.store.getDomain("example.test"))!;
  const dns: Dnsmasq = await startDnsmasqLines(
    [
      "mx-host=example.test,mail.pillarbox.test,10",
      "host-record=mail.pillarbox.test,127.0.0.1",
      dnsmasqTxt("example.test", "v=spf1 -all"),
      dnsmasqTxt(`${d.dkimSelector}._domainkey.example.test`, `v=DKIM1; k=rsa; p=${d.dkimPublicKey}`),
      "mx-host=remote.test,mx.remote.test,10",
      "host-record=mx.remote.test,127.0.0.1",
    ],
    dnsPort,
  );
  const browser = await launch();
  const page = (await newPage(browser)).page;
  const changes: AdminUi["changes"] = [];
  page.on("request", (r) => {
    const u = new URL(r.url());
    if (u.pathname.startsWith("/admin/api/") && r.method() !== "GET") changes.push({ method: r.method(), path: u.pathname, token: r.headers()["x-csrf-token"] ?? "" });
  });
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  await signInAdmin(page, srv.base, ALICE);
  return {
    srv,
    browser,
    page,
    changes,
    problems,
    async close() {
      await browser.close();
      await dns.stop();
      await srv.close();
    },
  };
}

/** Waits until the status line (or the error line) says `includes` (any words when not given); its text. */
export async function toast(p: Page, kind: "status" | "alert" = "status", includes = ""): Promise<string> {
  const el = p.locator(kind === "status" ? ".toasts [role=status]" : ".toasts [role=alert]");
  return waitFor(async () => {
    const text = (await el.textContent()) ?? "";
    return text && text.includes(includes) ? text : null;
  }, `the ${kind} line to say ${includes || "something"}`);
}

/** The table rows (tbody tr) holding `text`. */
export function row(p: Page, text: string): Locator {
  return p.locator("tbody tr", { hasText: text });
}

/** Every change the page sent carried the session's CSRF token; returns the methods seen. */
export async function csrfOfChanges(ui: AdminUi): Promise<{ methods: string[]; wrong: AdminUi["changes"] }> {
  const token = await ui.page.evaluate(async () => ((await (await fetch("/admin/api/me")).json()) as { csrf: string }).csrf);
  return { methods: [...new Set(ui.changes.map((c) => c.method))].sort(), wrong: ui.changes.filter((c) => c.token !== token) };
}
