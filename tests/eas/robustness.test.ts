/**
 * Bad input gets the spec's answer, never a 500 or a crash: malformed and
 * truncated WBXML, unknown code pages, wrong root elements, wrong SyncKeys,
 * missing or wrong policy keys, bad request lines, heartbeat bounds.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { encodeBase64Query } from "../../protocols/http/eas/request.ts";
import { encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { el, httpsRequest, kid, kidText, type EasClient } from "./client.ts";
import { createUser, message, startEas, type EasEnv } from "./helpers.ts";
import type { Account } from "../../storage/api.ts";

let env: EasEnv;
let alice: Account;
let c: EasClient;
let c12: EasClient;
let inbox: string;

beforeAll(async () => {
  env = await startEas();
  alice = await createUser(env.srv.store, "alice@example.test", "alice-secret-1");
  for (let i = 0; i < 3; i++) await env.srv.store.deliver(message({ to: "alice@example.test", subject: `M${i}` }), [{ accountId: alice.id }]);
  c = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: "ROBUST1", version: "14.1" });
  await c.provision();
  await c.folderSync();
  inbox = c.folderByType(2);
  await c.sync(inbox);
  await c.sync(inbox);
  c12 = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: "ROBUST12", version: "12.1" });
  await c12.provision();
});

afterAll(async () => {
  await env.close();
});

const post = (client: EasClient, cmd: string, body: Uint8Array, headers: Record<string, string> = {}) => client.send(cmd, null, { raw: body, headers });

describe("malformed WBXML", () => {
  test("garbage, unknown code page, unknown tag, truncation: Status 102 (14.x) / HTTP 400 (12.1)", async () => {
    const good = encode(el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", "0")));
    const cases: [string, Uint8Array][] = [
      ["garbage", new TextEncoder().encode("<FolderSync>not wbxml</FolderSync>")],
      ["unknown code page", new Uint8Array([0x03, 0x01, 0x6a, 0x00, 0x00, 0x2a, 0x56, 0x01])],
      ["unknown tag", new Uint8Array([0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x3f])],
      ["bad mb_u_int32", new Uint8Array([0x03, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01])],
      ["string table out of range", new Uint8Array([0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x83, 0x09, 0x01, 0x01])],
      ...Array.from({ length: good.length - 1 }, (_, n) => [`truncated at ${n}`, good.subarray(0, n)] as [string, Uint8Array]),
    ];
    for (const [name, body] of cases) {
      if (body.length === 0) continue; // an empty FolderSync is "missing content", checked below
      const r = await post(c, "FolderSync", body);
      expect(`${name}: ${r.status}`).toBe(`${name}: 200`);
      expect(`${name}: ${kidText(r.doc!, "FolderHierarchy:Status")}`).toBe(`${name}: 102`);
      const r12 = await post(c12, "FolderSync", body);
      expect(`${name}: ${r12.status}`).toBe(`${name}: 400`);
    }
  });

  test("well-formed WBXML with the wrong root element: Status 103", async () => {
    const r = await post(c, "FolderSync", encode(el("AirSync:Sync", el("AirSync:Collections"))));
    expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("103");
  });

  test("an empty body where one is required: Status 103", async () => {
    const r = await post(c, "FolderSync", new Uint8Array(0));
    expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("103");
  });

  test("random bodies for every command never give a 500", async () => {
    const cmds = ["Sync", "FolderSync", "FolderCreate", "GetItemEstimate", "Ping", "ItemOperations", "MoveItems", "Settings", "Search", "SendMail", "SmartReply", "ResolveRecipients", "Provision"];
    const statuses = new Set<number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...cmds), fc.uint8Array({ maxLength: 80 }), fc.boolean(), async (cmd, tail, header) => {
        const body = header ? new Uint8Array([0x03, 0x01, 0x6a, 0x00, ...tail]) : tail;
        const r = await post(c, cmd, body);
        statuses.add(r.status);
        expect(r.status).toBeLessThan(500);
      }),
      { numRuns: 150, seed: 5 },
    );
    expect(statuses.has(200)).toBe(true);
  });
});

describe("sync keys", () => {
  test("a wrong SyncKey: Sync Status 3, FolderSync Status 9, GetItemEstimate Status 4, folder commands Status 9", async () => {
    const s = await c.sync(inbox, { syncKey: "987654" });
    expect(s.status).toBe("3");
    const junk = await c.sync(inbox, { syncKey: "not-a-key" });
    expect(junk.status).toBe("3");
    const f = await c.send("FolderSync", el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", "424242")));
    expect(kidText(f.doc!, "FolderHierarchy:Status")).toBe("9");
    const g = await c.send(
      "GetItemEstimate",
      el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", "777"), el("GetItemEstimate:CollectionId", inbox)))),
    );
    expect(kidText(kid(g.doc!, "GetItemEstimate:Response"), "GetItemEstimate:Status")).toBe("4");
    const g0 = await c.send(
      "GetItemEstimate",
      el("GetItemEstimate:GetItemEstimate", el("GetItemEstimate:Collections", el("GetItemEstimate:Collection", el("AirSync:SyncKey", "0"), el("GetItemEstimate:CollectionId", inbox)))),
    );
    expect(kidText(kid(g0.doc!, "GetItemEstimate:Response"), "GetItemEstimate:Status")).toBe("3");
    const fc2 = await c.send("FolderCreate", el("FolderHierarchy:FolderCreate", el("FolderHierarchy:SyncKey", "999"), el("FolderHierarchy:ParentId", "0"), el("FolderHierarchy:DisplayName", "X"), el("FolderHierarchy:Type", "12")));
    expect(kidText(fc2.doc!, "FolderHierarchy:Status")).toBe("9");
  });

  test("an unknown collection: Status 12 (folder hierarchy changed)", async () => {
    const s = await c.sync("99999", { syncKey: "1" });
    expect(s.status).toBe("12");
  });

  test("a request without Collections or with a broken Collection: protocol error", async () => {
    const r = await c.send("Sync", el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:CollectionId", inbox)))));
    expect(kidText(r.doc!, "AirSync:Status")).toBe("4");
    const bad = await c.sync(inbox, { options: [el("AirSync:FilterType", "42")] });
    expect(bad.status).toBe("4");
  });

  test("an empty Sync without a cached request: Status 13", async () => {
    const fresh = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: "EMPTYSYNC", version: "14.1" });
    await fresh.provision();
    const r = await fresh.send("Sync", null);
    expect(kidText(r.doc!, "AirSync:Status")).toBe("13");
  });
});

describe("policy keys", () => {
  test("missing key: 142 (14.x) / HTTP 449 (12.1); wrong key: 144 / 449", async () => {
    const saved = c.policyKey;
    c.policyKey = null;
    const r = await c.folderSync();
    expect(kidText(r.doc!, "FolderHierarchy:Status")).toBe("142");
    c.policyKey = "0";
    expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("142");
    c.policyKey = "12345";
    const w = await c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "60"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")))));
    expect(kidText(w.doc!, "Ping:Status")).toBe("144");
    c.policyKey = saved;
    const saved12 = c12.policyKey;
    c12.policyKey = null;
    expect((await c12.folderSync()).status).toBe(449);
    c12.policyKey = "12345";
    expect((await c12.folderSync()).status).toBe(449);
    c12.policyKey = saved12;
    expect((await c12.folderSync()).status).toBe(200);
  });

  test("acknowledging a wrong temporary key: Policy Status 5", async () => {
    const d = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: "BADACK", version: "14.1" });
    await d.send("Provision", el("Provision:Provision", el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML")))));
    const r = await d.send("Provision", el("Provision:Provision", el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"), el("Provision:PolicyKey", "1"), el("Provision:Status", "1")))));
    expect(kidText(kid(kid(r.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:Status")).toBe("5");
    const u = await d.send("Provision", el("Provision:Provision", el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-WAP-Provisioning-XML")))));
    expect(kidText(kid(kid(u.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:Status")).toBe("3");
  });

  test("an account without a policy: Policy Status 2 and commands need no key", async () => {
    const nop = await createUser(env.srv.store, "nopolicy@example.test", "nopolicy-secret-1");
    await env.srv.store.updateSettings(nop.id, { easPolicy: "none" });
    const d = env.client({ user: "nopolicy@example.test", pass: "nopolicy-secret-1", deviceId: "NOPOL", version: "14.1" });
    const r = await d.send("Provision", el("Provision:Provision", el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML")))));
    expect(kidText(kid(kid(r.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:Status")).toBe("2");
    const f = await d.folderSync();
    expect(kidText(f.doc!, "FolderHierarchy:Status")).toBe("1");
  });
});

describe("request line and HTTP", () => {
  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array) =>
    httpsRequest({ host: "127.0.0.1", port: env.port, method, path, headers: { authorization: c.authHeader, "ms-asprotocolversion": "14.1", ...headers }, body });

  test("no credentials or bad credentials: 401 with a Basic challenge", async () => {
    const r = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "OPTIONS", path: "/Microsoft-Server-ActiveSync", headers: {} });
    expect(r.status).toBe(401);
    expect(String(r.headers["www-authenticate"])).toContain("Basic");
    const bad = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "POST", path: c.path("FolderSync"), headers: { authorization: "Basic " + Buffer.from("alice@example.test:wrong").toString("base64") } });
    expect(bad.status).toBe(401);
  });

  test("path in any letter case", async () => {
    const r = await raw("OPTIONS", "/microsoft-server-activesync");
    expect(r.status).toBe(200);
    const r2 = await raw("OPTIONS", "/MICROSOFT-SERVER-ACTIVESYNC");
    expect(r2.status).toBe(200);
  });

  test("bad query, unsupported version, unknown command, wrong method", async () => {
    expect((await raw("POST", "/Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceType=X")).status).toBe(400);
    expect((await raw("POST", "/Microsoft-Server-ActiveSync?Cmd=FolderSync&DeviceId=bad%20id&DeviceType=X")).status).toBe(400);
    expect((await raw("POST", "/Microsoft-Server-ActiveSync?AAAA")).status).toBe(400);
    expect((await raw("POST", c.path("FolderSync"), { "ms-asprotocolversion": "2.5" })).status).toBe(400);
    expect((await raw("POST", c.path("ValidateCert"))).status).toBe(501); // a command this server does not offer (MeetingResponse is implemented since issue 16)
    expect((await raw("POST", c.path("constructor"))).status).toBe(501);
    expect((await raw("POST", c.path("__proto__"))).status).toBe(501);
    expect((await raw("POST", c.path("Find"))).status).toBe(501); // Find is 16.1 only
    expect((await raw("GET", c.path("FolderSync"))).status).toBe(405);
  });

  test("the base64-encoded query form (MS-ASHTTP §2.2.1.1.1.1)", async () => {
    const q = encodeBase64Query({ version: "14.1", cmd: "FolderSync", deviceId: "ROBUST1", policyKey: Number(c.policyKey), deviceType: "TestDevice" });
    const r = await httpsRequest({
      host: "127.0.0.1",
      port: env.port,
      method: "POST",
      path: `/Microsoft-Server-ActiveSync?${q}`,
      headers: { authorization: c.authHeader, "content-type": "application/vnd.ms-sync.wbxml" },
      body: encode(el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", c.folderSyncKey))),
    });
    expect(r.status).toBe(200);
    const binId = encodeBase64Query({ version: "14.1", cmd: "FolderSync", deviceId: new Uint8Array([0xde, 0xad, 0xbe, 0xef]), deviceType: "TestDevice" });
    const r2 = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "POST", path: `/Microsoft-Server-ActiveSync?${binId}`, headers: { authorization: c.authHeader }, body: encode(el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", "0"))) });
    expect(r2.status).toBe(200);
    const devs = await env.srv.ctx.storage.eas.listDevices(alice.id);
    expect(devs.map((d) => d.deviceId)).toContain("DEADBEEF");
    // Truncated binary query: 400, not a crash.
    const cut = Buffer.from(q, "base64").subarray(0, 6).toString("base64");
    expect((await httpsRequest({ host: "127.0.0.1", port: env.port, method: "POST", path: `/Microsoft-Server-ActiveSync?${cut}`, headers: { authorization: c.authHeader } })).status).toBe(400);
  });
});

describe("long polls", () => {
  test("heartbeat bounds: Ping Status 5 with the limit; Sync Status 14 with Limit", async () => {
    const low = await c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "10"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")))));
    expect(kidText(low.doc!, "Ping:Status")).toBe("5");
    expect(kidText(low.doc!, "Ping:HeartbeatInterval")).toBe("60");
    const high = await c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "99999"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")))));
    expect(kidText(high.doc!, "Ping:Status")).toBe("5");
    expect(kidText(high.doc!, "Ping:HeartbeatInterval")).toBe("3540");
    const w = await c.send("Sync", el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", c.syncKeys.get(inbox)!), el("AirSync:CollectionId", inbox))), el("AirSync:Wait", "90")));
    expect(kidText(w.doc!, "AirSync:Status")).toBe("14");
    expect(kidText(w.doc!, "AirSync:Limit")).toBe("59");
    const h = await c.send("Sync", el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", c.syncKeys.get(inbox)!), el("AirSync:CollectionId", inbox))), el("AirSync:HeartbeatInterval", "5")));
    expect(kidText(h.doc!, "AirSync:Status")).toBe("14");
    expect(kidText(h.doc!, "AirSync:Limit")).toBe("60");
  });

  test("Ping without parameters and none stored: Status 3; unknown folder: Status 7; too many: Status 6", async () => {
    const d = env.client({ user: "alice@example.test", pass: "alice-secret-1", deviceId: "PINGNEW", version: "14.1" });
    await d.provision();
    const r = await d.send("Ping", null);
    expect(kidText(r.doc!, "Ping:Status")).toBe("3");
    const u = await d.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "60"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", "4242"), el("Ping:Class", "Email")))));
    expect(kidText(u.doc!, "Ping:Status")).toBe("7");
    const many = Array.from({ length: 301 }, () => el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")));
    const m = await d.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "60"), el("Ping:Folders", many)));
    expect(kidText(m.doc!, "Ping:Status")).toBe("6");
    expect(kidText(m.doc!, "Ping:MaxFolders")).toBe("300");
  });

  test("a new Ping from the device ends the previous one (Status 1); an empty Ping reuses the folders", async () => {
    const first = c.send("Ping", el("Ping:Ping", el("Ping:HeartbeatInterval", "600"), el("Ping:Folders", el("Ping:Folder", el("Ping:Id", inbox), el("Ping:Class", "Email")))));
    await new Promise((r) => setTimeout(r, 200));
    const second = c.send("Ping", null); // same parameters, stored on the device
    const r1 = await first;
    expect(kidText(r1.doc!, "Ping:Status")).toBe("1");
    await env.srv.store.deliver(message({ to: "alice@example.test", subject: "wakes the second ping" }), [{ accountId: alice.id }]);
    const r2 = await second;
    expect(kidText(r2.doc!, "Ping:Status")).toBe("2");
  });

  test("Sync with Wait returns when mail arrives", async () => {
    while (true) {
      // take what is pending
      const s = await c.sync(inbox);
      if (!kid(s.coll, "AirSync:Commands") && !kid(s.coll, "AirSync:MoreAvailable")) break;
    }
    const waiting = c.send("Sync", el("AirSync:Sync", el("AirSync:Collections", el("AirSync:Collection", el("AirSync:SyncKey", c.syncKeys.get(inbox)!), el("AirSync:CollectionId", inbox))), el("AirSync:Wait", "1")));
    await new Promise((r) => setTimeout(r, 200));
    await env.srv.store.deliver(message({ to: "alice@example.test", subject: "during the wait" }), [{ accountId: alice.id }]);
    const r = await waiting;
    const coll = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
    expect(kidText(coll, "AirSync:Status")).toBe("1");
    const add = kid(kid(coll, "AirSync:Commands"), "AirSync:Add");
    expect(kidText(kid(add, "AirSync:ApplicationData"), "Email:Subject")).toBe("during the wait");
    c.syncKeys.set(inbox, kidText(coll, "AirSync:SyncKey")!);
  });
});

test("every request matched xml2wbxml byte for byte and every response matched wbxml2xml", () => {
  const r = env.libwbxml();
  console.log(`libwbxml: ${r.requests} requests and ${r.responses} responses compared, ${r.skipped} skipped (Find code page, unknown to libwbxml 0.11.8)`);
  expect(r.mismatches).toEqual([]);
  expect(r.requests).toBeGreaterThan(10);
  expect(r.responses).toBeGreaterThan(10);
});
