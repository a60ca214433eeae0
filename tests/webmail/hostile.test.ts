/**
 * Hostile HTML mail opened in Chromium: no script runs (the sentinel stays
 * unset in the app page and in the message frame) and no request leaves for
 * any host other than the mail server; remote pictures load only after the
 * user allows them, for the message or for the sender.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import type { Page, Request } from "playwright-core";
import { CAROL, launchBrowser, login, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";
import { HOSTILE } from "./hostile-corpus.ts";
import { startRecorder, type Recorder } from "./recorder.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let recorder: Recorder;
let initialPages = 0;
/** Playwright-visible requests to hosts other than the server (the proxy sees the rest). */
const seen: string[] = [];
/**
 * Chromium's own background traffic to Google services (component updates, account and
 * autofill checks; Debian's build ships API keys) happens with no page open at all and is
 * set aside by host name. Everything else counts.
 */
const BROWSER_SERVICES = /(^|\.)(google\.com|googleapis\.com|gvt1\.com|gstatic\.com)$/;
/** Every request for a host other than the server, except the test's picture host and the browser's own services. */
const foreign = (): string[] =>
  [...recorder.requests, ...seen].filter((u) => {
    const host = new URL(u).hostname;
    return host !== "images.remote.test" && !BROWSER_SERVICES.test(host);
  });
const remoteImages = (): string[] => recorder.requests.filter((u) => new URL(u).hostname === "images.remote.test");
// 1x1 transparent PNG
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

function mail(subject: string, html: string, from = `Mallory <mallory@evil.test>`): string {
  return [`From: ${from}`, `To: ${CAROL.email}`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W+/g, "-")}@evil.test>`, `Date: ${new Date().toUTCString()}`, "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", ...(Buffer.from(html).toString("base64").match(/.{1,76}/g) ?? []), ""].join("\r\n");
}

async function open(subject: string): Promise<void> {
  const row = page.locator(".row", { has: page.locator(".row-subject", { hasText: new RegExp(`^${subject.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }) });
  await row.click();
  await page.locator(".msg-subject", { hasText: subject }).waitFor();
  await page.frameLocator(".msg-frame").locator("body").waitFor({ state: "attached" });
  // Give anything that could fire (meta refresh 0, onload, timers) its chance.
  await page.waitForTimeout(400);
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const origin = new URL(srv.base).host;
  for (const h of HOSTILE) await smtpSend(srv.port("SMTP"), "mallory@evil.test", [CAROL.email], mail(`Hostile: ${h.name}`, h.html));
  await smtpSend(srv.port("SMTP"), "news@pictures.example", [CAROL.email], mail("Pictures A", `<p>Look:</p><img alt="cat" src="https://images.remote.test/cat.png"><div style="background:url(https://images.remote.test/bg.png)">bg</div>`, "News <news@pictures.example>"));
  await smtpSend(srv.port("SMTP"), "news@pictures.example", [CAROL.email], mail("Pictures B", `<img alt="dog" src="https://images.remote.test/dog.png">`, "News <news@pictures.example>"));
  await smtpSend(srv.port("SMTP"), "other@else.example", [CAROL.email], mail("Pictures C", `<img alt="owl" src="https://images.remote.test/owl.png">`, "Other <other@else.example>"));
  // Every request to a host other than the server goes through this proxy and is recorded;
  // the picture host gets a PNG, anything else is refused.
  recorder = await startRecorder(srv.ctx.tls, (url) => (url.hostname === "images.remote.test" ? { status: 200, type: "image/png", body: PNG } : null));
  browser = await launchBrowser({ proxyPort: recorder.port });
  browser.context.on("request", (r: Request) => {
    const u = r.url();
    if (/^https?:/.test(u) && new URL(u).host !== origin) seen.push(u);
  });
  page = browser.page;
  initialPages = browser.context.pages().length;
  await login(page, srv.base, CAROL);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await recorder?.close();
  await srv?.close();
});

describe("hostile HTML mail", () => {
  for (const h of HOSTILE) {
    test(`no script and no foreign request: ${h.name}`, async () => {
      await open(`Hostile: ${h.name}`);
      const frame = page.frames().find((f) => f !== page.mainFrame() && f.url() === "about:srcdoc");
      expect(frame).toBeDefined();
      // Sentinel in the app page.
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await page.title()).toMatch(/^(\(\d+\) )?Mail · Pillarbox$/);
      // The frame did not navigate (meta refresh, base, javascript: URLs) and is still our srcdoc.
      expect(frame!.url()).toBe("about:srcdoc");
      // Sentinel in the frame (DevTools can evaluate there even though the page's own scripts cannot).
      expect(await frame!.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      // What is left in the frame is inert.
      const leftovers = await frame!.evaluate(() => {
        const bad: string[] = [];
        for (const el of Array.from(document.body.querySelectorAll("*"))) {
          const tag = el.tagName.toLowerCase();
          if (["script", "iframe", "frame", "object", "embed", "applet", "form", "input", "button", "meta", "base", "link", "svg", "math", "video", "audio", "source", "portal", "template", "noscript"].includes(tag)) bad.push(tag);
          for (const a of Array.from(el.attributes)) {
            if (/^on/i.test(a.name)) bad.push(`${tag}[${a.name}]`);
            if (/^(href|src|action|formaction|xlink:href|background|poster|srcset)$/i.test(a.name) && !/^(https?:|mailto:|tel:|data:image\/)/i.test(a.value.trim())) bad.push(`${tag}[${a.name}=${a.value.slice(0, 30)}]`);
          }
        }
        return bad;
      });
      expect(leftovers).toEqual([]);
      // Links open outside in a new tab without an opener or referrer.
      const links = await frame!.evaluate(() => Array.from(document.querySelectorAll("a[href]")).map((a) => [a.getAttribute("target"), a.getAttribute("rel")]));
      for (const [target, rel] of links) {
        expect(target).toBe("_blank");
        expect(rel).toBe("noopener noreferrer");
      }
      // Clicking everything clickable in the frame runs nothing either (https links are left alone: they would only open a new tab).
      for (const el of await frame!.$$("body *:not(a[href^='http'])")) await el.click({ force: true, timeout: 500 }).catch(() => {});
      await page.waitForTimeout(100);
      expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(await frame!.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
      expect(foreign()).toEqual([]);
      expect(browser.context.pages().length).toBe(initialPages);
    }, 30_000);
  }

  test("the hostile messages were blocked pictures, not silently dropped: the banner offers them", async () => {
    await open("Hostile: remote images (blocked by default)");
    expect(await page.locator(".banner", { hasText: "Pictures from the internet are hidden" }).count()).toBe(1);
    expect(foreign()).toEqual([]);
  }, 30_000);

  test("remote pictures load only after the user allows them for the message", async () => {
    await open("Pictures A");
    expect(remoteImages()).toEqual([]);
    const frame = page.frameLocator(".msg-frame");
    expect(await frame.locator('img[alt="cat"]').getAttribute("src")).toBeNull();
    await page.click('[data-action="show-images"]');
    await waitFor(async () => remoteImages().some((u) => u.endsWith("/cat.png")), "cat.png requested after allowing");
    await waitFor(async () => remoteImages().some((u) => u.endsWith("/bg.png")), "CSS background requested after allowing");
    expect(await page.frameLocator(".msg-frame").locator('img[alt="cat"]').getAttribute("src")).toBe("https://images.remote.test/cat.png");
    // Allowing one message does not allow the sender's next one.
    await open("Pictures B");
    expect(remoteImages().some((u) => u.endsWith("/dog.png"))).toBe(false);
    expect(foreign()).toEqual([]);
  }, 30_000);

  test("allowing a sender shows that sender's pictures from then on, and nobody else's", async () => {
    await open("Pictures B");
    await page.click('[data-action="trust-sender"]');
    await waitFor(async () => remoteImages().some((u) => u.endsWith("/dog.png")), "dog.png requested after trusting the sender");
    await open("Pictures C");
    expect(remoteImages().some((u) => u.endsWith("/owl.png"))).toBe(false);
    // The choice is kept on the server: it survives a reload.
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
    const before = remoteImages().length;
    await page.waitForTimeout(200);
    await open("Pictures B");
    await waitFor(async () => remoteImages().length > before, "sender's pictures shown after reload");
    expect(foreign()).toEqual([]);
  }, 30_000);
});
