/**
 * #/accounts/<email>: one account — name and quota, password reset, admin on/off, disable/enable,
 * two-factor reset, delete (typed confirmation), and what can reach it now (access.ts).
 */
import type { AccountPatch, AccountView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatNumber, t } from "../i18n/index.ts";
import { api, seg } from "./api.ts";
import type { Page, PageContext } from "./page.ts";
import { accessSections } from "./access.ts";
import { flags } from "./accounts.ts";
import { act, button, confirmDialog, field, heading, parseQuotaMb, quotaMb, say, sayError, section, usageBar, when } from "./ui.ts";

export const accountPage: Page = async (root, ctx) => {
  const email = ctx.param ?? "";
  const list = await api<AccountView[]>("GET", "/admin/api/accounts");
  if (ctx.stale()) return;
  const a = list.find((x) => x.email.toLowerCase() === email.toLowerCase());
  clear(root);
  if (!a) {
    root.append(heading(email), h("p", { role: "alert" }, t("admin.account.unknown", { email })), h("a", { href: "#/accounts", class: "btn" }, t("admin.back")));
    return;
  }
  const patch = (body: AccountPatch, done: string, btn: HTMLButtonElement | null) =>
    act(btn, () => api<AccountView>("PATCH", `/admin/api/accounts/${seg(a.email)}`, body), done).then((ok) => {
      if (ok) ctx.reload();
      return ok;
    });
  const self = a.email.toLowerCase() === ctx.me.email.toLowerCase();

  root.append(
    heading(a.email, h("a", { href: "#/accounts", class: "btn" }, t("admin.back"))),
    section(
      t("admin.account.summary"),
      h(
        "dl",
        { class: "facts" },
        h("dt", null, t("admin.accounts.usage")),
        h("dd", null, usageBar(a.usedBytes, a.quotaBytes)),
        h("dt", null, t("admin.accounts.messages")),
        h("dd", null, formatNumber(a.messages)),
        h("dt", null, t("admin.accounts.state")),
        h("dd", null, flags(a)),
        h("dt", null, t("admin.accounts.createdAt")),
        h("dd", null, when(a.createdAt)),
      ),
    ),
    profileSection(a, patch),
    passwordSection(a, patch),
    controlSection(a, self, patch, ctx),
  );
  const access = h("div", null, h("p", { class: "loading" }, t("admin.loading")));
  root.append(access);
  await accessSections(access, a.email, ctx).catch((err: unknown) => {
    clear(access);
    access.append(h("p", { role: "alert" }, String(err instanceof Error ? err.message : err)));
  });
};

type Patch = (body: AccountPatch, done: string, btn: HTMLButtonElement | null) => Promise<boolean>;

function profileSection(a: AccountView, patch: Patch): HTMLElement {
  const name = h("input", { type: "text", class: "input", value: a.displayName, autocomplete: "off", name: "displayName" });
  const quota = h("input", { type: "text", class: "input", value: quotaMb(a.quotaBytes), inputmode: "decimal", autocomplete: "off", name: "quota" });
  const save = h("button", { type: "submit", class: "btn btn-primary" }, t("admin.save"));
  const form = h("form", { class: "form", novalidate: true }, field(t("admin.accounts.name"), name), field(t("admin.accounts.quotaMb"), quota, t("admin.accounts.quotaHint")), save);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const quotaBytes = parseQuotaMb(quota.value);
    if (Number.isNaN(quotaBytes)) return sayError(new Error(t("admin.accounts.badQuota")));
    void patch({ displayName: name.value.trim(), quotaBytes }, t("admin.account.saved"), save);
  });
  return section(t("admin.account.profile"), form);
}

function passwordSection(a: AccountView, patch: Patch): HTMLElement {
  const pw = h("input", { type: "password", class: "input", autocomplete: "new-password", name: "newPassword" });
  const go = h("button", { type: "submit", class: "btn" }, t("admin.account.resetPassword"));
  const form = h("form", { class: "form", novalidate: true }, field(t("admin.account.newPassword"), pw, t("admin.account.passwordEffect")), go);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!pw.value) return sayError(new Error(t("admin.account.needPassword")));
    void patch({ password: pw.value }, t("admin.account.passwordReset", { email: a.email }), go);
  });
  return section(t("admin.account.password"), form);
}

function controlSection(a: AccountView, self: boolean, patch: Patch, ctx: PageContext): HTMLElement {
  const adminBtn = button(a.admin ? t("admin.account.revokeAdmin") : t("admin.account.grantAdmin"), () => void patch({ admin: !a.admin }, a.admin ? t("admin.account.adminOff") : t("admin.account.adminOn"), adminBtn));
  const disableBtn = button(a.disabled ? t("admin.account.enable") : t("admin.account.disable"), async () => {
    if (!a.disabled) {
      const yes = await confirmDialog({ title: t("admin.account.disableTitle"), text: t("admin.account.disableText", { email: a.email }), confirm: t("admin.account.disable"), danger: true });
      if (!yes) return;
    }
    await patch({ disabled: !a.disabled }, a.disabled ? t("admin.account.enabled") : t("admin.account.disabled"), disableBtn);
  }, a.disabled ? "btn" : "btn btn-danger");
  const twoFaBtn = a.twoFactor
    ? button(t("admin.account.reset2fa"), async () => {
        const yes = await confirmDialog({ title: t("admin.account.reset2faTitle"), text: t("admin.account.reset2faText", { email: a.email }), confirm: t("admin.account.reset2fa"), danger: true });
        if (yes) await patch({ resetTwoFactor: true }, t("admin.account.reset2faDone"), twoFaBtn);
      }, "btn btn-danger")
    : null;
  const deleteBtn = button(t("admin.account.delete"), async () => {
    const yes = await confirmDialog({ title: t("admin.account.deleteTitle"), text: t("admin.account.deleteText", { email: a.email }), confirm: t("admin.account.delete"), danger: true, typed: a.email });
    if (!yes) return;
    const ok = await act(deleteBtn, () => api("DELETE", `/admin/api/accounts/${seg(a.email)}?confirm=${encodeURIComponent(a.email)}`));
    if (ok) {
      say(t("admin.account.deleted", { email: a.email }));
      if (location.hash.startsWith("#/accounts/")) location.hash = "#/accounts";
      else ctx.reload();
    }
  }, "btn btn-danger");
  if (self) {
    // The server refuses these for oneself (400); the buttons say why instead of offering them.
    adminBtn.disabled = true;
    disableBtn.disabled = true;
    deleteBtn.disabled = true;
  }
  return section(
    t("admin.account.controls"),
    self ? h("p", { class: "muted" }, t("admin.account.selfNote")) : null,
    h("div", { class: "button-row" }, adminBtn, disableBtn, twoFaBtn, deleteBtn),
    a.twoFactor ? null : h("p", { class: "muted" }, t("admin.account.no2fa")),
  );
}
