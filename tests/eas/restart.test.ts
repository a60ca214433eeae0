/**
 * A server restart never forces a full resync: sync state, policy keys and
 * FolderSync state live in the database. (Its own file: the HTTP module
 * serves one server per process at a time.)
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appData, commandsOf, kid, kidText, type EasClient } from "./client.ts";
import { createUser, message, startEas } from "./helpers.ts";

async function drain(c: EasClient, coll: string, o: Parameters<EasClient["sync"]>[1] = {}): Promise<string[]> {
  const subjects: string[] = [];
  for (let i = 0; i < 100; i++) {
    const s = await c.sync(coll, o);
    expect(s.status).toBe("1");
    for (const a of commandsOf(s.coll).adds) subjects.push(kidText(appData(a), "Email:Subject")!);
    if (!kid(s.coll, "AirSync:MoreAvailable")) return subjects;
  }
  throw new Error("sync never finished");
}

describe("restart", () => {
  test("the server restarting never forces a resync", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "pb-eas-restart-"));
    try {
      let e2 = await startEas({ dataDir });
      const a = await createUser(e2.srv.store, "rita@example.test", "rita-secret-1");
      for (let i = 0; i < 9; i++) await e2.srv.store.deliver(message({ to: "rita@example.test", subject: `R${i}` }), [{ accountId: a.id }]);
      let c = e2.client({ user: "rita@example.test", pass: "rita-secret-1", deviceId: "RESTART", version: "16.1" });
      await c.provision();
      await c.folderSync();
      const inbox = c.folderByType(2);
      await c.sync(inbox);
      const s1 = await c.sync(inbox, { windowSize: 4 });
      expect(commandsOf(s1.coll).adds.length).toBe(4);
      const saved = { policyKey: c.policyKey, folderKey: c.folderSyncKey, syncKeys: new Map(c.syncKeys) };
      await e2.close();

      e2 = await startEas({ dataDir });
      c = e2.client({ user: "rita@example.test", pass: "rita-secret-1", deviceId: "RESTART", version: "16.1" });
      c.policyKey = saved.policyKey;
      c.folderSyncKey = saved.folderKey;
      c.syncKeys = saved.syncKeys;
      const f = await c.folderSync();
      expect(kidText(f.doc!, "FolderHierarchy:Status")).toBe("1");
      expect(kidText(kid(f.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Count")).toBe("0");
      const rest = await drain(c, inbox, { windowSize: 4 });
      expect(rest.length).toBe(5);
      await e2.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

});
