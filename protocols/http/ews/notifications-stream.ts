/**
 * GetStreamingEvents' connection (MS-OXWSNTIF §3.1.4.3): one HTTP response
 * that stays open for ConnectionTimeout minutes and carries a sequence of
 * whole SOAP envelopes, each a GetStreamingEventsResponse: the events of its
 * subscriptions as they happen, an "OK" ConnectionStatus as a heartbeat when
 * nothing happened for a while, and "Closed" at the end.
 *
 * The connection's output is bounded: a client that stops reading while
 * events keep coming is dropped (its subscriptions stay and can be opened
 * again), so a stalled reader never holds more than MAX_BUFFERED bytes.
 */
import type { VersionName } from "./context.ts";
import { eventXml, notificationXml } from "./notifications-events.ts";
import { LIMITS, removeSubscription, takeEvents, touch, type AccountHub, type StreamSink, type Subscription } from "./notifications-registry.ts";
import { envelopeParts, SOAP_CONTENT_TYPE } from "./soap.ts";
import { m, ma, mv, tv } from "./xml.ts";

/** Time constants; tests shorten them (the minute is ConnectionTimeout's unit). */
export const STREAMING = { heartbeatMs: 30_000, minuteMs: 60_000 };

/** Bytes written but not yet taken by the client before the connection is dropped. */
const MAX_BUFFERED = 256 * 1024;

const encoder = new TextEncoder();

/** Counters for tests and the benchmark: connections dropped because their client stopped reading; bytes written. */
export const streamStats = { droppedBehind: 0, bytes: 0 };

/** Streaming connections one account may have open (ErrorExceededConnectionCount beyond). */
export const LIMIT_CONNECTIONS = { perAccount: 10 };

class StreamConnection implements StreamSink {
  private subs: Subscription[];
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private deadline: ReturnType<typeof setTimeout> | null = null;
  private scheduled = false;
  private closed = false;
  private lastWrite = Date.now();
  private readonly head: string;
  private readonly tail: string;

  private readonly hub: AccountHub;

  constructor(
    subs: Subscription[],
    version: VersionName,
    private readonly signal: AbortSignal,
  ) {
    this.subs = subs;
    this.hub = subs[0]!.hub;
    const p = envelopeParts(version);
    this.head = p.head;
    this.tail = p.tail;
  }

  response(timeoutMinutes: number): Response {
    const body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
          for (const s of this.subs) {
            const old = s.sink;
            s.sink = this;
            // MS-OXWSNTIF §3.1.4.3: a subscription is read on one connection; the older one is told.
            if (old) old.detach(s, "ErrorNewEventStreamConnectionOpened");
          }
          this.hub.connections++;
          this.write(this.message("OK", ""));
          this.flush();
          this.heartbeat = setInterval(() => {
            if (Date.now() - this.lastWrite >= STREAMING.heartbeatMs - 5) this.write(this.message("OK", ""));
          }, STREAMING.heartbeatMs);
          this.deadline = setTimeout(() => this.close(true), timeoutMinutes * STREAMING.minuteMs);
          this.signal.addEventListener("abort", this.onAbort, { once: true });
        },
        cancel: () => this.close(false),
      },
      { highWaterMark: MAX_BUFFERED, size: (chunk) => chunk?.byteLength ?? 0 },
    );
    return new Response(body, { status: 200, headers: { "content-type": SOAP_CONTENT_TYPE, "cache-control": "private", "x-accel-buffering": "no" } });
  }

  private readonly onAbort = (): void => this.close(false);

  /** One GetStreamingEventsResponse envelope (Messages.xsd GetStreamingEventsResponseMessageType: Notifications, ErrorSubscriptionIds, ConnectionStatus). */
  private message(status: "OK" | "Closed" | null, notifications: string): string {
    const msg = ma("GetStreamingEventsResponseMessage", { ResponseClass: "Success" }, "<m:ResponseCode>NoError</m:ResponseCode>", notifications && m("Notifications", notifications), status && mv("ConnectionStatus", status));
    return this.head + m("GetStreamingEventsResponse", m("ResponseMessages", msg)) + this.tail;
  }

  private errorMessage(code: string, text: string, ids: string[], status: "OK" | "Closed"): string {
    const msg = ma(
      "GetStreamingEventsResponseMessage",
      { ResponseClass: "Error" },
      mv("MessageText", text),
      mv("ResponseCode", code),
      mv("DescriptiveLinkKey", 0),
      m("ErrorSubscriptionIds", ids.map((id) => tv("SubscriptionId", id)).join("")),
      mv("ConnectionStatus", status),
    );
    return this.head + m("GetStreamingEventsResponse", m("ResponseMessages", msg)) + this.tail;
  }

  private write(xml: string): void {
    const c = this.controller;
    if (this.closed || !c) return;
    const bytes = encoder.encode(xml);
    // desiredSize = MAX_BUFFERED minus what waits: the writer (bridge.ts) takes a chunk only when the socket drained.
    if (bytes.byteLength > (c.desiredSize ?? 0)) {
      // The client stopped reading: drop the connection, keep the subscriptions (their events queue up, bounded).
      const e = new Error("streaming client does not read");
      e.name = "AbortError";
      streamStats.droppedBehind++;
      this.close(false, e);
      return;
    }
    streamStats.bytes += bytes.byteLength;
    c.enqueue(bytes);
    this.lastWrite = Date.now();
  }

  wake(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** Writes what waits: one envelope per round, each subscription's events as one Notification (more rounds for long queues). */
  private flush(): void {
    for (let round = 0; round < 50 && !this.closed; round++) {
      let notifications = "";
      const missed: string[] = [];
      let any = false;
      for (const s of this.subs) {
        if (s.missed) {
          missed.push(s.id);
          continue;
        }
        if (s.queue.length === 0) continue;
        const previous = s.mark;
        const { events, more } = takeEvents(s, LIMITS.perResponse);
        notifications += notificationXml(s.id, previous, more, events.map((e) => eventXml(s.accountId, e)).join(""));
        any = true;
      }
      if (missed.length) {
        // MS-OXWSNTIF §3.1.4.3.3.1: the subscriptions that lost events end; the client subscribes again.
        this.write(this.errorMessage("ErrorMissedNotificationEvents", "Events were lost for these subscriptions: subscribe again.", missed, "OK"));
        for (const id of missed) this.drop(id);
      }
      if (!any) return;
      this.write(this.message(null, notifications));
    }
    if (!this.closed && this.subs.some((s) => s.queue.length > 0)) this.wake();
  }

  private drop(id: string): void {
    const s = this.subs.find((x) => x.id === id);
    if (!s) return;
    this.subs = this.subs.filter((x) => x !== s);
    if (s.sink === this) s.sink = null;
    removeSubscription(s);
    if (this.subs.length === 0) this.close(true);
  }

  detach(sub: Subscription, code: string): void {
    if (!this.subs.includes(sub)) return;
    this.subs = this.subs.filter((x) => x !== sub);
    if (!this.closed) {
      const text = code === "ErrorNewEventStreamConnectionOpened" ? "The subscription is now read on another connection." : "The subscription was removed.";
      this.write(this.errorMessage(code, text, [sub.id], this.subs.length ? "OK" : "Closed"));
    }
    if (this.subs.length === 0) this.close(false);
  }

  /** Ends the connection: "Closed" when it ran its time (or lost its last subscription), nothing when the client left. */
  close(sayClosed: boolean, err?: Error): void {
    if (this.closed) return;
    if (sayClosed) this.write(this.message("Closed", ""));
    if (this.closed) return; // that write found the client gone and closed the connection already
    this.closed = true;
    if (this.heartbeat) clearInterval(this.heartbeat);
    if (this.deadline) clearTimeout(this.deadline);
    this.signal.removeEventListener("abort", this.onAbort);
    this.hub.connections--;
    const now = Date.now();
    for (const s of this.subs) {
      if (s.sink === this) {
        s.sink = null;
        touch(s, now);
      }
    }
    this.subs = [];
    try {
      if (err) this.controller?.error(err);
      else this.controller?.close();
    } catch {
      // already closed by the reader's cancel
    }
  }
}

/** The streaming response for these (checked) subscriptions. */
export function openStream(subs: Subscription[], version: VersionName, signal: AbortSignal, timeoutMinutes: number): Response {
  return new StreamConnection(subs, version, signal).response(timeoutMinutes);
}
