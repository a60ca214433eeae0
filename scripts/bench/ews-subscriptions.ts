/**
 * What an open EWS streaming subscription costs the server (issue 20,
 * done-when 2: under 50 KB each with 1,000 open). A Pillarbox with only
 * HTTPS runs in a child process with as many accounts as the per-account
 * limits (20 subscriptions, 10 streaming connections) need; this process then
 *   1. makes S streaming subscriptions (Subscribe over HTTPS),
 *   2. opens C GetStreamingEvents connections, each reading S/C of them
 *      (ConnectionTimeout 30 minutes), and waits for each one's first envelope,
 *   3. appends one message to every account's inbox and waits until every
 *      connection has carried its events (the subscriptions are live),
 * reading the child's settled RSS (full collections until it stops moving)
 * and heap after a warm-up and after each step. Per subscription = the
 * difference divided by S (step 3 includes the connections' TLS state).
 *
 *   bun scripts/bench/ews-subscriptions.ts [--subscriptions 1000] [--connections 100]
 *   bun scripts/bench/ews-subscriptions.ts --subscriptions 1000 --connections 1000
 *
 * Benchmark tooling: the child uses Bun's gc when run on Bun. Prints a
 * Markdown table and one JSON line (for scripts/bench/ews).
 */
import { spawn } from "node:child_process";
import https from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

const opt = (name: string, d: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : d;
};

const PER_ACCOUNT = 20;
const CONNECTIONS_PER_ACCOUNT = 10;
const PASS = "bench-password-1";
const NS = 'xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="http://schemas.microsoft.com/exchange/services/2006/types" xmlns:m="http://schemas.microsoft.com/exchange/services/2006/messages"';

// ------------------------------------------------------------------ the server (child)

async function serve(dataDir: string, accounts: number): Promise<void> {
  const { defaultConfig } = await import("../../src/config.ts");
  const { LISTENER_DEFAULTS } = await import("../../src/registry.ts");
  const { startServer } = await import("../../src/server.ts");
  const { createLogger } = await import("../../src/log.ts");
  await import("../../protocols/http/index.ts");
  await import("../../protocols/http/ews/index.ts");
  const { registryStats } = await import("../../protocols/http/ews/notifications-registry.ts");
  const config = defaultConfig();
  config.dataDir = dataDir;
  config.databaseUrl = `file:${join(dataDir, "pillarbox.db")}`;
  config.hostname = "bench.pillarbox.test";
  for (const name of Object.keys(LISTENER_DEFAULTS) as (keyof typeof LISTENER_DEFAULTS)[]) config.listeners[name] = null;
  config.listeners.HTTPS = { host: "127.0.0.1", port: 0 };
  config.limits.authFailuresPerIp = 1_000_000;
  // every client connection comes from 127.0.0.1
  config.limits.maxConnectionsPerIp = 100_000;
  config.limits.maxConnections = 100_000;
  config.limits.connections.http = 100_000;
  config.log.level = "warn";
  const server = await startServer(config, { log: createLogger("warn"), tlsWatchIntervalMs: 0 });
  const store = server.store;
  if (!(await store.getDomain("bench.test"))) await store.addDomain("bench.test");
  const ids: number[] = [];
  for (let i = 0; i < accounts; i++) {
    const email = `sub${i}@bench.test`;
    ids.push(((await store.getAccount(email)) ?? (await store.addAccount(email, PASS))).id);
  }
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void; shrink?(): void } };
  const settled = async (): Promise<{ rss: number; heap: number }> => {
    let last = -1;
    for (let i = 0; i < 20; i++) {
      if (g.gc) g.gc();
      else {
        g.Bun?.gc(true);
        g.Bun?.shrink?.();
      }
      await new Promise((r) => setTimeout(r, 250));
      const rss = process.memoryUsage().rss;
      if (last >= 0 && Math.abs(rss - last) < 256 * 1024) break;
      last = rss;
    }
    const m = process.memoryUsage();
    return { rss: m.rss, heap: m.heapUsed };
  };
  process.stdout.write(`READY ${server.addresses.HTTPS!.port}\n`);
  const raw = new TextEncoder().encode("From: a@example.org\r\nTo: b@bench.test\r\nSubject: ping\r\n\r\nhello\r\n");
  for await (const line of createInterface({ input: process.stdin })) {
    const cmd = line.trim();
    if (cmd === "MEM") {
      const m = await settled();
      process.stdout.write(`MEM ${m.rss} ${m.heap} ${registryStats().subscriptions}\n`);
    } else if (cmd === "TOUCH") {
      // One delivery to every account (a NewMailEvent for each of its subscriptions).
      await store.deliver(raw, ids.map((accountId) => ({ accountId })));
      process.stdout.write("TOUCHED\n");
    } else if (cmd === "QUIT") break;
  }
  await server.close();
  process.exit(0);
}

// ------------------------------------------------------------------ the client (this process)

function post(port: number, user: string, body: string, onData?: (chunk: string) => void): Promise<{ status: number; text: string; req: ReturnType<typeof https.request> }> {
  return new Promise((resolve, reject) => {
    const doc = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope ${NS}><soap:Header><t:RequestServerVersion Version="Exchange2016"/></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`;
    const req = https.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/EWS/Exchange.asmx",
        rejectUnauthorized: false,
        agent: onData ? false : agent,
        headers: { authorization: "Basic " + Buffer.from(`${user}:${PASS}`).toString("base64"), "content-type": "text/xml; charset=utf-8", "content-length": String(Buffer.byteLength(doc)) },
      },
      (res) => {
        res.setEncoding("utf8");
        if (onData) {
          res.on("data", onData);
          resolve({ status: res.statusCode ?? 0, text: "", req });
          return;
        }
        let text = "";
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, req }));
      },
    );
    req.on("error", reject);
    req.end(doc);
  });
}

const agent = new https.Agent({ keepAlive: true, maxSockets: 8, rejectUnauthorized: false });

async function main(): Promise<void> {
  const subsWanted = Number(opt("subscriptions", "1000"));
  const conns = Number(opt("connections", "100"));
  if (subsWanted % conns !== 0) throw new Error("--subscriptions must be a multiple of --connections");
  const perConn = subsWanted / conns;
  if (PER_ACCOUNT % perConn !== 0) throw new Error(`subscriptions per connection (${perConn}) must divide ${PER_ACCOUNT}`);
  // Per account: at most 20 subscriptions and 10 streaming connections (the server's limits).
  const perAccount = Math.min(PER_ACCOUNT, CONNECTIONS_PER_ACCOUNT * perConn);
  const accounts = Math.ceil(subsWanted / perAccount);
  const dataDir = mkdtempSync(join(tmpdir(), "pb-ews-subs-"));
  const child = spawn(process.execPath, [import.meta.filename ?? new URL(import.meta.url).pathname, "--serve", dataDir, String(accounts + 1)], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((l: string) => void)[] = [];
  lines.on("line", (l) => waiting.shift()?.(l));
  const ask = (cmd: string | null): Promise<string> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      if (cmd) child.stdin!.write(cmd + "\n");
    });
  const ready = await ask(null);
  const port = Number(ready.split(" ")[1]);
  const mem = async () => {
    const [, rss, heap, subs] = (await ask("MEM")).split(" ").map(Number);
    return { rss: rss!, heap: heap!, subs: subs! };
  };

  const subscribe = async (user: string): Promise<string> => {
    const r = await post(port, user, `<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId Id="inbox"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent</t:EventType><t:EventType>CreatedEvent</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>`);
    const id = /<m:SubscriptionId>([^<]+)</.exec(r.text)?.[1];
    if (!id) throw new Error(`Subscribe failed: ${r.status} ${r.text.slice(0, 300)}`);
    return id;
  };
  const open = async (user: string, ids: string[], seen: { envelopes: number; events: number }) =>
    post(port, user, `<m:GetStreamingEvents><m:SubscriptionIds>${ids.map((id) => `<t:SubscriptionId>${id}</t:SubscriptionId>`).join("")}</m:SubscriptionIds><m:ConnectionTimeout>30</m:ConnectionTimeout></m:GetStreamingEvents>`, (d) => {
      if (d.includes('ResponseClass="Error"')) throw new Error(`GetStreamingEvents refused: ${d.slice(0, 400)}`);
      seen.envelopes += d.split("</s:Envelope>").length - 1;
      seen.events += d.split("<t:NewMailEvent>").length - 1;
    });
  const waitUntil = async (ok: () => boolean, what: string) => {
    const until = Date.now() + 120_000;
    while (!ok()) {
      if (Date.now() > until) throw new Error(`timed out: ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  // Warm-up: the code paths once (the spare account), then closed.
  const warmId = await subscribe(`sub${accounts}@bench.test`);
  const warmSeen = { envelopes: 0, events: 0 };
  const warm = await open(`sub${accounts}@bench.test`, [warmId], warmSeen);
  await waitUntil(() => warmSeen.envelopes > 0, "warm-up stream");
  warm.req.destroy();
  await post(port, `sub${accounts}@bench.test`, `<m:Unsubscribe><m:SubscriptionId>${warmId}</m:SubscriptionId></m:Unsubscribe>`);
  const m0 = await mem();

  const t0 = performance.now();
  const byAccount: string[][] = [];
  for (let a = 0; a < accounts; a++) {
    const ids: string[] = [];
    const n = Math.min(perAccount, subsWanted - a * perAccount);
    for (let k = 0; k < n; k++) ids.push(await subscribe(`sub${a}@bench.test`));
    byAccount.push(ids);
  }
  const subscribeMs = performance.now() - t0;
  const m1 = await mem();

  const seen: { envelopes: number; events: number }[] = [];
  const reqs: ReturnType<typeof https.request>[] = [];
  for (let a = 0; a < accounts; a++) {
    const ids = byAccount[a]!;
    for (let i = 0; i < ids.length; i += perConn) {
      const s = { envelopes: 0, events: 0 };
      seen.push(s);
      reqs.push((await open(`sub${a}@bench.test`, ids.slice(i, i + perConn), s)).req);
    }
  }
  await waitUntil(() => seen.every((s) => s.envelopes > 0), "every connection's first envelope");
  const m2 = await mem();

  const t1 = performance.now();
  await ask("TOUCH");
  await waitUntil(() => seen.every((s) => s.events >= perConn), "every subscription's NewMailEvent");
  const fanoutMs = performance.now() - t1;
  const m3 = await mem();

  for (const r of reqs) r.destroy();
  child.stdin!.write("QUIT\n");
  await new Promise((r) => child.once("exit", r));
  rmSync(dataDir, { recursive: true, force: true });
  agent.destroy();

  const kb = (b: number) => (b / 1024).toFixed(1);
  const S = subsWanted;
  console.log(`\nEWS streaming subscriptions: ${S} subscriptions on ${conns} connections (${perConn} each), ${accounts} accounts\n`);
  console.log("| step | RSS delta | per subscription | heap delta | per subscription |");
  console.log("|---|---:|---:|---:|---:|");
  console.log(`| subscribed (no connection) | ${kb(m1.rss - m0.rss)} KB | ${kb((m1.rss - m0.rss) / S)} KB | ${kb(m1.heap - m0.heap)} KB | ${kb((m1.heap - m0.heap) / S)} KB |`);
  console.log(`| + ${conns} streaming connections open | ${kb(m2.rss - m0.rss)} KB | ${kb((m2.rss - m0.rss) / S)} KB | ${kb(m2.heap - m0.heap)} KB | ${kb((m2.heap - m0.heap) / S)} KB |`);
  console.log(`| + one message delivered to each account | ${kb(m3.rss - m0.rss)} KB | ${kb((m3.rss - m0.rss) / S)} KB | ${kb(m3.heap - m0.heap)} KB | ${kb((m3.heap - m0.heap) / S)} KB |`);
  console.log(`\nSubscribe x${S}: ${subscribeMs.toFixed(0)} ms; one new message in each of ${accounts} inboxes reached all ${S} subscriptions in ${fanoutMs.toFixed(0)} ms (server subscriptions: ${m3.subs})`);
  console.log(
    JSON.stringify({ bench: "ews-subscriptions", subscriptions: S, connections: conns, perSubscriptionRssBytes: Math.round((m3.rss - m0.rss) / S), perSubscriptionHeapBytes: Math.round((m3.heap - m0.heap) / S), subscribeMs: Math.round(subscribeMs), fanoutMs: Math.round(fanoutMs) }),
  );
}

if (process.argv[2] === "--serve") await serve(process.argv[3]!, Number(process.argv[4]));
else await main();
