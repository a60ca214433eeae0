/**
 * The MAPI/HTTP transport over real sockets (MS-OXCMAPIHTTP §2.2, §3.2):
 * authentication, the request headers, every X-ResponseCode path, the
 * session context and sequence cookies, expiry and caps, the streamed
 * PROCESSING/PENDING/DONE framing, body limits. The services behind the
 * endpoints are small recording fakes registered here, so these tests
 * exercise the transport alone (R's and N's tests cover the real ones).
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { createUser, MapiClient, parseFramed, request, startMapi, type MapiEnv } from "./helpers.ts";
import { DEFAULT_LIMITS, sessionsFor, type SessionRegistry } from "../../protocols/http/mapi/session.ts";
import { transportLimits } from "../../protocols/http/mapi/transport.ts";
import { mailboxGuid } from "../../protocols/http/mapi/identity.ts";
import { emsmdbService, MapiHttpError, nspiService, registerEmsmdb, registerNspi, ResponseCode, type EmsmdbService, type NspiService } from "../../protocols/http/mapi/types.ts";
import type { Account } from "../../storage/api.ts";

const A = "alice@mapi.test";
const B = "bob@mapi.test";
/** Only the throttle test uses this one (the per-account throttle then holds it). */
const C = "carol@mapi.test";
const PW = "correct horse battery";
const enc = new TextEncoder();
const dec = new TextDecoder();

interface FakeState {
  id: number;
  account: string;
}

/** What the fakes saw, for the assertions. */
const seen = {
  disposed: [] as number[],
  disconnected: [] as number[],
  nspiCalls: [] as string[],
  /** Resolved by a test to let a held Execute finish. */
  release: null as (() => void) | null,
  /** Set by the fake when it starts a held Execute. */
  holding: false,
};
let nextId = 1;

const fakeEmsmdb: EmsmdbService<FakeState> = {
  async connect(c, body) {
    const text = dec.decode(body);
    if (text === "refuse") return { body: enc.encode("refused"), state: null };
    if (text === "bad") throw new MapiHttpError(ResponseCode.InvalidRequestBody, "too short");
    return { body: enc.encode(`connected ${c.account.email}`), state: { id: nextId++, account: c.account.email } };
  },
  async execute(c, state, body) {
    const text = dec.decode(body);
    if (text === "bad") throw new MapiHttpError(ResponseCode.InvalidRequestBody, "not a ROP buffer");
    if (text === "crash") throw new Error("engine bug");
    if (text === "hold") {
      seen.holding = true;
      await new Promise<void>((r) => (seen.release = r));
      seen.holding = false;
    }
    return enc.encode(`exec ${state.id} ${text} ${c.origin ?? ""}`);
  },
  async disconnect(_c, state) {
    seen.disconnected.push(state.id);
    return enc.encode("bye");
  },
  async notificationWait(c, state) {
    if (!c.signal.aborted) await new Promise<void>((r) => c.signal.addEventListener("abort", () => r(), { once: true }));
    return enc.encode(`woke ${state.id}`);
  },
  dispose(state) {
    seen.disposed.push(state.id);
  },
};

const fakeNspi: NspiService<FakeState> = {
  async bind(c) {
    return { body: enc.encode("bound"), state: { id: nextId++, account: c.account.email } };
  },
  async call(_c, state, type, body) {
    seen.nspiCalls.push(type);
    return enc.encode(`${type} ${state.id} ${dec.decode(body)}`);
  },
  async unbind() {
    return enc.encode("unbound");
  },
};

let env: MapiEnv;
let alice: Account;
const prev = { emsmdb: emsmdbService(), nspi: nspiService() };
const limits = { ...transportLimits };
const sessionLimits = { ...DEFAULT_LIMITS };
/** The running server's session registry. */
let sessions: SessionRegistry;

beforeAll(async () => {
  env = await startMapi();
  sessions = sessionsFor(env.srv.ctx);
  alice = await createUser(env.srv.store, A, PW);
  await createUser(env.srv.store, B, PW);
  await createUser(env.srv.store, C, PW);
  registerEmsmdb(fakeEmsmdb);
  registerNspi(fakeNspi);
});

afterAll(async () => {
  // Give later test files in this process the real services back.
  if (prev.emsmdb) registerEmsmdb(prev.emsmdb);
  if (prev.nspi) registerNspi(prev.nspi);
  sessions.clear();
  await env.close();
});

afterEach(() => {
  Object.assign(transportLimits, limits);
  sessions.limits = { ...sessionLimits };
  sessions.now = Date.now;
});

const client = (user = A, path = "/mapi/emsmdb/") => new MapiClient(env, user, PW, path);

async function connected(user = A): Promise<MapiClient> {
  const c = client(user);
  const r = await c.send("Connect", enc.encode("hello"));
  expect(r.code).toBe(0);
  return c;
}

describe("authentication and the HTTP layer", () => {
  test("no credentials or a wrong password: 401 with a Basic challenge; plain HTTP never reaches the endpoint", async () => {
    const none = await request(env.port, { path: "/mapi/emsmdb/", headers: { "x-requesttype": "PING" } });
    expect(none.status).toBe(401);
    expect(String(none.headers["www-authenticate"])).toMatch(/^Basic realm="Pillarbox MAPI"/);
    const wrong = await new MapiClient(env, A, "nope").send("PING");
    expect(wrong.status).toBe(401);
    const plain = await request(env.srv.port("HTTP"), { tls: false, path: "/mapi/emsmdb/", headers: { authorization: client().auth, "x-requesttype": "PING" } });
    expect([301, 302, 307, 308]).toContain(plain.status);
    expect(String(plain.headers.location)).toMatch(/^https:/);
    env.srv.ctx.authLimiter.succeed("127.0.0.1");
  });

  test("GET is a small page (credentials checked); other verbs are X-ResponseCode 2 (invalid verb)", async () => {
    const get = await request(env.port, { method: "GET", path: "/mapi/nspi", headers: { authorization: client().auth } });
    expect(get.status).toBe(200);
    expect(dec.decode(get.body)).toContain("MAPI over HTTP");
    const put = await request(env.port, { method: "PUT", path: "/mapi/emsmdb/", headers: {} });
    expect(put.status).toBe(405);
    expect(put.headers["x-responsecode"]).toBe(String(ResponseCode.InvalidVerb));
  });

  test("any letter case and with or without the slash; another /mapi/ path is X-ResponseCode 3 (invalid path)", async () => {
    for (const path of ["/MAPI/EMSMDB", "/mapi/emsmdb", "/Mapi/EmsMdb/?MailboxId=x%40y"]) {
      const r = await client().send("PING", undefined, { path: path.includes("MailboxId") ? `/Mapi/EmsMdb/?MailboxId=${mailboxGuid(alice)}@mapi.test` : path });
      expect(r.code).toBe(0);
    }
    const other = await client().send("PING", undefined, { path: "/mapi/elsewhere/" });
    expect(other.status).toBe(200);
    expect(other.code).toBe(ResponseCode.InvalidPath);
  });

  test("MailboxId must name the caller's mailbox (its GUID or its address): another is X-ResponseCode 11", async () => {
    expect((await client().send("PING", undefined, { path: `/mapi/emsmdb/?MailboxId=${A}` })).code).toBe(0);
    const other = await client().send("PING", undefined, { path: `/mapi/emsmdb/?MailboxId=00000000-0000-0000-0000-000000000000@mapi.test` });
    expect(other.code).toBe(ResponseCode.NoPrivilege);
  });

  test("a body over the limit: HTTP 413 with X-ResponseCode 9, nothing reaches the service", async () => {
    transportLimits.maxBodyBytes = 1000;
    const c = await connected();
    const r = await c.send("Execute", new Uint8Array(5000));
    expect(r.status).toBe(413);
    expect(r.code).toBe(ResponseCode.TooLarge);
  });

  test("repeated failures reach the shared throttle: HTTP 503 with Retry-After", async () => {
    let last = 0;
    let retry: unknown;
    for (let i = 0; i < 40 && last !== 503; i++) {
      const r = await new MapiClient(env, C, `bad-${i}`).send("PING");
      last = r.status;
      retry = r.headers["retry-after"];
    }
    expect(last).toBe(503);
    expect(Number(retry)).toBeGreaterThan(0);
    env.srv.ctx.authLimiter.succeed("127.0.0.1");
  });
});

describe("request headers (§2.2.3.1) and response headers (§2.2.3.2)", () => {
  test("PING: X-ResponseCode 0, echoed X-RequestType/X-RequestId/X-ClientInfo, server headers, DONE framing with an empty body", async () => {
    const c = client();
    const r = await c.send("ping", undefined, { headers: { "x-requestid": "{AAAA}:7", "x-clientinfo": "{BBBB}" } });
    expect(r.status).toBe(200);
    expect(r.code).toBe(0);
    expect(r.headers["x-requesttype"]).toBe("PING");
    expect(r.headers["x-requestid"]).toBe("{AAAA}:7");
    expect(r.headers["x-clientinfo"]).toBe("{BBBB}");
    expect(String(r.headers["x-serverapplication"])).toMatch(/^Exchange\/15\.\d\d\.\d{4}\.\d{3}$/);
    expect(r.headers["x-pendingperiod"]).toBe(String(transportLimits.pendingPeriodMs));
    expect(r.headers["x-expirationinfo"]).toBe(String(sessions.limits.expirationMs));
    expect(r.headers["content-type"]).toBe("application/mapi-http");
    expect(r.framed!.meta).toEqual(["DONE"]);
    expect(r.framed!.additional["x-responsecode"]).toBe("0");
    expect(Number(r.framed!.additional["x-elapsedtime"])).toBeGreaterThanOrEqual(0);
    expect(Number.isNaN(Date.parse(r.framed!.additional["x-starttime"]!))).toBe(false);
    expect(r.framed!.body.length).toBe(0);
  });

  test("a missing X-RequestType, X-RequestId or X-ClientInfo is X-ResponseCode 7; an unknown type 5; a bad Content-Type 4", async () => {
    const c = client();
    expect((await c.send("Connect", undefined, { headers: { "x-requesttype": null } })).code).toBe(ResponseCode.MissingHeader);
    expect((await c.send("Connect", undefined, { headers: { "x-requestid": null } })).code).toBe(ResponseCode.MissingHeader);
    expect((await c.send("Connect", undefined, { headers: { "x-clientinfo": null } })).code).toBe(ResponseCode.MissingHeader);
    expect((await c.send("Frobnicate")).code).toBe(ResponseCode.InvalidRequestType);
    // An NSPI request type on the EMSMDB endpoint and the other way round.
    expect((await c.send("Bind")).code).toBe(ResponseCode.InvalidRequestType);
    expect((await client(A, "/mapi/nspi/").send("Execute")).code).toBe(ResponseCode.InvalidRequestType);
    expect((await c.send("Connect", undefined, { headers: { "content-type": "text/plain" } })).code).toBe(ResponseCode.InvalidHeader);
    const long = await c.send("PING", undefined, { headers: { "x-clientinfo": "x".repeat(600) } });
    expect(long.code).toBe(ResponseCode.InvalidHeader);
    // Nothing of the refused requests made a session.
    expect(c.cookies.size).toBe(0);
  });
});

describe("sessions: Connect, cookies, sequence (§3.2.5.1)", () => {
  test("Connect makes a session: MapiContext and MapiSequence cookies scoped to the endpoint path, Secure, HttpOnly; the service's body after DONE", async () => {
    const c = client();
    const r = await c.send("Connect", enc.encode("hi"));
    expect(r.code).toBe(0);
    expect(dec.decode(r.framed!.body)).toBe(`connected ${A}`);
    const names = r.setCookies.map((s) => s.split("=")[0]);
    expect(names.sort()).toEqual(["MapiContext", "MapiSequence"]);
    for (const s of r.setCookies) expect(s).toMatch(/; Path=\/mapi\/emsmdb; Secure; HttpOnly$/);
    expect(c.cookies.get("MapiContext")).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  test("Execute streams PROCESSING then DONE with the service's body; the sequence cookie changes every request; the context's origin is the https base", async () => {
    const c = await connected();
    const s1 = c.cookies.get("MapiSequence");
    const r = await c.send("Execute", enc.encode("rops"));
    expect(r.code).toBe(0);
    expect(r.framed!.meta[0]).toBe("PROCESSING");
    expect(r.framed!.meta.at(-1)).toBe("DONE");
    expect(r.framed!.additional["x-responsecode"]).toBe("0");
    expect(dec.decode(r.framed!.body)).toMatch(/^exec \d+ rops https:\/\//);
    const s2 = c.cookies.get("MapiSequence");
    expect(s2).not.toBe(s1);
    expect((await c.send("Execute", enc.encode("again"))).framed!.additional["x-responsecode"]).toBe("0");
  });

  test("a stale sequence cookie is X-ResponseCode 15 and the request does not run; a missing one 13", async () => {
    const c = await connected();
    const old = c.cookies.get("MapiSequence")!;
    expect((await c.send("Execute", enc.encode("one"))).code).toBe(0);
    const replay = await c.send("Execute", enc.encode("two"), { headers: { cookie: `MapiContext=${c.cookies.get("MapiContext")}; MapiSequence=${old}` } });
    expect(replay.code).toBe(ResponseCode.InvalidSequence);
    const none = await c.send("Execute", enc.encode("two"), { headers: { cookie: `MapiContext=${c.cookies.get("MapiContext")}` } });
    expect(none.code).toBe(ResponseCode.MissingCookie);
    // The session is intact: the current sequence still works.
    expect((await c.send("Execute", enc.encode("three"))).code).toBe(0);
  });

  test("context cookie: missing 13, malformed 6, unknown 10, another account's 11", async () => {
    const c = client();
    expect((await c.send("Execute")).code).toBe(ResponseCode.MissingCookie);
    expect((await c.send("Execute", undefined, { headers: { cookie: "MapiContext=<script>; MapiSequence=x" } })).code).toBe(ResponseCode.InvalidContextCookie);
    expect((await c.send("Execute", undefined, { headers: { cookie: `MapiContext=${"A".repeat(32)}; MapiSequence=${"B".repeat(32)}` } })).code).toBe(ResponseCode.ContextNotFound);
    const bob = await connected(B);
    const stolen = await c.send("Execute", undefined, { headers: { cookie: [...bob.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
    expect(stolen.code).toBe(ResponseCode.NoPrivilege);
  });

  test("a Connect the service refuses (state null) makes no session; a body it cannot read is X-ResponseCode 12", async () => {
    const c = client();
    const r = await c.send("Connect", enc.encode("refuse"));
    expect(r.code).toBe(0);
    expect(dec.decode(r.framed!.body)).toBe("refused");
    expect(r.setCookies.length).toBe(0);
    const bad = await c.send("Connect", enc.encode("bad"));
    expect(bad.code).toBe(ResponseCode.InvalidRequestBody);
    expect(bad.setCookies.length).toBe(0);
  });

  test("a service's MapiHttpError in a streamed answer is the final X-ResponseCode; its own failure is 1, never an HTTP 500", async () => {
    const c = await connected();
    const bad = await c.send("Execute", enc.encode("bad"));
    expect(bad.status).toBe(200);
    expect(bad.framed!.additional["x-responsecode"]).toBe(String(ResponseCode.InvalidRequestBody));
    const crash = await c.send("Execute", enc.encode("crash"));
    expect(crash.status).toBe(200);
    expect(crash.framed!.additional["x-responsecode"]).toBe(String(ResponseCode.UnknownFailure));
    // The session survives both.
    expect((await c.send("Execute", enc.encode("fine"))).framed!.additional["x-responsecode"]).toBe("0");
  });

  test("Disconnect ends the session (cookies removed, no dispose); the old cookie then finds nothing (10)", async () => {
    const c = await connected();
    const ctx = c.cookies.get("MapiContext")!;
    const seq = c.cookies.get("MapiSequence")!;
    const before = seen.disposed.length;
    const r = await c.send("Disconnect");
    expect(r.code).toBe(0);
    expect(dec.decode(r.framed!.body)).toBe("bye");
    expect(r.setCookies.every((s) => /Max-Age=0/.test(s))).toBe(true);
    expect(c.cookies.size).toBe(0);
    expect(seen.disposed.length).toBe(before);
    const again = await c.send("Execute", undefined, { headers: { cookie: `MapiContext=${ctx}; MapiSequence=${seq}` } });
    expect(again.code).toBe(ResponseCode.ContextNotFound);
  });

  test("an idle session expires after X-ExpirationInfo: 10, and its state is disposed once", async () => {
    const c = await connected();
    const t0 = Date.now();
    sessions.now = () => t0 + sessions.limits.expirationMs + 1;
    const before = seen.disposed.length;
    expect((await c.send("Execute")).code).toBe(ResponseCode.ContextNotFound);
    expect(seen.disposed.length).toBe(before + 1);
    expect((await c.send("Execute")).code).toBe(ResponseCode.ContextNotFound);
    expect(seen.disposed.length).toBe(before + 1);
  });

  test("the per-account cap ends the least recently used session (disposed) to make room", async () => {
    sessions.clear();
    sessions.limits = { ...sessions.limits, perAccount: 2 };
    const first = await connected();
    const second = await connected();
    expect((await first.send("Execute")).code).toBe(0); // first is now the most recently used
    const before = seen.disposed.length;
    const third = await connected();
    expect(seen.disposed.length).toBe(before + 1);
    expect((await second.send("Execute")).code).toBe(ResponseCode.ContextNotFound);
    expect((await first.send("Execute")).code).toBe(0);
    expect((await third.send("Execute")).code).toBe(0);
    // Another account's sessions do not count against alice's cap.
    const bob = await connected(B);
    expect((await bob.send("Execute")).code).toBe(0);
    expect((await first.send("Execute")).code).toBe(0);
  });

  test("a Connect carrying the old context cookie replaces that session", async () => {
    const c = await connected();
    const old = c.cookies.get("MapiContext")!;
    const before = seen.disposed.length;
    expect((await c.send("Connect", enc.encode("again"))).code).toBe(0);
    expect(c.cookies.get("MapiContext")).not.toBe(old);
    expect(seen.disposed.length).toBe(before + 1);
  });
});

describe("streaming and NotificationWait (§3.2.5.2, §2.2.4.4)", () => {
  test("a long Execute gets PENDING keep-alives until it is done", async () => {
    transportLimits.pendingPeriodMs = 20;
    const c = await connected();
    let sawPending = false;
    const r = await c.send("Execute", enc.encode("hold"), {
      onChunk: (text) => {
        if (!sawPending && text.includes("PENDING\r\n")) {
          sawPending = true;
          seen.release?.();
        }
      },
    });
    expect(sawPending).toBe(true);
    expect(r.framed!.meta[0]).toBe("PROCESSING");
    expect(r.framed!.meta).toContain("PENDING");
    expect(r.framed!.meta.at(-1)).toBe("DONE");
    expect(dec.decode(r.framed!.body)).toMatch(/^exec \d+ hold/);
  });

  test("NotificationWait is bounded: the service is told (signal) and its body comes back; it neither needs nor moves the sequence", async () => {
    transportLimits.notificationWaitMs = 30;
    const c = await connected();
    const seq = c.cookies.get("MapiSequence");
    const r = await c.send("NotificationWait", undefined, { headers: { cookie: `MapiContext=${c.cookies.get("MapiContext")}` } });
    expect(r.code).toBe(0);
    expect(r.framed!.additional["x-responsecode"]).toBe("0");
    expect(dec.decode(r.framed!.body)).toMatch(/^woke \d+$/);
    expect(r.setCookies.length).toBe(0);
    expect(c.cookies.get("MapiSequence")).toBe(seq);
    expect((await c.send("Execute")).code).toBe(0);
  });

  test("Disconnect while a NotificationWait is pending ends the wait", async () => {
    const c = await connected();
    const waitCookie = `MapiContext=${c.cookies.get("MapiContext")}`;
    const waiting = c.send("NotificationWait", undefined, { headers: { cookie: waitCookie } });
    expect((await c.send("Disconnect")).code).toBe(0);
    const r = await waiting;
    expect(dec.decode(r.framed!.body)).toMatch(/^woke \d+$/);
  });
});

describe("the NSPI endpoint", () => {
  test("Bind (any case, as ruler sends BIND) makes its own session under /mapi/nspi; calls reach the service by type; Unbind ends it", async () => {
    const n = client(A, "/mapi/nspi/");
    const bind = await n.send("BIND", enc.encode("stat"));
    expect(bind.code).toBe(0);
    expect(bind.headers["x-requesttype"]).toBe("Bind");
    expect(dec.decode(bind.framed!.body)).toBe("bound");
    for (const s of bind.setCookies) expect(s).toContain("Path=/mapi/nspi;");
    for (const type of ["QueryRows", "getmatches", "ResolveNames", "DNToMId", "GetProps", "GetSpecialTable", "GetTemplateInfo", "GetMailboxUrl", "GetAddressBookUrl"]) {
      const r = await n.send(type, enc.encode("x"));
      expect(r.code).toBe(0);
      expect(r.framed!.additional["x-responsecode"]).toBe("0");
    }
    expect(seen.nspiCalls.slice(-9)).toEqual(["QueryRows", "GetMatches", "ResolveNames", "DNToMId", "GetProps", "GetSpecialTable", "GetTemplateInfo", "GetMailboxUrl", "GetAddressBookUrl"]);
    const un = await n.send("Unbind");
    expect(un.code).toBe(0);
    expect(dec.decode(un.framed!.body)).toBe("unbound");
    expect((await n.send("QueryRows")).code).toBe(ResponseCode.MissingCookie);
  });

  test("an EMSMDB session's cookie is not an NSPI session (10)", async () => {
    const e = await connected();
    const n = client(A, "/mapi/nspi/");
    const r = await n.send("QueryRows", undefined, { headers: { cookie: [...e.cookies].map(([k, v]) => `${k}=${v}`).join("; ") } });
    expect(r.code).toBe(ResponseCode.ContextNotFound);
  });
});

describe("framing (§2.2.7), sans-IO", () => {
  test("a response body in the layout of the specification's examples parses back", () => {
    // MS-OXCMAPIHTTP §4 examples: meta-tags, then X-ResponseCode / X-ElapsedTime / X-StartTime, an empty line, the body.
    const raw = enc.encode("PROCESSING\r\nPENDING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 2\r\nX-StartTime: Mon, 03 Feb 2014 19:32:54 GMT\r\n\r\n\x01\x02");
    const f = parseFramed(raw);
    expect(f.meta).toEqual(["PROCESSING", "PENDING", "DONE"]);
    expect(f.additional).toEqual({ "x-responsecode": "0", "x-elapsedtime": "2", "x-starttime": "Mon, 03 Feb 2014 19:32:54 GMT" });
    expect([...f.body]).toEqual([1, 2]);
  });
});

describe("the session registry, sans-IO", () => {
  test("the global cap ends the least recently used session of any account; each ended session is disposed once and aborted", async () => {
    const { SessionRegistry } = await import("../../protocols/http/mapi/session.ts");
    const reg = new SessionRegistry({ expirationMs: 1000, perAccount: 10, global: 3 });
    let t = 0;
    reg.now = () => t;
    const disposed: string[] = [];
    const make = (acct: number, name: string) => reg.create("emsmdb", acct, { name }, () => disposed.push(name));
    const a = make(1, "a");
    const b = make(2, "b");
    const c = make(3, "c");
    reg.touch(a, true);
    make(4, "d");
    const settled = () => new Promise((r) => setTimeout(r, 0)); // dispose runs after the session's call in flight
    await settled();
    expect(disposed).toEqual(["b"]);
    expect(b.ended.signal.aborted).toBe(true);
    expect(reg.find(b.id)).toBeNull();
    expect(reg.find(a.id)).toBe(a);
    t = 1001;
    reg.sweep();
    await settled();
    expect(disposed.sort()).toEqual(["a", "b", "c", "d"]);
    expect(reg.size).toBe(0);
    reg.end(c, true);
    await settled();
    expect(disposed.length).toBe(4);
  });
});

describe("one call at a time per session", () => {
  test("an Execute sent with the new sequence cookie while the previous one still runs waits for it", async () => {
    const c = await connected();
    const order: string[] = [];
    let firstHeaders = false;
    const first = c.send("Execute", enc.encode("hold"), {
      onChunk: () => {
        firstHeaders = true;
      },
    });
    // The first answer's headers (and its new sequence cookie) arrive with PROCESSING, before the call ends.
    while (!firstHeaders || !seen.holding) await new Promise((r) => setTimeout(r, 2));
    const second = c.send("Execute", enc.encode("next")).then((r) => {
      order.push("second");
      return r;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual([]);
    order.push("release");
    seen.release?.();
    const [a, b] = await Promise.all([first, second]);
    expect(order).toEqual(["release", "second"]);
    expect(dec.decode(a.framed!.body)).toMatch(/^exec \d+ hold/);
    expect(dec.decode(b.framed!.body)).toMatch(/^exec \d+ next/);
  });
});
