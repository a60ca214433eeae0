/**
 * The signatures of every Sieve command and test Pillarbox knows: which
 * extension each needs, its tagged arguments and its positional arguments.
 * ./validate.ts checks raw commands against these. Each entry cites where its
 * syntax is defined.
 */

/** A positional or tag argument type (RFC 5228 §2.6): a string, a string-list (a lone string is a one-element list), a number. */
export type ArgType = "string" | "stringlist" | "number";

export interface TagSpec {
  /** The tag's own argument, when it takes one. */
  arg?: ArgType;
  /** The extension that must be required for this tag (any of these). */
  ext?: readonly string[];
  /** Tags of one group exclude each other (RFC 5228 §2.6.2: e.g. one match type). */
  group?: string;
  /** This tag is only allowed together with that one (RFC 5260 §6 :last with :index). */
  needs?: string;
}

export interface Signature {
  /** Extensions of which at least one must be required (RFC 5228 §3.2). */
  ext?: readonly string[];
  /** The shared tag families the item accepts. */
  comparator?: boolean;
  match?: boolean;
  addressPart?: boolean;
  /** RFC 5260 §6 :index n / :last on header, address, date (and deleteheader, RFC 5293 §5). */
  index?: boolean;
  tags?: Record<string, TagSpec>;
  /** Positional arguments, all of them (the most the item takes). */
  positional: readonly ArgType[];
  /** How many positional arguments may be left out, and from which end. */
  optional?: { count: number; from: "leading" | "trailing" };
  /** Sub-tests: none, exactly one test, or a parenthesised test-list. */
  tests?: "one" | "list";
  /** A "{ ... }" block is required (if/elsif/else). */
  block?: boolean;
  /** One of the tags of this group must be present (size :over/:under). */
  requiredGroup?: string;
}

const IMAP4FLAGS = ["imap4flags"] as const;

/** Match-type tags (RFC 5228 §2.7.1; relational RFC 5231 §4). */
export const MATCH_TAGS: Record<string, TagSpec> = {
  is: { group: "match" },
  contains: { group: "match" },
  matches: { group: "match" },
  value: { group: "match", arg: "string", ext: ["relational"] },
  count: { group: "match", arg: "string", ext: ["relational"] },
};

/** Address-part tags (RFC 5228 §2.7.4; subaddress RFC 5233 §4). */
export const ADDRESS_PART_TAGS: Record<string, TagSpec> = {
  all: { group: "addresspart" },
  localpart: { group: "addresspart" },
  domain: { group: "addresspart" },
  user: { group: "addresspart", ext: ["subaddress"] },
  detail: { group: "addresspart", ext: ["subaddress"] },
};

export const COMPARATOR_TAG: Record<string, TagSpec> = { comparator: { arg: "string" } };

export const INDEX_TAGS: Record<string, TagSpec> = {
  index: { arg: "number", ext: ["index"] },
  last: { ext: ["index"], needs: "index" },
};

/** Tags and extensions offered elsewhere but not here: named in the error so the user knows why. */
export const UNSUPPORTED_TAGS: Record<string, string> = { regex: "regex", quoteregex: "regex", encodeurl: "enotify", mime: "mime", anychild: "mime", specialuse: "special-use" };

export const COMMANDS: Record<string, Signature> = {
  // RFC 5228 §3
  require: { positional: ["stringlist"] },
  if: { positional: [], tests: "one", block: true },
  elsif: { positional: [], tests: "one", block: true },
  else: { positional: [], block: true },
  stop: { positional: [] },
  // RFC 5228 §4; :flags RFC 5232 §5; :copy RFC 3894 §3; :create RFC 5490 §3.2
  keep: { positional: [], tags: { flags: { arg: "stringlist", ext: IMAP4FLAGS } } },
  discard: { positional: [] },
  redirect: { positional: ["string"], tags: { copy: { ext: ["copy"] } } },
  fileinto: {
    ext: ["fileinto"],
    positional: ["string"],
    tags: { copy: { ext: ["copy"] }, create: { ext: ["mailbox"] }, flags: { arg: "stringlist", ext: IMAP4FLAGS } },
  },
  // RFC 5429 §2.1, §2.2
  reject: { ext: ["reject"], positional: ["string"] },
  ereject: { ext: ["ereject"], positional: ["string"] },
  // RFC 5229 §4: modifiers of one precedence level exclude each other
  set: {
    ext: ["variables"],
    positional: ["string", "string"],
    tags: {
      lower: { group: "case" },
      upper: { group: "case" },
      lowerfirst: { group: "casefirst" },
      upperfirst: { group: "casefirst" },
      quotewildcard: { group: "quote" },
      length: { group: "length" },
    },
  },
  // RFC 5230 §4; :seconds RFC 6131 §2 (requiring "vacation-seconds" implies "vacation", as Pigeonhole has it)
  vacation: {
    ext: ["vacation", "vacation-seconds"],
    positional: ["string"],
    tags: {
      days: { arg: "number", group: "period" },
      seconds: { arg: "number", group: "period", ext: ["vacation-seconds"] },
      subject: { arg: "string" },
      from: { arg: "string" },
      addresses: { arg: "stringlist" },
      mime: {},
      handle: { arg: "string" },
    },
  },
  // RFC 5232 §4: [<variablename: string>] <list-of-flags: string-list>
  setflag: { ext: IMAP4FLAGS, positional: ["string", "stringlist"], optional: { count: 1, from: "leading" } },
  addflag: { ext: IMAP4FLAGS, positional: ["string", "stringlist"], optional: { count: 1, from: "leading" } },
  removeflag: { ext: IMAP4FLAGS, positional: ["string", "stringlist"], optional: { count: 1, from: "leading" } },
  // RFC 5293 §4, §5
  addheader: { ext: ["editheader"], positional: ["string", "string"], tags: { last: {} } },
  deleteheader: {
    ext: ["editheader"],
    comparator: true,
    match: true,
    tags: { index: { arg: "number" }, last: { needs: "index" } },
    positional: ["string", "stringlist"],
    optional: { count: 1, from: "trailing" },
  },
};

export const TESTS: Record<string, Signature> = {
  // RFC 5228 §5
  address: { comparator: true, match: true, addressPart: true, index: true, positional: ["stringlist", "stringlist"] },
  envelope: { ext: ["envelope"], comparator: true, match: true, addressPart: true, positional: ["stringlist", "stringlist"] },
  header: { comparator: true, match: true, index: true, positional: ["stringlist", "stringlist"] },
  exists: { positional: ["stringlist"] },
  size: { positional: [], tags: { over: { arg: "number", group: "size" }, under: { arg: "number", group: "size" } }, requiredGroup: "size" },
  allof: { positional: [], tests: "list" },
  anyof: { positional: [], tests: "list" },
  not: { positional: [], tests: "one" },
  true: { positional: [] },
  false: { positional: [] },
  // RFC 5173 §5
  body: {
    ext: ["body"],
    comparator: true,
    match: true,
    tags: { raw: { group: "transform" }, content: { arg: "stringlist", group: "transform" }, text: { group: "transform" } },
    positional: ["stringlist"],
  },
  // RFC 5229 §5
  string: { ext: ["variables"], comparator: true, match: true, positional: ["stringlist", "stringlist"] },
  // RFC 5232 §4: hasflag [MATCH-TYPE] [COMPARATOR] [<variable-list: string-list>] <list-of-flags: string-list>
  hasflag: { ext: IMAP4FLAGS, comparator: true, match: true, positional: ["stringlist", "stringlist"], optional: { count: 1, from: "leading" } },
  // RFC 5260 §4, §5
  date: {
    ext: ["date"],
    comparator: true,
    match: true,
    index: true,
    tags: { zone: { arg: "string", group: "zone" }, originalzone: { group: "zone" } },
    positional: ["string", "string", "stringlist"],
  },
  currentdate: { ext: ["date"], comparator: true, match: true, tags: { zone: { arg: "string" } }, positional: ["string", "stringlist"] },
  // RFC 5490 §3.1, §4
  mailboxexists: { ext: ["mailbox"], positional: ["stringlist"] },
  metadata: { ext: ["mboxmetadata"], comparator: true, match: true, positional: ["string", "string", "stringlist"] },
  metadataexists: { ext: ["mboxmetadata"], positional: ["string", "stringlist"] },
  servermetadata: { ext: ["servermetadata"], comparator: true, match: true, positional: ["string", "stringlist"] },
  servermetadataexists: { ext: ["servermetadata"], positional: ["stringlist"] },
  // RFC 7352 §3
  duplicate: {
    ext: ["duplicate"],
    positional: [],
    tags: {
      handle: { arg: "string" },
      header: { arg: "string", group: "source" },
      uniqueid: { arg: "string", group: "source" },
      seconds: { arg: "number" },
      last: {},
    },
  },
  // RFC 5235 §3.2, §3.3
  spamtest: { ext: ["spamtest", "spamtestplus"], comparator: true, match: true, tags: { percent: { ext: ["spamtestplus"] } }, positional: ["string"] },
  // RFC 5183 §4
  environment: { ext: ["environment"], comparator: true, match: true, positional: ["string", "stringlist"] },
};

/** RFC 5260 §4.2 date-part names. */
export const DATE_PARTS = new Set(["year", "month", "day", "date", "julian", "hour", "minute", "second", "time", "iso8601", "std11", "zone", "weekday"]);

/** RFC 5231 §4 relations. */
export const RELATIONS = new Set(["gt", "ge", "lt", "le", "eq", "ne"]);

/** Comparators always available without a require (RFC 5228 §2.7.3). */
export const BUILTIN_COMPARATORS = new Set(["i;octet", "i;ascii-casemap"]);
/** Every comparator ./match.ts implements. */
export const KNOWN_COMPARATORS = new Set(["i;octet", "i;ascii-casemap", "i;ascii-numeric", "i;unicode-casemap"]);
