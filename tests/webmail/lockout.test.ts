/**
 * Issue 13 item 10: sign-in throttling that stops guessing without locking
 * the owner out, and that holds for every spelling of the account.
 *
 * The server does not trust X-Forwarded-For (the client address is the
 * socket's), so the attacker's addresses are distinct 127.0.x.y source
 * addresses (the whole of 127/8 is local).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { BOB, cookiesOf, request, startWebmailServer } from "./helpers.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
beforeAll(async () => {
  srv = await startWebmailServer();
});
afterAll(async () => {
  await srv.close();
});

interface Browser {
  localAddress: string;
  /** Cookies kept across requests (name -> value), like a browser's jar for this origin. */
  jar: Map<string, string>;
}
const browser = (localAddress: string): Browser => ({ localAddress, jar: new Map() });
const cookieHeader = (b: Browser) => [...b.jar].map(([k, v]) => `${k}=${v}`).join("; ");
function keep(b: Browser, res: { headers: Record<string, unknown> }) {
  for (const c of cookiesOf(res as Parameters<typeof cookiesOf>[0])) {
    const i = c.indexOf("=");
    const v = c.slice(i + 1);
    if (v === "") b.jar.delete(c.slice(0, i));
    else b.jar.set(c.slice(0, i), v);
  }
}

/** Posts the sign-in form as a browser does; returns the status (303 signed in, 401 wrong, 429 throttled). */
async function signIn(b: Browser, email: string, password: string): Promise<{ status: number; page: string }> {
  const page = await request("GET", srv.base + "/login", { localAddress: b.localAddress, headers: { cookie: cookieHeader(b) } });
  keep(b, page);
  const token = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
  const res = await request("POST", srv.base + "/login", {
    headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base, cookie: cookieHeader(b), "sec-fetch-site": "same-origin" },
    body: new URLSearchParams({ email, password, csrf: token }).toString(),
    localAddress: b.localAddress,
  });
  keep(b, res);
  return { status: res.status, page: res.text };
}

const folders = (b: Browser) => request("GET", srv.base + "/api/folders", { localAddress: b.localAddress, headers: { cookie: cookieHeader(b) } });

describe("webmail sign-in throttling does not lock the owner out", () => {
  test("10 wrong passwords from other IPs: every spelling of bob is slowed down, bob's device and IP are not", async () => {
    // Bob signs in at home (127.0.0.1): his browser gets a session and a known-device cookie.
    const home = browser("127.0.0.1");
    expect((await signIn(home, BOB.email, BOB.password)).status).toBe(303);
    expect((await folders(home)).status).toBe(200);

    // An attacker guesses from ten addresses.
    for (let i = 1; i <= 10; i++) {
      const r = await signIn(browser(`127.0.2.${i}`), BOB.email, `wrong guess ${i}`);
      expect([401, 429]).toContain(r.status);
    }

    // From an unknown address even the right password is slowed down, in every spelling of the name.
    for (const [i, spelling] of ["bob@example.test", "<bob@example.test>", "bob@example.test.", "bob@ｅxample.test"].entries()) {
      const r = await signIn(browser(`127.0.3.${i + 1}`), spelling, BOB.password);
      expect({ spelling, status: r.status }).toEqual({ spelling, status: 429 });
      expect(r.page).toContain("Too many failed sign-in attempts");
    }

    // Bob's existing session is untouched.
    expect((await folders(home)).status).toBe(200);
    // Bob signs in again from home (a known IP), without any cookie...
    expect((await signIn(browser("127.0.0.1"), BOB.email, BOB.password)).status).toBe(303);
    // ...and from a café (a new IP) with his browser's device cookie.
    const deviceCookie = [...home.jar].find(([k]) => k.includes("pb_device"));
    expect(deviceCookie).toBeDefined();
    const cafe = browser("127.0.4.1");
    cafe.jar.set(deviceCookie![0], deviceCookie![1]);
    expect((await signIn(cafe, BOB.email, BOB.password)).status).toBe(303);
    expect((await folders(cafe)).status).toBe(200);
    // A device cookie of another account does not help.
    const forged = browser("127.0.4.2");
    forged.jar.set(deviceCookie![0], deviceCookie![1]);
    expect((await signIn(forged, "alice@example.test", "wrong")).status).toBe(401);
  });

  test("the per-IP limit is hard: an address that guessed too often is refused even the right password", async () => {
    const attacker = browser("127.0.5.1");
    const statuses: number[] = [];
    // A spray: one guess per account, so no account's delay is what stops it.
    for (let i = 0; i < srv.config.limits.authFailuresPerIp; i++) statuses.push((await signIn(attacker, `nobody${i}@example.test`, "guess")).status);
    expect(statuses.every((s) => s === 401)).toBe(true);
    const r = await signIn(attacker, "carol@example.test", "carol password 12");
    expect(r.status).toBe(429);
  });
});
