/**
 * The RFC 3253 / RFC 3744 reports clients use around principals:
 * - expand-property (RFC 3253 §3.8): a property's hrefs replaced by the
 *   properties of the resources they name (Apple clients ask for the
 *   principal's home sets and addresses this way);
 * - principal-property-search (RFC 3744 §9.4) and
 *   principal-search-property-set (§9.5). A user reaches only their own
 *   principal (issue 15), so the search has that one candidate; the global
 *   address list is the directory address book.
 */
import { registerReport, propertyFor } from "./extensions.ts";
import { resolvePath } from "./paths.ts";
import { multistatus, principalHref, propResponse, statusLine, textError, type DavContext, type DavResponse, type DavTarget } from "./types.ts";
import { CALDAV_NS, child, children, DAV_NS, type XmlElement } from "./xml.ts";
import { x, xa, xmlResponse, type XNode } from "./xml-writer.ts";

/** Nesting of expand-property levels followed (a principal's home sets are two levels). */
const MAX_EXPAND_DEPTH = 3;
/** hrefs expanded in one report. */
const MAX_EXPANDED = 200;

function propName(p: XmlElement): { ns: string; name: string } {
  return { ns: p.attrs.namespace ?? DAV_NS, name: p.attrs.name ?? "" };
}

async function expandOn(dc: DavContext, t: DavTarget, wanted: XmlElement[], level: number, budget: { left: number }): Promise<DavResponse> {
  const found: XNode[] = [];
  const missing: XNode[] = [];
  for (const p of wanted) {
    const { ns, name } = propName(p);
    if (!name) continue;
    const def = propertyFor(ns, name, t);
    const value = def ? await def.get(dc, t, null) : null;
    if (!value) {
      missing.push(x(ns, name));
      continue;
    }
    const nested = children(p, DAV_NS, "property");
    if (!nested.length || level >= MAX_EXPAND_DEPTH) {
      found.push(value);
      continue;
    }
    // Each <D:href> of the value becomes a <D:response> with the nested properties of that resource.
    const kids: (XNode | string)[] = [];
    for (const k of value.children ?? []) {
      if (typeof k === "string" || k.ns !== DAV_NS || k.name !== "href") {
        kids.push(k);
        continue;
      }
      const href = (k.children ?? []).filter((c): c is string => typeof c === "string").join("");
      if (--budget.left < 0) break;
      let resolved: Awaited<ReturnType<typeof resolvePath>> | null = null;
      if (href.startsWith("/dav")) {
        try {
          resolved = await resolvePath(dc, new URL(href, dc.baseUrl).pathname);
        } catch {
          resolved = null;
        }
      }
      if (!resolved || "status" in resolved) {
        kids.push(x(DAV_NS, "response", x(DAV_NS, "href", href), x(DAV_NS, "status", statusLine(resolved && "status" in resolved ? resolved.status : 404))));
        continue;
      }
      const sub = await expandOn(dc, resolved.target, nested, level + 1, budget);
      kids.push(
        x(
          DAV_NS,
          "response",
          x(DAV_NS, "href", href),
          ...(sub.propstats ?? []).map((ps) => x(DAV_NS, "propstat", x(DAV_NS, "prop", ...ps.props), x(DAV_NS, "status", statusLine(ps.status)))),
        ),
      );
    }
    found.push({ ...value, children: kids });
  }
  return propResponse(t.href, found, missing);
}

registerReport(
  DAV_NS,
  "expand-property",
  async (dc, t, body) => {
    if (t.kind === "missing") return textError(404, "no such resource");
    const wanted = children(body, DAV_NS, "property");
    if (wanted.length > 100) return textError(400, "too many properties in expand-property (at most 100)");
    return multistatus([await expandOn(dc, t, wanted, 1, { left: MAX_EXPANDED })]);
  },
  { kinds: ["root", "principal", "calendar-home", "addressbook-home", "collection", "directory", "schedule-inbox", "schedule-outbox"] },
);

/** The text a property value carries (its strings and its hrefs' strings), for matching. */
function valueText(n: XNode): string {
  return (n.children ?? []).map((c) => (typeof c === "string" ? c : valueText(c))).join(" ");
}

const PRINCIPAL_REPORT_KINDS = ["root", "principal", "calendar-home", "addressbook-home"] as const;

registerReport(
  DAV_NS,
  "principal-property-search",
  async (dc, _t, body) => {
    const searches = children(body, DAV_NS, "property-search");
    if (!searches.length || searches.length > 20) return textError(400, "principal-property-search needs 1 to 20 DAV:property-search elements");
    const anyof = (body.attrs.test ?? "allof") === "anyof";
    const me: DavTarget = { kind: "principal", href: principalHref(dc.account.email) };
    const results: boolean[] = [];
    for (const s of searches) {
      const match = (child(s, DAV_NS, "match")?.text ?? "").trim().toLowerCase();
      const props = child(s, DAV_NS, "prop")?.children ?? [];
      let hit = false;
      for (const p of props) {
        const def = propertyFor(p.ns, p.name, me);
        const v = def ? await def.get(dc, me, null) : null;
        // RFC 3744 §9.4: a case-insensitive substring match.
        if (v && valueText(v).toLowerCase().includes(match)) hit = true;
      }
      results.push(hit);
    }
    const matched = anyof ? results.some(Boolean) : results.every(Boolean);
    if (!matched) return multistatus([]);
    const propEl = child(body, DAV_NS, "prop");
    const found: XNode[] = [];
    const missing: XNode[] = [];
    for (const p of propEl?.children ?? []) {
      const def = propertyFor(p.ns, p.name, me);
      const v = def ? await def.get(dc, me, p) : null;
      if (v) found.push(v);
      else missing.push(x(p.ns, p.name));
    }
    return multistatus([propResponse(me.href, found, missing)]);
  },
  { kinds: [...PRINCIPAL_REPORT_KINDS] },
);

registerReport(
  DAV_NS,
  "principal-search-property-set",
  async () =>
    xmlResponse(
      200,
      x(
        DAV_NS,
        "principal-search-property-set",
        x(DAV_NS, "principal-search-property", x(DAV_NS, "prop", x(DAV_NS, "displayname")), xa(DAV_NS, "description", { "xml:lang": "en" }, "Display name")),
        x(DAV_NS, "principal-search-property", x(DAV_NS, "prop", x(CALDAV_NS, "calendar-user-address-set")), xa(DAV_NS, "description", { "xml:lang": "en" }, "Email address")),
      ),
    ),
  { kinds: [...PRINCIPAL_REPORT_KINDS] },
);
