/**
 * FindItem (MS-OXWSSRCH §3.1.4.2; Messages.xsd FindItemType): the items of one
 * or more folders, filtered by a Restriction or QueryString, sorted by
 * SortOrder, one page of them (IndexedPageItemView, FractionalPageItemView,
 * ContactsView) or a CalendarView's occurrences, in the ItemShape asked for.
 * One response message per parent folder.
 *
 * Mail is listed from the store's summaries (UID, flags, date, size) when the
 * restriction and the sort need nothing else, so a page of a 10,000-message
 * folder reads 10,000 summaries and only the page's index rows.
 */
import type { Folder, MessageSummary } from "../../../storage/api.ts";
import { EwsError, LEVEL, registerOperation, type EwsContext } from "./context.ts";
import { itemIdXml, resolveFolder } from "./ids.ts";
import { kindOf, type ItemKind, type KindItem } from "./kinds.ts";
import { indexesOf, mailKindItem, mailNeeds, SUMMARY_FIELDS, withBodyText, withHeaders, withProps, type MailItem } from "./mail-read.ts";
import { indexOfUid, mailListing } from "./mail-listing.ts";
import { NS } from "./ns.ts";
import { perEach, responseMessages, success } from "./responses.ts";
import { compareValues, evaluate, parseQueryString, parseRestriction, restrictionPaths, rewrite, type FieldValue, type Restriction } from "./restriction.ts";
import { parseItemShape, parsePath, type ItemShape, type PropertyPath } from "./shape.ts";
import { attr, ma, mkid, parseDateTime, t, type XmlElement } from "./xml.ts";

/** Most items one page returns (Exchange's default EWS FindCountLimit); a larger MaxEntriesReturned gets this many. */
export const MAX_PAGE = 1000;
/** Most parent folders one FindItem names. */
const MAX_FOLDERS = 100;

type SortKey = { path: PropertyPath; descending: boolean };

type View =
  | { kind: "indexed"; max: number; offset: number; fromEnd: boolean }
  | { kind: "fractional"; max: number; numerator: number; denominator: number }
  | { kind: "calendar"; start: number; end: number; max: number | null }
  | { kind: "contacts"; max: number; initial: string | null; final: string | null };

function intAttr(e: XmlElement, name: string, dflt: number | null): number {
  const v = attr(e, name);
  if (v === undefined) {
    if (dflt === null) throw new EwsError("ErrorInvalidRequest", `${e.name} needs ${name}.`);
    return dflt;
  }
  if (!/^\d{1,9}$/.test(v.trim())) throw new EwsError("ErrorInvalidRequest", `${e.name} ${name} must be a non-negative number.`);
  return Number(v.trim());
}

function pageMax(e: XmlElement): number {
  const n = intAttr(e, "MaxEntriesReturned", MAX_PAGE);
  if (n < 1) throw new EwsError("ErrorInvalidRequest", "MaxEntriesReturned must be at least 1.");
  return Math.min(n, MAX_PAGE);
}

function parseView(op: XmlElement): View {
  const idx = mkid(op, "IndexedPageItemView");
  if (idx) {
    const bp = attr(idx, "BasePoint") ?? "Beginning";
    if (bp !== "Beginning" && bp !== "End") throw new EwsError("ErrorInvalidRequest", "BasePoint must be Beginning or End.");
    return { kind: "indexed", max: pageMax(idx), offset: intAttr(idx, "Offset", 0), fromEnd: bp === "End" };
  }
  const frac = mkid(op, "FractionalPageItemView");
  if (frac) {
    const numerator = intAttr(frac, "Numerator", null);
    const denominator = intAttr(frac, "Denominator", null);
    if (denominator < 1 || numerator > denominator) throw new EwsError("ErrorInvalidRequest", "Numerator must be at most Denominator, which must be at least 1.");
    return { kind: "fractional", max: pageMax(frac), numerator, denominator };
  }
  const cal = mkid(op, "CalendarView");
  if (cal) {
    const start = parseDateTime(attr(cal, "StartDate"));
    const end = parseDateTime(attr(cal, "EndDate"));
    if (start === undefined || end === undefined) throw new EwsError("ErrorInvalidRequest", "CalendarView needs StartDate and EndDate as xs:dateTime.");
    if (end < start) throw new EwsError("ErrorCalendarEndDateIsEarlierThanStartDate", "CalendarView's EndDate is before its StartDate.");
    return { kind: "calendar", start, end, max: attr(cal, "MaxEntriesReturned") !== undefined ? pageMax(cal) : null };
  }
  const con = mkid(op, "ContactsView");
  if (con) return { kind: "contacts", max: pageMax(con), initial: attr(con, "InitialName") ?? null, final: attr(con, "FinalName") ?? null };
  return { kind: "indexed", max: MAX_PAGE, offset: 0, fromEnd: false };
}

function parseSort(op: XmlElement): SortKey[] {
  const so = mkid(op, "SortOrder");
  if (!so) return [];
  const orders = so.children.filter((k) => k.ns === NS.t && k.name === "FieldOrder");
  if (orders.length > 8) throw new EwsError("ErrorInvalidRequest", "At most 8 sort fields.");
  return orders.map((fo) => {
    const order = attr(fo, "Order") ?? "Ascending";
    if (order !== "Ascending" && order !== "Descending") throw new EwsError("ErrorInvalidRequest", "Order must be Ascending or Descending.");
    const p = fo.children.find((k) => k.ns === NS.t);
    if (!p) throw new EwsError("ErrorInvalidRequest", "FieldOrder names no property.");
    return { path: parsePath(p), descending: order === "Descending" };
  });
}

function scalar(v: FieldValue): string | number | boolean | undefined {
  if (Array.isArray(v)) return v[0];
  return v as string | number | boolean | undefined;
}

/** Sorts by the keys (values missing sort last), then by id for a stable order. */
function sortBy<T>(items: T[], keys: SortKey[], get: (item: T, p: PropertyPath) => FieldValue, id: (item: T) => number): T[] {
  if (!keys.length) return items;
  if (keys.length === 1 && items.length > 0 && items.every((it) => typeof get(it, keys[0]!.path) === "number")) {
    // One numeric key (dates, sizes: the common list order): plain number arrays, no per-compare lookups.
    const k = keys[0]!;
    const val = Float64Array.from(items, (it) => get(it, k.path) as number);
    const ids = Float64Array.from(items, id);
    const sign = k.descending ? -1 : 1;
    const order = Array.from(items, (_, i) => i);
    order.sort((a, b) => sign * (val[a]! - val[b]!) || ids[a]! - ids[b]!);
    return order.map((i) => items[i]!);
  }
  const cache = items.map((it) => keys.map((k) => scalar(get(it, k.path))));
  const order = items.map((_, i) => i);
  order.sort((a, b) => {
    for (let k = 0; k < keys.length; k++) {
      const x = cache[a]![k];
      const y = cache[b]![k];
      if (x === undefined || y === undefined) {
        if (x === y) continue;
        return x === undefined ? 1 : -1;
      }
      const d = compareValues(x, y) ?? 0;
      if (d !== 0) return keys[k]!.descending ? -d : d;
    }
    return id(items[a]!) - id(items[b]!);
  });
  return order.map((i) => items[i]!);
}

/** The page of `total` items a view selects, and the RootFolder attributes that describe it. */
function page(view: View, total: number): { from: number; to: number; attrs: (n: number) => Record<string, string | number | boolean> } {
  if (view.kind === "fractional") {
    const from = Math.min(total, Math.floor((total * view.numerator) / view.denominator));
    const to = Math.min(total, from + view.max);
    return { from, to, attrs: (n) => ({ NumeratorOffset: from + n, AbsoluteDenominator: total, IncludesLastItemInRange: from + n >= total, TotalItemsInView: total }) };
  }
  if (view.kind === "indexed" && view.fromEnd) {
    // BasePoint End: Offset counts back from the last item (Types.xsd IndexBasePointType).
    const to = Math.max(0, total - view.offset);
    const from = Math.max(0, to - view.max);
    return { from, to, attrs: (n) => ({ IndexedPagingOffset: view.offset + n, TotalItemsInView: total, IncludesLastItemInRange: from === 0 }) };
  }
  const offset = view.kind === "indexed" ? view.offset : 0;
  const from = Math.min(total, offset);
  const to = Math.min(total, from + (view.kind === "calendar" ? (view.max ?? MAX_PAGE) : view.max));
  return { from, to, attrs: (n) => ({ IndexedPagingOffset: from + n, TotalItemsInView: total, IncludesLastItemInRange: from + n >= total }) };
}

function summaryValue(s: MessageSummary, p: PropertyPath): FieldValue {
  if (p.kind !== "field") return undefined;
  switch (p.uri) {
    case "item:DateTimeReceived":
    case "item:DateTimeCreated":
    case "item:LastModifiedTime":
      return s.internalDate;
    case "item:Size":
      return s.size;
    case "message:IsRead":
      return s.flags.includes("\\Seen");
    case "item:IsDraft":
      return s.flags.includes("\\Draft");
    case "item:Flag":
      return s.flags.includes("\\Flagged") ? "Flagged" : "NotFlagged";
    default:
      return undefined;
  }
}

const RECEIVED_DESC: SortKey[] = [{ path: { kind: "field", uri: "item:DateTimeReceived" }, descending: true }];

interface Query {
  shape: ItemShape;
  view: View;
  restriction: Restriction | null;
  sort: SortKey[];
}

function rootFolder(attrs: Record<string, string | number | boolean>, items: string[]): string {
  return ma("RootFolder", attrs, t("Items", ...items));
}

/**
 * The filtered, sorted UIDs of recent summary-path queries, so paging through
 * a folder does not list and sort it again for every page. Keyed by the
 * folder's highest modseq (any change in the folder makes a new key), the
 * restriction and the sort; bounded by entries and by UIDs held in all.
 */
const VIEW_CACHE_ENTRIES = 64;
const VIEW_CACHE_UIDS = 2_000_000;
const viewCache = new Map<string, Uint32Array>();
let viewCacheUids = 0;

function cachedView(key: string): Uint32Array | undefined {
  const v = viewCache.get(key);
  if (v) {
    viewCache.delete(key);
    viewCache.set(key, v); // most recently used last
  }
  return v;
}

function rememberView(key: string, uids: Uint32Array): void {
  if (uids.length > VIEW_CACHE_UIDS / 4) return;
  viewCache.set(key, uids);
  viewCacheUids += uids.length;
  for (const [k, v] of viewCache) {
    if (viewCache.size <= VIEW_CACHE_ENTRIES && viewCacheUids <= VIEW_CACHE_UIDS) break;
    viewCache.delete(k);
    viewCacheUids -= v.length;
  }
}

/** Mail whose filter and sort read only summary fields: summaries first, index rows for the page only. */
async function findMailBySummary(c: EwsContext, folder: Folder, kind: ItemKind, q: Query): Promise<string> {
  const key = `${folder.id}:${folder.uidValidity}:${folder.highestModseq}:${JSON.stringify(q.restriction)}:${JSON.stringify(q.sort)}`;
  let uids = cachedView(key);
  if (!uids) {
    let list = await c.store.listMessages(folder.id);
    if (q.restriction) list = list.filter((s) => evaluate(q.restriction!, (p) => summaryValue(s, p)));
    list = sortBy(list, q.sort.length ? q.sort : RECEIVED_DESC, summaryValue, (s) => s.id);
    uids = Uint32Array.from(list, (s) => s.uid);
    rememberView(key, uids);
  }
  const pg = page(q.view, uids.length);
  if (q.shape.base === "IdOnly" && q.shape.additional.length === 0 && !q.shape.includeMimeContent) {
    // Ids only: from the summaries, no index row read (a meeting message is listed as t:Message here; GetItem gives its class).
    const listing = await mailListing(c, folder);
    const out: string[] = [];
    for (const uid of uids.subarray(pg.from, pg.to)) {
      const i = indexOfUid(listing, uid);
      if (i >= 0) out.push(`<t:Message>${itemIdXml({ accountId: c.account.id, itemClass: "mail", id: listing.id[i]! }, listing.modseq[i]!)}</t:Message>`);
    }
    return rootFolder(pg.attrs(out.length), out);
  }
  const slice = Array.from(uids.subarray(pg.from, pg.to), (uid) => ({ uid }));
  const rows = new Map((await indexesOf(c, folder.id, slice.map((s) => s.uid))).map((r) => [r.uid, r]));
  const out: string[] = [];
  for (const s of slice) {
    const r = rows.get(s.uid);
    if (r) out.push(await kind.render(c, mailKindItem(c.account.id, r), q.shape));
  }
  return rootFolder(pg.attrs(slice.length), out);
}

/** Bytes of messages one body search may read for terms the text index cannot answer alone (short terms). */
const BODY_SCAN_BYTES = 256 * 1024 * 1024;

/**
 * Contains on item:Body, ignoring case (Substring, ExactPhrase, Prefixed on words...:
 * answered as a substring, then checked by the mode on the text only where needed), as
 * the store's text search (FTS5 trigram index, storage/text-search.ts): each such node
 * becomes "the item id is one of these". Exact-case comparisons keep reading bodies.
 */
async function bodySearch(c: EwsContext, folder: Folder, items: KindItem<MailItem>[], r: Restriction): Promise<Restriction> {
  const idOf = new Map(items.map((it) => [it.data.index.uid, String(it.ref.id)]));
  return rewrite(r, async (node) => {
    if (node.op !== "contains" || node.path.kind !== "field" || node.path.uri !== "item:Body") return null;
    if (!node.ignoreCase || node.loose || (node.mode !== "Substring" && node.mode !== "ExactPhrase")) return null;
    try {
      const [uids] = await c.store.searchTextTerms(folder.id, [{ field: "body", query: node.value }], { maxReadBytes: BODY_SCAN_BYTES });
      return { op: "in", path: { kind: "field", uri: "item:ItemId" }, values: new Set((uids ?? []).map((u) => idOf.get(u)).filter((x): x is string => x !== undefined)) };
    } catch (e) {
      if (e instanceof Error && e.name === "StoreError") return null; // over the budget: read the bodies instead
      throw e;
    }
  });
}

async function findInFolder(c: EwsContext, folder: Folder, query: Query): Promise<string> {
  let q = query;
  const kind = kindOf(folder.itemClass);
  const paths = [...restrictionPaths(q.restriction), ...q.sort.map((k) => k.path)];
  if (q.view.kind === "calendar") {
    if (!kind.calendarView) throw new EwsError("ErrorCalendarFolderIsInvalidForCalendarView", "CalendarView is only for calendar folders.");
    let items = await kind.calendarView(c, folder, { start: q.view.start, end: q.view.end, max: q.view.max });
    if (q.restriction) items = items.filter((it) => evaluate(q.restriction!, (p) => kind.value(c, it, p)));
    items = sortBy(items, q.sort.length ? q.sort : [{ path: { kind: "field", uri: "calendar:Start" }, descending: false }], (it, p) => kind.value(c, it, p), (it) => it.ref.occurrence ?? it.ref.id);
    const max = q.view.max ?? MAX_PAGE;
    const shown = items.slice(0, max);
    const rendered: string[] = [];
    for (const it of shown) rendered.push(await kind.render(c, it, q.shape));
    return rootFolder({ TotalItemsInView: shown.length, IncludesLastItemInRange: items.length <= max }, rendered);
  }
  if (kind.itemClass === "mail" && paths.every((p) => p.kind === "field" && SUMMARY_FIELDS.has(p.uri))) return findMailBySummary(c, folder, kind, q);

  let items: KindItem[] = await kind.list(c, folder);
  if (kind.itemClass === "mail") {
    // Body text conditions the store's text index can answer: no message is read for them.
    if (q.restriction) q = { ...q, restriction: await bodySearch(c, folder, items as KindItem<MailItem>[], q.restriction) };
    // Load what the restriction and sort read beyond the index row, once per item.
    const need = mailNeeds([...restrictionPaths(q.restriction), ...q.sort.map((k) => k.path)]);
    const mail = items as KindItem<MailItem>[];
    if (need.headers) await withHeaders(c, mail);
    if (need.props) await withProps(c, mail);
    if (need.body) await withBodyText(c, mail);
  }
  const get = (it: KindItem, p: PropertyPath) => kind.value(c, it, p);
  if (q.view.kind === "contacts") {
    // ContactsView (Types.xsd ContactsViewType): display names between InitialName and FinalName, in name order.
    const name = (it: KindItem) => String(scalar(get(it, { kind: "field", uri: "contacts:DisplayName" })) ?? scalar(get(it, { kind: "field", uri: "item:Subject" })) ?? "").toLowerCase();
    const lo = q.view.initial?.toLowerCase() ?? null;
    const hi = q.view.final?.toLowerCase() ?? null;
    items = items.filter((it) => (lo === null || name(it) >= lo) && (hi === null || name(it) <= hi || name(it).startsWith(hi)));
  }
  if (q.restriction) items = items.filter((it) => evaluate(q.restriction!, (p) => get(it, p)));
  const dflt: SortKey[] = kind.itemClass === "mail" ? RECEIVED_DESC : q.view.kind === "contacts" ? [{ path: { kind: "field", uri: "contacts:DisplayName" }, descending: false }] : [];
  items = sortBy(items, q.sort.length ? q.sort : dflt, get, (it) => it.ref.id);
  const pg = page(q.view, items.length);
  const slice = items.slice(pg.from, pg.to);
  const rendered: string[] = [];
  for (const it of slice) rendered.push(await kind.render(c, it, q.shape));
  return rootFolder(pg.attrs(slice.length), rendered);
}

registerOperation("FindItem", async (c, op) => {
  const traversal = attr(op, "Traversal") ?? "Shallow";
  if (!["Shallow", "Deep", "SoftDeleted", "Associated"].includes(traversal)) throw new EwsError("ErrorInvalidRequest", "Traversal must be Shallow, Deep, SoftDeleted or Associated.");
  if (traversal === "Deep") throw new EwsError("ErrorInvalidRequest", "Deep traversal of items is not offered; search each folder.");
  if (mkid(op, "GroupBy") || mkid(op, "DistinguishedGroupBy")) throw new EwsError("ErrorInvalidRequest", "Grouped FindItem is not offered.");
  const shape: ItemShape = { ...parseItemShape(mkid(op, "ItemShape")), view: "list" };
  const view = parseView(op);
  let restriction = parseRestriction(mkid(op, "Restriction"));
  const qs = mkid(op, "QueryString");
  if (qs) {
    if (c.version.level < LEVEL.Exchange2013) throw new EwsError("ErrorInvalidRequest", "QueryString needs Exchange2013 or later.");
    const qr = parseQueryString(qs.text.trim());
    restriction = restriction ? { op: "and", items: [restriction, qr] } : qr;
  }
  const sort = parseSort(op);
  const parents = mkid(op, "ParentFolderIds");
  const ids = parents ? parents.children.filter((k) => k.ns === NS.t) : [];
  if (ids.length === 0) throw new EwsError("ErrorInvalidRequest", "ParentFolderIds is required.");
  if (ids.length > MAX_FOLDERS) throw new EwsError("ErrorInvalidRequest", `At most ${MAX_FOLDERS} parent folders.`);
  const q: Query = { shape, view, restriction, sort };
  const msgs = await perEach(
    ids,
    "FindItemResponseMessage",
    async (el) => {
      const ref = await resolveFolder(c, el);
      // The mailbox root and the IPM subtree hold no items; there are no associated (FAI) or soft-deleted items here.
      if (ref.kind === "virtual" || traversal === "Associated" || traversal === "SoftDeleted") {
        return success("FindItemResponseMessage", rootFolder({ IndexedPagingOffset: 0, TotalItemsInView: 0, IncludesLastItemInRange: true }, []));
      }
      return success("FindItemResponseMessage", await findInFolder(c, ref.folder, q));
    },
    (e) => c.log.error("ews: FindItem failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
  return responseMessages("FindItem", msgs);
});

