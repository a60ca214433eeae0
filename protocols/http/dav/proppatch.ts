/**
 * PROPPATCH (RFC 4918 §9.2): every set/remove is checked first; only when
 * all are acceptable are they applied (collection properties in one
 * groupware.updateCollection), otherwise nothing changes and the others
 * are answered 424 Failed Dependency. Properties without a setter are
 * protected (403 cannot-modify-protected-property); unknown properties are
 * not stored as dead properties (403, the RFC allows refusing them).
 */
import { GroupwareError, type CollectionProps } from "../../../src/groupware/types.ts";
import { groupwareErrorResponse, needPrivileges } from "./errors.ts";
import { propertyFor, type PropSetResult } from "./extensions.ts";
import { multistatus, textError, type DavContext, type DavTarget, type PropStat } from "./types.ts";
import { DAV_NS, type XmlElement } from "./xml.ts";
import { x, type XNode } from "./xml-writer.ts";

interface Op {
  el: XmlElement;
  remove: boolean;
}

export function parsePropertyUpdate(root: XmlElement, rootNs = DAV_NS, rootName = "propertyupdate"): Op[] | { error: string } {
  if (root.ns !== rootNs || root.name !== rootName) return { error: `the body must be a {${rootNs}}${rootName} element` };
  const ops: Op[] = [];
  for (const c of root.children) {
    if (c.ns !== DAV_NS || (c.name !== "set" && c.name !== "remove")) continue;
    for (const prop of c.children) {
      if (prop.ns !== DAV_NS || prop.name !== "prop") continue;
      for (const p of prop.children) ops.push({ el: p, remove: c.name === "remove" });
    }
  }
  return ops;
}

/** Checks every operation; the outcome per property (in request order). */
export async function checkOps(dc: DavContext, t: DavTarget, ops: Op[]): Promise<{ el: XmlElement; result: PropSetResult }[]> {
  const out: { el: XmlElement; result: PropSetResult }[] = [];
  for (const op of ops) {
    const def = propertyFor(op.el.ns, op.el.name, t);
    let result: PropSetResult;
    if (!def) result = { ok: false, status: 403, description: `the property {${op.el.ns}}${op.el.name} cannot be stored here (this server keeps no dead properties)` };
    else if (!def.set) result = { ok: false, status: 403, error: x(DAV_NS, "cannot-modify-protected-property"), description: `{${op.el.ns}}${op.el.name} is a protected property` };
    else result = await def.set(dc, t, op.remove ? null : op.el);
    out.push({ el: op.el, result });
  }
  return out;
}

/** Propstats for the outcome: failures with their status, the rest 424 (or 200 when all passed). */
export function outcomePropstats(checked: { el: XmlElement; result: PropSetResult }[], okStatus: number): PropStat[] {
  const failed = checked.some((c) => !c.result.ok);
  const stats: PropStat[] = [];
  const ok: XNode[] = [];
  for (const c of checked) {
    const node = x(c.el.ns, c.el.name);
    if (c.result.ok) ok.push(node);
    else stats.push({ status: c.result.status, props: [node], error: c.result.error, description: c.result.description });
  }
  if (ok.length) stats.push({ status: failed ? 424 : okStatus, props: ok, description: failed ? "not changed because another property in the request was refused" : undefined });
  return stats;
}

export function mergedCollectionProps(checked: { result: PropSetResult }[]): CollectionProps {
  const props: CollectionProps = {};
  for (const c of checked) if (c.result.ok && c.result.collectionProps) Object.assign(props, c.result.collectionProps);
  return props;
}

export async function proppatch(dc: DavContext, t: DavTarget, root: XmlElement | null): Promise<Response> {
  if (t.kind === "missing" || (t.kind === "object" && !t.object)) return textError(404, "no such resource");
  if (t.kind === "directory" || t.kind === "directory-object") return needPrivileges(t.href, "write-properties", "the directory address book is read-only");
  if (!root) return textError(400, "PROPPATCH needs a DAV:propertyupdate body");
  const ops = parsePropertyUpdate(root);
  if ("error" in ops) return textError(400, ops.error);
  if (ops.length > 100) return textError(400, "too many properties in one PROPPATCH (at most 100)");
  const checked = await checkOps(dc, t, ops);
  if (checked.every((c) => c.result.ok)) {
    const props = mergedCollectionProps(checked);
    try {
      if (Object.keys(props).length && t.kind === "collection") await dc.groupware.updateCollection(dc.account, t.collection.name, props);
      for (const c of checked) if (c.result.ok && c.result.apply) await c.result.apply();
    } catch (e) {
      if (e instanceof GroupwareError) return groupwareErrorResponse(e, null);
      throw e;
    }
  }
  return multistatus([{ href: t.href, propstats: outcomePropstats(checked, 200) }]);
}
