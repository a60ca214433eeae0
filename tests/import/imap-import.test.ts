/**
 * `pillarbox import imap://...` from a real Dovecot (Debian dovecot-imapd)
 * holding a 10,000-message tree with flags, keywords and special-use
 * folders; both sides are then read over IMAP and compared: folder list,
 * counts, flags and keywords, internal dates, message bytes. Then: a
 * re-run imports nothing, a dry run changes nothing, an interrupted import
 * resumes without duplicates, and errors are told in words.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { BUN, REPO_ROOT, runCli } from "../helpers/proc.ts";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { TREE_10K, fillMaildir, hasDovecot, startDovecot, type DovecotTwin } from "./dovecot.ts";
import { readTree, type ReadFolder } from "./imap-read.ts";
import { importImap } from "../../src/import/imap-import.ts";
import type { ImportStateData } from "../../src/import/state.ts";

setDefaultTimeout(120_000);

const PASS = "old-server-secret-42";
const LOCAL_PASS = "a-long-local-password-7";
const BIG = "big@old.test";
const SMALL = "small@old.test";
const MID = "mid@old.test";
const TREE = TREE_10K;

let dovecot: DovecotTwin;
let srv: TestServer;
let pwFile: string;

function cli(args: string[], input?: string) {
  const env: Record<string, string | undefined> = { PILLARBOX_CONFIG: undefined, PILLARBOX_IMPORT_PASSWORD: undefined };
  return runCli([...args, "--data-dir", srv.dataDir], { env, input, timeoutMs: 100_000 });
}

const skip = !hasDovecot();

beforeAll(async () => {
  if (skip) return;
  dovecot = await startDovecot([BIG, SMALL, MID], PASS);
  fillMaildir(dovecot, MID, [{ name: "INBOX", count: 3000 }], 11);
  fillMaildir(dovecot, BIG, TREE);
  fillMaildir(dovecot, SMALL, [
    { name: "INBOX", count: 400 },
    { name: "Sent Items", count: 150 },
  ], 7);
  srv = await startTestServer({ listeners: ["IMAP"] });
  await srv.store.addDomain("new.test");
  for (const u of ["alice", "bob", "carol", "dave", "erin"]) await srv.store.addAccount(`${u}@new.test`, LOCAL_PASS);
  pwFile = join(srv.dataDir, "old-password");
  writeFileSync(pwFile, PASS + "\n", { mode: 0o600 });
});

afterAll(async () => {
  await srv?.close();
  dovecot?.stop();
});

const local = (user: string) => readTree({ host: "127.0.0.1", port: srv.port("IMAP"), user, pass: LOCAL_PASS, tls: "none" });
const old = (user: string) => readTree({ host: "127.0.0.1", port: dovecot.tlsPort, user, pass: PASS, tls: "implicit" });

function compare(src: Map<string, ReadFolder>, dst: Map<string, ReadFolder>, rename: Record<string, string> = {}) {
  for (const [name, f] of src) {
    const d = dst.get(rename[name] ?? name);
    expect(d, `folder ${name} exists locally`).toBeDefined();
    expect(d!.messages.length, `count of ${name}`).toBe(f.messages.length);
    for (let i = 0; i < f.messages.length; i++) {
      const a = f.messages[i]!;
      const b = d!.messages[i]!;
      if (a.sha !== b.sha || a.internalDate !== b.internalDate || a.flags.join(" ") !== b.flags.join(" ")) {
        expect({ folder: name, i, ...b }).toEqual({ folder: name, i, ...a });
      }
    }
  }
}

describe.skipIf(skip)("import from Dovecot", () => {
  test("dry run lists folders, counts and sizes, and changes nothing", async () => {
    const r = await cli(["import", `imaps://${BIG}@127.0.0.1:${dovecot.tlsPort}`, "--to", "alice@new.test", "--insecure", "--password-file", pwFile, "--dry-run"]);
    expect(r.stderr).not.toContain("Error");
    expect(r.code).toBe(0);
    for (const f of TREE) expect(r.stdout).toContain(f.name);
    expect(r.stdout).toContain("dry run: 10000 messages");
    expect(r.stdout).toContain("nothing was changed");
    const a = await srv.store.getAccount("alice@new.test");
    expect((await srv.store.quota(a!.id)).messages).toBe(0);
    expect(readdirSync(join(srv.dataDir, "import")).filter((f) => f.endsWith(".json"))).toEqual([]);
  });

  test("10,000 messages over TLS: folders, counts, flags, keywords, internal dates and bytes match; a re-run imports 0", async () => {
    const t0 = Date.now();
    const r = await cli(["import", `imaps://${BIG}@127.0.0.1:${dovecot.tlsPort}`, "--to", "alice@new.test", "--insecure", "--password-file", pwFile]);
    const secs = (Date.now() - t0) / 1000;
    expect(r.stderr).not.toContain("rror");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("imported 10000 messages");
    console.log(`import of 10,000 messages: ${secs.toFixed(1)} s wall (${r.stdout.trim().split("\n").pop()})`);
    // Not a terminal: plain progress lines, no bar control characters.
    expect(r.stderr).not.toContain("\x1b[K");
    const [src, dst] = await Promise.all([old(BIG), local("alice@new.test")]);
    expect(src.size).toBe(TREE.length); // "Reisen" is listed \\Noselect (a parent only) and not compared
    compare(src, dst);
    // Special-use folders stayed special-use (the local account's own ones).
    for (const [name, use] of [["Sent", "\\Sent"], ["Drafts", "\\Drafts"], ["Trash", "\\Trash"], ["Junk", "\\Junk"], ["Archive", "\\Archive"]]) expect(dst.get(name!)!.specialUse).toBe(use!);
    // Keywords really made it (the generator sets them on a share of messages).
    const kw = dst.get("INBOX")!.messages.filter((m) => m.flags.includes("project-x")).length;
    expect(kw).toBeGreaterThan(100);

    const again = await cli(["import", `imaps://${BIG}@127.0.0.1:${dovecot.tlsPort}`, "--to", "alice@new.test", "--insecure", "--password-file", pwFile]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("imported 0 messages");
    const a = await srv.store.getAccount("alice@new.test");
    expect((await srv.store.quota(a!.id)).messages).toBe(10000);
  });

  test("STARTTLS, name-mapped Sent Items, and an interrupted import (limit, then a crash between append and state) resumes without duplicates", async () => {
    const bob = (await srv.store.getAccount("bob@new.test"))!;
    const source = { host: "127.0.0.1", port: dovecot.port, tls: "starttls" as const, user: SMALL, password: PASS, insecure: true };
    const first = await importImap({ store: srv.store, accountId: bob.id, dataDir: srv.dataDir, source, limit: 300 });
    expect(first.imported).toBe(300);
    expect(first.stopped).toBe(true);
    // Simulate a kill after the last batch was appended but before the state said so:
    // the state goes back to before that batch, with the batch marked pending.
    const file = join(srv.dataDir, "import", readdirSync(join(srv.dataDir, "import")).find((f) => f.startsWith(`${bob.id}-`))!);
    const st = JSON.parse(readFileSync(file, "utf8")) as ImportStateData;
    const inbox = (await srv.store.getFolder(bob.id, "INBOX"))!;
    const msgs = await srv.store.listMessages(inbox.id);
    expect(msgs.length).toBe(300);
    const batch = msgs.slice(250);
    st.folders["INBOX"]!.lastUid = 250; // Dovecot's UIDs here are 1..400 in file order
    st.folders["INBOX"]!.pending = { destFolderId: inbox.id, uidNextBefore: batch[0]!.uid, sizes: batch.map((m) => m.size), lastUid: 300 };
    writeFileSync(file, JSON.stringify(st));

    const rest = await cli(["import", `imap://${SMALL}@127.0.0.1:${dovecot.port}`, "--to", "bob@new.test", "--password-file", pwFile]);
    expect(rest.stderr).toContain("certificate"); // STARTTLS is required and the self-signed certificate is refused without --insecure
    expect(rest.code).toBe(1);
    const done = await cli(["import", `imap://${SMALL}@127.0.0.1:${dovecot.port}`, "--to", "bob@new.test", "--password-file", pwFile, "--insecure"]);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain("imported 250 messages"); // 100 left in INBOX + 150 in Sent Items
    const [src, dst] = await Promise.all([old(SMALL), local("bob@new.test")]);
    compare(src, dst, { "Sent Items": "Sent" });
    expect(dst.has("Sent Items")).toBe(false);
  });

  test("killed mid-way (SIGKILL once the first batches are in), the next run completes it without duplicates", async () => {
    const erin = (await srv.store.getAccount("erin@new.test"))!;
    const child = spawn(BUN, [`${REPO_ROOT}/src/main.ts`, "import", `imaps://${MID}@127.0.0.1:${dovecot.tlsPort}`, "--to", "erin@new.test", "--insecure", "--password-file", pwFile, "--data-dir", srv.dataDir], { stdio: "ignore" });
    const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
    // Wait for state, not time: kill as soon as the resume state records a first committed batch.
    const stateFile = () => {
      const dir = join(srv.dataDir, "import");
      const f = existsSync(dir) ? readdirSync(dir).find((n) => n.startsWith(`${erin.id}-`) && n.endsWith(".json")) : undefined;
      return f ? join(dir, f) : null;
    };
    let killedAt = -1;
    for (let i = 0; i < 3000 && child.exitCode === null; i++) {
      const f = stateFile();
      const st = f ? (JSON.parse(readFileSync(f, "utf8")) as ImportStateData) : null;
      if (st && (st.folders["INBOX"]?.lastUid ?? 0) > 0) {
        child.kill("SIGKILL");
        killedAt = st.folders["INBOX"]!.lastUid;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await exited;
    expect(killedAt).toBeGreaterThan(0);
    const inbox = (await srv.store.getFolder(erin.id, "INBOX"))!;
    const partial = (await srv.store.listMessages(inbox.id)).length;
    expect(partial).toBeLessThan(3000); // it really was interrupted
    const r = await cli(["import", `imaps://${MID}@127.0.0.1:${dovecot.tlsPort}`, "--to", "erin@new.test", "--insecure", "--password-file", pwFile]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`imported ${3000 - partial} messages`);
    compare(await old(MID), await local("erin@new.test"));
  });

  test("a pending batch that never committed is imported on the next run", async () => {
    const carol = (await srv.store.getAccount("carol@new.test"))!;
    const source = { host: "127.0.0.1", port: dovecot.tlsPort, tls: "implicit" as const, user: SMALL, password: PASS, insecure: true };
    await importImap({ store: srv.store, accountId: carol.id, dataDir: srv.dataDir, source, limit: 100 });
    const file = join(srv.dataDir, "import", readdirSync(join(srv.dataDir, "import")).find((f) => f.startsWith(`${carol.id}-`))!);
    const st = JSON.parse(readFileSync(file, "utf8")) as ImportStateData;
    const inbox = (await srv.store.getFolder(carol.id, "INBOX"))!;
    st.folders["INBOX"]!.pending = { destFolderId: inbox.id, uidNextBefore: inbox.uidNext, sizes: [100, 200], lastUid: 102 };
    writeFileSync(file, JSON.stringify(st));
    const r = await importImap({ store: srv.store, accountId: carol.id, dataDir: srv.dataDir, source });
    expect(r.warnings.join("\n")).toContain("not saved");
    expect(r.imported).toBe(450);
    compare(await old(SMALL), await local("carol@new.test"), { "Sent Items": "Sent" });
  });

  test("errors in words: wrong password, nothing listening, password in the address, unknown account, bad address", async () => {
    const bad = join(srv.dataDir, "bad-password");
    writeFileSync(bad, "wrong\n");
    let r = await cli(["import", `imaps://${SMALL}@127.0.0.1:${dovecot.tlsPort}`, "--to", "dave@new.test", "--insecure", "--password-file", bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("refused the user name or password");
    r = await cli(["import", `imaps://${SMALL}@127.0.0.1:1`, "--to", "dave@new.test", "--password-file", pwFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("connection refused");
    r = await cli(["import", `imaps://${SMALL}:${PASS}@127.0.0.1:${dovecot.tlsPort}`, "--to", "dave@new.test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("do not put the password in the address");
    r = await cli(["import", `imaps://${SMALL}@127.0.0.1:${dovecot.tlsPort}`, "--to", "nobody@new.test", "--insecure", "--password-file", pwFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such account");
    r = await cli(["import", "ftp://x@y", "--to", "dave@new.test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not an IMAP address");
    r = await cli(["import", `imaps://${SMALL}@127.0.0.1:${dovecot.tlsPort}`, "--to", "dave@new.test"], "");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no password");
    const dave = (await srv.store.getAccount("dave@new.test"))!;
    expect((await srv.store.quota(dave.id)).messages).toBe(0);
  });

  test("a full quota stops the import with words; raising it lets the same import finish", async () => {
    await srv.store.setQuota("dave@new.test", 200 * 1024);
    const r = await cli(["import", `imaps://${SMALL}@127.0.0.1:${dovecot.tlsPort}`, "--to", "dave@new.test", "--insecure", "--password-file", pwFile]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("the mailbox is full");
    await srv.store.setQuota("dave@new.test", null);
    const r2 = await cli(["import", `imaps://${SMALL}@127.0.0.1:${dovecot.tlsPort}`, "--to", "dave@new.test", "--insecure", "--password-file", pwFile]);
    expect(r2.code).toBe(0);
    compare(await old(SMALL), await local("dave@new.test"), { "Sent Items": "Sent" });
  });
});
