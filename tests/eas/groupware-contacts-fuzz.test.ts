/**
 * Property tests of the contact converter with a seeded generator (the same
 * inputs every run): whatever a device sends is either refused with
 * EasDataError (Status 6) or stored as a valid vCard that reads back with
 * exactly the values sent; mangled stored cards never crash the reader.
 */
import { describe, expect, test } from "bun:test";
import { contactFromEas, contactToEas } from "../../protocols/http/eas/groupware/contact.ts";
import { EasDataError, type CodecContext } from "../../protocols/http/eas/groupware/codec.ts";
import { ADDRESS_KINDS, ADDRESS_PARTS, EMAIL_FIELDS, IM_FIELDS, NAME_FIELDS, PHONE_FIELDS, SIMPLE_FIELDS } from "../../protocols/http/eas/groupware/contact-fields.ts";
import { parseVCard } from "../../src/groupware/vcard/index.ts";
import { el, kids, text, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";
import type { Account } from "../../storage/api.ts";
import type { Logger } from "../../src/log.ts";

const enc = new TextEncoder();
const silent = { debug() {}, info() {}, warn() {}, error() {} } as unknown as Logger; // the codec does not log
const cx: CodecContext = { version: 141, account: { id: 1, email: "me@example.test" } as Account, body: { prefs: [{ type: 1 }], mimeSupport: 0 }, now: 0, log: silent };

/** mulberry32: a small deterministic generator. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TEXT = ["a", "Z", "0", " ", ";", ",", "\\", '"', "'", "<", ">", "=", ".", "-", "é", "中", "😀", "n", "\\n", "N", "\t", "&", "#"];
const SAFE = "abcdefghijklmnopqrstuvwxyz0123456789.-";

function str(r: () => number, alphabet: string[] | string, max: number): string {
  const n = 1 + Math.floor(r() * max);
  let s = "";
  for (let i = 0; i < n; i++) s += alphabet[Math.floor(r() * alphabet.length)]!;
  return s;
}

/** What the reader shows for a value the device sent. */
const norm = (field: string, v: string) => (field.endsWith("Street") ? v.replace(/\r\n|\r/g, "\n").trim() : v.replace(/\s*[\r\n]+\s*/g, " ").trim());

const BASE3 = ["BEGIN:VCARD", "VERSION:3.0", "UID:fuzz-3", "FN:Base", "N:Base;;;;", "EMAIL:old@example.test", "TEL;TYPE=HOME:1", "X-KEEP:1", "END:VCARD", ""].join("\r\n");
const BASE4 = ["BEGIN:VCARD", "VERSION:4.0", "UID:fuzz-4", "FN:Base", "TEL;VALUE=uri;TYPE=cell:tel:+1", "X-KEEP:1", "END:VCARD", ""].join("\r\n");

describe("device data round trip", () => {
  test("600 random contacts: stored as valid vCards that read back with the values sent, or Status 6", () => {
    const r = rng(16);
    const textFields = [...NAME_FIELDS, "Contacts:CompanyName", "Contacts:Department", ...Object.keys(SIMPLE_FIELDS).filter((f) => f !== "Contacts:WebPage"), ...ADDRESS_KINDS.flatMap((k) => ADDRESS_PARTS.map((p) => `Contacts:${k}Address${p}`))];
    let stored = 0;
    for (let i = 0; i < 600; i++) {
      const sent = new Map<string, string>();
      for (const f of textFields) if (r() < 0.3) sent.set(f, str(r, TEXT, 12));
      for (const f of EMAIL_FIELDS) if (r() < 0.4) sent.set(f, `${str(r, SAFE, 8)}@${str(r, SAFE, 8)}.example`);
      for (const f of Object.keys(PHONE_FIELDS)) if (r() < 0.2) sent.set(f, `+${str(r, "0123456789 -()", 12)}`);
      for (const f of IM_FIELDS) if (r() < 0.2) sent.set(f, `${str(r, SAFE, 8)}@im.example`);
      if (r() < 0.3) sent.set("Contacts:WebPage", `https://${str(r, SAFE, 10)}.example/${str(r, SAFE, 6)}`);
      const cats = r() < 0.3 ? Array.from({ length: 1 + Math.floor(r() * 4) }, () => str(r, TEXT, 8)) : [];
      if (r() < 0.05) sent.set("Contacts:Birthday", `${1900 + Math.floor(r() * 200)}-13-01T00:00:00Z`); // invalid: refused
      const data = el("AirSync:ApplicationData", [...sent].map(([k, v]) => el(k, v)), cats.length > 0 && el("Contacts:Categories", cats.map((c) => el("Contacts:Category", c))));
      const base = [null, enc.encode(BASE3), enc.encode(BASE4)][i % 3]!;
      let body: Uint8Array;
      try {
        body = contactFromEas(data, base, cx);
      } catch (e) {
        expect(e).toBeInstanceOf(EasDataError);
        expect(sent.has("Contacts:Birthday")).toBe(true);
        continue;
      }
      stored++;
      const card = parseVCard(body);
      if (base) {
        expect(card.uid).toBe(i % 3 === 1 ? "fuzz-3" : "fuzz-4");
        expect(new TextDecoder().decode(body)).toContain("X-KEEP:1");
      }
      const back = new Map<string, string>();
      const els = contactToEas(body, cx);
      for (const e of els) back.set(`${e.ns}:${e.name}`, text(e));
      // Email1..3 and IMAddress..3 are the first three EMAIL/IMPP lines in order: gaps close up.
      for (const group of [EMAIL_FIELDS, IM_FIELDS]) {
        expect(group.map((f) => back.get(f)).filter(Boolean)).toEqual(group.map((f) => sent.get(f)).filter(Boolean));
      }
      for (const [f, v] of sent) {
        if (EMAIL_FIELDS.includes(f) || IM_FIELDS.includes(f)) continue;
        const want = norm(f, v);
        // A second work/home number without a first is the first one when read back (vCard has no "second").
        const first = f === "Contacts:Business2PhoneNumber" ? "Contacts:BusinessPhoneNumber" : f === "Contacts:Home2PhoneNumber" ? "Contacts:HomePhoneNumber" : null;
        const shownAs = first && !sent.has(first) && !back.has(f) ? first : f;
        if (want) expect([f, back.get(shownAs)]).toEqual([f, want]);
      }
      const wantCats = [...new Set(cats.map((c) => norm("c", c)).filter(Boolean))];
      const gotCats = kids(els.find((e) => e.name === "Categories"), "Contacts:Category").map(text);
      expect(gotCats).toEqual(wantCats);
    }
    expect(stored).toBeGreaterThan(500);
  });
});

describe("mangled stored cards", () => {
  test("400 cards with lines cut, doubled, reordered or garbled: read without a crash", () => {
    const r = rng(61);
    const src = [BASE3, BASE4].map((c) => c.split("\r\n"));
    const junk = ["TEL;TYPE=\"a,b:c\";X=\"\":+1", "ADR:;;;;;;;;;;", "N:", "BDAY:--1399", "BDAY:20261345", "PHOTO;ENCODING=b:@@@", "PHOTO:data:,x", ";;;", ":", "EMAIL", "ORG:\\", "CATEGORIES:,,,", " folded-continuation", "item9.TEL:", "X-CHILD:", "IMPP:", "NOTE:\\"];
    for (let i = 0; i < 400; i++) {
      const lines = src[i % 2]!.slice();
      const ops = 1 + Math.floor(r() * 6);
      for (let k = 0; k < ops; k++) {
        const at = 1 + Math.floor(r() * (lines.length - 2));
        const op = r();
        if (op < 0.3) lines.splice(at, 0, junk[Math.floor(r() * junk.length)]!);
        else if (op < 0.5) lines.splice(at, 1);
        else if (op < 0.7) lines.splice(at, 0, lines[at]!);
        else lines[at] = (lines[at] ?? "").split("").reverse().join("");
      }
      const body = enc.encode(lines.join(i % 5 === 0 ? "\n" : "\r\n"));
      let els: WElement[];
      try {
        els = contactToEas(body, cx);
      } catch (e) {
        // Only a card whose BEGIN line was mangled is refused (the engine logs and skips it).
        expect(e).toBeInstanceOf(EasDataError);
        continue;
      }
      // A device echo onto the mangled card is stored or refused, never anything else.
      try {
        contactFromEas(el("AirSync:ApplicationData", els), body, cx);
      } catch (e) {
        expect(e).toBeInstanceOf(EasDataError);
      }
    }
  });
});
