/**
 * One IMAP connection: the state machine of RFC 9051 §3 (not authenticated,
 * authenticated, selected, logout), command dispatch, response writing with
 * backpressure, IDLE, STARTTLS and COMPRESS stream changes, timeouts.
 *
 * Commands run one at a time in arrival order; pipelined input waits in the
 * parser (bounded; the socket is paused when it grows). Untagged updates for
 * the selected mailbox are sent before each tagged reply, within the rules of
 * view.ts.
 */
import { Buffer } from "node:buffer";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import { constants as zc, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from "node:zlib";
import type { Account, MailStore } from "../../storage/api.ts";
import { QuotaExceededError, StorageFullError, StoreError } from "../../storage/api.ts";
import type { ListenerInfo } from "../../src/registry.ts";
import type { ServerContext } from "../../src/context.ts";
import type { Logger } from "../../src/log.ts";
import { CommandParser, DEFAULT_LIMITS, type Command, type ParseEvent } from "./parser.ts";
import { quoteRaw, strUtf8, utf7Decode, utf7Encode } from "./encode.ts";
import type { AccountHub, AccountListener, ImapShared, Msg } from "./state.ts";
import { SelectedMailbox, type ViewOwner } from "./view.ts";

export type Status = "OK" | "NO" | "BAD";
export interface Result {
  status: Status;
  code?: string;
  text: string;
  /** Skip the untagged sync before the tagged reply (LOGOUT, failed SELECT). */
  noSync?: boolean;
}
export const ok = (text = "Completed", code?: string): Result => ({ status: "OK", text, code });
export const no = (text: string, code?: string): Result => ({ status: "NO", text, code });
export const bad = (text: string, code?: string): Result => ({ status: "BAD", text, code });

export type SessionState = "notauth" | "auth" | "selected" | "logout";

export interface CommandDef {
  fn: (s: Session, cmd: Command) => Promise<Result> | Result;
  /** Where the command is valid: "any", "notauth", "auth" (authenticated or selected), "selected". */
  state: "any" | "notauth" | "auth" | "selected";
  /** Non-UID form uses sequence numbers: no EXPUNGE may be sent while it runs (RFC 9051 §7.5.1). */
  seq?: boolean;
}

const commands = new Map<string, CommandDef>();

/** Set by search.ts: CONTEXT=SEARCH UPDATE reporting around a view sync (RFC 5267 §4.3). */
export const syncHooks: {
  before: ((s: Session) => Promise<unknown>) | null;
  after: ((s: Session, pending: unknown) => void) | null;
} = { before: null, after: null };
export function registerCommands(defs: Record<string, CommandDef>): void {
  for (const [k, v] of Object.entries(defs)) commands.set(k, v);
}

/** Too many unknown/invalid commands in a row: the client is not speaking IMAP (RFC 9051 §7.1.5 BYE). */
const MAX_BAD = 20;
/** Pause reading (and inflating) while this much pipelined input waits for a busy command. */
const MAX_PIPELINE_BUFFER = 256 * 1024;
/** Output buffered before it is handed to the socket. */
const OUT_CHUNK = 64 * 1024;
/** Default cap on unsent output per connection (config imap.maxOutputBytes; see src/config.ts for why 2 MiB). */
export const DEFAULT_MAX_OUTPUT = 2 * 1024 * 1024;
/** How often a logged-in connection re-checks its account's credential stamp (see watchCredentials); tests shorten it. */
export const imapCredentialCheck = { intervalMs: 30_000 };
/** Kept free under the output cap for the closing BYE. */
const BYE_RESERVE = 64;
/** How long a closing connection may take to hand over its last output (BYE, TLS close_notify) before it is cut. */
const CLOSE_GRACE_MS = 2000;

export interface SessionOptions {
  ctx: ServerContext;
  shared: ImapShared;
  listener: ListenerInfo;
  sessions: Set<Session>;
}

type Sink = {
  write(data: string | Uint8Array): boolean;
  needDrain(): boolean;
  waitDrain(): Promise<void>;
  /** Several writes that should leave as one segment (socket cork); absent for the COMPRESS sink. */
  batch?(fn: () => void): void;
};

export class Session implements ViewOwner {
  readonly ctx: ServerContext;
  readonly store: MailStore;
  readonly log: Logger;
  readonly shared: ImapShared;
  readonly listener: ListenerInfo;
  socket: Socket | TLSSocket;
  readonly remoteIp: string;
  readonly parser: CommandParser;
  state: SessionState = "notauth";
  tls: boolean;
  account: Account | null = null;
  hub: AccountHub | null = null;
  sel: SelectedMailbox | null = null;
  /** RFC 5161 ENABLEd extensions. */
  condstore = false;
  qresync = false;
  rev2 = false;
  utf8 = false;
  /** CONDSTORE was enabled by a command using it (RFC 7162 §3.1): HIGHESTMODSEQ in responses. */
  lastActivity = Date.now();
  /** When the session entered the not-authenticated state (connect, UNAUTHENTICATE): the login deadline runs from here. */
  notauthSince = Date.now();
  idleTag: string | null = null;
  compressed = false;
  /** Set by NOTIFY (notify.ts): the account listener, and how the selected mailbox is pushed. */
  notify: AccountListener | null = null;
  notifySelected: "now" | "delayed" | null = null;
  clientId: Record<string, string | null> | null = null;

  private busy = false;
  private closed = false;
  private badCount = 0;
  private out: (string | Uint8Array)[] = [];
  private outLen = 0;
  private sink: Sink;
  private lineWaiter: ((line: string | null) => void) | null = null;
  private notifyScheduled = false;
  private inflater: InflateRaw | null = null;
  private deflater: DeflateRaw | null = null;
  /** The inflater's input buffer is full: the socket stays paused until it drains. */
  private inflaterFull = false;
  private sessions: Set<Session>;
  private readonly onDataBound = (chunk: Buffer) => this.onData(chunk);
  private readonly onCloseBound = () => this.onClose();

  constructor(socket: Socket | TLSSocket, opts: SessionOptions) {
    this.ctx = opts.ctx;
    this.store = opts.ctx.store;
    this.log = opts.ctx.log;
    this.shared = opts.shared;
    this.listener = opts.listener;
    this.sessions = opts.sessions;
    this.socket = socket;
    this.remoteIp = socket.remoteAddress ?? "unknown";
    this.tls = opts.listener.implicitTls || "encrypted" in socket;
    // Before login APPEND is not allowed: its literals get the small limit, so an
    // unauthenticated client can't make us buffer message-sized data.
    this.parser = new CommandParser({ maxAppendLiteral: DEFAULT_LIMITS.maxOtherLiteral, maxAppendTotal: DEFAULT_LIMITS.maxOtherTotal });
    this.sink = this.socketSink(socket);
    this.attachSocket(socket);
    this.sessions.add(this);
  }

  // ------------------------------------------------------------ socket plumbing

  private socketSink(sock: Socket | TLSSocket): Sink {
    return {
      write: (d) => (typeof d === "string" ? sock.write(d, "utf8") : sock.write(d)),
      batch: (fn) => {
        sock.cork();
        try {
          fn();
        } finally {
          sock.uncork();
        }
      },
      needDrain: () => sock.writableNeedDrain,
      waitDrain: () =>
        new Promise<void>((r) => {
          if (!sock.writableNeedDrain || sock.destroyed) return r();
          const done = () => {
            sock.off("drain", done);
            sock.off("close", done);
            r();
          };
          sock.on("drain", done);
          sock.on("close", done);
        }),
    };
  }

  private attachSocket(sock: Socket | TLSSocket): void {
    sock.on("data", this.onDataBound);
    sock.on("close", this.onCloseBound);
    sock.on("error", () => {
      /* close follows */
    });
  }

  private detachSocket(sock: Socket | TLSSocket): void {
    sock.off("data", this.onDataBound);
    sock.off("close", this.onCloseBound);
  }

  start(): void {
    const caps = this.capabilities();
    this.send(`* OK [CAPABILITY ${caps}] ${this.ctx.config.hostname} Pillarbox IMAP ready.\r\n`);
    this.flushOut();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.lastActivity = Date.now();
    if (this.inflater) this.inflate(chunk);
    else this.feed(chunk);
  }

  /**
   * RFC 4978 input. The inflater is fed at the pace the session reads: its
   * output is paused while the session is not reading (updateReading), so it
   * stops inflating once its own small buffers are full, and a full inflater
   * pauses the socket. A deflate bomb thus stays compressed in the kernel.
   */
  private inflate(chunk: Uint8Array): void {
    const inf = this.inflater;
    if (!inf || this.closed) return;
    if (!inf.write(chunk) && !this.inflaterFull) {
      this.inflaterFull = true;
      this.updateReading();
      inf.once("drain", () => {
        this.inflaterFull = false;
        this.updateReading();
      });
    }
  }

  /** Plain or inflated input for the command parser. */
  private feed(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.parser.push(chunk)) {
      // Only input that did not stop when we stopped reading gets here (parser.ts maxBuffered).
      this.log.info("imap: command buffer full, disconnecting", { ip: this.remoteIp });
      this.send("* BYE Too much input.\r\n");
      this.close();
      return;
    }
    this.pump();
  }

  /**
   * Reading stops while a command runs and enough pipelined input waits
   * (or the inflater is full); it resumes when the session wants input again.
   */
  private updateReading(): void {
    if (this.closed) return;
    const stop = this.busy && !this.lineWaiter && this.parser.buffered > MAX_PIPELINE_BUFFER;
    const inf = this.inflater;
    if (inf) {
      if (stop && !inf.isPaused()) inf.pause();
      else if (!stop && inf.isPaused()) inf.resume();
    }
    const sock = this.socket;
    if (stop || this.inflaterFull) {
      if (!sock.isPaused()) sock.pause();
    } else if (sock.isPaused()) sock.resume();
  }

  private onClose(): void {
    this.socketGone = true;
    // the connection is gone: the compressor's state goes with it
    this.inflater?.destroy();
    this.deflater?.destroy();
    this.inflater = null;
    this.deflater = null;
    if (this.closed) return;
    this.closed = true;
    this.state = "logout";
    this.cleanup();
  }

  private cleanup(): void {
    if (this.credWatch) {
      clearInterval(this.credWatch);
      this.credWatch = null;
    }
    if (this.lineWaiter) {
      const w = this.lineWaiter;
      this.lineWaiter = null;
      w(null);
    }
    this.sel?.detach();
    this.sel = null;
    if (this.hub) {
      if (this.notify) this.hub.listeners.delete(this.notify);
      this.hub.release();
      this.hub = null;
    }
    this.sessions.delete(this);
    this.held = [];
    this.heldLen = 0;
    // no more input; the deflater stays until the last output has gone through it (close)
    this.inflater?.destroy();
    this.inflater = null;
  }

  /**
   * Closes the connection after flushing what was written. Every way out
   * (LOGOUT, timeouts, too many bad commands, too much output, shutdown) comes
   * here: with COMPRESS the BYE and tagged reply still sit in the deflater, so
   * its stream is finished first (RFC 4978 §3: all output after COMPRESS goes
   * through it), and only when its last bytes are written does the socket end
   * (`end()`, so TLS sends close_notify, RFC 8446 §6.1). A client that does not
   * read is cut after a short grace.
   */
  close(): void {
    if (this.closed) return;
    this.flushOut();
    this.closed = true;
    this.state = "logout";
    this.cleanup();
    const sock = this.socket;
    // further input is read and dropped (onData ignores it), so the peer's FIN is seen
    if (sock.isPaused()) sock.resume();
    const end = () => {
      if (!sock.destroyed) sock.end();
    };
    const d = this.deflater;
    if (d && !sock.destroyed) {
      d.once("end", end);
      d.once("error", () => sock.destroy());
      d.end();
    } else end();
    setTimeout(() => sock.destroy(), CLOSE_GRACE_MS).unref?.();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The socket has closed: the last output (BYE, deflater end, TLS close_notify) has left or been given up. */
  get isGone(): boolean {
    return this.socketGone || this.socket.destroyed;
  }
  private socketGone = false;

  /** Input received and not yet parsed: the command buffer plus what waits in the inflater (tests, abuse scripts). */
  get inputBuffered(): number {
    const inf = this.inflater;
    return this.parser.buffered + (inf ? inf.readableLength + inf.writableLength : 0);
  }

  /** Output not yet taken by the kernel: our batch, held pushes, the deflater and the socket's buffer. */
  unsentOutput(): number {
    const d = this.deflater;
    return this.outLen + this.heldLen + (d ? d.writableLength + d.readableLength : 0) + (this.socket.destroyed ? 0 : this.socket.writableLength);
  }

  /** Cap on unsent output (config imap.maxOutputBytes). */
  get maxOutput(): number {
    return this.ctx.config.imap.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
  }

  /**
   * Whether `n` more bytes of unsolicited output (IDLE and NOTIFY pushes,
   * which the client did not ask for and so cannot be held back by not
   * running its commands) may be queued. A client whose unsent output would
   * pass the cap has fallen too far behind: it gets `* BYE Too much output`
   * and is disconnected, as Dovecot does ("Client has too much output").
   * One push bigger than the whole cap still goes to a client that has caught
   * up (no more than one write waiting), so a flag change on every message of
   * a huge mailbox reaches a client that reads.
   */
  roomForPush(n: number): boolean {
    if (this.closed) return false;
    const waiting = this.unsentOutput();
    if (waiting + n + BYE_RESERVE <= this.maxOutput || waiting <= OUT_CHUNK) return true;
    this.log.info("imap: client has too much output, disconnecting", { ip: this.remoteIp, unsent: waiting, push: n });
    this.held = [];
    this.heldLen = 0;
    this.send("* BYE Too much output.\r\n");
    this.close();
    return false;
  }

  // ------------------------------------------------------------ output

  send(s: string): void {
    this.out.push(s);
    this.outLen += s.length;
    if (this.outLen >= OUT_CHUNK) this.flushOut();
  }

  sendBytes(b: Uint8Array): void {
    this.out.push(b);
    this.outLen += b.length;
    if (this.outLen >= OUT_CHUNK) this.flushOut();
  }

  flushOut(): void {
    if (!this.out.length) return;
    if (this.closed && !this.deflater) {
      if (this.socket.destroyed || this.socket.writableEnded) {
        this.out = [];
        this.outLen = 0;
        return;
      }
    }
    const parts = this.out;
    const total = this.outLen;
    this.out = [];
    this.outLen = 0;
    const sink = this.sink;
    if (parts.length === 1) {
      sink.write(parts[0]);
    } else if (sink.batch) {
      // Corked: the parts leave in one write without first being copied into one buffer.
      sink.batch(() => {
        let acc = "";
        for (const p of parts) {
          if (typeof p === "string") acc += p;
          else {
            if (acc) sink.write(acc);
            acc = "";
            sink.write(p);
          }
        }
        if (acc) sink.write(acc);
      });
    } else if (total < 256 * 1024 && parts.some((p) => typeof p !== "string")) {
      // one write per response batch: literals and text joined in one buffer
      const bufs: Buffer[] = [];
      let acc = "";
      for (const p of parts) {
        if (typeof p === "string") acc += p;
        else {
          if (acc) bufs.push(Buffer.from(acc, "utf8"));
          acc = "";
          bufs.push(Buffer.from(p.buffer, p.byteOffset, p.byteLength));
        }
      }
      if (acc) bufs.push(Buffer.from(acc, "utf8"));
      this.sink.write(Buffer.concat(bufs));
    } else {
      let acc = "";
      for (const p of parts) {
        if (typeof p === "string") acc += p;
        else {
          if (acc) this.sink.write(acc);
          acc = "";
          this.sink.write(p);
        }
      }
      if (acc) this.sink.write(acc);
    }
    if (this.deflater) this.deflater.flush(zc.Z_SYNC_FLUSH);
  }

  /**
   * An untagged response not caused by the client's command (NOTIFY STATUS,
   * LIST): sent at once between commands, or held and sent with the running
   * command's responses, so it never lands inside another response.
   */
  sendUnsolicited(text: string): void {
    if (!this.roomForPush(text.length)) return;
    if (!this.busy) {
      this.send(text);
      this.flushOut();
    } else {
      this.held.push(text);
      this.heldLen += text.length;
    }
  }
  private held: string[] = [];
  private heldLen = 0;

  /** Hands big output to the socket and waits while its buffer is full (large FETCH responses); small output waits for the command's end (one write). */
  async drain(): Promise<void> {
    if (this.outLen >= OUT_CHUNK / 4) this.flushOut();
    if (this.sink.needDrain()) await this.sink.waitDrain();
  }

  tagged(tag: string, r: Result): void {
    this.send(`${tag} ${r.status} ${r.code ? `[${r.code}] ` : ""}${r.text}\r\n`);
  }

  // ------------------------------------------------------------ input loop

  private pump(): void {
    if (this.closed) return;
    for (;;) {
      if (this.busy && !this.lineWaiter) break;
      const ev = this.parser.next();
      if (!ev) break;
      if (this.handleEvent(ev)) break;
      if (this.closed) return;
    }
    // Output waits while a pipelined command runs: its responses then go out
    // together with the previous ones in one write (big output is flushed by send()).
    if (!this.busy) this.flushOut();
    this.updateReading();
  }

  /** Returns true when the loop must stop (a command started running). */
  private handleEvent(ev: ParseEvent): boolean {
    switch (ev.type) {
      case "line": {
        if (this.lineWaiter) {
          const w = this.lineWaiter;
          this.lineWaiter = null;
          this.parser.lineMode = false;
          w(ev.line);
          return false;
        }
        if (this.idleTag !== null) {
          this.endIdle(ev.line);
          return false;
        }
        this.parser.lineMode = false;
        return false;
      }
      case "continue":
        this.send("+ OK\r\n");
        this.flushOut();
        return false;
      case "error":
        this.badInput();
        this.send(`${ev.tag} ${ev.status} ${ev.code ? `[${ev.code}] ` : ""}${ev.text}\r\n`);
        return false;
      case "fatal":
        this.send(`* BYE ${ev.text}\r\n`);
        this.close();
        return true;
      case "command": {
        this.busy = true;
        this.runCommand(ev.cmd).then(
          () => this.afterCommand(),
          (e) => {
            this.log.error("imap: command crashed", { error: e as Error });
            this.afterCommand();
          },
        );
        return true;
      }
    }
  }

  /**
   * The next command runs only once the socket has taken the previous
   * responses: a client that pipelines commands and never reads gets no more
   * work done and no more output queued (input stays paused meanwhile).
   */
  private afterCommand(): void {
    if (this.closed) {
      this.busy = false;
      return;
    }
    if (this.sink.needDrain()) {
      void this.sink.waitDrain().then(() => {
        this.afterCommand();
        // IDLE pushes skipped while we waited (viewChanged skips a busy session)
        if (!this.busy && this.idleTag !== null) this.viewChanged();
      });
      return;
    }
    this.busy = false;
    this.pump();
  }

  private badInput(): void {
    this.badCount++;
    if (this.badCount >= MAX_BAD) {
      this.send("* BYE Too many invalid commands.\r\n");
      this.close();
    }
  }

  /** Reads one raw line from the client (SASL exchange). null when the connection closed. */
  readLine(): Promise<string | null> {
    return new Promise((resolve) => {
      this.lineWaiter = resolve;
      this.parser.lineMode = true;
      this.flushOut();
      // input may already be buffered
      queueMicrotask(() => this.pump());
    });
  }

  private async runCommand(cmd: Command): Promise<void> {
    this.lastActivity = Date.now();
    const def = commands.get(cmd.name);
    if (!def) {
      this.badInput();
      this.tagged(cmd.tag, bad(cmd.uid ? "Unknown UID command." : "Unknown command."));
      return;
    }
    const st = this.state;
    const allowed =
      def.state === "any" ||
      (def.state === "notauth" && st === "notauth") ||
      (def.state === "auth" && (st === "auth" || st === "selected")) ||
      (def.state === "selected" && st === "selected");
    if (!allowed) {
      this.badInput();
      const why = st === "notauth" ? "Not authenticated." : def.state === "selected" ? "No mailbox selected." : def.state === "notauth" ? "Already authenticated." : "Not allowed now.";
      this.tagged(cmd.tag, bad(why));
      return;
    }
    let r: Result;
    try {
      r = await def.fn(this, cmd);
    } catch (e) {
      r = this.errorResult(e);
    }
    if (r.status === "BAD") this.badInput();
    else this.badCount = 0;
    if (this.closed) return;
    if (!r.noSync && this.state === "selected") {
      await this.syncView(!(def.seq && !cmd.uid), false, cmd.name === "NOOP" || cmd.name === "CHECK");
    }
    if (this.held.length) {
      for (const h of this.held) this.send(h);
      this.held = [];
      this.heldLen = 0;
    }
    if (r.text !== "") this.tagged(cmd.tag, r);
  }

  errorResult(e: unknown): Result {
    if (e instanceof QuotaExceededError) return no("Quota exceeded.", "OVERQUOTA");
    if (e instanceof StorageFullError) return no("Storage full, try again later.", "UNAVAILABLE");
    if (e instanceof StoreError) {
      const code =
        e.code === "NONEXISTENT" ? "NONEXISTENT" : e.code === "ALREADYEXISTS" ? "ALREADYEXISTS" : e.code === "INUSE" ? "INUSE" : e.code === "LIMIT" ? "LIMIT" : "CANNOT";
      return no(e.message.replace(/[\r\n]/g, " "), code);
    }
    this.log.error("imap: command failed", { error: e as Error });
    return no("Internal error occurred. Refer to server log for more information.", "SERVERBUG");
  }

  // ------------------------------------------------------------ selected-mailbox updates

  fetchFlagsLine = (seq: number, m: Msg): string => {
    let flags = m.flags.str;
    if (!this.rev2 && this.sel && this.sel.isRecent(m.uid)) flags = flags ? "\\Recent " + flags : "\\Recent";
    let extra = "";
    // RFC 7162 §3.2.4: with QRESYNC every FETCH carries the UID
    if (this.qresync) extra += ` UID ${m.uid}`;
    if (this.condstore) extra += ` MODSEQ (${m.modseq})`;
    return `* ${seq} FETCH (FLAGS (${flags})${extra})\r\n`;
  };

  /** Sends pending untagged updates for the selected mailbox. */
  async syncView(allowExpunge: boolean, push = false, catchUp = false): Promise<void> {
    const sel = this.sel;
    if (!sel) return;
    if (catchUp && this.ctx.cluster.role !== "single") {
      // Several processes (src/cluster/): a change another process committed (and acknowledged
      // to its client) reaches this one as a relayed event a moment later. For the commands a
      // client sends to ask for news (NOOP, CHECK, IDLE and its DONE: RFC 9051 §6.1.2, §6.4.1)
      // the folder's counters tell at once: when they moved, catch up from the store before
      // answering, so the answer holds everything any session was already told is done.
      const fresh = await this.store.getFolderById(sel.folderId);
      if (this.sel !== sel) return;
      if (fresh) await sel.cache.ready(fresh);
    }
    await sel.cache.idle();
    // an unsolicited push must never land inside a command that started meanwhile
    if (this.sel !== sel || (push && this.busy)) return;
    // CONTEXT=SEARCH UPDATE (search.ts): removals before EXPUNGE, additions after EXISTS
    const pending = sel.updates && syncHooks.before ? await syncHooks.before(this) : null;
    if (this.sel !== sel || (push && this.busy)) return;
    const text = sel.sync({ allowExpunge, qresync: this.qresync, condstore: this.condstore, rev2: this.rev2 }, this.fetchFlagsLine);
    if (text && push && !this.roomForPush(text.length)) return;
    if (text) this.send(text);
    if (pending && syncHooks.after) syncHooks.after(this, pending);
  }

  viewChanged(): void {
    if (this.idleTag === null && !this.notifySelected) return;
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    // coalesce a burst of events into one write
    setTimeout(() => {
      this.notifyScheduled = false;
      if (this.closed || this.busy) return;
      if (this.idleTag !== null) void this.syncView(true, true).then(() => this.flushOut());
      // RFC 5465 §5.1: with NOTIFY, updates go out between commands; SELECTED-DELAYED holds EXPUNGE back
      else if (this.notifySelected) void this.syncView(this.notifySelected === "now", true).then(() => this.flushOut());
    }, 5);
  }

  folderGone(): void {
    // RFC 9051 §7.1.5: the selected mailbox vanished; Dovecot disconnects the same way.
    if (this.closed) return;
    this.send("* BYE Selected mailbox was deleted, have to disconnect.\r\n");
    this.close();
  }

  // ------------------------------------------------------------ IDLE (RFC 2177)

  startIdle(tag: string): void {
    this.idleTag = tag;
    this.parser.lineMode = true;
    this.send("+ idling\r\n");
  }

  private endIdle(line: string): void {
    const tag = this.idleTag!;
    this.idleTag = null;
    this.parser.lineMode = false;
    if (line.trim().toUpperCase() !== "DONE") {
      this.tagged(tag, bad("Expected DONE."));
      return;
    }
    this.busy = true;
    this.syncView(true, false, true).then(
      () => {
        this.tagged(tag, ok("Idle completed."));
        this.afterCommand();
      },
      () => this.afterCommand(),
    );
  }

  // ------------------------------------------------------------ capabilities

  capabilities(): string {
    const c = ["IMAP4rev1", "IMAP4rev2"];
    const plaintextOk = this.tls || this.ctx.config.imap.allowPlaintextAuth;
    if (this.state === "notauth") {
      c.push("SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE");
      if (!this.tls && this.listener.name === "IMAP") c.push("STARTTLS");
      if (plaintextOk) c.push("AUTH=PLAIN", "AUTH=LOGIN");
      else c.push("LOGINDISABLED");
      return c.join(" ");
    }
    c.push(...POST_AUTH_CAPS);
    c.push(`APPENDLIMIT=${this.ctx.config.limits.maxMessageSize}`);
    if (!this.compressed) c.push("COMPRESS=DEFLATE");
    return c.join(" ");
  }

  // ------------------------------------------------------------ mailbox names

  /**
   * Mailbox name from the client: mUTF-7 (IMAP4rev1) or UTF-8 (rev2 /
   * UTF8=ACCEPT), "/" delimiter. A name that is not valid mUTF-7 is taken
   * literally (it then names no existing mailbox: NO, not BAD); CREATE and
   * RENAME check `validMailboxName` first.
   */
  mailboxFromClient(raw: string): string {
    let name: string = raw;
    if (!this.rev2 && !this.utf8) name = utf7Decode(raw) ?? raw;
    if (/^inbox$/i.test(name)) return "INBOX";
    if (/^inbox\//i.test(name)) return "INBOX" + name.slice(5);
    return name;
  }

  /** RFC 3501 §5.1.3: names a rev1 client creates must be valid modified UTF-7. */
  validMailboxName(raw: string): boolean {
    if (this.rev2 || this.utf8) return true;
    return utf7Decode(raw) !== null;
  }

  /** Mailbox name as sent to this client (quoted string or literal). */
  mailboxToClient(name: string): string {
    if (this.rev2 || this.utf8) return strUtf8(name, true);
    const enc = utf7Encode(name);
    return quoteRaw(enc);
  }

  // ------------------------------------------------------------ login

  /** `stamp`: the credential stamp the login was checked against (LoginResult.stamp); read here when not given. */
  async loggedIn(account: Account, stamp?: string | null): Promise<void> {
    this.account = account;
    this.state = "auth";
    this.watchCredentials(account.id, stamp !== undefined ? stamp : await this.ctx.store.credentialStamp(account.id));
    const maxMsg = this.ctx.config.limits.maxMessageSize;
    this.parser.limits.maxAppendLiteral = maxMsg;
    this.parser.limits.maxAppendTotal = Math.max(maxMsg * 4, 64 * 1024 * 1024);
    this.hub = this.shared.hub(account.id);
    this.hub.acquire();
  }

  /**
   * A logged-in connection (an IDLE can last days) ends once its account's
   * credentials change: an app password revoked, the account disabled, a new
   * password, two-factor sign-in turned on (the store's credential stamp,
   * also when the CLI made the change). The client logs in again with what is
   * still valid, or is refused.
   */
  private watchCredentials(accountId: number, stamp: string | null): void {
    if (this.credWatch) clearInterval(this.credWatch);
    this.credWatch = setInterval(() => {
      this.ctx.store.credentialStamp(accountId).then(
        (now) => {
          if (this.closed || now === stamp) return;
          this.log.info("imap: credentials changed, closing the session", { accountId });
          this.send("* BYE Your credentials changed or were revoked; log in again.\r\n");
          this.close();
        },
        () => {}, // the database busy or closing: the next round checks again
      );
    }, imapCredentialCheck.intervalMs);
    (this.credWatch as { unref?: () => void }).unref?.();
  }
  private credWatch: ReturnType<typeof setInterval> | null = null;

  /** Leaves the selected state (CLOSE, UNSELECT, SELECT of another mailbox). */
  unselect(): void {
    if (this.sel) {
      this.sel.detach();
      this.sel = null;
    }
    if (this.state === "selected") this.state = "auth";
  }

  // ------------------------------------------------------------ STARTTLS / COMPRESS

  /** Swaps the plain socket for TLS; bytes pipelined after STARTTLS are discarded (RFC 3207 §4.2 / RFC 9051 §6.2.1). */
  async startTls(): Promise<boolean> {
    const raw = this.socket;
    this.flushOut();
    this.detachSocket(raw);
    this.parser.takeRemaining();
    try {
      const t = await this.ctx.tls.upgrade(raw as Socket);
      this.socket = t;
      this.tls = true;
      this.sink = this.socketSink(t);
      this.attachSocket(t);
      return true;
    } catch (e) {
      this.log.debug("imap: STARTTLS handshake failed", { error: (e as Error).message });
      this.closed = true;
      this.cleanup();
      return false;
    }
  }

  /** RFC 4978: everything after the tagged OK is raw DEFLATE in both directions. */
  startCompression(): void {
    this.flushOut();
    const sock = this.socket;
    const deflater = createDeflateRaw({ level: 6, memLevel: 8, windowBits: 15 });
    const inflater = createInflateRaw({ windowBits: 15 });
    deflater.on("data", (d: Buffer) => {
      if (!sock.destroyed) sock.write(d);
    });
    deflater.on("error", () => sock.destroy());
    inflater.on("data", (d: Buffer) => this.feed(d));
    inflater.on("error", () => {
      if (this.closed) return;
      this.send("* BYE Invalid compressed data.\r\n");
      this.close();
    });
    this.deflater = deflater;
    this.compressed = true;
    this.sink = {
      write: (d) => deflater.write(typeof d === "string" ? Buffer.from(d, "utf8") : d),
      needDrain: () => sock.writableNeedDrain || deflater.writableNeedDrain,
      waitDrain: () =>
        new Promise<void>((r) => {
          const check = () => {
            if (!sock.destroyed && !this.closed && (sock.writableNeedDrain || deflater.writableNeedDrain)) return;
            sock.off("drain", check);
            sock.off("close", check);
            deflater.off("drain", check);
            r();
          };
          sock.on("drain", check);
          sock.on("close", check);
          deflater.on("drain", check);
          check();
        }),
    };
    const rest = this.parser.takeRemaining();
    this.inflater = inflater;
    if (rest.length) this.inflate(rest);
  }

  /** Server shutdown. */
  shutdown(): void {
    if (this.closed) return;
    if (this.busy) {
      // let the running command finish its reply
      setTimeout(() => this.shutdown(), 50).unref?.();
      return;
    }
    this.send("* BYE Server shutting down.\r\n");
    this.close();
  }
}

/**
 * Capabilities after login (the pre-login list is shorter, RFC 9051 §7.2.2).
 * GENURLAUTH/URLFETCH/RESETKEY (urlauth.ts) work but URLAUTH is not
 * advertised, as in Dovecot's default: no mail client uses it without a
 * BURL-capable submission server, and imaptest's urlauth2 script cannot
 * pass against any server (it appends no messages, then fetches 1:2).
 */
export const POST_AUTH_CAPS = [
  "SASL-IR",
  "LITERAL+",
  "ID",
  "ENABLE",
  "IDLE",
  "NAMESPACE",
  "UIDPLUS",
  "MOVE",
  "UNSELECT",
  "CHILDREN",
  "LIST-EXTENDED",
  "LIST-STATUS",
  "SPECIAL-USE",
  "CREATE-SPECIAL-USE",
  "CONDSTORE",
  "QRESYNC",
  "ESEARCH",
  "ESORT",
  "SEARCHRES",
  "WITHIN",
  "CONTEXT=SEARCH",
  "CONTEXT=SORT",
  "SORT",
  "SORT=DISPLAY",
  "THREAD=ORDEREDSUBJECT",
  "THREAD=REFERENCES",
  "MULTIAPPEND",
  "CATENATE",
  "URL-PARTIAL",
  "BINARY",
  "UNAUTHENTICATE",
  "QUOTA",
  "QUOTA=RES-STORAGE",
  "STATUS=SIZE",
  "OBJECTID",
  "PREVIEW",
  "NOTIFY",
];

/** Helper for handlers: a mailbox name argument in storage form, or null. */
export function mailboxArg(s: Session, raw: string | null): string | null {
  if (raw === null) return null;
  const name = s.mailboxFromClient(raw);
  if (name === "") return null;
  // a trailing delimiter names the same mailbox (RFC 9051 §6.3.4 CREATE foo/)
  return name.endsWith("/") && name.length > 1 ? name.replace(/\/+$/, "") : name;
}

export type { Command };
