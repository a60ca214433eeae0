/**
 * Pillarbox's own runner for imaptest's scripted tests (the format of
 * Dovecot imaptest's src/tests; wiki "ImapTest/ScriptedTests").
 *
 * Semantics follow imaptest at commit 924f619 (src/test-exec.c,
 * imap-client.c, client-state.c, commands.c), so the three figures it reports
 * mean the same thing as imaptest's:
 *   - test groups: one per script file; a group fails when any check in it failed;
 *   - base protocol commands: command groups finished in scripts without a
 *     `capabilities:` header (a command group is one command, or several
 *     pipelined ones, with its expected replies; the LOGOUT the parser appends
 *     counts too); failures = every failed check in those scripts;
 *   - extension commands: the same for scripts with a `capabilities:` header.
 * A script whose required capabilities the server does not advertise after
 * login is skipped (imaptest 924f619 counts it neither as failed nor as skipped
 * and its commands in neither total; this runner reports it as skipped).
 *
 * Per script: connect N connections, LOGIN, delete every mailbox matching
 * "imaptest*" (LIST/LSUB + DELETE/UNSUBSCRIBE), CREATE "imaptest", APPEND the
 * script's mbox messages (`messages:` header) with the From_ line's date, SELECT
 * it on every connection (per `state:`), then run the command groups. Each
 * group runs on one connection; only that connection's input is read meanwhile,
 * so untagged replies another session caused are seen by the group that next
 * runs on the receiving connection. Untagged replies listed with `*` must
 * arrive (any order), `!` must not, `?` may; the tagged reply must start with
 * the expected status/text.
 *
 * CLI:
 *   bun tests/imaptest/runner.ts --host 127.0.0.1 --port 143 --user U --pass P
 *       [--user2 U2] [--dir SCRIPTS_DIR] [--timeout-ms 30000] [--verbose] [script ...]
 * Scripts dir default: $PILLARBOX_IMAPTEST_SCRIPTS or <repo>/../shared/imaptest-scripts.
 */
import { connect, type Socket } from "node:net";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { argsToString, asciiUpper, eqCI, isAstring, isAtom, parseImapArgs, type ImapArg } from "./imap-args.ts";
import { expandAll, matchArgs, MATCH, type MatchContext } from "./match.ts";
import { imapDatetime, MboxSource } from "./mbox.ts";
import { listScripts, loadScript, ScriptParseError, type CommandGroup, type ImapTestScript, type TestCommand } from "./script.ts";

export interface RunnerConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  /** Username for scripts with `user N: $user2` (same password). Without it those scripts are skipped. */
  user2?: string;
  /** Test mailbox (imaptest's default for tests: "imaptest"). */
  mailbox?: string;
  /** Wait this long for any reply before failing the script (default 30 s). */
  commandTimeoutMs?: number;
  /** Called with protocol traces and warnings when set. */
  log?: (line: string) => void;
}

export interface ScriptFailure {
  /** 1-based command group index and total, like imaptest's "command 3/12". */
  group: number;
  groups: number;
  line: number;
  command: string;
  message: string;
}

export interface ScriptResult {
  name: string;
  kind: "base" | "ext";
  status: "passed" | "failed" | "skipped";
  skipReason?: string;
  /** Command groups that ran to completion (what imaptest adds to its totals). */
  commandsRun: number;
  /** Command groups in the script (including the appended LOGOUT). */
  commandsTotal: number;
  /** Every failed check, in order (imaptest counts each one). */
  failures: ScriptFailure[];
  /** Lines from `!output` directives. */
  output: string[];
}

export interface RunSummary {
  groups: number;
  groupsFailed: number;
  groupsSkipped: number;
  baseCommands: number;
  baseFailed: number;
  extCommands: number;
  extFailed: number;
  results: ScriptResult[];
}

type Reply = "ok" | "no" | "bad";
type LoginState = "nonauth" | "auth" | "selected";

interface PendingCommand {
  tag: number;
  cmdline: string;
  expectBad: boolean;
  isAppend: boolean;
  /** Octets still to send after a "+" continuation (synchronising literals / APPEND without LITERAL+). */
  chunks: string[];
  onReply(args: ImapArg[], reply: Reply): void;
}

type ConnEvent = { kind: "line"; text: string } | { kind: "eof" };

class EndTest extends Error {}

let globalIdCounter = 0;

/** Resets the connection id counter (tags are "<connection id>.<n>", as imaptest's). */
export function resetConnectionIds(): void {
  globalIdCounter = 0;
}

const SYSTEM_FLAGS = new Set(["\\ANSWERED", "\\FLAGGED", "\\DELETED", "\\SEEN", "\\DRAFT", "\\RECENT"]);

/** One IMAP connection with imaptest's client-side state tracking. */
class Conn {
  readonly globalId = ++globalIdCounter;
  readonly username: string;
  private sock: Socket | null = null;
  private buf = "";
  private scanFrom = 0;
  private events: ConnEvent[] = [];
  private wake: (() => void) | null = null;
  eof = false;
  /** Set when imaptest would disconnect the client after an input error. */
  disconnectReason: string | null = null;
  private tagCounter = 1;
  pending = new Map<number, PendingCommand>();
  lastCmd: PendingCommand | null = null;
  capabilities: string[] = [];
  postloginCapability = false;
  seenBanner = false;
  loginState: LoginState = "nonauth";
  /** imaptest's client->client.state distinctions that matter here. */
  logoutState = false;
  logoutSent = false;
  seenBye = false;
  qresyncEnabled = false;
  storageName: string;
  /** uid per sequence (0 = not yet known), like imaptest's view->uidmap. */
  uids: number[] = [];
  knownUids = 0;
  /** LIST/LSUB names seen (for the initial cleanup). */
  listNames: string[] = [];
  lsubNames: string[] = [];

  constructor(
    readonly runner: ScriptRun,
    username: string,
    mailbox: string,
  ) {
    this.username = username;
    this.storageName = mailbox;
  }

  get hasLiteralPlus(): boolean {
    return this.capabilities.some((c) => eqCI(c, "LITERAL+"));
  }

  open(host: string, port: number, timeoutMs: number): Promise<void> {
    return new Promise((resolveOpen, reject) => {
      const sock = connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect to ${host}:${port} timed out`));
      }, timeoutMs);
      sock.setNoDelay(true);
      sock.once("connect", () => {
        clearTimeout(timer);
        this.sock = sock;
        resolveOpen();
      });
      sock.on("error", (e) => {
        clearTimeout(timer);
        if (!this.sock) reject(e);
        else this.runner.trace(`C${this.globalId} socket error: ${e.message}`);
      });
      sock.on("data", (d: Buffer) => this.onData(d));
      sock.on("close", () => {
        this.eof = true;
        this.events.push({ kind: "eof" });
        this.notify();
      });
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private onData(d: Buffer): void {
    this.buf += d.toString("latin1");
    this.frame();
    this.notify();
  }

  /** Splits the input into complete responses (a line plus any literals it announces). */
  private frame(): void {
    for (;;) {
      // scanFrom: start of the part of the response after the last literal read
      const nl = this.buf.indexOf("\n", this.scanFrom);
      if (nl < 0) return;
      let lineEnd = nl;
      if (lineEnd > this.scanFrom && this.buf[lineEnd - 1] === "\r") lineEnd--;
      // a literal starts where an argument starts: after SP, "(" or ")"
      const segment = this.buf.slice(Math.max(this.scanFrom, lineEnd - 40), lineEnd);
      const m = /[ ()]~?\{(\d+)\+?\}$/.exec(segment);
      if (m) {
        const size = Number(m[1]);
        if (this.buf.length < nl + 1 + size) return; // wait for the literal
        this.scanFrom = nl + 1 + size;
        continue;
      }
      const text = this.buf.slice(0, lineEnd);
      this.buf = this.buf.slice(nl + 1);
      this.scanFrom = 0;
      this.events.push({ kind: "line", text });
    }
  }

  /** Next event, or null on timeout. */
  async next(timeoutMs: number): Promise<ConnEvent | null> {
    if (this.events.length > 0) return this.events.shift()!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const got = await new Promise<boolean>((res) => {
      this.wake = () => res(true);
      timer = setTimeout(() => res(false), timeoutMs);
    });
    clearTimeout(timer);
    this.wake = null;
    if (!got && this.events.length === 0) return null;
    return this.events.shift() ?? null;
  }

  write(data: string): void {
    this.runner.trace(`C${this.globalId}: ${data.length > 400 ? data.slice(0, 400) + `...(${data.length} octets)` : data.trimEnd()}`);
    if (this.sock && !this.sock.destroyed && this.disconnectReason === null) this.sock.write(Buffer.from(data, "latin1"));
  }

  close(): void {
    if (this.sock) {
      this.sock.destroy();
      this.sock = null;
    }
  }

  /** imap_client_input_error(): logs and disconnects (the disconnection is noticed after the current reply). */
  inputError(message: string): void {
    this.runner.trace(`C${this.globalId} input error: ${message}`);
    if (this.disconnectReason === null) this.disconnectReason = message;
  }

  warn(message: string): void {
    this.runner.trace(`C${this.globalId} warning: ${message}`);
  }

  /** command_send_binary(): tags the command, converts literals, sends. */
  send(cmdline: string, onReply: PendingCommand["onReply"], opts: { expectBad?: boolean } = {}): PendingCommand {
    const tag = this.tagCounter++;
    const chunks = this.literalChunks(cmdline);
    const first = `${this.globalId}.${tag} ${chunks.shift()}`;
    const cmd: PendingCommand = { tag, cmdline, expectBad: opts.expectBad ?? false, isAppend: false, chunks, onReply };
    this.switchStorageFor(cmdline);
    this.pending.set(tag, cmd);
    this.queueOut(cmd, first + (chunks.length === 0 ? "\r\n" : ""));
    return cmd;
  }

  /** Commands waiting for an earlier command's "+" before they may be sent. */
  private outQueue: { cmd: PendingCommand; first: string }[] = [];
  /** The command whose remaining parts wait for "+". */
  private awaitingCont: PendingCommand | null = null;

  private queueOut(cmd: PendingCommand, first: string): void {
    if (this.awaitingCont !== null) {
      this.outQueue.push({ cmd, first });
      return;
    }
    this.lastCmd = cmd;
    this.write(first);
    if (cmd.chunks.length > 0) this.awaitingCont = cmd;
  }

  /** APPEND of the next mbox message, as imap_client_append() builds it. */
  sendAppend(args: string, addDatetime: boolean, source: MboxSource, onReply: PendingCommand["onReply"]): PendingCommand {
    const msg = source.take();
    let line = `APPEND ${args}`;
    if (addDatetime) line += ` "${imapDatetime(msg.time, msg.tzOffsetMin)}"`;
    const plus = this.hasLiteralPlus;
    line += ` {${msg.data.length}${plus ? "+" : ""}}`;
    const tag = this.tagCounter++;
    const cmd: PendingCommand = { tag, cmdline: line, expectBad: false, isAppend: true, chunks: plus ? [] : [msg.data + "\r\n"], onReply };
    this.pending.set(tag, cmd);
    this.queueOut(cmd, plus ? `${this.globalId}.${tag} ${line}\r\n${msg.data}\r\n` : `${this.globalId}.${tag} ${line}\r\n`);
    return cmd;
  }

  /**
   * command_get_cmdline(): a script command spanning lines carries literals
   * ("{N}" at a line end). With LITERAL+ they are all sent at once as {N+};
   * otherwise the command is split and each part waits for "+".
   */
  private literalChunks(cmdline: string): string[] {
    if (!cmdline.includes("\n")) return [cmdline];
    const plus = this.hasLiteralPlus;
    const chunks: string[] = [];
    let cur = "";
    let rest = cmdline;
    for (;;) {
      const nl = rest.indexOf("\n");
      if (nl < 0) break;
      const line = rest.slice(0, nl + 1);
      const m = /^(.*[ ]~?)\{(\d+)(\+?)\}\r?\n$/s.exec(line);
      if (!m) {
        cur += line;
        rest = rest.slice(nl + 1);
        continue;
      }
      const size = Number(m[2]);
      const nonsync = m[3] === "+" || plus;
      cur += `${m[1]}{${m[2]}${nonsync ? "+" : ""}}\r\n`;
      if (!nonsync) {
        chunks.push(cur);
        cur = "";
      }
      rest = rest.slice(nl + 1);
      cur += rest.slice(0, size);
      rest = rest.slice(size);
    }
    cur += rest;
    chunks.push(cur);
    return chunks;
  }

  /** SELECT/EXAMINE of another mailbox switches imaptest's view (message count back to 0). */
  private switchStorageFor(cmdline: string): void {
    const sp = cmdline.indexOf(" ");
    if (sp < 0) return;
    const name = cmdline.slice(0, sp).toUpperCase();
    if (name !== "SELECT" && name !== "EXAMINE") return;
    const r = parseImapArgs(cmdline.slice(sp + 1));
    if (!r.ok || !isAstring(r.args[0])) return;
    const box = r.args[0].str;
    if (box !== this.storageName) {
      this.storageName = box;
      this.uids = [];
      this.knownUids = 0;
    }
  }

  /** A "+" continuation: send the next part of the pending command, if any. */
  continuation(): boolean {
    const cmd = this.awaitingCont;
    if (cmd === null || cmd.chunks.length === 0) return false;
    const part = cmd.chunks.shift()!;
    this.write(cmd.isAppend || cmd.chunks.length > 0 ? part : part + "\r\n");
    if (cmd.chunks.length === 0) {
      this.awaitingCont = null;
      while (this.awaitingCont === null && this.outQueue.length > 0) {
        const next = this.outQueue.shift()!;
        this.queueOut(next.cmd, next.first);
      }
    }
    return true;
  }

  /** A command finished (or failed) before sending all its parts. */
  dropPending(cmd: PendingCommand): void {
    if (this.awaitingCont === cmd) {
      cmd.chunks = [];
      this.awaitingCont = null;
      while (this.awaitingCont === null && this.outQueue.length > 0) {
        const next = this.outQueue.shift()!;
        this.queueOut(next.cmd, next.first);
      }
    }
  }

  mailboxClose(): void {
    if (this.loginState === "selected") this.loginState = "auth";
    this.uids = [];
    this.knownUids = 0;
  }

  exists(n: number): void {
    if (n < this.uids.length) {
      this.inputError(`Message count dropped ${this.uids.length} -> ${n}`);
      this.uids.length = n;
      return;
    }
    while (this.uids.length < n) this.uids.push(0);
  }

  expunge(seq: number): void {
    if (seq === 0) return this.inputError("Tried to expunge sequence 0");
    if (seq > this.uids.length) return this.inputError(`Tried to expunge sequence ${seq} with only ${this.uids.length} msgs`);
    const [uid] = this.uids.splice(seq - 1, 1);
    if (uid !== 0) this.knownUids--;
  }

  capabilityParse(line: string): void {
    if (this.loginState !== "nonauth") this.postloginCapability = true;
    this.capabilities = line.split(" ");
  }
}

function parseSeqSet(s: string): number[] | null {
  const out: number[] = [];
  for (const part of s.split(",")) {
    const m = /^(\d+)(?::(\d+))?$/.exec(part);
    if (!m) return null;
    let a = Number(m[1]);
    let b = m[2] === undefined ? a : Number(m[2]);
    if (a > b) [a, b] = [b, a];
    if (b - a > 1_000_000) return null;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

const DATETIME_RE = /^([ \d]?\d)-(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)-\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}$/i;

function fetchListGet(list: ImapArg[], key: string): ImapArg | undefined {
  for (let i = 0; i + 1 < list.length; i += 2) {
    const k = list[i];
    if (isAtom(k) && eqCI(k.str, key)) return list[i + 1];
  }
  return undefined;
}

/** The execution of one script. */
class ScriptRun implements MatchContext {
  variables = new Map<string, string>();
  added: string[] = [];
  seqmap: number[] = [];
  conns: Conn[] = [];
  readonly result: ScriptResult;
  private source: MboxSource;
  private initFinished = false;
  private curGroupIdx = 0;
  private found: boolean[] = [];
  private maybes: { count: number; str: string }[] = [];
  private mismatchCount = 0;
  private firstExtra: string | null = null;
  private readonly mailbox: string;
  private readonly timeoutMs: number;
  private sleepAfterGroup = 0;

  constructor(
    readonly test: ImapTestScript,
    readonly cfg: RunnerConfig,
  ) {
    this.mailbox = cfg.mailbox ?? "imaptest";
    this.timeoutMs = cfg.commandTimeoutMs ?? 30_000;
    this.source = MboxSource.open(test.mboxPath);
    this.result = {
      name: test.name,
      kind: test.requiredCapabilities === null ? "base" : "ext",
      status: "passed",
      commandsRun: 0,
      commandsTotal: test.groups.length,
      failures: [],
      output: [],
    };
  }

  trace(line: string): void {
    this.cfg.log?.(`[${this.test.name}] ${line}`);
  }

  private get group(): CommandGroup | undefined {
    return this.test.groups[this.curGroupIdx];
  }

  /** test_fail(): every call counts as one failed command in the totals. */
  fail(message: string): void {
    const g = this.group;
    const cmd = this.initFinished && g ? g.commands[0] : undefined;
    this.result.failures.push({
      group: this.initFinished ? this.curGroupIdx + 1 : 0,
      groups: this.test.groups.length,
      line: cmd?.linenum ?? 0,
      command: cmd ? cmd.command : "(initialization)",
      message,
    });
    this.result.status = "failed";
    this.trace(`FAIL: ${message}`);
  }

  async run(): Promise<ScriptResult> {
    try {
      await this.setup();
      if (this.result.status === "skipped") return this.result;
      this.initFinished = true;
      for (this.curGroupIdx = 0; this.curGroupIdx < this.test.groups.length; ) {
        await this.runGroup(this.test.groups[this.curGroupIdx]);
      }
    } catch (e) {
      if (!(e instanceof EndTest)) throw e;
    } finally {
      for (const c of this.conns) c.close();
    }
    return this.result;
  }

  // ---- setup (test_send_lstate_commands / init_callback) ----

  private async setup(): Promise<void> {
    const t = this.test;
    for (let i = 0; i < t.connectionCount; i++) {
      const username = t.usernames[i] ?? this.cfg.user;
      const c = new Conn(this, username, this.mailbox);
      this.conns.push(c);
      const key = (base: string) => (i === 0 ? base : `${base}${i + 1}`);
      this.variables.set(key("user"), username);
      this.variables.set(key("username"), username.split("@")[0]);
      const at = username.indexOf("@");
      this.variables.set(key("domain"), at >= 0 ? username.slice(at + 1) : this.cfg.host);
      this.variables.set(key("password"), this.cfg.password);
    }
    this.variables.set("mailbox", this.mailbox);
    this.variables.set("mailbox_url", encodeURIComponent(this.mailbox).replace(/%2F/gi, "/"));


    await Promise.all(this.conns.map((c) => c.open(this.cfg.host, this.cfg.port, this.timeoutMs)));
    for (const c of this.conns) await this.readBanner(c);
    if (t.startupState === "nonauth") return;

    for (const c of this.conns) {
      if (c.loginState !== "nonauth") continue; // PREAUTH greeting
      await this.initCommand(c, `LOGIN "${escapeQuoted(c.username)}" "${escapeQuoted(this.cfg.password)}"`, "login");
      if (c.loginState === "nonauth") throw this.initFailure("LOGIN failed");
    }
    const c0 = this.conns[0];
    if (!c0.postloginCapability) {
      const reply = await this.initCommand(c0, "CAPABILITY", "capability");
      if (reply !== "ok" || !c0.postloginCapability) throw this.initFailure("CAPABILITY failed");
    }
    const missing = (t.requiredCapabilities ?? []).filter((req) => !c0.capabilities.some((h) => eqCI(h, req)));
    if (missing.length > 0) {
      this.skipScript(`capability not advertised: ${missing.join(" ")}`);
      return;
    }
    if (t.requireUser2 && !this.cfg.user2) {
      this.skipScript("needs a second user (user 2: $user2) and none is configured");
      return;
    }

    // delete and unsubscribe every mailbox matching "<mailbox>*"
    const mask = quoteString(this.mailbox + "*");
    c0.listNames = [];
    c0.lsubNames = [];
    await Promise.all([this.initCommand(c0, `LIST "" ${mask}`, "strict"), this.initCommand(c0, `LSUB "" ${mask}`, "strict")]);
    const revSort = (a: string[]) => [...a].sort((x, y) => (asciiUpper(x) < asciiUpper(y) ? 1 : asciiUpper(x) > asciiUpper(y) ? -1 : 0));
    const cleanup: Promise<Reply>[] = [];
    for (const box of revSort(c0.listNames)) cleanup.push(this.initCommand(c0, `DELETE ${quoteString(box)}`, "lenient"));
    for (const box of revSort(c0.lsubNames)) cleanup.push(this.initCommand(c0, `UNSUBSCRIBE ${quoteString(box)}`, "lenient"));
    await Promise.all(cleanup);
    if (t.startupState === "auth") return;

    if (!eqCI(this.mailbox, "INBOX")) await this.initCommand(c0, `CREATE ${quoteString(this.mailbox)}`, "strict");
    let left = t.messageCount;
    while (left > 0 && (!this.source.eof() || t.messageCount !== Infinity)) {
      left--;
      await this.initAppend(c0);
    }
    if (t.startupState === "created" || t.startupState === "appended") return;
    for (const c of this.conns) await this.initCommand(c, `SELECT ${quoteString(this.mailbox)}`, "strict");
  }

  private skipScript(reason: string): void {
    this.result.status = "skipped";
    this.result.skipReason = reason;
    this.trace(`skipped: ${reason}`);
  }

  private initFailure(message: string): EndTest {
    this.fail(message);
    return this.initAbort();
  }

  /** After a failed setup step imaptest stops sending and drops the client, which it then reports too. */
  private initAbort(): EndTest {
    this.fail("Unexpected disconnection");
    return new EndTest();
  }

  private async readBanner(c: Conn): Promise<void> {
    const ev = await c.next(this.timeoutMs);
    if (ev === null) throw this.initFailure("Timeout while waiting for the server greeting");
    if (ev.kind === "eof") {
      this.fail("Unexpected disconnection");
      throw new EndTest();
    }
    this.trace(`S${c.globalId}: ${ev.text}`);
    c.seenBanner = true;
    if (ev.text.slice(0, 10).toUpperCase() === "* PREAUTH ") c.loginState = "auth";
    else if (ev.text.slice(0, 5).toUpperCase() !== "* OK ") c.inputError(`Malformed banner "${ev.text}"`);
    const p = ev.text.indexOf("[CAPABILITY ");
    if (p >= 0) {
      const end = ev.text.indexOf("]", p);
      c.capabilityParse(ev.text.slice(p + 12, end < 0 ? undefined : end));
    } else {
      await this.initCommand(c, "CAPABILITY", "capability");
    }
    this.checkDisconnect();
  }

  /**
   * Sends a setup command and waits for its reply.
   * mode "login"/"capability": like imaptest's state_callback (resp-text codes are parsed);
   * "strict": NO/BAD fail the test; "lenient": NO is ignored (DELETE of a \NoSelect parent).
   */
  private initCommand(c: Conn, cmdline: string, mode: "login" | "capability" | "strict" | "lenient"): Promise<Reply> {
    return new Promise<Reply>((resolveCmd, reject) => {
      const sent = c.send(cmdline, (args, reply) => {
        if (mode === "login" || mode === "capability") {
          if (mode === "login" && reply === "ok") c.loginState = "auth";
          this.tracker(c).taggedReply(cmdline, args.slice(1), reply, true);
          if (reply !== "ok" && mode === "login") c.inputError("authentication failed");
        } else {
          this.tracker(c).taggedReply(cmdline, args, reply, false);
          if (reply === "bad" || (reply === "no" && mode === "strict")) {
            this.fail(`${cmdline} (tag ${c.globalId}.${sent.tag}) failed: ${argsToString(args)}`);
          }
        }
        resolveCmd(reply);
      });
      this.pump(c, () => !c.pending.size).catch(reject);
    }).then((reply) => {
      if (this.result.status === "failed") throw this.initAbort();
      return reply;
    });
  }

  private initAppend(c: Conn): Promise<void> {
    return new Promise<void>((resolveCmd, reject) => {
      c.sendAppend(`"${c.storageName}"`, true, this.source, (args, reply) => {
        this.tracker(c).taggedReply("APPEND", args, reply, false);
        if (reply !== "ok") this.fail(`APPEND failed: ${argsToString(args)}`);
        resolveCmd();
      });
      this.pump(c, () => !c.pending.size).catch(reject);
    }).then(() => {
      if (this.result.status === "failed") throw this.initAbort();
    });
  }

  // ---- reading replies ----

  private pumping = new Set<Conn>();

  /** Reads and handles replies on `c` until done() holds. */
  private async pump(c: Conn, done: () => boolean): Promise<void> {
    if (this.pumping.has(c)) return; // another waiter is already reading this connection
    this.pumping.add(c);
    try {
      while (!done()) {
        const ev = await c.next(this.timeoutMs);
        if (ev === null) {
          const cmd = c.lastCmd;
          this.fail(`Timeout while waiting for server response${cmd ? ` to: ${cmd.cmdline.slice(0, 200)}` : ""}`);
          throw new EndTest();
        }
        if (ev.kind === "eof") {
          this.handleEof(c);
          continue;
        }
        this.trace(`S${c.globalId}: ${ev.text.length > 600 ? ev.text.slice(0, 600) + "..." : ev.text}`);
        this.handleLine(c, ev.text);
        this.checkDisconnect();
      }
    } finally {
      this.pumping.delete(c);
    }
  }

  /** A client imaptest disconnected after an input error: the test ends here. */
  private checkDisconnect(): void {
    for (const c of this.conns) {
      if (c.disconnectReason !== null) {
        c.close();
        if (!(c.seenBye && this.group?.haveBye && this.initFinished)) this.fail(`Unexpected disconnection (${c.disconnectReason})`);
        throw new EndTest();
      }
    }
  }

  /** test_exec_client_disconnected() + test_execute_cancel_by_client(). */
  private handleEof(c: Conn): void {
    const g = this.group;
    if (this.initFinished && g && g.haveBye && c.seenBye && g.connIdx === this.conns.indexOf(c)) {
      for (const cmd of g.commands) {
        if (!(cmd.reply && cmd.reply.length === 1 && cmd.reply[0].type === "atom" && cmd.reply[0].str === "")) {
          this.fail(`Command expected '${argsToString(cmd.reply ?? [])}' as tagged reply - only "" allowed when BYE happens`);
        }
      }
      c.pending.clear();
      this.groupFinished(g);
      throw new GroupDone();
    }
    this.fail("Unexpected disconnection");
    throw new EndTest();
  }

  private handleLine(c: Conn, text: string): void {
    const parsed = parseImapArgs(text);
    if (!parsed.ok) {
      c.inputError(`error parsing input: ${parsed.error}`);
      return;
    }
    const args = parsed.args;
    const tagArg = args[0];
    if (!isAtom(tagArg)) return c.inputError("Broken tag");
    const tag = tagArg.str;
    if (tag === "+") {
      if (!c.continuation()) {
        // imaptest only expects continuations for APPEND / IDLE; others are an input error
        if (!(c.lastCmd && /^idle$/i.test(c.lastCmd.cmdline.trim()))) c.inputError("Unexpected continuation");
      }
      return;
    }
    if (tag === "*") {
      this.handleUntagged(c, args.slice(1));
      return;
    }
    const status = args[1];
    if (!isAtom(status)) return c.inputError("Broken tagged reply");
    const dot = tag.indexOf(".");
    const cmd = dot > 0 && Number(tag.slice(0, dot)) === c.globalId ? c.pending.get(parseInt(tag.slice(dot + 1), 10)) : undefined;
    if (!cmd) return c.inputError(`Unexpected tagged reply: ${tag}`);
    const st = status.str.toUpperCase();
    let reply: Reply;
    if (st === "OK") reply = "ok";
    else if (st === "NO") reply = "no";
    else if (st === "BAD") {
      reply = "bad";
      if (!cmd.expectBad) c.inputError(`BAD reply for command: ${cmd.cmdline.slice(0, 200)}`);
    } else return c.inputError("Broken tagged reply");
    c.pending.delete(cmd.tag);
    c.dropPending(cmd);
    if (c.lastCmd === cmd) c.lastCmd = null;
    cmd.onReply(args.slice(1), reply);
  }

  private tracker(c: Conn) {
    return {
      taggedReply: (cmdline: string, args: ImapArg[], reply: Reply, respText: boolean) => {
        const lc = cmdline.toLowerCase();
        if (lc.startsWith("select ") || lc.startsWith("examine ")) {
          if (reply === "ok") c.loginState = "selected";
        } else if (lc === "close" || lc === "unselect") {
          if (reply === "ok" && c.loginState === "selected") c.mailboxClose();
        }
        if (respText) this.respTextCode(c, args);
      },
    };
  }

  /** imap_client_handle_resp_text_code() */
  private respTextCode(c: Conn, args: ImapArg[]): void {
    const first = args[0];
    if (!first || first.type !== "atom") {
      c.inputError("Invalid resp-text");
      return;
    }
    const value = argsToString(args);
    if (value[0] !== "[") {
      if (value === "") c.warn("Missing text in resp-text");
      return;
    }
    const close = value.indexOf("]");
    if (close < 0) {
      c.inputError("Missing ']' in resp-text");
      return;
    }
    if (value[close + 1] !== " " || value.length <= close + 2) c.warn("Missing text in resp-text");
    let key = value.slice(1, close);
    let rest = "";
    const sp = key.indexOf(" ");
    if (sp >= 0) {
      rest = key.slice(sp + 1);
      key = key.slice(0, sp);
    }
    if (key === "CAPABILITY") c.capabilityParse(rest);
    else if (key === "CLOSED") {
      if (c.loginState !== "selected") c.warn("CLOSED code sent in non-selected state");
      else c.mailboxClose();
    } else if (key === "PERMANENTFLAGS") {
      const r = parseImapArgs(rest);
      const list = r.ok && r.args[0]?.type === "list" ? r.args[0].list : null;
      if (!list || list.some((f) => !isAtom(f) || (f.str.startsWith("\\") && f.str !== "\\*" && !SYSTEM_FLAGS.has(f.str.toUpperCase())))) {
        c.inputError("Broken PERMANENTFLAGS");
      }
    } else if (key === "HIGHESTMODSEQ") {
      if (!/^\d+$/.test(rest)) c.warn(`Invalid HIGHESTMODSEQ ${rest}`);
    }
  }

  /** imap_client_handle_untagged() state tracking, then test_handle_untagged(). */
  private handleUntagged(c: Conn, args: ImapArg[]): void {
    const a0 = args[0];
    if (!isAtom(a0)) return c.inputError("Invalid untagged input");
    const name = a0.str.toUpperCase();
    if (/^\d+$/.test(name)) {
      const num = Number(name);
      const a1 = args[1];
      if (!isAtom(a1)) return c.inputError("Invalid untagged input");
      const what = a1.str.toUpperCase();
      if (what === "EXISTS") c.exists(num);
      if (num > c.uids.length && what !== "EXPUNGE") {
        if (what !== "EXISTS" && what !== "RECENT") c.warn(`seq too high (${num} > ${c.uids.length})`);
      } else if (what === "EXPUNGE") c.expunge(num);
      else if (what === "FETCH") this.handleFetch(c, num, args.slice(2));
    } else if (name === "BYE") {
      if (!c.logoutSent || c.seenBye) c.warn("Unexpected BYE");
      c.mailboxClose();
      c.seenBye = true;
      c.loginState = "nonauth";
    } else if (name === "FLAGS") {
      const l = args[1];
      if (!l || l.type !== "list" || l.list.some((f) => !isAtom(f) || (f.str.startsWith("\\") && !SYSTEM_FLAGS.has(f.str.toUpperCase())))) {
        c.inputError("Broken FLAGS");
      }
    } else if (name === "CAPABILITY") {
      c.capabilityParse(argsToString(args.slice(1)));
    } else if (name === "LIST" || name === "LSUB") {
      const l = args[1];
      const box = args[3];
      if (l?.type === "list" && isAstring(args[2]) && isAstring(box)) {
        (name === "LIST" ? c.listNames : c.lsubNames).push(box.str);
      }
    } else if (name === "ENABLED") {
      if (args.slice(1).some((a) => isAtom(a) && eqCI(a.str, "QRESYNC"))) c.qresyncEnabled = true;
    } else if (name === "VANISHED") {
      this.handleVanished(c, args.slice(1));
    } else if (name === "OK") {
      this.respTextCode(c, args.slice(1));
    } else if (name === "BAD") {
      c.warn("BAD received");
    }

    if (this.initFinished) this.matchUntagged(c, args);

    if (isAtom(args[0]) && isAtom(args[1]) && eqCI(args[1].str, "EXPUNGE")) {
      // update the relative sequence map after matching (test_handle_expunge)
      const seq = parseInt(args[0].str, 10) || 0;
      if (seq > 0 && seq <= this.seqmap.length) {
        for (let i = seq - 1; i < this.seqmap.length; i++) {
          if (this.seqmap[i] >= seq) this.seqmap[i] = this.seqmap[i] === seq ? 0 : this.seqmap[i] - 1;
        }
      }
    }
  }

  /** mailbox_state_handle_fetch(): the protocol-level checks imaptest makes on every FETCH. */
  private handleFetch(c: Conn, seq: number, rest: ImapArg[]): void {
    const l = rest[0];
    if (!l || l.type !== "list") return c.inputError("FETCH didn't return a list");
    const list = l.list;
    const uidArg = fetchListGet(list, "UID");
    if (uidArg === undefined && c.qresyncEnabled) c.inputError("FETCH didn't return UID while QRESYNC was enabled");
    if (uidArg && isAtom(uidArg)) {
      const uid = /^\d+$/.test(uidArg.str) ? Number(uidArg.str) : 0;
      if (uid === 0 || uid > 0xffffffff) c.inputError(`Invalid UID number ${uidArg.str}`);
      else if (c.uids[seq - 1] === 0) {
        c.uids[seq - 1] = uid;
        c.knownUids++;
      } else if (c.uids[seq - 1] !== uid) {
        c.inputError(`UID changed for sequence ${seq}: ${c.uids[seq - 1]} -> ${uid}`);
        c.uids[seq - 1] = uid;
      }
    }
    const uidKnown = c.uids[seq - 1] !== 0;
    if (uidKnown) {
      const env = fetchListGet(list, "ENVELOPE");
      if (env !== undefined && env.type !== "list") return c.inputError("FETCH ENVELOPE didn't return a list");
    }
    let i = 0;
    for (; i + 1 < list.length; i += 2) {
      const k = list[i];
      if (!isAtom(k)) continue;
      const key = k.str.toUpperCase();
      const v = list[i + 1];
      if (v.type === "nil") continue;
      if (key === "FLAGS") {
        if (v.type !== "list") {
          c.inputError("FLAGS reply isn't a list");
          continue;
        }
        for (const f of v.list) {
          if (!isAtom(f)) {
            c.inputError("Flags list contains non-atoms.");
            break;
          }
          if (f.str.startsWith("\\") && !SYSTEM_FLAGS.has(f.str.toUpperCase())) c.inputError(`Invalid system flag: ${f.str}`);
        }
      } else if (key === "MODSEQ") {
        const s = v.type === "list" ? argsToString(v.list) : isAstring(v) ? v.str : "";
        if (!/^\d+$/.test(s) || BigInt(s) === 0n || BigInt(s) > 0xffffffffffffffffn) c.inputError(`Invalid MODSEQ ${s} returned`);
      } else if (key === "INTERNALDATE" && uidKnown) {
        if (!isAstring(v) || !DATETIME_RE.test(v.str)) c.inputError("Broken INTERNALDATE");
      }
    }
    if (i !== list.length) c.inputError("FETCH reply doesn't have key-value pairs");
  }

  private handleVanished(c: Conn, args: ImapArg[]): void {
    if (!c.qresyncEnabled) return c.inputError("Server sent VANISHED but we hadn't enabled QRESYNC");
    const first = args[0];
    if (first?.type === "list" && first.list.length === 1 && isAtom(first.list[0]) && eqCI(first.list[0].str, "EARLIER")) {
      return; // only interesting while SELECTing with QRESYNC, which the scripts do themselves
    }
    const set = args[0];
    if (!isAtom(set) || args.length !== 1) return c.inputError("Invalid VANISHED parameters");
    const uids = parseSeqSet(set.str);
    if (!uids) return c.inputError("Invalid VANISHED sequence-set");
    if (c.knownUids === c.uids.length) {
      const gone = new Set(uids);
      for (let seq = c.uids.length; seq > 0; seq--) if (gone.has(c.uids[seq - 1])) c.expunge(seq);
      return;
    }
    for (const uid of uids) {
      let i = 0;
      for (; i < c.uids.length; i++) {
        if (uid <= c.uids[i]) {
          if (uid === c.uids[i]) {
            c.expunge(i + 1);
            i = -1;
          }
          break;
        }
      }
      if (i === -1) continue;
      if (i === 0 || c.uids[i - 1] !== 0) {
        c.inputError(`VANISHED UID=${uid} not found`);
        return;
      }
      c.expunge(i);
    }
  }

  /** test_handle_untagged_match() */
  private matchUntagged(c: Conn, args: ImapArg[]): void {
    const g = this.group;
    if (!g) return;
    const untagged = g.untagged ?? [];
    if (g.untagged === null && (this.test.ignoreExtraUntagged || c.logoutState)) return;
    const a0 = args[0];
    const prefix = isAtom(a0) && ["OK", "NO", "BAD", "BYE"].includes(a0.str.toUpperCase());
    const firstCmd = g.commands[0] as TestCommand & { curTag?: number };
    const tag = firstCmd.curTag ? `${c.globalId}.${firstCmd.curTag}` : null;
    this.added = [];
    let foundSome = false;
    for (let i = 0; i < untagged.length; i++) {
      if (this.found[i]) continue;
      if (tag !== null) this.variables.set("tag", tag);
      const mc = matchArgs(this, untagged[i].args, 0, args, 0, MATCH, prefix);
      if (tag !== null) this.variables.delete("tag");
      if (mc === MATCH) {
        if (untagged[i].existence === "mustnot") {
          this.fail(`Unexpected untagged match:\nMatch: ${argsToString(untagged[i].args)}\nReply: ${argsToString(args)}`);
          return;
        }
        this.found[i] = true;
        foundSome = true;
        this.added = [];
        continue;
      }
      if ((this.maybes[i]?.count ?? 0) < mc) this.maybes[i] = { count: mc, str: argsToString(args) };
      for (const v of this.added) this.variables.delete(v);
      this.added = [];
    }
    if (!foundSome) {
      this.mismatchCount++;
      if (!this.test.ignoreExtraUntagged && this.firstExtra === null) this.firstExtra = argsToString(args);
    }
  }

  // ---- command groups ----

  private async runGroup(g: CommandGroup): Promise<void> {
    const c = this.conns[g.connIdx];
    if (!c) {
      this.fail(`No connection ${g.connIdx + 1}`);
      throw new EndTest();
    }
    this.firstExtra = null;
    this.mismatchCount = 0;
    this.found = [];
    this.maybes = [];
    this.seqmap = c.uids.map((_, i) => i + 1);

    const cmds = g.commands as (TestCommand & { curTag?: number })[];
    for (const tc of cmds) {
      let cmdline = expandAll(this, tc.command, false);
      const onReply = (args: ImapArg[], reply: Reply) => this.commandReply(c, g, tc, cmdline, args, reply);
      let sent: PendingCommand;
      if (cmdline.slice(0, 7).toLowerCase() === "append " || cmdline.toLowerCase() === "append") c.logoutState = false;
      if (cmdline.toLowerCase() === "append") {
        sent = c.sendAppend(`"${c.storageName}"`, true, this.source, onReply);
      } else if (cmdline.slice(0, 7).toLowerCase() === "append " && !appendHasBody(cmdline.slice(7))) {
        sent = c.sendAppend(cmdline.slice(7), false, this.source, onReply);
      } else {
        if (tc.linenum === 0 || cmdline.toLowerCase() === "logout" || g.haveBye) {
          c.logoutState = true;
          c.logoutSent = true;
        } else c.logoutState = false;
        const expectBad = tc.reply !== null && isAtom(tc.reply[0]) && eqCI(tc.reply[0].str, "bad");
        sent = c.send(cmdline, onReply, { expectBad });
        cmdline = sent.cmdline;
      }
      tc.curTag = sent.tag;
    }
    this.sleepAfterGroup = 0;
    try {
      await this.pump(c, () => cmds.every((tc) => !tc.curTag));
    } catch (e) {
      if (!(e instanceof GroupDone)) throw e;
    }
    // "!sleep": imaptest blocks after the group; nothing is read meanwhile
    if (this.sleepAfterGroup > 0) await new Promise((r) => setTimeout(r, this.sleepAfterGroup));
  }

  /** test_cmd_callback() */
  private commandReply(c: Conn, g: CommandGroup, tc: TestCommand & { curTag?: number }, cmdline: string, args: ImapArg[], reply: Reply): void {
    this.tracker(c).taggedReply(cmdline, args, reply, false);
    this.variables.set("tag", `${c.globalId}.${tc.curTag}`);
    const expected = tc.reply ?? [];
    const mc = matchArgs(this, expected, 0, args, 0, MATCH, true);
    this.variables.delete("tag");
    if (mc !== MATCH) this.fail(`Expected tagged reply '${argsToString(expected)}', got '${argsToString(args)}'`);
    tc.curTag = 0;
    if (!(g.commands as (TestCommand & { curTag?: number })[]).some((x) => x.curTag)) this.groupFinished(g);
  }

  /** test_group_finished() */
  private groupFinished(g: CommandGroup): void {
    if (g.untagged) {
      const missing: number[] = [];
      g.untagged.forEach((u, i) => {
        if (u.existence === "must" && !this.found[i]) missing.push(i);
      });
      if (missing.length > 0) {
        const first = missing[0];
        const unexpanded = argsToString(g.untagged[first].args);
        const expanded = expandAll(this, unexpanded, true);
        this.fail(
          `Missing ${missing.length} untagged replies (${this.mismatchCount} mismatches)\n` +
            ` - first unexpanded: ${unexpanded}\n - first expanded: ${expanded}\n - best match: ${this.maybes[first]?.str ?? ""}`,
        );
      }
    }
    if (this.firstExtra !== null) this.fail(`${this.mismatchCount} unexpected untagged replies received, first: ${this.firstExtra}`);
    for (const o of g.output) this.result.output.push(expandAll(this, o, false));
    this.sleepAfterGroup = g.sleepMs;
    this.result.commandsRun++;
    this.curGroupIdx++;
  }
}

class GroupDone extends Error {}

function escapeQuoted(s: string): string {
  return s.replace(/["\\]/g, (m) => "\\" + m);
}

/** imap_append_string(): quoted if possible, else a literal. */
function quoteString(s: string): string {
  if (/[\r\n\0\x80-\xff]/.test(s)) return `{${s.length}}\r\n${s}`;
  return `"${escapeQuoted(s)}"`;
}

/** append_has_body(): does "APPEND mailbox [(flags)] ["date"] <body>" carry its own message? */
function appendHasBody(rest: string): boolean {
  const r = parseImapArgs(rest, { literalType: true });
  if (!r.ok || r.args.length === 0) return false;
  let i = 0;
  if (r.args[i + 1]?.type === "list") i++;
  if (r.args[i + 1]?.type === "string") i++;
  const a = r.args[i + 1];
  return a !== undefined && (a.type === "literal" || (a.type === "atom" && eqCI(a.str, "catenate")));
}

/** Runs one parsed script against the server. */
export async function runScript(test: ImapTestScript, cfg: RunnerConfig): Promise<ScriptResult> {
  return new ScriptRun(test, cfg).run();
}

/** `<repo>/../shared/imaptest-scripts`, or $PILLARBOX_IMAPTEST_SCRIPTS. */
export function defaultScriptsDir(): string {
  const env = process.env.PILLARBOX_IMAPTEST_SCRIPTS;
  if (env) return resolve(env);
  const repo = resolve(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../..");
  return resolve(repo, "../shared/imaptest-scripts");
}

/** Loads a script; a script that doesn't parse becomes a failed result. */
export function loadScriptResult(dir: string, name: string, user2?: string): ImapTestScript | ScriptResult {
  try {
    return loadScript(join(dir, name), user2);
  } catch (e) {
    if (!(e instanceof ScriptParseError)) throw e;
    return {
      name,
      kind: "base",
      status: "failed",
      commandsRun: 0,
      commandsTotal: 0,
      failures: [{ group: 0, groups: 0, line: 0, command: "(parse)", message: e.message }],
      output: [],
    };
  }
}

/** Runs every script in `dir` (or the named ones) and totals the figures. */
export async function runAll(cfg: RunnerConfig, dir = defaultScriptsDir(), names?: string[]): Promise<RunSummary> {
  if (!existsSync(dir)) throw new Error(`imaptest scripts not found at ${dir} (set PILLARBOX_IMAPTEST_SCRIPTS)`);
  const list = names && names.length > 0 ? names : listScripts(dir);
  const results: ScriptResult[] = [];
  for (const name of list) {
    const t = loadScriptResult(dir, name, cfg.user2);
    results.push("groups" in t ? await runScript(t, cfg) : t);
  }
  return summarize(results);
}

export function summarize(results: ScriptResult[]): RunSummary {
  const s: RunSummary = { groups: results.length, groupsFailed: 0, groupsSkipped: 0, baseCommands: 0, baseFailed: 0, extCommands: 0, extFailed: 0, results };
  for (const r of results) {
    if (r.status === "failed") s.groupsFailed++;
    if (r.status === "skipped") s.groupsSkipped++;
    if (r.kind === "base") {
      s.baseCommands += r.commandsRun;
      s.baseFailed += r.failures.length;
    } else {
      s.extCommands += r.commandsRun;
      s.extFailed += r.failures.length;
    }
  }
  return s;
}

/** The figures in imaptest's words, plus one line for the CI log. */
export function formatSummary(s: RunSummary): string {
  return [
    `${s.groups} test groups: ${s.groupsFailed} failed, ${s.groupsSkipped} skipped due to missing capabilities`,
    `base protocol: ${s.baseFailed}/${s.baseCommands} individual commands failed`,
    `extensions: ${s.extFailed}/${s.extCommands} individual commands failed`,
    `imaptest-scripts: groups ${s.groups}, failed ${s.groupsFailed}, skipped ${s.groupsSkipped}; base ${s.baseCommands}, failed ${s.baseFailed}; extensions ${s.extCommands}, failed ${s.extFailed}`,
  ].join("\n");
}

/** imaptest-style failure text for one script. */
export function formatFailures(r: ScriptResult): string {
  return r.failures
    .map((f) =>
      f.group === 0
        ? `*** Test ${r.name} initialization failed: ${f.message}`
        : `*** Test ${r.name} command ${f.group}/${f.groups} (line ${f.line})\n - failed: ${f.message}\n - Command: ${f.command.length > 300 ? f.command.slice(0, 300) + "..." : f.command}`,
    )
    .join("\n\n");
}

async function main(argv: string[]): Promise<number> {
  const cfg: RunnerConfig = { host: "127.0.0.1", port: 143, user: "", password: "" };
  let dir = defaultScriptsDir();
  let verbose = false;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => argv[++i] ?? "";
    if (a === "--host") cfg.host = val();
    else if (a === "--port") cfg.port = Number(val());
    else if (a === "--user") cfg.user = val();
    else if (a === "--pass" || a === "--password") cfg.password = val();
    else if (a === "--user2") cfg.user2 = val();
    else if (a === "--dir") dir = resolve(val());
    else if (a === "--mailbox") cfg.mailbox = val();
    else if (a === "--timeout-ms") cfg.commandTimeoutMs = Number(val());
    else if (a === "--verbose" || a === "-v") verbose = true;
    else if (a === "--help" || a === "-h") {
      console.log("usage: bun tests/imaptest/runner.ts --host H --port P --user U --pass P [--user2 U2] [--dir DIR] [--timeout-ms N] [-v] [script ...]");
      return 0;
    } else names.push(a);
  }
  if (!cfg.user) {
    console.error("--user is required");
    return 2;
  }
  if (verbose) cfg.log = (l) => console.error(l);
  const summary = await runAll(cfg, dir, names);
  for (const r of summary.results) {
    if (r.failures.length > 0) console.log(formatFailures(r) + "\n");
    for (const o of r.output) console.log(o);
  }
  const skipped = summary.results.filter((r) => r.status === "skipped");
  for (const r of skipped) console.log(`skipped ${r.name}: ${r.skipReason}`);
  console.log(formatSummary(summary));
  return summary.groupsFailed === 0 ? 0 : 1;
}

if (import.meta.main) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(2);
    },
  );
}
