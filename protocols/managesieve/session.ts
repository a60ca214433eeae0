/**
 * One ManageSieve session (RFC 5804), sans-IO: the non-authenticated ->
 * authenticated state machine (§1.1, §2), with bytes in through `receive`
 * and responses out through the `SieveIo` the connection glue
 * (./connection.ts) or a unit test supplies. Commands run strictly one
 * after another in arrival order; pipelined input is bounded (reading pauses
 * while a backlog waits).
 */
import type { Account } from "../../storage/api.ts";
import type { SieveStore } from "../../storage/filter-api.ts";
import type { Logger } from "../../src/log.ts";
import type { LoginResult } from "../../src/auth.ts";
import type { CompileResult } from "../../src/sieve/types.ts";
import { CommandReader, type ReaderEvent, type Token } from "./parser.ts";
import { response, str, type ResponseCode } from "./response.ts";
import { CommandQueue } from "../../src/command-queue.ts";
import type { LineSessionIo } from "../../src/line-connection.ts";

export type SieveState = "notauth" | "auth" | "closed";

/**
 * The connection side of a session: the kernel's line glue (src/line-connection.ts) or a test's fake. `startTls`
 * is STARTTLS (RFC 5804 §2.2).
 */
export interface SieveIo extends LineSessionIo {
  /** (Re)starts (true) or stops (false) the login deadline: after UNAUTHENTICATE it runs again. */
  loginTimer?(on: boolean): void;
}

export interface ManageSieveOptions {
  hostname: string;
  /** AUTHENTICATE before TLS (config.imap.allowPlaintextAuth: the same rule as IMAP's LOGINDISABLED). */
  allowPlaintextAuth: boolean;
  /** STARTTLS offered. */
  tlsAvailable: boolean;
  /** RFC 5804 §1.7 / §2.5 quotas (config.sieve). */
  maxScripts: number;
  maxScriptBytes: number;
  maxRedirects: number;
  /** The SIEVE capability (src/sieve/types.ts SIEVE_EXTENSIONS). */
  extensions: readonly string[];
}

export interface ManageSieveDeps {
  /** ctx.login with protocol "managesieve": the shared throttle, app passwords for two-factor accounts, the login log line. */
  login(user: string, pass: string, ip: string): Promise<LoginResult>;
  /** True while the IP is locked out after too many failures. */
  isBlocked(ip: string): boolean;
  store: SieveStore;
  /** Parses and validates a script (src/sieve compile). */
  compile(text: string | Uint8Array): CompileResult;
  options: ManageSieveOptions;
  log: Logger;
  shuttingDown?(): boolean;
}

export type Handler = (s: SieveSession, args: Token[], oversize: boolean) => Promise<void> | void;
export interface CommandSpec {
  /** RFC 5804 §2: which state the command is valid in. */
  state: "notauth" | "auth" | "any";
  fn: Handler;
}

const commands = new Map<string, CommandSpec>();
let saslHandler: ((s: SieveSession, ev: ReaderEvent) => Promise<void>) | null = null;
/** Command modules (./auth.ts, ./scripts.ts) register their handlers here. */
export function registerCommands(table: Record<string, CommandSpec>): void {
  for (const [name, spec] of Object.entries(table)) commands.set(name, spec);
}
/** ./auth.ts hands over the continuation of a SASL exchange. */
export function registerSaslHandler(fn: (s: SieveSession, ev: ReaderEvent) => Promise<void>): void {
  saslHandler = fn;
}

/** A SASL exchange in progress (RFC 5804 §2.1): the next line is the client's response. */
export interface SaslExchange {
  mech: "PLAIN" | "LOGIN";
  step: number;
  user?: string;
}

/** Protocol errors before the connection is closed; bounds what a broken or hostile client costs. */
export const MAX_BAD_COMMANDS = 20;
/** Failed authentications on one connection before BYE (the per-IP throttle covers the rest). */
export const MAX_AUTH_FAILURES = 3;
/** Lines waiting to run before reading pauses (each may hold a script of up to maxScriptBytes). */
const QUEUE_HIGH = 8;
const QUEUE_LOW = 2;
/** Octets of strings in waiting lines before reading pauses (a pipelined burst of uploads). */
const QUEUE_BYTES_HIGH = 1024 * 1024;

function eventBytes(ev: ReaderEvent): number {
  if (ev.type !== "line") return 0;
  let n = 0;
  for (const t of ev.tokens) if (t.kind === "string") n += t.bytes.length;
  return n;
}
/** Literal bytes read beyond the script limit before a PUTSCRIPT is refused NO (QUOTA/MAXSIZE) instead of being read. */
export const LITERAL_MARGIN = 64 * 1024;

/** Literals above maxLiteral are skipped (NO (QUOTA/MAXSIZE)); above this the connection is closed at once. */
export function literalHardCap(maxScriptBytes: number): number {
  return Math.max(4 * maxScriptBytes, 4 * 1024 * 1024);
}

export class SieveSession {
  state: SieveState = "notauth";
  secure: boolean;
  account: Account | null = null;
  sasl: SaslExchange | null = null;
  badCommands = 0;
  authFailures = 0;
  readonly reader: CommandReader;
  /** Waiting lines, weighed by the octets of their string arguments. */
  private readonly queue: CommandQueue<ReaderEvent>;
  /** A write found the socket buffer full: wait for drain before the next command (bounded output). */
  private outputFull = false;

  constructor(
    readonly io: SieveIo,
    readonly deps: ManageSieveDeps,
    readonly remoteIp: string,
    opts: { secure: boolean },
  ) {
    this.secure = opts.secure;
    const max = deps.options.maxScriptBytes + LITERAL_MARGIN;
    this.reader = new CommandReader({ maxLiteral: max, hardCap: literalHardCap(deps.options.maxScriptBytes) });
    this.queue = new CommandQueue<ReaderEvent>(
      {
        handle: (ev) => this.handle(ev),
        canRun: () => !this.closed,
        closed: () => this.closed,
        afterEach: () => {
          if (this.outputFull && !this.closed) {
            this.outputFull = false;
            return this.io.drain();
          }
        },
        failed: (err) => {
          this.log.error("managesieve session failed", { err, ip: this.remoteIp });
          this.bye("Internal error, closing connection", "TRYLATER");
        },
        pauseInput: () => io.pauseInput(),
        resumeInput: () => io.resumeInput(),
      },
      { high: QUEUE_HIGH, low: QUEUE_LOW, weight: eventBytes, bytesHigh: QUEUE_BYTES_HIGH, bytesLow: QUEUE_BYTES_HIGH / 4 },
    );
  }

  get log(): Logger {
    return this.deps.log;
  }

  get closed(): boolean {
    return this.state === "closed";
  }

  /** Plaintext SASL (PLAIN, LOGIN) is offered: over TLS, or when the site allows it (as IMAP does). */
  get authAllowed(): boolean {
    return this.secure || this.deps.options.allowPlaintextAuth;
  }

  /** RFC 5804 §1.7: the capability lines (without the final OK). */
  capabilityLines(): string {
    const o = this.deps.options;
    const lines = [
      `"IMPLEMENTATION" "Pillarbox"`,
      // §1.7: the SASL list may be empty (no mechanism usable before STARTTLS).
      `"SASL" ${str(this.authAllowed ? "PLAIN LOGIN" : "")}`,
      `"SIEVE" ${str(o.extensions.join(" "))}`,
    ];
    if (!this.secure && o.tlsAvailable && this.state === "notauth") lines.push(`"STARTTLS"`);
    lines.push(`"MAXREDIRECTS" ${str(String(o.maxRedirects))}`);
    if (this.account) lines.push(`"OWNER" ${str(this.account.email)}`);
    lines.push(`"UNAUTHENTICATE"`, `"VERSION" "1.0"`);
    return lines.join("\r\n") + "\r\n";
  }

  /** RFC 5804 §1.7: the greeting is the capability listing and OK. */
  greet(): void {
    this.send(this.capabilityLines() + response("OK", "Pillarbox ManageSieve ready"));
  }

  send(data: string | Uint8Array): boolean {
    const ok = this.io.write(data);
    if (!ok) this.outputFull = true;
    return ok;
  }

  ok(text: string | null, code?: ResponseCode): void {
    this.send(response("OK", text, code));
  }

  no(text: string, code?: ResponseCode): void {
    this.send(response("NO", text, code));
  }

  /** A protocol error: NO, and after too many BYE. */
  bad(text: string): void {
    this.badCommands++;
    this.no(text);
    if (this.badCommands >= MAX_BAD_COMMANDS) this.bye("Too many bad commands");
  }

  bye(text: string, code?: ResponseCode): void {
    if (this.closed) return;
    this.send(response("BYE", text, code));
    this.end();
  }

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.queue.push(this.reader.feed(chunk));
  }

  /** Resolves once every received line has been handled (tests, orderly shutdown). */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
  }

  /** Forgets pipelined input (STARTTLS: RFC 5804 §2.2, as RFC 3207 §4.2). */
  discardInput(): void {
    this.queue.clear();
    this.reader.reset();
  }

  private async handle(ev: ReaderEvent): Promise<void> {
    // RFC 5804 §1.3 QUOTA/MAXSIZE for a literal too large to read at all.
    if (ev.type === "fatal") return this.bye(ev.message, ev.literal ? "QUOTA/MAXSIZE" : undefined);
    if (this.sasl && saslHandler) return saslHandler(this, ev);
    if (ev.type === "error") return this.bad(`Syntax error: ${ev.message}`);
    const [first, ...args] = ev.tokens;
    if (!first) return this.bad("Empty command line");
    if (first.kind !== "atom") return this.bad("A command starts with its name");
    const name = first.value.toUpperCase();
    const spec = commands.get(name);
    if (!spec) return this.bad(`Unknown command ${name.slice(0, 32)}`);
    if (spec.state === "auth" && this.state !== "auth") return this.bad(`${name} needs authentication first`);
    if (spec.state === "notauth" && this.state !== "notauth") return this.bad(`${name} is not allowed after authentication`);
    if (this.deps.shuttingDown?.()) return this.bye("Server shutting down", "TRYLATER");
    await spec.fn(this, args, ev.oversize);
  }

  /** Logged in (AUTHENTICATE succeeded). */
  loggedIn(account: Account): void {
    this.account = account;
    this.state = "auth";
    this.authFailures = 0;
    this.io.loginTimer?.(false);
  }

  /** RFC 5804 §2.14.1 UNAUTHENTICATE: back to the non-authenticated state. */
  loggedOut(): void {
    this.account = null;
    this.state = "notauth";
    this.io.loginTimer?.(true);
  }

  /** Idle timeout (the IMAP idle setting). */
  timeout(): void {
    if (this.closed) return;
    this.bye("Disconnected for inactivity");
  }

  /** The client did not log in within the login deadline (the IMAP login timeout). */
  loginTimeout(): void {
    if (this.state !== "notauth") return;
    this.log.info("managesieve: no login within the login timeout, disconnecting", { ip: this.remoteIp });
    this.bye("No login in time");
  }

  /** Server shutdown. */
  shutdown(): void {
    this.bye("Server shutting down", "TRYLATER");
  }

  end(): void {
    if (this.closed) return;
    this.state = "closed";
    this.queue.clear();
    this.sasl = null;
    this.io.close();
  }

  /** The socket closed under us. */
  onClose(): void {
    this.state = "closed";
    this.queue.clear();
    this.sasl = null;
  }
}
