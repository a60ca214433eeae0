/**
 * `pillarbox serve --workers 2` as a real process tree: the lead and one
 * worker share the SMTP and POP3 ports (SO_REUSEPORT) and one data dir; IMAP
 * and HTTP are the lead's. Checked over real sockets: connections land in both
 * processes; what a worker delivers or deletes reaches IMAP sessions at once
 * and in order; \Recent, the POP3 maildrop lock, the connection caps and the
 * login throttle hold across processes, exactly; a killed worker is replaced
 * and its locks freed; SIGTERM stops the whole tree, and a lead killed with
 * SIGKILL takes its workers with it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { passwordHasher } from "../../src/auth.ts";
import { childPids as childrenOf, freePort, pidAlive as alive, startServerProc, type ServerProc } from "../reliability/lib/server-proc.ts";
import { ImapConn, LineConn, smtpCmd, smtpReply, smtpSend } from "../reliability/lib/conn.ts";

const DOMAIN = "cluster.test";
const PASS = "cluster-pass-1";
const USERS = ["alice", "bob", "carol", "dave", "erin"].map((u) => `${u}@${DOMAIN}`);

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

async function pop3Login(port: number, user: string, pass = PASS, localAddress?: string): Promise<{ c: LineConn; reply: string }> {
  const c = await LineConn.connect(port, { localAddress });
  await c.line();
  c.write(`USER ${user}\r\n`);
  await c.line();
  c.write(`PASS ${pass}\r\n`);
  return { c, reply: await c.line() };
}

async function pop3Quit(c: LineConn): Promise<string> {
  c.write("QUIT\r\n");
  const r = await c.line().catch(() => "(closed)");
  c.close();
  return r;
}

/** One message over SMTP on a new connection; resolves to the reply to DATA and the pid that took the connection. */
async function deliver(port: number, to: string, subject: string, pids: () => number[]): Promise<{ code: number; pid: number | null }> {
  const c = await LineConn.connect(port);
  try {
    await smtpReply(c);
    const pid = servingPid(port, c.sock.localPort!, pids());
    await smtpCmd(c, "EHLO cluster.test");
    await smtpCmd(c, "MAIL FROM:<someone@elsewhere.test>");
    await smtpCmd(c, `RCPT TO:<${to}>`);
    await smtpCmd(c, "DATA");
    c.write(`Subject: ${subject}\r\n\r\nbody\r\n.\r\n`);
    const r = await smtpReply(c);
    c.write("QUIT\r\n");
    return { code: r.code, pid };
  } finally {
    setTimeout(() => c.close(), 50);
  }
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

  test("the lead starts one worker; POP3 connections land in both processes, IMAP ones in the lead", async () => {
    expect(childrenOf(srv.pid)).toHaveLength(1);
    const pops: LineConn[] = [];
    for (let i = 0; i < 24; i++) {
      const c = await LineConn.connect(ports.pop3);
      expect(await c.line()).toStartWith("+OK");
      pops.push(c);
    }
    const popServing = new Set(pops.map((c) => servingPid(ports.pop3, c.sock.localPort!, pids())));
    const imaps: ImapConn[] = [];
    for (let i = 0; i < 12; i++) imaps.push((await ImapConn.connect(ports.imap)).imap);
    const imapServing = new Set(imaps.map((c) => servingPid(ports.imap, localPortOf(c), pids())));
    for (const c of [...pops, ...imaps]) c.close();
    expect(popServing.has(null)).toBe(false);
    expect(popServing.size).toBe(2);
    expect([...imapServing]).toEqual([srv.pid]);
  }, 30_000);

  test("deliveries through either process wake IDLE sessions at once", async () => {
    const idlers: ImapConn[] = [];
    for (let i = 0; i < 6; i++) {
      const c = await imapLogin(ports.imap, USERS[0]!);
      expect((await c.cmd("SELECT INBOX")).status).toBe("OK");
      c.c.write("i1 IDLE\r\n");
      expect(await c.c.line()).toStartWith("+");
      idlers.push(c);
    }
    const by = new Set<number | null>();
    // Until both processes took some (the kernel spreads connections by a hash; 8 in one would be rare, not impossible).
    for (let n = 1; n <= 40 && (n <= 8 || by.size < 2); n++) {
      const r = await deliver(ports.smtp, USERS[0]!, `wake ${n}`, pids);
      expect(r.code).toBe(250);
      by.add(r.pid);
      for (const c of idlers) {
        let l = await c.c.line(10_000);
        while (!/^\* \d+ EXISTS/.test(l)) l = await c.c.line(10_000);
        expect(l).toBe(`* ${n} EXISTS`);
      }
    }
    expect(by.size).toBe(2); // some of the deliveries were the worker's
    for (const c of idlers) c.close();
  }, 60_000);

  test("\\Recent goes to exactly one session (RFC 3501 §2.3.2), deliveries from either process", async () => {
    const user = USERS[3]!;
    for (let i = 0; i < 3; i++) expect((await deliver(ports.smtp, user, `before ${i}`, pids)).code).toBe(250);
    const sessions: ImapConn[] = [];
    for (let i = 0; i < 6; i++) sessions.push(await imapLogin(ports.imap, user));
    // Six read-write SELECTs at once: the three waiting messages are recent in one of them only.
    const selects = await Promise.all(sessions.map((c) => c.cmd("SELECT INBOX")));
    const recentCounts = selects.map((r) => Number(r.untagged.find((l) => / RECENT$/.test(l))?.split(" ")[1]));
    expect(recentCounts.reduce((a, b) => a + b, 0)).toBe(3);
    expect(recentCounts.filter((n) => n > 0)).toEqual([3]);
    // Four more arrive while all six have the mailbox selected: again one session each.
    for (let i = 0; i < 4; i++) expect((await deliver(ports.smtp, user, `after ${i}`, pids)).code).toBe(250);
    let recentAfter = 0;
    for (const c of sessions) {
      await until("the new messages are seen", async () => (await c.cmd("NOOP")).untagged.includes("* 7 EXISTS") || (await c.cmd("FETCH 7 (UID)")).status === "OK");
      const f = await c.cmd("FETCH 4:7 (FLAGS)");
      recentAfter += f.untagged.filter((l) => l.includes("\\Recent")).length;
    }
    expect(recentAfter).toBe(4);
    const other = await imapLogin(ports.imap, user);
    expect((await other.cmd("STATUS INBOX (MESSAGES RECENT)")).untagged[0]).toContain("RECENT 0");
    other.close();
    for (const c of sessions) c.close();
  }, 60_000);

  test("a POP3 deletion acknowledged by the worker is in the next IMAP NOOP's answer", async () => {
    const user = USERS[1]!;
    for (let i = 0; i < 12; i++) expect((await deliver(ports.smtp, user, `to delete ${i}`, pids)).code).toBe(250);
    const imap = await imapLogin(ports.imap, user);
    const sel = await imap.cmd("SELECT INBOX");
    let exists = Number(sel.untagged.find((l) => / EXISTS$/.test(l))!.split(" ")[1]);
    let fromWorker = 0;
    for (let round = 0; round < 10 && fromWorker < 4; round++) {
      const t = await pop3Login(ports.pop3, user);
      expect(t.reply).toStartWith("+OK");
      const onWorker = servingPid(ports.pop3, t.c.sock.localPort!, pids()) !== srv.pid;
      t.c.write("DELE 1\r\n");
      expect(await t.c.line()).toStartWith("+OK");
      expect(await pop3Quit(t.c)).toStartWith("+OK");
      // No wait: the deletion is already in the answer.
      const r = await imap.cmd("NOOP");
      expect(r.untagged).toContain("* 1 EXPUNGE");
      exists--;
      if (onWorker) fromWorker++;
    }
    expect(fromWorker).toBeGreaterThan(0);
    expect((await imap.cmd("NOOP")).status).toBe("OK");
    const st = await imap.cmd("STATUS INBOX (MESSAGES)");
    expect(st.untagged[0]).toContain(`MESSAGES ${exists}`);
    imap.close();
  }, 60_000);

  test("messages delivered by both processes and appended over IMAP at once reach every session in UID order", async () => {
    const user = USERS[2]!;
    const observers: ImapConn[] = [];
    for (let i = 0; i < 3; i++) {
      const o = await imapLogin(ports.imap, user);
      expect((await o.cmd("SELECT INBOX")).status).toBe("OK");
      observers.push(o);
    }
    const appenders: ImapConn[] = [];
    for (let i = 0; i < 2; i++) appenders.push(await imapLogin(ports.imap, user));
    let running = true;
    const problems: string[] = [];
    const watch = observers.map(async (o) => {
      let seen: number[] = [];
      while (running) {
        // Not NOOP (which catches up from the store): what the events bring, as they come.
        const f = await o.cmd("UID FETCH 1:* (UID)");
        const uids = f.untagged.map((l) => Number(/UID (\d+)/.exec(l)?.[1])).filter((n) => n > 0);
        // What the session saw before is still there, in the same places; new ones only after it.
        for (let i = 0; i < seen.length; i++) if (uids[i] !== seen[i]) problems.push(`seq ${i + 1}: ${seen[i]} -> ${uids[i]}`);
        for (let i = 1; i < uids.length; i++) if (uids[i]! <= uids[i - 1]!) problems.push(`not ascending at ${i + 1}`);
        seen = uids;
      }
    });
    const by = new Set<number | null>();
    await Promise.all([
      ...appenders.map(async (a, k) => {
        for (let i = 0; i < 20; i++) expect((await a.cmd("APPEND INBOX", `Subject: appended ${k}-${i}\r\n\r\nbody\r\n`)).status).toBe("OK");
      }),
      ...[0, 1, 2].map(async (k) => {
        for (let i = 0; i < 15; i++) {
          const r = await deliver(ports.smtp, user, `delivered ${k}-${i}`, pids);
          expect(r.code).toBe(250);
          by.add(r.pid);
        }
      }),
    ]);
    running = false;
    await Promise.all(watch);
    expect(problems).toEqual([]);
    expect(by.size).toBe(2);
    for (const c of [...observers, ...appenders]) c.close();
  }, 120_000);

  test("200 deliveries over 20 parallel sessions get 200 distinct UIDs", async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, s) => {
        const codes: number[] = [];
        for (let i = 0; i < 10; i++) codes.push((await smtpSend({ port: ports.smtp, from: "bulk@elsewhere.test", to: [USERS[4]!], data: `Subject: bulk ${s}-${i}\r\n\r\nbody ${s}-${i}\r\n` })).code);
        return codes;
      }),
    );
    expect(results.flat().filter((c) => c === 250)).toHaveLength(200);
    const c = await imapLogin(ports.imap, USERS[4]!);
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
      // A different account each time: this is about the address's limit, not the account's delay.
      const t = await pop3Login(ports.pop3, `nobody${i}@${DOMAIN}`, `wrong-password-${i}`, "127.0.0.2");
      where.add(servingPid(ports.pop3, t.c.sock.localPort!, pids()));
      replies.push(t.reply);
      await pop3Quit(t.c);
    }
    expect(where.size).toBe(2);
    // The limit is 6 per IP: the 7th attempt on is refused, whichever process gets it.
    expect(replies.slice(0, 6).every((r) => r.startsWith("-ERR [AUTH]"))).toBe(true);
    expect(replies.slice(6).every((r) => r.startsWith("-ERR [SYS/TEMP]"))).toBe(true);
    // Even with the right password now.
    const t = await pop3Login(ports.pop3, USERS[3]!, PASS, "127.0.0.2");
    expect(t.reply).toStartWith("-ERR [SYS/TEMP]");
    await pop3Quit(t.c);
  }, 60_000);

  test("a burst of connections from one address meets the per-IP cap exactly, not once per process", async () => {
    // 127.0.0.3: its own address; the cap is PILLARBOX_MAX_CONNECTIONS_PER_IP (40 here).
    const conns = await Promise.all(Array.from({ length: 80 }, () => LineConn.connect(ports.pop3, { localAddress: "127.0.0.3" }).catch(() => null)));
    const firstLines = await Promise.all(conns.map((c) => (c ? c.line(10_000).catch(() => "(closed)") : Promise.resolve("(refused)"))));
    // 80 at once over both processes (the lead admits its own at once, a worker's after asking it):
    // exactly the cap in all, where counting per process would let in up to twice that.
    expect(firstLines.filter((l) => l.startsWith("+OK"))).toHaveLength(40);
    for (const c of conns) c?.close();
    // Freed when they close: the address gets its forty again.
    await until("the slots are free", async () => {
      const again = await Promise.all(Array.from({ length: 40 }, () => LineConn.connect(ports.pop3, { localAddress: "127.0.0.3" })));
      const lines = await Promise.all(again.map((c) => c.line(10_000).catch(() => "(closed)")));
      for (const c of again) c.close();
      return lines.every((l) => l.startsWith("+OK"));
    });
  }, 60_000);

  test("parallel password guesses from one address reach the password check only as often as the limit allows", async () => {
    // 127.0.0.4, limit 6 failures per address: 30 wrong logins at once over both processes.
    const tries = await Promise.all(Array.from({ length: 30 }, (_, i) => pop3Login(ports.pop3, `guess${i}@${DOMAIN}`, `wrong-${i}`, "127.0.0.4")));
    expect(new Set(tries.map((t) => servingPid(ports.pop3, t.c.sock.localPort!, pids()))).size).toBe(2);
    const checked = tries.filter((t) => t.reply.startsWith("-ERR [AUTH]"));
    expect(checked.length).toBeGreaterThan(0);
    expect(checked.length).toBeLessThanOrEqual(6);
    for (const t of tries) t.c.close();
  }, 60_000);

  test("an account under attack still lets its owner in from a known address, in either process", async () => {
    const user = USERS[3]!;
    // The owner signs in from 127.0.0.5 (over both processes, a few times).
    for (let i = 0; i < 4; i++) {
      const t = await pop3Login(ports.pop3, user, PASS, "127.0.0.5");
      expect(t.reply).toStartWith("+OK");
      await pop3Quit(t.c);
    }
    // Guesses from 127.0.0.6 at the same account until it is delayed.
    for (let i = 0; i < 12; i++) await pop3Quit((await pop3Login(ports.pop3, user, `wrong-guess-${i}`, "127.0.0.6")).c);
    const attacker = await pop3Login(ports.pop3, user, PASS, "127.0.0.6");
    expect(attacker.reply).toStartWith("-ERR");
    await pop3Quit(attacker.c);
    // The owner, from the known address, in both processes.
    const where = new Set<number | null>();
    for (let i = 0; i < 40 && (i < 8 || where.size < 2); i++) {
      const t = await pop3Login(ports.pop3, user, PASS, "127.0.0.5");
      where.add(servingPid(ports.pop3, t.c.sock.localPort!, pids()));
      expect(t.reply).toStartWith("+OK");
      await pop3Quit(t.c);
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
    const conns: LineConn[] = [];
    for (let i = 0; i < 24; i++) {
      const c = await LineConn.connect(ports.pop3);
      expect(await c.line()).toStartWith("+OK");
      conns.push(c);
    }
    const serving = new Set(conns.map((c) => servingPid(ports.pop3, c.sock.localPort!, pids())));
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
