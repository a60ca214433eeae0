/**
 * What ManageSieve stores is what delivery runs: a script uploaded and
 * activated with sieve-connect files the next message sent with Python's
 * smtplib into its folder; a new version uploaded over the active one takes
 * effect at once; after SETACTIVE "" mail stays in INBOX.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import "../../protocols/managesieve/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { run } from "../helpers/proc.ts";
import { folderMessages, text } from "../smtp/helpers.ts";

setDefaultTimeout(60_000);

const PW = "deliver sieve pass 9";
const USER = "frank@deliver.test";
let srv: TestServer;
let dir: string;
let n = 0;

beforeAll(async () => {
  srv = await startTestServer({ listeners: ["SMTP", "MANAGESIEVE"] });
  await createUser(srv.store, USER, PW);
  dir = mkdtempSync(join(tmpdir(), "pillarbox-sieve-deliver-"));
  writeFileSync(join(dir, "pw"), PW + "\n");
});

afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function sieveConnect(args: string[]): Promise<void> {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const cmd = ["sieve-connect", "-s", "127.0.0.1", "-p", String(srv.port("MANAGESIEVE")), "-u", USER, "--notlsverify", "--passwordfd", "3", ...args].map(q).join(" ");
  const r = await run("bash", ["-c", `${cmd} 3<${q(join(dir, "pw"))}`], { cwd: dir, timeoutMs: 30_000 });
  if (r.code !== 0) throw new Error(`sieve-connect ${args.join(" ")} failed: ${r.stdout}${r.stderr}`);
}

/** Sends one message with smtplib to port 25; returns its Message-ID. */
async function send(subject: string): Promise<string> {
  const id = `<ms-${++n}-${process.pid}@sender.test>`;
  const file = join(dir, `m${n}.eml`);
  writeFileSync(file, `From: <zed@sender.test>\r\nTo: <${USER}>\r\nSubject: ${subject}\r\nMessage-ID: ${id}\r\nDate: Mon, 07 Dec 2026 06:00:00 +0000\r\n\r\nHello.\r\n`);
  const r = await run("python3", [resolve(import.meta.dir, "../delivery/smtp_send.py"), String(srv.port("SMTP")), "zed@sender.test", USER, file]);
  if (r.code !== 0) throw new Error(`smtplib failed: ${r.stderr}`);
  expect(JSON.parse(r.stdout.trim().split("\n").pop()!).code).toBe(250);
  return id;
}

async function where(id: string, folders: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of folders) if ((await folderMessages(srv.store, USER, f)).some((m) => text(m).includes(`Message-ID: ${id}`))) out.push(f);
  return out;
}

describe("ManageSieve -> delivery", () => {
  test("upload + activate with sieve-connect; the next delivery is filtered; a new version applies; deactivated: INBOX", async () => {
    writeFileSync(join(dir, "v1.sieve"), 'require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" { fileinto :create "Accounts"; }\n');
    await sieveConnect(["--upload", "--localsieve", "v1.sieve", "--remotesieve", "office"]);
    await sieveConnect(["--activate", "--remotesieve", "office"]);
    const a = await send("Invoice 2026-12");
    const b = await send("Lunch");
    expect(await where(a, ["INBOX", "Accounts"])).toEqual(["Accounts"]);
    expect(await where(b, ["INBOX", "Accounts"])).toEqual(["INBOX"]);

    // PUTSCRIPT over the active script: the new text is what runs next (RFC 5804 §2.6).
    writeFileSync(join(dir, "v2.sieve"), 'require ["fileinto", "mailbox"];\nif header :contains "subject" "lunch" { fileinto :create "Social"; }\n');
    await sieveConnect(["--upload", "--localsieve", "v2.sieve", "--remotesieve", "office"]);
    const c = await send("Lunch on Friday");
    const d = await send("Invoice 2026-13");
    expect(await where(c, ["INBOX", "Accounts", "Social"])).toEqual(["Social"]);
    expect(await where(d, ["INBOX", "Accounts", "Social"])).toEqual(["INBOX"]);

    // SETACTIVE "": no script runs.
    await sieveConnect(["--deactivate"]);
    const e = await send("Lunch again");
    expect(await where(e, ["INBOX", "Accounts", "Social"])).toEqual(["INBOX"]);
  });
});
