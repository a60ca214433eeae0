/**
 * A message composed over MAPI becomes MIME (mail/build.ts composeMessage)
 * from the properties the client set (PidTagSubject, PidTagBody, PidTagHtml,
 * PidTagImportance) and the recipients of RopModifyRecipients; it is saved
 * into a folder (RopSaveChangesMessage) or sent through the delivery
 * pipeline (RopSubmitMessage, ctx.submit), as EWS and the webmail do.
 */
import { composeMessage, type Mailbox } from "../../../../mail/index.ts";
import { SubmitError } from "../../../../src/delivery/submit.ts";
import { accountIdFromLegacyDn } from "../identity.ts";
import { Reader } from "../wire/reader.ts";
import { RopError, ec } from "./errors.ts";
import type { Exec } from "./engine.ts";
import type { MessageObject, Recipient } from "./objects.ts";
import { P } from "./props.ts";
import { type PropMap } from "./values.ts";

/** Recipients per message (rules: client counts are bounded; the send path allows 1000). */
export const MAX_RECIPIENTS = 1000;

const str = (m: PropMap, id: number): string | null => {
  const v = m.get(id)?.value;
  return typeof v === "string" ? v : null;
};

/**
 * One RecipientRow (MS-OXCDATA §2.8.3.2) of RopModifyRecipients: the
 * RecipientFlags (§2.8.3.1, low byte R S T D E Type, high byte O . . . . I U N)
 * say which standard fields follow. Only the address and display name are
 * kept; the trailing RecipientProperties are not needed to send.
 */
export function readRecipientRow(row: Uint8Array, type: number): Recipient | null {
  const r = new Reader(row);
  const flags = r.u16();
  const kind = flags & 0x07;
  const unicode = (flags & 0x0200) !== 0;
  const text = () => (unicode ? r.cstr16() : r.cstr8());
  let x500: string | null = null;
  if (kind === 0x1) {
    r.u8(); // AddressPrefixUsed
    r.u8(); // DisplayType
    x500 = r.cstr8();
  }
  if (flags & 0x8000) {
    // O: EntryId and SearchKey for NoType, then the AddressType string.
    if (kind === 0) {
      r.bytes(r.u16(), "EntryId");
      r.bytes(r.u16(), "SearchKey");
    }
    r.cstr8();
  }
  const email = flags & 0x08 ? text() : null;
  const display = flags & 0x10 ? text() : null;
  if (flags & 0x0400) text(); // SimpleDisplayName
  if (flags & 0x20) text(); // TransmittableDisplayName
  const address = email && email.includes("@") ? email : x500;
  if (!address) return null;
  return { type, address, name: display ?? "" };
}

/** An X500 DN of ours names an account: its address (NSPI-resolved recipients arrive so). */
async function resolveAddress(x: Exec, address: string): Promise<string | null> {
  if (address.includes("@") && !address.startsWith("/")) return address.toLowerCase();
  const id = accountIdFromLegacyDn(address);
  const acct = id === null ? null : await x.c.store.getAccountById(id);
  return acct ? acct.email : null;
}

/** The MIME of a message object (Bcc kept only for a saved draft). */
export async function toMime(x: Exec, m: MessageObject, opts: { keepBcc: boolean }): Promise<{ raw: Uint8Array; recipients: string[] }> {
  const acct = await x.c.store.getAccountById(x.s.accountId);
  const name = acct && typeof acct.settings.displayName === "string" ? acct.settings.displayName : "";
  const lists: Record<1 | 2 | 3, Mailbox[]> = { 1: [], 2: [], 3: [] };
  for (const rc of m.recipients) {
    const address = await resolveAddress(x, rc.address);
    if (!address) throw new RopError(ec.InvalidParam, `recipient ${rc.address.slice(0, 100)} cannot be resolved`);
    const t = rc.type === 2 || rc.type === 3 ? rc.type : 1;
    lists[t].push({ name: rc.name && rc.name !== address ? rc.name : "", address });
  }
  const html = m.props.get(P.Html[0])?.value;
  const raw = composeMessage({
    from: { name, address: x.s.email },
    to: lists[1],
    cc: lists[2],
    bcc: lists[3],
    // MS-OXCMSG §2.2.1.9/§2.2.1.10: a client may set the prefix and the normalized subject instead of PidTagSubject.
    subject: str(m.props, P.Subject[0]) ?? (str(m.props, P.SubjectPrefix[0]) ?? "") + (str(m.props, P.NormalizedSubject[0]) ?? ""),
    text: str(m.props, P.Body[0]) ?? "",
    html: html instanceof Uint8Array ? new TextDecoder().decode(html) : typeof html === "string" ? html : null,
    keepBcc: opts.keepBcc,
    date: new Date(x.c.now()),
  });
  return { raw, recipients: [...lists[1], ...lists[2], ...lists[3]].map((a) => a.address) };
}

/** RopSubmitMessage: through ctx.submit (sender checks, DKIM, local delivery, queue), a copy filed in Sent Items. */
export async function submit(x: Exec, m: MessageObject): Promise<void> {
  if (!m.recipients.length) throw new RopError(0x80040607 /* MAPI_E_NO_RECIPIENTS */, "the message has no recipients");
  const { raw, recipients } = await toMime(x, m, { keepBcc: false });
  if (raw.length > x.c.server.config.limits.maxMessageSize) throw new RopError(ec.TooBig, "message over the size limit");
  const account = await x.c.store.getAccountById(x.s.accountId);
  if (!account) throw new RopError(ec.AccessDenied, "account gone");
  try {
    await x.c.server.submit({ account, envelopeFrom: account.email, recipients, raw, saveToSent: true });
  } catch (e) {
    if (e instanceof SubmitError) {
      x.c.log.info("mapi: submission refused", { code: e.code, err: e.message });
      const code = { SENDER: ec.AccessDenied, RECIPIENT: ec.InvalidParam, QUOTA: ec.QuotaExceeded, SIZE: ec.TooBig, TEMP: ec.Error }[e.code];
      throw new RopError(code, e.message);
    }
    throw e;
  }
}
