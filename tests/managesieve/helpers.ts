/** Shared helpers for the ManageSieve socket tests. */
import { connect as tlsConnect } from "node:tls";
import { RawClient } from "../pop3/util.ts";

export { RawClient };

/** Waits for a complete response: everything up to and including an OK/NO/BYE line. */
export function untilResponse(c: RawClient, timeoutMs = 10_000): Promise<string> {
  return c.until(/(?:^|\r\n)(?:OK|NO|BYE)(?: [^\r\n]*)?\r\n$/, timeoutMs);
}

/** Sends a command (CRLF added) and returns its response. */
export async function cmd(c: RawClient, line: string | Uint8Array): Promise<string> {
  c.send(typeof line === "string" ? line + "\r\n" : line);
  return untilResponse(c);
}

/** Connects in the clear and reads the greeting (RFC 5804 §1.7: capabilities, then OK). */
export async function connectPlain(port: number): Promise<{ c: RawClient; greeting: string }> {
  const c = await RawClient.connect(port);
  return { c, greeting: await untilResponse(c) };
}

/** Connects, STARTTLS (RFC 5804 §2.2), and returns the client on the TLS socket with the re-issued capabilities. */
export async function connectTls(port: number): Promise<{ c: RawClient; capabilities: string }> {
  const { c } = await connectPlain(port);
  const ok = await cmd(c, "STARTTLS");
  if (!ok.startsWith("OK")) throw new Error(`STARTTLS refused: ${ok}`);
  const sock = c.sock;
  sock.removeAllListeners("data");
  const t = await new Promise<RawClient>((res, rej) => {
    const s = tlsConnect({ socket: sock, rejectUnauthorized: false }, () => res(new RawClient(s)));
    s.once("error", rej);
  });
  return { c: t, capabilities: await untilResponse(t) };
}

export const plainB64 = (user: string, pass: string, authz = "") => Buffer.from(`${authz}\0${user}\0${pass}`).toString("base64");

/** A script upload as a non-synchronizing literal (RFC 5804 §4 literal-c2s). */
export function putscript(name: string, script: string | Uint8Array): Uint8Array {
  const body = typeof script === "string" ? Buffer.from(script) : Buffer.from(script);
  return Buffer.concat([Buffer.from(`PUTSCRIPT "${name}" {${body.length}+}\r\n`), body, Buffer.from("\r\n")]);
}
