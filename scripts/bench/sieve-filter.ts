/**
 * What Sieve costs a local delivery (issue 19): the one pipeline's
 * deliverMessage on a temporary SQLite store, 2 KB messages to one account,
 * without the delivery filter, with it and no script, and with a two-rule
 * script; and the filter's plan() alone. Runs alternate so a loaded machine
 * skews both sides alike.
 *
 *   node_modules/.bin/bun scripts/bench/sieve-filter.ts [--count 400]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStorage } from "../../storage/open.ts";
import { passwordHasher } from "../../src/auth.ts";
import { createSieveFilter } from "../../src/delivery/sieve-filter.ts";
import { deliverMessage, resolveRecipients } from "../../src/delivery/pipeline.ts";
import { sieveEngine } from "../../src/sieve/index.ts";
import { createLogger } from "../../src/log.ts";
import { defaultConfig } from "../../src/config.ts";

const i = process.argv.indexOf("--count");
const N = i > 0 ? Number(process.argv[i + 1]) : 400;
const dir = mkdtempSync(join(tmpdir(), "pb-sieve-bench-"));
const st = await openStorage({ url: `file:${dir}/bench.db`, dataDir: dir, hasher: passwordHasher });
try {
  await st.mail.addDomain("bench.test");
  const account = await st.mail.addAccount("user@bench.test", "bench password 123456");
  const log = createLogger("error");
  const config = { ...defaultConfig(), dataDir: dir, hostname: "bench.test" };
  const filter = createSieveFilter({ store: st.mail, sieve: st.sieve, engine: sieveEngine, config, log });
  const body = "x".repeat(1900);
  const msg = (n: number) => new TextEncoder().encode(`From: z@sender.test\r\nTo: user@bench.test\r\nSubject: hello ${n}\r\nMessage-ID: <m${n}@sender.test>\r\n\r\n${body}\r\n`);
  const { recipients } = await resolveRecipients(st.mail, ["user@bench.test"]);
  let seq = 0;
  const deliver = async (withFilter: boolean): Promise<number> => {
    const t = performance.now();
    for (let k = 0; k < N; k++) await deliverMessage({ store: st.mail, log, filter: withFilter ? filter : null }, { raw: msg(seq++), envelopeFrom: "z@sender.test", recipients });
    return (performance.now() - t) / N;
  };
  const planOnly = async (): Promise<number> => {
    const t = performance.now();
    for (let k = 0; k < N; k++) await filter.plan({ raw: msg(seq++), envelopeFrom: "z@sender.test", recipients });
    return (performance.now() - t) / N;
  };
  const ms = (x: number) => x.toFixed(3) + " ms";
  await deliver(true); // warm up
  const rows: [string, number][] = [];
  for (let r = 0; r < 2; r++) {
    rows.push(["deliverMessage, no filter", await deliver(false)]);
    rows.push(["deliverMessage, filter, no script", await deliver(true)]);
  }
  rows.push(["plan() alone, no script", await planOnly()]);
  await st.sieve.putScript(
    account.id,
    "bench",
    'require ["fileinto", "mailbox"];\nif header :contains "subject" "invoice" { fileinto :create "Invoices"; }\nelsif address :domain "from" "spam.test" { discard; }\n',
    { maxScripts: 10, maxBytes: 65536 },
  );
  await st.sieve.setActive(account.id, "bench");
  for (let r = 0; r < 2; r++) {
    rows.push(["deliverMessage, no filter", await deliver(false)]);
    rows.push(["deliverMessage, filter, 2-rule script", await deliver(true)]);
  }
  rows.push(["plan() alone, 2-rule script", await planOnly()]);
  for (const [label, v] of rows) console.log(label.padEnd(42), ms(v), "per message");
} finally {
  await st.close();
  rmSync(dir, { recursive: true, force: true });
}
