/** The request line (MS-ASHTTP §2.2.1.1.1): plain and base64 query forms, and hostile input. */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodeBase64Query, parseEasRequest } from "../../protocols/http/eas/request.ts";
import { basicCredentials } from "../../protocols/http/eas/handler.ts";
import { packState, unpackState } from "../../protocols/http/eas/state.ts";

const parse = (q: string, h: Record<string, string> = {}) => parseEasRequest(new URL(`https://h/Microsoft-Server-ActiveSync?${q}`), new Headers(h));

describe("request line", () => {
  test("plain form, parameter names in any case, version and policy key from headers", () => {
    const r = parse("cmd=SmartReply&user=a%40b.test&deviceid=ABC123&devicetype=iPhone&ItemId=5%3A7&CollectionId=5&SaveInSent=T", { "MS-ASProtocolVersion": "14.1", "X-MS-PolicyKey": "42" });
    expect(r).toMatchObject({ cmd: "SmartReply", user: "a@b.test", deviceId: "ABC123", deviceType: "iPhone", version: "14.1", policyKey: "42", saveInSent: true, base64: false });
    if ("error" in r) throw new Error(r.error);
    expect(r.params).toMatchObject({ ItemId: "5:7", CollectionId: "5" });
  });

  test("base64 form round-trips, including '=' padding, binary device ids and options", () => {
    const q = encodeBase64Query({ version: "16.1", cmd: "SendMail", deviceId: new Uint8Array([1, 2, 0xab]), policyKey: 0xfffffffe, deviceType: "SP", params: { ItemId: "9:1", User: "u" }, options: 0x03 });
    const r = parse(q);
    if ("error" in r) throw new Error(r.error);
    expect(r).toMatchObject({ cmd: "SendMail", version: "16.1", deviceId: "0102AB", policyKey: "4294967294", deviceType: "SP", user: "u", saveInSent: true, acceptMultipart: true, base64: true });
    expect(r.params.ItemId).toBe("9:1");
    const printable = parse(encodeBase64Query({ version: "14.0", cmd: "Ping", deviceId: "DEV1", deviceType: "X" }));
    expect(printable).toMatchObject({ deviceId: "DEV1", policyKey: null, cmd: "Ping" });
  });

  test("missing or bad parts are errors, not exceptions", () => {
    for (const q of ["", "Cmd=Sync", "Cmd=Sync&DeviceId=a b&DeviceType=x", "Cmd=Sync&DeviceId=" + "x".repeat(65) + "&DeviceType=x", "%%%", "AAAA", "////", encodeBase64Query({ version: "14.1", cmd: "Sync", deviceId: "D", deviceType: "T" }).slice(0, 6)]) {
      expect("error" in parse(q)).toBe(true);
    }
  });

  test("random query strings and random base64 never throw", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        let q: string;
        try {
          q = encodeURI(s);
        } catch {
          return;
        }
        parse(q);
      }),
      { numRuns: 2000, seed: 9 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
        parse(Buffer.from(b).toString("base64"));
      }),
      { numRuns: 2000, seed: 10 },
    );
  });

  test("Basic credentials: DOMAIN\\\\user, colons in passwords, garbage", () => {
    const b = (s: string) => "Basic " + Buffer.from(s).toString("base64");
    expect(basicCredentials(b("EXAMPLE\\ann@example.test:pa:ss"))).toEqual({ user: "ann@example.test", pass: "pa:ss" });
    expect(basicCredentials(b("nocolon"))).toBeNull();
    expect(basicCredentials("Bearer x")).toBeNull();
    expect(basicCredentials(null)).toBeNull();
  });
});

describe("sync state packing", () => {
  test("round trip of random states; corrupt input is an error", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 45 })), { maxLength: 300 }), (pairs) => {
        const m = new Map(pairs);
        expect(unpackState(packState(m))).toEqual(m);
      }),
      { numRuns: 300, seed: 4 },
    );
    expect(() => unpackState(new Uint8Array([5, 1]))).toThrow();
    const big = new Map(Array.from({ length: 10_000 }, (_, i) => [1000 + i * 3, 5_000_000 + i] as [number, number]));
    expect(packState(big).length).toBeLessThan(60_000);
  });
});
