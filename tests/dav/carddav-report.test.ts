/**
 * addressbook-query (RFC 6352 §8.6) and addressbook-multiget (§8.7) over
 * HTTPS with curl (and Python's XML parser for the multiget): EMAIL
 * contains, FN starts-with, match types and collations, allof/anyof,
 * is-not-defined, param-filter, nresults (507 on truncation), address-data
 * subsets and versions, a contact with several emails, phones and a photo
 * returned byte for byte; the read-only directory book answers the same
 * reports; bad filters get clear 4xx DAV errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { run } from "../helpers/proc.ts";
import { curl, responses, startDav, texts, xmlHeaders, ALICE, PASS, type DavServer } from "./core-helpers.ts";

let d: DavServer;
const BOOK = `/dav/addressbooks/${ALICE}/Contacts/`;
const DIR = `/dav/addressbooks/${ALICE}/directory/`;
const NS = 'xmlns:D="DAV:" xmlns:CR="urn:ietf:params:xml:ns:carddav"';

// A 3.0 card with two grouped/plain emails, two phones, a folded base64 PHOTO and X- properties.
const PHOTO_B64 = Buffer.from(Array.from({ length: 600 }, (_, i) => (i * 37) % 256)).toString("base64");
const photoLines = (PHOTO_B64.match(/.{1,60}/g) ?? []).map((l, i) => (i === 0 ? `PHOTO;ENCODING=b;TYPE=JPEG:${l}` : ` ${l}`));
const CAROL = [
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:carol-1",
  "FN:Carol Example",
  "N:Example;Carol;;;",
  "ORG:Example Corp",
  "item1.EMAIL;TYPE=INTERNET,WORK:carol@work.example.net",
  "item1.X-ABLabel:work",
  "EMAIL;TYPE=INTERNET,HOME:carol.home@example.org",
  "TEL;TYPE=CELL:+1 555 0100",
  "TEL;TYPE=WORK,VOICE:+1 555 0199",
  ...photoLines,
  "X-PILLARBOX-TEST:kept as is",
  "END:VCARD",
  "",
].join("\r\n");
const DAVE = ["BEGIN:VCARD", "VERSION:4.0", "UID:dave-1", "FN:Dave Ölund", "N:Ölund;Dave;;;", "EMAIL:dave@example.org", "TEL;VALUE=uri;TYPE=home:tel:+44-20-5555-0101", "END:VCARD", ""].join("\r\n");
const ERIN = ["BEGIN:VCARD", "VERSION:3.0", "UID:erin-1", "FN:Erin Smith", "N:Smith;Erin;;;", "NOTE:no e-mail at all", "END:VCARD", ""].join("\r\n");
const more = (i: number) => ["BEGIN:VCARD", "VERSION:3.0", `UID:c-${i}`, `FN:Charlie ${i}`, `EMAIL:charlie${i}@example.com`, "END:VCARD", ""].join("\r\n");

const q = (filter: string, props = "<D:getetag/>", extra = "") => `<?xml version="1.0" encoding="utf-8"?><CR:addressbook-query ${NS}><D:prop>${props}</D:prop>${filter}${extra}</CR:addressbook-query>`;
const pf = (name: string, inner: string, test = "") => `<CR:prop-filter name="${name}"${test ? ` test="${test}"` : ""}>${inner}</CR:prop-filter>`;
const tm = (text: string, attrs = "") => `<CR:text-match${attrs ? " " + attrs : ""}>${text}</CR:text-match>`;

async function report(body: string, path = BOOK, depth = "1") {
  return curl(d, "REPORT", path, { body, headers: xmlHeaders(depth) });
}

function names(xml: string): string[] {
  return responses(xml)
    .filter((r) => !r.includes("507"))
    .map((r) => decodeURIComponent(texts(r, "href")[0]!.split("/").pop()!))
    .sort();
}

const unxml = (s: string) => s.replace(/&#13;/g, "\r").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");

beforeAll(async () => {
  d = await startDav();
  const put = async (name: string, body: string) => {
    const r = await curl(d, "PUT", BOOK + name, { body, headers: { "content-type": "text/vcard; charset=utf-8" } });
    if (r.status !== 201) throw new Error(`PUT ${name}: ${r.status} ${r.body}`);
  };
  await put("carol.vcf", CAROL);
  await put("dave.vcf", DAVE);
  await put("erin.vcf", ERIN);
  for (let i = 0; i < 5; i++) await put(`charlie-${i}.vcf`, more(i));
}, 60_000);

afterAll(async () => {
  await d?.close();
});

describe("addressbook-query filters", () => {
  test("EMAIL contains (any of several emails, grouped ones too)", async () => {
    expect(names((await report(q(`<CR:filter>${pf("EMAIL", tm("work.example"))}</CR:filter>`))).body)).toEqual(["carol.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("EMAIL", tm("example.org"))}</CR:filter>`))).body)).toEqual(["carol.vcf", "dave.vcf"]);
  });

  test("FN starts-with, case-insensitive by default (i;unicode-casemap)", async () => {
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("CAR", 'match-type="starts-with"'))}</CR:filter>`))).body)).toEqual(["carol.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("dave ölund", 'match-type="equals"'))}</CR:filter>`))).body)).toEqual(["dave.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("DAVE öLUND", 'match-type="equals"'))}</CR:filter>`))).body)).toEqual(["dave.vcf"]);
  });

  test("i;ascii-casemap folds only ASCII; i;octet is exact", async () => {
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("DAVE öLUND", 'match-type="equals" collation="i;ascii-casemap"'))}</CR:filter>`))).body)).toEqual([]);
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("DAVE Ölund", 'match-type="equals" collation="i;ascii-casemap"'))}</CR:filter>`))).body)).toEqual(["dave.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("carol", 'collation="i;octet"'))}</CR:filter>`))).body)).toEqual([]);
  });

  test("ends-with, negate-condition, is-not-defined", async () => {
    expect(names((await report(q(`<CR:filter>${pf("EMAIL", tm(".com", 'match-type="ends-with"'))}</CR:filter>`))).body)).toEqual(["charlie-0.vcf", "charlie-1.vcf", "charlie-2.vcf", "charlie-3.vcf", "charlie-4.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("FN", tm("charlie", 'negate-condition="yes"'))}</CR:filter>`))).body)).toEqual(["carol.vcf", "dave.vcf", "erin.vcf"]);
    expect(names((await report(q(`<CR:filter>${pf("EMAIL", "<CR:is-not-defined/>")}</CR:filter>`))).body)).toEqual(["erin.vcf"]);
  });

  test("anyof / allof at the filter and the prop-filter level", async () => {
    const any = `<CR:filter test="anyof">${pf("FN", tm("erin"))}${pf("EMAIL", tm("dave@"))}</CR:filter>`;
    expect(names((await report(q(any))).body)).toEqual(["dave.vcf", "erin.vcf"]);
    const all = `<CR:filter test="allof">${pf("FN", tm("o"))}${pf("EMAIL", tm("example.org"))}</CR:filter>`;
    expect(names((await report(q(all))).body)).toEqual(["carol.vcf", "dave.vcf"]);
    const propAll = `<CR:filter>${pf("EMAIL", tm("carol") + tm("home"), "allof")}</CR:filter>`;
    expect(names((await report(q(propAll))).body)).toEqual(["carol.vcf"]);
    const propAllNone = `<CR:filter>${pf("EMAIL", tm("dave") + tm("home"), "allof")}</CR:filter>`;
    expect(names((await report(q(propAllNone))).body)).toEqual([]);
  });

  test("param-filter on TEL TYPE", async () => {
    const f = `<CR:filter>${pf("TEL", `<CR:param-filter name="TYPE">${tm("cell", 'match-type="equals"')}</CR:param-filter>`)}</CR:filter>`;
    expect(names((await report(q(f))).body)).toEqual(["carol.vcf"]);
  });

  test("an empty filter matches every card", async () => {
    expect(names((await report(q("<CR:filter/>"))).body).length).toBe(8);
  });

  test("nresults cuts the answer and adds a 507 response for the request URI", async () => {
    const r = await report(q(`<CR:filter>${pf("FN", tm("charlie"))}</CR:filter>`, "<D:getetag/>", "<CR:limit><CR:nresults>2</CR:nresults></CR:limit>"));
    expect(r.status).toBe(207);
    const rs = responses(r.body);
    expect(rs.length).toBe(3);
    const last = rs[rs.length - 1]!;
    expect(texts(last, "href")[0]).toBe(BOOK.replace("@", "@"));
    expect(last).toContain("507");
    expect(last).toContain("number-of-matches-within-limits");
    const fits = await report(q(`<CR:filter>${pf("FN", tm("charlie"))}</CR:filter>`, "<D:getetag/>", "<CR:limit><CR:nresults>5</CR:nresults></CR:limit>"));
    expect(responses(fits.body).length).toBe(5);
    expect(fits.body).not.toContain("507");
  });
});

describe("address-data", () => {
  test("the contact with several emails, phones and a photo comes back byte for byte", async () => {
    const r = await report(q(`<CR:filter>${pf("UID", tm("carol-1", 'match-type="equals"'))}</CR:filter>`, "<D:getetag/><CR:address-data/>"));
    const data = unxml(texts(responses(r.body)[0]!, "address-data")[0]!);
    expect(data).toBe(CAROL);
    expect(Buffer.from(CAROL, "utf8").equals(Buffer.from(data, "utf8"))).toBe(true);
  });

  test("a property subset keeps grouped and folded properties as stored", async () => {
    const r = await report(q(`<CR:filter>${pf("UID", tm("carol-1", 'match-type="equals"'))}</CR:filter>`, '<CR:address-data><CR:prop name="FN"/><CR:prop name="EMAIL"/><CR:prop name="PHOTO"/><CR:prop name="TEL" novalue="yes"/></CR:address-data>'));
    const data = unxml(texts(responses(r.body)[0]!, "address-data")[0]!);
    expect(data).toBe(
      [
        "BEGIN:VCARD",
        "VERSION:3.0",
        "FN:Carol Example",
        "item1.EMAIL;TYPE=INTERNET,WORK:carol@work.example.net",
        "EMAIL;TYPE=INTERNET,HOME:carol.home@example.org",
        "TEL;TYPE=CELL:",
        "TEL;TYPE=WORK,VOICE:",
        ...photoLines,
        "END:VCARD",
        "",
      ].join("\r\n"),
    );
  });

  test("a version the card is not stored in: 403 supported-address-data-conversion for that card", async () => {
    const r = await report(q(`<CR:filter>${pf("FN", tm("o"))}</CR:filter>`, '<D:getetag/><CR:address-data version="4.0"/>'));
    expect(r.status).toBe(207);
    const carol = responses(r.body).find((x) => x.includes("carol.vcf"))!;
    expect(carol).toContain("403");
    expect(carol).toContain("converted");
    const dave = responses(r.body).find((x) => x.includes("dave.vcf"))!;
    expect(unxml(texts(dave, "address-data")[0]!)).toBe(DAVE);
  });

  test("another content type: 403 supported-address-data", async () => {
    const r = await report(q("<CR:filter/>", '<CR:address-data content-type="application/vcard+json"/>'));
    expect(r.status).toBe(403);
    expect(r.body).toContain("<CR:supported-address-data/>");
  });
});

describe("addressbook-multiget", () => {
  test("found cards byte for byte, missing and foreign hrefs 404 (read by Python's XML parser)", async () => {
    const hrefs = [BOOK + "carol.vcf", BOOK + "dave.vcf", BOOK + "nobody.vcf", DIR + `${ALICE}.vcf`, `/dav/calendars/${ALICE}/Calendar/carol.vcf`];
    const body = `<?xml version="1.0"?><CR:addressbook-multiget ${NS}><D:prop><D:getetag/><CR:address-data/></D:prop>${hrefs.map((h) => `<D:href>${h}</D:href>`).join("")}</CR:addressbook-multiget>`;
    const r = await run("python3", [join(import.meta.dir, "caldav_report_client.py")], { input: JSON.stringify({ url: d.base + BOOK, user: ALICE, password: PASS, depth: "1", body }), timeoutMs: 60_000 });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { status: number; responses: { href: string; status: string | null; props: Record<string, { text: string }> }[] };
    expect(out.status).toBe(207);
    const byHref = new Map(out.responses.map((x) => [x.href, x]));
    expect(byHref.get(BOOK + "carol.vcf")!.props["{urn:ietf:params:xml:ns:carddav}address-data"]!.text).toBe(CAROL);
    expect(byHref.get(BOOK + "dave.vcf")!.props["{urn:ietf:params:xml:ns:carddav}address-data"]!.text).toBe(DAVE);
    for (const h of hrefs.slice(2)) expect(byHref.get(h)!.status).toBe("HTTP/1.1 404 Not Found");
  });
});

describe("the directory book", () => {
  test("addressbook-query on the global address list", async () => {
    const r = await report(q(`<CR:filter>${pf("FN", tm("bob", 'match-type="starts-with"'))}</CR:filter>`, "<D:getetag/><CR:address-data/>"), DIR);
    expect(r.status).toBe(207);
    expect(names(r.body)).toEqual(["bob@example.test.vcf"]);
    expect(unxml(texts(responses(r.body)[0]!, "address-data")[0]!)).toContain("FN:Bob Builder\r\n");
    const mail = await report(q(`<CR:filter>${pf("EMAIL", tm("@example.test", 'match-type="ends-with"'))}</CR:filter>`), DIR);
    expect(names(mail.body)).toEqual(["alice@example.test.vcf", "bob@example.test.vcf"]);
  });

  test("addressbook-multiget on the directory", async () => {
    const body = `<?xml version="1.0"?><CR:addressbook-multiget ${NS}><D:prop><CR:address-data><CR:prop name="EMAIL"/></CR:address-data></D:prop><D:href>${DIR}${ALICE}.vcf</D:href><D:href>${DIR}nobody@example.test.vcf</D:href></CR:addressbook-multiget>`;
    const r = await report(body, DIR);
    expect(r.status).toBe(207);
    const rs = responses(r.body);
    expect(rs.length).toBe(2);
    expect(unxml(texts(rs[0]!, "address-data")[0]!)).toBe(`BEGIN:VCARD\r\nVERSION:4.0\r\nEMAIL;TYPE=work:${ALICE}\r\nEND:VCARD\r\n`);
    expect(rs[1]).toContain("404");
  });
});

describe("bad requests", () => {
  test("unknown collation: 403 CR:supported-collation", async () => {
    const r = await report(q(`<CR:filter>${pf("FN", tm("x", 'collation="i;basic"'))}</CR:filter>`));
    expect(r.status).toBe(403);
    expect(r.body).toContain("<CR:supported-collation/>");
    expect(r.body).toContain("i;basic");
  });

  test("unknown match-type, bad test, bad nresults, no filter", async () => {
    const mt = await report(q(`<CR:filter>${pf("FN", tm("x", 'match-type="regex"'))}</CR:filter>`));
    expect(mt.status).toBe(400);
    expect(mt.body).toContain("match-type");
    const t = await report(q(`<CR:filter test="some">${pf("FN", tm("x"))}</CR:filter>`));
    expect(t.status).toBe(403);
    expect(t.body).toContain("<CR:valid-filter/>");
    const n = await report(q("<CR:filter/>", "<D:getetag/>", "<CR:limit><CR:nresults>-3</CR:nresults></CR:limit>"));
    expect(n.status).toBe(400);
    expect(n.body).toContain("nresults");
    const none = await report(`<?xml version="1.0"?><CR:addressbook-query ${NS}><D:prop><D:getetag/></D:prop></CR:addressbook-query>`);
    expect(none.status).toBe(400);
    expect(none.body).toContain("CR:filter");
  });

  test("addressbook-query on a calendar: 403 supported-report", async () => {
    const r = await report(q("<CR:filter/>"), `/dav/calendars/${ALICE}/Calendar/`);
    expect(r.status).toBe(403);
    expect(r.body).toContain("supported-report");
  });
});
