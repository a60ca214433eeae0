/**
 * RFC 5232 imap4flags: flag lists held in variables as space-separated
 * strings (§3), and the flags an action stores with (§5).
 */

/** RFC 3501 §2.3.2 system flags a message may carry (\Recent is the server's own). */
const SYSTEM_FLAGS: Record<string, string> = {
  "\\seen": "\\Seen",
  "\\answered": "\\Answered",
  "\\flagged": "\\Flagged",
  "\\deleted": "\\Deleted",
  "\\draft": "\\Draft",
};

/** The flags of a list of flag strings: each split at spaces (RFC 5232 §3), empty ones dropped. */
export function splitFlags(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) for (const f of v.split(/[ \t\r\n]+/)) if (f !== "") out.push(f);
  return out;
}

/** Flags compare case-insensitively (RFC 3501 §2.3.2); the first spelling is kept. */
export function uniqueFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const f of flags) {
    const k = f.toLowerCase();
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(f);
  }
  return out;
}

/** RFC 5232 §4 addflag: the list with `add` appended, without duplicates. */
export function addFlags(current: string, add: readonly string[]): string {
  return uniqueFlags([...splitFlags([current]), ...splitFlags(add)]).join(" ");
}

/** RFC 5232 §4 removeflag. */
export function removeFlags(current: string, remove: readonly string[]): string {
  const gone = new Set(splitFlags(remove).map((f) => f.toLowerCase()));
  return splitFlags([current])
    .filter((f) => !gone.has(f.toLowerCase()))
    .join(" ");
}

/** RFC 5232 §4 setflag. */
export function setFlags(set: readonly string[]): string {
  return uniqueFlags(splitFlags(set)).join(" ");
}

/**
 * The flags an action stores (RFC 5232 §5): system flags in their usual
 * spelling, keywords that are IMAP atoms (RFC 3501 §9 flag-keyword);
 * anything else (\Recent, "\Foo", "a(b") is left out, as Pigeonhole ignores
 * invalid flags.
 */
export function storableFlags(list: string): string[] {
  // every keep/fileinto asks for the internal variable's flags: the last answer is remembered
  if (list === lastStorable.list) return lastStorable.flags.slice();
  const out: string[] = [];
  for (const f of uniqueFlags(splitFlags([list]))) {
    if (f.startsWith("\\")) {
      const sys = SYSTEM_FLAGS[f.toLowerCase()];
      if (sys) out.push(sys);
    } else if (ATOM.test(f)) out.push(f);
  }
  lastStorable = { list, flags: out };
  return out.slice();
}

/** RFC 3501 §9 atom: printable ASCII without atom-specials. */
const ATOM = /^[^\x00-\x20\x7f-\uffff(){%*"\\\]]+$/;
let lastStorable: { list: string; flags: string[] } = { list: "", flags: [] };
