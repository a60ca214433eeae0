/**
 * The RFC 6638 schedule inbox over CalDAV (§2.2): `/dav/calendars/<user>/inbox/`
 * lists the iTIP messages the iMIP processor applied for the account
 * (src/groupware/scheduling/inbox.ts keeps them, byte for byte as they
 * arrived). Clients read them (PROPFIND Depth 1, GET) and delete them once
 * seen (DELETE); nothing else writes into the inbox (RFC 6638 §2.2: only the
 * server delivers there, PUT is not allowed).
 *
 * The processing itself never depends on a client reading the inbox: the
 * server applies every message automatically (RFC 6638 §3.2, "automatic
 * processing"), so an inbox a client never cleans is simply capped.
 */
import type { Item } from "../../../storage/api.ts";
import { listInbox } from "../../../src/groupware/scheduling/index.ts";
import { registerPathHandler } from "./extensions.ts";
import { parsePropfind, propstatFor } from "./propfind.ts";
import { readBody, BodyTooLarge } from "../body.ts";
import { davError, encodeSegment, multistatus, scheduleInboxHref, textError, type DavContext, type DavResource, type DavResponse, type DavTarget } from "./types.ts";
import { DAV_NS, parseXml, XmlError, type XmlElement } from "./xml.ts";

/** RFC 6638 §2.2 inbox items are iTIP messages: text/calendar (with the method parameter unknown here, so none). */
const INBOX_CONTENT_TYPE = "text/calendar; charset=utf-8";
/** A PROPFIND body is small; the DAV core's limit for XML bodies is the same order. */
const PROPFIND_LIMIT = 64 * 1024;

function etagOf(item: Item): string {
  return `"${item.id}-${item.modseq}"`;
}

/** The inbox items as DAV resources (oldest first). */
export async function inboxResources(dc: DavContext): Promise<DavResource[]> {
  const { items } = await listInbox(dc.ctx.store, dc.account.id);
  const base = scheduleInboxHref(dc.account.email);
  return items
    .filter((i) => i.resourceName)
    .map((i) => ({
      name: i.resourceName!,
      href: base + encodeSegment(i.resourceName!),
      etag: etagOf(i),
      contentType: INBOX_CONTENT_TYPE,
      size: i.size,
      // The name starts with the filing time in ms (inbox.ts), the only time the item records.
      lastModified: Number(/^(\d{10,15})-/.exec(i.resourceName!)?.[1] ?? 0),
      body: () => dc.ctx.store.readItemBody(i.id),
      object: null,
    }));
}

async function inboxItem(dc: DavContext, name: string): Promise<{ item: Item; resource: DavResource } | null> {
  const { folder } = await listInbox(dc.ctx.store, dc.account.id);
  if (!folder) return null;
  const item = await dc.ctx.store.getItemByResourceName(folder.id, name);
  if (!item) return null;
  const resource = (await inboxResources(dc)).find((r) => r.name === name);
  return resource ? { item, resource } : null;
}

async function propfindBody(dc: DavContext): Promise<XmlElement | null | Response> {
  let bytes: Uint8Array;
  try {
    bytes = await readBody(dc.req, PROPFIND_LIMIT);
  } catch (e) {
    if (e instanceof BodyTooLarge) return textError(413, e.message);
    throw e;
  }
  if (!bytes.length) return null;
  try {
    return parseXml(bytes);
  } catch (e) {
    if (e instanceof XmlError) return textError(400, `malformed XML: ${e.message}`);
    throw e;
  }
}

async function propfindInbox(dc: DavContext, target: DavTarget): Promise<Response> {
  if (dc.depth === "infinity") return davError(403, DAV_NS, "propfind-finite-depth", "PROPFIND with Depth: infinity is not supported; use Depth: 0 or 1");
  const root = await propfindBody(dc);
  if (root instanceof Response) return root;
  const req = parsePropfind(root);
  if ("error" in req) return textError(400, req.error);
  if (target.kind === "schedule-inbox-object") {
    const found = await inboxItem(dc, target.name);
    if (!found) return textError(404, "no such message in the schedule inbox");
    return multistatus([await propstatFor(dc, { ...target, resource: found.resource }, req)]);
  }
  const out: DavResponse[] = [await propstatFor(dc, target, req)];
  if (dc.depth === "1") {
    for (const r of await inboxResources(dc)) {
      out.push(await propstatFor(dc, { kind: "schedule-inbox-object", href: r.href, name: r.name, resource: r }, req));
    }
  }
  return multistatus(out);
}

async function getItem(dc: DavContext, target: DavTarget): Promise<Response> {
  if (target.kind !== "schedule-inbox-object") return textError(405, "GET is for the messages of the schedule inbox");
  const found = await inboxItem(dc, target.name);
  if (!found) return textError(404, "no such message in the schedule inbox");
  const headers = { "content-type": found.resource.contentType, etag: found.resource.etag, "content-length": String(found.resource.size) };
  if (dc.req.method === "HEAD") return new Response(null, { status: 200, headers });
  return new Response(new Uint8Array(await found.resource.body()), { status: 200, headers });
}

async function deleteItem(dc: DavContext, target: DavTarget): Promise<Response> {
  if (target.kind !== "schedule-inbox-object") return davError(403, DAV_NS, "need-privileges", "the schedule inbox itself cannot be deleted; delete its messages");
  const found = await inboxItem(dc, target.name);
  if (!found) return textError(404, "no such message in the schedule inbox");
  const ifMatch = dc.req.headers.get("if-match");
  if (ifMatch && ifMatch.trim() !== "*" && !ifMatch.split(",").map((s) => s.trim()).includes(found.resource.etag)) return textError(412, "the message changed (If-Match)");
  await dc.ctx.store.deleteItem(found.item.id);
  return new Response(null, { status: 204 });
}

registerPathHandler("schedule-inbox", ["PROPFIND"], propfindInbox);
registerPathHandler("schedule-inbox-object", ["PROPFIND"], propfindInbox);
registerPathHandler("schedule-inbox-object", ["GET", "HEAD"], getItem);
registerPathHandler("schedule-inbox-object", ["DELETE"], deleteItem);
registerPathHandler("schedule-inbox", ["DELETE"], deleteItem);
// RFC 6638 §2.2: only the server delivers into the inbox.
registerPathHandler("schedule-inbox-object", ["PUT"], async () => davError(403, DAV_NS, "need-privileges", "the schedule inbox is filled by the server; PUT is not allowed (RFC 6638 section 2.2)"));
