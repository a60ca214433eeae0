/**
 * Contact groups: a vCard with KIND:group and MEMBER lines (RFC 6350
 * §6.1.4, §6.6.5), or Apple's 3.0 form (X-ADDRESSBOOKSERVER-KIND /
 * X-ADDRESSBOOKSERVER-MEMBER), shown as t:DistributionList (Types.xsd
 * DistributionListType, MS-OXWSDLIST): DisplayName, FileAs and Members.
 * A member is an address (mailto:) or another contact of the account
 * (urn:uuid: its UID), which ExpandDL (people.ts) resolves.
 */
import { randomUUID } from "node:crypto";
import { escapeText, newLine, parseLines, serialise, unescapeText, type Line } from "../../../src/groupware/vcard/lines.ts";
import { EwsError, type EwsContext } from "./context.ts";
import { itemHeadXml, wanted, type GwItem } from "./groupware-items.ts";
import { NS } from "./ns.ts";
import type { ItemShape, PropertyChange } from "./shape.ts";
import { ownItemId } from "./ids.ts";
import { attr, kid, kidText, t, tv, type XmlElement } from "./xml.ts";

/** At most this many members per group (read and written). */
export const MAX_MEMBERS = 1000;

export interface GroupView {
  name: string;
  /** "mailto:x@y" or "urn:uuid:..." as stored. */
  members: string[];
  categories: string[];
}

const utf8 = new TextDecoder();

function lines(body: Uint8Array): Line[] {
  return parseLines(utf8.decode(body).replace(/^\uFEFF/, ""));
}

/** True for a KIND:group card. */
export function isGroupCard(body: Uint8Array): boolean {
  for (const l of lines(body)) if ((l.name === "KIND" || l.name === "X-ADDRESSBOOKSERVER-KIND") && l.value.trim().toLowerCase() === "group") return true;
  return false;
}

export function readGroup(body: Uint8Array): GroupView {
  const v: GroupView = { name: "", members: [], categories: [] };
  for (const l of lines(body)) {
    if (l.name === "FN" && !v.name) v.name = unescapeText(l.value).trim();
    else if ((l.name === "MEMBER" || l.name === "X-ADDRESSBOOKSERVER-MEMBER") && v.members.length < MAX_MEMBERS) v.members.push(l.value.trim());
    else if (l.name === "CATEGORIES") v.categories.push(...l.value.split(",").map((s) => unescapeText(s).trim()).filter(Boolean));
  }
  return v;
}

/** A member resolved to a mailbox: a one-off address or a contact of the account. */
export interface GroupMember {
  name: string;
  email: string;
  type: "OneOff" | "Contact";
}

/** The members as mailboxes (a contact member by its UID; unknown UIDs are left out). */
export async function groupMembers(c: EwsContext, g: GroupView): Promise<GroupMember[]> {
  const out: GroupMember[] = [];
  for (const m of g.members.slice(0, MAX_MEMBERS)) {
    if (/^mailto:/i.test(m)) {
      out.push({ name: "", email: decodeURIComponent(m.slice(7)), type: "OneOff" });
      continue;
    }
    const uid = m.replace(/^urn:uuid:/i, "");
    const item = await c.store.findItemByUid({ accountId: c.account.id, itemClass: "contacts" }, uid);
    if (item && item.itemClass === "contacts") out.push({ name: item.fields.fullName, email: item.fields.emails[0] ?? "", type: "Contact" });
  }
  return out;
}

export async function renderGroup(c: EwsContext, it: GwItem, g: GroupView, shape: ItemShape, extended = ""): Promise<string> {
  const w = (...u: string[]) => wanted(shape, ...u);
  const members = w("distributionlist:Members") ? await groupMembers(c, g) : [];
  return t(
    "DistributionList",
    itemHeadXml(c, it, shape, { itemClass: "IPM.DistList", subject: g.name, categories: g.categories, extended }),
    w("contacts:DisplayName") ? tv("DisplayName", g.name) : "",
    w("contacts:FileAs") ? tv("FileAs", g.name) : "",
    members.length
      ? t(
          "Members",
          ...members.map((m) => t("Member", t("Mailbox", tv("Name", m.name || m.email), tv("EmailAddress", m.email), tv("RoutingType", "SMTP"), tv("MailboxType", m.type)), tv("Status", "Normal"))),
        )
      : "",
  );
}

/**
 * MEMBER values of a t:Members element: an address (mailto:), or another
 * contact of the account named by its ItemId (urn:uuid: its UID, RFC 6350
 * §6.6.5), which stays a member when the contact's address changes.
 */
async function membersOf(c: EwsContext, el: XmlElement | undefined): Promise<string[]> {
  if (!el) return [];
  const out: string[] = [];
  for (const m of el.children) {
    if (m.ns !== NS.t || m.name !== "Member") continue;
    if (out.length >= MAX_MEMBERS) throw new EwsError("ErrorInvalidRequest", `A group holds at most ${MAX_MEMBERS} members.`);
    const mb = kid(m, "Mailbox");
    const idEl = kid(mb, "ItemId");
    if (idEl) {
      const ref = ownItemId(c, attr(idEl, "Id"));
      const item = ref.itemClass === "contacts" ? await c.store.getItem(ref.id) : null;
      if (!item || item.accountId !== c.account.id || item.itemClass !== "contacts") throw new EwsError("ErrorItemNotFound", "A member's contact was not found.");
      out.push(`urn:uuid:${item.fields.uid}`);
      continue;
    }
    const email = kidText(mb, "EmailAddress");
    if (email && /^[^\s@<>]+@[^\s@<>]+$/.test(email)) out.push(`mailto:${email}`);
    else throw new EwsError("ErrorInvalidValueForProperty", "A group member needs an EmailAddress or a contact's ItemId.");
  }
  return out;
}

/** A new group card (vCard 4.0) from a t:DistributionList. */
export async function groupFromEws(c: EwsContext, dl: XmlElement): Promise<Uint8Array> {
  const name = kidText(dl, "DisplayName") ?? kidText(dl, "FileAs") ?? "";
  const out: Line[] = [newLine("BEGIN", [], "VCARD"), newLine("VERSION", [], "4.0"), newLine("UID", [], randomUUID()), newLine("KIND", [], "group"), newLine("FN", [], escapeText(name))];
  for (const m of await membersOf(c, kid(dl, "Members"))) out.push(newLine("MEMBER", [], m));
  out.push(newLine("END", [], "VCARD"));
  return new TextEncoder().encode(serialise(out));
}

/** UpdateItem on a group: DisplayName/FileAs and Members (replaced as a whole); other lines kept. */
export async function groupUpdate(c: EwsContext, body: Uint8Array, changes: PropertyChange[]): Promise<Uint8Array> {
  let ls = lines(body);
  for (const ch of changes) {
    const uri = ch.path.kind === "extended" ? "" : ch.path.uri;
    if (uri === "contacts:DisplayName" || uri === "contacts:FileAs") {
      const name = ch.op === "delete" ? "" : (kidText(ch.value, "DisplayName") ?? kidText(ch.value, "FileAs") ?? "");
      ls = ls.filter((l) => l.name !== "FN");
      ls.splice(ls.length - 1, 0, newLine("FN", [], escapeText(name)));
    } else if (uri === "distributionlist:Members") {
      const members = ch.op === "delete" ? [] : await membersOf(c, kid(ch.value, "Members"));
      const kept = ch.op === "append" ? ls.filter((l) => l.name === "MEMBER" || l.name === "X-ADDRESSBOOKSERVER-MEMBER").map((l) => l.value.trim()) : [];
      ls = ls.filter((l) => l.name !== "MEMBER" && l.name !== "X-ADDRESSBOOKSERVER-MEMBER");
      const apple = ls.some((l) => l.name === "X-ADDRESSBOOKSERVER-KIND");
      const all = [...new Set([...kept, ...members])];
      if (all.length > MAX_MEMBERS) throw new EwsError("ErrorInvalidRequest", `A group holds at most ${MAX_MEMBERS} members.`);
      ls.splice(ls.length - 1, 0, ...all.map((m) => newLine(apple ? "X-ADDRESSBOOKSERVER-MEMBER" : "MEMBER", [], m)));
    } else if (uri !== "item:Subject") {
      throw new EwsError("ErrorInvalidPropertyRequest", `The property ${uri || "(extended)"} cannot be changed on a distribution list.`);
    }
  }
  return new TextEncoder().encode(serialise(ls));
}
