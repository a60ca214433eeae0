/**
 * Reading folders: GetFolder and FindFolder (MS-OXWSFOLD §3.1.4.6 and
 * §3.1.4.4; Messages.xsd GetFolderType, FindFolderType). The writing
 * operations (CreateFolder, UpdateFolder, DeleteFolder...) are in
 * folders-write.ts.
 */
import type { FolderStatus } from "../../../storage/api.ts";
import { EwsError, registerOperation } from "./context.ts";
import type { FolderRef } from "./ids.ts";
import { checkFolderShape, FOLDER_CLASS, folderExtendedValue, renderFolders } from "./folders-render.ts";
import { childrenOf, descendantsOf, displayName, folderClassOf, folderIdElements, perFolder, resolveIn, shallowOf, virtualName, type FolderTree } from "./folders-tree.ts";
import { evaluate, parseRestriction, restrictionPaths, type FieldValue } from "./restriction.ts";
import { parseFolderShape, type PropertyPath } from "./shape.ts";
import { attr, m, ma, mkid, type XmlElement } from "./xml.ts";
import "./folders-write.ts";
import "./folders-move.ts";

// MS-OXWSFOLD §3.1.4.6 GetFolder: one response message per folder id, in request order.
registerOperation("GetFolder", async (c, op) => {
  const shape = parseFolderShape(mkid(op, "FolderShape"));
  checkFolderShape(shape);
  const ids = folderIdElements(mkid(op, "FolderIds"), "FolderIds");
  return perFolder(c, "GetFolder", ids, async (el, tree) => {
    const ref = await resolveIn(c, tree, el);
    const [xml] = await renderFolders(c, tree, [ref], shape);
    return m("Folders", xml);
  });
});

/** Types.xsd IndexedPageFolderView / FractionalPageFolderView: which slice of `total` folders to return. */
interface View {
  start: number;
  max: number;
  fractional: boolean;
}

function parseView(op: XmlElement, total: number): View {
  const indexed = mkid(op, "IndexedPageFolderView");
  const fractional = mkid(op, "FractionalPageFolderView");
  const view = indexed ?? fractional;
  if (!view) return { start: 0, max: total, fractional: false };
  const maxAttr = attr(view, "MaxEntriesReturned");
  let max = total;
  if (maxAttr !== undefined) {
    if (!/^\d{1,9}$/.test(maxAttr.trim()) || Number(maxAttr) < 1) throw new EwsError("ErrorInvalidRequest", "MaxEntriesReturned must be a positive number.");
    max = Number(maxAttr);
  }
  if (indexed) {
    const off = (attr(indexed, "Offset") ?? "0").trim();
    if (!/^\d{1,9}$/.test(off)) throw new EwsError("ErrorInvalidRequest", "Offset must be a number of folders.");
    const base = attr(indexed, "BasePoint") ?? "Beginning";
    if (base !== "Beginning" && base !== "End") throw new EwsError("ErrorInvalidRequest", "BasePoint must be Beginning or End.");
    const offset = Number(off);
    // Types.xsd IndexBasePointType End: the offset counts back from the last folder
    const start = base === "Beginning" ? offset : Math.max(0, total - offset - Math.min(max, total));
    return { start, max, fractional: false };
  }
  const num = (attr(fractional, "Numerator") ?? "").trim();
  const den = (attr(fractional, "Denominator") ?? "").trim();
  if (!/^\d{1,9}$/.test(num) || !/^\d{1,9}$/.test(den) || Number(den) < 1 || Number(num) > Number(den)) {
    throw new EwsError("ErrorInvalidRequest", "FractionalPageFolderView needs a Numerator no larger than a positive Denominator.");
  }
  return { start: Math.floor((total * Number(num)) / Number(den)), max, fractional: true };
}

// MS-OXWSFOLD §3.1.4.4 FindFolder: the folders under each parent, filtered, paged.
registerOperation("FindFolder", async (c, op) => {
  const traversal = attr(op, "Traversal") ?? "Shallow";
  if (traversal === "SoftDeleted") throw new EwsError("ErrorInvalidRequest", "This server keeps no soft-deleted folders.");
  if (traversal !== "Shallow" && traversal !== "Deep") throw new EwsError("ErrorInvalidRequest", "Traversal must be Shallow or Deep.");
  const shape = parseFolderShape(mkid(op, "FolderShape"));
  checkFolderShape(shape);
  const restriction = mkid(op, "Restriction");
  const parents = folderIdElements(mkid(op, "ParentFolderIds"), "ParentFolderIds");
  return perFolder(c, "FindFolder", parents, async (el, tree) => {
    const parent = await resolveIn(c, tree, el);
    let found = traversal === "Deep" ? descendantsOf(tree, parent) : shallowOf(tree, parent);
    const r = parseRestriction(restriction);
    if (r) {
      // the counts cost a store read per folder: only when the restriction tests them
      const counts = restrictionPaths(r).some(isCountPath);
      const matched: FolderRef[] = [];
      for (const ref of found) {
        const status = counts && ref.kind === "store" ? await c.store.folderStatus(ref.folder.id) : undefined;
        if (evaluate(r, (path) => folderValue(tree, ref, path, status))) matched.push(ref);
      }
      found = matched;
    }
    const total = found.length;
    const view = parseView(op, total);
    const page = found.slice(view.start, view.start + view.max);
    const next = view.start + page.length;
    const rendered = await renderFolders(c, tree, page, shape);
    const attrs: Record<string, string | number | boolean> = view.fractional
      ? { NumeratorOffset: next, AbsoluteDenominator: total, IncludesLastItemInRange: next >= total, TotalItemsInView: total }
      : { IndexedPagingOffset: next, IncludesLastItemInRange: next >= total, TotalItemsInView: total };
    return ma("RootFolder", attrs, `<t:Folders>${rendered.join("")}</t:Folders>`);
  });
});

/** folder:TotalCount / folder:UnreadCount or their MAPI tags (PidTagContentCount 0x3602, PidTagContentUnreadCount 0x3603). */
function isCountPath(p: PropertyPath): boolean {
  return p.kind === "field" ? p.uri === "folder:TotalCount" || p.uri === "folder:UnreadCount" : p.kind === "extended" && (p.tag === 0x3602 || p.tag === 0x3603);
}

/**
 * A folder property's value for FindFolder's restriction (restriction.ts evaluates it as
 * FindItem's): folder:DisplayName, FolderClass, the counts, or an extended property (MAPI
 * folder tags, stored ones). `status` is read only when the restriction tests a count.
 */
function folderValue(tree: FolderTree, ref: FolderRef, path: PropertyPath, status: FolderStatus | undefined): FieldValue {
  const f = ref.kind === "store" ? ref.folder : null;
  if (path.kind === "extended") return folderExtendedValue(tree, ref, status, path);
  if (path.kind !== "field") return undefined;
  switch (path.uri) {
    case "folder:DisplayName":
      return f ? displayName(tree, f) : ref.kind === "virtual" ? virtualName(ref.name) : "";
    case "folder:FolderClass":
      return f ? (folderClassOf(tree, f, FOLDER_CLASS) ?? undefined) : undefined;
    case "folder:ChildFolderCount":
      return ref.kind === "virtual" ? shallowOf(tree, ref).length : childrenOf(tree, ref).length;
    case "folder:TotalCount":
      return f ? status?.messages : 0;
    case "folder:UnreadCount":
      return f ? status?.unseen : 0;
    default:
      return undefined;
  }
}
