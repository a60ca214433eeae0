/**
 * The Sieve validator against the reference: every script of
 * tests/sieve/parse-cases.ts is compiled by Pigeonhole's `sievec` (Debian
 * dovecot-sieve) and by compile(); both must agree on whether it compiles,
 * except for the cases marked `differs` (each with its reason), which must
 * really differ, so the list of deliberate differences stays true.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { compile, formatSieveError } from "../../src/sieve/compile.ts";
import { INVALID, VALID, type ParseCase } from "./parse-cases.ts";

const SIEVEC = "/usr/bin/sievec";
const skip = !existsSync(SIEVEC);
// the extensions Pigeonhole leaves off by default but Pillarbox offers
const EXTRA = "+editheader +vacation-seconds +spamtest +spamtestplus +mboxmetadata +servermetadata +encoded-character +environment +duplicate";

let dir = "";
let conf = "";

beforeAll(() => {
  if (skip) return;
  dir = mkdtempSync(join(tmpdir(), "pb-sievec-"));
  chmodSync(dir, 0o777);
  // sievec drops to a mail user; as root that is nobody, otherwise ourselves
  const root = userInfo().uid === 0;
  conf = join(dir, "dovecot.conf");
  writeFileSync(conf, root ? "mail_uid = nobody\nmail_gid = nogroup\n" : `mail_uid = ${userInfo().uid}\nmail_gid = ${userInfo().gid}\nfirst_valid_uid = 0\n`);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function sievec(file: string): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(SIEVEC, ["-c", conf, "-x", EXTRA, file, `${file}.svbin`], { timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() });
    });
  });
}

describe.skipIf(skip)("compile() agrees with Pigeonhole's sievec", () => {
  const cases: ParseCase[] = [...VALID, ...INVALID];
  test(`${cases.length} scripts`, async () => {
    const results: Array<{ c: ParseCase; ph: { ok: boolean; out: string } }> = [];
    // a few sievec processes at a time
    for (let i = 0; i < cases.length; i += 6) {
      const batch = cases.slice(i, i + 6);
      const ph = await Promise.all(
        batch.map((c, k) => {
          const file = join(dir, `case${i + k}.sieve`);
          writeFileSync(file, c.script);
          chmodSync(file, 0o644);
          return sievec(file);
        }),
      );
      batch.forEach((c, k) => results.push({ c, ph: ph[k]! }));
    }
    const problems: string[] = [];
    for (const { c, ph } of results) {
      const mine = compile(c.script);
      const agree = mine.ok === ph.ok;
      if (c.differs ? agree : !agree) {
        problems.push(`${c.name}: Pillarbox ${mine.ok ? "compiles" : `refuses (${mine.errors.map(formatSieveError).join("; ")})`}, Pigeonhole ${ph.ok ? "compiles" : `refuses (${ph.out.split("\n")[0]})`}${c.differs ? ` — listed as differing: ${c.differs}` : ""}`);
      }
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
