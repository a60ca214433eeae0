/**
 * ResolveNames (MS-OXWSRSLNM) and ExpandDL (MS-OXWSDLIST): names and
 * addresses resolved against the global address list of the caller's domain
 * (src/groupware/directory.ts, the one CardDAV's directory, ActiveSync's GAL
 * search and the webmail's autocomplete use) and the caller's own contacts.
 *
 * ResolveNames answers as Exchange does (MS-OXWSRSLNM §3.1.4.1): no match is
 * an Error ErrorNameResolutionNoResults, several a Warning
 * ErrorNameResolutionMultipleResults with every candidate, one a Success.
 * Distribution lists are one-to-many aliases of the domain (PublicDL) and the
 * caller's contact groups (PrivateDL); ExpandDL lists their members.
 */
import { directory, type DirectoryEntry } from "../../../src/groupware/index.ts";
import type { Item } from "../../../storage/api.ts";
import { isGroupCard, groupMembers, readGroup } from "./contact-group.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { gwItem, type GwItem } from "./groupware-items.ts";
import { itemIdXml, ownItemId, resolveFolder } from "./ids.ts";
import { kindOf } from "./kinds.ts";
import { failure, responseMessages, success, warning } from "./responses.ts";
import type { ItemShape } from "./shape.ts";
import { attr, esc, kid, kidsNamed, ma, mkid, parseBool, t, ta, tv, type XmlElement } from "./xml.ts";
import { NS } from "./ns.ts";

/** MS-OXWSRSLNM §3.1.4.1.3.3: Exchange returns at most 100 candidates. */
const MAX_RESOLUTIONS = 100;
/** Contacts folders one ResolveNames may name (each is looked up). */
const MAX_PARENT_FOLDERS = 100;
/** Members listed by one ExpandDL. */
const MAX_EXPANSION = 1000;
/** Longest UnresolvedEntry taken (an address is at most 320 characters, RFC 5321 §4.5.3.1). */
const MAX_ENTRY = 320;

type Scope = "ActiveDirectory" | "ActiveDirectoryContacts" | "Contacts" | "ContactsActiveDirectory";
const SCOPES: readonly Scope[] = ["ActiveDirectory", "ActiveDirectoryContacts", "Contacts", "ContactsActiveDirectory"];

interface Candidate {
  name: string;
  /** Absent for a contact group (it has no address of its own). */
  email?: string;
  mailboxType: "Mailbox" | "Contact" | "PublicDL" | "PrivateDL";
  dir?: DirectoryEntry;
  contact?: GwItem;
}

function mailboxXml(cand: Candidate, c: EwsContext): string {
  return t(
    "Mailbox",
    tv("Name", cand.name || cand.email || ""),
    tv("EmailAddress", cand.email),
    tv("RoutingType", "SMTP"),
    tv("MailboxType", cand.mailboxType),
    cand.contact ? itemIdXml({ ...cand.contact.ref, accountId: c.account.id }, cand.contact.modseq) : "",
  );
}

/** The GAL entry as contact data (Types.xsd ContactItemType, the elements the directory has, in schema order). */
function directoryContactXml(e: DirectoryEntry): string {
  return t(
    "Contact",
    tv("DisplayName", e.displayName),
    tv("GivenName", e.firstName || undefined),
    t("EmailAddresses", ta("Entry", { Key: "EmailAddress1" }, `SMTP:${esc(e.email)}`)),
    tv("ContactSource", "ActiveDirectory"),
    tv("Surname", e.lastName || undefined),
  );
}

function directoryCandidates(list: DirectoryEntry[], q: string, exact: boolean): Candidate[] {
  const ql = q.toLowerCase();
  const hits = exact ? list.filter((e) => e.email === ql) : list.filter((e) => e.email.startsWith(ql) || e.alias.startsWith(ql) || e.displayName.toLowerCase().includes(ql) || e.firstName.toLowerCase().startsWith(ql) || e.lastName.toLowerCase().startsWith(ql));
  // A one-to-one alias is another address of a mailbox: Exchange answers with the mailbox (its primary address), once.
  const accounts = new Map(list.filter((e) => e.kind === "account").map((e) => [e.accountId, e]));
  const people = new Map<string, DirectoryEntry>();
  for (const h of hits) {
    const e = h.kind === "alias" && h.memberIds.length === 1 ? (accounts.get(h.accountId) ?? h) : h;
    people.set(e.email, e);
  }
  const out = [...people.values()].sort((a, b) => a.displayName.localeCompare(b.displayName) || a.email.localeCompare(b.email));
  return out.map((e) => ({ name: e.displayName, email: e.email, mailboxType: e.memberIds.length > 1 ? "PublicDL" : "Mailbox", dir: e }));
}

async function contactCandidates(c: EwsContext, q: string, exact: boolean, folderIds: number[] | null): Promise<Candidate[]> {
  const words = q.split(/\s+/).filter(Boolean);
  if (!words.length) return [];
  const scopes = folderIds ?? [undefined];
  const items = new Map<number, Item>();
  for (const folderId of scopes) {
    for (const it of await c.store.findContacts(c.account.id, words[0]!, { folderId, limit: MAX_RESOLUTIONS + 1 })) items.set(it.id, it);
  }
  const ql = q.toLowerCase();
  const out: Candidate[] = [];
  for (const item of items.values()) {
    if (item.itemClass !== "contacts") continue;
    const f = item.fields;
    if (exact ? !f.emails.includes(ql) : !(f.emails.some((e) => e.startsWith(ql)) || f.fullName.toLowerCase().includes(ql) || f.sortName.toLowerCase().includes(ql))) continue;
    const gi = gwItem(item);
    const isGroup = f.emails.length === 0 && isGroupCard(await c.store.readItemBody(item.id));
    if (!isGroup && !f.emails.length) continue; // nothing to address mail to
    out.push({ name: f.fullName, email: isGroup ? undefined : exact ? ql : f.emails[0]!, mailboxType: isGroup ? "PrivateDL" : "Contact", contact: gi });
  }
  out.sort((a, b) => a.name.localeCompare(b.name));
  return out;
}

async function resolveOne(c: EwsContext, op: XmlElement, entry: string): Promise<string> {
  const tag = "ResolveNamesResponseMessage";
  const full = parseBool(attr(op, "ReturnFullContactData"));
  if (full === undefined) throw new EwsError("ErrorInvalidRequest", "ReturnFullContactData (true or false) is required.");
  const scope = (attr(op, "SearchScope") ?? "ActiveDirectoryContacts") as Scope;
  if (!SCOPES.includes(scope)) throw new EwsError("ErrorInvalidRequest", `SearchScope must be one of ${SCOPES.join(", ")}.`);
  const shapeName = attr(op, "ContactDataShape");
  if (shapeName !== undefined && !["IdOnly", "Default", "AllProperties"].includes(shapeName)) throw new EwsError("ErrorInvalidRequest", "ContactDataShape must be IdOnly, Default or AllProperties.");
  const shape: ItemShape = { base: (shapeName as ItemShape["base"] | undefined) ?? "Default", bodyType: "Text", includeMimeContent: false, filterHtml: false, additional: [] };

  // "SMTP:" names an address exactly (MS-OXWSRSLNM §3.1.4.1.1.1: the routing type prefix).
  let q = entry.trim();
  if (q.length > MAX_ENTRY) throw new EwsError("ErrorNameResolutionNoResults", "No results were found.");
  const smtp = /^smtp:/i.test(q);
  if (smtp) q = q.slice(5).trim();
  if (!q) throw new EwsError("ErrorNameResolutionNoResults", "No results were found.");
  const exact = smtp || /^[^\s@]+@[^\s@]+$/.test(q);

  let folderIds: number[] | null = null;
  const parents = mkid(op, "ParentFolderIds");
  if (parents) {
    folderIds = [];
    const named = parents.children.filter((k) => k.ns === NS.t);
    if (named.length > MAX_PARENT_FOLDERS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_PARENT_FOLDERS} ParentFolderIds.`);
    for (const f of named) {
      const ref = await resolveFolder(c, f);
      if (ref.kind !== "store" || ref.folder.itemClass !== "contacts") throw new EwsError("ErrorInvalidRequest", "ParentFolderIds names contacts folders.");
      folderIds.push(ref.folder.id);
    }
  }

  const dirFirst = scope === "ActiveDirectory" || scope === "ActiveDirectoryContacts";
  const useDir = scope !== "Contacts";
  const useContacts = scope !== "ActiveDirectory";
  const fromDir = useDir ? directoryCandidates(await directory(c.store, c.account), q, exact) : [];
  const fromContacts = useContacts ? await contactCandidates(c, q, exact, folderIds) : [];
  let all = dirFirst ? [...fromDir, ...fromContacts] : [...fromContacts, ...fromDir];
  // The same address in the GAL and in a contact is one person: the first scope's entry stands.
  const seen = new Set<string>();
  all = all.filter((x) => {
    if (!x.email) return true;
    if (seen.has(x.email)) return false;
    seen.add(x.email);
    return true;
  });
  if (all.length === 0) throw new EwsError("ErrorNameResolutionNoResults", "No results were found.");
  const shown = all.slice(0, MAX_RESOLUTIONS);
  const resolutions: string[] = [];
  for (const cand of shown) {
    let contact = "";
    if (full && cand.dir) contact = directoryContactXml(cand.dir);
    else if (full && cand.contact && cand.mailboxType === "Contact") contact = await kindOf("contacts").render(c, cand.contact, shape);
    resolutions.push(t("Resolution", mailboxXml(cand, c), contact));
  }
  const set = ma("ResolutionSet", { TotalItemsInView: all.length, IncludesLastItemInRange: all.length <= MAX_RESOLUTIONS }, ...resolutions);
  return all.length === 1 ? success(tag, set) : warning(tag, "ErrorNameResolutionMultipleResults", "Multiple results were found.", set);
}

registerOperation("ResolveNames", async (c, op) => {
  const entry = mkid(op, "UnresolvedEntry");
  if (!entry) throw new EwsError("ErrorInvalidRequest", "UnresolvedEntry is required.");
  let msg: string;
  try {
    msg = await resolveOne(c, op, entry.text);
  } catch (e) {
    if (!(e instanceof EwsError)) throw e;
    msg = failure("ResolveNamesResponseMessage", e);
  }
  return responseMessages("ResolveNames", [msg]);
});

// ------------------------------------------------------------ ExpandDL

function expansionXml(members: Candidate[], c: EwsContext): string {
  const shown = members.slice(0, MAX_EXPANSION);
  return ma("DLExpansion", { TotalItemsInView: members.length, IncludesLastItemInRange: members.length <= MAX_EXPANSION }, ...shown.map((m) => mailboxXml(m, c)));
}

async function expand(c: EwsContext, op: XmlElement): Promise<Candidate[]> {
  // Messages.xsd ExpandDLType: m:Mailbox; a t:Mailbox (what exchangelib writes for a Mailbox object) is taken too.
  const mb = mkid(op, "Mailbox") ?? kid(op, "Mailbox");
  if (!mb) throw new EwsError("ErrorInvalidRequest", "Mailbox is required.");
  const idEl = kid(mb, "ItemId");
  if (idEl) {
    const ref = ownItemId(c, attr(idEl, "Id"));
    if (ref.itemClass !== "contacts") throw new EwsError("ErrorNameResolutionNoResults", "The item is not a distribution list.");
    const [item] = await c.store.getItems([ref.id]);
    if (!item || item.accountId !== c.account.id || item.itemClass !== "contacts") throw new EwsError("ErrorItemNotFound", "The item was not found.");
    const body = await c.store.readItemBody(item.id);
    if (!isGroupCard(body)) throw new EwsError("ErrorNameResolutionNoResults", "The item is not a distribution list.");
    return (await groupMembers(c, readGroup(body))).map((m) => ({ name: m.name, email: m.email, mailboxType: m.type === "Contact" ? "Contact" : "Mailbox" }));
  }
  const email = (kidsNamed(mb, "EmailAddress")[0]?.text ?? "").trim().replace(/^smtp:/i, "").toLowerCase();
  if (!email) throw new EwsError("ErrorInvalidRequest", "Mailbox needs an EmailAddress or an ItemId.");
  const list = await directory(c.store, c.account);
  const dl = list.find((e) => e.email === email);
  if (!dl || dl.memberIds.length < 2) throw new EwsError("ErrorNameResolutionNoResults", "No distribution list has this address.");
  const accounts = new Map(list.filter((e) => e.kind === "account").map((e) => [e.accountId, e]));
  return dl.memberIds.flatMap((id): Candidate[] => {
    const a = accounts.get(id);
    return a ? [{ name: a.displayName, email: a.email, mailboxType: "Mailbox" }] : [];
  });
}

registerOperation("ExpandDL", async (c, op) => {
  let msg: string;
  try {
    const members = await expand(c, op);
    msg = success("ExpandDLResponseMessage", expansionXml(members, c));
  } catch (e) {
    if (!(e instanceof EwsError)) throw e;
    msg = failure("ExpandDLResponseMessage", e);
  }
  return responseMessages("ExpandDL", [msg]);
});
