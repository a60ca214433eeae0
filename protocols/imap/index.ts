/**
 * The IMAP protocol module: IMAP (143, STARTTLS) and IMAPS (993, implicit
 * TLS). Registers with the kernel registry; each accepted connection
 * becomes a Session (session.ts). Command families register themselves by
 * being imported here.
 */
import { registerProtocol } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import { Session } from "./session.ts";
import { sharedFor, type ImapShared } from "./state.ts";
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
let sweeper: ReturnType<typeof setInterval> | null = null;
let sweepEvery = 15_000;
const stores = new Set<ImapShared>();

/** RFC 9051 §5.4: authenticated sessions get at least 30 minutes; IDLE is re-issued by clients every 29. */
const PREAUTH_TIMEOUT_MS = 3 * 60 * 1000;
const IDLE_MIN_MS = 31 * 60 * 1000;

function sweep(): void {
  const now = Date.now();
  for (const s of sessions) {
    const cfg = s.ctx.config.imap.idleTimeoutSeconds * 1000;
    let limit = s.state === "notauth" ? Math.min(cfg, PREAUTH_TIMEOUT_MS) : Math.max(cfg, 30 * 60 * 1000);
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
    stores.add(sharedFor(ctx.store, ctx.log));
    // check a few times per timeout period (short timeouts only happen in tests)
    const every = Math.max(1000, Math.min(15_000, (ctx.config.imap.idleTimeoutSeconds * 1000) / 4));
    if (!sweeper || every < sweepEvery) {
      if (sweeper) clearInterval(sweeper);
      sweepEvery = every;
      sweeper = setInterval(sweep, every);
      (sweeper as { unref?: () => void }).unref?.();
    }
  },
  onConnection(socket, listener, ctx) {
    socket.setNoDelay?.(true);
    const s = new Session(socket, { ctx, shared: sharedFor(ctx.store, ctx.log), listener, sessions });
    s.start();
  },
  async stop() {
    // Several servers can share this module (tests): stop only the ones shutting down.
    const mine = [...sessions].filter((s) => s.ctx.shuttingDown);
    for (const s of mine) s.shutdown();
    const deadline = Date.now() + 2000;
    while (mine.some((s) => !s.isClosed) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
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
