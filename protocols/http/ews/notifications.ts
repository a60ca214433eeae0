/**
 * Notifications (MS-OXWSNTIF): Subscribe (pull and streaming), GetEvents,
 * Unsubscribe and GetStreamingEvents. The subscriptions and the mapping of
 * store changes to EWS events are ./notifications-registry.ts, the event
 * records and their XML ./notifications-events.ts, the streaming connection
 * ./notifications-stream.ts.
 *
 * Push subscriptions (the server calling the client's URL) are not offered:
 * PushSubscriptionRequest is answered ErrorInvalidRequest. Pull and
 * streaming cover every client we know of (exchangelib, DavMail, Outlook for
 * Mac, Evolution), and no mailbox server of ours makes outbound HTTP calls to
 * addresses a client names.
 */
import type { FeedFolderChange, FeedItemChange } from "../../../storage/change-api.ts";
import { EwsError, LEVEL, registerOperation, SoapFault, type EwsContext } from "./context.ts";
import { resolveFolder } from "./ids.ts";
import { NS } from "./ns.ts";
import { EV, eventMask, eventXml, notificationXml, parseWatermark, statusEventXml, watermark, type EwsEvent } from "./notifications-events.ts";
import { acknowledge, createSubscription, enqueue, findSubscription, LIMITS, pullEvents, removeSubscription, touch, type Subscription } from "./notifications-registry.ts";
import { LIMIT_CONNECTIONS, openStream } from "./notifications-stream.ts";
import { failure, responseMessages, success } from "./responses.ts";
import { attr, kid, kidsNamed, m, mkid, mv, parseBool, tv, type XmlElement } from "./xml.ts";

/** Folders one subscription may name (MS-OXWSNTIF leaves it open; a client names a handful). */
const MAX_FOLDERS = 200;
/** Subscriptions one GetStreamingEvents may read. */
const MAX_STREAM_IDS = 200;

/** The account's change number now (the feed's "tooOld" answer carries it, storage/change-api.ts). */
async function currentModseq(c: EwsContext): Promise<number> {
  return (await c.store.accountChanges(c.account.id, Number.MAX_SAFE_INTEGER, { limit: 1 })).highestModseq;
}

interface SubscribeRequest {
  streaming: boolean;
  mask: number;
  folders: Set<number> | null;
  root: boolean;
  timeoutMinutes: number;
  watermark: string | undefined;
}

async function readSubscribe(c: EwsContext, op: XmlElement): Promise<SubscribeRequest> {
  if (mkid(op, "PushSubscriptionRequest")) {
    throw new EwsError("ErrorInvalidRequest", "Push subscriptions are not offered by this server; use a pull or streaming subscription.");
  }
  const pull = mkid(op, "PullSubscriptionRequest");
  const stream = mkid(op, "StreamingSubscriptionRequest");
  const req = pull ?? stream;
  if (!req) throw new SoapFault("ErrorSchemaValidation", "Subscribe needs a PullSubscriptionRequest or a StreamingSubscriptionRequest.");
  const streaming = req === stream;
  // Messages.xsd: StreamingSubscriptionRequest came with Exchange 2010 SP1.
  if (streaming && c.version.level < LEVEL.Exchange2010_SP1) throw new EwsError("ErrorInvalidRequest", "Streaming subscriptions need RequestServerVersion Exchange2010_SP1 or later.");

  const types = kidsNamed(kid(req, "EventTypes"), "EventType").map((e) => e.text.trim());
  if (types.length === 0) throw new SoapFault("ErrorSchemaValidation", "EventTypes must name at least one event type.");
  const mask = eventMask(types);
  if (mask === null) throw new SoapFault("ErrorSchemaValidation", "EventTypes names an event type that does not exist.");

  const all = parseBool(attr(req, "SubscribeToAllFolders")) === true;
  const idEls = (kid(req, "FolderIds")?.children ?? []).filter((e) => e.ns === NS.t);
  if (all && idEls.length) throw new EwsError("ErrorInvalidSubscriptionRequest", "Name folders or subscribe to all folders, not both.");
  if (!all && idEls.length === 0) throw new EwsError("ErrorInvalidSubscriptionRequest", "Name at least one folder, or subscribe to all folders.");
  if (idEls.length > MAX_FOLDERS) throw new EwsError("ErrorInvalidSubscriptionRequest", `A subscription names at most ${MAX_FOLDERS} folders.`);
  let folders: Set<number> | null = null;
  let root = false;
  if (!all) {
    folders = new Set();
    for (const el of idEls) {
      const f = await resolveFolder(c, el);
      if (f.kind === "virtual") root = true;
      else folders.add(f.folder.id);
    }
  }

  let timeoutMinutes = 0;
  if (!streaming) {
    const raw = kid(req, "Timeout")?.text.trim();
    timeoutMinutes = raw !== undefined && /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    // Types.xsd SubscriptionTimeoutType: 1 to 1440 minutes.
    if (!(timeoutMinutes >= 1 && timeoutMinutes <= 1440)) throw new SoapFault("ErrorSchemaValidation", "Timeout must be a whole number of minutes from 1 to 1440.");
  }
  // Types.xsd puts Watermark in the types namespace; exchangelib sends it in the messages one.
  const w = streaming ? undefined : (kid(req, "Watermark") ?? mkid(req, "Watermark"))?.text.trim();
  return { streaming, mask, folders, root, timeoutMinutes, watermark: w || undefined };
}

/**
 * Subscribe with the Watermark of an earlier subscription: the changes since
 * it, from the account change feed, as the events they were (a move is
 * deleted + created with one item id in the feed, a Moved event here).
 */
async function replay(c: EwsContext, sub: Subscription, sinceModseq: number): Promise<void> {
  const r = await c.store.accountChanges(c.account.id, sinceModseq, { limit: LIMITS.queue });
  if (r.status !== "ok") throw new EwsError("ErrorInvalidWatermark", "The watermark is older than the changes this mailbox keeps; subscribe without one.");
  if (r.more) {
    // More than a queue holds: the client learns it missed events on its first GetEvents.
    sub.missed = true;
    return;
  }
  const ms = c.now();
  const out: EwsEvent[] = [];
  const ev = (code: EwsEvent["code"], x: FeedItemChange | FeedFolderChange, cls: EwsEvent["cls"], id: number, parent: number, oldParent = 0): EwsEvent => ({
    code,
    seq: 0,
    modseq: x.modseq,
    ms,
    cls,
    id,
    parent,
    oldId: oldParent ? id : 0,
    oldParent,
  });
  for (const f of r.folders) {
    const code = f.kind === "created" ? EV.Created : f.kind === "deleted" ? EV.Deleted : EV.Modified;
    out.push(ev(code, f, null, f.folderId, f.parentId ?? 0));
  }
  const gone = new Map<string, FeedItemChange>();
  for (const i of r.items) if (i.kind === "deleted") gone.set(`${i.itemId}:${i.modseq}`, i);
  const moved = new Set<string>();
  for (const i of r.items) {
    if (i.kind === "created") {
      const from = gone.get(`${i.itemId}:${i.modseq}`);
      if (from && from.folderId !== i.folderId) {
        moved.add(`${i.itemId}:${i.modseq}`);
        out.push(ev(EV.Moved, i, i.itemClass, i.itemId, i.folderId, from.folderId));
      } else out.push(ev(EV.Created, i, i.itemClass, i.itemId, i.folderId));
    } else if (i.kind === "changed") out.push(ev(EV.Modified, i, i.itemClass, i.itemId, i.folderId));
  }
  for (const i of r.items) if (i.kind === "deleted" && !moved.has(`${i.itemId}:${i.modseq}`)) out.push(ev(EV.Deleted, i, i.itemClass, i.itemId, i.folderId));
  out.sort((a, b) => a.modseq - b.modseq);
  enqueue(sub, out);
}

registerOperation("Subscribe", async (c, op) => {
  const req = await readSubscribe(c, op);
  let since: number | null = null;
  if (req.watermark !== undefined) {
    const w = parseWatermark(req.watermark);
    if (!w) throw new EwsError("ErrorInvalidWatermark", "The watermark is not one this server gave.");
    since = w.modseq;
  }
  const modseq = await currentModseq(c);
  if (since !== null && since > modseq) throw new EwsError("ErrorInvalidWatermark", "The watermark is from another history of this mailbox.");
  const sub = createSubscription(c.store, c.account.id, {
    streaming: req.streaming,
    mask: req.mask,
    folders: req.folders,
    root: req.root,
    modseq: since ?? modseq,
    timeoutMs: req.timeoutMinutes * 60_000,
  });
  try {
    if (since !== null && since < modseq) await replay(c, sub, since);
  } catch (e) {
    removeSubscription(sub);
    throw e;
  }
  const content = mv("SubscriptionId", sub.id) + (req.streaming ? "" : mv("Watermark", watermark(sub.mark)));
  return responseMessages("Subscribe", [success("SubscribeResponseMessage", content)]);
});

registerOperation("Unsubscribe", async (c, op) => {
  const id = mkid(op, "SubscriptionId")?.text.trim();
  if (!id) throw new SoapFault("ErrorSchemaValidation", "Unsubscribe needs a SubscriptionId.");
  const sub = findSubscription(c.store, c.account.id, id, c.now());
  if (!sub) throw new EwsError("ErrorSubscriptionNotFound", "No such subscription (it may have expired).");
  removeSubscription(sub);
  return responseMessages("Unsubscribe", [success("UnsubscribeResponseMessage")]);
});

/**
 * GetEvents (MS-OXWSNTIF §3.1.4.2): the watermark says which events the
 * client has; they are dropped, the next ones (up to LIMITS.perResponse,
 * MoreEvents when others wait) are sent and kept until the next call
 * acknowledges them, so a lost answer is asked for again with the same
 * watermark. Nothing new: one StatusEvent.
 */
registerOperation("GetEvents", async (c, op) => {
  const id = mkid(op, "SubscriptionId")?.text.trim();
  const wText = mkid(op, "Watermark")?.text.trim();
  if (!id || !wText) throw new SoapFault("ErrorSchemaValidation", "GetEvents needs a SubscriptionId and a Watermark.");
  const sub = findSubscription(c.store, c.account.id, id, c.now());
  if (!sub) throw new EwsError("ErrorSubscriptionNotFound", "No such subscription (it may have expired).");
  if (sub.streaming) throw new EwsError("ErrorInvalidPullSubscriptionId", "This is a streaming subscription: read it with GetStreamingEvents.");
  if (sub.missed) {
    removeSubscription(sub);
    throw new EwsError("ErrorMissedNotificationEvents", "More events happened than the subscription could hold; subscribe again and resynchronise.");
  }
  const w = parseWatermark(wText);
  if (!w || !acknowledge(sub, w)) throw new EwsError("ErrorInvalidWatermark", "The watermark is not a position of this subscription.");
  touch(sub, c.now());
  const previous = sub.mark;
  const { events, more } = pullEvents(sub, w);
  const body = events.length ? events.map((e) => eventXml(c.account.id, e)).join("") : statusEventXml({ modseq: Math.max(sub.modseq, previous.modseq), seq: previous.seq });
  return responseMessages("GetEvents", [success("GetEventsResponseMessage", notificationXml(sub.id, previous, more, body))]);
});

/**
 * GetStreamingEvents (MS-OXWSNTIF §3.1.4.3): the subscriptions named are
 * checked first; any unknown one answers one Error message naming them
 * (ErrorSubscriptionIds) and no stream. Then the connection stays open for
 * ConnectionTimeout minutes (1 to 30, Types.xsd StreamingSubscriptionConnectionTimeoutType).
 */
registerOperation(
  "GetStreamingEvents",
  async (c, op) => {
    const ids = kidsNamed(mkid(op, "SubscriptionIds"), "SubscriptionId").map((e) => e.text.trim());
    const rawTimeout = mkid(op, "ConnectionTimeout")?.text.trim();
    const timeout = rawTimeout !== undefined && /^\d{1,3}$/.test(rawTimeout) ? Number(rawTimeout) : NaN;
    if (ids.length === 0) throw new SoapFault("ErrorSchemaValidation", "GetStreamingEvents needs SubscriptionIds.");
    if (!(timeout >= 1 && timeout <= 30)) throw new SoapFault("ErrorSchemaValidation", "ConnectionTimeout must be a whole number of minutes from 1 to 30.");
    if (ids.length > MAX_STREAM_IDS) throw new EwsError("ErrorInvalidRequest", `One connection reads at most ${MAX_STREAM_IDS} subscriptions.`);
    const subs: Subscription[] = [];
    const bad: string[] = [];
    let pullOnes = false;
    for (const id of new Set(ids)) {
      const s = findSubscription(c.store, c.account.id, id, c.now());
      if (!s) bad.push(id);
      else if (!s.streaming) {
        pullOnes = true;
        bad.push(id);
      } else subs.push(s);
    }
    const tag = "GetStreamingEventsResponseMessage";
    if (bad.length) {
      const err = pullOnes ? new EwsError("ErrorInvalidSubscription", "A pull subscription cannot be read by GetStreamingEvents.") : new EwsError("ErrorSubscriptionNotFound", "No such subscription (it may have expired).");
      return responseMessages("GetStreamingEvents", [failure(tag, err, m("ErrorSubscriptionIds", bad.map((id) => tv("SubscriptionId", id)).join("")), mv("ConnectionStatus", "Closed"))]);
    }
    if (subs[0]!.hub.connections >= LIMIT_CONNECTIONS.perAccount) {
      return responseMessages("GetStreamingEvents", [failure(tag, new EwsError("ErrorExceededConnectionCount", `This mailbox has ${LIMIT_CONNECTIONS.perAccount} streaming connections open; close one first.`))]);
    }
    return openStream(subs, c.version.name, c.signal, timeout);
  },
  { since: "Exchange2010_SP1" },
);
