/**
 * The webmail's spam list API (protocols/http/webmail/spam-api.ts) with curl
 * over HTTPS, signed in: add, list, move between allow and deny, delete;
 * another account sees none of it; malformed requests get 4xx in words; the
 * session and CSRF token are required. The entries are the ones the filter
 * reads (the SpamStore of the account).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { ALICE, BOB, ApiClient, startWebmailServer } from "../webmail/helpers.ts";
import { run } from "../smtp/helpers.ts";
import type { SpamListItem, SpamListsResponse } from "../../protocols/http/webmail/api-types.ts";

let srv: Awaited<ReturnType<typeof startWebmailServer>>;
let alice: ApiClient;
let bob: ApiClient;

beforeAll(async () => {
  srv = await startWebmailServer();
  alice = await ApiClient.signIn(srv.base, ALICE);
  bob = await ApiClient.signIn(srv.base, BOB);
}, 30_000);

afterAll(async () => {
  await srv?.close();
});

/** curl with the client's session cookie and CSRF token; returns status and body. */
async function curl(who: ApiClient | null, method: string, path: string, body?: string): Promise<{ status: number; body: string }> {
  const args = ["-sk", "-X", method, "-w", "\n%{http_code}", srv.base + path, "-H", `Origin: ${srv.base}`];
  if (who) args.push("-H", `Cookie: ${who.cookie}`, "-H", `X-CSRF-Token: ${who.csrf}`);
  if (body !== undefined) args.push("-H", "Content-Type: application/json", "--data-binary", body);
  const r = await run("curl", args, { timeoutMs: 20_000 });
  const cut = r.stdout.lastIndexOf("\n");
  return { status: Number(r.stdout.slice(cut + 1)), body: r.stdout.slice(0, cut) };
}

test("needs a session and the CSRF token", async () => {
  expect((await curl(null, "GET", "/api/spam/lists")).status).toBe(401);
  const noCsrf = await run("curl", ["-sk", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", srv.base + "/api/spam/lists", "-H", `Origin: ${srv.base}`, "-H", `Cookie: ${alice.cookie}`, "-H", "Content-Type: application/json", "--data-binary", '{"kind":"allow","pattern":"x.example"}']);
  expect(noCsrf.stdout).toBe("403");
});

test("add, list, move, delete; each account has its own lists; the store the filter reads has them", async () => {
  const a = await curl(alice, "POST", "/api/spam/lists", JSON.stringify({ kind: "allow", pattern: "Friend@Example.ORG" }));
  expect(a.status).toBe(200);
  const entry = JSON.parse(a.body) as SpamListItem;
  expect(entry).toMatchObject({ kind: "allow", pattern: "friend@example.org" });
  const d = JSON.parse((await curl(alice, "POST", "/api/spam/lists", JSON.stringify({ kind: "deny", pattern: "@spam.example" }))).body) as SpamListItem;
  expect(d.pattern).toBe("spam.example");
  const list = JSON.parse((await curl(alice, "GET", "/api/spam/lists")).body) as SpamListsResponse;
  expect(list.entries.map((e) => [e.kind, e.pattern])).toEqual([
    ["allow", "friend@example.org"],
    ["deny", "spam.example"],
  ]);
  const account = (await srv.store.getAccount(ALICE.email))!;
  expect((await srv.ctx.storage.spam.listEntries({ accountId: account.id })).length).toBe(2);
  // Bob sees nothing of Alice's, and cannot delete her entries.
  expect(JSON.parse((await curl(bob, "GET", "/api/spam/lists")).body)).toEqual({ entries: [] });
  expect((await curl(bob, "DELETE", `/api/spam/lists/${entry.id}`)).status).toBe(404);
  // Blocking an allowed sender moves it.
  await curl(alice, "POST", "/api/spam/lists", JSON.stringify({ kind: "deny", pattern: "friend@example.org" }));
  const moved = JSON.parse((await curl(alice, "GET", "/api/spam/lists")).body) as SpamListsResponse;
  expect(moved.entries.filter((e) => e.pattern === "friend@example.org").map((e) => e.kind)).toEqual(["deny"]);
  for (const e of moved.entries) expect((await curl(alice, "DELETE", `/api/spam/lists/${e.id}`)).status).toBe(204);
  expect(JSON.parse((await curl(alice, "GET", "/api/spam/lists")).body)).toEqual({ entries: [] });
});

test("malformed requests are 4xx in words, nothing stored", async () => {
  const cases: [string, number, RegExp][] = [
    ['{"kind":"allow","pattern":"not a domain"}', 400, /not an address or a domain/],
    ['{"kind":"allow","pattern":"localhost"}', 400, /not an address or a domain/],
    ['{"kind":"maybe","pattern":"x.example"}', 400, /allow or block/],
    ['{"kind":"deny"}', 400, /address .* or a domain/],
    ['{"kind":"deny","pattern":["x.example"]}', 400, /address .* or a domain/],
    ["{not json", 400, /./],
    [JSON.stringify({ kind: "deny", pattern: "a".repeat(5000) + ".example" }), 413, /too large/],
  ];
  for (const [body, status, words] of cases) {
    const r = await curl(alice, "POST", "/api/spam/lists", body);
    expect([body.slice(0, 40), r.status]).toEqual([body.slice(0, 40), status]);
    expect(JSON.parse(r.body).message).toMatch(words);
  }
  expect((await curl(alice, "DELETE", "/api/spam/lists/abc")).status).toBe(400);
  expect((await curl(alice, "DELETE", "/api/spam/lists/99999999999999999999")).status).toBe(400);
  expect((await curl(alice, "DELETE", "/api/spam/lists/424242")).status).toBe(404);
  expect(JSON.parse((await curl(alice, "GET", "/api/spam/lists")).body)).toEqual({ entries: [] });
});
