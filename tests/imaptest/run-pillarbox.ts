/**
 * Runs imaptest scripts against an in-process Pillarbox (same environment as
 * the CI test) and prints failures in imaptest's words, the three figures,
 * and with -v the protocol trace. For working on protocols/imap:
 *
 *   bun tests/imaptest/run-pillarbox.ts [-v] [--report FILE.md] [script ...]
 */
import { writeFileSync } from "node:fs";
import { startPillarboxEnv } from "./pillarbox-env.ts";
import { runScriptOnPillarbox } from "./pillarbox-env.ts";
import { defaultScriptsDir, formatFailures, formatSummary, summarize, type ScriptResult } from "./runner.ts";
import { listScripts } from "./script.ts";

const argv = process.argv.slice(2);
const verbose = argv.includes("-v") || argv.includes("--verbose");
const ri = argv.indexOf("--report");
const report = ri >= 0 ? argv[ri + 1] : undefined;
const names = argv.filter((a, i) => !a.startsWith("-") && !(ri >= 0 && i === ri + 1));
const dir = defaultScriptsDir();
const env = await startPillarboxEnv(verbose ? (l) => console.error(l) : undefined);
const results: ScriptResult[] = [];
try {
  for (const name of names.length > 0 ? names : listScripts(dir)) {
    const r = await runScriptOnPillarbox(env, dir, name);
    results.push(r);
    if (r.failures.length > 0) console.log(formatFailures(r) + "\n");
    if (r.status === "skipped") console.log(`skipped ${r.name}: ${r.skipReason}`);
  }
} finally {
  await env.close();
}
const s = summarize(results);
console.log(formatSummary(s));
if (report) {
  const lines = ["# imaptest scripts against Pillarbox", "", "```", formatSummary(s), "```", ""];
  for (const r of results) if (r.failures.length > 0) lines.push(`## ${r.name}`, "", "```", formatFailures(r), "```", "");
  writeFileSync(report, lines.join("\n"));
}
process.exit(s.groupsFailed === 0 ? 0 : 1);
