/**
 * Unit tests of the contact converter (protocols/http/eas/groupware/contact.ts):
 * vCard 3.0/4.0 -> MS-ASCNTC ApplicationData with every field, device data
 * merged onto the stored card (untouched lines kept byte for byte, absent
 * elements removing only what they carry), birthdays in every zone, and the
 * malformed-input corpus (Status 6, nothing produced).
 */
import { describe, expect, test } from "bun:test";
import { contactFromEas, contactToEas } from "../../protocols/http/eas/groupware/contact.ts";
import { birthdayDate, easBirthday } from "../../protocols/http/eas/groupware/contact-device.ts";
import { EasDataError, type CodecContext } from "../../protocols/http/eas/groupware/codec.ts";
import { parseVCard } from "../../src/groupware/vcard/index.ts";
import { el, kid, kids, text, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import type { Account } from "../../storage/api.ts";
import type { Logger } from "../../src/log.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger; // the codec does not log
const cx: CodecContext = { version: 161, account: { id: 1, email: "me@example.test" } as Account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: 0, log: silent };

// 1x1 JPEG-ish bytes are enough: the codec checks base64, not the image.
const PHOTO = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8, 9]).toString("base64");

export const CARD3 = [
  "BEGIN:VCARD",
  "VERSION:3.0",
  "UID:card-3",
  "FN:Dr. Jane Q. Public",
  "N:Public;Jane;Quinn;Dr.;PhD",
  "ORG:Acme\\, Inc.;Research;Lab 7",
  "TITLE:Chief Scientist",
  "EMAIL;TYPE=INTERNET,WORK:jane@acme.example",
  "EMAIL;TYPE=INTERNET,HOME:jane@home.example",
  "EMAIL;TYPE=INTERNET:jq@other.example",
  "EMAIL;TYPE=INTERNET:fourth@other.example",
  "TEL;TYPE=WORK,VOICE:+1 555 0100",
  "TEL;TYPE=CELL:+1 555 0101",
  "TEL;TYPE=HOME:+1 555 0102",
  "TEL;TYPE=WORK,FAX:+1 555 0103",
  "item1.TEL:+1 555 0104",
  "item1.X-ABLabel:other",
  "ADR;TYPE=WORK:;Suite 5;1 Main St;Springfield;IL;62701;USA",
  "ADR;TYPE=HOME:;;22 Elm Rd\\nFlat 3;Shelbyville;IL;62565;USA",
  "BDAY:1980-05-15",
  "X-ANNIVERSARY:2005-06-20",
  "URL:https://acme.example/jane",
  "NOTE:Met at the conference\\, 2024.\\nLikes tea.",
  "CATEGORIES:Work,VIP",
  `PHOTO;ENCODING=b;TYPE=JPEG:${PHOTO}`,
  "NICKNAME:JQ,Janie",
  "X-SPOUSE:John Public",
  "X-CHILD:Tim",
  "X-CHILD:Ann",
  "IMPP:xmpp:jane@jabber.example",
  "X-AIM:janeaim",
  "GEO:39.78;-89.65",
  "X-CUSTOM-THING;X-PARAM=1:keep me",
  "END:VCARD",
  "",
].join("\r\n");

export const CARD4 = [
  "BEGIN:VCARD",
  "VERSION:4.0",
  "UID:urn:uuid:card-4",
  "FN:Max Mustermann",
  "N:Mustermann;Max;;;",
  "EMAIL;TYPE=work;PREF=1:max@firma.example",
  "EMAIL;TYPE=home:max@privat.example",
  'TEL;VALUE=uri;TYPE="voice,cell":tel:+49-170-1234567',
  "TEL;VALUE=uri;TYPE=work:tel:+49-30-1234",
  "ADR;TYPE=work:;;Hauptstr. 1;Berlin;;10115;Germany",
  "ADR;TYPE=home:;;Nebenweg 2;Potsdam;;14467;Germany",
  "BDAY:--0229",
  "ANNIVERSARY:20100612",
  `PHOTO:data:image/jpeg;base64,${PHOTO}`,
  "CATEGORIES:Friends",
  "RELATED;TYPE=friend:urn:uuid:someone",
  "X-FAVOURITE:yes",
  "END:VCARD",
  "",
].join("\r\n");

function fields(els: WElement[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of els) out[`${e.ns}:${e.name}`] = text(e);
  return out;
}

function appData(...children: (WElement | null | false)[]): WElement {
  return el("AirSync:ApplicationData", ...children);
}

function lines(body: Uint8Array): string[] {
  return dec.decode(body).split("\r\n");
}

describe("vCard -> ActiveSync", () => {
  test("vCard 3.0: every mapped field", () => {
    const els = contactToEas(enc.encode(CARD3), cx);
    const f = fields(els);
    expect(f["Contacts:FileAs"]).toBe("Dr. Jane Q. Public");
    expect([f["Contacts:LastName"], f["Contacts:FirstName"], f["Contacts:MiddleName"], f["Contacts:Title"], f["Contacts:Suffix"]]).toEqual(["Public", "Jane", "Quinn", "Dr.", "PhD"]);
    expect(f["Contacts:CompanyName"]).toBe("Acme, Inc.");
    expect(f["Contacts:Department"]).toBe("Research");
    expect(f["Contacts:JobTitle"]).toBe("Chief Scientist");
    expect([f["Contacts:Email1Address"], f["Contacts:Email2Address"], f["Contacts:Email3Address"]]).toEqual(["jane@acme.example", "jane@home.example", "jq@other.example"]);
    expect(f["Contacts:BusinessPhoneNumber"]).toBe("+1 555 0100");
    expect(f["Contacts:MobilePhoneNumber"]).toBe("+1 555 0101");
    expect(f["Contacts:HomePhoneNumber"]).toBe("+1 555 0102");
    expect(f["Contacts:BusinessFaxNumber"]).toBe("+1 555 0103");
    expect(f["Contacts:Home2PhoneNumber"]).toBe("+1 555 0104");
    expect(f["Contacts:BusinessAddressStreet"]).toBe("1 Main St");
    expect(f["Contacts:BusinessAddressCity"]).toBe("Springfield");
    expect(f["Contacts:BusinessAddressState"]).toBe("IL");
    expect(f["Contacts:BusinessAddressPostalCode"]).toBe("62701");
    expect(f["Contacts:BusinessAddressCountry"]).toBe("USA");
    expect(f["Contacts:HomeAddressStreet"]).toBe("22 Elm Rd\nFlat 3");
    expect(f["Contacts:HomeAddressCity"]).toBe("Shelbyville");
    expect(f["Contacts:Birthday"]).toBe("1980-05-15T10:00:00.000Z");
    expect(f["Contacts:Anniversary"]).toBe("2005-06-20T10:00:00.000Z");
    expect(f["Contacts:WebPage"]).toBe("https://acme.example/jane");
    expect(f["Contacts:Spouse"]).toBe("John Public");
    expect(f["Contacts:Picture"]).toBe(PHOTO);
    expect(f["Contacts2:NickName"]).toBe("JQ");
    expect(f["Contacts2:IMAddress"]).toBe("jane@jabber.example");
    expect(f["Contacts2:IMAddress2"]).toBe("janeaim");
    const cats = els.find((e) => e.name === "Categories")!;
    expect(kids(cats, "Contacts:Category").map(text)).toEqual(["Work", "VIP"]);
    const children = els.find((e) => e.name === "Children")!;
    expect(kids(children, "Contacts:Child").map(text)).toEqual(["Tim", "Ann"]);
    const body = els.find((e) => e.name === "Body")!;
    expect(text(kid(body, "AirSyncBase:Data"))).toBe("Met at the conference, 2024.\nLikes tea.");
    // Nothing empty is sent.
    for (const e of els) expect(e.children.length).toBeGreaterThan(0);
  });

  test("vCard 4.0: tel: URIs, yearless birthday, data: photo", () => {
    const f = fields(contactToEas(enc.encode(CARD4), cx));
    expect(f["Contacts:MobilePhoneNumber"]).toBe("+49-170-1234567");
    expect(f["Contacts:BusinessPhoneNumber"]).toBe("+49-30-1234");
    expect(f["Contacts:Birthday"]).toBe("1604-02-29T10:00:00.000Z");
    expect(f["Contacts:Anniversary"]).toBe("2010-06-12T10:00:00.000Z");
    expect(f["Contacts:Picture"]).toBe(PHOTO);
    expect(f["Contacts:BusinessAddressCity"]).toBe("Berlin");
    expect(f["Contacts:HomeAddressCity"]).toBe("Potsdam");
  });

  test("a photo over 48 KB of base64 is not sent", () => {
    const big = Buffer.alloc(40 * 1024, 7).toString("base64");
    const card = CARD4.replace(`PHOTO:data:image/jpeg;base64,${PHOTO}`, `PHOTO:data:image/jpeg;base64,${big}`);
    expect(fields(contactToEas(enc.encode(card), cx))["Contacts:Picture"]).toBeUndefined();
  });
});

/** What a device sends back for CARD3 unchanged (everything it was shown). */
function echo(card: string): WElement {
  return appData(...contactToEas(enc.encode(card), cx));
}

describe("ActiveSync -> vCard", () => {
  test("an unchanged echo keeps the card byte for byte (3.0 and 4.0)", () => {
    for (const card of [CARD3, CARD4]) expect(dec.decode(contactFromEas(echo(card), enc.encode(card)))).toBe(card);
  });

  test("a card stored with LF line ends (and no final line end) keeps them; new lines follow it", () => {
    const lf = CARD4.replace(/\r\n/g, "\n").replace(/\n$/, "");
    expect(dec.decode(contactFromEas(echo(lf), enc.encode(lf)))).toBe(lf);
    const data = echo(lf);
    data.children.push(el("Contacts:JobTitle", "Engineer"));
    const out = dec.decode(contactFromEas(data, enc.encode(lf)));
    expect(out).not.toContain("\r");
    expect(out).toContain("\nTITLE:Engineer\nEND:VCARD");
  });

  test("a note's control characters are dropped, not refused; an escaped URL (http\\://) reads as the URL and is kept when echoed", () => {
    const body = dec.decode(contactFromEas(appData(el("Contacts:FirstName", "A"), el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "bell\u0007 here"))), null));
    expect(body).toContain("NOTE:bell here\r\n");
    const card = CARD3.replace("URL:https://acme.example/jane", "URL:https\\://acme.example/jane");
    expect(fields(contactToEas(enc.encode(card), cx))["Contacts:WebPage"]).toBe("https://acme.example/jane");
    expect(dec.decode(contactFromEas(echo(card), enc.encode(card)))).toBe(card);
  });

  test("a change rewrites only the changed lines", () => {
    const data = echo(CARD3);
    const set = (name: string, v: string) => {
      const e = kids(data).find((k) => `${k.ns}:${k.name}` === name)!;
      e.children = [v];
    };
    set("Contacts:JobTitle", "Director; Research");
    set("Contacts:MobilePhoneNumber", "+1 555 9999");
    set("Contacts:Email2Address", '"Jane" <jane@new.example>');
    set("Contacts:HomeAddressCity", "Capital City");
    data.children = data.children.filter((k) => typeof k === "string" || k instanceof Uint8Array || (k.name !== "Spouse" && k.name !== "BusinessFaxNumber"));
    const out = lines(contactFromEas(data, enc.encode(CARD3)));
    expect(out).toContain("TITLE:Director\\; Research");
    expect(out).toContain("TEL;TYPE=CELL:+1 555 9999");
    expect(out).toContain("EMAIL;TYPE=INTERNET,HOME:jane@new.example");
    expect(out).toContain("ADR;TYPE=HOME:;;22 Elm Rd\\nFlat 3;Capital City;IL;62565;USA");
    expect(out.some((l) => l.startsWith("X-SPOUSE"))).toBe(false);
    expect(out.some((l) => l.includes("FAX"))).toBe(false);
    // Lines EAS has no element for, and the fourth email, are kept as they were.
    for (const keep of ["GEO:39.78;-89.65", "X-CUSTOM-THING;X-PARAM=1:keep me", "EMAIL;TYPE=INTERNET:fourth@other.example", "item1.X-ABLabel:other", "UID:card-3", "ORG:Acme\\, Inc.;Research;Lab 7"]) {
      expect(out).toContain(keep);
    }
    expect(parseVCard(enc.encode(out.join("\r\n"))).uid).toBe("card-3");
  });

  test("absent elements remove their properties; no Picture/Body element keeps them; empty Picture deletes", () => {
    const minimal = appData(el("Contacts:FirstName", "Jane"), el("Contacts:LastName", "Public"));
    const out = lines(contactFromEas(minimal, enc.encode(CARD3)));
    expect(out.some((l) => l.startsWith("PHOTO"))).toBe(true);
    expect(out.some((l) => l.startsWith("NOTE"))).toBe(true);
    // item1.X-ABLabel labelled the removed item1.TEL: it goes with it.
    for (const gone of ["TITLE", "BDAY", "X-ANNIVERSARY", "URL", "CATEGORIES", "NICKNAME", "X-CHILD", "IMPP", "X-AIM", "ADR", "TEL", "item1."]) {
      expect(out.filter((l) => l.startsWith(gone))).toEqual([]);
    }
    expect(out.filter((l) => l.startsWith("EMAIL"))).toEqual(["EMAIL;TYPE=INTERNET:fourth@other.example"]);
    expect(out).toContain("N:Public;Jane;;;");
    expect(out).toContain("FN:Jane Public");
    expect(out).toContain("GEO:39.78;-89.65");
    const cleared = lines(contactFromEas(appData(el("Contacts:FirstName", "Jane"), el("Contacts:Picture"), el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", ""))), enc.encode(CARD3)));
    expect(cleared.some((l) => l.startsWith("PHOTO"))).toBe(false);
    expect(cleared.some((l) => l.startsWith("NOTE"))).toBe(false);
  });

  test("a photo the device never saw (over 48 KB) survives an empty Picture", () => {
    const big = Buffer.alloc(40 * 1024, 7).toString("base64");
    const card = CARD4.replace(`PHOTO:data:image/jpeg;base64,${PHOTO}`, `PHOTO:data:image/jpeg;base64,${big}`);
    const out = dec.decode(contactFromEas(appData(el("Contacts:FirstName", "Max"), el("Contacts:Picture")), enc.encode(card)));
    expect(out.replace(/\r\n /g, "")).toContain(big);
  });

  test("an Add makes a vCard 3.0 with a UID, FN from the names (or the first email), a photo and dates", () => {
    const body = contactFromEas(
      appData(
        el("Contacts:FirstName", "Zoë"),
        el("Contacts:LastName", "Ådler"),
        el("Contacts:Email1Address", "zoe@example.test"),
        el("Contacts:Birthday", "1990-12-31T23:00:00.000Z"), // local midnight in UTC+1
        el("Contacts:BusinessAddressStreet", "1 Road"),
        el("Contacts:HomeAddressCity", "Town"),
        el("Contacts:OtherAddressCountry", "Norway"),
        el("Contacts:Picture", PHOTO),
        el("Contacts:Categories", el("Contacts:Category", "A,B"), el("Contacts:Category", "C")),
        el("Contacts2:IMAddress", "zoe@chat.example"),
        el("Contacts2:CompanyMainPhone", "+47 1"),
        el("Contacts:RadioPhoneNumber", "+47 2"),
        el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "line1\r\nline2")),
      ),
      null,
    );
    const card = parseVCard(body);
    expect(card.version).toBe("3.0");
    expect(card.uid.length).toBeGreaterThan(10);
    expect(card.fields.fullName).toBe("Zoë Ådler");
    const out = lines(body);
    expect(out).toContain("BDAY:1991-01-01");
    expect(out).toContain("ADR;TYPE=work:;;1 Road;;;;");
    expect(out).toContain("ADR;TYPE=home:;;;Town;;;");
    expect(out).toContain("ADR:;;;;;;Norway");
    expect(out).toContain(`PHOTO;ENCODING=b;TYPE=JPEG:${PHOTO}`.slice(0, 60));
    expect(out).toContain("CATEGORIES:A\\,B,C");
    expect(out).toContain("IMPP:im:zoe@chat.example");
    expect(out).toContain("TEL;TYPE=work,x-company-main:+47 1");
    expect(out).toContain("NOTE:line1\\nline2");
    // And it reads back as it was sent.
    const back = fields(contactToEas(body, cx));
    expect(back["Contacts:Birthday"]).toBe("1991-01-01T10:00:00.000Z");
    expect(back["Contacts2:CompanyMainPhone"]).toBe("+47 1");
    expect(back["Contacts:RadioPhoneNumber"]).toBe("+47 2");
    expect(back["Contacts2:IMAddress"]).toBe("zoe@chat.example");
    expect(back["Contacts:OtherAddressCountry"]).toBe("Norway");
    const f2 = fields(contactToEas(contactFromEas(appData(el("Contacts:Email1Address", "only@example.test")), null), cx));
    expect(f2["Contacts:FileAs"]).toBe("only@example.test");
  });

  test("vCard 4.0 writes 4.0 forms (data: photo, basic dates, --MMDD without a year)", () => {
    const data = echo(CARD4);
    const bd = kids(data).find((k) => k.name === "Birthday")!;
    bd.children = ["1604-03-01T10:00:00.000Z"];
    const ann = kids(data).find((k) => k.name === "Anniversary")!;
    ann.children = ["2011-06-12T00:00:00.000Z"];
    const pic = kids(data).find((k) => k.name === "Picture")!;
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]).toString("base64");
    pic.children = [png];
    const out = lines(contactFromEas(data, enc.encode(CARD4)));
    expect(out).toContain("BDAY:--0301");
    expect(out).toContain("ANNIVERSARY:20110612");
    expect(out).toContain(`PHOTO:data:image/png;base64,${png}`);
    expect(out).toContain("RELATED;TYPE=friend:urn:uuid:someone");
    expect(out).toContain("X-FAVOURITE:yes");
  });

  test("ghosted elements (not in the device's Supported list) keep their stored values when absent; managed ones are removed", () => {
    const supported = new Set(["Contacts:FirstName", "Contacts:LastName", "Contacts:MobilePhoneNumber", "Contacts:Email1Address", "Contacts:JobTitle", "Contacts:Categories"]);
    const ghostCx: CodecContext = { ...cx, supported };
    const data = appData(el("Contacts:FirstName", "Janet"), el("Contacts:LastName", "Public"), el("Contacts:MobilePhoneNumber", "+1 555 7777"), el("Contacts:Email1Address", "jane@acme.example"));
    const out = lines(contactFromEas(data, enc.encode(CARD3), ghostCx));
    // managed and absent: removed
    expect(out.some((l) => l.startsWith("TITLE"))).toBe(false);
    expect(out.some((l) => l.startsWith("CATEGORIES"))).toBe(false);
    // managed and sent: changed
    expect(out).toContain("TEL;TYPE=CELL:+1 555 7777");
    // ghosted: kept byte for byte, the unlisted name parts too
    expect(out).toContain("N:Public;Janet;Quinn;Dr.;PhD");
    for (const keep of ["EMAIL;TYPE=INTERNET,HOME:jane@home.example", "TEL;TYPE=WORK,FAX:+1 555 0103", "BDAY:1980-05-15", "X-SPOUSE:John Public", "X-CHILD:Tim", "IMPP:xmpp:jane@jabber.example", "ADR;TYPE=WORK:;Suite 5;1 Main St;Springfield;IL;62701;USA", "ORG:Acme\\, Inc.;Research;Lab 7", "URL:https://acme.example/jane", "NICKNAME:JQ,Janie"]) {
      expect(out).toContain(keep);
    }
    // Without Supported the same Change removes them.
    const plain = lines(contactFromEas(data, enc.encode(CARD3), cx));
    expect(plain.some((l) => l.startsWith("X-SPOUSE") || l.startsWith("BDAY"))).toBe(false);
    expect(plain).toContain("ORG:;;Lab 7"); // the unit EAS has no element for stays
  });

  test("a truncated note sent back unedited keeps the whole stored note; an edited one replaces it", () => {
    const long = "0123456789 ".repeat(20).trim();
    const card = CARD4.replace("CATEGORIES:Friends", `NOTE:${long}\r\nCATEGORIES:Friends`);
    const small: CodecContext = { ...cx, body: { prefs: [{ type: 1, truncationSize: 50 }], mimeSupport: 0 } };
    const shown = contactToEas(enc.encode(card), small).find((e) => e.name === "Body")!;
    expect(text(kid(shown, "AirSyncBase:Truncated"))).toBe("1");
    const cut = text(kid(shown, "AirSyncBase:Data"));
    const back = (body: string) => dec.decode(contactFromEas(appData(...contactToEas(enc.encode(card), small).filter((e) => e.name !== "Body"), el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", body))), enc.encode(card), small));
    expect(back(cut)).toBe(card);
    expect(back("rewritten")).toContain("NOTE:rewritten\r\n");
  });

  test("clearing a field removes its line and its other spellings, not a second line the device never saw", () => {
    const card = CARD4.replace("X-FAVOURITE:yes", "URL:https://one.example\r\nURL:https://two.example\r\nX-SPOUSE:Erika\r\nX-EVOLUTION-SPOUSE:Erika M.\r\nX-ANNIVERSARY:2001-01-01");
    const f = fields(contactToEas(enc.encode(card), cx));
    expect(f["Contacts:WebPage"]).toBe("https://one.example");
    expect(f["Contacts:Spouse"]).toBe("Erika");
    expect(f["Contacts:Anniversary"]).toBe("2010-06-12T10:00:00.000Z");
    const out = lines(contactFromEas(appData(el("Contacts:FirstName", "Max"), el("Contacts:LastName", "Mustermann")), enc.encode(card)));
    expect(out.filter((l) => l.startsWith("URL"))).toEqual(["URL:https://two.example"]);
    expect(out.some((l) => l.includes("SPOUSE") || l.includes("ANNIVERSARY"))).toBe(false);
  });

  test("an HTML body (BodyPreference 2) echoed back keeps the NOTE line as it was", () => {
    const html: CodecContext = { ...cx, body: { prefs: [{ type: 2 }], mimeSupport: 0 } };
    const card = CARD4.replace("CATEGORIES:Friends", "NOTE:line one\\n  <b>&amp\\; two  \r\nCATEGORIES:Friends");
    const shown = contactToEas(enc.encode(card), html).find((e) => e.name === "Body")!;
    expect(text(kid(shown, "AirSyncBase:Type"))).toBe("2");
    expect(dec.decode(contactFromEas(appData(...contactToEas(enc.encode(card), html)), enc.encode(card), html))).toBe(card);
  });

  test("a date before 1601 is not shown and survives a device change", () => {
    const card = CARD4.replace("BDAY:--0229", "BDAY:00010101");
    expect(fields(contactToEas(enc.encode(card), cx))["Contacts:Birthday"]).toBeUndefined();
    expect(lines(contactFromEas(appData(el("Contacts:FirstName", "Max")), enc.encode(card)))).toContain("BDAY:00010101");
  });

  test("a first business phone added before an existing second keeps both in their fields", () => {
    const card = CARD4.replace("TEL;VALUE=uri;TYPE=work:tel:+49-30-1234", "TEL;TYPE=work:+49 30 1\r\nTEL;TYPE=work:+49 30 2");
    const data = echo(card);
    expect(fields(kids(data))["Contacts:Business2PhoneNumber"]).toBe("+49 30 2");
    data.children = data.children.filter((k) => typeof k === "string" || k instanceof Uint8Array || k.name !== "BusinessPhoneNumber");
    data.children.push(el("Contacts:BusinessPhoneNumber", "+49 30 9"));
    const back = fields(contactToEas(contactFromEas(data, enc.encode(card)), cx));
    expect(back["Contacts:BusinessPhoneNumber"]).toBe("+49 30 9");
    expect(back["Contacts:Business2PhoneNumber"]).toBe("+49 30 2");
  });
});

describe("birthdays", () => {
  test("local midnight from UTC-10 to UTC+13, TbSync's 00:00Z and our own 10:00Z give the same date", () => {
    const d = Date.UTC(1980, 4, 15);
    for (let off = -10; off <= 13; off++) expect(birthdayDate(d - off * 3_600_000)).toBe("1980-05-15");
    for (const off of [5.5, 5.75, 9.5, 12.75, 13.75, -3.5, -9.5]) expect(birthdayDate(d - off * 3_600_000)).toBe("1980-05-15");
    expect(birthdayDate(Date.parse(easBirthday("1980-05-15")))).toBe("1980-05-15");
    // Our 10:00Z shows the same date on a device in any zone from UTC-10 to UTC+13.
    for (let off = -10; off <= 13; off++) expect(new Date(Date.parse(easBirthday("1980-05-15")) + off * 3_600_000).toISOString().slice(0, 10)).toBe("1980-05-15");
  });
});

/** Malformed device data: every case is EasDataError (Status 6) and nothing is produced. */
export const MALFORMED: [string, WElement][] = [
  ["invalid birthday", appData(el("Contacts:FirstName", "A"), el("Contacts:Birthday", "20261345T000000Z"))],
  ["Feb 30 anniversary", appData(el("Contacts:Anniversary", "2026-02-30T00:00:00.000Z"))],
  ["birthday text", appData(el("Contacts:Birthday", "yesterday"))],
  ["picture over 48 KB", appData(el("Contacts:Picture", "A".repeat(48 * 1024 + 4)))],
  ["50 MB picture", appData(el("Contacts:Picture", "A".repeat(50 * 1024 * 1024)))],
  ["picture not base64", appData(el("Contacts:Picture", "not*base64!"))],
  ["50 email elements", appData(...Array.from({ length: 50 }, (_, i) => el("Contacts:Email1Address", `a${i}@example.test`)))],
  ["several addresses in one email", appData(el("Contacts:Email1Address", "a@example.test, b@example.test"))],
  ["8 MB body", appData(el("AirSyncBase:Body", el("AirSyncBase:Type", 1), el("AirSyncBase:Data", "x".repeat(8 * 1024 * 1024))))],
  ["RTF body", appData(el("AirSyncBase:Body", el("AirSyncBase:Type", 3), el("AirSyncBase:Data", "e1xydGY=")))],
  ["NUL in a name", appData(el("Contacts:FirstName", "A\u0000B"))],
  ["huge name", appData(el("Contacts:LastName", "x".repeat(100_000)))],
  ["10,000 categories", appData(el("Contacts:Categories", Array.from({ length: 10_000 }, (_, i) => el("Contacts:Category", `c${i}`))))],
  ["1,000 children", appData(el("Contacts:Children", Array.from({ length: 1000 }, (_, i) => el("Contacts:Child", `k${i}`))))],
  ["5,000 elements", appData(...Array.from({ length: 5000 }, () => el("Contacts:Alias", "x")))],
];

describe("malformed device data", () => {
  for (const [name, data] of MALFORMED) {
    test(name, () => {
      for (const existing of [null, enc.encode(CARD3)]) {
        let err: unknown;
        try {
          contactFromEas(data, existing);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(EasDataError);
        expect((err as EasDataError).status).toBe(6);
      }
    });
  }

  test("a stored object that is not a vCard cannot be shown (the engine skips it)", () => {
    expect(() => contactToEas(enc.encode("BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"), cx)).toThrow();
  });
});
