/**
 * SMTP listeners: SMTP (25, MX, never AUTH), SUBMISSION (587, STARTTLS, AUTH
 * after TLS) and SUBMISSIONS (465, implicit TLS, RFC 8314).
 */
import { registerProtocol } from "../../src/registry.ts";
import { reply } from "./parser.ts";
import { SmtpSession } from "./session.ts";

const sessions = new Set<SmtpSession>();

registerProtocol({
  name: "smtp",
  listeners: ["SMTP", "SUBMISSION", "SUBMISSIONS"],
  onConnection(socket, listener, ctx) {
    new SmtpSession(socket, listener, ctx, sessions).start();
  },
  async stop() {
    // Let messages being committed finish; tell idle clients to come back later (RFC 5321 §3.8: 421).
    // Several servers may share this process (tests): only the ones shutting down are closed.
    const waits: Promise<void>[] = [];
    for (const s of [...sessions].filter((x) => x.ctx.shuttingDown)) {
      waits.push(
        s.drain().then(() => {
          s.send(reply(421, "4.3.2", `${s.hostname} Service shutting down`));
          s.close();
        }),
      );
    }
    await Promise.all(waits);
  },
});
