/**
 * Submission (RFC 6409): the authenticated user's message goes through the
 * protocol-neutral send path (ctx.submit): From: check, DKIM, local delivery,
 * queue. SubmitError codes map onto SMTP replies here.
 */
import { SubmitError } from "../../src/delivery/submit.ts";
import { bareLineEndInHeader } from "../../mail/line-endings.ts";
import { reply, type Reply } from "./parser.ts";
import type { SmtpSession, Transaction } from "./session.ts";
import { concatBytes, receivedHeader } from "./trace.ts";

export async function submitMessage(s: SmtpSession, tx: Transaction, raw: Uint8Array): Promise<Reply> {
  // RFC 5322 §2.2: header lines end in CRLF, and CR and LF appear nowhere else in a header.
  // The store's parser ends a line at a bare CR or LF too, other readers do not, so a bare
  // one lets a field hide from the sender check ("X-Note: hi\rFrom: The CEO ..."). A
  // submission server may refuse what it cannot fix safely (RFC 6409 §8): refused outright.
  // DATA has already turned bare LF into CRLF (protocols/smtp/parser.ts); BDAT hands over
  // the bytes as sent, so both kinds are looked for.
  const bare = bareLineEndInHeader(raw);
  if (bare >= 0) {
    const what = raw[bare] === 13 ? "CR" : "LF";
    s.log.info("submission refused: bare line end in the header", { user: s.account!.email, char: what, offset: bare });
    return reply(554, "5.6.0", `Message refused: a bare ${what} in the header section (header lines must end in CRLF, RFC 5322 section 2.2)`);
  }
  const rcptDsn: Record<string, { notify?: string[]; orcpt?: string }> = {};
  const recipients: string[] = [];
  for (const r of tx.recipients) {
    if (recipients.includes(r.address)) continue;
    recipients.push(r.address);
    if (r.notify || r.orcpt) rcptDsn[r.address] = { notify: r.notify ?? undefined, orcpt: r.orcpt ?? undefined };
  }
  const message = concatBytes(receivedHeader(s, tx), raw);
  try {
    const res = await s.ctx.submit({
      account: s.account!,
      envelopeFrom: tx.mailFrom,
      recipients,
      raw: message,
      saveToSent: false, // SMTP clients store their own copy over IMAP
      dsn: tx.ret || tx.envid ? { ret: tx.ret ?? undefined, envid: tx.envid ?? undefined } : undefined,
      rcptDsn: Object.keys(rcptDsn).length ? rcptDsn : undefined,
    });
    // The "smtp transaction" line (./outcome.ts) records the acceptance with these counts.
    tx.verdicts = { ...tx.verdicts, local: res.local.length, queued: res.queued.length, queueId: res.queueId ?? null };
    return reply(250, "2.0.0", `Ok: queued as ${res.queueId ?? s.id}`);
  } catch (e) {
    if (e instanceof SubmitError) {
      switch (e.code) {
        case "SENDER":
          return reply(553, "5.7.1", `Sender address rejected: ${e.message}`);
        case "RECIPIENT":
          return reply(550, "5.1.1", e.message);
        case "QUOTA":
          return reply(452, "4.2.2", e.message);
        case "SIZE":
          return reply(552, "5.3.4", e.message);
        case "TEMP":
          return reply(451, "4.3.0", e.message);
      }
    }
    s.log.error("submission failed", { error: e as Error });
    tx.verdicts = { ...tx.verdicts, error: (e as Error).message };
    return reply(451, "4.3.0", "Local error in processing, try again later");
  }
}
