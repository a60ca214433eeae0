/**
 * Replays every input that ever crashed or hung a parser (saved by the fuzzers
 * as tests/reliability/regressions/<target>-<sha>.bin, with a .txt note of what
 * happened). Each must now run cleanly and quickly.
 */
import { describe, expect, test, afterAll } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { REGRESSIONS_DIR, runOnce, type FuzzTarget } from "./fuzz/engine.ts";
import { PARSER_TARGETS } from "./fuzz/targets.ts";
import { makeHttpTarget, type HttpFuzz } from "./fuzz/http-target.ts";

const files = (() => {
  try {
    return readdirSync(REGRESSIONS_DIR).filter((f) => f.endsWith(".bin")).sort();
  } catch {
    return [];
  }
})();

/** The target a saved input belongs to: the longest target name its file name starts with (names may hold "-": smtp-data, mail-build). */
const TARGET_NAMES = [...PARSER_TARGETS.map((t) => t.name), "http"].sort((a, b) => b.length - a.length);
const targetOf = (file: string) => TARGET_NAMES.find((n) => file.startsWith(`${n}-`)) ?? file.split("-")[0]!;

let http: HttpFuzz | null = null;
async function targetFor(name: string): Promise<FuzzTarget> {
  const t = PARSER_TARGETS.find((x) => x.name === name);
  if (t) return t;
  if (name === "http") return (http ??= await makeHttpTarget()).target;
  throw new Error(`regression file for unknown target ${name}`);
}
afterAll(async () => {
  await http?.close();
});

describe("fuzz regressions", () => {
  test("the regressions folder holds only known targets", () => {
    for (const f of files) expect(TARGET_NAMES).toContain(targetOf(f));
  });
  for (const f of files) {
    test(`replay ${f}`, async () => {
      const t = await targetFor(targetOf(f));
      const input = new Uint8Array(readFileSync(join(REGRESSIONS_DIR, f)));
      const failure = await runOnce(t, input);
      expect(failure?.message ?? null).toBeNull();
    }, 30_000);
  }
});
