/**
 * The arithmetic of the Bayesian classifier (src/spam/bayes.ts), kept pure so
 * it is tested on its own:
 *  - Gary Robinson's per-token probability with a prior for rare tokens
 *    ("A Statistical Approach to the Spam Problem", Linux Journal 2003, §f(w)):
 *    f(w) = (s·x + n·p(w)) / (s + n), p(w) the token's spam ratio normalised by
 *    the number of messages of each class, n the messages it was seen in, x the
 *    assumed probability of an unseen token and s the strength of that prior;
 *  - Fisher's chi-square combining of the most interesting tokens (Robinson's
 *    "Fisher-Robinson inverse chi-square", as SpamBayes' chi2_spamprob and
 *    SpamAssassin's Bayes plugin do): H and S are the probabilities that the
 *    token values are as extreme as they are under "ham" and under "spam", and
 *    the indicator (1 + S − H) / 2 is near 1 for spam, near 0 for ham and 0.5
 *    when the evidence is absent or contradicts itself.
 */
import type { BayesCounts } from "../../storage/filter-api.ts";

export interface BayesParams {
  /** Robinson's s: how strongly the prior x holds for tokens seen rarely. SpamBayes uses 0.45. */
  strength: number;
  /** Robinson's x: an unseen token's probability. */
  unknownProb: number;
  /** Tokens whose probability is closer than this to 0.5 are left out (SpamBayes' minimum_prob_strength). */
  minDistance: number;
  /** The number of most interesting tokens combined (SpamBayes' max_discriminators). */
  maxClues: number;
}

export const DEFAULT_BAYES_PARAMS: BayesParams = { strength: 0.45, unknownProb: 0.5, minDistance: 0.1, maxClues: 150 };

/** Robinson's f(w) for one token given its counts and the model's totals (both classes > 0). */
export function tokenProbability(c: BayesCounts, totals: BayesCounts, p: BayesParams = DEFAULT_BAYES_PARAMS): number {
  const spamRatio = Math.min(1, c.spam / Math.max(1, totals.spam));
  const hamRatio = Math.min(1, c.ham / Math.max(1, totals.ham));
  const n = c.spam + c.ham;
  if (n === 0 || spamRatio + hamRatio === 0) return p.unknownProb;
  const pw = spamRatio / (spamRatio + hamRatio);
  return (p.strength * p.unknownProb + n * pw) / (p.strength + n);
}

/**
 * The upper tail of the chi-square distribution with `v` (even) degrees of
 * freedom at `x2`: Q(x2 | v) = e^(−m) Σ_{i<v/2} m^i / i!, m = x2/2 (the closed
 * form for even v, as in SpamBayes' chi2Q). Clamped to [0, 1].
 */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let term = Math.exp(-m);
  let sum = term;
  for (let i = 1; i < v / 2; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(1, Math.max(0, sum));
}

/**
 * Combines token probabilities into one spam probability (0..1). Returns the
 * probability and how many tokens it used; 0.5 with 0 tokens when none is
 * interesting enough.
 */
export function combine(probs: readonly number[], p: BayesParams = DEFAULT_BAYES_PARAMS): { probability: number; used: number } {
  const clues: number[] = [];
  for (const f of probs) if (Math.abs(f - 0.5) >= p.minDistance) clues.push(f);
  if (clues.length === 0) return { probability: 0.5, used: 0 };
  clues.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
  const use = clues.length > p.maxClues ? clues.slice(0, p.maxClues) : clues;
  let lnHam = 0; // Σ ln f: near 0 when the tokens are spammy
  let lnSpam = 0; // Σ ln (1 − f): near 0 when they are hammy
  for (const f0 of use) {
    // keep the logarithms finite: a token's probability never reaches 0 or 1 with the prior, but be safe
    const f = Math.min(1 - 1e-9, Math.max(1e-9, f0));
    lnHam += Math.log(f);
    lnSpam += Math.log(1 - f);
  }
  const n = use.length;
  // SpamBayes' S = 1 − Q(−2 ln Π(1−f)) and H = 1 − Q(−2 ln Π f); indicator (S − H + 1) / 2
  const qSpammy = chi2Q(-2 * lnHam, 2 * n); // near 1 when the tokens look like spam
  const qHammy = chi2Q(-2 * lnSpam, 2 * n); // near 1 when they look like ham
  const probability = (1 + qSpammy - qHammy) / 2;
  return { probability: Math.min(1, Math.max(0, probability)), used: n };
}
