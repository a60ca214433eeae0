/**
 * The one delivery pipeline (src/delivery/pipeline.ts) end to end, through
 * both entry points with real SMTP clients (Python's smtplib, a raw socket
 * where smtplib would not send what is needed):
 *  - inbound on port 25 to a local address that keeps a copy and forwards to
 *    a remote address;
 *  - submission (STARTTLS + AUTH on 587) from a local user to a local and a
 *    remote recipient.
 * A temporary failure is injected into the delivery's database work at three
 * points: at the local copy's insert, at the queue insert (after the local
 * copy was inserted) and at the end (after every insert, before the commit),
 * so whichever order the copies were written in, one of the points falls
 * between them. The client gets a 4xx,
 * retries, and then the local copy is in the mailbox exactly once and the
 * forward leaves exactly once: a fake remote MX (tests/smtp/sink.ts, found
 * through dnsmasq) records every transaction that reaches it.
 * The webmail's send takes the same path, its Sent copy inside the same
 * transaction. Also: a quota that only the real size exceeds, the
 * out-of-office reply (a vacation script run by the delivery filter).
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Db, Queryable } from "../../storage/db.ts";
import type { MailStore } from "../../storage/api.ts";
import { createUser, startTestServer, type TestServer } from "../helpers/server.ts";
import { ehloSession, folderMessages, run, startDnsmasq, text, waitFor, type Dnsmasq } from "../smtp/helpers.ts";
import { startSink, type Sink } from "../smtp/sink.ts";
import { ApiClient, request } from "../webmail/helpers.ts";
import { maybeAutoReply } from "../../src/delivery/out-of-office.ts";
import { planDelivery } from "../../src/delivery/pipeline.ts";

setDefaultTimeout(60_000);

const PASS = "pw-pipeline-1";
let srv: TestServer;
let sink: Sink;
let dns: Dnsmasq;
let dir: string;

// ---------------------------------------------------------------- fault injection

/**
 * Wraps the store's database so that the next write job fails once, at a
 * chosen point: "local" throws at its first item insert (a local copy),
 * "mid" throws at its queue insert (the statement that follows the local
 * copies in the same transaction), "end" throws after the job did all its
 * work, just before the commit (as a failing COMMIT or fsync would).
 * The failing job's statements are recorded so the test can show where the
 * failure fell.
 */
type Fault = "local" | "mid" | "end";
const WHERE: Record<Fault, string> = { local: "at the local copy's insert", mid: "at the queue insert", end: "before the commit" };

function installFaults(store: MailStore) {
  const core = (store as unknown as { core?: { db: Db } }).core;
  if (!core) throw new Error("the store has no core database to wrap");
  const db = core.db;
  const write = db.write.bind(db);
  let armed: Fault | null = null;
  let failedJob: string[] | null = null;
  const insertInto = (sql: string) => /^\s*insert\s+into\s+(\w+)/i.exec(sql)?.[1]?.toLowerCase() ?? null;
  db.write = <T>(fn: (tx: Queryable) => Promise<T>, opts?: { durable?: boolean }): Promise<T> =>
    write(async (tx) => {
      const inserts: string[] = [];
      const check = (sql: string) => {
        const table = insertInto(sql);
        if (table) inserts.push(table);
        if (armed === "mid" && table === "queue") {
          armed = null;
          failedJob = inserts;
          throw new Error("injected: database failure at the queue insert");
        }
        if (armed === "local" && table === "items") {
          armed = null;
          failedJob = inserts;
          throw new Error("injected: database failure at a local copy's insert");
        }
      };
      const wrapped: Queryable = {
        all: (s, a) => (check(s), tx.all(s, a)),
        raw: (s, a) => (check(s), tx.raw(s, a)),
        get: (s, a) => (check(s), tx.get(s, a)),
        run: (s, a) => (check(s), tx.run(s, a)),
      };
      const result = await fn(wrapped);
      if (armed === "end" && inserts.includes("queue")) {
        armed = null;
        failedJob = inserts;
        throw new Error("injected: the commit of the delivery failed");
      }
      return result;
    }, opts);
  return {
    arm(point: Fault) {
      armed = point;
      failedJob = null;
    },
    /** Tables the failed job had inserted into, in order (null: nothing failed). */
    get failedJob(): string[] | null {
      return failedJob;
    },
  };
}
let faults: ReturnType<typeof installFaults>;

/** Where the injected failure fell: "mid" and "end" after the local copy was written in the same job. */
function expectFailedWhere(point: Fault): void {
  const job = faults.failedJob;
  expect(job).not.toBeNull();
  if (point === "local") expect(job!.at(-1)).toBe("items");
  else {
    expect(job!.indexOf("items")).toBeGreaterThanOrEqual(0);
    expect(job!.indexOf("items")).toBeLessThan(job!.indexOf("queue"));
  }
}

// ---------------------------------------------------------------- clients

let msgNo = 0;
function message(from: string, to: string, subject: string): { raw: string; id: string } {
  const id = `<pipeline-${++msgNo}-${process.pid}@sender.test>`;
  return { id, raw: `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nDate: Mon, 07 Dec 2026 06:00:00 +0000\r\nMessage-ID: ${id}\r\n\r\nHello from the pipeline test.\r\n` };
}

/** One transaction with smtplib; with `auth`, on the submission port after STARTTLS + AUTH. */
async function smtplib(port: number, from: string, to: string[], raw: string, auth?: { user: string; password: string }): Promise<{ code: number; refused: Record<string, number>; text?: string }> {
  const file = join(dir, `msg-${msgNo}-${Math.random().toString(36).slice(2)}.eml`);
  writeFileSync(file, raw);
  const args = [join(import.meta.dir, "smtp_send.py"), String(port), from, to.join(","), file, ...(auth ? [auth.user, auth.password] : [])];
  const r = await run("python3", args);
  if (r.code !== 0) throw new Error(`smtplib failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").pop()!);
}

/** Messages in a mailbox folder carrying this Message-ID. */
async function copiesIn(email: string, messageId: string, folder = "INBOX"): Promise<number> {
  return (await folderMessages(srv.store, email, folder)).filter((m) => text(m).includes(`Message-ID: ${messageId}`)).length;
}

/** Transactions that reached the remote MX for this recipient with this Message-ID. */
function leftFor(rcpt: string, messageId: string): number {
  return sink.transactions.filter((t) => t.rcpts.some((r) => r.toLowerCase().includes(`<${rcpt}>`)) && t.wire.toString("latin1").includes(messageId)).length;
}

/** Waits until the queue holds nothing for this message any more (delivered to the sink, or bounced). */
async function queueDrained(messageId: string): Promise<void> {
  await waitFor(async () => {
    for (const e of await srv.store.listQueue()) {
      if (text(await srv.store.readRange(e.blobId, 0, e.size)).includes(messageId)) return false;
    }
    return true;
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-pipeline-"));
  sink = await startSink();
  dns = await startDnsmasq({ mx: [["remote.test", "mx.remote.test", 10]], hosts: [["mx.remote.test", "127.0.0.1"]] });
  srv = await startTestServer({
    listeners: ["SMTP", "SUBMISSION", "HTTP", "HTTPS"],
    config: { queue: { dnsServers: [dns.server], remotePort: sink.port } },
  });
  for (const u of ["alice", "carol", "dora"]) await createUser(srv.store, `${u}@example.test`, PASS);
  await createUser(srv.store, "tiny@example.test", PASS, { quotaBytes: 2000 });
  // A local address that keeps a copy for Alice and forwards one to her remote mailbox.
  await srv.store.addAlias("alice.fwd@example.test", "alice@example.test");
  await srv.store.addAlias("alice.fwd@example.test", "alice@remote.test");
  faults = installFaults(srv.store);
});

afterAll(async () => {
  await srv?.close();
  await sink?.close();
  await dns?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- tests

describe("a temporary failure inside the delivery, then the client's retry", () => {
  for (const point of ["local", "mid", "end"] as const) {
    test(`inbound (port 25) to a local copy + forward, failure ${WHERE[point]}: each copy exactly once`, async () => {
      const m = message("bob@sender.test", "alice.fwd@example.test", `inbound ${point}`);
      faults.arm(point);
      const first = await smtplib(srv.port("SMTP"), "bob@sender.test", ["alice.fwd@example.test"], m.raw);
      expect(first.code).toBe(451);
      expectFailedWhere(point);
      // Nothing of the failed attempt is left.
      expect(await copiesIn("alice@example.test", m.id)).toBe(0);

      const retry = await smtplib(srv.port("SMTP"), "bob@sender.test", ["alice.fwd@example.test"], m.raw);
      expect(retry.code).toBe(250);
      await queueDrained(m.id);
      expect(await copiesIn("alice@example.test", m.id)).toBe(1);
      expect(leftFor("alice@remote.test", m.id)).toBe(1);
    });

    test(`submission (587) to a local and a remote recipient, failure ${WHERE[point]}: each copy exactly once`, async () => {
      const m = message("alice@example.test", "carol@example.test", `submission ${point}`);
      const auth = { user: "alice@example.test", password: PASS };
      faults.arm(point);
      const first = await smtplib(srv.port("SUBMISSION"), "alice@example.test", ["carol@example.test", "dave@remote.test"], m.raw, auth);
      expect(first.code).toBe(451);
      expectFailedWhere(point);
      expect(await copiesIn("carol@example.test", m.id)).toBe(0);

      const retry = await smtplib(srv.port("SUBMISSION"), "alice@example.test", ["carol@example.test", "dave@remote.test"], m.raw, auth);
      expect(retry.code).toBe(250);
      await queueDrained(m.id);
      expect(await copiesIn("carol@example.test", m.id)).toBe(1);
      expect(leftFor("dave@remote.test", m.id)).toBe(1);
    });
  }
});

describe("the webmail's send goes through the same pipeline", () => {
  test("a failure before the commit leaves no copy anywhere, the Sent copy included; the resend makes one of each", async () => {
    const base = `https://127.0.0.1:${srv.port("HTTPS")}`;
    await request("GET", base + "/login"); // the HTTP listener learns the HTTPS port from a first connection
    const alice = await ApiClient.signIn(base, { email: "alice@example.test", password: PASS });
    const subject = `webmail send ${process.pid}`;
    const count = async (email: string, folder: string) => (await folderMessages(srv.store, email, folder)).filter((m) => text(m).includes(`Subject: ${subject}`)).length;
    const body = { to: "carol@example.test, gina@remote.test", subject, text: "Sent from the webmail.", html: null };
    faults.arm("end");
    const first = await alice.send("POST", "/api/send", body);
    expect(first.status).toBeGreaterThanOrEqual(500);
    // One job held the local copy, the Sent copy and the queue row, and none of it was kept.
    expect(faults.failedJob!.filter((t) => t === "items").length).toBe(2);
    expect(faults.failedJob).toContain("queue");
    expect(await count("carol@example.test", "INBOX")).toBe(0);
    expect(await count("alice@example.test", "Sent")).toBe(0);

    await alice.ok("POST", "/api/send", body);
    await queueDrained(`Subject: ${subject}`);
    expect(await count("carol@example.test", "INBOX")).toBe(1);
    expect(await count("alice@example.test", "Sent")).toBe(1);
    expect(leftFor("gina@remote.test", `Subject: ${subject}`)).toBe(1);
  });
});

describe("per-recipient outcomes stay per recipient", () => {
  test("a mailbox that only the real size overfills defers the message, then is refused alone at RCPT; the others get one copy", async () => {
    const m = message("bob@sender.test", "alice@example.test", "quota");
    const raw = m.raw.replace("Hello from the pipeline test.", "x".repeat(4000));
    // Without SIZE, RCPT cannot know the message will not fit (RFC 1870 §6): the store finds out at DATA.
    const c = await ehloSession(srv.port("SMTP"));
    expect((await c.cmd("MAIL FROM:<bob@sender.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<alice.fwd@example.test>")).code).toBe(250);
    expect((await c.cmd("RCPT TO:<tiny@example.test>")).code).toBe(250);
    expect((await c.cmd("DATA")).code).toBe(354);
    const data = await c.cmd(raw.replace(/\r\n\./g, "\r\n..") + "\r\n.");
    expect(data.code).toBe(452);
    c.close();
    expect(await copiesIn("alice@example.test", m.id)).toBe(0);

    // The retry, as smtplib sends it (with SIZE): the full mailbox is refused alone at RCPT.
    const retry = await smtplib(srv.port("SMTP"), "bob@sender.test", ["alice.fwd@example.test", "tiny@example.test"], raw);
    expect(retry.code).toBe(250);
    expect(retry.refused).toEqual({ "tiny@example.test": 452 });
    await queueDrained(m.id);
    expect(await copiesIn("alice@example.test", m.id)).toBe(1);
    expect(await copiesIn("tiny@example.test", m.id)).toBe(0);
    expect(leftFor("alice@remote.test", m.id)).toBe(1);
  });
});

describe("delivery hooks", () => {
  test("out-of-office answers a sender once per period through the delivery filter's vacation script", async () => {
    const dora = (await srv.store.getAccount("dora@example.test"))!;
    await srv.store.updateSettings(dora.id, { oof: { enabled: true, subject: "Away", body: "Back on Monday." } });
    const first = message("erin@remote.test", "dora@example.test", "question 1");
    expect((await smtplib(srv.port("SMTP"), "erin@remote.test", ["dora@example.test"], first.raw)).code).toBe(250);
    const second = message("erin@remote.test", "dora@example.test", "question 2");
    expect((await smtplib(srv.port("SMTP"), "erin@remote.test", ["dora@example.test"], second.raw)).code).toBe(250);
    // The reply to the first message leaves through the queue to the remote MX.
    const reply = await waitFor(() => sink.transactions.find((t) => t.rcpts.some((r) => r.includes("<erin@remote.test>"))));
    const wire = reply.wire.toString("latin1");
    expect(wire).toMatch(/^Auto-Submitted: auto-replied/m);
    expect(wire).toContain(`In-Reply-To: ${first.id}`);
    // A third message from someone else, answered too: its reply came after the filter had dealt with the second.
    const third = message("finn@remote.test", "dora@example.test", "question 3");
    expect((await smtplib(srv.port("SMTP"), "finn@remote.test", ["dora@example.test"], third.raw)).code).toBe(250);
    await waitFor(() => sink.transactions.find((t) => t.rcpts.some((r) => r.includes("<finn@remote.test>"))));
    expect(sink.transactions.filter((t) => t.rcpts.some((r) => r.includes("<erin@remote.test>"))).length).toBe(1);
    // The vacation log says why: Erin was answered in this period.
    const again = await maybeAutoReply(srv.ctx, { accountId: dora.id, envelopeFrom: "erin@remote.test", raw: new TextEncoder().encode(second.raw) });
    expect(again).toEqual({ sent: false, reason: "already replied this period" });
    // Both messages are in Dora's INBOX once each.
    expect(await copiesIn("dora@example.test", first.id)).toBe(1);
    expect(await copiesIn("dora@example.test", second.id)).toBe(1);
  });
});

describe("planDelivery", () => {
  test("every account once, every remote address once, forwards inherit their recipient's DSN request", () => {
    const plan = planDelivery(
      [
        { address: "team@example.test", accounts: [{ id: 1 }, { id: 2 }], forward: ["x@remote.test"], notify: ["FAILURE"], orcpt: null },
        { address: "alice@example.test", accounts: [{ id: 1 }], forward: [] },
        { address: "x@remote.test", accounts: [], forward: ["x@remote.test"], remote: true },
        { address: "y@remote.test", accounts: [], forward: ["y@remote.test"], notify: ["NEVER"], orcpt: "rfc822;y@remote.test", remote: true },
      ],
      "INBOX",
    );
    expect(plan.local).toEqual([
      { accountId: 1, folder: "INBOX" },
      { accountId: 2, folder: "INBOX" },
    ]);
    expect(plan.remote).toEqual(["x@remote.test", "y@remote.test"]);
    expect(plan.rcptDsn).toEqual({
      "x@remote.test": { notify: ["FAILURE"], orcpt: "rfc822;team@example.test" },
      "y@remote.test": { notify: ["NEVER"], orcpt: "rfc822;y@remote.test" },
    });
  });
});
