/**
 * CARDDAV:address-data in addressbook-query / addressbook-multiget answers
 * (RFC 6352 §10.4).
 *
 *  - no <CR:prop> (or <CR:allprop>): the stored card byte for byte (a photo
 *    comes back exactly as it went in);
 *  - <CR:prop name="..."/>: only those properties, cut from the stored
 *    text line by line (folded lines and grouped "item1.EMAIL" names
 *    included), so what is returned is still exactly what was stored;
 *    BEGIN, END and VERSION always stay (a card is not valid without them);
 *    novalue="yes" keeps the name and parameters with an empty value;
 *  - content-type text/vcard only, and the version the card is stored in:
 *    converting 3.0 <-> 4.0 cannot be done faithfully (PHOTO encodings, TYPE
 *    parameters, structured values differ), so another version asked for
 *    explicitly is refused for that card with 403
 *    CARDDAV:supported-address-data-conversion; another content type with
 *    403 CARDDAV:supported-address-data.
 */
import { NS_CARDDAV, ReportError } from "./caldav-report-error.ts";
import type { XmlElement } from "./xml.ts";

export interface AddressDataSpec {
  /** null = every property. */
  props: { name: string; novalue: boolean }[] | null;
  /** The version asked for explicitly, else null (any: the stored one). */
  version: string | null;
}

const NAME_RE = /^[A-Za-z0-9-]{1,64}$/;

/** Reads a <CR:address-data> request element. */
export function parseAddressDataSpec(el: XmlElement): AddressDataSpec {
  const type = el.attrs["content-type"];
  if (type !== undefined && type.toLowerCase() !== "text/vcard") {
    throw new ReportError(403, NS_CARDDAV, "supported-address-data", `address-data is offered as text/vcard only, not ${type.slice(0, 80)}`);
  }
  const version = el.attrs["version"] ?? null;
  if (version !== null && version !== "3.0" && version !== "4.0") {
    throw new ReportError(403, NS_CARDDAV, "supported-address-data", `address-data is offered in vCard 3.0 and 4.0, not ${version.slice(0, 20)}`);
  }
  const all = el.children.some((c) => c.ns === NS_CARDDAV && c.name === "allprop");
  const props = el.children.filter((c) => c.ns === NS_CARDDAV && c.name === "prop");
  if (all && props.length) throw new ReportError(400, NS_CARDDAV, "valid-filter", "address-data has both <CR:allprop> and <CR:prop> (RFC 6352 §10.4)");
  if (all || !props.length) return { props: null, version };
  return {
    version,
    props: props.map((p) => {
      const n = p.attrs["name"];
      if (n === undefined || !NAME_RE.test(n)) throw new ReportError(400, NS_CARDDAV, "valid-filter", "address-data: <CR:prop> needs a property name");
      const nv = p.attrs["novalue"];
      if (nv !== undefined && nv !== "yes" && nv !== "no") throw new ReportError(400, NS_CARDDAV, "valid-filter", 'address-data: novalue must be "yes" or "no"');
      return { name: n.toUpperCase(), novalue: nv === "yes" };
    }),
  };
}

const VERSION_RE = /^VERSION:[ \t]*([0-9.]+)[ \t]*\r?$/im;

/** The end of the name-and-parameters part of an unfolded content line: the first ":" outside quotes. */
function valueColon(line: string): number {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '"') quoted = !quoted;
    else if (c === ":" && !quoted) return i;
  }
  return -1;
}

/** Property name of a content line without its group ("item1.EMAIL;TYPE=work:..." -> "EMAIL"). */
function propName(line: string): string {
  const m = /^([A-Za-z0-9-]+\.)?([A-Za-z0-9-]+)/.exec(line);
  return m ? m[2].toUpperCase() : "";
}

const ALWAYS = new Set(["BEGIN", "END", "VERSION"]);

/** The address-data text of one card; throws ReportError when the card cannot be given in the version asked for. */
export function renderAddressData(spec: AddressDataSpec, body: Uint8Array): string {
  const text = new TextDecoder().decode(body);
  if (spec.version !== null) {
    const have = VERSION_RE.exec(text)?.[1] ?? null;
    if (have !== spec.version) {
      throw new ReportError(403, NS_CARDDAV, "supported-address-data-conversion", `the card is stored as vCard ${have ?? "(no VERSION)"} and is not converted to ${spec.version}; ask without a version to get it as stored`);
    }
  }
  if (spec.props === null) return text;
  const want = new Map(spec.props.map((p) => [p.name, p.novalue]));
  // Physical lines grouped into content lines (RFC 6350 §3.2: a line starting with space or tab continues the previous one).
  const physical = text.split(/(?<=\n)/);
  const out: string[] = [];
  let cur: string[] = [];
  const flush = () => {
    if (!cur.length) return;
    const unfolded = cur.map((l, i) => (i === 0 ? l : l.slice(1))).join("").replace(/\r?\n/g, "");
    const name = propName(unfolded);
    if (ALWAYS.has(name)) out.push(...cur);
    else if (want.has(name)) {
      if (want.get(name)) {
        const colon = valueColon(unfolded);
        const eol = cur[cur.length - 1].endsWith("\r\n") ? "\r\n" : "\n";
        out.push((colon >= 0 ? unfolded.slice(0, colon + 1) : unfolded + ":") + eol);
      } else out.push(...cur);
    }
    cur = [];
  };
  for (const line of physical) {
    if ((line.startsWith(" ") || line.startsWith("\t")) && cur.length) cur.push(line);
    else {
      flush();
      cur.push(line);
    }
  }
  flush();
  return out.join("");
}
