/**
 * The webmail's Sieve routes (protocols/http/webmail/sieve-api.ts) over HTTPS
 * with a signed-in client: the rules script written and activated, scripts
 * checked and stored only when they compile (errors with their line),
 * quotas, the active script protected from deletion, the out-of-office script
 * shown, one account never seeing another's scripts, and malformed requests
 * answered 4xx in words.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ALICE, BOB, ApiClient, request, startWebmailServer } from "./helpers.ts";
import type { RuleSet, SieveCheckResult, SieveOverview, SieveScriptBody } from "../../protocols/http/webmail/api-types.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;
const MAX_BYTES = 4096;

beforeAll(async () => {
  srv = await startWebmailServer({ sieve: { maxScripts: 3, maxScriptBytes: MAX_BYTES } });
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

const script = (name: string) => "/api/sieve/scripts/" + encodeURIComponent(name);
const rules: RuleSet = {
  rules: [
    { id: "inv", name: "Invoices", enabled: true, match: "all", conditions: [{ field: "subject", op: "contains", value: "invoice" }], actions: [{ type: "fileinto", value: "Accounts" }, { type: "stop" }] },
    { id: "big", name: "Big mail", enabled: false, match: "any", conditions: [{ field: "size", op: "over", value: "2048" }], actions: [{ type: "flag" }] },
  ],
};

describe("/api/sieve", () => {
  test("needs a session and the CSRF token", async () => {
    expect((await request("GET", srv.base + "/api/sieve")).status).toBe(401);
    const noCsrf = await alice.send("PUT", "/api/sieve/rules", rules, { "x-csrf-token": "wrong" });
    expect(noCsrf.status).toBe(403);
  });

  test("an account starts with no scripts; the overview names the rules script, the quotas and the extensions", async () => {
    const ov = await bob.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov).toMatchObject({ scripts: [], active: null, rulesScriptName: "Pillarbox rules", rules: null, vacationScript: null, limits: { maxScripts: 3, maxScriptBytes: MAX_BYTES } });
    expect(ov.extensions).toEqual(expect.arrayContaining(["fileinto", "vacation", "spamtest", "imap4flags"]));
  });

  test("PUT /api/sieve/rules stores the rules as a script, activates it, and reads back as the same rules", async () => {
    const r = await alice.ok<{ script: string }>("PUT", "/api/sieve/rules", rules);
    expect(r.script).toContain('if header :contains "subject" "invoice" {\n  fileinto "Accounts";\n  stop;\n}');
    expect(r.script).not.toContain("imap4flags"); // the disabled rule uses nothing
    const ov = await alice.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov.active).toBe("Pillarbox rules");
    expect(ov.rules).toEqual(rules);
    expect(ov.scripts).toEqual([expect.objectContaining({ name: "Pillarbox rules", active: true, size: Buffer.byteLength(r.script) })]);
    const body = await alice.ok<SieveScriptBody>("GET", script("Pillarbox rules"));
    expect(body).toEqual({ name: "Pillarbox rules", content: r.script, active: true });
    // Another account sees none of it.
    expect((await bob.ok<SieveOverview>("GET", "/api/sieve")).scripts).toEqual([]);
    expect((await bob.get(script("Pillarbox rules"))).status).toBe(404);
  });

  test("rules the checker refuses are a 400 in words; nothing changes", async () => {
    const before = await alice.ok<SieveScriptBody>("GET", script("Pillarbox rules"));
    const cases: [unknown, RegExp][] = [
      [{ rules: [{ ...rules.rules[0], actions: [{ type: "redirect", value: "nobody" }] }] }, /valid address/],
      [{ rules: [{ ...rules.rules[0], conditions: [{ field: "header", header: "Bad: name", op: "is", value: "x" }] }] }, /header field name/],
      [{ rules: "all" }, /could not be understood/],
      [{ rules: [rules.rules[0], rules.rules[0]] }, /same id/],
    ];
    for (const [body, words] of cases) {
      const res = await alice.send("PUT", "/api/sieve/rules", body);
      expect(res.status).toBe(400);
      expect(res.json<{ message: string }>().message).toMatch(words);
    }
    expect((await alice.ok<SieveScriptBody>("GET", script("Pillarbox rules"))).content).toBe(before.content);
  });

  test("POST /api/sieve/check: ok, or the errors with their line numbers", async () => {
    expect(await alice.ok<SieveCheckResult>("POST", "/api/sieve/check", { content: 'require "fileinto";\nfileinto "X";\n' })).toEqual({ ok: true, errors: [] });
    const bad = await alice.ok<SieveCheckResult>("POST", "/api/sieve/check", { content: 'require "fileinto";\n\nif header :contains "subject" "x" {\n  fileinto "X"\n}\n' });
    expect(bad.ok).toBe(false);
    expect(bad.errors[0]!.line).toBeGreaterThanOrEqual(4);
    expect(bad.errors[0]!.message.length).toBeGreaterThan(5);
    const noRequire = await alice.ok<SieveCheckResult>("POST", "/api/sieve/check", { content: 'keep;\nfileinto "X";\n' });
    expect(noRequire.ok).toBe(false);
    expect(noRequire.errors[0]!.line).toBe(2);
  });

  test("PUT of a script that does not compile is a 400 with the line, and nothing is stored", async () => {
    const res = await alice.send("PUT", script("broken"), { content: 'require "fileinto";\nif true {\n  frobnicate;\n}\n' });
    expect(res.status).toBe(400);
    const r = res.json<SieveCheckResult & { message: string }>();
    expect(r.ok).toBe(false);
    expect(r.errors[0]!.line).toBe(3);
    expect(r.message).toMatch(/line 3/);
    expect((await alice.get(script("broken"))).status).toBe(404);
  });

  test("a hand-edited rules script reads back as no rules (the raw view owns it), and stays active", async () => {
    const body = await alice.ok<SieveScriptBody>("GET", script("Pillarbox rules"));
    await alice.ok("PUT", script("Pillarbox rules"), { content: body.content + "# my own note\n" });
    const ov = await alice.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov.rules).toBeNull();
    expect(ov.active).toBe("Pillarbox rules");
    // Saving from the editor replaces it again.
    await alice.ok("PUT", "/api/sieve/rules", rules);
    expect((await alice.ok<SieveOverview>("GET", "/api/sieve")).rules).toEqual(rules);
  });

  test("quotas: script size and number of scripts are 400s in words", async () => {
    const big = await alice.send("PUT", script("big"), { content: "# " + "x".repeat(MAX_BYTES) + "\nkeep;\n" });
    expect(big.status).toBe(400);
    expect(big.json<{ error: string; message: string }>()).toMatchObject({ error: "quota" });
    expect(big.json<{ message: string }>().message).toMatch(/at most 4096 bytes/);
    // Counted in octets (RFC 5804 §2.6), not characters: 1,500 three-octet characters are over 4,096.
    const wide = await alice.send("PUT", script("wide"), { content: "# " + "€".repeat(1500) + "\nkeep;\n" });
    expect(wide.status).toBe(400);
    await alice.ok("PUT", script("two"), { content: "keep;\n" });
    await alice.ok("PUT", script("three"), { content: "keep;\n" });
    const fourth = await alice.send("PUT", script("four"), { content: "keep;\n" });
    expect(fourth.status).toBe(400);
    expect(fourth.json<{ message: string }>().message).toMatch(/quota.*at most 3 scripts/);
    // Replacing an existing one is not a new script.
    await alice.ok("PUT", script("three"), { content: "discard;\n" });
    expect((await alice.ok<SieveScriptBody>("GET", script("three"))).content).toBe("discard;\n");
  });

  test("activate, deactivate, delete: the active script cannot be deleted (409), unknown names are 404", async () => {
    expect((await alice.send("POST", "/api/sieve/active", { name: "three" })).status).toBe(204);
    let ov = await alice.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov.active).toBe("three");
    expect(ov.scripts.filter((s) => s.active).map((s) => s.name)).toEqual(["three"]);
    const del = await alice.send("DELETE", script("three"));
    expect(del.status).toBe(409);
    expect(del.json<{ message: string }>().message).toMatch(/active/);
    expect((await alice.send("DELETE", script("nope"))).status).toBe(404);
    expect((await alice.send("POST", "/api/sieve/active", { name: "nope" })).status).toBe(404);
    expect((await alice.send("POST", "/api/sieve/active", { name: null })).status).toBe(204);
    ov = await alice.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov.active).toBeNull();
    expect((await alice.send("DELETE", script("three"))).status).toBe(204);
    expect((await alice.send("DELETE", script("two"))).status).toBe(204);
    expect((await alice.ok<SieveOverview>("GET", "/api/sieve")).scripts.map((s) => s.name)).toEqual(["Pillarbox rules"]);
    // Saving rules activates their script again.
    await alice.ok("PUT", "/api/sieve/rules", rules);
    expect((await alice.ok<SieveOverview>("GET", "/api/sieve")).active).toBe("Pillarbox rules");
  });

  test("the out-of-office settings show as the vacation script", async () => {
    await alice.ok("PUT", "/api/settings", { oof: { enabled: true, subject: "Away", body: 'Back on "Monday".' } });
    const ov = await alice.ok<SieveOverview>("GET", "/api/sieve");
    expect(ov.vacationScript).toContain("vacation");
    expect(ov.vacationScript).toContain('Back on \\"Monday\\".');
    await alice.ok("PUT", "/api/settings", { oof: { enabled: false, subject: "Away", body: "x" } });
    expect((await alice.ok<SieveOverview>("GET", "/api/sieve")).vacationScript).toBeNull();
  });

  test("malformed requests are 4xx in words, never 500", async () => {
    const cases: [string, string, unknown, number][] = [
      ["PUT", script("x"), { content: 42 }, 400],
      ["PUT", script("x"), {}, 400],
      ["PUT", script("bad\u0001name"), { content: "keep;" }, 400],
      ["GET", script("bad\u0001name"), undefined, 400],
      ["POST", "/api/sieve/check", { content: null }, 400],
      ["POST", "/api/sieve/active", { name: 5 }, 400],
      ["PUT", "/api/sieve/rules", [1, 2], 400],
      ["POST", "/api/sieve/check", { content: "\ud800" }, 200], // a lone surrogate: a compile error, not a crash
    ];
    for (const [method, path, body, status] of cases) {
      const res = method === "GET" ? await alice.get(path) : await alice.send(method, path, body);
      expect(`${method} ${path} ${res.status}`).toBe(`${method} ${path} ${status}`);
      if (status >= 400) expect(res.json<{ message: string }>().message.length).toBeGreaterThan(5);
    }
    const notJson = await alice.send("PUT", "/api/sieve/rules", undefined, { "content-type": "application/json" });
    expect(notJson.status).toBe(400);
    const raw = await request("POST", srv.base + "/api/sieve/check", {
      headers: { cookie: alice.cookie, origin: srv.base, "x-csrf-token": alice.csrf, "content-type": "application/json" },
      body: '{"content": "unterminated',
    });
    expect(raw.status).toBe(400);
    // A request far over the script quota is refused before it is read as JSON.
    const huge = await alice.send("POST", "/api/sieve/check", { content: "x".repeat(MAX_BYTES * 7) });
    expect(huge.status).toBe(413);
  });
});
