/**
 * What the ActiveSync benchmarks share (scripts/bench/eas-bench.ts for mail,
 * scripts/bench/eas-groupware-bench.ts for calendars and contacts): the
 * server process (scripts/bench/eas-server.ts, its READY line, its stdin
 * commands, its RSS read from /proc) and a lean WBXML-over-HTTPS client
 * (Provision, FolderSync, windowed Sync, Ping).
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { decode, encode } from "../../protocols/http/eas/wbxml/codec.ts";
import { el, kid, kids, kidText, type WElement } from "../../protocols/http/eas/wbxml/tree.ts";

export const ROOT = resolve(import.meta.dir ?? new URL(".", import.meta.url).pathname, "../..");
export const PASS = "bench-password-1";

export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
export const log = (s: string) => process.stderr.write(s + "\n");
export const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
export const pct = (a: number[], p: number) => [...a].sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor((a.length * p) / 100))]!;
export const mib = (b: number) => (b / 1048576).toFixed(1);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The benchmark server in its own process, so its RSS is its own. */
export class BenchServer {
  readonly port: number;
  readonly pid: number;
  private waiting: ((l: string) => void)[] = [];

  private constructor(
    private proc: ChildProcess,
    ready: string,
    lines: ReturnType<typeof createInterface>,
  ) {
    const [, portS, pidS] = ready.split(" ");
    this.port = Number(portS);
    this.pid = Number(pidS);
    lines.on("line", (l) => this.waiting.shift()?.(l));
  }

  /** Starts scripts/bench/eas-server.ts with `args` and waits for its READY line. */
  static async start(args: string[]): Promise<BenchServer> {
    const proc = spawn(process.execPath, [join(ROOT, "scripts/bench/eas-server.ts"), ...args], { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
    const lines = createInterface({ input: proc.stdout! });
    const ready = await new Promise<string>((r, j) => {
      lines.once("line", r);
      proc.once("exit", (code) => j(new Error(`server exited with ${code} before it was ready`)));
    });
    if (!ready.startsWith("READY ")) throw new Error(`server did not start: ${ready}`);
    return new BenchServer(proc, ready, lines);
  }

  /** Sends one stdin command and returns its answer line. */
  ask(line: string): Promise<string> {
    const p = new Promise<string>((r) => this.waiting.push(r));
    this.proc.stdin!.write(line + "\n");
    return p;
  }

  rss(): number {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${this.pid}/status`, "utf8"));
    return Number(m![1]) * 1024;
  }

  async quit(): Promise<void> {
    this.proc.stdin!.write("QUIT\n");
    await new Promise((r) => this.proc.once("exit", r));
  }
}

export interface Device {
  user: string;
  id: string;
  key: string | null;
  /** FolderSync's folders: ServerId by MS-ASCMD type (2 Inbox, 8 Calendar, 9 Contacts, ...). */
  folders: Map<number, string>;
  syncKeys: Map<string, string>;
}

export interface SyncRound {
  status: string | undefined;
  adds: number;
  more: boolean;
  bytes: number;
}

/** A lean ActiveSync client: one keep-alive agent (replace it to give each later request a new connection). */
export class BenchClient {
  agent: http.Agent;

  /** `plain`: HTTP instead of HTTPS (a server started with --plain), to tell the TLS layer's share of a figure. */
  constructor(
    readonly port: number,
    readonly version = "14.1",
    readonly plain = false,
  ) {
    this.agent = this.makeAgent();
  }

  private makeAgent(): http.Agent {
    return this.plain ? new http.Agent({ keepAlive: true, maxSockets: Infinity }) : new https.Agent({ rejectUnauthorized: false, keepAlive: true, maxSockets: Infinity });
  }

  newAgent(): void {
    this.agent.destroy();
    this.agent = this.makeAgent();
  }

  post(user: string, deviceId: string, cmd: string, doc: WElement | null, policyKey: string | null, signal?: AbortSignal): Promise<{ status: number; doc: WElement | null; bytes: number }> {
    const body = doc ? Buffer.from(encode(doc)) : Buffer.alloc(0);
    const q = new URLSearchParams({ Cmd: cmd, User: user, DeviceId: deviceId, DeviceType: "BenchPhone" });
    const headers: Record<string, string> = {
      authorization: "Basic " + Buffer.from(`${user}:${PASS}`).toString("base64"),
      "ms-asprotocolversion": this.version,
      "content-type": "application/vnd.ms-sync.wbxml",
      "content-length": String(body.length),
    };
    if (policyKey) headers["x-ms-policykey"] = policyKey;
    return new Promise((resolve, reject) => {
      const req = (this.plain ? http : https).request({ host: "127.0.0.1", port: this.port, method: "POST", path: `/Microsoft-Server-ActiveSync?${q}`, headers, agent: this.agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const b = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, doc: b.length ? decode(new Uint8Array(b)).root : null, bytes: b.length });
        });
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  /** Provision (both steps) and FolderSync 0. */
  async setupDevice(user: string, id: string): Promise<Device> {
    const policy = (extra: WElement[]) => el("Provision:Policies", el("Provision:Policy", el("Provision:PolicyType", "MS-EAS-Provisioning-WBXML"), extra));
    const p1 = await this.post(user, id, "Provision", el("Provision:Provision", policy([])), null);
    const temp = kidText(kid(kid(p1.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:PolicyKey")!;
    const p2 = await this.post(user, id, "Provision", el("Provision:Provision", policy([el("Provision:PolicyKey", temp), el("Provision:Status", "1")])), "0");
    const key = kidText(kid(kid(p2.doc!, "Provision:Policies"), "Provision:Policy"), "Provision:PolicyKey")!;
    const fs = await this.post(user, id, "FolderSync", el("FolderHierarchy:FolderSync", el("FolderHierarchy:SyncKey", "0")), key);
    const folders = new Map<number, string>();
    for (const a of kids(kid(fs.doc!, "FolderHierarchy:Changes"), "FolderHierarchy:Add")) {
      const type = Number(kidText(a, "FolderHierarchy:Type"));
      if (!folders.has(type)) folders.set(type, kidText(a, "FolderHierarchy:ServerId")!);
    }
    return { user, id, key, folders, syncKeys: new Map() };
  }

  /**
   * One Sync of one collection (SyncKey 0 first, then GetChanges in windows).
   * `options` are the collection's Options children (FilterType, BodyPreference).
   */
  async syncOnce(d: Device, collectionId: string, windowSize: number, options: WElement[]): Promise<SyncRound> {
    const syncKey = d.syncKeys.get(collectionId) ?? "0";
    const coll = el(
      "AirSync:Collection",
      el("AirSync:SyncKey", syncKey),
      el("AirSync:CollectionId", collectionId),
      syncKey !== "0" && el("AirSync:GetChanges"),
      el("AirSync:WindowSize", windowSize),
      el("AirSync:Options", options),
    );
    const r = await this.post(d.user, d.id, "Sync", el("AirSync:Sync", el("AirSync:Collections", coll)), d.key);
    const c = kid(kid(r.doc!, "AirSync:Collections"), "AirSync:Collection");
    const status = kidText(c, "AirSync:Status");
    if (status === "1") d.syncKeys.set(collectionId, kidText(c, "AirSync:SyncKey")!);
    return { status, adds: kids(kid(c, "AirSync:Commands"), "AirSync:Add").length, more: kid(c, "AirSync:MoreAvailable") !== undefined, bytes: r.bytes };
  }

  /** A first sync: SyncKey 0, then windows until MoreAvailable ends; the time of each window. */
  async firstSync(d: Device, collectionId: string, windowSize: number, options: WElement[]): Promise<{ seconds: number; items: number; bytes: number; windowMs: number[] }> {
    const start = performance.now();
    const first = await this.syncOnce(d, collectionId, windowSize, options);
    if (first.status !== "1") throw new Error(`Sync SyncKey 0 answered status ${first.status}`);
    const windowMs: number[] = [];
    let items = 0;
    let bytes = 0;
    let s: SyncRound;
    do {
      const t = performance.now();
      s = await this.syncOnce(d, collectionId, windowSize, options);
      windowMs.push(performance.now() - t);
      if (s.status !== "1") throw new Error(`Sync answered status ${s.status}`);
      items += s.adds;
      bytes += s.bytes;
    } while (s.more && windowMs.length < 100_000);
    return { seconds: (performance.now() - start) / 1000, items, bytes, windowMs };
  }

  destroy(): void {
    this.agent.destroy();
  }
}

/** Runs `fn` over `items` with `n` at a time. */
export async function pool<T>(items: T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let i = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (i < items.length) await fn(items[i++]!);
    }),
  );
}
