/**
 * The pillarbox CLI end to end, each command in its own process (as an admin
 * would run it), against a temp data dir.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commands } from "../../src/cli/commands.ts";
import { openStore } from "../../storage/store.ts";
import { runCli } from "../helpers/proc.ts";
import { passwordHasher } from "../../src/auth.ts";

// Each case starts processes; the machine is shared, so allow for a slow start.
setDefaultTimeout(60_000);

const root = mkdtempSync(join(tmpdir(), "pb-cli-test-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function freshDir(): string {
  return join(root, `d${n++}`);
}

/** Runs the CLI with a data dir and no ambient PILLARBOX_* settings. */
function cli(dataDir: string, args: string[], input?: string) {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: undefined };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  return runCli(args, { env, input });
}

async function withStore<T>(dataDir: string, fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const s = await openStore({ hasher: passwordHasher, url: `file:${dataDir}/pillarbox.db`, dataDir });
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

describe("help, version, usage errors", () => {
  test("pillarbox --help lists every visible command", async () => {
    const r = await cli(freshDir(), ["--help"]);
    expect(r.code).toBe(0);
    for (const c of commands.filter((c) => !c.hidden)) expect(r.stdout).toContain(c.name);
    expect(r.stdout).toContain("Exit codes: 0 success, 1 error, 2 usage error");
  });

  test("--version", async () => {
    const r = await cli(freshDir(), ["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pillarbox \d+\.\d+\.\d+ \(commit \S+, [^)]+\)\n$/);
  });

  test("--help works on every command and shows its usage", async () => {
    for (const c of commands) {
      const r = await cli(freshDir(), [...c.name.split(" "), "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: pillarbox ${c.name}`);
      expect(r.stdout).toContain("--help");
    }
  });

  test("group help: pillarbox user --help, and a bare group is a usage error", async () => {
    const help = await cli(freshDir(), ["user", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("pillarbox user passwd EMAIL");
    const bare = await cli(freshDir(), ["alias"]);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("pillarbox alias add");
  });

  test("serve --help documents every setting's environment variable", async () => {
    const r = await cli(freshDir(), ["serve", "--help"]);
    expect(r.code).toBe(0);
    for (const v of ["PILLARBOX_DATA_DIR", "PILLARBOX_HOSTNAME", "PILLARBOX_DATABASE_URL", "PILLARBOX_SMTP_LISTEN", "PILLARBOX_HTTPS_LISTEN", "PILLARBOX_TLS_CERT", "PILLARBOX_LOG_LEVEL"]) {
      expect(r.stdout).toContain(v);
    }
  });

  test.each([
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["user", "add"], /missing argument/],
    [["user", "add", "not-an-address"], /not an email address/],
    [["domain", "add", "a.example", "b.example"], /too many arguments/],
    [["user", "list", "--bogus"], /unknown option --bogus/],
    [["user", "quota", "a@b.example", "lots"], /not a size/],
    [["serve", "--smtp-listen=1.2.3.4:http"], /PILLARBOX_SMTP_LISTEN|--smtp-listen: bad port/],
  ])("usage error %p exits 2 with a message on stderr", async (args, re) => {
    const r = await cli(freshDir(), args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(re);
    expect(r.stdout).toBe("");
  });

  test("a runtime error exits 1 (removing a user that does not exist)", async () => {
    const r = await cli(freshDir(), ["user", "remove", "ghost@nowhere.example"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("no such account");
  });
});

describe("domain, user, alias", () => {
  const dir = freshDir();

  test("domain add prints the DKIM record; domain list shows it", async () => {
    const add = await cli(dir, ["domain", "add", "Example.TEST"]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain("added domain example.test");
    expect(add.stdout).toMatch(/\._domainkey\.example\.test\. IN TXT "v=DKIM1; k=rsa; p=[A-Za-z0-9+/]+/);
    const again = await cli(dir, ["domain", "add", "example.test"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("domain exists");
    const list = await cli(dir, ["domain", "list"]);
    expect(list.stdout).toMatch(/example\.test\s+0\s+pb\d{6}/);
  });

  test("user add without a password prints a generated one once, and it works", async () => {
    const r = await cli(dir, ["user", "add", "alice@example.test", "--quota", "1G"]);
    expect(r.code).toBe(0);
    const m = /password: (\S+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const password = m![1]!;
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(r.stdout.split(password).length - 1).toBe(1);
    expect(r.stderr).not.toContain(password);
    await withStore(dir, async (s) => {
      expect((await s.authenticate("alice@example.test", password))?.email).toBe("alice@example.test");
      expect((await s.getAccount("alice@example.test"))?.quotaBytes).toBe(1024 ** 3);
    });
  });

  test("user add --password-stdin does not echo the password", async () => {
    const r = await cli(dir, ["user", "add", "bob@example.test", "--password-stdin"], "bob's secret\n");
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("bob's secret");
    expect(r.stdout).not.toContain("password:");
    await withStore(dir, async (s) => expect((await s.authenticate("bob@example.test", "bob's secret"))?.email).toBe("bob@example.test"));
  });

  test("user passwd via --password-stdin replaces the password", async () => {
    const r = await cli(dir, ["user", "passwd", "bob@example.test", "--password-stdin"], "new pass phrase\r\n");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("password changed for bob@example.test");
    await withStore(dir, async (s) => {
      expect(await s.authenticate("bob@example.test", "bob's secret")).toBeNull();
      expect((await s.authenticate("bob@example.test", "new pass phrase"))?.email).toBe("bob@example.test");
    });
    const empty = await cli(dir, ["user", "passwd", "bob@example.test", "--password-stdin"], "");
    expect(empty.code).toBe(2);
  });

  test("user passwd without stdin generates a new password", async () => {
    const r = await cli(dir, ["user", "passwd", "bob@example.test"]);
    expect(r.code).toBe(0);
    const pw = /password: (\S+)/.exec(r.stdout)![1]!;
    await withStore(dir, async (s) => expect((await s.authenticate("bob@example.test", pw))?.email).toBe("bob@example.test"));
  });

  test("user list, quota, set", async () => {
    expect((await cli(dir, ["user", "quota", "bob@example.test", "500M"])).code).toBe(0);
    const list = await cli(dir, ["user", "list"]);
    expect(list.stdout).toMatch(/alice@example\.test\s+0 B\s+1\.0 GiB/);
    expect(list.stdout).toMatch(/bob@example\.test\s+0 B\s+500 MiB/);
    expect((await cli(dir, ["user", "quota", "bob@example.test", "none"])).code).toBe(0);
    const set = await cli(dir, ["user", "set", "bob@example.test", "--pop3-leave-on-server=yes", "--name", "Bob B"]);
    expect(set.code).toBe(0);
    expect(set.stdout).toContain("pop3-leave-on-server=yes");
    await withStore(dir, async (s) => {
      const b = await s.getAccount("bob@example.test");
      expect(b?.quotaBytes).toBeNull();
      expect(b?.settings.pop3LeaveOnServer).toBe(true);
      expect(b?.settings.displayName).toBe("Bob B");
    });
    expect((await cli(dir, ["user", "set", "bob@example.test", "--pop3-leave-on-server=perhaps"])).code).toBe(2);
  });

  test("alias add: one-to-many and catch-all; list; remove", async () => {
    expect((await cli(dir, ["alias", "add", "team@example.test", "alice@example.test"])).code).toBe(0);
    expect((await cli(dir, ["alias", "add", "team@example.test", "bob@example.test"])).code).toBe(0);
    expect((await cli(dir, ["alias", "add", "@example.test", "alice@example.test"])).code).toBe(0);
    const notLocal = await cli(dir, ["alias", "add", "x@elsewhere.example", "alice@example.test"]);
    expect(notLocal.code).toBe(2);
    const list = await cli(dir, ["alias", "list"]);
    expect(list.stdout).toMatch(/team@example\.test\s+alice@example\.test/);
    expect(list.stdout).toMatch(/team@example\.test\s+bob@example\.test/);
    expect(list.stdout).toMatch(/@example\.test\s+alice@example\.test/);
    await withStore(dir, async (s) => {
      const team = await s.resolveRecipient("team@example.test");
      expect(team && team !== "remote" ? team.accounts.map((a) => a.email).sort() : team).toEqual(["alice@example.test", "bob@example.test"]);
      const any = await s.resolveRecipient("whoever@example.test");
      expect(any && any !== "remote" ? any.accounts.map((a) => a.email) : any).toEqual(["alice@example.test"]);
    });
    const rm1 = await cli(dir, ["alias", "remove", "team@example.test", "bob@example.test"]);
    expect(rm1.stdout).toContain("removed 1 alias");
    const rmAll = await cli(dir, ["alias", "remove", "team@example.test"]);
    expect(rmAll.code).toBe(0);
    const none = await cli(dir, ["alias", "remove", "team@example.test"]);
    expect(none.code).toBe(1);
  });

  test("user remove, then domain remove", async () => {
    const busy = await cli(dir, ["domain", "remove", "example.test"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("still has accounts");
    expect((await cli(dir, ["user", "remove", "alice@example.test", "--yes"])).code).toBe(0);
    expect((await cli(dir, ["user", "remove", "bob@example.test", "--yes"])).code).toBe(0);
    expect((await cli(dir, ["domain", "remove", "example.test"])).code).toBe(0);
    expect((await cli(dir, ["domain", "list"])).stdout).toContain("no domains");
  });
});

describe("quickstart, check, queue", () => {
  const dir = freshDir();
  let password = "";

  test("quickstart creates domain, admin, config file and prints every DNS record", async () => {
    const r = await cli(dir, ["quickstart", "admin@corp.example", "--hostname", "mx1.corp.example"]);
    expect(r.code).toBe(0);
    password = /admin password: (\S+)/.exec(r.stdout)![1]!;
    const out = r.stdout;
    expect(out).toMatch(/^corp\.example\.\s+3600\s+IN\s+MX\s+10 mx1\.corp\.example\.$/m);
    expect(out).toMatch(/^corp\.example\.\s+3600\s+IN\s+TXT\s+"v=spf1 mx -all"$/m);
    expect(out).toMatch(/^pb\d{6}\._domainkey\.corp\.example\.\s+3600\s+IN\s+TXT\s+"v=DKIM1; k=rsa; p=/m);
    expect(out).toMatch(/^_dmarc\.corp\.example\.\s+3600\s+IN\s+TXT\s+"v=DMARC1; p=none; rua=mailto:postmaster@corp\.example"$/m);
    expect(out).toMatch(/^_mta-sts\.corp\.example\.\s+3600\s+IN\s+TXT\s+"v=STSv1; id=[a-z0-9]{1,32}"$/m);
    expect(out).toMatch(/^mta-sts\.corp\.example\.\s+3600\s+IN\s+CNAME\s+mx1\.corp\.example\.$/m);
    expect(out).toMatch(/^_smtp\._tls\.corp\.example\.\s+3600\s+IN\s+TXT\s+"v=TLSRPTv1; rua=mailto:postmaster@corp\.example"$/m);
    for (const [svc, port] of [["imaps", 993], ["imap", 143], ["pop3s", 995], ["submission", 587], ["submissions", 465], ["autodiscover", 443]] as const) {
      expect(out).toMatch(new RegExp(`^_${svc}\\._tcp\\.corp\\.example\\.\\s+3600\\s+IN\\s+SRV\\s+\\d+ 1 ${port} mx1\\.corp\\.example\\.$`, "m"));
    }
    expect(out).toMatch(/^autoconfig\.corp\.example\.\s+3600\s+IN\s+CNAME\s+mx1\.corp\.example\.$/m);
    expect(out).toMatch(/^autodiscover\.corp\.example\.\s+3600\s+IN\s+CNAME\s+mx1\.corp\.example\.$/m);
    const conf = readFileSync(join(dir, "pillarbox.toml"), "utf8");
    expect(conf).toContain('hostname = "mx1.corp.example"');
    await withStore(dir, async (s) => {
      expect((await s.authenticate("admin@corp.example", password))?.email).toBe("admin@corp.example");
      const pm = await s.resolveRecipient("postmaster@corp.example");
      expect(pm && pm !== "remote" ? pm.accounts.map((a) => a.email) : pm).toEqual(["admin@corp.example"]);
    });
  });

  test("the written config file is used by later commands", async () => {
    const r = await cli(dir, ["check"]);
    expect(r.stdout).toContain("configuration valid (hostname mx1.corp.example)");
  });

  test("quickstart again keeps the account and the config file", async () => {
    const r = await cli(dir, ["quickstart", "admin@corp.example"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("password is unchanged");
    expect(r.stdout).toContain("kept existing config file");
    expect(r.stdout).not.toContain("admin password:");
    await withStore(dir, async (s) => expect(await s.authenticate("admin@corp.example", password)).not.toBeNull());
  });

  test("check reports database integrity and migrations", async () => {
    const r = await cli(dir, ["check"]);
    expect(r.stdout).toContain("ok    database integrity_check: ok");
    expect(r.stdout).toMatch(/ok {4}database migrations current/);
    expect(r.code).toBe(0);
    const missing = await cli(freshDir(), ["check"]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toContain("FAIL");
  });

  test("check fails on an unusable configured certificate", async () => {
    const bad = join(root, "bad-cert.pem");
    require("node:fs").writeFileSync(bad, "not a certificate");
    const r = await runCli(["check"], { env: { PILLARBOX_DATA_DIR: dir, PILLARBOX_TLS_CERT: bad, PILLARBOX_TLS_KEY: bad } });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL {2}TLS certificate/);
  });

  test("queue list / retry / drop / flush", async () => {
    const id = await withStore(dir, async (s) => (await s.enqueue({ sender: "admin@corp.example", recipients: ["x@remote.example"], raw: new TextEncoder().encode("Subject: q\r\n\r\nhi\r\n") })).id);
    const list = await cli(dir, ["queue", "list"]);
    expect(list.stdout).toContain(`${id}  from <admin@corp.example>`);
    expect(list.stdout).toMatch(/pending\s+x@remote\.example/);
    await withStore(dir, (s) => s.updateQueueEntry(id, { nextAttemptAt: Date.now() + 3_600_000 }));
    const retry = await cli(dir, ["queue", "retry", String(id)]);
    expect(retry.code).toBe(0);
    await withStore(dir, async (s) => expect((await s.getQueueEntry(id))!.nextAttemptAt).toBeLessThanOrEqual(Date.now()));
    await withStore(dir, (s) => s.updateQueueEntry(id, { nextAttemptAt: Date.now() + 3_600_000 }));
    const flush = await cli(dir, ["queue", "flush"]);
    expect(flush.stdout).toContain("1 queued message scheduled");
    await withStore(dir, async (s) => expect((await s.getQueueEntry(id))!.nextAttemptAt).toBeLessThanOrEqual(Date.now()));
    expect((await cli(dir, ["queue", "retry", "999999"])).code).toBe(1);
    expect((await cli(dir, ["queue", "drop", "abc"])).code).toBe(2);
    expect((await cli(dir, ["queue", "drop", String(id)])).code).toBe(0);
    expect((await cli(dir, ["queue", "list"])).stdout).toContain("queue is empty");
  });

  test("admin commands create the data dir 0700 on first use", async () => {
    const d = freshDir();
    expect(existsSync(d)).toBe(false);
    expect((await cli(d, ["domain", "list"])).code).toBe(0);
    expect(require("node:fs").statSync(d).mode & 0o777).toBe(0o700);
  });
});
