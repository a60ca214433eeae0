/**
 * The independent WBXML implementation we check our codec against: Debian's
 * libwbxml2-utils (`xml2wbxml`, `wbxml2xml`), as real ActiveSync tooling uses.
 *
 * libwbxml spells some tags differently from MS-ASWBXML (e.g. Contacts
 * "BusinessCity" for BusinessAddressCity, Email "FlagStatus" for Status):
 * we translate by (code page, token), learning libwbxml's names from
 * libwbxml itself (one document holding every tag we know, decoded by
 * wbxml2xml), so no table is copied by hand.
 *
 * Known libwbxml 0.11.8 behaviours the comparison accounts for:
 *  - it has no Find code page (0x19, protocol 16.1) and lacks a few newer
 *    tags (MeetingResponse ProposedStartTime/ProposedEndTime, Provision
 *    AccountOnlyRemoteWipe): documents using them cannot be compared;
 *  - opaque data is shown base64-encoded for a fixed list of elements
 *    (ComposeMail MIME, the ConversationId elements, ...) and as raw text
 *    elsewhere; xml2wbxml reads base64 text back into opaque for that list
 *    and turns CDATA into opaque anywhere.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CODE_PAGES, pageByNamespace } from "../../protocols/http/eas/wbxml/codepages.ts";
import { encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { isElement, type WElement, type WNode } from "../../protocols/http/eas/wbxml/tree.ts";
import { parseXml, type XmlElement } from "../../protocols/http/autodiscover/xml.ts";

export function libwbxmlAvailable(): boolean {
  try {
    execFileSync("which", ["xml2wbxml", "wbxml2xml"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

const dir = mkdtempSync(join(tmpdir(), "pb-libwbxml-"));
process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
let seq = 0;

/** Opaque content libwbxml renders as base64 (learned, see `learnNames`). */
let base64Elements: Set<string> | null = null;

interface Names {
  /** "ns:ourName" -> libwbxml name ("unknown" when libwbxml lacks it) */
  toLib: Map<string, string>;
  /** "ns:libName" -> our name */
  fromLib: Map<string, string>;
  /** namespaces libwbxml knows */
  namespaces: Set<string>;
}
let names: Names | null = null;
const nsToLib = new Map<string, string>();
const nsFromLib = new Map<string, string>();

export function runWbxml2xml(wbxml: Uint8Array): string {
  const n = ++seq;
  const inp = join(dir, `in${n}.wbxml`);
  const out = join(dir, `out${n}.xml`);
  writeFileSync(inp, wbxml);
  execFileSync("wbxml2xml", ["-l", "ACTIVESYNC", "-m", "0", "-k", "-o", out, inp], { stdio: ["ignore", "ignore", "pipe"] });
  return readFileSync(out, "latin1");
}

export function runXml2wbxml(xml: string): Uint8Array {
  const n = ++seq;
  const inp = join(dir, `in${n}.xml`);
  const out = join(dir, `out${n}.wbxml`);
  writeFileSync(inp, xml, "utf8");
  execFileSync("xml2wbxml", ["-a", "-n", "-k", "-v", "1.3", "-o", out, inp], { stdio: ["ignore", "ignore", "pipe"] });
  return new Uint8Array(readFileSync(out));
}

function learnNames(): Names {
  if (names) return names;
  // One document with every tag of every page we know, as empty children of AirSync:Sync.
  const all: WElement[] = [];
  for (const p of CODE_PAGES) for (const [, name] of p.tags) all.push({ ns: p.namespace, name, children: [] });
  const xml = runWbxml2xml(encode({ ns: "AirSync", name: "Sync", children: all }));
  const root = parseXml(utf8(xml));
  const libKids = root.children.filter((c): c is XmlElement => typeof c !== "string");
  if (libKids.length !== all.length) throw new Error(`libwbxml returned ${libKids.length} tags for ${all.length}`);
  const toLib = new Map<string, string>();
  const fromLib = new Map<string, string>();
  const namespaces = new Set<string>();
  all.forEach((ours, i) => {
    const lib = libKids[i]!;
    const libName = lib.name;
    toLib.set(`${ours.ns}:${ours.name}`, libName);
    if (libName !== "unknown") {
      fromLib.set(`${ours.ns}:${libName}`, ours.name);
      namespaces.add(ours.ns);
      const libNs = lib.ns.replace(/:$/, "");
      if (libNs.toLowerCase() !== ours.ns.toLowerCase()) throw new Error(`libwbxml puts ${ours.ns}:${ours.name} in ${lib.ns}`);
      nsToLib.set(ours.ns, libNs); // MS-ASWBXML "GAL" is "Gal" in libwbxml
      nsFromLib.set(libNs, ours.ns);
    }
  });
  names = { toLib, fromLib, namespaces };
  // Which elements show opaque content as base64: one probe document.
  const probe: WElement[] = [];
  for (const p of CODE_PAGES) {
    if (!namespaces.has(p.namespace)) continue;
    for (const [, name] of p.tags) if (toLib.get(`${p.namespace}:${name}`) !== "unknown") probe.push({ ns: p.namespace, name, children: [new Uint8Array([0x41, 0x42, 0x43])] });
  }
  const probeXml = parseXml(utf8(runWbxml2xml(encode({ ns: "AirSync", name: "Sync", children: probe }))));
  const probeKids = probeXml.children.filter((c): c is XmlElement => typeof c !== "string");
  base64Elements = new Set();
  probe.forEach((p, i) => {
    const t = probeKids[i]!.children.join("");
    if (t === "QUJD") base64Elements!.add(`${p.ns}:${p.name}`);
    else if (t !== "ABC") throw new Error(`unexpected opaque rendering for ${p.ns}:${p.name}: ${t}`);
  });
  return names;
}

function utf8(latin1: string): string {
  return Buffer.from(latin1, "latin1").toString("utf8");
}

/** The libwbxml names table (for tests that check our tables against it). */
export function libwbxmlNames(): Names {
  return learnNames();
}

export function libwbxmlBase64Elements(): Set<string> {
  learnNames();
  return base64Elements!;
}

/** True when every element of the tree is known to libwbxml. */
export function libwbxmlKnows(root: WElement): boolean {
  const n = learnNames();
  const walk = (e: WElement): boolean => n.toLib.get(`${e.ns}:${e.name}`) !== "unknown" && n.toLib.has(`${e.ns}:${e.name}`) && e.children.every((c) => !isElement(c) || walk(c));
  return walk(root);
}

function esc(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!).replace(/\r/g, "&#13;");
}

/** Renders our tree as the XML that libwbxml's xml2wbxml reads (namespaces spelled "Name:"). */
export function toLibwbxmlXml(root: WElement): string {
  const n = learnNames();
  const b64 = base64Elements!;
  const walk = (e: WElement, parentNs: string | null): string => {
    const libName = n.toLib.get(`${e.ns}:${e.name}`);
    if (!libName || libName === "unknown") throw new Error(`libwbxml does not know ${e.ns}:${e.name}`);
    const nsAttr = e.ns !== parentNs ? ` xmlns="${nsToLib.get(e.ns) ?? e.ns}:"` : "";
    if (e.children.length === 0) return `<${libName}${nsAttr}/>`;
    let body = "";
    for (const c of e.children) {
      if (typeof c === "string") body += esc(c);
      else if (c instanceof Uint8Array) {
        if (b64.has(`${e.ns}:${e.name}`)) body += Buffer.from(c).toString("base64");
        else {
          const s = Buffer.from(c).toString("utf8");
          if (!Buffer.from(s, "utf8").equals(Buffer.from(c)) || /[\r\0]/.test(s) || s.includes("]]>")) throw new Error(`opaque content of ${e.ns}:${e.name} cannot pass through XML CDATA`);
          body += `<![CDATA[${s}]]>`;
        }
      } else body += walk(c, e.ns);
    }
    return `<${libName}${nsAttr}>${body}</${libName}>`;
  };
  return `<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN" "http://www.microsoft.com/">\n${walk(root, null)}`;
}

/** xml2wbxml's encoding of our tree. */
export function libwbxmlEncode(root: WElement): Uint8Array {
  return runXml2wbxml(toLibwbxmlXml(root));
}

/** A libwbxml-decoded document in our tree form: text as strings, opaque as found (base64 text or raw text). */
export interface LibNode {
  ns: string;
  name: string;
  children: (LibNode | string)[];
}

/** wbxml2xml's decoding of a document, with names translated to ours. */
export function libwbxmlDecode(wbxml: Uint8Array): LibNode {
  const n = learnNames();
  const x = parseXml(utf8(runWbxml2xml(wbxml)));
  const walk = (e: XmlElement): LibNode => {
    const libNs = e.ns.replace(/:$/, "");
    const ns = nsFromLib.get(libNs) ?? libNs;
    const name = n.fromLib.get(`${ns}:${e.name}`);
    if (!name) throw new Error(`libwbxml produced unknown element ${ns}:${e.name}`);
    return { ns, name, children: e.children.map((c) => (typeof c === "string" ? c : walk(c))) };
  };
  return walk(x);
}

/**
 * Compares libwbxml's decoding with ours. Returns a list of differences
 * (empty when they agree). Opaque content matches libwbxml's base64 or raw
 * rendering, depending on the element.
 */
export function compareWithLibwbxml(ours: WElement, lib: LibNode, path = ""): string[] {
  const b64 = libwbxmlBase64Elements();
  const here = `${path}/${ours.ns}:${ours.name}`;
  const diffs: string[] = [];
  if (ours.ns !== lib.ns || ours.name !== lib.name) return [`${here}: libwbxml has ${lib.ns}:${lib.name}`];
  const ourKids = ours.children;
  const libKids = lib.children;
  const ourEls = ourKids.filter(isElement);
  const libEls = libKids.filter((c): c is LibNode => typeof c !== "string");
  const ourText = ourKids
    .filter((c): c is string | Uint8Array => !isElement(c))
    .map((c: WNode) => (typeof c === "string" ? c : b64.has(`${ours.ns}:${ours.name}`) ? Buffer.from(c as Uint8Array).toString("base64") : Buffer.from(c as Uint8Array).toString("utf8")))
    .join("");
  const libText = libKids.filter((c): c is string => typeof c === "string").join("");
  if (ourEls.length === 0 && ourText !== libText) diffs.push(`${here}: text ${JSON.stringify(ourText.slice(0, 80))} vs libwbxml ${JSON.stringify(libText.slice(0, 80))}`);
  if (ourEls.length !== libEls.length) diffs.push(`${here}: ${ourEls.length} children vs libwbxml ${libEls.length}`);
  for (let i = 0; i < Math.min(ourEls.length, libEls.length); i++) diffs.push(...compareWithLibwbxml(ourEls[i]!, libEls[i]!, here));
  return diffs;
}

export { pageByNamespace };
