/**
 * scripts/torture/soak [--minutes N] [--workers W] [--smtp-rate R] [--pop3-rate R] [--imap-clients N] [--mailbox-cap N] [--heap] [--no-imaptest]
 * Steady mixed load for N minutes (default 30); prints throughput, errors,
 * p50/p99 latency per operation and RSS every 10 s (flat = no leak).
 */
import { runSoak } from "./soak-lib.ts";

function arg(name: string, d: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : d;
}
const minutes = Number(arg("--minutes", "30"));
console.log(`soak: ${minutes} min from ${new Date().toISOString()}`);
const r = await runSoak({
  seconds: Math.round(minutes * 60),
  workers: Number(arg("--workers", "2")),
  smtpRate: Number(arg("--smtp-rate", "10")),
  pop3Rate: Number(arg("--pop3-rate", "3")),
  imapClients: Number(arg("--imap-clients", "3")),
  useImaptest: !process.argv.includes("--no-imaptest"),
  mailboxCap: Number(arg("--mailbox-cap", "40")),
  heapSamples: process.argv.includes("--heap"),
  log: (s) => console.log(s),
});
console.log(`\n| Operation | Count | Per second | Errors | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|`);
for (const [op, s] of Object.entries(r.ops).sort()) console.log(`| ${op} | ${s.count} | ${(s.count / r.seconds).toFixed(1)} | ${s.errors} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.max.toFixed(1)} |`);
console.log(`\nimaptest: ${r.imaptest.ran ? `${r.imaptest.commandsPerSec ?? "?"} commands/s, ${r.imaptest.errors} "Error:" lines ${r.imaptest.note}` : r.imaptest.note}`);
console.log(`RSS: start (after 10 s) ${(r.rssStartKb / 1024).toFixed(1)} MB, end ${(r.rssEndKb / 1024).toFixed(1)} MB, max ${(r.rssMaxKb / 1024).toFixed(1)} MB; fds ${r.fdStart} -> ${r.fdEnd}`);
console.log(`RSS trend: mean of the middle third ${(r.rssMeanMidKb / 1024).toFixed(1)} MB, last third ${(r.rssMeanLastKb / 1024).toFixed(1)} MB; slope over the second half ${r.rssSlopeMbPerHour.toFixed(1)} MB/hour`);
if (r.heap.length) {
  const live = (x: (typeof r.heap)[number]) => (x.heapKb + x.externalKb) / 1024;
  const third = (a: number, b: number) => {
    const xs = r.heap.filter((x) => x.t >= (a * r.seconds) / 3 && x.t < (b * r.seconds) / 3);
    return xs.length ? xs.reduce((s, x) => s + live(x), 0) / xs.length : 0;
  };
  console.log(`live memory after full GC (JS heap + ArrayBuffers): first ${live(r.heap[0]!).toFixed(1)} MB, max ${Math.max(...r.heap.map(live)).toFixed(1)} MB, last ${live(r.heap[r.heap.length - 1]!).toFixed(1)} MB; means by third ${third(0, 1).toFixed(1)} / ${third(1, 2).toFixed(1)} / ${third(2, 3.1).toFixed(1)} MB`);
  console.log(`heap samples (s:MB): ${r.heap.map((x) => `${x.t}:${live(x).toFixed(0)}`).join(" ")}`);
}
console.log(`mailboxes: ${r.messagesEnd} messages at the end (soak accounts trimmed to ${r.mailboxCap} each)`);
console.log(`RSS samples (s:MB): ${r.rssKb.map((x) => `${x.t}:${(x.kb / 1024).toFixed(0)}`).join(" ")}`);
const errors = Object.values(r.ops).reduce((a, s) => a + s.errors, 0);
if (r.errorSamples.length) console.log(`error samples:\n  ${r.errorSamples.join("\n  ")}`);
console.log(errors || !r.serverAlive ? `FAIL: ${errors} errors, server alive: ${r.serverAlive}` : `OK: ${r.seconds} s, 0 errors`);
process.exit(errors || !r.serverAlive ? 1 : 0);
