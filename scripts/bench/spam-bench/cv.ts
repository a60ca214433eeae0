/**
 * `scripts/bench/spam --cv [K]`: a quick k-fold cross-validation of the Bayes
 * tokenizer and classifier on the TRAINING half only (the test half is never
 * read), for trying tokenizer and parameter changes in seconds: every fold's
 * model is a plain in-memory count table built with the real tokenizer
 * (src/spam/bayes-tokenize.ts) and scored with the real arithmetic
 * (src/spam/bayes-score.ts); the other rules' score of each message comes
 * from the real SpamService with no trained model. Prints the out-of-fold
 * probability histogram and the best BAYES_nn points (as --tune does).
 */
import { tokenizeMessage } from "../../../src/spam/bayes-tokenize.ts";
import { combine, tokenProbability, DEFAULT_BAYES_PARAMS, type BayesParams } from "../../../src/spam/bayes-score.ts";
import { BAYES_BANDS } from "../../../src/spam/bayes.ts";
import { DOMAIN, openBench, pct } from "./pillarbox.ts";
import { envelopeSender, prng, type CorpusMessage } from "./corpus.ts";
import { chooseBands, type Sample } from "./tune.ts";

/** The other rules' score of every message (no Bayes model trained for the account). */
async function restScores(msgs: readonly CorpusMessage[]): Promise<number[]> {
  const b = await openBench();
  try {
    const id = await b.account(`cv@${DOMAIN}`);
    const out: number[] = [];
    for (const m of msgs) {
      const v = await b.spam.check({ raw: m.raw, remoteIp: null, helo: null, mailFrom: envelopeSender(m.raw), recipients: [{ accountId: id, address: `cv@${DOMAIN}` }], auth: null });
      out.push(v.accounts.get(id)?.score ?? v.score);
    }
    return out;
  } finally {
    await b.close();
  }
}

export async function crossValidate(trainHalf: readonly CorpusMessage[], opts: { k: number; junkScore: number; maxFp: number; params?: BayesParams }): Promise<void> {
  const env = (k: string, d: number) => (process.env[k] !== undefined ? Number(process.env[k]) : d);
  const p0 = opts.params ?? DEFAULT_BAYES_PARAMS;
  // PB_CV_S / _X / _MIN / _CLUES: try other classifier parameters without editing the defaults
  const params: BayesParams = { strength: env("PB_CV_S", p0.strength), unknownProb: env("PB_CV_X", p0.unknownProb), minDistance: env("PB_CV_MIN", p0.minDistance), maxClues: env("PB_CV_CLUES", p0.maxClues) };
  const t0 = performance.now();
  const tokens = trainHalf.map((m) => tokenizeMessage(m.raw, { maxScanBytes: 262_144 }));
  const t1 = performance.now();
  const rest = await restScores(trainHalf);
  console.log(`cv: tokenized ${trainHalf.length} in ${((t1 - t0) / 1000).toFixed(1)} s (${(tokens.reduce((a, t) => a + t.length, 0) / tokens.length).toFixed(0)} tokens/msg), rules in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
  const samples: Sample[] = [];
  // PB_CV_SEEDS (a comma list, e.g. "0,1,2,3"; PB_CV_SEED for one): the fold assignments pooled (0: message i in
  // fold i mod k, otherwise a seeded random assignment), so the chosen points do not hang on one split
  const seeds = (process.env.PB_CV_SEEDS ?? String(env("PB_CV_SEED", 0))).split(",").map((x) => Number(x.trim()));
  for (const seed of seeds) {
    const from = samples.length;
    outOfFold(trainHalf, tokens, rest, seed, opts.k, params, samples);
    const part = samples.slice(from);
    const [c, f] = bandsOutcome(part, opts.junkScore);
    const ns = part.filter((s) => s.spam).length;
    console.log(`cv: seed ${seed}: with the current BAYES_BANDS: spam caught ${pct(c, ns)}, ham junked ${pct(f, part.length - ns)} (${f})`);
  }
  const nSpam = samples.filter((s) => s.spam).length;
  const byBayes = (th: number) => samples.filter((s) => s.spam && s.p !== null && s.p >= th).length;
  const hamAt = (th: number) => samples.filter((s) => !s.spam && s.p !== null && s.p >= th).length;
  for (const th of [0.5, 0.8, 0.9, 0.95, 0.99]) console.log(`cv: p >= ${th}: spam ${pct(byBayes(th), nSpam)}, ham ${hamAt(th)}`);
  // what the bands in src/spam/bayes.ts give out of fold, all assignments pooled
  const [caught, fp] = bandsOutcome(samples, opts.junkScore);
  console.log(`cv: with the current BAYES_BANDS (${seeds.length} assignment(s) pooled): spam caught ${pct(caught, nSpam)}, ham junked ${pct(fp, samples.length - nSpam)} (${fp})`);
  chooseBands(samples, BAYES_BANDS, { ...opts, assignments: seeds.length });
}

/** Spam caught and ham junked by the current BAYES_BANDS over some out-of-fold samples. */
function bandsOutcome(samples: readonly Sample[], junkScore: number): [number, number] {
  let caught = 0;
  let fp = 0;
  for (const x of samples) {
    const band = x.p === null ? undefined : BAYES_BANDS.find((b) => x.p! >= b.from);
    if (x.rest + (band?.score ?? 0) < junkScore) continue;
    if (x.spam) caught++;
    else fp++;
  }
  return [caught, fp];
}

/** One fold assignment: every message of the training half scored by a model trained on the other k-1 folds. */
function outOfFold(trainHalf: readonly CorpusMessage[], tokens: readonly string[][], rest: readonly number[], seed: number, k: number, params: BayesParams, samples: Sample[]): void {
  const rnd = prng(seed);
  const foldOf = trainHalf.map((_, i) => (seed === 0 ? i % k : Math.floor(rnd() * k)));
  for (let f = 0; f < k; f++) {
    const counts = new Map<string, { spam: number; ham: number }>();
    const totals = { spam: 0, ham: 0 };
    trainHalf.forEach((m, i) => {
      if (foldOf[i] === f) return;
      if (m.spam) totals.spam++;
      else totals.ham++;
      for (const t of tokens[i]) {
        let c = counts.get(t);
        if (!c) counts.set(t, (c = { spam: 0, ham: 0 }));
        if (m.spam) c.spam++;
        else c.ham++;
      }
    });
    trainHalf.forEach((m, i) => {
      if (foldOf[i] !== f) return;
      const probs: number[] = [];
      for (const t of tokens[i]) {
        const c = counts.get(t);
        if (c) probs.push(tokenProbability(c, totals, params));
      }
      const r = combine(probs, params);
      samples.push({ name: m.name, spam: m.spam, rest: rest[i], p: r.used === 0 ? null : r.probability });
    });
  }
}
