/**
 * The IMAP protocol module: IMAP (143, STARTTLS) and IMAPS (993, implicit
 * TLS). Registers with the kernel registry; each accepted connection
 * becomes a Session (session.ts). Command families register themselves by
 * being imported here.
 */
import { registerProtocol } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import { Session } from "./session.ts";
import { recentFloors, sharedFor, type ImapShared } from "./state.ts";
import "./auth.ts";
import "./mailbox.ts";
import "./list.ts";
import "./append.ts";
import "./fetch.ts";
import "./storecmd.ts";
import "./search.ts";
import "./sort.ts";
import "./copy.ts";
import "./expunge.ts";
import "./urlauth.ts";
import "./notify.ts";

const sessions = new Set<Session>();

/** The open sessions of one server (tests and the abuse scripts read their buffer sizes). */
export function imapSessions(ctx: ServerContext): Session[] {
  return [...sessions].filter((s) => s.ctx === ctx);
}
let sweeper: ReturnType<typeof setInterval> | null = null;
let sweepEvery = 15_000;
const stores = new Set<ImapShared>();

/** RFC 9051 §5.4: authenticated sessions get at least 30 minutes; IDLE is re-issued by clients every 29. */
const AUTH_MIN_MS = 30 * 60 * 1000;
const IDLE_MIN_MS = 31 * 60 * 1000;
/** Default for imap.loginTimeoutSeconds: Dovecot's login processes give a client 3 minutes. */
const LOGIN_TIMEOUT_DEFAULT_S = 180;

function loginTimeoutMs(s: Session): number {
  return (s.ctx.config.imap.loginTimeoutSeconds ?? LOGIN_TIMEOUT_DEFAULT_S) * 1000;
}

/**
 * Timeouts. Before login a connection costs us memory and a slot of the
 * IMAP connection cap while giving nothing: it has `loginTimeoutSeconds`
 * from connect (or UNAUTHENTICATE) to log in, however many NOOPs it sends,
 * as with Dovecot's login timeout; idle, it goes sooner if the inactivity
 * timeout is shorter. After login the inactivity timeout is at least 30
 * minutes (RFC 9051 §5.4), more during IDLE.
 */
function sweep(): void {
  const now = Date.now();
  for (const s of sessions) {
    const cfg = s.ctx.config.imap.idleTimeoutSeconds * 1000;
    const login = loginTimeoutMs(s);
    if (s.state === "notauth" && now - s.notauthSince > login) {
      s.log.info("imap: no login within the login timeout, disconnecting", { ip: s.remoteIp });
      s.send("* BYE Login timeout, disconnecting.\r\n");
      s.close();
      continue;
    }
    let limit = s.state === "notauth" ? Math.min(cfg, login) : Math.max(cfg, AUTH_MIN_MS);
    if (s.idleTag !== null) limit = Math.max(limit, IDLE_MIN_MS);
    if (now - s.lastActivity > limit) {
      s.send("* BYE Disconnected for inactivity.\r\n");
      s.close();
    }
  }
}

registerProtocol({
  name: "imap",
  listeners: ["IMAP", "IMAPS"],
  start(ctx: ServerContext) {
    stores.add(sharedFor(ctx.store, ctx.log, recentFloors((k, v) => ctx.cluster.claimMax(k, v))));
    // check a few times per timeout period (short timeouts only happen in tests)
    const shortest = Math.min(ctx.config.imap.idleTimeoutSeconds, ctx.config.imap.loginTimeoutSeconds ?? LOGIN_TIMEOUT_DEFAULT_S) * 1000;
    const every = Math.max(1000, Math.min(15_000, shortest / 4));
    if (!sweeper || every < sweepEvery) {
      if (sweeper) clearInterval(sweeper);
      sweepEvery = every;
      sweeper = setInterval(sweep, every);
      (sweeper as { unref?: () => void }).unref?.();
    }
  },
  onConnection(socket, listener, ctx) {
    socket.setNoDelay?.(true);
    const s = new Session(socket, { ctx, shared: sharedFor(ctx.store, ctx.log, recentFloors((k, v) => ctx.cluster.claimMax(k, v))), listener, sessions });
    s.start();
  },
  async stop() {
    // Several servers can share this module (tests): stop only the ones shutting down.
    const mine = [...sessions].filter((s) => s.ctx.shuttingDown);
    for (const s of mine) s.shutdown();
    const deadline = Date.now() + 2000;
    // wait until the BYE has left: with COMPRESS it goes through the deflater first (session.ts close)
    while (mine.some((s) => !s.isGone) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const sh of [...stores]) {
      if ([...sessions].some((s) => s.shared === sh)) continue;
      sh.dispose();
      stores.delete(sh);
    }
    if (sweeper && !sessions.size) {
      clearInterval(sweeper);
      sweeper = null;
    }
  },
});
