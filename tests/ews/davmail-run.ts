/**
 * Runs Debian's DavMail (EWS mode) headless in front of a test server: a
 * properties file in a private directory (server mode, loopback only, IMAP,
 * CalDAV and SMTP on free ports, POP3 and LDAP off, no update check), the
 * test server's certificate accepted by its SHA-1 fingerprint (DavMail's
 * davmail.server.certificate.hash: server mode never prompts, it refuses an
 * unknown certificate), and a wait until its IMAP port answers.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { spawnBackground, type Background } from "../helpers/proc.ts";
import { freePort } from "../helpers/radicale.ts";

export const DAVMAIL_JAR = "/usr/share/davmail/davmail.jar";

export function hasDavmail(): boolean {
  return existsSync(DAVMAIL_JAR) && existsSync("/usr/bin/java");
}

export interface Davmail {
  imapPort: number;
  caldavPort: number;
  smtpPort: number;
  /** DavMail's own log (its EWS requests at DEBUG), for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

/** The server certificate's SHA-1 fingerprint as DavMail writes it (lower-case hex pairs joined by ":"). */
export function certificateHash(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" }, () => {
      const fp = s.getPeerCertificate().fingerprint;
      s.end();
      if (!fp) reject(new Error("no peer certificate"));
      else resolve(fp.toLowerCase());
    });
    s.once("error", reject);
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host: "127.0.0.1", port });
    s.once("data", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
    s.setTimeout(2000, () => (s.destroy(), resolve(false)));
  });
}

export async function startDavmail(ewsPort: number, opts: { debug?: boolean } = {}): Promise<Davmail> {
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-davmail-"));
  const [imapPort, caldavPort, smtpPort] = [await freePort(), await freePort(), await freePort()];
  const hash = await certificateHash(ewsPort);
  const logFile = join(dir, "davmail.log");
  const props = [
    "davmail.server=true",
    "davmail.mode=EWS",
    // "localhost": a name the test certificate carries (DavMail checks the host name besides the pinned hash).
    `davmail.url=https://localhost:${ewsPort}/EWS/Exchange.asmx`,
    `davmail.server.certificate.hash=${hash}`,
    `davmail.imapPort=${imapPort}`,
    `davmail.caldavPort=${caldavPort}`,
    `davmail.smtpPort=${smtpPort}`,
    "davmail.ssl.nosecuresmtp=false",
    // DavMail's SMTP hands the message to EWS (CreateItem SendAndSaveCopy); Pillarbox keeps the Sent copy.
    "davmail.smtpSaveInSent=true",
    "davmail.popPort=",
    "davmail.ldapPort=",
    "davmail.allowRemote=false",
    "davmail.bindAddress=127.0.0.1",
    // Plain IMAP/CalDAV on loopback between the test clients and DavMail (no keystore configured).
    "davmail.ssl.nosecureimap=false",
    "davmail.ssl.nosecurecaldav=false",
    "davmail.disableUpdateCheck=true",
    "davmail.disableGuiNotifications=true",
    "davmail.showStartupBanner=false",
    "davmail.enableKeepAlive=false",
    "davmail.caldavPastDelay=0",
    "davmail.imapIdleDelay=",
    "davmail.folderSizeLimit=",
    `davmail.logFilePath=${logFile}`,
    "log4j.rootLogger=WARN",
    `log4j.logger.davmail=${opts.debug || process.env.PB_DAVMAIL_DEBUG ? "DEBUG" : "INFO"}`,
    "log4j.logger.httpclient.wire=WARN",
    // PB_DAVMAIL_DEBUG=wire: every byte DavMail sends to and receives from the EWS endpoint.
    `log4j.logger.org.apache.http.wire=${process.env.PB_DAVMAIL_DEBUG === "wire" ? "DEBUG" : "WARN"}`,
    "log4j.logger.org.apache.http=WARN",
  ];
  const propsFile = join(dir, "davmail.properties");
  writeFileSync(propsFile, props.join("\n") + "\n");
  const proc: Background = spawnBackground("/usr/bin/java", ["-Djava.awt.headless=true", "-Xmx256m", "-jar", DAVMAIL_JAR, propsFile], { cwd: dir, env: { HOME: dir } });
  const readLog = () => (existsSync(logFile) ? readFileSync(logFile, "utf8") : "") + proc.stdout() + proc.stderr();
  const deadline = Date.now() + 30_000;
  while (!(await portAnswers(imapPort))) {
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`DavMail did not open its IMAP port in 30 s:\n${readLog().slice(-3000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    imapPort,
    caldavPort,
    smtpPort,
    log: readLog,
    async stop() {
      proc.kill("SIGTERM");
      const killer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await proc.exited;
      clearTimeout(killer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
