/**
 * `pillarbox import mbox|maildir` and `pillarbox export --format maildir|mbox`
 * through the CLI, read back over IMAP: mboxrd From_ quoting and dates,
 * maildir flags and keywords, an export then re-import round trip
 * byte-for-byte, a dry run, and malformed inputs told in words.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { runCli } from "../helpers/proc.ts";
import { makeMessage } from "./dovecot.ts";
import { readTree, type ReadFolder } from "./imap-read.ts";

setDefaultTimeout(90_000);

const PASS = "a-long-local-password-7";
let srv: TestServer;
let work: string;

function cli(args: string[]) {
  return runCli([...args, "--data-dir", srv.dataDir], { env: { PILLARBOX_CONFIG: undefined }, timeoutMs: 80_000 });
}
const tree = (user: string) => readTree({ host: "127.0.0.1", port: srv.port("IMAP"), user, pass: PASS, tls: "none" });

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["IMAP"] });
  await srv.store.addDomain("files.test");
  for (const u of ["mbox", "maildir", "src", "viamaildir", "viambox", "dry", "bad"]) await srv.store.addAccount(`${u}@files.test`, PASS);
  work = mkdtempSync(join(tmpdir(), "pb-import-files-"));
});
afterAll(async () => {
  await srv?.close();
  rmSync(work, { recursive: true, force: true });
});

const M1 = "From: a@example.org\nSubject: one\n\nHello\nFrom the start of a line\n>From already quoted once\n";
const M2 = "From: b@example.org\r\nSubject: two\r\nDate: Tue, 02 Mar 2021 10:00:00 +0000\r\n\r\nCRLF body\r\n\r\n";
const M3 = "From: c@example.org\nSubject: three\n\n>>From twice quoted\nlast line";

describe("mbox", () => {
  test("mboxrd: From_ lines split, >From unquoted, dates from the From_ lines, CRLF kept", async () => {
    const q = (s: string) => s.replace(/^(>*From )/gm, ">$1");
    const file = join(work, "in.mbox");
    writeFileSync(
      file,
      `From a@example.org Mon Jan  4 09:08:07 2021\n${q(M1)}\nFrom b@example.org Tue Mar  2 10:00:00 2021\n${q(M2)}\nFrom c@example.org Sat Dec 31 23:59:59 2022\n${q(M3)}\n\n`,
    );
    const r = await cli(["import", "mbox", file, "--to", "mbox@files.test", "--folder", "Old mail"]);
    expect(r.stderr).not.toContain("warning");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 3 messages");
    const t = await tree("mbox@files.test");
    const f = t.get("Old mail")!;
    expect(f.messages.length).toBe(3);
    const inbox = (await srv.store.getAccount("mbox@files.test"))!;
    const folder = (await srv.store.getFolder(inbox.id, "Old mail"))!;
    const msgs = await srv.store.listMessages(folder.id);
    const raws = await Promise.all(msgs.map((m) => srv.store.readMessage(m.id)));
    expect(Buffer.from(raws[0]!).toString()).toBe(M1);
    expect(Buffer.from(raws[1]!).toString()).toBe(M2);
    // The last message had no final newline; the writer of this file added one before the separator.
    expect(Buffer.from(raws[2]!).toString()).toBe(M3 + "\n");
    expect(msgs.map((m) => new Date(m.internalDate).toISOString())).toEqual(["2021-01-04T09:08:07.000Z", "2021-03-02T10:00:00.000Z", "2022-12-31T23:59:59.000Z"]);
  });

  test("malformed: not an mbox, a missing file, an empty file, an oversized message, garbage bytes", async () => {
    const notMbox = join(work, "letter.txt");
    writeFileSync(notMbox, "Dear admin,\nthis is not a mailbox.\n");
    let r = await cli(["import", "mbox", notMbox, "--to", "bad@files.test"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("not an mbox file");
    r = await cli(["import", "mbox", join(work, "nope.mbox"), "--to", "bad@files.test"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such file or directory");
    const empty = join(work, "empty.mbox");
    writeFileSync(empty, "");
    r = await cli(["import", "mbox", empty, "--to", "bad@files.test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 0 messages");
    const big = join(work, "big.mbox");
    writeFileSync(big, `From x Mon Jan  4 09:08:07 2021\nSubject: big\n\n${"y".repeat(3 * 1024 * 1024)}\n\nFrom x Mon Jan  4 09:08:08 2021\nSubject: small\n\nok\n\n`);
    r = await cli(["import", "mbox", big, "--to", "bad@files.test", "--max-message-size", "1M"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 1 messages");
    expect(r.stdout).toContain("1 over the size limit");
    const garbage = join(work, "garbage.mbox");
    const bytes = Buffer.alloc(200_000);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 2654435761) >>> 24;
    writeFileSync(garbage, Buffer.concat([Buffer.from("From x Mon Jan  4 09:08:07 2021\n"), bytes]));
    r = await cli(["import", "mbox", garbage, "--to", "bad@files.test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 1 messages");
    r = await cli(["import", "mbox", "--to", "bad@files.test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("needs a PATH");
  });
});

function writeMaildir(root: string, folders: { name: string; n: number }[]): number {
  let total = 0;
  for (const f of folders) {
    const dir = f.name === "INBOX" ? root : join(root, "." + f.name.split("/").map((x) => x.replace(/\./g, "\\2e")).join("."));
    for (const d of ["cur", "new", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, "dovecot-keywords"), "0 $Forwarded\n1 Work\n");
    for (let i = 0; i < f.n; i++) {
      total++;
      const date = Date.UTC(2020, 5, 1) + total * 3_600_000;
      const letters = ["", "S", "FS", "RS", "DS", "Sab", "T", "a"][total % 8]!;
      const sub = total % 9 === 0 ? "new" : "cur";
      const path = join(dir, sub, `${1600000000 + total}.M${total}.host${sub === "cur" ? `:2,${letters}` : ""}`);
      writeFileSync(path, makeMessage(f.name, total, date));
      utimesSync(path, date / 1000, date / 1000);
    }
  }
  return total;
}

function sameMessages(a: ReadFolder, b: ReadFolder, withFlags: boolean) {
  expect(b.messages.length).toBe(a.messages.length);
  expect(b.messages.map((m) => m.sha)).toEqual(a.messages.map((m) => m.sha));
  expect(b.messages.map((m) => m.internalDate)).toEqual(a.messages.map((m) => m.internalDate));
  if (withFlags) expect(b.messages.map((m) => m.flags.join(" "))).toEqual(a.messages.map((m) => m.flags.join(" ")));
}

describe("maildir and export round trip", () => {
  test("maildir: Maildir++ folders, flags and keywords from the names, dates from the files; dry run changes nothing", async () => {
    const root = join(work, "Maildir");
    const n = writeMaildir(root, [
      { name: "INBOX", n: 60 },
      { name: "Sent Messages", n: 20 },
      { name: "Work", n: 15 },
      { name: "Work/Reports", n: 10 },
    ]);
    const dry = await cli(["import", "maildir", root, "--to", "dry@files.test", "--dry-run"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`dry run: ${n} messages`);
    expect((await srv.store.quota((await srv.store.getAccount("dry@files.test"))!.id)).messages).toBe(0);

    const r = await cli(["import", "maildir", root, "--to", "maildir@files.test"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`imported ${n} messages`);
    const t = await tree("maildir@files.test");
    expect(t.get("INBOX")!.messages.length).toBe(60);
    expect(t.get("Sent")!.messages.length).toBe(20); // "Sent Messages" is the Sent folder
    expect(t.get("Work/Reports")!.messages.length).toBe(10);
    const flags = t.get("INBOX")!.messages.map((m) => m.flags.join(" "));
    expect(flags).toContain("$Forwarded Work \\Seen");
    expect(flags).toContain("\\Flagged \\Seen");
    expect(flags).toContain("\\Answered \\Seen");
    expect(flags).toContain("\\Deleted");
    expect(t.get("INBOX")!.messages[0]!.internalDate).toBe(Date.UTC(2020, 5, 1) + 3_600_000);
  });

  test("export to maildir and to mbox, re-import each into another account: same folders, bytes and dates (and flags via maildir)", async () => {
    const root = join(work, "Maildir2");
    writeMaildir(root, [
      { name: "INBOX", n: 40 },
      { name: "Archive", n: 12 },
      { name: "A.B", n: 3 },
    ]);
    expect((await cli(["import", "maildir", root, "--to", "src@files.test"])).code).toBe(0);
    const md = join(work, "export-md");
    const mb = join(work, "export-mbox");
    let r = await cli(["export", "src@files.test", "--format", "maildir", md]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("exported 55 messages");
    r = await cli(["export", "src@files.test", "--format", "mbox", mb]);
    expect(r.code).toBe(0);
    expect(readdirSync(mb).sort()).toContain("INBOX.mbox");
    expect(readFileSync(join(mb, "INBOX.mbox"), "latin1")).toContain("\n>From the desk of sender");
    expect((await cli(["import", "maildir", md, "--to", "viamaildir@files.test"])).code).toBe(0);
    expect((await cli(["import", "mbox", mb, "--to", "viambox@files.test"])).code).toBe(0);
    const [src, viaMd, viaMbox] = await Promise.all([tree("src@files.test"), tree("viamaildir@files.test"), tree("viambox@files.test")]);
    for (const [name, f] of src) {
      if (f.messages.length === 0) continue;
      sameMessages(f, viaMd.get(name)!, true);
      sameMessages(f, viaMbox.get(name)!, false);
    }
    expect(viaMd.get("A.B")!.messages.length).toBe(3); // a dot in a folder name survives Maildir++ (escaped)

    r = await cli(["export", "src@files.test", "--format", "mbox", mb]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not empty");
    r = await cli(["export", "src@files.test", "--format", "pst", join(work, "x")]);
    expect(r.code).toBe(2);
    r = await cli(["import", "maildir", join(work, "export-mbox"), "--to", "bad@files.test"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("is not a maildir");
  });
});
