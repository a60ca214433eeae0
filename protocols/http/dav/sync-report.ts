/**
 * The sync-collection REPORT (RFC 6578) on the account change feed
 * (groupware.changesSince): an empty token gets every member, a token gets
 * what changed since (removed members as 404 responses, §3.5.2), a limit
 * truncates with a 507 response for the collection and a token to continue
 * from (§3.6), a token this server did not give out for this collection, or
 * one older than the feed keeps, is 403 valid-sync-token (§3.2) so the
 * client starts over. The directory book has no change feed: its token is a
 * hash of its content; an old one is refused the same way.
 */
import { GroupwareError, type CollectionChanges } from "../../../src/groupware/types.ts";
import { directoryResources, directoryVersion } from "./directory-book.ts";
import { groupwareErrorResponse } from "./errors.ts";
import { registerReport } from "./extensions.ts";
import { MAX_PROPS, propstatFor, type PropRequest } from "./propfind.ts";
import { collectionSyncToken, directorySyncToken, parseCollectionToken, parseDirectoryToken } from "./sync-token.ts";
import { collectionHref, davError, encodeSegment, multistatus, multistatusBuffered, objectHref, textError, type DavContext, type DavResponse, type DavTarget } from "./types.ts";
import { child, DAV_NS, type XmlElement } from "./xml.ts";
import { x } from "./xml-writer.ts";

/** Most members in one answer when the client set no limit (the rest come with the next token). */
export const SYNC_MAX_RESULTS = 50_000;

const badToken = (why: string) => davError(403, DAV_NS, "valid-sync-token", why);

async function syncCollection(dc: DavContext, t: DavTarget, body: XmlElement): Promise<Response> {
  const tokenEl = child(body, DAV_NS, "sync-token");
  const token = tokenEl ? tokenEl.text.trim() : "";
  const level = child(body, DAV_NS, "sync-level")?.text.trim() ?? "1";
  // Our collections hold no collections, so "infinite" (§3.3) lists the same members as "1".
  if (level !== "1" && level !== "infinite") return textError(400, `sync-level must be 1 or infinite, not "${level.slice(0, 20)}"`);
  const propEl = child(body, DAV_NS, "prop");
  if (propEl && propEl.children.length > MAX_PROPS) return textError(400, `too many properties in one request (at most ${MAX_PROPS})`);
  const req: PropRequest = { type: "prop", props: propEl ? propEl.children : [] };
  let limit = SYNC_MAX_RESULTS;
  const nres = child(body, DAV_NS, "limit") && child(child(body, DAV_NS, "limit")!, DAV_NS, "nresults");
  if (nres) {
    const n = nres.text.trim();
    if (!/^\d{1,9}$/.test(n) || Number(n) < 1) return textError(400, "DAV:nresults must be a positive integer");
    limit = Math.min(limit, Number(n));
  }

  if (t.kind === "directory") {
    const list = await directoryResources(dc);
    const version = directoryVersion(list);
    if (token !== "") {
      const v = parseDirectoryToken(token);
      if (v === null) return badToken("this sync-token was not given out for the directory address book");
      if (v !== version) return badToken("the directory has changed since this sync-token; sync again from an empty token");
      return multistatus([], { syncToken: directorySyncToken(version) });
    }
    if (list.length > limit) {
      // The directory has no change feed to continue from: ask for everything at once.
      return davError(507, DAV_NS, "number-of-matches-within-limits", `the directory has ${list.length} entries, more than the limit of ${limit}`);
    }
    const responses: DavResponse[] = [];
    for (const r of list) responses.push(await propstatFor(dc, { kind: "directory-object", href: r.href, name: r.name, resource: r }, req));
    return multistatus(responses, { syncToken: directorySyncToken(version) });
  }

  if (t.kind !== "collection") return davError(403, DAV_NS, "supported-report", "sync-collection works on a calendar, task list or address book");
  const c = t.collection;
  let since = 0;
  if (token !== "") {
    const parsed = parseCollectionToken(token, c);
    if (parsed === null) return badToken("this sync-token was not given out for this collection");
    if (parsed > c.modseq) return badToken("this sync-token is newer than the collection");
    since = parsed;
  }
  let changes: CollectionChanges;
  try {
    changes = await dc.groupware.changesSince(c, since, limit);
  } catch (e) {
    if (e instanceof GroupwareError) return e.code === "TOKEN_TOO_OLD" || e.code === "NOT_FOUND" ? badToken(e.message) : groupwareErrorResponse(e, c.kind);
    throw e;
  }
  const me = dc.account.email;
  const newToken = collectionSyncToken({ ...c, modseq: changes.token });
  async function* all(): AsyncGenerator<DavResponse> {
    const base = collectionHref(me, c);
    for (const o of changes.changed) {
      yield await propstatFor(dc, { kind: "object", href: base + encodeSegment(o.resourceName), collection: c, name: o.resourceName, object: o }, req);
    }
    // §3.5.2: a member removed since the token is a response with status 404 and no propstat. An initial sync lists none.
    if (since > 0) for (const name of changes.removed) yield { href: objectHref(me, c, name), status: 404 };
    // §3.6: truncated results end with a 507 for the collection itself; the token continues from there.
    if (changes.truncated) yield { href: t.href, status: 507, error: x(DAV_NS, "number-of-matches-within-limits"), description: "more changes remain: repeat the report with the returned sync-token" };
  }
  return await multistatusBuffered(all(), { syncToken: newToken });
}

registerReport(DAV_NS, "sync-collection", syncCollection, { kinds: ["collection", "directory"] });
