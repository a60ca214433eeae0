/**
 * Notification events as a subscription keeps them and as EWS writes them
 * (MS-OXWSNTIF §2.2.4; Types.xsd NotificationType, BaseObjectChangedEventType,
 * MovedCopiedEventType, ModifiedEventType). An event is a small flat record
 * (numbers only: no XML, no closures) so a subscription's queue costs a few
 * dozen bytes per event; the XML is written when the event is sent.
 *
 * Watermarks (Types.xsd WatermarkType: an opaque string) name a position in
 * one subscription's event sequence and the account change number (modseq) at
 * that point: "W:<modseq>:<seq>" in base64. The sequence number lets GetEvents
 * tell which events the client has seen; the modseq lets Subscribe resume a
 * lost subscription from the account change feed.
 */
import type { ItemClass } from "../../../storage/api.ts";
import { changeKey, folderId, folderIdOf, itemIdXml } from "./ids.ts";
import { dateTime, t, tv } from "./xml.ts";

/** Types.xsd NotificationEventTypeType, in the order of the bits below. */
export const EVENT_TYPES = ["CopiedEvent", "CreatedEvent", "DeletedEvent", "ModifiedEvent", "MovedEvent", "NewMailEvent", "FreeBusyChangedEvent"] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EV = { Copied: 0, Created: 1, Deleted: 2, Modified: 3, Moved: 4, NewMail: 5, FreeBusyChanged: 6 } as const;
export type EventCode = (typeof EV)[keyof typeof EV];

/** The bit of an event type in a subscription's mask. */
export function eventBit(code: EventCode): number {
  return 1 << code;
}

/** The mask of event type names (unknown names: null, the caller answers a schema error). */
export function eventMask(names: readonly string[]): number | null {
  let mask = 0;
  for (const n of names) {
    const i = (EVENT_TYPES as readonly string[]).indexOf(n);
    if (i < 0) return null;
    mask |= 1 << i;
  }
  return mask;
}

/**
 * One event. `cls` is the item's class (null for a folder event, whose
 * object is `id` = the folder). `parent` is the item's folder (or a folder's
 * parent; 0 = the mailbox's IPM subtree). Moved/Copied carry the old ones.
 */
export interface EwsEvent {
  code: EventCode;
  seq: number;
  modseq: number;
  ms: number;
  cls: ItemClass | null;
  id: number;
  parent: number;
  oldId: number;
  oldParent: number;
}

// ------------------------------------------------------------ watermarks

export interface Watermark {
  modseq: number;
  seq: number;
}

export function watermark(w: Watermark): string {
  return Buffer.from(`W:${w.modseq}:${w.seq}`, "utf8").toString("base64");
}

/** The position a watermark names; null when it is not one of ours (ErrorInvalidWatermark). */
export function parseWatermark(s: string | undefined): Watermark | null {
  if (!s || !/^[A-Za-z0-9+/]{4,80}={0,2}$/.test(s.trim())) return null;
  const m = /^W:(\d{1,15}):(\d{1,15})$/.exec(Buffer.from(s.trim(), "base64").toString("utf8"));
  return m ? { modseq: Number(m[1]), seq: Number(m[2]) } : null;
}

// ------------------------------------------------------------ writing

function parentXml(accountId: number, folder: number, element: string): string {
  // The IPM subtree (a top-level folder's parent) is the virtual "msgfolderroot" folder (ids.ts).
  const id = folder === 0 ? folderId(accountId, "msgfolderroot") : folderIdOf(accountId, folder);
  return `<t:${element} Id="${id}" ChangeKey="${changeKey(0)}"/>`;
}

function folderXml(accountId: number, folder: number, modseq: number, element: string): string {
  return `<t:${element} Id="${folderIdOf(accountId, folder)}" ChangeKey="${changeKey(modseq)}"/>`;
}

/**
 * The event element (`<t:CreatedEvent>...`): Watermark, TimeStamp, the
 * object's id and its parent, and for Moved/Copied the old ones
 * (Types.xsd BaseObjectChangedEventType, MovedCopiedEventType).
 */
export function eventXml(accountId: number, e: EwsEvent): string {
  const name = EVENT_TYPES[e.code];
  const head = tv("Watermark", watermark({ modseq: e.modseq, seq: e.seq })) + tv("TimeStamp", dateTime(e.ms));
  let body: string;
  if (e.cls === null) {
    body = folderXml(accountId, e.id, e.modseq, "FolderId") + parentXml(accountId, e.parent, "ParentFolderId");
    if (e.code === EV.Moved || e.code === EV.Copied) body += folderXml(accountId, e.oldId, e.modseq, "OldFolderId") + parentXml(accountId, e.oldParent, "OldParentFolderId");
  } else {
    body = itemIdXml({ accountId, itemClass: e.cls, id: e.id }, e.modseq) + parentXml(accountId, e.parent, "ParentFolderId");
    if (e.code === EV.Moved || e.code === EV.Copied) body += itemIdXml({ accountId, itemClass: e.cls, id: e.oldId }, e.modseq, "OldItemId") + parentXml(accountId, e.oldParent, "OldParentFolderId");
  }
  return t(name, head, body);
}

/** Types.xsd StatusEvent: "nothing happened", with the position the client is at. */
export function statusEventXml(w: Watermark): string {
  return t("StatusEvent", tv("Watermark", watermark(w)));
}

/** Types.xsd NotificationType: the subscription, where the client was, whether more wait, then the events. */
export function notificationXml(subscriptionId: string, previous: Watermark, more: boolean, events: string): string {
  return `<m:Notification>${tv("SubscriptionId", subscriptionId)}${tv("PreviousWatermark", watermark(previous))}${tv("MoreEvents", more)}${events}</m:Notification>`;
}
