/**
 * Creates bench accounts directly in a Pillarbox data dir (faster than one
 * `pillarbox user add` process per account): the domain, then every user
 * with the same password. Safe to run again (existing accounts are kept).
 *
 *   bun scripts/bench/lib/pillarbox-users.ts --data-dir DIR --pass P user@dom [user2@dom ...]
 *   bun scripts/bench/lib/pillarbox-users.ts --data-dir DIR --pass P --template 'test%d@bench.test' --count 100
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { openStore } from "../../../storage/store.ts";
import { passwordHasher } from "../../../src/auth.ts";

const argv = process.argv.slice(2);
const users: string[] = [];
let dataDir = "";
let pass = "";
let template = "";
let count = 0;
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--data-dir") dataDir = resolve(argv[++i]);
  else if (a === "--pass") pass = argv[++i];
  else if (a === "--template") template = argv[++i];
  else if (a === "--count") count = Number(argv[++i]);
  else users.push(a);
}
if (template) for (let n = 1; n <= count; n++) users.push(template.replace("%d", String(n)));
if (!dataDir || !pass || users.length === 0) {
  console.error("usage: pillarbox-users.ts --data-dir DIR --pass P (USER... | --template 'u%d@dom' --count N)");
  process.exit(2);
}
mkdirSync(dataDir, { recursive: true, mode: 0o700 });
const store = await openStore({ hasher: passwordHasher, url: `file:${join(dataDir, "pillarbox.db")}`, dataDir });
for (const email of users) {
  const domain = email.slice(email.lastIndexOf("@") + 1).toLowerCase();
  if (!(await store.getDomain(domain))) await store.addDomain(domain);
  if (!(await store.getAccount(email))) await store.addAccount(email, pass);
}
await store.close();
console.error(`pillarbox: ${users.length} accounts ready in ${dataDir}`);
