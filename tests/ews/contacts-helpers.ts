/**
 * Shared by the people, contacts, tasks and notes EWS tests: a user set-up,
 * the generic item operations as SOAP snippets, and a DAV client over the
 * same HTTPS listener, so a test can write over EWS and read over
 * CalDAV/CardDAV (and the reverse).
 */
import { httpsRequest } from "../eas/client.ts";
import { itemId, parseItemId } from "../../protocols/http/ews/ids.ts";
import { find, findAll, type EwsEnv, type XmlElement } from "./helpers.ts";

export function attrOf(e: XmlElement | undefined, name: string): string | undefined {
  return e?.attrs[name];
}

/** The text of a descendant path, or undefined. */
export function textAt(e: XmlElement | undefined, ...path: string[]): string | undefined {
  return find(e, ...path)?.text.trim();
}

export function messages(body: XmlElement): XmlElement[] {
  return find(body, "ResponseMessages")?.children ?? [];
}

/** CreateItem of one item element into a folder (a DistinguishedFolderId name or a FolderId element). */
export function createItemXml(folder: string, itemXml: string): string {
  const f = folder.startsWith("<") ? folder : `<t:DistinguishedFolderId Id="${folder}"/>`;
  return `<m:CreateItem><m:SavedItemFolderId>${f}</m:SavedItemFolderId><m:Items>${itemXml}</m:Items></m:CreateItem>`;
}

export function getItemXml(ids: { id: string }[], base = "AllProperties", extra = ""): string {
  return `<m:GetItem><m:ItemShape><t:BaseShape>${base}</t:BaseShape>${extra}</m:ItemShape><m:ItemIds>${ids.map((i) => `<t:ItemId Id="${i.id}"/>`).join("")}</m:ItemIds></m:GetItem>`;
}

export function updateItemXml(id: { id: string; changeKey?: string }, updates: string, conflict = "AlwaysOverwrite"): string {
  const ck = id.changeKey ? ` ChangeKey="${id.changeKey}"` : "";
  return `<m:UpdateItem ConflictResolution="${conflict}" MessageDisposition="SaveOnly"><m:ItemChanges><t:ItemChange><t:ItemId Id="${id.id}"${ck}/><t:Updates>${updates}</t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`;
}

export function findItemXml(folder: string, base = "Default", extra = ""): string {
  return `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>${base}</t:BaseShape>${extra}</m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id="${folder}"/></m:ParentFolderIds></m:FindItem>`;
}

export function deleteItemXml(id: string): string {
  return `<m:DeleteItem DeleteType="HardDelete" AffectedTaskOccurrences="AllOccurrences"><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:DeleteItem>`;
}

/** The first ItemId of a response (Id and ChangeKey). */
export function firstItemId(body: XmlElement): { id: string; changeKey: string } {
  const el = findAll(body, "ItemId")[0];
  if (!el) throw new Error("no ItemId in the response");
  return { id: el.attrs.Id!, changeKey: el.attrs.ChangeKey! };
}

/** The store id of an EWS ItemId. */
export function storeId(ewsId: string): number {
  const ref = parseItemId(ewsId);
  if (!ref) throw new Error(`not an item id: ${ewsId}`);
  return ref.id;
}

export function ewsItemId(accountId: number, cls: "contacts" | "tasks" | "notes", id: number): string {
  return itemId({ accountId, itemClass: cls, id });
}

export interface DavResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One DAV request with Basic auth on the EWS test server's HTTPS port. */
export async function dav(env: EwsEnv, user: string, pass: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<DavResponse> {
  const r = await httpsRequest({
    host: "127.0.0.1",
    port: env.port,
    method,
    path,
    headers: { authorization: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64"), ...headers },
    body: body === undefined ? undefined : new TextEncoder().encode(body),
  });
  return { status: r.status, headers: r.headers, text: new TextDecoder().decode(r.body) };
}

/** The DAV path of a stored item (its collection's name and resource name). */
export async function davPath(env: EwsEnv, user: string, ewsId: string): Promise<string> {
  const item = await env.srv.store.getItem(storeId(ewsId));
  if (!item || !item.resourceName) throw new Error("no DAV resource for the item");
  const folder = await env.srv.store.getFolderById(item.folderId);
  const home = item.itemClass === "contacts" ? "addressbooks" : "calendars";
  return `/dav/${home}/${user}/${encodeURIComponent(folder!.name)}/${encodeURIComponent(item.resourceName)}`;
}

/** Unfolded content lines of a vCard/iCalendar text. */
export function contentLines(text: string): string[] {
  return text.replace(/\r?\n[ \t]/g, "").split(/\r?\n/).filter(Boolean);
}
