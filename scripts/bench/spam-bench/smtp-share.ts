/**
 * The filter's share of SMTP delivery time at the 2 KB SMTP benchmark's load
 * (scripts/bench/smtp: Postfix's smtp-source, 20 sessions, 2 KB messages,
 * connection reuse): the same Pillarbox (`bun src/main.ts serve`, only the
 * SMTP listener, inbound verification off as there) run once with
 * spam.enabled off and once on (built-in backend, DNS lists off: offline),
 * alternating, median of the rounds. share = (t_on − t_off) / t_on: the part
 * of the delivery time the filter adds.
 *
 * The recipient's Bayes model is trained first (`trained` corpus messages,
 * half spam, half ham; 600 by default) as a user's would be after a while:
 * an untrained account skips the classifier's token lookups, which would make
 * the filter look cheaper than it is in use.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, openSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { openStorage } from "../../../storage/open.ts";
import { passwordHasher } from "../../../src/auth.ts";
import { createBayesClassifier } from "../../../src/spam/bayes.ts";
import { loadCorpus } from "./corpus.ts";

const ROOT = join(import.meta.dir, "../../..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const DOMAIN = "bench.test";
const USER = `bench@${DOMAIN}`;

/** A TCP port free on 127.0.0.1 now (the spamd and smtp-share servers bind it next). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1", () => {
        c.destroy();
        r(true);
      });
      c.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never opened`);
}

class Server {
  proc: ChildProcess | null = null;
  env: Record<string, string>;
  constructor(
    readonly dir: string,
    readonly port: number,
    spam: boolean,
  ) {
    mkdirSync(dir, { recursive: true });
    this.env = {
      ...(process.env as Record<string, string>),
      PILLARBOX_DATA_DIR: dir,
      PILLARBOX_HOSTNAME: "bench.pillarbox.test",
      PILLARBOX_SMTP_LISTEN: `127.0.0.1:${port}`,
      PILLARBOX_SMTP_VERIFY_INBOUND: "false",
      PILLARBOX_LOG_LEVEL: "warn",
      PILLARBOX_SPAM: spam ? "on" : "off",
    };
    // DNS lists off (offline): in the data dir's pillarbox.toml, since an empty environment variable counts as unset
    writeFileSync(join(dir, "pillarbox.toml"), "[spam]\ndns_blocklists = []\ndomain_blocklists = []\ndns_allowlists = []\n");
    for (const l of ["SUBMISSION", "SUBMISSIONS", "IMAP", "IMAPS", "POP3", "POP3S", "HTTP", "HTTPS", "MANAGESIEVE"]) this.env[`PILLARBOX_${l}_LISTEN`] = "off";
  }
  cli(args: string[], input = ""): void {
    const r = spawnSync(BUN, [join(ROOT, "src/main.ts"), ...args], { env: this.env, input, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`pillarbox ${args.join(" ")}: ${r.stderr}`);
  }
  async start(prepare?: (dir: string) => Promise<void>): Promise<void> {
    this.cli(["domain", "add", DOMAIN]);
    this.cli(["user", "add", USER, "--password-stdin"], "bench-password-1\n");
    await prepare?.(this.dir);
    const log = openSync(join(this.dir, "serve.log"), "w");
    this.proc = spawn(BUN, [join(ROOT, "src/main.ts"), "serve"], { env: this.env, stdio: ["ignore", log, log] });
    await waitPort(this.port);
  }
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    p.kill("SIGTERM");
    await new Promise((r) => p.once("exit", r));
  }
}

function smtpSource(port: number, count: number, sessions: number): number {
  const args = ["-s", String(sessions), "-m", String(count), "-l", "2048", "-f", "loadgen@sender.example", "-t", USER, "-M", "loadgen.sender.example", "-d", `127.0.0.1:${port}`];
  const t0 = performance.now();
  const r = spawnSync("smtp-source", args, { encoding: "utf8" });
  const dt = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`smtp-source failed (${r.status}): ${r.stderr.slice(0, 400)}`);
  return dt;
}

/** Trains `email`'s model in the data dir's database (server not running) with `n` corpus messages, half spam and half ham. */
async function trainAccount(dir: string, email: string, n: number): Promise<void> {
  if (n <= 0) return;
  const storage = await openStorage({ hasher: passwordHasher, url: `file:${join(dir, "pillarbox.db")}`, dataDir: dir, gcIntervalMs: 0 });
  try {
    const account = await storage.mail.getAccount(email);
    if (!account) throw new Error(`no account ${email}`);
    const bayes = createBayesClassifier(storage.bayes);
    const corpus = loadCorpus();
    const pick = [...corpus.filter((m) => m.spam).slice(0, n / 2), ...corpus.filter((m) => !m.spam).slice(0, n / 2)];
    const domain = email.split("@")[1]!;
    for (const m of pick) await bayes.train(account.id, domain, `bench-${m.name}`, bayes.tokenize(m.raw, 512 * 1024), m.spam ? "spam" : "ham");
  } finally {
    await storage.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function smtpShare(
  work: string,
  opts: { count: number; sessions: number; rounds: number; trained?: number; log: (s: string) => void },
): Promise<{ off: number; on: number; share: number; count: number; trained: number }> {
  const off = new Server(join(work, "smtp-off"), await freePort(), false);
  const on = new Server(join(work, "smtp-on"), await freePort(), true);
  const trained = opts.trained ?? 600;
  try {
    await off.start(async (dir) => trainAccount(dir, USER, trained));
    await on.start(async (dir) => trainAccount(dir, USER, trained));
    opts.log(`smtp: the recipient's model trained with ${trained} corpus messages on both servers`);
    smtpSource(off.port, 100, 5);
    smtpSource(on.port, 100, 5);
    const tOff: number[] = [];
    const tOn: number[] = [];
    for (let i = 0; i < opts.rounds; i++) {
      // alternate which goes first, so a slow moment of the machine does not favour one
      if (i % 2 === 0) {
        tOff.push(smtpSource(off.port, opts.count, opts.sessions));
        tOn.push(smtpSource(on.port, opts.count, opts.sessions));
      } else {
        tOn.push(smtpSource(on.port, opts.count, opts.sessions));
        tOff.push(smtpSource(off.port, opts.count, opts.sessions));
      }
      opts.log(`smtp round ${i + 1}: spam off ${(opts.count / tOff[i]).toFixed(0)} msg/s, on ${(opts.count / tOn[i]).toFixed(0)} msg/s`);
    }
    const a = median(tOff);
    const b = median(tOn);
    return { off: opts.count / a, on: opts.count / b, share: Math.max(0, (b - a) / b), count: opts.count, trained };
  } finally {
    await off.stop();
    await on.stop();
  }
}
