/**
 * Issue 18, found items 8 and 11, end to end with the CLI in its own process:
 * addresses that are not RFC 5321 dot-strings, aliases shadowing accounts,
 * output piped into `head`, `user remove` confirmation, one `serve` per data
 * dir, and the data dir's ownership when an admin command runs as root.
 */
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { readServerPid } from "../../src/server-lock.ts";
import { BUN, hasCommand, REPO_ROOT, run, runCli, spawnBackground, type Background } from "../helpers/proc.ts";

setDefaultTimeout(60_000);

const root = mkdtempSync(join(tmpdir(), "pb-cli-fixes-"));
chmodSync(root, 0o755); // uid 990 (the tests of data dir ownership) must reach the data dirs inside
const servers: Background[] = [];
afterAll(() => {
  for (const s of servers) s.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const freshDir = () => join(root, `d${n++}`);
const MAIN = resolve(REPO_ROOT, "src/main.ts");

/** The CLI's environment: this data dir, no ambient PILLARBOX_* settings, every listener off but SMTP on port 0. */
function envFor(dataDir: string): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined, PILLARBOX_HOSTNAME: "mail.fixes.test" };
  for (const k of Object.keys(process.env)) if (k.startsWith("PILLARBOX_") && !(k in env)) env[k] = undefined;
  for (const l of Object.keys(LISTENER_DEFAULTS)) env[`PILLARBOX_${l}_LISTEN`] = l === "SMTP" ? "127.0.0.1:0" : "off";
  return env;
}
const cli = (dataDir: string, args: string[], input?: string) => runCli(args, { env: envFor(dataDir), input });

/** A data dir with example.org, bob@example.org and team@example.org -> bob. */
async function seeded(): Promise<string> {
  const dir = freshDir();
  expect((await cli(dir, ["domain", "add", "example.org"])).code).toBe(0);
  expect((await cli(dir, ["user", "add", "bob@example.org"])).code).toBe(0);
  expect((await cli(dir, ["alias", "add", "team@example.org", "bob@example.org"])).code).toBe(0);
  return dir;
}

const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at \S|error: .*\n\s*\d+ \|/);

describe("addresses (RFC 5321 §4.1.2 dot-string)", () => {
  const bad: [string, RegExp][] = [
    [".bob@example.org", /starts with a dot/],
    ["bob.@example.org", /ends with a dot/],
    ["bo..b@example.org", /two dots in a row/],
    [`${"x".repeat(65)}@example.org`, /longer than 64 octets/],
    ["bob@exa_mple.org", /not an email address|domain label/],
  ];

  test("user add and alias add refuse them in words (exit 2), nothing is created", async () => {
    const dir = await seeded();
    for (const [addr, words] of bad) {
      const u = await cli(dir, ["user", "add", addr]);
      expect(u.code).toBe(2);
      expect(u.stderr).toMatch(words);
      noStack(u.stderr);
    }
    // alias add shares the check (one process each for source and destination is enough here;
    // the store test below covers every form)
    const a = await cli(dir, ["alias", "add", ".sales@example.org", "bob@example.org"]);
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/starts with a dot/);
    const d = await cli(dir, ["alias", "add", "sales@example.org", "bo..b@example.org"]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/two dots in a row/);
    const list = await cli(dir, ["user", "list"]);
    expect(list.stdout.trim().split("\n").length).toBe(2); // header + bob
    expect((await cli(dir, ["alias", "list"])).stdout).not.toContain("sales@");
    // valid forms still pass: atext specials, a dot inside, a plus
    expect((await cli(dir, ["user", "add", "o'neil.x+y@example.org"])).code).toBe(0);
  });

  test("the store refuses them too (the admin API and webmail create through it)", async () => {
    const dir = await seeded();
    const store = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir });
    try {
      for (const [addr, words] of bad.slice(0, 4)) {
        await expect(store.addAccount(addr, "long enough password")).rejects.toThrow(words);
        await expect(store.addAlias(addr, "bob@example.org")).rejects.toThrow(words);
        await expect(store.addAlias("x@example.org", addr)).rejects.toThrow(words);
      }
      // a catch-all and a domain-rewriting destination have no local part and stay valid
      expect((await store.addAlias("@example.org", "bob@example.org")).source).toBe("@example.org");
    } finally {
      await store.close();
    }
  });
});

describe("aliases and accounts do not shadow each other silently", () => {
  test("alias add over an account and user add over an alias source need --force", async () => {
    const dir = await seeded();
    const a = await cli(dir, ["alias", "add", "bob@example.org", "someone@elsewhere.test"]);
    expect(a.code).toBe(1);
    expect(a.stderr).toContain("bob@example.org is an account");
    expect(a.stderr).toContain("--force");
    expect((await cli(dir, ["alias", "list"])).stdout).not.toContain("someone@elsewhere.test");

    const u = await cli(dir, ["user", "add", "team@example.org"]);
    expect(u.code).toBe(1);
    expect(u.stderr).toContain("team@example.org is the source of an alias (-> bob@example.org)");
    expect(u.stderr).toContain("--force");
    expect((await cli(dir, ["user", "list"])).stdout).not.toContain("team@");

    expect((await cli(dir, ["alias", "add", "bob@example.org", "someone@elsewhere.test", "--force"])).code).toBe(0);
    expect((await cli(dir, ["user", "add", "team@example.org", "--force"])).code).toBe(0);
    expect((await cli(dir, ["user", "list"])).stdout).toContain("team@example.org");
  });

  test("the store refuses both without force", async () => {
    const dir = await seeded();
    const store = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir });
    try {
      await expect(store.addAlias("bob@example.org", "x@elsewhere.test")).rejects.toThrow(/is an account/);
      await expect(store.addAccount("team@example.org", "long enough password")).rejects.toThrow(/source of an alias/);
      expect((await store.addAlias("bob@example.org", "x@elsewhere.test", { force: true })).source).toBe("bob@example.org");
    } finally {
      await store.close();
    }
  });
});

describe("output into a closed pipe", () => {
  test("quickstart | head -1 prints one line, no EPIPE trace, and still finishes its work", async () => {
    const dir = freshDir();
    const r = await run("bash", ["-c", `"$0" "${MAIN}" quickstart admin@pipe.test | head -1; echo "pillarbox-exit=\${PIPESTATUS[0]}" >&2`, BUN], {
      env: envFor(dir),
      timeoutMs: 60_000,
    });
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
    expect(r.stdout).toContain("pipe.test");
    expect(r.stderr).not.toContain("EPIPE");
    noStack(r.stderr);
    expect(r.stderr).toContain("pillarbox-exit=0");
    expect(existsSync(join(dir, "pillarbox.toml"))).toBe(true);
    expect((await cli(dir, ["user", "list"])).stdout).toContain("admin@pipe.test");
  });

  test("serve --help | head -1 as well", async () => {
    const r = await run("bash", ["-c", `"$0" "${MAIN}" serve --help | head -1; echo "pillarbox-exit=\${PIPESTATUS[0]}" >&2`, BUN], { timeoutMs: 60_000 });
    expect(r.stdout).toStartWith("Usage: pillarbox serve");
    expect(r.stderr).toContain("pillarbox-exit=0");
    expect(r.stderr).not.toContain("EPIPE");
  });
});

describe("user remove asks first", () => {
  test("without a terminal it refuses unless --yes, saying how many messages would go", async () => {
    const dir = await seeded();
    // one message in bob's INBOX, delivered through the store
    const store = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir });
    try {
      const raw = new TextEncoder().encode("From: a@elsewhere.test\r\nTo: bob@example.org\r\nSubject: keep\r\nMessage-ID: <1@x>\r\n\r\nhello\r\n");
      const acct = (await store.getAccount("bob@example.org"))!;
      const inbox = (await store.listFolders(acct.id)).find((f) => f.name === "INBOX")!;
      await store.append(inbox.id, [{ raw }]);
    } finally {
      await store.close();
    }
    const r = await cli(dir, ["user", "remove", "bob@example.org"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("bob@example.org has 1 message");
    expect(r.stderr).toContain("--yes");
    expect((await cli(dir, ["user", "list"])).stdout).toContain("bob@example.org");
    const y = await cli(dir, ["user", "remove", "bob@example.org", "--yes"]);
    expect(y.code).toBe(0);
    expect((await cli(dir, ["user", "list"])).stdout).not.toContain("bob@example.org");
  });

  test.skipIf(!hasCommand("script"))("on a terminal it asks: anything but yes keeps the account, yes removes it", async () => {
    const dir = await seeded();
    const onTty = (answer: string) =>
      run("script", ["-qec", `"${BUN}" "${MAIN}" user remove bob@example.org`, "/dev/null"], { env: envFor(dir), input: `${answer}\n`, timeoutMs: 60_000 });
    const no = await onTty("no");
    expect(no.stdout).toContain("bob@example.org has 0 messages");
    expect(no.stdout).toContain("Type yes to confirm");
    expect(no.stdout).toContain("not removed");
    expect((await cli(dir, ["user", "list"])).stdout).toContain("bob@example.org");
    const yes = await onTty("yes");
    expect(yes.stdout).toContain("removed account bob@example.org");
    expect((await cli(dir, ["user", "list"])).stdout).not.toContain("bob@example.org");
  });
});

describe("one serve per data dir", () => {
  const serve = (dir: string) => {
    const s = spawnBackground(BUN, [MAIN, "serve"], { env: envFor(dir) });
    servers.push(s);
    return s;
  };

  test("a second serve refuses with the first one's pid; the lock goes with the first; a stale lock is taken over", async () => {
    const dir = freshDir();
    const first = serve(dir);
    await first.waitFor(/"msg":"pillarbox serving"/, 45_000);
    expect(readServerPid(dir)).toBe(first.child.pid!);

    const second = await runCli(["serve"], { env: envFor(dir), timeoutMs: 45_000 });
    expect(second.code).toBe(1);
    expect(second.stderr).toContain(`another pillarbox server (pid ${first.child.pid}) is already running on the data dir ${dir}`);
    noStack(second.stderr);

    first.kill("SIGTERM");
    expect((await first.exited).code).toBe(0);
    expect(existsSync(join(dir, "pillarbox.pid"))).toBe(false);
    expect(readServerPid(dir)).toBeNull();

    // After a crash: a lock naming a live process that started at another time (a reused pid),
    // then one naming a pid that is gone. Both are stale: serve starts.
    for (const stale of [`${process.pid} 1\n`, "4194300 12345\n"]) {
      writeFileSync(join(dir, "pillarbox.pid"), stale);
      expect(readServerPid(dir)).toBeNull();
      const again = serve(dir);
      await again.waitFor(/"msg":"pillarbox serving"/, 45_000);
      expect(readServerPid(dir)).toBe(again.child.pid!);
      again.kill("SIGTERM");
      expect((await again.exited).code).toBe(0);
    }
  });
});

/** Every path under `dir` (itself included) with its owner. */
function owners(dir: string): { path: string; uid: number; gid: number }[] {
  const out: { path: string; uid: number; gid: number }[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    out.push({ path: p, uid: st.uid, gid: st.gid });
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
  };
  walk(dir);
  return out;
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0;

describe.skipIf(!asRoot)("data dir ownership (run as root, as CI does)", () => {
  test("admin commands as root on a data dir owned by uid 990 leave every file to 990", async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 990, 990);
    const q = await cli(dir, ["quickstart", "admin@own.test"]);
    expect(q.code).toBe(0);
    expect((await cli(dir, ["user", "add", "carol@own.test"])).code).toBe(0);
    expect((await cli(dir, ["alias", "add", "info@own.test", "carol@own.test"])).code).toBe(0);
    expect((await cli(dir, ["domain", "add", "second.test"])).code).toBe(0);
    // an import stores blobs
    const ics = join(root, "own.ics");
    writeFileSync(ics, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:own-1@t\r\nDTSTAMP:20261201T000000Z\r\nDTSTART:20261210T100000Z\r\nDTEND:20261210T110000Z\r\nSUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");
    expect((await cli(dir, ["calendar", "import", "carol@own.test", ics])).code).toBe(0);
    const all = owners(dir);
    expect(all.map((o) => o.path)).toContain(join(dir, "pillarbox.toml"));
    expect(all.map((o) => o.path)).toContain(join(dir, "blobs"));
    expect(all.map((o) => o.path)).toContain(join(dir, "pillarbox.db-wal"));
    expect(all.filter((o) => o.uid !== 990 || o.gid !== 990)).toEqual([]);
    expect(readFileSync(join(dir, "pillarbox.toml"), "utf8")).toContain("mail.fixes.test");
  });

  test("a root-owned file inside the service user's data dir: refused with the chown to run", async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    expect((await cli(dir, ["domain", "add", "own.test"])).code).toBe(0); // files made by root
    chownSync(dir, 990, 990);
    const r = await cli(dir, ["user", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("uid 990");
    expect(r.stderr).toContain(`chown -R 990:990 ${dir}`);
    expect(r.stderr).not.toContain("ConnectionFailed");
    noStack(r.stderr);
  });

  test("the service user's data dir under a directory closed to that user: words naming the cause", async () => {
    const closed = join(root, `closed${n++}`);
    mkdirSync(closed, { mode: 0o700 }); // root's, closed to others
    const dir = join(closed, "data");
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 990, 990);
    const r = await cli(dir, ["user", "list"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`owns the data dir ${dir} but cannot reach it`);
    expect(r.stderr).toContain("chmod o+x");
    noStack(r.stderr);
  });

  test.skipIf(!hasCommand("setpriv"))("the service user on a root-owned data dir: words, not ConnectionFailed(14), for admin commands and serve", async () => {
    const dir = freshDir();
    mkdirSync(dir, { mode: 0o700 });
    expect((await cli(dir, ["domain", "add", "own.test"])).code).toBe(0);
    const as990 = (args: string[]) =>
      run("setpriv", ["--reuid=990", "--regid=990", "--clear-groups", BUN, MAIN, ...args], { env: { ...envFor(dir), HOME: "/nonexistent" }, timeoutMs: 45_000 });
    for (const args of [["user", "list"], ["serve"]]) {
      const r = await as990(args);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`uid 990 cannot write the data dir: ${dir} (EACCES)`);
      expect(r.stderr).toContain(`chown -R 990:990 ${dir}`);
      expect(r.stderr).toContain("sudo -u '#0'");
      expect(r.stderr).not.toContain("ConnectionFailed");
      noStack(r.stderr);
    }
    const check = await as990(["check"]);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`FAIL  uid 990 cannot write the data dir: ${dir} (EACCES)`);
    expect(check.stdout + check.stderr).not.toContain("ConnectionFailed");
  });
});
