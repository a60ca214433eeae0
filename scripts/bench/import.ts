/**
 * Import benchmark for docs/BENCHMARKS.md ("Issue 18: import"): the
 * 10,000-message Dovecot mailbox of tests/import (10 folders, flags,
 * keywords, special-use) copied over IMAP with TLS by
 *   - `pillarbox import imaps://...` into a fresh data dir (the CLI as an admin runs it), and
 *   - `mbsync` (isync; imapsync is not in Debian) into a fresh local Maildir,
 * alternating, N rounds each (default 3), on the same machine in the same
 * run; prints messages per second (median) for both and the ratio. Both
 * fsync what they write (Pillarbox per blob and per transaction; mbsync's
 * FSync default).
 *
 *   scripts/bench/import [--rounds 3] [--json]
 * Needs: bun, dovecot-imapd, isync (mbsync), openssl.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { TREE_10K, fillMaildir, startDovecot } from "../../tests/import/dovecot.ts";
import { readTree } from "../../tests/import/imap-read.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BUN = process.execPath;
const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const ROUNDS = opt("rounds", 3);
const JSON_OUT = args.includes("--json");

const TREE = TREE_10K;
const TOTAL = TREE.reduce((n, f) => n + f.count, 0);
const USER = "bench@old.test";
const PASS = "bench-password-123";

function countFiles(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    const st = statSync(p);
    if (st.isDirectory()) n += countFiles(p);
    else if (/\/(cur|new)$/.test(dir)) n++;
  }
  return n;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const dovecot = await startDovecot([USER], PASS);
const work = mkdtempSync(join(tmpdir(), "pb-bench-import-"));
try {
  fillMaildir(dovecot, USER, TREE);
  // Dovecot indexes the maildir on first access: do that once before timing anyone.
  await readTree({ host: "127.0.0.1", port: dovecot.tlsPort, user: USER, pass: PASS, tls: "implicit", bodies: false });
  const pwFile = join(work, "password");
  writeFileSync(pwFile, PASS + "\n", { mode: 0o600 });

  const pillarbox: number[] = [];
  const mbsync: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? ["pillarbox", "mbsync"] : ["mbsync", "pillarbox"];
    for (const who of order) {
      if (who === "pillarbox") {
        const dataDir = join(work, `pb-${round}`);
        const env = { ...process.env, PILLARBOX_DATA_DIR: dataDir, PILLARBOX_CONFIG: undefined } as NodeJS.ProcessEnv;
        const cli = (a: string[], input?: string) => spawnSync(BUN, [join(ROOT, "src/main.ts"), ...a], { env, input, encoding: "utf8" });
        cli(["domain", "add", "new.test"]);
        cli(["user", "add", "bench@new.test", "--password-stdin"], "a-long-bench-password-1\n");
        const t0 = performance.now();
        const r = cli(["import", `imaps://${USER}@127.0.0.1:${dovecot.tlsPort}`, "--to", "bench@new.test", "--insecure", "--password-file", pwFile]);
        const secs = (performance.now() - t0) / 1000;
        if (r.status !== 0 || !r.stdout.includes(`imported ${TOTAL} messages`)) throw new Error(`pillarbox import failed: ${r.stdout}\n${r.stderr}`);
        pillarbox.push(TOTAL / secs);
        if (!JSON_OUT) console.log(`round ${round + 1} pillarbox: ${secs.toFixed(1)} s, ${(TOTAL / secs).toFixed(0)} msg/s`);
        rmSync(dataDir, { recursive: true, force: true });
      } else {
        const dir = join(work, `mbsync-${round}`);
        const conf = join(work, `mbsyncrc-${round}`);
        mkdirSync(dir); // mbsync wants its Path to exist; the certificate names localhost (and 127.0.0.1)
        writeFileSync(
          conf,
          `IMAPAccount old
Host localhost
Port ${dovecot.tlsPort}
User ${USER}
Pass ${PASS}
SSLType IMAPS
CertificateFile ${dovecot.certFile}

IMAPStore old
Account old

MaildirStore local
Path ${dir}/
Inbox ${dir}/INBOX
SubFolders Verbatim

Channel bench
Far :old:
Near :local:
Patterns *
Create Near
Sync Pull
SyncState *
`,
        );
        const t0 = performance.now();
        const r = spawnSync("mbsync", ["-c", conf, "-a", "-q"], { encoding: "utf8" });
        const secs = (performance.now() - t0) / 1000;
        const n = countFiles(dir);
        if (r.status !== 0 || n !== TOTAL) throw new Error(`mbsync failed (exit ${r.status}, ${n} files): ${r.stderr}`);
        mbsync.push(TOTAL / secs);
        if (!JSON_OUT) console.log(`round ${round + 1} mbsync:    ${secs.toFixed(1)} s, ${(TOTAL / secs).toFixed(0)} msg/s`);
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  const result = {
    messages: TOTAL,
    folders: TREE.length,
    rounds: ROUNDS,
    pillarboxMsgPerSec: Math.round(median(pillarbox)),
    mbsyncMsgPerSec: Math.round(median(mbsync)),
    ratio: Number((median(pillarbox) / median(mbsync)).toFixed(2)),
    pillarboxRuns: pillarbox.map((x) => Math.round(x)),
    mbsyncRuns: mbsync.map((x) => Math.round(x)),
  };
  if (JSON_OUT) console.log(JSON.stringify(result));
  else console.log(`\nmedian of ${ROUNDS}: pillarbox import ${result.pillarboxMsgPerSec} msg/s, mbsync ${result.mbsyncMsgPerSec} msg/s (pillarbox / mbsync = ${result.ratio})`);
} finally {
  dovecot.stop();
  rmSync(work, { recursive: true, force: true });
}
