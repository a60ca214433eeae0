/**
 * Settings > Junk mail (issue 19): the signed-in user's allowed and blocked
 * senders — an address (name@example.com) or a domain (example.com, its
 * subdomains included). The spam filter never junks mail from an allowed
 * sender and always junks mail from a blocked one (src/spam/; the routes are
 * protocols/http/webmail/spam-api.ts). Moving a message into or out of Junk
 * (the Junk / Not junk buttons) trains the filter.
 */
import { api } from "./api.ts";
import type { SpamListItem, SpamListsResponse } from "../../protocols/http/webmail/api-types.ts";
import { clear, h } from "./dom.ts";
import { t } from "./i18n/index.ts";
import "./i18n/spam.ts";

const message = (ex: unknown) => (ex instanceof Error ? ex.message : t("spam.failed"));

export function spamPanel(): HTMLElement {
  const el = h("section", { class: "panel settings spam-lists", "aria-label": t("spam.title"), "data-panel": "spam", tabindex: -1 });
  const lists = h("div", { class: "spam-list-box" });
  const msg = h("p", { class: "form-msg", role: "status", "aria-live": "polite" });
  const err = h("p", { class: "form-err", role: "alert" });
  const pattern = h("input", { type: "text", name: "spamPattern", maxlength: 254, spellcheck: "false", autocomplete: "off", placeholder: "name@example.com / example.com" }) as HTMLInputElement;
  const kind = h("select", { name: "spamKind" }, h("option", { value: "allow" }, t("spam.kind.allow")), h("option", { value: "deny" }, t("spam.kind.deny"))) as HTMLSelectElement;
  const add = h("button", { type: "submit", class: "btn", "data-action": "add-spam-entry" }, t("spam.add"));
  const form = h("form", { class: "spam-add" }, h("label", null, t("spam.pattern"), pattern), h("label", null, t("spam.kind"), kind), add);
  el.append(h("h3", null, t("spam.title")), h("p", { class: "hint" }, t("spam.hint")), lists, form, msg, err);
  const say = (ok: string | null, bad: string | null) => {
    msg.textContent = ok ?? "";
    err.textContent = bad ?? "";
  };

  const draw = async () => {
    let entries: SpamListItem[];
    try {
      entries = (await api<SpamListsResponse>("GET", "/api/spam/lists")).entries;
    } catch (ex) {
      say(null, message(ex));
      return;
    }
    clear(lists);
    for (const k of ["allow", "deny"] as const) {
      const mine = entries.filter((e) => e.kind === k);
      lists.append(
        h("h4", null, t(k === "allow" ? "spam.allowed" : "spam.blocked")),
        mine.length
          ? h(
              "ul",
              { class: "spam-list", "data-spam-list": k },
              mine.map((e) =>
                h(
                  "li",
                  { "data-spam-entry": e.pattern },
                  h("span", null, e.pattern),
                  " ",
                  h("button", { type: "button", class: "btn btn-small", "data-action": "remove-spam-entry", "aria-label": t("spam.removeNamed", { pattern: e.pattern }), onclick: () => void remove(e) }, t("spam.remove")),
                ),
              ),
            )
          : h("p", { class: "hint", "data-spam-list": k, "data-state": "empty" }, t("spam.empty")),
      );
    }
    // The button that was pressed is gone with the redraw: keep the focus in the dialog (Escape, Tab).
    if (el.isConnected && (document.activeElement === document.body || !document.activeElement)) el.focus({ preventScroll: true });
  };

  const remove = async (e: SpamListItem) => {
    say(null, null);
    try {
      await api("DELETE", `/api/spam/lists/${e.id}`);
      say(t("spam.removed", { pattern: e.pattern }), null);
      await draw();
    } catch (ex) {
      say(null, message(ex));
    }
  };

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    say(null, null);
    const p = pattern.value.trim();
    if (!p) return say(null, t("spam.patternNeeded"));
    try {
      await api<SpamListItem>("POST", "/api/spam/lists", { kind: kind.value, pattern: p });
      pattern.value = "";
      say(t(kind.value === "allow" ? "spam.addedAllow" : "spam.addedDeny", { pattern: p }), null);
      await draw();
    } catch (ex) {
      say(null, message(ex));
    }
  });
  void draw();
  return el;
}
