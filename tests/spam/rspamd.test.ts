/**
 * spam.backend = "rspamd" against a real rspamd (Debian's `rspamd`), run here
 * as a private instance: a minimal configuration in a temp dir (one normal
 * worker on a free port, no Redis, DNS pointed at a closed port so nothing
 * leaves the machine). rspamd itself recognises GTUBE (action "reject").
 * Over SMTP with swaks: GTUBE lands in Junk with rspamd's symbols in
 * X-Spam-Status, a normal message stays in INBOX, "reject" refuses with 550
 * 5.7.1 only when spam.reject_score is set, and rspamd down means delivered
 * unscored. rspamd loads its Lua rules at start (tens of seconds of CPU on a
 * busy machine), hence the long beforeAll.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn, type ChildProcess } from "node:child_process";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { folderMessages, run, text, waitFor } from "../smtp/helpers.ts";
import { GTUBE } from "../../src/spam/gtube.ts";

const BOB = "bob@rspamd.test";
let srv: TestServer;
let dir: string;
let rspamd: ChildProcess;
let rspamdUrl: string;
let n = 0;

async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function message(body: string): string {
  n++;
  return [
    "From: Sender <someone@remote.test>",
    `To: ${BOB}`,
    `Subject: rspamd ${n}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <rspamd-${n}-${Date.now()}@remote.test>`,
    "",
    body,
    "",
  ].join("\r\n");
}

async function swaks(body: string) {
  const file = join(dir, `m${++n}.eml`);
  writeFileSync(file, body.slice(0, -2));
  return run("swaks", ["--server", `127.0.0.1:${srv.port("SMTP")}`, "--from", "someone@remote.test", "--to", BOB, "--helo", "client.remote.test", "--data", file, "--suppress-data"], { timeoutMs: 30_000 });
}

async function landed(body: string): Promise<{ folder: string; raw: string } | null> {
  const mid = /Message-ID: (<[^>]+>)/.exec(body)![1]!;
  for (const folder of ["INBOX", "Junk"]) {
    const hit = (await folderMessages(srv.store, BOB, folder)).map(text).find((m) => m.includes(mid));
    if (hit) return { folder, raw: hit };
  }
  return null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-rspamd-"));
  const port = await freeTcpPort();
  rspamdUrl = `http://127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "rspamd.conf"),
    [
      "options {",
      `  pidfile = "${dir}/rspamd.pid";`,
      '  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }',
      "}",
      'logging { type = "console"; level = "error"; }',
      `worker "normal" { bind_socket = "127.0.0.1:${port}"; count = 1; }`,
      "actions { reject = 15; add_header = 6; greylist = 4; }",
      "",
    ].join("\n"),
  );
  const root = process.getuid?.() === 0;
  rspamd = spawn("rspamd", ["-f", ...(root ? ["-i", "-u", "root"] : []), "-c", join(dir, "rspamd.conf"), `--var=DBDIR=${dir}`, `--var=RUNDIR=${dir}`], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  rspamd.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await waitFor(
    async () => {
      if (rspamd.exitCode !== null) throw new Error(`rspamd exited: ${err}`);
      try {
        return (await fetch(`${rspamdUrl}/ping`)).ok;
      } catch {
        return false;
      }
    },
    110_000,
    250,
  );
  srv = await startTestServer({ listeners: ["SMTP"], config: { spam: { backend: "rspamd", rspamdUrl } } });
  await createUser(srv.store, BOB, "pw-rspamd-1");
}, 120_000);

afterAll(async () => {
  await srv?.close();
  if (rspamd && rspamd.exitCode === null) {
    const exited = new Promise((r) => rspamd.once("exit", r));
    rspamd.kill("SIGTERM");
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

test("GTUBE: rspamd says reject, the message lands in Junk with rspamd's symbols; a normal message stays in INBOX", async () => {
  const spam = message(`${GTUBE}\r\n`);
  expect((await swaks(spam)).stdout).toContain("<-  250 2.0.0 Ok");
  const got = (await landed(spam))!;
  expect(got.folder).toBe("Junk");
  expect(got.raw).toMatch(/^X-Spam-Status: Yes, score=15\.0 required=5\.0 tests=GTUBE\r$/m);

  const ham = message("Hello Bob, see you at noon.\r\n");
  expect((await swaks(ham)).stdout).toContain("<-  250 2.0.0 Ok");
  const ok = (await landed(ham))!;
  expect(ok.folder).toBe("INBOX");
  expect(ok.raw).toMatch(/^X-Spam-Status: No, score=/m);
});

test("rspamd's reject refuses at SMTP only when spam.reject_score is set", async () => {
  srv.ctx.config.spam.rejectScore = 15;
  try {
    const spam = message(`${GTUBE}\r\n`);
    const r = await swaks(spam);
    expect(r.stdout).toMatch(/<\*\* +550 5\.7\.1 Message rejected as spam \(score 15\.0\)/);
    expect(await landed(spam)).toBeNull();
  } finally {
    srv.ctx.config.spam.rejectScore = null;
  }
});

test("rspamd down: the message is delivered unscored", async () => {
  const url = srv.ctx.config.spam.rspamdUrl;
  srv.ctx.config.spam.rspamdUrl = `http://127.0.0.1:${await freeTcpPort()}`;
  try {
    const m = message(`${GTUBE}\r\n`);
    expect((await swaks(m)).stdout).toContain("<-  250 2.0.0 Ok");
    const got = (await landed(m))!;
    expect(got.folder).toBe("INBOX");
    expect(got.raw).not.toContain("X-Spam-Status");
  } finally {
    srv.ctx.config.spam.rspamdUrl = url;
  }
});
