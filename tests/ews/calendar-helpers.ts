/**
 * Shared pieces of the EWS calendar tests: CalDAV GET/PUT over the same
 * server (HTTPS, Basic auth), and small EWS request builders.
 */
import { httpsRequest } from "../eas/client.ts";
import { find, findAll, type EwsEnv, type XmlElement } from "./helpers.ts";

export async function dav(env: EwsEnv, user: string, pass: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await httpsRequest({
    host: "127.0.0.1",
    port: env.port,
    method,
    path,
    headers: { authorization: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64"), ...(body ? { "content-type": "text/calendar; charset=utf-8" } : {}), ...headers },
    body: body ? new TextEncoder().encode(body) : undefined,
  });
  return { status: r.status, text: new TextDecoder().decode(r.body) };
}

/** The DAV URL of a calendar item by its store id (its resource name). */
export async function davPathOf(env: EwsEnv, user: string, itemId: number): Promise<string> {
  const [item] = await env.srv.store.getItems([itemId]);
  if (!item) throw new Error(`no item ${itemId}`);
  return `/dav/calendars/${user}/Calendar/${encodeURIComponent(item.resourceName ?? String(item.id))}`;
}

/** The store id inside an EWS ItemId (base64 of "I:acc:C:id[:occ]"). */
export function storeId(ewsId: string): number {
  const s = Buffer.from(ewsId, "base64").toString("utf8");
  return Number(s.split(":")[3]);
}

export function itemIds(body: XmlElement, element = "ItemId"): { id: string; ck: string }[] {
  return findAll(body, element).map((e) => ({ id: e.attrs.Id ?? "", ck: e.attrs.ChangeKey ?? "" }));
}

export function text(el: XmlElement | undefined, ...path: string[]): string | undefined {
  return find(el, ...path)?.text.trim();
}

export const unfold = (s: string) => s.replace(/\r?\n[ \t]/g, "");

export function createCalendarItem(inner: string, invitations = "SendToNone"): string {
  return `<m:CreateItem SendMeetingInvitations="${invitations}"><m:SavedItemFolderId><t:DistinguishedFolderId Id="calendar"/></m:SavedItemFolderId><m:Items><t:CalendarItem>${inner}</t:CalendarItem></m:Items></m:CreateItem>`;
}

export function getItem(id: string, shape = "AllProperties", idElement = `<t:ItemId Id="${id}"/>`): string {
  return `<m:GetItem><m:ItemShape><t:BaseShape>${shape}</t:BaseShape></m:ItemShape><m:ItemIds>${idElement}</m:ItemIds></m:GetItem>`;
}

export function calendarView(start: string, end: string, max?: number, folder = `<t:DistinguishedFolderId Id="calendar"/>`): string {
  return `<m:FindItem Traversal="Shallow"><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape><m:CalendarView${max ? ` MaxEntriesReturned="${max}"` : ""} StartDate="${start}" EndDate="${end}"/><m:ParentFolderIds>${folder}</m:ParentFolderIds></m:FindItem>`;
}

export function updateItem(id: string, field: string, valueXml: string, attrs = `ConflictResolution="AlwaysOverwrite" SendMeetingInvitationsOrCancellations="SendToNone"`): string {
  return `<m:UpdateItem ${attrs}><m:ItemChanges><t:ItemChange><t:ItemId Id="${id}"/><t:Updates><t:SetItemField><t:FieldURI FieldURI="${field}"/><t:CalendarItem>${valueXml}</t:CalendarItem></t:SetItemField></t:Updates></t:ItemChange></m:ItemChanges></m:UpdateItem>`;
}

export function deleteItem(id: string, cancellations = "SendToNone"): string {
  return `<m:DeleteItem DeleteType="HardDelete" SendMeetingCancellations="${cancellations}"><m:ItemIds><t:ItemId Id="${id}"/></m:ItemIds></m:DeleteItem>`;
}

export async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
