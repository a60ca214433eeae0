/**
 * One SMTP connection: the state machine between the socket and the command
 * handlers. Reading is a single loop over an `InputBuffer`, so pipelined
 * commands (RFC 2920) are handled in order and their replies go out in one
 * write when the loop runs out of input (RFC 2920 §3.2: the server may batch
 * replies, and must flush before it waits for more input).
 *
 * Memory per connection is bounded: the socket is paused while unread input
 * exceeds MAX_BUFFERED_INPUT or unsent output exceeds MAX_BUFFERED_OUTPUT,
 * lines are capped (parser.ts) and message bytes past the size limit are
 * counted, not kept.
 */
import { randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { Account } from "../../storage/api.ts";
import type { ServerContext } from "../../src/context.ts";
import type { ListenerInfo } from "../../src/registry.ts";
import { normalizeIp } from "../../src/auth.ts";
import {
  ChunkCollector,
  DataDecoder,
  InputBuffer,
  MAX_AUTH_LINE,
  MAX_COMMAND_LINE,
  MAX_ENVELOPE_LINE,
  decodeLine,
  formatReply,
  parseCommandLine,
  reply,
  type Reply,
} from "./parser.ts";
import { handleEhlo, handleHelo, handleStartTls } from "./hello.ts";
import { handleMail, handleRcpt, type AcceptedRecipient } from "./envelope.ts";
import { logEnvelopeRefusal, type TxVerdicts } from "./outcome.ts";
import { bdatChunkDone, finishMessage, handleBdat, handleData } from "./data.ts";
import { handleAuth, type AuthContinuation } from "./auth.ts";
import { handleHelp, handleNoop, handleQuit, handleRset, handleVrfy } from "./misc.ts";

/** RFC 5321 §4.5.3.2.7: the server waits at least 5 minutes for the next command. */
export const COMMAND_TIMEOUT_MS = 5 * 60_000;
/** RFC 5321 §4.5.3.2.5/§4.5.3.2.6: data blocks and the end of data may take up to 3 and 10 minutes client-side. */
export const DATA_TIMEOUT_MS = 10 * 60_000;
/** Errors (4xx/5xx replies) before the session is dropped, as Postfix's smtpd_hard_error_limit. */
export const MAX_ERRORS = 20;
/** Commands per connection in total. */
export const MAX_COMMANDS = 100_000;
const MAX_BUFFERED_INPUT = 256 * 1024;
const MAX_BUFFERED_OUTPUT = 256 * 1024;

export type SessionMode = "mx" | "submission";

export interface Transaction {
  mailFrom: string; // "" for the null reverse-path
  size: number | null;
  body: "7BIT" | "8BITMIME" | null;
  smtputf8: boolean;
  ret: "FULL" | "HDRS" | null;
  envid: string | null;
  recipients: AcceptedRecipient[];
  /** BDAT in progress (RFC 3030 §2: DATA and BDAT do not mix in one transaction). */
  bdat: ChunkCollector | null;
  /** A BDAT chunk failed: the rest of the transaction's chunks are read and refused. */
  bdatError: Reply | null;
  /** What delivery learnt (authentication verdicts, queue id), for the transaction's log line (./outcome.ts). */
  verdicts?: TxVerdicts;
}

type InputMode =
  | { kind: "command" }
  | { kind: "data"; decoder: DataDecoder }
  | { kind: "bdat"; remaining: number; last: boolean; sink: ChunkCollector | null }
  | { kind: "auth"; cont: AuthContinuation }
  | { kind: "closed" };

export class SmtpSession {
  readonly id = randomBytes(6).toString("hex");
  readonly mode: SessionMode;
  readonly remoteIp: string;
  readonly remotePort: number;
  localIp: string;
  socket: Socket | TLSSocket;
  secure: boolean;
  /** TLS protocol/cipher, for the Received: header. */
  tlsInfo: string | null = null;
  helo: string | null = null;
  esmtp = false;
  account: Account | null = null;
  tx: Transaction | null = null;
  errors = 0;
  junk = 0;
  commands = 0;
  readonly log: ServerContext["log"];

  private input = new InputBuffer();
  private inputMode: InputMode = { kind: "command" };
  private out: string[] = [];
  private pumping = false;
  private closed = false;
  private inflight: Promise<void> | null = null;
  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  private readonly onTimeoutBound = () => this.onTimeout();
  private readonly onCloseBound = () => this.onClose();
  private readonly onEndBound = () => this.onEnd();
  /** Unauthenticated command-time budget (see resumeBudget): time used, running since, its timer. */
  private budgetUsedMs = 0;
  private budgetSince: number | null = null;
  private budgetTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    socket: Socket | TLSSocket,
    readonly listener: ListenerInfo,
    readonly ctx: ServerContext,
    private readonly sessions: Set<SmtpSession>,
  ) {
    this.socket = socket;
    this.mode = listener.name === "SMTP" ? "mx" : "submission";
    this.secure = listener.implicitTls;
    this.remoteIp = normalizeIp(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    this.localIp = normalizeIp(socket.localAddress);
    this.log = ctx.log.child({ proto: "smtp", session: this.id, listener: listener.name, ip: this.remoteIp });
    if (this.secure) this.tlsInfo = describeTls(socket as TLSSocket);
  }

  get hostname(): string {
    return this.ctx.config.hostname;
  }

  get maxSize(): number {
    return this.ctx.config.limits.maxMessageSize;
  }

  start(): void {
    this.sessions.add(this);
    this.attach(this.socket);
    if (this.ctx.shuttingDown) {
      this.send(reply(421, undefined, `${this.hostname} Service shutting down`));
      this.close();
      return;
    }
    // RFC 5321 §4.3.1 / §4.2: the greeting has no enhanced status code.
    this.send(reply(220, undefined, `${this.hostname} ESMTP Pillarbox`));
    this.flush();
    this.resumeBudget();
  }

  private attach(sock: Socket | TLSSocket): void {
    sock.on("data", this.onDataBound);
    sock.on("timeout", this.onTimeoutBound);
    sock.on("close", this.onCloseBound);
    sock.on("end", this.onEndBound);
    sock.on("error", (e: Error) => this.log.debug("socket error", { error: e.message }));
    sock.setTimeout(COMMAND_TIMEOUT_MS);
  }

  private detach(sock: Socket | TLSSocket): void {
    sock.off("data", this.onDataBound);
    sock.off("timeout", this.onTimeoutBound);
    sock.off("close", this.onCloseBound);
    sock.off("end", this.onEndBound);
    sock.setTimeout(0);
  }

  // ------------------------------------------------------------ output

  send(r: Reply): void {
    if (r.code >= 400) this.errors++;
    this.out.push(formatReply(r));
  }

  flush(): void {
    if (this.out.length === 0 || this.closed) return;
    const data = this.out.join("");
    this.out = [];
    this.socket.write(data);
  }

  /** Sends pending replies and closes the connection once they are written. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.pauseBudget();
    this.inputMode = { kind: "closed" };
    this.input.clear();
    this.socket.end();
    // Do not wait forever for a peer that never reads.
    setTimeout(() => this.socket.destroy(), 5000).unref?.();
  }

  // ------------------------------------------------------------ input

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.input.push(chunk);
    if (this.input.length > MAX_BUFFERED_INPUT && this.inputMode.kind !== "data" && this.inputMode.kind !== "bdat") {
      this.socket.pause();
    }
    void this.pump();
  }

  private onTimeout(): void {
    if (this.closed) return;
    this.log.info("timeout");
    this.send(reply(421, "4.4.2", `${this.hostname} Error: timeout exceeded`));
    this.close();
  }

  private onEnd(): void {
    // The client half-closed: finish what is buffered, then close.
    if (!this.pumping) this.close();
  }

  private onClose(): void {
    this.closed = true;
    this.pauseBudget();
    this.inputMode = { kind: "closed" };
    this.sessions.delete(this);
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (!this.closed) {
        if (this.socket.writableLength > MAX_BUFFERED_OUTPUT) {
          // The client pipelines without reading its replies: wait until it does.
          this.flush();
          await new Promise<void>((r) => {
            this.socket.once("drain", () => r());
            this.socket.once("close", () => r());
          });
          continue;
        }
        const progressed = await this.step();
        if (!progressed) break;
      }
    } catch (e) {
      this.log.error("session failed", { error: e as Error });
      this.send(reply(421, "4.3.0", `${this.hostname} Internal error, closing connection`));
      this.close();
    } finally {
      this.pumping = false;
      this.flush();
      if (!this.closed && this.socket.isPaused() && this.input.length <= MAX_BUFFERED_INPUT && !this.upgrading) this.socket.resume();
    }
  }

  private upgrading = false;

  /** One unit of work. Returns false when more input is needed. */
  private async step(): Promise<boolean> {
    const m = this.inputMode;
    switch (m.kind) {
      case "closed":
        return false;
      case "command": {
        const line = this.input.readLine(MAX_AUTH_LINE);
        if (!line) return false;
        await this.command(line);
        return true;
      }
      case "auth": {
        const line = this.input.readLine(MAX_AUTH_LINE);
        if (!line) return false;
        if (line.kind === "toolong") {
          this.inputMode = { kind: "command" };
          this.send(reply(500, "5.5.6", "Authentication exchange line is too long"));
          return true;
        }
        const text = decodeLine(line.bytes) ?? "";
        this.inputMode = { kind: "command" };
        const r = await m.cont(text);
        this.afterAuthStep(r);
        return true;
      }
      case "data": {
        if (this.input.length === 0) return false;
        const chunk = this.input.takeAll();
        const res = m.decoder.push(chunk);
        if (!res.done) return true;
        if (res.consumed < chunk.length) this.input.push(chunk.subarray(res.consumed));
        this.inputMode = { kind: "command" };
        this.socket.setTimeout(COMMAND_TIMEOUT_MS);
        await this.runExclusive(async () => {
          const r = await finishMessage(this, m.decoder);
          this.send(r);
          this.afterMessageData(r.code < 300);
        });
        return true;
      }
      case "bdat": {
        if (m.remaining > 0) {
          if (this.input.length === 0) return false;
          const bytes = this.input.readBytes(m.remaining);
          m.remaining -= bytes.length;
          m.sink?.push(bytes);
          if (m.remaining > 0) return true;
        }
        this.inputMode = { kind: "command" };
        this.socket.setTimeout(COMMAND_TIMEOUT_MS);
        await this.runExclusive(async () => {
          const r = await bdatChunkDone(this, m.last);
          this.send(r);
          this.afterMessageData(m.last && r.code < 300);
        });
        return true;
      }
    }
  }

  private async runExclusive(fn: () => Promise<void>): Promise<void> {
    const p = fn();
    this.inflight = p.catch(() => undefined);
    try {
      await p;
    } finally {
      this.inflight = null;
    }
  }

  /** Waits for an in-flight message to be committed (graceful shutdown). */
  async drain(): Promise<void> {
    if (this.inflight) await this.inflight;
  }

  // ------------------------------------------------------------ modes used by handlers

  enterData(decoder: DataDecoder): void {
    this.inputMode = { kind: "data", decoder };
    this.socket.setTimeout(DATA_TIMEOUT_MS);
    this.pauseBudget();
  }

  enterBdat(size: number, last: boolean, sink: ChunkCollector | null): void {
    this.inputMode = { kind: "bdat", remaining: size, last, sink };
    this.socket.setTimeout(DATA_TIMEOUT_MS);
    this.pauseBudget();
  }

  /** Message content read and answered: an accepted message restarts the budget. */
  private afterMessageData(accepted: boolean): void {
    if (accepted) this.budgetUsedMs = 0;
    this.resumeBudget();
  }

  // ------------------------------------------------------------ unauthenticated time budget

  /**
   * Issue 13 item 4: an unauthenticated client must not hold a connection
   * slot by keeping the session busy (a NOOP or EHLO every few minutes resets
   * the 5-minute inactivity timer, for hours). It gets
   * `smtp.unauthenticatedIdleSeconds` (default 300) of command time in total,
   * from connect, restarted by each accepted message, then 421 4.4.2. Time
   * spent receiving message content (DATA, BDAT chunks) and processing it
   * does not count, so a large message on a slow link is never cut; the time
   * inside a transaction does count, so MAIL/RSET cycles do not help.
   * 300 s is RFC 5321 §4.5.3.2.7's minimum wait for one command, so no
   * client gets less than the RFC's single-command allowance, while the whole
   * pre-message phase is bounded as Exchange bounds a connection
   * (ConnectionTimeout, 10 min); Postfix has only the per-command timeout and
   * smtpd_junk_command_limit, which alone still allow hours. Authenticated
   * submission sessions are exempt (they keep the per-command timeout).
   */
  private resumeBudget(): void {
    if (this.closed || this.account || this.budgetSince !== null) return;
    this.budgetSince = Date.now();
    const left = Math.max(0, this.ctx.config.smtp.unauthenticatedIdleSeconds * 1000 - this.budgetUsedMs);
    this.budgetTimer = setTimeout(() => this.onBudgetSpent(), left);
    this.budgetTimer.unref?.();
  }

  private pauseBudget(): void {
    if (this.budgetSince === null) return;
    this.budgetUsedMs += Date.now() - this.budgetSince;
    this.budgetSince = null;
    if (this.budgetTimer) clearTimeout(this.budgetTimer);
    this.budgetTimer = null;
  }

  private onBudgetSpent(): void {
    this.budgetTimer = null;
    if (this.closed || this.budgetSince === null) return;
    this.log.info("unauthenticated session out of time without a message", { commands: this.commands });
    this.send(reply(421, "4.4.2", `${this.hostname} Error: timeout exceeded, no mail transaction completed in time`));
    this.close();
  }

  enterAuth(cont: AuthContinuation): void {
    this.inputMode = { kind: "auth", cont };
  }

  /** An AUTH step's outcome: a continuation, a final reply, or a reply then close. */
  afterAuthStep(r: Reply | { cont: AuthContinuation; challenge: string } | { reply: Reply; close: true }): void {
    // Authenticated: the unauthenticated time budget no longer applies.
    if (this.account) this.pauseBudget();
    if ("cont" in r) {
      this.out.push(`334 ${r.challenge}\r\n`);
      this.enterAuth(r.cont);
    } else if ("close" in r) {
      this.send(r.reply);
      this.close();
    } else {
      this.send(r);
    }
  }

  resetTransaction(): void {
    this.tx = null;
  }

  /** RFC 3207 §4.2: after STARTTLS everything learnt before is forgotten. */
  async startTls(): Promise<void> {
    const raw = this.socket as Socket;
    // Stop reading plaintext now; anything the client pipelined after STARTTLS is discarded.
    raw.pause();
    this.detach(raw);
    this.input.clear();
    this.upgrading = true;
    this.flush(); // the 220 goes out on the plain socket
    try {
      const tlsSock = await this.ctx.tls.upgrade(raw);
      this.socket = tlsSock;
      this.secure = true;
      this.tlsInfo = describeTls(tlsSock);
      this.helo = null;
      this.esmtp = false;
      this.account = null;
      this.tx = null;
      this.input.clear();
      this.attach(tlsSock);
      this.upgrading = false;
      tlsSock.resume();
    } catch (e) {
      this.upgrading = false;
      this.log.info("STARTTLS handshake failed", { error: (e as Error).message });
      this.closed = true;
      this.pauseBudget();
      this.inputMode = { kind: "closed" };
      raw.destroy();
      this.sessions.delete(this);
    }
  }

  // ------------------------------------------------------------ commands

  private async command(line: { kind: "line"; bytes: Uint8Array } | { kind: "toolong" }): Promise<void> {
    this.commands++;
    if (this.commands > MAX_COMMANDS) {
      this.send(reply(421, "4.7.0", `${this.hostname} Too many commands, closing connection`));
      this.close();
      return;
    }
    if (line.kind === "toolong") {
      this.send(reply(500, "5.5.2", "Line too long"));
      return this.checkErrors();
    }
    const text = decodeLine(line.bytes);
    if (text === null) {
      this.send(reply(500, "5.5.2", "Command line is not valid UTF-8"));
      return this.checkErrors();
    }
    const { verb, arg } = parseCommandLine(text);
    // RFC 5321 §4.5.3.1.4 (512 octets), raised for MAIL/RCPT by RFC 3461 §4-5 and for AUTH by RFC 4954 §4.
    const limit = verb === "AUTH" ? MAX_AUTH_LINE : verb === "MAIL" || verb === "RCPT" ? MAX_ENVELOPE_LINE : MAX_COMMAND_LINE;
    if (line.bytes.length + 2 > limit) {
      this.send(reply(500, "5.5.2", "Line too long"));
      return this.checkErrors();
    }
    // null: no reply now (BDAT is answered once its chunk has been read)
    let r: Reply | null = null;
    switch (verb) {
      case "EHLO":
        r = handleEhlo(this, arg);
        break;
      case "HELO":
        r = handleHelo(this, arg);
        break;
      case "STARTTLS":
        r = handleStartTls(this, arg);
        if (r.code === 220) {
          this.send(r);
          await this.startTls();
          return;
        }
        break;
      case "AUTH": {
        const res = await handleAuth(this, arg);
        this.afterAuthStep(res);
        return this.checkErrors();
      }
      case "MAIL":
        r = await handleMail(this, arg);
        logEnvelopeRefusal(this, "mail", r, arg);
        break;
      case "RCPT":
        r = await handleRcpt(this, arg);
        logEnvelopeRefusal(this, "rcpt", r, arg);
        break;
      case "DATA":
        r = handleData(this, arg);
        break;
      case "BDAT":
        r = handleBdat(this, arg);
        break;
      case "RSET":
        this.junk++;
        r = handleRset(this, arg);
        break;
      case "NOOP":
        this.junk++;
        r = handleNoop(this, arg);
        break;
      case "VRFY":
      case "EXPN":
        this.junk++;
        r = handleVrfy(this, verb, arg);
        break;
      case "HELP":
        this.junk++;
        r = handleHelp(this, arg);
        break;
      case "QUIT":
        this.send(handleQuit(this, arg));
        this.close();
        return;
      case "GET":
      case "POST":
      case "HEAD":
      case "PUT":
      case "CONNECT":
        // An HTTP client or proxy abuse (cross-protocol attack): no point in answering at length.
        this.log.info("HTTP request on SMTP port, closing", { verb });
        this.send(reply(221, "2.7.0", "Error: I can break rules, too. Goodbye."));
        this.close();
        return;
      case "":
        r = reply(500, "5.5.2", "Error: bad syntax");
        break;
      default:
        // RFC 5321 §4.2.4: 500 for an unrecognised command; the session goes on.
        r = reply(500, "5.5.2", "Error: command not recognized");
    }
    if (r) this.send(r);
    // Postfix's smtpd_junk_command_limit (default 100): NOOP/RSET/VRFY/EXPN/HELP do nothing a
    // sender needs in bulk; Postfix then counts them as errors, we close at once with 421 4.7.0.
    if (this.junk > this.ctx.config.smtp.junkCommandLimit && !this.closed) {
      this.send(reply(421, "4.7.0", `${this.hostname} Error: too many junk commands`));
      this.close();
      return;
    }
    this.checkErrors();
  }

  private checkErrors(): void {
    if (this.errors >= MAX_ERRORS && !this.closed) {
      this.send(reply(421, "4.7.0", `${this.hostname} Error: too many errors`));
      this.close();
    }
  }
}

function describeTls(s: TLSSocket): string | null {
  try {
    const proto = s.getProtocol?.();
    const cipher = s.getCipher?.();
    if (!proto) return null;
    return `version=${proto}${cipher?.name ? ` cipher=${cipher.name}` : ""}`;
  } catch {
    return null;
  }
}
