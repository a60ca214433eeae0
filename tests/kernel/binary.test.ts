/**
 * The single binary (issue "Foundation", done-when 2): built, copied alone
 * into an empty folder, it starts with a fresh PILLARBOX_DATA_DIR and its own
 * CLI creates a domain and a user while it runs.
 */
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { LISTENER_DEFAULTS } from "../../src/registry.ts";
import { BUN, REPO_ROOT, run, spawnBackground, type Background } from "../helpers/proc.ts";

setDefaultTimeout(180_000);
const root = mkdtempSync(join(tmpdir(), "pb-binary-test-"));
let server: Background | null = null;
afterAll(() => {
  server?.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

test("dist binary runs alone: serve + CLI on the same data dir", async () => {
  const built = join(root, "build", "pillarbox");
  const b = await run(BUN, [resolve(REPO_ROOT, "scripts/build.ts"), "--target=linux-x64", `--outfile=${built}`], { cwd: REPO_ROOT, timeoutMs: 170_000 });
  expect(b.stderr + b.stdout).toContain("built ");
  expect(b.code).toBe(0);

  const alone = join(root, "alone");
  mkdirSync(alone);
  copyFileSync(built, join(alone, "pillarbox"));
  require("node:fs").chmodSync(join(alone, "pillarbox"), 0o755);
  expect(readdirSync(alone)).toEqual(["pillarbox"]);

  // No node_modules, no repository, a minimal environment.
  const dataDir = join(root, "fresh-data");
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) env[k] = undefined;
  Object.assign(env, { PATH: "/usr/bin:/bin", HOME: alone, TMPDIR: join(root, "tmp"), PILLARBOX_DATA_DIR: dataDir, PILLARBOX_HOSTNAME: "mail.binary.test" });
  mkdirSync(env.TMPDIR!);
  for (const n of Object.keys(LISTENER_DEFAULTS)) env[`PILLARBOX_${n}_LISTEN`] = n === "SMTP" ? "127.0.0.1:0" : "off";

  server = spawnBackground(join(alone, "pillarbox"), ["serve"], { cwd: alone, env });
  const m = await server.waitFor(/\{[^\n]*"msg":"pillarbox serving"[^\n]*\}/, 60_000);
  const smtpPort = Number((JSON.parse(m[0]).listeners.SMTP as string).split(":").pop());

  const cli = (args: string[], input?: string) => run(join(alone, "pillarbox"), args, { cwd: alone, env, input, timeoutMs: 60_000 });
  const dom = await cli(["domain", "add", "binary.test"]);
  expect(dom.code).toBe(0);
  const user = await cli(["user", "add", "dora@binary.test"]);
  expect(user.code).toBe(0);
  expect(user.stdout).toMatch(/password: \S{16,}/);
  expect((await cli(["user", "list"])).stdout).toContain("dora@binary.test");

  // The running server sees the account the other process created.
  const reply = await new Promise<string>((resolveReply, reject) => {
    const s = net.connect(smtpPort, "127.0.0.1");
    let buf = "";
    const script = ["EHLO c.test", "MAIL FROM:<x@remote.test>", "RCPT TO:<dora@binary.test>"];
    let step = 0;
    s.on("data", (d) => {
      buf += d.toString();
      const lines = buf.split("\r\n");
      buf = lines.pop()!;
      for (const l of lines) {
        if (/^\d{3}-/.test(l)) continue;
        if (step === script.length) {
          s.destroy();
          resolveReply(l);
          return;
        }
        s.write(script[step++] + "\r\n");
      }
    });
    s.on("error", reject);
  });
  expect(reply).toStartWith("250");

  server.kill("SIGTERM");
  expect((await server.exited).code).toBe(0);
  server = null;
});

// Issue 18, found item 7: the binary used to extract libsql's addon into $TMPDIR when it started, so
// an unwritable TMPDIR crashed even --version, and each user left a 9.7 MB /tmp/.bun-<uid>-*.node.
test("the binary needs no writable TMPDIR, leaves nothing in /tmp, caches the driver in the data dir", async () => {
  const bin = join(root, "alone", "pillarbox"); // built by the test above
  expect(existsSync(bin)).toBe(true);
  const bunTmp = () => new Set(readdirSync(tmpdir()).filter((f) => f.startsWith(".bun-")));
  const before = bunTmp();
  const dataDir = join(root, "cache-data");
  const env: Record<string, string | undefined> = {};
  for (const k of Object.keys(process.env)) env[k] = undefined;
  // /proc/... cannot be created even by root: nothing but the data dir is writable.
  Object.assign(env, { PATH: "/usr/bin:/bin", HOME: "/proc/nonexistent", TMPDIR: "/proc/nonexistent", PILLARBOX_DATA_DIR: dataDir });
  const cli = (args: string[]) => run(bin, args, { cwd: root, env, timeoutMs: 60_000 });
  const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at \S|\$bunfs|\d+ \| /);

  const v = await cli(["--version"]);
  expect(v.code).toBe(0);
  expect(v.stdout).toStartWith("pillarbox ");
  // Found item 9: the binary carries its commit and build time (scripts/build.ts defines them).
  expect(v.stdout).toMatch(/^pillarbox \d+\.\d+\.\d+ \(commit [0-9a-f]{7,}(-dirty)?, built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)\n$/);
  noStack(v.stderr);
  const h = await cli(["--help"]);
  expect(h.code).toBe(0);
  expect(existsSync(dataDir)).toBe(false); // --version and --help touch no disk

  const list = await cli(["user", "list"]);
  expect(list.stderr).toBe("");
  expect(list.code).toBe(0);
  expect(list.stdout).toContain("no accounts");
  const cacheDir = join(dataDir, ".cache");
  const cached = readdirSync(cacheDir).filter((f) => /^libsql-[0-9a-f]{16}\.node$/.test(f));
  expect(cached).toHaveLength(1);
  expect(statSync(cacheDir).mode & 0o777).toBe(0o700);
  const first = statSync(join(cacheDir, cached[0]!));
  // A second run reuses the cached copy (same inode, not rewritten).
  expect((await cli(["domain", "add", "cache.test"])).code).toBe(0);
  expect(statSync(join(cacheDir, cached[0]!)).ino).toBe(first.ino);
  expect(readdirSync(cacheDir).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  // A damaged copy is replaced, not a crash.
  writeFileSync(join(cacheDir, cached[0]!), "damaged");
  const again = await cli(["domain", "list"]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain("cache.test");
  expect(statSync(join(cacheDir, cached[0]!)).size).toBe(first.size);
  expect([...bunTmp()].filter((f) => !before.has(f))).toEqual([]);

  // Nowhere to put the driver: words naming each directory tried and what to set, exit 1.
  const blocked = join(root, "blocked-data");
  mkdirSync(blocked);
  writeFileSync(join(blocked, ".cache"), "not a directory");
  const r = await run(bin, ["user", "list"], { cwd: root, env: { ...env, PILLARBOX_DATA_DIR: blocked }, timeoutMs: 60_000 });
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("cannot unpack the SQLite driver");
  expect(r.stderr).toContain(`${join(blocked, ".cache")}: EEXIST`);
  expect(r.stderr).toContain("/proc/nonexistent");
  expect(r.stderr).toContain("PILLARBOX_CACHE_DIR");
  noStack(r.stderr);
  // ... and PILLARBOX_CACHE_DIR is then used.
  const alt = join(root, "alt-cache");
  const ok = await run(bin, ["user", "list"], { cwd: root, env: { ...env, PILLARBOX_DATA_DIR: blocked, PILLARBOX_CACHE_DIR: alt }, timeoutMs: 60_000 });
  expect(ok.code).toBe(0);
  expect(readdirSync(alt).some((f) => f.startsWith("libsql-"))).toBe(true);
});
