/** scripts/torture/abuse: runs every abuse case against a real server and prints the table. */
import { runAbuse } from "./abuse-lib.ts";

console.log(`abuse: ${new Date().toISOString()}`);
const cases = await runAbuse({ log: (s) => console.log(s) });
const groups = [...new Set(cases.map((c) => c.group))];
console.log("\n| Group | Cases | Held | Failed |\n|---|---|---|---|");
for (const g of groups) {
  const cs = cases.filter((c) => c.group === g);
  console.log(`| ${g} | ${cs.length} | ${cs.filter((c) => c.ok).length} | ${cs.filter((c) => !c.ok).length} |`);
}
const bad = cases.filter((c) => !c.ok);
console.log(bad.length ? `FAIL: ${bad.length} of ${cases.length} cases\n  ${bad.map((c) => `[${c.group}] ${c.name}: ${c.detail}`).join("\n  ")}` : `OK: ${cases.length} cases, all held`);
process.exit(bad.length ? 1 : 0);
