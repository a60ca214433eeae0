/**
 * The protocol-neutral send path (contract: ./submit.ts) and the outbound
 * queue worker (./queue.ts). SMTP submission, webmail, ActiveSync
 * SendMail/SmartReply/SmartForward and the out-of-office reply all call
 * `createSubmit(...)`'s function: it keeps what is submission's own (sender
 * checks, the fields RFC 6409 §8 lets it add, DKIM, the Sent copy) and hands
 * the message to the one delivery pipeline (./pipeline.ts), which inbound
 * SMTP uses too.
 */
import type { dkimSign } from "mailauth";
import addressparser from "nodemailer/lib/addressparser";
import type { Config } from "../config-types.ts";
import type { Logger } from "../log.ts";
import type { DeliveryHook } from "../context.ts";
import { loadMailauth } from "./mailauth.ts";
import { QuotaExceededError, StorageFullError, type MailStore } from "../../storage/api.ts";
import { SubmitError, type SubmitFn, type SubmitRequest, type SubmitResult } from "./submit.ts";
import { formatMailDate } from "../../mail/date.ts";
import { newMessageId } from "../../mail/message-id.ts";
import { canonicalMessage, fromFields, headerFieldsNamed } from "../../mail/line-endings.ts";
import { parseAddressList } from "../../mail/address.ts";
import { oversizedHeaderField } from "../../mail/headers.ts";
import { QueueWorker } from "./queue.ts";
import { queueDsnOptions } from "./dsn-policy.ts";
import { deliverMessage, resolveRecipients, type PipelineResult } from "./pipeline.ts";
import type { DeliveryFilter } from "./filter-types.ts";

export interface DeliveryDeps {
  store: MailStore;
  config: Config;
  log: Logger;
  /** Told about every local delivery after it is committed (ServerContext.deliveryHooks). */
  deliveryHooks?: readonly DeliveryHook[];
  /** Sieve for local recipients (ServerContext.deliveryFilter), read at each delivery. */
  readonly deliveryFilter?: DeliveryFilter | null;
}

// ---------------------------------------------------------------- header helpers

/**
 * Header fields with these lower-case names (`name` lower-cased), read by the
 * store's own parser: the send path checks exactly the fields that the
 * recipient's index, IMAP ENVELOPE and the webmail will show.
 */
export function headerFields(raw: Uint8Array, names: readonly string[] = ["from", "date", "message-id"]): { name: string; value: string }[] {
  return headerFieldsNamed(raw, names).map((f) => ({ name: f.key, value: f.value }));
}

interface ParsedAddress {
  address?: string;
  group?: ParsedAddress[];
}

/**
 * Every address in the From fields (RFC 5322 §3.6.2, RFC 6854 groups), lower-cased,
 * as two parsers read them: the store's (what the recipient's display shows) and
 * nodemailer's addressparser (what mailauth and so DMARC and DKIM alignment read).
 * A sender check that passes every one of them leaves no reading in which the
 * message claims someone else. `empty` counts From fields with no address in the
 * store's reading (a bare display name such as "From: The CEO").
 */
export function fromAddresses(raw: Uint8Array): { addresses: string[]; fields: number; empty: number } {
  const out: string[] = [];
  const add = (a: string) => {
    const l = a.toLowerCase();
    if (!out.includes(l)) out.push(l);
  };
  const walk = (list: ParsedAddress[]) => {
    for (const a of list) {
      if (a.group) walk(a.group);
      else if (a.address) add(a.address);
    }
  };
  const values = fromFields(raw);
  let empty = 0;
  for (const v of values) {
    // Group markers have no host (mail/address.ts); a missing part reads as MISSING_*.
    const list = parseAddressList(v).filter((a) => a.host !== null && a.mailbox !== null);
    if (list.length === 0) empty++;
    for (const a of list) add(`${a.mailbox}@${a.host}`);
    walk(addressparser(v) as ParsedAddress[]);
  }
  return { addresses: out, fields: values.length, empty };
}

function domainOf(addr: string): string {
  return addr.slice(addr.lastIndexOf("@") + 1).toLowerCase();
}

// ---------------------------------------------------------------- DKIM

/**
 * RFC 6376 signature with the domain's key (relaxed/relaxed, rsa-sha256).
 * The signing domain is the From: domain so DMARC aligns (RFC 7489 §3.1.1).
 */
export async function signMessage(store: MailStore, raw: Uint8Array, domain: string, log: Logger): Promise<Uint8Array> {
  const key = await store.getDkimKey(domain);
  if (!key) return raw;
  // mailauth 7.1 reads keys from `signatureData` (its index.d.ts still describes flat fields, which sign nothing).
  const options = {
    canonicalization: "relaxed/relaxed",
    signatureData: [{ signingDomain: domain, selector: key.selector, privateKey: key.privateKeyPem }],
  } as unknown as Parameters<typeof dkimSign>[1];
  const res = await (await loadMailauth()).dkimSign(Buffer.from(raw.buffer, raw.byteOffset, raw.length), options);
  if (res.errors?.length) {
    log.warn("DKIM signing failed; sending unsigned", { domain, error: String((res.errors[0] as { err?: Error })?.err ?? res.errors[0]) });
    return raw;
  }
  if (!res.signatures) return raw;
  return new Uint8Array(Buffer.concat([Buffer.from(res.signatures, "utf8"), Buffer.from(raw.buffer, raw.byteOffset, raw.length)]));
}

// ---------------------------------------------------------------- queue workers

const workers = new Set<QueueWorker>();

/** Wake every running queue worker (new entries were queued in this process). */
/** Where a kick goes when this process runs no queue (a worker process: to the lead's, src/cluster/). */
let kickRelay: (() => void) | null = null;

export function kickQueues(): void {
  for (const w of workers) w.kick();
  if (workers.size === 0) kickRelay?.();
}

/** Sets the relay for kicks in a process without a queue runner; returns the function that unsets it. */
export function setQueueKickRelay(fn: () => void): () => void {
  kickRelay = fn;
  return () => {
    if (kickRelay === fn) kickRelay = null;
  };
}

export function startQueue(deps: DeliveryDeps & { pollMs?: number }): { stop(): Promise<void>; kick(): void } {
  const w = new QueueWorker(deps.store, deps.config, deps.log.child({ component: "queue" }), { pollMs: deps.pollMs, filter: () => deps.deliveryFilter ?? null });
  workers.add(w);
  w.start();
  return {
    kick: () => w.kick(),
    stop: async () => {
      workers.delete(w);
      await w.stop();
    },
  };
}

// ---------------------------------------------------------------- submit

export function createSubmit(deps: DeliveryDeps): SubmitFn {
  const { store, config, log } = deps;
  return async (req: SubmitRequest): Promise<SubmitResult> => {
    const allowed = new Set((await store.sendAsAddresses(req.account.id)).map((a) => a.toLowerCase()));
    allowed.add(req.account.email.toLowerCase());
    const envFrom = req.envelopeFrom.toLowerCase();
    if (!allowed.has(envFrom)) throw new SubmitError("SENDER", `not allowed to send as <${req.envelopeFrom}>`);
    // One reading of the message for the checks below, DKIM, the store and every later reader:
    // canonical CRLF line ends, an explicit end of header (mail/line-endings.ts).
    const canonical = canonicalMessage(req.raw);
    // Before DKIM signing, whose cost grows with the square of a field's folded lines (mail/headers.ts).
    const oversized = oversizedHeaderField(canonical);
    if (oversized) throw new SubmitError("SIZE", oversized);
    const from = fromAddresses(canonical);
    // RFC 5322 §3.6: exactly one From. With two, readers disagree on which is the author
    // (ours shows the first, DMARC evaluates none); refuse rather than guess.
    if (from.fields > 1) throw new SubmitError("SENDER", "the message has more than one From header field");
    if (from.empty > 0) throw new SubmitError("SENDER", "the From header field has no address");
    const froms = from.addresses;
    for (const f of froms) {
      if (!allowed.has(f)) throw new SubmitError("SENDER", `not allowed to send as ${f} (From: header)`);
    }
    if (req.recipients.length === 0) throw new SubmitError("RECIPIENT", "no recipients");

    // RFC 6409 §8: the submission server may add a missing Date, Message-ID and From.
    const fields = headerFields(canonical);
    const add: string[] = [];
    if (!fields.some((f) => f.name === "from")) add.push(`From: <${req.envelopeFrom}>`);
    if (!fields.some((f) => f.name === "date")) add.push(`Date: ${formatMailDate()}`);
    let messageId = fields.find((f) => f.name === "message-id")?.value ?? null;
    if (!messageId) {
      messageId = newMessageId(domainOf(req.envelopeFrom) || config.hostname);
      add.push(`Message-ID: ${messageId}`);
    }
    // Prepending is safe: the canonical message starts with a field or the empty line, never
    // with a line that would read as a continuation of what is put in front of it.
    let raw = canonical;
    if (add.length) {
      // Added after any trace fields at the top, i.e. simply in front: order of non-trace fields is free (RFC 5322 §3.6).
      raw = new Uint8Array(Buffer.concat([Buffer.from(add.join("\r\n") + "\r\n", "utf8"), Buffer.from(raw.buffer, raw.byteOffset, raw.length)]));
    }
    if (raw.length > config.limits.maxMessageSize) throw new SubmitError("SIZE", "message exceeds the size limit");

    // Recipients: local accounts (aliases expanded), forwards and remote addresses (./pipeline.ts).
    const resolved = await resolveRecipients(store, req.recipients);
    if (resolved.unknown.length) throw new SubmitError("RECIPIENT", `no such recipient <${resolved.unknown[0]}>`);
    // DSN requests of the submission (RFC 3461 §4), per recipient as given; a forward inherits its recipient's.
    const dsnOf = new Map(Object.entries(req.rcptDsn ?? {}).map(([a, d]) => [a.toLowerCase(), d]));
    const recipients = resolved.recipients.map((r) => {
      const d = dsnOf.get(r.address);
      return d ? { ...r, notify: d.notify ?? null, orcpt: d.orcpt ?? null } : r;
    });
    const local = recipients.filter((r) => !r.remote).map((r) => r.address);

    const signDomain = froms[0] ? domainOf(froms[0]) : domainOf(envFrom);
    const signed = await signMessage(store, raw, signDomain, log);

    // A full mailbox refuses the whole submission before anything is committed (RFC 3463 4.2.2).
    for (const id of new Set(recipients.flatMap((r) => r.accounts.map((a) => a.id)))) {
      if (!(await store.checkQuota(id, signed.length))) throw new SubmitError("QUOTA", "a recipient's mailbox is full");
    }
    // The Sent copy is committed with the delivery: a submission that fails leaves no copy
    // anywhere, and one that succeeds has its Sent copy (the sender's quota counts it).
    const sent = req.saveToSent ? (await store.listFolders(req.account.id)).find((f) => f.specialUse === "\\Sent") : undefined;
    let res: PipelineResult;
    try {
      res = await deliverMessage(
        { store, log, deliveryHooks: deps.deliveryHooks, kick: kickQueues, filter: deps.deliveryFilter ?? null },
        {
          raw: signed,
          envelopeFrom: req.envelopeFrom,
          recipients,
          // An authenticated submission: its sender may get every report it asks for (./dsn-policy.ts).
          dsn: queueDsnOptions(req.dsn?.ret, req.dsn?.envid, true),
          sentCopy: sent ? { folderId: sent.id, flags: ["\\Seen"] } : undefined,
          origin: { kind: "submit", accountId: req.account.id },
        },
      );
    } catch (e) {
      if (e instanceof QuotaExceededError) throw new SubmitError("QUOTA", sent ? "a mailbox is full (a recipient's, or yours for the copy in Sent)" : e.message);
      if (e instanceof StorageFullError) throw new SubmitError("TEMP", e.message);
      throw e;
    }
    const queueId = res.queueId;
    const remote = res.queued;
    log.info("message submitted", { account: req.account.email, local: local.length, queued: remote.length, queueId });
    return { messageId, local, queued: remote, queueId };
  };
}
