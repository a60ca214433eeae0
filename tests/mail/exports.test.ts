/**
 * The mail library's public surface: every function mail/index.ts exports
 * has a fuzz check (tests/reliability/fuzz/mail-targets.ts, run by
 * tests/reliability/fuzz.test.ts), and mail/ imports nothing of the project.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as mail from "../../mail/index.ts";
import { MAIL_CHECKS, MAIL_TARGETS } from "../reliability/fuzz/mail-targets.ts";

const MAIL_DIR = join(import.meta.dir, "../../mail");

describe("mail/ public surface", () => {
  test("every exported function has a fuzz check, and every check names an export", () => {
    const functions = Object.entries(mail)
      .filter(([, v]) => typeof v === "function")
      .map(([k]) => k)
      .sort();
    expect(functions.length).toBeGreaterThan(40);
    expect(functions.filter((f) => !(f in MAIL_CHECKS))).toEqual([]);
    expect(Object.keys(MAIL_CHECKS).filter((k) => typeof (mail as Record<string, unknown>)[k] !== "function")).toEqual([]);
  });

  test("the checks pass on each seed (the fuzz test runs them on generated input)", () => {
    for (const t of MAIL_TARGETS) for (const seed of t.seeds) t.run(seed);
  });

  test("mail/ imports only node: built-ins and its own files", () => {
    const bad: string[] = [];
    for (const f of readdirSync(MAIL_DIR).filter((n) => n.endsWith(".ts"))) {
      const src = readFileSync(join(MAIL_DIR, f), "utf8");
      for (const m of src.matchAll(/(?:^|\n)\s*(?:import|export)[^"';]*?from\s+["']([^"']+)["']/g)) {
        const spec = m[1]!;
        if (spec.startsWith("node:")) continue;
        if (spec.startsWith("./") && !spec.slice(2).includes("/")) continue;
        bad.push(`${f}: ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  test("every file of mail/ is described in mail/README.md", () => {
    const readme = readFileSync(join(MAIL_DIR, "README.md"), "utf8");
    const missing = readdirSync(MAIL_DIR).filter((n) => n.endsWith(".ts") && !readme.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
});
