/**
 * Sieve (RFC 5228) as Pillarbox runs it: the shapes shared by the parser and
 * validator (./parse.ts, ./validate.ts), the interpreter (./interpret.ts), the
 * delivery filter that runs scripts for every local recipient
 * (src/delivery/sieve-filter.ts), ManageSieve (protocols/managesieve/), the
 * webmail rules editor and the CLI.
 *
 * The pipeline: `compileSieve(text)` -> a CompiledScript (parsed once,
 * validated against the extensions it `require`s, cached by the delivery
 * filter by script digest) -> `runSieve(script, input)` -> a SieveOutcome: the
 * actions to carry out, which the delivery filter turns into copies, queue
 * entries and replies. The interpreter does no I/O of its own: what it must
 * look up (does a mailbox exist, was this duplicate id seen) comes through
 * `SieveRunInput.lookup`.
 */

/** Extensions Pillarbox implements (the `require` names, RFC 5228 §3.2), as SIEVE capability strings (RFC 5804 §1.7). */
export const SIEVE_EXTENSIONS = [
  "fileinto", // RFC 5228 §4.1
  "reject", // RFC 5429
  "ereject", // RFC 5429
  "envelope", // RFC 5228 §5.4
  "encoded-character", // RFC 5228 §2.4.2.4
  "comparator-i;octet",
  "comparator-i;ascii-casemap",
  "comparator-i;ascii-numeric", // RFC 4790 §9.1
  "comparator-i;unicode-casemap", // RFC 5051
  "body", // RFC 5173
  "variables", // RFC 5229
  "vacation", // RFC 5230
  "vacation-seconds", // RFC 6131
  "imap4flags", // RFC 5232
  "relational", // RFC 5231
  "subaddress", // RFC 5233
  "copy", // RFC 3894
  "date", // RFC 5260
  "index", // RFC 5260
  "editheader", // RFC 5293
  "mailbox", // RFC 5490 §3
  "mboxmetadata", // RFC 5490 §4
  "servermetadata", // RFC 5490 §4
  "duplicate", // RFC 7352
  "spamtest", // RFC 5235
  "spamtestplus", // RFC 5235
  "environment", // RFC 5183
] as const;
export type SieveExtension = (typeof SIEVE_EXTENSIONS)[number];

/** Bounds on one script and one run (src/config-types.ts `sieve`; the delivery filter passes them). */
export interface SieveLimits {
  /** Script source size in octets (RFC 5804 §2.6 quota; Pigeonhole's sieve_max_script_size). */
  maxScriptBytes: number;
  /** Nesting of blocks and tests (if/anyof/not ...). */
  maxNesting: number;
  /** Commands and tests evaluated in one run (a loop of `if` over huge lists, `:matches` explosions). */
  maxSteps: number;
  /** Actions one run may produce (fileinto, addflag, redirect ...), like Pigeonhole's sieve_max_actions. */
  maxActions: number;
  /** `redirect` actions per run (Pigeonhole's sieve_max_redirects). */
  maxRedirects: number;
  /** Wall-clock budget of one run in ms (a backstop behind maxSteps). */
  maxRunMs: number;
  /** Octets of decoded body text the `body` test reads per message. */
  maxBodyBytes: number;
  /** Variables per run and octets per variable value (RFC 5229 §3: an implementation may limit them). */
  maxVariables: number;
  maxVariableBytes: number;
  /** RFC 5230 §4.1 / RFC 6131 §2: the vacation period is clamped to [min, max]; default when the script gives none (config.sieve). */
  vacationMinSeconds?: number;
  vacationMaxSeconds?: number;
  vacationDefaultSeconds?: number;
  /** RFC 7352 §3 duplicate :seconds: default and maximum expiry (Pigeonhole: 12 hours, 2 days). */
  duplicateDefaultSeconds?: number;
  duplicateMaxSeconds?: number;
}

export const DEFAULT_SIEVE_LIMITS: SieveLimits = {
  maxScriptBytes: 256 * 1024,
  maxNesting: 32,
  maxSteps: 100_000,
  maxActions: 32,
  maxRedirects: 4,
  maxRunMs: 1000,
  maxBodyBytes: 1024 * 1024,
  maxVariables: 256,
  maxVariableBytes: 4096,
  vacationMinSeconds: 86_400,
  vacationMaxSeconds: 90 * 86_400,
  vacationDefaultSeconds: 7 * 86_400,
  duplicateDefaultSeconds: 12 * 3600,
  duplicateMaxSeconds: 2 * 86_400,
};

// ---------------------------------------------------------------- the tree

/** One argument as written (RFC 5228 §2.6): a string, a string list, a number (K/M/G applied), or a :tag. */
export type SieveArg =
  | { kind: "string"; value: string; line: number }
  | { kind: "list"; values: string[]; line: number }
  | { kind: "number"; value: number; line: number }
  | { kind: "tag"; name: string; line: number };

/** A test (RFC 5228 §2.9, §5) after validation: tagged arguments sorted out from positional ones. */
export interface SieveTest {
  /** Lower-case test name: "header", "address", "allof", "not", "spamtest" ... */
  name: string;
  /** `:comparator` (default "i;ascii-casemap", RFC 5228 §2.7.3). */
  comparator?: string;
  /** Match type (RFC 5228 §2.7.1, relational RFC 5231 §4): default "is". */
  match?: { type: "is" | "contains" | "matches" | "value" | "count"; relation?: "gt" | "ge" | "lt" | "le" | "eq" | "ne" };
  /** Address part (RFC 5228 §2.7.4, subaddress RFC 5233 §4): default "all". */
  addressPart?: "all" | "localpart" | "domain" | "user" | "detail";
  /**
   * Other tagged arguments by tag name without the colon, e.g. { raw: true }
   * for `body :raw`, { index: 2, last: true } for `header :index 2 :last`,
   * { zone: "+0100" } / { originalzone: true } for `date`, { percent: true }
   * for spamtestplus, { content: ["text"] } for `body :content "text"`.
   */
  tags: Record<string, true | string | number | string[]>;
  /** Positional arguments in order (a string where the grammar allows a list is a one-element list). */
  args: SieveArg[];
  /** Sub-tests: allof/anyof (several), not (one). */
  tests: SieveTest[];
  line: number;
}

/** A command (RFC 5228 §2.9, §3, §4) after validation. */
export interface SieveCommand {
  /** Lower-case: "if", "elsif", "else", "require", "stop", "fileinto", "set", "addheader" ... */
  name: string;
  /** Tagged arguments (without the colon) with their values: { copy: true, create: true, flags: ["\\Seen"] }, { days: 7 }. */
  tags: Record<string, true | string | number | string[]>;
  args: SieveArg[];
  /** The test of if/elsif. */
  test: SieveTest | null;
  /** The block of if/elsif/else, or null. */
  block: SieveCommand[] | null;
  line: number;
}

/** A script that parsed and validated. Immutable: the delivery filter caches and shares it. */
export interface CompiledScript {
  /** The extensions it requires (lower-case capability names). */
  requires: ReadonlySet<string>;
  commands: readonly SieveCommand[];
  /** SHA-256 hex of the source text (the cache key; duplicate/vacation default handles). */
  digest: string;
  /** Source size in octets. */
  size: number;
}

/** A compile error with its position (RFC 5804 §2.6: CHECKSCRIPT/PUTSCRIPT answer it in words). */
export interface SieveError {
  line: number;
  message: string;
}

export type CompileResult = { ok: true; script: CompiledScript; warnings: SieveError[] } | { ok: false; errors: SieveError[] };

// ---------------------------------------------------------------- one run

/** What the interpreter may ask the world (async: the delivery filter answers from the store). */
export interface SieveLookup {
  /** RFC 5490 §3.1 `mailboxexists` (and `fileinto` without :create into a missing mailbox). */
  mailboxExists(name: string): Promise<boolean>;
  /** RFC 5490 §4: a mailbox annotation (`metadata`/`metadataexists`), or null. */
  mailboxMetadata(mailbox: string, annotation: string): Promise<string | null>;
  /** RFC 5490 §4: a server annotation (`servermetadata`), or null. */
  serverMetadata(annotation: string): Promise<string | null>;
  /** RFC 7352 §3: was this id seen within its expiry? (Only answered; recording happens after delivery.) */
  duplicateSeen(key: string): Promise<boolean>;
}

/** RFC 5235: the spam filter's verdict as spamtest sees it. */
export interface SieveSpamScore {
  /** spamtest value 0..10 (0 = not tested, 1 = certainly not spam ... 10 = certainly spam, §3.2). */
  value: number;
  /** spamtestplus :percent value 0..100 (§3.2), or null when not tested. */
  percent: number | null;
}

export interface SieveRunInput {
  /** The message (canonical CRLF line ends) as it will be stored. */
  message: Uint8Array;
  /** RFC 5228 §5.4: the SMTP envelope: MAIL FROM ("" for null), this recipient's RCPT TO, and ORCPT when known. */
  envelope: { from: string; to: string; originalTo?: string | null; auth?: string | null };
  /** The account the script belongs to (vacation's own addresses, RFC 5230 §4.5). */
  account: { id: number; email: string; addresses: readonly string[] };
  spam: SieveSpamScore | null;
  /** Now (RFC 5260 currentdate, vacation), ms since the epoch, and the server's zone offset in minutes east of UTC. */
  now: number;
  zoneOffsetMinutes: number;
  /** RFC 5183 environment items ("domain", "host", "name", "version", "phase", "remote-host", "remote-ip" ...). */
  environment: Record<string, string>;
  lookup: SieveLookup;
  limits: SieveLimits;
}

/** One action the run produced, in the order it was executed (RFC 5228 §2.10.1). */
export type SieveAction =
  | {
      type: "keep";
      /** RFC 5232 §5: the flags given with :flags, or the internal flag variable's value when keep ran. */
      flags: string[];
      /** The message as it was when the action ran (editheader, RFC 5293 §7), when it differs from the input. */
      message?: Uint8Array;
    }
  | {
      type: "fileinto";
      mailbox: string;
      /** RFC 5490 §3.2 :create; RFC 3894 :copy (does not cancel implicit keep). */
      create: boolean;
      copy: boolean;
      flags: string[];
      /** RFC 8579 :specialuse, when given. */
      specialUse?: string;
      message?: Uint8Array;
    }
  | { type: "redirect"; address: string; copy: boolean; message?: Uint8Array }
  | { type: "discard" }
  /** RFC 5429 §2.1/§2.2: reject (an MDN, or a protocol-level refusal) / ereject (protocol level when at all possible). */
  | { type: "reject"; reason: string; extended: boolean }
  | {
      type: "vacation";
      /** RFC 5230 §4.1 :days (or vacation-seconds §2 :seconds) as seconds; already clamped to the site's minimum/maximum. */
      periodSeconds: number;
      subject: string | null;
      from: string | null;
      /** RFC 5230 §4.5: addresses that are the user, beside the account's own (from :addresses). */
      addresses: string[];
      /** RFC 5230 §4.4 :mime: the reason is a MIME entity (headers and body), not plain text. */
      mime: boolean;
      /** RFC 5230 §4.2: the handle (given, or derived from the reason, subject, from and mime). */
      handle: string;
      reason: string;
    }
  /** RFC 7352 §3: record this id as seen once the message is delivered (expiry in seconds from now). */
  | { type: "duplicate"; key: string; expirySeconds: number };

export interface SieveOutcome {
  actions: SieveAction[];
  /** RFC 5228 §2.10.2: true when no action cancelled the implicit keep. */
  implicitKeep: boolean;
  /** RFC 5232 §3: flags the implicit keep files with (the internal variable at the end). */
  implicitKeepFlags: string[];
  /** The message after editheader changes (what the implicit keep stores), when it differs from the input. */
  message?: Uint8Array;
  /**
   * A runtime error (limits exceeded, an action conflict, a fileinto into a
   * missing mailbox without :create): RFC 5228 §2.10.6 says the implicit keep
   * then applies; the delivery filter keeps the message in INBOX, logs this
   * and reports it to the owner once. `actions` then holds what ran before it.
   */
  error?: SieveError;
}

/** The functions the Sieve modules export (./index.ts re-exports them). */
export interface SieveEngine {
  compile(text: string, opts?: { limits?: Partial<SieveLimits>; extensions?: readonly string[] }): CompileResult;
  run(script: CompiledScript, input: SieveRunInput): Promise<SieveOutcome>;
}

/**
 * ./match.ts: the match-type and comparator core (RFC 5228 §2.7.1/§2.7.3,
 * RFC 4790 comparators, RFC 5231 relational, RFC 5229 §3.2 match variables).
 * `count` compares the number of values against each key.
 */
export type MatchFn = (
  values: readonly string[],
  keys: readonly string[],
  comparator: string,
  match: SieveTest["match"],
  /** `:matches`: receives ${0}..${9} of the first match, for variables. */
  onCapture?: (groups: string[]) => void,
) => boolean;
