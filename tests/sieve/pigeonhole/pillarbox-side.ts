/**
 * The Pillarbox side of the differential test: the in-process server
 * (tests/helpers/server.ts) with its SMTP listener, the corpus user recreated
 * for every pair (a new account: no folders, flags, vacation or duplicate
 * records left from the pair before), the pair's script stored and activated
 * through the SieveStore (as ManageSieve and the CLI do), each message sent
 * over SMTP with the pair's envelope, the copies read back from the store, and
 * the queue's outgoing mail caught by a capture SMTP server that a local
 * dnsmasq names as the MX of every remote domain.
 *
 * Spam: the corpus gives some messages an X-Spam-Score field, which
 * Pigeonhole reads (sieve_spamtest_status_header). Pillarbox strips X-Spam-*
 * from arriving mail (a sender must not label its own mail), so the spam
 * filter is replaced by one that scores each corpus message with that same
 * number, through the real filter's RFC 5235 mapping (spamtestOf) and header
 * fields (statusHeaders). The verdict says "not spam" so that the keep is not
 * turned into a Junk delivery: that is the spam filter's own policy, not
 * Sieve, and Pigeonhole has nothing like it (see ../pigeonhole.test.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { FilterPlan } from "../../../src/delivery/filter-types.ts";
import { spamtestOf, statusHeaders } from "../../../src/spam/spam-headers.ts";
import type { AccountSpamVerdict, SpamService, SpamVerdict } from "../../../src/spam/types.ts";
import type { Account, PasswordHasher } from "../../../storage/api.ts";
import { createUser, startTestServer, type TestServer } from "../../helpers/server.ts";
import { startDnsmasq, type Dnsmasq } from "../../smtp/helpers.ts";
import { startSink, type Sink } from "../../smtp/sink.ts";
import { scratchDir, type CorpusPair } from "./corpus.ts";
import type { StoredCopy } from "./maildir.ts";
import { deliveryOutcome, headerValue, outgoingOutcome, type DeliveryOutcome, type Outcome } from "./outcome.ts";
import { sinkOutgoing } from "./pigeonhole-side.ts";
import { sendTransaction } from "./smtp-client.ts";

export interface PillarboxSide {
  srv: TestServer;
  sink: Sink;
  close(): Promise<void>;
}

const PASSWORD = "differential-test-password";

/** Polls `fn` until it is true (state, not time: the limit only bounds a hang). */
async function until(fn: () => Promise<boolean> | boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The spam filter stand-in: the corpus message's own X-Spam-Score, found by its Message-ID. */
function corpusSpam(scores: ReadonlyMap<string, number>, junkScore: number): SpamService {
  return {
    enabled: true,
    async check(input): Promise<SpamVerdict> {
      const id = headerValue(input.raw, "message-id");
      const score = id === null ? undefined : scores.get(id);
      const accounts = new Map<number, AccountSpamVerdict>();
      if (score !== undefined) {
        const { spamtest, percent } = spamtestOf(score, junkScore, score >= junkScore);
        for (const r of input.recipients) accounts.set(r.accountId, { score, isSpam: false, spamtest, percent, symbols: [], headers: statusHeaders(score, junkScore, false, []) });
      }
      return { backend: "builtin", score: score ?? 0, symbols: [], reject: false, accounts, elapsedMs: 0 };
    },
    greylist: async () => "pass",
    train: async () => undefined,
    close: () => undefined,
  };
}

export async function startPillarboxSide(pairs: readonly CorpusPair[], remoteDomains: readonly string[]): Promise<PillarboxSide> {
  const sink = await startSink();
  let dns: Dnsmasq | null = null;
  let dataDir: string | null = null;
  try {
    dns = await startDnsmasq({ mx: remoteDomains.map((d): [string, string, number] => [d, "mx.capture.test", 10]), hosts: [["mx.capture.test", "127.0.0.1"]] });
    dataDir = mkdtempSync(join(scratchDir(), "pillarbox-sieve-diff-"));
    const srv = await startTestServer({ dataDir, listeners: ["SMTP"], config: { queue: { dnsServers: [dns.server], remotePort: sink.port } } });
    const scores = new Map<string, number>();
    for (const p of pairs)
      for (const m of p.messages) {
        const s = headerValue(m.raw, "x-spam-score");
        if (s !== null) scores.set(m.messageId!, Number(s));
      }
    // The corpus user is recreated for many pairs and never logs in: a plain hasher instead of
    // argon2id (~150 ms per account), set on the store's core when it has one.
    const core = (srv.store as unknown as { core?: { hasher: PasswordHasher } }).core;
    if (core) Object.assign(core, { hasher: { hash: async (p: string) => `test:${p}`, verify: async (p: string, h: string) => h === `test:${p}`, dummyHash: async () => "test:" } satisfies PasswordHasher });
    srv.ctx.spam.close();
    srv.ctx.spam = corpusSpam(scores, srv.config.spam.junkScore);
    const d = dns;
    const dir = dataDir;
    return {
      srv,
      sink,
      async close() {
        await srv.close();
        rmSync(dir, { recursive: true, force: true });
        await sink.close();
        await d.stop();
      },
    };
  } catch (e) {
    await sink.close();
    await dns?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/**
 * Work the delivery filter does after the commit (vacation replies, duplicate
 * records) that is still running. FilterPlan.afterCommit returns a promise
 * for it when the filter offers one; the side waits for it before it reads
 * anything or delivers the next message.
 */
function trackAfterCommit(side: PillarboxSide): Set<Promise<unknown>> {
  const pending = new Set<Promise<unknown>>();
  const real = side.srv.ctx.deliveryFilter;
  if (!real) throw new Error("the server has no delivery filter (ctx.deliveryFilter)");
  const wrapped = Object.create(real) as typeof real;
  wrapped.plan = async (input) => {
    const plan: FilterPlan = await real.plan(input);
    const after = plan.afterCommit;
    plan.afterCommit = (result) => {
      const r = (after as (x: typeof result) => unknown).call(plan, result);
      if (r instanceof Promise) {
        const p: Promise<unknown> = r.catch(() => undefined).finally(() => pending.delete(p));
        pending.add(p);
      }
    };
    return plan;
  };
  side.srv.ctx.deliveryFilter = wrapped;
  return pending;
}

/** Scripts that leave records behind (vacation's once per period, duplicate ids keyed by a subject or sender): their pairs get a new account. Message-IDs are unique per pair, so nothing else carries over. */
const STATEFUL = /\b(vacation|duplicate)\b/;
const DEFAULT_FOLDERS = new Set(["INBOX", "Drafts", "Sent", "Trash", "Junk", "Archive"]);

/**
 * The corpus user as a new account has it: a new account when the script
 * keeps records (creating one takes tens of ms), otherwise the same account
 * emptied (every message expunged, every folder a script created deleted).
 */
async function freshAccount(srv: TestServer, user: string, renew: boolean): Promise<Account> {
  const { store } = srv;
  const existing = await store.getAccount(user);
  if (existing && !renew) {
    const folders = await store.listFolders(existing.id, { itemClass: "mail" });
    for (const f of folders) {
      const uids = (await store.listMessages(f.id)).map((m) => m.uid);
      if (uids.length === 0) continue;
      await store.storeFlags(f.id, uids, "add", ["\\Deleted"], { silent: true });
      await store.expunge(f.id, uids);
    }
    for (const f of folders.filter((x) => !DEFAULT_FOLDERS.has(x.name)).sort((a, b) => b.name.length - a.name.length)) await store.deleteFolder(existing.id, f.name);
    await srv.ctx.storage.sieve.setActive(existing.id, null);
    return existing;
  }
  if (existing) await store.removeAccount(user);
  return createUser(store, user, PASSWORD);
}

const tracked = new WeakMap<PillarboxSide, Set<Promise<unknown>>>();

export async function runPillarboxPair(side: PillarboxSide, user: string, pair: CorpusPair): Promise<Outcome> {
  const { store } = side.srv;
  let pending = tracked.get(side);
  if (!pending) tracked.set(side, (pending = trackAfterCommit(side)));
  const account = await freshAccount(side.srv, user, STATEFUL.test(pair.text));
  const sieve = side.srv.ctx.storage.sieve;
  await sieve.putScript(account.id, "corpus", pair.text, { maxScripts: 32, maxBytes: 256 * 1024 });
  await sieve.setActive(account.id, "corpus");
  const seen = new Set<number>();
  const deliveries: DeliveryOutcome[] = [];
  for (const m of pair.messages) {
    const r = await sendTransaction(side.srv.port("SMTP"), { from: m.from, to: [m.to], data: m.raw }, { lmtp: false });
    const reply = r.rcpt[0]!.startsWith("2") ? (r.data[0] ?? "") : r.rcpt[0]!;
    if (!/^[25]/.test(reply)) throw new Error(`Pillarbox answered ${reply} for ${pair.id}`);
    await until(async () => {
      await Promise.all([...pending]);
      return pending.size === 0;
    }, "the delivery filter's after-commit work");
    const copies: StoredCopy[] = [];
    for (const f of await store.listFolders(account.id, { itemClass: "mail" })) {
      for (const s of await store.listMessages(f.id)) {
        if (seen.has(s.id)) continue;
        seen.add(s.id);
        const raw = Buffer.from(await store.readMessage(s.id));
        // Copies of this message only: a failing script's report to its owner is a message of its own.
        if (headerValue(raw, "message-id") === m.messageId) copies.push({ id: String(s.id), folder: f.name, flags: s.flags, raw });
      }
    }
    // A Sieve reject is refused at the end of DATA (RFC 5429 §2.1, protocol level) for a single recipient.
    deliveries.push(deliveryOutcome(reply.startsWith("2"), reply.startsWith("5"), copies, pair.headers));
  }
  // Everything queued for this pair (redirects, replies, notices) has reached the capture server.
  await until(async () => !(await queuedFor(side, pair.tag)), `the queue to send ${pair.id}'s mail`);
  return { deliveries, ...pillarboxOutgoing(side, pair) };
}

async function queuedFor(side: PillarboxSide, tag: string): Promise<boolean> {
  const { store } = side.srv;
  for (const e of await store.listQueue()) {
    if (Buffer.from(await store.readRange(e.blobId, 0, e.size)).includes(tag)) return true;
  }
  return false;
}

/** What left for this pair so far, sorted into redirects, notices and replies. */
export function pillarboxOutgoing(side: PillarboxSide, pair: CorpusPair): Pick<Outcome, "redirects" | "notices" | "replies"> {
  return outgoingOutcome(sinkOutgoing(side.sink, pair.tag), new Set(pair.messages.map((m) => m.messageId!)));
}

/**
 * After the last pair: waits until the after-commit work has settled, the
 * queue is empty and each pair has sent at least `expected(pair)` redirects, notices and replies (what
 * Pigeonhole sent; a reply sent after its pair was read is still attributed
 * to it by its tag). Returns the pairs still short when the wait ends.
 */
export async function settleOutgoing(side: PillarboxSide, pairs: readonly CorpusPair[], expected: (p: CorpusPair) => number): Promise<string[]> {
  const sent = (p: CorpusPair) => {
    const o = pillarboxOutgoing(side, p);
    return o.redirects.length + o.notices.length + o.replies.length;
  };
  const short = () => pairs.filter((p) => sent(p) < expected(p)).map((p) => p.id);
  try {
    await until(async () => {
      const pending = tracked.get(side);
      if (pending?.size) return false;
      if ((await side.srv.store.listQueue()).length > 0) return false;
      return short().length === 0;
    }, "the queue and the after-commit work to settle", 10_000);
  } catch {
    /* reported by the caller through what is still short */
  }
  return short();
}
