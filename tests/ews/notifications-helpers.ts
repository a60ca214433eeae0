/**
 * Helpers for the notification tests: Subscribe/GetEvents calls that return
 * plain objects, and a streaming reader that splits GetStreamingEvents'
 * response into its envelopes as they arrive.
 */
import https from "node:https";
import { parseXml, type XmlElement } from "../../protocols/http/dav/xml.ts";
import { envelope, find, findAll, type EwsEnv } from "./helpers.ts";

export interface User {
  email: string;
  pass: string;
}

export interface SeenEvent {
  type: string;
  watermark: string;
  itemId?: string;
  folderId?: string;
  parent?: string;
  oldItemId?: string;
  oldParent?: string;
}

export function eventsOf(notification: XmlElement | undefined): SeenEvent[] {
  if (!notification) return [];
  return notification.children
    .filter((k) => k.name.endsWith("Event"))
    .map((k) => ({
      type: k.name,
      watermark: find(k, "Watermark")?.text ?? "",
      itemId: find(k, "ItemId")?.attrs.Id,
      folderId: find(k, "FolderId")?.attrs.Id,
      parent: find(k, "ParentFolderId")?.attrs.Id,
      oldItemId: find(k, "OldItemId")?.attrs.Id,
      oldParent: find(k, "OldParentFolderId")?.attrs.Id,
    }));
}

export async function subscribe(env: EwsEnv, u: User, inner: string, opts: { version?: string } = {}): Promise<{ code: string; id: string; watermark: string; status: number; body: XmlElement }> {
  const r = await env.call(u.email, u.pass, `<m:Subscribe>${inner}</m:Subscribe>`, opts);
  const msg = find(r.body, "ResponseMessages", "SubscribeResponseMessage");
  return {
    status: r.status,
    body: r.body,
    code: find(msg, "ResponseCode")?.text ?? find(r.body, "detail", "ResponseCode")?.text ?? "(none)",
    id: find(msg, "SubscriptionId")?.text ?? "",
    watermark: find(msg, "Watermark")?.text ?? "",
  };
}

export function pullRequest(folders: string, types: string[], extra = "", attrs = ""): string {
  return `<m:PullSubscriptionRequest${attrs}>${folders}<t:EventTypes>${types.map((t) => `<t:EventType>${t}</t:EventType>`).join("")}</t:EventTypes>${extra}<t:Timeout>10</t:Timeout></m:PullSubscriptionRequest>`;
}

export async function getEvents(env: EwsEnv, u: User, id: string, watermark: string): Promise<{ code: string; events: SeenEvent[]; more: boolean; previous: string }> {
  const r = await env.call(u.email, u.pass, `<m:GetEvents><m:SubscriptionId>${id}</m:SubscriptionId><m:Watermark>${watermark}</m:Watermark></m:GetEvents>`);
  const msg = find(r.body, "ResponseMessages", "GetEventsResponseMessage");
  const n = find(msg, "Notification");
  return {
    code: find(msg, "ResponseCode")?.text ?? find(r.body, "detail", "ResponseCode")?.text ?? "(none)",
    events: eventsOf(n),
    more: find(n, "MoreEvents")?.text === "true",
    previous: find(n, "PreviousWatermark")?.text ?? "",
  };
}

/**
 * GetEvents until `want` holds for the events gathered (events are
 * acknowledged as they come: each call passes the last watermark seen).
 */
export async function collect(env: EwsEnv, u: User, id: string, watermark: string, want: (events: SeenEvent[]) => boolean, timeoutMs = 15_000): Promise<{ events: SeenEvent[]; watermark: string }> {
  const all: SeenEvent[] = [];
  let w = watermark;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const r = await getEvents(env, u, id, w);
    if (r.code !== "NoError") throw new Error(`GetEvents: ${r.code}`);
    for (const e of r.events) {
      if (e.type !== "StatusEvent") all.push(e);
      w = e.watermark || w;
    }
    if (want(all)) return { events: all, watermark: w };
    if (Date.now() > until) throw new Error(`events not seen; got ${JSON.stringify(all.map((e) => e.type))}`);
    if (!r.more) await new Promise((r) => setTimeout(r, 100));
  }
}

/** One open GetStreamingEvents response, read envelope by envelope. */
export class StreamReader {
  envelopes: XmlElement[] = [];
  ended = false;
  status = 0;
  private buf = "";
  private waiters: (() => void)[] = [];
  private req: ReturnType<typeof https.request> | null = null;

  static open(env: EwsEnv, u: User, operationXml: string): Promise<StreamReader> {
    const s = new StreamReader();
    return new Promise((resolve, reject) => {
      const body = envelope(operationXml);
      s.req = https.request(
        {
          host: "127.0.0.1",
          port: env.port,
          method: "POST",
          path: "/EWS/Exchange.asmx",
          rejectUnauthorized: false,
          agent: false,
          headers: { authorization: "Basic " + Buffer.from(`${u.email}:${u.pass}`).toString("base64"), "content-type": "text/xml; charset=utf-8", "content-length": String(Buffer.byteLength(body)) },
        },
        (res) => {
          s.status = res.statusCode ?? 0;
          res.setEncoding("utf8");
          res.on("data", (d: string) => s.feed(d));
          res.on("end", () => s.end());
          res.on("error", () => s.end());
          res.on("close", () => s.end());
          resolve(s);
        },
      );
      s.req.on("error", reject);
      s.req.end(body);
    });
  }

  private feed(d: string): void {
    this.buf += d;
    for (let i = this.buf.indexOf("</s:Envelope>"); i >= 0; i = this.buf.indexOf("</s:Envelope>")) {
      const doc = this.buf.slice(0, i + "</s:Envelope>".length);
      this.buf = this.buf.slice(doc.length);
      this.envelopes.push(parseXml(doc, { MAX_BODY: 16 * 1024 * 1024, MAX_DEPTH: 64, MAX_ELEMENTS: 200_000, MAX_ATTRS: 64, MAX_NAME: 1024, MAX_ATTR_VALUE: 1024 * 1024 }));
    }
    this.wake();
  }

  private end(): void {
    this.ended = true;
    this.wake();
  }

  /** Until the stream moves (data or its end) or 200 ms pass. */
  private nap(): Promise<void> {
    return new Promise<void>((r) => {
      this.waiters.push(r);
      setTimeout(r, 200);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Waits for an envelope at or after `from` that `pred` accepts; returns its index. */
  async waitFor(pred: (e: XmlElement) => boolean, from = 0, timeoutMs = 15_000): Promise<number> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.envelopes.length; i++) if (pred(this.envelopes[i]!)) return i;
      if (this.ended) throw new Error("stream ended");
      if (Date.now() > until) throw new Error("timed out waiting for an envelope");
      await this.nap();
    }
  }

  async waitEnd(timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!this.ended) {
      if (Date.now() > until) throw new Error("stream did not end");
      await this.nap();
    }
  }

  close(): void {
    this.req?.destroy();
  }
}

/** The GetStreamingEventsResponseMessage of an envelope. */
export function streamMessage(e: XmlElement): XmlElement | undefined {
  const body = e.children.find((k) => k.name === "Body");
  return find(body, "GetStreamingEventsResponse", "ResponseMessages", "GetStreamingEventsResponseMessage");
}

export function connectionStatus(e: XmlElement): string | undefined {
  return find(streamMessage(e), "ConnectionStatus")?.text;
}

export function streamEvents(e: XmlElement): SeenEvent[] {
  const msg = streamMessage(e);
  const ns = msg ? findAll(msg, "Notification") : [];
  return ns.flatMap((n) => eventsOf(n));
}
