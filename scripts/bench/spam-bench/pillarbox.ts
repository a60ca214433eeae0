/**
 * Pillarbox's side of the spam benchmark: a real store on a temp data dir,
 * the real SpamService (src/spam/index.ts) with the real Bayes classifier
 * (src/spam/bayes.ts) on the real BayesStore, DNS lists off (the benchmark
 * is offline). Training goes through SpamService.train, exactly what a move
 * into Junk does; scoring through SpamService.check, exactly what SMTP does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage, type Storage } from "../../../storage/open.ts";
import { passwordHasher } from "../../../src/auth.ts";
import { defaultConfig } from "../../../src/config.ts";
import type { Config } from "../../../src/config-types.ts";
import { createLogger } from "../../../src/log.ts";
import { createSpamService } from "../../../src/spam/index.ts";
import { createBayesClassifier, type BayesBand } from "../../../src/spam/bayes.ts";
import type { SpamService } from "../../../src/spam/types.ts";
import { envelopeSender, type CorpusMessage } from "./corpus.ts";

export const DOMAIN = "bench.test";

export interface Scored {
  spam: boolean;
  /** The account's score and verdict. */
  score: number;
  junk: boolean;
  /** The Bayes symbol's points in that score (0 when none). */
  bayesPoints: number;
}

export interface Bench {
  storage: Storage;
  spam: SpamService;
  config: Config;
  bayes: ReturnType<typeof createBayesClassifier>;
  account(email: string): Promise<number>;
  close(): Promise<void>;
}

export async function openBench(bands?: readonly BayesBand[]): Promise<Bench> {
  const dir = mkdtempSync(join(tmpdir(), "pb-spam-bench-"));
  const storage = await openStorage({ hasher: passwordHasher, url: `file:${join(dir, "mail.db")}`, dataDir: dir, gcIntervalMs: 0 });
  const config = defaultConfig();
  config.spam.enabled = true;
  config.spam.backend = "builtin";
  config.spam.dnsBlocklists = [];
  config.spam.domainBlocklists = [];
  config.spam.dnsAllowlists = [];
  config.spam.greylisting = false;
  const log = createLogger("error");
  const bayes = createBayesClassifier(storage.bayes, bands ? { bands } : {});
  const spam = createSpamService({ config: () => config, store: storage.spam, mail: storage.mail, bayes, log });
  if (!(await storage.mail.isLocalDomain(DOMAIN))) await storage.mail.addDomain(DOMAIN);
  return {
    storage,
    spam,
    config,
    bayes,
    async account(email) {
      return (await storage.mail.addAccount(email, "bench-password-1", {})).id;
    },
    async close() {
      spam.close();
      await storage.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function train(b: Bench, accountId: number, msgs: readonly CorpusMessage[]): Promise<number> {
  const t0 = performance.now();
  for (const m of msgs) await b.spam.train(accountId, m.raw, m.spam ? "spam" : "ham");
  return (performance.now() - t0) / 1000;
}

/** Scores every message for one recipient account, one at a time (the messages/s figure is one stream). */
export async function score(b: Bench, accountId: number, address: string, msgs: readonly CorpusMessage[]): Promise<{ results: Scored[]; seconds: number }> {
  const results: Scored[] = [];
  const t0 = performance.now();
  for (const m of msgs) {
    const v = await b.spam.check({ raw: m.raw, remoteIp: null, helo: null, mailFrom: envelopeSender(m.raw), recipients: [{ accountId, address }], auth: null });
    const acc = v.accounts.get(accountId);
    const bayesSym = acc?.symbols.find((s) => s.name.startsWith("BAYES_"));
    results.push({ spam: m.spam, score: acc?.score ?? v.score, junk: acc?.isSpam ?? false, bayesPoints: bayesSym?.score ?? 0 });
  }
  return { results, seconds: (performance.now() - t0) / 1000 };
}

export interface Rates {
  spamTotal: number;
  caught: number;
  hamTotal: number;
  hamJunked: number;
}

export function rates(results: readonly { spam: boolean; junk: boolean }[]): Rates {
  const r: Rates = { spamTotal: 0, caught: 0, hamTotal: 0, hamJunked: 0 };
  for (const x of results) {
    if (x.spam) {
      r.spamTotal++;
      if (x.junk) r.caught++;
    } else {
      r.hamTotal++;
      if (x.junk) r.hamJunked++;
    }
  }
  return r;
}

export const pct = (n: number, d: number) => (d === 0 ? "-" : `${((100 * n) / d).toFixed(2)}%`);
