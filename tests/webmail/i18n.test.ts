/**
 * Issue 17, mail item 12: the interface in English, German, French and Spanish, chosen from the browser with
 * a setting to override, and dates in the chosen language and the user's time zone.
 *
 * Unit tests: the language choice, t() fallbacks, tn() plurals, sizes and dates, the sign-in page's
 * Accept-Language parsing and texts, the quote line's words, and every catalog in web/src/i18n complete in all
 * four languages (the other features' catalogs included). Playwright (Chromium, desktop 1280x800 and phone
 * 390x844): a de-DE browser gets German folder names and dates, the Language setting switches to French and
 * back, a user in America/New_York sees list dates in that zone, the sign-in page speaks Spanish to `es`.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { ALICE, BOB, CAROL, CHROMIUM_ARGS, login, request, startWebmailServer } from "./helpers.ts";
import { pageLang, pageText, pageTextKeys, tooManyText } from "../../protocols/http/webmail/login-i18n.ts";
import { quoteTexts } from "../../protocols/http/webmail/quote-i18n.ts";

// The i18n module sets <html lang> on a language change: a minimal document is enough outside a browser.
(globalThis as { document?: unknown }).document ??= { documentElement: { lang: "" } };
const i18n = await import("../../web/src/i18n/index.ts");
const util = await import("../../web/src/util.ts");
const { chooseLang, setLang, setTimeZone, t, tn, register, registeredKeys, LANGS } = i18n;

const WEB = join(import.meta.dir, "../../web/src");

describe("item 12: i18n core", () => {
  test("chooseLang: a saved setting wins; otherwise the browser's first supported language; else English", () => {
    expect(chooseLang("fr", ["de-DE", "en"])).toBe("fr");
    expect(chooseLang("", ["de-DE", "en"])).toBe("de");
    expect(chooseLang(null, ["pt-BR", "es-MX", "en"])).toBe("es");
    expect(chooseLang(undefined, ["FR_ca"])).toBe("fr");
    expect(chooseLang("xx", ["it", "ja"])).toBe("en");
    expect(chooseLang("", [])).toBe("en");
  });

  test("t: the chosen language, else English, else the key; {vars} filled, unknown ones kept", () => {
    register({ en: { "test.hello": "Hello {name}", "test.onlyEn": "Only English" }, de: { "test.hello": "Hallo {name}" } });
    setLang("de");
    expect(t("test.hello", { name: "Kim" })).toBe("Hallo Kim");
    expect(t("test.onlyEn")).toBe("Only English");
    expect(t("test.missing")).toBe("test.missing");
    expect(t("test.hello", { other: 1 })).toBe("Hallo {name}");
    setLang("fr");
    expect(t("test.hello", { name: "Kim" })).toBe("Hello Kim");
    expect((globalThis as unknown as { document: { documentElement: { lang: string } } }).document.documentElement.lang).toBe("fr");
    setLang("en");
  });

  test("tn: plural forms by the language's rules (French 0 and 1 are singular), numbers formatted, zero form when given", () => {
    register({
      en: { "test.n.one": "{n} message", "test.n.other": "{n} messages", "test.z.zero": "none", "test.z.other": "{n} items" },
      fr: { "test.n.one": "{n} message", "test.n.other": "{n} messages" },
      de: { "test.n.one": "{n} Nachricht", "test.n.other": "{n} Nachrichten" },
    });
    setLang("en");
    expect(tn("test.n", 1)).toBe("1 message");
    expect(tn("test.n", 0)).toBe("0 messages");
    expect(tn("test.n", 1234)).toBe("1,234 messages");
    expect(tn("test.z", 0)).toBe("none");
    expect(tn("test.z", 2)).toBe("2 items");
    setLang("fr");
    expect(tn("test.n", 0)).toBe("0 message");
    expect(tn("test.n", 1)).toBe("1 message");
    expect(tn("test.n", 2)).toBe("2 messages");
    setLang("de");
    expect(tn("test.n", 1)).toBe("1 Nachricht");
    expect(tn("test.n", 1234)).toBe("1.234 Nachrichten");
    // The mail catalog's own plurals.
    expect(tn("mail.toast.trashed", 1)).toBe("1 Nachricht in „Gelöschte Elemente“ verschoben.");
    setLang("es");
    expect(tn("mail.count.unread", 3)).toBe("3 no leídos");
    setLang("en");
    expect(tn("mail.toast.moved", 2, { folder: "Projects" })).toBe("Moved 2 messages to Projects.");
  });

  test("sizes and folder names in the chosen language; dates in the user's zone", () => {
    setLang("fr");
    expect(util.formatSize(1.5 * 1024 * 1024)).toBe("1,5 Mo");
    expect(util.folderLabel({ name: "Trash", specialUse: "\\Trash" })).toBe("Éléments supprimés");
    expect(util.folderPath({ name: "INBOX/Clients", specialUse: null })).toBe("Boîte de réception/Clients");
    setLang("de");
    expect(util.formatSize(2048)).toBe("2 KB");
    expect(util.folderLabel({ name: "INBOX", specialUse: null })).toBe("Posteingang");
    expect(util.folderLabel({ name: "Projects/2026", specialUse: null })).toBe("2026");
    // 03:30 UTC on 5 March is still 4 March in New York and already 5 March in Berlin.
    const ms = Date.UTC(2026, 2, 5, 3, 30);
    const now = Date.UTC(2026, 11, 7, 12, 0);
    setTimeZone("America/New_York");
    expect(util.formatListDate(ms, now)).toBe("4. März");
    expect(util.formatFullDate(ms)).toBe("Mittwoch, 4. März 2026 um 22:30");
    setTimeZone("Europe/Berlin");
    expect(util.formatListDate(ms, now)).toBe("5. März");
    // Today: the time only, in the zone's day.
    expect(util.formatListDate(Date.UTC(2026, 11, 7, 22, 30), Date.UTC(2026, 11, 7, 8, 0))).toBe("23:30");
    setTimeZone("Not/A_Zone"); // ignored: the previous zone stays
    expect(i18n.timeZone()).toBe("Europe/Berlin");
    setTimeZone("UTC");
    setLang("en");
    expect(util.formatListDate(ms, Date.UTC(2027, 0, 2))).toBe("Mar 5, 2026");
  });

  test("dates and numbers use the browser's region when it speaks the chosen language (en-GB, de-CH); <html lang> is always set", () => {
    const nav = globalThis.navigator as unknown as Record<string, unknown>;
    const had = Object.getOwnPropertyDescriptor(nav, "languages");
    Object.defineProperty(nav, "languages", { value: ["en-GB", "de-CH", "x_bad_tag!"], configurable: true });
    try {
      setTimeZone("Europe/London");
      const doc = (globalThis as unknown as { document: { documentElement: { lang: string } } }).document;
      doc.documentElement.lang = "de"; // what a server-rendered page might have guessed
      setLang("en");
      expect(doc.documentElement.lang).toBe("en");
      expect(i18n.locale()).toBe("en-GB");
      expect(util.formatListDate(Date.UTC(2026, 2, 5, 15, 30), Date.UTC(2026, 11, 7))).toBe("5 Mar");
      // Day before month and a 24-hour clock (ICU versions differ on the comma after the weekday).
      expect(util.formatFullDate(Date.UTC(2026, 2, 5, 15, 30))).toMatch(/^Thursday,? 5 March 2026 at 15:30$/);
      setLang("de");
      expect(i18n.locale()).toBe("de-CH");
      expect(i18n.formatNumber(1234)).toMatch(/^1['’]234$/); // the Swiss grouping mark (ICU versions differ on which apostrophe)
      setLang("fr"); // no French tag in the browser's list: plain "fr"
      expect(i18n.locale()).toBe("fr");
    } finally {
      if (had) Object.defineProperty(nav, "languages", had);
      else delete nav.languages;
      setTimeZone("UTC");
      setLang("en");
    }
    expect(i18n.locale()).toBe("en");
  });

  test("datetime inputs (out of office) read and write wall-clock times in the user's zone, across DST", () => {
    setTimeZone("America/New_York");
    expect(util.fromZoneInput("2026-12-24T09:00")).toBe(Date.UTC(2026, 11, 24, 14, 0));
    expect(util.toZoneInput(Date.UTC(2026, 11, 24, 14, 0))).toBe("2026-12-24T09:00");
    expect(util.fromZoneInput("2026-07-01T09:00")).toBe(Date.UTC(2026, 6, 1, 13, 0)); // EDT, UTC-4
    setTimeZone("Europe/Berlin");
    // The hour after the spring change: 03:30 CEST is 01:30 UTC.
    expect(util.fromZoneInput("2026-03-29T03:30")).toBe(Date.UTC(2026, 2, 29, 1, 30));
    expect(util.toZoneInput(Date.UTC(2026, 2, 29, 1, 30))).toBe("2026-03-29T03:30");
    expect(util.fromZoneInput("2026-03-29T01:30")).toBe(Date.UTC(2026, 2, 29, 0, 30));
    // 02:30 does not exist that night: it lands an hour on, at 03:30 local, never an error.
    expect(util.toZoneInput(util.fromZoneInput("2026-03-29T02:30"))).toBe("2026-03-29T03:30");
    expect(util.fromZoneInput("")).toBeUndefined();
    expect(util.fromZoneInput("24.12.2026 09:00")).toBeUndefined();
    expect(util.toZoneInput(undefined)).toBe("");
    setTimeZone("UTC");
  });

  test("every key of every catalog in web/src/i18n exists in English, German, French and Spanish; plurals have .other", async () => {
    const files = readdirSync(join(WEB, "i18n")).filter((f) => f.endsWith(".ts") && f !== "index.ts");
    expect(files).toContain("mail.ts");
    for (const f of files) await import(join(WEB, "i18n", f));
    const sets = Object.fromEntries(LANGS.map((l) => [l, new Set(registeredKeys(l))]));
    // The test catalogs registered above are half-translated on purpose.
    const all = new Set(LANGS.flatMap((l) => [...sets[l]!]).filter((k) => !k.startsWith("test.")));
    const missing: string[] = [];
    for (const k of all) for (const l of LANGS) if (!sets[l]!.has(k)) missing.push(`${l}: ${k}`);
    expect(missing).toEqual([]);
    const noOther = [...all].filter((k) => k.endsWith(".one") && !all.has(k.slice(0, -4) + ".other"));
    expect(noOther).toEqual([]);
    expect(all.size).toBeGreaterThan(200);
  });

  test("a server's English error message is found in the catalog by its exact text", () => {
    expect(i18n.keyForEnglish("mail.err.", "Your current password is not correct.")).toBe("mail.err.wrongPassword");
    expect(i18n.keyForEnglish("mail.err.", "Your current password is not correct")).toBeUndefined();
    expect(i18n.keyForEnglish("mail.err.", "Inbox")).toBeUndefined(); // only under the prefix
    setLang("es");
    expect(t(i18n.keyForEnglish("mail.err.", "That folder no longer exists.")!)).toBe("Esa carpeta ya no existe.");
    setLang("en");
  });

  test("every key the mail UI looks up is in the mail catalog", () => {
    const en = new Set(registeredKeys("en"));
    const files = ["main.ts", "list.ts", "reader.ts", "compose.ts", "settings.ts", "undo.ts", "folder-picker.ts", "util.ts", "api.ts"];
    const unknown: string[] = [];
    for (const f of files) {
      const src = readFileSync(join(WEB, f), "utf8");
      for (const m of src.matchAll(/\b(t|tn|tr)\("((?:mail|compose|settings)\.[A-Za-z0-9_.]+)"/g)) {
        const key = m[2]!;
        if (m[1] === "tn" ? !en.has(`${key}.other`) : !en.has(key)) unknown.push(`${f}: ${key}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});

describe("item 12: server-rendered texts", () => {
  test("Accept-Language: the highest q-value we offer wins, q=0 is refused, ties keep header order, English otherwise", () => {
    expect(pageLang("es")).toBe("es");
    expect(pageLang("de-CH, fr;q=0.9, en;q=0.8")).toBe("de");
    expect(pageLang("it, fr;q=0.5, es;q=0.7")).toBe("es");
    expect(pageLang("fr;q=0, es;q=0.1")).toBe("es");
    expect(pageLang("ja, *;q=0.5")).toBe("en");
    expect(pageLang("FR-be;Q=1")).toBe("fr");
    expect(pageLang("")).toBe("en");
    expect(pageLang(undefined)).toBe("en");
    expect(pageLang(";;;,,,q=abc")).toBe("en");
    expect(pageLang("es;q=2")).toBe("es"); // a q over 1 is not a number we accept: the range counts as q=1
    // Only the first ranges of a huge header are read.
    expect(pageLang(Array.from({ length: 5000 }, () => "xx").join(",") + ",de")).toBe("en");
  });

  test("the sign-in texts: same keys in every language, plurals by count", () => {
    const keys = pageTextKeys("en");
    for (const l of ["de", "fr", "es"] as const) expect(pageTextKeys(l)).toEqual(keys);
    expect(pageText("de", "submit")).toBe("Anmelden");
    expect(tooManyText("en", 1000)).toContain("try again in 1 second.");
    expect(tooManyText("fr", 30_000)).toContain("réessayez dans 30 secondes.");
    expect(tooManyText("es", 120_000)).toContain("dentro de 2 minutos.");
    expect(tooManyText("de", 60_000)).toContain("in 1 Minute erneut");
  });

  test("the quote line's words follow the date's language", () => {
    expect(quoteTexts("de-DE").wrote("Montag", "Kim")).toBe("Am Montag schrieb Kim:");
    expect(quoteTexts("fr").forwarded).toBe("---------- Message transféré ----------");
    expect(quoteTexts("es-MX").subject).toBe("Asunto");
    expect(quoteTexts("pt").wrote("Mon", "Kim")).toBe("On Mon, Kim wrote:");
    expect(quoteTexts(undefined).from).toBe("From");
  });
});

// ------------------------------------------------------------------ in the browser

const SIZES = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } } as const;
type Size = keyof typeof SIZES;
const SUBJECT = "Quartalszahlen";
/** 03:30 UTC on Thursday 5 March 2026: 04:30 in Berlin (the browser's zone), 22:30 on 4 March in New York. */
const WHEN = Date.UTC(2026, 2, 5, 3, 30);

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Browser;

async function openPage(size: Size, locale: string, user: { email: string; password: string }): Promise<{ page: Page; context: BrowserContext }> {
  const context = await browser.newContext({
    viewport: SIZES[size],
    ignoreHTTPSErrors: true,
    locale,
    timezoneId: "Europe/Berlin",
    ...(size === "phone" ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await login(page, srv.base, user);
  return { page, context };
}

const rowDate = (page: Page) => page.locator(".row", { hasText: SUBJECT }).locator(".row-date");
const folderNames = (page: Page) => page.locator(".folders .folder-name").allTextContents();

beforeAll(async () => {
  srv = await startWebmailServer();
  const enc = new TextEncoder();
  for (const u of [ALICE, BOB, CAROL]) {
    const a = (await srv.store.getAccount(u.email))!;
    const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
    await srv.store.append(inbox.id, [
      {
        raw: enc.encode(`From: Kim Ko <kim@example.org>\r\nTo: ${u.email}\r\nSubject: ${SUBJECT}\r\nDate: Thu, 05 Mar 2026 03:30:00 +0000\r\nMessage-ID: <q-${a.id}@example.org>\r\n\r\nDie Zahlen.\r\n`),
        internalDate: WHEN,
      },
    ]);
  }
  const carol = (await srv.store.getAccount(CAROL.email))!;
  await srv.store.updateSettings(carol.id, { timeZone: "America/New_York" });
  browser = await chromium.launch({ executablePath: "/usr/bin/chromium", headless: true, args: CHROMIUM_ARGS });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

describe("item 12: languages and dates in the browser", () => {
  for (const size of ["desktop", "phone"] as const) {
    test(`item 12: a de-DE browser gets German folder names, texts and dates (${size})`, async () => {
      const { page, context } = await openPage(size, "de-DE", ALICE);
      try {
        expect(await page.getAttribute("html", "lang")).toBe("de");
        await page.locator(".folders .folder-name", { hasText: "Posteingang" }).waitFor({ state: "attached" });
        const names = await folderNames(page);
        for (const n of ["Posteingang", "Entwürfe", "Gesendete Elemente", "Gelöschte Elemente", "Junk-E-Mail", "Archiv"]) expect(names).toContain(n);
        expect(await page.locator(".list-title").textContent()).toBe("Posteingang");
        expect(await page.locator('[data-action="compose"] .btn-text').textContent()).toBe("Neue Nachricht");
        expect(await rowDate(page).textContent()).toBe("5. März");
        // A server error (its English sentence) is shown in German.
        if (size === "desktop") {
          page.once("dialog", (d) => void d.accept("Bad*Name"));
          await page.locator('[data-action="new-folder"]').click();
          await page.locator(".toast-error", { hasText: "Ein Ordnername darf weder / * % noch Steuerzeichen enthalten." }).waitFor();
        }
        // The search filters' labels.
        await page.locator('.search button[aria-expanded]').click();
        expect(await page.locator(".search-filters").textContent()).toContain("Nach dem");
        expect(await page.locator(".search-filters").textContent()).toContain("Vor dem");
        await page.locator('.search button[aria-expanded]').click();
        // The reading pane's date, in full at desktop width (a phone shows it relative, the full one a tap away).
        await page.locator(".row", { hasText: SUBJECT }).click();
        await page.locator(".reader .msg-subject", { hasText: SUBJECT }).waitFor();
        expect(await page.locator(".reader .msg-date").textContent()).toContain("Donnerstag, 5. März 2026 um 04:30");
        expect(await page.locator('.reader [data-action="reply"]').getAttribute("aria-label")).toBe("Antworten");
        // The quote line in the composer: German words, German date, the user's zone.
        await page.locator('.reader [data-action="reply"]').click();
        await page.locator(".composer-wrap:not([hidden]) .composer h2", { hasText: /^Antworten$/ }).waitFor();
        expect(await page.locator(".composer .pb-quote-head").textContent()).toBe("Am Donnerstag, 5. März 2026 um 04:30 schrieb Kim Ko <kim@example.org>:");
        await page.locator('.composer [data-action="discard"]').click();
        await page.locator(".composer-wrap").waitFor({ state: "hidden" });
      } finally {
        await context.close();
      }
    }, 45_000);
  }

  test("item 12: the Language setting switches the interface to French at once, and back to the browser's German; the Time zone setting moves the dates", async () => {
    const { page, context } = await openPage("desktop", "de-DE", BOB);
    try {
      await page.locator('[data-action="settings"]').click();
      const lang = page.locator('.settings select[name="language"]');
      expect(await lang.locator("option").allTextContents()).toEqual(["Browserstandard", "English", "Deutsch", "Français", "Español"]);
      // The time zone list starts with the browser's own.
      expect(await page.locator('.settings select[name="timeZone"] option').first().textContent()).toContain("Europe/Berlin");
      await Promise.all([page.waitForEvent("load"), lang.selectOption("fr")]);
      await page.waitForSelector('html[lang="fr"]', { state: "attached" });
      await page.waitForSelector("body[data-list-ready]", { state: "attached" });
      await page.locator(".folders .folder-name", { hasText: "Boîte de réception" }).waitFor({ state: "attached" });
      expect(await folderNames(page)).toContain("Éléments supprimés");
      expect(await page.locator('[data-action="compose"] .btn-text').textContent()).toBe("Nouveau message");
      expect(await rowDate(page).textContent()).toBe("5 mars");
      // Back to the browser's language.
      await page.locator('[data-action="settings"]').click();
      expect(await page.locator('.settings select[name="language"]').inputValue()).toBe("fr");
      await Promise.all([page.waitForEvent("load"), page.locator('.settings select[name="language"]').selectOption("")]);
      await page.waitForSelector('html[lang="de"]', { state: "attached" });
      await page.locator(".folders .folder-name", { hasText: "Posteingang" }).waitFor({ state: "attached" });
      expect(await rowDate(page).textContent()).toBe("5. März");
      const bob = (await srv.store.getAccount(BOB.email))!;
      expect(bob.settings.language ?? "").toBe("");
      // The Time zone setting: New York puts the message on 4 March; the device's zone puts it back on the 5th.
      await page.locator('[data-action="settings"]').click();
      await Promise.all([page.waitForEvent("load"), page.locator('.settings select[name="timeZone"]').selectOption("America/New_York")]);
      await page.waitForSelector("body[data-list-ready]", { state: "attached" });
      await page.locator(".row", { hasText: SUBJECT }).locator(".row-date", { hasText: "4. März" }).waitFor();
      expect((await srv.store.getAccount(BOB.email))!.settings.timeZone).toBe("America/New_York");
      await page.locator('[data-action="settings"]').click();
      expect(await page.locator('.settings select[name="timeZone"]').inputValue()).toBe("America/New_York");
      await Promise.all([page.waitForEvent("load"), page.locator('.settings select[name="timeZone"]').selectOption("")]);
      await page.waitForSelector("body[data-list-ready]", { state: "attached" });
      await page.locator(".row", { hasText: SUBJECT }).locator(".row-date", { hasText: "5. März" }).waitFor();
    } finally {
      await context.close();
    }
  }, 45_000);

  for (const size of ["desktop", "phone"] as const) {
    test(`item 12: a user whose time zone is America/New_York sees list and reader dates there, not in the browser's Berlin (${size})`, async () => {
      const { page, context } = await openPage(size, "en-US", CAROL);
      try {
        expect(await rowDate(page).textContent()).toBe("Mar 4");
        await page.locator(".row", { hasText: SUBJECT }).click();
        await page.locator(".reader .msg-subject", { hasText: SUBJECT }).waitFor();
        const full = page.locator(".reader .msg-date .when-full");
        const text = (await full.count()) ? await full.textContent() : await page.locator(".reader .msg-date").textContent();
        expect(text).toContain("Wednesday, March 4, 2026 at 10:30");
        if (size === "desktop") {
          // Out of office from 09:00 on 24 December is 09:00 in New York (14:00 UTC), not in the browser's Berlin.
          await page.locator('[data-action="settings"]').click();
          await page.locator('.settings input[name="oofStart"]').fill("2026-12-24T09:00");
          await page.locator('.settings button[type="submit"]').first().click();
          await page.locator(".settings .form-msg", { hasText: "Settings saved." }).waitFor();
          expect((await srv.store.getAccount(CAROL.email))!.settings.oof?.start).toBe(Date.UTC(2026, 11, 24, 14, 0));
          await page.keyboard.press("Escape");
          await page.locator('[data-action="settings"]').click();
          expect(await page.locator('.settings input[name="oofStart"]').inputValue()).toBe("2026-12-24T09:00");
          await page.keyboard.press("Escape");
        }
      } finally {
        await context.close();
      }
    }, 45_000);
  }

  test("item 12: the sign-in page in Spanish for Accept-Language: es (and German, English by default)", async () => {
    const es = await request("GET", srv.base + "/login", { headers: { "accept-language": "es-ES,es;q=0.9,en;q=0.5" } });
    expect(es.status).toBe(200);
    expect(es.text).toContain('<html lang="es">');
    expect(es.text).toContain("Iniciar sesión");
    expect(es.text).toContain("Contraseña");
    expect(es.headers["content-language"]).toBe("es");
    expect(String(es.headers["vary"])).toContain("Accept-Language");
    const en = await request("GET", srv.base + "/login");
    expect(en.text).toContain('<html lang="en">');
    expect(en.text).toContain("Sign in to your mail");
    // In a Spanish browser at phone size, the wrong password is answered in Spanish.
    const context = await browser.newContext({ viewport: SIZES.phone, isMobile: true, hasTouch: true, ignoreHTTPSErrors: true, locale: "es-ES" });
    try {
      const page = await context.newPage();
      await page.goto(srv.base + "/login");
      expect(await page.locator("button[type=submit]").textContent()).toBe("Iniciar sesión");
      await page.fill('input[name="email"]', ALICE.email);
      await page.fill('input[name="password"]', "not the password");
      await Promise.all([page.waitForLoadState(), page.click('button[type="submit"]')]);
      expect(await page.locator(".login-error").textContent()).toBe("La dirección de correo electrónico o la contraseña no son correctas.");
      expect(await page.getAttribute("html", "lang")).toBe("es");
    } finally {
      await context.close();
    }
  }, 30_000);
});
