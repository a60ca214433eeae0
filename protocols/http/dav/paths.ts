/**
 * URL -> target (the URL layout of issue 15):
 *   /dav/                                       root
 *   /dav/principals/<user>/                     principal (RFC 3744 §2, RFC 5397)
 *   /dav/calendars/<user>/                      calendar home (RFC 4791 §6.2.1)
 *   /dav/calendars/<user>/inbox/[<name>]        RFC 6638 schedule inbox (and its items)
 *   /dav/calendars/<user>/outbox/               RFC 6638 schedule outbox
 *   /dav/calendars/<user>/<collection>/[<res>]  a calendar or task list, an object
 *   /dav/addressbooks/<user>/                   address book home (RFC 6352 §7.1.1)
 *   /dav/addressbooks/<user>/directory/[<res>]  the read-only global address list
 *   /dav/addressbooks/<user>/<collection>/[<res>]
 *
 * Every segment is percent-decoded once; a segment that decodes to "", ".",
 * "..", or contains "/", "\" or a control character is refused (403) so no
 * path trick (double slashes, %2e%2e, %2f) reaches another user's data. A
 * user segment other than the authenticated account's own address is 403.
 */
import { encodeSegment, type DavContext, type DavTarget } from "./types.ts";

export type Resolved = { target: DavTarget } | { status: 400 | 403 | 404; message: string };

/** Longest path accepted and longest single segment (a resource name). */
const MAX_PATH = 4096;
export const MAX_SEGMENT = 255;

/** Splits and decodes a /dav/ path; null when malformed or tricky. `dir` = the path ended with "/". */
export function splitDavPath(pathname: string): { segs: string[]; dir: boolean } | { error: string } {
  if (pathname.length > MAX_PATH) return { error: "the URL path is too long" };
  if (!pathname.startsWith("/dav")) return { error: "not a DAV path" };
  const rest = pathname.slice(4);
  if (rest !== "" && !rest.startsWith("/")) return { error: "not a DAV path" };
  const dir = rest === "" || rest.endsWith("/");
  const raw = rest.split("/").slice(1);
  if (dir) raw.pop();
  const segs: string[] = [];
  for (const r of raw) {
    let s: string;
    try {
      s = decodeURIComponent(r);
    } catch {
      return { error: "the URL has an invalid percent-encoding" };
    }
    // eslint-disable-next-line no-control-regex
    if (s === "" || s === "." || s === ".." || /[/\\\u0000-\u001f\u007f]/.test(s)) return { error: "the URL path has an empty, dot or encoded-slash segment" };
    if (s.length > MAX_SEGMENT) return { error: "a URL path segment is too long" };
    segs.push(s);
  }
  return { segs, dir };
}

const ensured = new WeakMap<object, Set<number>>();

/** groupware.ensureDefaults once per account and service instance (RFC 4791 §5.1 clients expect a calendar to exist). */
async function ensureDefaultsOnce(dc: DavContext): Promise<void> {
  let set = ensured.get(dc.groupware);
  if (!set) ensured.set(dc.groupware, (set = new Set()));
  if (set.has(dc.account.id)) return;
  await dc.groupware.ensureDefaults(dc.account);
  if (set.size > 100_000) set.clear(); // bounded: the call is idempotent and cheap anyway
  set.add(dc.account.id);
}

/** Resolves a request path (already URL-normalised) for the authenticated account. */
export async function resolvePath(dc: DavContext, pathname: string): Promise<Resolved> {
  const split = splitDavPath(pathname);
  if ("error" in split) return { status: split.error === "not a DAV path" ? 404 : 403, message: split.error };
  const { segs } = split;
  if (segs.length === 0) return { target: { kind: "root", href: "/dav/" } };
  const [area, user, coll, res, extra] = segs;
  if (area !== "principals" && area !== "calendars" && area !== "addressbooks") return { status: 404, message: "no such DAV resource" };
  // The collections of principals and homes: shown as plain collections (principal-collection-set points here).
  if (user === undefined) return { target: { kind: "root", href: `/dav/${area}/` } };
  if (user.toLowerCase() !== dc.account.email) return { status: 403, message: "you can only reach your own principal, calendars and address books" };
  const me = encodeSegment(dc.account.email);
  if (area === "principals") {
    if (coll !== undefined) return { status: 404, message: "no such DAV resource" };
    return { target: { kind: "principal", href: `/dav/principals/${me}/` } };
  }
  await ensureDefaultsOnce(dc);
  const home = `/dav/${area}/${me}/`;
  if (coll === undefined) return { target: { kind: area === "calendars" ? "calendar-home" : "addressbook-home", href: home } };
  if (extra !== undefined) return { status: 404, message: "no such DAV resource" };
  const collHref = home + encodeSegment(coll) + "/";
  if (area === "calendars" && coll === "inbox") {
    return res === undefined ? { target: { kind: "schedule-inbox", href: collHref } } : { target: { kind: "schedule-inbox-object", href: collHref + encodeSegment(res), name: res } };
  }
  if (area === "calendars" && coll === "outbox") {
    return res === undefined ? { target: { kind: "schedule-outbox", href: collHref } } : { status: 404, message: "the schedule outbox holds no resources" };
  }
  if (area === "addressbooks" && coll === "directory") {
    return res === undefined ? { target: { kind: "directory", href: collHref } } : { target: { kind: "directory-object", href: collHref + encodeSegment(res), name: res } };
  }
  const collection = await dc.groupware.getCollection(dc.account, coll);
  const fits = collection && (area === "addressbooks") === (collection.kind === "contacts");
  if (!collection || !fits) {
    if (res !== undefined) return { status: 404, message: `there is no collection "${coll}"` };
    return { target: { kind: "missing", href: collHref, home: area, name: coll } };
  }
  if (res === undefined) return { target: { kind: "collection", href: collHref, collection } };
  const object = await dc.groupware.getObject(collection, res);
  return { target: { kind: "object", href: collHref + encodeSegment(res), collection, name: res, object } };
}
