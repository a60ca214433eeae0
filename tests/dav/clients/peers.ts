/**
 * The two servers every client scenario runs against: Radicale (the peer
 * nobody here wrote) and Pillarbox (the in-process test server over HTTPS).
 * A scenario is written once against `Peer` and run on both; the test then
 * asserts the expected outcome on Radicale and the same outcome on
 * Pillarbox.
 *
 * URL layouts differ (Radicale: /<user>/ is principal and both homes;
 * Pillarbox: /dav/principals/<user>/, /dav/calendars/<user>/,
 * /dav/addressbooks/<user>/, rules of issue 15), which is exactly what the
 * clients' discovery has to cope with.
 */
import { selfSignedPaths } from "../../../src/tls.ts";
import { startRadicale, type RadicaleServer } from "../../helpers/radicale.ts";
import { createUser, startTestServer, type TestServer } from "../../helpers/server.ts";

export type PeerName = "radicale" | "pillarbox";

export interface Peer {
  name: PeerName;
  /** "https://localhost:PORT" (no trailing slash). */
  origin: string;
  /** Where a client's discovery starts (what a user types as the server URL). */
  rootUrl: string;
  user: string;
  password: string;
  /** A second user (for access checks). */
  user2: string;
  /** PEM file the clients trust (each server's self-signed certificate for "localhost"). */
  caFile: string;
  /** Absolute URLs with trailing slash. */
  calendarHome: string;
  addressbookHome: string;
  /** "default": the home has a VTODO task list already (Pillarbox's "Tasks"); "mk": clients make one (Radicale). */
  tasks: "default" | "mk";
  close(): Promise<void>;
}

export async function startRadicalePeer(): Promise<Peer & { radicale: RadicaleServer }> {
  const rad = await startRadicale({ users: { alice: "secret", bob: "secret" } });
  const origin = rad.url.replace(/\/$/, "");
  return {
    name: "radicale",
    radicale: rad,
    origin,
    rootUrl: rad.url,
    user: "alice",
    password: "secret",
    user2: "bob",
    caFile: rad.caFile,
    calendarHome: `${origin}/alice/`,
    addressbookHome: `${origin}/alice/`,
    tasks: "mk",
    close: () => rad.close(),
  };
}

export async function startPillarboxPeer(): Promise<Peer & { srv: TestServer }> {
  const srv = await startTestServer({ listeners: ["HTTPS"] });
  await createUser(srv.store, "alice@example.org", "secret", { displayName: "Alice Example" });
  await createUser(srv.store, "bob@example.org", "secret", { displayName: "Bob Example" });
  const origin = `https://localhost:${srv.port("HTTPS")}`;
  return {
    name: "pillarbox",
    srv,
    origin,
    rootUrl: `${origin}/dav/`,
    user: "alice@example.org",
    password: "secret",
    user2: "bob@example.org",
    caFile: selfSignedPaths(srv.dataDir).certFile,
    calendarHome: `${origin}/dav/calendars/alice@example.org/`,
    addressbookHome: `${origin}/dav/addressbooks/alice@example.org/`,
    tasks: "default",
    close: () => srv.close(),
  };
}

/**
 * Starts both servers (in parallel). For developing a scenario against the
 * peer alone, PILLARBOX_DAV_CLIENT_PEER=radicale (or =pillarbox) starts only
 * that one; `pillarbox`/`radicale` is then undefined and the tests skip the
 * comparison (never set in CI).
 */
export async function startPeers(): Promise<{ radicale?: Peer; pillarbox?: Peer; both: Peer[]; close(): Promise<void> }> {
  const only = process.env.PILLARBOX_DAV_CLIENT_PEER;
  const started = await Promise.allSettled([only === "pillarbox" ? undefined : startRadicalePeer(), only === "radicale" ? undefined : startPillarboxPeer()]);
  const failed = started.find((r) => r.status === "rejected");
  if (failed) {
    // Never leave the other server running when one did not start.
    await Promise.allSettled(started.map((r) => (r.status === "fulfilled" && r.value ? r.value.close() : undefined)));
    throw (failed as PromiseRejectedResult).reason;
  }
  const [radicale, pillarbox] = started.map((r) => (r as PromiseFulfilledResult<Peer | undefined>).value);
  const both = [radicale, pillarbox].filter((p): p is Peer => p !== undefined);
  return {
    radicale,
    pillarbox,
    both,
    close: async () => {
      await Promise.allSettled(both.map((p) => p.close()));
    },
  };
}

/** Runs `fn` on every started peer in parallel; results by peer name. */
export async function onPeers<T>(peers: { both: Peer[] }, fn: (p: Peer) => Promise<T>): Promise<Partial<Record<PeerName, T>>> {
  const results = await Promise.all(peers.both.map(fn));
  return Object.fromEntries(peers.both.map((p, i) => [p.name, results[i]]));
}

/** Basic auth header value of the peer's main user. */
export function basicAuth(p: Peer, user = p.user): string {
  return "Basic " + Buffer.from(`${user}:${p.password}`).toString("base64");
}
