/**
 * scripts/torture/abuse: runs the abuse cases against a real server and prints the table.
 *
 *   scripts/torture/abuse                       every classic case and every resource attack (full sizes)
 *   scripts/torture/abuse --quick               smaller sizes (what tests/reliability/abuse.test.ts runs)
 *   scripts/torture/abuse --memory-only         only the resource attacks with memory figures
 *   scripts/torture/abuse --only=bare-lf,idle   only these resource attacks (implies --memory-only)
 *   scripts/torture/abuse --server-dir=DIR      serve from another checkout (figures before a fix)
 *   scripts/torture/abuse --scale=0.5           SMTP flood sizes times 0.5
 *
 * Resource attacks: bare-lf, dot-stuffed, bdat, compress, idle, events, caps, auth, search.
 */
import { runAbuse } from "./abuse-lib.ts";
import { ATTACKS } from "./abuse-memory.ts";

const args = new Map<string, string>();
for (const a of process.argv.slice(2)) {
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) {
    console.error(`unknown argument ${a}`);
    process.exit(2);
  }
  args.set(m[1]!, m[2] ?? "");
}
const known = new Set(["quick", "memory-only", "only", "server-dir", "scale"]);
for (const k of args.keys()) {
  if (!known.has(k)) {
    console.error(`unknown option --${k} (known: ${[...known].map((x) => "--" + x).join(", ")})`);
    process.exit(2);
  }
}
const only = args.get("only")?.split(",").filter(Boolean);
for (const a of only ?? []) {
  if (!(ATTACKS as readonly string[]).includes(a)) {
    console.error(`unknown attack ${a} (known: ${ATTACKS.join(", ")})`);
    process.exit(2);
  }
}

console.log(`abuse: ${new Date().toISOString()} ${process.argv.slice(2).join(" ")}`);
const memoryLines: string[] = [];
const cases = await runAbuse({
  log: (s) => console.log(s),
  quick: args.has("quick"),
  classic: !(args.has("memory-only") || only),
  only,
  serverDir: args.get("server-dir") || undefined,
  scale: args.has("scale") ? Number(args.get("scale")) : undefined,
  memoryLines,
});
const groups = [...new Set(cases.map((c) => c.group))];
console.log("\n| Group | Cases | Held | Failed |\n|---|---|---|---|");
for (const g of groups) {
  const cs = cases.filter((c) => c.group === g);
  console.log(`| ${g} | ${cs.length} | ${cs.filter((c) => c.ok).length} | ${cs.filter((c) => !c.ok).length} |`);
}
if (memoryLines.length) console.log("\n" + memoryLines.join("\n"));
const bad = cases.filter((c) => !c.ok);
console.log(bad.length ? `FAIL: ${bad.length} of ${cases.length} cases\n  ${bad.map((c) => `[${c.group}] ${c.name}: ${c.detail}`).join("\n  ")}` : `OK: ${cases.length} cases, all held`);
process.exit(bad.length ? 1 : 0);
