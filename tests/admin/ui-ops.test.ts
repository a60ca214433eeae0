/**
 * The web admin in Chromium (desktop 1280x800) against a real server, part 2:
 * an alias and a catch-all made on the page deliver mail sent with smtplib;
 * a queued message to an unreachable host shows its error, is retried (the
 * worker tries again) and dropped; ActiveSync devices wiped (stored as
 * requested) and removed; the certificate's issuer; a failed IMAP login found
 * with the log filters and a new one arriving by auto-refresh; bars for the
 * messages the test delivered; the German catalog; every change carried the
 * CSRF token; axe-core on every page. Part 1: ui.test.ts.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Page } from "playwright-core";
import { ALICE, ApiClient, BOB, CAROL, mailboxMessages, smtpSend, waitFor } from "../webmail/helpers.ts";
import type { CertificateStatus } from "../../src/ops/types.ts";
import type { ActivityRecorder } from "../../src/activity.ts";
import { imapLogin } from "./helpers.ts";
import { axe, confirm, csrfOfChanges, go, newPage, row, shot, signInAdmin, startAdminUi, toast, type AdminUi } from "./ui-helpers.ts";

// Each test drives a browser through several pages; a test that runs out of time closes the browser for the rest.
setDefaultTimeout(30_000);

let ui: AdminUi;
let srv: AdminUi["srv"];
let page: Page;

beforeAll(async () => {
  ui = await startAdminUi();
  ({ srv, page } = ui);
}, 60_000);

afterAll(async () => {
  await ui?.close();
});

describe("aliases, queue, devices, certificates", () => {
  test("an alias and a catch-all made on the page deliver mail sent with smtplib; remove one", async () => {
    await srv.store.addDomain("catch.test");
    await go(page, "#/aliases");
    const add = async (source: string, destination: string) => {
      await page.getByLabel("Alias address").fill(source);
      await page.getByLabel("Delivers to").fill(destination);
      await page.getByRole("button", { name: "Add an alias" }).click();
      await row(page, source).waitFor();
    };
    await add("info@example.test", BOB.email);
    await add("@catch.test", CAROL.email);
    expect(await row(page, "@catch.test").textContent()).toContain("Catch-all for catch.test");
    // Malformed: refused in words, nothing added.
    await page.getByLabel("Alias address").fill("not an address");
    await page.getByLabel("Delivers to").fill(BOB.email);
    await page.getByRole("button", { name: "Add an alias" }).click();
    expect((await toast(page, "alert")).length).toBeGreaterThan(5);

    await smtpSend(srv.port("SMTP"), "someone@outside.test", ["info@example.test"], "From: someone@outside.test\r\nTo: info@example.test\r\nSubject: via alias ui\r\nMessage-ID: <alias-ui@outside.test>\r\n\r\nhello\r\n");
    await smtpSend(srv.port("SMTP"), "someone@outside.test", ["whoever@catch.test"], "From: someone@outside.test\r\nTo: whoever@catch.test\r\nSubject: via catch-all ui\r\nMessage-ID: <catch-ui@outside.test>\r\n\r\nhello\r\n");
    const bob = await mailboxMessages(srv, BOB, "INBOX");
    expect(bob.messages.some((m) => m.toString().includes("<alias-ui@outside.test>"))).toBe(true);
    const carol = await mailboxMessages(srv, CAROL, "INBOX");
    expect(carol.messages.some((m) => m.toString().includes("<catch-ui@outside.test>"))).toBe(true);
    expect(await axe(page, "aliases")).toEqual([]);

    await page.getByRole("button", { name: `Remove the alias info@example.test → ${BOB.email}` }).click();
    await confirm(page);
    await row(page, "info@example.test").waitFor({ state: "detached" });
    expect((await srv.store.listAliases()).some((a) => a.source === "info@example.test")).toBe(false);
  });

  test("queue: an entry to an unreachable host shows its error; retry makes the worker try again; drop removes it", async () => {
    const e = await srv.store.enqueue({ sender: ALICE.email, recipients: ["someone@remote.test"], raw: new TextEncoder().encode("From: alice@example.test\r\nSubject: q\r\n\r\nbody\r\n") });
    const first = await waitFor(async () => {
      const q = await srv.store.getQueueEntry(e.id);
      return q && q.attempts >= 1 && q.lastError ? q : null;
    }, "the first delivery attempt");
    await go(page, "#/queue");
    const r = row(page, "someone@remote.test");
    expect(await r.textContent()).toContain(first.lastError!.slice(0, 20));
    expect(await axe(page, "queue")).toEqual([]);
    await page.getByRole("button", { name: `Retry now (message ${e.id})` }).click();
    await toast(page, "status", `Message ${e.id} will be tried now.`);
    await waitFor(async () => ((await srv.store.getQueueEntry(e.id))?.attempts ?? 0) > first.attempts, "the retried attempt");
    await page.getByRole("button", { name: `Drop message ${e.id}` }).click();
    await confirm(page);
    await row(page, "someone@remote.test").waitFor({ state: "detached" });
    expect(await srv.store.getQueueEntry(e.id)).toBeNull();
  }, 30_000);

  test("devices: every account's; wipe after confirming (stored as requested), remove", async () => {
    const bob = (await srv.store.getAccount(BOB.email))!;
    await srv.ctx.storage.eas.touchDevice(bob.id, "BOBPHONE", { deviceType: "Android", userAgent: "Android-Mail/1", protocolVersion: "14.1", ip: "192.0.2.9" }, Date.now());
    await go(page, "#/devices");
    const r = row(page, "BOBPHONE");
    expect(await r.textContent()).toContain(BOB.email);
    expect(await r.textContent()).toContain("Not requested");
    await r.getByRole("button", { name: "Wipe BOBPHONE" }).click();
    await confirm(page);
    await row(page, "BOBPHONE").getByText("Requested, waits for the device").waitFor();
    expect((await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE"))!.wipeStatus).toBe("requested");
    expect(await axe(page, "devices")).toEqual([]);
    await row(page, "BOBPHONE").getByRole("button", { name: "Remove BOBPHONE" }).click();
    await confirm(page);
    await row(page, "BOBPHONE").waitFor({ state: "detached" });
    expect(await srv.ctx.storage.eas.getDevice(bob.id, "BOBPHONE")).toBeNull();
  });

  test("certificates: the issuer, names and validity the listeners serve; renew answers in words", async () => {
    const certs: CertificateStatus[] = srv.ctx.certificates.status();
    expect(certs.length).toBeGreaterThan(0);
    await go(page, "#/certificates");
    const issuers = await page.locator(".cert-issuer").allTextContents();
    expect(issuers).toContain(certs[0]!.issuer);
    expect(await page.locator(".page").textContent()).toContain(certs[0]!.fingerprint);
    expect(await page.locator(".page").textContent()).toContain(certs[0]!.names[0]!);
    await page.getByRole("button", { name: "Renew now" }).click();
    const result = page.locator(".renew-result");
    await waitFor(async () => {
      const text = (await result.textContent()) ?? "";
      return text.length > 10 && !text.startsWith("Renewing") ? text : null;
    }, "the renewal's answer");
    expect(await axe(page, "certificates")).toEqual([]);
  });
});

describe("logs and graphs", () => {
  test("logs: a failed IMAP login made by the test is found with the kind and text filters", async () => {
    const imap = srv.port("IMAP");
    if (!imap) return;
    expect(await imapLogin(imap, CAROL.email, "certainly not the password")).toStartWith("NO");
    await go(page, "#/logs");
    for (const box of await page.locator("fieldset.kinds input").all()) if (await box.isChecked()) await box.uncheck();
    await page.getByLabel("Failed login").check();
    await page.getByLabel("Containing").fill("carol@");
    // The filters apply as they change: wait for the answer to the last one (only failed logins, carol's among them).
    const hit = page.locator("tbody tr", { hasText: CAROL.email });
    await waitFor(async () => {
      const kinds = await page.locator("tbody tr td:nth-child(2)").allTextContents();
      return kinds.length > 0 && kinds.every((k) => k.includes("Failed login")) && (await hit.count()) > 0;
    }, "only failed logins, carol's among them");
    const text = (await hit.first().textContent()) ?? "";
    expect(text).toContain("Failed login");
    expect(text).toContain("imap");
    // Deliveries only: the failed login is not among them.
    await page.getByLabel("Failed login").uncheck();
    await page.getByLabel("Delivery", { exact: true }).check();
    await waitFor(async () => (await page.locator("tbody tr", { hasText: "Failed login" }).count()) === 0, "the filter applied");
    await page.getByLabel("Delivery", { exact: true }).uncheck();
    expect(await axe(page, "logs")).toEqual([]);
  });

  test("logs: the period leaves out older entries", async () => {
    // A failed POP3 login three hours ago (in the ring as the log sink would have put it).
    (srv.ctx.activity as ActivityRecorder).record({ ts: Date.now() - 3 * 3600_000, kind: "login-failed", level: "warn", msg: "login failed", protocol: "pop3", account: "old-probe@example.test", ip: "198.51.100.9", fields: { reason: "bad password" } });
    await go(page, "#/logs");
    await page.getByLabel("Containing").fill("old-probe");
    await page.getByLabel("Period").selectOption({ label: "Last hour" });
    await page.getByText("Nothing matches these filters.").waitFor();
    await page.getByLabel("Period").selectOption({ label: "Last 24 hours" });
    const old = page.locator("tbody tr", { hasText: "old-probe@example.test" });
    await old.waitFor();
    expect(await old.textContent()).toContain("reason=bad password");
    expect(await old.textContent()).toContain("pop3");
    await page.getByLabel("Containing").fill("");
  });

  test("logs: auto-refresh shows a new entry without a reload", async () => {
    await go(page, "#/logs");
    await page.getByLabel("Containing").fill("");
    await page.getByLabel("Failed login").check();
    await page.getByLabel("Refresh every 5 seconds").check();
    const imap = srv.port("IMAP");
    if (!imap) return;
    expect(await imapLogin(imap, "autorefresh-probe@example.test", "wrong password")).toStartWith("NO");
    await page.locator("tbody tr", { hasText: "autorefresh-probe@example.test" }).first().waitFor({ timeout: 20_000 });
    await page.getByLabel("Refresh every 5 seconds").uncheck();
    await page.getByLabel("Failed login").uncheck();
  }, 30_000);

  test("graphs: bars for the messages the test delivered, and storage per account", async () => {
    const before = (await srv.ctx.activity.hourly(1))[0]!.messagesIn;
    for (let i = 0; i < 3; i++) await smtpSend(srv.port("SMTP"), "stats@outside.test", [CAROL.email], `From: stats@outside.test\r\nTo: ${CAROL.email}\r\nSubject: stats ${i}\r\n\r\nhello\r\n`);
    await waitFor(async () => (await srv.ctx.activity.hourly(1))[0]!.messagesIn >= before + 3, "three deliveries counted");
    const expected = (await srv.ctx.activity.hourly(1))[0]!.messagesIn;
    await go(page, "#/stats");
    // The current hour is the last group; its "received" bar carries the count.
    const values = await page.locator("#chart-traffic rect.col.s0").evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-value"))));
    expect(values.length).toBeGreaterThan(0);
    expect(values[values.length - 1]).toBe(expected);
    expect(await page.locator("#chart-traffic svg").getAttribute("aria-label")).toContain("received");
    const carol = page.locator("#storage-bars li", { hasText: CAROL.email });
    expect(await carol.textContent()).toMatch(/\d/);
    const width = await carol.locator(".bar-fill").evaluate((e) => (e as HTMLElement).getBoundingClientRect().width);
    expect(width).toBeGreaterThan(0);
    await shot(page, "admin-stats");
    expect(await axe(page, "stats")).toEqual([]);
  }, 30_000);
});

describe("language", () => {
  test("the language chosen in the admin's webmail settings wins over the browser's", async () => {
    const web = await ApiClient.signIn(srv.base, ALICE);
    expect((await web.send("PUT", "/api/settings", { language: "es" })).status).toBe(200);
    const { page: p, context } = await newPage(ui.browser, "desktop", "en-GB");
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/queue");
      await p.waitForSelector('body[data-route="queue"]', { state: "attached" });
      expect(await p.locator("h1").textContent()).toBe("Cola");
      expect(await p.getAttribute("html", "lang")).toBe("es");
    } finally {
      await web.send("PUT", "/api/settings", { language: "" });
      await context.close();
    }
  });

  test("a German browser gets the German pages", async () => {
    const { page: p, context } = await newPage(ui.browser, "desktop", "de-DE");
    try {
      await signInAdmin(p, srv.base, ALICE, "/admin/accounts");
      await p.waitForSelector('body[data-route="accounts"]', { state: "attached" });
      expect(await p.locator("h1").textContent()).toBe("Konten");
      expect(await p.locator("nav").textContent()).toContain("Warteschlange");
      expect(await p.getAttribute("html", "lang")).toBe("de");
    } finally {
      await context.close();
    }
  });
});

describe("security", () => {
  test("every state-changing call the pages made carried the session's CSRF token", async () => {
    const { methods, wrong } = await csrfOfChanges(ui);
    expect(ui.changes.length).toBeGreaterThan(8);
    expect(methods).toEqual(["DELETE", "POST"]);
    expect(wrong).toEqual([]);
  });

  test("the pages ran under the admin's Content-Security-Policy without a refused style or script, and without a script error", () => {
    expect(ui.problems).toEqual([]);
  });
});
