/**
 * Found item 5: blobs deleted from a data dir (50 of 60 here, as in the
 * report). `check --blobs` finds them (count and the first ids, with the
 * messages they belong to) and fails, where plain `check` passed; IMAP FETCH
 * 1:* still returns every other message, with an untagged NO per missing one
 * and a tagged NO [SERVERBUG] (RFC 9051 §6.4.5, §7.1); POP3 RETR of a
 * missing one is an -ERR in words and the session goes on. A damaged blob
 * (hash mismatch) is found too. And the collector leaves blobs alone while a
 * backup holds it.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { holdBlobCollection } from "../../storage/backup.ts";
import { RawImap } from "../imap/client.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { blobFiles, cli, sha256, STACK } from "./helpers.ts";

setDefaultTimeout(60_000);

const BOB = "bob@example.test";
const PASS = "missing-blobs-password-1";
const TOTAL = 60;
const GONE = 50;
let srv: TestServer;
/** UID -> blob id, and the UIDs whose blob was deleted. */
const blobOf = new Map<number, string>();
const goneUids: number[] = [];

const message = (n: number) =>
  new TextEncoder().encode(`From: a@remote.test\r\nTo: ${BOB}\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@remote.test>\r\n\r\nbody of message ${n}\r\n`);

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP", "POP3"] });
  const acct = await createUser(srv.store, BOB, PASS);
  for (let n = 1; n <= TOTAL; n++) {
    const raw = message(n);
    const [r] = await srv.store.deliver(raw, [{ accountId: acct.id }]);
    blobOf.set(r!.uid, sha256(raw));
  }
  // delete the blobs of 50 messages, keeping messages 1, 7, 13, ... readable
  for (let uid = 1; uid <= TOTAL && goneUids.length < GONE; uid++) {
    if (uid % 6 === 1) continue;
    goneUids.push(uid);
  }
  for (const uid of goneUids) {
    const id = blobOf.get(uid)!;
    rmSync(join(srv.dataDir, "blobs", id.slice(0, 2), id.slice(2, 4), id));
  }
});

afterAll(async () => {
  await srv?.close();
});

describe("check --blobs", () => {
  test("plain check does not read blobs; check --blobs finds the 50 missing ones and fails", async () => {
    const plain = await cli(["check"], srv.dataDir);
    expect(plain.stdout).toContain("database integrity_check: ok");
    expect(plain.stdout).not.toContain("blobs:");
    const r = await cli(["check", "--blobs"], srv.dataDir);
    expect(r.stdout + r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`FAIL  blobs: ${GONE} of ${TOTAL} referenced blobs are missing: `);
    // the first ids, with the message each belongs to; the rest counted
    const first = [...goneUids].map((u) => blobOf.get(u)!).sort()[0]!;
    const owner = [...blobOf.entries()].find(([, id]) => id === first)![0];
    expect(r.stdout).toContain(`${first} (${BOB} INBOX UID ${owner})`);
    expect(r.stdout).toContain(`and ${GONE - 10} more`);
    expect(r.stdout).not.toContain("all checks passed");
  });

  test("a damaged blob (content no longer matches its hash) is found too", async () => {
    const keptUid = 1;
    const id = blobOf.get(keptUid)!;
    const path = join(srv.dataDir, "blobs", id.slice(0, 2), id.slice(2, 4), id);
    const good = readFileSync(path);
    const bad = Buffer.from(good);
    bad[0] = bad[0]! ^ 0x20;
    writeFileSync(path, bad);
    try {
      const r = await cli(["check", "--blobs"], srv.dataDir);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain(`FAIL  blobs: 1 of ${TOTAL} blobs are damaged (content does not match its sha256): ${id} (${BOB} INBOX UID ${keptUid})`);
    } finally {
      writeFileSync(path, good);
    }
  });
});

describe("reading a folder with missing blobs", () => {
  test("IMAP FETCH 1:* returns the other messages, an untagged NO for missing ones and a tagged NO [SERVERBUG]", async () => {
    const { c } = await RawImap.connect(srv.port("IMAP"));
    try {
      expect((await c.cmd(`LOGIN ${BOB} ${PASS}`)).status).toBe("OK");
      expect((await c.cmd("SELECT INBOX")).status).toBe("OK");
      const r = await c.cmd("FETCH 1:* (UID BODY.PEEK[])");
      const fetched = r.untagged.filter((l) => / FETCH \(/.test(l));
      const nos = r.untagged.filter((l) => l.startsWith("* NO [SERVERBUG] Message "));
      expect(fetched.length).toBe(TOTAL - GONE);
      for (const l of fetched) {
        const uid = Number(/UID (\d+)/.exec(l)![1]);
        expect(goneUids).not.toContain(uid);
        expect(l).toContain(`body of message ${uid}`);
      }
      // one untagged NO per missing message, up to 20; the tagged NO gives the total
      expect(nos.length).toBe(20);
      expect(nos[0]).toBe(`* NO [SERVERBUG] Message ${goneUids[0]} (UID ${goneUids[0]}) cannot be read: its stored content is missing`);
      expect(r.status).toBe("NO");
      expect(r.text).toBe(`[SERVERBUG] ${GONE} message(s) could not be read (stored content missing); the others were fetched.`);

      // one missing message alone, and the metadata of all of them still works
      const one = await c.cmd(`UID FETCH ${goneUids[0]} (BODY.PEEK[])`);
      expect(one.status).toBe("NO");
      expect(one.untagged.filter((l) => l.startsWith("* NO [SERVERBUG]")).length).toBe(1);
      const meta = await c.cmd("FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)");
      expect(meta.status).toBe("OK");
      expect(meta.untagged.filter((l) => / FETCH \(/.test(l)).length).toBe(TOTAL);
      expect((await c.cmd("NOOP")).status).toBe("OK");
    } finally {
      c.close();
    }
  });

  test("a blob that vanishes in the middle of a streamed FETCH response ends the connection instead of a corrupt reply", async () => {
    const acct = (await srv.store.getAccount(BOB))!;
    await srv.store.createFolder(acct.id, "Big");
    const line = "x".repeat(998) + "\r\n";
    const big = new TextEncoder().encode(`From: a@remote.test\r\nSubject: big\r\n\r\n${line.repeat(3000)}`);
    await srv.store.deliver(big, [{ accountId: acct.id, folder: "Big" }]);
    const blobs = srv.store.blobs as { getRange(id: string, a: number, b: number): Promise<Uint8Array> };
    const real = blobs.getRange;
    let reads = 0;
    blobs.getRange = async function (id: string, a: number, b: number) {
      // the first chunk is read, then the file is "gone"
      if (++reads > 1) throw Object.assign(new Error(`blob not found: ${id}`), { name: "BlobNotFoundError" });
      return real.call(this, id, a, b);
    };
    const { c } = await RawImap.connect(srv.port("IMAP"));
    try {
      expect((await c.cmd(`LOGIN ${BOB} ${PASS}`)).status).toBe("OK");
      expect((await c.cmd("SELECT Big")).status).toBe("OK");
      const tag = c.nextTag();
      c.write(`${tag} FETCH 1 (BODY.PEEK[])\r\n`);
      await expect(c.until(tag, 10_000)).rejects.toThrow("connection closed");
      expect(reads).toBeGreaterThan(1);
      expect(c.closed).toBe(true);
    } finally {
      blobs.getRange = real;
      c.close();
    }
    // the server goes on serving others
    const { c: d } = await RawImap.connect(srv.port("IMAP"));
    expect((await d.cmd(`LOGIN ${BOB} ${PASS}`)).status).toBe("OK");
    d.close();
  });

  test("POP3 RETR of a missing message is an -ERR in words and the session goes on", async () => {
    const s = net.connect(srv.port("POP3"), "127.0.0.1");
    let buf = "";
    const waiters: (() => void)[] = [];
    s.on("data", (d: Buffer) => {
      buf += d.toString("latin1");
      for (const w of waiters.splice(0)) w();
    });
    const until = async (re: RegExp) => {
      for (;;) {
        const m = re.exec(buf);
        if (m) {
          buf = buf.slice(m.index + m[0].length);
          return m[0];
        }
        await new Promise<void>((r) => waiters.push(r));
      }
    };
    const say = async (l: string, re: RegExp = /^[+-][^\r\n]*\r\n/m) => {
      s.write(l + "\r\n");
      return until(re);
    };
    try {
      await until(/^\+OK[^\r\n]*\r\n/);
      expect(await say(`USER ${BOB}`)).toStartWith("+OK");
      expect(await say(`PASS ${PASS}`)).toStartWith("+OK");
      const missing = goneUids[0]!; // POP3 message numbers follow UIDs here (nothing expunged)
      expect((await say(`RETR ${missing}`)).trim()).toBe("-ERR [SYS/PERM] Message content is missing on the server (damaged store); other messages are available");
      const ok = await say("RETR 1", /^\+OK[^\r\n]*\r\n[\s\S]*?\r\n\.\r\n/m);
      expect(ok).toContain("body of message 1");
      expect(await say("NOOP")).toStartWith("+OK");
      expect(await say("QUIT")).toStartWith("+OK");
    } finally {
      s.destroy();
    }
  });
});

describe("the garbage collector and a backup's hold", () => {
  test("an old unreferenced blob is kept while a backup holds collection, collected after", async () => {
    const orphan = await srv.store.blobs.put(new TextEncoder().encode("an orphan blob nothing references\r\n"));
    const path = join(srv.dataDir, "blobs", orphan.slice(0, 2), orphan.slice(2, 4), orphan);
    const old = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(path, old, old);
    const before = blobFiles(srv.dataDir).length;
    const hold = await holdBlobCollection(srv.dataDir);
    try {
      expect(await srv.store.collectGarbage({ graceMs: 60_000 })).toBe(0);
      expect(blobFiles(srv.dataDir).length).toBe(before);
    } finally {
      await hold.release();
    }
    expect(await srv.store.collectGarbage({ graceMs: 60_000 })).toBe(1);
    expect(blobFiles(srv.dataDir).length).toBe(before - 1);
  });
});
