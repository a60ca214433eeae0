/**
 * The CardDAV REPORTs addressbook-query (RFC 6352 §8.6) and
 * addressbook-multiget (§8.7), on the user's address books and on the
 * read-only directory book alike (through the DAV core's resource
 * abstraction, resources.ts).
 *
 * addressbook-query: the filter is checked first (4xx before any work);
 * Depth 1 on a collection tests every card (Depth 0 on a collection: the
 * collection itself, no card), Depth 0 on a card that card. Cards are
 * parsed once and cached by ETag (caldav-object-cache.ts); a query without
 * prop-filters needs no parsing at all. <CR:limit><CR:nresults> (§8.6.1)
 * cuts the answer, which then ends with a 507 response for the request URI
 * (DAV:number-of-matches-within-limits); so does the server's own bound
 * (MAX_MATCHES). The multistatus is streamed a chunk of cards at a time.
 * addressbook-multiget: hrefs of another collection or of no card are 404
 * responses; the found cards are read in one call.
 */
import ICAL from "ical.js";
import { registerReport } from "./extensions.ts";
import { loadResources } from "./caldav-object-cache.ts";
import { NS_CARDDAV, ReportError } from "./caldav-report-error.ts";
import { MAX_HREFS, MAX_MATCHES, hrefToName, memberTarget, propRequest, reportFailure, resourceResponse, type PropRequest, type SpecialProps } from "./caldav-report-common.ts";
import { matchCardFilter, parseCardFilter, type CardFilter } from "./carddav-report-filter.ts";
import { parseAddressDataSpec, renderAddressData, type AddressDataSpec } from "./carddav-report-data.ts";
import { resources, textError, type DavContext, type DavResource, type DavResponse, type DavTarget, multistatus, multistatusBuffered } from "./types.ts";
import { CARDDAV_NS, DAV_NS, clark, type XmlElement } from "./xml.ts";
import { x } from "./xml-writer.ts";

const FILTER_CHUNK = 512;
const STREAM_CHUNK = 64;

/**
 * Reads a stored card for the filter: only the component tree (cards were
 * checked by the service when written; its full parse also extracts the
 * indexed fields, which a filter does not need).
 */
function parseCard(body: Uint8Array): ICAL.Component {
  const jcard: unknown = ICAL.parse(new TextDecoder().decode(body));
  if (!Array.isArray(jcard) || jcard.length === 0) throw new Error("not a vCard");
  const root = new ICAL.Component((Array.isArray(jcard[0]) ? jcard[0] : jcard) as unknown[]);
  if (root.name !== "vcard") throw new Error("not a vCard");
  return root;
}

function addressSpecOf(req: PropRequest): AddressDataSpec | null {
  const el = req.props.find((p) => p.ns === CARDDAV_NS && p.name === "address-data");
  return el ? parseAddressDataSpec(el) : null;
}

function specialProps(spec: AddressDataSpec | null, body: Uint8Array): SpecialProps {
  const m: SpecialProps = new Map();
  if (spec) m.set(clark(CARDDAV_NS, "address-data"), () => x(CARDDAV_NS, "address-data", renderAddressData(spec, body)));
  return m;
}

async function* respond(dc: DavContext, target: DavTarget, items: { resource: DavResource; href?: string }[], req: PropRequest, spec: AddressDataSpec | null, tail: DavResponse[]): AsyncGenerator<DavResponse> {
  for (let i = 0; i < items.length; i += STREAM_CHUNK) {
    const chunk = items.slice(i, i + STREAM_CHUNK);
    const loaded = spec ? await loadResources<ICAL.Component>(dc.groupware, "vcard", chunk.map((c) => c.resource), null) : null;
    for (let j = 0; j < chunk.length; j++) {
      const t = memberTarget(target, chunk[j].resource);
      if (chunk[j].href) t.href = chunk[j].href!;
      if (loaded?.[j].gone) yield { href: t.href, status: 404, description: "deleted while the report ran" };
      else yield await resourceResponse(dc, t, req, specialProps(spec, loaded ? loaded[j].body : new Uint8Array()));
    }
  }
  for (const r of tail) yield r;
}

function limitOf(body: XmlElement): number | null {
  const lim = body.children.find((c) => c.ns === NS_CARDDAV && c.name === "limit");
  if (!lim) return null;
  const n = lim.children.find((c) => c.ns === NS_CARDDAV && c.name === "nresults");
  const v = n ? n.text.trim() : "";
  if (!/^[0-9]{1,9}$/.test(v) || Number(v) < 1) throw new ReportError(400, NS_CARDDAV, "valid-filter", `<CR:limit> needs <CR:nresults> with a positive number, not ${JSON.stringify(v.slice(0, 20))} (RFC 6352 §8.6.1)`);
  return Number(v);
}

function isCardTarget(t: DavTarget): boolean {
  return ((t.kind === "collection" || t.kind === "object") && t.collection.kind === "contacts") || t.kind === "directory" || t.kind === "directory-object";
}

async function addressbookQuery(dc: DavContext, target: DavTarget, body: XmlElement): Promise<Response> {
  try {
    if (!isCardTarget(target)) throw new ReportError(403, DAV_NS, "supported-report", "addressbook-query applies to an address book and its cards");
    if (target.kind === "object" && !target.object) return textError(404, "no card at this URL");
    const filterEl = body.children.find((c) => c.ns === NS_CARDDAV && c.name === "filter");
    if (!filterEl) throw new ReportError(400, NS_CARDDAV, "valid-filter", "addressbook-query needs a <CR:filter> element (RFC 6352 §8.6)");
    const filter: CardFilter = parseCardFilter(filterEl);
    const nresults = limitOf(body);
    const req = propRequest(body);
    const spec = addressSpecOf(req);
    const isCollection = target.kind === "collection" || target.kind === "directory";
    const candidates = isCollection && dc.depth === "0" ? [] : await resources(dc, target);
    const cap = Math.min(nresults ?? MAX_MATCHES, MAX_MATCHES);
    const matches: DavResource[] = [];
    let truncated = false;
    outer: for (let i = 0; i < candidates.length; i += FILTER_CHUNK) {
      const chunk = candidates.slice(i, i + FILTER_CHUNK);
      const loaded = filter.props.length ? await loadResources<ICAL.Component>(dc.groupware, "vcard", chunk, parseCard) : null;
      for (let k = 0; k < chunk.length; k++) {
        if (loaded) {
          const card = loaded[k].parsed;
          if (!card || !matchCardFilter(filter, card)) continue;
        }
        if (matches.length >= cap) {
          truncated = true;
          break outer;
        }
        matches.push(chunk[k]);
      }
    }
    const tail: DavResponse[] = truncated
      ? [{ href: target.href, status: 507, error: x(DAV_NS, "number-of-matches-within-limits"), description: `more cards match than the ${cap} returned${nresults !== null && cap === nresults ? " (CR:nresults)" : ""}` }]
      : [];
    return await multistatusBuffered(respond(dc, target, matches.map((r) => ({ resource: r })), req, spec, tail));
  } catch (e) {
    return reportFailure(e);
  }
}

async function addressbookMultiget(dc: DavContext, target: DavTarget, body: XmlElement): Promise<Response> {
  try {
    if (!isCardTarget(target)) throw new ReportError(403, DAV_NS, "supported-report", "addressbook-multiget applies to an address book");
    const hrefs = body.children.filter((c) => c.ns === DAV_NS && c.name === "href").map((c) => c.text.trim());
    if (!hrefs.length) throw new ReportError(400, NS_CARDDAV, "valid-filter", "addressbook-multiget needs at least one <D:href> (RFC 6352 §8.7)");
    if (hrefs.length > MAX_HREFS) throw new ReportError(507, DAV_NS, "number-of-matches-within-limits", `addressbook-multiget asks for ${hrefs.length} hrefs; at most ${MAX_HREFS} per request`);
    const req = propRequest(body);
    const spec = addressSpecOf(req);
    const names = hrefs.map((h) => hrefToName(target, h));
    const unique = [...new Set(names.filter((n): n is string => n !== null))];
    const found = unique.length ? await resources(dc, target, unique) : [];
    const byName = new Map(found.map((r) => [r.name, r]));
    const items: { resource: DavResource; href: string }[] = [];
    const missing: DavResponse[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < hrefs.length; i++) {
      if (seen.has(hrefs[i])) continue;
      seen.add(hrefs[i]);
      const r = names[i] === null ? undefined : byName.get(names[i]!);
      if (r) items.push({ resource: r, href: hrefs[i] });
      else missing.push({ href: hrefs[i], status: 404, description: names[i] === null ? "not a card of this address book" : "no such card" });
    }
    return await multistatusBuffered(respond(dc, target, items, req, spec, missing));
  } catch (e) {
    return reportFailure(e);
  }
}

const KINDS = ["collection", "object", "directory", "directory-object"] as const;
registerReport(CARDDAV_NS, "addressbook-query", addressbookQuery, { kinds: [...KINDS], collectionKinds: ["contacts"] });
registerReport(CARDDAV_NS, "addressbook-multiget", addressbookMultiget, { kinds: [...KINDS], collectionKinds: ["contacts"] });
