/**
 * TLS for every listener: a self-signed certificate created on first start
 * (or configured PEM files), reloaded on SIGHUP and on file change without a
 * restart, and the STARTTLS upgrade used by SMTP/IMAP/POP3.
 *
 * Upgrades use one `tls.createServer(opts)` + `server.emit("connection", raw)`:
 * the one pattern that works on Bun, Deno and Node (see RUNTIME-FACTS.md).
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { X509Certificate, createPrivateKey } from "node:crypto";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import type { TlsProvider } from "./context.ts";
import type { Logger } from "./log.ts";
import { createSelfSignedCertificate } from "./x509.ts";
import { MAX_HELLO_RECORD, peekClientHello } from "./tls-hello.ts";

/** RFC 8737 §6.2: the ALPN protocol of a TLS-ALPN-01 validation. */
export const ACME_TLS_ALPN = "acme-tls/1";

/**
 * Mozilla "intermediate" profile: TLS 1.2+ with AEAD ECDHE suites only
 * (RFC 9325 §4.2 recommendations); TLS 1.3 suites are OpenSSL's defaults.
 */
export const TLS_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

const HANDSHAKE_TIMEOUT_MS = 30_000;
/** Renew the self-signed certificate this long before it expires. */
const RENEW_BEFORE_MS = 30 * 86_400_000;

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  selfSigned: boolean;
}

export interface TlsManager extends TlsProvider {
  /** PEM of the certificate currently served. */
  readonly certPem: string;
  /** The files served now (switched by useFiles, e.g. to the ACME certificate). */
  readonly files: TlsFiles;
  /**
   * Upgrades a socket. `acmeAlpn`: the socket is fresh from an implicit-TLS
   * listener (443) where a TLS-ALPN-01 validation may arrive (RFC 8737 §3).
   */
  upgrade(socket: Socket, opts?: { acmeAlpn?: boolean }): Promise<tls.TLSSocket>;
  /** Serves these files from now on (every listener, new handshakes); false when they are unusable (the old pair stays). */
  useFiles(f: { certFile: string; keyFile: string }): boolean;
  /**
   * A live config reload (SIGHUP, src/live-config.ts): the host name and the
   * [tls] files as the configuration now says. Files given: served from now on
   * (re-read when unchanged). None: a self-signed pair for the host name (made
   * anew when the name changed), unless another source (ACME) serves now.
   * Returns true when the served certificate changed.
   */
  reconfigure(next: { hostname: string; certFile: string | null; keyFile: string | null }): boolean;
  /** Adds (pair) or removes (null) the RFC 8737 validation certificate for one DNS name. */
  setAlpnChallenge(name: string, pair: { cert: string; key: string } | null): void;
  /** Options for a `tls.Server` (implicit TLS, HTTPS). */
  serverOptions(): tls.TlsOptions;
  /** A tls.Server that follows reloads; the caller listens on it or emits connections into it. */
  createServer(onSecure?: (s: tls.TLSSocket) => void): tls.Server;
  /** Re-reads the certificate files. Keeps the old certificate if the new one is unusable. Returns true on change. */
  reload(): boolean;
  /** Stops file watching. */
  close(): void;
}

/** Where the generated certificate lives inside the data dir. */
export function selfSignedPaths(dataDir: string): { dir: string; certFile: string; keyFile: string } {
  const dir = join(dataDir, "tls");
  return { dir, certFile: join(dir, "selfsigned-cert.pem"), keyFile: join(dir, "selfsigned-key.pem") };
}

/**
 * Makes sure a self-signed certificate for `hostname` exists (creating or
 * renewing it) and returns its paths. The key file is written 0600 and
 * renamed into place, so a crash never leaves a half-written key.
 */
export function ensureSelfSigned(dataDir: string, hostname: string, log?: Logger): { certFile: string; keyFile: string } {
  const p = selfSignedPaths(dataDir);
  mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  if (existsSync(p.certFile) && existsSync(p.keyFile)) {
    try {
      const x = new X509Certificate(readFileSync(p.certFile));
      const fresh = Date.parse(x.validTo) - Date.now() > RENEW_BEFORE_MS;
      if (fresh && x.checkHost(hostname)) return { certFile: p.certFile, keyFile: p.keyFile };
    } catch {
      // unreadable: replace below
    }
  }
  const names = [hostname];
  if (hostname !== "localhost") names.push("localhost");
  const { certPem, keyPem } = createSelfSignedCertificate(names);
  writeFileSync(p.keyFile + ".tmp", keyPem, { mode: 0o600 });
  chmodSync(p.keyFile + ".tmp", 0o600);
  renameSync(p.keyFile + ".tmp", p.keyFile);
  writeFileSync(p.certFile + ".tmp", certPem, { mode: 0o644 });
  renameSync(p.certFile + ".tmp", p.certFile);
  log?.info("created self-signed TLS certificate", { hostname, cert: p.certFile });
  return { certFile: p.certFile, keyFile: p.keyFile };
}

interface Loaded {
  cert: string;
  key: string;
  mtimes: string;
}

function loadFiles(f: { certFile: string; keyFile: string }): Loaded {
  const cert = readFileSync(f.certFile, "utf8");
  const key = readFileSync(f.keyFile, "utf8");
  // Validate before use: a broken pair must not replace a working one.
  new X509Certificate(cert);
  createPrivateKey(key);
  tls.createSecureContext({ cert, key });
  return { cert, key, mtimes: mtimeKey(f) };
}

function mtimeKey(f: { certFile: string; keyFile: string }): string {
  try {
    const a = statSync(f.certFile);
    const b = statSync(f.keyFile);
    return `${a.mtimeMs}:${a.size}:${a.ino}/${b.mtimeMs}:${b.size}:${b.ino}`;
  } catch {
    return "missing";
  }
}

export interface CreateTlsOptions {
  dataDir: string;
  hostname: string;
  certFile: string | null;
  keyFile: string | null;
  log: Logger;
  /** Poll interval for file changes (ms); 0 disables. */
  watchIntervalMs?: number;
}

export function createTlsManager(opts: CreateTlsOptions): TlsManager {
  const { log } = opts;
  let hostname = opts.hostname;
  /** The [tls] files the configuration names (null: none), as last applied. */
  let configured: { certFile: string; keyFile: string } | null = opts.certFile && opts.keyFile ? { certFile: opts.certFile, keyFile: opts.keyFile } : null;
  let files: TlsFiles =
    opts.certFile && opts.keyFile
      ? { certFile: opts.certFile, keyFile: opts.keyFile, selfSigned: false }
      : { ...ensureSelfSigned(opts.dataDir, opts.hostname, log), selfSigned: true };
  let current: Loaded;
  try {
    current = loadFiles(files);
  } catch (e) {
    throw new Error(`cannot load TLS certificate ${files.certFile} / key ${files.keyFile}: ${(e as Error).message}`);
  }
  const servers = new Set<tls.Server>();

  const serverOptions = (): tls.TlsOptions => ({
    cert: current.cert,
    key: current.key,
    minVersion: "TLSv1.2",
    ciphers: TLS_CIPHERS,
    honorCipherOrder: false,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });

  const reload = (): boolean => {
    let next: Loaded;
    try {
      next = loadFiles(files);
    } catch (e) {
      log.error("TLS reload failed; keeping the current certificate", { cert: files.certFile, error: (e as Error).message });
      return false;
    }
    if (next.cert === current.cert && next.key === current.key) {
      current = next;
      return false;
    }
    current = next;
    upgrader = null; // handshakes under way finish on the old one
    for (const s of servers) {
      try {
        s.setSecureContext(serverOptions());
      } catch (e) {
        log.error("TLS reload: cannot update a listener", { error: (e as Error).message });
      }
    }
    log.info("TLS certificate reloaded", { cert: files.certFile });
    return true;
  };

  let timer: ReturnType<typeof setInterval> | null = null;
  const interval = opts.watchIntervalMs ?? 5000;
  if (interval > 0) {
    // Polling stat() rather than fs.watch: it sees certbot's symlink swaps and works the same on every runtime.
    timer = setInterval(() => {
      if (mtimeKey(files) !== current.mtimes) reload();
    }, interval);
    timer.unref?.();
  }

  /**
   * One tls.Server takes every upgrade (a new one after a reload, so new
   * handshakes use the new certificate). A tls.Server per connection gave each
   * connection its own SecureContext for its whole life: ~20 KiB of RSS per
   * held TLS connection on Bun 1.4.5 against 14.9 KiB shared (plain TCP 4.1;
   * scripts/bench/tls-conn-memory.ts), a large part of an idle ActiveSync Ping.
   */
  type Waiter = (err: Error | null, s?: tls.TLSSocket) => void;
  let upgrader: { server: tls.Server; pending: Map<Socket, Waiter> } | null = null;
  const upgraderFor = () => {
    if (upgrader) return upgrader;
    const server = tls.createServer(serverOptions());
    const pending = new Map<Socket, Waiter>();
    // The TLSSocket names the raw socket it wraps as _parent on Node and Bun; elsewhere the connection's addresses tell.
    const waiterOf = (s: tls.TLSSocket | undefined): Waiter | undefined => {
      if (!s) return undefined;
      const parent = (s as { _parent?: unknown })._parent;
      if (parent && pending.has(parent as Socket)) return pending.get(parent as Socket);
      for (const [raw, w] of pending) if (raw.remotePort === s.remotePort && raw.remoteAddress === s.remoteAddress && raw.localPort === s.localPort) return w;
      return undefined;
    };
    server.on("secureConnection", (s: tls.TLSSocket) => {
      const w = waiterOf(s);
      if (w) w(null, s);
      else s.destroy();
    });
    server.on("tlsClientError", (err: Error, s?: tls.TLSSocket) => waiterOf(s)?.(err));
    upgrader = { server, pending };
    return upgrader;
  };

  const upgrade = (socket: Socket): Promise<tls.TLSSocket> =>
    new Promise((resolve, reject) => {
      const { server, pending } = upgraderFor();
      let done = false;
      const finish = (err: Error | null, s?: tls.TLSSocket) => {
        if (done) return;
        done = true;
        clearTimeout(timeout);
        pending.delete(socket);
        // Nothing of the handshake stays attached to a connection that lives on (held ActiveSync Pings, IDLE).
        socket.off("error", onError);
        socket.off("close", onClose);
        if (err) {
          socket.destroy();
          reject(err);
        } else {
          // Like the kernel's raw-socket guard: a reset on a session without its own 'error' handler must not crash the process.
          s!.on("error", (e: Error) => log.debug("TLS socket error", { error: e.message }));
          resolve(s!);
        }
      };
      const timeout = setTimeout(() => finish(new Error("TLS handshake timed out")), HANDSHAKE_TIMEOUT_MS);
      pending.set(socket, finish);
      const onError = (err: Error) => finish(err);
      const onClose = () => finish(new Error("connection closed during TLS handshake"));
      socket.on("error", onError);
      socket.on("close", onClose);
      server.emit("connection", socket);
    });

  // TLS-ALPN-01 (RFC 8737): validation certificates by DNS name, served only to a ClientHello offering acme-tls/1.
  const alpnPairs = new Map<string, tls.SecureContext>();
  let alpnServer: tls.Server | null = null;
  const alpnServerFor = (): tls.Server => {
    if (alpnServer) return alpnServer;
    const s = tls.createServer({
      ...serverOptions(),
      ALPNProtocols: [ACME_TLS_ALPN],
      SNICallback: (name, cb) => {
        const ctx = alpnPairs.get(name.toLowerCase());
        if (ctx) cb(null, ctx);
        else cb(new Error(`no TLS-ALPN-01 challenge for ${name}`));
      },
    });
    // RFC 8737 §3: the validation is the handshake; nothing is exchanged after it.
    s.on("secureConnection", (t: tls.TLSSocket) => t.end());
    s.on("tlsClientError", (err: Error, t?: tls.TLSSocket) => {
      log.debug("TLS-ALPN-01 handshake failed", { error: err.message });
      t?.destroy();
    });
    alpnServer = s;
    return s;
  };

  /** Waits for the ClientHello (bounded in size and time) and says whether it is an acme-tls/1 validation. */
  const isAlpnValidation = (socket: Socket): Promise<boolean> =>
    new Promise((resolve) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = (yes: boolean) => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("close", onEnd);
        socket.pause();
        if (chunks.length) socket.unshift(Buffer.concat(chunks));
        resolve(yes);
      };
      const onEnd = () => done(false);
      const onData = (b: Buffer) => {
        chunks.push(b);
        size += b.length;
        const peek = peekClientHello(Buffer.concat(chunks));
        if (peek.kind === "more" && size < MAX_HELLO_RECORD) return;
        done(peek.kind === "hello" && peek.alpn.includes(ACME_TLS_ALPN));
      };
      const timer = setTimeout(() => done(false), HANDSHAKE_TIMEOUT_MS);
      socket.on("data", onData);
      socket.once("close", onEnd);
    });

  const upgradeMaybeAlpn = async (socket: Socket, o?: { acmeAlpn?: boolean }): Promise<tls.TLSSocket> => {
    if (o?.acmeAlpn && alpnPairs.size > 0 && (await isAlpnValidation(socket))) {
      alpnServerFor().emit("connection", socket);
      throw new Error("TLS-ALPN-01 validation connection (answered with the challenge certificate)");
    }
    return upgrade(socket);
  };

  return {
    get hostname() {
      return hostname;
    },
    get certPem() {
      return current.cert;
    },
    get files() {
      return files;
    },
    serverOptions,
    upgrade: upgradeMaybeAlpn,
    reconfigure(next) {
      hostname = next.hostname;
      const wanted = next.certFile && next.keyFile ? { certFile: next.certFile, keyFile: next.keyFile } : null;
      const fromConfig = configured !== null && files.certFile === configured.certFile && files.keyFile === configured.keyFile;
      configured = wanted;
      if (wanted) {
        if (files.selfSigned || files.certFile !== wanted.certFile || files.keyFile !== wanted.keyFile) return this.useFiles(wanted);
        return reload();
      }
      if (!files.selfSigned && !fromConfig) return reload(); // ACME (or another manager) serves: not ours to replace
      let pair: { certFile: string; keyFile: string };
      try {
        pair = ensureSelfSigned(opts.dataDir, hostname, log);
      } catch (e) {
        log.error("TLS: cannot make a self-signed certificate for the new host name; keeping the current one", { hostname, error: (e as Error).message });
        return false;
      }
      files = { ...pair, selfSigned: true };
      return reload();
    },
    useFiles(f) {
      const prev = files;
      files = { certFile: f.certFile, keyFile: f.keyFile, selfSigned: false };
      try {
        loadFiles(files);
      } catch (e) {
        log.error("TLS: new certificate unusable; keeping the current one", { cert: f.certFile, error: (e as Error).message });
        files = prev;
        return false;
      }
      reload();
      return true;
    },
    setAlpnChallenge(name, pair) {
      if (pair) alpnPairs.set(name.toLowerCase(), tls.createSecureContext({ cert: pair.cert, key: pair.key }));
      else alpnPairs.delete(name.toLowerCase());
      if (alpnPairs.size === 0) {
        alpnServer?.close();
        alpnServer = null;
      }
    },
    createServer(onSecure) {
      const s = tls.createServer(serverOptions(), onSecure);
      servers.add(s);
      s.on("close", () => servers.delete(s));
      return s;
    },
    reload,
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      servers.clear();
      alpnPairs.clear();
      alpnServer = null;
      upgrader = null;
    },
  };
}
