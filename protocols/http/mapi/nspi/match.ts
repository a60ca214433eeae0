/**
 * Finding people: ambiguous name resolution (MS-OXNSPI §3.1.4.7 ANR, the
 * PidTagAnr restriction and ResolveNames) and the evaluation of a GetMatches
 * restriction (MS-OXCDATA §2.12) over the GAL entries' properties.
 */
import type { NspiRestriction } from "../wire/nspi-restriction.ts";
import type { AbValue } from "../wire/nspi-values.ts";
import { Tag, propId } from "./constants.ts";
import type { GalEntry, NspiSessionState } from "./gal.ts";
import { entryProps, lookup } from "./props.ts";

/**
 * ANR (MS-OXNSPI §3.1.4.7): a name matches an entry whose address equals
 * it, or whose display name, address, local part, first or last name starts
 * with it (case-insensitive); "SMTP:" and "=" prefixes mean an exact address
 * or DN. Returns the matching entries.
 */
export function anr(gal: readonly GalEntry[], name: string): GalEntry[] {
  let q = name.trim().toLowerCase();
  if (!q) return [];
  if (q.startsWith("smtp:")) {
    q = q.slice(5);
    return gal.filter((e) => e.email === q);
  }
  if (q.startsWith("=")) {
    q = q.slice(1);
    return gal.filter((e) => e.email === q || e.alias.toLowerCase() === q || e.dn.toLowerCase() === q);
  }
  const exact = gal.filter((e) => e.email === q || e.dn.toLowerCase() === q);
  if (exact.length) return exact;
  return gal.filter((e) =>
    e.displayName.toLowerCase().startsWith(q) ||
    e.displayName.toLowerCase().split(/\s+/).some((w) => w.startsWith(q)) ||
    e.email.startsWith(q) ||
    e.firstName.toLowerCase().startsWith(q) ||
    e.lastName.toLowerCase().startsWith(q),
  );
}

const text = (v: AbValue): string | null => (typeof v === "string" ? v.toLowerCase() : null);

function compare(a: AbValue, b: AbValue): number | null {
  if (typeof a === "string" && typeof b === "string") return a.localeCompare(b, "en", { sensitivity: "base" });
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  if (a instanceof Uint8Array && b instanceof Uint8Array) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  }
  return null;
}

/** Whether entry `e` satisfies `r`. PidTagAnr in a Property or Content restriction runs ANR on its value. */
export function matches(e: GalEntry, st: NspiSessionState, r: NspiRestriction): boolean {
  switch (r.kind) {
    case "and":
      return r.children.every((c) => matches(e, st, c));
    case "or":
      return r.children.some((c) => matches(e, st, c));
    case "not":
      return !matches(e, st, r.child);
    case "exist":
      return lookup(entryProps(e, st, 0), r.tag) !== null;
    case "content":
    case "property": {
      if (propId(r.tag) === propId(Tag.Anr)) {
        const q = text(r.value);
        return q !== null && anr([e], q).length > 0;
      }
      const have = lookup(entryProps(e, st, 0), r.tag);
      if (!have) return false;
      const values = Array.isArray(have.value) ? (have.value as AbValue[]) : [have.value];
      return values.some((v) => (r.kind === "content" ? contentMatch(v, r.value, r.fuzzyLow, r.fuzzyHigh) : relop(v, r.value, r.relop)));
    }
  }
}

/** MS-OXCDATA §2.12.4: FuzzyLevelLow FL_FULLSTRING 0, FL_SUBSTRING 1, FL_PREFIX 2; FuzzyLevelHigh FL_IGNORECASE 0x1. */
function contentMatch(have: AbValue, want: AbValue, low: number, high: number): boolean {
  if (typeof have !== "string" || typeof want !== "string") return compare(have, want) === 0;
  const fold = high & 0x1 || high & 0x2 || high & 0x4; // IGNORECASE, IGNORENONSPACE, LOOSE: all compare case-insensitively here
  const h = fold ? have.toLowerCase() : have;
  const w = fold ? want.toLowerCase() : want;
  if (low === 1) return h.includes(w);
  if (low === 2) return h.startsWith(w);
  return h === w;
}

/** MS-OXCDATA §2.12.5 RelOp: 0 <, 1 <=, 2 >, 3 >=, 4 ==, 5 !=; 6 (like) is a case-insensitive prefix here. */
function relop(have: AbValue, want: AbValue, op: number): boolean {
  if (op === 6) {
    const h = text(have);
    const w = text(want);
    return h !== null && w !== null && h.startsWith(w);
  }
  const c = compare(have, want);
  if (c === null) return op === 5;
  return [c < 0, c <= 0, c > 0, c >= 0, c === 0, c !== 0][op] ?? false;
}
