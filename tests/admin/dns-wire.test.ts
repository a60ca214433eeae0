/**
 * The wire-format DNS client of the live DNS check (src/dns-wire.ts): TXT
 * records with several strings kept together and TLSA records, against
 * Debian's dnsmasq; a truncated UDP answer retried over TCP; and malformed
 * answers (truncation, pointer loops, forward pointers, huge counts, error
 * codes) refused with an error code, never a crash or a hang.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as dgram from "node:dgram";
import * as net from "node:net";
import { decodeResponse, encodeQuery, queryRecords, tlsaOf, txtOf, TYPE_TLSA, TYPE_TXT } from "../../src/dns-wire.ts";
import { dnsmasqTxt, startDnsmasqLines, type Dnsmasq } from "./helpers.ts";

const KEY = "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA" + "q".repeat(330) + "IDAQAB";
const TLSA_HEX = "0123456789abcdef".repeat(4);
let dns: Dnsmasq;

beforeAll(async () => {
  dns = await startDnsmasqLines([
    dnsmasqTxt("pb1._domainkey.example.test", `v=DKIM1; k=rsa; p=${KEY}`),
    dnsmasqTxt("multi.example.test", "v=spf1 mx -all"),
    'txt-record=multi.example.test,"second record"',
    // RFC 6698 §2.1: usage 3, selector 1, matching type 1, then the SHA-256 digest.
    `dns-rr=_25._tcp.mail.example.test,52,030101${TLSA_HEX}`,
    "host-record=mail.example.test,127.0.0.1",
    // Enough TXT data to overflow a UDP answer even with EDNS(0) 4096: dnsmasq truncates, we retry over TCP.
    ...Array.from({ length: 20 }, (_, i) => dnsmasqTxt("big.example.test", `record ${i} ` + "z".repeat(240))),
  ]);
});

afterAll(async () => {
  await dns?.stop();
});

describe("against dnsmasq", () => {
  test("a DKIM key in two strings comes back as one record", async () => {
    const recs = (await queryRecords([dns.server], "pb1._domainkey.example.test", TYPE_TXT, 3000)).map(txtOf);
    expect(recs).toEqual([`v=DKIM1; k=rsa; p=${KEY}`]);
  });

  test("two TXT records stay two records", async () => {
    const recs = (await queryRecords([dns.server], "multi.example.test", TYPE_TXT, 3000)).map(txtOf).sort();
    expect(recs).toEqual(["second record", "v=spf1 mx -all"]);
  });

  test("TLSA in presentation form", async () => {
    const recs = (await queryRecords([dns.server], "_25._tcp.mail.example.test", TYPE_TLSA, 3000)).map(tlsaOf);
    expect(recs).toEqual([`3 1 1 ${TLSA_HEX}`]);
  });

  test("no such name is ENOTFOUND; a name without the type is ENODATA", async () => {
    await expect(queryRecords([dns.server], "nothing.example.test", TYPE_TXT, 3000)).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(queryRecords([dns.server], "mail.example.test", TYPE_TXT, 3000)).rejects.toMatchObject({ code: "ENODATA" });
  });

  test("a truncated UDP answer is fetched again over TCP", async () => {
    const recs = (await queryRecords([dns.server], "big.example.test", TYPE_TXT, 3000)).map(txtOf);
    expect(recs.length).toBe(20);
  });
});

/** A fake DNS server on UDP (and TCP, same port) answering whatever `reply` makes of the query. */
async function fakeServer(reply: (query: Buffer) => Buffer | null): Promise<{ server: string; close(): Promise<void> }> {
  const udp = dgram.createSocket("udp4");
  await new Promise<void>((r) => udp.bind(0, "127.0.0.1", () => r()));
  const port = udp.address().port;
  udp.on("message", (msg, rinfo) => {
    const out = reply(msg);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  return {
    server: `127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => udp.close(() => r())),
  };
}

/** A response header echoing the query's id; flags and counts as given. */
function header(q: Buffer, flags: number, qd: number, an: number): Buffer {
  const h = Buffer.alloc(12);
  q.copy(h, 0, 0, 2);
  h.writeUInt16BE(flags, 2);
  h.writeUInt16BE(qd, 4);
  h.writeUInt16BE(an, 6);
  return h;
}

describe("malformed answers", () => {
  const cases: [string, (q: Buffer) => Buffer, string][] = [
    ["NXDOMAIN", (q) => header(q, 0x8183, 0, 0), "ENOTFOUND"],
    ["SERVFAIL", (q) => header(q, 0x8182, 0, 0), "ESERVFAIL"],
    ["REFUSED", (q) => header(q, 0x8185, 0, 0), "EREFUSED"],
    ["not a response", (q) => header(q, 0x0100, 0, 0), "EBADRESP"],
    ["cut short", (q) => header(q, 0x8180, 0, 1).subarray(0, 9), "EBADRESP"],
    ["an answer whose name is cut", (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([5, 0x61])]), "EBADRESP"],
    ["a pointer to itself", (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([0xc0, 12])]), "EBADRESP"],
    ["a forward pointer", (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([0xc0, 200, 0, 16, 0, 1])]), "EBADRESP"],
    ["a reserved label type", (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([0x80, 0])]), "EBADRESP"],
    ["60000 answers announced", (q) => header(q, 0x8180, 0, 60000), "EBADRESP"],
    [
      "RDLENGTH past the end",
      (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([0, 0, 16, 0, 1, 0, 0, 0, 60, 0xff, 0xff, 1, 2, 3])]),
      "EBADRESP",
    ],
    ["a TXT string longer than its record", (q) => Buffer.concat([header(q, 0x8180, 0, 1), Buffer.from([0, 0, 16, 0, 1, 0, 0, 0, 60, 0, 2, 50, 0x61])]), "EBADRESP"],
  ];
  for (const [what, make, code] of cases) {
    test(what, async () => {
      const s = await fakeServer(make);
      try {
        const p = queryRecords([s.server], "x.example.test", TYPE_TXT, 2000).then((recs) => recs.map(txtOf));
        await expect(p).rejects.toMatchObject({ code });
      } finally {
        await s.close();
      }
    });
  }

  test("an answer with another id is ignored (then the query times out)", async () => {
    const s = await fakeServer((q) => {
      const h = header(q, 0x8180, 0, 0);
      h.writeUInt16BE((q.readUInt16BE(0) + 1) & 0xffff, 0);
      return h;
    });
    try {
      await expect(queryRecords([s.server], "x.example.test", TYPE_TXT, 500)).rejects.toMatchObject({ code: "ETIMEOUT" });
    } finally {
      await s.close();
    }
  });

  test("a server that is not there: an error, not a hang", async () => {
    const port = await new Promise<number>((r) => {
      const t = net.createServer().listen(0, "127.0.0.1", function (this: net.Server) {
        const p = (this.address() as net.AddressInfo).port;
        this.close(() => r(p));
      });
    });
    await expect(queryRecords([`127.0.0.1:${port}`], "x.example.test", TYPE_TXT, 1000)).rejects.toHaveProperty("code");
  });

  test("encodeQuery refuses bad names; decodeResponse reads a compressed answer name", () => {
    expect(() => encodeQuery("a..b", TYPE_TXT, 1)).toThrow();
    expect(() => encodeQuery("x".repeat(64) + ".test", TYPE_TXT, 1)).toThrow();
    expect(() => encodeQuery(Array.from({ length: 130 }, () => "ab").join("."), TYPE_TXT, 1)).toThrow();
    const q = Buffer.from(encodeQuery("a.test", TYPE_TXT, 0x4242));
    const question = q.subarray(12, q.length - 11);
    const answer = Buffer.concat([Buffer.from([0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 2, 0x68, 0x69])]);
    const msg = Buffer.concat([header(q, 0x8180, 1, 1), question, answer]);
    const a = decodeResponse(new Uint8Array(msg), TYPE_TXT);
    expect(a.id).toBe(0x4242);
    expect(a.rdata.map(txtOf)).toEqual(["hi"]);
    expect(() => tlsaOf(new Uint8Array([3, 1]))).toThrow();
  });
});
