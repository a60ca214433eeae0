/**
 * scripts/torture/tls [--quick] [--parallel N]: testssl.sh against every TLS
 * listener (implicit 465/993/995/443, STARTTLS 25/587/143/110), openssl
 * protocol/cipher probes and STARTTLS injection. Prints findings by severity;
 * exit 1 on any weakness (self-signed certificate findings are listed
 * separately: the lab server has no CA-signed certificate).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ACCEPTED, isBad, isSelfSignedNoise, opensslProbes, runTestssl, startTlsServer, starttlsInjection, testsslPath, tlsPorts, type TestsslFinding } from "./tls-lib.ts";

const quick = process.argv.includes("--quick");
const pi = process.argv.indexOf("--parallel");
const parallel = pi >= 0 ? Number(process.argv[pi + 1]) : 2;
const jsonDir = mkdtempSync(join(tmpdir(), "pillarbox-testssl-"));
console.log(`tls: ${new Date().toISOString()}, testssl ${testsslPath() ?? "MISSING"}, ${quick ? "quick" : "full"} scan, JSON in ${jsonDir}`);
const t = await startTlsServer();
let failures = 0;
try {
  console.log("\nSTARTTLS command injection:");
  for (const p of await starttlsInjection(t)) {
    if (!p.ok) failures++;
    console.log(`  ${p.ok ? "ok  " : "FAIL"} ${p.port}: ${p.detail}`);
  }
  console.log("\nopenssl probes:");
  const probes = await opensslProbes(t);
  for (const p of probes) if (!p.ok) failures++;
  console.log(`  ${probes.filter((p) => p.ok).length}/${probes.length} as expected`);
  for (const p of probes.filter((x) => !x.ok)) console.log(`  FAIL ${p.port} ${p.name}: ${p.detail}`);

  if (!testsslPath()) {
    console.log("\ntestssl: NOT RUN (install Debian package testssl.sh)");
    failures++;
  } else {
    console.log(`\ntestssl (${parallel} at a time):`);
    const all: TestsslFinding[] = [];
    const queue = tlsPorts(t);
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        for (let job = queue.shift(); job; job = queue.shift()) {
          const [label, port, starttls] = job;
          try {
            const r = await runTestssl(label, port, starttls, { quick, jsonDir });
            all.push(...r.findings);
            const sev = (s: string) => r.findings.filter((f) => f.severity === s && !isSelfSignedNoise(f)).length;
            console.log(`  ${label}: ${r.findings.length} findings in ${r.seconds} s — CRITICAL ${sev("CRITICAL")}, HIGH ${sev("HIGH")}, MEDIUM ${sev("MEDIUM")}, LOW ${sev("LOW")}, WARN ${sev("WARN")} (+${r.findings.filter(isSelfSignedNoise).length} self-signed-certificate findings)`);
          } catch (e) {
            failures++;
            console.log(`  ${label}: testssl failed: ${String(e).slice(0, 500)}`);
          }
        }
      }),
    );
    const bad = all.filter(isBad);
    failures += bad.length;
    const proto = (id: string) => [...new Set(all.filter((f) => f.id === id).map((f) => f.finding))].join(" / ");
    console.log(`\n  protocols: SSLv2 ${proto("SSLv2")}; SSLv3 ${proto("SSLv3")}; TLS1 ${proto("TLS1")}; TLS1_1 ${proto("TLS1_1")}; TLS1_2 ${proto("TLS1_2")}; TLS1_3 ${proto("TLS1_3")}`);
    console.log("\n  by severity (all ports, self-signed certificate findings excluded):");
    for (const s of ["CRITICAL", "HIGH", "MEDIUM", "LOW", "WARN", "INFO", "OK"]) console.log(`    ${s}: ${all.filter((f) => f.severity === s && !isSelfSignedNoise(f)).length}`);
    const notable = all.filter((f) => !isSelfSignedNoise(f) && /^(LOW|MEDIUM|HIGH|CRITICAL|WARN)$/.test(f.severity));
    const grouped = new Map<string, string[]>();
    for (const f of notable) {
      const k = `${f.severity} ${f.id}: ${f.finding}`;
      grouped.set(k, [...(grouped.get(k) ?? []), f.port]);
    }
    if (grouped.size) console.log("\n  LOW and above:");
    for (const [k, ps] of grouped) {
      const id = k.split(" ")[1]!.replace(/:$/, "");
      console.log(`    ${k}  [${ps.join(", ")}]${ACCEPTED[id] ? `  (accepted: ${ACCEPTED[id]})` : ""}`);
    }
    const noise = new Map<string, number>();
    for (const f of all.filter(isSelfSignedNoise).filter((f) => /^(LOW|MEDIUM|HIGH|CRITICAL)$/.test(f.severity))) noise.set(`${f.severity} ${f.id}`, (noise.get(`${f.severity} ${f.id}`) ?? 0) + 1);
    if (noise.size) console.log(`\n  self-signed certificate (expected in the lab): ${[...noise].map(([k, n]) => `${k} x${n}`).join("; ")}`);
    if (bad.length) console.log(`\n  WEAKNESSES:\n    ${bad.map((f) => `${f.port} ${f.severity} ${f.id}: ${f.finding}`).join("\n    ")}`);
  }
} finally {
  await t.close();
}
console.log(failures ? `\nFAIL: ${failures}` : "\nOK: no weak protocol, cipher or vulnerability; STARTTLS injection discarded on SMTP, IMAP, POP3");
process.exit(failures ? 1 : 0);
