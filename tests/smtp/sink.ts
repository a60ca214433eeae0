/**
 * A capturing SMTP peer for outbound tests: a raw-socket server on
 * 127.0.0.1 that answers like a minimal MTA and records, per transaction,
 * the MAIL/RCPT commands and the exact bytes of the DATA section (everything
 * before the strict CRLF "." CRLF terminator, dot-stuffing left in place), and
 * every command line of every connection. It is deliberately strict (only
 * CRLF.CRLF ends data) so that the tests can then ask what a lax next hop
 * would have made of the same bytes.
 */
import * as net from "node:net";

export interface SinkTransaction {
  mailFrom: string; // the whole MAIL command line
  rcpts: string[]; // the whole RCPT command lines
  /** The DATA section as it arrived on the wire, without the final ".\r\n". */
  wire: Buffer;
}

export interface SinkOptions {
  /** Advertise DSN (RFC 3461): then the sender leaves success reports to us. */
  dsn?: boolean;
  /** RCPT addresses (lower-case) answered with 550 5.1.1. */
  reject?: string[];
}

export interface Sink {
  port: number;
  /** The options, read at each EHLO: a test may change them between messages. */
  options: SinkOptions;
  transactions: SinkTransaction[];
  /** Every command line received, in order, over all connections. */
  commands: string[];
  close(): Promise<void>;
}

const MAX_BUFFER = 64 * 1024 * 1024;

export async function startSink(opts: SinkOptions = {}): Promise<Sink> {
  const transactions: SinkTransaction[] = [];
  const commands: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => undefined);
    let buf = Buffer.alloc(0);
    let inData = false;
    let tx: SinkTransaction | null = null;
    const out = (s: string) => sock.write(s + "\r\n");
    out("220 sink.test ESMTP capture");
    sock.on("data", (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length > MAX_BUFFER) {
        sock.destroy();
        return;
      }
      for (;;) {
        if (inData) {
          // Strict end of data: CRLF "." CRLF (RFC 5321 §4.1.1.4); the data begins right after the 354.
          const start = buf.subarray(0, 3).equals(Buffer.from(".\r\n")) ? 0 : -1;
          const idx = start === 0 ? -2 : buf.indexOf("\r\n.\r\n");
          if (idx === -1) return;
          const end = idx === -2 ? 0 : idx + 2;
          tx!.wire = Buffer.from(buf.subarray(0, end));
          transactions.push(tx!);
          tx = null;
          buf = buf.subarray(end + 3);
          inData = false;
          out("250 2.0.0 captured");
          continue;
        }
        const nl = buf.indexOf("\r\n");
        if (nl < 0) return;
        const line = buf.subarray(0, nl).toString("latin1");
        buf = buf.subarray(nl + 2);
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === "EHLO") {
          out("250-sink.test");
          out("250-PIPELINING");
          out("250-8BITMIME");
          if (opts.dsn) out("250-DSN");
          out("250 SIZE 100000000");
        } else if (verb === "HELO") out("250 sink.test");
        else if (verb === "MAIL") {
          tx = { mailFrom: line, rcpts: [], wire: Buffer.alloc(0) };
          out("250 2.1.0 ok");
        } else if (verb === "RCPT") {
          const addr = /<([^>]*)>/.exec(line)?.[1]?.toLowerCase() ?? "";
          if (opts.reject?.includes(addr)) out("550 5.1.1 no such user here");
          else {
            tx?.rcpts.push(line);
            out("250 2.1.5 ok");
          }
        } else if (verb === "DATA") {
          if (!tx || tx.rcpts.length === 0) out("554 5.5.1 no valid recipients");
          else {
            inData = true;
            out("354 go ahead");
          }
        } else if (verb === "RSET") {
          tx = null;
          out("250 ok");
        } else if (verb === "QUIT") {
          out("221 bye");
          sock.end();
          return;
        } else out("502 5.5.2 not implemented");
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    options: opts,
    transactions,
    commands,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Offsets of bare CR and bare LF (a CR not followed by LF, an LF not preceded by CR). */
export function bareLineEnds(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 13 && b[i + 1] !== 10) out.push(i);
    else if (b[i] === 10 && (i === 0 || b[i - 1] !== 13)) out.push(i);
  }
  return out;
}

/**
 * Where a lax next hop would end the data (the SMTP smuggling class,
 * CVE-2023-51766 / CVE-2023-51764): a "." line delimited by any mix of CR,
 * LF or CRLF. Returns the offsets of every such end-of-data in `wire`.
 */
export function laxEndsOfData(wire: Uint8Array): number[] {
  const s = Buffer.from(wire).toString("latin1");
  const out: number[] = [];
  const re = /(\r\n|\r|\n)\.(\r\n|\r|\n)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    out.push(m.index);
    re.lastIndex = m.index + 1;
  }
  return out;
}
