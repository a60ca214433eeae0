/**
 * Extension points of the DAV core, filled at import time by the modules
 * listed in plugins.ts (the CalDAV/CardDAV reports, RFC 6638 scheduling):
 *
 * - `registerReport(ns, name, handler, opts)`: REPORT dispatch by the root
 *   element of the body (RFC 3253 §3.6). The report is also listed in
 *   DAV:supported-report-set of the targets it applies to.
 * - `registerPathHandler(kind, methods, handler)`: a target kind whose
 *   methods another module serves (the schedule inbox/outbox: POST on the
 *   outbox, GET/DELETE/PROPFIND on inbox items). Checked before the core's own
 *   method handling; OPTIONS' Allow lists the registered methods too.
 * - `registerProperty(def)`: a live property (RFC 4918 §15) for PROPFIND /
 *   PROPPATCH on some target kinds. The core's own properties are defined the
 *   same way (props-core.ts); several modules may define the same property
 *   for different target kinds, and where two apply the later registration
 *   wins, so a module can refine one.
 */
import type { CollectionKind, CollectionProps } from "../../../src/groupware/types.ts";
import type { DavContext, DavTarget, TargetKind } from "./types.ts";
import type { XmlElement } from "./xml.ts";
import { clark } from "./xml.ts";
import type { XNode } from "./xml-writer.ts";

/** Answers a REPORT whose body root is the registered element; `body` is that root. */
export type ReportHandler = (dc: DavContext, target: DavTarget, body: XmlElement) => Promise<Response>;

export interface ReportOptions {
  /** Target kinds the report applies to (listed in supported-report-set there). Default: collection and object. */
  kinds?: TargetKind[];
  /** For "collection"/"object" targets: the collection kinds (default: all). "directory" targets count as "contacts". */
  collectionKinds?: CollectionKind[];
}

interface ReportDef extends Required<ReportOptions> {
  ns: string;
  name: string;
  handler: ReportHandler;
}

const reports = new Map<string, ReportDef>();

export function registerReport(ns: string, name: string, handler: ReportHandler, opts: ReportOptions = {}): void {
  reports.set(clark(ns, name), {
    ns,
    name,
    handler,
    kinds: opts.kinds ?? ["collection", "object"],
    collectionKinds: opts.collectionKinds ?? ["calendar", "tasks", "contacts"],
  });
}

function collectionKindOf(t: DavTarget): CollectionKind | null {
  if (t.kind === "collection" || t.kind === "object") return t.collection.kind;
  if (t.kind === "directory" || t.kind === "directory-object") return "contacts";
  return null;
}

function applies(def: ReportDef, t: DavTarget): boolean {
  if (!def.kinds.includes(t.kind)) return false;
  const ck = collectionKindOf(t);
  return ck === null || def.collectionKinds.includes(ck);
}

/** The handler for a REPORT body's root element on this target, or null (RFC 3253 §3.6: 403 supported-report). */
export function reportFor(ns: string, name: string, t: DavTarget): ReportHandler | null {
  const def = reports.get(clark(ns, name));
  return def && applies(def, t) ? def.handler : null;
}

/** The reports available on a target (DAV:supported-report-set, RFC 3253 §3.1.5). */
export function reportsOn(t: DavTarget): { ns: string; name: string }[] {
  return [...reports.values()].filter((d) => applies(d, t)).map((d) => ({ ns: d.ns, name: d.name }));
}

// ---- path handlers ----

/** Serves one request on a target; the core has already authenticated and resolved it. */
export type PathHandler = (dc: DavContext, target: DavTarget) => Promise<Response>;

const pathHandlers = new Map<string, PathHandler>();

export function registerPathHandler(kind: TargetKind, methods: readonly string[], handler: PathHandler): void {
  for (const m of methods) pathHandlers.set(`${kind} ${m.toUpperCase()}`, handler);
}

export function pathHandlerFor(kind: TargetKind, method: string): PathHandler | null {
  return pathHandlers.get(`${kind} ${method.toUpperCase()}`) ?? null;
}

/** Methods registered for a kind (for OPTIONS' Allow). */
export function pathMethodsOf(kind: TargetKind): string[] {
  const out: string[] = [];
  for (const key of pathHandlers.keys()) {
    const [k, m] = key.split(" ");
    if (k === kind) out.push(m!);
  }
  return out;
}

// ---- properties ----

/** The outcome of setting or removing one property in a PROPPATCH. */
export type PropSetResult =
  /**
   * Accepted. Nothing is written yet (RFC 4918 §9.2 atomicity): when every property of the request was
   * accepted, the collection properties of all of them go to one `groupware.updateCollection`, then each
   * `apply` runs.
   */
  | { ok: true; apply?: () => Promise<void>; collectionProps?: CollectionProps }
  /** Refused with this status (403 protected, 409 bad value...) and an optional precondition element. */
  | { ok: false; status: number; error?: XNode; description?: string };

export interface PropertyDef {
  ns: string;
  name: string;
  /** Target kinds that have the property. */
  kinds: TargetKind[];
  /** Only for collections of these kinds (also filters "object" targets by their collection). */
  collectionKinds?: CollectionKind[];
  /** Returned by allprop (RFC 4918 §9.1: live properties that are cheap and not defined as excluded). */
  allprop?: boolean;
  /**
   * The property element with its value; null = the target does not have it (404 in the propstat).
   * `req` is the requested property element (some properties take parameters, e.g. calendar-data).
   */
  get(dc: DavContext, target: DavTarget, req: XmlElement | null): Promise<XNode | null> | XNode | null;
  /** PROPPATCH set (`value` is the <prop> child) or remove (`value` null). Absent = protected (403 cannot-modify-protected-property). */
  set?(dc: DavContext, target: DavTarget, value: XmlElement | null): Promise<PropSetResult> | PropSetResult;
}

/** Definitions by "{ns}name"; several may share a name for different target kinds (the last that applies wins). */
const properties = new Map<string, PropertyDef[]>();

export function registerProperty(def: PropertyDef): void {
  const key = clark(def.ns, def.name);
  const list = properties.get(key);
  if (list) list.push(def);
  else properties.set(key, [def]);
}

function propApplies(def: PropertyDef, t: DavTarget): boolean {
  if (!def.kinds.includes(t.kind)) return false;
  if (!def.collectionKinds) return true;
  const ck = collectionKindOf(t);
  return ck !== null && def.collectionKinds.includes(ck);
}

function lastApplying(list: readonly PropertyDef[], t: DavTarget): PropertyDef | null {
  for (let i = list.length - 1; i >= 0; i--) if (propApplies(list[i]!, t)) return list[i]!;
  return null;
}

/** The definition of a property on a target, or null when the target has no such live property. */
export function propertyFor(ns: string, name: string, t: DavTarget): PropertyDef | null {
  const list = properties.get(clark(ns, name));
  return list ? lastApplying(list, t) : null;
}

/** Every live property of a target (propname), or only the allprop ones. */
export function propertiesOn(t: DavTarget, allpropOnly: boolean): PropertyDef[] {
  const out: PropertyDef[] = [];
  for (const list of properties.values()) {
    const d = lastApplying(list, t);
    if (d && (!allpropOnly || d.allprop)) out.push(d);
  }
  return out;
}
