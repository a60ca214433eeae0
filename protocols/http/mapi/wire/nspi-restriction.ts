/**
 * The restriction an NSPI GetMatches carries (MS-OXCMAPIHTTP §2.2.5.5 Filter,
 * MS-OXCDATA §2.12). Over MAPI/HTTP's NSPI endpoint the And/Or counts are
 * 32-bit and each embedded TaggedPropertyValue is an
 * AddressBookTaggedPropertyValue (MS-OXCMAPIHTTP §2.2.1.3, with HasValue).
 * The address book needs the shapes a client sends to find people: And, Or,
 * Not, Content, Property, Exist; anything else is refused as too complex.
 */
import { LIMITS, WireError } from "./errors.ts";
import type { Reader } from "./reader.ts";
import { type AbValue, readAbTagged } from "./nspi-values.ts";

export type NspiRestriction =
  | { kind: "and" | "or"; children: NspiRestriction[] }
  | { kind: "not"; child: NspiRestriction }
  /** MS-OXCDATA §2.12.4: FuzzyLevelLow 0 full, 1 substring, 2 prefix; high bits 0x1 ignore case. */
  | { kind: "content"; fuzzyLow: number; fuzzyHigh: number; tag: number; value: AbValue }
  /** MS-OXCDATA §2.12.5: RelOp 0 <, 1 <=, 2 >, 3 >=, 4 ==, 5 !=, 6 like. */
  | { kind: "property"; relop: number; tag: number; value: AbValue }
  | { kind: "exist"; tag: number };

export function readNspiRestriction(r: Reader, depth = 0): NspiRestriction {
  if (depth > LIMITS.restrictionDepth) throw new WireError("too-large", "restriction nested too deep");
  const type = r.u8();
  switch (type) {
    case 0x00:
    case 0x01: {
      const n = r.count(r.u32(), LIMITS.restrictionChildren, 1, "sub-restrictions");
      const children: NspiRestriction[] = [];
      for (let i = 0; i < n; i++) children.push(readNspiRestriction(r, depth + 1));
      return { kind: type === 0 ? "and" : "or", children };
    }
    case 0x02:
      return { kind: "not", child: readNspiRestriction(r, depth + 1) };
    case 0x03: {
      const fuzzyLow = r.u16();
      const fuzzyHigh = r.u16();
      const tag = r.u32();
      const v = readAbTagged(r);
      return { kind: "content", fuzzyLow, fuzzyHigh, tag, value: v.value };
    }
    case 0x04: {
      const relop = r.u8();
      const tag = r.u32();
      const v = readAbTagged(r);
      return { kind: "property", relop, tag, value: v.value };
    }
    case 0x08:
      return { kind: "exist", tag: r.u32() };
    default:
      throw new WireError("bad-value", `restriction type 0x${type.toString(16)} is not one the address book evaluates`);
  }
}
