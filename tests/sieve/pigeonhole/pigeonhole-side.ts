/**
 * Runs corpus pairs through Pigeonhole: empty the user's home, install the
 * script, deliver each message of the pair over LMTP with its envelope, and
 * after each delivery read the new copies from the Maildir and the mail the
 * capture server received (Pigeonhole sends redirects, vacation replies and
 * rejection notices through submission_host before it answers the LMTP DATA,
 * so everything is there once the reply is in).
 */
import { join } from "node:path";
import type { Sink } from "../../smtp/sink.ts";
import type { CorpusPair } from "./corpus.ts";
import type { PigeonholeTwin } from "./dovecot.ts";
import { readMaildir } from "./maildir.ts";
import { deliveryOutcome, headerValue, outgoingOutcome, type DeliveryOutcome, type Outcome, type Outgoing } from "./outcome.ts";
import { sendTransaction } from "./smtp-client.ts";

/**
 * Pigeonhole's log lines about this delivery's actions. The log process
 * writes them a moment after LMTP answers, so this waits for the line that
 * every delivery gets ("stored mail into mailbox", "reject action", "forwarded
 * to", "discard"...), up to a bound.
 */
async function actionLogged(twin: PigeonholeTwin, offset: number, messageId: string): Promise<string> {
  const mark = `msgid=${messageId}: `;
  const end = Date.now() + 10_000;
  for (;;) {
    const lines = twin.logSince(offset).split("\n").filter((l) => l.includes(mark));
    if (lines.length > 0 || Date.now() > end) return lines.join("\n");
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The mail the capture server got that belongs to this pair (its tag appears in it). */
export function sinkOutgoing(sink: Sink, tag: string): Outgoing[] {
  return sink.transactions
    .filter((t) => t.wire.includes(tag))
    .map((t) => ({
      from: /<([^>]*)>/.exec(t.mailFrom)?.[1] ?? "",
      rcpts: t.rcpts.map((r) => /<([^>]*)>/.exec(r)?.[1] ?? r),
      raw: t.wire,
    }));
}

export async function runPigeonholePair(twin: PigeonholeTwin, sink: Sink, pair: CorpusPair): Promise<Outcome> {
  twin.reset(pair.peerText);
  const seen = new Set<string>();
  const deliveries: DeliveryOutcome[] = [];
  for (const m of pair.messages) {
    const logAt = twin.logSize();
    const r = await sendTransaction(twin.lmtpPort, { from: m.from, to: [m.to], data: m.raw }, { lmtp: true });
    const reply = r.rcpt[0]!.startsWith("2") ? (r.data[0] ?? "") : r.rcpt[0]!;
    if (!/^[25]/.test(reply)) throw new Error(`Pigeonhole answered ${reply} for ${pair.id}\n${twin.logTail()}`);
    const copies = readMaildir(join(twin.home, "Maildir")).filter((c) => !seen.has(c.id) && headerValue(c.raw, "message-id") === m.messageId);
    for (const c of copies) seen.add(c.id);
    // Pigeonhole's log says when the script rejected the message (also when no notice goes to a null sender).
    const rejected = copies.length === 0 && (await actionLogged(twin, logAt, m.messageId!)).includes("reject action");
    deliveries.push(deliveryOutcome(reply.startsWith("2"), rejected, copies, pair.headers));
  }
  const ids = new Set(pair.messages.map((m) => m.messageId!));
  return { deliveries, ...outgoingOutcome(sinkOutgoing(sink, pair.tag), ids) };
}
