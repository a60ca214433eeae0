/**
 * `scripts/bench/spam --tune`: chooses the points of the BAYES_nn bands on the
 * TRAINING half only (the test half is never looked at): the training half is
 * cut in two folds, a model trained on each fold scores the other (so every
 * training message gets an out-of-sample Bayes probability and the score of
 * every other rule), and a grid search picks the points that catch the most
 * spam with at most `maxFp` of the ham junked, preferring fewer false
 * positives and smaller points on ties. The result is printed for
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
  BAYES_60: [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5],
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

/** Grid search of the bands' points over out-of-fold samples: the most spam caught with at most maxFp of the ham junked. */
export function chooseBands(samples: readonly Sample[], bands: readonly BayesBand[], opts: { junkScore: number; maxFp: number }): BayesBand[] {
  // probability histogram per band (out of fold)
  console.log("tune: out-of-fold Bayes bands on the training half (spam / ham):");
  for (let i = 0; i < bands.length; i++) {
    const inBand = samples.filter((s) => bandIndex(s.p, bands) === i);
    console.log(`  ${bands[i].name.padEnd(9)} p >= ${bands[i].from.toFixed(2)}: ${String(inBand.filter((s) => s.spam).length).padStart(5)} / ${String(inBand.filter((s) => !s.spam).length).padStart(5)}`);
  }
  const idx = samples.map((s) => bandIndex(s.p, bands));
  const nSpam = samples.filter((s) => s.spam).length;
  const nHam = samples.length - nSpam;
  const names = bands.map((x) => x.name);
  const choices = names.map((n) => GRID[n] ?? [bands[names.indexOf(n)].score]);
  let best: { pts: number[]; caught: number; fp: number; mag: number } | null = null;
  const pts = new Array<number>(names.length).fill(0);
  const evaluate = () => {
    // points must not rise as the probability falls
    for (let i = 1; i < pts.length; i++) if (pts[i] > pts[i - 1]) return;
    let caught = 0;
    let fp = 0;
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      const junk = s.rest + (idx[j] >= 0 ? pts[idx[j]] : 0) >= opts.junkScore;
      if (junk && s.spam) caught++;
      else if (junk) fp++;
    }
    if (fp > opts.maxFp * nHam) return;
    const mag = pts.reduce((a, x) => a + Math.abs(x), 0);
    if (!best || caught > best.caught || (caught === best.caught && (fp < best.fp || (fp === best.fp && mag < best.mag)))) best = { pts: [...pts], caught, fp, mag };
  };
  const walk = (i: number) => {
    if (i === names.length) return evaluate();
    for (const v of choices[i]) {
      pts[i] = v;
      walk(i + 1);
    }
  };
  walk(0);
  const chosenPts = (best as { pts: number[] } | null)?.pts;
  if (chosenPts) {
    // the training-half messages the chosen points get wrong, for looking at (never the test half)
    for (let j = 0; j < samples.length; j++) {
      const s = samples[j];
      const total = s.rest + (idx[j] >= 0 ? chosenPts[idx[j]] : 0);
      if (!s.spam && total >= opts.junkScore) console.log(`  ham junked: ${s.name} p=${s.p?.toFixed(3)} other rules ${s.rest.toFixed(1)}`);
      if (process.env.PB_TUNE_SHOW_MISSED && s.spam && total < opts.junkScore) console.log(`  spam missed: ${s.name} p=${s.p?.toFixed(3)} other rules ${s.rest.toFixed(1)}`);
    }
  }
  const chosen = best as { pts: number[]; caught: number; fp: number } | null;
  if (!chosen) throw new Error("tune: no point set keeps ham junked within the limit");
  const out = bands.map((x, i) => ({ ...x, score: chosen.pts[i] }));
  console.log(`tune: best points (out of fold, training half): spam caught ${pct(chosen.caught, nSpam)}, ham junked ${pct(chosen.fp, nHam)} (${chosen.fp} of ${nHam})`);
  for (const x of out) console.log(`  { name: "${x.name}", from: ${x.from}, score: ${x.score} },`);
  return out;
}
