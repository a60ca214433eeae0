/**
 * Fills one INBOX with N small, realistic messages (headers + a few lines,
 * ~600-900 octets; every third one \Seen, every seventh \Flagged), the same
 * messages in the same order for both servers:
 *  - Pillarbox: straight through the store API (storage/store.ts openStore +
 *    append in batches), not over IMAP, so 100,000 messages take seconds;
 *  - Dovecot: a Maildir (cur/ files with :2,S / :2,F flags) owned by nobody,
 *    as the twin from scripts/bench/lib/dovecot.sh expects.
 *
 *   bun scripts/bench/lib/imap-populate.ts --count 100000 --pillarbox DATA_DIR --user U --pass P
 *   bun scripts/bench/lib/imap-populate.ts --count 100000 --maildir DIR/home/U/Maildir
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, resolve } from "node:path";
import { openStore } from "../../../storage/store.ts";
import { passwordHasher } from "../../../src/auth.ts";

const argv = process.argv.slice(2);
function opt(name: string): string | undefined {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
}
const count = Number(opt("count") ?? "100000");
const pillarboxDir = opt("pillarbox");
const maildir = opt("maildir");
const user = opt("user") ?? "bench@bench.test";
const pass = opt("pass") ?? "benchpass";

const NAMES = ["Alice Able", "Bob Baker", "Carol Cole", "Dan Drew", "Erin East", "Frank Fox", "Gina Gold", "Hal Hill"];
const WORDS = "report budget meeting invoice project team weekly update review draft schedule lunch release notes status plan".split(" ");
const BASE = Date.UTC(2020, 0, 1);

function message(i: number): { raw: string; date: number; flags: string[] } {
  const date = BASE + i * 60_000;
  const from = NAMES[i % NAMES.length];
  const to = NAMES[(i * 7 + 3) % NAMES.length];
  const w = (k: number) => WORDS[(i * 13 + k * 5) % WORDS.length];
  const d = new Date(date).toUTCString().replace("GMT", "+0000");
  const lines = [
    `From: ${from} <${from.split(" ")[0].toLowerCase()}@example.com>`,
    `To: ${to} <${to.split(" ")[0].toLowerCase()}@example.org>`,
    `Subject: ${w(1)} ${w(2)} #${i}`,
    `Date: ${d}`,
    `Message-ID: <m${i}@bench.example.com>`,
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=us-ascii",
    "",
  ];
  const body: string[] = [];
  for (let k = 0; k < 4 + (i % 6); k++) body.push(`${w(k)} ${w(k + 1)} ${w(k + 2)} ${w(k + 3)} line ${k} of message ${i}, nothing to see here.`);
  const flags: string[] = [];
  if (i % 3 === 0) flags.push("\\Seen");
  if (i % 7 === 0) flags.push("\\Flagged");
  return { raw: [...lines, ...body, ""].join("\r\n"), date, flags };
}

const t0 = performance.now();
if (pillarboxDir) {
  const dir = resolve(pillarboxDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const store = await openStore({ hasher: passwordHasher, url: `file:${join(dir, "pillarbox.db")}`, dataDir: dir });
  const domain = user.slice(user.indexOf("@") + 1);
  if (!(await store.getDomain(domain))) await store.addDomain(domain);
  const account = (await store.getAccount(user)) ?? (await store.addAccount(user, pass));
  const inbox = await store.getFolder(account.id, "INBOX");
  if (!inbox) throw new Error("no INBOX");
  const inboxId = inbox.id;
  const have = (await store.listMessages(inbox.id)).length;
  // Several batches in flight overlap the blob fsyncs (UIDs then follow commit
  // order, not strictly message order; irrelevant for the timings).
  const BATCH = 1000;
  const PARALLEL = Number(opt("parallel") ?? "4");
  const enc = new TextEncoder();
  let next = have;
  let done = have;
  async function worker(): Promise<void> {
    while (next < count) {
      const i = next;
      next = Math.min(count, next + BATCH);
      const batch = [];
      for (let j = i; j < next; j++) {
        const m = message(j);
        batch.push({ raw: enc.encode(m.raw), flags: m.flags, internalDate: m.date });
      }
      await store.append(inboxId, batch);
      done += batch.length;
      if (done % 10_000 < BATCH) console.error(`pillarbox: ${done} appended (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }
  }
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  const n = (await store.listMessages(inbox.id)).length;
  await store.close();
  console.error(`pillarbox: ${n} messages in ${user} INBOX (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
if (maildir) {
  const dir = resolve(maildir);
  for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, sub), { recursive: true });
  for (let i = 0; i < count; i++) {
    const m = message(i);
    const fl = (m.flags.includes("\\Flagged") ? "F" : "") + (m.flags.includes("\\Seen") ? "S" : "");
    // Dovecot takes the received date from the file's mtime; the name only has to be unique
    writeFileSync(join(dir, "cur", `${Math.floor(m.date / 1000)}.M${i}P1.bench,S=${m.raw.length}:2,${fl}`), m.raw);
  }
  // owned by the twin's mail user
  execFileSync("chown", ["-R", "nobody:nogroup", resolve(dir, "..")]);
  console.error(`maildir: ${count} messages in ${dir} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}
