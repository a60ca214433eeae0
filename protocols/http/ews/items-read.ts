/**
 * GetItem (MS-OXWSCORE §3.1.4.4): items by id in the ItemShape asked for, one
 * response message each (ErrorItemNotFound for an id that names nothing of
 * this mailbox any more, ErrorInvalidIdMalformed for one that is not ours).
 * Ids are loaded per item class in one call to the kind; an OccurrenceItemId
 * or RecurringMasterItemId goes to the calendar kind (calendar-kind.ts).
 * FindItem is items-find.ts.
 */
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { resolveCalendarId } from "./calendar-kind.ts";
import { ownItemId, type ItemRef } from "./ids.ts";
import { kindOf, type KindItem } from "./kinds.ts";
import { NS } from "./ns.ts";
import { failure, perEach, responseMessages, success } from "./responses.ts";
import { asEwsError } from "./responses.ts";
import { parseItemShape } from "./shape.ts";
import { attr, m, mkid, type XmlElement } from "./xml.ts";
import "./items-find.ts";

/** Most ids one GetItem (or DeleteItem, MoveItem, CopyItem) names. */
export const MAX_IDS = 1000;

/** The id elements of an m:ItemIds; more than MAX_IDS: ErrorExceededFindCountLimit for the request. */
export function idElements(container: XmlElement | undefined): XmlElement[] {
  if (!container) throw new EwsError("ErrorInvalidRequest", "ItemIds is required.");
  const ids = container.children.filter((k) => k.ns === NS.t);
  if (ids.length > MAX_IDS) throw new EwsError("ErrorExceededFindCountLimit", `At most ${MAX_IDS} item ids per request.`);
  return ids;
}

/** The ItemRef one id element names (ItemId, OccurrenceItemId, RecurringMasterItemId). */
export async function refOf(c: EwsContext, el: XmlElement): Promise<ItemRef> {
  if (el.name === "OccurrenceItemId" || el.name === "RecurringMasterItemId") return resolveCalendarId(c, el);
  if (el.name !== "ItemId") throw new EwsError("ErrorInvalidIdMalformed", `${el.name.slice(0, 60)} is not an item id.`);
  return ownItemId(c, attr(el, "Id"));
}

function refKey(r: ItemRef): string {
  return `${r.itemClass}:${r.id}:${r.occurrence ?? ""}`;
}

/**
 * Resolves and loads the items the id elements name, one kind call per item
 * class: per element the loaded item, or the error to answer for it.
 */
export async function loadItems(c: EwsContext, els: readonly XmlElement[], onUnexpected: (e: unknown) => void): Promise<(KindItem | EwsError)[]> {
  const refs: (ItemRef | EwsError)[] = [];
  for (const el of els) {
    try {
      refs.push(await refOf(c, el));
    } catch (e) {
      refs.push(asEwsError(e, onUnexpected));
    }
  }
  const byClass = new Map<string, ItemRef[]>();
  for (const r of refs) if (!(r instanceof EwsError)) (byClass.get(r.itemClass) ?? byClass.set(r.itemClass, []).get(r.itemClass)!).push(r);
  const loaded = new Map<string, KindItem>();
  const classErr = new Map<string, EwsError>();
  for (const [cls, list] of byClass) {
    try {
      const kind = kindOf(list[0]!.itemClass);
      for (const it of await kind.load(c, list)) loaded.set(refKey(it.ref), it);
    } catch (e) {
      classErr.set(cls, asEwsError(e, onUnexpected));
    }
  }
  return refs.map((r) => {
    if (r instanceof EwsError) return r;
    return loaded.get(refKey(r)) ?? classErr.get(r.itemClass) ?? new EwsError("ErrorItemNotFound", "The item was not found; it may have been moved or deleted.");
  });
}

registerOperation("GetItem", async (c, op) => {
  const shape = parseItemShape(mkid(op, "ItemShape"));
  const els = idElements(mkid(op, "ItemIds"));
  const onUnexpected = (e: unknown) => c.log.error("ews: GetItem failed", { err: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  const items = await loadItems(c, els, onUnexpected);
  const msgs = await perEach(
    items,
    "GetItemResponseMessage",
    async (it) => {
      if (it instanceof EwsError) return failure("GetItemResponseMessage", it);
      return success("GetItemResponseMessage", m("Items", await kindOf(it.ref.itemClass).render(c, it, shape)));
    },
    onUnexpected,
  );
  return responseMessages("GetItem", msgs);
});
