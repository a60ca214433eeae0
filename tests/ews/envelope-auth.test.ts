/**
 * EWS authentication (handler.ts): Basic with the account password, app
 * passwords only for accounts with two-factor sign-in, the shared login
 * throttle (HTTP 503 + Retry-After, not 401, once an address has failed too
 * often), the GET probe clients use to test credentials, and SOAP
 * autodiscover behind the same credentials.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createUser, envelope, startEws, type EwsEnv } from "./helpers.ts";
import { httpsRequest } from "../eas/client.ts";

let env: EwsEnv;
const A = "alice@example.test";
const PW = "alice-password-1";
const T = "tfa@example.test";
const op = `<m:ConvertId DestinationFormat="EwsId"><m:SourceIds><t:AlternateId Format="EwsId" Id="x" Mailbox="${A}"/></m:SourceIds></m:ConvertId>`;
let appPassword = "";

beforeAll(async () => {
  env = await startEws();
  await createUser(env.srv.store, A, PW);
  const t = await createUser(env.srv.store, T, PW);
  await env.srv.store.beginTwoFactor(t.id, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  await env.srv.store.enableTwoFactor(t.id);
  appPassword = (await env.srv.store.createAppPassword(t.id, "outlook for mac")).password;
});
afterAll(() => env.close());

test("the account password works; a wrong one and a missing Authorization get 401 with a Basic challenge", async () => {
  expect((await env.post(A, PW, envelope(op))).status).toBe(200);
  const wrong = await env.post(A, "nope", envelope(op));
  expect(wrong.status).toBe(401);
  expect(String(wrong.headers["www-authenticate"])).toMatch(/^Basic realm=/);
  const none = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "POST", path: "/EWS/Exchange.asmx", headers: { "content-type": "text/xml" }, body: new TextEncoder().encode(envelope(op)) });
  expect(none.status).toBe(401);
  env.srv.ctx.authLimiter.succeed("127.0.0.1");
});

test("two-factor account: the main password is refused, an app password is served", async () => {
  expect((await env.post(T, PW, envelope(op))).status).toBe(401);
  const ok = await env.post(T, appPassword, envelope(op));
  expect(ok.status).toBe(200);
  expect(ok.text).toContain(`ErrorInvalidIdMalformed`);
  env.srv.ctx.authLimiter.succeed("127.0.0.1");
});

test("GET with credentials is the probe page; other methods 405; the path in any case", async () => {
  const get = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "GET", path: "/ews/EXCHANGE.asmx", headers: { authorization: "Basic " + Buffer.from(`${A}:${PW}`).toString("base64") } });
  expect(get.status).toBe(200);
  const put = await httpsRequest({ host: "127.0.0.1", port: env.port, method: "PUT", path: "/EWS/Exchange.asmx", headers: {} });
  expect(put.status).toBe(405);
});

test("repeated failures reach the shared throttle: HTTP 503 with Retry-After, even for the right password", async () => {
  let last = 0;
  let retry: unknown;
  for (let i = 0; i < 40 && last !== 503; i++) {
    const r = await env.post(A, `bad-${i}`, envelope(op));
    last = r.status;
    retry = r.headers["retry-after"];
  }
  expect(last).toBe(503);
  expect(Number(retry)).toBeGreaterThan(0);
  const right = await env.post(A, PW, envelope(op));
  expect(right.status).toBe(503);
  env.srv.ctx.authLimiter.succeed("127.0.0.1");
});
