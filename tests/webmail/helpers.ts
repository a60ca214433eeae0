/**
 * Shared helpers for the webmail tests: a server with HTTP/HTTPS/SMTP (and
 * IMAP when that protocol is built), Debian's Chromium through
 * playwright-core, an HTTPS client that keeps cookies, and real SMTP/IMAP
 * clients (python3 smtplib/imaplib).
 */
import https from "node:https";
import http from "node:http";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { startTestServer, createUser, type TestServer, type ListenerName } from "../helpers/server.ts";
import { protocolFor } from "../../src/registry.ts";
import type { DeepPartial } from "../../src/config.ts";
import type { Config } from "../../src/config-types.ts";

export const ALICE = { email: "alice@example.test", password: "alice password 123", name: "Alice Liddell" };
export const BOB = { email: "bob@example.test", password: "bob password 1234", name: "Bob Builder" };
export const CAROL = { email: "carol@example.test", password: "carol password 12", name: "Carol Danvers" };

export const imapBuilt = (): boolean => !!protocolFor("IMAP");

export async function startWebmailServer(config?: DeepPartial<Config>): Promise<TestServer & { base: string; httpBase: string }> {
  const listeners: ListenerName[] = ["HTTP", "HTTPS", "SMTP"];
  if (imapBuilt()) listeners.push("IMAP");
  const srv = await startTestServer({ listeners, config });
  for (const u of [ALICE, BOB, CAROL]) await createUser(srv.store, u.email, u.password, { displayName: u.name });
  const base = `https://127.0.0.1:${srv.port("HTTPS")}`;
  // The HTTP listener learns the HTTPS port (0 in tests) from the first HTTPS connection.
  await request("GET", base + "/login");
  return Object.assign(srv, { base, httpBase: `http://127.0.0.1:${srv.port("HTTP")}` });
}

export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Debian's Chromium with a fresh, empty profile directory. */
export async function launchBrowser(opts: { proxyPort?: number } = {}): Promise<{ browser: Browser; context: BrowserContext; page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), "pb-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    // With a proxy every non-loopback request is observable (loopback, the server, bypasses it).
    args: [...CHROMIUM_ARGS, ...(opts.proxyPort ? [`--proxy-server=http://127.0.0.1:${opts.proxyPort}`] : [])],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  return {
    browser: context.browser() as Browser,
    context,
    // A persistent context opens with one blank tab: use it.
    page: context.pages()[0] ?? (await context.newPage()),
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function login(page: Page, base: string, user: { email: string; password: string }): Promise<void> {
  await page.goto(base + "/");
  await page.fill('input[name="email"]', user.email);
  await page.fill('input[name="password"]', user.password);
  await Promise.all([page.waitForURL(base + "/"), page.click('button[type="submit"]')]);
  await page.waitForSelector("body[data-list-ready]", { state: "attached", timeout: 15_000 });
}

// ------------------------------------------------------------------ HTTP client

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export function request(method: string, url: string, opts: { headers?: Record<string, string>; body?: string | Buffer; localAddress?: string } = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const mod = u.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      { method, headers: { ...(opts.body !== undefined ? { "content-length": String(Buffer.byteLength(opts.body)) } : {}), ...opts.headers }, rejectUnauthorized: false, agent: false, localAddress: opts.localAddress },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            text: body.toString("utf8"),
            json: <T>() => JSON.parse(body.toString("utf8")) as T,
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A signed-in API client: keeps the session cookie and CSRF token, sends same-origin headers. */
export class ApiClient {
  cookie = "";
  csrf = "";
  lastLoginPage = "";
  /** Source address (127.0.0.x) to appear as a different client IP. */
  constructor(
    readonly base: string,
    readonly localAddress?: string,
  ) {}

  static async signIn(base: string, user: { email: string; password: string }): Promise<ApiClient> {
    const c = new ApiClient(base);
    const status = await c.login(user.email, user.password);
    if (status !== 303) throw new Error(`sign-in failed with ${status}`);
    return c;
  }

  /** Posts the login form like a browser would; returns the HTTP status. */
  async login(email: string, password: string): Promise<number> {
    const page = await request("GET", this.base + "/login", { localAddress: this.localAddress });
    const token = /name="csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
    const loginCookie = cookiesOf(page).join("; ");
    const res = await request("POST", this.base + "/login", {
      headers: { "content-type": "application/x-www-form-urlencoded", origin: this.base, cookie: loginCookie, "sec-fetch-site": "same-origin" },
      body: new URLSearchParams({ email, password, csrf: token }).toString(),
      localAddress: this.localAddress,
    });
    this.lastLoginPage = res.text;
    const session = cookiesOf(res).find((c) => c.startsWith("__Host-pb_session="));
    if (res.status === 303 && session) {
      this.cookie = session;
      const s = await this.get("/api/session");
      this.csrf = String(s.json().csrf);
    }
    return res.status;
  }

  get(path: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return request("GET", this.base + path, { headers: { cookie: this.cookie, ...headers } });
  }

  send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return request(method, this.base + path, {
      headers: { cookie: this.cookie, origin: this.base, "x-csrf-token": this.csrf, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  }

  async ok<T = Record<string, unknown>>(method: string, path: string, body?: unknown): Promise<T> {
    const res = method === "GET" ? await this.get(path) : await this.send(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path} -> ${res.status} ${res.text}`);
    return res.json<T>();
  }

  async upload(name: string, type: string, data: Uint8Array): Promise<HttpResponse> {
    const boundary = "----pbtest" + Math.random().toString(16).slice(2);
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: ${type}\r\n\r\n`);
    const body = Buffer.concat([head, Buffer.from(data), Buffer.from(`\r\n--${boundary}--\r\n`)]);
    return request("POST", this.base + "/api/uploads", {
      headers: { cookie: this.cookie, origin: this.base, "x-csrf-token": this.csrf, "content-type": `multipart/form-data; boundary=${boundary}` },
      body,
    });
  }
}

export function cookiesOf(res: HttpResponse): string[] {
  const set = res.headers["set-cookie"] ?? [];
  return set.map((c) => c.split(";")[0]!).filter((c) => !c.endsWith("="));
}

// ------------------------------------------------------------------ real mail clients

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // Async on purpose: the server runs in this process, a blocking exec would starve it.
    const child = execFile(cmd, args, { maxBuffer: 256 * 1024 * 1024, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** Sends a message with python's smtplib to the SMTP listener. */
export async function smtpSend(port: number, from: string, to: string[], raw: string): Promise<void> {
  const py = `import smtplib,sys
data=sys.stdin.buffer.read()
s=smtplib.SMTP('127.0.0.1', ${port}, timeout=30)
s.sendmail(${JSON.stringify(from)}, ${JSON.stringify(to)}, data)
s.quit()`;
  await run("python3", ["-c", py], raw);
}

/** Every message of a folder as raw bytes: over IMAP (python imaplib) when IMAP is built, else from the store. */
export async function mailboxMessages(srv: TestServer, user: { email: string; password: string }, folder: string): Promise<{ via: "imap" | "store"; messages: Buffer[] }> {
  if (imapBuilt()) {
    const py = `import imaplib,json,base64
m=imaplib.IMAP4('127.0.0.1', ${srv.port("IMAP")})
m.login(${JSON.stringify(user.email)}, ${JSON.stringify(user.password)})
typ,_=m.select(${JSON.stringify(JSON.stringify(folder))}, readonly=True)
out=[]
if typ=='OK':
  typ,data=m.uid('SEARCH', None, 'ALL')
  for uid in data[0].split():
    typ,d=m.uid('FETCH', uid, '(BODY.PEEK[])')
    out.append(base64.b64encode(d[0][1]).decode())
m.logout()
print(json.dumps(out))`;
    const out = JSON.parse(await run("python3", ["-c", py])) as string[];
    return { via: "imap", messages: out.map((b) => Buffer.from(b, "base64")) };
  }
  const acct = await srv.store.getAccount(user.email);
  const f = acct ? await srv.store.getFolder(acct.id, folder) : null;
  if (!f) return { via: "store", messages: [] };
  const list = await srv.store.listMessages(f.id);
  const rows = await srv.store.getMessages(f.id, list.map((m) => m.uid));
  const messages: Buffer[] = [];
  for (const r of rows) messages.push(Buffer.from(await srv.store.readMessage(r.id)));
  return { via: "store", messages };
}

export async function waitFor<T>(fn: () => Promise<T | null | undefined | false>, what: string, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
