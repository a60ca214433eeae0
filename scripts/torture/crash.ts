/**
 * scripts/torture/crash [--kills N] [--workers W] [--min-ms A] [--max-ms B] [--keep]
 * SIGKILLs a live server (W processes, default 2: every other round one worker
 * first, then the whole server) N times under SMTP + submission + IMAP load and
 * checks the store after each kill (see crash-lib.ts). Exit 1 on any problem.
 */
import { runCrash } from "./crash-lib.ts";

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : dflt;
}
const kills = Number(arg("--kills", "25"));
const workers = Number(arg("--workers", "2"));
console.log(`crash: ${kills} SIGKILLs under load, ${workers} server processes (started ${new Date().toISOString()})`);
const f = await runCrash({
  kills,
  workers,
  minRunMs: Number(arg("--min-ms", "500")),
  maxRunMs: Number(arg("--max-ms", "5000")),
  keepDataDir: process.argv.includes("--keep"),
  log: (s) => console.log(s),
});
const { problems, ...figures } = f;
console.log("\nfigures:");
for (const [k, v] of Object.entries(figures)) console.log(`  ${k}: ${v}`);
console.log(problems.length ? `FAIL: ${problems.length} problems\n  ${problems.join("\n  ")}` : `OK: ${f.kills} kills of the whole server and ${f.workerKills} of single workers survived, ${f.deliveriesChecked} acknowledged deliveries checked after the kills, 0 lost`);
process.exit(problems.length ? 1 : 0);
