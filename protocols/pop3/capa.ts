/**
 * CAPA (RFC 2449 §5): valid in AUTHORIZATION and TRANSACTION; the list may
 * differ by state and by whether the connection is protected.
 */
import type { Command } from "./parser.ts";
import type { Pop3Session } from "./session.ts";

export function capabilities(s: Pop3Session): string[] {
  const o = s.deps.options;
  const caps = ["TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE"];
  if (s.state === "AUTHORIZATION") {
    const authOk = s.secure || o.allowPlaintextAuth;
    // RFC 2595 §4: STLS only before login and while not yet protected.
    if (!s.secure && o.tlsAvailable) caps.push("STLS");
    // RFC 2449 §6.2/§6.3, RFC 2595 §2.2: no cleartext passwords unless configured.
    if (authOk) caps.push("USER", "SASL PLAIN");
  }
  // RFC 2449 §6.5/§6.7: advertised only when a policy is configured. In
  // TRANSACTION the value is the one that applies to this user.
  if (o.loginDelaySeconds !== null) caps.push(`LOGIN-DELAY ${o.loginDelaySeconds}`);
  if (o.expire !== null) caps.push(`EXPIRE ${o.expire}`);
  caps.push("IMPLEMENTATION Pillarbox");
  return caps;
}

export async function capa(s: Pop3Session, cmd: Command): Promise<void> {
  if (cmd.args.length) return s.bad("-ERR CAPA takes no arguments");
  await s.sendMulti("+OK Capability list follows", capabilities(s));
}
