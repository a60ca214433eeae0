/**
 * The contacts app's calls to the server (routes in api-types.ts, "Contacts")
 * and the small pure helpers the list, detail and editor share: sorting keys,
 * letter headings, initials, an empty contact.
 */
import { api, csrfToken, ApiError } from "../api.ts";
import type { CollectionInfo, ContactData, ContactResponse, ContactSummary, DirectoryPerson, ImportResult, Person } from "../../../protocols/http/webmail/api-types.ts";

export type { CollectionInfo, ContactData, ContactResponse, ContactSummary, DirectoryPerson, ImportResult, Person };

const enc = encodeURIComponent;

export async function listBooks(kind: "contacts" | "tasks" = "contacts"): Promise<CollectionInfo[]> {
  return (await api<{ collections: CollectionInfo[] }>("GET", `/api/groupware/collections?kind=${kind}`)).collections;
}

export function createBook(kind: "contacts" | "tasks", displayName: string): Promise<CollectionInfo> {
  return api<CollectionInfo>("POST", "/api/groupware/collections", { kind, displayName });
}

export function renameBook(name: string, displayName: string): Promise<CollectionInfo> {
  return api<CollectionInfo>("PATCH", `/api/groupware/collections/${enc(name)}`, { displayName });
}

export function deleteBook(name: string): Promise<unknown> {
  return api("DELETE", `/api/groupware/collections/${enc(name)}`);
}

export async function listContacts(book: string, q = ""): Promise<ContactSummary[]> {
  return (await api<{ contacts: ContactSummary[] }>("GET", `/api/contacts?book=${enc(book)}${q ? `&q=${enc(q)}` : ""}`)).contacts;
}

export async function listDirectory(q = ""): Promise<DirectoryPerson[]> {
  return (await api<{ entries: DirectoryPerson[] }>("GET", `/api/directory${q ? `?q=${enc(q)}` : ""}`)).entries;
}

export function readContact(book: string, id: string): Promise<ContactResponse> {
  return api<ContactResponse>("GET", `/api/contacts/${enc(book)}/${enc(id)}`);
}

export function saveContact(book: string, id: string | null, contact: ContactData, etag?: string): Promise<ContactResponse> {
  return id ? api<ContactResponse>("PUT", `/api/contacts/${enc(book)}/${enc(id)}`, { contact, etag }) : api<ContactResponse>("POST", `/api/contacts/${enc(book)}`, { contact });
}

export function deleteContact(book: string, id: string, etag: string): Promise<unknown> {
  return api("DELETE", `/api/contacts/${enc(book)}/${enc(id)}?etag=${enc(etag)}`);
}

export async function expandGroup(book: string, id: string): Promise<Person[]> {
  return (await api<{ members: Person[] }>("GET", `/api/contacts/groups/${enc(book)}/${enc(id)}/expand`)).members;
}

export function photoUrl(book: string, id: string, etag: string): string {
  // The etag in the query keeps a cached old photo from showing after an edit.
  return `/api/contacts/${enc(book)}/${enc(id)}/photo?v=${enc(etag)}`;
}

export function exportUrl(book: string, ids?: string[]): string {
  return `/api/contacts/export/${enc(book)}${ids?.length ? `?ids=${ids.map(enc).join(",")}` : ""}`;
}

/** Sends a .vcf file's text to the import route (text/vcard, not JSON). */
export async function importVcf(book: string, text: string): Promise<ImportResult> {
  let res: Response;
  try {
    res = await fetch(`/api/contacts/import/${enc(book)}`, { method: "POST", credentials: "same-origin", headers: { "content-type": "text/vcard; charset=utf-8", "x-csrf-token": csrfToken(), accept: "application/json" }, body: text });
  } catch {
    throw new ApiError(0, "network", "Can't reach the mail server. Check your internet connection and try again.");
  }
  const data = (await res.json().catch(() => null)) as (ImportResult & { error?: string; message?: string }) | null;
  if (!res.ok) throw new ApiError(res.status, data?.error ?? "http_" + res.status, data?.message ?? `The file was not imported (error ${res.status}).`);
  return data ?? { imported: 0, updated: 0, errors: [] };
}

/** A new, empty contact (or group). */
export function blankContact(kind: "individual" | "group" = "individual"): ContactData {
  return {
    uid: "",
    kind,
    fullName: "",
    givenName: "",
    familyName: "",
    middleName: "",
    prefix: "",
    suffix: "",
    nickname: "",
    organization: "",
    department: "",
    jobTitle: "",
    emails: [],
    phones: [],
    addresses: [],
    urls: [],
    birthday: "",
    anniversary: "",
    notes: "",
    categories: [],
    members: [],
  };
}

/** Letters without their accents, upper case: "Émile" -> "EMILE". */
export function fold(s: string): string {
  return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toUpperCase();
}

/** The heading a contact is listed under: its sort name's first letter A-Z, else "#". */
export function letterOf(sortName: string): string {
  const c = fold(sortName.trim()).charAt(0);
  return c >= "A" && c <= "Z" ? c : "#";
}

/** Up to two initials for an avatar ("Ada Lovelace" -> "AL", "bob@x" -> "B"). */
export function initials(name: string): string {
  const words = name.replace(/[<>"()@.].*$/, "").trim().split(/\s+/).filter(Boolean);
  if (!words.length) return "?";
  const first = Array.from(words[0]!)[0] ?? "";
  const last = words.length > 1 ? (Array.from(words[words.length - 1]!)[0] ?? "") : "";
  return (first + last).toUpperCase();
}

/** A stable avatar hue for a name (so a person keeps their colour across lists). */
export function hueOf(s: string): number {
  let x = 0;
  for (let i = 0; i < s.length; i++) x = (x * 31 + s.charCodeAt(i)) >>> 0;
  return x % 360;
}

/** The name a contact is shown with: FN, else the N parts, else the organization, else an address. */
export function displayName(c: Pick<ContactData, "fullName" | "givenName" | "familyName" | "organization" | "emails">): string {
  return c.fullName.trim() || [c.givenName, c.familyName].filter(Boolean).join(" ").trim() || c.organization.trim() || (c.emails[0]?.value ?? "");
}

/** A group member reference ("urn:uuid:x", "x" or "mailto:a@b") matched against a contact's UID. */
export function memberMatches(member: string, uid: string): boolean {
  const strip = (s: string) => s.replace(/^urn:uuid:/i, "").toLowerCase();
  return strip(member) === strip(uid);
}
