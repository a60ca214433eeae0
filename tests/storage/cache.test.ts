/**
 * listMessages keeps large folders cached and updates the cache from the
 * change log. A second store on the same file (as another process would)
 * changes the folder in every way; the cached answer must always equal a
 * fresh read.
 */
import { describe, expect, test } from "bun:test";
import { openStore } from "../../storage/store.ts";
import { makeMessage, setupAccount, tempStore } from "./helpers.ts";
import { storeEngines } from "../helpers/engines.ts";
import { passwordHasher } from "../../src/auth.ts";

// Every test runs on SQLite and on PostgreSQL (tests/helpers/engines.ts).
for (const engine of storeEngines()) {
describe(`engine ${engine}`, () => {
test("cached folder listings follow changes made by another store instance", async () => {
  const t = await tempStore({ engine });
  const other = await openStore({ hasher: passwordHasher, url: t.url, dataDir: t.dir });
  try {
    const { account, inbox } = await setupAccount(t.store);
    const archive = (await t.store.getFolder(account.id, "Archive"))!;
    const raw = makeMessage({ subject: "cache" });
    for (let i = 0; i < 3; i++) await t.store.append(inbox.id, Array.from({ length: 1000 }, () => ({ raw })));
    const fresh = async () => (await t.store.changesSince(inbox.id, 0)).changed; // uncached read
    expect(await t.store.listMessages(inbox.id)).toEqual(await fresh());

    let seed = 42;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const uids = (await other.listMessages(inbox.id)).map((m) => m.uid);
      const pick = () => Array.from({ length: 1 + rnd(20) }, () => uids[rnd(uids.length)]);
      const s = round % 2 ? other : t.store; // changes from both instances
      switch (rnd(6)) {
        case 0:
          await s.storeFlags(inbox.id, pick(), "add", ["\\Seen", `kw${rnd(3)}`]);
          break;
        case 1:
          await s.storeFlags(inbox.id, pick(), "remove", ["\\Seen"]);
          break;
        case 2:
          await s.expunge(inbox.id, pick());
          break;
        case 3:
          await s.append(inbox.id, Array.from({ length: 1 + rnd(5) }, () => ({ raw })));
          break;
        case 4:
          await s.move(inbox.id, pick(), archive.id);
          break;
        case 5: {
          const a = (await s.listMessages(archive.id)).map((m) => m.uid);
          if (a.length) await s.copy(archive.id, a.slice(0, 3), inbox.id);
          break;
        }
      }
      expect(await t.store.listMessages(inbox.id)).toEqual(await fresh());
    }
    expect((await t.store.listMessages(inbox.id)).length).toBe((await t.store.folderStatus(inbox.id)).messages);
  } finally {
    await other.close();
    await t.cleanup();
  }
}, 120_000);
});
}
