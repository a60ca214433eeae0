/**
 * `pillarbox backup / restore / verify` end to end: a backup taken by the
 * CLI (its own process) while SMTP deliveries run against the server;
 * restored into a new data dir and served; every message acknowledged (250)
 * before the backup started is there byte for byte over python3 imaplib; the
 * second backup copies only the new blobs; verify names a deleted and a
 * corrupted blob; restore refuses a non-empty dir and an incomplete backup;
 * malformed manifests and truncated backups give words, not stack traces.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chownSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { blobFiles, cli, countBlobFiles, deliveryLoad, imapDigests, sendMail, sha256, STACK, testMessage } from "./helpers.ts";

setDefaultTimeout(120_000);

const ALICE = "alice@example.test";
const PASS = "backup-test-password-1";
const root = mkdtempSync(join(tmpdir(), "pb-backup-test-"));
const bk = join(root, "backup");
const servers: TestServer[] = [];
let srv: TestServer;

/** A file of the first server's data dir. */
const srvFile = (rel: string) => readFileSync(join(srv.dataDir, rel));

/** Manifest of the backup in `dir`. */
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP", "IMAP"] });
  servers.push(srv);
  await createUser(srv.store, ALICE, PASS);
});

afterAll(async () => {
  for (const s of servers) await s.close().catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

describe("backup while mail arrives, restore, serve", () => {
  let firstReferenced = 0;

  test("every message acknowledged before the backup started is in the restored copy, byte for byte over IMAP", async () => {
    // a secret of the data dir (the two-factor sealing key lives there): kept with its mode
    mkdirSync(join(srv.dataDir, "keys"), { recursive: true, mode: 0o700 });
    writeFileSync(join(srv.dataDir, "keys", "account-security.key"), "secret key bytes\n", { mode: 0o600 });
    mkdirSync(join(srv.dataDir, ".cache"), { recursive: true });
    writeFileSync(join(srv.dataDir, ".cache", "driver.node"), "a regenerated cache");
    const load = deliveryLoad(srv.port("SMTP"), ALICE, 4, "first");
    await load.waitAcked(40);
    const ackedBefore = [...load.acked];
    const r = await cli(["backup", bk], srv.dataDir);
    const ackedDuring = load.acked.length - ackedBefore.length;
    await load.stop();
    expect(r.stderr).not.toMatch(STACK);
    expect(r.code).toBe(0);
    expect(load.failures).toEqual([]);
    expect(r.stdout).toMatch(/^backup written to .*: 1 account\(s\), \d+ message\(s\)/);
    console.log(`backup: ${ackedBefore.length} acknowledged before it, ${ackedDuring} more during it; ${r.stdout.trim()}`);

    const m = manifestOf(bk);
    expect(m.format).toBe("pillarbox-backup");
    expect(m.blobs.missing + m.blobs.damaged).toBe(0);
    expect(m.counts.messages).toBeGreaterThanOrEqual(ackedBefore.length);
    expect(m.blobs.copied).toBe(m.blobs.referenced);
    expect(countBlobFiles(bk)).toBe(m.blobs.referenced);
    firstReferenced = m.blobs.referenced;
    // owner-only modes in the backup
    expect(statSync(bk).mode & 0o777).toBe(0o700);
    expect(statSync(join(bk, m.database.file)).mode & 0o777).toBe(0o600);
    for (const f of blobFiles(bk).slice(0, 5)) expect(statSync(f).mode & 0o777).toBe(0o600);

    const live = await imapDigests(srv.port("IMAP"), ALICE, PASS);
    const target = join(root, "restored");
    const rr = await cli(["restore", bk, "--data-dir", target]);
    expect(rr.stderr).not.toMatch(STACK);
    expect(rr.code).toBe(0);
    expect(rr.stdout).toContain(`into ${target}`);
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(statSync(join(target, "pillarbox.db")).mode & 0o777).toBe(0o600);
    expect(m.files.map((f: { path: string }) => f.path)).toContain("keys/account-security.key");
    expect(m.files.map((f: { path: string }) => f.path).filter((p: string) => p.startsWith(".cache"))).toEqual([]);
    expect(readFileSync(join(target, "keys", "account-security.key"), "utf8")).toBe("secret key bytes\n");
    expect(statSync(join(target, "keys", "account-security.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(target, "keys")).mode & 0o777).toBe(0o700);

    const srv2 = await startTestServer({ dataDir: target, listeners: ["IMAP"] });
    servers.push(srv2);
    const restored = await imapDigests(srv2.port("IMAP"), ALICE, PASS);
    await srv2.close();
    expect(restored.count).toBe(m.counts.messages);
    for (const id of ackedBefore) {
      expect(restored.messages[id]).toBeDefined();
      expect(restored.messages[id]).toBe(live.messages[id]!);
    }
    // and nothing in the copy differs from the live server
    for (const [id, digest] of Object.entries(restored.messages)) expect(live.messages[id]).toBe(digest);
  });

  test("the second backup copies only the blobs it does not have (incremental)", async () => {
    for (let i = 0; i < 5; i++) expect(await sendMail(srv.port("SMTP"), ALICE, testMessage(`second-${i}@load.test`, 1000 + i))).toBe(250);
    const before = countBlobFiles(bk);
    const oldDb = manifestOf(bk).database.file;
    const r = await cli(["backup", bk], srv.dataDir);
    expect(r.code).toBe(0);
    const m = manifestOf(bk);
    const after = countBlobFiles(bk);
    expect(m.blobs.copied).toBe(after - before);
    expect(m.blobs.copied).toBe(m.blobs.referenced - firstReferenced);
    expect(m.blobs.copied).toBeGreaterThanOrEqual(5);
    expect(m.blobs.alreadyPresent).toBe(firstReferenced);
    // bytes count every referenced blob, copied now or before
    expect(m.blobs.bytes).toBe(blobFiles(bk).reduce((sum, f) => sum + statSync(f).size, 0));
    expect(r.stdout).toContain(`${m.blobs.copied} copied, ${firstReferenced} already there`);
    // the older generation's database is gone, the new one is named by the manifest
    expect(existsSync(join(bk, oldDb))).toBe(false);
    expect(readdirSync(bk).filter((n) => n.endsWith(".sqlite"))).toEqual([m.database.file]);
  });

  test("--prune removes the blobs of mail deleted since, and only those", async () => {
    const acct = (await srv.store.getAccount(ALICE))!;
    const inbox = (await srv.store.getFolder(acct.id, "INBOX"))!;
    const uids = (await srv.store.listMessages(inbox.id)).slice(0, 3).map((m) => m.uid);
    await srv.store.expunge(inbox.id, uids);
    const before = countBlobFiles(bk);
    const plain = await cli(["backup", bk], srv.dataDir);
    expect(plain.code).toBe(0);
    expect(countBlobFiles(bk)).toBe(before); // without --prune nothing goes
    const r = await cli(["backup", bk, "--prune"], srv.dataDir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/pruned 3 blob\(s\) \(.+\) no longer referenced/);
    const m = manifestOf(bk);
    expect(countBlobFiles(bk)).toBe(m.blobs.referenced);
    expect(countBlobFiles(bk)).toBe(before - 3);
    const v = await cli(["verify", bk]);
    expect(v.code).toBe(0);
  });

  test("verify passes a sound backup and names a deleted and a corrupted blob", async () => {
    const ok = await cli(["verify", bk]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("backup verified");
    expect(ok.stdout).toMatch(/ok {4}blobs: all \d+ referenced blobs present and matching their sha256/);

    const bad = join(root, "damaged");
    cpSync(bk, bad, { recursive: true });
    const files = blobFiles(bad);
    const gone = files[3]!;
    const spoiled = files[7]!;
    rmSync(gone);
    const bytes = readFileSync(spoiled);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(spoiled, bytes);
    const goneId = gone.split("/").pop()!;
    const spoiledId = spoiled.split("/").pop()!;

    const v = await cli(["verify", bad]);
    expect(v.code).toBe(1);
    expect(v.stderr).not.toMatch(STACK);
    expect(v.stdout).toContain(`FAIL  1 referenced blob(s) missing: ${goneId}`);
    expect(v.stdout).toContain(`FAIL  1 blob(s) damaged (content does not match the hash that names it): ${spoiledId}`);
    expect(v.stdout).toContain("2 problem(s): this backup is not restorable as it is");

    // restore refuses it and leaves nothing behind
    const target = join(root, "from-damaged");
    const rr = await cli(["restore", bad, "--data-dir", target]);
    expect(rr.code).toBe(1);
    expect(rr.stderr).not.toMatch(STACK);
    expect(rr.stderr).toContain("the backup is incomplete, nothing was restored");
    expect(rr.stderr).toContain(goneId);
    expect(existsSync(target)).toBe(false);
    expect(readdirSync(root).filter((n) => n.includes("restoring"))).toEqual([]);
  });

  test("restore refuses a data dir that is not empty and leaves it as it was", async () => {
    const target = join(root, "busy");
    mkdirSync(target);
    writeFileSync(join(target, "keep.txt"), "mine");
    const r = await cli(["restore", bk, "--data-dir", target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${target} is not empty (keep.txt): restore only into an empty or new data dir`);
    expect(readdirSync(target)).toEqual(["keep.txt"]);
    // no --data-dir at all is a usage error
    const u = await cli(["restore", bk]);
    expect(u.code).toBe(2);
    expect(u.stderr).toContain("--data-dir NEW");
  });

  test("an empty existing data dir is restored into (a driver cache in it does not count)", async () => {
    const target = join(root, "empty-target");
    mkdirSync(join(target, ".cache"), { recursive: true, mode: 0o700 });
    const r = await cli(["restore", bk, "--data-dir", target]);
    expect(r.code).toBe(0);
    expect(countBlobFiles(target)).toBe(manifestOf(bk).blobs.referenced);
    const check = await cli(["check", "--blobs"], target);
    expect(check.stdout).toMatch(/ok {4}blobs: all \d+ referenced blobs present/);
  });
});

describe("many blobs in one directory", () => {
  test("blobs sharing their blobs/ab/cd directory are copied in parallel by backup and restore", async () => {
    // contents whose sha256 start alike: the parallel copy workers meet in one new directory at once
    const buckets = new Map<string, string[]>();
    let same: string[] = [];
    for (let i = 0; same.length < 12 && i < 2_000_000; i++) {
      const raw = `From: a@remote.test\r\nSubject: shared directory ${i}\r\n\r\nbody ${i}\r\n`;
      const key = sha256(raw).slice(0, 4);
      const b = buckets.get(key) ?? [];
      b.push(raw);
      buckets.set(key, b);
      if (b.length > same.length) same = b;
    }
    expect(same.length).toBe(12);
    const acct = (await srv.store.getAccount(ALICE))!;
    for (const raw of same) await srv.store.deliver(new TextEncoder().encode(raw), [{ accountId: acct.id }]);
    const dir = join(root, "shared-dirs");
    const b = await cli(["backup", dir], srv.dataDir);
    expect(b.code).toBe(0);
    const prefix = sha256(same[0]!).slice(0, 4);
    const inDir = readdirSync(join(dir, "blobs", prefix.slice(0, 2), prefix.slice(2, 4)));
    expect(inDir.filter((n) => n.startsWith(prefix)).length).toBeGreaterThanOrEqual(12);
    const target = join(root, "shared-dirs-restored");
    const r = await cli(["restore", dir, "--data-dir", target]);
    expect(r.stderr).not.toContain("missing");
    expect(r.code).toBe(0);
    expect(countBlobFiles(target)).toBe(manifestOf(dir).blobs.referenced);
  });
});

describe("files outside the data dir", () => {
  test("a --config file and a TLS certificate kept elsewhere are backed up and restored with where they came from", async () => {
    const etc = join(root, "etc");
    mkdirSync(etc);
    const cert = join(etc, "fullchain.pem");
    const key = join(etc, "privkey.pem");
    writeFileSync(cert, srvFile("tls/selfsigned-cert.pem"));
    writeFileSync(key, srvFile("tls/selfsigned-key.pem"));
    const toml = join(etc, "pillarbox.toml");
    writeFileSync(toml, `hostname = "mail.backup.test"\n[tls]\ncert_file = "${cert}"\nkey_file = "${key}"\n`);
    const dir = join(root, "with-config");
    const b = await cli(["backup", dir, "--config", toml], srv.dataDir);
    expect(b.stderr).not.toMatch(STACK);
    expect(b.code).toBe(0);
    const m = manifestOf(dir);
    expect(m.hostname).toBe("mail.backup.test");
    const paths = m.files.map((f: { path: string }) => f.path).sort();
    expect(paths).toContain("pillarbox.toml");
    expect(paths).toContain("external/fullchain.pem");
    expect(paths).toContain("external/privkey.pem");
    expect(paths).toContain("tls/selfsigned-key.pem");

    const target = join(root, "with-config-restored");
    const r = await cli(["restore", dir, "--data-dir", target]);
    expect(r.code).toBe(0);
    expect(readFileSync(join(target, "pillarbox.toml"), "utf8")).toBe(readFileSync(toml, "utf8"));
    expect(readFileSync(join(target, "external", "fullchain.pem"), "utf8")).toBe(readFileSync(cert, "utf8"));
    expect(r.stdout).toContain(`note: external/fullchain.pem was ${cert} (outside the data dir): put it back there or point the config at it`);
    expect(statSync(join(target, "external", "privkey.pem")).mode & 0o777).toBe(0o600);
  });
});

describe("file ownership as root (found item 8)", () => {
  const asRoot = process.getuid?.() === 0;
  test.skipIf(!asRoot)("restore into the service user's empty dir gives it every file; a backup of its data dir leaves no root-owned file there", async () => {
    const target = join(root, "svc-data");
    mkdirSync(target, { mode: 0o700 });
    chownSync(target, 990, 990);
    const r = await cli(["restore", bk, "--data-dir", target]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("belongs to root");
    const walk = (d: string): string[] => readdirSync(d).flatMap((n) => (statSync(join(d, n)).isDirectory() ? [join(d, n), ...walk(join(d, n))] : [join(d, n)]));
    const all = [target, ...walk(target)];
    expect(all.filter((p) => statSync(p).uid !== 990)).toEqual([]);
    for (const p of all) expect(statSync(p).mode & 0o077).toBe(0);

    // the server is not running on it: the snapshot's connection creates -wal/-shm, which must not stay root's
    const again = join(root, "svc-backup");
    const b = await cli(["backup", again], target);
    expect(b.code).toBe(0);
    expect([target, ...walk(target)].filter((p) => statSync(p).uid !== 990)).toEqual([]);

    // restored as root into a new dir: said to belong to root, with the chown to run
    const mine = join(root, "root-owned");
    const r2 = await cli(["restore", bk, "--data-dir", mine]);
    expect(r2.stdout).toContain(`note: ${mine} belongs to root; give it to the user the server runs as first, e.g. chown -R pillarbox: ${mine}`);
  });
});

describe("malformed and truncated backups give words", () => {
  const variant = (name: string, edit: (dir: string) => void): string => {
    const dir = join(root, `v-${name}`);
    cpSync(bk, dir, { recursive: true });
    edit(dir);
    return dir;
  };
  const expectWords = async (args: string[], code: number, text: string | RegExp) => {
    const r = await cli(args);
    const all = r.stdout + r.stderr;
    expect(all).not.toMatch(STACK);
    expect(r.code).toBe(code);
    if (typeof text === "string") expect(all).toContain(text);
    else expect(all).toMatch(text);
  };

  test("missing, non-JSON, foreign and unsafe manifests", async () => {
    const empty = join(root, "v-empty");
    mkdirSync(empty);
    await expectWords(["verify", empty], 1, "manifest.json is missing");
    await expectWords(["restore", empty, "--data-dir", join(root, "x1")], 1, "is not a Pillarbox backup, or its first backup did not finish");
    await expectWords(["verify", join(root, "does-not-exist")], 1, "does not exist");

    const notJson = variant("json", (d) => writeFileSync(join(d, "manifest.json"), '{"format": "pillarbox-backup", '));
    await expectWords(["verify", notJson], 1, "is not valid JSON (truncated or edited?)");
    await expectWords(["restore", notJson, "--data-dir", join(root, "x2")], 1, "is not valid JSON");

    const foreign = variant("foreign", (d) => writeFileSync(join(d, "manifest.json"), JSON.stringify({ format: "something-else" })));
    await expectWords(["verify", foreign], 1, '"format" is "something-else", not "pillarbox-backup"');

    const escape = variant("escape", (d) => {
      const m = manifestOf(d);
      m.files.push({ path: "../../etc/passwd", bytes: 1, sha256: "0".repeat(64) });
      writeFileSync(join(d, "manifest.json"), JSON.stringify(m));
    });
    await expectWords(["restore", escape, "--data-dir", join(root, "x3")], 1, "leaves the backup directory");
    expect(existsSync(join(root, "x3"))).toBe(false);

    const newer = variant("newer", (d) => writeFileSync(join(d, "manifest.json"), JSON.stringify({ ...manifestOf(d), formatVersion: 99 })));
    await expectWords(["verify", newer], 1, "format version 99 is newer than this Pillarbox reads");
  });

  test("a truncated or missing database file", async () => {
    const truncated = variant("trunc", (d) => truncateSync(join(d, manifestOf(d).database.file), 100));
    await expectWords(["verify", truncated], 1, /database db-.*\.sqlite: 100 bytes, .* but the manifest says/);
    await expectWords(["restore", truncated, "--data-dir", join(root, "x4")], 1, "does not match its manifest (changed or truncated)");
    expect(existsSync(join(root, "x4"))).toBe(false);

    const half = variant("half", (d) => truncateSync(join(d, manifestOf(d).database.file), 8192));
    await expectWords(["verify", half], 1, /FAIL {2}database/);

    const noDb = variant("nodb", (d) => rmSync(join(d, manifestOf(d).database.file)));
    await expectWords(["verify", noDb], 1, "it is missing");
    await expectWords(["restore", noDb, "--data-dir", join(root, "x5")], 1, "database db-");
  });

  test("backup refuses a foreign directory and one inside the data dir", async () => {
    const foreign = join(root, "photos");
    mkdirSync(foreign);
    writeFileSync(join(foreign, "holiday.jpg"), "not a backup");
    await expectWords(["backup", foreign, "--data-dir", srv.dataDir], 1, "holds files that are not a Pillarbox backup (holiday.jpg)");
    expect(readdirSync(foreign)).toEqual(["holiday.jpg"]);
    await expectWords(["backup", join(srv.dataDir, "bk"), "--data-dir", srv.dataDir], 1, "overlap: put the backup outside the data dir");
    // a PostgreSQL store that cannot be reached: words, and the password never shown
    const pg = await cli(["backup", join(root, "pg"), "--database-url", "postgres://u:secret@127.0.0.1:1/db", "--data-dir", srv.dataDir]);
    expect(pg.code).toBe(1);
    expect(pg.stderr).toContain("PostgreSQL snapshot of postgres://u:***@127.0.0.1:1/db failed");
    expect(pg.stdout + pg.stderr).not.toContain("secret");
    expect(pg.stderr).not.toMatch(STACK);
    expect(existsSync(join(root, "pg", "manifest.json"))).toBe(false);
    await expectWords(["backup", join(root, "rl"), "--database-url", "libsql://db.example.test", "--data-dir", srv.dataDir], 1, "remote libSQL server: use its own snapshots");
  });
});
