/**
 * Table objects (MS-OXCTABL): the rows a hierarchy, contents, rules or
 * attachments table shows, restricted and sorted, walked by a cursor. The
 * rows are read when the table is made and bounded (MAX_TABLE_ROWS: a
 * contents table shows the folder's newest messages up to that many).
 */
import type { MessageIndex } from "../../../../storage/api.ts";
import { RULES_SCRIPT_NAME, sieveToRules } from "../../../../src/sieve/rules.ts";
import type { Exec } from "./engine.ts";
import { FolderTree } from "./folders.ts";
import { folderCounter } from "./ids.ts";
import { attachmentsOf, folderProps, messageListProps, set, type FolderView } from "./props.ts";
import { compareValues, matches } from "./restriction.ts";
import type { TableKind, TableObject } from "./objects.ts";
import { lookup, type PropMap } from "./values.ts";

export const MAX_TABLE_ROWS = 20000;
const INDEX_BATCH = 500;

export function newTable(table: TableKind, rows: PropMap[]): TableObject {
  return { kind: "table", table, rows, view: rows.slice(), columns: [], restriction: null, sort: [], position: 0 };
}

/** A folder's view with its counts read (ContentCount, ContentUnreadCount). */
export async function withStatus(x: Exec, v: FolderView): Promise<FolderView> {
  return v.folder ? { ...v, status: await x.c.store.folderStatus(v.folder.id) } : v;
}

/** MS-OXCFOLD §2.2.1.13 RopGetHierarchyTable: the subfolders (TableFlags 0x04 Depth: all below). */
export async function hierarchyRows(x: Exec, counter: number, deep: boolean): Promise<PropMap[]> {
  const tree = await FolderTree.load(x.c.store, x.s.accountId);
  const rows: PropMap[] = [];
  for (const v of tree.children(counter, deep).slice(0, MAX_TABLE_ROWS)) rows.push(folderProps(x.s.accountId, await withStatus(x, v)));
  return rows;
}

/** MS-OXCFOLD §2.2.1.14 RopGetContentsTable: the folder's messages (newest MAX_TABLE_ROWS), in UID order. */
export async function contentsRows(x: Exec, v: FolderView): Promise<PropMap[]> {
  if (!v.folder) return [];
  const summaries = await x.c.store.listMessages(v.folder.id);
  const uids = summaries.slice(-MAX_TABLE_ROWS).map((m) => m.uid);
  const rows: PropMap[] = [];
  for (let i = 0; i < uids.length; i += INDEX_BATCH) {
    const batch: MessageIndex[] = await x.c.store.getMessages(v.folder.id, uids.slice(i, i + INDEX_BATCH));
    for (const m of batch) rows.push(messageListProps(x.s.accountId, folderCounter(v.folder.id), m, x.s.email));
  }
  return rows;
}

/**
 * MS-OXORULE §2.2.1.3.1.2 rules table: the rules of the webmail's rules
 * script when it is the active Sieve script (src/sieve/rules.ts); another
 * active script shows as one rule named after it; none, an empty table.
 */
export async function rulesRows(x: Exec): Promise<PropMap[]> {
  const active = await x.c.server.storage.sieve.activeScript(x.s.accountId);
  if (!active) return [];
  const set0 = active.name === RULES_SCRIPT_NAME ? sieveToRules(active.content) : null;
  const rules = set0 ? set0.rules.map((r) => ({ name: r.name, enabled: r.enabled })) : [{ name: active.name, enabled: true }];
  return rules.slice(0, MAX_TABLE_ROWS).map((rule, i) => {
    const m: PropMap = new Map();
    set(m, "RuleId", BigInt(i + 1));
    set(m, "RuleSequence", i + 1);
    set(m, "RuleState", rule.enabled ? 0x1 : 0x0); // MS-OXORULE §2.2.1.3.1.3 ST_ENABLED
    set(m, "RuleName", rule.name);
    return m;
  });
}

/** MS-OXCMSG §2.2.3.17 attachments table of a stored message. */
export function attachmentRows(raw: Uint8Array | null, root: Parameters<typeof attachmentsOf>[0] | null): PropMap[] {
  if (!raw || !root) return [];
  return attachmentsOf(root).map((a) => {
    const m: PropMap = new Map();
    set(m, "AttachNumber", a.num);
    set(m, "AttachMethod", 1); // ATTACH_BY_VALUE
    set(m, "AttachLongFilename", a.filename);
    set(m, "AttachFilename", a.filename);
    set(m, "DisplayName", a.filename);
    set(m, "AttachMimeTag", a.mimeType);
    set(m, "AttachSize", a.part.bodyEnd - a.part.bodyStart);
    set(m, "ObjectType", 7); // MAPI_ATTACH
    return m;
  });
}

/** Re-applies restriction and sort; the cursor goes back to the beginning (MS-OXCTABL §3.2.5.3, §3.2.5.4). */
export function refresh(t: TableObject): void {
  const r = t.restriction;
  const view = r ? t.rows.filter((row) => matches(r, row)) : t.rows.slice();
  if (t.sort.length) {
    const keys = t.sort;
    view.sort((a, b) => {
      for (const k of keys) {
        const va = lookup(a, k.tag & 0xffff0000);
        const vb = lookup(b, k.tag & 0xffff0000);
        let c = 0;
        if (!va || !vb) c = !va && !vb ? 0 : !va ? -1 : 1;
        else c = compareValues(va.value, vb.value) ?? 0;
        if (c) return k.desc ? -c : c;
      }
      return 0;
    });
  }
  t.view = view;
  t.position = 0;
}

