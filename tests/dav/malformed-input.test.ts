/**
 * The malformed-input corpus for DAV request bodies over real HTTPS with
 * curl (issue 15, done-when 2): deep nesting, billion laughs, external
 * entities (file:///etc/passwd never appears), huge bodies (declared and
 * streamed), wrong content types and garbage all get a clear 4xx, and the
 * server keeps answering normally afterwards.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:tls";
import { ALICE, curl, PASS, startDav, xmlHeaders, type DavServer } from "./core-helpers.ts";

/** Writes the parts on a TLS connection and resolves with what the server answered (until it closes or 10 s). */
function rawHttps(port: number, parts: (string | Uint8Array)[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port, rejectUnauthorized: false }, () => {
      for (const p of parts) s.write(p);
    });
    let got = "";
    const done = () => {
      clearTimeout(timer);
      s.destroy();
      resolve(got);
    };
    const timer = setTimeout(done, 10_000);
    s.on("data", (b: Buffer) => {
      got += b.toString("latin1");
      if (/\r\n\r\n/.test(got) && /content-length: (\d+)/i.test(got)) {
        const len = Number(/content-length: (\d+)/i.exec(got)![1]);
        if (got.length - got.indexOf("\r\n\r\n") - 4 >= len) done();
      }
    });
    s.on("end", done);
    s.on("error", (e) => (got ? done() : reject(e)));
  });
}

let d: DavServer;
beforeAll(async () => {
  d = await startDav();
});
afterAll(async () => {
  await d?.close();
});

const CAL = `/dav/calendars/${ALICE}/Calendar/`;

const CORPUS: { name: string; body: string | Uint8Array; headers?: Record<string, string>; status: number[] }[] = [
  { name: "deep nesting (5,000 levels)", body: "<d:propfind xmlns:d='DAV:'>" + "<d:prop>".repeat(5000) + "</d:prop>".repeat(5000) + "</d:propfind>", status: [400] },
  {
    name: "billion laughs",
    body: `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;"><!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;"><!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&lol9;</d:displayname></d:prop></d:propfind>`,
    status: [400],
  },
  {
    name: "external entity",
    body: `<?xml version="1.0"?><!DOCTYPE d:propfind [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&xxe;</d:displayname></d:prop></d:propfind>`,
    status: [400],
  },
  { name: "parameter entity", body: `<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]><x/>`, status: [400] },
  { name: "undefined entity", body: `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname>&passwd;</d:displayname></d:prop></d:propfind>`, status: [400] },
  { name: "garbage", body: "\u0000\u0001\u00ff this is not XML }{", status: [400] },
  { name: "truncated", body: `<d:propfind xmlns:d="DAV:"><d:prop><d:displayn`, status: [400] },
  { name: "invalid UTF-8", body: Uint8Array.from([0x3c, 0x78, 0x3e, 0xc3, 0x28, 0x3c, 0x2f, 0x78, 0x3e]), status: [400] },
  { name: "too many elements", body: `<d:propfind xmlns:d="DAV:"><d:prop>${"<d:getetag/>".repeat(25_000)}</d:prop></d:propfind>`, status: [400] },
  { name: "too many properties (work = members x properties)", body: `<d:propfind xmlns:d="DAV:"><d:prop>${Array.from({ length: 300 }, (_, i) => `<d:p${i}/>`).join("")}</d:prop></d:propfind>`, status: [400, 403] },
  { name: "wrong content type", body: `<d:propfind xmlns:d="DAV:"><d:allprop/></d:propfind>`, headers: { "content-type": "text/plain" }, status: [415] },
  { name: "JSON", body: `{"propfind": true}`, headers: { "content-type": "application/json" }, status: [415] },
  { name: "wrong root element", body: `<d:multistatus xmlns:d="DAV:"/>`, status: [400, 403] },
];

describe("malformed DAV XML bodies", () => {
  for (const c of CORPUS) {
    test(`${c.name}: a clear 4xx`, async () => {
      for (const method of ["PROPFIND", "PROPPATCH", "REPORT"]) {
        const r = await curl(d, method, CAL, { headers: { ...xmlHeaders("0"), ...c.headers }, body: c.body });
        expect(c.status).toContain(r.status);
        expect(r.body.length).toBeGreaterThan(0);
        expect(r.body).not.toContain("root:x:0:0");
        expect(r.body).not.toContain("lollollol");
      }
    });
  }

  test("a body over 1 MiB is refused with 413 before it is read (declared), or once it passes the limit (chunked)", async () => {
    const auth = "Basic " + Buffer.from(`${ALICE}:${PASS}`).toString("base64");
    const head = (extra: string) => `PROPFIND ${CAL} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${auth}\r\nDepth: 0\r\nContent-Type: application/xml\r\n${extra}\r\n`;
    // Declared: only the headers are sent; the answer comes without the server waiting for 2 MiB.
    const declared = await rawHttps(d.srv.port("HTTPS"), [head("Content-Length: 2097152\r\n")]);
    expect(declared).toStartWith("HTTP/1.1 413");
    // Chunked: 1 MiB + 1 byte is sent, no more; the server stops reading there.
    const chunk = Buffer.alloc(1024 * 1024 + 1, 0x20);
    const chunked = await rawHttps(d.srv.port("HTTPS"), [head("Transfer-Encoding: chunked\r\n"), `${chunk.length.toString(16)}\r\n`, chunk, "\r\n"]);
    expect(chunked).toStartWith("HTTP/1.1 413");
  });

  test("the server still answers normally after the corpus", async () => {
    const r = await curl(d, "PROPFIND", CAL, { headers: xmlHeaders("0"), body: `<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>` });
    expect(r.status).toBe(207);
    expect(r.body).toContain("<D:displayname>Calendar</D:displayname>");
  });
});
