/**
 * The anchor: Debian's SpamAssassin on the same split in the same run.
 * `sa-learn --spam` / `--ham` on the training half into its own Bayes
 * database (`--dbpath` in a temp dir), then `spamd` on a private loopback
 * port scores the test half through `spamc -c` (local tests only: `-L`,
 * no DNS, no Razor/Pyzor; Bayes on, auto-learning off). The site config is a
 * copy of /etc/spamassassin (its .pre files load the plugins) with our
 * local.cf; the rules are the ones the Debian package ships.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, cpSync, mkdirSync, readFileSync, writeFileSync, readdirSync } from "node:fs";
import { freePort } from "./smtp-share.ts";
import { dirname, join } from "node:path";
import type { CorpusMessage } from "./corpus.ts";

export interface SaResult {
  results: { spam: boolean; junk: boolean; score: number }[];
  learnSeconds: number;
  scoreSeconds: number;
  version: string;
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.stdout || "").slice(0, 800)}`);
  return `${r.stdout}${r.stderr}`;
}

/** One spamc -c: "score/threshold" on stdout; exit 1 spam, 0 ham (-x: a failure is an error, never a silent 0/0). */
function spamc(port: number, raw: Uint8Array): Promise<{ score: number; junk: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn("spamc", ["-d", "127.0.0.1", "-p", String(port), "-c", "-x", "-t", "300", "-s", String(Math.max(raw.length + 1024, 512 * 1024))], { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    p.stdout.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    p.on("error", reject);
    p.on("close", (code) => {
      const m = /^(-?[\d.]+)\/(-?[\d.]+)/.exec(out.trim());
      if (!m || (code !== 0 && code !== 1)) return reject(new Error(`spamc failed (${code}): ${out} ${err}`.slice(0, 300)));
      resolve({ score: Number(m[1]), junk: code === 1 });
    });
    p.stdin.on("error", () => {});
    p.stdin.end(raw);
  });
}

async function waitReady(port: number, proc: ChildProcess, logFile: string): Promise<void> {
  const probe = new TextEncoder().encode("Subject: probe\r\n\r\nprobe\r\n");
  for (let i = 0; i < 600; i++) {
    if (proc.exitCode !== null) throw new Error(`spamd exited (${proc.exitCode}): ${readFileSync(logFile, "utf8").slice(-800)}`);
    try {
      await spamc(port, probe);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error("spamd did not answer within 5 minutes");
}

export async function runSpamAssassin(work: string, trainHalf: readonly CorpusMessage[], testHalf: readonly CorpusMessage[], opts: { children: number; log: (s: string) => void }): Promise<SaResult> {
  const version = run("spamassassin", ["--version"]).split("\n")[0].trim();
  const cfg = join(work, "site");
  const db = join(work, "bayes");
  mkdirSync(db, { recursive: true });
  cpSync("/etc/spamassassin", cfg, { recursive: true, filter: (src) => !src.endsWith("local.cf") && !src.includes("sa-update") });
  writeFileSync(
    join(cfg, "local.cf"),
    [
      "use_bayes 1",
      "bayes_auto_learn 0",
      "bayes_auto_expire 0",
      `bayes_path ${db}/bayes`,
      "bayes_file_mode 0666",
      "skip_rbl_checks 1",
      "dns_available no",
      "use_razor2 0",
      "use_pyzor 0",
      "required_score 5.0",
      "",
    ].join("\n"),
  );
  for (const cls of ["spam", "ham"] as const) {
    const dir = join(work, "train", cls);
    mkdirSync(dir, { recursive: true });
    trainHalf.filter((m) => m.spam === (cls === "spam")).forEach((m, i) => writeFileSync(join(dir, `${i}.eml`), m.raw));
  }
  const t0 = performance.now();
  for (const cls of ["spam", "ham"] as const) {
    const out = run("sa-learn", ["-L", `--siteconfigpath=${cfg}`, `--dbpath=${db}/bayes`, `--${cls}`, join(work, "train", cls)]);
    opts.log(`sa-learn --${cls}: ${out.trim().split("\n").pop()}`);
  }
  const learnSeconds = (performance.now() - t0) / 1000;
  opts.log(`sa-learn --dump magic: ${run("sa-learn", [`--siteconfigpath=${cfg}`, `--dbpath=${db}/bayes`, "--dump", "magic"]).split("\n").filter((l) => /nspam|nham/.test(l)).map((l) => l.trim().replace(/\s+/g, " ")).join("; ")}`);
  // spamd drops to `nobody`: it must read the config and the database
  for (const p of [dirname(work), work, cfg, db, ...readdirSync(db).map((f) => join(db, f)), ...readdirSync(cfg).map((f) => join(cfg, f))]) chmodSync(p, p.startsWith(db) && p !== db ? 0o666 : 0o777);
  const port = await freePort();
  const logFile = join(work, "spamd.log");
  writeFileSync(logFile, "");
  const proc = spawn(
    "spamd",
    ["-L", "-x", "-u", "nobody", `--siteconfigpath=${cfg}`, "-i", `127.0.0.1:${port}`, "-A", "127.0.0.1", "-m", String(opts.children), `--min-children=${opts.children}`, `--min-spare=${opts.children}`, `--max-spare=${opts.children}`, `--syslog=${logFile}`, `--pidfile=${join(work, "spamd.pid")}`, `-H`, work],
    { stdio: "ignore" },
  );
  try {
    await waitReady(port, proc, logFile);
    const results: SaResult["results"] = new Array(testHalf.length);
    let next = 0;
    const t1 = performance.now();
    const worker = async () => {
      while (next < testHalf.length) {
        const i = next++;
        const r = await spamc(port, testHalf[i].raw);
        results[i] = { spam: testHalf[i].spam, junk: r.junk, score: r.score };
        if (i > 0 && i % 1000 === 0) opts.log(`spamd: ${i} of ${testHalf.length} scored`);
      }
    };
    await Promise.all(Array.from({ length: opts.children }, worker));
    return { results, learnSeconds, scoreSeconds: (performance.now() - t1) / 1000, version };
  } finally {
    proc.kill("SIGTERM");
    await new Promise((r) => (proc.exitCode !== null ? r(null) : proc.once("exit", r)));
  }
}
