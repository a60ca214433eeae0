/**
 * Settings > Rules (issue 19): the user's mail rules — conditions on the
 * sender, recipients, subject, any header field, size, body or spam score,
 * and actions (move/copy to a folder, forward, delete, reject, flag, mark
 * read, add a keyword, stop). Saving writes them as the "Pillarbox rules"
 * Sieve script and activates it (protocols/http/webmail/sieve-api.ts;
 * src/sieve/rules.ts writes the script). The raw view of every script and the
 * out-of-office script is ./settings-sieve-raw.ts; both panels are drawn from
 * one GET /api/sieve and again after every change.
 */
import { api, type FolderInfo } from "./api.ts";
import type { Rule, RuleAction, RuleCondition, RuleSet, SieveOverview } from "../../protocols/http/webmail/api-types.ts";
import { clear, h } from "./dom.ts";
import { t } from "./i18n/index.ts";
import "./i18n/rules.ts";
import { rawSection } from "./settings-sieve-raw.ts";

const FIELDS: RuleCondition["field"][] = ["from", "to", "cc", "to-or-cc", "subject", "header", "body", "size", "spam-score"];
const TEXT_OPS: RuleCondition["op"][] = ["contains", "not-contains", "is", "not-is", "starts", "ends", "matches", "not-matches"];
const ACTIONS: RuleAction["type"][] = ["fileinto", "copyto", "redirect", "redirect-copy", "flag", "mark-read", "keyword", "discard", "reject", "stop"];

const opsFor = (f: RuleCondition["field"]): RuleCondition["op"][] =>
  f === "size" || f === "spam-score" ? ["over", "under"] : f === "body" ? TEXT_OPS : [...TEXT_OPS, "exists", "not-exists"];
const opLabel = (f: RuleCondition["field"], op: RuleCondition["op"]) => t(f === "spam-score" ? `rules.op.${op}.spam` : `rules.op.${op}`);
const message = (ex: unknown) => (ex instanceof Error ? ex.message : t("rules.failed"));
const newId = () => "r" + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);

/** The Rules panel and the Sieve scripts panel, drawn from one overview. */
export function filterPanels(): HTMLElement[] {
  const rules = rulesSection(() => reload());
  const raw = rawSection(() => reload());
  const reload = async () => {
    try {
      const ov = await api<SieveOverview>("GET", "/api/sieve");
      rules.draw(ov);
      raw.draw(ov);
    } catch (ex) {
      rules.fail(message(ex));
    }
  };
  void reload();
  return [rules.el, raw.el];
}

function rulesSection(reload: () => Promise<void>) {
  const el = h("section", { class: "panel settings rules", "aria-label": t("rules.title"), "data-panel": "rules", tabindex: -1 });
  const body = h("div", { class: "rules-body" });
  const msg = h("p", { class: "form-msg", role: "status", "aria-live": "polite" });
  const err = h("p", { class: "form-err", role: "alert" });
  el.append(h("h3", null, t("rules.title")), h("p", { class: "hint" }, t("rules.hint")), body, msg, err);
  const say = (ok: string | null, bad: string | null) => {
    msg.textContent = ok ?? "";
    err.textContent = bad ?? "";
  };
  let ov: SieveOverview | null = null;
  let folders: string[] = [];
  // The folder picker's choices; the editor waits for them so a new rule starts with a real folder.
  const foldersReady = api<{ folders: FolderInfo[] }>("GET", "/api/folders").then((r) => void (folders = r.folders.map((f) => f.name)), () => {});

  const save = async (rules: Rule[], done: string) => {
    say(t("rules.saving"), null);
    try {
      await api("PUT", "/api/sieve/rules", { rules } satisfies RuleSet);
      say(done, null);
      await reload();
      return true;
    } catch (ex) {
      say(null, message(ex));
      return false;
    }
  };

  const draw = (o: SieveOverview) => {
    ov = o;
    clear(body);
    const exists = o.scripts.some((s) => s.name === o.rulesScriptName);
    if (exists && !o.rules) body.append(h("p", { class: "form-err", "data-state": "hand-edited" }, t("rules.handEdited")));
    else if (exists && o.active !== o.rulesScriptName) body.append(h("p", { class: "form-err", "data-state": "rules-inactive" }, t("rules.inactive", { name: o.active ?? "—" })));
    const list = o.rules?.rules ?? [];
    if (list.length === 0) body.append(h("p", { "data-state": "no-rules" }, t("rules.none")));
    else body.append(h("ul", { class: "rule-list" }, list.map((r, i) => row(list, r, i))));
    body.append(h("button", { type: "button", class: "btn", "data-action": "new-rule", onclick: () => void edit(list, null) }, t("rules.new")));
    // The button that was pressed is gone with the redraw: keep the focus in the dialog (Escape, Tab).
    if (el.isConnected && (document.activeElement === document.body || !document.activeElement)) el.focus({ preventScroll: true });
  };

  const row = (list: Rule[], r: Rule, i: number) => {
    const on = h("input", { type: "checkbox", name: "ruleEnabled", "aria-label": t("rules.enabledNamed", { name: r.name }) }) as HTMLInputElement;
    on.checked = r.enabled;
    on.addEventListener("change", () => void save(list.map((x) => (x === r ? { ...x, enabled: on.checked } : x)), on.checked ? t("rules.turnedOn", { name: r.name }) : t("rules.turnedOff", { name: r.name })));
    const move = (d: number) => {
      const next = [...list];
      [next[i], next[i + d]] = [next[i + d]!, next[i]!];
      void save(next, t("rules.saved"));
    };
    const b = (action: string, label: string, text: string, fn: () => void, disabled = false) =>
      h("button", { type: "button", class: "btn btn-small", "data-action": action, "aria-label": `${label}: ${r.name}`, title: label, disabled, onclick: fn }, text);
    return h(
      "li",
      { "data-rule": r.id, class: r.enabled ? "rule" : "rule rule-off" },
      h("label", { class: "check" }, on, " ", h("strong", null, r.name)),
      h("span", { class: "hint rule-summary" }, summary(r)),
      h(
        "span",
        { class: "row-buttons" },
        b("rule-up", t("rules.up"), "↑", () => move(-1), i === 0),
        b("rule-down", t("rules.down"), "↓", () => move(1), i === list.length - 1),
        b("edit-rule", t("rules.edit"), t("rules.edit"), () => void edit(list, r)),
        b("delete-rule", t("rules.delete"), t("rules.delete"), () => {
          if (confirm(t("rules.confirmDelete", { name: r.name }))) void save(list.filter((x) => x !== r), t("rules.deleted", { name: r.name }));
        }),
      ),
    );
  };

  /** The editor of one rule (null: a new one) in place of the list. */
  const edit = async (list: Rule[], rule: Rule | null) => {
    say(null, null);
    await foldersReady;
    const draft: Rule = rule ? structuredClone(rule) : { id: newId(), name: "", enabled: true, match: "all", conditions: [{ field: "subject", op: "contains", value: "" }], actions: [{ type: "fileinto", value: folders.find((f) => f !== "INBOX") ?? "" }] };
    const name = h("input", { type: "text", name: "ruleName", value: draft.name, maxlength: 100, required: true }) as HTMLInputElement;
    const match = h("select", { name: "ruleMatch" }, (["all", "any", "always"] as const).map((m) => h("option", { value: m }, t(`rules.match.${m}`)))) as HTMLSelectElement;
    match.value = draft.match;
    const conds = h("div", { class: "rule-conditions" });
    const acts = h("div", { class: "rule-actions" });
    const drawConds = () => {
      clear(conds);
      if (draft.match !== "always") {
        draft.conditions.forEach((c, i) => conds.append(conditionRow(c, () => (draft.conditions.splice(i, 1), drawConds()), drawConds)));
        conds.append(h("button", { type: "button", class: "btn btn-small", "data-action": "add-condition", onclick: () => (draft.conditions.push({ field: "subject", op: "contains", value: "" }), drawConds()) }, t("rules.addCondition")));
      }
    };
    const drawActs = () => {
      clear(acts);
      draft.actions.forEach((a, i) => acts.append(actionRow(a, folders, () => (draft.actions.splice(i, 1), drawActs()), drawActs)));
      acts.append(h("button", { type: "button", class: "btn btn-small", "data-action": "add-action", onclick: () => (draft.actions.push({ type: "flag" }), drawActs()) }, t("rules.addAction")));
    };
    match.addEventListener("change", () => {
      draft.match = match.value as Rule["match"];
      drawConds();
    });
    drawConds();
    drawActs();
    const form = h(
      "form",
      { class: "rule-editor", "data-rule-editor": draft.id },
      h("label", null, t("rules.name"), name),
      h("label", null, t("rules.match"), match),
      h("fieldset", null, h("legend", null, t("rules.conditions")), conds),
      h("fieldset", null, h("legend", null, t("rules.actions")), acts),
      h(
        "div",
        { class: "row-buttons" },
        h("button", { type: "submit", class: "btn btn-primary", "data-action": "save-rule" }, t("rules.save")),
        h("button", { type: "button", class: "btn", "data-action": "cancel-rule", onclick: () => ov && draw(ov) }, t("rules.cancel")),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      draft.name = name.value.trim();
      if (draft.match === "always") draft.conditions = [];
      const next = rule ? list.map((x) => (x === rule ? draft : x)) : [...list, draft];
      if (ov && ov.scripts.some((s) => s.name === ov!.rulesScriptName) && !ov.rules && !confirm(t("rules.confirmReplace"))) return;
      void save(next, t("rules.savedNamed", { name: draft.name }));
    });
    clear(body);
    body.append(form);
    name.focus();
  };

  return {
    el,
    draw,
    fail: (text: string) => say(null, text),
  };
}

/** One line in words: "Subject contains invoice → Move to folder Accounts". */
function summary(r: Rule): string {
  const conds = r.match === "always" ? t("rules.match.always") : r.conditions.map((c) => `${t(`rules.field.${c.field}`)}${c.header ? ` ${c.header}` : ""} ${opLabel(c.field, c.op)} ${c.value}`.trim()).join(r.match === "any" ? ` ${t("rules.or")} ` : ` ${t("rules.and")} `);
  return `${conds} → ${r.actions.map((a) => `${t(`rules.action.${a.type}`)}${a.value ? ` ${a.value}` : ""}`).join(", ")}`;
}

function conditionRow(c: RuleCondition, remove: () => void, redraw: () => void): HTMLElement {
  const field = h("select", { name: "condField", "aria-label": t("rules.field") }, FIELDS.map((f) => h("option", { value: f }, t(`rules.field.${f}`)))) as HTMLSelectElement;
  field.value = c.field;
  const op = h("select", { name: "condOp", "aria-label": t("rules.op") }, opsFor(c.field).map((o) => h("option", { value: o }, opLabel(c.field, o)))) as HTMLSelectElement;
  op.value = c.op;
  const numeric = c.field === "size" || c.field === "spam-score";
  const value = h("input", {
    type: numeric ? "number" : "text",
    name: "condValue",
    "aria-label": c.field === "size" ? t("rules.sizeKb") : t("rules.value"),
    value: c.value,
    min: numeric ? (c.field === "size" ? 0 : 1) : null,
    max: c.field === "spam-score" ? 10 : null,
    hidden: c.op === "exists" || c.op === "not-exists",
  }) as HTMLInputElement;
  const header = h("input", { type: "text", name: "condHeader", "aria-label": t("rules.headerName"), placeholder: "X-Mailer", value: c.header ?? "", hidden: c.field !== "header" }) as HTMLInputElement;
  field.addEventListener("change", () => {
    c.field = field.value as RuleCondition["field"];
    if (!opsFor(c.field).includes(c.op)) c.op = opsFor(c.field)[0]!;
    if (c.field === "size" || c.field === "spam-score") c.value = /^\d+$/.test(c.value) ? c.value : c.field === "size" ? "1024" : "5";
    if (c.field !== "header") delete c.header;
    redraw();
  });
  op.addEventListener("change", () => {
    c.op = op.value as RuleCondition["op"];
    redraw();
  });
  value.addEventListener("input", () => (c.value = value.value));
  header.addEventListener("input", () => (c.header = header.value));
  return h("div", { class: "rule-line", "data-condition": "" }, field, header, op, value, h("button", { type: "button", class: "btn btn-small", "data-action": "remove-condition", "aria-label": t("rules.removeCondition"), onclick: remove }, "✕"));
}

function actionRow(a: RuleAction, folders: string[], remove: () => void, redraw: () => void): HTMLElement {
  const type = h("select", { name: "actionType", "aria-label": t("rules.action") }, ACTIONS.map((x) => h("option", { value: x }, t(`rules.action.${x}`)))) as HTMLSelectElement;
  type.value = a.type;
  let input: HTMLInputElement | HTMLSelectElement | null = null;
  if (a.type === "fileinto" || a.type === "copyto") {
    // The folder picker: the user's folders, and the one the rule names even if it is gone meanwhile.
    const names = a.value && !folders.includes(a.value) ? [a.value, ...folders] : folders;
    input = h("select", { name: "actionFolder", "aria-label": t("rules.folder") }, names.map((f) => h("option", { value: f }, f))) as HTMLSelectElement;
    if (a.value) input.value = a.value;
    else a.value = input.value;
  } else if (a.type === "redirect" || a.type === "redirect-copy" || a.type === "reject" || a.type === "keyword") {
    const label = a.type === "reject" ? t("rules.rejectText") : a.type === "keyword" ? t("rules.keyword") : t("rules.address");
    input = h("input", { type: a.type.startsWith("redirect") ? "email" : "text", name: "actionValue", "aria-label": label, placeholder: label, value: a.value ?? "" }) as HTMLInputElement;
  }
  const field = input;
  field?.addEventListener(field instanceof HTMLSelectElement ? "change" : "input", () => (a.value = field.value));
  type.addEventListener("change", () => {
    a.type = type.value as RuleAction["type"];
    delete a.value;
    if (a.type === "fileinto" || a.type === "copyto") a.value = folders.find((f) => f !== "INBOX") ?? folders[0] ?? "";
    redraw();
  });
  return h("div", { class: "rule-line", "data-action-row": "" }, type, input, h("button", { type: "button", class: "btn btn-small", "data-action": "remove-action", "aria-label": t("rules.removeAction"), onclick: remove }, "✕"));
}
