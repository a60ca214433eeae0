/**
 * The spam filter's shapes (issue 19), shared by the scorer (./filter.ts and
 * its rule modules), the Bayesian classifier (./bayes.ts), the trainer
 * (./training.ts), SMTP (protocols/smtp/inbound.ts, envelope.ts), the delivery
 * pipeline (src/delivery/) and the webmail/CLI.
 *
 * One score per message, SpamAssassin's scale: 0 is neutral, `junkScore`
 * (5.0 by default) and above is spam. Rules add or subtract points
 * ("symbols"); the message-level score is the same for every recipient, and
 * each local account then adds its own Bayes and allow/deny-list symbols, so
 * two recipients of one message may see different verdicts.
 */
import type { InboundAuthVerdict } from "../context.ts";

/** One rule that fired: its name (upper-case, e.g. "SPF_FAIL", "BAYES_99", "RBL_ZEN"), points, and why. */
export interface SpamSymbol {
  name: string;
  score: number;
  detail?: string;
}

export interface SpamCheckInput {
  /** The message as received (canonical CRLF), before our trace fields. */
  raw: Uint8Array;
  /** The connecting client (null: not known, e.g. a test or the CLI). */
  remoteIp: string | null;
  helo: string | null;
  /** MAIL FROM ("" for the null reverse-path). */
  mailFrom: string;
  /** The local accounts the message reaches (after aliases), with the address that reached each. */
  recipients: { accountId: number; address: string }[];
  /** mailauth's verdict, or null when inbound checks are off or failed to run. */
  auth: InboundAuthVerdict | null;
}

/** One account's verdict: the message-level symbols plus its own (Bayes, its allow/deny lists). */
export interface AccountSpamVerdict {
  score: number;
  /** score >= junkScore, unless an allow entry matched; or a deny entry matched. */
  isSpam: boolean;
  /** RFC 5235 §3.2 spamtest value: 1 (certainly not spam) .. 10 (certainly spam); 0 only when untested. */
  spamtest: number;
  /** RFC 5235 §3.2 spamtestplus :percent value, 0..100. */
  percent: number;
  symbols: SpamSymbol[];
  /**
   * The header fields to put on this account's copy, CRLF-terminated:
   * `X-Spam-Status: Yes|No, score=S required=R tests=A,B,C` and
   * `X-Spam-Score: S` (SpamAssassin's shapes, which mail clients and Sieve
   * scripts already read).
   */
  headers: string;
}

export interface SpamVerdict {
  backend: "builtin" | "rspamd";
  /** The message-level score (what SMTP compares with rejectScore). */
  score: number;
  symbols: SpamSymbol[];
  /** score >= rejectScore (configured) for every recipient: SMTP answers 550 5.7.1 instead of accepting. */
  reject: boolean;
  /** Per local account (every `recipients[].accountId`). */
  accounts: ReadonlyMap<number, AccountSpamVerdict>;
  /** How long scoring took (the benchmark's "share of SMTP delivery time"). */
  elapsedMs: number;
}

/** What the kernel carries as `ctx.spam` (src/spam/index.ts builds it from the config and the stores). */
export interface SpamService {
  /** config.spam.enabled. */
  readonly enabled: boolean;
  /** Scores one inbound message for its local recipients. Never throws: a failing part (DNS, rspamd down) adds no points and is logged. */
  check(input: SpamCheckInput): Promise<SpamVerdict>;
  /**
   * RCPT-time greylisting (RFC 6647), when configured: "defer" means answer
   * 451 4.7.1. Allowlisted senders, DNS-allowlisted IPs and senders with good
   * reputation pass at once.
   */
  greylist(input: { remoteIp: string; mailFrom: string; recipient: string; accountId: number }): Promise<"pass" | "defer">;
  /**
   * Trains the account's model (and its domain's shared model) with one
   * message: "spam" / "ham", or null to forget it. Idempotent per message.
   * Called by the trainer (./training.ts) when a user moves mail into or out
   * of Junk over IMAP, ActiveSync or the webmail, and by the CLI.
   */
  train(accountId: number, raw: Uint8Array, as: "spam" | "ham" | null): Promise<void>;
  /** Stops timers and subscriptions (server shutdown). */
  close(): void;
}

/** ./bayes.ts: the classifier the scorer asks per account. */
export interface BayesClassifier {
  /** The message's tokens (header and body words, URL hosts, ...), deduplicated and bounded in number. */
  tokenize(raw: Uint8Array, maxScanBytes: number): string[];
  /**
   * Spam probability 0..1 from the account's model when it has learned enough,
   * else its domain's shared model; null when neither has, or when no token of
   * the message is known well enough to count (no opinion).
   */
  classify(accountId: number, domain: string, tokens: readonly string[]): Promise<{ probability: number; model: "account" | "domain"; tokensUsed: number } | null>;
  /** Trains account and domain model with one message (see SpamService.train). */
  train(accountId: number, domain: string, key: string, tokens: readonly string[], as: "spam" | "ham" | null): Promise<void>;
  /** The symbol a probability gives (BAYES_00 .. BAYES_99 and their points), or null for the neutral band. */
  symbol(probability: number): SpamSymbol | null;
}
