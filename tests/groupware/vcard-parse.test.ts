/**
 * vCard 3.0/4.0 (src/groupware/vcard): indexed fields, photos and unknown
 * properties untouched, the malformed corpus, import splitting.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { VCardError, parseVCard, splitVCards } from "../../src/groupware/vcard/index.ts";

const FIX = join(import.meta.dir, "../fixtures/groupware/vcard");
const text = (name: string) => readFileSync(join(FIX, name), "utf8");

function err(f: () => unknown): VCardError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(VCardError);
    return e as VCardError;
  }
  throw new Error("expected a VCardError");
}

describe("vCard 3.0", () => {
  const c = () => parseVCard(readFileSync(join(FIX, "contact-3.0.vcf")));

  test("fields: FN, sort name from N, lower-case emails incl. the grouped one, phones, org", () => {
    const x = c();
    expect(x.version).toBe("3.0");
    expect(x.uid).toBe("6B29FC40-CA47-1067-B31D-00DD010662DA");
    expect(x.fields).toEqual({
      uid: "6B29FC40-CA47-1067-B31D-00DD010662DA",
      fullName: "Dr. J\u00fcrgen Karl M\u00fcller",
      sortName: "M\u00fcller J\u00fcrgen",
      emails: ["juergen.mueller@example.com", "jkm@home.example", "jkm-lists@lists.example"],
      phones: ["+49 170 1234567", "+49 30 123456-0", "+49 30 7654321"],
      org: "Example GmbH",
    });
    expect(x.warnings).toEqual([]);
  });

  test("folded lines, the base64 PHOTO and X- properties are read intact", () => {
    const x = c();
    expect(x.root.getFirstPropertyValue("note")).toBe(
      "A note long enough to be folded over several lines, with an escaped comma and some more words so that it really needs folding twice over.",
    );
    const photo = x.root.getFirstProperty("photo")!;
    const raw = text("contact-3.0.vcf");
    const b64 = raw.slice(raw.indexOf("PHOTO;")).split("\r\n").reduce((acc, l, i) => (i === 0 ? l : l.startsWith(" ") && !acc.endsWith("\u0000") ? acc + l.slice(1) : acc + "\u0000"), "").split("\u0000")[0]!;
    expect(String(photo.getFirstValue())).toBe(b64.slice(b64.indexOf(":") + 1));
    expect(Buffer.from(String(photo.getFirstValue()), "base64").subarray(0, 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    expect(x.root.getFirstPropertyValue("x-pillarbox-test")).toBe("unknown properties survive");
    expect(x.root.getFirstProperty("x-pillarbox-test")!.getParameter("x-param")).toBe("kept");
  });

  test("Uint8Array and string bodies read the same", () => {
    expect(parseVCard(text("contact-3.0.vcf")).fields).toEqual(c().fields);
  });
});

describe("vCard 4.0", () => {
  test("SORT-AS, tel: URIs, the data: URI photo", () => {
    const x = parseVCard(readFileSync(join(FIX, "contact-4.0.vcf")));
    expect(x.version).toBe("4.0");
    expect(x.fields).toEqual({
      uid: "urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
      fullName: "Anna van der Berg",
      sortName: "Berg Anna",
      emails: ["anna@example.org", "anna.berg@mail.example"],
      phones: ["+31-6-12345678", "+31-20-5550100;ext=12"],
      org: "Berg & Zonen",
    });
    expect(String(x.root.getFirstPropertyValue("photo"))).toMatch(/^data:image\/png;base64,iVBORw0KGg/);
  });

  test("a card without N sorts by FN", () => {
    const x = parseVCard("BEGIN:VCARD\r\nVERSION:4.0\r\nUID:u\r\nFN:Only Full Name\r\nEND:VCARD\r\n");
    expect(x.fields.sortName).toBe("Only Full Name");
    expect(x.fields.emails).toEqual([]);
  });

  test("a card without FN is kept with a warning", () => {
    const x = parseVCard("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:u\r\nN:Doe;Jane;;;\r\nEND:VCARD\r\n");
    expect(x.fields).toMatchObject({ fullName: "", sortName: "Doe Jane" });
    expect(x.warnings.join("\n")).toContain("no FN");
  });
});

describe("malformed corpus", () => {
  const cases: Record<string, [VCardError["code"], RegExp]> = {
    "vcard-2.1.vcf": ["INVALID_DATA", /vCard 2\.1 is not supported: send vCard 3\.0 or 4\.0/],
    "no-uid.vcf": ["INVALID_OBJECT", /no UID/],
    "no-end.vcf": ["INVALID_DATA", /END:VCARD is missing/],
    "two-cards.vcf": ["INVALID_OBJECT", /several vCards in one resource/],
    "no-version.vcf": ["INVALID_DATA", /no VERSION/],
    "bad-line.vcf": ["INVALID_DATA", /not a valid vCard/],
    "not-a-vcard.vcf": ["INVALID_DATA", /must begin with BEGIN:VCARD/],
    "nested.vcf": ["INVALID_DATA", /nested|not a valid vCard/],
    "garbage.bin": ["INVALID_DATA", /NUL bytes|must begin with BEGIN:VCARD/],
  };
  test("the corpus has a case for every file", () => {
    expect(readdirSync(join(FIX, "malformed")).sort()).toEqual(Object.keys(cases).sort());
  });
  for (const [file, [code, msg]] of Object.entries(cases)) {
    test(file, () => {
      const e = err(() => parseVCard(readFileSync(join(FIX, "malformed", file))));
      expect(e.code).toBe(code);
      expect(e.message).toMatch(msg);
    });
  }

  test("over 1 MiB, over 1,000 properties", () => {
    const big = `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nNOTE:${"x".repeat(1 << 20)}\r\nEND:VCARD\r\n`;
    expect(err(() => parseVCard(big)).message).toContain("larger than");
    expect(err(() => parseVCard(new TextEncoder().encode(big))).message).toContain("larger than");
    const many = `BEGIN:VCARD\r\nVERSION:3.0\r\nUID:x\r\nFN:x\r\n${"EMAIL:a@b.c\r\n".repeat(1001)}END:VCARD\r\n`;
    expect(err(() => parseVCard(many)).message).toContain("1000 properties");
  });

  test("truncated at every position: a VCardError or a parse, never anything else", () => {
    const t = text("contact-4.0.vcf");
    for (let n = 0; n < t.length; n += 5) {
      try {
        parseVCard(t.slice(0, n));
      } catch (e) {
        expect(e).toBeInstanceOf(VCardError);
      }
    }
  });
});

describe("splitVCards (import)", () => {
  test("byte-exact slices in file order, cards without UID included (the importer gives them one)", () => {
    const all = text("addressbook.vcf");
    const r = splitVCards(all);
    expect(r.errors).toEqual([]);
    expect(r.cards).toHaveLength(3);
    expect(r.cards[0]).toBe(text("contact-3.0.vcf"));
    expect(r.cards[1]).toBe(text("contact-4.0.vcf"));
    expect(r.cards.join("")).toBe(all);
    expect(parseVCard(r.cards[1]!).uid).toBe("urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1");
  });

  test("junk between cards and an unterminated last card are reported", () => {
    const r = splitVCards("garbage line\nBEGIN:VCARD\nVERSION:3.0\nUID:a\nEND:VCARD\nmore junk\nBEGIN:VCARD\nVERSION:3.0\nUID:b\n");
    expect(r.cards).toEqual(["BEGIN:VCARD\nVERSION:3.0\nUID:a\nEND:VCARD\n"]);
    expect(r.errors).toEqual(["line 1: text outside BEGIN:VCARD/END:VCARD ignored", "line 6: text outside BEGIN:VCARD/END:VCARD ignored", "line 7: the card is not terminated (END:VCARD missing)"]);
  });

  test("a last card without a final line end, lower-case markers, a BOM", () => {
    const r = splitVCards("\ufeffbegin:vcard\r\nVERSION:3.0\r\nUID:a\r\nend:vcard");
    expect(r.cards).toEqual(["begin:vcard\r\nVERSION:3.0\r\nUID:a\r\nend:vcard"]);
    expect(r.errors).toEqual([]);
  });
});
