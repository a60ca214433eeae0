/**
 * Issue 17, Contacts in the webmail (web/src/contacts), in Chromium at desktop
 * (1280x800) and phone (390x844) sizes: create a contact with several emails,
 * phones, an address, birthday, photo and notes and read it back over CardDAV;
 * edit; accent-insensitive search; groups (Write email, and as a recipient in
 * the composer's autocomplete); the read-only Directory; .vcf import (with a
 * malformed card) and export; "Add sender to contacts" from a message; a
 * CardDAV change appearing live.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { ALICE, ApiClient, launchBrowser, login, request, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";
import type { CollectionInfo, ContactResponse, ContactSummary } from "../../protocols/http/webmail/api-types.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let api: ApiClient;
let book: CollectionInfo;
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SIZES = [
  { name: "desktop", size: DESKTOP },
  { name: "phone", size: PHONE },
] as const;
const pages: Record<string, Page> = {};

const auth = "Basic " + Buffer.from(`${ALICE.email}:${ALICE.password}`).toString("base64");
const dav = (method: string, path: string, body?: string) => request(method, srv.base + path, { headers: { authorization: auth, ...(body !== undefined ? { "content-type": "text/vcard; charset=utf-8" } : {}) }, body });
const cardPath = (id: string) => `/dav/addressbooks/${ALICE.email}/${book.name}/${id}`;

async function contacts(q = ""): Promise<ContactSummary[]> {
  return (await api.ok<{ contacts: ContactSummary[] }>("GET", `/api/contacts?book=${encodeURIComponent(book.name)}${q ? `&q=${encodeURIComponent(q)}` : ""}`)).contacts;
}

async function create(fullName: string, emails: string[], extra: Record<string, unknown> = {}): Promise<ContactResponse> {
  const [givenName = "", ...rest] = fullName.split(" ");
  const contact = { uid: "", kind: "individual", fullName, givenName, familyName: rest.join(" "), middleName: "", prefix: "", suffix: "", nickname: "", organization: "", department: "", jobTitle: "", emails: emails.map((value) => ({ type: "work", value, pref: false })), phones: [], addresses: [], urls: [], birthday: "", anniversary: "", notes: "", categories: [], members: [], ...extra };
  return api.ok<ContactResponse>("POST", `/api/contacts/${encodeURIComponent(book.name)}`, { contact });
}

/** Opens the Contacts app on the user's default book, with the list pane shown. */
async function openContacts(page: Page): Promise<void> {
  await page.click('a.app-link[data-app="contacts"]');
  await page.locator(".app-contacts").waitFor();
  const link = page.locator(`.gw-book[data-book="${book.name}"]`);
  if (!(await link.isVisible())) {
    if (await page.locator(".app-contacts .ct-listpane .ct-back").isVisible()) await page.locator(".app-contacts .ct-listpane .ct-back").click();
    else if (await page.locator(".app-contacts .ct-detail .ct-back").first().isVisible()) {
      await page.locator(".app-contacts .ct-detail .ct-back").first().click();
      await page.locator(".app-contacts .ct-listpane .ct-back").click();
    }
  }
  await link.click();
  await page.locator(".app-contacts .ct-list").waitFor();
}

/** A PNG made by the page itself (600x400, larger than the 256 px the app keeps). */
async function makePng(page: Page): Promise<Buffer> {
  const url = await page.evaluate(() => {
    const c = document.createElement("canvas");
    c.width = 600;
    c.height = 400;
    const g = c.getContext("2d")!;
    g.fillStyle = "#2a7";
    g.fillRect(0, 0, 600, 400);
    g.fillStyle = "#fff";
    g.fillRect(200, 100, 200, 200);
    return c.toDataURL("image/png");
  });
  return Buffer.from(url.split(",")[1]!, "base64");
}

beforeAll(async () => {
  srv = await startWebmailServer();
  api = await ApiClient.signIn(srv.base, ALICE);
  const books = (await api.ok<{ collections: CollectionInfo[] }>("GET", "/api/groupware/collections?kind=contacts")).collections;
  book = books.find((b) => b.isDefault) ?? books[0]!;
  await create("Jürgen Müller", ["jm@example.org"]);
  await create("Anna Schmidt", ["anna@example.org"]);
  browser = await launchBrowser();
  pages.desktop = browser.page;
  pages.phone = await browser.context.newPage();
  await pages.phone.setViewportSize(PHONE);
  for (const p of Object.values(pages)) {
    p.setDefaultTimeout(10_000);
    p.on("dialog", (d) => void (d.type() === "prompt" ? d.accept(process.env.__PB_PROMPT ?? "") : d.accept()));
  }
  await login(pages.desktop, srv.base, ALICE);
  await pages.phone.goto(srv.base + "/");
  await pages.phone.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

for (const { name, size } of SIZES) {
  describe(`contacts at ${name} size (${size.width}x${size.height})`, () => {
    const tag = name === "desktop" ? "Desk" : "Phone";

    test("create a contact with 2 emails, 2 phones, an address, birthday, photo and notes; read it back over CardDAV; edit", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      await page.click('[data-action="new-contact"]');
      const form = page.locator("form.ct-editor");
      await form.waitFor();
      await form.locator('input[name="givenName"]').fill("Grace");
      await form.locator('input[name="familyName"]').fill(`Hopper${tag}`);
      await form.locator('[data-add="email"]').click();
      await form.locator('[data-rows="email"] input[name="email"]').nth(0).fill(`grace.${tag.toLowerCase()}@navy.example`);
      await form.locator('[data-add="email"]').click();
      await form.locator('[data-rows="email"] select').nth(1).selectOption("home");
      await form.locator('[data-rows="email"] input[name="email"]').nth(1).fill(`grace.${tag.toLowerCase()}@home.example`);
      await form.locator('[data-add="phone"]').click();
      await form.locator('[data-rows="phone"] input[name="phone"]').nth(0).fill("+1 555 0100");
      await form.locator('[data-add="phone"]').click();
      await form.locator('[data-rows="phone"] select').nth(1).selectOption("work");
      await form.locator('[data-rows="phone"] input[name="phone"]').nth(1).fill("+1 555 0199");
      await form.locator('[data-add="address"]').click();
      await form.locator('input[name="street"]').fill("1 Navy Yard");
      await form.locator('input[name="locality"]').fill("Arlington");
      await form.locator('input[name="postalCode"]').fill("22201");
      await form.locator('input[name="country"]').fill("USA");
      await form.locator('input[name="birthday"]').fill("1906-12-09");
      await form.locator('textarea[name="notes"]').fill("Found the first bug.");
      await form.locator('input[name="photo"]').setInputFiles({ name: "grace.png", mimeType: "image/png", buffer: await makePng(page) });
      await form.locator(".ct-photo-preview img").waitFor();
      await form.locator('[data-action="save"]').click();
      const detail = page.locator(".ct-detail article[data-contact-id]");
      await detail.locator(".ct-name", { hasText: `Grace Hopper${tag}` }).waitFor();
      const id = (await detail.getAttribute("data-contact-id"))!;
      await detail.locator("dd", { hasText: "1 Navy Yard" }).waitFor();

      // Over CardDAV: the card carries every field.
      const card = await dav("GET", cardPath(id));
      expect(card.status).toBe(200);
      const text = card.text.replace(/\r\n[ \t]/g, "");
      expect(text).toContain(`FN:Grace Hopper${tag}`);
      expect(text).toMatch(new RegExp(`EMAIL[^:\\r\\n]*:grace\\.${tag.toLowerCase()}@navy\\.example`));
      expect(text).toMatch(new RegExp(`EMAIL[^:\\r\\n]*TYPE=[^:\\r\\n]*home[^:\\r\\n]*:grace\\.${tag.toLowerCase()}@home\\.example`, "i"));
      expect(text).toMatch(/TEL[^\r\n]*\+1 555 0100/);
      expect(text).toMatch(/TEL[^:\r\n]*work[^\r\n]*\+1 555 0199/i);
      expect(text).toMatch(/ADR[^\r\n]*1 Navy Yard;Arlington;[^;\r\n]*;22201;USA/);
      expect(text).toMatch(/BDAY[^:\r\n]*:1906-?12-?09/);
      expect(text).toContain("NOTE:Found the first bug.");
      expect(text).toMatch(/PHOTO/);
      // The photo was made small in the page (≤ 256 px) before it was sent.
      const full = await api.ok<ContactResponse>("GET", `/api/contacts/${encodeURIComponent(book.name)}/${encodeURIComponent(id)}`);
      expect(full.contact.photo).toMatch(/^data:image\/(jpeg|png);base64,/);
      const dims = await page.evaluate(async (src) => {
        const img = new Image();
        img.src = src;
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      }, full.contact.photo!);
      expect(Math.max(...dims)).toBe(256);

      // Edit: a company and a job title; one phone removed.
      await detail.locator('[data-action="edit"]').click();
      await form.waitFor();
      await form.locator('input[name="organization"]').fill("US Navy");
      await form.locator('input[name="jobTitle"]').fill("Rear Admiral");
      await form.locator('[data-rows="phone"] .ct-remove').nth(1).click();
      await form.locator('[data-action="save"]').click();
      await page.locator(".ct-detail .ct-org", { hasText: "Rear Admiral · US Navy" }).waitFor();
      const edited = (await dav("GET", cardPath(id))).text.replace(/\r\n[ \t]/g, "");
      expect(edited).toMatch(/ORG:US Navy/);
      expect(edited).toContain("TITLE:Rear Admiral");
      expect(edited).not.toContain("0199");
      expect(edited).toContain("NOTE:Found the first bug.");
      // On a phone, Back returns from the contact to the list.
      if (name === "phone") {
        await page.locator(".ct-detail .ct-back").first().click();
        await page.locator(".app-contacts[data-pane='list'] .ct-row", { hasText: `Grace Hopper${tag}` }).waitFor();
      }
    }, 40_000);

    test("search without accents: 'muller' finds Jürgen Müller", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      await page.fill(".ct-search", "muller");
      await page.locator(".app-contacts[data-count='1'] .ct-row", { hasText: "Jürgen Müller" }).waitFor();
      expect(await page.locator(".app-contacts .ct-row", { hasText: "Anna Schmidt" }).count()).toBe(0);
      await page.fill(".ct-search", "");
      await page.locator(".app-contacts .ct-row", { hasText: "Anna Schmidt" }).waitFor();
    }, 20_000);

    test("a group with 2 members: Write email opens the composer with both; the composer's autocomplete offers the group", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      await page.click('[data-action="new-group"]');
      const form = page.locator("form.ct-editor");
      await form.locator('input[name="fullName"]').fill(`Team${tag}`);
      await form.locator(".ct-member", { hasText: "Jürgen Müller" }).locator("input").check();
      await form.locator(".ct-member", { hasText: "Anna Schmidt" }).locator("input").check();
      await form.locator('[data-action="save"]').click();
      const detail = page.locator(".ct-detail article[data-contact-id]");
      await detail.locator(".ct-members li", { hasText: "Anna Schmidt" }).waitFor();
      await detail.locator('[data-action="write-email"]').click();
      const to = page.locator('.composer input[name="to"]');
      await to.waitFor();
      await waitFor(async () => {
        const v = await to.inputValue();
        return v.includes("jm@example.org") && v.includes("anna@example.org");
      }, "both members in To");
      await page.click('.composer [data-action="discard"]');
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });

      // In Mail's composer, typing the group's name offers the group; picking it puts in both members.
      await page.click('a.app-link[data-app="mail"]');
      await page.click('[data-action="compose"]');
      await to.waitFor();
      await to.fill(`team${tag.toLowerCase()}`);
      const option = page.locator('.suggest li[data-source="group"]', { hasText: `Team${tag}` });
      await option.waitFor();
      await option.dispatchEvent("mousedown");
      await waitFor(async () => {
        const v = await to.inputValue();
        return v.includes("jm@example.org") && v.includes("anna@example.org");
      }, "the group expanded in To");
      await page.click('.composer [data-action="discard"]');
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });
    }, 40_000);

    test("the Directory lists ALICE, BOB and CAROL and offers no editing", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      if (name === "phone") await page.locator(".app-contacts .ct-listpane .ct-back").click();
      await page.click('.gw-book[data-book="directory"]');
      for (const who of ["alice@example.test", "bob@example.test", "carol@example.test"]) await page.locator(".app-contacts .ct-row", { hasText: who }).waitFor();
      expect(await page.locator('.app-contacts [data-action="new-contact"]').count()).toBe(0);
      await page.locator(".app-contacts .ct-row", { hasText: "bob@example.test" }).click();
      await page.locator(".ct-detail .ct-readonly").waitFor();
      await page.locator('.ct-detail [data-action="write-email"]').waitFor();
      expect(await page.locator('.ct-detail [data-action="edit"], .ct-detail [data-action="delete"]').count()).toBe(0);
      if (name === "phone") {
        // Every control shown on the phone is at least 44 px tall (tap targets).
        const small = await page.evaluate(() =>
          [...document.querySelectorAll<HTMLElement>(".app-contacts button, .app-contacts a.btn, .app-contacts input:not([type=file]), .app-contacts select")]
            .filter((el) => el.getClientRects().length > 0)
            .map((el) => ({ what: el.getAttribute("aria-label") || el.textContent || el.getAttribute("name"), h: el.getBoundingClientRect().height }))
            .filter((x) => x.h < 44),
        );
        expect(small).toEqual([]);
      }
    }, 20_000);

    test("import a .vcf of 3 cards (one malformed: an error line), then export the book, the contacts found, the contacts ticked", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      const vcf = [
        ["BEGIN:VCARD", "VERSION:3.0", `UID:imp-1-${tag}`, `FN:Imported One${tag}`, "N:One;Imported;;;", "EMAIL:one@import.example", "END:VCARD"].join("\r\n"),
        ["BEGIN:VCARD", "VERSION:3.0", `UID:imp-2-${tag}`, `FN:Imported Two${tag}`, "N:Two;Imported;;;", "EMAIL:two@import.example", "END:VCARD"].join("\r\n"),
        ["BEGIN:VCARD", "VERSION:3.0", "FN;BROKEN", "this line is not a property", "END:VCARD"].join("\r\n"),
      ].join("\r\n") + "\r\n";
      await page.locator('.app-contacts input[name="vcf"]').setInputFiles({ name: "three.vcf", mimeType: "text/vcard", buffer: Buffer.from(vcf) });
      await page.locator(".ct-import-summary", { hasText: "2 contacts imported" }).waitFor();
      expect(await page.locator(".ct-import-errors li").count()).toBe(1);
      await page.locator(".app-contacts .ct-row", { hasText: `Imported Two${tag}` }).waitFor();

      const [download] = await Promise.all([page.waitForEvent("download"), page.click('.app-contacts [data-action="export-book"]')]);
      expect(download.suggestedFilename()).toMatch(/\.vcf$/);
      const body = readFileSync((await download.path())!, "utf8");
      expect(body).toContain(`FN:Imported One${tag}`);
      expect(body).toContain(`FN:Imported Two${tag}`);
      expect(body).toContain("FN:Jürgen Müller");
      expect(body.match(/BEGIN:VCARD/g)!.length).toBe((await contacts()).length);

      // While searching, Export takes the contacts found.
      await page.fill(".ct-search", `imported`);
      const shown = page.locator('.app-contacts [data-action="export-shown"]', { hasText: "Export these" });
      await shown.waitFor();
      const [part] = await Promise.all([page.waitForEvent("download"), shown.click()]);
      const partBody = readFileSync((await part.path())!, "utf8");
      const expected = (await contacts("imported")).length;
      expect(expected).toBeGreaterThanOrEqual(2);
      expect(partBody.match(/BEGIN:VCARD/g)!.length).toBe(expected);
      expect(partBody).toContain(`FN:Imported Two${tag}`);
      expect(partBody).not.toContain("FN:Jürgen Müller");
      await page.fill(".ct-search", "");
      await page.locator('.app-contacts [data-action="export-book"]').waitFor();

      // Select mode: tick two contacts, export just them, write to them; Done leaves select mode.
      await page.click('.app-contacts [data-action="select"]');
      await page.locator(".app-contacts .ct-pick", { hasText: `Imported One${tag}` }).locator(".ct-tick").check();
      await page.locator(".app-contacts .ct-pick", { hasText: "Anna Schmidt" }).locator(".ct-tick").check();
      await page.locator(".ct-selcount", { hasText: "2 selected" }).waitFor();
      const [sel] = await Promise.all([page.waitForEvent("download"), page.click('.app-contacts [data-action="export-selected"]')]);
      const selBody = readFileSync((await sel.path())!, "utf8");
      expect(selBody.match(/BEGIN:VCARD/g)!.length).toBe(2);
      expect(selBody).toContain(`FN:Imported One${tag}`);
      expect(selBody).toContain("FN:Anna Schmidt");
      await page.click('.app-contacts [data-action="write-selected"]');
      const to = page.locator('.composer input[name="to"]');
      await waitFor(async () => {
        const v = await to.inputValue().catch(() => "");
        return v.includes("one@import.example") && v.includes("anna@example.org");
      }, "both ticked contacts in To");
      await page.click('.composer [data-action="discard"]');
      await page.locator(".composer-wrap").waitFor({ state: "hidden" });
      await page.click('.app-contacts [data-action="select-done"]');
      await page.locator(".app-contacts .ct-tick").first().waitFor({ state: "detached" });
    }, 30_000);

    test("add the sender of a message to contacts (then it says the contact exists)", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      const subject = `Hello from Zoe ${tag}`;
      await smtpSend(srv.port("SMTP"), `zoe.${tag.toLowerCase()}@sender.example`, [ALICE.email], `From: Zoe Sender${tag} <zoe.${tag.toLowerCase()}@sender.example>\r\nTo: ${ALICE.email}\r\nSubject: ${subject}\r\nMessage-ID: <zoe-${tag}@sender.example>\r\n\r\nHi Alice\r\n`);
      await page.click('a.app-link[data-app="mail"]');
      const row = page.locator(".row", { hasText: subject });
      await row.waitFor({ timeout: 15_000 });
      await row.click();
      await page.locator('.reader [data-action="add-sender"]').click();
      await page.locator(".app-contacts .ct-detail .ct-name", { hasText: `Zoe Sender${tag}` }).waitFor();
      await page.locator(".toast", { hasText: "was added to your contacts" }).first().waitFor();
      const found = (await contacts(`zoe.${tag.toLowerCase()}@sender.example`)).filter((c) => c.emails.includes(`zoe.${tag.toLowerCase()}@sender.example`));
      expect(found.length).toBe(1);
      expect(found[0]!.fullName).toBe(`Zoe Sender${tag}`);

      await page.click('a.app-link[data-app="mail"]');
      if (!(await page.locator('.reader [data-action="add-sender"]').isVisible())) await row.click();
      await page.locator('.reader [data-action="add-sender"]').click();
      await page.locator(".toast", { hasText: "is already in your contacts" }).first().waitFor();
      await page.locator(".app-contacts .ct-detail .ct-name", { hasText: `Zoe Sender${tag}` }).waitFor();
      expect((await contacts(`zoe.${tag.toLowerCase()}@sender.example`)).length).toBe(1);
    }, 40_000);

    test("live: a contact PUT over CardDAV appears without a reload; a delete over CardDAV removes it", async () => {
      const page = pages[name]!;
      await page.bringToFront(); // a background tab's timers are throttled
      await openContacts(page);
      const uid = `live-${tag}-${Date.now()}`;
      const put = await dav("PUT", cardPath(`${uid}.vcf`), ["BEGIN:VCARD", "VERSION:4.0", `UID:${uid}`, `FN:Live Person${tag}`, "N:Person;Live;;;", "EMAIL:live@example.org", "END:VCARD", ""].join("\r\n"));
      expect(put.status).toBe(201);
      await page.locator(".app-contacts .ct-row", { hasText: `Live Person${tag}` }).waitFor({ timeout: 15_000 });
      const del = await dav("DELETE", cardPath(`${uid}.vcf`));
      expect(del.status).toBe(204);
      await page.locator(".app-contacts .ct-row", { hasText: `Live Person${tag}` }).waitFor({ state: "detached", timeout: 15_000 });
    }, 30_000);
  });
}

describe("contacts: delete, stale edits, the picture for the README", () => {
  test("delete a contact after confirming", async () => {
    const page = pages.desktop!;
    await page.bringToFront();
    const c = await create("Temporary Person", ["temp@example.org"]);
    await openContacts(page);
    await page.locator(".app-contacts .ct-row", { hasText: "Temporary Person" }).click();
    await page.locator('.ct-detail [data-action="delete"]').click();
    await page.locator(".app-contacts .ct-row", { hasText: "Temporary Person" }).waitFor({ state: "detached" });
    expect((await dav("GET", cardPath(c.id))).status).toBe(404);
  }, 20_000);

  test("a stale edit (the card changed over CardDAV meanwhile) is not saved: the page shows the newer card and says so", async () => {
    const page = pages.desktop!;
    await page.bringToFront();
    const c = await create("Stale Person", ["stale@example.org"]);
    await openContacts(page);
    await page.locator(".app-contacts .ct-row", { hasText: "Stale Person" }).click();
    await page.locator('.ct-detail [data-action="edit"]').click();
    const form = page.locator("form.ct-editor");
    await form.locator('textarea[name="notes"]').fill("typed in the webmail");
    const card = (await dav("GET", cardPath(c.id))).text;
    expect((await dav("PUT", cardPath(c.id), card.replace("FN:Stale Person", "FN:Fresh Person"))).status).toBe(204);
    await form.locator('[data-action="save"]').click();
    await page.locator(".toast", { hasText: "changed elsewhere" }).first().waitFor();
    await page.locator(".ct-detail .ct-name", { hasText: "Fresh Person" }).waitFor();
    const stored = (await dav("GET", cardPath(c.id))).text;
    expect(stored).toContain("FN:Fresh Person");
    expect(stored).not.toContain("typed in the webmail");
  }, 30_000);

  test("in German (the language setting): the Contacts and Tasks apps and a birthday in German", async () => {
    const page = pages.desktop!;
    await page.bringToFront();
    await api.ok("PUT", "/api/settings", { language: "de" });
    try {
      await page.reload();
      await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
      await page.click('a.app-link[data-app="contacts"]');
      await page.locator(".app-contacts .gw-books-title", { hasText: "Adressbücher" }).waitFor();
      await page.locator('.app-contacts [data-action="new-contact"]', { hasText: "Neuer Kontakt" }).waitFor();
      await page.fill(".ct-search", "HopperDesk");
      await page.locator(".app-contacts .ct-row", { hasText: "Grace HopperDesk" }).click();
      await page.locator(".ct-detail dt", { hasText: "Geburtstag" }).waitFor();
      await page.locator(".ct-detail dd", { hasText: "9. Dezember 1906" }).waitFor();
      await page.click('a.app-link[data-app="tasks"]');
      await page.locator(".app-tasks .gw-books-title", { hasText: "Aufgabenlisten" }).waitFor();
      expect(await page.locator(".app-tasks .tk-quick").getAttribute("placeholder")).toBe("Aufgabe eingeben und Eingabetaste drücken");
    } finally {
      await api.ok("PUT", "/api/settings", { language: "" });
      await page.reload();
      await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
    }
  }, 30_000);

  test.if(process.env.PB_SCREENSHOTS === "1")("screenshot docs/screenshots/contacts.png", async () => {
    const page = pages.desktop!;
    await page.bringToFront();
    // A book of its own, so the picture shows a realistic address book and nothing left by the tests above.
    const team = await api.ok<CollectionInfo>("POST", "/api/groupware/collections", { kind: "contacts", displayName: "Team" });
    const portrait = async (hue: number) =>
      page.evaluate((hue) => {
        const c = document.createElement("canvas");
        c.width = c.height = 256;
        const g = c.getContext("2d")!;
        const bg = g.createLinearGradient(0, 0, 256, 256);
        bg.addColorStop(0, `hsl(${hue} 55% 72%)`);
        bg.addColorStop(1, `hsl(${hue + 40} 50% 45%)`);
        g.fillStyle = bg;
        g.fillRect(0, 0, 256, 256);
        g.fillStyle = `hsl(${(hue + 180) % 360} 30% 28%)`;
        g.beginPath();
        g.ellipse(128, 250, 92, 70, 0, Math.PI, 0);
        g.fill();
        g.fillStyle = "hsl(28 45% 72%)";
        g.beginPath();
        g.arc(128, 110, 50, 0, Math.PI * 2);
        g.fill();
        return c.toDataURL("image/jpeg", 0.9);
      }, hue);
    const people: [string, string, string][] = [
      ["Ada Lovelace", "Analytical Engines Ltd", "Mathematician"],
      ["Alan Turing", "Bletchley Park", "Cryptanalyst"],
      ["Barbara Liskov", "MIT", "Professor"],
      ["Claude Shannon", "Bell Labs", "Researcher"],
      ["Donald Knuth", "Stanford", "Professor emeritus"],
      ["Edsger Dijkstra", "Eindhoven University", "Professor"],
      ["Frances Allen", "IBM Research", "Fellow"],
      ["Grace Hopper", "US Navy", "Rear Admiral"],
      ["Hedy Lamarr", "", "Inventor"],
      ["John McCarthy", "Stanford", "Professor"],
      ["Ken Thompson", "Bell Labs", "Engineer"],
      ["Margaret Hamilton", "Hamilton Technologies", "CEO"],
      ["Radia Perlman", "Dell Technologies", "Fellow"],
      ["Sophie Wilson", "Broadcom", "Director"],
    ];
    let ada = "";
    for (const [i, [p, org, title]] of people.entries()) {
      const [given, family] = p.split(" ");
      const contact = {
        uid: "", kind: "individual", fullName: p, givenName: given, familyName: family, middleName: "", prefix: "", suffix: "", nickname: "",
        organization: org, department: "", jobTitle: title,
        emails: [{ type: "work", value: `${given!.toLowerCase()}.${family!.toLowerCase()}@example.org`, pref: true }, ...(i === 0 ? [{ type: "home", value: "ada@lovelace.example", pref: false }] : [])],
        phones: [{ type: "mobile", value: `+44 20 7946 0${100 + i * 7}`, pref: false }, ...(i === 0 ? [{ type: "work", value: "+44 20 7946 0999", pref: false }] : [])],
        addresses: i === 0 ? [{ type: "home", street: "12 St James's Square", locality: "London", region: "", postalCode: "SW1Y 4JH", country: "United Kingdom", pref: false }] : [],
        urls: [], birthday: i === 0 ? "1815-12-10" : "", anniversary: "", notes: i === 0 ? "Wrote the first published algorithm for the Analytical Engine." : "", categories: [], members: [],
        ...(i % 3 === 0 ? { photo: await portrait(i * 47) } : {}),
      };
      const r = await api.ok<ContactResponse>("POST", `/api/contacts/${encodeURIComponent(team.name)}`, { contact });
      if (i === 0) ada = r.id;
    }
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
    await page.evaluate((arg) => (location.hash = `#/contacts/${encodeURIComponent(arg)}`), `${team.name}/${ada}`);
    await page.locator(".ct-detail .ct-name", { hasText: "Ada Lovelace" }).waitFor();
    await page.locator(".app-contacts .ct-list").evaluate((el) => (el.scrollTop = 0));
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>(".app-contacts img.ct-avatar")].every((i) => i.complete));
    await page.locator(".toast").first().waitFor({ state: "detached", timeout: 10_000 }).catch(() => undefined);
    await page.screenshot({ path: "docs/screenshots/contacts.png" });
  }, 60_000);
});
