/**
 * Where each MS-ASCNTC element lives in a vCard, and what a stored card
 * shows for it: `readCard` maps a card's lines to the EAS fields (with the
 * index of the line each value came from), used by both directions of the
 * contact converter (contact.ts).
 *
 * Several EAS fields are slots over repeatable vCard properties: the first
 * three EMAILs are Email1..3Address, TELs are sorted into the phone fields
 * by their TYPE, ADRs into Business/Home/Other by TYPE, the first three
 * IMPP (or X-AIM, X-JABBER...) lines are IMAddress..3. A property left over
 * (a fourth EMAIL, a second mobile) has no EAS field: the device never sees
 * it and a device change never touches it.
 */
import { paramValues, splitList, splitStructured, unescapeText, type Line } from "../../../../src/groupware/vcard/lines.ts";

/**
 * MS-ASCNTC §2.2.2.58: the Picture element carries at most 48 KB of
 * base64 text; more from a device is Status 6. A stored photo above it is
 * not sent (the device could not take it), and is then kept whatever the
 * device sends, since the device never saw it.
 */
export const MAX_PICTURE_BASE64 = 48 * 1024;

/** One-line text fields: EAS element -> vCard property names (the first is the one written for a new value). */
export const SIMPLE_FIELDS: Record<string, string[]> = {
  "Contacts:JobTitle": ["TITLE"],
  "Contacts:WebPage": ["URL"],
  "Contacts2:NickName": ["NICKNAME"],
  // No vCard property for these: the names Evolution and KAddressBook write are read too.
  "Contacts:Spouse": ["X-SPOUSE", "X-EVOLUTION-SPOUSE", "X-KADDRESSBOOK-X-SPOUSENAME"],
  "Contacts:AssistantName": ["X-ASSISTANT", "X-EVOLUTION-ASSISTANT", "X-KADDRESSBOOK-X-ASSISTANTSNAME"],
  "Contacts2:ManagerName": ["X-MANAGER", "X-EVOLUTION-MANAGER", "X-KADDRESSBOOK-X-MANAGERSNAME"],
  "Contacts:OfficeLocation": ["X-OFFICE-LOCATION", "X-KADDRESSBOOK-X-OFFICE"],
  // Apple's phonetic names (what iOS Contacts shows as phonetic first/last name and company).
  "Contacts:YomiFirstName": ["X-PHONETIC-FIRST-NAME"],
  "Contacts:YomiLastName": ["X-PHONETIC-LAST-NAME"],
  "Contacts:YomiCompanyName": ["X-PHONETIC-ORG"],
  "Contacts2:CustomerId": ["X-CUSTOMER-ID"],
  "Contacts2:GovernmentId": ["X-GOVERNMENT-ID"],
  "Contacts2:AccountName": ["X-ACCOUNT-NAME"],
};

/** Date fields: vCard 4.0 has ANNIVERSARY (RFC 6350 §6.2.6); 3.0 has none, X-ANNIVERSARY is written there. */
export const DATE_FIELDS: Record<string, { v3: string[]; v4: string[] }> = {
  "Contacts:Birthday": { v3: ["BDAY"], v4: ["BDAY"] },
  "Contacts:Anniversary": {
    v3: ["X-ANNIVERSARY", "ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-KADDRESSBOOK-X-ANNIVERSARY"],
    v4: ["ANNIVERSARY", "X-ANNIVERSARY", "X-EVOLUTION-ANNIVERSARY", "X-KADDRESSBOOK-X-ANNIVERSARY"],
  },
};

/** N components (RFC 6350 §6.2.2: family; given; additional; prefixes; suffixes). */
export const NAME_FIELDS = ["Contacts:LastName", "Contacts:FirstName", "Contacts:MiddleName", "Contacts:Title", "Contacts:Suffix"];

export const EMAIL_FIELDS = ["Contacts:Email1Address", "Contacts:Email2Address", "Contacts:Email3Address"];

export const IM_FIELDS = ["Contacts2:IMAddress", "Contacts2:IMAddress2", "Contacts2:IMAddress3"];
/** IMPP (RFC 6350 §6.4.3, RFC 4770 for 3.0) and the older per-service X- properties. */
export const IM_PROPERTIES = ["IMPP", "X-AIM", "X-JABBER", "X-ICQ", "X-MSN", "X-YAHOO", "X-SKYPE", "X-SKYPE-USERNAME", "X-GOOGLE-TALK", "X-GTALK", "X-QQ", "X-GADUGADU", "X-TWITTER"];

/** Phone fields and the TYPE written for a new number of that field. */
export const PHONE_FIELDS: Record<string, string[]> = {
  "Contacts:BusinessPhoneNumber": ["work", "voice"],
  "Contacts:Business2PhoneNumber": ["work", "voice"],
  "Contacts:HomePhoneNumber": ["home", "voice"],
  "Contacts:Home2PhoneNumber": ["home", "voice"],
  "Contacts:MobilePhoneNumber": ["cell"],
  "Contacts:BusinessFaxNumber": ["work", "fax"],
  "Contacts:HomeFaxNumber": ["home", "fax"],
  "Contacts:PagerNumber": ["pager"],
  "Contacts:CarPhoneNumber": ["car"],
  // No vCard TYPE exists for these four (RFC 6350 §6.4.1): x-name types (RFC 6350 §5.6 allows them).
  "Contacts:RadioPhoneNumber": ["x-radio"],
  "Contacts:AssistantPhoneNumber": ["x-assistant"],
  "Contacts2:CompanyMainPhone": ["work", "x-company-main"],
  "Contacts2:MMS": ["x-mms"],
};

/** The fields a TEL may fill, first free one wins, by its TYPE values. */
function phoneCandidates(types: string[]): string[] {
  const has = (...t: string[]) => t.some((x) => types.includes(x));
  if (has("x-mms", "mms")) return ["Contacts2:MMS"];
  if (has("x-radio", "radio")) return ["Contacts:RadioPhoneNumber"];
  if (has("x-assistant", "assistant")) return ["Contacts:AssistantPhoneNumber"];
  if (has("x-company-main", "company", "main")) return ["Contacts2:CompanyMainPhone"];
  if (has("car")) return ["Contacts:CarPhoneNumber"];
  if (has("pager")) return ["Contacts:PagerNumber"];
  if (has("fax")) {
    if (has("work")) return ["Contacts:BusinessFaxNumber"];
    if (has("home")) return ["Contacts:HomeFaxNumber"];
    return ["Contacts:HomeFaxNumber", "Contacts:BusinessFaxNumber"];
  }
  if (has("cell", "mobile", "iphone")) return ["Contacts:MobilePhoneNumber"];
  if (has("work")) return ["Contacts:BusinessPhoneNumber", "Contacts:Business2PhoneNumber"];
  // home, voice, pref, other or no TYPE at all: a plain number shows as a home number.
  return ["Contacts:HomePhoneNumber", "Contacts:Home2PhoneNumber"];
}

export const ADDRESS_KINDS = ["Business", "Home", "Other"] as const;
export type AddressKind = (typeof ADDRESS_KINDS)[number];
/** ADR components 2..6 (RFC 6350 §6.3.1: PO box; extended; street; locality; region; code; country). */
export const ADDRESS_PARTS = ["Street", "City", "State", "PostalCode", "Country"] as const;

function addressKind(types: string[]): AddressKind {
  if (types.includes("work")) return "Business";
  if (types.includes("home")) return "Home";
  return "Other";
}

export interface Slot {
  /** Index in the card's lines. */
  line: number;
  value: string;
}

export interface AddressSlot {
  line: number;
  parts: string[]; // Street, City, State, PostalCode, Country
}

export interface Photo {
  line: number;
  /** Base64 without white space, "" when the line holds no inline image (a URI). */
  base64: string;
}

export interface CardView {
  version: "3.0" | "4.0";
  fn: Slot | null;
  /** N: the line and its five components. */
  n: { line: number; parts: string[] } | null;
  org: { line: number; parts: string[] } | null;
  simple: Map<string, Slot>;
  /** Date fields as "YYYY-MM-DD" (year 1604 when the card has no year, Outlook's convention). */
  dates: Map<string, Slot>;
  /** Lines of date properties that could not be read (never removed by a device's absent element). */
  unreadableDates: Set<string>;
  emails: Slot[];
  phones: Map<string, Slot>;
  addresses: Map<AddressKind, AddressSlot>;
  ims: Slot[];
  categories: { lines: number[]; values: string[] };
  children: { lines: number[]; values: string[] };
  photo: Photo | null;
  note: Slot | null;
}

export function first(line: Line): string {
  return splitList(line.value)[0] ?? "";
}

/** A card date value as YYYY-MM-DD: 4.0 "19800515", "--0515" (no year), 3.0 "1980-05-15", with or without a time. */
export function cardDate(line: Line): string | null {
  if (paramValues(line, "VALUE").includes("text")) return null;
  const v = line.value.trim();
  let m = /^(\d{4})-?(\d{2})-?(\d{2})(?:T.*)?$/.exec(v);
  if (m) return validDate(m[1]!, m[2]!, m[3]!);
  m = /^--(\d{2})-?(\d{2})$/.exec(v);
  if (m) return validDate("1604", m[1]!, m[2]!);
  return null;
}

function validDate(y: string, mo: string, d: string): string | null {
  // EAS dates start in 1601 (MS-ASDTYPE dateTime); an older one is not shown, and so never removed by the device.
  if (Number(y) < 1601) return null;
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d));
  const back = new Date(t);
  if (back.getUTCFullYear() !== Number(y) || back.getUTCMonth() !== Number(mo) - 1 || back.getUTCDate() !== Number(d)) return null;
  return `${y}-${mo}-${d}`;
}

/** A TEL value shown to a device: a `tel:` URI (4.0 VALUE=uri) without its scheme. */
export function phoneText(line: Line): string {
  return unescapeText(line.value).replace(/^tel:/i, "").trim();
}

/** An IM value shown to a device: IMPP's URI without its scheme (xmpp:, aim:, sip:...). */
export function imText(line: Line): string {
  const v = unescapeText(line.value).trim();
  return line.name === "IMPP" ? v.replace(/^[a-z][a-z0-9+.-]*:/i, "") : v;
}

export function emailText(line: Line): string {
  return unescapeText(line.value).trim().replace(/^mailto:/i, "");
}

/** Inline image of a PHOTO line: 3.0 `ENCODING=b` (or BASE64) or a 4.0 `data:` URI. */
function photoOf(line: Line, index: number): Photo {
  const v = line.value.replace(/\s+/g, "");
  const data = /^data:[^,]*;base64,(.*)$/i.exec(v);
  if (data) return { line: index, base64: data[1]! };
  const encoding = paramValues(line, "ENCODING");
  if (encoding.includes("b") || encoding.includes("base64")) return { line: index, base64: v };
  return { line: index, base64: "" };
}

const SIMPLE_BY_NAME = new Map<string, string>(Object.entries(SIMPLE_FIELDS).flatMap(([field, names]) => names.map((n): [string, string] => [n, field])));
const DATE_BY_NAME_3 = new Map<string, string>(Object.entries(DATE_FIELDS).flatMap(([field, n]) => n.v3.map((x): [string, string] => [x, field])));
const DATE_BY_NAME_4 = new Map<string, string>(Object.entries(DATE_FIELDS).flatMap(([field, n]) => n.v4.map((x): [string, string] => [x, field])));
const IM_SET = new Set(IM_PROPERTIES);

export function readCard(lines: Line[]): CardView {
  const versionLine = lines.find((l) => l.name === "VERSION");
  const version = versionLine?.value.trim() === "4.0" ? "4.0" : "3.0";
  const view: CardView = {
    version,
    fn: null,
    n: null,
    org: null,
    simple: new Map(),
    dates: new Map(),
    unreadableDates: new Set(),
    emails: [],
    phones: new Map(),
    addresses: new Map(),
    ims: [],
    categories: { lines: [], values: [] },
    children: { lines: [], values: [] },
    photo: null,
    note: null,
  };
  const dateByName = version === "4.0" ? DATE_BY_NAME_4 : DATE_BY_NAME_3;

  lines.forEach((l, i) => {
    switch (l.name) {
      case "FN":
        if (!view.fn) view.fn = { line: i, value: unescapeText(l.value).trim() };
        return;
      case "N":
        if (!view.n) view.n = { line: i, parts: padded(splitStructured(l.value).map((p) => unescapeText(p).trim()), 5) };
        return;
      case "ORG":
        if (!view.org) view.org = { line: i, parts: padded(splitStructured(l.value).map((p) => unescapeText(p).trim()), 2) };
        return;
      case "EMAIL":
        if (view.emails.length < EMAIL_FIELDS.length) view.emails.push({ line: i, value: emailText(l) });
        return;
      case "TEL": {
        const value = phoneText(l);
        const slot = phoneCandidates(paramValues(l, "TYPE")).find((f) => !view.phones.has(f));
        if (slot && value) view.phones.set(slot, { line: i, value });
        return;
      }
      case "ADR": {
        const kind = addressKind(paramValues(l, "TYPE"));
        if (!view.addresses.has(kind)) {
          const parts = padded(splitStructured(l.value).map((p) => unescapeText(p).trim()), 7).slice(2, 7);
          view.addresses.set(kind, { line: i, parts });
        }
        return;
      }
      case "CATEGORIES":
        view.categories.lines.push(i);
        for (const c of splitList(l.value)) if (c.trim()) view.categories.values.push(c.trim());
        return;
      case "X-CHILD":
        view.children.lines.push(i);
        view.children.values.push(unescapeText(l.value).trim());
        return;
      case "PHOTO":
        if (!view.photo) view.photo = photoOf(l, i);
        return;
      case "NOTE":
        if (!view.note) view.note = { line: i, value: unescapeText(l.value) };
        return;
    }
    if (IM_SET.has(l.name)) {
      if (view.ims.length < IM_FIELDS.length) view.ims.push({ line: i, value: imText(l) });
      return;
    }
    const simple = SIMPLE_BY_NAME.get(l.name);
    if (simple) {
      if (!view.simple.has(simple)) {
        const value = l.name === "NICKNAME" ? first(l).trim() : unescapeText(l.value).trim();
        view.simple.set(simple, { line: i, value });
      }
      return;
    }
    const date = dateByName.get(l.name);
    if (date && !view.dates.has(date)) {
      const d = cardDate(l);
      if (d) view.dates.set(date, { line: i, value: d });
      else view.unreadableDates.add(date);
    }
  });
  return view;
}

function padded(parts: string[], n: number): string[] {
  const out = parts.slice();
  while (out.length < n) out.push("");
  return out;
}
