/**
 * FETCH of UID/FLAGS/MODSEQ only goes through the byte renderer and the
 * shared whole-view cache (protocols/imap/flag-lines.ts). Its answers must
 * be exactly the general path's (a FETCH that also asks for INTERNALDATE,
 * with that item taken out), in every state: after another session's STORE,
 * EXPUNGE (sequence numbers) and APPEND, with CONDSTORE MODSEQ and
 * CHANGEDSINCE, with \Recent, and on a mailbox large enough to be cached.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawImap, type Reply } from "./client.ts";
import { sharedFor } from "../../protocols/imap/state.ts";

const USER = "flo@flags.test";
const PASS = "flo-secret";
const MESSAGES = 3000;
let srv: TestServer;
let port = 0;

async function login(): Promise<RawImap> {
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  return c;
}

/** The untagged FETCH lines of a reply. */
function fetchLines(r: Reply): string[] {
  expect(r.status).toBe("OK");
  return r.untagged.filter((l) => /^\* \d+ FETCH /.test(l));
}

/** The same FETCH through the general path: INTERNALDATE added to the items, then taken out of each line. */
async function slowPath(c: RawImap, cmd: string): Promise<string[]> {
  const slow = cmd.replace(/\(([^()]*)\)(\s*\(CHANGEDSINCE \d+\))?$/, (_all, items: string, mod: string | undefined) => `(${items} INTERNALDATE)${mod ?? ""}`);
  expect(slow).not.toBe(cmd);
  return fetchLines(await c.cmd(slow, 30_000)).map((l) => l.replace(/ INTERNALDATE "[^"]*"/, ""));
}

/** Runs `cmd` (byte path) and its general-path twin, expects the same lines, returns them. */
async function same(c: RawImap, cmd: string): Promise<string[]> {
  const fast = fetchLines(await c.cmd(cmd, 30_000));
  const slow = await slowPath(c, cmd);
  expect(fast.length).toBe(slow.length);
  expect(fast).toEqual(slow);
  return fast;
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"], config: { limits: { authFailuresPerIp: 1000 } } });
  port = srv.port("IMAP");
  const acct = await createUser(srv.store, USER, PASS);
  const f = await srv.store.getFolder(acct.id, "INBOX");
  const enc = new TextEncoder();
  for (let i = 0; i < MESSAGES; i += 500) {
    const batch = [];
    for (let j = i; j < i + 500; j++) {
      const flags = [...(j % 3 === 0 ? ["\\Seen"] : []), ...(j % 7 === 0 ? ["\\Flagged"] : []), ...(j % 11 === 0 ? ["$Label1"] : [])];
      batch.push({ raw: enc.encode(`From: a@flags.test\r\nSubject: m${j}\r\nMessage-ID: <m${j}@flags.test>\r\n\r\nbody ${j}\r\n`), flags });
    }
    await srv.store.append(f!.id, batch);
  }
}, 120_000);

afterAll(async () => {
  await srv?.close();
});

describe("FETCH UID/FLAGS byte path", () => {
  test("a large mailbox: same bytes as the general path, with \\Recent, then from the cache", async () => {
    const a = await login();
    expect((await a.cmd("SELECT INBOX")).status).toBe("OK");
    // first SELECT of the folder: every message is \Recent for this session (IMAP4rev1)
    const first = await same(a, "UID FETCH 1:* (UID FLAGS)");
    expect(first.length).toBe(MESSAGES);
    expect(first[0]).toBe("* 1 FETCH (UID 1 FLAGS (\\Recent \\Seen \\Flagged $Label1))");
    expect(first[1]).toBe("* 2 FETCH (UID 2 FLAGS (\\Recent))");
    const b = await login();
    expect((await b.cmd("SELECT INBOX")).status).toBe("OK");
    const shared = sharedFor(srv.store, srv.ctx.log).rendered;
    shared.clear();
    const lines = await same(b, "UID FETCH 1:* (UID FLAGS)");
    expect(lines[1]).toBe("* 2 FETCH (UID 2 FLAGS ())");
    expect(shared.size).toBeGreaterThan(0);
    // served from the cache: still the same
    expect(fetchLines(await b.cmd("UID FETCH 1:* (UID FLAGS)"))).toEqual(lines);
    await same(b, "FETCH 1:* (FLAGS)");
    await same(b, "FETCH 1:* (FLAGS UID)");
    await same(b, "FETCH 2,5:9,2990:* (UID FLAGS)");
    await same(b, "UID FETCH 100:200,7 (FLAGS)");
    expect((await b.cmd("FETCH 1:3001 (FLAGS)")).status).toBe("BAD");
    await a.cmd("LOGOUT");
    await b.cmd("LOGOUT");
  }, 60_000);

  test("after another session's STORE, EXPUNGE and APPEND the lines follow (flags, sequence numbers)", async () => {
    const a = await login();
    const b = await login();
    expect((await a.cmd("SELECT INBOX")).status).toBe("OK");
    expect((await b.cmd("SELECT INBOX")).status).toBe("OK");
    const before = await same(a, "UID FETCH 1:* (UID FLAGS)");
    await same(a, "UID FETCH 1:* (UID FLAGS)"); // cached now

    // STORE by b: a's next FETCH shows the new flags, and no separate FETCH FLAGS follows for them
    expect((await b.cmd("STORE 2,4 +FLAGS (\\Answered NewKw)")).status).toBe("OK");
    const r = await a.cmd("UID FETCH 1:* (UID FLAGS)");
    const afterStore = fetchLines(r);
    expect(afterStore.length).toBe(before.length);
    expect(r.untagged.some((l) => l.startsWith("* FLAGS ") && l.includes("NewKw"))).toBe(true);
    expect(r.untagged.indexOf(r.untagged.find((l) => l.startsWith("* FLAGS "))!)).toBeLessThan(r.untagged.indexOf(afterStore[0]));
    expect(afterStore[1]).toBe("* 2 FETCH (UID 2 FLAGS (\\Answered NewKw))");
    expect(afterStore.filter((l) => /^\* 2 FETCH/.test(l)).length).toBe(1);
    expect(await slowPath(a, "UID FETCH 1:* (UID FLAGS)")).toEqual(afterStore);

    // EXPUNGE by b: a's FETCH by sequence number keeps the old numbering (no EXPUNGE during it) and says some are gone
    expect((await b.cmd("STORE 1,3 +FLAGS.SILENT (\\Deleted)")).status).toBe("OK");
    expect((await b.cmd("EXPUNGE")).status).toBe("OK");
    const seq = await a.cmd("FETCH 1:* (FLAGS)");
    expect(seq.status).toBe("NO");
    expect(seq.text).toContain("[EXPUNGEISSUED]");
    expect(seq.untagged.some((l) => / EXPUNGE$/.test(l))).toBe(false);
    const seqLines = seq.untagged.filter((l) => / FETCH /.test(l));
    expect(seqLines.length).toBe(before.length - 2);
    expect(seqLines[0]).toBe("* 2 FETCH (FLAGS (\\Answered NewKw))");
    const seqSlow = await a.cmd("FETCH 1:* (FLAGS INTERNALDATE)");
    expect(seqSlow.untagged.filter((l) => / FETCH /.test(l)).map((l) => l.replace(/ INTERNALDATE "[^"]*"/, ""))).toEqual(seqLines);
    // the UID FETCH announces the EXPUNGEs after its lines; the next one is numbered afresh
    const u = await a.cmd("UID FETCH 1:* (UID FLAGS)");
    expect(u.untagged.filter((l) => / EXPUNGE$/.test(l))).toEqual(["* 3 EXPUNGE", "* 1 EXPUNGE"]);
    const renumbered = await same(a, "UID FETCH 1:* (UID FLAGS)");
    expect(renumbered.length).toBe(before.length - 2);
    expect(renumbered[0]).toBe("* 1 FETCH (UID 2 FLAGS (\\Answered NewKw))");
    expect(renumbered[1]).toBe("* 2 FETCH (UID 4 FLAGS (\\Seen \\Answered NewKw))");

    // APPEND by b: after EXISTS, a's FETCH has the new message last
    const msg = "From: b@flags.test\r\nSubject: new\r\n\r\nhello\r\n";
    expect((await b.cmd(`APPEND INBOX (\\Draft) {${msg.length}+}\r\n${msg}`)).status).toBe("OK");
    const noop = await a.cmd("NOOP");
    expect(noop.untagged).toContain(`* ${renumbered.length + 1} EXISTS`);
    const appended = await same(a, "UID FETCH 1:* (UID FLAGS)");
    expect(appended.length).toBe(renumbered.length + 1);
    expect(appended[appended.length - 1]).toMatch(new RegExp(`^\\* ${renumbered.length + 1} FETCH \\(UID ${MESSAGES + 1} FLAGS \\((\\\\Recent )?\\\\Draft\\)\\)$`));
    await a.cmd("LOGOUT");
    await b.cmd("LOGOUT");
  }, 60_000);

  test("CONDSTORE: MODSEQ items and CHANGEDSINCE, after a change", async () => {
    const a = await login();
    const b = await login();
    expect((await a.cmd("SELECT INBOX (CONDSTORE)")).status).toBe("OK");
    expect((await b.cmd("SELECT INBOX")).status).toBe("OK");
    const withModseq = await same(a, "UID FETCH 1:* (UID FLAGS MODSEQ)");
    expect(withModseq[0]).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \([^)]*\) MODSEQ \(\d+\)\)$/);
    await same(a, "UID FETCH 1:* (MODSEQ FLAGS)");
    await same(a, "FETCH 1:* (FLAGS)");
    const hm = Math.max(...withModseq.map((l) => Number(/MODSEQ \((\d+)\)/.exec(l)![1])));
    expect((await b.cmd("UID STORE 10,20 +FLAGS (\\Flagged)")).status).toBe("OK");
    const changed = await same(a, `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${hm})`);
    expect(changed.map((l) => /UID (\d+)/.exec(l)![1])).toEqual(["10", "20"]);
    expect(changed[0]).toMatch(/^\* \d+ FETCH \(UID 10 FLAGS \([^)]*\\Flagged[^)]*\) MODSEQ \(\d+\)\)$/);
    const all = await same(a, "UID FETCH 1:* (UID FLAGS MODSEQ)");
    expect(all.length).toBe(withModseq.length);
    expect(all).not.toEqual(withModseq);
    await a.cmd("LOGOUT");
    await b.cmd("LOGOUT");
  }, 60_000);
});
