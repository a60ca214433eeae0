/**
 * GET/HEAD, PUT, DELETE, MOVE and COPY of objects (RFC 4918 §9.4-9.9,
 * RFC 4791 §5.3.2-5.3.4, RFC 6352 §6.3.2), and DELETE of collections.
 * Bodies are stored and served byte for byte; the ETag of a PUT is the
 * stored object's (RFC 4791 §5.3.4: returned because the body was not
 * changed).
 */
import { GroupwareError, type Collection } from "../../../src/groupware/types.ts";
import { BodyTooLarge, readBody } from "../body.ts";
import { groupwareErrorResponse, needPrivileges } from "./errors.ts";
import { MAX_RESOURCE_SIZE, resourceOfTarget } from "./props-core.ts";
import { resolvePath } from "./paths.ts";
import { davError, objectHref, textError, type DavContext, type DavTarget } from "./types.ts";
import { CALDAV_NS, CARDDAV_NS, DAV_NS } from "./xml.ts";

const calTypes = ["text/calendar"];
const cardTypes = ["text/vcard", "text/x-vcard", "text/directory"];

/** The media type without parameters, lower case ("" when absent). */
function mediaType(req: Request): string {
  return (req.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
}

function etagList(h: string | null): string[] | "*" | null {
  if (h === null) return null;
  const v = h.trim();
  if (v === "*") return "*";
  return v.split(",").map((s) => s.trim().replace(/^W\//, "")).filter(Boolean);
}

/** RFC 9110 §13.1.1-13.1.2 against the current ETag (null = no resource); a Response when a condition fails. */
function checkConditions(req: Request, current: string | null): Response | null {
  const im = etagList(req.headers.get("if-match"));
  if (im !== null && (current === null || (im !== "*" && !im.includes(current)))) return textError(412, current === null ? "If-Match: the resource does not exist" : "If-Match: the resource has changed (its ETag is different)");
  const inm = etagList(req.headers.get("if-none-match"));
  if (inm !== null && current !== null && (inm === "*" || inm.includes(current))) {
    const m = req.method.toUpperCase();
    if (m === "GET" || m === "HEAD") return new Response(null, { status: 304, headers: { etag: current } });
    return textError(412, inm === "*" ? "If-None-Match: *: a resource already exists at this URL" : "If-None-Match: the resource has this ETag");
  }
  return null;
}

export async function getObject(dc: DavContext, t: DavTarget): Promise<Response> {
  const r = await resourceOfTarget(dc, t);
  if (!r) return textError(404, "no such resource");
  const cond = checkConditions(dc.req, r.etag);
  if (cond) return cond;
  const headers: Record<string, string> = { "content-type": r.contentType, etag: r.etag, "cache-control": "private, no-cache" };
  if (r.lastModified > 0) headers["last-modified"] = new Date(r.lastModified).toUTCString();
  const body = dc.req.method.toUpperCase() === "HEAD" ? null : await r.body();
  headers["content-length"] = String(body ? body.length : r.size);
  return new Response(body as Uint8Array<ArrayBuffer> | null, { status: 200, headers });
}

function typeError(c: Collection, got: string): Response {
  const card = c.kind === "contacts";
  const what = card ? "text/vcard" : "text/calendar";
  const msg = got ? `this collection stores ${what}, not ${got}` : `this collection stores ${what}; send a Content-Type header`;
  // RFC 4791 §5.3.2.1 / RFC 6352 §6.3.2.1 precondition, with 415 (RFC 9110 §15.5.16) as the status.
  const res = davError(415, card ? CARDDAV_NS : CALDAV_NS, card ? "supported-address-data" : "supported-calendar-data", msg);
  return res;
}

export async function putObject(dc: DavContext, t: DavTarget): Promise<Response> {
  if (t.kind === "directory-object" || t.kind === "directory") return needPrivileges(t.href, "write-content", "the directory address book is read-only");
  if (t.kind === "collection" || t.kind.endsWith("-home") || t.kind === "root" || t.kind === "principal") return textError(405, "PUT is for objects inside a calendar or address book", { allow: "OPTIONS, PROPFIND, PROPPATCH, DELETE, REPORT" });
  if (t.kind === "missing") return textError(409, "PUT needs an existing calendar or address book: the URL has no collection");
  if (t.kind !== "object") return textError(405, "PUT is not allowed here");
  const c = t.collection;
  const type = mediaType(dc.req);
  if (type && !(c.kind === "contacts" ? cardTypes : calTypes).includes(type)) return typeError(c, type);
  let body: Uint8Array;
  try {
    body = await readBody(dc.req, MAX_RESOURCE_SIZE);
  } catch (e) {
    if (e instanceof BodyTooLarge) return davError(413, c.kind === "contacts" ? CARDDAV_NS : CALDAV_NS, "max-resource-size", `the resource is larger than ${MAX_RESOURCE_SIZE} bytes`);
    throw e;
  }
  const cond = checkConditions(dc.req, t.object?.etag ?? null);
  if (cond) return cond;
  const im = dc.req.headers.get("if-match")?.trim();
  const inm = dc.req.headers.get("if-none-match")?.trim();
  try {
    // The service re-checks the conditions inside its write (no lost update between our read and the write).
    const { object, created } = await dc.groupware.putObject(c, t.name, body, {
      ifMatch: im && t.object ? t.object.etag : undefined,
      ifNoneMatch: inm && !t.object ? "*" : undefined,
      actor: dc.account,
    });
    return new Response(null, { status: created ? 201 : 204, headers: { etag: object.etag, ...(created ? { location: t.href } : {}) } });
  } catch (e) {
    if (e instanceof GroupwareError) return groupwareErrorResponse(e, c.kind, (n) => objectHref(dc.account.email, c, n));
    throw e;
  }
}

export async function deleteTarget(dc: DavContext, t: DavTarget): Promise<Response> {
  try {
    switch (t.kind) {
      case "object": {
        if (!t.object) return textError(404, "no such resource");
        const cond = checkConditions(dc.req, t.object.etag);
        if (cond) return cond;
        const im = dc.req.headers.get("if-match")?.trim();
        await dc.groupware.deleteObject(t.collection, t.name, { ifMatch: im ? t.object.etag : undefined, actor: dc.account });
        return new Response(null, { status: 204 });
      }
      case "collection": {
        if (t.collection.isDefault) return needPrivileges(t.href, "unbind", `"${t.collection.displayName || t.collection.name}" is your default ${t.collection.kind === "contacts" ? "address book" : t.collection.kind === "tasks" ? "task list" : "calendar"} and cannot be deleted`);
        const cond = checkConditions(dc.req, null);
        if (cond && dc.req.headers.get("if-match")) return cond;
        await dc.groupware.deleteCollection(dc.account, t.collection.name);
        return new Response(null, { status: 204 });
      }
      case "directory":
      case "directory-object":
        return needPrivileges(t.href, "unbind", "the directory address book is read-only");
      case "missing":
        return textError(404, "no such resource");
      default:
        return needPrivileges(t.href, "unbind", "this resource cannot be deleted");
    }
  } catch (e) {
    if (e instanceof GroupwareError) return groupwareErrorResponse(e, t.kind === "object" ? t.collection.kind : null);
    throw e;
  }
}

/**
 * MOVE and COPY of an object to another (or the same) collection of the same
 * kind of the same user (RFC 4918 §9.8-9.9): Destination must be on this
 * server, Overwrite: F refuses an existing target (412).
 */
export async function moveCopy(dc: DavContext, t: DavTarget, move: boolean): Promise<Response> {
  if (move && (t.kind === "directory" || t.kind === "directory-object")) return needPrivileges(t.href, "unbind", "the directory address book is read-only");
  if (t.kind === "collection") return textError(403, "collections cannot be moved or copied; create a new one and copy its objects");
  // A COPY may also take a directory entry into one's own address book.
  const source = t.kind === "object" || t.kind === "directory-object" ? await resourceOfTarget(dc, t) : null;
  if (!source) return textError(404, "no such resource");
  const srcKind = t.kind === "object" ? t.collection.kind : "contacts";
  const destHeader = dc.req.headers.get("destination");
  if (!destHeader) return textError(400, "the Destination header is missing");
  let dest: URL;
  try {
    dest = new URL(destHeader, dc.req.url);
  } catch {
    return textError(400, "the Destination header is not a URL");
  }
  if (dest.host !== new URL(dc.req.url).host) return textError(502, "the Destination is on another server"); // RFC 4918 §9.9.4
  const resolved = await resolvePath(dc, dest.pathname);
  if ("status" in resolved) return textError(resolved.status === 404 ? 409 : resolved.status, resolved.message);
  const d = resolved.target;
  if (d.kind !== "object") return textError(409, "the Destination must be an object URL inside one of your calendars or address books");
  if (d.collection.kind !== srcKind) return textError(403, `a ${srcKind} object can only go to a collection of the same kind`);
  const same = t.kind === "object" && d.collection.id === t.collection.id && d.name === t.name;
  if (same) return textError(403, "the source and the destination are the same");
  const overwrite = (dc.req.headers.get("overwrite") ?? "T").trim().toUpperCase() !== "F";
  if (d.object && !overwrite) return textError(412, "the Destination exists and Overwrite is F");
  const hrefOf = (n: string) => objectHref(dc.account.email, d.collection, n);
  try {
    if (move && t.kind === "object") {
      // One store transaction: the item keeps its id (what ActiveSync and later EWS know it by), and a failure leaves the source where it was.
      await dc.groupware.moveObject(t.collection, t.name, d.collection, d.name, { ifMatch: source.etag, overwrite });
    } else {
      const body = await source.body();
      if (d.object) await dc.groupware.deleteObject(d.collection, d.name, { schedule: false });
      await dc.groupware.putObject(d.collection, d.name, body, { schedule: false, ifNoneMatch: "*" });
    }
  } catch (e) {
    if (e instanceof GroupwareError) return groupwareErrorResponse(e, d.collection.kind, hrefOf);
    throw e;
  }
  return new Response(null, { status: d.object ? 204 : 201, headers: d.object ? {} : { location: d.href } });
}
