/**
 * Issue 17, mail item 13: desktop notifications for new mail (opt-in),
 * attachment previews (pictures and PDF, inline, sandboxed) with thumbnails,
 * printing a message, and select all over a whole folder (desktop and phone).
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { deflateSync, inflateSync } from "node:zlib";
import type { Page } from "playwright-core";
import { ALICE, BOB, ApiClient, launchBrowser, login, smtpSend, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let browser: Awaited<ReturnType<typeof launchBrowser>>;
let page: Page;
let alice: ApiClient;
const enc = new TextEncoder();
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

// ------------------------------------------------------------------ fixtures

function crc32(buf: Uint8Array): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

/** A real PNG (PNG spec §5): w×h pixels of one colour. */
function png(w: number, h: number, rgb: [number, number, number]): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "latin1"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const rows = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rows.set(rgb, y * (w * 3 + 1) + 1 + x * 3);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** A one-page PDF (PDF 1.7 §7.5) showing `text`, with a correct cross-reference table. */
function pdf(text: string): Buffer {
  const stream = `BT /F1 18 Tf 20 100 Td (${text}) Tj ET`;
  const objs = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`,
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
  ];
  let out = "%PDF-1.4\n";
  const offsets: number[] = [];
  objs.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` + offsets.map((o) => `${String(o).padStart(10, "0")} 00000 n \n`).join("");
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, "latin1");
}

function b64lines(b: Buffer): string {
  return b.toString("base64").replace(/.{76}/g, "$&\r\n");
}

/** A multipart/mixed message with a text body and the given attachments. */
function withAttachments(subject: string, id: string, files: { name: string; type: string; data: Buffer }[]): string {
  const parts = files.map((f) => `--b1\r\nContent-Type: ${f.type}; name="${f.name}"\r\nContent-Disposition: attachment; filename="${f.name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64lines(f.data)}\r\n`);
  return `From: Pat Sender <pat@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${subject}\r\nMessage-ID: <${id}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n${parts.join("")}--b1--\r\n`;
}

/**
 * The text a PDF shows, for the print test: every page content stream decoded through the
 * ToUnicode CMap of the font in use (PDF 1.7 §9.10.3), as Chromium's PDF output (Skia) writes it.
 */
function pdfText(buf: Buffer): string {
  const s = buf.toString("latin1");
  const objects = new Map<number, { dict: string; data: Buffer | null }>();
  for (const m of s.matchAll(/(\d+) 0 obj\s*([\s\S]*?)endobj/g)) {
    const body = m[2]!;
    const at = body.indexOf("stream");
    if (at < 0) {
      objects.set(Number(m[1]), { dict: body, data: null });
      continue;
    }
    const dict = body.slice(0, at);
    let start = (m.index ?? 0) + m[0].indexOf(body) + at + "stream".length;
    if (s[start] === "\r") start++;
    if (s[start] === "\n") start++;
    const len = Number(/\/Length (\d+)/.exec(dict)?.[1] ?? "0");
    let data = buf.subarray(start, start + len);
    if (dict.includes("/FlateDecode")) data = inflateSync(data);
    objects.set(Number(m[1]), { dict, data });
  }
  const cmaps = new Map<number, { width: number; map: Map<number, string> }>();
  const cmapOf = (ref: number) => {
    let c = cmaps.get(ref);
    if (c) return c;
    const text = objects.get(ref)?.data?.toString("latin1") ?? "";
    const map = new Map<number, string>();
    const hexStr = (hx: string) => String.fromCodePoint(...(hx.match(/.{4}/g) ?? []).map((x) => parseInt(x, 16)));
    for (const block of text.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) for (const p of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) map.set(parseInt(p[1]!, 16), hexStr(p[2]!));
    for (const block of text.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
      for (const p of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) {
        const lo = parseInt(p[1]!, 16);
        const hi = parseInt(p[2]!, 16);
        const first = parseInt(p[3]!, 16);
        for (let i = lo; i <= hi && i - lo < 65536; i++) map.set(i, String.fromCodePoint(first + (i - lo)));
      }
    }
    const width = /begincodespacerange\s*<([0-9a-fA-F]+)>/.exec(text)?.[1]!.length === 2 ? 1 : 2;
    c = { width, map };
    cmaps.set(ref, c);
    return c;
  };
  // Font resource names -> their ToUnicode CMap object.
  const fonts = new Map<string, number>();
  for (const o of objects.values()) {
    for (const block of o.dict.matchAll(/\/Font\s*<<([\s\S]*?)>>/g)) {
      for (const f of block[1]!.matchAll(/\/(\S+?)\s+(\d+) 0 R/g)) {
        const tu = /\/ToUnicode (\d+) 0 R/.exec(objects.get(Number(f[2]))?.dict ?? "");
        if (tu) fonts.set(f[1]!, Number(tu[1]));
      }
    }
  }
  let out = "";
  for (const o of objects.values()) {
    if (!o.data || o.dict.includes("/Subtype") || o.dict.includes("/Type")) continue;
    const content = o.data.toString("latin1");
    let font: { width: number; map: Map<number, string> } | null = null;
    for (const tok of content.matchAll(/\/(\S+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]*)>|\]\s*TJ|Tj|T\*|Td|TD/g)) {
      if (tok[1]) font = fonts.has(tok[1]) ? cmapOf(fonts.get(tok[1])!) : null;
      else if (tok[2] !== undefined && font) {
        const hx = tok[2];
        for (let i = 0; i + font.width * 2 <= hx.length; i += font.width * 2) out += font.map.get(parseInt(hx.slice(i, i + font.width * 2), 16)) ?? "";
      } else if (tok[0] === "Td" || tok[0] === "TD" || tok[0] === "T*") out += " ";
    }
  }
  return out;
}

// NFKC: the PDF writes ligatures (ﬁ) as one character.
const squash = (x: string) => x.normalize("NFKC").replace(/\s+/g, "");

// ------------------------------------------------------------------ page helpers

/** Records `new Notification(...)` and `print()` calls; `__pbAway` says the page is in the background. */
const INIT = `(() => {
  const Real = window.Notification;
  window.__pbNotes = [];
  window.__pbPrinted = 0;
  window.__pbAway = false;
  class Recorded {
    static get permission() { return Real ? Real.permission : "denied"; }
    static requestPermission() { return Real ? Real.requestPermission() : Promise.resolve("denied"); }
    constructor(title, opts) { this.title = title; this.body = (opts && opts.body) || ""; this.tag = (opts && opts.tag) || ""; this.onclick = null; window.__pbNotes.push(this); }
    close() { this.closed = true; }
  }
  window.Notification = Recorded;
  document.hasFocus = () => !window.__pbAway;
  Object.defineProperty(document, "visibilityState", { get: () => (window.__pbAway ? "hidden" : "visible") });
  window.print = () => { window.__pbPrinted++; };
})();`;

const row = (p: Page, subject: string) => p.locator(".row", { has: p.locator(".row-subject", { hasText: new RegExp(`^${subject}$`) }) });

async function openFolder(p: Page, label: string): Promise<void> {
  const narrow = (p.viewportSize()?.width ?? 1280) <= 680;
  if (narrow) {
    if (await p.locator(".reader .back-btn").first().isVisible()) await p.locator(".reader .back-btn").first().click();
    await p.click(".menu-btn");
    await p.locator(".folders").waitFor({ state: "visible" });
  }
  await p.locator(".folder", { has: p.locator(".folder-name", { hasText: new RegExp(`^${label}$`) }) }).click();
  await p.locator(".list-title", { hasText: label }).waitFor();
  if (narrow) await p.locator(".folders").waitFor({ state: "hidden" });
}

async function folderCount(name: string, unseenOnly = false): Promise<number> {
  const a = (await srv.store.getAccount(ALICE.email))!;
  const f = (await srv.store.getFolder(a.id, name))!;
  const all = await srv.store.listMessages(f.id);
  return unseenOnly ? all.filter((m) => !m.flags.includes("\\Seen")).length : all.length;
}

async function fill(folder: string, n: number, prefix: string): Promise<void> {
  const a = (await srv.store.getAccount(ALICE.email))!;
  const f = (await srv.store.getFolder(a.id, folder)) ?? (await srv.store.createFolder(a.id, folder));
  const base = Date.now() - n * 60_000;
  await srv.store.append(
    f.id,
    Array.from({ length: n }, (_, i) => ({
      raw: enc.encode(`From: Bulk ${i} <bulk${i}@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${prefix} ${i}\r\nMessage-ID: <${prefix}-${i}@example.org>\r\n\r\nBody ${i}\r\n`),
      internalDate: base + i * 60_000,
    })),
  );
}

let inboxId = 0;
async function idOf(subject: string): Promise<number> {
  const rows = await srv.store.getMessages(inboxId, (await srv.store.listMessages(inboxId)).map((m) => m.uid));
  return rows.find((r) => r.subject === subject)!.id;
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  const inbox = (await srv.store.getFolder(a.id, "INBOX"))!;
  inboxId = inbox.id;
  const hostileSvg = Buffer.from(`<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="40" height="40"><script>parent.__pbOwned=1</script><rect width="40" height="40" fill="#c00"/></svg>`);
  await srv.store.append(inbox.id, [
    { raw: enc.encode(`From: Ann Printer <ann@example.org>\r\nTo: ${ALICE.email}\r\nSubject: Print me please\r\nMessage-ID: <print@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><h2 style="color:#036">Quarterly figures</h2><p>Body line for the printer.</p><script>alert(1)</script></body></html>\r\n`), internalDate: Date.now() - 120_000 },
    {
      raw: enc.encode(
        withAttachments("Pictures and papers", "files", [
          { name: "photo.png", type: "image/png", data: png(64, 48, [0, 120, 200]) },
          { name: "page.html", type: "text/html", data: Buffer.from("<script>parent.__pbOwned=1</script><p>hi</p>") },
          { name: "report.pdf", type: "application/pdf", data: pdf("Hello from the report") },
          { name: "logo.svg", type: "image/svg+xml", data: hostileSvg },
          { name: "fake.pdf", type: "application/pdf", data: Buffer.from("<html><script>alert(1)</script></html>") },
        ]),
      ),
      internalDate: Date.now() - 60_000,
    },
  ]);
  await fill("Bulk", 150, "Bulk item");
  await fill("Phone bulk", 120, "Phone item");
  alice = await ApiClient.signIn(srv.base, ALICE);
  browser = await launchBrowser();
  await browser.context.grantPermissions(["notifications"], { origin: srv.base });
  await browser.context.addInitScript({ content: INIT });
  page = browser.page;
  page.setDefaultTimeout(10_000);
  await login(page, srv.base, ALICE);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
});

// ------------------------------------------------------------------ notifications

describe("item 13: desktop notifications", () => {
  const deliver = (from: string, subject: string) => smtpSend(srv.port("SMTP"), "someone@example.org", [ALICE.email], `From: ${from}\r\nTo: ${ALICE.email}\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, "")}@example.org>\r\n\r\nHello.\r\n`);
  const notes = () => page.evaluate(() => (window as unknown as { __pbNotes: { title: string; body: string; tag: string }[] }).__pbNotes.map((n) => ({ title: n.title, body: n.body, tag: n.tag })));
  const setAway = (away: boolean) => page.evaluate((v) => ((window as unknown as { __pbAway: boolean }).__pbAway = v), away);

  test("item 13: off by default: new mail while the page is hidden makes no notification", async () => {
    expect(await page.evaluate(() => localStorage.getItem("pb-notify"))).toBeNull();
    await setAway(true);
    await deliver("Quiet Person <quiet@example.org>", "Nothing to announce");
    // The decision is made when the live event arrives, before the list reloads with the new row.
    await row(page, "Nothing to announce").waitFor();
    expect(await notes()).toEqual([]);
    await setAway(false);
  }, 30_000);

  test("item 13: turned on in Settings (remembered in this browser), a hidden page announces sender and subject; a click opens it", async () => {
    await page.click('[data-action="settings"]');
    const box = page.locator('input[name="desktopNotifications"]');
    expect(await box.isChecked()).toBe(false);
    await box.check();
    await page.locator(".form-msg", { hasText: "Desktop notifications are on in this browser." }).waitFor();
    expect(await page.evaluate(() => localStorage.getItem("pb-notify"))).toBe("1");
    expect(await page.locator(".notify-setting", { hasText: "Remembered in this browser only" }).count()).toBe(1);
    await page.keyboard.press("Escape");
    await page.locator('input[name="desktopNotifications"]').waitFor({ state: "detached" });

    await setAway(true);
    await deliver("Zed Sender <zed@example.org>", "Lunch on Friday");
    await page.waitForFunction(() => (window as unknown as { __pbNotes: unknown[] }).__pbNotes.length >= 1);
    const [n] = await notes();
    expect(n!.title).toBe("Zed Sender");
    expect(n!.body).toBe("Lunch on Friday");
    expect(n!.tag).toBe(`pb-mail-${await idOf("Lunch on Friday")}`);

    // Clicking it brings the page forward and opens the message.
    await setAway(false);
    await page.evaluate(() => (window as unknown as { __pbNotes: { onclick: () => void }[] }).__pbNotes[0]!.onclick());
    await page.locator(".reader .msg-subject", { hasText: "Lunch on Friday" }).waitFor();
  }, 30_000);

  test("item 13: several arriving within a few seconds make one '3 new messages'; none while the page has the focus", async () => {
    const before = (await notes()).length;
    await setAway(true);
    // Three at once (one store append: a filter run or a sync brings mail like this).
    await srv.store.append(
      inboxId,
      ["Batch one", "Batch two", "Batch three"].map((s, i) => ({ raw: enc.encode(`From: Batch Sender <batch@example.org>\r\nTo: ${ALICE.email}\r\nSubject: ${s}\r\nMessage-ID: <batch${i}@example.org>\r\n\r\nHello.\r\n`), internalDate: Date.now() + i })),
    );
    await page.waitForFunction((n) => (window as unknown as { __pbNotes: unknown[] }).__pbNotes.length > n, before);
    const all = await notes();
    // At most one per few seconds: the three came within the gap after the last one, so they are one batch.
    expect(all.length).toBe(before + 1);
    expect(all[before]!.title).toBe("3 new messages");
    expect(all[before]!.body).toContain("Batch Sender: Batch three");

    await setAway(false);
    await deliver("Front Person <front@example.org>", "Seen in the list");
    await row(page, "Seen in the list").waitFor();
    expect((await notes()).length).toBe(before + 1);
  }, 40_000);
});

// ------------------------------------------------------------------ previews

describe("item 13: attachment previews and thumbnails", () => {
  test("item 13: the preview route serves pictures and PDF inline under their own sandbox, refuses HTML and disguised files; downloads stay attachments", async () => {
    const id = await idOf("Pictures and papers");
    const msg = await alice.ok<{ attachments: { index: number; filename: string }[] }>("GET", `/api/messages/${id}`);
    const at = (name: string) => msg.attachments.find((a) => a.filename === name)!.index;
    const pngRes = await alice.get(`/api/messages/${id}/attachments/${at("photo.png")}/preview`);
    expect(pngRes.status).toBe(200);
    expect(pngRes.headers["content-type"]).toBe("image/png");
    expect(String(pngRes.headers["content-disposition"])).toStartWith("inline;");
    const pdfRes = await alice.get(`/api/messages/${id}/attachments/${at("report.pdf")}/preview`);
    expect(pdfRes.status).toBe(200);
    expect(pdfRes.headers["content-type"]).toBe("application/pdf");
    expect(String(pdfRes.headers["content-disposition"])).toStartWith("inline;");
    for (const r of [pngRes, pdfRes]) {
      const csp = String(r.headers["content-security-policy"]);
      expect(csp).toMatch(/(^|; )sandbox(;|$)/);
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'self'");
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
    }
    // SVG only ever as a picture: its own type, sandboxed, so its script never runs even if opened on its own.
    const svg = await alice.get(`/api/messages/${id}/attachments/${at("logo.svg")}/preview`);
    expect(svg.headers["content-type"]).toBe("image/svg+xml");
    expect(String(svg.headers["content-security-policy"])).toMatch(/(^|; )sandbox(;|$)/);
    // HTML is never previewed, nor HTML that calls itself a PDF.
    expect((await alice.get(`/api/messages/${id}/attachments/${at("page.html")}/preview`)).status).toBe(415);
    expect((await alice.get(`/api/messages/${id}/attachments/${at("fake.pdf")}/preview`)).status).toBe(415);
    // The download route is unchanged: an attachment.
    const dl = await alice.get(`/api/messages/${id}/attachments/${at("report.pdf")}`);
    expect(String(dl.headers["content-disposition"])).toStartWith("attachment;");
    // Bad ids and other people's mail: 404, never a 500.
    expect((await alice.get(`/api/messages/abc/attachments/0/preview`)).status).toBe(404);
    expect((await alice.get(`/api/messages/${id}/attachments/99/preview`)).status).toBe(404);
    expect((await alice.get(`/api/messages/${id}/attachments/-1/preview`)).status).toBe(404);
    const bob = await ApiClient.signIn(srv.base, BOB);
    expect((await bob.get(`/api/messages/${id}/attachments/${at("photo.png")}/preview`)).status).toBe(404);
    // The SVG opened on its own (not as a picture) is a sandboxed document: an opaque origin, its script never runs.
    const p2 = await browser.context.newPage();
    try {
      await p2.goto(`${srv.base}/api/messages/${id}/attachments/${at("logo.svg")}/preview`);
      expect(await p2.evaluate(() => self.origin)).toBe("null");
      expect(await p2.evaluate(() => (window as unknown as { __pbOwned?: number }).__pbOwned)).toBeUndefined();
    } finally {
      await p2.close();
    }
  }, 30_000);

  test("item 13: a picture over 10 MB gets no preview and no thumbnail", async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 200);
    big.set(png(2, 2, [1, 2, 3]));
    await srv.store.append(inboxId, [{ raw: enc.encode(withAttachments("Huge picture", "huge", [{ name: "huge.png", type: "image/png", data: big }])), internalDate: Date.now() - 3_600_000 }]);
    const id = await idOf("Huge picture");
    expect((await alice.get(`/api/messages/${id}/attachments/0/preview`)).status).toBe(413);
    await page.reload();
    await page.waitForSelector("body[data-list-ready]", { state: "attached" });
    await row(page, "Huge picture").click();
    await page.locator(".reader a.attachment", { hasText: "huge.png" }).waitFor();
    expect(await page.locator(".reader .att-thumb").count()).toBe(0);
    expect(await page.locator('.reader a.attachment[data-preview]').count()).toBe(0);
  }, 60_000);

  for (const [name, size] of [
    ["desktop", DESKTOP],
    ["phone", PHONE],
  ] as const) {
    test(`item 13: ${name}: thumbnail, PNG and PDF preview with next/previous, the PDF only in the browser's viewer, Escape returns focus`, async () => {
      await page.setViewportSize(size);
      if (name === "phone" && (await page.locator(".reader .back-btn").first().isVisible())) await page.locator(".reader .back-btn").first().click();
      await row(page, "Pictures and papers").click();
      const link = page.locator(".reader a.attachment", { hasText: "photo.png" });
      await link.waitFor();
      // The thumbnail is the picture itself, loaded lazily and scaled by the browser.
      const thumb = link.locator("img.att-thumb");
      await thumb.waitFor();
      await page.waitForFunction(() => (document.querySelector(".reader img.att-thumb") as HTMLImageElement | null)?.naturalWidth === 64);
      // HTML and the disguised PDF offer no preview; the SVG only as a picture.
      expect(await page.locator('.reader a.attachment[data-preview]', { hasText: "page.html" }).count()).toBe(0);

      await link.click();
      const overlay = page.locator(".preview-overlay");
      await overlay.waitFor({ state: "visible" });
      expect(await overlay.getAttribute("role")).toBe("dialog");
      await page.waitForFunction(() => (document.querySelector(".preview-img") as HTMLImageElement | null)?.naturalWidth === 64);
      await overlay.locator(".preview-meta", { hasText: "1 of 4" }).waitFor();

      await overlay.locator('[data-action="preview-next"]').click();
      await overlay.locator(".preview-title", { hasText: "report.pdf" }).waitFor();
      const frame = overlay.locator("iframe.preview-pdf");
      await frame.waitFor();
      expect(await frame.getAttribute("src")).toMatch(/\/attachments\/\d+\/preview$/);
      // Only the browser's PDF viewer is in the frame: Chromium's own wrapper page (no script, nothing of the
      // sender's) holding the viewer, which renders the PDF in its own extension origin, not ours.
      const pdfFrame = await waitFor(async () => page.frames().find((f) => f.url().endsWith("/preview")), "the PDF frame");
      const wrapper = await waitFor(async () => pdfFrame.evaluate(() => ({ scripts: document.scripts.length, text: document.body?.innerText.trim() ?? "" })).catch(() => null), "the PDF frame's document");
      expect(wrapper).toEqual({ scripts: 0, text: "" });
      await waitFor(async () => page.frames().some((f) => f.url().startsWith("chrome-extension://") && f.parentFrame() === pdfFrame), "the PDF viewer");

      await overlay.locator('[data-action="preview-prev"]').click();
      await overlay.locator(".preview-title", { hasText: "photo.png" }).waitFor();
      await page.keyboard.press("ArrowRight");
      await overlay.locator(".preview-title", { hasText: "report.pdf" }).waitFor();
      await page.keyboard.press("ArrowLeft");
      await overlay.locator(".preview-title", { hasText: "photo.png" }).waitFor();
      expect(await overlay.locator('[data-action="preview-download"]').getAttribute("href")).toMatch(/\/attachments\/\d+$/);

      // Focus stays in the dialog.
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press("Tab");
        expect(await page.evaluate(() => !!document.activeElement?.closest(".preview-overlay"))).toBe(true);
      }
      await overlay.locator('[data-action="preview-close"]').focus();
      await page.keyboard.press("Escape");
      await overlay.waitFor({ state: "hidden" });
      expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.textContent ?? "")).toContain("photo.png");
      // The hostile SVG and HTML never ran anything in the page.
      expect(await page.evaluate(() => (window as unknown as { __pbOwned?: number }).__pbOwned)).toBeUndefined();
      await page.setViewportSize(DESKTOP);
    }, 60_000);
  }
});

// ------------------------------------------------------------------ print

describe("item 13: print", () => {
  test("item 13: Print (toolbar and p) prints the header and the body only; the PDF has the subject and the body text", async () => {
    await page.setViewportSize(DESKTOP);
    await row(page, "Print me please").click();
    await page.locator(".reader .msg-subject", { hasText: "Print me please" }).waitFor();
    const before = await page.evaluate(() => (window as unknown as { __pbPrinted: number }).__pbPrinted);
    await page.click('.reader [data-action="print"]');
    await page.waitForFunction((n) => (window as unknown as { __pbPrinted: number }).__pbPrinted === n + 1, before);
    // On screen nothing changed.
    expect(await page.locator(".print-view").isVisible()).toBe(false);

    await page.emulateMedia({ media: "print" });
    await page.locator(".print-view .print-subject", { hasText: "Print me please" }).waitFor({ state: "visible" });
    await page.locator(".print-view", { hasText: "Ann Printer <ann@example.org>" }).waitFor({ state: "visible" });
    await page.locator(".print-view .print-body", { hasText: "Body line for the printer." }).waitFor({ state: "visible" });
    for (const chrome of [".topbar", ".folders", ".listpane", ".reader"]) expect(await page.locator(chrome).first().isVisible()).toBe(false);
    const text = pdfText(await page.pdf({ format: "A4" }));
    expect(squash(text)).toContain(squash("Print me please"));
    expect(squash(text)).toContain(squash("Body line for the printer."));
    expect(squash(text)).toContain(squash("Quarterly figures"));
    expect(squash(text)).not.toContain(squash("Pictures and papers"));
    await page.emulateMedia({ media: "screen" });

    // The key p does the same.
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("p");
    await page.waitForFunction((n) => (window as unknown as { __pbPrinted: number }).__pbPrinted === n + 2, before);
  }, 60_000);
});

// ------------------------------------------------------------------ select all

describe("item 13: select all", () => {
  test("item 13: the bulk API acts on the snapshot only: later mail is left alone, a changed folder is a 409, bad input a 400, another's folder a 404", async () => {
    const a = (await srv.store.getAccount(ALICE.email))!;
    const f = await srv.store.createFolder(a.id, "Snapshot");
    await fill("Snapshot", 5, "Snap");
    const snap = await alice.ok<{ total: number; uidLimit: number }>("GET", `/api/folders/${f.id}/bulk`);
    expect(snap.total).toBe(5);
    // Arrives after "select all": not part of it.
    await srv.store.append(f.id, [{ raw: enc.encode(`From: x@example.org\r\nSubject: Late\r\nMessage-ID: <late@example.org>\r\n\r\nx\r\n`), internalDate: Date.now() }]);
    const res = await alice.ok<{ count: number }>("POST", `/api/folders/${f.id}/bulk`, { action: "read", uidLimit: snap.uidLimit, expect: snap.total });
    expect(res.count).toBe(5);
    const all = await srv.store.getMessages(f.id, (await srv.store.listMessages(f.id)).map((m) => m.uid));
    expect(all.find((m) => m.subject === "Late")!.flags).not.toContain("\\Seen");
    expect(all.filter((m) => m.flags.includes("\\Seen")).length).toBe(5);
    // One of the five went away meanwhile: refused, with the new count in words.
    const gone = all.find((m) => m.subject === "Snap 0")!;
    await srv.store.storeFlags(f.id, [gone.uid], "add", ["\\Deleted"], { silent: true });
    await srv.store.expunge(f.id, [gone.uid]);
    const stale = await alice.send("POST", `/api/folders/${f.id}/bulk`, { action: "delete", uidLimit: snap.uidLimit, expect: 5 });
    expect(stale.status).toBe(409);
    expect(stale.json<{ message: string }>().message).toContain("4 messages");
    expect(await srv.store.listMessages(f.id)).toHaveLength(5);
    // exceptIds leave some out; the count must then match what remains.
    const keep = all.find((m) => m.subject === "Snap 1")!.id;
    const moved = await alice.ok<{ count: number; moved: number }>("POST", `/api/folders/${f.id}/bulk`, { action: "archive", uidLimit: snap.uidLimit, expect: 3, exceptIds: [keep] });
    expect(moved.moved).toBe(3);
    for (const bad of [{ action: "explode", uidLimit: 1, expect: 0 }, { action: "read", expect: 0 }, { action: "read", uidLimit: -1, expect: 0 }, { action: "read", uidLimit: 1 }, { action: "read", uidLimit: 1, expect: 0, exceptIds: ["x"] }, { action: "move", uidLimit: snap.uidLimit, expect: 1, folderId: "nope" }]) {
      const r = await alice.send("POST", `/api/folders/${f.id}/bulk`, bad);
      expect([400, 404]).toContain(r.status);
    }
    expect((await alice.send("POST", `/api/folders/${f.id}/bulk`, "not json")).status).toBe(400);
    expect((await alice.get(`/api/folders/abc/bulk`)).status).toBe(404);
    const bob = await ApiClient.signIn(srv.base, BOB);
    expect((await bob.get(`/api/folders/${f.id}/bulk`)).status).toBe(404);
    expect((await bob.send("POST", `/api/folders/${f.id}/bulk`, { action: "delete", uidLimit: snap.uidLimit, expect: 2 })).status).toBe(404);
    expect(await srv.store.listMessages(f.id)).toHaveLength(2);
  }, 30_000);

  test("item 13: desktop: select all in a folder of 150 (more than one page), delete all, the folder is empty; Undo brings all 150 back", async () => {
    await page.setViewportSize(DESKTOP);
    await openFolder(page, "Bulk");
    await row(page, "Bulk item 149").waitFor();
    await page.click('[data-action="select-all"]');
    await page.locator(".bulk-n", { hasText: "All 150 selected" }).waitFor();
    // Rows further down, loaded only when scrolled to, are selected too.
    await page.locator(".list-scroll").evaluate((el) => (el.scrollTop = el.scrollHeight));
    await row(page, "Bulk item 0").waitFor();
    expect(await row(page, "Bulk item 0").getAttribute("aria-selected")).toBe("true");
    await page.click('[data-action="all-delete"]');
    const toast = page.locator(".toast", { hasText: "Moved 150 messages to Trash." });
    await toast.waitFor();
    await page.locator(".list-empty", { hasText: /./ }).waitFor({ state: "visible" });
    expect(await folderCount("Bulk")).toBe(0);
    await toast.locator('[data-action="undo"]').click();
    await waitFor(async () => (await folderCount("Bulk")) === 150, "150 messages back in Bulk");
    await row(page, "Bulk item 149").waitFor();
  }, 60_000);

  test("item 13: desktop: Ctrl+A in the list selects the whole folder and Delete acts on all of it; a click on a row goes back to a normal selection", async () => {
    await openFolder(page, "Bulk");
    await row(page, "Bulk item 149").waitFor();
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("Control+a");
    await page.locator(".bulk-n", { hasText: "All 150 selected" }).waitFor();
    // The Delete key too acts on the whole folder, not only on the rows loaded so far.
    await page.keyboard.press("Delete");
    const toast = page.locator(".toast", { hasText: "Moved 150 messages to Trash." });
    await toast.waitFor();
    expect(await folderCount("Bulk")).toBe(0);
    await toast.locator('[data-action="undo"]').click();
    await waitFor(async () => (await folderCount("Bulk")) === 150, "150 messages back in Bulk");
    await row(page, "Bulk item 149").waitFor();
    await page.locator(".list-scroll").focus();
    await page.keyboard.press("Control+a");
    await page.locator(".bulk-n", { hasText: "All 150 selected" }).waitFor();
    expect(await page.locator('[data-action="select-all"]').isChecked()).toBe(true);
    await row(page, "Bulk item 148").locator(".row-check").click();
    await page.locator(".bulk-n", { hasText: /^1 selected$|^\d+ selected$/ }).waitFor();
    expect(await page.locator(".bulk-n[data-all]").count()).toBe(0);
    expect(await page.locator('[data-action="select-all"]').isChecked()).toBe(false);
  }, 30_000);

  test("item 13: phone: select all 120 and mark them read, the count shown is what was acted on", async () => {
    await page.setViewportSize(PHONE);
    await openFolder(page, "Phone bulk");
    await row(page, "Phone item 119").waitFor();
    const box = page.locator('[data-action="select-all"]');
    const tap = await page.locator("label.select-all").boundingBox();
    expect(tap!.width).toBeGreaterThanOrEqual(44);
    expect(tap!.height).toBeGreaterThanOrEqual(44);
    await box.click();
    await page.locator(".bulk-n", { hasText: "All 120 selected" }).waitFor({ state: "visible" });
    expect(await folderCount("Phone bulk", true)).toBe(120);
    await page.click('[data-action="all-read"]');
    await page.locator(".toast", { hasText: "Updated 120 messages." }).waitFor();
    expect(await folderCount("Phone bulk", true)).toBe(0);
    await page.setViewportSize(DESKTOP);
  }, 60_000);
});
