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

/** Starts both servers (in parallel). */
export async function startPeers(): Promise<{ radicale: Peer; pillarbox: Peer; both: Peer[]; close(): Promise<void> }> {
  const [radicale, pillarbox] = await Promise.all([startRadicalePeer(), startPillarboxPeer()]);
  return {
    radicale,
    pillarbox,
    both: [radicale, pillarbox],
    close: async () => {
      await Promise.allSettled([radicale.close(), pillarbox.close()]);
    },
  };
}

/** Basic auth header value of the peer's main user. */
export function basicAuth(p: Peer, user = p.user): string {
  return "Basic " + Buffer.from(`${user}:${p.password}`).toString("base64");
}
