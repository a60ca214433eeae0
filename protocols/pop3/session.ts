/**
 * One POP3 session: the RFC 1939 §3 state machine (AUTHORIZATION ->
 * TRANSACTION -> UPDATE), sans-IO. Bytes come in through `receive`, replies
 * go out through the `Pop3Io` the connection glue (connection.ts) or a unit test
 * supplies. Commands run strictly one after another in arrival order, which
 * is what RFC 2449 §6.6 PIPELINING asks of the server; pipelined input is
 * bounded (reading pauses while a backlog waits).
 */
import type { Account } from "../../storage/api.ts";
import type { Logger } from "../../src/log.ts";
import type { LoginResult } from "../../src/auth.ts";
import { LineReader, parseCommand, type Command, type LineEvent } from "./parser.ts";
import type { Maildrop, Pop3Store } from "./maildrop.ts";
import type { MaildropLocks } from "./locks.ts";
import type { SizeCache } from "./sizes.ts";
import type { RecordedSizes } from "./recorded-sizes.ts";
import { AUTHORIZATION_COMMANDS, continueSasl } from "./auth.ts";
import { TRANSACTION_COMMANDS, quitTransaction } from "./transaction.ts";
import { capa } from "./capa.ts";
import { clearReadAhead } from "./readahead.ts";
import { CommandQueue } from "../../src/command-queue.ts";
import type { LineSessionIo } from "../../src/line-connection.ts";

export type Pop3State = "AUTHORIZATION" | "TRANSACTION" | "UPDATE" | "CLOSED";

/**
 * The connection side of a session: the kernel's line glue (src/line-connection.ts) or a test's fake. `startTls`
 * is STLS (RFC 2595 §4); pauseInput/resumeInput are the flow control for pipelined input.
 */
export interface Pop3Io extends LineSessionIo {
  /**
   * Runs `fn` once the output written so far has gone to the socket and the
   * event loop has nothing more urgent (optional: a test's fake may omit it,
   * and then read-ahead simply does not happen). Returns a cancel function.
   */
  whenIdle?(fn: () => void): () => void;
}

export interface Pop3Options {
  hostname: string;
  /** USER/PASS and AUTH PLAIN before TLS (RFC 2595 §2.2 says servers should refuse them). */
  allowPlaintextAuth: boolean;
  /** STLS offered (a plain listener with TLS configured). */
  tlsAvailable: boolean;
  /** RFC 2449 §6.5 LOGIN-DELAY in seconds; null = not advertised or enforced. */
  loginDelaySeconds: number | null;
  /** RFC 2449 §6.7 EXPIRE: days, 0 (removed after retrieval) or "NEVER"; null = not advertised. */
  expire: number | "NEVER" | null;
}

export interface Pop3Deps {
  store: Pop3Store;
  /** Rate-limited credential check (ctx.authenticate): null for bad credentials or a blocked IP. */
  authenticate(user: string, pass: string, ip: string): Promise<Account | null>;
  /** The same check saying why it refused (ctx.login); used when given, so a throttle is answered as temporary. */
  login?(user: string, pass: string, ip: string): Promise<LoginResult>;
  /** True while the IP is locked out after too many failures. */
  isBlocked(ip: string): boolean;
  locks: MaildropLocks;
  sizes: SizeCache;
  /** The store's recorded CRLF sizes kept between logins (optional: without it every login asks the store). */
  recordedSizes?: RecordedSizes;
  /** Last successful login per account (LOGIN-DELAY). */
  loginTimes: Map<number, number>;
  options: Pop3Options;
  log: Logger;
  now?: () => number;
}

/** RFC 1939 has no limit; this bounds what a broken or hostile client can cost. */
export const MAX_BAD_COMMANDS = 20;
/** Pipelined lines waiting to run before we stop reading. */
const QUEUE_HIGH = 64;
const QUEUE_LOW = 16;

export class Pop3Session {
  state: Pop3State = "AUTHORIZATION";
  secure: boolean;
  /** From USER, waiting for PASS (RFC 1939 §7). */
  user: string | null = null;
  /** A SASL exchange waiting for the client's response line (RFC 5034 §4). */
  sasl: { mech: "PLAIN" } | null = null;
  account: Account | null = null;
  maildrop: Maildrop | null = null;
  releaseLock: (() => void) | null = null;
  badCommands = 0;
  authFailures = 0;
  readonly reader = new LineReader();
  private readonly queue: CommandQueue<LineEvent>;
  private started = 0;

  constructor(
    readonly io: Pop3Io,
    readonly deps: Pop3Deps,
    readonly remoteIp: string,
    opts: { secure: boolean },
  ) {
    this.secure = opts.secure;
    this.queue = new CommandQueue<LineEvent>(
      {
        handle: (ev) => {
          this.started++;
          return this.handle(ev);
        },
        // RFC 1939 §6: once QUIT has entered UPDATE, nothing pipelined after it runs.
        canRun: () => this.state !== "CLOSED" && this.state !== "UPDATE",
        closed: () => this.closed,
        failed: (err) => {
          this.log.error("pop3 session failed", { err });
          if (this.state !== "CLOSED") {
            this.send("-ERR [SYS/TEMP] Internal error, closing connection");
            this.end();
          }
        },
        pauseInput: () => io.pauseInput(),
        resumeInput: () => io.resumeInput(),
      },
      { high: QUEUE_HIGH, low: QUEUE_LOW },
    );
  }

  get log(): Logger {
    return this.deps.log;
  }

  /** RFC 1939 §4: the greeting. */
  greet(): void {
    this.send(`+OK Pillarbox POP3 ready`);
  }

  send(line: string): boolean {
    return this.io.write(line + "\r\n");
  }

  /** Sends a multi-line response (RFC 1939 §3) built from short lines that need no stuffing. */
  async sendMulti(first: string, lines: string[]): Promise<void> {
    const ok = this.io.write(first + "\r\n" + (lines.length ? lines.join("\r\n") + "\r\n" : "") + ".\r\n");
    if (!ok) await this.io.drain();
  }

  receive(chunk: Uint8Array): void {
    if (this.state === "CLOSED") return;
    this.queue.push(this.reader.feed(chunk));
  }

  /** Resolves once every received line has been handled (tests, orderly shutdown). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Commands started so far; lets deferred work (read-ahead) see that the client moved on. */
  get commandSeq(): number {
    return this.started;
  }

  /** A command is being handled. */
  get busy(): boolean {
    return this.queue.busy;
  }

  /** Commands received and not yet started (pipelined). */
  get pendingCommands(): number {
    return this.queue.length;
  }

  /** Forgets pipelined input (STLS, RFC 2595 §4 / RFC 3207 §4.2 injection). */
  discardInput(): void {
    this.queue.clear();
    this.reader.reset();
  }

  private async handle(ev: LineEvent): Promise<void> {
    if (ev.type === "toolong") {
      if (this.sasl) {
        this.sasl = null;
        this.reader.saslMode = false;
        this.send("-ERR [AUTH] Authentication response too long");
        return;
      }
      // RFC 2449 §4: command lines are at most 255 octets.
      return this.bad("-ERR Line too long");
    }
    if (this.sasl) return continueSasl(this, ev.line);
    const cmd = parseCommand(ev.line);
    if (!cmd) return this.bad("-ERR Empty or malformed command");
    if (cmd.name === "CAPA") return capa(this, cmd);
    if (cmd.name === "QUIT") return this.quit(cmd);
    const table = this.state === "AUTHORIZATION" ? AUTHORIZATION_COMMANDS : TRANSACTION_COMMANDS;
    const handler = table[cmd.name];
    if (handler) return handler(this, cmd);
    const other = this.state === "AUTHORIZATION" ? TRANSACTION_COMMANDS : AUTHORIZATION_COMMANDS;
    if (other[cmd.name]) return this.bad(this.state === "AUTHORIZATION" ? "-ERR Not logged in" : "-ERR Already logged in");
    return this.bad("-ERR Unknown command");
  }

  /** A protocol error: -ERR, and after too many the connection closes. */
  bad(line: string): void {
    this.badCommands++;
    if (this.badCommands >= MAX_BAD_COMMANDS) {
      this.send(line);
      this.send("-ERR Too many bad commands, closing connection");
      this.end();
      return;
    }
    this.send(line);
  }

  private async quit(cmd: Command): Promise<void> {
    if (cmd.args.length) return this.bad("-ERR QUIT takes no arguments");
    if (this.state === "TRANSACTION") {
      // RFC 1939 §6: QUIT in TRANSACTION enters UPDATE; deletions happen now.
      this.state = "UPDATE";
      await quitTransaction(this);
    } else {
      this.send("+OK Pillarbox POP3 signing off");
    }
    this.end();
  }

  /** RFC 1939 §3 autologout: close without entering UPDATE (nothing is deleted). */
  timeout(): void {
    if (this.state === "CLOSED" || this.state === "UPDATE") return;
    this.send("-ERR Disconnected for inactivity");
    this.end();
  }

  /**
   * The client did not log in within the login deadline (connection.ts). RFC 1939 §3's 10-minute minimum is for the
   * autologout timer of a session; before login nothing is at stake for the client, and an unauthenticated socket held
   * open with NOOPs only takes a connection slot, so the deadline counts from connect, as in Dovecot's login processes.
   */
  loginTimeout(): void {
    if (this.state !== "AUTHORIZATION") return;
    this.send("-ERR [SYS/TEMP] Disconnected: no login in time");
    this.end();
  }

  /** Server shutdown: like a timeout, nothing is deleted. */
  shutdown(): void {
    if (this.state === "CLOSED" || this.state === "UPDATE") return;
    this.send("-ERR [SYS/TEMP] Server shutting down");
    this.end();
  }

  /** Closes the connection. Without QUIT no deletion happens (RFC 1939 §6). */
  end(): void {
    if (this.state === "CLOSED") return;
    this.state = "CLOSED";
    this.queue.clear();
    clearReadAhead(this);
    this.releaseLock?.();
    this.releaseLock = null;
    this.io.close();
  }

  /** The socket closed under us (client hung up, network error). */
  onClose(): void {
    if (this.state === "UPDATE") {
      // QUIT is being applied; the lock is released when it finishes.
      return;
    }
    this.state = "CLOSED";
    this.queue.clear();
    clearReadAhead(this);
    this.releaseLock?.();
    this.releaseLock = null;
  }

  get closed(): boolean {
    return this.state === "CLOSED";
  }
}
