/**
 * Shared set-up for the ActiveSync tests: a real server (HTTPS + SMTP, and
 * IMAP when that protocol is built) with ActiveSync mounted, users, and
 * messages.
 */
import "../../protocols/index.ts";
import "../../protocols/http/eas/index.ts";
import "../../protocols/http/autodiscover/index.ts";
import { protocolFor, type ListenerName } from "../../src/registry.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { DeepPartial } from "../../src/config.ts";
import type { Config } from "../../src/config-types.ts";
import { EasClient, closeConnections, type ClientOptions } from "./client.ts";
import { libwbxmlAvailable } from "./libwbxml.ts";

let imapTried = false;
/** Loads the IMAP module if it exists yet (it is written in parallel). */
export async function loadImap(): Promise<boolean> {
  if (!imapTried) {
    imapTried = true;
    try {
      await import("../../protocols/imap/index.ts");
    } catch {
      // not built yet
    }
  }
  return !!protocolFor("IMAP");
}

export interface EasEnv {
  srv: TestServer;
  port: number;
  imap: boolean;
  /** A client; it checks every request and response against libwbxml2-utils unless told not to. */
  client(o: Partial<ClientOptions> & { user: string; pass: string; deviceId: string; version: string }): EasClient;
  /** What the clients of this environment checked against libwbxml, and every difference found. */
  libwbxml(): { requests: number; responses: number; skipped: number; mismatches: string[] };
  close(): Promise<void>;
}

export async function startEas(opts: { dataDir?: string; config?: DeepPartial<Config>; withImap?: boolean } = {}): Promise<EasEnv> {
  const imap = opts.withImap ? await loadImap() : false;
  const listeners: ListenerName[] = ["HTTP", "HTTPS", "SMTP", "SUBMISSION"];
  if (imap) listeners.push("IMAP");
  const srv = await startTestServer({ listeners, dataDir: opts.dataDir, config: opts.config });
  const port = srv.port("HTTPS");
  const clients: EasClient[] = [];
  return {
    srv,
    port,
    imap,
    client: (o) => {
      const c = new EasClient({ host: "127.0.0.1", port, libwbxml: libwbxmlAvailable(), ...o });
      clients.push(c);
      return c;
    },
    libwbxml: () => ({
      requests: clients.reduce((n, c) => n + c.libwbxmlChecked.requests, 0),
      responses: clients.reduce((n, c) => n + c.libwbxmlChecked.responses, 0),
      skipped: clients.reduce((n, c) => n + c.libwbxmlChecked.skipped, 0),
      mismatches: clients.flatMap((c) => c.libwbxmlMismatches),
    }),
    async close() {
      closeConnections();
      await srv.close();
    },
  };
}

export { createUser };

const enc = new TextEncoder();

export function message(o: { from?: string; to: string; subject: string; body?: string; date?: string; messageId?: string; extraHeaders?: string }): Uint8Array {
  return enc.encode(
    `From: ${o.from ?? "Bob Sender <bob@example.test>"}\r\nTo: ${o.to}\r\nSubject: ${o.subject}\r\nDate: ${o.date ?? "Mon, 01 Jan 2024 10:00:00 +0000"}\r\nMessage-ID: <${o.messageId ?? Math.random().toString(36).slice(2)}@example.test>\r\n${o.extraHeaders ?? ""}MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${o.body ?? "Hello there.\r\n"}`,
  );
}

/** A message with a binary attachment (every byte value) and a text body. */
export function messageWithAttachment(to: string, attachment: Uint8Array, name = "data.bin"): Uint8Array {
  const b64 = Buffer.from(attachment).toString("base64").replace(/.{76}/g, "$&\r\n");
  return enc.encode(
    [
      "From: Carol <carol@example.test>",
      `To: ${to}`,
      "Subject: With an attachment",
      "Date: Tue, 02 Jan 2024 09:00:00 +0000",
      "Message-ID: <att-1@example.test>",
      "MIME-Version: 1.0",
      'Content-Type: multipart/mixed; boundary="XyZ"',
      "",
      "--XyZ",
      "Content-Type: text/plain; charset=utf-8",
      "",
      "See the attached file.",
      "--XyZ",
      `Content-Type: application/octet-stream; name="${name}"`,
      `Content-Disposition: attachment; filename="${name}"`,
      "Content-Transfer-Encoding: base64",
      "",
      b64,
      "--XyZ--",
      "",
    ].join("\r\n"),
  );
}
