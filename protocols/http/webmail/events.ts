/**
 * Live updates for open webmail pages: Server-Sent Events (HTML Living
 * Standard §9.2) fed by the store's event bus. One stream per open tab;
 * they are closed at sign-out, when the session disappears (checked on each
 * heartbeat) and at shutdown.
 */
import type { StoreEvent, MailStore } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";

interface Stream {
  sid: string;
  close(): void;
}

const enc = new TextEncoder();

export class EventHub {
  private streams = new Set<Stream>();
  private static readonly MAX_PER_SESSION = 8;

  constructor(
    private readonly store: MailStore,
    private readonly wstore: WebmailStore,
    private readonly heartbeatMs = 25_000,
  ) {}

  /** Opens a stream for a session; the response body is the event stream. */
  open(sid: string, accountId: number): Response {
    const mine = [...this.streams].filter((s) => s.sid === sid);
    // A tab that reconnects leaves its old stream behind until TCP notices; drop the oldest past the cap.
    if (mine.length >= EventHub.MAX_PER_SESSION) mine[0]!.close();
    let unsubscribe: (() => void) | null = null;
    let timer: ReturnType<typeof setInterval> | null = null;
    let stream: Stream;
    let closed = false;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        const send = (text: string) => {
          if (closed) return;
          try {
            ctrl.enqueue(enc.encode(text));
          } catch {
            stream.close();
          }
        };
        stream = {
          sid,
          close: () => {
            if (closed) return;
            closed = true;
            unsubscribe?.();
            if (timer) clearInterval(timer);
            this.streams.delete(stream);
            try {
              ctrl.close();
            } catch {
              // already closed by the client going away
            }
          },
        };
        this.streams.add(stream);
        // §9.2.6: a retry hint, then an initial event so the client knows the stream is live.
        send(`retry: 3000\nevent: ready\ndata: {}\n\n`);
        unsubscribe = this.store.events.subscribe(accountId, (e) => {
          const out = toClientEvent(e);
          if (out) send(`event: mail\ndata: ${JSON.stringify(out)}\n\n`);
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
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
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
}

export type ClientEvent =
  | { type: "exists"; folderId: number; id: number; uid: number }
  | { type: "flags"; folderId: number; updates: { id: number; uid: number; flags: string[] }[] }
  | { type: "expunge"; folderId: number; ids: number[]; uids: number[] }
  | { type: "folder"; folderId: number; change: string };

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
