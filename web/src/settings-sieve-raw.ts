/**
 * Settings > Sieve scripts (issue 19): every Sieve script of the account (the
 * rules script too, and scripts uploaded over ManageSieve), which one is
 * active, activate/deactivate/delete, and a text editor with Check and Save
 * that shows compile errors with their line numbers (POST /api/sieve/check,
 * PUT /api/sieve/scripts/:name). The out-of-office script is shown read-only:
 * the server runs it before whichever script is active.
 */
import { api, ApiError } from "./api.ts";
import type { SieveCheckResult, SieveOverview, SieveScriptBody } from "../../protocols/http/webmail/api-types.ts";
import { clear, h } from "./dom.ts";
import { t } from "./i18n/index.ts";
import "./i18n/rules.ts";

const message = (ex: unknown) => (ex instanceof Error ? ex.message : t("rules.failed"));
const path = (name: string) => "/api/sieve/scripts/" + encodeURIComponent(name);

export function rawSection(reload: () => Promise<void>) {
  const el = h("section", { class: "panel settings sieve-raw", "aria-label": t("sieve.title"), "data-panel": "sieve", tabindex: -1 });
  const body = h("div", { class: "sieve-body" });
  const editor = h("div", { class: "sieve-editor-box" });
  const vacation = h("div", { class: "sieve-vacation" });
  const msg = h("p", { class: "form-msg", role: "status", "aria-live": "polite" });
  const err = h("p", { class: "form-err", role: "alert" });
  el.append(h("h3", null, t("sieve.title")), h("p", { class: "hint" }, t("sieve.hint")), body, editor, msg, err, vacation);
  const say = (ok: string | null, bad: string | null) => {
    msg.textContent = ok ?? "";
    err.textContent = bad ?? "";
  };
  const act = async (fn: () => Promise<unknown>, done: string) => {
    say(null, null);
    try {
      await fn();
      say(done, null);
      await reload();
    } catch (ex) {
      say(null, message(ex));
    }
  };

  const draw = (ov: SieveOverview) => {
    clear(body);
    if (ov.active && ov.active !== ov.rulesScriptName) body.append(h("p", { class: "form-err", "data-state": "other-active" }, t("sieve.otherActive", { name: ov.active, rules: ov.rulesScriptName })));
    if (!ov.scripts.length) body.append(h("p", { "data-state": "no-scripts" }, t("sieve.none")));
    else
      body.append(
        h(
          "ul",
          { class: "sieve-list" },
          ov.scripts.map((s) =>
            h(
              "li",
              { "data-script": s.name, "data-active": s.active ? "true" : "false" },
              h("strong", null, s.name),
              s.active ? h("span", { class: "badge", "data-state": "active" }, " " + t("sieve.active")) : null,
              " ",
              h(
                "span",
                { class: "row-buttons" },
                h("button", { type: "button", class: "btn btn-small", "data-action": "open-script", "aria-label": `${t("sieve.open")}: ${s.name}`, onclick: () => void open(s.name) }, t("sieve.open")),
                s.active
                  ? h("button", { type: "button", class: "btn btn-small", "data-action": "deactivate-script", "aria-label": `${t("sieve.deactivate")}: ${s.name}`, onclick: () => void act(() => api("POST", "/api/sieve/active", { name: null }), t("sieve.deactivated")) }, t("sieve.deactivate"))
                  : h("button", { type: "button", class: "btn btn-small", "data-action": "activate-script", "aria-label": `${t("sieve.activate")}: ${s.name}`, onclick: () => void act(() => api("POST", "/api/sieve/active", { name: s.name }), t("sieve.activated", { name: s.name })) }, t("sieve.activate")),
                h(
                  "button",
                  {
                    type: "button",
                    class: "btn btn-small btn-danger",
                    "data-action": "delete-script",
                    "aria-label": `${t("sieve.delete")}: ${s.name}`,
                    onclick: () => {
                      if (confirm(t("sieve.confirmDelete", { name: s.name }))) void act(() => api("DELETE", path(s.name)), t("sieve.deleted", { name: s.name }));
                    },
                  },
                  t("sieve.delete"),
                ),
              ),
            ),
          ),
        ),
      );
    const newName = h("input", { type: "text", name: "newScriptName", maxlength: 200, "aria-label": t("sieve.newName"), placeholder: t("sieve.newName") }) as HTMLInputElement;
    body.append(
      h(
        "div",
        { class: "row-buttons" },
        newName,
        h("button", { type: "button", class: "btn", "data-action": "new-script", onclick: () => newName.value.trim() && show({ name: newName.value.trim(), content: 'require ["fileinto"];\n\n', active: false }) }, t("sieve.new")),
      ),
    );
    clear(vacation);
    vacation.append(h("h4", null, t("sieve.vacation")));
    if (ov.vacationScript) vacation.append(h("p", { class: "hint" }, t("sieve.vacation.on")), h("pre", { class: "sieve-code", "data-vacation-script": "", tabindex: 0, "aria-label": t("sieve.vacation") }, ov.vacationScript));
    else vacation.append(h("p", { class: "hint", "data-state": "vacation-off" }, t("sieve.vacation.off")));
    // The button that was pressed is gone with the redraw: keep the focus in the dialog (Escape, Tab).
    if (el.isConnected && (document.activeElement === document.body || !document.activeElement)) el.focus({ preventScroll: true });
  };

  const open = async (name: string) => {
    try {
      show(await api<SieveScriptBody>("GET", path(name)));
    } catch (ex) {
      say(null, message(ex));
    }
  };

  /** The editor of one script: Check compiles it, Save stores it (nothing is stored when it does not compile). */
  const show = (s: SieveScriptBody) => {
    say(null, null);
    const text = h("textarea", { name: "sieveScript", class: "sieve-code", rows: 14, spellcheck: "false", "aria-label": t("sieve.editorFor", { name: s.name }) }) as HTMLTextAreaElement;
    text.value = s.content;
    const problems = h("ul", { class: "sieve-problems form-err", "data-sieve-problems": "" });
    const showProblems = (r: SieveCheckResult) => {
      clear(problems);
      for (const p of r.errors) problems.append(h("li", { "data-line": p.line }, t("sieve.line", { line: p.line, message: p.message })));
    };
    const check = async () => {
      say(null, null);
      try {
        const r = await api<SieveCheckResult>("POST", "/api/sieve/check", { content: text.value });
        showProblems(r);
        if (r.ok) say(t("sieve.checkOk"), null);
      } catch (ex) {
        say(null, message(ex));
      }
    };
    const save = async () => {
      say(null, null);
      try {
        const r = await api<SieveCheckResult>("POST", "/api/sieve/check", { content: text.value });
        showProblems(r);
        if (!r.ok) return say(null, t("sieve.notSaved"));
        await api("PUT", path(s.name), { content: text.value });
        say(t("sieve.saved", { name: s.name }), null);
        await reload();
      } catch (ex) {
        say(null, ex instanceof ApiError ? ex.message : message(ex));
      }
    };
    clear(editor);
    editor.append(
      h("h4", null, s.name),
      text,
      problems,
      h(
        "div",
        { class: "row-buttons" },
        h("button", { type: "button", class: "btn", "data-action": "check-script", onclick: () => void check() }, t("sieve.check")),
        h("button", { type: "button", class: "btn btn-primary", "data-action": "save-script", onclick: () => void save() }, t("sieve.save")),
        h("button", { type: "button", class: "btn", "data-action": "close-script", onclick: () => (clear(editor), say(null, null), el.focus({ preventScroll: true })) }, t("sieve.close")),
      ),
    );
    text.focus();
  };

  return { el, draw };
}
