/**
 * ManageSieve (RFC 5804) end to end with real clients over real sockets:
 * Debian's sieve-connect (STARTTLS, PLAIN, --upload/--list/--activate/
 * --download/--checkscript/--deactivate/--delete), python3-sievelib
 * (sievelib.managesieve.Client: STARTTLS, PLAIN and LOGIN, capabilities,
 * HAVESPACE, CHECKSCRIPT, PUTSCRIPT, LISTSCRIPTS, SETACTIVE, GETSCRIPT,
 * RENAMESCRIPT, DELETESCRIPT) and `openssl s_client -starttls sieve`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import "../../protocols/managesieve/index.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { run } from "../helpers/proc.ts";
import type { Account } from "../../storage/api.ts";

const PW = "sieve pass phrase 42";
const SCRIPT = 'require "fileinto";\nif header :contains "subject" "invoice" {\n  fileinto "Accounts";\n}\n';

let srv: TestServer;
let port: number;
let alice: Account;
let bob: Account;
let dir: string;

beforeAll(async () => {
  // Production default: no plaintext authentication before STARTTLS (imap.allow_plaintext_auth = false).
  srv = await startTestServer({ listeners: ["MANAGESIEVE"], config: { imap: { allowPlaintextAuth: false } } });
  port = srv.port("MANAGESIEVE");
  alice = await createUser(srv.store, "alice@sieve.test", PW);
  bob = await createUser(srv.store, "bob@sieve.test", PW);
  dir = mkdtempSync(join(tmpdir(), "pillarbox-sieve-clients-"));
  writeFileSync(join(dir, "pw"), PW + "\n");
  writeFileSync(join(dir, "office.sieve"), SCRIPT);
  writeFileSync(join(dir, "bad.sieve"), 'require "fileinto";\nif header :is "subject" "x" {\n  fileinto;\n}\n');
});

afterAll(async () => {
  await srv?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** sieve-connect with the password on fd 3 (--passwordfd), as a script would run it. */
async function sieveConnect(user: string, args: string[]): Promise<{ code: number; out: string }> {
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const cmd = ["sieve-connect", "-s", "127.0.0.1", "-p", String(port), "-u", user, "--notlsverify", "--passwordfd", "3", ...args].map(q).join(" ");
  const r = await run("bash", ["-c", `${cmd} 3<${q(join(dir, "pw"))}`], { cwd: dir, timeoutMs: 30_000 });
  return { code: r.code ?? -1, out: r.stdout + r.stderr };
}

describe("sieve-connect", () => {
  test("upload, list, activate, download, checkscript, deactivate, delete", async () => {
    const up = await sieveConnect(alice.email, ["--upload", "--localsieve", "office.sieve", "--remotesieve", "office"]);
    expect(up.code).toBe(0);
    expect((await srv.ctx.storage.sieve.getScript(alice.id, "office"))).toBe(SCRIPT);

    let list = await sieveConnect(alice.email, ["--list"]);
    expect(list.code).toBe(0);
    expect(list.out).toContain('"office"');
    expect(list.out).not.toContain("ACTIVE");

    expect((await sieveConnect(alice.email, ["--activate", "--remotesieve", "office"])).code).toBe(0);
    expect((await srv.ctx.storage.sieve.activeScript(alice.id))?.name).toBe("office");
    list = await sieveConnect(alice.email, ["--list"]);
    expect(list.out).toContain('"office" ACTIVE');

    rmSync(join(dir, "down.sieve"), { force: true });
    expect((await sieveConnect(alice.email, ["--download", "--remotesieve", "office", "--localsieve", "down.sieve"])).code).toBe(0);
    expect(readFileSync(join(dir, "down.sieve"), "utf8")).toBe(SCRIPT);

    const good = await sieveConnect(alice.email, ["--checkscript", "--localsieve", "office.sieve"]);
    expect(good.code).toBe(0);
    const bad = await sieveConnect(alice.email, ["--checkscript", "--localsieve", "bad.sieve"]);
    expect(bad.code).not.toBe(0);
    // The compile error comes back in words with its line.
    expect(bad.out).toMatch(/NO "line 3: [^"]*fileinto/);

    // RFC 5804 §2.10: the active script cannot be deleted.
    const refused = await sieveConnect(alice.email, ["--delete", "--remotesieve", "office"]);
    expect(refused.code).not.toBe(0);
    expect(refused.out).toContain("(ACTIVE)");
    expect((await sieveConnect(alice.email, ["--deactivate"])).code).toBe(0);
    expect(await srv.ctx.storage.sieve.activeScript(alice.id)).toBeNull();
    expect((await sieveConnect(alice.email, ["--delete", "--remotesieve", "office"])).code).toBe(0);
    expect(await srv.ctx.storage.sieve.listScripts(alice.id)).toEqual([]);
  }, 90_000);

  test("a wrong password is refused", async () => {
    const r = await run("bash", ["-c", `echo wrong | sieve-connect -s 127.0.0.1 -p ${port} -u ${bob.email} --notlsverify --passwordfd 0 --list`], { timeoutMs: 30_000 });
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Authentication failed/i);
  }, 40_000);
});

describe("python3-sievelib", () => {
  test("STARTTLS, PLAIN and LOGIN, every script command", async () => {
    const r = await run("/usr/bin/python3", [resolve(import.meta.dir, "sievelib_steps.py"), String(port), bob.email, PW], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`sievelib steps failed (${r.code}): ${r.stderr}`);
    const o = JSON.parse(r.stdout);
    expect(o.connect).toBe(true);
    expect(o.implementation).toBe("Pillarbox");
    expect(o.sasl).toEqual(["PLAIN", "LOGIN"]);
    expect(o.sieve).toEqual(expect.arrayContaining(["fileinto", "vacation", "imap4flags", "variables", "spamtest", "duplicate"]));
    expect(o.havespace).toBe(true);
    expect(o.havespace_huge).toBe(false);
    expect(o.check_good).toBe(true);
    expect(o.check_bad).toBe(false);
    expect(o.check_bad_msg).toContain("line 3");
    expect(o.put).toBe(true);
    expect(o.put_bad).toBe(false);
    expect(o.list1).toEqual([null, ["rules"]]);
    expect(o.setactive).toBe(true);
    expect(o.list2).toEqual(["rules", []]);
    expect(o.get.replace(/\r?\n/g, "\n").trimEnd()).toBe('require ["fileinto"];\nif header :contains "subject" "invoice" {\n  fileinto "Accounts";\n}');
    expect(o.rename).toBe(true);
    // RFC 5804 §2.11.1: the active flag moves with the script.
    expect(o.list3).toEqual(["office rules", []]);
    expect(o.delete_active).toBe(false);
    expect(o.delete_active_code).toBe("ACTIVE");
    expect(o.deactivate).toBe(true);
    expect(o.delete).toBe(true);
    expect(o.delete_missing).toBe(false);
    expect(o.delete_missing_code).toBe("NONEXISTENT");
    expect(o.list4).toEqual([null, []]);
    expect(o.login_mech).toBe(true);
    expect(o.login_list).toEqual([null, []]);
    expect(o.wrong_password).toBe(false);
  }, 90_000);
});

describe("openssl s_client -starttls sieve", () => {
  test("the STARTTLS handshake, then capabilities, AUTHENTICATE and LISTSCRIPTS over TLS", async () => {
    const auth = Buffer.from(`\0${alice.email}\0${PW}`).toString("base64");
    // s_client reads the greeting, sends STARTTLS itself, then forwards stdin; -ign_eof keeps it open for the answers.
    const input = `CAPABILITY\r\nAUTHENTICATE "PLAIN" "${auth}"\r\nCAPABILITY\r\nNOOP "ping"\r\nLOGOUT\r\n`;
    const r = await run("openssl", ["s_client", "-connect", `127.0.0.1:${port}`, "-starttls", "sieve", "-quiet", "-ign_eof", "-crlf"], { input: input.replace(/\r\n/g, "\n"), timeoutMs: 30_000 });
    const out = r.stdout;
    // Before AUTHENTICATE over TLS: PLAIN LOGIN offered, STARTTLS no longer listed (RFC 5804 §2.2).
    const first = out.slice(0, out.indexOf("Capability completed"));
    expect(first).toContain('"SASL" "PLAIN LOGIN"');
    expect(first).not.toContain('"STARTTLS"');
    expect(out).toContain('OK "Logged in"');
    // RFC 5804 §1.7 OWNER after authentication.
    expect(out).toContain(`"OWNER" "${alice.email}"`);
    expect(out).toContain('OK (TAG "ping") "Done"');
    expect(out).toContain('OK "Logout completed"');
  }, 40_000);
});
