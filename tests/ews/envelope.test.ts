/** The EWS endpoint's envelope handling: authentication, faults for malformed requests, unknown operations. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createUser, find, startEws, type EwsEnv } from "./helpers.ts";

let env: EwsEnv;
beforeAll(async () => {
  env = await startEws();
  await createUser(env.srv.store, "alice@example.test", "alice-password-1");
});
afterAll(() => env.close());

test("no credentials: 401 with a Basic challenge", async () => {
  const r = await env.post("alice@example.test", "wrong-password", "<x/>");
  expect(r.status).toBe(401);
  expect(String(r.headers["www-authenticate"])).toContain("Basic");
});

test("malformed XML: SOAP fault ErrorSchemaValidation with HTTP 400", async () => {
  const r = await env.post("alice@example.test", "alice-password-1", "<soap:Envelope");
  expect(r.status).toBe(400);
  expect(r.text).toContain("<e:ResponseCode");
  expect(r.text).toContain("ErrorSchemaValidation");
});

test("an unknown operation: SOAP fault ErrorInvalidRequest, not a 500", async () => {
  const r = await env.call("alice@example.test", "alice-password-1", `<m:FrobnicateItems/>`);
  expect(r.status).toBe(400);
  expect(find(r.body, "detail", "ResponseCode")?.text).toBe("ErrorInvalidRequest");
});

test("an unknown RequestServerVersion: ErrorInvalidServerVersion", async () => {
  const r = await env.call("alice@example.test", "alice-password-1", `<m:GetFolder/>`, { version: "Exchange1999" });
  expect(r.status).toBe(400);
  expect(find(r.body, "detail", "ResponseCode")?.text).toBe("ErrorInvalidServerVersion");
});
