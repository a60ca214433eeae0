/**
 * The contacts kind (kinds.ts): vCards of the account's address books as
 * t:Contact (Types.xsd ContactItemType, MS-OXWSCONT). Reading and writing go
 * through ActiveSync's contact converter (../eas/groupware/contact.ts) with
 * the EWS <-> ActiveSync field table of contact-fields.ts, so a contact saved
 * over EWS is the card CardDAV, ActiveSync and the webmail read, and writing
 * back is a merge that keeps what EWS cannot show. Contact groups
 * (vCard KIND:group) are t:DistributionList (contact-group.ts).
 */
import { contactFromEas, contactToEas } from "../eas/groupware/contact.ts";
import { easBirthday } from "../eas/groupware/contact-device.ts";
import { el, kid as wkid, kids as wkids, qn, text as wtext, type WElement } from "../eas/wbxml/tree.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { itemIdXml } from "./ids.ts";
import { isGroupCard, readGroup, renderGroup, groupFromEws, groupUpdate } from "./contact-group.ts";
import { ADDRESS_KEYS, ADDRESS_PARTS, BODY, CATEGORIES, CHILDREN, coveredBy, DATES, EMAIL_KEYS, FILE_AS, IGNORED, IM_KEYS, ITEM_ONLY, PHONE_KEYS, SIMPLE } from "./contact-fields.ts";
import { bodyOf, codecContext, guarded, idOnly, createGw, extendedXml, headValue, itemHeadXml, wanted, gwKind, withExtended, type GwItem } from "./groupware-items.ts";
import { registerItemKind, type ItemKind } from "./kinds.ts";
import { NS } from "./ns.ts";
import type { ItemShape, PropertyChange, PropertyPath } from "./shape.ts";
import { attr, dateTime, esc, parseDateTime, t, ta, tv, type XmlElement } from "./xml.ts";

// ------------------------------------------------------------ reading

/** A stored card as ActiveSync elements: element -> text, plus the lists. */
interface ContactView {
  values: Map<string, string>;
  categories: string[];
  children: string[];
  note: string;
  hasPicture: boolean;
}

function viewOf(c: EwsContext, body: Uint8Array): ContactView {
  const v: ContactView = { values: new Map(), categories: [], children: [], note: "", hasPicture: false };
  for (const e of contactToEas(body, codecContext(c))) {
    const name = qn(e);
    if (name === CATEGORIES) v.categories = wkids(e).map((k) => wtext(k));
    else if (name === CHILDREN) v.children = wkids(e).map((k) => wtext(k));
    else if (name === BODY) v.note = wtext(wkid(e, "AirSyncBase:Data"));
    else if (name === "Contacts:Picture") v.hasPicture = true;
    else v.values.set(name, wtext(e));
  }
  return v;
}

function dateOut(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? dateTime(ms) : undefined;
}

function renderContact(c: EwsContext, it: GwItem, v: ContactView, shape: ItemShape, extended: string): string {
  const w = (...u: string[]) => wanted(shape, ...u);
  const val = (q: string) => v.values.get(q);
  const fn = val(FILE_AS) ?? "";
  const entries = (keys: Record<string, string>) => Object.entries(keys).filter(([, q]) => val(q)).map(([k, q]) => ta("Entry", { Key: k }, esc(val(q)!)));
  const emails = entries(EMAIL_KEYS);
  const phones = entries(PHONE_KEYS);
  const ims = entries(IM_KEYS);
  const addresses = ADDRESS_KEYS.map((k) => {
    const parts = Object.entries(ADDRESS_PARTS).map(([ews, eas]) => tv(ews, val(`Contacts:${k}Address${eas}`)));
    return parts.some(Boolean) ? ta("Entry", { Key: k }, ...parts) : "";
  }).filter(Boolean);
  const given = val("Contacts:FirstName");
  const surname = val("Contacts:LastName");
  return t(
    "Contact",
    itemHeadXml(c, it, shape, { itemClass: "IPM.Contact", subject: fn, bodyText: v.note, categories: v.categories, extended }),
    w("contacts:FileAs") ? tv("FileAs", fn) : "",
    w("contacts:DisplayName") ? tv("DisplayName", fn) : "",
    w("contacts:GivenName") ? tv("GivenName", given) : "",
    w("contacts:MiddleName") ? tv("MiddleName", val("Contacts:MiddleName")) : "",
    w("contacts:Nickname") ? tv("Nickname", val("Contacts2:NickName")) : "",
    w("contacts:CompleteName")
      ? t("CompleteName", tv("Title", val("Contacts:Title")), tv("FirstName", given), tv("MiddleName", val("Contacts:MiddleName")), tv("LastName", surname), tv("Suffix", val("Contacts:Suffix")), tv("FullName", fn), tv("Nickname", val("Contacts2:NickName")))
      : "",
    w("contacts:CompanyName") ? tv("CompanyName", val("Contacts:CompanyName")) : "",
    w("contacts:EmailAddresses", "contacts:EmailAddress") && emails.length ? t("EmailAddresses", ...emails) : "",
    w("contacts:PhysicalAddresses", ...Object.keys(ADDRESS_PARTS).map((p) => `contacts:PhysicalAddress:${p}`)) && addresses.length ? t("PhysicalAddresses", ...addresses) : "",
    w("contacts:PhoneNumbers", "contacts:PhoneNumber") && phones.length ? t("PhoneNumbers", ...phones) : "",
    w("contacts:AssistantName") ? tv("AssistantName", val("Contacts:AssistantName")) : "",
    w("contacts:Birthday") ? tv("Birthday", dateOut(val("Contacts:Birthday"))) : "",
    w("contacts:BusinessHomePage") ? tv("BusinessHomePage", val("Contacts:WebPage")) : "",
    w("contacts:Children") && v.children.length ? t("Children", ...v.children.map((x) => tv("String", x))) : "",
    w("contacts:Department") ? tv("Department", val("Contacts:Department")) : "",
    w("contacts:Generation") ? tv("Generation", val("Contacts:Suffix")) : "",
    w("contacts:ImAddresses", "contacts:ImAddress") && ims.length ? t("ImAddresses", ...ims) : "",
    w("contacts:JobTitle") ? tv("JobTitle", val("Contacts:JobTitle")) : "",
    w("contacts:Manager") ? tv("Manager", val("Contacts2:ManagerName")) : "",
    w("contacts:OfficeLocation") ? tv("OfficeLocation", val("Contacts:OfficeLocation")) : "",
    w("contacts:SpouseName") ? tv("SpouseName", val("Contacts:Spouse")) : "",
    w("contacts:Surname") ? tv("Surname", surname) : "",
    w("contacts:WeddingAnniversary") ? tv("WeddingAnniversary", dateOut(val("Contacts:Anniversary"))) : "",
    // Types.xsd: HasPicture since Exchange 2010, Notes (the body as text) since 2010 SP2
    c.version.level >= 3 && w("contacts:HasPicture") ? tv("HasPicture", v.hasPicture) : "",
    c.version.level >= 5 && w("contacts:Notes") && v.note ? tv("Notes", v.note) : "",
  );
}

// ------------------------------------------------------------ writing

/** The ActiveSync elements a t:Contact element carries (what a CreateItem or a Set gives). */
function easFromEws(contact: XmlElement, timeZone: string | null): WElement[] {
  const out: WElement[] = [];
  let displayName: string | undefined;
  let fileAs: string | undefined;
  for (const k of contact.children) {
    if (k.ns !== NS.t) continue;
    const uri = k.name === "Body" || k.name === "Categories" || ITEM_ONLY.includes(k.name) ? `item:${k.name}` : `contacts:${k.name}`;
    const simple = SIMPLE[uri];
    if (simple) out.push(el(simple, k.text));
    else if (DATES[uri]) {
      const ms = parseDateTime(k.text);
      if (ms === undefined) throw new EwsError("ErrorInvalidValueForProperty", `${k.name} is not an xs:dateTime.`);
      out.push(el(DATES[uri], easBirthday(localDate(ms, timeZone))));
    } else if (uri === "contacts:DisplayName") displayName = k.text;
    else if (uri === "contacts:FileAs") fileAs = k.text;
    else if (uri === "contacts:EmailAddresses" || uri === "contacts:PhoneNumbers" || uri === "contacts:ImAddresses") {
      const keys = uri === "contacts:EmailAddresses" ? EMAIL_KEYS : uri === "contacts:PhoneNumbers" ? PHONE_KEYS : IM_KEYS;
      for (const e of k.children) {
        if (e.ns !== NS.t || e.name !== "Entry") continue;
        const key = attr(e, "Key") ?? "";
        const q = keys[key];
        if (!q) throw new EwsError("ErrorInvalidPropertyRequest", `${k.name} Key "${key.slice(0, 40)}" is not kept on contacts.`);
        out.push(el(q, e.text));
      }
    } else if (uri === "contacts:PhysicalAddresses") {
      for (const e of k.children) {
        if (e.ns !== NS.t || e.name !== "Entry") continue;
        const key = attr(e, "Key") ?? "";
        if (!(ADDRESS_KEYS as readonly string[]).includes(key)) throw new EwsError("ErrorInvalidPropertyRequest", `PhysicalAddresses Key "${key.slice(0, 40)}" is not Business, Home or Other.`);
        for (const p of e.children) {
          const part = p.ns === NS.t ? ADDRESS_PARTS[p.name] : undefined;
          if (part) out.push(el(`Contacts:${key}Address${part}`, p.text));
        }
      }
    } else if (uri === "item:Categories" || uri === "contacts:Children") {
      const strings = k.children.filter((s) => s.ns === NS.t && s.name === "String").map((s) => s.text);
      const inner = uri === "item:Categories" ? "Contacts:Category" : "Contacts:Child";
      out.push(el(uri === "item:Categories" ? CATEGORIES : CHILDREN, strings.map((s) => el(inner, s))));
    } else if (uri === "item:Body") {
      out.push(el(BODY, el("AirSyncBase:Type", attr(k, "BodyType") === "HTML" ? 2 : 1), k.text === "" ? null : el("AirSyncBase:Data", k.text)));
    } else if (!IGNORED.has(uri) && k.name !== "ExtendedProperty") {
      throw new EwsError("ErrorInvalidPropertyRequest", `The property ${k.name} cannot be set on a contact.`);
    }
  }
  const fn = displayName ?? fileAs;
  if (fn !== undefined) out.push(el(FILE_AS, fn));
  return out;
}

/**
 * The calendar date a Birthday/WeddingAnniversary means: EWS carries a date
 * as a date-time (exchangelib: the date at 11:59 in the client's zone,
 * Outlook: its local midnight), so the date is read in the client's
 * TimeZoneContext when it sent one, else in UTC.
 */
function localDate(ms: number, timeZone: string | null): string {
  if (timeZone) {
    try {
      return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(ms));
    } catch {
      // an unknown zone name: UTC
    }
  }
  return new Date(ms).toISOString().slice(0, 10);
}

function applicationData(children: WElement[]): WElement {
  return el("AirSync:ApplicationData", children);
}

async function createContact(c: EwsContext, folder: Parameters<ItemKind["create"]>[1], contact: XmlElement): Promise<GwItem> {
  if (folder.itemClass !== "contacts") throw new EwsError("ErrorCannotCreateContactInNonContactFolder", "Contacts are created in a contacts folder.");
  const body = contact.name === "DistributionList" ? await groupFromEws(c, contact) : contactFromEas(applicationData(easFromEws(contact, c.timeZone)), null);
  return withExtended(c, await createGw(c, folder, body), contact);
}

/**
 * UpdateItem: each change names the elements it covers; Set gives them a
 * value (from the change's t:Contact), Delete clears them. Everything else
 * of the card is kept (the converter treats the covered elements as the
 * only ones "managed", MS-ASCMD §2.2.3.179's ghosting rule).
 */
async function updateContact(c: EwsContext, it: GwItem, changes: PropertyChange[]): Promise<Uint8Array> {
  const body = await bodyOf(c, it);
  if (isGroupCard(body)) return groupUpdate(c, body, changes);
  const covered = new Set<string>();
  const values = new Map<string, WElement>();
  for (const ch of changes) {
    const names = coveredBy(ch.path, ch.op);
    for (const n of names) {
      covered.add(n);
      values.delete(n);
    }
    if (ch.op === "delete" || !ch.value) continue;
    if (ch.value.name !== "Contact") throw new EwsError("ErrorInvalidPropertyRequest", "A contact's change carries a t:Contact.");
    for (const e of easFromEws(ch.value, c.timeZone)) if (names.includes(qn(e))) values.set(qn(e), e);
  }
  // A deleted body is an empty Body element (the converter keeps the note when Body is absent).
  if (covered.has(BODY) && !values.has(BODY)) values.set(BODY, el(BODY, el("AirSyncBase:Type", 1)));
  const data = applicationData([...values.values()]);
  return contactFromEas(data, body, codecContext(c, covered));
}

// ------------------------------------------------------------ the kind

async function render(c: EwsContext, it: GwItem, shape: ItemShape): Promise<string> {
  // IdOnly lists (FindItem, SyncFolderItems) of cards with an address or a number: a contact for sure, the body
  // is not read. A card with neither may be a group (KIND:group), which only its body tells.
  const f = it.data.item.itemClass === "contacts" ? it.data.item.fields : null;
  if (idOnly(shape) && f && (f.emails.length || f.phones.length)) return t("Contact", itemIdXml(it.ref, it.modseq), await extendedXml(c, it, shape));
  const body = await bodyOf(c, it);
  const extended = await extendedXml(c, it, shape);
  if (isGroupCard(body)) return renderGroup(c, it, readGroup(body), shape, extended);
  return renderContact(c, it, viewOf(c, body), shape, extended);
}

function value(_c: EwsContext, it: GwItem, path: PropertyPath): string | number | boolean | readonly string[] | undefined {
  const item = it.data.item;
  if (item.itemClass !== "contacts") return undefined;
  const f = item.fields;
  if (path.kind === "field") {
    switch (path.uri) {
      case "contacts:DisplayName":
      case "contacts:FileAs":
        return f.fullName;
      // The index keeps the sort name ("family given", from N) rather than the parts: a one-word family name
      // and the given name after it are what restrictions and sorts on these two fields see.
      case "contacts:Surname":
        return f.sortName.split(" ")[0] || undefined;
      case "contacts:GivenName":
        return f.sortName.split(" ").slice(1).join(" ") || undefined;
      case "contacts:CompanyName":
        return f.org || undefined;
      case "contacts:EmailAddress1":
        return f.emails[0];
      case "contacts:EmailAddress2":
        return f.emails[1];
      case "contacts:EmailAddress3":
        return f.emails[2];
    }
    return headValue(it, path, f.fullName);
  }
  if (path.kind === "indexed" && path.uri === "contacts:EmailAddress") {
    const i = ["EmailAddress1", "EmailAddress2", "EmailAddress3"].indexOf(path.index);
    return i >= 0 ? f.emails[i] : undefined;
  }
  return undefined;
}

const contactKind = gwKind({
  itemClass: "contacts",
  elements: ["Contact", "DistributionList"],
  render,
  value,
  create: (c, folder, e) => guarded(() => createContact(c, folder, e)),
  changedBody: (c, it, rest) => updateContact(c, it, rest),
});

registerItemKind(contactKind);
