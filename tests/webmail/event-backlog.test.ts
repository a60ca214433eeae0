/**
 * issue 13 item 3 (webmail half): `/api/events` streams whose client never
 * reads must not pile up output. Sixteen real TLS connections open the
 * stream and then stop reading while the account's mailbox changes a lot;
 * each stream's unsent backlog stays under the hub's cap, every one of them
 * is disconnected, and nothing stays queued afterwards. A client that does
 * read keeps getting events, and a huge change arrives as one "resync".
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import tls from "node:tls";
import * as eventsModule from "../../protocols/http/webmail/events.ts";
import { ALICE, ApiClient, startWebmailServer, waitFor } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let accountId = 0;
let folderId = 0;

beforeAll(async () => {
  srv = await startWebmailServer();
  const a = (await srv.store.getAccount(ALICE.email))!;
  accountId = a.id;
  folderId = (await srv.store.getFolder(a.id, "INBOX"))!.id;
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

interface RawStream {
  sock: tls.TLSSocket;
  received: string;
  closed: boolean;
}

/** Opens /api/events over a real TLS socket; with `stall`, stops reading once the stream is live. */
function openStream(c: ApiClient, stall: boolean): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const port = Number(new URL(srv.base).port);
    const s: RawStream = { sock: tls.connect({ host: "127.0.0.1", port, rejectUnauthorized: false }), received: "", closed: false };
    s.sock.on("close", () => (s.closed = true));
    s.sock.on("error", () => {});
    s.sock.once("secureConnect", () => {
      s.sock.write(`GET /api/events HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${c.cookie}\r\nAccept: text/event-stream\r\n\r\n`);
    });
    const onData = (d: Buffer) => {
      s.received += d.toString("latin1");
      if (s.received.includes("event: ready")) {
        if (stall) {
          s.sock.off("data", onData);
          s.sock.pause();
        }
        resolve(s);
      }
    };
    s.sock.on("data", onData);
    setTimeout(() => reject(new Error("event stream did not start")), 10_000);
  });
}

/** A flag change on `n` messages, as the store publishes it after its transaction. */
function flagsEvent(n: number, seed: number) {
  const updates = Array.from({ length: n }, (_, i) => ({ id: seed * 1000 + i, uid: seed * 1000 + i, modseq: seed, flags: ["\\Seen", "\\Flagged", "$Label" + (seed % 7)] }));
  return { type: "flags" as const, accountId, folderId, updates };
}

/**
 * Publishes `n` changes of 150 messages each, then lets the HTTP writer run, as it would between
 * real store transactions (each store change is its own transaction).
 */
async function flood(n: number): Promise<void> {
  for (let i = 0; i < n; i++) srv.store.events.publish(flagsEvent(150, seq++));
  await new Promise((r) => setImmediate(r));
}
let seq = 1;

const hub = () => eventsModule.eventHubOf?.(srv.store);

describe("event stream backlog", () => {
  test("16 streams that never read: each backlog stays under the cap, all are disconnected, nothing stays queued", async () => {
    const sessions = [await ApiClient.signIn(srv.base, ALICE), await ApiClient.signIn(srv.base, ALICE)];
    const stalled: RawStream[] = [];
    for (let i = 0; i < 16; i++) stalled.push(await openStream(sessions[i % 2]!, true));
    // About 9 KB per event; 40 MB per stream is far more than the kernel's socket buffers can absorb.
    const perEvent = JSON.stringify(flagsEvent(150, 1)).length;
    const maxEvents = Math.ceil((40 * 1024 * 1024) / perEvent);
    let worst = 0;
    let published = 0;
    while (published < maxEvents && stalled.some((s) => !s.closed) && hub()?.stats().streams !== 0) {
      await flood(10);
      published += 10;
      const st = hub()?.stats();
      if (st) worst = Math.max(worst, ...st.queued);
    }
    // The server has dropped every stream (what it still had queued is gone); its FIN waits behind the
    // bytes already in the socket buffers, so the clients see the end once they read again.
    await waitFor(async () => hub()?.stats().streams === 0, "every stalled stream dropped by the server", 20_000);
    for (const s of stalled) {
      s.sock.on("data", () => {});
      s.sock.resume();
    }
    await waitFor(async () => stalled.every((s) => s.closed), "every stalled stream disconnected", 20_000);
    const st = hub()!.stats();
    expect(st.closedBehind).toBeGreaterThanOrEqual(16);
    expect(worst).toBeLessThanOrEqual(st.limits.maxQueuedBytes);
    expect(st.peakQueued).toBeLessThanOrEqual(st.limits.maxQueuedBytes);
    // Released: no stream left, nothing queued, no bus subscription kept.
    expect(st.streams).toBe(0);
    expect(st.queued).toEqual([]);
    console.log(`event backlog: ${stalled.length} stalled streams closed, peak unsent ${st.peakQueued} bytes per stream (cap ${st.limits.maxQueuedBytes}) after ${published} events of ${perEvent} bytes`);
  }, 120_000);

  test("a client that reads keeps its stream; one huge change arrives as a single resync", async () => {
    const c = await ApiClient.signIn(srv.base, ALICE);
    const s = await openStream(c, false);
    // The same flood as above (about 11 MB), which this client reads as it comes.
    for (let i = 0; i < 100; i++) await flood(10);
    await waitFor(async () => (s.received.match(/event: mail/g) ?? []).length >= 1000, "1000 events delivered");
    expect(s.closed).toBe(false);
    srv.store.events.publish(flagsEvent(5000, 9999));
    await waitFor(async () => s.received.includes(`"type":"resync","folderId":${folderId}`), "resync event");
    expect(s.received).not.toContain('"id":9999000');
    expect(s.closed).toBe(false);
    expect(hub()!.stats().streams).toBe(1);
    s.sock.destroy();
    await waitFor(async () => hub()!.stats().streams === 0, "stream released after the client left");
  }, 60_000);

  test("an account holds at most maxPerAccount streams: the oldest is dropped", async () => {
    const max = hub()!.limits.maxPerAccount;
    const sessions = [await ApiClient.signIn(srv.base, ALICE), await ApiClient.signIn(srv.base, ALICE), await ApiClient.signIn(srv.base, ALICE)];
    const before = hub()!.stats().closedOverCap;
    const opened: RawStream[] = [];
    for (let i = 0; i < max + 1; i++) opened.push(await openStream(sessions[i % 3]!, false));
    await waitFor(async () => opened[0]!.closed, "oldest stream dropped");
    const st = hub()!.stats();
    expect(st.streams).toBe(max);
    expect(st.closedOverCap).toBe(before + 1);
    expect(opened.slice(1).every((s) => !s.closed)).toBe(true);
    for (const s of opened) s.sock.destroy();
    await waitFor(async () => hub()!.stats().streams === 0, "streams released");
  }, 60_000);
});
