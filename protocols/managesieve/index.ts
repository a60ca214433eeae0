/**
 * ManageSieve (RFC 5804) on the MANAGESIEVE listener (4190, STARTTLS per
 * §2.2): users upload, check, activate and delete the Sieve scripts delivery
 * runs (src/delivery/sieve-filter.ts). Registers with the kernel's registry.
 */
import { registerProtocol } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import type { Config } from "../../src/config-types.ts";
import { SIEVE_EXTENSIONS } from "../../src/sieve/types.ts";
import { compile } from "../../src/sieve/compile.ts";
import { serveConnection } from "./connection.ts";
import type { ManageSieveDeps, ManageSieveOptions, SieveSession } from "./session.ts";
import "./auth.ts";
import "./scripts.ts";

const sessions = new Set<SieveSession>();

export function manageSieveOptions(config: Config): ManageSieveOptions {
  return {
    hostname: config.hostname,
    allowPlaintextAuth: config.imap.allowPlaintextAuth === true,
    tlsAvailable: true,
    maxScripts: config.sieve.maxScripts,
    maxScriptBytes: config.sieve.maxScriptBytes,
    maxRedirects: config.sieve.maxRedirects,
    extensions: SIEVE_EXTENSIONS,
  };
}

function depsFor(ctx: ServerContext): ManageSieveDeps {
  const { sieve } = ctx.config;
  const limits = { maxScriptBytes: sieve.maxScriptBytes, maxActions: sieve.maxActions, maxRedirects: sieve.maxRedirects };
  return {
    login: (u, p, ip) => ctx.login(u, p, ip, { protocol: "managesieve" }),
    isBlocked: (ip) => ctx.authLimiter.isBlocked(ip),
    store: ctx.storage.sieve,
    // The same compiler and limits delivery uses: what PUTSCRIPT accepts, delivery runs.
    compile: (text) => compile(text, { limits }),
    options: manageSieveOptions(ctx.config),
    log: ctx.log.child({ proto: "managesieve" }),
    shuttingDown: () => ctx.shuttingDown,
  };
}

registerProtocol({
  name: "managesieve",
  listeners: ["MANAGESIEVE"],
  onConnection(socket, listener, ctx) {
    if (ctx.shuttingDown) {
      socket.end('BYE (TRYLATER) "Server shutting down"\r\n');
      return;
    }
    const session = serveConnection(socket, listener.implicitTls, ctx, depsFor(ctx), (s) => sessions.delete(s));
    if (!session.closed) sessions.add(session);
  },
  stop() {
    for (const s of sessions) s.shutdown();
  },
});
