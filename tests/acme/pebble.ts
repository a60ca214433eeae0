/**
 * Debian's pebble (Let's Encrypt's test CA) and its challenge test server as
 * the DNS that resolves every name to 127.0.0.1, for the ACME tests.
 *
 *   const ca = await startPebble({ httpPort, tlsPort });   // the ports pebble validates on
 *   ... PILLARBOX_ACME_DIRECTORY = ca.directoryUrl, acme.ca_file = ca.caFile ...
 *   const root = await ca.rootPem();                        // the root that signs issued chains
 *   await ca.close();
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function havePebble(): boolean {
  return spawnSync("sh", ["-c", "command -v pebble && command -v pebble-challtestsrv"]).status === 0;
}

/** A port free right now on 127.0.0.1 (the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Pebble {
  dir: string;
  directoryUrl: string;
  /** PEM trusted for pebble's own HTTPS (ACME directory, management API). */
  caFile: string;
  /** Root of the certificates pebble issues (fetched from its management API). */
  rootPem(): Promise<string>;
  /** Points a name at another address in the challenge server's DNS (null: back to 127.0.0.1). */
  setA(host: string, address: string | null): Promise<void>;
  close(): Promise<void>;
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    if (await fn().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`${what} did not come up`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function curl(args: string[]): { status: number | null; out: string } {
  const r = spawnSync("curl", ["-sS", "--max-time", "10", ...args], { encoding: "utf8" });
  return { status: r.status, out: r.stdout };
}

export async function startPebble(opts: { httpPort: number; tlsPort: number }): Promise<Pebble> {
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-pebble-"));
  const caFile = join(dir, "pebble-https.pem");
  const keyFile = join(dir, "pebble-https-key.pem");
  const gen = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyFile, "-out", caFile, "-days", "2", "-subj", "/CN=pebble test listener", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { encoding: "utf8" });
  if (gen.status !== 0) throw new Error(`openssl: ${gen.stderr}`);
  const [acmePort, mgmtPort, dnsPort, chMgmtPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(
    join(dir, "pebble.json"),
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: caFile,
        privateKey: keyFile,
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: "",
        externalAccountBindingRequired: false,
      },
    }),
  );
  const procs: ChildProcess[] = [];
  const logs: string[] = [];
  const run = (cmd: string, args: string[], env: Record<string, string> = {}) => {
    const p = spawn(cmd, args, { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    const keep = (b: Buffer) => {
      logs.push(b.toString());
      if (logs.length > 200) logs.shift();
    };
    p.stdout!.on("data", keep);
    p.stderr!.on("data", keep);
    procs.push(p);
    return p;
  };
  run("pebble-challtestsrv", ["-defaultIPv4", "127.0.0.1", "-defaultIPv6", "", "-dns01", `127.0.0.1:${dnsPort}`, "-http01", "", "-https01", "", "-tlsalpn01", "", "-management", `127.0.0.1:${chMgmtPort}`]);
  // No random nonce rejections or authorization reuse, no validation sleep: deterministic runs.
  run("pebble", ["-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`], { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0", PEBBLE_VA_ALWAYS_VALID: "0" });
  const directoryUrl = `https://127.0.0.1:${acmePort}/dir`;
  const close = async () => {
    for (const p of procs) if (p.exitCode === null) p.kill("SIGTERM");
    await Promise.all(procs.map((p) => (p.exitCode !== null ? null : new Promise((r) => p.once("exit", r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor("pebble", async () => curl(["--cacert", caFile, directoryUrl]).out.includes("newAccount"));
    await waitFor("pebble-challtestsrv", async () => curl(["-X", "POST", "-d", "{}", `http://127.0.0.1:${chMgmtPort}/clear-a`]).status === 0);
  } catch (e) {
    await close();
    throw new Error(`${(e as Error).message}: ${logs.join("").slice(-2000)}`);
  }
  return {
    dir,
    directoryUrl,
    caFile,
    async rootPem() {
      const r = curl(["--cacert", caFile, `https://127.0.0.1:${mgmtPort}/roots/0`]);
      if (!r.out.includes("BEGIN CERTIFICATE")) throw new Error(`pebble root: ${r.out}`);
      return r.out;
    },
    async setA(host, address) {
      const body = address ? JSON.stringify({ host, addresses: [address] }) : JSON.stringify({ host });
      const r = curl(["-X", "POST", "-d", body, `http://127.0.0.1:${chMgmtPort}/${address ? "add-a" : "clear-a"}`]);
      if (r.status !== 0) throw new Error(`challtestsrv ${address ? "add-a" : "clear-a"} failed`);
    },
    close,
  };
}
