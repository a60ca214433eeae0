/**
 * Import and generation helpers: splitting a .ics file of many UIDs into
 * one calendar object resource per UID (RFC 4791 §4.1), serialising
 * generated component trees, and UTC DATE-TIME text.
 */
import ICAL from "ical.js";

/** A .ics import is bounded by the CLI's file limit; this is the text splitter's own cap. */
export const MAX_SPLIT_BYTES = 256 << 20;
/** Components of one UID in a split file (as for one resource). */
const MAX_PER_UID = 2000;

interface Block {
  name: string;
  text: string;
  /** Unfolded top-level lines of the component (not of nested VALARMs). */
  lines: string[];
  /** Line number of its BEGIN in the file. */
  line: number;
}

function unfold(lines: string[]): string[] {
  const out: string[] = [];
  for (const l of lines) {
    const bare = l.replace(/\r?\n$/, "");
    if ((bare.startsWith(" ") || bare.startsWith("\t")) && out.length) out[out.length - 1] += bare.slice(1);
    else out.push(bare);
  }
  return out;
}

const TZID_RE = /;TZID=("[^"]*"|[^;:]*)/gi;

/**
 * One VCALENDAR text per UID: the calendar's own properties (VERSION,
 * PRODID, CALSCALE, X-...; not METHOD, which a stored resource must not
 * have), the VTIMEZONEs the UID's components name, and the components
 * themselves as byte-exact slices of the input. Components without UID,
 * unterminated components and text outside VCALENDAR are reported in
 * `errors`, not thrown.
 */
export function splitICalendar(text: string): { objects: string[]; errors: string[] } {
  const errors: string[] = [];
  if (text.length > MAX_SPLIT_BYTES) return { objects: [], errors: [`the file is larger than ${MAX_SPLIT_BYTES} bytes`] };
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rawLines = text.match(/[^\r\n]*(?:\r\n|\n|\r|$)/g) ?? [];
  const order: string[] = [];
  const byUid = new Map<string, { header: string[]; comps: Block[] }>();
  let i = 0;
  let lineNo = 0;
  const next = () => {
    lineNo++;
    return rawLines[i++]!;
  };
  while (i < rawLines.length) {
    const line = next();
    const bare = line.replace(/[\r\n]+$/, "");
    if (bare === "") continue;
    // Lines beginning with white space are continuations (RFC 5545 §3.1), never BEGIN/END markers.
    if (!/^BEGIN:VCALENDAR[ \t]*$/i.test(bare)) {
      errors.push(`line ${lineNo}: text outside a VCALENDAR ignored`);
      continue;
    }
    // One VCALENDAR: header properties, VTIMEZONEs, components.
    const header: string[] = [];
    const zones = new Map<string, string>();
    const comps: Block[] = [];
    let closed = false;
    while (i < rawLines.length) {
      const l = next();
      const b = l.replace(/[\r\n]+$/, "");
      if (/^END:VCALENDAR[ \t]*$/i.test(b)) {
        closed = true;
        break;
      }
      const m = /^BEGIN:([A-Za-z0-9-]+)[ \t]*$/i.exec(b);
      if (!m) {
        if (b !== "" && !/^METHOD[;:]/i.test(b) && !(header.length === 0 && /^[ \t]/.test(b))) header.push(l);
        continue;
      }
      const name = m[1]!.toUpperCase();
      const startLine = lineNo;
      const parts: string[] = [l];
      const top: string[] = [];
      // RFC 5545 §3.4: END names must match their BEGIN; an END that closes an outer component
      // also ends the inner ones, which then make this component an error (not imported).
      const open: { name: string; line: number }[] = [{ name, line: startLine }];
      let fault: string | null = null;
      let endedCalendar = false;
      while (i < rawLines.length && open.length > 0) {
        const x = next();
        const xb = x.replace(/[\r\n]+$/, "");
        const mm = /^(BEGIN|END):([A-Za-z0-9-]+)[ \t]*$/i.exec(xb);
        if (mm && mm[1]!.toUpperCase() === "END" && mm[2]!.toUpperCase() === "VCALENDAR" && !open.some((o) => o.name === "VCALENDAR")) {
          fault ??= `line ${open[open.length - 1]!.line}: BEGIN:${open[open.length - 1]!.name} is never ended`;
          endedCalendar = true;
          break;
        }
        parts.push(x);
        if (mm && mm[1]!.toUpperCase() === "BEGIN") open.push({ name: mm[2]!.toUpperCase(), line: lineNo });
        else if (mm) {
          const endName = mm[2]!.toUpperCase();
          const at = open.map((o) => o.name).lastIndexOf(endName);
          if (at < 0) fault ??= `line ${lineNo}: END:${endName} without its BEGIN`;
          else {
            if (at < open.length - 1) fault ??= `line ${open[open.length - 1]!.line}: BEGIN:${open[open.length - 1]!.name} is never ended`;
            open.length = at;
          }
        } else if (open.length === 1) top.push(x);
      }
      if (endedCalendar) {
        errors.push(`${fault} (the ${name} of line ${startLine} was not imported)`);
        closed = true;
        break;
      }
      if (open.length > 0) {
        errors.push(`line ${startLine}: ${name} is not terminated`);
        break;
      }
      if (fault) {
        errors.push(`${fault} (the ${name} of line ${startLine} was not imported)`);
        continue;
      }
      let body = parts.join("");
      if (!/\r?\n$/.test(body)) body += "\r\n";
      const block: Block = { name, text: body, lines: unfold(top), line: startLine };
      if (name === "VTIMEZONE") {
        const id = block.lines.find((x) => /^TZID[;:]/i.test(x));
        if (id) zones.set(id.slice(id.indexOf(":") + 1), body);
      } else comps.push(block);
    }
    if (!closed) errors.push(`line ${lineNo}: END:VCALENDAR is missing`);
    for (const c of comps) {
      if (c.name !== "VEVENT" && c.name !== "VTODO" && c.name !== "VJOURNAL") {
        if (!c.name.startsWith("X-")) errors.push(`line ${c.line}: a ${c.name} component was not imported`);
        continue;
      }
      const u = c.lines.find((x) => /^UID[;:]/i.test(x));
      const uid = u ? u.slice(u.indexOf(":") + 1) : "";
      if (!uid.trim()) {
        errors.push(`line ${c.line}: a ${c.name} without UID was not imported`);
        continue;
      }
      let g = byUid.get(uid);
      if (!g) {
        byUid.set(uid, (g = { header: [], comps: [] }));
        order.push(uid);
        // The header of the VCALENDAR the UID first appears in, with the zones its components use.
        g.header = header;
      }
      if (g.comps.length >= MAX_PER_UID) {
        errors.push(`UID ${uid.slice(0, 80)}: more than ${MAX_PER_UID} components, the rest was not imported`);
        continue;
      }
      g.comps.push(c);
      (g as { zones?: Map<string, string> }).zones ??= new Map();
      const gz = (g as { zones?: Map<string, string> }).zones!;
      for (const ln of c.lines) for (const m of ln.matchAll(TZID_RE)) {
        const id = m[1]!.replace(/^"|"$/g, "");
        const z = zones.get(id);
        if (z && !gz.has(id)) gz.set(id, z);
      }
    }
  }
  const objects: string[] = [];
  for (const uid of order) {
    const g = byUid.get(uid)! as { header: string[]; comps: Block[]; zones?: Map<string, string> };
    const head = g.header.map((h) => (/\r?\n$/.test(h) ? h : h + "\r\n")).join("");
    const kinds = new Set(g.comps.map((c) => c.name));
    if (kinds.size > 1) {
      errors.push(`UID ${uid.slice(0, 80)} is used by ${[...kinds].join(" and ")}: not imported`);
      continue;
    }
    objects.push(`BEGIN:VCALENDAR\r\n${head}${[...(g.zones?.values() ?? [])].join("")}${g.comps.map((c) => c.text).join("")}END:VCALENDAR\r\n`);
  }
  return { objects, errors };
}

/** iCalendar text of a component tree (RFC 5545 §3.1: CRLF, lines folded at 75 octets), ending in CRLF. */
export function serialize(root: ICAL.Component): string {
  // ical.js folds at foldLength octets plus the continuation's space: 74 keeps every line within 75 octets.
  const saved = ICAL.foldLength;
  let s: string;
  try {
    ICAL.foldLength = 74;
    s = root.toString();
  } finally {
    ICAL.foldLength = saved;
  }
  return s.endsWith("\r\n") ? s : s + "\r\n";
}

/** "YYYYMMDDTHHMMSSZ" (RFC 5545 §3.3.5 form 2, UTC) of a time in ms. */
export function icalUtc(ms: number): string {
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${ms}`);
  return d.toISOString().replace(/\.\d{3}Z$/, "Z").replace(/[-:]/g, "");
}
