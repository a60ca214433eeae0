/** #/accounts: every account with its usage, flags and a filter; "New account" opens the create dialog. */
import type { AccountCreate, AccountView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatNumber, t } from "../i18n/index.ts";
import { api, seg } from "./api.ts";
import type { Page } from "./page.ts";
import { badge, button, field, formDialog, heading, parseQuotaMb, say, table, usageBar, when } from "./ui.ts";

/** The account's states in words (admin, disabled, two-factor, app passwords). */
export function flags(a: AccountView): HTMLElement {
  return h(
    "span",
    { class: "flags" },
    a.admin ? badge("info", t("admin.accounts.isAdmin")) : null,
    a.disabled ? badge("bad", t("admin.accounts.isDisabled")) : badge("ok", t("admin.accounts.isActive")),
    a.twoFactor ? badge("ok", t("admin.accounts.has2fa")) : null,
    a.appPasswords ? badge("info", t("admin.accounts.appPasswordsN", { n: formatNumber(a.appPasswords) })) : null,
  );
}

export const accountsPage: Page = async (root, ctx) => {
  const accounts = await api<AccountView[]>("GET", "/admin/api/accounts");
  if (ctx.stale()) return;
  clear(root);
  const filter = h("input", { type: "search", class: "input", id: "account-filter", autocomplete: "off" });
  const holder = h("div");
  const draw = () => {
    const q = filter.value.trim().toLowerCase();
    const shown = q ? accounts.filter((a) => a.email.toLowerCase().includes(q) || a.displayName.toLowerCase().includes(q)) : accounts;
    clear(holder);
    holder.append(
      table(
        t("admin.nav.accounts"),
        [t("admin.accounts.address"), t("admin.accounts.name"), t("admin.accounts.usage"), t("admin.accounts.messages"), t("admin.accounts.state"), t("admin.accounts.createdAt")],
        shown.map((a) => [
          h("a", { href: `#/accounts/${seg(a.email)}` }, a.email),
          a.displayName,
          usageBar(a.usedBytes, a.quotaBytes),
          formatNumber(a.messages),
          flags(a),
          when(a.createdAt),
        ]),
        q ? t("admin.accounts.noMatch") : t("admin.accounts.empty"),
      ),
    );
  };
  filter.addEventListener("input", draw);
  root.append(
    heading(t("admin.nav.accounts"), button(t("admin.accounts.new"), () => createDialog(ctx.reload), "btn btn-primary")),
    h("div", { class: "filter-row" }, h("label", { for: "account-filter" }, t("admin.accounts.filter")), filter),
    holder,
  );
  draw();
};

function createDialog(reload: () => void): void {
  const email = h("input", { type: "email", name: "email", class: "input", autocomplete: "off", required: true });
  const name = h("input", { type: "text", name: "displayName", class: "input", autocomplete: "off" });
  const password = h("input", { type: "password", name: "password", class: "input", autocomplete: "new-password", required: true });
  const quota = h("input", { type: "text", name: "quota", class: "input", inputmode: "decimal", autocomplete: "off" });
  const admin = h("input", { type: "checkbox", name: "admin" });
  admin.id = "new-admin";
  formDialog(
    t("admin.accounts.new"),
    [
      field(t("admin.accounts.address"), email),
      field(t("admin.accounts.name"), name),
      field(t("admin.accounts.password"), password, t("admin.accounts.passwordHint")),
      field(t("admin.accounts.quotaMb"), quota, t("admin.accounts.quotaHint")),
      h("div", { class: "check" }, admin, h("label", { for: "new-admin" }, t("admin.accounts.makeAdmin"))),
    ],
    t("admin.accounts.create"),
    async () => {
      const quotaBytes = parseQuotaMb(quota.value);
      if (Number.isNaN(quotaBytes)) throw new Error(t("admin.accounts.badQuota"));
      if (!email.value.trim()) throw new Error(t("admin.accounts.needAddress"));
      const body: AccountCreate = { email: email.value.trim(), password: password.value, displayName: name.value.trim() || undefined, quotaBytes, admin: admin.checked };
      const created = await api<AccountView>("POST", "/admin/api/accounts", body);
      say(t("admin.accounts.created", { email: created.email }));
      reload();
    },
  );
}
