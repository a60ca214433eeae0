/**
 * CI-sized fuzzing (short budget; scripts/torture/fuzz runs the long one):
 * mutation + fast-check generated inputs through every parser, and a few
 * properties that must hold for any input (chunking never changes what a
 * parser sees; WBXML decode/encode round-trips). New failing inputs are saved
 * to tests/reliability/regressions/ and replayed by regressions.test.ts.
 */
import { describe, expect, test, afterAll } from "bun:test";
import fc from "fast-check";
import { fuzzTarget, type FuzzStats } from "./fuzz/engine.ts";
import { PARSER_TARGETS } from "./fuzz/targets.ts";
import { makeHttpTarget } from "./fuzz/http-target.ts";
import { DataDecoder } from "../../protocols/smtp/parser.ts";
import { CommandParser, type ParseEvent } from "../../protocols/imap/parser.ts";
import { LineReader } from "../../protocols/pop3/parser.ts";
import { decode, encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { el } from "../../protocols/http/eas/wbxml/tree.ts";

const BUDGET_MS = Number(process.env.PILLARBOX_FUZZ_MS ?? 2500);
const stats: FuzzStats[] = [];

function report(s: FuzzStats): string {
  return s.failures.map((f) => `${f.kind} in ${f.target}: ${f.message.split("\n")[0]} (input saved to ${f.file ?? "-"})`).join("\n");
}

describe("fuzz: parsers (short budget)", () => {
  for (const t of PARSER_TARGETS) {
    test(`${t.name}: no crash, hang or memory growth`, async () => {
      const s = await fuzzTarget(t, { budgetMs: BUDGET_MS, seed: Date.now() & 0xffff, save: true });
      stats.push(s);
      expect(s.execs).toBeGreaterThan(100);
      expect(report(s)).toBe("");
    }, BUDGET_MS + 30_000);
  }

  test("http: random requests never make a handler fail", async () => {
    const h = await makeHttpTarget();
    try {
      const s = await fuzzTarget(h.target, { budgetMs: BUDGET_MS * 2, seed: Date.now() & 0xffff, save: true, batch: 200 });
      stats.push(s);
      expect(s.execs).toBeGreaterThan(50);
      expect(report(s)).toBe("");
    } finally {
      await h.close();
    }
  }, BUDGET_MS * 2 + 60_000);
});

afterAll(() => {
  for (const s of stats) console.log(`fuzz ${s.target}: ${s.execs} executions, ${s.failures.length} failures, heap ${s.heapStartMB.toFixed(1)} -> ${s.heapEndMB.toFixed(1)} MB`);
});

/** Random split points of a byte array. */
const splitArb = (len: number) => fc.uniqueArray(fc.integer({ min: 1, max: Math.max(1, len - 1) }), { maxLength: 8 }).map((cuts) => cuts.sort((a, b) => a - b));
function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  for (const c of cuts) if (c > p && c < data.length) (out.push(data.subarray(p, c)), (p = c));
  out.push(data.subarray(p));
  return out;
}
const bytesArb = fc.array(fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(13, 10, 46, 123, 125, 43, 32)), { maxLength: 300 }).map((a) => Uint8Array.from(a));

describe("fuzz: properties", () => {
  test("SMTP DATA: any chunking decodes to the same message", () => {
    fc.assert(
      fc.property(bytesArb, fc.integer({ min: 0, max: 1000 }), (data, cutSeed) => {
        const withEnd = Uint8Array.from([...data, 13, 10, 46, 13, 10]);
        const a = new DataDecoder(1 << 20);
        const ra = a.push(withEnd);
        expect(ra.done).toBe(true);
        const cuts = fc.sample(splitArb(withEnd.length), { numRuns: 1, seed: cutSeed })[0]!;
        const bdec = new DataDecoder(1 << 20);
        let consumed = 0;
        for (const c of split(withEnd, cuts)) {
          const r = bdec.push(c);
          consumed += r.consumed;
          if (r.done) break;
        }
        expect(consumed).toBe(ra.consumed);
        expect(Buffer.from(bdec.message()).equals(Buffer.from(a.message()))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  test("IMAP: any chunking yields the same events", () => {
    const run = (parts: Uint8Array[]) => {
      const p = new CommandParser({ maxLine: 2000, maxOtherLiteral: 100, maxAppendLiteral: 200 });
      const evs: ParseEvent[] = [];
      for (const c of parts) {
        p.push(c);
        for (let e = p.next(); e; e = p.next()) evs.push(e);
      }
      return JSON.stringify(evs, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    };
    const cmdArb = fc
      .array(fc.oneof(fc.constantFrom("a APPEND INBOX ", "b FETCH 1 (BODY[])", " {3}\r\nabc", " {2+}\r\nxy", "\r\n", "(", ")", "\"q\\\"\"", " ", "~{1}\r\n\x00"), fc.string({ maxLength: 8 })), { maxLength: 20 })
      .map((a) => Uint8Array.from(a.join(""), (ch) => ch.charCodeAt(0) & 0xff));
    fc.assert(
      fc.property(cmdArb, fc.integer({ min: 0, max: 1000 }), (data, cutSeed) => {
        const cuts = fc.sample(splitArb(data.length), { numRuns: 1, seed: cutSeed })[0]!;
        expect(run(split(data, cuts))).toBe(run([data]));
      }),
      { numRuns: 500 },
    );
  });

  test("POP3: any chunking yields the same lines", () => {
    fc.assert(
      fc.property(bytesArb, fc.integer({ min: 0, max: 1000 }), (data, cutSeed) => {
        const run = (parts: Uint8Array[]) => {
          const r = new LineReader();
          return JSON.stringify(parts.flatMap((p) => r.feed(p)));
        };
        const cuts = fc.sample(splitArb(data.length), { numRuns: 1, seed: cutSeed })[0]!;
        expect(run(split(data, cuts))).toBe(run([data]));
      }),
      { numRuns: 500 },
    );
  });

  test("WBXML: encode then decode is the identity on generated trees", () => {
    const names = ["AirSync:Sync", "AirSync:Collection", "AirSync:SyncKey", "FolderHierarchy:FolderSync", "FolderHierarchy:SyncKey", "Email:Subject", "AirSyncBase:Data"];
    const leaf = fc.oneof(fc.string({ maxLength: 20 }).map((s) => s.replace(/\0/g, "")), fc.uint8Array({ maxLength: 20 }));
    const tree: fc.Arbitrary<ReturnType<typeof el>> = fc.letrec((tie) => ({
      node: fc.tuple(fc.constantFrom(...names), fc.array(fc.oneof({ depthSize: "small", withCrossShrink: true }, leaf, tie("node")), { maxLength: 4 })).map(([n, kids]) => el(n, ...(kids as never[]))),
    })).node as fc.Arbitrary<ReturnType<typeof el>>;
    const norm = (x: unknown) => JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
    fc.assert(
      fc.property(tree, (root) => {
        const once = decode(encode(root)).root;
        expect(norm(decode(encode(once)).root)).toBe(norm(once));
      }),
      { numRuns: 300 },
    );
  });
});
