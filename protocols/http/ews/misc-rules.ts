/**
 * GetInboxRules (Messages.xsd GetInboxRulesType, Exchange2010 SP1;
 * MS-OXWSRULES §3.1.4.1), read-only: the rules the webmail's editor keeps
 * in the account's active Sieve script (src/sieve/rules.ts), as Types.xsd
 * RuleType, so Outlook for Mac's and other clients' rule lists show them.
 * Rules are edited in the webmail or over ManageSieve; UpdateInboxRules is
 * not offered.
 *
 * A rule EWS can state exactly gets its Conditions / Exceptions / Actions;
 * one it cannot (a condition kind EWS has no predicate for, "any of" over
 * different kinds, flag or reject actions...) is listed with its name and
 * IsNotSupported=true, as Exchange lists rules it cannot show. A hand-written
 * active script is one such rule, named after the script.
 */
import { RULES_SCRIPT_NAME, sieveToRules } from "../../../src/sieve/rules.ts";
import type { Rule, RuleCondition } from "../webmail/api-types.ts";
import { EwsError, registerOperation, type EwsContext } from "./context.ts";
import { folderIdXml } from "./ids.ts";
import { ma, mkid, mv, t, tv } from "./xml.ts";

/** Types.xsd RulePredicatesType elements for "contains" conditions, in schema order. */
const PREDICATE_ORDER = ["ContainsBodyStrings", "ContainsRecipientStrings", "ContainsSenderStrings", "ContainsSubjectStrings", "WithinSizeRange"] as const;
type Predicate = (typeof PREDICATE_ORDER)[number];

const CONTAINS: Partial<Record<RuleCondition["field"], Predicate>> = {
  body: "ContainsBodyStrings",
  "to-or-cc": "ContainsRecipientStrings",
  from: "ContainsSenderStrings",
  subject: "ContainsSubjectStrings",
};

class Unsupported extends Error {}

type Predicates = Map<Predicate, string[]>;

function add(p: Predicates, kind: Predicate, value: string): void {
  const list = p.get(kind) ?? [];
  list.push(value);
  p.set(kind, list);
}

/** A condition as (negated?, predicate, value); sizes as "min:KB" / "max:KB". */
function predicateOf(c: RuleCondition): { negated: boolean; kind: Predicate; value: string } {
  if (c.field === "size" && (c.op === "over" || c.op === "under")) {
    const kb = Number(c.value);
    if (!Number.isFinite(kb) || kb < 0) throw new Unsupported();
    return { negated: false, kind: "WithinSizeRange", value: `${c.op === "over" ? "min" : "max"}:${Math.round(kb)}` };
  }
  const kind = CONTAINS[c.field];
  if (!kind || (c.op !== "contains" && c.op !== "not-contains")) throw new Unsupported();
  return { negated: c.op === "not-contains", kind, value: c.value };
}

/**
 * EWS ANDs the predicates of a rule and ORs the strings within one, and an
 * exception (any of them) cancels the rule: "all of" maps when each positive
 * kind has one value; "any of" when every condition is a positive of one kind.
 */
function conditionsOf(rule: Rule): { conditions: Predicates; exceptions: Predicates } {
  const conditions: Predicates = new Map();
  const exceptions: Predicates = new Map();
  if (rule.match === "always") return { conditions, exceptions };
  const preds = rule.conditions.map(predicateOf);
  // With one condition "any of" is "all of".
  const match = preds.length <= 1 ? "all" : rule.match;
  if (match === "any") {
    if (preds.some((p) => p.negated) || new Set(preds.map((p) => p.kind)).size > 1 || preds[0]?.kind === "WithinSizeRange") throw new Unsupported();
  }
  for (const p of preds) {
    if (p.negated) add(exceptions, p.kind, p.value);
    else {
      if (match === "all" && conditions.has(p.kind) && p.kind !== "WithinSizeRange") throw new Unsupported();
      add(conditions, p.kind, p.value);
    }
  }
  return { conditions, exceptions };
}

function predicatesXml(p: Predicates): string {
  let out = "";
  for (const kind of PREDICATE_ORDER) {
    const values = p.get(kind);
    if (!values) continue;
    if (kind === "WithinSizeRange") {
      const min = values.filter((v) => v.startsWith("min:")).map((v) => Number(v.slice(4)));
      const max = values.filter((v) => v.startsWith("max:")).map((v) => Number(v.slice(4)));
      if (min.length > 1 || max.length > 1) throw new Unsupported();
      out += t("WithinSizeRange", min.length ? tv("MinimumSize", min[0]) : "", max.length ? tv("MaximumSize", max[0]) : "");
    } else out += t(kind, ...values.map((v) => tv("String", v)));
  }
  return out;
}

function actionsXml(rule: Rule, folders: Map<string, string>): string {
  // Types.xsd RuleActionsType order.
  const slots: Record<string, string> = {};
  const put = (name: string, xml: string) => {
    if (slots[name] !== undefined) throw new Unsupported();
    slots[name] = xml;
  };
  const folder = (name: string | undefined) => {
    const id = folders.get(name ?? "");
    if (!id) throw new Unsupported();
    return id;
  };
  const address = (a: string | undefined) => t("Address", tv("EmailAddress", a ?? ""), tv("RoutingType", "SMTP"));
  for (const a of rule.actions) {
    if (a.type === "fileinto") put("MoveToFolder", t("MoveToFolder", folder(a.value)));
    else if (a.type === "copyto") put("CopyToFolder", t("CopyToFolder", folder(a.value)));
    else if (a.type === "redirect") {
      // Sieve redirect cancels the implicit keep: the copy in the mailbox is gone.
      put("RedirectToRecipients", t("RedirectToRecipients", address(a.value)));
      put("PermanentDelete", tv("PermanentDelete", true));
    } else if (a.type === "redirect-copy") put("RedirectToRecipients", t("RedirectToRecipients", address(a.value)));
    else if (a.type === "discard") put("PermanentDelete", tv("PermanentDelete", true));
    else if (a.type === "mark-read") put("MarkAsRead", tv("MarkAsRead", true));
    else if (a.type === "keyword") put("AssignCategories", t("AssignCategories", tv("String", a.value ?? "")));
    else if (a.type === "stop") put("StopProcessingRules", tv("StopProcessingRules", true));
    else throw new Unsupported(); // flag, reject: no EWS rule action says that
  }
  const order = ["AssignCategories", "CopyToFolder", "Delete", "ForwardAsAttachmentToRecipients", "ForwardToRecipients", "MarkImportance", "MarkAsRead", "MoveToFolder", "PermanentDelete", "RedirectToRecipients", "ServerReplyWithMessage", "StopProcessingRules"];
  return order.map((n) => slots[n] ?? "").join("");
}

function ruleHead(id: string, name: string, priority: number, enabled: boolean, notSupported: boolean): string {
  return tv("RuleId", id) + tv("DisplayName", name) + tv("Priority", priority) + tv("IsEnabled", enabled) + tv("IsNotSupported", notSupported) + tv("IsInError", false);
}

async function rulesXml(c: EwsContext): Promise<string> {
  const active = await c.server.storage.sieve.activeScript(c.account.id);
  if (!active) return "";
  const set = active.name === RULES_SCRIPT_NAME ? sieveToRules(active.content) : null;
  if (!set) return t("Rule", ruleHead("script", active.name, 1, true, true));
  const folders = new Map<string, string>();
  for (const f of await c.store.listFolders(c.account.id, { itemClass: "mail" })) folders.set(f.name, folderIdXml(c.account.id, f, f.highestModseq));
  let out = "";
  for (const [i, rule] of set.rules.entries()) {
    let body: string;
    try {
      const { conditions, exceptions } = conditionsOf(rule);
      const cond = predicatesXml(conditions);
      const exc = predicatesXml(exceptions);
      body = ruleHead(rule.id, rule.name, i + 1, rule.enabled, false) + (cond ? t("Conditions", cond) : "") + (exc ? t("Exceptions", exc) : "") + t("Actions", actionsXml(rule, folders));
    } catch (e) {
      if (!(e instanceof Unsupported)) throw e;
      body = ruleHead(rule.id, rule.name, i + 1, rule.enabled, true);
    }
    out += t("Rule", body);
  }
  return out;
}

registerOperation(
  "GetInboxRules",
  async (c, op) => {
    const mailbox = mkid(op, "MailboxSmtpAddress")?.text.trim().toLowerCase();
    try {
      if (mailbox && mailbox !== c.account.email && !(await c.store.sendAsAddresses(c.account.id)).some((a) => a.toLowerCase() === mailbox)) {
        throw new EwsError("ErrorNonExistentMailbox", "Only your own mailbox's rules can be read.");
      }
      const rules = await rulesXml(c);
      // Messages.xsd GetInboxRulesResponseType: one response message, not a list.
      return ma("GetInboxRulesResponse", { ResponseClass: "Success" }, mv("ResponseCode", "NoError"), mv("OutlookRuleBlobExists", false), rules ? `<m:InboxRules>${rules}</m:InboxRules>` : "<m:InboxRules/>");
    } catch (e) {
      if (!(e instanceof EwsError)) throw e;
      return ma("GetInboxRulesResponse", { ResponseClass: "Error" }, mv("MessageText", e.message), mv("ResponseCode", e.code), mv("DescriptiveLinkKey", 0));
    }
  },
  { since: "Exchange2010_SP1" },
);
