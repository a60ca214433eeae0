/**
 * Line-level edits of a stored vCard for contact.ts's merge: the rules for
 * one field, a repeated field and a date, over the shared line editor
 * (../vcard/lines.ts LineEditor, which ActiveSync's converter uses too).
 * Unchanged lines are never re-serialised.
 */
import { LineEditor, lineText, newLine, paramValues, type Line, type Param } from "../vcard/lines.ts";
import { GENERIC_TYPES, isPref, typeOf, typeParams, type VCardVersion } from "./contact-read.ts";

/** The shared line editor (../vcard/lines.ts), under the name the contact merge uses. */
export const Editor = LineEditor;
export type Editor = LineEditor;

/** A line with a new value and parameters, same group and name. */
export function rewrite(old: Line, params: Param[], value: string): Line {
  return { raw: lineText(old.group, old.name, params, value), group: old.group, name: old.name, params, value };
}

/** A base64 PHOTO line folded quickly (ASCII only: 75 octets, then 74 after the leading space; RFC 6350 §3.2). */
export function photoLine(head: string, params: Param[], value: string, group = ""): Line {
  const short = lineText(group, head, params, "");
  const logical = short.slice(0, -2).replace(/\r\n /g, "") + value;
  const chunks = [logical.slice(0, 75)];
  for (let i = 75; i < logical.length; i += 74) chunks.push(logical.slice(i, i + 74));
  return { raw: chunks.join("\r\n ") + "\r\n", group, name: head, params, value };
}

/** Single-value field: keep when equal, rewrite the value (other params kept), remove, or append. */
export function single(ed: Editor, lines: Line[], at: number, had: string, want: string, name: string, encode: (v: string) => string, dropParams: string[] = []): void {
  if (want === had) return;
  if (!want) {
    if (at >= 0) ed.remove(at);
    return;
  }
  if (at >= 0) {
    const old = lines[at]!;
    ed.set(at, rewrite(old, old.params.filter((p) => !dropParams.includes(p.name)), encode(want)));
  } else ed.append(newLine(name, [], encode(want)));
}

/** TYPE/PREF parameters for a value whose type or preference changed; others of the line are kept. */
export function valueParams(old: Line | undefined, name: string, v: { type: string; pref: boolean }, version: VCardVersion, typeKept = false): Param[] {
  const oldTypes = old ? paramValues(old, "TYPE") : [];
  const sameType = old !== undefined && (typeKept || typeOf(name, oldTypes) === v.type);
  if (old && sameType && isPref(old) === v.pref) return old.params.filter((p) => p.name !== "VALUE"); // only the value changed
  let types = sameType ? oldTypes.filter((t) => t !== "pref") : [...oldTypes.filter((t) => GENERIC_TYPES.has(t) && t !== "pref"), ...typeParams(name, v.type)];
  if (!old && name === "EMAIL" && version === "3.0") types = ["internet", ...types]; // RFC 2426 §3.3.2 default, written as Apple does
  if (v.pref && version === "3.0") types.push("pref");
  const out: Param[] = [];
  if (types.length) out.push({ name: "TYPE", values: [...new Set(types)] });
  for (const p of old?.params ?? []) if (p.name !== "TYPE" && p.name !== "PREF" && p.name !== "VALUE") out.push(p);
  if (v.pref && version === "4.0") out.push({ name: "PREF", values: ["1"] });
  return out;
}

/**
 * Repeated properties (EMAIL, TEL, ADR, URL). A wanted value still on one of
 * the lines keeps that line (its parameters rewritten only when type or
 * preference changed); the remaining wanted values take the remaining lines in
 * order (an edited value keeps its line's group and parameters); lines left
 * over are removed, values left over are added after the last line of the property.
 */
export function repeated<T extends { type: string; pref: boolean }>(
  ed: Editor,
  lines: Line[],
  idx: number[],
  had: T[],
  want: T[],
  name: string,
  version: VCardVersion,
  same: (a: T, b: T) => boolean,
  encode: (v: T, old: Line | undefined) => string,
): void {
  const pairOf = new Array<number>(want.length).fill(-1);
  const used = new Set<number>();
  want.forEach((w, i) => {
    const k = had.findIndex((h, j) => !used.has(j) && same(h, w));
    if (k >= 0) {
      pairOf[i] = k;
      used.add(k);
    }
  });
  const free = had.map((_, j) => j).filter((j) => !used.has(j));
  want.forEach((_, i) => {
    if (pairOf[i]! < 0 && free.length) pairOf[i] = free.shift()!;
  });
  for (const j of free) ed.remove(idx[j]!);
  const anchor = idx.length ? idx[idx.length - 1]! : -1;
  want.forEach((w, i) => {
    const j = pairOf[i]!;
    if (j < 0) {
      const l = newLine(name, valueParams(undefined, name, w, version), encode(w, undefined));
      if (anchor >= 0) ed.insertAfter(anchor, l);
      else ed.append(l);
      return;
    }
    const h = had[j]!;
    if (same(h, w) && h.type === w.type && h.pref === w.pref) return;
    const old = lines[idx[j]!]!;
    ed.set(idx[j]!, rewrite(old, valueParams(old, name, w, version, h.type === w.type), same(h, w) ? old.value : encode(w, old)));
  });
}

function dateText(d: string, version: VCardVersion): { value: string; params: Param[] } {
  const noYear = d.startsWith("--");
  if (version === "4.0") return { value: noYear ? `--${d.slice(2, 4)}${d.slice(5, 7)}` : d.replace(/-/g, ""), params: [] }; // RFC 6350 §4.3.1 basic format
  // 3.0 has no date without a year (RFC 2426 §3.1.5): Apple's 1604 with X-APPLE-OMIT-YEAR.
  return noYear ? { value: `1604-${d.slice(2)}`, params: [{ name: "X-APPLE-OMIT-YEAR", values: ["1604"] }] } : { value: d, params: [] };
}

export function date(ed: Editor, lines: Line[], at: number, had: string, want: string, name: string, version: VCardVersion): void {
  if (want === had) return;
  if (!want) {
    if (at >= 0) ed.remove(at);
    return;
  }
  const { value, params } = dateText(want, version);
  if (at >= 0) {
    const old = lines[at]!;
    ed.set(at, rewrite(old, [...old.params.filter((p) => p.name !== "VALUE" && p.name !== "X-APPLE-OMIT-YEAR"), ...params], value));
  } else ed.append(newLine(name, params, value));
}

