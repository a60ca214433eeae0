/**
 * Table ROPs (MS-OXCROPS §2.2.5, MS-OXCTABL §3.2.5): RopSetColumns,
 * RopSortTable, RopRestrict, RopQueryRows, RopQueryPosition, RopSeekRow.
 */
import { Reader } from "../wire/reader.ts";
import type { Writer } from "../wire/writer.ts";
import { Writer as RowWriter } from "../wire/writer.ts";
import { RopError, ec } from "./errors.ts";
import { input, registerRop, type Exec } from "./engine.ts";
import type { TableObject } from "./objects.ts";
import { readRestriction } from "../wire/restriction.ts";
import { checkOffered } from "./restriction.ts";
import { refresh } from "./tables.ts";
import { writeRow } from "./values.ts";

/** Columns per table and sort keys per request (rules: client counts are bounded). */
const MAX_COLUMNS = 1024;
const MAX_SORT_KEYS = 32;
/** Rows one RopQueryRows may answer, whatever it asks. */
export const MAX_ROWS_PER_QUERY = 1000;

function table(x: Exec, idx: number): TableObject {
  const o = input(x, idx);
  if (o.kind !== "table") throw new RopError(ec.InvalidObject, "not a table");
  return o;
}

// RopSetColumns §2.2.5.1: response TableStatus 0 (TBLSTAT_COMPLETE).
registerRop(0x12, (r, ropId) => {
  const inIndex = r.u8();
  r.u8(); // SetColumnsFlags
  const n = r.count(r.u16(), MAX_COLUMNS, 4, "columns");
  const tags: number[] = [];
  for (let i = 0; i < n; i++) tags.push(r.u32());
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      table(x, inIndex).columns = tags;
      w.u8(ropId).u8(inIndex).u32(0).u8(0);
    },
  };
});

// RopSortTable §2.2.5.2: SortOrders of (PropertyType u16, PropertyId u16, Order u8: 0 ascending, 1 descending).
registerRop(0x13, (r, ropId) => {
  const inIndex = r.u8();
  r.u8(); // SortTableFlags
  const n = r.count(r.u16(), MAX_SORT_KEYS, 5, "sort orders");
  const categorized = r.u16();
  r.u16(); // ExpandedCount
  const keys: { tag: number; desc: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const type = r.u16();
    const id = r.u16();
    const order = r.u8();
    keys.push({ tag: ((id << 16) | type) >>> 0, desc: order === 1 });
  }
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const t = table(x, inIndex);
      if (categorized > 0) throw new RopError(ec.NotSupported, "categorized sorts are not offered");
      t.sort = keys;
      refresh(t);
      w.u8(ropId).u8(inIndex).u32(0).u8(0);
    },
  };
});

// RopRestrict §2.2.5.3: the restriction is parsed when run, so one we do not offer answers ecNotSupported and the buffer goes on.
registerRop(0x14, (r, ropId) => {
  const inIndex = r.u8();
  r.u8(); // RestrictFlags
  const data = r.bytes(r.u16(), "RestrictionData");
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const t = table(x, inIndex);
      if (data.length === 0) t.restriction = null;
      else {
        const rr = new Reader(data);
        try {
          const res = readRestriction(rr, "rop");
          rr.done("restriction");
          checkOffered(res);
          t.restriction = res;
        } catch (e) {
          if (e instanceof RopError) throw e;
          throw new RopError(ec.InvalidParam, e instanceof Error ? e.message : "bad restriction");
        }
      }
      refresh(t);
      w.u8(ropId).u8(inIndex).u32(0).u8(0);
    },
  };
});

/** MS-OXCTABL §2.2.2.1.1 bookmarks the answers name: BEGINNING 0, CURRENT 1, END 2. */
const originOf = (t: TableObject): number => (t.position <= 0 ? 0 : t.position >= t.view.length ? 2 : 1);

// RopQueryRows §2.2.5.4: as many of the asked rows as fit the room; none fit -> ecBufferTooSmall.
registerRop(0x15, (r, ropId) => {
  const inIndex = r.u8();
  const flags = r.u8();
  const forward = r.u8() !== 0;
  const want = Math.min(r.u16(), MAX_ROWS_PER_QUERY);
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const t = table(x, inIndex);
      if (!t.columns.length) throw new RopError(ec.NullObject, "RopSetColumns first"); // MS-OXCTABL §3.2.5.5
      const rows = new RowWriter();
      let pos = t.position;
      let n = 0;
      const budget = x.room - 9;
      while (n < want && (forward ? pos < t.view.length : pos > 0)) {
        const row = t.view[forward ? pos : pos - 1]!;
        const before = rows.pos;
        writeRow(rows, t.columns, row);
        if (rows.pos > budget) {
          rows.pos = before;
          break;
        }
        pos += forward ? 1 : -1;
        n++;
      }
      if (n === 0 && want > 0 && (forward ? pos < t.view.length : pos > 0)) throw new RopError(ec.BufferTooSmall, "no row fits");
      if (!(flags & 0x01)) t.position = pos; // 0x01 NoAdvance
      w.u8(ropId).u8(inIndex).u32(0).u8(originOf({ ...t, position: pos })).u16(n).bytes(rows.finish());
    },
  };
});

// RopQueryPosition §2.2.5.7: Numerator (current row), Denominator (rows).
registerRop(0x17, (r, ropId) => {
  const inIndex = r.u8();
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const t = table(x, inIndex);
      w.u8(ropId).u8(inIndex).u32(0).u32(t.position).u32(t.view.length);
    },
  };
});

// RopSeekRow §2.2.5.8: Origin (0 BEGINNING, 1 CURRENT, 2 END), RowCount (signed), WantRowMovedCount.
registerRop(0x18, (r, ropId) => {
  const inIndex = r.u8();
  const origin = r.u8();
  const count = r.i32();
  r.u8(); // WantRowMovedCount: RowsSought is always answered
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      const t = table(x, inIndex);
      if (origin > 2) throw new RopError(ec.InvalidParam, "bad origin");
      const from = origin === 0 ? 0 : origin === 1 ? t.position : t.view.length;
      const target = Math.max(0, Math.min(t.view.length, from + count));
      const sought = target - from;
      t.position = target;
      w.u8(ropId).u8(inIndex).u32(0).u8(sought !== count ? 1 : 0).i32(sought);
    },
  };
});
