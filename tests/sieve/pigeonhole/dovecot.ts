/**
 * A private Dovecot 2.3 with LMTP and Pigeonhole (Debian dovecot-lmtpd +
 * dovecot-sieve) for the Sieve differential test: its own config, run
 * directory and Maildir homes under a temp dir, LMTP on 127.0.0.1:<free
 * port>, one user whose active script (~/.dovecot.sieve) the harness swaps
 * before each pair, and `submission_host` pointing at the harness's capture
 * SMTP server so redirects, vacation replies and rejection notices are seen.
 *
 * Between pairs the user's home is emptied (Maildir, the compiled script and
 * ~/.dovecot.lda-dupes, which holds Pigeonhole's vacation and duplicate
 * records), so every pair starts from the same state, as a fresh Pillarbox
 * account does.
 */
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, hasDovecot, stopDovecotAt } from "../../import/dovecot.ts";
import { scratchDir } from "./corpus.ts";
import { waitListening } from "./smtp-client.ts";

export { hasDovecot };

/** Pigeonhole's LMTP, as the harness drives it. */
export interface PigeonholeTwin {
  dir: string;
  lmtpPort: number;
  /** The user's home (holds Maildir/, sieve/, .dovecot.sieve). */
  home: string;
  /** Empties the home and installs `script` as the active one. */
  reset(script: string): void;
  /** The last lines of Dovecot's log (for failure messages). */
  logTail(lines?: number): string;
  /** The log's size now, and what was written after such an offset. */
  logSize(): number;
  logSince(offset: number): string;
  stop(): void;
}

/** The folders a new Pillarbox account has (storage/directory.ts DEFAULT_FOLDERS), created the same way on the Dovecot side. */
export const DEFAULT_FOLDERS = ["Drafts", "Sent", "Trash", "Junk", "Archive"] as const;

/** `nobody`: Dovecot refuses mail access as root (first_valid_uid). */
const UID = 65534;
const GID = 65534;

export interface PigeonholeOptions {
  user: string;
  /** 127.0.0.1:<port> of the capture SMTP server (Pigeonhole's submission_host). */
  submissionPort: number;
  /** sieve_vacation_min_period / default / max, in seconds (Pillarbox's config.sieve). */
  vacationMinSeconds: number;
  vacationDefaultSeconds: number;
  vacationMaxSeconds: number;
  /** sieve_spamtest_max_value: the score that counts as certainly spam (see spamtest in ./compare.ts). */
  spamMaxScore: number;
}

export async function startPigeonhole(opts: PigeonholeOptions): Promise<PigeonholeTwin> {
  const dir = mkdtempSync(join(scratchDir(), "pillarbox-pigeonhole-"));
  chmodSync(dir, 0o755);
  for (const d of ["run", "state", "home"]) mkdirSync(join(dir, d), { recursive: true });
  chmodSync(join(dir, "home"), 0o755);
  const local = opts.user.slice(0, opts.user.indexOf("@"));
  const home = join(dir, "home", local);
  writeFileSync(join(dir, "passwd"), `${opts.user}:{PLAIN}unused-password::::::\n`, { mode: 0o644 });
  const lmtpPort = await freePort();
  const folders = DEFAULT_FOLDERS.map((f) => `  mailbox ${f} {\n    auto = create\n  }\n`).join("");
  writeFileSync(
    join(dir, "dovecot.conf"),
    `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = pigeonhole-diff-${lmtpPort}
log_path = ${dir}/dovecot.log
info_log_path = ${dir}/dovecot.log
protocols = lmtp
listen = 127.0.0.1
ssl = no
hostname = mail.example.test
postmaster_address = postmaster@example.test
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = ${UID}
passdb {
  driver = passwd-file
  args = username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${UID} gid=${GID} home=${dir}/home/%n allow_all_users=yes
}
# The domain is the Pillarbox user's, so %n (the local part) finds the home.
auth_username_format = %Lu
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
# Speed over durability for a throw-away test instance: indexes in memory, no fsync.
mail_location = maildir:~/Maildir:INDEX=MEMORY
mail_fsync = never
# Mailbox and server annotations (RFC 5464) for mboxmetadata/servermetadata (RFC 5490 §4).
mail_attribute_dict = file:%h/dovecot-attributes
namespace inbox {
  inbox = yes
  separator = /
${folders}}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${lmtpPort}
  }
}
service imap-urlauth-login {
  process_limit = 1
}
submission_host = 127.0.0.1:${opts.submissionPort}
protocol lmtp {
  mail_plugins = sieve
}
plugin {
  sieve = file:~/sieve;active=~/.dovecot.sieve
  sieve_extensions = +editheader +vacation-seconds +spamtest +spamtestplus +mboxmetadata +servermetadata
  sieve_vacation_min_period = ${opts.vacationMinSeconds}s
  sieve_vacation_default_period = ${opts.vacationDefaultSeconds}s
  sieve_vacation_max_period = ${opts.vacationMaxSeconds}s
  sieve_max_actions = 32
  sieve_max_redirects = 4
  # spamtest/spamtestplus (RFC 5235) read the score from X-Spam-Score, the
  # header Pillarbox's spam filter writes; the Pillarbox side is fed the same
  # number (see tests/sieve/pigeonhole/pillarbox.ts).
  sieve_spamtest_status_type = score
  sieve_spamtest_status_header = X-Spam-Score
  sieve_spamtest_max_value = ${opts.spamMaxScore}
}
`,
  );
  // stdio ignored: the daemon keeps inherited pipes open, and spawnSync would wait for them.
  const r = spawnSync("dovecot", ["-c", join(dir, "dovecot.conf")], { stdio: "ignore" });
  if (r.status !== 0) throw new Error(`dovecot did not start (exit ${r.status}): ${tail(join(dir, "dovecot.log"), 20)}`);
  await waitListening(lmtpPort);
  return {
    dir,
    lmtpPort,
    home,
    reset(script) {
      rmSync(home, { recursive: true, force: true });
      mkdirSync(join(home, "sieve"), { recursive: true });
      writeFileSync(join(home, "sieve", "active.sieve"), script);
      // A relative symlink, as ManageSieve's SETACTIVE makes it.
      symlinkSync("sieve/active.sieve", join(home, ".dovecot.sieve"));
      for (const p of [home, join(home, "sieve"), join(home, "sieve", "active.sieve")]) chownSync(p, UID, GID);
    },
    logTail: (n = 30) => tail(join(dir, "dovecot.log"), n),
    logSize: () => statSync(join(dir, "dovecot.log")).size,
    logSince(offset) {
      const f = join(dir, "dovecot.log");
      const size = statSync(f).size;
      if (size <= offset) return "";
      const fd = openSync(f, "r");
      try {
        const buf = Buffer.alloc(size - offset);
        readSync(fd, buf, 0, buf.length, offset);
        return buf.toString("utf8");
      } finally {
        closeSync(fd);
      }
    },
    stop: () => stopDovecotAt(dir),
  };
}

function tail(file: string, n: number): string {
  try {
    return readFileSync(file, "utf8").split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}
