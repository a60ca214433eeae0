/**
 * `scripts/bench/spam --tune`: chooses the points of the BAYES_nn bands on the
 * TRAINING half only (the test half is never looked at): the training half is
 * cut in two folds, a model trained on each fold scores the other (so every
 * training message gets an out-of-sample Bayes probability and the score of
 * every other rule), and a grid search picks the points that catch the most
 * spam such that the upper end of the one-sided 95 % Wilson
 * interval of the out-of-fold ham rate is at most `maxFp` (see chooseBands). The result is printed for
 * src/spam/bayes.ts (BAYES_BANDS); it is not applied automatically.
 */
import { BAYES_BANDS, type BayesBand } from "../../../src/spam/bayes.ts";
import { DOMAIN, openBench, pct, score } from "./pillarbox.ts";
import type { CorpusMessage } from "./corpus.ts";
import { train } from "./pillarbox.ts";

export interface Sample {
  name: string;
  spam: boolean;
  /** Score of every other rule. */
  rest: number;
  /** Out-of-fold Bayes probability, or null (no opinion). */
  p: number | null;
}

const GRID: Record<string, number[]> = {
  BAYES_99: [3, 3.5, 4, 4.5, 5, 5.5, 6],
  BAYES_95: [2, 2.5, 3, 3.5, 4, 4.5, 5],
  BAYES_80: [1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
  BAYES_60: [0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
  BAYES_40: [0, 1, 2, 3],
  BAYES_20: [0, -0.5],
  BAYES_05: [-0.5, -1, -1.5],
  BAYES_00: [-1, -2, -3],
};

function bandIndex(p: number | null, bands: readonly BayesBand[]): number {
  if (p === null) return -1;
  for (let i = 0; i < bands.length; i++) if (p >= bands[i].from) return i;
  return bands.length - 1;
}

export async function tune(trainHalf: readonly CorpusMessage[], opts: { junkScore: number; maxFp: number }): Promise<BayesBand[]> {
  const fold = [trainHalf.filter((_, i) => i % 2 === 0), trainHalf.filter((_, i) => i % 2 === 1)];
  const b = await openBench();
  const samples: Sample[] = [];
  try {
    const ids = [await b.account(`fold0@${DOMAIN}`), await b.account(`fold1@${DOMAIN}`)];
    for (let k = 0; k < 2; k++) {
      const s = await train(b, ids[k], fold[k]);
      console.log(`tune: fold ${k} (${fold[k].length} messages) trained in ${s.toFixed(1)} s`);
    }
    for (let k = 0; k < 2; k++) {
      const other = fold[1 - k];
      const { results } = await score(b, ids[k], `fold${k}@${DOMAIN}`, other);
      for (let i = 0; i < other.length; i++) {
        const r = await b.bayes.classify(ids[k], DOMAIN, b.bayes.tokenize(other[i].raw, b.config.spam.maxScanBytes));
        samples.push({ name: other[i].name, spam: other[i].spam, rest: results[i].score - results[i].bayesPoints, p: r ? r.probability : null });
      }
    }
  } finally {
    await b.close();
  }
  return chooseBands(samples, BAYES_BANDS, opts);
}

/**
 * Upper end of the one-sided 95 % Wilson score interval of a proportion (k of n): the rate the true one stays
 * under with 95 % confidence (E. B. Wilson, "Probable inference...", JASA 22 (1927); z = 1.645 one-sided).
 */
export function wilsonUpper(k: number, n: number, z = 1.645): number {
  if (n <= 0) return 1;
  const p = k / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) + z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

/**
 * Grid search of the bands' points over out-of-fold samples: the most spam caught such that the upper end of the
 * one-sided 95 % Wilson interval of the ham rate is at most maxFp. The samples may pool several fold assignments
 * of the same messages (`assignments`); their pooled rate is used, but the interval's n is the number of distinct
 * ham messages (nHam / assignments): the same ham scored four times is not four times the evidence. Points never
 * rise as the probability falls; among equal catches, fewer ham junked, then fewer distinct point values (coarser
 * bands), then smaller points win.
 */
export function chooseBands(samples: readonly Sample[], bands: readonly BayesBand[], opts: { junkScore: number; maxFp: number; assignments?: number }): BayesBand[] {
  // probability histogram per band (out of fold)
  console.log("tune: out-of-fold Bayes bands on the training half (spam / ham):");
  for (let i = 0; i < bands.length; i++) {
    const inBand = samples.filter((s) => bandIndex(s.p, bands) === i);
    console.log(`  ${bands[i].name.padEnd(9)} p >= ${bands[i].from.toFixed(2)}: ${String(inBand.filter((s) => s.spam).length).padStart(5)} / ${String(inBand.filter((s) => !s.spam).length).padStart(5)}`);
  }
  const assignments = Math.max(1, opts.assignments ?? 1);
  const idx = samples.map((s) => bandIndex(s.p, bands));
  const nSpam = samples.filter((s) => s.spam).length;
  const nHam = samples.length - nSpam;
  const nDistinctHam = Math.round(nHam / assignments);
  const upperOf = (fp: number) => wilsonUpper(fp / nHam * nDistinctHam, nDistinctHam);
  const names = bands.map((x) => x.name);
  const choices = names.map((n, i) => GRID[n] ?? [bands[i].score]);
  // the outcome of each band is independent of the others' points: count once per (band, point) and add up
  const fixed = { caught: 0, fp: 0 };
  const table = choices.map((vs) => vs.map(() => ({ caught: 0, fp: 0 })));
  for (let j = 0; j < samples.length; j++) {
    const s = samples[j];
    if (idx[j] < 0) {
      if (s.rest >= opts.junkScore) s.spam ? fixed.caught++ : fixed.fp++;
      continue;
    }
    choices[idx[j]].forEach((v, c) => {
      if (s.rest + v >= opts.junkScore) s.spam ? table[idx[j]][c].caught++ : table[idx[j]][c].fp++;
    });
  }
  let best: { pts: number[]; caught: number; fp: number; distinct: number; mag: number } | null = null;
  const pts = new Array<number>(names.length).fill(0);
  const walk = (i: number, caught: number, fp: number) => {
    if (i === names.length) {
      if (upperOf(fp) > opts.maxFp) return;
      const distinct = new Set(pts).size;
      const mag = pts.reduce((a, x) => a + Math.abs(x), 0);
      const b = best;
      if (!b || caught > b.caught || (caught === b.caught && (fp < b.fp || (fp === b.fp && (distinct < b.distinct || (distinct === b.distinct && mag < b.mag))))))
        best = { pts: [...pts], caught, fp, distinct, mag };
      return;
    }
    choices[i].forEach((v, c) => {
      // points must not rise as the probability falls
      if (i > 0 && v > pts[i - 1]) return;
      pts[i] = v;
      walk(i + 1, caught + table[i][c].caught, fp + table[i][c].fp);
    });
  };
  walk(0, fixed.caught, fixed.fp);
  const chosen = best as { pts: number[]; caught: number; fp: number } | null;
  if (!chosen) throw new Error("tune: no point set keeps the ham rate's upper bound within the limit");
  // the training-half messages the chosen points get wrong, for looking at (never the test half)
  for (let j = 0; j < samples.length; j++) {
    const s = samples[j];
    const total = s.rest + (idx[j] >= 0 ? chosen.pts[idx[j]] : 0);
    if (!s.spam && total >= opts.junkScore) console.log(`  ham junked: ${s.name} p=${s.p?.toFixed(3)} other rules ${s.rest.toFixed(1)}`);
    if (process.env.PB_TUNE_SHOW_MISSED && s.spam && total < opts.junkScore) console.log(`  spam missed: ${s.name} p=${s.p?.toFixed(3)} other rules ${s.rest.toFixed(1)}`);
  }
  const out = bands.map((x, i) => ({ ...x, score: chosen.pts[i] }));
  console.log(
    `tune: best points (out of fold, training half, ${assignments} assignment(s) pooled): spam caught ${pct(chosen.caught, nSpam)}, ham junked ${pct(chosen.fp, nHam)} (${chosen.fp} of ${nHam}); ` +
      `one-sided 95 % Wilson upper bound ${(upperOf(chosen.fp) * 100).toFixed(2)} % (n = ${nDistinctHam} ham) <= ${(opts.maxFp * 100).toFixed(2)} %`,
  );
  for (const x of out) console.log(`  { name: "${x.name}", from: ${x.from}, score: ${x.score} },`);
  return out;
}
