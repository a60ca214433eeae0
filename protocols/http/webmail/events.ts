/**
 * Live updates for open webmail pages: Server-Sent Events (HTML Living
 * Standard §9.2) fed by the store's event bus. One stream per open tab;
 * they are closed at sign-out, when the session disappears (checked on each
 * heartbeat) and at shutdown.
 *
 * Output is bounded: each stream holds at most `maxQueuedBytes` the client
 * has not accepted yet, and a client that falls further behind is
 * disconnected (its EventSource reconnects and the page reloads its view);
 * a session and an account may hold only so many streams.
 */
import type { StoreEvent, MailStore } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";

interface Stream {
  sid: string;
  accountId: number;
  /** Bytes enqueued and not yet taken by the HTTP writer (which takes only as fast as the socket drains). */
  queued(): number;
  close(): void;
  /** Drops the stream and its queued bytes at once; the HTTP layer then closes the connection. */
  abort(reason: string): void;
}

export interface EventHubLimits {
  /**
   * Unsent bytes a stream may hold before the client counts as gone: the
   * same bound as SMTP's unsent-output cap (256 KiB). Dovecot closes a
   * client in this state ("Client has too much output"); so do we, and the
   * browser's EventSource reconnects and reloads what it shows (main.ts).
   */
  maxQueuedBytes: number;
  /** Streams per session (tabs); the oldest is dropped past it. */
  maxPerSession: number;
  /** Streams per account over all its sessions; the oldest is dropped past it. */
  maxPerAccount: number;
  /**
   * One store event larger than this once serialised (a flag change on
   * thousands of messages) is sent as a short "resync" for its folder
   * instead, so a single big change never fills a healthy stream.
   */
  maxEventBytes: number;
}

export const DEFAULT_EVENT_LIMITS: EventHubLimits = {
  maxQueuedBytes: 256 * 1024,
  maxPerSession: 8,
  // Dovecot's mail_max_userip_connections is 10 per user and IP; a person with
  // two browsers of a few tabs each stays under 16.
  maxPerAccount: 16,
  maxEventBytes: 32 * 1024,
};

export interface EventHubStats {
  streams: number;
  /** Unsent bytes of each open stream. */
  queued: number[];
  /** Largest unsent backlog any stream reached since start. */
  peakQueued: number;
  /** Streams closed because their client fell more than maxQueuedBytes behind. */
  closedBehind: number;
  /** Streams dropped because a session or account opened more than allowed. */
  closedOverCap: number;
  limits: EventHubLimits;
}

const enc = new TextEncoder();

/** Hubs by store, so tests and tools can read a server's counters (one hub per webmail). */
const hubs = new WeakMap<object, EventHub>();
export function eventHubOf(store: object): EventHub | undefined {
  return hubs.get(store);
}

export class EventHub {
  private streams = new Set<Stream>();
  private peak = 0;
  private closedBehind = 0;
  private closedOverCap = 0;
  readonly limits: EventHubLimits;

  constructor(
    private readonly store: MailStore,
    private readonly wstore: WebmailStore,
    private readonly heartbeatMs = 25_000,
    limits: Partial<EventHubLimits> = {},
    private readonly onBehind?: (info: { accountId: number; queued: number }) => void,
  ) {
    this.limits = { ...DEFAULT_EVENT_LIMITS, ...limits };
    hubs.set(store, this);
  }

  /** Opens a stream for a session; the response body is the event stream. */
  open(sid: string, accountId: number): Response {
    const { maxQueuedBytes, maxPerSession, maxPerAccount, maxEventBytes } = this.limits;
    // A tab that reconnects leaves its old stream behind until TCP notices; drop the oldest past the caps.
    const mine = [...this.streams].filter((s) => s.sid === sid);
    for (let i = 0; i <= mine.length - maxPerSession; i++) this.dropOverCap(mine[i]!);
    const account = [...this.streams].filter((s) => s.accountId === accountId);
    for (let i = 0; i <= account.length - maxPerAccount; i++) this.dropOverCap(account[i]!);
    let unsubscribe: (() => void) | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let stream: Stream;
    let closed = false;
    const body = new ReadableStream<Uint8Array>(
      {
        start: (ctrl) => {
          const queued = () => (closed ? 0 : Math.max(0, maxQueuedBytes - (ctrl.desiredSize ?? 0)));
          const finish = () => {
            closed = true;
            unsubscribe?.();
            unsubscribe = null;
            if (timer) clearInterval(timer);
            timer = null;
            this.streams.delete(stream);
          };
          const send = (text: string) => {
            if (closed) return;
            const bytes = enc.encode(text);
            // The writer takes a chunk only once the socket has drained (bridge.ts), so this queue is what the
            // client has not accepted beyond the socket's own buffers (one write past their high-water mark).
            if (bytes.byteLength > (ctrl.desiredSize ?? 0)) {
              this.closedBehind++;
              this.onBehind?.({ accountId, queued: queued() });
              stream.abort("client too far behind");
              return;
            }
            try {
              ctrl.enqueue(bytes);
            } catch {
              stream.close();
              return;
            }
            const q = queued();
            if (q > this.peak) this.peak = q;
          };
          stream = {
            sid,
            accountId,
            queued,
            close: () => {
              if (closed) return;
              finish();
              try {
                ctrl.close();
              } catch {
                // already closed by the client going away
              }
            },
            abort: (reason) => {
              if (closed) return;
              finish();
              // error() discards the queue at once (Streams §4.5 ReadableStreamDefaultControllerError);
              // close() would keep it until a client that does not read had taken it all.
              // Named AbortError: an expected end of the response, which the bridge does not log as a failure.
              ctrl.error(Object.assign(new Error(reason), { name: "AbortError" }));
            },
          };
          this.streams.add(stream);
          // §9.2.6: a retry hint, then an initial event so the client knows the stream is live.
          send(`retry: 3000\nevent: ready\ndata: {}\n\n`);
          unsubscribe = this.store.events.subscribe(accountId, (e) => {
            const out = toClientEvent(e);
            if (!out) return;
            let text = `event: mail\ndata: ${JSON.stringify(out)}\n\n`;
            if (text.length > maxEventBytes) text = `event: mail\ndata: ${JSON.stringify({ type: "resync", folderId: out.folderId } satisfies ClientEvent)}\n\n`;
            send(text);
          });
          timer = setInterval(() => {
            void this.wstore.getSession(sid).then(
              (rec) => {
                if (!rec || rec.expiresAt <= Date.now()) {
                  send(`event: signed_out\ndata: {}\n\n`);
                  stream.close();
                } else send(`: ping\n\n`);
              },
              () => send(`: ping\n\n`),
            );
          }, this.heartbeatMs);
        },
        cancel: () => stream?.close(),
      },
      // Counted in bytes, so desiredSize says how much more this stream may hold.
      new ByteLengthQueuingStrategy({ highWaterMark: maxQueuedBytes }),
    );
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  private dropOverCap(s: Stream): void {
    this.closedOverCap++;
    s.abort("too many event streams");
  }

  closeSession(sid: string): void {
    for (const s of [...this.streams]) if (s.sid === sid) s.close();
  }

  closeAll(): void {
    for (const s of [...this.streams]) s.close();
  }

  get size(): number {
    return this.streams.size;
  }

  stats(): EventHubStats {
    const queued = [...this.streams].map((s) => s.queued());
    return { streams: this.streams.size, queued, peakQueued: this.peak, closedBehind: this.closedBehind, closedOverCap: this.closedOverCap, limits: this.limits };
  }
}

export type ClientEvent =
  | { type: "exists"; folderId: number; id: number; uid: number }
  | { type: "flags"; folderId: number; updates: { id: number; uid: number; flags: string[] }[] }
  | { type: "expunge"; folderId: number; ids: number[]; uids: number[] }
  | { type: "folder"; folderId: number; change: string }
  /** Too much changed at once to describe: reload the folder (and its list) from the API. */
  | { type: "resync"; folderId: number };

export function toClientEvent(e: StoreEvent): ClientEvent | null {
  switch (e.type) {
    case "exists":
      return { type: "exists", folderId: e.folderId, id: e.id, uid: e.uid };
    case "flags":
      return { type: "flags", folderId: e.folderId, updates: e.updates.map((u) => ({ id: u.id, uid: u.uid, flags: u.flags })) };
    case "expunge":
      return { type: "expunge", folderId: e.folderId, ids: e.ids, uids: e.uids };
    case "folder":
      return { type: "folder", folderId: e.folderId, change: e.change };
    default:
      return null;
  }
}
