/**
 * The contact model (src/groupware/model/contact.ts, contact-check.ts): a stored
 * vCard 3.0/4.0 read into ContactData and an edited shape merged back line by
 * line — untouched lines byte for byte, groups in both forms, photos in both
 * forms, limits, and hostile input answered with ContactError, never a crash
 * or a forged property.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { contactSummary, mergeContact, readContact, ContactError } from "../../src/groupware/model/contact.ts";
import { checkContactData, MAX_PHOTO_BYTES, photoFromDataUrl } from "../../src/groupware/model/contact-check.ts";
import { parseVCard } from "../../src/groupware/vcard/index.ts";
import type { ContactData } from "../../src/groupware/model/types.ts";

const FIX = join(import.meta.dir, "../fixtures/groupware/vcard");
const fixture = (name: string) => readFileSync(join(FIX, name), "utf8");

/** A tiny real PNG (1x1) and JPEG header, base64. */
const PNG = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000" + "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082", "hex");
const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0]), Buffer.alloc(200, 7), Buffer.from([0xff, 0xd9])]);
const dataUrl = (type: string, b: Buffer) => `data:${type};base64,${b.toString("base64")}`;

const APPLE_3 = [
  "BEGIN:VCARD",
  "VERSION:3.0",
  "PRODID:-//Apple Inc.//macOS 14.0//EN",
  "N:Müller;Hans;;Dr.;",
  "FN:Dr. Hans Müller",
  "ORG:ACME GmbH;Vertrieb;Nord",
  "item1.EMAIL;type=INTERNET;type=pref:hans@acme.example",
  "item1.X-ABLabel:_$!<Other>!$_",
  "EMAIL;type=INTERNET;type=HOME:hm@home.example",
  "TEL;type=CELL;type=VOICE;type=pref:+49 170 1234",
  "item2.ADR;type=WORK:;Geb. 4;Hauptstr. 1;Berlin;;10115;Germany",
  "item2.X-ABADR:de",
  "IMPP;X-SERVICE-TYPE=Jabber;type=HOME:xmpp:hans@jabber.example",
  "X-SOCIALPROFILE;type=twitter:https://twitter.example/hans",
  "BDAY;X-APPLE-OMIT-YEAR=1604:1604-05-12",
  "NOTE:A long note that certainly needs to be folded over more than one line\\, w",
  " ith an escaped comma.",
  "UID:0F0B8C2A-1111-2222-3333-444455556666",
  "REV:2026-01-01T00:00:00Z",
  "END:VCARD",
  "",
].join("\r\n");

const CARD_4 = [
  "BEGIN:VCARD",
  "VERSION:4.0",
  "UID:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
  "FN:Renée Dupont",
  "N:Dupont;Renée;;;",
  "EMAIL;TYPE=work;PREF=1:renee@example.fr",
  "TEL;VALUE=uri;TYPE=\"voice,home\":tel:+33-1-23-45-67-89",
  "RELATED;TYPE=friend:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6",
  "GEO:geo:48.85,2.35",
  "BDAY:--0203",
  "ANNIVERSARY:20090808",
  "X-CUSTOM;X-A=1:kept",
  "END:VCARD",
  "",
].join("\r\n");

/** The data as read, as a client would send it back (photo left out = keep). */
function echo(text: string): ContactData {
  const d = structuredClone(readContact(text).data);
  delete d.photo;
  return checkContactData(d);
}

function contactError(f: () => unknown): ContactError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ContactError);
    return e as ContactError;
  }
  throw new Error("expected a ContactError");
}

describe("reading", () => {
  test("vCard 3.0 (Apple): names, org, typed values, pref, no-year birthday, address parts", () => {
    const d = readContact(APPLE_3).data;
    expect(d).toMatchObject({ uid: "0F0B8C2A-1111-2222-3333-444455556666", kind: "individual", fullName: "Dr. Hans Müller", familyName: "Müller", givenName: "Hans", prefix: "Dr.", organization: "ACME GmbH", department: "Vertrieb", birthday: "--05-12" });
    expect(d.emails).toEqual([
      { type: "other", value: "hans@acme.example", pref: true }, // Apple's label of item1
      { type: "home", value: "hm@home.example", pref: false },
    ]);
    expect(d.phones).toEqual([{ type: "mobile", value: "+49 170 1234", pref: true }]);
    expect(d.addresses).toEqual([{ type: "work", street: "Hauptstr. 1", locality: "Berlin", region: "", postalCode: "10115", country: "Germany", pref: false }]);
    expect(d.notes).toBe("A long note that certainly needs to be folded over more than one line, with an escaped comma.");
    expect(d.photo).toBeNull();
  });

  test("vCard 4.0: PREF=1, tel: URI, --MMDD birthday, anniversary", () => {
    const d = readContact(CARD_4).data;
    expect(d.uid).toBe("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
    expect(d.emails).toEqual([{ type: "work", value: "renee@example.fr", pref: true }]);
    expect(d.phones).toEqual([{ type: "home", value: "+33-1-23-45-67-89", pref: false }]);
    expect(d.birthday).toBe("--02-03");
    expect(d.anniversary).toBe("2009-08-08");
  });

  test("the fixture cards of the vCard parser read without loss of their photo", () => {
    const three = readContact(fixture("contact-3.0.vcf"));
    expect(three.data.fullName).toBe("Dr. Jürgen Karl Müller");
    expect(three.data.emails.map((e) => e.value)).toEqual(["Juergen.Mueller@Example.COM", "jkm@home.example", "jkm-lists@lists.example"]);
    expect(readContact(fixture("contact-4.0.vcf")).data.fullName).not.toBe("");
  });

  test("summary: sortName 'Family, Given', lower-case unique emails, phones, photo and member flags", () => {
    const s = contactSummary(APPLE_3, { book: "Contacts", id: "x.vcf", etag: '"1"' });
    expect(s).toEqual({ book: "Contacts", id: "x.vcf", etag: '"1"', uid: "0F0B8C2A-1111-2222-3333-444455556666", kind: "individual", fullName: "Dr. Hans Müller", sortName: "Müller, Hans", organization: "ACME GmbH", emails: ["hans@acme.example", "hm@home.example"], phones: ["+49 170 1234"], hasPhoto: false, memberCount: 0 });
    const noN = contactSummary("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:a\r\nFN:Acme Support\r\nEND:VCARD\r\n", { book: "b", id: "i", etag: "e" });
    expect(noN.sortName).toBe("Acme Support");
  });
});

describe("round trips: an unchanged contact keeps every byte", () => {
  for (const [name, card] of [
    ["3.0 Apple", APPLE_3],
    ["4.0", CARD_4],
    ["3.0 fixture with photo", fixture("contact-3.0.vcf")],
    ["4.0 fixture", fixture("contact-4.0.vcf")],
  ] as const) {
    test(name, () => {
      expect(mergeContact(card, echo(card))).toBe(card);
    });
  }
});

describe("editing keeps what the shape does not describe", () => {
  test("3.0: change a phone, drop the labelled email, add a work phone, set a birthday: the other lines stay exactly", () => {
    const d = echo(APPLE_3);
    d.phones[0]!.value = "+49 170 9999";
    d.emails.shift();
    d.phones.push({ type: "work", value: "+49 30 1", pref: false });
    d.birthday = "1980-05-12";
    const out = mergeContact(APPLE_3, d);
    const lines = out.split("\r\n");
    for (const kept of ["PRODID:-//Apple Inc.//macOS 14.0//EN", "ORG:ACME GmbH;Vertrieb;Nord", "EMAIL;type=INTERNET;type=HOME:hm@home.example", "item2.ADR;type=WORK:;Geb. 4;Hauptstr. 1;Berlin;;10115;Germany", "item2.X-ABADR:de", "IMPP;X-SERVICE-TYPE=Jabber;type=HOME:xmpp:hans@jabber.example", "X-SOCIALPROFILE;type=twitter:https://twitter.example/hans"]) {
      expect(lines).toContain(kept);
    }
    expect(out).toContain("NOTE:A long note that certainly needs to be folded over more than one line\\, w\r\n ith an escaped comma.\r\n");
    // the removed email took its Apple label with it
    expect(out).not.toContain("hans@acme.example");
    expect(out).not.toContain("item1.X-ABLabel");
    // the changed phone kept its parameters; the new one follows it
    expect(out).toContain("TEL;TYPE=CELL;TYPE=VOICE;TYPE=pref:+49 170 9999\r\nTEL;TYPE=work:+49 30 1\r\n");
    expect(out).toContain("BDAY:1980-05-12");
    expect(out).not.toContain("REV:2026-01-01T00:00:00Z"); // REV says when it changed
    expect(readContact(out).data.phones.map((p) => p.value)).toEqual(["+49 170 9999", "+49 30 1"]);
    parseVCard(out);
  });

  test("4.0: new email type and preference, RELATED/GEO/X- untouched, dates in basic format", () => {
    const d = echo(CARD_4);
    d.emails[0] = { type: "home", value: "renee@example.fr", pref: false };
    d.emails.push({ type: "work", value: "r.dupont@corp.example", pref: true });
    d.birthday = "--12-24";
    d.anniversary = "";
    const out = mergeContact(CARD_4, d);
    expect(out).toContain("EMAIL;TYPE=home:renee@example.fr\r\nEMAIL;TYPE=work;PREF=1:r.dupont@corp.example\r\n");
    expect(out).toContain("RELATED;TYPE=friend:urn:uuid:f81d4fae-7dec-11d0-a765-00a0c91e6bf6\r\n");
    expect(out).toContain("GEO:geo:48.85,2.35\r\n");
    expect(out).toContain("X-CUSTOM;X-A=1:kept\r\n");
    expect(out).toContain("TEL;VALUE=uri;TYPE=\"voice,home\":tel:+33-1-23-45-67-89\r\n");
    expect(out).toContain("BDAY:--1224\r\n");
    expect(out).not.toContain("ANNIVERSARY");
  });

  test("a new 3.0 contact: N required, email typed INTERNET, no-year birthday the Apple way, text escaped", () => {
    const out = mergeContact(null, checkContactData({ givenName: "Ann", familyName: "Lee", emails: [{ type: "work", value: "ann@x.example", pref: true }], birthday: "--03-04", notes: "a;b,c\nd", categories: ["VIP", "a,b"] }));
    const d = readContact(out).data;
    expect(out).toContain("VERSION:3.0\r\n");
    expect(out).toContain("FN:Ann Lee\r\n");
    expect(out).toContain("N:Lee;Ann;;;\r\n");
    expect(out).toContain("EMAIL;TYPE=internet,work,pref:ann@x.example\r\n");
    expect(out).toContain("BDAY;X-APPLE-OMIT-YEAR=1604:1604-03-04\r\n");
    expect(out).toContain("NOTE:a\\;b\\,c\\nd\r\n");
    expect(d).toMatchObject({ fullName: "Ann Lee", birthday: "--03-04", notes: "a;b,c\nd", categories: ["VIP", "a,b"] });
    expect(parseVCard(out).uid).toBe(d.uid);
  });

  test("a card stored with LF line ends gets LF lines", () => {
    const lf = "BEGIN:VCARD\nVERSION:3.0\nUID:lf-1\nFN:Lf Person\nN:Person;Lf;;;\nEND:VCARD\n";
    const d = echo(lf);
    d.jobTitle = "Engineer";
    const out = mergeContact(lf, d);
    expect(out).toBe("BEGIN:VCARD\nVERSION:3.0\nUID:lf-1\nFN:Lf Person\nN:Person;Lf;;;\nTITLE:Engineer\nEND:VCARD\n");
  });

  test("the stored UID stays whatever the data says", () => {
    const d = echo(CARD_4);
    d.uid = "something-else";
    d.jobTitle = "x";
    expect(readContact(mergeContact(CARD_4, d)).data.uid).toBe("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
  });
});

describe("what another client wrote is sent back as it is", () => {
  const odd = [
    "BEGIN:VCARD",
    "VERSION:3.0",
    "UID:odd-1",
    `FN:${"Long Name ".repeat(40).trim()}`,
    "EMAIL:not-an-address",
    ...Array.from({ length: 60 }, (_, i) => `EMAIL;TYPE=INTERNET:many${i}@x.example`),
    'TEL;TYPE="my phone":+1 555',
    "item7.EMAIL:list@lists.example",
    "item7.X-ABLabel:Mailing Lists!",
    "NOTE:" + "n".repeat(40_000),
    "END:VCARD",
    "",
  ].join("\r\n");

  test("values breaking the rules for new input pass when the card already has them", () => {
    const d = structuredClone(readContact(odd).data);
    delete d.photo;
    expect(d.emails.length).toBe(62);
    expect(d.phones[0]).toEqual({ type: "", value: "+1 555", pref: false });
    expect(d.emails[61]).toEqual({ type: "mailing-lists", value: "list@lists.example", pref: false });
    contactError(() => checkContactData(d)); // as new input: too long, too many, not an address
    const ok = checkContactData(d, readContact(odd).data);
    expect(mergeContact(odd, ok)).toBe(odd);
    // an edit elsewhere leaves those lines alone
    ok.jobTitle = "Tester";
    const out = mergeContact(odd, ok);
    expect(out).toContain("EMAIL:not-an-address\r\n");
    expect(out).toContain('TEL;TYPE="my phone":+1 555\r\n');
    expect(out).toContain("item7.EMAIL:list@lists.example\r\nitem7.X-ABLabel:Mailing Lists!\r\n");
    // a new bad value is still refused
    const bad = structuredClone(ok);
    bad.emails.push({ type: "", value: "also not an address", pref: false });
    contactError(() => checkContactData(bad, readContact(odd).data));
  });

  test("an Apple label keeps its line when the value is edited", () => {
    const d = checkContactData(structuredClone({ ...readContact(odd).data, photo: undefined }), readContact(odd).data);
    d.emails[61]!.value = "new-list@lists.example";
    const out = mergeContact(odd, d);
    expect(out).toContain("item7.EMAIL:new-list@lists.example\r\nitem7.X-ABLabel:Mailing Lists!\r\n");
  });
});

describe("groups", () => {
  test("4.0 KIND:group with MEMBER urn:uuid and mailto (RFC 6350 §6.1.4, §6.6.5)", () => {
    const out = mergeContact(null, checkContactData({ kind: "group", fullName: "Team", members: ["4fbe8971-0bc3-424c-9c26-36c3e1eff6b1", "mailto:ext@partner.example"] }), { version: "4.0" });
    expect(out).toContain("KIND:group\r\n");
    expect(out).toContain("MEMBER:urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1\r\nMEMBER:mailto:ext@partner.example\r\n");
    expect(out).toMatch(/^UID:urn:uuid:[0-9a-f-]{36}\r$/m);
    const d = readContact(out).data;
    expect(d.kind).toBe("group");
    expect(d.members).toEqual(["urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1", "mailto:ext@partner.example"]);
    expect(contactSummary(out, { book: "b", id: "g", etag: "e" }).memberCount).toBe(2);
  });

  test("3.0 Apple form X-ADDRESSBOOKSERVER-KIND/MEMBER; removing one member keeps the other lines", () => {
    const apple = "BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iOS 17//EN\r\nN:Friends;;;;\r\nFN:Friends\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:A\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:B\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:C\r\nUID:G1\r\nEND:VCARD\r\n";
    const d = echo(apple);
    expect(d.kind).toBe("group");
    expect(d.members).toEqual(["urn:uuid:A", "urn:uuid:B", "urn:uuid:C"]);
    expect(mergeContact(apple, d)).toBe(apple);
    d.members = ["urn:uuid:A", "urn:uuid:C", "D"];
    const out = mergeContact(apple, d);
    expect(out).toBe("BEGIN:VCARD\r\nVERSION:3.0\r\nPRODID:-//Apple Inc.//iOS 17//EN\r\nN:Friends;;;;\r\nFN:Friends\r\nX-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:A\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:C\r\nX-ADDRESSBOOKSERVER-MEMBER:urn:uuid:D\r\nUID:G1\r\nEND:VCARD\r\n");
  });

  test("a new 3.0 group is written in Apple's form; a 4.0 KIND read in a 3.0 card is understood", () => {
    const out = mergeContact(null, checkContactData({ kind: "group", fullName: "Board", members: ["mailto:x@y.example"] }));
    expect(out).toContain("X-ADDRESSBOOKSERVER-KIND:group\r\nX-ADDRESSBOOKSERVER-MEMBER:mailto:x@y.example\r\n");
    const mixed = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:m\r\nFN:M\r\nKIND:group\r\nMEMBER:urn:uuid:z\r\nEND:VCARD\r\n";
    expect(readContact(mixed).data).toMatchObject({ kind: "group", members: ["urn:uuid:z"] });
  });

  test("a group needs a name; members of an individual are dropped", () => {
    contactError(() => mergeContact(null, checkContactData({ kind: "group", members: ["a"] })));
    expect(checkContactData({ fullName: "x", members: ["a"] }).members).toEqual([]);
  });
});

describe("photos", () => {
  test("3.0: ENCODING=b;TYPE=PNG written, read back as a data: URL; the type comes from the bytes", () => {
    const out = mergeContact(null, checkContactData({ fullName: "P", photo: dataUrl("image/png", PNG) }));
    expect(out).toContain("PHOTO;ENCODING=b;TYPE=PNG:iVBORw0KGgo");
    for (const l of out.split("\r\n")) expect(Buffer.byteLength(l)).toBeLessThanOrEqual(75); // folded (RFC 6350 §3.2)
    const r = readContact(out);
    expect(r.data.photo).toBe(dataUrl("image/png", PNG));
    expect(r.photo?.type).toBe("image/png");
    expect(contactSummary(out, { book: "b", id: "i", etag: "e" }).hasPhoto).toBe(true);
    // declared JPEG, really a PNG: stored as what it is
    expect(photoFromDataUrl(dataUrl("image/jpeg", PNG)).type).toBe("image/png");
  });

  test("4.0: a data: URI; replacing and removing", () => {
    const d = echo(CARD_4);
    d.photo = dataUrl("image/jpeg", JPEG);
    const withPhoto = mergeContact(CARD_4, d);
    expect(withPhoto.replace(/\r\n /g, "")).toContain(`PHOTO:data:image/jpeg;base64,${JPEG.toString("base64")}`);
    expect(readContact(withPhoto).data.photo).toBe(dataUrl("image/jpeg", JPEG));
    const unchanged = echo(withPhoto);
    expect(mergeContact(withPhoto, unchanged)).toBe(withPhoto);
    const gone = echo(withPhoto);
    gone.photo = null;
    expect(mergeContact(withPhoto, gone)).not.toContain("PHOTO");
  });

  test("refused: SVG, HTML, not base64, bytes that are no image, too large", () => {
    contactError(() => checkContactData({ fullName: "x", photo: "data:image/svg+xml;base64," + Buffer.from("<svg onload=alert(1)>").toString("base64") }));
    contactError(() => checkContactData({ fullName: "x", photo: "data:text/html;base64,PGI+" }));
    contactError(() => checkContactData({ fullName: "x", photo: "data:image/png;base64,***" }));
    contactError(() => checkContactData({ fullName: "x", photo: dataUrl("image/png", Buffer.from("GIF-not-really")) }));
    contactError(() => checkContactData({ fullName: "x", photo: "https://evil.example/x.png" }));
    const big = Buffer.concat([PNG, Buffer.alloc(MAX_PHOTO_BYTES)]);
    expect(contactError(() => checkContactData({ fullName: "x", photo: dataUrl("image/png", big) })).message).toMatch(/too large/);
  });

  test("the largest allowed photo still fits the 1 MiB card limit", () => {
    const max = Buffer.concat([JPEG.subarray(0, 3), Buffer.alloc(MAX_PHOTO_BYTES - 3, 1)]);
    const out = mergeContact(null, checkContactData({ fullName: "Big", notes: "n".repeat(30_000), photo: dataUrl("image/jpeg", max) }));
    expect(parseVCard(out).uid).toBeTruthy();
  });
});

describe("hostile and malformed input", () => {
  test("a line break in a one-line field is refused; in notes it is escaped, never a new property", () => {
    contactError(() => checkContactData({ fullName: "Eve\r\nEMAIL:evil@x.example" }));
    contactError(() => checkContactData({ fullName: "Eve", emails: [{ type: "", value: "a@b\nTEL:1", pref: false }] }));
    contactError(() => checkContactData({ fullName: "Eve", phones: [{ type: "x\nEMAIL", value: "1", pref: false }] }));
    const out = mergeContact(null, checkContactData({ fullName: "Eve", notes: "hi\r\nEMAIL:evil@x.example\r\nEND:VCARD\r\nBEGIN:VCARD" }));
    expect(readContact(out).data.emails).toEqual([]);
    expect(out.match(/^END:VCARD/gm)?.length).toBe(1);
    expect(readContact(out).data.notes).toBe("hi\nEMAIL:evil@x.example\nEND:VCARD\nBEGIN:VCARD");
  });

  test("limits: 50 values, field lengths, categories, members", () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => ({ type: "", value: `a${i}@x.example`, pref: false }));
    expect(checkContactData({ fullName: "x", emails: many(50) }).emails.length).toBe(50);
    contactError(() => checkContactData({ fullName: "x", emails: many(51) }));
    contactError(() => checkContactData({ fullName: "x", phones: Array.from({ length: 51 }, () => ({ value: "1" })) }));
    contactError(() => checkContactData({ fullName: "x".repeat(257) }));
    contactError(() => checkContactData({ fullName: "x", notes: "n".repeat(40_000) }));
    contactError(() => checkContactData({ fullName: "x", categories: Array.from({ length: 51 }, (_, i) => `c${i}`) }));
    contactError(() => checkContactData({ kind: "group", fullName: "x", members: Array.from({ length: 1001 }, (_, i) => `m${i}`) }));
  });

  test("wrong types and shapes are ContactErrors with words", () => {
    for (const bad of [null, 1, "x", [], { fullName: 5 }, { kind: "robot" }, { emails: "a@b" }, { emails: [5] }, { emails: [{ value: "not an address" }] }, { birthday: "1980-02-30" }, { birthday: "yesterday" }, { anniversary: "--13-01" }, { photo: 7 }, { emails: [{ value: "a@b.example", pref: "yes" }] }, { kind: "group", fullName: "g", members: [{}] }, { kind: "group", members: ["has space"] }, { kind: "group", members: ["mailto:nobody"] }, { urls: [{ value: "http://a b" }] }, { emails: [{ value: "a@b.example", type: "home work" }] }]) {
      const e = contactError(() => checkContactData(bad));
      expect(e.message.length).toBeGreaterThan(5);
    }
    contactError(() => mergeContact(null, checkContactData({}))); // nothing to call it
  });

  test("a stored object that is no vCard is a ContactError; odd cards read without throwing", () => {
    contactError(() => readContact("hello"));
    contactError(() => readContact(new Uint8Array([0xff, 0xfe, 0, 1])));
    const odd = "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:o\r\nFN:Odd\r\nEMAIL\r\nTEL;;;;:\r\nN:;;;;;;;;\r\nBDAY;VALUE=text:circa 1800\r\nPHOTO;VALUE=uri:http://x.example/p.jpg\r\nPHOTO;ENCODING=b:!!!!\r\nADR:\r\nCATEGORIES:,,,\r\nEND:VCARD\r\n";
    const d = readContact(odd).data;
    expect(d.fullName).toBe("Odd");
    expect(d.birthday).toBe("");
    expect(d.photo).toBeNull();
    // echoing it back changes nothing (the unreadable birthday and URI photo are kept)
    expect(mergeContact(odd, echo(odd))).toBe(odd);
  });

  test("random bytes never crash the reader", () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 256);
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: 300 }, rnd)).toString("latin1");
      const text = `BEGIN:VCARD\r\nVERSION:3.0\r\n${junk}\r\nEND:VCARD\r\n`;
      try {
        const d = readContact(text).data;
        expect(typeof d.fullName).toBe("string");
      } catch (e) {
        expect(e).toBeInstanceOf(ContactError);
      }
    }
  });
});
