/**
 * A small coverage-blind mutation fuzzer plus fast-check generation, shared
 * by the CI test (tests/reliability/fuzz.test.ts, short budget) and the long
 * run (scripts/torture/fuzz).
 *
 * Failure = a throw that is not one of the target's documented error values,
 * a single input that takes longer than HANG_MS, or heap growth across
 * batches beyond MEMORY_GROWTH_LIMIT. Failing inputs are written to
 * tests/reliability/regressions/<target>-<sha>.bin and replayed by
 * tests/reliability/regressions.test.ts.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { concatChunks } from "../../../src/bytes.ts";

export const HANG_MS = 1000;
export const MEMORY_GROWTH_LIMIT = 96 * 1024 * 1024;
export const REGRESSIONS_DIR = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../regressions");

export interface FuzzTarget {
  name: string;
  /** Seed corpus: realistic inputs the mutator starts from. */
  seeds: Uint8Array[];
  /** Runs one input; throws only on a real failure (documented errors are caught inside). */
  run(input: Uint8Array): void | Promise<void>;
  /** Extra generator for structured inputs (fast-check), mixed in with mutations. */
  arbitrary?: fc.Arbitrary<Uint8Array>;
  /** Inputs larger than this are truncated before running. */
  maxLen?: number;
}

export interface Failure {
  target: string;
  kind: "crash" | "hang" | "memory";
  message: string;
  input: Uint8Array;
  file?: string;
}

export interface FuzzStats {
  target: string;
  execs: number;
  failures: Failure[];
  heapStartMB: number;
  heapEndMB: number;
  ms: number;
  /** Slowest single input, ms. */
  maxExecMs: number;
}

// ---------------------------------------------------------------- PRNG

/** xorshift32: deterministic from a seed so a run can be repeated. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)]!;
  }
}

const enc = new TextEncoder();

/** Tokens that tend to reach parser corners (literals, line ends, encodings, boundaries). */
const DICT: Uint8Array[] = [
  "\r\n", "\n", "\r", "\0", " ", "  ", "\t", "(", ")", "((((((((", "))))", "{", "}", "{0}\r\n", "{5}\r\n", "{4294967295}\r\n",
  "{99999999999999}\r\n", "{10+}\r\n", "~{3}\r\n", "\"", "\\", "\\\"", "*", "%", "!", "@", ":", "<", ">", "<>", "=", "=?utf-8?b?", "=?iso-8859-1?q?",
  "?=", "--", "--b\r\n", "boundary=b", "Content-Type: multipart/mixed; boundary=b\r\n", "Content-Transfer-Encoding: base64\r\n",
  "Content-Type: message/rfc822\r\n", "\r\n.\r\n", "\r\n..\r\n", ".\r\n", "\xff\xfe", "\xc3\x28", "\xf0\x9f\x98\x80", "1:*", "*:1", "4294967296",
  "-1", "0", "NIL", "BODY[", "BODY.PEEK[HEADER.FIELDS (", "]<0.4294967295>", "UID ", "SEARCH ", "CHARSET ", "MAIL FROM:", "RCPT TO:", "SIZE=",
  "BODY=8BITMIME", "SMTPUTF8", "NOTIFY=SUCCESS", "ORCPT=rfc822;", "+2B", "+ZZ", "AUTH=", "xtext+", "@a,@b:", "\"quoted\\ local\"@x",
  "[127.0.0.1]", "[IPv6:::1]", "[IPv6:", "\x01\x02\x03", "\x03\x6a\x00", "\xc3\x81\xff", "\x04", "\x83\x00", "\x01\x01\x01\x01",
].map((s) => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff));

export function mutate(rng: Rng, base: Uint8Array, corpus: Uint8Array[], maxLen: number): Uint8Array {
  let b: Uint8Array = base.slice();
  const rounds = 1 + rng.int(6);
  for (let r = 0; r < rounds; r++) {
    const op = rng.int(11);
    const pos = rng.int(b.length + 1);
    switch (op) {
      case 0: // bit flip
        if (b.length) b[rng.int(b.length)]! ^= 1 << rng.int(8);
        break;
      case 1: // random byte
        if (b.length) b[rng.int(b.length)] = rng.int(256);
        break;
      case 2: // interesting byte
        if (b.length) b[rng.int(b.length)] = rng.pick([0, 10, 13, 32, 34, 40, 41, 46, 92, 123, 125, 127, 128, 255]);
        break;
      case 3: { // delete a range
        const n = rng.int(Math.min(64, b.length - pos) + 1);
        b = concat(b.subarray(0, pos), b.subarray(pos + n));
        break;
      }
      case 4: // insert dictionary token
        b = concat(b.subarray(0, pos), rng.pick(DICT), b.subarray(pos));
        break;
      case 5: { // duplicate a range (repetition blows up naive parsers)
        const start = rng.int(b.length + 1);
        const len = rng.int(Math.min(128, b.length - start) + 1);
        const piece = b.subarray(start, start + len);
        const times = 1 + rng.int(rng.int(4) === 0 ? 200 : 4);
        const parts: Uint8Array[] = [b.subarray(0, pos)];
        for (let i = 0; i < times; i++) parts.push(piece);
        parts.push(b.subarray(pos));
        b = concat(...parts);
        break;
      }
      case 6: { // splice with another corpus entry
        const o = rng.pick(corpus);
        const cut = rng.int(o.length + 1);
        b = concat(b.subarray(0, pos), o.subarray(cut));
        break;
      }
      case 7: { // random bytes insert
        const n = 1 + rng.int(16);
        const ins = new Uint8Array(n);
        for (let i = 0; i < n; i++) ins[i] = rng.int(256);
        b = concat(b.subarray(0, pos), ins, b.subarray(pos));
        break;
      }
      case 8: // truncate
        b = b.subarray(0, pos).slice();
        break;
      case 9: { // long run of one byte (over-long lines, deep nesting)
        const n = rng.pick([100, 1000, 1001, 5000, 70000]);
        const ch = rng.pick([0x41, 0x28, 0x7b, 0x20, 0x2e, 0x3c, 0x3d, 0x5b]);
        b = concat(b.subarray(0, pos), new Uint8Array(n).fill(ch), b.subarray(pos));
        break;
      }
      default: { // replace a decimal number with an extreme one
        const nums = ["0", "4294967295", "4294967296", "18446744073709551616", "99999999999999999999", "-1", "1e9"];
        b = concat(b.subarray(0, pos), enc.encode(rng.pick(nums)), b.subarray(pos));
      }
    }
    if (b.length > maxLen) b = b.subarray(0, maxLen).slice();
  }
  return b;
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  return concatChunks(parts);
}

function heapUsed(): number {
  const g = globalThis as { gc?: () => void; Bun?: { gc?: (sync: boolean) => void } };
  // Test-only: force a collection so the heap figure means live data (Bun.gc / node --expose-gc).
  if (g.Bun?.gc) g.Bun.gc(true);
  else g.gc?.();
  return process.memoryUsage().heapUsed;
}

export function saveFailure(f: Failure): string {
  if (!existsSync(REGRESSIONS_DIR)) mkdirSync(REGRESSIONS_DIR, { recursive: true });
  const sha = createHash("sha256").update(f.input).digest("hex").slice(0, 16);
  const file = join(REGRESSIONS_DIR, `${f.target}-${sha}.bin`);
  writeFileSync(file, f.input);
  writeFileSync(file.replace(/\.bin$/, ".txt"), `${f.kind}: ${f.message}\n`);
  return file;
}

let lastExecMs = 0;
export async function runOnce(t: FuzzTarget, input: Uint8Array): Promise<Failure | null> {
  const t0 = performance.now();
  lastExecMs = 0;
  try {
    await t.run(input);
  } catch (e) {
    const err = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ""}` : String(e);
    return { target: t.name, kind: "crash", message: err.slice(0, 2000), input };
  }
  const dt = performance.now() - t0;
  lastExecMs = dt;
  if (dt > HANG_MS) return { target: t.name, kind: "hang", message: `took ${dt.toFixed(0)} ms`, input };
  return null;
}

export interface FuzzOptions {
  budgetMs: number;
  seed?: number;
  /** Save failing inputs to the regressions folder. */
  save?: boolean;
  /** Inputs per memory-check batch. */
  batch?: number;
  /** Called now and then with the input about to run (watchdogs). */
  onInput?: (input: Uint8Array) => void;
}

export async function fuzzTarget(t: FuzzTarget, opts: FuzzOptions): Promise<FuzzStats> {
  const rng = new Rng(opts.seed ?? Date.now());
  const maxLen = t.maxLen ?? 64 * 1024;
  const corpus = t.seeds.length ? t.seeds.slice() : [new Uint8Array(0)];
  const failures: Failure[] = [];
  const seenFail = new Set<string>();
  const batch = opts.batch ?? 2000;
  const t0 = performance.now();
  const deadline = t0 + opts.budgetMs;
  let execs = 0;
  let maxExecMs = 0;
  const record = (f: Failure) => {
    const key = f.kind + f.message.split("\n")[0];
    if (seenFail.has(key)) return;
    seenFail.add(key);
    if (opts.save) f.file = saveFailure(f);
    failures.push(f);
  };
  // Seeds first, as they are.
  for (const s of corpus) {
    opts.onInput?.(s);
    const f = await runOnce(t, s);
    execs++;
    if (f) record(f);
  }
  const heapStart = heapUsed();
  let generated: Uint8Array[] = [];
  let genSeed = rng.u32();
  while (performance.now() < deadline) {
    for (let i = 0; i < batch && performance.now() < deadline; i++) {
      let input: Uint8Array;
      if (t.arbitrary && rng.int(4) === 0) {
        if (generated.length === 0) generated = fc.sample(t.arbitrary, { numRuns: 64, seed: genSeed++ });
        input = generated.pop()!;
      } else {
        input = mutate(rng, rng.pick(corpus), corpus, maxLen);
      }
      opts.onInput?.(input);
      const f = await runOnce(t, input);
      execs++;
      if (lastExecMs > maxExecMs) maxExecMs = lastExecMs;
      if (f) record(f);
      // Keep a few mutants around so mutations stack (a poor man's corpus growth).
      else if (rng.int(64) === 0 && input.length < maxLen) {
        if (corpus.length < 256) corpus.push(input);
        else corpus[t.seeds.length + rng.int(corpus.length - t.seeds.length)] = input;
      }
    }
  }
  const heapEnd = heapUsed();
  if (heapEnd - heapStart > MEMORY_GROWTH_LIMIT) {
    record({ target: t.name, kind: "memory", message: `heap grew ${((heapEnd - heapStart) / 1048576).toFixed(1)} MB over ${execs} inputs`, input: new Uint8Array(0) });
  }
  return { target: t.name, execs, failures, heapStartMB: heapStart / 1048576, heapEndMB: heapEnd / 1048576, ms: performance.now() - t0, maxExecMs };
}
