/**
 * The MTA-STS policy fetch of the live DNS check (src/dns-check.ts
 * policyFetcher) over real HTTPS: the name resolved through dnsmasq, the
 * certificate checked against a CA made here with openssl (RFC 8461 §3.3:
 * an untrusted certificate means no policy), and the bounds: HTTP errors,
 * an oversized file and a server that drips bytes are refused in words
 * within the deadline.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import https from "node:https";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { checkDomainDns, checkResolver, policyFetcher } from "../../src/dns-check.ts";
import { startDnsmasqLines, type Dnsmasq } from "./helpers.ts";

let dir: string;
let ca: string;
let dns: Dnsmasq;
let server: https.Server;
let port: number;
const POLICY = "version: STSv1\r\nmode: enforce\r\nmx: mail.example.test\r\nmax_age: 604800\r\n";

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pb-sts-"));
  const ossl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  ossl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Pillarbox test CA");
  ossl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "host.key", "-out", "host.csr", "-subj", "/CN=mta-sts.example.test");
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:mta-sts.example.test,DNS:mta-sts.drip.test,DNS:mta-sts.big.test,DNS:mta-sts.gone.test\n");
  ossl("x509", "-req", "-in", "host.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "host.pem", "-days", "2", "-extfile", "san.ext");
  ca = readFileSync(join(dir, "ca.pem"), "utf8");
  server = https.createServer({ key: readFileSync(join(dir, "host.key")), cert: readFileSync(join(dir, "host.pem")) }, (req, res) => {
    const host = String(req.headers.host);
    if (req.url !== "/.well-known/mta-sts.txt") return void res.writeHead(404).end();
    if (host === "mta-sts.example.test") return void res.writeHead(200, { "content-type": "text/plain" }).end(POLICY);
    if (host === "mta-sts.gone.test") return void res.writeHead(404).end("no");
    if (host === "mta-sts.big.test") return void res.writeHead(200).end("mx: x\n".repeat(20_000));
    if (host === "mta-sts.drip.test") {
      res.writeHead(200);
      const t = setInterval(() => res.write("m"), 100);
      res.on("close", () => clearInterval(t));
      return;
    }
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  port = (server.address() as AddressInfo).port;
  dns = await startDnsmasqLines(["mta-sts.example.test", "mta-sts.gone.test", "mta-sts.big.test", "mta-sts.drip.test"].map((h) => `host-record=${h},127.0.0.1`));
});

afterAll(async () => {
  server?.closeAllConnections?.();
  server?.close();
  await dns?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("MTA-STS policy fetch", () => {
  test("a policy behind a trusted certificate is read", async () => {
    const fetch = policyFetcher(checkResolver([dns.server]), { ca, port });
    expect(await fetch("example.test")).toBe(POLICY);
  });

  test("in the report: ok when it names the MX host", async () => {
    const resolver = checkResolver([dns.server]);
    const rep = await checkDomainDns(
      { domain: "example.test", hostname: "mail.example.test", dkimSelector: null, dkimPublicKey: null, reportAddress: "postmaster@example.test" },
      { resolver, fetchPolicy: policyFetcher(resolver, { ca, port }) },
    );
    const pol = rep.records.find((r) => r.purpose === "MTA-STS policy")!;
    expect(pol.status).toBe("ok");
    expect(pol.found[0]).toContain("mode: enforce");
  });

  test("an untrusted certificate is refused in words", async () => {
    const fetch = policyFetcher(checkResolver([dns.server]), { port });
    await expect(fetch("example.test")).rejects.toThrow(/not trusted/);
  });

  test("HTTP 404, an oversized file, a dripping server, no address: errors in words within the deadline", async () => {
    const fetch = policyFetcher(checkResolver([dns.server]), { ca, port, timeoutMs: 1500 });
    await expect(fetch("gone.test")).rejects.toThrow("HTTP 404");
    await expect(fetch("big.test")).rejects.toThrow("larger than");
    const started = Date.now();
    await expect(fetch("drip.test")).rejects.toThrow("within 1.5 s");
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect(fetch("nowhere.test")).rejects.toThrow("has no address");
  }, 20_000);
});
