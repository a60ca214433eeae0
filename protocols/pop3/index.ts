/**
 * POP3 (RFC 1939) on the POP3 listener (110, STLS per RFC 2595) and POP3S
 * (995, implicit TLS per RFC 8314). Registers with the kernel's registry.
 */
import { join } from "node:path";
import { registerProtocol } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import { LoginTimes, MaildropLocks } from "./locks.ts";
import { fileSizeCache, type SizeCache } from "./sizes.ts";
import { RecordedSizes } from "./recorded-sizes.ts";
import { pop3Options, serveConnection } from "./connection.ts";
import type { Pop3Deps, Pop3Session } from "./session.ts";

const sessions = new Set<Pop3Session>();
/** The cluster topic of POP3 login times (LOGIN-DELAY across the server's processes). */
const LOGIN_TOPIC = "pop3.login";

/** Per-server state, keyed by the server's store (account ids are per store; tests run several servers in one process). */
interface Shared {
  locks: MaildropLocks;
  loginTimes: LoginTimes;
  sizes: SizeCache;
  recorded: RecordedSizes;
}
const shared = new WeakMap<object, Shared>();

function depsFor(ctx: ServerContext): Pop3Deps {
  let st = shared.get(ctx.store);
  if (!st) {
    const cluster = ctx.cluster;
    const loginTimes = new LoginTimes((id, at) => cluster.broadcast(LOGIN_TOPIC, [id, at]));
    cluster.on(LOGIN_TOPIC, (d) => {
      if (Array.isArray(d) && typeof d[0] === "number" && typeof d[1] === "number") loginTimes.learn(d[0], d[1]);
    });
    st = { locks: new MaildropLocks((key) => cluster.lock(key)), loginTimes, sizes: fileSizeCache(join(ctx.config.dataDir, "pop3")), recorded: new RecordedSizes() };
    shared.set(ctx.store, st);
  }
  return {
    store: ctx.store,
    authenticate: (u, p, ip) => ctx.authenticate(u, p, ip),
    login: (u, p, ip) => ctx.login(u, p, ip, { protocol: "pop3" }),
    isBlocked: (ip) => ctx.authLimiter.isBlocked(ip),
    locks: st.locks,
    sizes: st.sizes,
    recordedSizes: st.recorded,
    loginTimes: st.loginTimes,
    options: pop3Options(ctx.config),
    log: ctx.log.child({ proto: "pop3" }),
  };
}

registerProtocol({
  name: "pop3",
  listeners: ["POP3", "POP3S"],
  onConnection(socket, listener, ctx) {
    if (ctx.shuttingDown) {
      socket.end("-ERR [SYS/TEMP] Server shutting down\r\n");
      return;
    }
    const session = serveConnection(socket, listener.implicitTls, ctx, depsFor(ctx), (s) => sessions.delete(s));
    if (!session.closed) sessions.add(session);
  },
  stop() {
    // Sessions not in UPDATE close without deleting anything (RFC 1939 §6);
    // a QUIT being applied finishes its store call first.
    for (const s of sessions) s.shutdown();
  },
});
