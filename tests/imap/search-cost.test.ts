/**
 * Issue 13 item 5: SEARCH with short BODY/TEXT terms. Terms of one or two
 * characters cannot use the trigram index, so each one used to rescan every
 * body of the folder. Now: a cap on text terms per SEARCH (NO [LIMIT],
 * RFC 5530), one pass over the candidate messages for all short terms
 * together (each body read at most once), only over messages the cheap
 * criteria have not excluded, and a scan budget per command.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import type { SqlMailStore } from "../../storage/store.ts";
import { StoreError } from "../../storage/api.ts";
import { RawImap } from "./client.ts";
import { searchLimits } from "../../protocols/imap/search.ts";
import "../../protocols/imap/index.ts";

let srv: TestServer;
let port = 0;
const USER = "sam@search.test";
const PASS = "sam-secret";
let inboxId = 0;
let accountId = 0;

const enc = new TextEncoder();
const N = 40;
/** Message i's body: a few marker pairs picked deterministically, so each short term hits a known subset. */
const PAIRS = ["qz", "xj", "vk", "wq", "jx"];
function bodyOf(i: number): string {
  const words: string[] = ["lorem", "ipsum"];
  for (let k = 0; k < PAIRS.length; k++) if ((i * (k + 3)) % (k + 2) === 0) words.push(`a${PAIRS[k]}b`);
  return words.join(" ") + "\r\n";
}
function raw(i: number): Uint8Array {
  return enc.encode(
    `From: Bob <bob@example.org>\r\nTo: Sam <sam@search.test>\r\nSubject: message ${i}\r\nDate: Mon, 1 Jan 2024 10:00:00 +0000\r\nMessage-ID: <m${i}@example.org>\r\n\r\n${bodyOf(i)}`,
  );
}

async function login(): Promise<RawImap> {
  const { c } = await RawImap.connect(port);
  expect((await c.cmd(`LOGIN ${USER} ${PASS}`)).status).toBe("OK");
  return c;
}

/** Counts whole-blob reads per blob id while `f` runs (the only way text scans read bodies). */
async function countBlobReads<T>(f: () => Promise<T>): Promise<{ result: T; reads: Map<string, number> }> {
  const blobs = (srv.store as SqlMailStore).blobs;
  const orig = blobs.get.bind(blobs);
  const reads = new Map<string, number>();
  blobs.get = (id: string) => {
    reads.set(id, (reads.get(id) ?? 0) + 1);
    return orig(id);
  };
  try {
    return { result: await f(), reads };
  } finally {
    blobs.get = orig;
  }
}

function runPython(code: string): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn("python3", ["-c", code]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", () => resolve({ stdout, stderr }));
  });
}

function searchNums(untagged: string[]): number[] {
  const l = untagged.find((x) => x.startsWith("* SEARCH"));
  if (!l) return [];
  return l
    .slice(8)
    .trim()
    .split(" ")
    .filter(Boolean)
    .map(Number);
}

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"], config: { limits: { authFailuresPerIp: 1000 } } });
  port = srv.port("IMAP");
  const acct = await createUser(srv.store, USER, PASS);
  accountId = acct.id;
  const inbox = await srv.store.getFolder(acct.id, "INBOX");
  inboxId = inbox!.id;
  for (let i = 1; i <= N; i++) await srv.store.append(inboxId, [{ raw: raw(i), flags: i % 8 === 0 ? ["\\Flagged"] : [] }]);
});

afterAll(async () => {
  await srv?.close();
});

describe("SEARCH with short words (issue 13 item 5)", () => {
  test("1,000 two-character BODY terms get NO [LIMIT] (python imaplib)", async () => {
    const terms = [];
    for (let i = 0; i < 1000; i++) terms.push(`BODY ${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26) % 26)}`);
    const py = `
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", ${port})
m.login(${JSON.stringify(USER)}, ${JSON.stringify(PASS)})
m.select("INBOX")
try:
    typ, data = m.search(None, ${JSON.stringify(terms.join(" "))})
    print("RESULT", typ, data)
except imaplib.IMAP4.error as e:
    print("ERROR", e)
m.logout()
`;
    // async: the server runs in this process
    const r = await runPython(py);
    expect(r.stderr).toBe("");
    // imaplib returns a NO to SEARCH as its result type
    expect(r.stdout).toMatch(/^RESULT NO \[b'\[LIMIT\]/m);
  }, 60_000);

  test("several short terms: exactly the brute-force UIDs, each body read at most once", async () => {
    const c = await login();
    await c.cmd("SELECT INBOX");
    const has = (i: number, p: string) => bodyOf(i).toLowerCase().includes(p);
    const cases: [string, (i: number) => boolean][] = [
      ["BODY qz BODY xj", (i) => has(i, "qz") && has(i, "xj")],
      ["OR BODY vk TEXT wq", (i) => has(i, "vk") || has(i, "wq")],
      ["NOT BODY jx BODY QZ", (i) => !has(i, "jx") && has(i, "qz")],
      ["OR (BODY xj BODY vk) (NOT TEXT jx)", (i) => (has(i, "xj") && has(i, "vk")) || !has(i, "jx")],
      ["BODY ipsum BODY wq", (i) => has(i, "wq")],
    ];
    for (const [q, want] of cases) {
      const { result, reads } = await countBlobReads(() => c.cmd(`UID SEARCH ${q}`));
      expect(result.status).toBe("OK");
      const expected = [];
      for (let i = 1; i <= N; i++) if (want(i)) expected.push(i);
      expect({ q, uids: searchNums(result.untagged) }).toEqual({ q, uids: expected });
      // one pass for all short terms: no body is read twice in one SEARCH
      for (const [id, n] of reads) expect({ q, id, n }).toEqual({ q, id, n: 1 });
      expect(reads.size).toBeLessThanOrEqual(N);
    }
    c.close();
  });

  test("short terms scan only messages the cheap criteria left in", async () => {
    const c = await login();
    await c.cmd("SELECT INBOX");
    const flagged = [];
    for (let i = 8; i <= N; i += 8) flagged.push(i);
    const { result, reads } = await countBlobReads(() => c.cmd("UID SEARCH FLAGGED BODY qz BODY xj"));
    expect(result.status).toBe("OK");
    const expected = flagged.filter((i) => bodyOf(i).includes("qz") && bodyOf(i).includes("xj"));
    expect(searchNums(result.untagged)).toEqual(expected);
    expect(reads.size).toBeLessThanOrEqual(flagged.length);
    // a UID range narrows it the same way
    const r2 = await countBlobReads(() => c.cmd("UID SEARCH UID 1:3 BODY qz"));
    expect(searchNums(r2.result.untagged)).toEqual([1, 2, 3].filter((i) => bodyOf(i).includes("qz")));
    expect(r2.reads.size).toBeLessThanOrEqual(3);
    c.close();
  });

  test("more text terms than the cap get NO [LIMIT]; the cap itself is fine", async () => {
    const c = await login();
    await c.cmd("SELECT INBOX");
    const at = (n: number) => Array.from({ length: n }, (_, i) => `BODY z${String.fromCharCode(97 + (i % 26))}`).join(" ");
    const okR = await c.cmd(`SEARCH ${at(64)}`);
    expect(okR.status).toBe("OK");
    const over = await c.cmd(`SEARCH ${at(65)}`);
    expect(over.status).toBe("NO");
    expect(over.text).toMatch(/^\[LIMIT\]/);
    c.close();
  });

  test("a SEARCH whose short-term scan passes the budget ends with NO [LIMIT]; cheap criteria keep it under", async () => {
    // the limits are lowered for the test (in production: 256 MiB read, 4 GiB compared)
    const saved = { ...searchLimits };
    searchLimits.maxReadBytes = 2_000_000;
    searchLimits.maxCompareBytes = 10_000_000;
    try {
      const bigFolder = await srv.store.createFolder(accountId, "Big");
      const line = "the quick brown fox jumps over the lazy dog again and again and again\r\n";
      const body = line.repeat(Math.ceil(100_000 / line.length));
      for (let i = 1; i <= 30; i++) {
        await srv.store.append(bigFolder.id, [
          { raw: enc.encode(`From: bob@example.org\r\nTo: sam@search.test\r\nSubject: big ${i}\r\nMessage-ID: <big${i}@example.org>\r\n\r\n${body}`), flags: i <= 3 ? ["\\Flagged"] : [] },
        ]);
      }
      const c = await login();
      await c.cmd("SELECT Big");
      // reading: 30 x 100 KB is past 2 MB
      const r = await c.cmd("SEARCH BODY zz");
      expect(r.status).toBe("NO");
      expect(r.text).toMatch(/^\[LIMIT\] Search too expensive/);
      expect(r.untagged.some((l) => l.startsWith("* SEARCH"))).toBe(false);
      // the same term over the three flagged messages only stays under it
      const r2 = await c.cmd("SEARCH FLAGGED BODY fo");
      expect(r2.status).toBe("OK");
      expect(r2.untagged).toContain("* SEARCH 1 2 3");
      // comparing: 64 terms over the flagged 300 KB (19 MB) is past 10 MB; two are not
      const terms = Array.from({ length: 64 }, (_, i) => `BODY ${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(48 + Math.floor(i / 26))}`).join(" ");
      const r3 = await c.cmd(`SEARCH FLAGGED ${terms}`);
      expect(r3.status).toBe("NO");
      expect(r3.text).toMatch(/^\[LIMIT\] Search too expensive/);
      const r4 = await c.cmd("SEARCH FLAGGED BODY zz BODY ov");
      expect(r4.status).toBe("OK");
      expect(r4.untagged).toContain("* SEARCH");
      c.close();
    } finally {
      Object.assign(searchLimits, saved);
    }
  });

  test("the store's scan budget ends a search that reads too much (StoreError LIMIT)", async () => {
    const store = srv.store;
    const terms = [
      { field: "body" as const, query: "qz" },
      { field: "text" as const, query: "xj" },
    ];
    const all = await store.searchTextTerms(inboxId, terms);
    expect(all.length).toBe(2);
    let err: unknown = null;
    try {
      await store.searchTextTerms(inboxId, terms, { maxReadBytes: 2000 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe("LIMIT");
  });
});
