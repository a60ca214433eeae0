/**
 * The webmail's rules (protocols/http/webmail/api-types.ts RuleSet) <-> one
 * Sieve script (RFC 5228), the "Pillarbox rules" script the rules editor owns.
 *
 * `rulesToSieve` writes a script that requires only the extensions its rules
 * use; each rule is preceded by a `# rule: {json}` comment (RFC 5228 §2.3:
 * a hash comment runs to the end of the line, and JSON keeps its strings on
 * one line) so the editor gets its rules back. `sieveToRules` reads those
 * comments and accepts them only when the whole script is exactly what the
 * generator makes of them (line ends aside: a browser's textarea turns CRLF
 * into LF): any edit by hand yields null, and the script is then a raw script.
 *
 * `checkRuleSet` turns untrusted JSON into a RuleSet or throws a RuleError
 * naming the rule and the field in words.
 */
import type { Rule, RuleAction, RuleCondition, RuleSet } from "../../protocols/http/webmail/api-types.ts";

export const RULES_SCRIPT_NAME = "Pillarbox rules";

/** Bounds on what the editor may send (every loop over client input has one). */
export const RULE_LIMITS = { rules: 200, conditions: 20, actions: 20, value: 1000, name: 100 } as const;

export class RuleError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RuleError";
  }
}

const HEAD = [
  "# Pillarbox rules: written by the webmail's rules editor (Settings > Rules).",
  "# Change them there: an edit by hand makes this a raw script the editor no longer reads.",
];
const RULE_PREFIX = "# rule: ";

/** The order `require` lists extensions in (stable, so the same rules give the same text). */
const EXT_ORDER = ["fileinto", "copy", "reject", "imap4flags", "body", "relational", "spamtest", "comparator-i;ascii-numeric"] as const;
type Ext = (typeof EXT_ORDER)[number];

const FIELDS: readonly RuleCondition["field"][] = ["from", "to", "cc", "to-or-cc", "subject", "header", "size", "body", "spam-score"];
const OPS: readonly RuleCondition["op"][] = ["contains", "not-contains", "is", "not-is", "matches", "not-matches", "starts", "ends", "exists", "not-exists", "over", "under"];
const ACTIONS: readonly RuleAction["type"][] = ["fileinto", "copyto", "redirect", "redirect-copy", "discard", "reject", "flag", "mark-read", "keyword", "stop"];
const TEXT_OPS = new Set<RuleCondition["op"]>(["contains", "not-contains", "is", "not-is", "matches", "not-matches", "starts", "ends"]);

// ---------------------------------------------------------------- generating

/** RFC 5228 §2.4.2: a quoted string; only `"` and `\` need escaping. */
export function sieveString(s: string): string {
  return '"' + s.replace(/[\\"]/g, (c) => "\\" + c) + '"';
}

/** RFC 5228 §2.7.1: in a :matches key, `\` quotes `*`, `?` and `\` itself, so the user's text matches literally. */
function literalPattern(s: string): string {
  return s.replace(/[\\*?]/g, (c) => "\\" + c);
}

function stringList(xs: string[]): string {
  return xs.length === 1 ? sieveString(xs[0]!) : "[" + xs.map(sieveString).join(", ") + "]";
}

function conditionTest(c: RuleCondition, need: Set<Ext>): string {
  if (c.field === "size") return `size :${c.op} ${Number(c.value)}K`; // RFC 5228 §5.9, K = 1024 (§2.4.1)
  if (c.field === "spam-score") {
    // RFC 5235 §3.2 spamtest with RFC 5231 relational :value; numbers compare with i;ascii-numeric (RFC 4790 §9.1).
    need.add("spamtest").add("relational").add("comparator-i;ascii-numeric");
    return `spamtest :value ${sieveString(c.op === "over" ? "ge" : "lt")} :comparator "i;ascii-numeric" ${sieveString(String(Number(c.value)))}`;
  }
  const names = c.field === "to-or-cc" ? ["to", "cc"] : c.field === "header" ? [c.header!] : c.field === "body" ? [] : [c.field];
  if (c.op === "exists" || c.op === "not-exists") {
    // RFC 5228 §5.5: exists with a list is true only when all exist, so "To or Cc" is anyof.
    const t = names.length === 1 ? `exists ${sieveString(names[0]!)}` : `anyof (${names.map((n) => `exists ${sieveString(n)}`).join(", ")})`;
    return c.op === "exists" ? t : `not ${t}`;
  }
  const negate = c.op.startsWith("not-");
  const base = negate ? c.op.slice(4) : c.op;
  const [match, key] =
    base === "starts" ? [":matches", literalPattern(c.value) + "*"] : base === "ends" ? [":matches", "*" + literalPattern(c.value)] : [":" + base, c.value];
  let t: string;
  if (c.field === "body") {
    need.add("body"); // RFC 5173 §5: :text is the decoded text parts
    t = `body :text ${match} ${sieveString(key)}`;
  } else if (c.field === "subject" || c.field === "header") t = `header ${match} ${stringList(names)} ${sieveString(key)}`;
  else t = `address ${match} ${stringList(names)} ${sieveString(key)}`; // RFC 5228 §5.1: the address, not the display name
  return negate ? `not ${t}` : t;
}

function actionLine(a: RuleAction, need: Set<Ext>): string {
  const v = a.value ?? "";
  switch (a.type) {
    case "fileinto":
      need.add("fileinto");
      return `fileinto ${sieveString(v)};`;
    case "copyto":
      need.add("fileinto").add("copy"); // RFC 3894 :copy keeps the implicit keep
      return `fileinto :copy ${sieveString(v)};`;
    case "redirect":
      return `redirect ${sieveString(v)};`;
    case "redirect-copy":
      need.add("copy");
      return `redirect :copy ${sieveString(v)};`;
    case "discard":
      return "discard;";
    case "reject":
      need.add("reject"); // RFC 5429 §2.2
      return `reject ${sieveString(v)};`;
    case "flag":
      need.add("imap4flags"); // RFC 5232 §4: sets the flag for the keep/fileinto that follow
      return 'addflag "\\\\Flagged";';
    case "mark-read":
      need.add("imap4flags");
      return 'addflag "\\\\Seen";';
    case "keyword":
      need.add("imap4flags");
      return `addflag ${sieveString(v)};`;
    case "stop":
      return "stop;";
  }
}

/** Flags first, so they apply to the copies the rule's own fileinto makes (RFC 5232 §3); stop last. */
function actionRank(a: RuleAction): number {
  return a.type === "flag" || a.type === "mark-read" || a.type === "keyword" ? 0 : a.type === "stop" ? 2 : 1;
}

/** The rule as kept in its comment: fixed key order, only the fields its kinds use. */
function ruleJson(r: Rule): string {
  return JSON.stringify({
    id: r.id,
    name: r.name,
    enabled: r.enabled,
    match: r.match,
    conditions: r.conditions.map((c) => ({ field: c.field, ...(c.field === "header" ? { header: c.header } : {}), op: c.op, value: c.value })),
    actions: r.actions.map((a) => (a.value !== undefined ? { type: a.type, value: a.value } : { type: a.type })),
  });
}

/** The Sieve script for a (checked) rule set. Disabled rules are kept only as their comment. */
export function rulesToSieve(set: RuleSet): string {
  const need = new Set<Ext>();
  const body: string[] = [];
  for (const r of set.rules) {
    body.push("", RULE_PREFIX + ruleJson(r));
    if (!r.enabled) continue;
    const actions = [...r.actions].sort((a, b) => actionRank(a) - actionRank(b)).map((a) => actionLine(a, need));
    if (r.match === "always") {
      body.push(...actions);
      continue;
    }
    const tests = r.conditions.map((c) => conditionTest(c, need));
    const test = tests.length === 1 ? tests[0]! : `${r.match === "all" ? "allof" : "anyof"} (${tests.join(", ")})`;
    body.push(`if ${test} {`, ...actions.map((l) => "  " + l), "}");
  }
  const exts = EXT_ORDER.filter((e) => need.has(e));
  const lines = [...HEAD, ...(exts.length ? [`require ${stringList([...exts])};`] : []), ...body];
  return lines.join("\n") + "\n";
}

// ---------------------------------------------------------------- reading back

/** The rules of a script the generator wrote, or null when it was edited by hand (or is not the editor's). */
export function sieveToRules(text: string): RuleSet | null {
  const norm = text.replace(/\r\n/g, "\n");
  if (!norm.startsWith(HEAD[0]!)) return null;
  const rules: unknown[] = [];
  for (const line of norm.split("\n")) {
    if (!line.startsWith(RULE_PREFIX)) continue;
    if (rules.length >= RULE_LIMITS.rules) return null;
    try {
      rules.push(JSON.parse(line.slice(RULE_PREFIX.length)));
    } catch {
      return null;
    }
  }
  let set: RuleSet;
  try {
    set = checkRuleSet({ rules });
  } catch {
    return null;
  }
  return rulesToSieve(set) === norm ? set : null;
}

// ---------------------------------------------------------------- checking input

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** Control characters other than tab (and, where allowed, line feed) have no place in these strings. */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const CONTROL_NO_LF = /[\u0000-\u0008\u000a-\u001f\u007f]/;
/** RFC 5322 §3.6.8: a field name is printable ASCII except the colon. */
const FIELD_NAME = /^[!-9;-~]{1,76}$/;
/** An address: local@domain without spaces, brackets or quotes (what a redirect target needs). */
const ADDRESS = /^[^\s@"<>(),;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$/;
/** RFC 9051 §9 flag-keyword = atom: no spaces, controls or atom-specials, not a system flag. */
const KEYWORD = /^[^\s(){%*"\\\]\u0000-\u001f\u007f]{1,64}$/;

function text(v: unknown, what: string, opts: { max?: number; multiline?: boolean; empty?: boolean } = {}): string {
  if (typeof v !== "string") throw new RuleError(`${what} must be text.`);
  if (!opts.empty && v.trim() === "") throw new RuleError(`${what} is empty.`);
  if (v.length > (opts.max ?? RULE_LIMITS.value)) throw new RuleError(`${what} is too long (at most ${opts.max ?? RULE_LIMITS.value} characters).`);
  if (LONE_SURROGATE.test(v) || (opts.multiline ? CONTROL : CONTROL_NO_LF).test(v)) throw new RuleError(`${what} contains characters that are not allowed.`);
  return v;
}

function checkCondition(x: unknown, where: string): RuleCondition {
  if (typeof x !== "object" || x === null) throw new RuleError(`${where}: a condition could not be understood.`);
  const o = x as Record<string, unknown>;
  const field = o.field as RuleCondition["field"];
  const op = o.op as RuleCondition["op"];
  if (!FIELDS.includes(field)) throw new RuleError(`${where}: unknown condition field.`);
  if (!OPS.includes(op)) throw new RuleError(`${where}: unknown comparison.`);
  const c: RuleCondition = { field, op, value: "" };
  if (field === "header") {
    const h = typeof o.header === "string" ? o.header.trim() : "";
    if (!FIELD_NAME.test(h)) throw new RuleError(`${where}: the header name must be a header field name like X-Mailer.`);
    c.header = h;
  }
  if (field === "size" || field === "spam-score") {
    if (op !== "over" && op !== "under") throw new RuleError(`${where}: ${field === "size" ? "size" : "the spam score"} can only be over or under a number.`);
    const v = typeof o.value === "number" ? String(o.value) : typeof o.value === "string" ? o.value.trim() : "";
    const max = field === "size" ? 4 * 1024 * 1024 : 10;
    if (!/^\d{1,7}$/.test(v) || Number(v) > max || (field === "spam-score" && Number(v) < 1)) {
      throw new RuleError(field === "size" ? `${where}: the size is a whole number of KB.` : `${where}: the spam score is a whole number from 1 to 10.`);
    }
    c.value = String(Number(v));
    return c;
  }
  if (op === "over" || op === "under") throw new RuleError(`${where}: only size and spam score compare as over or under.`);
  if (op === "exists" || op === "not-exists") {
    if (field === "body") throw new RuleError(`${where}: the body cannot be tested for existence.`);
    if (o.value !== undefined && o.value !== "" && typeof o.value !== "string") throw new RuleError(`${where}: the value must be text.`);
    return c;
  }
  if (!TEXT_OPS.has(op)) throw new RuleError(`${where}: unknown comparison.`);
  c.value = text(o.value, `${where}: the value`);
  return c;
}

function checkAction(x: unknown, where: string): RuleAction {
  if (typeof x !== "object" || x === null) throw new RuleError(`${where}: an action could not be understood.`);
  const o = x as Record<string, unknown>;
  const type = o.type as RuleAction["type"];
  if (!ACTIONS.includes(type)) throw new RuleError(`${where}: unknown action.`);
  switch (type) {
    case "fileinto":
    case "copyto":
      return { type, value: text(o.value, `${where}: the folder`) };
    case "redirect":
    case "redirect-copy": {
      const v = typeof o.value === "string" ? o.value.trim() : "";
      if (v.length > 254 || !ADDRESS.test(v)) throw new RuleError(`${where}: forward to a valid address like name@example.com.`);
      return { type, value: v };
    }
    case "reject":
      return { type, value: text(o.value, `${where}: the rejection text`, { multiline: true }) };
    case "keyword": {
      const v = typeof o.value === "string" ? o.value.trim() : "";
      if (!KEYWORD.test(v)) throw new RuleError(`${where}: a keyword is one word without spaces or special characters.`);
      return { type, value: v };
    }
    default:
      return { type };
  }
}

function checkRule(x: unknown, n: number): Rule {
  if (typeof x !== "object" || x === null) throw new RuleError(`Rule ${n}: could not be understood.`);
  const o = x as Record<string, unknown>;
  const id = typeof o.id === "string" ? o.id : "";
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(id)) throw new RuleError(`Rule ${n}: bad id.`);
  const name = text(o.name, `Rule ${n}: the name`, { max: RULE_LIMITS.name }).trim();
  const where = `Rule "${name}"`;
  if (typeof o.enabled !== "boolean") throw new RuleError(`${where}: enabled must be true or false.`);
  const match = o.match as Rule["match"];
  if (match !== "all" && match !== "any" && match !== "always") throw new RuleError(`${where}: match must be all, any or always.`);
  const conds = Array.isArray(o.conditions) ? o.conditions : null;
  const acts = Array.isArray(o.actions) ? o.actions : null;
  if (!conds || !acts) throw new RuleError(`${where}: conditions and actions must be lists.`);
  if (conds.length > RULE_LIMITS.conditions) throw new RuleError(`${where}: at most ${RULE_LIMITS.conditions} conditions.`);
  if (acts.length > RULE_LIMITS.actions) throw new RuleError(`${where}: at most ${RULE_LIMITS.actions} actions.`);
  const conditions = match === "always" ? [] : conds.map((c) => checkCondition(c, where));
  if (match !== "always" && conditions.length === 0) throw new RuleError(`${where}: add a condition, or let it apply to every message.`);
  const actions = acts.map((a) => checkAction(a, where));
  if (actions.length === 0) throw new RuleError(`${where}: add an action.`);
  const kinds = actions.map((a) => a.type);
  if (kinds.filter((k) => k === "stop").length > 1 || (kinds.includes("stop") && kinds[kinds.length - 1] !== "stop")) {
    throw new RuleError(`${where}: "stop processing rules" can only be the last action.`);
  }
  // RFC 5429 §2.3: reject cannot be combined with keep/fileinto (nor be given twice).
  if (kinds.includes("reject") && kinds.some((k) => k !== "reject" && k !== "stop")) throw new RuleError(`${where}: a rejection cannot be combined with other actions.`);
  if (kinds.filter((k) => k === "reject").length > 1) throw new RuleError(`${where}: only one rejection per rule.`);
  return { id, name, enabled: o.enabled, match, conditions, actions };
}

/** Untrusted JSON -> a RuleSet (throws RuleError in words). */
export function checkRuleSet(x: unknown): RuleSet {
  const rules = typeof x === "object" && x !== null ? (x as { rules?: unknown }).rules : undefined;
  if (!Array.isArray(rules)) throw new RuleError("The rules could not be understood.");
  if (rules.length > RULE_LIMITS.rules) throw new RuleError(`At most ${RULE_LIMITS.rules} rules.`);
  const out = rules.map((r, i) => checkRule(r, i + 1));
  const ids = new Set(out.map((r) => r.id));
  if (ids.size !== out.length) throw new RuleError("Two rules have the same id.");
  return { rules: out };
}
