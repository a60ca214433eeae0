/**
 * A small DNS client on the wire format (RFC 1035 §4) for the two record
 * types the live DNS check cannot get right through node:dns on every
 * runtime: TXT, whose character-strings must stay together per record
 * (RFC 1035 §3.3.14; a 2048-bit DKIM key spans two strings, and Bun's
 * resolveTxt hands them back as separate records), and TLSA (RFC 6698 §2),
 * which node:dns cannot query at all.
 *
 * One question per query, EDNS(0) with a 4096-byte buffer (RFC 6891 §6.2.5),
 * over UDP, again over TCP when the answer is truncated (RFC 7766 §5).
 * The parser trusts nothing: every read is bounds-checked, name compression
 * pointers must point backwards and are followed at most 64 times, counts are
 * capped, so a malformed or hostile answer is an error, never a crash or hang.
 */
import * as dgram from "node:dgram";
import * as net from "node:net";
import { randomInt } from "node:crypto";

export const TYPE_TXT = 16;
export const TYPE_TLSA = 52;
const TYPE_OPT = 41;
const CLASS_IN = 1;
const MAX_RECORDS = 100;

export class DnsWireError extends Error {
  constructor(
    message: string,
    /** Like node:dns: ENOTFOUND (NXDOMAIN), ENODATA, ESERVFAIL, EREFUSED, ETIMEOUT, EBADRESP. */
    readonly code: string,
  ) {
    super(message);
    this.name = "DnsWireError";
  }
}

/** The query message for `name` / `type` with id `id` (RD set, EDNS(0) OPT record). */
export function encodeQuery(name: string, type: number, id: number): Uint8Array {
  const labels = name.replace(/\.$/, "").split(".");
  const parts: number[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, "utf8");
    if (b.length === 0 || b.length > 63) throw new DnsWireError(`bad name: ${name}`, "EBADNAME");
    parts.push(b.length, ...b);
  }
  if (parts.length + 1 > 255) throw new DnsWireError(`name too long: ${name}`, "EBADNAME");
  const header = [id >> 8, id & 0xff, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1];
  const question = [...parts, 0, type >> 8, type & 0xff, 0, CLASS_IN];
  // RFC 6891 §6.1.2: root name, TYPE OPT, CLASS = UDP payload size, TTL 0, RDLEN 0.
  const opt = [0, 0, TYPE_OPT, 0x10, 0x00, 0, 0, 0, 0, 0, 0];
  return Uint8Array.from([...header, ...question, ...opt]);
}

class Reader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new DnsWireError("truncated DNS message", "EBADRESP");
  }
  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }
  u16(): number {
    this.need(2);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  skip(n: number): void {
    this.need(n);
    this.pos += n;
  }
  /** A possibly compressed name (RFC 1035 §4.1.4), lower-case, without the final dot. */
  name(): string {
    const labels: string[] = [];
    let pos = this.pos;
    let jumped = false;
    let hops = 0;
    let length = 0;
    for (;;) {
      if (pos >= this.buf.length) throw new DnsWireError("truncated name", "EBADRESP");
      const len = this.buf[pos]!;
      if ((len & 0xc0) === 0xc0) {
        if (pos + 1 >= this.buf.length) throw new DnsWireError("truncated name pointer", "EBADRESP");
        const target = ((len & 0x3f) << 8) | this.buf[pos + 1]!;
        // Only backwards: a pointer to itself or forwards could loop.
        if (target >= pos || ++hops > 64) throw new DnsWireError("bad name compression pointer", "EBADRESP");
        if (!jumped) this.pos = pos + 2;
        jumped = true;
        pos = target;
        continue;
      }
      if (len & 0xc0) throw new DnsWireError("bad label type", "EBADRESP");
      if (len === 0) {
        if (!jumped) this.pos = pos + 1;
        return labels.join(".").toLowerCase();
      }
      if (pos + 1 + len > this.buf.length) throw new DnsWireError("truncated label", "EBADRESP");
      length += len + 1;
      if (length > 255) throw new DnsWireError("name too long", "EBADRESP");
      labels.push(Buffer.from(this.buf.subarray(pos + 1, pos + 1 + len)).toString("latin1"));
      pos += 1 + len;
    }
  }
}

export interface DnsAnswer {
  id: number;
  truncated: boolean;
  /** RDATA of the answers of the asked type (class IN), in order. */
  rdata: Uint8Array[];
}

/** Parses a response to a query of `type`; throws DnsWireError for error codes and malformed messages. */
export function decodeResponse(msg: Uint8Array, type: number): DnsAnswer {
  const r = new Reader(msg);
  const id = r.u16();
  const flags = r.u16();
  const qd = r.u16();
  const an = r.u16();
  r.u16();
  r.u16();
  if (!(flags & 0x8000)) throw new DnsWireError("not a DNS response", "EBADRESP");
  const truncated = (flags & 0x0200) !== 0;
  const rcode = flags & 0x000f;
  if (rcode === 3) throw new DnsWireError("no such name (NXDOMAIN)", "ENOTFOUND");
  if (rcode === 2) throw new DnsWireError("the server failed (SERVFAIL)", "ESERVFAIL");
  if (rcode === 5) throw new DnsWireError("the server refused the query (REFUSED)", "EREFUSED");
  if (rcode !== 0) throw new DnsWireError(`the server answered RCODE ${rcode}`, "EBADRESP");
  if (qd > 1 || an > MAX_RECORDS) throw new DnsWireError("too many records in the answer", "EBADRESP");
  if (truncated) return { id, truncated, rdata: [] };
  for (let i = 0; i < qd; i++) {
    r.name();
    r.skip(4);
  }
  const rdata: Uint8Array[] = [];
  for (let i = 0; i < an; i++) {
    r.name();
    const t = r.u16();
    const cls = r.u16();
    r.skip(4); // TTL
    const len = r.u16();
    r.need(len);
    if (t === type && cls === CLASS_IN) rdata.push(msg.subarray(r.pos, r.pos + len));
    r.skip(len);
  }
  return { id, truncated, rdata };
}

/** TXT RDATA: its character-strings joined (RFC 7208 §3.3, RFC 6376 §3.6.2.2 read them as one text). */
export function txtOf(rdata: Uint8Array): string {
  const r = new Reader(rdata);
  let out = "";
  while (r.pos < rdata.length) {
    const len = r.u8();
    r.need(len);
    out += Buffer.from(rdata.subarray(r.pos, r.pos + len)).toString("utf8");
    r.skip(len);
  }
  return out;
}

/** TLSA RDATA (RFC 6698 §2.1) in presentation form: "usage selector matching-type hex". */
export function tlsaOf(rdata: Uint8Array): string {
  if (rdata.length < 4) throw new DnsWireError("TLSA record too short", "EBADRESP");
  return `${rdata[0]} ${rdata[1]} ${rdata[2]} ${Buffer.from(rdata.subarray(3)).toString("hex")}`;
}

function splitServer(s: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) return { host: m[1]!, port: m[2] ? Number(m[2]) : 53 };
  return { host: s, port: 53 }; // a bare IPv6 address
}

function udpQuery(server: { host: string; port: number }, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket(net.isIPv6(server.host) ? "udp6" : "udp4");
    const id = (query[0]! << 8) | query[1]!;
    const timer = setTimeout(() => finish(new DnsWireError(`no answer within ${timeoutMs / 1000} s`, "ETIMEOUT")), timeoutMs);
    const finish = (err: Error | null, msg?: Uint8Array) => {
      clearTimeout(timer);
      sock.close();
      if (err) reject(err);
      else resolve(msg!);
    };
    sock.on("message", (msg: Buffer) => {
      // An answer for another query (or spoofed) is ignored; the timer still runs.
      if (msg.length >= 2 && ((msg[0]! << 8) | msg[1]!) === id) finish(null, new Uint8Array(msg));
    });
    sock.on("error", (e) => finish(new DnsWireError(e.message, "ECONNREFUSED")));
    sock.send(query, server.port, server.host);
  });
}

function tcpQuery(server: { host: string; port: number }, query: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: server.host, port: server.port });
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => finish(new DnsWireError(`no answer within ${timeoutMs / 1000} s`, "ETIMEOUT")), timeoutMs);
    const finish = (err: Error | null, msg?: Uint8Array) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(msg!);
    };
    sock.on("connect", () => {
      const len = Buffer.from([query.length >> 8, query.length & 0xff]);
      sock.write(Buffer.concat([len, query]));
    });
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      size += d.length;
      const all = Buffer.concat(chunks);
      if (all.length >= 2) {
        const want = (all[0]! << 8) | all[1]!;
        if (all.length >= 2 + want) finish(null, new Uint8Array(all.subarray(2, 2 + want)));
      }
      if (size > 70_000) finish(new DnsWireError("answer too large", "EBADRESP"));
    });
    sock.on("error", (e) => finish(new DnsWireError(e.message, "ECONNREFUSED")));
    sock.on("end", () => finish(new DnsWireError("connection closed before the answer", "EBADRESP")));
  });
}

/**
 * Asks the first server for `name` / `type` (UDP, TCP when truncated); the
 * RDATA of the answers. ENODATA when the name exists without such records.
 */
export async function queryRecords(servers: readonly string[], name: string, type: number, timeoutMs: number): Promise<Uint8Array[]> {
  if (!servers.length) throw new DnsWireError("no DNS server configured", "ECONNREFUSED");
  const server = splitServer(servers[0]!);
  const id = randomInt(0, 0x10000);
  const query = encodeQuery(name, type, id);
  let a = decodeResponse(await udpQuery(server, query, timeoutMs), type);
  if (a.truncated) a = decodeResponse(await tcpQuery(server, query, timeoutMs), type);
  if (a.id !== id) throw new DnsWireError("answer to another query", "EBADRESP");
  if (!a.rdata.length) throw new DnsWireError(`${name} has no such records`, "ENODATA");
  return a.rdata;
}
