/**
 * Sync state of one collection on one device: the items the device holds,
 * each with the change counter (modseq) it last saw. Diffing it against the
 * folder's current listing gives the Adds, Changes and Deletes of the next
 * Sync (MS-ASCMD §2.2.1.21); items the device added or changed itself are
 * written into the state so they are never echoed back.
 *
 * Packed for storage: count, then per item (ascending id) the id delta and
 * the modseq as LEB128 varints (about 4-6 bytes an item: a 10,000-message
 * folder's state is ~50 KB).
 */

export type ItemState = Map<number, number>; // item id -> modseq

export interface StateMeta {
  /** FilterType in force when the state was made (MS-ASCMD FilterType). */
  filterType: number;
  /** Ids sent to the device in the response that produced this key (loop detection). */
  sent: number[];
  /** True when no changes were left behind (MoreAvailable was not set). */
  complete: boolean;
  /** ClientId -> ServerId of adds accepted in the request that produced this key (a resent request is not applied twice). */
  clientIds?: Record<string, string>;
}

export function packState(items: ItemState): Uint8Array {
  const ids = [...items.keys()].sort((a, b) => a - b);
  const out: number[] = [];
  const push = (v: number) => {
    // LEB128 for non-negative integers up to 2^53
    while (v >= 0x80) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
  };
  push(ids.length);
  let prev = 0;
  for (const id of ids) {
    push(id - prev);
    push(items.get(id)!);
    prev = id;
  }
  return new Uint8Array(out);
}

export function unpackState(b: Uint8Array): ItemState {
  let i = 0;
  const read = (): number => {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (i >= b.length) throw new Error("truncated sync state");
      const c = b[i++]!;
      v += (c & 0x7f) * mul;
      if (!(c & 0x80)) return v;
      mul *= 0x80;
      if (mul > 2 ** 56) throw new Error("corrupt sync state");
    }
  };
  const n = read();
  const m: ItemState = new Map();
  let prev = 0;
  for (let k = 0; k < n; k++) {
    const id = prev + read();
    m.set(id, read());
    prev = id;
  }
  return m;
}
