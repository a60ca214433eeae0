/**
 * src/tls.ts upgrade(): one tls.Server takes every upgrade (a tls.Server
 * per connection kept its SecureContext alive with the connection). Many
 * upgrades at once each get their own TLS socket (the one wrapping their
 * raw socket, talking to their own client), and after a certificate reload
 * new upgrades present the new certificate.
 */
import { afterAll, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tls from "node:tls";
import { createLogger } from "../../src/log.ts";
import { createTlsManager } from "../../src/tls.ts";
import { createSelfSignedCertificate } from "../../src/x509.ts";

const dir = mkdtempSync(join(tmpdir(), "pb-tls-upgrade-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const quiet = createLogger("error", {}, () => {});

/** A listener whose connections go through mgr.upgrade(); each TLS socket echoes what it reads, prefixed by its upgrade's number. */
async function upgradingServer(mgr: ReturnType<typeof createTlsManager>): Promise<{ port: number; close(): void }> {
  let n = 0;
  const srv = net.createServer((raw) => {
    const mine = ++n;
    void mgr.upgrade(raw).then(
      (t) => t.on("data", (d: Buffer) => t.write(`${mine}:${d.toString()}`)),
      () => undefined,
    );
  });
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", () => r()));
  return { port: (srv.address() as net.AddressInfo).port, close: () => srv.close() };
}

function client(port: number): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const t = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => resolve(t));
    t.once("error", reject);
  });
}

test("forty upgrades at once each answer their own client", async () => {
  const mgr = createTlsManager({ dataDir: join(dir, "a"), hostname: "up.example.test", certFile: null, keyFile: null, log: quiet, watchIntervalMs: 0 });
  const srv = await upgradingServer(mgr);
  try {
    const clients = await Promise.all(Array.from({ length: 40 }, () => client(srv.port)));
    const replies = await Promise.all(
      clients.map(
        (c, i) =>
          new Promise<string>((resolve) => {
            c.once("data", (d: Buffer) => resolve(d.toString()));
            c.write(`client ${i}`);
          }),
      ),
    );
    for (const [i, r] of replies.entries()) expect(r).toMatch(new RegExp(`^\\d+:client ${i}$`));
    // Forty different upgrades answered: no two clients were given the same TLS socket.
    expect(new Set(replies.map((r) => r.split(":")[0])).size).toBe(40);
    for (const c of clients) c.destroy();
  } finally {
    srv.close();
    mgr.close();
  }
});

test("after a reload, new upgrades present the new certificate; a connection made before keeps working", async () => {
  const certFile = join(dir, "cert.pem");
  const keyFile = join(dir, "key.pem");
  const a = createSelfSignedCertificate(["reload.example.test"]);
  writeFileSync(certFile, a.certPem);
  writeFileSync(keyFile, a.keyPem);
  const mgr = createTlsManager({ dataDir: join(dir, "b"), hostname: "reload.example.test", certFile, keyFile, log: quiet, watchIntervalMs: 0 });
  const srv = await upgradingServer(mgr);
  try {
    const first = await client(srv.port);
    expect(first.getPeerCertificate().serialNumber).toBe(new X509Certificate(a.certPem).serialNumber);
    const b = createSelfSignedCertificate(["reload.example.test"]);
    writeFileSync(keyFile, b.keyPem);
    writeFileSync(certFile, b.certPem);
    expect(mgr.reload()).toBe(true);
    const second = await client(srv.port);
    expect(second.getPeerCertificate().serialNumber).toBe(new X509Certificate(b.certPem).serialNumber);
    const echo = await new Promise<string>((resolve) => {
      first.once("data", (d: Buffer) => resolve(d.toString()));
      first.write("still here");
    });
    expect(echo).toBe("1:still here");
    first.destroy();
    second.destroy();
  } finally {
    srv.close();
    mgr.close();
  }
});
