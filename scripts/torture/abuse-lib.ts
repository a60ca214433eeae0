/**
 * Abuse harness (issue 8 part 4) against a real `pillarbox serve` process:
 * open-relay matrix, authentication brute force and user enumeration, slow
 * and half-open clients, connection floods, oversized input, HTTP path
 * traversal and header injection (runClassic); and the resource attacks of
 * issue 13 with the server's memory before, at peak and after each
 * (abuse-memory.ts). Each case records whether the server held.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { ImapConn, LineConn, smtpCmd, smtpReply } from "../../tests/reliability/lib/conn.ts";
import { freePort, startServerProc, type ServerProc } from "../../tests/reliability/lib/server-proc.ts";
import { runMemoryAbuse } from "./abuse-memory.ts";
import { passwordHasher } from "../../src/auth.ts";

export interface Case {
  group: string;
  name: string;
  ok: boolean;
  detail: string;
}

const DOMAIN = "abuse.test";
const USER = `alice@${DOMAIN}`;
const PASS = "abuse-pass-1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
}

export interface AbuseOptions {
  log?: (s: string) => void;
  quick?: boolean;
  /** Run the classic cases (relay, brute force, floods, oversize, HTTP); default true. */
  classic?: boolean;
  /** Run the resource attacks with memory figures (abuse-memory.ts); default true. */
  memory?: boolean;
  /** Only these resource attacks (abuse-memory.ts ATTACKS). */
  only?: string[];
  /** Run the resource attacks' server from another checkout (figures before a fix). */
  serverDir?: string;
  /** Multiplies the SMTP flood sizes of the resource attacks. */
  scale?: number;
  /** Receives the one-line memory figures of each resource attack. */
  memoryLines?: string[];
}

export async function runAbuse(o: AbuseOptions = {}): Promise<Case[]> {
  const log = o.log ?? (() => {});
  const cases: Case[] = [];
  const add = (group: string, name: string, ok: boolean, detail: string) => {
    cases.push({ group, name, ok, detail });
    log(`  ${ok ? "ok  " : "FAIL"} [${group}] ${name}: ${detail}`);
  };
  if (o.classic !== false) await runClassic(o, add);
  if (o.memory !== false) {
    const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-abuse-mem-"));
    try {
      const r = await runMemoryAbuse({ quick: o.quick, serverDir: o.serverDir, only: o.only, scale: o.scale, dataDir, log });
      cases.push(...r.cases);
      o.memoryLines?.push(...r.lines);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
  return cases;
}

async function runClassic(o: AbuseOptions, add: (group: string, name: string, ok: boolean, detail: string) => void): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-abuse-"));
  const url = `file:${join(dataDir, "pillarbox.db")}`;
  {
    const s = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
    await s.addDomain(DOMAIN);
    await s.addAccount(USER, PASS);
    // One account per timing probe: the per-account throttle (issue 13 item 11) would slow repeated misses on one.
    for (let i = 0; i < 8; i++) await s.addAccount(`timing${i}@${DOMAIN}`, PASS);
    await s.close();
  }
  let ports = { smtp: 0, submission: 0, imap: 0, pop3: 0, http: 0, https: 0 };
  let srv!: ServerProc;
  // A port found free may be taken by another process before the server binds it: try again with new ones.
  for (let attempt = 1; ; attempt++) {
    ports = { smtp: await freePort(), submission: await freePort(), imap: await freePort(), pop3: await freePort(), http: await freePort(), https: await freePort() };
    try {
      srv = await startServerProc({
        dataDir,
        ports,
        env: {
          PILLARBOX_MAX_CONNECTIONS_PER_IP: "20",
          PILLARBOX_AUTH_FAILURES_PER_IP: "5",
          PILLARBOX_AUTH_WINDOW_SECONDS: "4",
          PILLARBOX_MAX_MESSAGE_SIZE: "4M",
          PILLARBOX_LOG_LEVEL: "error",
        },
      });
      break;
    } catch (e) {
      if (attempt >= 3 || !/EADDRINUSE/.test(String(e))) throw e;
    }
  }
  try {
    // ------------------------------------------------------ open relay
    const tricks = [
      "user@remote.test",
      "USER@REMOTE.TEST",
      "postmaster@remote.test",
      `user%remote.test@${DOMAIN}`,
      "user%remote.test@[127.0.0.1]",
      `remote.test!user@${DOMAIN}`,
      "remote.test!user",
      "user%remote.test",
      `@${DOMAIN}:user@remote.test`,
      `@a.test,@${DOMAIN}:user@remote.test`,
      `"user@remote.test"@${DOMAIN}`,
      `"user%remote.test"@${DOMAIN}`,
      `"user@remote.test"`,
      "user@remote.test.",
      `user@remote.test.${DOMAIN}.`,
      "user@[127.0.0.1]",
      "user@[10.1.2.3]",
      "user@[IPv6:::1]",
      "user@[IPv6:2001:db8::1]",
      `user@${DOMAIN}@remote.test`,
      "user@r\u00e9mote.test",
    ];
    for (const [port, label] of [[ports.smtp, "25"], [ports.submission, "587 unauthenticated"], [ports.submission, "587 STARTTLS, no AUTH"]] as const) {
      for (const rcpt of tricks) {
        const c = await LineConn.connect(port);
        try {
          await smtpReply(c);
          await smtpCmd(c, "EHLO relay.test");
          if (label === "587 STARTTLS, no AUTH") {
            await smtpCmd(c, "STARTTLS");
            await c.startTls();
            await smtpCmd(c, "EHLO relay.test");
          }
          const m = await smtpCmd(c, "MAIL FROM:<spammer@outside.test>" + (/[^\x00-\x7f]/.test(rcpt) ? " SMTPUTF8" : ""));
          let code = m.code;
          let text = m.text;
          if (m.code === 250) {
            const r = await smtpCmd(c, `RCPT TO:<${rcpt}>`);
            code = r.code;
            text = r.text;
            if (r.code < 400) {
              // Accepted: find out whether the message would really go out.
              const d = await smtpCmd(c, "DATA");
              if (d.code === 354) {
                c.write("Subject: relay\r\n\r\nx\r\n.\r\n");
                const e = await smtpReply(c);
                text += ` / DATA ${e.code}`;
              }
            }
          }
          add("relay", `${label} RCPT <${rcpt}>`, code >= 500, `${code} ${text.split("\n")[0]}`);
        } finally {
          c.close();
        }
      }
    }

    // ------------------------------------------------------ auth brute force, enumeration
    const imapLogin = async (user: string, pass: string, ip: string) => {
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: ip });
      const t0 = performance.now();
      const r = await imap.cmd(`LOGIN ${user} ${pass}`);
      const ms = performance.now() - t0;
      imap.close();
      return { ...r, ms };
    };
    // The owner signs in once from this address, which makes it a known one (exempt from the per-account delay).
    const ownerIp = "127.0.0.32";
    await imapLogin(USER, PASS, ownerIp);
    // Same reply text for unknown user and wrong password, on IMAP, POP3 and SMTP.
    const unknownImap = await imapLogin(`nobody@${DOMAIN}`, "wrong-1", "127.0.0.21");
    const wrongImap = await imapLogin(USER, "wrong-1", "127.0.0.22");
    add("auth", "IMAP: same reply for unknown user and wrong password", unknownImap.status === "NO" && wrongImap.status === "NO" && unknownImap.text === wrongImap.text, `"${unknownImap.text}" vs "${wrongImap.text}"`);
    const popLogin = async (user: string, pass: string, ip: string) => {
      const c = await LineConn.connect(ports.pop3, { localAddress: ip });
      await c.line();
      c.write(`USER ${user}\r\n`);
      const u = await c.line();
      c.write(`PASS ${pass}\r\n`);
      const p = await c.line();
      c.close();
      return `${u} | ${p}`;
    };
    const unknownPop = await popLogin(`nobody@${DOMAIN}`, "wrong-1", "127.0.0.23");
    const wrongPop = await popLogin(USER, "wrong-1", "127.0.0.24");
    add("auth", "POP3: same replies for unknown user and wrong password", unknownPop === wrongPop && unknownPop.includes("-ERR"), `"${unknownPop}" vs "${wrongPop}"`);
    const smtpAuth = async (user: string, pass: string, ip: string) => {
      const c = await LineConn.connect(ports.submission, { localAddress: ip });
      try {
        await smtpReply(c);
        await smtpCmd(c, "EHLO a");
        await smtpCmd(c, "STARTTLS");
        await c.startTls();
        await smtpCmd(c, "EHLO a");
        const r = await smtpCmd(c, "AUTH PLAIN " + Buffer.from(`\0${user}\0${pass}`).toString("base64"));
        return `${r.code} ${r.text}`;
      } finally {
        c.close();
      }
    };
    const unknownSmtp = await smtpAuth(`nobody@${DOMAIN}`, "wrong-1", "127.0.0.25");
    const wrongSmtp = await smtpAuth(USER, "wrong-1", "127.0.0.26");
    add("auth", "SMTP AUTH: same reply for unknown user and wrong password", unknownSmtp === wrongSmtp && unknownSmtp.startsWith("535"), `"${unknownSmtp}" vs "${wrongSmtp}"`);
    // Timing: medians of a few tries from separate addresses (the limiter counts per IP).
    const tU: number[] = [];
    const tW: number[] = [];
    // Interleaved so load changes on this shared machine hit both sides alike.
    for (let i = 0; i < 8; i++) {
      const a = () => imapLogin(`nobody${i}@${DOMAIN}`, "wrong-x", `127.0.1.${10 + i}`).then((r) => tU.push(r.ms));
      const b = () => imapLogin(`timing${i}@${DOMAIN}`, `wrong-x${i}`, `127.0.1.${30 + i}`).then((r) => tW.push(r.ms));
      if (i % 2) await a().then(b);
      else await b().then(a);
    }
    const mu = median(tU);
    const mw = median(tW);
    const ratio = Math.max(mu, mw) / Math.max(1, Math.min(mu, mw));
    add("auth", "timing: unknown user vs wrong password (medians of 8 within 2x)", ratio < 2, `unknown ${mu.toFixed(0)} ms, wrong password ${mw.toFixed(0)} ms`);
    // Brute force from one IP: blocked after the limit, even with the right password.
    const ip = "127.0.0.31";
    let blockedAt = -1;
    for (let i = 1; i <= 8; i++) {
      const r = await imapLogin(USER, `guess-${i}`, ip);
      if (blockedAt < 0 && /UNAVAILABLE|too many|later|LIMIT/i.test(r.text)) blockedAt = i;
    }
    const right = await imapLogin(USER, PASS, ip);
    add("auth", "brute force: the right password is refused while the IP is blocked", right.status !== "OK", `${right.status} ${right.text} (limit 5 failures/4 s; blocking reply from attempt ${blockedAt})`);
    const other = await imapLogin(USER, PASS, ownerIp);
    add("auth", "brute force: the owner still signs in from a known address (no lock-out of the account)", other.status === "OK", `${other.status} ${other.text}`);
    const smtpBlocked = await smtpAuth(USER, PASS, ip).catch((e: unknown) => String(e));
    add("auth", "brute force: the block also holds for SMTP AUTH from that IP", !smtpBlocked.startsWith("235"), smtpBlocked);
    await sleep(4500);
    // The per-IP block lifts after its window (alice herself stays slowed for unknown addresses: the per-account delay).
    const later = await imapLogin(`timing0@${DOMAIN}`, PASS, ip);
    add("auth", "the per-IP block is temporary (that IP signs in again after the window)", later.status === "OK", `${later.status} ${later.text}`);

    // ------------------------------------------------------ slow, half-open, flood
    const greetAndCommand = async (port: number, kind: "smtp" | "imap" | "pop3", localAddress: string) => {
      const t0 = Date.now();
      const c = await LineConn.connect(port, { localAddress, timeoutMs: 5000 });
      try {
        const g = await c.line(5000);
        if (kind === "smtp") {
          const r = await smtpCmd(c, "NOOP", 5000);
          return g.startsWith("220") && r.code === 250 ? `ok in ${Date.now() - t0} ms` : `bad: ${g} / ${r.code}`;
        }
        if (kind === "imap") {
          c.write("x NOOP\r\n");
          const r = await c.line(5000);
          return g.startsWith("* OK") && r.startsWith("x OK") ? `ok in ${Date.now() - t0} ms` : `bad: ${g} / ${r}`;
        }
        c.write("NOOP\r\n");
        const r = await c.line(5000);
        return g.startsWith("+OK") && r.length > 0 ? `ok in ${Date.now() - t0} ms` : `bad: ${g} / ${r}`;
      } catch (e) {
        return `failed: ${String(e)}`;
      } finally {
        c.close();
      }
    };
    // Slow clients: one byte per second on each protocol while others work.
    const slow: LineConn[] = [];
    const slowTimers: ReturnType<typeof setInterval>[] = [];
    for (const port of [ports.smtp, ports.imap, ports.pop3]) {
      for (let i = 0; i < 3; i++) {
        const c = await LineConn.connect(port, { localAddress: "127.0.0.41" });
        slow.push(c);
        const text = port === ports.imap ? "a1 LOGIN alice@abuse.test nothing-here-yet\r\n" : "EHLO slow.client.example\r\n";
        let k = 0;
        slowTimers.push(setInterval(() => c.write(text[k++ % text.length]!), 1000));
      }
    }
    // Half-open: connections that never send anything.
    const idle: LineConn[] = [];
    for (const port of [ports.smtp, ports.imap, ports.pop3]) for (let i = 0; i < 5; i++) idle.push(await LineConn.connect(port, { localAddress: "127.0.0.42" }));
    // Flood from one IP: more than the per-IP limit (20).
    const flood: LineConn[] = [];
    let floodRefused = 0;
    for (let i = 0; i < 40; i++) {
      try {
        flood.push(await LineConn.connect(ports.imap, { localAddress: "127.0.0.43", timeoutMs: 3000 }));
      } catch {
        floodRefused++;
      }
    }
    await sleep(1500);
    let floodGreeted = 0;
    for (const c of flood) {
      const l = await c.line(1500).catch(() => "");
      if (l.startsWith("* OK")) floodGreeted++;
      else if (c.closed || l.startsWith("* BYE")) floodRefused++;
    }
    add("limits", "connection flood from one IP is capped at the per-IP limit (20)", floodGreeted <= 20 && floodGreeted > 0, `${flood.length} connected, ${floodGreeted} greeted, ${floodRefused} refused/closed`);
    for (const [kind, port] of [["smtp", ports.smtp], ["imap", ports.imap], ["pop3", ports.pop3]] as const) {
      const r = await greetAndCommand(port, kind, "127.0.0.44");
      add("limits", `${kind}: another client is served during slow/half-open/flood load`, r.startsWith("ok"), r);
    }
    await sleep(o.quick ? 2000 : 8000);
    for (const [kind, port] of [["smtp", ports.smtp], ["imap", ports.imap], ["pop3", ports.pop3]] as const) {
      const r = await greetAndCommand(port, kind, "127.0.0.45");
      add("limits", `${kind}: still served after ${o.quick ? 2 : 8} s more of slow clients`, r.startsWith("ok"), r);
    }
    slowTimers.forEach(clearInterval);
    for (const c of [...slow, ...idle, ...flood]) c.close();
    await sleep(500);

    // ------------------------------------------------------ oversized input
    const rss0 = rssKb(srv.pid);
    {
      // SMTP command line of 8 MB without a line end: refused, not buffered.
      const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.0.51" });
      await smtpReply(c);
      const chunk = Buffer.alloc(64 * 1024, 0x41);
      for (let i = 0; i < 128 && !c.closed; i++) {
        c.write(chunk);
        if (i % 16 === 0) await sleep(5);
      }
      c.write("\r\n");
      const r = await smtpReply(c, 10_000).catch((e: unknown) => ({ code: 0, text: String(e) }));
      const rss1 = rssKb(srv.pid);
      add("oversize", "SMTP 8 MB command line", r.code >= 500 || c.closed, `${r.code} ${r.text.split("\n")[0]}; server RSS ${rss0} -> ${rss1} KB`);
      c.close();
    }
    {
      // SMTP header line of 10,000 octets (RFC 5321 §4.5.3.1.6: 1000 is what every receiver must take; more is allowed).
      const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.0.52" });
      await smtpReply(c);
      await smtpCmd(c, "EHLO a");
      await smtpCmd(c, "MAIL FROM:<x@outside.test>");
      await smtpCmd(c, `RCPT TO:<${USER}>`);
      await smtpCmd(c, "DATA");
      c.write(`Subject: ${"x".repeat(10_000)}\r\n\r\nbody\r\n.\r\n`);
      const r = await smtpReply(c);
      // RFC 5321 §4.5.3.1 asks receivers to avoid line-length limits where they can; long lines are accepted (issue 13 item 16).
      add("oversize", "SMTP 10,000-octet header line accepted, not a lost message", r.code === 250, `${r.code} ${r.text.split("\n")[0]}`);
      c.close();
    }
    {
      // SIZE declared above the limit, and DATA above the limit.
      const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.0.53" });
      await smtpReply(c);
      await smtpCmd(c, "EHLO a");
      const m = await smtpCmd(c, "MAIL FROM:<x@outside.test> SIZE=999999999");
      add("oversize", "SMTP MAIL SIZE= above the limit", m.code === 552, `${m.code} ${m.text.split("\n")[0]}`);
      await smtpCmd(c, "RSET");
      await smtpCmd(c, "MAIL FROM:<x@outside.test>");
      await smtpCmd(c, `RCPT TO:<${USER}>`);
      await smtpCmd(c, "DATA");
      const line = "y".repeat(998) + "\r\n";
      for (let i = 0; i < 6000; i++) c.write(line); // 6 MB > 4 MB limit
      c.write(".\r\n");
      const r = await smtpReply(c, 30_000);
      add("oversize", "SMTP DATA of 6 MB above a 4 MB limit", r.code === 552, `${r.code} ${r.text.split("\n")[0]}; server RSS ${rssKb(srv.pid)} KB`);
      c.close();
    }
    {
      // IMAP: synchronising literal above APPENDLIMIT is refused before any data; non-sync skipped.
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.54" });
      await imap.cmd(`LOGIN ${USER} ${PASS}`);
      imap.c.write("a1 APPEND INBOX {50000000}\r\n");
      const l1 = await imap.c.line();
      add("oversize", "IMAP APPEND {50000000} refused before the literal", l1.startsWith("a1 NO") || l1.startsWith("a1 BAD"), l1);
      imap.c.write("a2 NOOP {70000}\r\n");
      const l2 = await imap.c.line();
      add("oversize", "IMAP 70,000-octet literal in a non-APPEND command refused", /^a2 (NO|BAD)/.test(l2), l2);
      imap.c.write(`a3 NOOP ${"z".repeat(200_000)}\r\n`);
      const l3 = await imap.c.line().catch((e: unknown) => String(e));
      add("oversize", "IMAP 200 KB command line refused", /BAD|BYE|closed/.test(l3), l3.slice(0, 100));
      imap.close();
    }
    {
      // Clients that never logged in, each sending most of a 4 MB non-synchronising APPEND
      // literal: the server must not hold what they send (6 x 3.5 MB = 21 MB if it does).
      const before = rssKb(srv.pid);
      const conns: LineConn[] = [];
      const chunk = Buffer.alloc(512 * 1024, 0x71);
      for (let i = 0; i < 6; i++) {
        const c = await LineConn.connect(ports.imap, { localAddress: "127.0.0.55" });
        await c.line();
        c.write("a APPEND INBOX {4000000+}\r\n");
        for (let k = 0; k < 7 && !c.closed; k++) {
          c.write(chunk);
          await sleep(10);
        }
        conns.push(c);
      }
      await sleep(2000);
      const after = rssKb(srv.pid);
      const closedEarly = conns.filter((c) => c.closed).length;
      add("oversize", "IMAP: unauthenticated APPEND literals (6 x 3.5 MB sent) are not buffered", after - before < 10_000, `server RSS ${before} -> ${after} KB; ${closedEarly} of 6 connections closed by the server`);
      for (const c of conns) c.close();
    }
    {
      // MIME depth: 300 nested multiparts are stored with a capped tree, the server stays up.
      let msg = "From: x@outside.test\r\nSubject: deep\r\n";
      for (let i = 0; i < 300; i++) msg += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
      msg += "Content-Type: text/plain\r\n\r\nleaf\r\n";
      for (let i = 299; i >= 0; i--) msg += `--b${i}--\r\n`;
      const c = await LineConn.connect(ports.smtp, { localAddress: "127.0.0.56" });
      await smtpReply(c);
      await smtpCmd(c, "EHLO a");
      await smtpCmd(c, "MAIL FROM:<x@outside.test>");
      await smtpCmd(c, `RCPT TO:<${USER}>`);
      await smtpCmd(c, "DATA");
      c.write(msg + ".\r\n");
      const r = await smtpReply(c, 30_000);
      c.close();
      const { imap } = await ImapConn.connect(ports.imap, { localAddress: "127.0.0.56" });
      await imap.cmd(`LOGIN ${USER} ${PASS}`);
      await imap.cmd("SELECT INBOX");
      const bs = await imap.cmd("FETCH * (BODYSTRUCTURE)");
      imap.close();
      const depth = (bs.untagged.join("").match(/\(/g) ?? []).length;
      add("oversize", "MIME nested 300 deep: handled with a bounded tree", (r.code === 250 || r.code >= 500) && bs.status === "OK", `DATA ${r.code}; BODYSTRUCTURE ${bs.status}, ${depth} parentheses`);
    }
    {
      // POP3 over-long line.
      const c = await LineConn.connect(ports.pop3, { localAddress: "127.0.0.57" });
      await c.line();
      c.write("USER " + "u".repeat(100_000) + "\r\n");
      const l = await c.line().catch((e: unknown) => String(e));
      add("oversize", "POP3 100 KB command line", /^-ERR|closed/.test(l), l.slice(0, 100));
      c.close();
    }

    // ------------------------------------------------------ HTTP traversal and injection
    const { connect: tlsConnect } = await import("node:tls");
    const raw = (port: number, request: string, tls = port === ports.https): Promise<string> =>
      new Promise((resolve) => {
        const s = tls
          ? tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" }, () => s.write(request))
          : netConnect({ host: "127.0.0.1", port }, () => s.write(request));
        let out = "";
        s.on("data", (d: Buffer) => (out += d.toString("latin1")));
        s.on("close", () => resolve(out));
        s.on("error", () => resolve(out));
        setTimeout(() => s.destroy(), 5000);
      });
    const secret = readFileSync(join(dataDir, "pillarbox.db")).subarray(0, 16).toString("latin1"); // "SQLite format 3"
    const traversal = [
      "/assets/../../package.json",
      "/assets/..%2f..%2fpackage.json",
      "/assets/%2e%2e/%2e%2e/package.json",
      "/assets/%252e%252e/%252e%252e/package.json",
      "/assets/..\\..\\package.json",
      "/assets/....//....//package.json",
      "/../../../../etc/passwd",
      "/assets/..%00/package.json",
      "/assets/%c0%ae%c0%ae/package.json",
      "//etc/passwd",
      "/assets/../../" + dataDir.replace(/^\//, "") + "/pillarbox.db",
      "/assets/..%2f..%2f..%2f..%2f..%2f..%2f" + encodeURIComponent(dataDir.slice(1)) + "%2fpillarbox.db",
      "/Microsoft-Server-ActiveSync/../../package.json",
      "/autodiscover/../../etc/passwd",
    ];
    for (const p of traversal) {
      const res = await raw(ports.https, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      const res2 = await raw(ports.http, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      const leaked = [res, res2].some((r) => r.includes('"name": "pillarbox"') || r.includes("root:x:0") || r.includes(secret));
      add("http", `traversal ${p}`, !leaked && !/^HTTP\/1\.1 5/.test(res) && res.length > 0, `https: ${res.split("\r\n")[0] || "(closed)"}; http: ${res2.split("\r\n")[0] || "(closed)"}`);
    }
    // Over TLS too (the HTTPS listener serves the assets).
    {
      const { connect } = await import("node:tls");
      for (const p of ["/assets/../../package.json", "/assets/..%2f..%2fpackage.json", "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd"]) {
        const res: string = await new Promise((resolve) => {
          const s = connect({ host: "127.0.0.1", port: ports.https, rejectUnauthorized: false, servername: "localhost" }, () => s.write(`GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
          let out = "";
          s.on("data", (d: Buffer) => (out += d.toString("latin1")));
          s.on("close", () => resolve(out));
          s.on("error", () => resolve(out));
          setTimeout(() => s.destroy(), 5000);
        });
        const leaked = res.includes('"name": "pillarbox"') || res.includes("root:x:0");
        add("http", `https traversal ${p}`, !leaked && !/^HTTP\/1\.1 5/.test(res), res.split("\r\n")[0] ?? "(no answer)");
      }
    }
    const injections = [
      "/%0d%0aX-Injected:%20yes",
      "/login?next=%0d%0aX-Injected:%20yes",
      "/%0aX-Injected:%20yes",
      "/Microsoft-Server-ActiveSync?Cmd=Ping&User=a%0d%0aX-Injected:%20yes&DeviceId=x%0d%0aX-Injected:%20yes&DeviceType=y",
      "/autodiscover/autodiscover.xml?x=%0d%0aX-Injected:%20yes",
      "/\r\nX-Injected: yes",
    ];
    for (const p of injections) {
      for (const [label, port] of [["http", ports.http], ["https", ports.https]] as const) {
        const res = await raw(port, `GET ${p} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
        const head = res.split("\r\n\r\n")[0] ?? "";
        const injected = /^x-injected:/im.test(head);
        add("http", `${label} header injection ${JSON.stringify(p)}`, !injected && !/^HTTP\/1\.1 5/.test(res), (res.split("\r\n")[0] ?? "(no answer)") + (/^location:.*$/im.exec(head)?.[0] ? " " + /^location:.*$/im.exec(head)![0].slice(0, 80) : ""));
      }
    }
    {
      // Host header with CRLF-like junk and a redirect built from it.
      const res = await raw(ports.http, `GET / HTTP/1.1\r\nHost: evil.test%0d%0aX-Injected: yes\r\nConnection: close\r\n\r\n`);
      const head = res.split("\r\n\r\n")[0] ?? "";
      add("http", "Host header with encoded CRLF", !/^x-injected:/im.test(head), res.split("\r\n")[0] ?? "");
    }
    // The server is still alive and no relay attempt reached the queue.
    const alive = await greetAndCommand(ports.smtp, "smtp", "127.0.0.60");
    add("final", "server alive after all cases", alive.startsWith("ok"), alive);
  } finally {
    srv.kill("SIGTERM");
    await Promise.race([srv.exited, sleep(8000)]);
    srv.kill("SIGKILL");
  }
  {
    const s = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
    const q = await s.listQueue();
    add("relay", "nothing from the relay attempts reached the outbound queue", q.length === 0, `${q.length} queue entries`);
    await s.close();
  }
  rmSync(dataDir, { recursive: true, force: true });
}
