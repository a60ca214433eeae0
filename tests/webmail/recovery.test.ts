/**
 * Issue 17, mail item 11: the server stops and comes back under an open page.
 * The live-update stream reconnects by itself (with backoff), the list
 * reloads and shows mail that arrived meanwhile, without a page reload; while
 * the server is away exactly one error is shown, and it goes away on recovery.
 */
import { test, expect, describe, afterAll } from "bun:test";
import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ALICE, launchBrowser, login, request, waitFor } from "./helpers.ts";
import { startTestServer, createUser, type TestServer } from "../helpers/server.ts";

const enc = new TextEncoder();
const dataDir = mkdtempSync(join(tmpdir(), "pb-recovery-"));
let srv: TestServer | null = null;
let browser: Awaited<ReturnType<typeof launchBrowser>> | null = null;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function start(port: number): Promise<TestServer> {
  return startTestServer({ listeners: ["HTTPS"], dataDir, config: { listeners: { HTTPS: { host: "127.0.0.1", port } } } });
}

async function deliver(s: TestServer, subject: string): Promise<void> {
  const a = (await s.store.getAccount(ALICE.email))!;
  const inbox = (await s.store.getFolder(a.id, "INBOX"))!;
  await s.store.append(inbox.id, [{ raw: enc.encode(`From: Kim <kim@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.org>\r\n\r\nHello\r\n`) }]);
}

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the server restarts under an open page", () => {
  for (const size of [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 390, height: 844 },
  ]) {
    test(`${size.name}: the list recovers without a reload; one error while away, cleared after`, async () => {
      const port = await freePort();
      srv = await start(port);
      if (!(await srv.store.getAccount(ALICE.email))) await createUser(srv.store, ALICE.email, ALICE.password, { displayName: ALICE.name });
      const base = `https://127.0.0.1:${port}`;
      await request("GET", base + "/login");
      await deliver(srv, `Before the restart ${size.name}`);
      browser = await launchBrowser();
      const page = browser.page;
      await page.setViewportSize({ width: size.width, height: size.height });
      page.setDefaultTimeout(20_000);
      await login(page, base, ALICE);
      await page.locator(".row", { hasText: `Before the restart ${size.name}` }).waitFor();
      await page.waitForSelector('body[data-live="1"]', { state: "attached" });
      // A marker that a page reload would lose.
      await page.evaluate(() => ((window as unknown as { pbMarker: number }).pbMarker = 1));

      await srv.close();
      srv = null;
      const lost = page.locator(".toast-error", { hasText: "Lost the connection to the mail server" });
      await lost.waitFor();
      // Something else failing meanwhile (opening a message) does not stack a second error.
      await page.locator(".row", { hasText: `Before the restart ${size.name}` }).click();
      // Let a few reconnect attempts fail.
      await new Promise((r) => setTimeout(r, 2500));
      expect(await page.locator(".toast-error").count()).toBe(1);
      expect(await lost.count()).toBe(1);

      srv = await start(port);
      await deliver(srv, `After the restart ${size.name}`);
      // Without a click or a reload the list shows what arrived meanwhile: the stream reconnected and the list reloaded.
      await page.waitForSelector('body[data-live="1"]', { state: "attached", timeout: 30_000 });
      await page.locator(".row", { hasText: `After the restart ${size.name}` }).waitFor();
      await waitFor(async () => (await page.locator(".toast-error").count()) === 0, "the error cleared", 10_000);
      // A message arriving now shows up live too (the stream is really back).
      await deliver(srv, `Live again ${size.name}`);
      await page.locator(".row", { hasText: `Live again ${size.name}` }).waitFor();
      expect(await page.evaluate(() => (window as unknown as { pbMarker?: number }).pbMarker)).toBe(1);
      expect(await page.locator(".toast-error").count()).toBe(0);
      await browser.close();
      browser = null;
      await srv.close();
      srv = null;
    }, 90_000);
  }
});
