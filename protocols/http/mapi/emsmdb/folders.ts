/**
 * The folder tree a logon shows (MS-OXCSTOR §2.2.1.1.3 RopLogon's 13
 * special folder ids): the store's folders under a virtual "Top of
 * Information Store" (the IPM subtree), itself under a virtual Root, with
 * the special folders that have no store folder (Deferred Action, Spooler
 * Queue, Common Views, Schedule, Search, Views, Shortcuts) as virtual,
 * empty, read-only folders. Inbox, Outbox, Sent Items and Deleted Items are
 * the store's INBOX, "Outbox", \Sent and \Trash folders; Outbox is virtual
 * until the store has one.
 */
import type { Folder, MailStore } from "../../../../storage/api.ts";
import { decodeCounter, folderCounter, virtualCounter } from "./ids.ts";
import { containerClassOf, type FolderView } from "./props.ts";

/** Virtual folder numbers (counter = 2^47 + n). */
export const V = { Root: 1, DeferredAction: 2, SpoolerQueue: 3, IpmSubtree: 4, CommonViews: 5, Schedule: 6, Search: 7, Views: 8, Shortcuts: 9, Outbox: 10 } as const;

const VIRTUAL_NAMES: Record<number, string> = {
  [V.Root]: "",
  [V.DeferredAction]: "Deferred Action",
  [V.SpoolerQueue]: "Spooler Queue",
  [V.IpmSubtree]: "Top of Information Store",
  [V.CommonViews]: "Common Views",
  [V.Schedule]: "Schedule",
  [V.Search]: "Finder",
  [V.Views]: "Views",
  [V.Shortcuts]: "Shortcuts",
  [V.Outbox]: "Outbox",
};

/** Parent of each virtual folder (MS-OXOSFLD §2.2.2: the non-IPM special folders sit under Root, Outbox under the IPM subtree). */
const VIRTUAL_PARENT: Record<number, number> = {
  [V.Root]: V.Root,
  [V.DeferredAction]: V.Root,
  [V.SpoolerQueue]: V.Root,
  [V.IpmSubtree]: V.Root,
  [V.CommonViews]: V.Root,
  [V.Schedule]: V.Root,
  [V.Search]: V.Root,
  [V.Views]: V.Root,
  [V.Shortcuts]: V.Root,
  [V.Outbox]: V.IpmSubtree,
};

export class FolderTree {
  private constructor(
    readonly folders: Folder[],
    private readonly byId: Map<number, Folder>,
  ) {}

  static async load(store: MailStore, accountId: number): Promise<FolderTree> {
    const folders = await store.listFolders(accountId);
    return new FolderTree(folders, new Map(folders.map((f) => [f.id, f])));
  }

  inbox(): Folder | undefined {
    return this.folders.find((f) => f.name === "INBOX" && f.itemClass === "mail");
  }
  special(use: Folder["specialUse"]): Folder | undefined {
    return this.folders.find((f) => f.specialUse === use && f.itemClass === "mail");
  }
  outbox(): Folder | undefined {
    return this.folders.find((f) => f.name === "Outbox" && f.itemClass === "mail" && f.parentId === null);
  }

  /** The 13 folder counters of RopLogon's FolderIds, in the order of MS-OXCROPS §2.2.3.1.2. */
  logonFolders(): number[] {
    const real = (f: Folder | undefined, fallback: number) => (f ? folderCounter(f.id) : virtualCounter(fallback));
    return [
      virtualCounter(V.Root),
      virtualCounter(V.DeferredAction),
      virtualCounter(V.SpoolerQueue),
      virtualCounter(V.IpmSubtree),
      real(this.inbox(), V.IpmSubtree),
      real(this.outbox(), V.Outbox),
      real(this.special("\\Sent"), V.IpmSubtree),
      real(this.special("\\Trash"), V.IpmSubtree),
      virtualCounter(V.CommonViews),
      virtualCounter(V.Schedule),
      virtualCounter(V.Search),
      virtualCounter(V.Views),
      virtualCounter(V.Shortcuts),
    ];
  }

  /** The last segment of a store folder's name (the MAPI display name); INBOX shows as "Inbox". */
  private displayName(f: Folder): string {
    if (f.name === "INBOX") return "Inbox";
    const i = f.name.lastIndexOf("/");
    return i < 0 ? f.name : f.name.slice(i + 1);
  }

  /** The view of a counter, or null when it names no folder of this account. */
  view(counter: number): FolderView | null {
    const t = decodeCounter(counter);
    if (t.kind === "virtual") {
      if (!(t.n in VIRTUAL_NAMES)) return null;
      if (t.n === V.Outbox && this.outbox()) return null;
      const hasSubfolders = t.n === V.Root || (t.n === V.IpmSubtree && this.folders.some((f) => f.parentId === null));
      return { counter, parentCounter: virtualCounter(VIRTUAL_PARENT[t.n]!), name: VIRTUAL_NAMES[t.n]!, folder: null, status: null, hasSubfolders, containerClass: t.n === V.IpmSubtree || t.n === V.Outbox ? "IPF.Note" : "" };
    }
    if (t.kind !== "folder") return null;
    const f = this.byId.get(t.id);
    if (!f) return null;
    return {
      counter,
      parentCounter: f.parentId === null ? virtualCounter(V.IpmSubtree) : folderCounter(f.parentId),
      name: this.displayName(f),
      folder: f,
      status: null,
      hasSubfolders: this.folders.some((x) => x.parentId === f.id),
      containerClass: containerClassOf(f.itemClass),
    };
  }

  /** The direct subfolders of a folder (its hierarchy table), or all below it when `deep`. */
  children(counter: number, deep: boolean): FolderView[] {
    const t = decodeCounter(counter);
    let direct: number[];
    if (t.kind === "virtual" && t.n === V.Root) direct = [virtualCounter(V.IpmSubtree), ...[V.DeferredAction, V.SpoolerQueue, V.CommonViews, V.Schedule, V.Search, V.Views, V.Shortcuts].map(virtualCounter)];
    else if (t.kind === "virtual" && t.n === V.IpmSubtree) {
      direct = this.folders.filter((f) => f.parentId === null).map((f) => folderCounter(f.id));
      if (!this.outbox()) direct.push(virtualCounter(V.Outbox));
    } else if (t.kind === "folder") direct = this.folders.filter((f) => f.parentId === t.id).map((f) => folderCounter(f.id));
    else direct = [];
    const out: FolderView[] = [];
    for (const c of direct) {
      const v = this.view(c);
      if (!v) continue;
      out.push(v);
      if (deep && out.length < 10000) out.push(...this.children(c, true));
    }
    return out;
  }
}
