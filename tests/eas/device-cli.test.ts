/**
 * `pillarbox device list|remove|wipe` against a data dir a running server
 * uses: the CLI sees the devices the server tracks, and its wipe/remove
 * orders reach the device at its next command.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../helpers/proc.ts";
import { el, kid, kidText, type EasClient } from "./client.ts";
import { createUser, startEas, type EasEnv } from "./helpers.ts";

let env: EasEnv;
let dir: string;
let c: EasClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-eas-cli-"));
  env = await startEas({ dataDir: dir });
  await createUser(env.srv.store, "jane@example.test", "jane-secret-1");
  c = env.client({ user: "jane@example.test", pass: "jane-secret-1", deviceId: "JANEPHONE1", version: "14.1" });
  await c.provision();
  await c.folderSync();
});
afterAll(async () => {
  await env.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli([...args, "--data-dir", dir]);

test("device list shows the device with its details", async () => {
  const r = await cli("device", "list");
  expect(r.code).toBe(0);
  expect(r.stdout).toContain("jane@example.test");
  expect(r.stdout).toContain("JANEPHONE1");
  expect(r.stdout).toContain("Test Model");
  expect(r.stdout).toContain("14.1");
  const one = await cli("device", "list", "jane@example.test");
  expect(one.stdout).toContain("JANEPHONE1");
  const nobody = await cli("device", "list", "nobody@example.test");
  expect(nobody.code).not.toBe(0);
});

test("device wipe: the device is told at its next command and wiped through Provision", async () => {
  const missing = await cli("device", "wipe", "jane@example.test", "NOSUCH");
  expect(missing.code).toBe(1);
  const r = await cli("device", "wipe", "jane@example.test", "JANEPHONE1");
  expect(r.code).toBe(0);
  const f = await c.folderSync();
  expect(kidText(f.doc!, "FolderHierarchy:Status")).toBe("140");
  const p = await c.send("Provision", el("Provision:Provision", el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML")))));
  expect(kid(p.doc!, "Provision:RemoteWipe")).toBeDefined();
  await c.send("Provision", el("Provision:Provision", el("Provision:RemoteWipe", el("Provision:Status", "1"))));
  const list = await cli("device", "list");
  expect(list.stdout).toContain("wiped");
});

test("device remove: the device starts over", async () => {
  const r = await cli("device", "remove", "jane@example.test", "JANEPHONE1");
  expect(r.code).toBe(0);
  expect((await cli("device", "list")).stdout).toContain("no devices");
  c.policyKey = null;
  expect(kidText((await c.folderSync()).doc!, "FolderHierarchy:Status")).toBe("142");
  expect((await cli("device", "remove", "jane@example.test", "NOSUCH")).code).toBe(1);
});

test("device policy: show, switch off provisioning, switch it back on", async () => {
  expect((await cli("device", "policy", "jane@example.test")).stdout).toContain("required");
  expect((await cli("device", "policy", "jane@example.test", "none")).code).toBe(0);
  const d = env.client({ user: "jane@example.test", pass: "jane-secret-1", deviceId: "NOPOLICYPHONE", version: "14.1" });
  expect(kidText((await d.folderSync()).doc!, "FolderHierarchy:Status")).toBe("1");
  expect((await cli("device", "policy", "jane@example.test", "required")).stdout).toContain("required");
  d.folderSyncKey = "0";
  expect(kidText((await d.folderSync()).doc!, "FolderHierarchy:Status")).toBe("142");
  expect((await cli("device", "policy", "jane@example.test", "sometimes")).code).not.toBe(0);
});
