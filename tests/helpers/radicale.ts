/**
 * Debian's Radicale (3.1.x) as a peer CalDAV/CardDAV server for the
 * real-client scenarios (tests/dav/clients): the same client steps run
 * against Radicale and against Pillarbox, so each expected outcome is also
 * checked against a server nobody here wrote.
 *
 *   const rad = await startRadicale();            // users alice, bob (password "secret")
 *   ... rad.url ("https://localhost:PORT/"), rad.caFile ...
 *   await rad.close();                            // kills it, removes its temp dir
 *
 * Radicale serves HTTPS with a fresh self-signed certificate for "localhost"
 * (made by Pillarbox's own certificate builder), so the client configuration
 * (TLS verification against a CA file, cadaver's certificate prompt) is the
 * same for both servers. Auth is htpasswd "plain"; rights "owner_only".
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSelfSignedCertificate } from "../../src/x509.ts";
import { spawnBackground, type Background } from "./proc.ts";

export interface RadicaleServer {
  /** Base URL, with the trailing slash ("https://localhost:PORT/"). */
  url: string;
  port: number;
  /** The self-signed certificate (PEM file) clients should trust. */
  caFile: string;
  /** user -> password */
  users: Record<string, string>;
  /** The storage root (collection-root/<user>/<collection>/...). */
  storageDir: string;
  dir: string;
  proc: Background;
  close(): Promise<void>;
}

export interface RadicaleOptions {
  users?: Record<string, string>;
  /** Radicale log level (default "warning"; "debug" shows every request). */
  logLevel?: string;
  /** Plain HTTP instead of HTTPS. */
  plainHttp?: boolean;
}

/** The Python with Debian's packages (radicale, caldav): /usr/bin/python3 where it exists, so a pyenv on PATH does not hide them. */
export const DEBIAN_PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

/** True if Radicale can be started here. */
export function hasRadicale(): boolean {
  return spawnSync(DEBIAN_PYTHON, ["-c", "import radicale"], { stdio: "ignore" }).status === 0;
}

/** A TCP port that was free a moment ago (bind to 0, read, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function startRadicale(opts: RadicaleOptions = {}): Promise<RadicaleServer> {
  const users = opts.users ?? { alice: "secret", bob: "secret" };
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-radicale-"));
  const storageDir = join(dir, "collections");
  mkdirSync(storageDir);
  const htpasswd = join(dir, "users");
  writeFileSync(htpasswd, Object.entries(users).map(([u, p]) => `${u}:${p}\n`).join(""));
  const caFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const { certPem, keyPem } = createSelfSignedCertificate(["localhost"]);
  writeFileSync(caFile, certPem);
  writeFileSync(keyFile, keyPem, { mode: 0o600 });
  const scheme = opts.plainHttp ? "http" : "https";

  // A port can be taken between freePort() and Radicale's bind: retry a few times.
  let lastErr: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const config = join(dir, "config");
    writeFileSync(
      config,
      [
        "[server]",
        `hosts = 127.0.0.1:${port}`,
        `ssl = ${opts.plainHttp ? "False" : "True"}`,
        `certificate = ${caFile}`,
        `key = ${keyFile}`,
        "max_content_length = 10000000",
        "timeout = 30",
        "[encoding]",
        "request = utf-8",
        "stock = utf-8",
        "[auth]",
        "type = htpasswd",
        `htpasswd_filename = ${htpasswd}`,
        "htpasswd_encryption = plain",
        "delay = 0",
        "[rights]",
        "type = owner_only",
        "[storage]",
        `filesystem_folder = ${storageDir}`,
        "[web]",
        "type = none",
        "[logging]",
        `level = ${opts.logLevel ?? "warning"}`,
        "mask_passwords = True",
        "",
      ].join("\n"),
    );
    const proc = spawnBackground(DEBIAN_PYTHON, ["-m", "radicale", "--config", config], {
      cwd: dir,
      // Radicale must not read ~/.config/radicale or /etc/radicale/config on top of ours.
      env: { HOME: dir, XDG_CONFIG_HOME: join(dir, "xdg"), RADICALE_CONFIG: config, PYTHONDONTWRITEBYTECODE: "1" },
    });
    const url = `${scheme}://localhost:${port}/`;
    try {
      await waitReady(url, users, caFile, proc);
    } catch (e) {
      lastErr = e;
      proc.kill("SIGKILL");
      await proc.exited;
      continue;
    }
    return {
      url,
      port,
      caFile,
      users,
      storageDir: join(storageDir, "collection-root"),
      dir,
      proc,
      async close() {
        proc.kill("SIGTERM");
        const t = setTimeout(() => proc.kill("SIGKILL"), 3000);
        await proc.exited;
        clearTimeout(t);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`Radicale did not start: ${String(lastErr)}`);
}

/** Polls with an authenticated PROPFIND until Radicale answers 207 (or it exits / 15 s pass). */
async function waitReady(url: string, users: Record<string, string>, caFile: string, proc: Background): Promise<void> {
  const [user, pass] = Object.entries(users)[0]!;
  const deadline = Date.now() + 15_000;
  const ca = readFileSync(caFile, "utf8");
  let exited = false;
  void proc.exited.then(() => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error(`radicale exited: ${proc.stderr()}`);
    try {
      const status = await probe(url, user, pass, ca);
      if (status === 207) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`radicale not ready after 15 s: ${proc.stderr()}`);
}

/** One PROPFIND Depth 0; resolves with the status code. */
function probe(url: string, user: string, pass: string, ca: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith("https:") ? httpsRequest : httpRequest)(
      url,
      { method: "PROPFIND", headers: { Depth: "0", Authorization: "Basic " + Buffer.from(`${user}:${pass}`).toString("base64") }, ca, timeout: 2000 },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.end();
  });
}
