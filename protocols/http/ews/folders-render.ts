/**
 * One folder as EWS shows it (Types.xsd BaseFolderType and its subtypes
 * FolderType, CalendarFolderType, ContactsFolderType, TasksFolderType), in
 * the shape the client asked for (FolderResponseShapeType). Other modules
 * (notifications, SyncFolderHierarchy) render folders with `renderFolder`.
 */
import type { Folder, FolderStatus, ItemClass, ItemProperty, TypedPropertyValue } from "../../../storage/api.ts";
import { EwsError, LEVEL, type EwsContext } from "./context.ts";
import { distinguishedName, folderIdXml, type FolderRef } from "./ids.ts";
import { childrenOf, displayName, folderClassOf, loadTree, parentOf, shallowOf, virtualName, type FolderTree } from "./folders-tree.ts";
import type { ExtendedPath, FolderShape, PropertyPath } from "./shape.ts";
import { extendedValue, renderExtended, type ComputedProperty } from "./extended.ts";
import { m, t, tv } from "./xml.ts";

/** Types.xsd: the element of each class (notes are plain folders of class IPF.StickyNote, MS-OXOSTNT). */
export const FOLDER_ELEMENT: Readonly<Record<ItemClass, string>> = {
  mail: "Folder",
  calendar: "CalendarFolder",
  contacts: "ContactsFolder",
  tasks: "TasksFolder",
  notes: "Folder",
};

/** MS-OXOCAL / MS-OXOCNTC / MS-OXOTASK / MS-OXOSTNT: the container class (PidTagContainerClass) of each store class. */
export const FOLDER_CLASS: Readonly<Record<ItemClass, string>> = {
  mail: "IPF.Note",
  calendar: "IPF.Appointment",
  contacts: "IPF.Contact",
  tasks: "IPF.Task",
  notes: "IPF.StickyNote",
};

/** The store class of a FolderClass a client sends (IPF.Note.Foo is mail, IPF.Appointment.Bar calendar; anything else mail). */
export function classOfFolderClass(fc: string | undefined): ItemClass | null {
  if (!fc) return null;
  for (const [cls, prefix] of Object.entries(FOLDER_CLASS) as [ItemClass, string][]) {
    if (fc === prefix || fc.startsWith(prefix + ".")) return cls;
  }
  return null;
}

/** The folder field URIs this server answers (Types.xsd UnindexedFieldURIType, folder:*). */
const FOLDER_FIELDS = new Set([
  "folder:FolderId",
  "folder:ParentFolderId",
  "folder:FolderClass",
  "folder:DisplayName",
  "folder:TotalCount",
  "folder:ChildFolderCount",
  "folder:EffectiveRights",
  "folder:DistinguishedFolderId",
  "folder:PermissionSet",
  "folder:UnreadCount",
  "folder:SharingEffectiveRights",
]);

/** Folder fields a shape may name that we have no value for (left out, as Exchange leaves out what a folder lacks). */
const FOLDER_FIELDS_ABSENT = new Set(["folder:ManagedFolderInformation", "folder:SearchParameters", "folder:PolicyTag", "folder:ArchiveTag", "folder:ReplicaList"]);

/** Refuses paths a folder shape cannot name (item fields in a FolderShape): ErrorInvalidPropertyRequest. */
export function checkFolderShape(shape: FolderShape): void {
  for (const p of shape.additional) {
    if (p.kind === "extended") continue;
    if (p.kind === "field" && (FOLDER_FIELDS.has(p.uri) || FOLDER_FIELDS_ABSENT.has(p.uri))) continue;
    throw new EwsError("ErrorInvalidPropertyRequest", `The property ${p.kind === "field" ? p.uri : `${p.uri}[${p.index}]`} is not a folder property.`);
  }
}

/**
 * MAPI folder properties ([MS-OXPROPS]) clients read as ExtendedFieldURI
 * PropertyTag (DavMail asks for all of these on every folder and filters
 * folders by PR_CONTAINER_CLASS): answered from what the store holds.
 * The two times are change stamps: the store keeps no folder modification
 * time, so they are derived from the folder's change number, which moves
 * whenever the folder or an item in it changes (what DavMail uses them for,
 * a collection tag).
 */
const TAG = {
  displayName: 0x3001,
  lastModified: 0x3008,
  urlName: 0x10f3,
  contentCount: 0x3602,
  unreadCount: 0x3603,
  subfolders: 0x360a,
  containerClass: 0x3613,
  localCommitTimeMax: 0x670a,
  articleNumNext: 0x6751,
  highestArticleNum: 0x6752,
} as const;

/** A change stamp as a SystemTime: 2000-01-01 plus one second per change (see TAG). */
function changeStamp(modseq: number): number {
  return Date.UTC(2000, 0, 1) + modseq * 1000;
}

/** Whether answering these paths needs the folder's item counts. */
function extendedNeedsCounts(paths: readonly PropertyPath[]): boolean {
  return paths.some((p) => p.kind === "extended" && (p.tag === TAG.contentCount || p.tag === TAG.unreadCount));
}

/** The computed MAPI properties of a folder (extended.ts ComputedProperty); undefined leaves the stored table to answer. */
export function folderComputed(tree: FolderTree, ref: FolderRef, status: FolderStatus | undefined): ComputedProperty {
  return (p: ExtendedPath): TypedPropertyValue | undefined => {
    if (p.tag === undefined) return undefined;
    const f = ref.kind === "store" ? (tree.byId.get(ref.folder.id) ?? ref.folder) : null;
    const name = f ? displayName(tree, f) : ref.kind === "virtual" ? virtualName(ref.name) : "";
    const modseq = f ? f.highestModseq : tree.head;
    switch (p.tag) {
      case TAG.displayName:
      case TAG.urlName:
        return { type: "string", value: name };
      case TAG.containerClass: {
        const cls = f ? folderClassOf(tree, f, FOLDER_CLASS) : null;
        return cls === null ? undefined : { type: "string", value: cls };
      }
      case TAG.contentCount:
        return { type: "int", value: status?.messages ?? 0 };
      case TAG.unreadCount:
        return { type: "int", value: status?.unseen ?? 0 };
      case TAG.subfolders:
        return { type: "bool", value: (ref.kind === "virtual" ? shallowOf(tree, ref) : childrenOf(tree, ref)).length > 0 };
      case TAG.lastModified:
      case TAG.localCommitTimeMax:
        return { type: "time", value: changeStamp(modseq) };
      case TAG.articleNumNext:
        return f ? { type: "int", value: f.uidNext } : undefined;
      case TAG.highestArticleNum:
        return f ? { type: "int", value: Math.max(0, f.uidNext - 1) } : undefined;
      default:
        return undefined;
    }
  };
}

/** A folder's value of an extended path (restrictions): computed first, then the stored table. */
export function folderExtendedValue(tree: FolderTree, ref: FolderRef, status: FolderStatus | undefined, p: ExtendedPath): string | number | boolean | undefined {
  const stored = ref.kind === "store" ? (tree.props.get(ref.folder.id) ?? []) : [];
  return extendedValue(stored, p, folderComputed(tree, ref, status));
}

/** Which fields a shape asks for: the base shape's set plus the additional ones. */
function fieldSet(shape: FolderShape): Set<string> {
  const s = new Set<string>(["folder:FolderId"]);
  if (shape.base !== "IdOnly") for (const f of ["folder:DisplayName", "folder:TotalCount", "folder:ChildFolderCount", "folder:UnreadCount"]) s.add(f);
  if (shape.base === "AllProperties") for (const f of ["folder:ParentFolderId", "folder:FolderClass", "folder:EffectiveRights", "folder:DistinguishedFolderId"]) s.add(f);
  for (const p of shape.additional) if (p.kind === "field") s.add(p.uri);
  return s;
}

/** Whether rendering in this shape needs the folder's item counts (one folderStatus each). */
export function shapeNeedsCounts(shape: FolderShape): boolean {
  const f = fieldSet(shape);
  return f.has("folder:TotalCount") || f.has("folder:UnreadCount") || extendedNeedsCounts(shape.additional);
}

/** What renderFolder may be given to save store reads when rendering many folders. */
export interface FolderRenderExtra {
  /** The tree of this request (loaded once per request otherwise). */
  tree?: FolderTree;
  /** Item counts (folderStatus) when already read. */
  status?: FolderStatus;
  /** The folder's typed properties when already read. */
  properties?: ItemProperty[];
}

/** Types.xsd EffectiveRightsType: the owner may do everything in an own folder; the virtual root holds no items. */
function effectiveRights(c: EwsContext, ref: FolderRef): string {
  const items = ref.kind === "store";
  return t(
    "EffectiveRights",
    tv("CreateAssociated", items),
    tv("CreateContents", items),
    tv("CreateHierarchy", ref.kind === "store" ? ref.folder.itemClass === "mail" || ref.folder.itemClass === "notes" : ref.name === "msgfolderroot"),
    tv("Delete", items),
    tv("Modify", items),
    tv("Read", true),
    c.version.level >= LEVEL.Exchange2010_SP1 ? tv("ViewPrivateItems", true) : "",
  );
}

/**
 * Types.xsd PermissionSetType / CalendarPermissionSetType: nobody but the
 * owner has rights (no sharing yet), said as Exchange says it: the Default
 * and Anonymous users with level None.
 */
function permissionSet(cls: ItemClass | null): string {
  const calendar = cls === "calendar";
  const one = (who: string) =>
    t(
      calendar ? "CalendarPermission" : "Permission",
      t("UserId", tv("DistinguishedUser", who)),
      tv("CanCreateItems", false),
      tv("CanCreateSubFolders", false),
      tv("IsFolderOwner", false),
      tv("IsFolderVisible", false),
      tv("IsFolderContact", false),
      tv("EditItems", "None"),
      tv("DeleteItems", "None"),
      tv("ReadItems", "None"),
      tv(calendar ? "CalendarPermissionLevel" : "PermissionLevel", "None"),
    );
  return t("PermissionSet", t(calendar ? "CalendarPermissions" : "Permissions", one("Default"), one("Anonymous")));
}

/** The element name a folder is written as. */
export function folderElement(ref: FolderRef): string {
  return ref.kind === "virtual" ? "Folder" : FOLDER_ELEMENT[ref.folder.itemClass];
}

/** The m:Folders content of a response message: the folder's FolderId (IdOnly) as the store has it after the operation. */
export async function folderAfter(c: EwsContext, tree: FolderTree, f: Folder): Promise<string> {
  return m("Folders", folderIdOnly(c, { kind: "store", folder: (await c.store.getFolderById(f.id)) ?? f }, tree.head));
}

/** `<t:Folder><t:FolderId/></t:Folder>` (CreateFolder, UpdateFolder, MoveFolder answers: MS-OXWSFOLD §3.1.4.2.3.2). */
export function folderIdOnly(c: EwsContext, ref: FolderRef, head: number): string {
  return t(folderElement(ref), folderIdXml(c.account.id, ref.kind === "store" ? ref.folder : ref.name, ref.kind === "store" ? ref.folder.highestModseq : head));
}

/** The folder element in the given shape. */
export async function renderFolder(c: EwsContext, ref: FolderRef, shape: FolderShape, extra: FolderRenderExtra = {}): Promise<string> {
  const tree = extra.tree ?? (await loadTree(c));
  const fields = fieldSet(shape);
  const has = (f: string) => fields.has(f);
  const folder: Folder | null = ref.kind === "store" ? (tree.byId.get(ref.folder.id) ?? ref.folder) : null;
  const cls = folder?.itemClass ?? null;
  const el = folderElement(ref);
  const idOf = (r: FolderRef, element: string) =>
    folderIdXml(c.account.id, r.kind === "store" ? r.folder : r.name, r.kind === "store" ? r.folder.highestModseq : tree.head, element);

  let status = extra.status;
  if (!status && folder && shapeNeedsCounts(shape)) status = await c.store.folderStatus(folder.id);

  const parent = parentOf(tree, ref);
  const name = folder ? displayName(tree, folder) : ref.kind === "virtual" ? virtualName(ref.name) : "";
  const childCount = ref.kind === "virtual" ? shallowOf(tree, ref).length : childrenOf(tree, ref).length;

  // Extended properties live in the store's folder property table (extended.ts maps the paths).
  let ext = "";
  if (shape.additional.some((p) => p.kind === "extended")) {
    const stored = folder ? (extra.properties ?? tree.props.get(folder.id) ?? (await c.store.getProperties({ folderId: folder.id }))) : [];
    ext = renderExtended(shape.additional, stored, folderComputed(tree, ref, status));
  }

  let distinguished: string | null = null;
  if (has("folder:DistinguishedFolderId") && c.version.level >= LEVEL.Exchange2013) {
    distinguished = folder ? distinguishedName(folder, tree.defaults) : ref.kind === "virtual" ? ref.name : null;
  }

  const unread = has("folder:UnreadCount") && (cls === "mail" || cls === "notes" || cls === "tasks" || cls === null) ? (status?.unseen ?? 0) : null;
  const perms = has("folder:PermissionSet") ? permissionSet(cls) : "";
  const sharing = has("folder:SharingEffectiveRights") && (cls === "calendar" || cls === "contacts") ? tv("SharingEffectiveRights", cls === "calendar" ? "FullDetails" : "Read") : "";
  // Types.xsd: BaseFolderType's sequence, then the subtype's own elements.
  return t(
    el,
    idOf(ref, "FolderId"),
    has("folder:ParentFolderId") && parent ? idOf(parent, "ParentFolderId") : "",
    has("folder:FolderClass") && folder ? tv("FolderClass", folderClassOf(tree, folder, FOLDER_CLASS)) : "",
    has("folder:DisplayName") ? tv("DisplayName", name) : "",
    has("folder:TotalCount") ? tv("TotalCount", status?.messages ?? 0) : "",
    has("folder:ChildFolderCount") ? tv("ChildFolderCount", childCount) : "",
    ext,
    has("folder:EffectiveRights") ? effectiveRights(c, ref) : "",
    tv("DistinguishedFolderId", distinguished),
    el === "CalendarFolder" || el === "ContactsFolder" ? sharing + perms : perms,
    el === "Folder" || el === "TasksFolder" ? tv("UnreadCount", unread) : "",
  );
}

/** Renders several folders of one tree, reading each folder's counts once (FindFolder, GetFolder, SyncFolderHierarchy). */
export async function renderFolders(c: EwsContext, tree: FolderTree, refs: readonly FolderRef[], shape: FolderShape): Promise<string[]> {
  const counts = shapeNeedsCounts(shape);
  const out: string[] = [];
  for (const ref of refs) {
    const status = counts && ref.kind === "store" ? await c.store.folderStatus(ref.folder.id) : undefined;
    out.push(await renderFolder(c, ref, shape, { tree, status }));
  }
  return out;
}
