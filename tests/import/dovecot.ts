/**
 * A private Debian Dovecot (dovecot-imapd) for import tests: its own config,
 * run directory and Maildir++ homes under a temp dir, TLS on an implicit-TLS
 * port and STARTTLS on a plain one (a self-signed certificate made with
 * openssl), 127.0.0.1 only, special-use folders announced (RFC 6154). The
 * mailboxes are written as files directly (fast: 10,000 messages in about a
 * second), in the layout Dovecot reads: Maildir++, flags in the file names,
 * keywords in dovecot-keywords, internal date = the file's mtime.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DovecotTwin {
  dir: string;
  host: "127.0.0.1";
  /** Its self-signed certificate (PEM): trust it as a CA to verify the server. */
  certFile: string;
  /** Implicit TLS (imaps) and plain/STARTTLS ports. */
  tlsPort: number;
  port: number;
  home(user: string): string;
  stop(): void;
}

export function hasDovecot(): boolean {
  return spawnSync("sh", ["-c", "command -v dovecot"]).status === 0;
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Waits until something accepts connections on 127.0.0.1:port. */
export async function waitListening(port: number, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => {
        c.destroy();
        resolve(true);
      });
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** Starts Dovecot for `users` (all with `password`); call `fill` before to write their maildirs, or after (Dovecot reads the files on SELECT). */
export async function startDovecot(users: string[], password: string): Promise<DovecotTwin> {
  const dir = mkdtempSync(join(tmpdir(), "pillarbox-dovecot-"));
  chmodSync(dir, 0o755);
  for (const d of ["run", "state", "home"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "home"), 0o755);
  const cert = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=old.example.test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { stdio: "ignore" });
  if (cert.status !== 0) throw new Error("openssl could not make a certificate");
  chmodSync(join(dir, "key.pem"), 0o644);
  writeFileSync(join(dir, "passwd"), users.map((u) => `${u}:{PLAIN}${password}::::::\n`).join(""), { mode: 0o644 });
  const tlsPort = await freePort();
  const port = await freePort();
  writeFileSync(
    join(dir, "dovecot.conf"),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = import-test-${port}
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = dovecot
default_login_user = dovenull
passdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=${dir}/home/%u
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = /
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Trash {
    special_use = \\Trash
  }
  mailbox Junk {
    special_use = \\Junk
  }
  mailbox Archive {
    special_use = \\Archive
  }
}
mail_max_userip_connections = 100
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${tlsPort}
    ssl = yes
  }
}
service imap-urlauth-login {
  process_limit = 1
}
`,
  );
  // stdio ignored: the daemon keeps inherited pipes open, and spawnSync would wait for them.
  const r = spawnSync("dovecot", ["-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`dovecot did not start (exit ${r.status}); see ${dir}/dovecot.log`);
  await waitListening(port);
  await waitListening(tlsPort);
  return {
    dir,
    host: "127.0.0.1",
    certFile: join(dir, "cert.pem"),
    tlsPort,
    port,
    home: (u) => join(dir, "home", u),
    stop: () => stopDovecotAt(dir),
  };
}

/** Stops the private Dovecot whose base dir is `dir` (waiting up to 5 s for it to exit) and removes the dir. */
export function stopDovecotAt(dir: string): void {
  try {
    const pid = Number(readFileSync(join(dir, "run", "master.pid"), "utf8"));
    process.kill(pid, "SIGTERM");
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      try {
        process.kill(pid, 0);
      } catch {
        break;
      }
      spawnSync("sleep", ["0.05"]);
    }
  } catch {
    /* not running */
  }
  rmSync(dir, { recursive: true, force: true });
}

export interface GenFolder {
  /** '/'-delimited name; "INBOX" is the root. */
  name: string;
  count: number;
}

/** The 10,000-message tree the issue names (special-use folders, nesting, non-ASCII and "&" names): the import test and scripts/bench/import use the same one. */
export const TREE_10K: GenFolder[] = [
  { name: "INBOX", count: 3600 },
  { name: "Sent", count: 1800 },
  { name: "Drafts", count: 120 },
  { name: "Trash", count: 600 },
  { name: "Junk", count: 400 },
  { name: "Archive", count: 1500 },
  { name: "Projects", count: 900 },
  { name: "Projects/Alpha", count: 600 },
  { name: "Reisen/Übersee", count: 380 },
  { name: "Lists & Co", count: 100 },
];

export interface GenMessage {
  folder: string;
  raw: Buffer;
  flags: string[];
  keywords: string[];
  internalDate: number;
}

const KEYWORDS = ["$Forwarded", "$MDNSent", "project-x", "Urgent"];

/** Modified UTF-7 (RFC 3501 §5.1.3) for one name segment, as Dovecot stores folder names on disk. */
function mutf7(s: string): string {
  return s.replace(/&/g, "&-").replace(/[^\x20-\x7e]+/g, (run) => {
    const b = Buffer.alloc(run.length * 2);
    for (let i = 0; i < run.length; i++) b.writeUInt16BE(run.charCodeAt(i), i * 2);
    return "&" + b.toString("base64").replace(/=+$/, "").replace(/\//g, ",") + "-";
  });
}

/** A deterministic message: varied sizes, some with "From " lines in the body, CRLF line ends. */
export function makeMessage(folder: string, i: number, date: number): Buffer {
  const body: string[] = [];
  const lines = 8 + ((i * 7) % 60);
  for (let l = 0; l < lines; l++) body.push(l % 17 === 3 ? `From the desk of sender ${i}, line ${l}` : `Line ${l} of message ${i} in ${folder}: ${"lorem ipsum dolor ".repeat(1 + ((i + l) % 4))}`);
  const head = [
    `Message-ID: <gen-${i}-${folder.replace(/[^A-Za-z0-9]/g, "_")}@old.example.test>`,
    `Date: ${new Date(date).toUTCString().replace("GMT", "+0000")}`,
    `From: Sender ${i % 13} <sender${i % 13}@example.org>`,
    `To: someone@example.org`,
    `Subject: Message ${i} in ${folder}`,
    `MIME-Version: 1.0`,
    `Content-Type: text/plain; charset=utf-8`,
  ];
  return Buffer.from(head.join("\r\n") + "\r\n\r\n" + body.join("\r\n") + "\r\n");
}

/** Writes a Maildir++ tree for `user` with the given folders; returns what was written (the expected side of comparisons). */
export function fillMaildir(twin: DovecotTwin, user: string, folders: GenFolder[], seed = 1): GenMessage[] {
  const root = join(twin.home(user), "Maildir");
  const out: GenMessage[] = [];
  let n = 0;
  const base = Date.UTC(2019, 0, 1);
  for (const f of folders) {
    const dir = f.name === "INBOX" ? root : join(root, "." + f.name.split("/").map(mutf7).join("."));
    for (const d of ["cur", "new", "tmp"]) mkdirSync(join(dir, d), { recursive: true });
    if (f.name !== "INBOX") writeFileSync(join(dir, "maildirfolder"), "");
    writeFileSync(join(dir, "dovecot-keywords"), KEYWORDS.map((k, i) => `${i} ${k}\n`).join(""));
    for (let i = 0; i < f.count; i++) {
      n++;
      const k = n * 7919 + seed;
      const date = base + ((k * 104729) % (5 * 365 * 86400)) * 1000;
      const raw = makeMessage(f.name, n, date);
      const flags: string[] = [];
      let letters = "";
      if (f.name === "Drafts") (flags.push("\\Draft"), (letters += "D"));
      if (k % 7 === 0) (flags.push("\\Flagged"), (letters += "F"));
      if (k % 5 === 0) (flags.push("\\Answered"), (letters += "R"));
      if (k % 10 < 7) (flags.push("\\Seen"), (letters += "S"));
      if (k % 50 === 1) (flags.push("\\Deleted"), (letters += "T"));
      const keywords: string[] = [];
      for (let j = 0; j < KEYWORDS.length; j++) {
        if ((k >> j) % 9 === 0) (keywords.push(KEYWORDS[j]!), (letters += "abcd"[j]));
      }
      const name = `${1500000000 + n}.M${n}P1.gen,S=${raw.length}:2,${letters}`;
      const path = join(dir, "cur", name);
      writeFileSync(path, raw);
      utimesSync(path, date / 1000, date / 1000);
      out.push({ folder: f.name, raw, flags, keywords, internalDate: date });
    }
  }
  spawnSync("chown", ["-R", "nobody:nogroup", twin.home(user)]);
  return out;
}
