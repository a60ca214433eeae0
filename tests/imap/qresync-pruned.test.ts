/**
 * QRESYNC after the change feed was pruned (storage/changes.ts): a client
 * whose modseq is below the account's floor cannot be told exactly which
 * UIDs went, so SELECT (QRESYNC ...) and UID FETCH (VANISHED) report every
 * UID below UIDNEXT the server does not hold (RFC 7162 §3.2.5: the client
 * forgets those it has and ignores the rest); a client at or above the floor
 * still gets the exact list from the expunge log.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { RawImap } from "./client.ts";
import "../../protocols/imap/index.ts";

let srv: TestServer;
let port = 0;
const USER = "quinn@imap.test";
const PASS = "quinn-secret";
let accountId = 0;

const enc = new TextEncoder();
const msg = (subject: string) =>
  enc.encode(`From: Bob <bob@example.org>\r\nTo: Quinn <quinn@imap.test>\r\nSubject: ${subject}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\n\r\nhello\r\n`);

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"] });
  port = srv.port("IMAP");
  accountId = (await createUser(srv.store, USER, PASS)).id;
});
afterAll(async () => {
  await srv?.close();
});

async function login(): Promise<RawImap> {
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  expect((await c.cmd("ENABLE QRESYNC")).untagged).toEqual(["* ENABLED QRESYNC"]);
  return c;
}

async function expungeUid(folderId: number, uid: number): Promise<void> {
  await srv.store.storeFlags(folderId, [uid], "add", ["\\Deleted"], { silent: true });
  await srv.store.expunge(folderId, [uid]);
}

test("a modseq below the pruning floor gets every UID not held; one above it gets the exact list", async () => {
  const f = await srv.store.createFolder(accountId, "Pruned");
  await srv.store.append(f.id, [1, 2, 3, 4, 5].map((i) => ({ raw: msg(`m${i}`) })));
  await expungeUid(f.id, 1); // before the client's modseq: an exact answer would not mention it
  const before = (await srv.store.getFolderById(f.id))!;
  const clientModseq = before.highestModseq;
  const uv = before.uidValidity;
  await expungeUid(f.id, 2); // after it: its log row is then pruned
  const pruned = await srv.store.pruneChanges({ olderThanMs: 0, now: Date.now() + 60_000 });
  expect(pruned.rows).toBeGreaterThan(0);
  const tooOld = await srv.store.accountChanges(accountId, clientModseq);
  expect(tooOld.status).toBe("tooOld");
  const floor = tooOld.floor;
  await expungeUid(f.id, 4); // after pruning: logged again

  const c = await login();
  // below the floor: 1, 2 and 4 are not held; all three are reported (the client drops what it has)
  const low = await c.cmd(`SELECT Pruned (QRESYNC (${uv} ${clientModseq} 1:5))`);
  expect(low.status).toBe("OK");
  expect(low.untagged).toContain("* VANISHED (EARLIER) 1:2,4");
  await c.cmd("UNSELECT");
  // at the floor: exact again, only what went after it
  const exact = await c.cmd(`SELECT Pruned (QRESYNC (${uv} ${floor} 1:5))`);
  expect(exact.untagged).toContain("* VANISHED (EARLIER) 4");
  expect(exact.untagged.some((x) => x.includes("VANISHED (EARLIER) 1") || x.includes("VANISHED (EARLIER) 2"))).toBe(false);
  // UID FETCH ... (CHANGEDSINCE n VANISHED) answers the same way (RFC 7162 §3.2.6)
  const fetchLow = await c.cmd(`UID FETCH 1:5 (FLAGS) (CHANGEDSINCE ${clientModseq} VANISHED)`);
  expect(fetchLow.untagged).toContain("* VANISHED (EARLIER) 1:2,4");
  const fetchExact = await c.cmd(`UID FETCH 1:5 (FLAGS) (CHANGEDSINCE ${floor} VANISHED)`);
  expect(fetchExact.untagged).toContain("* VANISHED (EARLIER) 4");
  c.close();
});
