import { test, expect } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { pop3Options } from "../../protocols/pop3/connection.ts";

test("POP3 LOGIN-DELAY and EXPIRE come from env and reach the CAPA options", () => {
  const cfg = loadConfig({ file: null, env: { PILLARBOX_POP3_LOGIN_DELAY_SECONDS: "900", PILLARBOX_POP3_EXPIRE: "never" } });
  expect(cfg.pop3.loginDelaySeconds).toBe(900);
  expect(cfg.pop3.expire).toBe("NEVER");
  const o = pop3Options(cfg);
  expect(o.loginDelaySeconds).toBe(900);
  expect(o.expire).toBe("NEVER");
});

test("POP3 policies are off by default and reject bad values", () => {
  const cfg = loadConfig({ file: null, env: {} });
  expect(cfg.pop3.loginDelaySeconds).toBeNull();
  expect(cfg.pop3.expire).toBeNull();
  expect(loadConfig({ file: null, env: { PILLARBOX_POP3_EXPIRE: "0" } }).pop3.expire).toBe(0);
  expect(() => loadConfig({ file: null, env: { PILLARBOX_POP3_EXPIRE: "soon" } })).toThrow();
});
