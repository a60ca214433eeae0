/**
 * Settings > Security (issue 18): two-factor sign-in with an authenticator
 * app (TOTP: scan the QR code or type the key, confirm one code, keep the
 * recovery codes shown once), and app passwords for mail apps (named, shown
 * once, revocable). The server asks for the current password before anything
 * that adds a way in or removes the second factor
 * (protocols/http/webmail/security-api.ts).
 */
import { api } from "./api.ts";
import type { AppPasswordCreated, AppPasswordInfo, RecoveryCodes, SecurityState, TwoFactorSetup } from "../../protocols/http/webmail/api-types.ts";
import { clear, h } from "./dom.ts";
import { formatDate, t, tn } from "./i18n/index.ts";
import "./i18n/security.ts";

const when = (ms: number) => formatDate(ms, { dateStyle: "medium", timeStyle: "short" });
const message = (ex: unknown) => (ex instanceof Error ? ex.message : t("security.failed"));

/** The Security panel of the settings dialog: its own form, drawn again after every change. */
export function securityPanel(): HTMLElement {
  const root = h("section", { class: "panel settings security", "aria-label": t("security.title"), "data-panel": "security", tabindex: -1 });
  const msg = h("p", { class: "form-msg", role: "status", "aria-live": "polite" });
  const err = h("p", { class: "form-err", role: "alert" });
  const say = (ok: string | null, bad: string | null) => {
    msg.textContent = ok ?? "";
    err.textContent = bad ?? "";
  };
  // One password field confirms every change below (the server checks it each time).
  const password = h("input", { type: "password", name: "securityPassword", autocomplete: "current-password" }) as HTMLInputElement;
  const twoFactorBox = h("fieldset", { class: "two-factor" });
  const appBox = h("fieldset", { class: "app-passwords" });
  /** What was shown once (recovery codes, a new app password) stays until the next change. */
  let shownOnce: HTMLElement | null = null;

  const needPassword = (): string | null => {
    if (password.value) return password.value;
    say(null, t("security.passwordNeeded"));
    password.focus();
    return null;
  };

  const codesBlock = (codes: string[]) =>
    h(
      "div",
      { class: "shown-once", "data-shown-once": "recovery-codes" },
      h("p", { class: "hint" }, t("security.codes.keep")),
      h("ol", { class: "recovery-codes" }, codes.map((c) => h("li", null, h("code", null, c)))),
    );

  const draw = async () => {
    let state: SecurityState;
    try {
      state = await api<SecurityState>("GET", "/api/security");
    } catch (ex) {
      say(null, message(ex));
      return;
    }
    clear(twoFactorBox);
    clear(appBox);
    // ---- two-factor sign-in
    twoFactorBox.append(h("legend", null, t("security.twoFactor")));
    if (state.twoFactor.enabled) {
      twoFactorBox.append(
        h("p", { "data-state": "two-factor-on" }, t("security.twoFactor.on"), " ", tn("security.codes.left", state.twoFactor.recoveryCodesLeft)),
        h(
          "div",
          { class: "row-buttons" },
          h("button", { type: "button", class: "btn", "data-action": "new-codes", onclick: () => void newCodes() }, t("security.codes.new")),
          h("button", { type: "button", class: "btn btn-danger", "data-action": "disable-2fa", onclick: () => void disable() }, t("security.twoFactor.disable")),
        ),
      );
    } else {
      twoFactorBox.append(
        h("p", { "data-state": "two-factor-off" }, t("security.twoFactor.off")),
        h("button", { type: "button", class: "btn", "data-action": "setup-2fa", onclick: () => void setup() }, t("security.twoFactor.setup")),
      );
    }
    // ---- app passwords
    appBox.append(h("legend", null, t("security.appPasswords")), h("p", { class: "hint" }, t("security.appPasswords.hint")));
    if (state.appPasswords.length === 0) appBox.append(h("p", { "data-state": "no-app-passwords" }, t("security.appPasswords.none")));
    else appBox.append(h("ul", { class: "app-password-list" }, state.appPasswords.map(appRow)));
    const name = h("input", { type: "text", name: "appPasswordName", maxlength: 100, placeholder: t("security.appPasswords.namePlaceholder") }) as HTMLInputElement;
    const create = h("button", { type: "button", class: "btn", "data-action": "create-app-password" }, t("security.appPasswords.create"));
    create.addEventListener("click", () => void createApp(name));
    appBox.append(h("label", null, t("security.appPasswords.name"), name), create);
    if (shownOnce) (shownOnce.dataset.shownOnce === "recovery-codes" ? twoFactorBox : appBox).append(shownOnce);
    // The button that was pressed is gone with the redraw: keep the focus in the dialog (Escape, Tab).
    if (root.isConnected && !root.contains(document.activeElement) && (document.activeElement === document.body || !document.activeElement)) root.focus({ preventScroll: true });
  };

  const appRow = (p: AppPasswordInfo) => {
    const used = p.lastUsedAt ? t("security.appPasswords.used", { when: when(p.lastUsedAt), protocol: (p.lastUsedProtocol ?? "").toUpperCase() }) : t("security.appPasswords.unused");
    const revoke = h("button", { type: "button", class: "btn btn-danger", "data-action": "revoke-app-password", "aria-label": t("security.appPasswords.revokeNamed", { name: p.name }) }, t("security.appPasswords.revoke"));
    revoke.addEventListener("click", async () => {
      if (!confirm(t("security.appPasswords.confirmRevoke", { name: p.name }))) return;
      try {
        await api("DELETE", `/api/security/app-passwords/${p.id}`);
        shownOnce = null;
        say(t("security.appPasswords.revoked", { name: p.name }), null);
        await draw();
      } catch (ex) {
        say(null, message(ex));
      }
    });
    return h("li", { "data-app-password": p.id }, h("strong", null, p.name), " · ", t("security.appPasswords.created", { when: when(p.createdAt) }), " · ", used, " ", revoke);
  };

  const setup = async () => {
    const pw = needPassword();
    if (!pw) return;
    let s: TwoFactorSetup;
    try {
      s = await api<TwoFactorSetup>("POST", "/api/security/2fa/setup", { password: pw });
    } catch (ex) {
      say(null, message(ex));
      return;
    }
    say(null, null);
    const code = h("input", { type: "text", name: "totpCode", inputmode: "numeric", autocomplete: "one-time-code", maxlength: 8 }) as HTMLInputElement;
    const confirmBtn = h("button", { type: "button", class: "btn btn-primary", "data-action": "enable-2fa" }, t("security.twoFactor.enable"));
    clear(twoFactorBox);
    twoFactorBox.append(
      h("legend", null, t("security.twoFactor")),
      h("p", null, t("security.setup.scan")),
      h("img", { src: s.qr, alt: t("security.setup.qrAlt"), width: 200, height: 200, class: "totp-qr" }),
      h("p", null, t("security.setup.manual"), " ", h("code", { "data-totp-secret": "" }, s.secret.replace(/(.{4})/g, "$1 ").trim())),
      h("label", null, t("security.setup.code"), code),
      confirmBtn,
    );
    code.focus();
    confirmBtn.addEventListener("click", async () => {
      try {
        const r = await api<RecoveryCodes>("POST", "/api/security/2fa/enable", { code: code.value });
        shownOnce = codesBlock(r.recoveryCodes);
        password.value = "";
        say(t("security.twoFactor.enabled"), null);
        await draw();
      } catch (ex) {
        say(null, message(ex));
      }
    });
  };

  const disable = async () => {
    const pw = needPassword();
    if (!pw || !confirm(t("security.twoFactor.confirmDisable"))) return;
    try {
      await api("POST", "/api/security/2fa/disable", { password: pw });
      shownOnce = null;
      password.value = "";
      say(t("security.twoFactor.disabled"), null);
      await draw();
    } catch (ex) {
      say(null, message(ex));
    }
  };

  const newCodes = async () => {
    const pw = needPassword();
    if (!pw) return;
    try {
      const r = await api<RecoveryCodes>("POST", "/api/security/recovery-codes", { password: pw });
      shownOnce = codesBlock(r.recoveryCodes);
      password.value = "";
      say(t("security.codes.renewed"), null);
      await draw();
    } catch (ex) {
      say(null, message(ex));
    }
  };

  const createApp = async (name: HTMLInputElement) => {
    if (!name.value.trim()) {
      say(null, t("security.appPasswords.nameNeeded"));
      name.focus();
      return;
    }
    const pw = needPassword();
    if (!pw) return;
    try {
      const r = await api<AppPasswordCreated>("POST", "/api/security/app-passwords", { password: pw, name: name.value.trim() });
      shownOnce = h(
        "div",
        { class: "shown-once", "data-shown-once": "app-password" },
        h("p", null, t("security.appPasswords.shown", { name: r.info.name })),
        h("p", null, h("code", { "data-new-app-password": "" }, r.password)),
        h("p", { class: "hint" }, t("security.appPasswords.shownHint")),
      );
      password.value = "";
      say(t("security.appPasswords.createdOk", { name: r.info.name }), null);
      await draw();
    } catch (ex) {
      say(null, message(ex));
    }
  };

  root.append(
    h("h3", null, t("security.title")),
    h("label", null, t("security.password"), password),
    h("p", { class: "hint" }, t("security.password.hint")),
    twoFactorBox,
    appBox,
    msg,
    err,
  );
  void draw();
  return root;
}
