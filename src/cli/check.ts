/** `pillarbox check`: configuration and database sanity, without changing anything. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { X509Certificate, createPrivateKey } from "node:crypto";
import * as tls from "node:tls";
import { openDb, filePathOfUrl, redactDbUrl } from "../../storage/db.ts";
import { appliedVersions, assertKnownSchema } from "../../storage/migrate.ts";
import { migrations } from "../../storage/migrations/index.ts";
import { selfSignedPaths } from "../tls.ts";
import { acmePaths } from "../acme/files.ts";
import { certificateStatusLine, storedAcmeStatus } from "../acme/status.ts";
import { COMMON_OPTIONS, type Command } from "./command.ts";
import { configFromArgs } from "./common.ts";
import { DataDirError, prepareDataDir } from "../data-dir.ts";
import { checkBlobs } from "./check-blobs.ts";

export const checkCommands: Command[] = [
  {
    name: "check",
    usage: "",
    summary: "check the configuration, data dir, database (integrity, migrations) and TLS certificate",
    help: "Reads only; changes nothing. Exit code 0 when everything is fine, 1 when a check failed,\n2 when the configuration itself is invalid.",
    options: { ...COMMON_OPTIONS, blobs: { help: "also read every referenced blob: missing and damaged (hash mismatch) blobs, with counts and the first ids" } },
    args: [0, 0],
    async run(args, io) {
      const config = configFromArgs(args, io);
      let failed = 0;
      const ok = (m: string) => io.out(`ok    ${m}\n`);
      const warn = (m: string) => io.out(`warn  ${m}\n`);
      const fail = (m: string) => {
        failed++;
        io.out(`FAIL  ${m}\n`);
      };
      ok(`configuration valid (hostname ${config.hostname})`);
      const open = Object.entries(config.listeners)
        .filter(([, a]) => a)
        .map(([n, a]) => `${n}=${a!.host}:${a!.port}`);
      ok(`listeners: ${open.join(" ") || "none"}`);

      let dataDirProblem = false;
      if (!existsSync(config.dataDir)) fail(`data dir ${config.dataDir} does not exist (it is created on first start)`);
      else {
        const mode = statSync(config.dataDir).mode & 0o777;
        if (mode & 0o077) warn(`data dir ${config.dataDir} is readable by others (mode ${mode.toString(8)}); chmod 700 it`);
        else ok(`data dir ${config.dataDir} (mode ${mode.toString(8)})`);
        // As root on the service user's data dir: act as that user (files SQLite creates stay its own);
        // a data dir this user cannot write is said in words, not as libsql's ConnectionFailed 14.
        try {
          prepareDataDir(config.dataDir);
        } catch (e) {
          if (!(e instanceof DataDirError)) throw e;
          dataDirProblem = true;
          fail(e.message);
        }
      }

      const isFile = config.databaseUrl.startsWith("file:");
      if (dataDirProblem) warn("database not checked: the data dir is not usable by this user (above)");
      else if (isFile && !existsSync(filePathOfUrl(config.databaseUrl))) fail(`database ${config.databaseUrl} does not exist (created on first start)`);
      else {
        let db: Awaited<ReturnType<typeof openDb>> | null = null;
        try {
          db = await openDb({ url: config.databaseUrl, authToken: config.databaseAuthToken });
          let applied: number[] = [];
          try {
            applied = await appliedVersions(db);
          } catch {
            applied = [];
          }
          const known = migrations.map((m) => m.version).sort((a, b) => a - b);
          const pending = known.filter((v) => !applied.includes(v));
          let newer: string | null = null;
          try {
            assertKnownSchema(applied);
          } catch (e) {
            newer = (e as Error).message;
          }
          if (newer) fail(newer);
          else if (pending.length) warn(`database migrations pending: ${pending.join(", ")} (applied automatically at the next start)`);
          else ok(`database migrations current (${applied.length} applied, latest ${applied[applied.length - 1] ?? "-"})`);
          const integrity = await db.integrityCheck();
          if (integrity.length === 1 && integrity[0] === "ok") ok("database integrity_check: ok");
          else fail(`database integrity_check: ${integrity.slice(0, 5).join("; ")}`);
        } catch (e) {
          fail(`database ${redactDbUrl(config.databaseUrl)}: ${(e as Error).message}`);
        } finally {
          await db?.close().catch(() => {});
        }
      }

      // ACME on: its stored certificate when there is one (else the self-signed pair served meanwhile), and a status line.
      const acme = config.acme.enabled ? storedAcmeStatus(config) : null;
      const acmeFiles = acmePaths(config.dataDir);
      const acmeServed = acme !== null && acme.fingerprint !== "" && acme.notAfter > Date.now();
      if (config.acme.enabled) {
        if (!acme) warn(`certificate (acme): none issued yet; the first order starts when the server runs (${config.acme.directoryUrl})`);
        else if (acme.lastError) warn(certificateStatusLine(acme));
        else ok(certificateStatusLine(acme));
      }
      const files = config.tls.certFile && config.tls.keyFile ? { certFile: config.tls.certFile, keyFile: config.tls.keyFile } : acmeServed ? { certFile: acmeFiles.cert, keyFile: acmeFiles.certKey } : selfSignedPaths(config.dataDir);
      const selfSigned = !config.tls.certFile && !acmeServed;
      if (selfSigned && !existsSync(files.certFile)) warn(`no TLS certificate yet: a self-signed one for ${config.hostname} is created at first start`);
      else {
        try {
          const cert = readFileSync(files.certFile, "utf8");
          const key = readFileSync(files.keyFile, "utf8");
          const x = new X509Certificate(cert);
          createPrivateKey(key);
          tls.createSecureContext({ cert, key });
          if (!x.checkPrivateKey(createPrivateKey(key))) throw new Error("certificate and key do not match");
          const days = Math.floor((Date.parse(x.validTo) - Date.now()) / 86_400_000);
          const what = `TLS certificate ${files.certFile} (${selfSigned ? "self-signed" : x.issuer.replace(/\n/g, ", ")}), ${days} days left`;
          if (days < 0) fail(`${what}: EXPIRED`);
          else if (!x.checkHost(config.hostname)) warn(`${what}: does not cover ${config.hostname}`);
          else if (days < 14) warn(`${what}: renew soon`);
          else ok(what);
          if (selfSigned) warn(config.acme.enabled ? "self-signed certificate until the ACME order succeeds: clients will warn meanwhile" : "self-signed certificate: clients will warn; turn on ACME (PILLARBOX_ACME=on) or configure PILLARBOX_TLS_CERT / PILLARBOX_TLS_KEY");
          const keyMode = statSync(files.keyFile).mode & 0o777;
          if (keyMode & 0o077) warn(`TLS key ${files.keyFile} is readable by others (mode ${keyMode.toString(8)})`);
        } catch (e) {
          fail(`TLS certificate ${files.certFile} / key ${files.keyFile}: ${(e as Error).message}`);
        }
      }
      if (args.options["blobs"] === true) failed += await checkBlobs(config, { ok, warn, fail: (m) => io.out(`FAIL  ${m}\n`) });
      io.out(failed ? `${failed} check(s) failed\n` : "all checks passed\n");
      return failed ? 1 : 0;
    },
  },
];
