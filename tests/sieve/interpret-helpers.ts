/**
 * Helpers for the interpreter tests: compile a script with the real
 * front end, run it over a message with a scripted lookup, and summarise
 * the outcome.
 */
import { compile } from "../../src/sieve/compile.ts";
import { runSieve } from "../../src/sieve/interpret.ts";
import { DEFAULT_SIEVE_LIMITS, type SieveLimits, type SieveOutcome, type SieveRunInput, type SieveSpamScore } from "../../src/sieve/types.ts";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** A message with CRLF line ends from lines joined by "\n". */
export function msg(text: string): Uint8Array {
  return enc.encode(text.replace(/\r?\n/g, "\r\n"));
}

export const BASIC = msg(`From: Alice Example <alice@example.org>
To: bob@example.com, "Carol C" <carol+lists@example.net>
Cc: undisclosed-recipients:;
Subject: =?UTF-8?B?SGVsbG8gV8O2cmxk?= report
Date: Tue, 1 Dec 2026 10:30:00 +0100
Message-ID: <m1@example.org>
X-Tag: one
X-Tag: two
X-Spam-Level: ***

Hello there,
this is the body with an invoice.
`);

export interface RunOpts {
  message?: Uint8Array;
  envelope?: SieveRunInput["envelope"];
  spam?: SieveSpamScore | null;
  mailboxes?: string[];
  seen?: string[];
  metadata?: Record<string, string>;
  server?: Record<string, string>;
  limits?: Partial<SieveLimits>;
  environment?: Record<string, string>;
  now?: number;
  zone?: number;
}

export async function run(script: string, o: RunOpts = {}): Promise<SieveOutcome> {
  const c = compile(script, { limits: o.limits });
  if (!c.ok) throw new Error(`compile failed: ${JSON.stringify(c.errors)}`);
  const mailboxes = new Set(o.mailboxes ?? ["INBOX", "Junk", "Accounts", "Lists"]);
  const seen = new Set(o.seen ?? []);
  return runSieve(c.script, {
    message: o.message ?? BASIC,
    envelope: o.envelope ?? { from: "bounce+x@lists.example.org", to: "bob+sieve@example.com" },
    account: { id: 1, email: "bob@example.com", addresses: ["bob@example.com"] },
    spam: o.spam ?? null,
    now: o.now ?? Date.UTC(2026, 11, 7, 18, 0, 0),
    zoneOffsetMinutes: o.zone ?? 0,
    environment: o.environment ?? { domain: "example.com", host: "mx.example.com" },
    lookup: {
      mailboxExists: async (n) => mailboxes.has(n),
      mailboxMetadata: async (m, a) => o.metadata?.[`${m}|${a}`] ?? null,
      serverMetadata: async (a) => o.server?.[a] ?? null,
      duplicateSeen: async (k) => seen.has(k),
    },
    limits: { ...DEFAULT_SIEVE_LIMITS, ...o.limits },
  });
}

/** A short form of the outcome for assertions: actions without message bytes. */
export function summary(out: SieveOutcome): { actions: unknown[]; keep: boolean; flags: string[]; error?: string } {
  const actions = out.actions.map((a) => {
    const { message, ...rest } = a as typeof a & { message?: Uint8Array };
    void message;
    return rest;
  });
  return { actions, keep: out.implicitKeep, flags: out.implicitKeepFlags, ...(out.error ? { error: out.error.message } : {}) };
}

/** Runs `test` inside `if ... { fileinto "Accounts"; }` and says whether it held. */
export async function holds(test: string, o: RunOpts & { require?: string[] } = {}): Promise<boolean> {
  const req = ["fileinto", ...(o.require ?? [])];
  const out = await run(`require ${JSON.stringify(req)};\nif ${test} { fileinto "Accounts"; }`, o);
  if (out.error) throw new Error(`runtime error: ${out.error.message}`);
  return out.actions.some((a) => a.type === "fileinto" && a.mailbox === "Accounts");
}
