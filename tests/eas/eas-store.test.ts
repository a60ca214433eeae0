import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDb, type Db } from "../../storage/db.ts";
import { migrate } from "../../storage/migrate.ts";
import { createEasStore, type EasStore } from "../../storage/eas-store.ts";
import { dropPgSchema, freshPgUrl, storeEngines } from "../helpers/engines.ts";

// Every test runs on SQLite and on PostgreSQL (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
let dir: string;
let url: string;
let db: Db;
let eas: EasStore;
let accountId: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-eas-store-"));
  url = engine === "postgres" ? await freshPgUrl("eas") : `file:${join(dir, "t.db")}`;
  db = await openDb({ url });
  await migrate(db);
  await db.write(async (tx) => {
    await tx.run("INSERT INTO domains (id, name, created_at) VALUES (1, 'example.test', 0)");
    await tx.run("INSERT INTO accounts (id, email, domain_id, password_hash, created_at) VALUES (7, 'ann@example.test', 1, 'x', 0)");
  });
  accountId = 7;
  eas = createEasStore(db);
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  if (engine === "postgres") await dropPgSchema(url);
});

describe("eas store", () => {
  test("devices are created on first contact and updated", async () => {
    const d = await eas.touchDevice(accountId, "DEV1", { deviceType: "iPhone", userAgent: "Apple-iPhone/1", protocolVersion: "16.1" }, 1000);
    expect(d.deviceId).toBe("DEV1");
    expect(d.email).toBe("ann@example.test");
    expect(d.policyKey).toBeNull();
    expect(d.wipeStatus).toBe("none");
    await eas.updateDevice(d.pk, { policyKey: 123456, model: "iPhone15,2", friendlyName: "Ann's phone" });
    const again = await eas.touchDevice(accountId, "DEV1", { deviceType: "iPhone", userAgent: "Apple-iPhone/2", protocolVersion: "16.1" }, 200_000);
    expect(again.pk).toBe(d.pk);
    expect(again.policyKey).toBe(123456);
    expect(again.userAgent).toBe("Apple-iPhone/2");
    expect(again.lastSeen).toBe(200_000);
    expect((await eas.listDevices(accountId)).map((x) => x.friendlyName)).toEqual(["Ann's phone"]);
  });

  test("sync state keeps exactly the requested keys", async () => {
    const d = (await eas.getDevice(accountId, "DEV1"))!;
    await eas.putSyncState(d.pk, "5", 1, new Uint8Array([1, 2]), "{}", []);
    await eas.putSyncState(d.pk, "5", 2, new Uint8Array([3]), '{"a":1}', [1]);
    await eas.putSyncState(d.pk, "5", 3, new Uint8Array([4]), "{}", [2]);
    expect(await eas.syncKeys(d.pk, "5")).toEqual([3, 2]);
    const s = await eas.getSyncState(d.pk, "5", 2);
    expect([...s!.items]).toEqual([3]);
    expect(s!.meta).toBe('{"a":1}');
    expect(await eas.syncedCollections(d.pk)).toEqual(["5"]);
    await eas.putFolderState(d.pk, 1, "[]", []);
    await eas.putFolderState(d.pk, 2, "[1]", [1]);
    expect(await eas.folderKeys(d.pk)).toEqual([2, 1]);
  });

  test("loop strikes count up and clear", async () => {
    const d = (await eas.getDevice(accountId, "DEV1"))!;
    await eas.strike(d.pk, "5", [10, 11], 1);
    await eas.strike(d.pk, "5", [10], 2);
    expect([...(await eas.loopStrikes(d.pk, "5"))].sort()).toEqual([
      [10, 2],
      [11, 1],
    ]);
    await eas.clearStrikes(d.pk, "5", [11]);
    expect([...(await eas.loopStrikes(d.pk, "5"))]).toEqual([[10, 2]]);
  });

  test("wipe request and removal drop everything", async () => {
    expect(await eas.requestWipe(accountId, "DEV1", false, 5)).toBe(true);
    expect((await eas.getDevice(accountId, "DEV1"))!.wipeStatus).toBe("requested");
    expect(await eas.requestWipe(accountId, "NOPE")).toBe(false);
    const pk = (await eas.getDevice(accountId, "DEV1"))!.pk;
    expect(await eas.removeDevice(accountId, "DEV1")).toBe(true);
    expect(await eas.getDevice(accountId, "DEV1")).toBeNull();
    expect(await eas.syncKeys(pk, "5")).toEqual([]);
    expect(await eas.folderKeys(pk)).toEqual([]);
    expect(await eas.removeDevice(accountId, "DEV1")).toBe(false);
    const fresh = await eas.touchDevice(accountId, "DEV1", { deviceType: "iPhone", userAgent: null, protocolVersion: null }, 9);
    expect(fresh.pk).toBeGreaterThan(pk);
  });
});
});
}
