/**
 * DAV authentication: password guesses over DAV feed the shared login
 * throttle, after which even the right password is answered 503 with
 * Retry-After (a temporary refusal, so clients back off instead of asking
 * for a new password); and a server without HTTPS never takes Basic
 * credentials over plain HTTP.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { curl, startDav, xmlHeaders, type DavServer } from "./core-helpers.ts";

let d: DavServer;
let plain: TestServer;
beforeAll(async () => {
  d = await startDav();
  await createUser(d.srv.store, "gina@example.test", "gina-right-pass1");
  plain = await startTestServer({ listeners: ["HTTP"] });
  await createUser(plain.store, "hank@example.test", "hank-right-pass1");
});
afterAll(async () => {
  await d?.close();
  await plain?.close();
});

describe("DAV authentication", () => {
  test("after password guesses the right password is refused as temporary (503 + Retry-After)", async () => {
    let throttled = null as Awaited<ReturnType<typeof curl>> | null;
    for (let i = 0; i < 12 && !throttled; i++) {
      const r = await curl(d, "PROPFIND", "/dav/", { user: "gina@example.test", pass: `guess ${i}`, headers: xmlHeaders("0") });
      expect([401, 503]).toContain(r.status);
      if (r.status === 503) throttled = r;
    }
    const right = await curl(d, "PROPFIND", "/dav/", { user: "gina@example.test", pass: "gina-right-pass1", headers: xmlHeaders("0") });
    expect(right.status).toBe(503);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect(right.headers["www-authenticate"]).toBeUndefined();
  });

  test("without an HTTPS listener, DAV over plain HTTP is refused before credentials are checked", async () => {
    const base = `http://127.0.0.1:${plain.port("HTTP")}`;
    const r = await curl(d, "PROPFIND", `${base}/dav/`, { user: "hank@example.test", pass: "hank-right-pass1", headers: xmlHeaders("0") });
    expect(r.status).toBe(403);
    expect(r.body).toContain("HTTPS");
  });
});
