/**
 * Fuzz target for the Sieve interpreter (src/sieve/interpret.ts): compiled
 * scripts that touch every test and action run over mutated messages. The
 * interpreter must never throw, whatever the bytes; its outcome must be
 * well formed (the implicit keep set after an error, actions within the
 * limit). The script front end has its own target (./sieve-targets.ts).
 */
import { compile } from "../../../src/sieve/compile.ts";
import { runSieve } from "../../../src/sieve/interpret.ts";
import { DEFAULT_SIEVE_LIMITS, type CompiledScript, type SieveRunInput } from "../../../src/sieve/types.ts";
import type { FuzzTarget } from "./engine.ts";

const enc = new TextEncoder();

const SCRIPTS = [
  `require ["fileinto","envelope","subaddress","relational","comparator-i;ascii-numeric","variables","imap4flags","copy","mailbox"];
   if address :matches :detail ["to","cc","from"] "*" { set "d" "\${1}"; }
   if header :matches "subject" "*re*" { addflag "\\\\Seen \${1}"; }
   if address :count "gt" :comparator "i;ascii-numeric" ["to","cc","bcc"] "2" { fileinto :copy :create "Many"; }
   if envelope :is :user "to" "bob" { fileinto :flags "x" "INBOX"; }
   if exists ["list-id"] { fileinto :create "Lists/\${d}"; } elsif size :over 10K { discard; } else { keep; }`,
  `require ["body","fileinto"];
   if body :raw :contains "=E9" { keep; }
   if body :content ["text","multipart","message/rfc822",""] :contains "x" { fileinto "Junk"; }
   if body :text :matches "*invoice*" { fileinto "Accounts"; }`,
  `require ["date","index","relational","editheader","variables"];
   if date :originalzone :value "ge" "date" "year" "2000" { addheader "X-Year" "ok"; }
   if date :index 1 :last :matches "received" "iso8601" "*" { addheader :last "X-R" "\${0} Grüße"; }
   if currentdate :zone "+0130" :matches "std11" "*" { set "n" "\${1}"; }
   deleteheader :index 1 "received";
   deleteheader :matches "x-*" "*";
   if header :matches "x-year" "*" { redirect "fwd@example.net"; }`,
  `require ["vacation","duplicate","spamtestplus","environment","reject","relational","comparator-i;ascii-numeric","mboxmetadata","servermetadata"];
   if duplicate :header "message-id" :seconds 100 { discard; stop; }
   if spamtest :percent :value "ge" :comparator "i;ascii-numeric" "50" { reject "spam"; stop; }
   if environment :is "name" "Pillarbox" { vacation :days 2 :subject "Away" "I am away"; }
   if metadataexists "INBOX" "/private/x" { keep; }
   if servermetadata :contains "/shared/y" "z" { keep; }`,
];

let compiled: CompiledScript[] | null = null;
function scripts(): CompiledScript[] {
  if (compiled) return compiled;
  compiled = SCRIPTS.map((s) => {
    const c = compile(s);
    if (!c.ok) throw new Error(`fuzz seed script does not compile: ${JSON.stringify(c.errors)}`);
    return c.script;
  });
  return compiled;
}

const SEEDS = [
  "From: Alice <alice@example.org>\r\nTo: bob+tag@example.com, team: a@x, b@y;\r\nSubject: =?UTF-8?Q?re=3A_caf=C3=A9?= report\r\nDate: Tue, 1 Dec 2026 10:30:00 +0100\r\nReceived: from a by b; Mon, 30 Nov 2026 08:00:00 +0000\r\nMessage-ID: <m1@x>\r\nList-Id: <l.x>\r\n\r\nHello invoice\r\n",
  "Content-Type: multipart/mixed; boundary=b\r\nFrom: <>\r\n\r\npre\r\n--b\r\nContent-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=E9 x</p>\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\ninner body x\r\n--b--\r\nepi\r\n",
  "Subject: =?utf-8?b?w6k=?= =?utf-8?q?=C3=A9?= =?bogus?x?y?=\r\nTo: \"a\\\"b\"@x, @route:c@d, (comment) e\r\nX-A: 1\r\n\r\n",
  "no header at all, just text\r\n",
].map((s) => enc.encode(s));

function input(message: Uint8Array): SieveRunInput {
  return {
    message,
    envelope: { from: message.length % 3 === 0 ? "" : "a@example.org", to: "bob+tag@example.com" },
    account: { id: 1, email: "bob@example.com", addresses: ["bob@example.com"] },
    spam: message.length % 2 ? { value: 5, percent: 55 } : null,
    now: 1_800_000_000_000,
    zoneOffsetMinutes: 60,
    environment: { domain: "example.com" },
    lookup: {
      mailboxExists: async (n) => n === "INBOX" || n === "Junk",
      mailboxMetadata: async () => null,
      serverMetadata: async (a) => (a.length % 2 ? "z" : null),
      duplicateSeen: async (k) => k.charCodeAt(0) % 2 === 0,
    },
    limits: DEFAULT_SIEVE_LIMITS,
  };
}

function assert(cond: boolean, msg: string): void {
  if (!cond) throw new Error(`invariant: ${msg}`);
}

async function run(message: Uint8Array): Promise<void> {
  for (const script of scripts()) {
    const out = await runSieve(script, input(message));
    assert(typeof out.implicitKeep === "boolean" && Array.isArray(out.actions), "outcome shape");
    if (out.error) {
      assert(out.implicitKeep, "an error must leave the implicit keep");
      assert(!out.error.message.startsWith("internal error"), `unexpected exception: ${out.error.message}`);
    }
    assert(out.actions.filter((a) => a.type !== "duplicate").length <= DEFAULT_SIEVE_LIMITS.maxActions, "more actions than the limit");
  }
}

export const SIEVE_RUN_TARGET: FuzzTarget = { name: "sieve-run", seeds: SEEDS, run, maxLen: 65536 };
