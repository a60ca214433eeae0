/**
 * RopModifyRules (MS-OXCROPS §2.2.11.1, MS-OXORULE §3.2.5.2) on the rules
 * the webmail's editor keeps (src/sieve/rules.ts: the "Pillarbox rules"
 * Sieve script): MAPI rules are turned into that rule set and the script is
 * written back and made active, so the webmail, EWS and delivery see them.
 * Offered: conditions that are Content restrictions on the subject, sender,
 * recipients or body (alone, under And/Or, or negated), and the actions
 * OP_MOVE, OP_COPY (a folder of this store), OP_DELETE and OP_MARK_AS_READ.
 * Anything else answers ecNotSupported and leaves the rules unchanged; so
 * does an account whose active script is not the rules script (a hand
 * written script is never overwritten).
 */
import type { Rule, RuleAction, RuleCondition, RuleSet } from "../../webmail/api-types.ts";
import { RULES_SCRIPT_NAME, RuleError, checkRuleSet, rulesToSieve, sieveToRules } from "../../../../src/sieve/rules.ts";
import { compile } from "../../../../src/sieve/compile.ts";
import { Reader } from "../wire/reader.ts";
import type { Writer } from "../wire/writer.ts";
import { parseRop } from "../wire/rops-parse.ts";
import type { ModifyRulesRequest } from "../wire/rops-types.ts";
import type { Restriction } from "../wire/restriction.ts";
import { WireError } from "../wire/errors.ts";
import { RopError, ec } from "./errors.ts";
import { registerRop, type Exec } from "./engine.ts";
import { FolderTree } from "./folders.ts";
import { counterOf, decodeCounter } from "./ids.ts";
import { folderOfInput } from "./rops-folder.ts";

/** MS-OXORULE §2.2.1.3.2 RuleData flags and §2.2.1.3.1 property ids. */
const ROW_ADD = 0x01;
const ROW_MODIFY = 0x02;
const ROW_REMOVE = 0x04;
const MODIFY_RULES_REPLACE = 0x01;
const PID = { RuleId: 0x6674, RuleState: 0x6677, RuleName: 0x6682, RuleCondition: 0x6679, RuleActions: 0x6680 } as const;

/** Property ids whose Content restriction becomes a webmail condition field. */
const FIELD: Record<number, RuleCondition["field"]> = {
  0x0037: "subject",
  0x0e1d: "subject",
  0x0c1a: "from",
  0x0c1f: "from",
  0x5d01: "from",
  0x0042: "from",
  0x0065: "from",
  0x5d02: "from",
  0x0e04: "to",
  0x0e03: "cc",
  0x1000: "body",
};

const unsupported = (what: string): never => {
  throw new RopError(ec.NotSupported, what);
};

function condition(r: Restriction, negated: boolean): RuleCondition {
  if (r.type === "not") return condition(r.child, !negated);
  if (r.type !== "content") return unsupported(`a ${r.type} condition`);
  const field = FIELD[r.tag >>> 16];
  const value = r.value.value;
  if (!field || typeof value !== "string") return unsupported("a condition on this property");
  // MS-OXCDATA §2.12.2.1 FuzzyLevelLow: 0 FULLSTRING, 1 SUBSTRING, 2 PREFIX.
  const op: RuleCondition["op"] = r.fuzzyLow === 1 ? (negated ? "not-contains" : "contains") : r.fuzzyLow === 2 && !negated ? "starts" : r.fuzzyLow === 0 ? (negated ? "not-is" : "is") : unsupported("this comparison");
  return { field, op, value };
}

function conditions(r: Restriction): Pick<Rule, "match" | "conditions"> {
  if (r.type === "and" || r.type === "or") return { match: r.type === "and" ? "all" : "any", conditions: r.children.map((c) => condition(c, false)) };
  return { match: "all", conditions: [condition(r, false)] };
}

/** MS-OXORULE §2.2.5 RuleAction: NoOfActions, then ActionBlocks (ActionLength, ActionType, ActionFlavor, ActionFlags, ActionData). */
function actions(bytes: Uint8Array, tree: FolderTree): RuleAction[] {
  const r = new Reader(bytes);
  const n = r.count(r.u16(), 32, 11, "rule actions");
  const out: RuleAction[] = [];
  for (let i = 0; i < n; i++) {
    const block = new Reader(r.bytes(r.u16(), "ActionBlock"));
    const type = block.u8();
    block.u32(); // ActionFlavor
    block.u32(); // ActionFlags
    switch (type) {
      case 0x01:
      case 0x02: {
        // §2.2.5.1.2.1: FolderInThisStore, StoreEID, FolderEID (a ServerEid §2.2.5.1.2.1.1 or a Folder EntryID).
        if (block.u8() !== 1) unsupported("a move to another store");
        block.bytes(block.u16(), "StoreEID");
        const eid = block.bytes(block.u16(), "FolderEID");
        let fid: bigint | null = null;
        if (eid.length === 21 && eid[0] === 1) fid = new DataView(eid.buffer, eid.byteOffset + 1, 8).getBigUint64(0, true);
        let counter = fid === null ? null : counterOf(fid);
        if (eid.length === 46) counter = eid.subarray(38, 44).reduce((a, b) => a * 256 + b, 0);
        const t = counter === null ? null : decodeCounter(counter);
        const folder = t?.kind === "folder" ? tree.folders.find((f) => f.id === t.id) : undefined;
        if (!folder) throw new RopError(ec.NotFound, "the rule's folder is not in this mailbox");
        out.push({ type: type === 0x01 ? "fileinto" : "copyto", value: folder.name });
        break;
      }
      case 0x0a:
        out.push({ type: "discard" });
        break;
      case 0x0b:
        out.push({ type: "mark-read" });
        break;
      default:
        unsupported(`rule action type ${type}`);
    }
  }
  return out;
}

async function currentRules(x: Exec): Promise<RuleSet> {
  const active = await x.c.server.storage.sieve.activeScript(x.s.accountId);
  if (!active) return { rules: [] };
  const set = active.name === RULES_SCRIPT_NAME ? sieveToRules(active.content) : null;
  if (!set) throw new RopError(ec.NotSupported, "the active Sieve script is not the rules editor's: it is not rewritten");
  return set;
}

registerRop(0x41, (r) => {
  r.pos -= 2; // the wire module reads the whole request, RopId first

  const parsed = parseRop(r);
  if ("unknown" in parsed || parsed.ropId !== 0x41) throw new WireError("bad-value", "not RopModifyRules");
  const req = parsed as ModifyRulesRequest;
  const inIndex = req.inputHandleIndex;
  return {
    respIndex: inIndex,
    async run(x: Exec, w: Writer) {
      await folderOfInput(x, inIndex);
      const tree = await FolderTree.load(x.c.store, x.s.accountId);
      const set = req.flags & MODIFY_RULES_REPLACE ? { rules: [] } : await currentRules(x);
      const rules = set.rules.slice();
      for (const row of req.rules) {
        const get = (id: number) => row.values.find((v) => v.tag >>> 16 === id)?.value;
        const id = get(PID.RuleId);
        const index = typeof id === "bigint" ? Number(id) - 1 : -1;
        if (row.flags === ROW_REMOVE || row.flags === ROW_MODIFY) {
          if (index < 0 || index >= rules.length) throw new RopError(ec.NotFound, "no such rule");
        }
        if (row.flags === ROW_REMOVE) {
          rules.splice(index, 1);
          continue;
        }
        if (row.flags !== ROW_ADD && row.flags !== ROW_MODIFY) throw new RopError(ec.InvalidParam, "RuleDataFlags");
        const base: Rule = row.flags === ROW_MODIFY ? rules[index]! : { id: `mapi-${Date.now().toString(36)}-${rules.length}`, name: "", enabled: true, match: "all", conditions: [], actions: [] };
        const next: Rule = { ...base };
        const name = get(PID.RuleName);
        if (typeof name === "string") next.name = name;
        const state = get(PID.RuleState);
        if (typeof state === "number") next.enabled = (state & 0x1) !== 0; // ST_ENABLED
        const cond = get(PID.RuleCondition);
        if (cond && typeof cond === "object" && "type" in cond) Object.assign(next, conditions(cond));
        const acts = get(PID.RuleActions);
        if (acts instanceof Uint8Array) next.actions = actions(acts, tree);
        if (!next.actions.length) throw new RopError(ec.InvalidParam, "a rule without actions");
        if (row.flags === ROW_MODIFY) rules[index] = next;
        else rules.push(next);
      }
      let script: string;
      try {
        script = rulesToSieve(checkRuleSet({ rules }));
      } catch (e) {
        if (e instanceof RuleError) throw new RopError(ec.InvalidParam, e.message);
        throw e;
      }
      const cfg = x.c.server.config.sieve;
      if (!compile(script, { limits: { maxScriptBytes: cfg.maxScriptBytes } }).ok) throw new RopError(ec.InvalidParam, "the rules do not make a working script");
      const sieve = x.c.server.storage.sieve;
      await sieve.putScript(x.s.accountId, RULES_SCRIPT_NAME, script, { maxScripts: cfg.maxScripts, maxBytes: cfg.maxScriptBytes });
      await sieve.setActive(x.s.accountId, RULES_SCRIPT_NAME);
      w.u8(0x41).u8(inIndex).u32(0);
    },
  };
});
