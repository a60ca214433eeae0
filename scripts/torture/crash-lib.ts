/**
 * Crash-safety harness (issue 8 part 1). Starts `bun src/main.ts serve` as a
 * child process, drives SMTP (MX, port 25 style), authenticated submission
 * with remote recipients (the queue) and IMAP APPEND/STORE/EXPUNGE against
 * it, SIGKILLs it at random moments, and after every kill opens the store
 * (server stopped) and checks:
 *  - every message acknowledged (SMTP 250 / APPEND OK) is present exactly
 *    once in every recipient mailbox; acknowledged EXPUNGEs stay expunged;
 *    acknowledged STORE flags persist;
 *  - unacknowledged messages appear at most once, and in all recipients or
 *    none (delivery is atomic), never half-written: every item's blob exists,
 *    has the recorded size and its MIME offsets are inside the blob;
 *  - UIDVALIDITY never changes and UIDNEXT never goes backwards per folder;
 *  - PRAGMA integrity_check is ok;
 *  - after collectGarbage({graceMs:0}) every referenced blob still exists and
 *    no unreferenced blob is left;
 *  - every acknowledged submission to a remote address is still queued (or
 *    bounced to the sender).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { openStore } from "../../storage/store.ts";
import type { MailStore } from "../../storage/api.ts";
import { ImapConn, smtpSend } from "../../tests/reliability/lib/conn.ts";
import { freePort, startServerProc, type ServerProc } from "../../tests/reliability/lib/server-proc.ts";
import { passwordHasher } from "../../src/auth.ts";

export interface CrashOptions {
  kills: number;
  /** Random run time before each kill, ms. */
  minRunMs?: number;
  maxRunMs?: number;
  smtpWorkers?: number;
  imapWorkers?: number;
  submitWorkers?: number;
  log?: (s: string) => void;
  keepDataDir?: boolean;
  seed?: number;
  /**
   * Server processes (PILLARBOX_WORKERS; default 2). With more than one, every
   * other round first SIGKILLs one worker under load (the lead restarts it and
   * the load goes on), then the whole server; the other rounds SIGKILL the
   * lead and every worker at once.
   */
  workers?: number;
}

export interface CrashFigures {
  kills: number;
  /** Single workers SIGKILLed under load (the server went on serving). */
  workerKills: number;
  /** The server's processes (lead included). */
  processes: number;
  smtpAcked: number;
  smtpUnacked: number;
  appendAcked: number;
  expungesAcked: number;
  flagsAcked: number;
  submitAcked: number;
  deliveriesChecked: number;
  /** Distinct acknowledged (message, mailbox) pairs at the end. */
  distinctDeliveries: number;
  lost: number;
  duplicates: number;
  halfWritten: number;
  partialDeliveries: number;
  uidRegressions: number;
  integrityFailures: number;
  orphanBlobsCollected: number;
  orphansLeftAfterGc: number;
  referencedBlobsMissing: number;
  queueLost: number;
  unexpectedTokens: number;
  problems: string[];
  seconds: number;
}

type TokState = "sent" | "acked" | "deleting" | "deleted";
interface Tok {
  kind: "smtp" | "append" | "submit";
  /** email -> folder name where it must be. */
  where: { email: string; folder: string }[];
  state: TokState;
  flagged: "no" | "maybe" | "yes";
  remote?: boolean;
}

const DOMAIN = "crash.test";
const USERS = ["alice", "bob", "carol", "dave", "erin"].map((u) => `${u}@${DOMAIN}`);
const PASSWORD = "crash-pass-1";

function rnd(n: number): number {
  return Math.floor(Math.random() * n);
}

function body(tok: string): string {
  const size = rnd(10) === 0 ? 60_000 : 300 + rnd(4000);
  const lines: string[] = [];
  let n = 0;
  while (n < size) {
    const l = randomBytes(30).toString("base64");
    lines.push(l);
    n += l.length + 2;
  }
  return `Body of ${tok}\n${lines.join("\n")}\n`;
}

function message(tok: string, from: string, to: string[]): string {
  return [
    `From: <${from}>`,
    `To: ${to.map((t) => `<${t}>`).join(", ")}`,
    `Subject: crash-token ${tok}`,
    `Message-ID: <${tok}@torture.test>`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `X-Torture-Token: ${tok}`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
    body(tok),
  ].join("\n");
}

export async function runCrash(o: CrashOptions): Promise<CrashFigures> {
  const log = o.log ?? (() => {});
  const t0 = Date.now();
  const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-crash-"));
  const url = `file:${join(dataDir, "pillarbox.db")}`;
  const f: CrashFigures = {
    kills: 0, workerKills: 0, processes: o.workers ?? 2, smtpAcked: 0, smtpUnacked: 0, appendAcked: 0, expungesAcked: 0, flagsAcked: 0, submitAcked: 0, deliveriesChecked: 0, distinctDeliveries: 0,
    lost: 0, duplicates: 0, halfWritten: 0, partialDeliveries: 0, uidRegressions: 0, integrityFailures: 0, orphanBlobsCollected: 0,
    orphansLeftAfterGc: 0, referencedBlobsMissing: 0, queueLost: 0, unexpectedTokens: 0, problems: [], seconds: 0,
  };
  const problem = (s: string) => {
    if (f.problems.length < 50) f.problems.push(s);
    log("  PROBLEM " + s);
  };

  // Accounts and folders, created with the server stopped.
  {
    const s = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
    await s.addDomain(DOMAIN);
    for (const u of USERS) await s.addAccount(u, PASSWORD);
    const alice = (await s.getAccount(USERS[0]!))!;
    const erin = (await s.getAccount(USERS[4]!))!;
    await s.createFolder(alice.id, "Scratch");
    await s.createFolder(erin.id, "Work");
    await s.close();
  }
  const ports = { smtp: await freePort(), submission: await freePort(), imap: await freePort() };
  const toks = new Map<string, Tok>();
  const uidSeen = new Map<string, { uidValidity: number; uidNext: number; maxAppendUid: number }>();
  let seq = 0;
  const newTok = () => `T${(o.seed ?? t0).toString(36)}x${(++seq).toString(36)}`;

  // ---------------------------------------------------------- workers
  let running = false;
  const smtpWorker = async () => {
    while (running) {
      const n = 2 + rnd(2);
      const rcpts = [...USERS.slice(0, 3)].sort(() => Math.random() - 0.5).slice(0, n);
      const tok = newTok();
      const t: Tok = { kind: "smtp", where: rcpts.map((e) => ({ email: e, folder: "INBOX" })), state: "sent", flagged: "no" };
      toks.set(tok, t);
      try {
        const r = await smtpSend({ port: ports.smtp, from: "sender@outside.test", to: rcpts, data: message(tok, "sender@outside.test", rcpts) });
        if (r.code === 250) t.state = "acked";
        else if (running) problem(`SMTP refused ${tok}: ${r.code} ${r.text}`);
      } catch {
        return; // server gone
      }
    }
  };
  const submitWorker = async () => {
    while (running) {
      const tok = newTok();
      const rcpts = ["someone@remote.test", USERS[3]!];
      const t: Tok = { kind: "submit", where: [{ email: USERS[3]!, folder: "INBOX" }], state: "sent", flagged: "no", remote: true };
      toks.set(tok, t);
      try {
        const r = await smtpSend({ port: ports.submission, from: USERS[0]!, to: rcpts, data: message(tok, USERS[0]!, rcpts), auth: { user: USERS[0]!, pass: PASSWORD } });
        if (r.code === 250) t.state = "acked";
        else if (running) problem(`submission refused ${tok}: ${r.code} ${r.text}`);
      } catch {
        return;
      }
    }
  };
  const imapWorker = async (email: string, folder: string) => {
    let imap: ImapConn;
    try {
      imap = (await ImapConn.connect(ports.imap)).imap;
      const l = await imap.cmd(`LOGIN ${email} ${PASSWORD}`);
      if (l.status !== "OK") throw new Error("login failed: " + l.text);
      const s = await imap.cmd(`SELECT ${folder}`);
      if (s.status !== "OK") throw new Error("select failed: " + s.text);
    } catch (e) {
      if (running) log(`  imap worker could not start: ${String(e)}`);
      return;
    }
    const mine: { tok: string; uid: number }[] = [];
    try {
      while (running) {
        const op = rnd(10);
        if (op < 6 || mine.length < 3) {
          const tok = newTok();
          const t: Tok = { kind: "append", where: [{ email, folder }], state: "sent", flagged: "no" };
          toks.set(tok, t);
          const r = await imap.cmd(`APPEND ${folder} (\\Seen)`, message(tok, "self@" + DOMAIN, [email]).replace(/\n/g, "\r\n"));
          if (r.status === "OK") {
            t.state = "acked";
            const m = /APPENDUID (\d+) (\d+)/.exec(r.text);
            if (m) {
              mine.push({ tok, uid: Number(m[2]) });
              const key = `${email}/${folder}`;
              const u = uidSeen.get(key);
              if (u) u.maxAppendUid = Math.max(u.maxAppendUid, Number(m[2]));
              else uidSeen.set(key, { uidValidity: Number(m[1]), uidNext: 0, maxAppendUid: Number(m[2]) });
            }
          } else if (running) problem(`APPEND refused: ${r.status} ${r.text}`);
        } else if (op < 8) {
          const m = mine[rnd(mine.length)]!;
          const t = toks.get(m.tok)!;
          if (t.state !== "acked") continue;
          if (t.flagged === "no") t.flagged = "maybe";
          const r = await imap.cmd(`UID STORE ${m.uid} +FLAGS.SILENT (\\Flagged)`);
          if (r.status === "OK") t.flagged = "yes";
        } else {
          const i = rnd(mine.length);
          const m = mine[i]!;
          const t = toks.get(m.tok)!;
          if (t.state !== "acked") continue;
          t.state = "deleting";
          const r1 = await imap.cmd(`UID STORE ${m.uid} +FLAGS.SILENT (\\Deleted)`);
          if (r1.status !== "OK") continue;
          const r2 = await imap.cmd(`UID EXPUNGE ${m.uid}`);
          if (r2.status === "OK") {
            t.state = "deleted";
            mine.splice(i, 1);
          }
        }
      }
    } catch {
      // server killed
    }
    imap.close();
  };

  // ---------------------------------------------------------- checks
  const check = async (round: number) => {
    const store: MailStore = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
    try {
      const ic = await store.integrityCheck();
      if (ic.length !== 1 || ic[0] !== "ok") {
        f.integrityFailures++;
        problem(`round ${round}: integrity_check: ${ic.join("; ").slice(0, 300)}`);
      }
      const counts = new Map<string, number>(); // `${tok}|${email}|${folder}` -> n
      const flagged = new Map<string, boolean>();
      const referenced = new Set<string>();
      const rawOf = new Map<number, string>(); // id -> raw (only alice INBOX non-token, for DSNs)
      for (const email of USERS) {
        const acct = (await store.getAccount(email))!;
        for (const folder of await store.listFolders(acct.id)) {
          const list = await store.listMessages(folder.id);
          const key = `${email}/${folder.name}`;
          const prev = uidSeen.get(key);
          if (prev) {
            if (prev.uidValidity && prev.uidValidity !== folder.uidValidity) {
              f.uidRegressions++;
              problem(`round ${round}: ${key} UIDVALIDITY changed ${prev.uidValidity} -> ${folder.uidValidity}`);
            }
            if (folder.uidNext < prev.uidNext || folder.uidNext <= prev.maxAppendUid) {
              f.uidRegressions++;
              problem(`round ${round}: ${key} UIDNEXT went back: ${folder.uidNext} (was ${prev.uidNext}, acknowledged APPENDUID ${prev.maxAppendUid})`);
            }
          }
          uidSeen.set(key, { uidValidity: folder.uidValidity, uidNext: folder.uidNext, maxAppendUid: prev?.maxAppendUid ?? 0 });
          if (list.length === 0) continue;
          let lastUid = 0;
          for (const m of list) {
            if (m.uid <= lastUid || m.uid >= folder.uidNext) {
              f.uidRegressions++;
              problem(`round ${round}: ${key} uid ${m.uid} out of order or >= UIDNEXT ${folder.uidNext}`);
            }
            lastUid = m.uid;
          }
          const full = await store.getMessages(folder.id, list.map((m) => m.uid));
          for (const m of full) {
            referenced.add(m.blobId);
            let raw: Uint8Array | null = null;
            try {
              raw = await store.readMessage(m.id);
            } catch (e) {
              f.halfWritten++;
              problem(`round ${round}: ${key} uid ${m.uid}: blob ${m.blobId} unreadable: ${String(e)}`);
              continue;
            }
            if (raw.length !== m.size || m.root.bodyEnd > raw.length || m.root.headerStart !== 0) {
              f.halfWritten++;
              problem(`round ${round}: ${key} uid ${m.uid}: size ${m.size} vs blob ${raw.length}, root end ${m.root.bodyEnd}`);
            }
            const tm = /^crash-token (\S+)$/.exec(m.subject);
            if (!tm) {
              rawOf.set(m.id, new TextDecoder("latin1").decode(raw));
              continue;
            }
            const text = new TextDecoder("latin1").decode(raw);
            if (!text.includes(`Body of ${tm[1]}`) || !text.endsWith("\n")) {
              f.halfWritten++;
              problem(`round ${round}: ${key} uid ${m.uid}: message ${tm[1]} truncated`);
            }
            const k = `${tm[1]}|${email}|${folder.name}`;
            counts.set(k, (counts.get(k) ?? 0) + 1);
            flagged.set(k, m.flags.includes("\\Flagged"));
            if (!toks.has(tm[1]!)) {
              f.unexpectedTokens++;
              problem(`round ${round}: unknown token ${tm[1]} in ${key}`);
            }
          }
        }
      }
      // Queue.
      const queued = new Set<string>();
      for (const q of await store.listQueue()) {
        referenced.add(q.blobId);
        try {
          const raw = new TextDecoder("latin1").decode(await store.blobs.get(q.blobId));
          const m = /X-Torture-Token: (\S+)/.exec(raw);
          if (m && q.recipients.some((r) => r.address === "someone@remote.test" && r.status === "pending")) queued.add(m[1]!);
        } catch (e) {
          f.referencedBlobsMissing++;
          problem(`round ${round}: queue entry ${q.id} blob missing: ${String(e)}`);
        }
      }
      const bounced = [...rawOf.values()].join("\n");
      // Compare with what was acknowledged.
      for (const [tok, t] of toks) {
        const ns = t.where.map((w) => counts.get(`${tok}|${w.email}|${w.folder}`) ?? 0);
        for (const [i, w] of t.where.entries()) {
          const n = ns[i]!;
          if (n > 1) {
            f.duplicates++;
            problem(`round ${round}: ${tok} (${t.kind}) ${n} times in ${w.email}/${w.folder}`);
          }
          if (t.state === "acked") {
            f.deliveriesChecked++;
            if (n === 0) {
              f.lost++;
              problem(`round ${round}: LOST acknowledged ${t.kind} ${tok} in ${w.email}/${w.folder}`);
            }
            if (t.flagged === "yes" && n === 1 && !flagged.get(`${tok}|${w.email}|${w.folder}`)) {
              f.lost++;
              problem(`round ${round}: acknowledged \\Flagged lost on ${tok}`);
            }
          }
          if (t.state === "deleted" && n !== 0) {
            f.lost++;
            problem(`round ${round}: acknowledged EXPUNGE of ${tok} undone`);
          }
        }
        if (t.kind === "smtp" && t.state !== "acked") {
          const present = ns.filter((n) => n > 0).length;
          if (present !== 0 && present !== ns.length) {
            f.partialDeliveries++;
            problem(`round ${round}: unacknowledged ${tok} in ${present} of ${ns.length} recipients (delivery not atomic)`);
          }
        }
        if (t.kind === "submit" && t.state === "acked" && !queued.has(tok) && !bounced.includes(tok)) {
          f.queueLost++;
          problem(`round ${round}: acknowledged submission ${tok} to a remote address neither queued nor bounced`);
        }
      }
      // Garbage collection: orphans go, referenced blobs stay.
      const removed = await store.collectGarbage({ graceMs: 0 });
      f.orphanBlobsCollected += removed;
      const present = new Set<string>();
      for await (const id of store.blobs.list()) present.add(id);
      for (const id of referenced) {
        if (!present.has(id)) {
          f.referencedBlobsMissing++;
          problem(`round ${round}: referenced blob ${id} missing after GC`);
        }
      }
      for (const id of present) {
        if (!referenced.has(id)) {
          f.orphansLeftAfterGc++;
          problem(`round ${round}: orphan blob ${id} left after GC`);
        }
      }
    } finally {
      await store.close();
    }
  };

  // ---------------------------------------------------------- kill loop
  let srv: ServerProc | null = null;
  try {
    const processes = o.workers ?? 2;
    const env = { PILLARBOX_WORKERS: String(processes) };
    for (let round = 1; round <= o.kills; round++) {
      srv = await startServerProc({ dataDir, ports, env });
      // Every port accepts once the lead is up; the workers join within a moment.
      for (let i = 0; i < 200 && srv.workers().length < processes - 1; i++) await new Promise((r) => setTimeout(r, 25));
      running = true;
      const workers: Promise<void>[] = [];
      for (let i = 0; i < (o.smtpWorkers ?? 3); i++) workers.push(smtpWorker());
      for (let i = 0; i < (o.submitWorkers ?? 1); i++) workers.push(submitWorker());
      const iw = o.imapWorkers ?? 2;
      for (let i = 0; i < iw; i++) workers.push(i % 2 === 0 ? imapWorker(USERS[4]!, "Work") : imapWorker(USERS[0]!, "Scratch"));
      const minMs = o.minRunMs ?? 500;
      const maxMs = o.maxRunMs ?? 4000;
      const wait = rnd(5) === 0 ? rnd(200) : minMs + rnd(maxMs - minMs);
      await new Promise((r) => setTimeout(r, wait));
      let workerNote = "";
      if (processes > 1 && round % 2 === 0) {
        // One worker dies mid-delivery; its connections drop, the lead starts another, the load goes on.
        const ws = srv.workers();
        const victim = ws[rnd(ws.length)];
        if (victim !== undefined) {
          try {
            process.kill(victim, "SIGKILL");
            f.workerKills++;
            workerNote = `, worker ${victim} killed first`;
          } catch {
            // it had just ended
          }
          await new Promise((r) => setTimeout(r, minMs + rnd(maxMs - minMs)));
          // The lead starts a new one within a few seconds (0.5-1 s of back-off, then its start-up).
          for (let i = 0; i < 400 && srv.workers().length < processes - 1; i++) await new Promise((r) => setTimeout(r, 25));
        }
      }
      const lead = srv.pid;
      // Every round runs with the workers up: the first wait above (start-up) or the second (a killed one replaced).
      for (let i = 0; i < 400 && srv.workers().length < processes - 1; i++) await new Promise((r) => setTimeout(r, 25));
      const before = srv.workers().length;
      await srv.killAll();
      const ex = await srv.exited;
      f.kills++;
      if (processes > 1 && before === 0) problem(`round ${round}: no worker was running beside the lead ${lead}`);
      running = false;
      await Promise.all(workers);
      if (ex.signal !== "SIGKILL") problem(`round ${round}: server exited by itself (${ex.code}/${ex.signal}): ${srv.stderr().slice(-500)}`);
      await check(round);
      const acked = [...toks.values()].filter((t) => t.state !== "sent").length;
      log(`kill ${round}/${o.kills} after ${wait} ms${workerNote}: ${toks.size} messages tracked, ${acked} acknowledged, problems so far ${f.problems.length}`);
    }
    // A last start proves the data dir still serves after all those kills.
    srv = await startServerProc({ dataDir, ports, env });
    const { imap } = await ImapConn.connect(ports.imap);
    const l = await imap.cmd(`LOGIN ${USERS[1]} ${PASSWORD}`);
    const s = await imap.cmd("SELECT INBOX");
    if (l.status !== "OK" || s.status !== "OK") problem(`final start: IMAP ${l.status}/${s.status}`);
    imap.close();
    srv.kill("SIGTERM");
    await srv.exited;
  } finally {
    if (srv) await srv.killAll();
    for (const t of toks.values()) {
      if (t.kind === "smtp") t.state === "acked" ? f.smtpAcked++ : f.smtpUnacked++;
      if (t.kind === "append" && t.state !== "sent") f.appendAcked++;
      if (t.kind === "append" && t.state === "deleted") f.expungesAcked++;
      if (t.flagged === "yes") f.flagsAcked++;
      if (t.kind === "submit" && t.state === "acked") f.submitAcked++;
      if (t.state === "acked") f.distinctDeliveries += t.where.length + (t.remote ? 1 : 0);
    }
    f.seconds = Math.round((Date.now() - t0) / 1000);
    if (!o.keepDataDir) rmSync(dataDir, { recursive: true, force: true });
    else log(`data dir kept: ${dataDir}`);
  }
  return f;
}
