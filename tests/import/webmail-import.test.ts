/**
 * Settings > Import in the webmail: the API (validation in words, one run
 * per account, cancel, CSRF, the SSRF guard refusing loopback and private
 * addresses unless the admin allows them) and the screen in Chromium on a
 * desktop and a phone, importing a small mailbox from a real Dovecot: the
 * progress shows, then the folders appear in the folder list.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import { chromium, type Browser } from "playwright-core";
import { ALICE, ApiClient, BOB, CAROL, CHROMIUM_ARGS, login, startWebmailServer, waitFor } from "../webmail/helpers.ts";
import type { TestServer } from "../helpers/server.ts";
import { fillMaildir, hasDovecot, startDovecot, type DovecotTwin } from "./dovecot.ts";
import type { ImportStatus } from "../../protocols/http/webmail/api-types.ts";
import { readTree } from "./imap-read.ts";

setDefaultTimeout(90_000);

const PASS = "old-provider-password-9";
const OLD = "web@old.test";
const skip = !hasDovecot();

let dovecot: DovecotTwin;
let srv: TestServer & { base: string };
let strict: TestServer & { base: string };
let browser: Browser;

beforeAll(async () => {
  if (skip) return;
  dovecot = await startDovecot([OLD, "phone@old.test"], PASS);
  fillMaildir(dovecot, OLD, [
    { name: "INBOX", count: 60 },
    { name: "Sent", count: 15 },
    { name: "Projekte", count: 25 },
  ]);
  fillMaildir(dovecot, "phone@old.test", [
    { name: "INBOX", count: 20 },
    { name: "Reisen", count: 5 },
  ], 3);
  srv = await startWebmailServer({ import: { allowPrivateHosts: true, caFile: dovecot.certFile } });
  strict = await startWebmailServer();
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await strict?.close();
  dovecot?.stop();
});

const start = (c: ApiClient, body: Record<string, unknown>) => c.send("POST", "/api/import", body);
const status = async (c: ApiClient) => (await c.get("/api/import")).json<ImportStatus>();
const finished = (c: ApiClient) => waitFor(async () => ((s) => (s.state === "connecting" || s.state === "running" ? null : s))(await status(c)), "the import to end", 60_000);

describe.skipIf(skip)("webmail import API", () => {
  test("bad input is a 400 in words; CSRF is required", async () => {
    const c = await ApiClient.signIn(srv.base, CAROL);
    expect((await status(c)).state).toBe("idle");
    const cases: [Record<string, unknown>, string][] = [
      [{ host: "", security: "tls", user: "u", password: "p" }, "bad_host"],
      [{ host: "a b", security: "tls", user: "u", password: "p" }, "bad_host"],
      [{ host: "x.test", security: "ssl3", user: "u", password: "p" }, "bad_security"],
      [{ host: "x.test", security: "tls", port: 70000, user: "u", password: "p" }, "bad_port"],
      [{ host: "x.test", security: "tls", port: "abc", user: "u", password: "p" }, "bad_port"],
      [{ host: "x.test", security: "tls", user: "", password: "p" }, "bad_user"],
      [{ host: "x.test", security: "tls", user: "u\r\nA1 LOGOUT", password: "p" }, "bad_user"],
      [{ host: "x.test", security: "tls", user: "u", password: "" }, "bad_password"],
      [{ host: ["x"], security: "tls", user: "u", password: "p" }, "bad_host"],
    ];
    for (const [body, code] of cases) {
      const r = await start(c, body);
      expect(r.status).toBe(400);
      expect(r.json<{ error: string; message: string }>().error).toBe(code);
      expect(r.json<{ error: string; message: string }>().message.length).toBeGreaterThan(10);
    }
    const raw = await c.send("POST", "/api/import", undefined, { "content-type": "application/json" });
    expect(raw.status).toBe(400);
    const noCsrf = await c.send("POST", "/api/import", { host: "x.test", security: "tls", user: "u", password: "p" }, { "x-csrf-token": "" });
    expect(noCsrf.status).toBe(403);
    expect((await status(c)).state).toBe("idle");
  });

  test("SSRF guard: loopback, private, link-local and unique-local addresses are refused unless the admin allows them", async () => {
    const c = await ApiClient.signIn(strict.base, ALICE);
    for (const host of ["127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "169.254.169.254", "[::1]", "fd00::1", "0.0.0.0"]) {
      const r = await start(c, { host, port: dovecot.tlsPort, security: "tls", user: OLD, password: PASS });
      expect(r.status).toBe(400);
      expect(r.text).toContain("private or local network");
    }
    expect((await status(c)).state).toBe("idle");
  });

  test("a wrong password fails in words; a second start while one runs is a 409; cancel stops it", async () => {
    const c = await ApiClient.signIn(srv.base, BOB);
    const r = await start(c, { host: "127.0.0.1", port: dovecot.tlsPort, security: "tls", user: OLD, password: "wrong" });
    expect(r.status).toBe(202);
    const s = await finished(c);
    expect(s.state).toBe("failed");
    expect(s.error).toContain("refused the user name or password");
    expect(JSON.stringify(s)).not.toContain("wrong\"");

    const ok = await start(c, { host: "127.0.0.1", port: dovecot.tlsPort, security: "tls", user: OLD, password: PASS });
    expect(ok.status).toBe(202);
    const again = await start(c, { host: "127.0.0.1", port: dovecot.tlsPort, security: "tls", user: OLD, password: PASS });
    // Either still running (409) or, on a fast machine, already done (a new run then imports 0).
    expect([409, 202]).toContain(again.status);
    if (again.status === 409) expect(again.text).toContain("already running");
    const cancelled = await c.send("DELETE", "/api/import");
    expect(cancelled.status).toBe(200);
    const end = await finished(c);
    expect(["cancelled", "done"]).toContain(end.state);
    // Start again: it continues, nothing twice.
    expect((await start(c, { host: "127.0.0.1", port: dovecot.tlsPort, security: "tls", user: OLD, password: PASS })).status).toBe(202);
    expect((await finished(c)).state).toBe("done");
    const bob = (await srv.store.getAccount(BOB.email))!;
    expect((await srv.store.quota(bob.id)).messages).toBe(100);
  });
});

async function runUiImport(page: Page, oldUser: string, expectFolder: string, expectCount: number) {
  await page.locator('[data-action="settings"]').first().click();
  const panel = page.locator('[data-panel="import"]');
  await panel.scrollIntoViewIfNeeded();
  await panel.locator('input[name="importHost"]').fill("127.0.0.1");
  await panel.locator('select[name="importSecurity"]').selectOption("tls");
  await panel.locator('input[name="importPort"]').fill(String(dovecot.tlsPort));
  await panel.locator('input[name="importUser"]').fill(oldUser);
  await panel.locator('input[name="importPassword"]').fill(PASS);
  await panel.locator('[data-action="start-import"]').click();
  // Progress is shown while it runs (the bar appears at once), then the result.
  await panel.locator("progress.import-progress").waitFor({ state: "visible" });
  await page.waitForFunction(() => document.querySelector('[data-panel="import"]')?.getAttribute("data-state") === "done", null, { timeout: 60_000 });
  const text = await panel.locator("[data-import-status]").innerText();
  expect(text).toContain(`${expectCount} messages copied`);
  expect(await panel.locator('input[name="importPassword"]').inputValue()).toBe("");
  await page.keyboard.press("Escape");
  // The new folder appears in the folder list (live events), without a reload.
  await page.getByText(expectFolder, { exact: true }).first().waitFor({ state: "attached", timeout: 15_000 });
}

describe.skipIf(skip)("webmail import screen (Chromium)", () => {
  test("desktop: start, progress, done; the folders appear; the mailbox matches the old one", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await login(page, srv.base, ALICE);
      await runUiImport(page, OLD, "Projekte", 100);
    } finally {
      await context.close();
    }
    const [src, dst] = await Promise.all([
      readTree({ host: "127.0.0.1", port: dovecot.tlsPort, user: OLD, pass: PASS, tls: "implicit" }),
      readTree({ host: "127.0.0.1", port: srv.port("IMAP"), user: ALICE.email, pass: ALICE.password, tls: "none" }),
    ]);
    for (const [name, f] of src) {
      expect(dst.get(name)!.messages.map((m) => [m.sha, m.internalDate, m.flags.join(" ")])).toEqual(f.messages.map((m) => [m.sha, m.internalDate, m.flags.join(" ")]));
    }
  });

  test("phone (390x844, touch): the same screen works", async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await login(page, srv.base, CAROL);
      await runUiImport(page, "phone@old.test", "Reisen", 25);
      // Nothing of the form is wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    } finally {
      await context.close();
    }
  });
});
