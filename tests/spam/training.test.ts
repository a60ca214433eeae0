/**
 * src/spam/training.ts against a real store: copies and moves into Junk train
 * spam, out of Junk (not to Trash) train ham, deliveries and appends never
 * train, $Junk/$NotJunk and Thunderbird's Junk/NonJunk keywords train, the
 * queue is bounded (excess dropped, logged once), failures are logged and
 * never thrown, and stop() ends it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { SpamTrainer, flagVerdict, moveVerdict } from "../../src/spam/training.ts";
import type { Logger } from "../../src/log.ts";
import { makeMessage, setupAccount, tempStore, type TempStore } from "../storage/helpers.ts";
import type { Folder } from "../../storage/api.ts";

interface Call {
  accountId: number;
  subject: string;
  as: "spam" | "ham" | null;
}

function recordingLog(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const l = {
    lines,
    debug: (msg: string) => void lines.push({ level: "debug", msg }),
    info: (msg: string) => void lines.push({ level: "info", msg }),
    warn: (msg: string) => void lines.push({ level: "warn", msg }),
    error: (msg: string) => void lines.push({ level: "error", msg }),
    child: () => l,
  };
  return l as unknown as Logger & { lines: { level: string; msg: string }[] };
}

const subjectOf = (raw: Uint8Array) => /Subject: ([^\r\n]*)/.exec(new TextDecoder().decode(raw))?.[1] ?? "";

describe("trainer", () => {
  let t: TempStore;
  let accountId: number;
  let inbox: Folder;
  let junk: Folder;
  let trash: Folder;
  let archive: Folder;
  const calls: Call[] = [];
  let log: ReturnType<typeof recordingLog>;
  let trainer: SpamTrainer;
  let failNext = false;

  beforeAll(async () => {
    t = await tempStore();
    const a = await setupAccount(t.store, "train@example.com");
    accountId = a.account.id;
    inbox = a.inbox;
    junk = (await t.store.listFolders(accountId)).find((f) => f.specialUse === "\\Junk")!;
    trash = (await t.store.listFolders(accountId)).find((f) => f.specialUse === "\\Trash")!;
    archive = await t.store.createFolder(accountId, "Projects");
    log = recordingLog();
    trainer = new SpamTrainer({
      store: t.store,
      log,
      maxQueue: 5,
      spam: {
        async train(id, raw, as) {
          if (failNext) {
            failNext = false;
            throw new Error("training backend down");
          }
          calls.push({ accountId: id, subject: subjectOf(raw), as });
        },
      },
    }).start();
  });
  afterAll(async () => {
    await trainer.stop();
    await t.cleanup();
  });

  async function deliver(subject: string, folder: Folder = inbox): Promise<number> {
    const [r] = await t.store.append(folder.id, [{ raw: makeMessage({ subject }), flags: [] }]);
    return r.uid;
  }

  test("the verdict rules", () => {
    expect(moveVerdict(null, "\\Junk")).toBe("spam");
    expect(moveVerdict("\\Archive", "\\Junk")).toBe("spam");
    expect(moveVerdict("\\Junk", "\\Junk")).toBeNull();
    expect(moveVerdict("\\Junk", null)).toBe("ham");
    expect(moveVerdict("\\Junk", "\\Archive")).toBe("ham");
    expect(moveVerdict("\\Junk", "\\Trash")).toBeNull();
    expect(moveVerdict(null, "\\Trash")).toBeNull();
    expect(flagVerdict(["\\Seen", "$Junk"])).toBe("spam");
    expect(flagVerdict(["junk"])).toBe("spam");
    expect(flagVerdict(["$NotJunk"])).toBe("ham");
    expect(flagVerdict(["NonJunk", "\\Flagged"])).toBe("ham");
    expect(flagVerdict(["$Junk", "$NotJunk"])).toBeNull();
    expect(flagVerdict(["\\Seen", "$Junked"])).toBeNull();
  });

  test("appends never train; a move into Junk trains spam, out to a folder trains ham, to Trash does not", async () => {
    const uid = await deliver("move me");
    await trainer.idle();
    expect(calls).toEqual([]);
    const moved = await t.store.move(inbox.id, [uid], junk.id);
    await trainer.idle();
    expect(calls).toEqual([{ accountId, subject: "move me", as: "spam" }]);
    const junkUid = moved.mapping[0][1];
    const back = await t.store.move(junk.id, [junkUid], archive.id);
    await trainer.idle();
    expect(calls.at(-1)).toEqual({ accountId, subject: "move me", as: "ham" });
    const archUid = back.mapping[0][1];
    // into Junk again, then to Trash: spam once more, and nothing for the Trash
    const again = await t.store.move(archive.id, [archUid], junk.id);
    await trainer.idle();
    const jUid = again.mapping[0][1];
    const n = calls.length;
    await t.store.move(junk.id, [jUid], trash.id);
    await trainer.idle();
    expect(calls.length).toBe(n);
    expect(calls.at(-1)!.as).toBe("spam");
  });

  test("a copy into Junk trains (COPY + STORE \\Deleted + EXPUNGE, as clients without MOVE do)", async () => {
    calls.length = 0;
    const uid = await deliver("copy me");
    await t.store.copy(inbox.id, [uid], junk.id);
    await t.store.storeFlags(inbox.id, [uid], "add", ["\\Deleted"]);
    await t.store.expunge(inbox.id);
    await trainer.idle();
    expect(calls).toEqual([{ accountId, subject: "copy me", as: "spam" }]);
  });

  test("keywords: $Junk trains spam, $NotJunk ham, other flag changes on a junk-flagged message do not retrain", async () => {
    calls.length = 0;
    const uid = await deliver("flag me");
    await t.store.storeFlags(inbox.id, [uid], "add", ["$Junk"]);
    await trainer.idle();
    expect(calls).toEqual([{ accountId, subject: "flag me", as: "spam" }]);
    await t.store.storeFlags(inbox.id, [uid], "add", ["\\Seen"]);
    await trainer.idle();
    expect(calls.length).toBe(1);
    await t.store.storeFlags(inbox.id, [uid], "set", ["NonJunk"]);
    await trainer.idle();
    expect(calls.at(-1)).toEqual({ accountId, subject: "flag me", as: "ham" });
  });

  test("a stale $Junk on a message moved out of Junk does not retrain it when another flag changes", async () => {
    calls.length = 0;
    const uid = await deliver("stale keyword");
    await t.store.storeFlags(inbox.id, [uid], "add", ["$Junk"]);
    await trainer.idle();
    const inJunk = (await t.store.move(inbox.id, [uid], junk.id)).mapping[0][1];
    await trainer.idle();
    const back = (await t.store.move(junk.id, [inJunk], archive.id)).mapping[0][1];
    await trainer.idle();
    expect(calls.map((c) => c.as)).toEqual(["spam", "spam", "ham"]);
    await t.store.storeFlags(archive.id, [back], "add", ["\\Seen"]);
    await trainer.idle();
    expect(calls.map((c) => c.as)).toEqual(["spam", "spam", "ham"]);
    // taking the keyword off and putting it back on is a new verdict
    await t.store.storeFlags(archive.id, [back], "remove", ["$Junk"]);
    await t.store.storeFlags(archive.id, [back], "add", ["$Junk"]);
    await trainer.idle();
    expect(calls.at(-1)!.as).toBe("spam");
  });

  test("the queue is bounded: a large move trains at most maxQueue, the excess logged once", async () => {
    calls.length = 0;
    const uids: number[] = [];
    for (let i = 0; i < 12; i++) uids.push(await deliver(`bulk ${i}`));
    log.lines.length = 0;
    await t.store.move(inbox.id, uids, junk.id);
    await trainer.idle();
    expect(calls.length).toBeGreaterThanOrEqual(5);
    expect(calls.length).toBeLessThan(12);
    expect(calls.every((c) => c.as === "spam")).toBe(true);
    expect(log.lines.filter((l) => l.level === "warn" && l.msg.includes("queue full")).length).toBe(1);
    expect(trainer.stats.dropped).toBeGreaterThan(0);
  });

  test("a failing training is logged and the trainer goes on", async () => {
    calls.length = 0;
    const a = await deliver("fails");
    const b = await deliver("works");
    failNext = true;
    await t.store.move(inbox.id, [a], junk.id);
    await trainer.idle();
    await t.store.move(inbox.id, [b], junk.id);
    await trainer.idle();
    expect(calls).toEqual([{ accountId, subject: "works", as: "spam" }]);
    expect(trainer.stats.failed).toBeGreaterThan(0);
  });

  test("after stop() nothing trains", async () => {
    calls.length = 0;
    const uid = await deliver("after stop");
    await trainer.stop();
    await t.store.move(inbox.id, [uid], junk.id);
    await trainer.idle();
    expect(calls).toEqual([]);
  });
});
