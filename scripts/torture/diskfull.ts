/** scripts/torture/diskfull: SMTP/IMAP behaviour on a full 16 MB tmpfs data dir, then recovery. */
import { runDiskFull } from "./diskfull-lib.ts";

console.log(`diskfull: ${new Date().toISOString()}`);
const r = await runDiskFull({ log: (s) => console.log(s) });
if (r.skipped) {
  console.log(`SKIPPED: ${r.skipped}`);
  process.exit(0);
}
const bad = r.cases.filter((c) => !c.ok);
console.log(bad.length ? `FAIL: ${bad.length} of ${r.cases.length} cases` : `OK: ${r.cases.length} disk-full cases passed`);
process.exit(bad.length ? 1 : 0);
