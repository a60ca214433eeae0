/**
 * `pillarbox serve --workers 2` as a real process tree: the lead and one
 * worker share the mail ports (SO_REUSEPORT) and one data dir. Checked over
 * real sockets: connections land in both processes; a message delivered by
 * one wakes IDLE sessions in the other; the POP3 maildrop lock, the auth
 * throttle and concurrent deliveries hold across processes; a killed worker
 * is replaced and its locks freed; SIGTERM stops the whole tree, and a lead
 * killed with SIGKILL takes its workers with it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { childPids as childrenOf, freePort, pidAlive as alive, startServerProc, type ServerProc } from "../reliability/lib/server-proc.ts";
import { ImapConn, LineConn, smtpSend } from "../reliability/lib/conn.ts";

const DOMAIN = "cluster.test";
const PASS = "cluster-pass-1";
const USERS = ["alice", "bob", "carol", "dave"].map((u) => `${u}@${DOMAIN}`);

/** Which of `pids` holds the server end of the TCP connection serverPort <- clientPort. */
function servingPid(serverPort: number, clientPort: number, pids: number[]): number | null {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, "0");
  let inode = "";
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10) continue;
    if (f[1]!.endsWith(":" + hex(serverPort)) && f[2]!.endsWith(":" + hex(clientPort))) inode = f[9]!;
  }
  if (!inode || inode === "0") return null;
  for (const pid of pids) {
    try {
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        try {
          if (readlinkSync(`/proc/${pid}/fd/${fd}`) === `socket:[${inode}]`) return pid;
        } catch {
          // closed meanwhile
        }
      }
    } catch {
      // process gone
    }
  }
  return null;
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function imapLogin(port: number, user: string, localAddress?: string): Promise<ImapConn> {
  const { imap } = await ImapConn.connect(port, { localAddress });
  const r = await imap.cmd(`LOGIN ${user} ${PASS}`);
  if (r.status !== "OK") throw new Error(`login ${user}: ${r.status} ${r.text}`);
  return imap;
}

async function pop3Login(port: number, user: string): Promise<{ c: LineConn; reply: string }> {
  const c = await LineConn.connect(port);
  await c.line();
  c.write(`USER ${user}\r\n`);
  await c.line();
  c.write(`PASS ${PASS}\r\n`);
  return { c, reply: await c.line() };
}

const localPortOf = (i: ImapConn) => i.c.sock.localPort!;

describe("serve --workers 2", () => {
  let dir: string;
  let srv: ServerProc;
  let ports: { smtp: number; imap: number; pop3: number; http: number };
  const pids = () => [srv.pid, ...childrenOf(srv.pid)];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "pb-cluster-"));
    const s = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir, gcIntervalMs: 0 });
    await s.addDomain(DOMAIN);
    for (const u of USERS) await s.addAccount(u, PASS);
    await s.close();
    ports = { smtp: await freePort(), imap: await freePort(), pop3: await freePort(), http: await freePort() };
    srv = await startServerProc({ dataDir: dir, ports, env: { PILLARBOX_WORKERS: "2", PILLARBOX_LOG_LEVEL: "info", PILLARBOX_AUTH_FAILURES_PER_IP: "6", PILLARBOX_MAX_CONNECTIONS_PER_IP: "40" } });
    await until("the worker is ready", () => srv.stderr().includes('"msg":"workers started"'), 60_000);
  }, 90_000);

  afterAll(async () => {
    const all = pids();
    srv?.kill("SIGKILL");
    for (const p of all) if (alive(p)) process.kill(p, "SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  test("the lead starts one worker, and connections land in both processes", async () => {
    expect(childrenOf(srv.pid)).toHaveLength(1);
    const conns: ImapConn[] = [];
    for (let i = 0; i < 24; i++) conns.push((await ImapConn.connect(ports.imap)).imap);
    const serving = new Set(conns.map((c) => servingPid(ports.imap, localPortOf(c), pids())));
    for (const c of conns) c.close();
    expect(serving.has(null)).toBe(false);
    expect(serving.size).toBe(2);
  }, 30_000);

  test("a delivery through either process wakes IDLE sessions in both", async () => {
    const idlers: ImapConn[] = [];
    for (let i = 0; i < 12; i++) {
      const c = await imapLogin(ports.imap, USERS[0]!);
      expect((await c.cmd("SELECT INBOX")).status).toBe("OK");
      c.c.write("i1 IDLE\r\n");
      expect(await c.c.line()).toStartWith("+");
      idlers.push(c);
    }
    const where = new Set(idlers.map((c) => servingPid(ports.imap, localPortOf(c), pids())));
    expect(where.size).toBe(2);
    const r = await smtpSend({ port: ports.smtp, from: "someone@elsewhere.test", to: [USERS[0]!], data: "Subject: wake up\r\n\r\nhello\r\n" });
    expect(r.code).toBe(250);
    for (const c of idlers) {
      let l = await c.c.line(10_000);
      while (!/^\* \d+ EXISTS/.test(l)) l = await c.c.line(10_000);
      expect(l).toBe("* 1 EXISTS");
      c.close();
    }
  }, 60_000);

  test("\\Recent goes to exactly one session whichever process serves it (RFC 3501 §2.3.2)", async () => {
    const user = USERS[3]!;
    for (let i = 0; i < 3; i++) expect((await smtpSend({ port: ports.smtp, from: "r@elsewhere.test", to: [user], data: `Subject: before ${i}\r\n\r\nx\r\n` })).code).toBe(250);
    const sessions: ImapConn[] = [];
    for (let i = 0; i < 8; i++) sessions.push(await imapLogin(ports.imap, user));
    expect(new Set(sessions.map((c) => servingPid(ports.imap, localPortOf(c), pids()))).size).toBe(2);
    // Eight read-write SELECTs at once: the three waiting messages are recent in one of them only.
    const selects = await Promise.all(sessions.map((c) => c.cmd("SELECT INBOX")));
    const recentCounts = selects.map((r) => Number(r.untagged.find((l) => / RECENT$/.test(l))?.split(" ")[1]));
    expect(recentCounts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(recentCounts.filter((n) => n > 0)).toEqual([3]);
    // Two more arrive while all eight have the mailbox selected: again one session each.
    for (let i = 0; i < 2; i++) expect((await smtpSend({ port: ports.smtp, from: "r@elsewhere.test", to: [user], data: `Subject: after ${i}\r\n\r\nx\r\n` })).code).toBe(250);
    let recentAfter = 0;
    for (const c of sessions) {
      await until("the new messages are seen", async () => (await c.cmd("NOOP")).untagged.some((l) => l === "* 5 EXISTS") || (await c.cmd("FETCH 5 (UID)")).status === "OK");
      const f = await c.cmd("FETCH 4:5 (FLAGS)");
      recentAfter += f.untagged.filter((l) => l.includes("\\Recent")).length;
    }
    expect(recentAfter).toBe(2);
    // STATUS from a session that has not selected it: nothing unclaimed is left.
    const other = await imapLogin(ports.imap, user);
    expect((await other.cmd("STATUS INBOX (MESSAGES RECENT)")).untagged[0]).toContain("RECENT 0");
    other.close();
    for (const c of sessions) c.close();
  }, 60_000);

  test("a change acknowledged in one process is in the next command's answer in the other", async () => {
    const user = USERS[0]!;
    // Two sessions of the user, one in each process.
    const all: ImapConn[] = [];
    let a: ImapConn | null = null;
    let b: ImapConn | null = null;
    for (let i = 0; i < 30 && !(a && b); i++) {
      const c = await imapLogin(ports.imap, user);
      all.push(c);
      const pid = servingPid(ports.imap, localPortOf(c), pids());
      if (pid === srv.pid) a ??= c;
      else b ??= c;
    }
    expect(a && b).toBeTruthy();
    for (const c of [a!, b!]) expect((await c.cmd("SELECT INBOX")).status).toBe("OK");
    for (let i = 0; i < 20; i++) {
      const [from, to] = i % 2 === 0 ? [a!, b!] : [b!, a!];
      const kw = `kw${i}`;
      expect((await from.cmd(`STORE 1 +FLAGS (${kw})`)).status).toBe("OK");
      // No wait: the other process must already show it.
      const r = await to.cmd("NOOP");
      expect(r.untagged.some((l) => /^\* 1 FETCH \(FLAGS \(/.test(l) && l.includes(kw))).toBe(true);
    }
    for (const c of all) c.close();
  }, 60_000);

  test("messages appended in both processes at once reach every session in UID order", async () => {
    const user = USERS[2]!;
    const conns: ImapConn[] = [];
    for (let i = 0; i < 16; i++) conns.push(await imapLogin(ports.imap, user));
    const byPid = new Map<number | null, ImapConn[]>();
    for (const c of conns) {
      const pid = servingPid(ports.imap, localPortOf(c), pids());
      byPid.set(pid, [...(byPid.get(pid) ?? []), c]);
    }
    expect(byPid.size).toBe(2);
    const [g1, g2] = [...byPid.values()];
    // Two appenders and one observer in each process.
    const appenders = [g1![0]!, g1![1]!, g2![0]!, g2![1]!];
    const observers = [g1![2]!, g2![2]!];
    for (const o of observers) expect((await o.cmd("SELECT INBOX")).status).toBe("OK");
    let appending = true;
    const problems: string[] = [];
    const watch = observers.map(async (o) => {
      let seen: number[] = [];
      while (appending) {
        // Not NOOP (which catches up from the store): what the events bring, as they come.
        const f = await o.cmd("UID FETCH 1:* (UID)");
        const uids = f.untagged.map((l) => Number(/UID (\d+)/.exec(l)?.[1])).filter((n) => n > 0);
        // What the session saw before is still there, in the same places; new ones only after it.
        for (let i = 0; i < seen.length; i++) if (uids[i] !== seen[i]) problems.push(`seq ${i + 1}: ${seen[i]} -> ${uids[i]}`);
        for (let i = 1; i < uids.length; i++) if (uids[i]! <= uids[i - 1]!) problems.push(`not ascending at ${i + 1}`);
        seen = uids;
      }
    });
    await Promise.all(appenders.map(async (a, k) => {
      for (let i = 0; i < 25; i++) expect((await a.cmd("APPEND INBOX", `Subject: ordered ${k}-${i}\r\n\r\nbody\r\n`)).status).toBe("OK");
    }));
    appending = false;
    await Promise.all(watch);
    expect(problems).toEqual([]);
    for (const c of conns) c.close();
  }, 120_000);

  test("200 deliveries over 20 parallel sessions get 200 distinct UIDs", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, s) => {
        const codes: number[] = [];
        for (let i = 0; i < 10; i++) codes.push((await smtpSend({ port: ports.smtp, from: "bulk@elsewhere.test", to: [USERS[1]!], data: `Subject: bulk ${s}-${i}\r\n\r\nbody ${s}-${i}\r\n` })).code);
        return codes;
      }),
    );
    expect(results.flat().filter((c) => c === 250)).toHaveLength(200);
    const c = await imapLogin(ports.imap, USERS[1]!);
    const sel = await c.cmd("SELECT INBOX");
    expect(sel.untagged).toContain("* 200 EXISTS");
    const f = await c.cmd("UID FETCH 1:* (UID)");
    const uids = f.untagged.map((l) => Number(/UID (\d+)/.exec(l)?.[1]));
    expect(new Set(uids).size).toBe(200);
    expect(Math.min(...uids)).toBe(1);
    expect(Math.max(...uids)).toBe(200);
    const subjects = await c.cmd("SEARCH SUBJECT bulk");
    expect(subjects.untagged[0]!.split(" ").length - 2).toBe(200);
    c.close();
  }, 120_000);

  test("the POP3 maildrop lock holds across processes", async () => {
    // Five at once: attempts in flight count against the address's limit (6) until they succeed.
    const tries = await Promise.all(Array.from({ length: 5 }, () => pop3Login(ports.pop3, USERS[2]!)));
    const ok = tries.filter((t) => t.reply.startsWith("+OK"));
    const inUse = tries.filter((t) => t.reply.startsWith("-ERR [IN-USE]"));
    const where = new Set(tries.map((t) => servingPid(ports.pop3, t.c.sock.localPort!, pids())));
    expect(where.size).toBe(2); // the contenders really were in both processes
    expect(ok).toHaveLength(1);
    expect(inUse).toHaveLength(4);
    for (const t of inUse) t.c.close();
    const holder = ok[0]!.c;
    holder.write("QUIT\r\n");
    expect(await holder.line()).toStartWith("+OK");
    holder.close();
    // Released: the next session gets it, whichever process it lands in.
    await until("the lock is free again", async () => {
      const t = await pop3Login(ports.pop3, USERS[2]!);
      t.c.write("QUIT\r\n");
      t.c.close();
      return t.reply.startsWith("+OK");
    });
  }, 60_000);

  test("failed logins count against the address in every process", async () => {
    // 127.0.0.2: a loopback address of its own, so the block does not touch the other tests.
    const where = new Set<number | null>();
    const replies: string[] = [];
    for (let i = 0; i < 10; i++) {
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.2" });
      where.add(servingPid(ports.imap, localPortOf(imap), pids()));
      // A different account each time: this is about the address's limit, not the account's delay.
      const r = await imap.cmd(`LOGIN nobody${i}@${DOMAIN} wrong-password-${i}`);
      replies.push(`${r.status} ${r.text}`);
      imap.close();
    }
    expect(where.size).toBe(2);
    // The limit is 6 per IP: from the 7th attempt on (one more for the relay's few
    // milliseconds) the address is refused, whichever process gets it.
    expect(replies.slice(0, 6).every((r) => r.startsWith("NO") && !r.includes("UNAVAILABLE"))).toBe(true);
    expect(replies.slice(7).every((r) => r.includes("[UNAVAILABLE]"))).toBe(true);
    // Even with the right password now.
    const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.2" });
    expect((await imap.cmd(`LOGIN ${USERS[3]} ${PASS}`)).text).toContain("UNAVAILABLE");
    imap.close();
  }, 60_000);

  test("a burst of connections from one address meets the per-IP cap exactly, not once per process", async () => {
    // 127.0.0.3: its own address; the cap is PILLARBOX_MAX_CONNECTIONS_PER_IP (40 here).
    const conns = await Promise.all(Array.from({ length: 80 }, () => LineConn.connect(ports.imap, { localAddress: "127.0.0.3" }).catch(() => null)));
    const firstLines = await Promise.all(conns.map((c) => (c ? c.line(10_000).catch(() => "(closed)") : Promise.resolve("(refused)"))));
    const greeted = firstLines.filter((l) => l.startsWith("* OK"));
    // 80 at once spread over both processes (the lead admits its own at once, a worker's after
    // asking it): exactly the cap in all, where counting per process would let in up to twice that.
    expect(greeted).toHaveLength(40);
    for (const c of conns) c?.close();
    // Freed when they close: the address gets its forty again.
    await until("the slots are free", async () => {
      const again = await Promise.all(Array.from({ length: 40 }, () => LineConn.connect(ports.imap, { localAddress: "127.0.0.3" })));
      const lines = await Promise.all(again.map((c) => c.line(10_000).catch(() => "(closed)")));
      for (const c of again) c.close();
      return lines.every((l) => l.startsWith("* OK"));
    });
  }, 60_000);

  test("parallel password guesses from one address reach the password check only as often as the limit allows", async () => {
    // 127.0.0.4, limit 6 failures per address: 30 wrong LOGINs at once over both processes.
    const conns = await Promise.all(Array.from({ length: 30 }, async () => (await ImapConn.connect(ports.imap, { localAddress: "127.0.0.4" })).imap));
    expect(new Set(conns.map((c) => servingPid(ports.imap, localPortOf(c), pids()))).size).toBe(2);
    const replies = await Promise.all(conns.map((c, i) => c.cmd(`LOGIN guess${i}@${DOMAIN} wrong-${i}`)));
    const checked = replies.filter((r) => r.status === "NO" && !r.text.includes("UNAVAILABLE"));
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(6);
    for (const c of conns) c.close();
  }, 60_000);

  test("an account under attack still lets its owner in from a known address, in either process", async () => {
    const user = USERS[1]!;
    // The owner signs in from 127.0.0.5 (over both processes, a few times).
    for (let i = 0; i < 4; i++) (await imapLogin(ports.imap, user, "127.0.0.5")).close();
    // Guesses from 127.0.0.6 at the same account until it is delayed.
    for (let i = 0; i < 12; i++) {
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.6" });
      await imap.cmd(`LOGIN ${user} wrong-guess-${i}`);
      imap.close();
    }
    const { imap: attacker } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.6" });
    expect((await attacker.cmd(`LOGIN ${user} ${PASS}`)).status).toBe("NO");
    attacker.close();
    // The owner, from the known address, in both processes.
    const where = new Set<number | null>();
    for (let i = 0; i < 8; i++) {
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.5" });
      where.add(servingPid(ports.imap, localPortOf(imap), pids()));
      const r = await imap.cmd(`LOGIN ${user} ${PASS}`);
      expect(`${r.status} ${r.text}`).toStartWith("OK");
      imap.close();
    }
    expect(where.size).toBe(2);
  }, 60_000);

  test("a worker killed with SIGKILL is replaced, and its POP3 lock is freed", async () => {
    const [worker] = childrenOf(srv.pid);
    expect(worker).toBeDefined();
    // A POP3 session held by the worker.
    let held: LineConn | null = null;
    for (let i = 0; i < 40 && !held; i++) {
      const t = await pop3Login(ports.pop3, USERS[2]!);
      if (t.reply.startsWith("+OK") && servingPid(ports.pop3, t.c.sock.localPort!, [worker!]) === worker) held = t.c;
      else {
        t.c.write("QUIT\r\n");
        t.c.close();
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    expect(held).not.toBeNull();
    process.kill(worker!, "SIGKILL");
    expect(await held!.waitClose(10_000)).toBe(true);
    await until("a new worker", () => childrenOf(srv.pid).some((p) => p !== worker));
    const [fresh] = childrenOf(srv.pid);
    await until("the new worker is ready", () => srv.stderr().includes(`"msg":"worker ready","kind":"system","worker":1,"pid":${fresh}`)).catch((e) => {
      throw new Error(`${(e as Error).message}\n${srv.stderr().slice(-3000)}`);
    });
    const t = await pop3Login(ports.pop3, USERS[2]!);
    expect(t.reply).toStartWith("+OK");
    t.c.write("QUIT\r\n");
    t.c.close();
    expect(srv.stderr()).toContain('"msg":"worker ended; restarting it"');
    // And both processes serve again.
    const conns: ImapConn[] = [];
    for (let i = 0; i < 24; i++) conns.push((await ImapConn.connect(ports.imap)).imap);
    const serving = new Set(conns.map((c) => servingPid(ports.imap, localPortOf(c), pids())));
    for (const c of conns) c.close();
    expect(serving.size).toBe(2);
  }, 60_000);

  test("SIGTERM to the lead stops every process with exit code 0", async () => {
    const all = pids();
    expect(all.length).toBe(2);
    srv.kill("SIGTERM");
    const { code } = await srv.exited;
    expect(code).toBe(0);
    await until("the worker exited", () => all.every((p) => !alive(p)), 20_000);
  }, 60_000);
});

describe("a lead killed with SIGKILL", () => {
  test("takes its workers with it, and the next start serves the same data", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pb-cluster-kill-"));
    try {
      const s = await openStore({ hasher: passwordHasher, url: `file:${dir}/pillarbox.db`, dataDir: dir, gcIntervalMs: 0 });
      await s.addDomain(DOMAIN);
      await s.addAccount(USERS[0]!, PASS);
      await s.close();
      const ports = { smtp: await freePort(), imap: await freePort() };
      const env = { PILLARBOX_WORKERS: "2", PILLARBOX_LOG_LEVEL: "info" };
      let srv = await startServerProc({ dataDir: dir, ports, env });
      await until("the worker is ready", () => srv.stderr().includes('"msg":"workers started"'), 60_000);
      expect((await smtpSend({ port: ports.smtp, from: "a@elsewhere.test", to: [USERS[0]!], data: "Subject: one\r\n\r\n1\r\n" })).code).toBe(250);
      const workers = childrenOf(srv.pid);
      expect(workers).toHaveLength(1);
      srv.kill("SIGKILL");
      await srv.exited;
      await until("the orphaned worker exited", () => workers.every((p) => !alive(p)), 20_000);
      srv = await startServerProc({ dataDir: dir, ports, env });
      await until("the worker is ready", () => srv.stderr().includes('"msg":"workers started"'), 60_000);
      expect((await smtpSend({ port: ports.smtp, from: "a@elsewhere.test", to: [USERS[0]!], data: "Subject: two\r\n\r\n2\r\n" })).code).toBe(250);
      const c = await imapLogin(ports.imap, USERS[0]!);
      expect((await c.cmd("SELECT INBOX")).untagged).toContain("* 2 EXISTS");
      c.close();
      const left = [srv.pid, ...childrenOf(srv.pid)];
      srv.kill("SIGTERM");
      await srv.exited;
      await until("all exited", () => left.every((p) => !alive(p)), 20_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
