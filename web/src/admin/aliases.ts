/** #/aliases: aliases and catch-alls (`@domain`); add one, remove one after a confirmation. */
import type { AliasView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { api } from "./api.ts";
import type { Page } from "./page.ts";
import { act, badge, button, confirmDialog, field, heading, section, table } from "./ui.ts";

export const aliasesPage: Page = async (root, ctx) => {
  const aliases = await api<AliasView[]>("GET", "/admin/api/aliases");
  if (ctx.stale()) return;
  clear(root);
  const source = h("input", { type: "text", class: "input", name: "source", autocomplete: "off", spellcheck: "false", placeholder: "info@example.org" });
  const dest = h("input", { type: "text", class: "input", name: "destination", autocomplete: "off", spellcheck: "false", placeholder: "alice@example.org" });
  const add = h("button", { type: "submit", class: "btn btn-primary" }, t("admin.aliases.add"));
  const form = h("form", { class: "form form-row", novalidate: true }, field(t("admin.aliases.source"), source, t("admin.aliases.sourceHint")), field(t("admin.aliases.destination"), dest), add);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { source: source.value.trim(), destination: dest.value.trim() };
    void act(add, () => api("POST", "/admin/api/aliases", body), t("admin.aliases.added", body)).then((ok) => ok && ctx.reload());
  });
  root.append(
    heading(t("admin.nav.aliases")),
    section(t("admin.aliases.add"), form),
    table(
      t("admin.nav.aliases"),
      [t("admin.aliases.source"), t("admin.aliases.destination"), t("admin.aliases.kind"), t("admin.actions")],
      aliases.map((a) => {
        const remove: HTMLButtonElement = button(
          t("admin.remove"),
          async () => {
            const yes = await confirmDialog({ title: t("admin.aliases.removeTitle"), text: t("admin.aliases.removeText", { source: a.source, destination: a.destination }), confirm: t("admin.remove"), danger: true });
            const q = `source=${encodeURIComponent(a.source)}&destination=${encodeURIComponent(a.destination)}`;
            if (yes && (await act(remove, () => api("DELETE", `/admin/api/aliases?${q}`), t("admin.aliases.removed", { source: a.source })))) ctx.reload();
          },
          "btn btn-small btn-danger",
          { "aria-label": t("admin.aliases.removeNamed", { source: a.source, destination: a.destination }) },
        );
        const catchAll = a.source.startsWith("@");
        return [h("code", { class: "wrap" }, a.source), h("code", { class: "wrap" }, a.destination), catchAll ? badge("info", t("admin.aliases.catchAll", { domain: a.source.slice(1) })) : t("admin.aliases.plain"), remove];
      }),
      t("admin.aliases.empty"),
    ),
  );
};
