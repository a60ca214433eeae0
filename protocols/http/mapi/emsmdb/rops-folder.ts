/**
 * Folder ROPs (MS-OXCROPS §2.2.4, MS-OXCFOLD): RopOpenFolder,
 * RopGetHierarchyTable, RopGetContentsTable, and RopGetRulesTable
 * (MS-OXORULE §2.2.2) on a folder or the logon (ruler asks it of the logon).
 */
import type { Writer } from "../wire/writer.ts";
import { RopError, ec } from "./errors.ts";
import { input, output, registerRop, type Exec } from "./engine.ts";
import { FolderTree, V } from "./folders.ts";
import { counterOf, virtualCounter } from "./ids.ts";
import type { FolderView } from "./props.ts";
import { contentsRows, hierarchyRows, newTable, rulesRows, withStatus } from "./tables.ts";

/** The folder a FolderId names in this account (ecNotFound otherwise). */
export async function folderByFid(x: Exec, fid: bigint): Promise<FolderView> {
  const counter = counterOf(fid);
  const tree = await FolderTree.load(x.c.store, x.s.accountId);
  const v = counter === null ? null : tree.view(counter);
  if (!v || (v.folder && v.folder.accountId !== x.s.accountId)) throw new RopError(ec.NotFound, "no such folder");
  return v;
}

/** The folder an input object stands for: a folder object, or the logon (its IPM subtree). */
export async function folderOfInput(x: Exec, idx: number): Promise<FolderView> {
  const o = input(x, idx);
  if (o.kind === "folder") return o.view;
  if (o.kind === "logon") return (await FolderTree.load(x.c.store, x.s.accountId)).view(virtualCounter(V.IpmSubtree))!;
  throw new RopError(ec.InvalidObject, "not a folder");
}

// RopOpenFolder §2.2.4.1: response HasRules, IsGhosted (never ghosted: one replica).
registerRop(0x02, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  const fid = r.u64();
  r.u8(); // OpenModeFlags
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      const o = input(x, inIndex);
      if (o.kind !== "logon" && o.kind !== "folder") throw new RopError(ec.InvalidObject, "not a logon or folder");
      const v = await withStatus(x, await folderByFid(x, fid));
      const hasRules = v.folder?.name === "INBOX" && (await rulesRows(x)).length > 0;
      output(x, outIndex, { kind: "folder", logonId: x.logonId, view: v });
      w.u8(ropId).u8(outIndex).u32(0).u8(hasRules ? 1 : 0).u8(0);
    },
  };
});

/** MS-OXCFOLD §2.2.1.13.1 TableFlags: 0x04 Depth; 0x02 Associated (FAI: none kept), 0x40 UseUnicode. */
const DEPTH = 0x04;
const ASSOCIATED = 0x02;

// RopGetHierarchyTable §2.2.4.13 / RopGetContentsTable §2.2.4.14: response RowCount.
for (const id of [0x04, 0x05]) {
  registerRop(id, (r, ropId) => {
    const inIndex = r.u8();
    const outIndex = r.u8();
    const flags = r.u8();
    return {
      respIndex: outIndex,
      async run(x: Exec, w: Writer) {
        const v = await folderOfInput(x, inIndex);
        const rows = ropId === 0x04 ? await hierarchyRows(x, v.counter, (flags & DEPTH) !== 0) : flags & ASSOCIATED ? [] : await contentsRows(x, v);
        const t = newTable(ropId === 0x04 ? "hierarchy" : "contents", rows);
        output(x, outIndex, t);
        w.u8(ropId).u8(outIndex).u32(0).u32(rows.length);
      },
    };
  });
}

// RopGetRulesTable §2.2.11.2: the Sieve rules (tables.ts rulesRows); response only ReturnValue.
registerRop(0x3f, (r, ropId) => {
  const inIndex = r.u8();
  const outIndex = r.u8();
  r.u8(); // TableFlags
  return {
    respIndex: outIndex,
    async run(x: Exec, w: Writer) {
      await folderOfInput(x, inIndex);
      output(x, outIndex, newTable("rules", await rulesRows(x)));
      w.u8(ropId).u8(outIndex).u32(0);
    },
  };
});
