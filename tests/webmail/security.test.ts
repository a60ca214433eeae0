/**
 * Sessions, CSRF, sign-in throttling, transport and security headers.
 */
import { test, expect, describe, beforeAll, afterAll } from "bun:test";
import { ALICE, BOB, CAROL, ApiClient, launchBrowser, login, request, startWebmailServer, cookiesOf } from "./helpers.ts";
import { startRecorder, type Recorder } from "./recorder.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;

beforeAll(async () => {
  srv = await startWebmailServer();
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

async function inboxCount(email: string): Promise<number> {
  const a = (await srv.store.getAccount(email))!;
  const f = (await srv.store.getFolder(a.id, "INBOX"))!;
  return (await srv.store.listMessages(f.id)).length;
}

async function seed(email: string, subject: string): Promise<number> {
  const a = (await srv.store.getAccount(email))!;
  const f = (await srv.store.getFolder(a.id, "INBOX"))!;
  const [r] = await srv.store.append(f.id, [{ raw: new TextEncoder().encode(`From: x@example.org\r\nTo: ${email}\r\nSubject: ${subject}\r\n\r\nbody\r\n`) }]);
  return r!.id;
}

describe("transport and headers", () => {
  test("plain HTTP redirects to HTTPS (301 for GET, 308 for POST) except ACME challenges", async () => {
    const get = await request("GET", srv.httpBase + "/some/path?x=1");
    expect(get.status).toBe(301);
    expect(get.headers.location).toBe(`${srv.base}/some/path?x=1`);
    const post = await request("POST", srv.httpBase + "/login", { body: "a=b" });
    expect(post.status).toBe(308);
    const acme = await request("GET", srv.httpBase + "/.well-known/acme-challenge/token123");
    expect(acme.status).toBe(404); // served (nothing there), not redirected
    expect(acme.headers.location).toBeUndefined();
    // No HSTS over plain HTTP (RFC 6797 §7.2), but the other headers are there.
    expect(get.headers["strict-transport-security"]).toBeUndefined();
    expect(get.headers["x-content-type-options"]).toBe("nosniff");
  });

  test("every response carries the security headers", async () => {
    const c = await ApiClient.signIn(srv.base, ALICE);
    const responses = [
      await request("GET", srv.base + "/login"),
      await request("GET", srv.base + "/"), // redirect to /login
      await request("GET", srv.base + "/no/such/page"),
      await request("GET", srv.base + "/api/folders"), // 401
      await c.get("/"),
      await c.get("/api/folders"),
      await c.send("POST", "/api/folders", { name: "" }), // 400
      await request("GET", srv.base + "/assets/app.js"), // unknown asset name -> 404
    ];
    for (const r of responses) {
      expect(r.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
      expect(r.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
      expect(r.headers["referrer-policy"]).toBe("no-referrer");
      expect(r.headers["x-content-type-options"]).toBe("nosniff");
      expect(r.headers["x-frame-options"]).toBe("DENY");
    }
    // The app shell's policy: scripts only from our origin, never inline or eval.
    const shell = responses[4]!;
    expect(shell.status).toBe(200);
    const csp = String(shell.headers["content-security-policy"]);
    const script = /script-src ([^;]*)/.exec(csp)![1]!;
    expect(script.trim()).toBe("'self'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain("base-uri 'none'");
    expect(shell.text).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script
  });

  test("the client bundle is served compressed, cached forever, under 200 KB", async () => {
    const shell = await (await ApiClient.signIn(srv.base, ALICE)).get("/");
    const urls = [...shell.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBe(2);
    let gz = 0;
    for (const u of urls) {
      const r = await request("GET", srv.base + u, { headers: { "accept-encoding": "gzip" } });
      expect(r.status).toBe(200);
      expect(r.headers["content-encoding"]).toBe("gzip");
      expect(r.headers["cache-control"]).toContain("immutable");
      gz += r.body.length;
    }
    expect(gz).toBeLessThan(200 * 1024);
  });
});

describe("sessions", () => {
  test("the session cookie is HttpOnly, Secure, SameSite=Strict, and sealed (not readable)", async () => {
    const page = await request("GET", srv.base + "/login");
    const token = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const res = await request("POST", srv.base + "/login", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: srv.base, cookie: cookiesOf(page).join("; ") },
      body: new URLSearchParams({ email: ALICE.email, password: ALICE.password, csrf: token }).toString(),
    });
    expect(res.status).toBe(303);
    const set = (res.headers["set-cookie"] ?? []).find((c) => c.startsWith("__Host-pb_session="))!;
    expect(set).toMatch(/; HttpOnly/i);
    expect(set).toMatch(/; Secure/i);
    expect(set).toMatch(/; SameSite=Strict/i);
    expect(set).toMatch(/; Path=\//);
    const value = set.split(";")[0]!.split("=")[1]!;
    // A compact JWE (5 parts): nothing about the account is readable from it.
    expect(value.split(".").length).toBe(5);
    expect(Buffer.from(value.split(".")[0]!, "base64url").toString()).toContain('"enc":"A256GCM"');
    expect(value).not.toContain(Buffer.from(String((await srv.store.getAccount(ALICE.email))!.id)).toString("base64url") + ".");
  });

  test("a stolen cookie from a signed-out session fails", async () => {
    const c = await ApiClient.signIn(srv.base, ALICE);
    const stolen = { cookie: c.cookie, csrf: c.csrf };
    expect((await c.get("/api/folders")).status).toBe(200);
    expect((await c.send("POST", "/api/logout")).status).toBe(200);
    const thief = new ApiClient(srv.base);
    thief.cookie = stolen.cookie;
    thief.csrf = stolen.csrf;
    expect((await thief.get("/api/folders")).status).toBe(401);
    expect((await thief.get("/api/session")).status).toBe(401);
    const id = await seed(ALICE.email, "keep me");
    expect((await thief.send("POST", "/api/messages/delete", { ids: [id] })).status).toBe(401);
    expect((await srv.store.getMessageById(id))).not.toBeNull();
    // And the app page sends it to sign in.
    const shell = await thief.get("/");
    expect(shell.status).toBe(302);
    expect(shell.headers.location).toBe("/login");
  });

  test("a forged or tampered cookie is refused", async () => {
    const c = await ApiClient.signIn(srv.base, ALICE);
    const [name, value] = c.cookie.split("=") as [string, string];
    const parts = value.split(".");
    const flip = (s: string) => (s[5] === "A" ? s.slice(0, 5) + "B" + s.slice(6) : s.slice(0, 5) + "A" + s.slice(6));
    for (const bad of [
      [parts[0], parts[1], parts[2], flip(parts[3]!), parts[4]].join("."), // ciphertext changed
      [parts[0], parts[1], parts[2], parts[3], flip(parts[4]!)].join("."), // tag changed
      "eyJhbGciOiJub25lIn0.eyJzaWQiOiJ4Iiwic3ViIjoiMSJ9.", // unsigned JWT
      "garbage",
    ]) {
      const r = await request("GET", srv.base + "/api/session", { headers: { cookie: `${name}=${bad}` } });
      expect(r.status).toBe(401);
    }
  });

  test("changing the password signs out every other session", async () => {
    const a = await ApiClient.signIn(srv.base, BOB);
    const b = await ApiClient.signIn(srv.base, BOB);
    const wrong = await a.send("POST", "/api/password", { current: "not it", next: "a brand new password" });
    expect(wrong.status).toBe(400);
    expect(wrong.json().message).toBe("Your current password is not correct.");
    const weak = await a.send("POST", "/api/password", { current: BOB.password, next: "short" });
    expect(weak.status).toBe(400);
    const ok = await a.send("POST", "/api/password", { current: BOB.password, next: "a brand new password" });
    expect(ok.status).toBe(200);
    expect(ok.json().endedSessions).toBe(1);
    expect((await b.get("/api/folders")).status).toBe(401);
    expect((await a.get("/api/folders")).status).toBe(200);
    expect(await new ApiClient(srv.base).login(BOB.email, BOB.password)).toBe(401);
    expect(await new ApiClient(srv.base).login(BOB.email, "a brand new password")).toBe(303);
  });
});

describe("CSRF", () => {
  test("state-changing API calls need our Origin and the session's CSRF token", async () => {
    const c = await ApiClient.signIn(srv.base, ALICE);
    const id = await seed(ALICE.email, "csrf target");
    const body = { ids: [id] };
    // Another site, even with the cookie and a valid token (a leaked token must not be enough).
    const crossOrigin = await c.send("POST", "/api/messages/delete", body, { origin: "https://evil.test" });
    expect(crossOrigin.status).toBe(403);
    expect(crossOrigin.json().error).toBe("cross_site");
    // No Origin, and Fetch Metadata says cross-site.
    const meta = await request("POST", srv.base + "/api/messages/delete", {
      headers: { cookie: c.cookie, "x-csrf-token": c.csrf, "sec-fetch-site": "cross-site", "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(meta.status).toBe(403);
    // Our origin but no token, or another session's token.
    const noToken = await c.send("POST", "/api/messages/delete", body, { "x-csrf-token": "" });
    expect(noToken.status).toBe(403);
    expect(noToken.json().error).toBe("csrf");
    const other = await ApiClient.signIn(srv.base, ALICE);
    expect((await c.send("POST", "/api/messages/delete", body, { "x-csrf-token": other.csrf })).status).toBe(403);
    expect(await srv.store.getMessageById(id)).not.toBeNull();
    // The real thing works.
    expect((await c.send("POST", "/api/messages/delete", body)).status).toBe(200);
  });

  test("the sign-in form refuses posts from another site (login CSRF)", async () => {
    const page = await request("GET", srv.base + "/login");
    const token = /name="csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const post = (headers: Record<string, string>, t = token) =>
      request("POST", srv.base + "/login", {
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookiesOf(page).join("; "), ...headers },
        body: new URLSearchParams({ email: CAROL.email, password: CAROL.password, csrf: t }).toString(),
      });
    expect((await post({ origin: "https://evil.test" })).status).toBe(403);
    expect((await post({ origin: srv.base }, "wrong-token")).status).toBe(403);
    expect((await post({ origin: "null", "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect((await post({ origin: srv.base })).status).toBe(303);
  });

  test("a cross-site page in Chromium cannot delete mail (form post and fetch)", async () => {
    const id = await seed(CAROL.email, "cross-site target");
    const before = await inboxCount(CAROL.email);
    const target = `${srv.base}/api/messages/delete`;
    const evil = `<!doctype html><body><form id="f" method="post" enctype="text/plain" action="${target}"><input name='{"ids":[${id}],"x":"' value='"}'></form>
<script>
fetch(${JSON.stringify(target)}, { method: "POST", credentials: "include", mode: "no-cors", headers: { "content-type": "text/plain" }, body: JSON.stringify({ ids: [${id}] }) })
  .finally(() => document.getElementById("f").submit());
</script></body>`;
    let recorder: Recorder | null = null;
    const browser = await (async () => {
      recorder = await startRecorder(srv.ctx.tls, (u) => (u.hostname === "evil.test" ? { status: 200, type: "text/html", body: Buffer.from(evil) } : null));
      return launchBrowser({ proxyPort: recorder.port });
    })();
    try {
      const page = browser.page;
      await login(page, srv.base, CAROL);
      const apiStatuses: number[] = [];
      page.on("response", (r) => {
        if (r.url() === target) apiStatuses.push(r.status());
      });
      await page.goto("https://evil.test/");
      await page.waitForURL(target, { timeout: 10_000 });
      await page.waitForLoadState();
      // SameSite=Strict keeps the session cookie off cross-site requests: the API sees no session.
      expect(apiStatuses.length).toBeGreaterThanOrEqual(1);
      expect(apiStatuses.every((s) => s === 401 || s === 403)).toBe(true);
      expect(await srv.store.getMessageById(id)).not.toBeNull();
      expect(await inboxCount(CAROL.email)).toBe(before);
    } finally {
      await browser.close();
      await recorder!.close();
    }
  }, 60_000);
});

describe("sign-in throttling", () => {
  test("wrong passwords are throttled, per account (a progressive delay) and per IP", async () => {
    const attacker = new ApiClient(srv.base, "127.0.0.3");
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push(await attacker.login(CAROL.email, `wrong guess ${i}`));
    // Five free failures, then the account's delay (src/auth-throttle.ts) refuses guesses before any password check.
    expect(statuses.slice(0, 5).every((s) => s === 401)).toBe(true);
    expect(statuses.slice(5).every((s) => s === 429 || s === 401)).toBe(true);
    expect(statuses.slice(5).filter((s) => s === 429).length).toBeGreaterThan(0);
    // Now even the right password is refused from this address, with a reason in words.
    expect(await attacker.login(CAROL.email, CAROL.password)).toBe(429);
    expect(attacker.lastLoginPage).toContain("Too many failed sign-in attempts");
    // Per account: the same account is slowed down from another (unknown) address too...
    const elsewhere = new ApiClient(srv.base, "127.0.0.4");
    expect(await elsewhere.login(CAROL.email, CAROL.password)).toBe(429);
    // ...while other accounts from that other address still sign in.
    expect(await elsewhere.login(ALICE.email, ALICE.password)).toBe(303);
  });
});
