/**
 * TLS checks (issue 8 part 5): testssl.sh against every TLS listener (JSON
 * findings by severity), openssl s_client protocol/cipher probes, and STARTTLS
 * command injection (RFC 3207 §4.2, RFC 2595 §3.1/§4): commands pipelined in
 * the same packet as STARTTLS/STLS must be discarded, not run after the
 * handshake.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../storage/store.ts";
import { LineConn, smtpReply } from "../../tests/reliability/lib/conn.ts";
import { freePort, startServerProc, type Listener, type ServerProc } from "../../tests/reliability/lib/server-proc.ts";
import { passwordHasher } from "../../src/auth.ts";

export interface TlsServer {
  srv: ServerProc;
  ports: Record<"smtp" | "submission" | "submissions" | "imap" | "imaps" | "pop3" | "pop3s" | "https" | "managesieve", number>;
  close(): Promise<void>;
}

export async function startTlsServer(): Promise<TlsServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "pillarbox-tls-"));
  const url = `file:${join(dataDir, "pillarbox.db")}`;
  const s = await openStore({ hasher: passwordHasher, url, dataDir, gcIntervalMs: 0 });
  await s.addDomain("tls.test");
  await s.addAccount("alice@tls.test", "tls-pass-1");
  await s.close();
  const names = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "https", "managesieve"] as const;
  const ports = {} as TlsServer["ports"];
  for (const n of names) ports[n] = await freePort();
  // Production defaults for plaintext auth (off): the TLS scan sees what users get.
  const srv = await startServerProc({ dataDir, ports: ports as Partial<Record<Listener, number>>, env: { PILLARBOX_IMAP_ALLOW_PLAINTEXT_AUTH: "false", PILLARBOX_POP3_ALLOW_PLAINTEXT_AUTH: "false", PILLARBOX_LOG_LEVEL: "error" } });
  return {
    srv,
    ports,
    async close() {
      srv.kill("SIGTERM");
      await Promise.race([srv.exited, new Promise((r) => setTimeout(r, 8000))]);
      srv.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function run(cmd: string, args: string[], timeoutMs: number, input = ""): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
    c.on("error", () => resolve({ code: -1, out }));
    c.stdin.end(input);
  });
}

// ---------------------------------------------------------------- openssl probes

export interface Probe {
  port: string;
  name: string;
  ok: boolean;
  detail: string;
}

/** Ports as [label, port, starttls kind or null]. */
export function tlsPorts(t: TlsServer): [string, number, "smtp" | "imap" | "pop3" | "sieve" | null][] {
  return [
    ["submissions/465", t.ports.submissions, null],
    ["imaps/993", t.ports.imaps, null],
    ["pop3s/995", t.ports.pop3s, null],
    ["https/443", t.ports.https, null],
    ["smtp/25 STARTTLS", t.ports.smtp, "smtp"],
    ["submission/587 STARTTLS", t.ports.submission, "smtp"],
    ["imap/143 STARTTLS", t.ports.imap, "imap"],
    ["pop3/110 STARTTLS", t.ports.pop3, "pop3"],
    ["sieve/4190 STARTTLS", t.ports.managesieve, "sieve"],
  ];
}

export async function opensslProbes(t: TlsServer, which?: string[]): Promise<Probe[]> {
  const out: Probe[] = [];
  for (const [label, port, starttls] of tlsPorts(t)) {
    if (which && !which.includes(label)) continue;
    const base = ["s_client", "-connect", `127.0.0.1:${port}`, "-servername", "localhost", ...(starttls ? ["-starttls", starttls] : [])];
    const tryIt = async (extra: string[]) => {
      const r = await run("openssl", [...base, ...extra], 15_000, "");
      const m = /Protocol\s*:\s*(\S+)/.exec(r.out) ?? /New, (TLSv[\d.]+)/.exec(r.out);
      const c = /Cipher\s*(?:is|:)\s*(\S+)/.exec(r.out);
      const connected = !!c && c[1] !== "(NONE)" && c[1] !== "0000";
      return { connected, proto: m?.[1] ?? "-", cipher: c?.[1] ?? "-" };
    };
    for (const [name, args, want] of [
      ["TLS 1.0 refused", ["-tls1", "-cipher", "DEFAULT:@SECLEVEL=0"], false],
      ["TLS 1.1 refused", ["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"], false],
      ["TLS 1.2 without forward secrecy (AES128-SHA256) refused", ["-tls1_2", "-cipher", "AES128-SHA256:AES256-SHA:AES128-SHA:@SECLEVEL=0"], false],
      ["TLS 1.2 CBC suites refused (ECDHE-RSA-AES128-SHA)", ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA384:@SECLEVEL=0"], false],
      ["TLS 1.2 with ECDHE-AEAD accepted", ["-tls1_2"], true],
      ["TLS 1.3 accepted", ["-tls1_3"], true],
    ] as [string, string[], boolean][]) {
      const r = await tryIt(args);
      out.push({ port: label, name, ok: r.connected === want, detail: r.connected ? `connected ${r.proto} ${r.cipher}` : "handshake refused" });
    }
  }
  return out;
}

// ---------------------------------------------------------------- STARTTLS injection

export async function starttlsInjection(t: TlsServer): Promise<Probe[]> {
  const out: Probe[] = [];
  // SMTP: "STARTTLS\r\nQUIT\r\n" in one packet; after the handshake EHLO must get 250 and the
  // connection must not close (a buffered QUIT would answer 221 and hang up).
  for (const [label, port] of [["smtp/25", t.ports.smtp], ["submission/587", t.ports.submission]] as const) {
    const c = await LineConn.connect(port);
    try {
      await smtpReply(c);
      c.write("EHLO a\r\n");
      await smtpReply(c);
      c.write("STARTTLS\r\nQUIT\r\nRSET\r\n");
      const r = await smtpReply(c);
      await c.startTls();
      c.write("EHLO b\r\n");
      const e = await smtpReply(c).catch((x: unknown) => ({ code: 0, text: String(x) }));
      c.write("NOOP\r\n");
      const n = await smtpReply(c).catch((x: unknown) => ({ code: 0, text: String(x) }));
      out.push({ port: label, name: "STARTTLS injection discarded", ok: r.code === 220 && e.code === 250 && n.code === 250, detail: `STARTTLS ${r.code}; after TLS: EHLO ${e.code} ${e.text.split("\n")[0]}, NOOP ${n.code}` });
    } finally {
      c.close();
    }
  }
  {
    const c = await LineConn.connect(t.ports.imap);
    try {
      await c.line();
      c.write("a STARTTLS\r\nb LOGOUT\r\n");
      const r = await c.line();
      let extra = "";
      while (!r.startsWith("a ")) extra += await c.line();
      await c.startTls();
      c.write("c NOOP\r\n");
      const l = await c.line().catch((x: unknown) => String(x));
      out.push({ port: "imap/143", name: "STARTTLS injection discarded", ok: r.startsWith("a OK") && l.startsWith("c OK"), detail: `STARTTLS: ${r}${extra}; after TLS: ${l}` });
    } finally {
      c.close();
    }
  }
  {
    const c = await LineConn.connect(t.ports.pop3);
    try {
      await c.line();
      c.write("STLS\r\nQUIT\r\n");
      const r = await c.line();
      await c.startTls();
      c.write("CAPA\r\n");
      const lines: string[] = [];
      for (;;) {
        const l = await c.line().catch((x: unknown) => `closed: ${String(x)}`);
        lines.push(l);
        if (l === "." || l.startsWith("closed") || l.startsWith("-ERR")) break;
      }
      out.push({ port: "pop3/110", name: "STLS injection discarded", ok: r.startsWith("+OK") && lines[0]!.startsWith("+OK") && lines.at(-1) === "." && !lines.some((l) => /signing off|bye/i.test(l)), detail: `STLS: ${r}; after TLS: ${lines[0]} ... ${lines.at(-1)} (${lines.length} lines)` });
    } finally {
      c.close();
    }
  }
  return out;
}

// ---------------------------------------------------------------- testssl

export interface TestsslFinding {
  id: string;
  severity: string;
  finding: string;
  port: string;
}

/** Findings that only say the test certificate is self-signed (expected in a lab run). */
export function isSelfSignedNoise(f: TestsslFinding): boolean {
  return /^(cert_chain_of_trust|cert_trust|cert_caIssuers|cert_crlDistributionPoints|cert_ocspURL|cert_revocation|OCSP_stapling|cert_ocspRevoked|cert_crlRevoked|DNS_CAArecord|cert_commonName_wo_SNI|cert_mustStapleExtension|cert_certificatePolicies_EV|engine_problem)/.test(f.id) || /self.signed/i.test(f.finding);
}

export function testsslPath(): string | null {
  for (const p of ["/usr/bin/testssl", "/usr/bin/testssl.sh"]) if (existsSync(p)) return p;
  return null;
}

export async function runTestssl(label: string, port: number, starttls: "smtp" | "imap" | "pop3" | "sieve" | null, opts: { quick?: boolean; checks?: string[]; jsonDir: string }): Promise<{ findings: TestsslFinding[]; raw: string; seconds: number }> {
  const bin = testsslPath();
  if (!bin) throw new Error("testssl not installed (apt-get install -y testssl.sh)");
  const json = join(opts.jsonDir, `${label.replace(/[^a-z0-9]+/gi, "_")}.json`);
  const args = ["--jsonfile", json, "--quiet", "--color", "0", "--warnings", "off", "--nodns", "min", "--ip", "127.0.0.1", "--sneaky"];
  if (opts.checks) args.push(...opts.checks);
  else if (opts.quick) args.push("--protocols", "--std", "--vulnerable");
  if (starttls) args.push("--starttls", starttls);
  // The lab certificate names localhost; --ip pins the address so testssl does not try ::1.
  args.push(`localhost:${port}`);
  const t0 = Date.now();
  const r = await run(bin, args, 15 * 60_000);
  const seconds = Math.round((Date.now() - t0) / 1000);
  let findings: TestsslFinding[] = [];
  try {
    const parsed = JSON.parse(readFileSync(json, "utf8")) as { id: string; severity: string; finding: string }[];
    findings = parsed.map((x) => ({ id: x.id, severity: x.severity, finding: x.finding, port: label }));
  } catch {
    throw new Error(`testssl produced no JSON for ${label}: ${r.out.slice(-1500)}`);
  }
  return { findings, raw: r.out, seconds };
}

/**
 * Findings judged acceptable, with the reason (printed next to them):
 * cipher_order: every suite offered is ECDHE + AEAD, so letting the client pick
 * (honorCipherOrder: false in src/tls.ts) is what Mozilla's "intermediate" and
 * "modern" server configurations recommend; testssl still rates it HIGH.
 */
export const ACCEPTED: Record<string, string> = {
  cipher_order: "all offered suites are ECDHE+AEAD; client choice is Mozilla's recommendation (ssl_prefer_server_ciphers off)",
};

/** True when the finding means a real weakness (after removing self-signed noise and accepted findings). */
export function isBad(f: TestsslFinding): boolean {
  if (isSelfSignedNoise(f)) return false;
  if (ACCEPTED[f.id] && !/^(CRITICAL)$/.test(f.severity)) return false;
  if (/^(SSLv2|SSLv3|TLS1|TLS1_1)$/.test(f.id)) return !/not offered/i.test(f.finding);
  return /^(MEDIUM|HIGH|CRITICAL)$/.test(f.severity);
}

