/**
 * Send delay ("Undo send", as Outlook on the web and Gmail offer it).
 *
 * When the account's delay is above zero, POST /api/send does not submit: the
 * finished message is appended to \Drafts with the keyword `$PbScheduled`
 * and its INTERNALDATE set to the moment it is due. Held there it is durable
 * (the store's fsynced append), visible to the user, and survives a restart:
 * at start the scheduler scans the accounts' \Drafts for the keyword.
 *
 * Exactly once: before submitting, the held copy gets `$PbSending` (durable);
 * ctx.submit commits the recipients' copies, the queue entry and the \Sent
 * copy in one transaction; then the held copy is expunged. A crash between
 * the two leaves a held copy marked `$PbSending`: it is sent again only if no
 * message with its Message-ID is in \Sent (submit's transaction puts one
 * there), so it is never lost and never sent twice.
 *
 * Undo (POST /api/send/:id/undo) takes the keyword off under the same lock
 * the timer takes, so a message is either undone (and becomes an ordinary
 * draft the composer opens) or sent, never both.
 */
import type { Hono } from "hono";
import type { ServerContext } from "../../../src/context.ts";
import type { Account, Folder, MessageIndex } from "../../../storage/api.ts";
import type { WebmailStore } from "../../../storage/webmail-store.ts";
import type { AppEnv } from "../types.ts";
import { ApiError, readJson } from "./util.ts";
import { ownedMessage, specialFolder } from "./mail-api.ts";

/** IMAP keywords (RFC 9051 §2.3.2: atoms a client may set; other clients show or ignore them). */
export const HELD_KEYWORD = "$PbScheduled";
export const SENDING_KEYWORD = "$PbSending";
/** Which message a held reply/forward answers, to flag it \Answered / $Forwarded once sent; removed before sending. */
export const SOURCE_HEADER = "X-Pillarbox-Answers";

/** The choices the settings offer, in seconds (0 = off). */
export const SEND_DELAY_CHOICES = [0, 5, 10, 20, 30] as const;
const MAX_DELAY_S = 30;
/** After a temporary failure (quota, DNS, store busy) the held message is tried again after this long. */
const RETRY_MS = 60_000;
/** How many of the newest \Sent messages a recovery compares Message-IDs with (the crash window is one submit). */
const SENT_CHECK_WINDOW = 200;

export function sendDelayOf(account: Account): number {
  const v = account.settings.sendDelaySeconds;
  return typeof v === "number" && Number.isInteger(v) && v > 0 && v <= MAX_DELAY_S ? v : 0;
}

const schedulers = new WeakMap<ServerContext, SendScheduler>();

/**
 * The one scheduler of a server: the webmail (built on the first HTTP request) and the
 * HTTP module's start (which finds held sends at once, before any request) share it,
 * so one held message has one timer and one lock.
 */
export function sendSchedulerFor(ctx: ServerContext, wstore: WebmailStore = ctx.storage.webmail): SendScheduler {
  let s = schedulers.get(ctx);
  if (!s) {
    s = new SendScheduler(ctx, wstore);
    schedulers.set(ctx, s);
  }
  return s;
}

/** At server start: schedule the sends held before a stop or crash (they were durable in \Drafts). */
export function startHeldSends(ctx: ServerContext): void {
  void sendSchedulerFor(ctx)
    .recover()
    .catch((err) => ctx.log.warn("webmail: finding held sends failed", { error: err instanceof Error ? err.message : String(err) }));
}

export function stopHeldSends(ctx: ServerContext): void {
  schedulers.get(ctx)?.stop();
  schedulers.delete(ctx);
}

export interface HeldSend {
  id: number;
  sendAt: number;
}

export class SendScheduler {
  private timers = new Map<number, ReturnType<typeof setTimeout>>();
  /** Held messages being sent or undone right now (one process owns the store). */
  private busy = new Set<number>();
  private stopped = false;
  private recovering = false;

  constructor(
    private ctx: ServerContext,
    private wstore: WebmailStore,
  ) {}

  /** Holds `raw` (a draft-form message, Bcc kept) in \Drafts until `sendAt`. */
  async hold(account: Account, raw: Uint8Array, sendAt: number): Promise<HeldSend> {
    const drafts = await specialFolder(this.ctx, account.id, "\\Drafts");
    const [res] = await this.ctx.store.append(drafts.id, [{ raw, flags: ["\\Draft", "\\Seen", HELD_KEYWORD], internalDate: sendAt }]);
    this.schedule(res!.id, sendAt);
    return { id: res!.id, sendAt };
  }

  /**
   * Takes a held message out of the schedule. True when it was held (it is now an
   * ordinary draft); false when it was already sent or is being sent.
   */
  async undo(account: Account, id: number): Promise<boolean> {
    if (this.busy.has(id)) return false;
    this.busy.add(id);
    try {
      const m = await ownedMessage(this.ctx, account, id).catch(() => null);
      if (!m || !m.flags.includes(HELD_KEYWORD) || m.flags.includes(SENDING_KEYWORD)) return false;
      await this.ctx.store.storeFlags(m.folderId, [m.uid], "remove", [HELD_KEYWORD]);
      this.clearTimer(id);
      return true;
    } finally {
      this.busy.delete(id);
    }
  }

  async saveDelay(account: Account, seconds: number): Promise<void> {
    await this.ctx.store.updateSettings(account.id, { sendDelaySeconds: seconds });
  }

  /**
   * Finds held messages after a start (they survived a restart) and schedules each. Only
   * accounts that ever chose a delay can hold one (the setting is written before any hold).
   */
  async recover(): Promise<number> {
    if (this.recovering) return 0;
    this.recovering = true;
    let n = 0;
    for (const account of await this.ctx.store.listAccounts()) {
      if (this.stopped) break;
      if (account.settings.sendDelaySeconds === undefined) continue;
      const folders = await this.ctx.store.listFolders(account.id);
      for (const f of folders.filter((x) => x.specialUse === "\\Drafts")) {
        for (const m of await this.ctx.store.listMessages(f.id)) {
          if (!m.flags.includes(HELD_KEYWORD)) continue;
          this.schedule(m.id, m.internalDate);
          n++;
        }
      }
    }
    return n;
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private clearTimer(id: number): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  private schedule(id: number, at: number): void {
    if (this.stopped) return;
    this.clearTimer(id);
    const t = setTimeout(
      () => {
        this.timers.delete(id);
        void this.fire(id).catch((err) => this.ctx.log.warn("webmail: sending a held message failed", { id, error: err instanceof Error ? err.message : String(err) }));
      },
      Math.max(0, Math.min(at - Date.now(), MAX_DELAY_S * 1000 + 1000)),
    );
    t.unref?.();
    this.timers.set(id, t);
  }

  /** Sends one held message if it is still held. */
  async fire(id: number): Promise<"sent" | "skipped" | "retry" | "failed"> {
    if (this.stopped || this.busy.has(id)) return "skipped";
    this.busy.add(id);
    try {
      const store = this.ctx.store;
      const m = await store.getMessageById(id);
      if (!m || !m.flags.includes(HELD_KEYWORD)) return "skipped";
      const folder = await store.getFolderById(m.folderId);
      const account = folder ? await store.getAccountById(folder.accountId) : null;
      if (!folder || !account) return "skipped";
      const sent = await specialFolder(this.ctx, account.id, "\\Sent");
      if (m.flags.includes(SENDING_KEYWORD)) {
        // Interrupted after the mark: submit may have committed (then \Sent has it) or not.
        if (m.messageId && (await inSent(this.ctx, sent, m.messageId))) {
          await expungeOne(this.ctx, m);
          return "sent";
        }
      } else {
        await store.storeFlags(m.folderId, [m.uid], "add", [SENDING_KEYWORD], { silent: true });
      }
      const raw = await store.readMessage(m.id);
      const recipients = recipientsOf(m);
      const from = addr(m.envelope.from?.[0]);
      if (!recipients.length || !from) {
        await store.storeFlags(m.folderId, [m.uid], "remove", [HELD_KEYWORD, SENDING_KEYWORD]);
        return "failed";
      }
      const source = sourceOf(raw);
      try {
        await this.ctx.submit({ account, envelopeFrom: from, recipients, raw: stripFields(raw, ["bcc", SOURCE_HEADER.toLowerCase()]), saveToSent: true });
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        // Nothing was committed (submit's contract): clear the mark so the next try sends it.
        await store.storeFlags(m.folderId, [m.uid], "remove", [SENDING_KEYWORD], { silent: true });
        if (code === "TEMP" || code === "QUOTA" || !code) {
          this.schedule(id, Date.now() + RETRY_MS);
          return "retry";
        }
        // Refused for good (sender, recipient, size): it stays in Drafts as an ordinary draft for the user to fix.
        await store.storeFlags(m.folderId, [m.uid], "remove", [HELD_KEYWORD]);
        this.ctx.log.warn("webmail: a held message was refused", { id, error: err instanceof Error ? err.message : String(err) });
        return "failed";
      }
      await expungeOne(this.ctx, m).catch(() => {});
      if (source) {
        const orig = await ownedMessage(this.ctx, account, source.id).catch(() => null);
        if (orig) await store.storeFlags(orig.folderId, [orig.uid], "add", [source.mode === "forward" ? "$Forwarded" : "\\Answered"]).catch(() => {});
      }
      const people = [...(m.envelope.to ?? []), ...(m.envelope.cc ?? []), ...(m.envelope.bcc ?? [])]
        .map((a) => ({ address: addr(a), name: a.name }))
        .filter((p) => p.address);
      await this.wstore.noteCorrespondents(account.id, people, Date.now()).catch(() => {});
      return "sent";
    } finally {
      this.busy.delete(id);
    }
  }
}

/** The routes: the delay setting and Undo. (POST /api/send itself is in compose-api.ts and calls `hold`.) */
export function mountSendDelayApi(app: Hono<AppEnv>, scheduler: SendScheduler): void {
  app.get("/api/settings/send-delay", (c) => {
    c.header("cache-control", "no-store");
    return c.json({ seconds: sendDelayOf(c.get("account")), choices: SEND_DELAY_CHOICES });
  });

  app.put("/api/settings/send-delay", async (c) => {
    const body = await readJson<{ seconds?: unknown }>(c);
    const s = body.seconds;
    if (typeof s !== "number" || !(SEND_DELAY_CHOICES as readonly number[]).includes(s)) {
      throw new ApiError(400, "bad_delay", `Choose a send delay of ${SEND_DELAY_CHOICES.join(", ")} seconds.`);
    }
    const account = c.get("account");
    await scheduler.saveDelay(account, s);
    return c.json({ ok: true, seconds: s });
  });

  app.post("/api/send/:id/undo", async (c) => {
    const id = Number(c.req.param("id"));
    if (!Number.isSafeInteger(id) || id <= 0) throw new ApiError(400, "bad_request", "Unknown message.");
    if (!(await scheduler.undo(c.get("account"), id))) throw new ApiError(409, "already_sent", "Too late to undo: the message has been sent.");
    return c.json({ ok: true, draftId: id });
  });
}

async function inSent(ctx: ServerContext, sent: Folder, messageId: string): Promise<boolean> {
  const all = await ctx.store.listMessages(sent.id);
  const recent = all.slice(-SENT_CHECK_WINDOW).map((m) => m.uid);
  if (!recent.length) return false;
  const rows = await ctx.store.getMessages(sent.id, recent);
  return rows.some((r) => r.messageId === messageId);
}

async function expungeOne(ctx: ServerContext, m: MessageIndex): Promise<void> {
  await ctx.store.storeFlags(m.folderId, [m.uid], "add", ["\\Deleted"], { silent: true });
  await ctx.store.expunge(m.folderId, [m.uid]);
}

function addr(a: { mailbox: string | null; host: string | null } | undefined): string {
  return a && a.mailbox && a.host ? `${a.mailbox}@${a.host}`.toLowerCase() : "";
}

function recipientsOf(m: MessageIndex): string[] {
  const all = [...(m.envelope.to ?? []), ...(m.envelope.cc ?? []), ...(m.envelope.bcc ?? [])].map(addr).filter(Boolean);
  return [...new Set(all)].slice(0, 1000);
}

/** The end of the header section (index of the empty line's first byte), or -1. */
function headerEnd(raw: Uint8Array): { end: number; sep: number } {
  for (let i = 0; i < raw.length - 1; i++) {
    if (raw[i] === 0x0a && raw[i + 1] === 0x0a) return { end: i + 1, sep: 1 };
    if (raw[i] === 0x0d && raw[i + 1] === 0x0a && raw[i + 2] === 0x0d && raw[i + 3] === 0x0a) return { end: i + 2, sep: 2 };
  }
  return { end: -1, sep: 0 };
}

/** Removes whole header fields (with their folded continuation lines, RFC 5322 §2.2.3) by lower-case name. */
export function stripFields(raw: Uint8Array, names: string[]): Uint8Array {
  const { end } = headerEnd(raw);
  if (end < 0) return raw;
  const head = new TextDecoder("latin1").decode(raw.subarray(0, end));
  const drop = new Set(names);
  const lines = head.split(/(?<=\n)/);
  const kept: string[] = [];
  let skipping = false;
  for (const line of lines) {
    const continuation = line.startsWith(" ") || line.startsWith("\t");
    if (!continuation) {
      const name = line.slice(0, Math.max(0, line.indexOf(":"))).trim().toLowerCase();
      skipping = drop.has(name);
    }
    if (!skipping) kept.push(line);
  }
  const newHead = Uint8Array.from(kept.join(""), (ch) => ch.charCodeAt(0) & 0xff);
  const out = new Uint8Array(newHead.length + raw.length - end);
  out.set(newHead, 0);
  out.set(raw.subarray(end), newHead.length);
  return out;
}

function sourceOf(raw: Uint8Array): { id: number; mode: "reply" | "forward" } | null {
  const { end } = headerEnd(raw);
  if (end < 0) return null;
  const head = new TextDecoder("latin1").decode(raw.subarray(0, Math.min(end, 256 * 1024)));
  const re = new RegExp(`^${SOURCE_HEADER}:[ \\t]*(\\d{1,15})[ \\t]+(reply|forward)[ \\t]*\\r?$`, "im");
  const hit = re.exec(head);
  return hit ? { id: Number(hit[1]), mode: hit[2] as "reply" | "forward" } : null;
}
