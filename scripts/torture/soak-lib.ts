/**
 * Soak (issue 8 part 6): steady mixed SMTP, IMAP and POP3 load against a
 * `pillarbox serve` process; RSS sampled every 10 s. IMAP load comes from
 * Dovecot's imaptest when available (/work/tools/imaptest/imaptest or
 * $IMAPTEST_BIN), plus our own IMAP client for latencies.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { ImapConn, LineConn, smtpSend } from "../../tests/reliability/lib/conn.ts";
import { BUN, REPO, childPids, freePort, startServerProc } from "../../tests/reliability/lib/server-proc.ts";
import { passwordHasher } from "../../src/auth.ts";

export interface SoakOptions {
  seconds: number;
  /** Server processes (PILLARBOX_WORKERS; default 2). RSS and fds are the sums over all of them. */
  workers?: number;
  /** SMTP messages per second (steady). */
  smtpRate?: number;
  /** POP3 sessions per second. */
  pop3Rate?: number;
  /** IMAP client sessions (own client) running back to back. */
  imapClients?: number;
  useImaptest?: boolean;
  imaptestClients?: number;
  /**
   * Mailbox size the POP3 and IMAP load trims every soak account back to
   * (DELE / STORE \Deleted + EXPUNGE of the oldest), so deliveries do not
   * grow the mailboxes and RSS can be judged flat or not. imaptest keeps its
   * own users near its default msgs=30.
   */
  mailboxCap?: number;
  /** Load scripts/torture/heap-sampler.ts into the server: live heap after a full GC every 30 s. */
  heapSamples?: boolean;
  log?: (s: string) => void;
}

export interface OpStats {
  count: number;
  errors: number;
  p50: number;
  p99: number;
  max: number;
}

export interface SoakResult {
  seconds: number;
  ops: Record<string, OpStats>;
  errorSamples: string[];
  rssKb: { t: number; kb: number }[];
  rssStartKb: number;
  rssEndKb: number;
  rssMaxKb: number;
  fdStart: number;
  fdEnd: number;
  imaptest: { ran: boolean; commandsPerSec: number | null; errors: number; note: string };
  serverAlive: boolean;
  /** Messages in all mailboxes at the end, and the cap the load held them to. */
  messagesEnd: number;
  mailboxCap: number;
  /** Least-squares RSS slope over the second half of the run, MB per hour (flat: near 0). */
  rssSlopeMbPerHour: number;
  /** Mean RSS of the second and last thirds of the run. */
  rssMeanMidKb: number;
  rssMeanLastKb: number;
  /** With `heapSamples`: live JS heap + external memory after a full GC, every 30 s. */
  heap: { t: number; heapKb: number; externalKb: number; objects: number }[];
}

const DOMAIN = "soak.test";
const PASS = "soak-pass-1";
const USERS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function proc(pid: number): { rss: number; fds: number } {
  try {
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
    return { rss, fds: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return { rss: 0, fds: 0 };
  }
}

/** The server's lead and workers together. */
function procTree(pid: number): { rss: number; fds: number } {
  const out = { rss: 0, fds: 0 };
  for (const p of [pid, ...childPids(pid)]) {
    const x = proc(p);
    out.rss += x.rss;
    out.fds += x.fds;
  }
  return out;
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

export function imaptestBin(): string | null {
  const p = process.env.IMAPTEST_BIN ?? "/work/tools/imaptest/imaptest";
  return existsSync(p) ? p : null;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const log = o.log ?? (() => {});
  const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-soak-"));
  const url = `file:${join(dataDir, "pillarbox.db")}`;
  {
    const s = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
    await s.addDomain(DOMAIN);
    for (let i = 1; i <= USERS; i++) await s.addAccount(`soak${i}@${DOMAIN}`, PASS);
    for (let i = 1; i <= 10; i++) await s.addAccount(`it${i}@${DOMAIN}`, PASS);
    await s.close();
  }
  const ports = { smtp: await freePort(), imap: await freePort(), pop3: await freePort() };
  const heapFile = join(dataDir, "heap-samples.jsonl");
  const srv = await startServerProc({
    dataDir,
    ports,
    env: { PILLARBOX_WORKERS: String(o.workers ?? 2), PILLARBOX_LOG_LEVEL: "error", PILLARBOX_MAX_CONNECTIONS_PER_IP: "500", ...(o.heapSamples ? { PILLARBOX_HEAP_SAMPLES: heapFile } : {}) },
    preload: o.heapSamples ? [join(REPO, "scripts/torture/heap-sampler.ts")] : [],
  });
  // Every process up before anything is measured (the lead listens first; its workers join within a moment).
  for (let i = 0; i < 400 && childPids(srv.pid).length < (o.workers ?? 2) - 1; i++) await sleep(25);
  // ...and has opened what it keeps open (database, listeners) before the first count of fds.
  if ((o.workers ?? 2) > 1) await sleep(3000);
  const lat: Record<string, number[]> = {};
  const errs: Record<string, number> = {};
  const errorSamples: string[] = [];
  const record = (op: string, ms: number) => (lat[op] ??= []).push(ms);
  const fail = (op: string, e: unknown) => {
    errs[op] = (errs[op] ?? 0) + 1;
    if (errorSamples.length < 20) {
      errorSamples.push(`${op}: ${String(e).slice(0, 200)}`);
      log(`  error at t=${Math.round((Date.now() - t0) / 1000)} s: ${op}: ${String(e).slice(0, 200)}`);
    }
  };
  const t0 = Date.now();
  const end = t0 + o.seconds * 1000;
  let stop = false;
  const user = () => `soak${1 + Math.floor(Math.random() * USERS)}@${DOMAIN}`;
  const cap = o.mailboxCap ?? 40;
  const body = (n: number) => `From: <load@outside.test>\nTo: <x@${DOMAIN}>\nSubject: soak ${n} ${Math.random().toString(36).slice(2)}\nMessage-ID: <soak-${n}-${Date.now()}@outside.test>\n\n${"soak load line with some words in it\n".repeat(20 + Math.floor(Math.random() * 200))}`;

  // Steady-rate driver: starts one task per tick, never more than `max` in flight.
  const steady = async (op: string, ratePerSec: number, max: number, task: (n: number) => Promise<void>) => {
    let n = 0;
    let inflight = 0;
    const interval = 1000 / ratePerSec;
    let next = Date.now();
    while (!stop && Date.now() < end) {
      if (inflight < max) {
        inflight++;
        const k = ++n;
        const s = performance.now();
        void task(k)
          .then(() => record(op, performance.now() - s))
          .catch((e: unknown) => fail(op, e))
          .finally(() => inflight--);
      }
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
    while (inflight > 0) await sleep(50);
  };

  const smtpLoad = steady("smtp", o.smtpRate ?? 10, 20, async (n) => {
    const to = [user(), ...(n % 5 === 0 ? [user()] : [])];
    const r = await smtpSend({ port: ports.smtp, from: "load@outside.test", to, data: body(n) });
    if (r.code !== 250) throw new Error(`SMTP ${r.code} ${r.text}`);
  });

  // RFC 1939 §8 / RFC 2449 [IN-USE]: one POP3 session per maildrop, so the load never
  // opens two at once on the same user (that would be the generator's error, not the server's).
  const pop3Busy = new Set<string>();
  const pop3Load = steady("pop3", o.pop3Rate ?? 3, 10, async () => {
    let u = user();
    for (let k = 0; k < 50 && pop3Busy.has(u); k++) u = user();
    if (pop3Busy.has(u)) return;
    pop3Busy.add(u);
    const c = await LineConn.connect(ports.pop3).catch((e: unknown) => {
      pop3Busy.delete(u);
      throw e;
    });
    try {
      const expect = async (cmd: string | null, multi = false, goneOk = false) => {
        if (cmd) c.write(cmd + "\r\n");
        const l = await c.line();
        // An IMAP session of the same account may expunge a message this session listed (IMAP is
        // not locked out of a POP3 maildrop, protocols/pop3/locks.ts): that RETR is refused as
        // temporary, which is the server doing right, not an error.
        if (goneOk && l.startsWith("-ERR [SYS/TEMP] Message is no longer available")) return l;
        if (!l.startsWith("+OK")) throw new Error(`POP3 ${cmd}: ${l}`);
        if (multi) for (let x = await c.line(); x !== "."; x = await c.line());
        return l;
      };
      await expect(null);
      await expect(`USER ${u}`);
      await expect(`PASS ${PASS}`);
      const stat = await expect("STAT");
      const n = Number(stat.split(" ")[1]);
      await expect("UIDL", true);
      if (n > 0) {
        await expect(`RETR ${1 + Math.floor(Math.random() * n)}`, true, true);
        // trim to the cap: the oldest go
        for (let k = 1; k <= n - cap; k++) await expect(`DELE ${k}`, false, true);
      }
      await expect("QUIT");
      // The server releases the lock when it has processed QUIT; wait for its close.
      await c.waitClose(2000);
    } finally {
      c.close();
      pop3Busy.delete(u);
    }
  });

  const imapLoop = async (idx: number) => {
    while (!stop && Date.now() < end) {
      const s0 = performance.now();
      try {
        const { imap } = await ImapConn.connect(ports.imap);
        try {
          // Other sessions (POP3 DELE, other IMAP clients) expunge concurrently: keep the
          // message count current from untagged EXISTS/EXPUNGE (RFC 9051 §7.4.1, §7.5.1).
          let exists = 0;
          const track = (untagged: string[]) => {
            for (const u of untagged) {
              const m = /^\* (\d+) (EXISTS|EXPUNGE)\b/.exec(u);
              if (m) exists = m[2] === "EXISTS" ? Number(m[1]) : Math.max(0, exists - 1);
            }
          };
          const step = async (op: string, cmd: string) => {
            const s = performance.now();
            const r = await imap.cmd(cmd);
            track(r.untagged);
            // RFC 9051 §7.1: NO [EXPUNGEISSUED] = another session expunged the message; correct.
            if (r.status === "NO" && /\[EXPUNGEISSUED\]/.test(r.text)) {
              record("imap-expungeissued", performance.now() - s);
              return r;
            }
            if (r.status !== "OK") throw new Error(`IMAP ${cmd}: ${r.status} ${r.text}`);
            record(op, performance.now() - s);
            return r;
          };
          await step("imap-login", `LOGIN soak${1 + ((idx * 7 + Math.floor(Math.random() * USERS)) % USERS)}@${DOMAIN} ${PASS}`);
          await step("imap-select", "SELECT INBOX");
          for (let k = 0; k < 5 && !stop; k++) {
            if (exists > 0) {
              const m = 1 + Math.floor(Math.random() * exists);
              await step("imap-fetch", `FETCH ${m} (FLAGS UID RFC822.SIZE ENVELOPE BODY.PEEK[])`);
              if (m <= exists) await step("imap-store", `STORE ${m} +FLAGS (\\Seen)`);
            }
            await step("imap-search", "UID SEARCH UNSEEN");
            await step("imap-noop", "NOOP");
            await sleep(200);
          }
          if (exists > cap) {
            await step("imap-store", `STORE 1:${exists - cap} +FLAGS.SILENT (\\Deleted)`);
            await step("imap-expunge", "EXPUNGE");
          }
          await imap.cmd("LOGOUT");
        } finally {
          imap.close();
        }
        record("imap-session", performance.now() - s0);
      } catch (e) {
        fail("imap-session", e);
        await sleep(500);
      }
    }
  };
  const imapLoad = Promise.all(Array.from({ length: o.imapClients ?? 3 }, (_, i) => imapLoop(i)));

  // imaptest
  const it = { ran: false, commandsPerSec: null as number | null, errors: 0, note: "" };
  let imaptestDone: Promise<void> = Promise.resolve();
  const bin = o.useImaptest === false ? null : imaptestBin();
  if (bin) {
    const mbox = join(dataDir, "soak.mbox");
    const g = spawnSync(BUN, [join(REPO, "scripts/bench/lib/gen-mbox.ts"), "--count", "100"], { maxBuffer: 64 << 20 });
    writeFileSync(mbox, g.stdout);
    const secs = Math.max(5, o.seconds - 5);
    const args = ["host=127.0.0.1", `port=${ports.imap}`, `user=it%d@${DOMAIN}`, "users=10", `pass=${PASS}`, `mbox=${mbox}`, `secs=${secs}`, `clients=${o.imaptestClients ?? 5}`, "no_pipelining"];
    it.ran = true;
    imaptestDone = new Promise((resolve) => {
      const c = spawn(bin, args, { cwd: dataDir, stdio: ["ignore", "pipe", "pipe"] });
      let out = "";
      c.stdout.on("data", (d: Buffer) => (out += d.toString()));
      c.stderr.on("data", (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => c.kill("SIGKILL"), (secs + 60) * 1000);
      c.on("close", () => {
        clearTimeout(timer);
        writeFileSync(join(tmpdir(), "pillarbox-soak-imaptest.out"), out);
        const lines = out.split("\n");
        const ti = lines.findIndex((l) => l.startsWith("Totals:"));
        if (ti >= 0) {
          const nums = (lines[ti + 4] ?? "").trim().split(/\s+/).map(Number).filter((x) => !Number.isNaN(x));
          const total = nums.reduce((a, b) => a + b, 0);
          it.commandsPerSec = Math.round(total / secs);
        }
        it.errors = lines.filter((l) => /Error:/.test(l)).length;
        const firstErr = lines.find((l) => /Error:/.test(l));
        it.note = firstErr ? `first error: ${firstErr.slice(0, 200)}` : "";
        resolve();
      });
    });
  } else {
    it.note = "imaptest not found; IMAP load from the built-in client only";
  }

  // RSS sampling
  const rss: { t: number; kb: number }[] = [];
  const first = procTree(srv.pid);
  rss.push({ t: 0, kb: first.rss });
  const sampler = (async () => {
    while (!stop && Date.now() < end) {
      await sleep(Math.min(10_000, Math.max(0, end - Date.now())));
      const p = procTree(srv.pid);
      rss.push({ t: Math.round((Date.now() - t0) / 1000), kb: p.rss });
      log(`  t=${Math.round((Date.now() - t0) / 1000)} s RSS ${(p.rss / 1024).toFixed(1)} MB, fds ${p.fds}, smtp ${lat.smtp?.length ?? 0}, pop3 ${lat.pop3?.length ?? 0}, imap sessions ${lat["imap-session"]?.length ?? 0}, errors ${Object.values(errs).reduce((a, b) => a + b, 0)}`);
    }
  })();
  await Promise.all([smtpLoad, pop3Load, imapLoad, imaptestDone, sampler]);
  stop = true;
  await sleep(2000);
  const last = procTree(srv.pid);
  rss.push({ t: Math.round((Date.now() - t0) / 1000), kb: last.rss });
  const serverAlive = srv.child.exitCode === null && srv.child.signalCode === null;
  srv.kill("SIGTERM");
  await Promise.race([srv.exited, sleep(10_000)]);
  srv.kill("SIGKILL");
  let messagesEnd = -1;
  try {
    const s = await openStore({ hasher: passwordHasher, url: `file:${join(dataDir, "pillarbox.db")}`, dataDir, gcIntervalMs: 0 });
    messagesEnd = Number((await s.db.raw("SELECT COUNT(*) FROM items"))[0]![0]);
    await s.close();
  } catch (e) {
    log(`  could not count messages at the end: ${String(e)}`);
  }
  let heap: SoakResult["heap"] = [];
  if (o.heapSamples && existsSync(heapFile)) {
    heap = readFileSync(heapFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as SoakResult["heap"][number]);
  }
  rmSync(dataDir, { recursive: true, force: true });

  const ops: Record<string, OpStats> = {};
  for (const op of new Set([...Object.keys(lat), ...Object.keys(errs)])) {
    const xs = lat[op] ?? [];
    ops[op] = { count: xs.length, errors: errs[op] ?? 0, p50: pct(xs, 50), p99: pct(xs, 99), max: pct(xs, 100) };
  }
  // Start figure after warm-up: the first sample taken at least 10 s in (or the first one).
  const warm = rss.find((r) => r.t >= 10) ?? rss[0]!;
  const span = rss[rss.length - 1]!.t;
  const mean = (xs: { kb: number }[]) => (xs.length ? xs.reduce((a, x) => a + x.kb, 0) / xs.length : 0);
  const half = rss.filter((r) => r.t >= span / 2);
  let slope = 0;
  if (half.length >= 2) {
    const mt = half.reduce((a, r) => a + r.t, 0) / half.length;
    const mk = mean(half);
    let num = 0;
    let den = 0;
    for (const r of half) {
      num += (r.t - mt) * (r.kb - mk);
      den += (r.t - mt) ** 2;
    }
    slope = den ? ((num / den) * 3600) / 1024 : 0;
  }
  return {
    seconds: Math.round((Date.now() - t0) / 1000),
    ops,
    errorSamples,
    rssKb: rss,
    rssStartKb: warm.kb,
    rssEndKb: last.rss,
    rssMaxKb: Math.max(...rss.map((r) => r.kb)),
    fdStart: first.fds,
    fdEnd: last.fds,
    imaptest: it,
    serverAlive,
    messagesEnd,
    mailboxCap: cap,
    rssSlopeMbPerHour: slope,
    rssMeanMidKb: mean(rss.filter((r) => r.t >= span / 3 && r.t < (2 * span) / 3)),
    rssMeanLastKb: mean(rss.filter((r) => r.t >= (2 * span) / 3)),
    heap,
  };
}
