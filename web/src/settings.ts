/** The settings panel: display name, identities and their signatures, out-of-office, password, theme. */
import { api, type Identity, type Settings } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { sanitizeForEditor } from "./sanitize.ts";
import { trapFocus, type FocusTrap } from "./focus-trap.ts";
import { t, tn, LANGS, LANG_NAMES } from "./i18n/index.ts";
import "./i18n/mail.ts";
import { fromZoneInput, toZoneInput } from "./util.ts";
import { notifySetting } from "./notify.ts";
import { securityPanel } from "./settings-security.ts";
import { importPanel } from "./settings-import.ts";
import { filterPanels } from "./settings-rules.ts";
import { spamPanel } from "./settings-spam.ts";

/**
 * One identity's editor: the From name and a rich-text (HTML) signature. Pasted or typed HTML goes
 * through the editor sanitizer, as in the composer, before it is shown or saved.
 */
function identityEditor(id: Identity, isDefault: boolean): { el: HTMLElement; value(): Identity; isDefault(): boolean } {
  const name = h("input", { type: "text", name: "identityName", value: id.name, maxlength: 200, "aria-label": t("settings.identity.nameFor", { address: id.address }) }) as HTMLInputElement;
  const sig = h("div", { class: "sig-editor editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": t("settings.identity.signatureFor", { address: id.address }), "data-address": id.address }) as HTMLDivElement;
  sig.innerHTML = sanitizeForEditor(id.signature, new Map());
  sig.addEventListener("paste", (e) => {
    const html = e.clipboardData?.getData("text/html");
    if (!html) return;
    e.preventDefault();
    document.execCommand("insertHTML", false, sanitizeForEditor(html, new Map()));
  });
  const tool = (cmd: string, label: string, text: string) => {
    const b = h("button", { type: "button", class: "tool", title: label, "aria-label": t("settings.identity.tool", { tool: label, address: id.address }) }, text);
    b.addEventListener("mousedown", (e) => e.preventDefault());
    b.addEventListener("click", () => {
      if (cmd === "createLink") {
        const u = prompt(t("compose.linkPrompt"));
        if (u && /^(https?:|mailto:)/i.test(u.trim())) document.execCommand(cmd, false, u.trim());
      } else document.execCommand(cmd, false);
    });
    return b;
  };
  const def = h("input", { type: "radio", name: "defaultIdentity", value: id.address }) as HTMLInputElement;
  def.checked = isDefault;
  const el = h(
    "div",
    { class: "identity", "data-address": id.address },
    h("div", { class: "identity-head" }, h("strong", null, id.address), h("label", { class: "check" }, def, " " + t("settings.identity.default"))),
    h("label", null, t("settings.identity.name"), name),
    h("div", { class: "field-label" }, t("settings.identity.signature")),
    h("div", { class: "toolbar", role: "toolbar", "aria-label": t("settings.identity.formatting", { address: id.address }) }, tool("bold", t("compose.bold"), t("compose.bold.short")), tool("italic", t("compose.italic"), t("compose.italic.short")), tool("underline", t("compose.underline"), t("compose.underline.short")), tool("createLink", t("compose.link"), t("compose.link"))),
    sig,
  );
  return {
    el,
    value: () => ({ address: id.address, name: name.value.trim(), signature: sig.textContent?.trim() || sig.querySelector("img") ? sanitizeForEditor(sig.innerHTML, new Map()) : "" }),
    isDefault: () => def.checked,
  };
}

export interface SettingsHost {
  settings(): Settings | null;
  saved(s: Settings): void;
  /** The language or time zone setting changed (main.ts applies it: the page is drawn again in it). */
  applyLocale(s: Settings): void;
  toast(text: string): void;
  theme(): string;
  setTheme(t: "auto" | "light" | "dark"): void;
}


export class SettingsPanel {
  readonly el: HTMLElement;
  /** Keeps Tab inside the open dialog and gives focus back to the Settings button on close (item 9). */
  private trap: FocusTrap | null = null;
  constructor(private readonly host: SettingsHost) {
    this.el = h("div", { class: "overlay", hidden: true });
  }

  open(): void {
    const s = this.host.settings();
    clear(this.el);
    const msg = h("p", { class: "form-msg", role: "status", "aria-live": "polite" });
    const err = h("p", { class: "form-err", role: "alert" });
    const say = (ok: string | null, bad: string | null) => {
      msg.textContent = ok ?? "";
      err.textContent = bad ?? "";
    };
    const name = h("input", { type: "text", name: "displayName", value: s?.displayName ?? "", maxlength: 200 }) as HTMLInputElement;
    const ids = (s?.identities ?? []).map((x) => identityEditor(x, x.address === s?.defaultIdentity));
    const oofOn = h("input", { type: "checkbox", name: "oofEnabled" }) as HTMLInputElement;
    oofOn.checked = !!s?.oof.enabled;
    const oofSubject = h("input", { type: "text", name: "oofSubject", value: s?.oof.subject ?? "", placeholder: t("settings.oof.subjectPlaceholder") }) as HTMLInputElement;
    const oofBody = h("textarea", { name: "oofBody", rows: 4, placeholder: t("settings.oof.bodyPlaceholder") }) as HTMLTextAreaElement;
    oofBody.value = s?.oof.body ?? "";
    const oofStart = h("input", { type: "datetime-local", name: "oofStart", value: toZoneInput(s?.oof.start) }) as HTMLInputElement;
    const oofEnd = h("input", { type: "datetime-local", name: "oofEnd", value: toZoneInput(s?.oof.end) }) as HTMLInputElement;
    const cur = h("input", { type: "password", name: "current", autocomplete: "current-password" }) as HTMLInputElement;
    const next = h("input", { type: "password", name: "next", autocomplete: "new-password", minlength: 10 }) as HTMLInputElement;
    const again = h("input", { type: "password", name: "again", autocomplete: "new-password" }) as HTMLInputElement;
    const theme = h("select", { name: "theme" }, h("option", { value: "auto" }, t("settings.theme.auto")), h("option", { value: "light" }, t("settings.theme.light")), h("option", { value: "dark" }, t("settings.theme.dark"))) as HTMLSelectElement;
    theme.value = this.host.theme();
    theme.addEventListener("change", () => this.host.setTheme(theme.value as "auto" | "light" | "dark"));
    // Undo send (item 4): how long a sent message is held so it can be taken back; 0 sends at once. Saved when chosen.
    const delay = h("select", { name: "sendDelay" }, [0, 5, 10, 20, 30].map((n) => h("option", { value: n }, n ? t("settings.sendDelay.hold", { n }) : t("settings.sendDelay.off")))) as HTMLSelectElement;
    void api<{ seconds: number }>("GET", "/api/settings/send-delay").then((r) => (delay.value = String(r.seconds)), () => {});
    delay.addEventListener("change", () => {
      void api("PUT", "/api/settings/send-delay", { seconds: Number(delay.value) }).then(
        () => say(t("settings.sendDelay.saved"), null),
        (ex) => say(null, ex instanceof Error ? ex.message : t("settings.sendDelay.notSaved")),
      );
    });

    // Language and time zone (item 12): saved when chosen, and the page is drawn again in them at once.
    const language = h("select", { name: "language" }, h("option", { value: "" }, t("settings.language.browser")), LANGS.map((l) => h("option", { value: l, lang: l }, LANG_NAMES[l]))) as HTMLSelectElement;
    language.value = s?.language ?? "";
    const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
    const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
    const zone = h(
      "select",
      { name: "timeZone" },
      h("option", { value: "" }, t("settings.timeZone.browser", { zone: browserZone })),
      zones.filter((z) => z !== browserZone).map((z) => h("option", { value: z }, z.replace(/_/g, " "))),
    ) as HTMLSelectElement;
    // A saved zone this browser does not list still shows (and stays) as chosen.
    if (s?.timeZone && !zones.includes(s.timeZone) && s.timeZone !== browserZone) zone.append(h("option", { value: s.timeZone }, s.timeZone));
    zone.value = s?.timeZone && s.timeZone !== browserZone ? s.timeZone : "";
    const saveLocale = async (patch: { language?: string; timeZone?: string }) => {
      say(t("settings.saving"), null);
      try {
        await api("PUT", "/api/settings", patch);
        const fresh = await api<Settings>("GET", "/api/settings");
        this.host.saved(fresh);
        say(t("settings.locale.saved"), null);
        this.host.applyLocale(fresh);
      } catch (ex) {
        say(null, ex instanceof Error ? ex.message : t("settings.notSaved"));
      }
    };
    language.addEventListener("change", () => void saveLocale({ language: language.value }));
    zone.addEventListener("change", () => void saveLocale({ timeZone: zone.value }));

    const saveBtn = h("button", { type: "submit", class: "btn btn-primary" }, t("settings.save"));
    const form = h(
      "form",
      { class: "panel settings", "aria-label": t("mail.settings") },
      h("div", { class: "panel-head" }, h("h2", null, t("mail.settings")), h("button", { type: "button", class: "btn btn-icon", "aria-label": t("settings.close"), "data-action": "close" }, icon("close"))),
      h("fieldset", null, h("legend", null, t("settings.you")), h("label", null, t("settings.displayName"), name), h("label", null, t("settings.theme"), theme), h("label", null, t("settings.sendDelay"), delay), notifySetting(say)),
      h("fieldset", { class: "locale" }, h("legend", null, t("settings.locale")), h("label", null, t("settings.language"), language), h("label", null, t("settings.timeZone"), zone)),
      h(
        "fieldset",
        { class: "identities" },
        h("legend", null, ids.length > 1 ? t("settings.identities") : t("settings.identity.signature")),
        ids.length > 1 ? h("p", { class: "hint" }, t("settings.identities.hint")) : null,
        ids.map((x) => x.el),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, t("settings.oof")),
        h("label", { class: "check" }, oofOn, " " + t("settings.oof.enable")),
        h("label", null, t("compose.subject"), oofSubject),
        h("label", null, t("settings.oof.message"), oofBody),
        h("div", { class: "row2" }, h("label", null, t("settings.oof.from"), oofStart), h("label", null, t("settings.oof.until"), oofEnd)),
        h("p", { class: "hint" }, t("settings.oof.hint")),
        h("p", { class: "hint", "data-hint": "oof-sieve" }, t("settings.oof.sieve")),
      ),
      saveBtn,
      msg,
      err,
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      say(t("settings.saving"), null);
      try {
        // The out-of-office times are wall-clock times in the user's zone (settings), not the browser's (item 12).
        const start = oofStart.value ? fromZoneInput(oofStart.value) : undefined;
        const end = oofEnd.value ? fromZoneInput(oofEnd.value) : undefined;
        await api("PUT", "/api/settings", {
          displayName: name.value,
          ...(ids.length ? { identities: ids.map((x) => x.value()), defaultIdentity: ids.find((x) => x.isDefault())?.value().address ?? s?.email } : {}),
          oof: { enabled: oofOn.checked, subject: oofSubject.value, body: oofBody.value, start, end },
        });
        const fresh = await api<Settings>("GET", "/api/settings");
        this.host.saved(fresh);
        say(t("settings.saved"), null);
      } catch (ex) {
        say(null, ex instanceof Error ? ex.message : t("settings.notSaved"));
      }
    });
    form.querySelector('[data-action="close"]')!.addEventListener("click", () => this.close());

    const pmsg = h("p", { class: "form-msg", role: "status" });
    const perr = h("p", { class: "form-err", role: "alert" });
    const pform = h(
      "form",
      { class: "panel settings", "aria-label": t("settings.password") },
      h("fieldset", null, h("legend", null, t("settings.password")), h("label", null, t("settings.password.current"), cur), h("label", null, t("settings.password.new"), next), h("label", null, t("settings.password.again"), again)),
      h("button", { type: "submit", class: "btn" }, t("settings.password")),
      pmsg,
      perr,
    );
    pform.addEventListener("submit", async (e) => {
      e.preventDefault();
      pmsg.textContent = "";
      perr.textContent = "";
      if (next.value !== again.value) {
        perr.textContent = t("settings.password.mismatch");
        return;
      }
      try {
        const r = await api<{ endedSessions: number }>("POST", "/api/password", { current: cur.value, next: next.value });
        cur.value = next.value = again.value = "";
        pmsg.textContent = r.endedSessions ? tn("settings.password.changedEnded", r.endedSessions) : t("settings.password.changed");
      } catch (ex) {
        perr.textContent = ex instanceof Error ? ex.message : t("settings.password.notChanged");
      }
    });
    this.el.append(h("div", { class: "panel-scroll", role: "dialog", "aria-modal": "true", "aria-label": t("mail.settings") }, form, pform, securityPanel(), ...filterPanels(), spamPanel(), importPanel()));
    this.el.hidden = false;
    // Opened again while open (a language change re-renders it): focus still goes back to the first opener.
    const opener = this.trap?.returnTo;
    this.trap?.release({ restore: false });
    this.trap = trapFocus(this.el, { onEscape: () => this.close(), initial: name, ...(opener !== undefined ? { returnTo: opener } : {}) });
  }

  close(): void {
    const trap = this.trap;
    this.trap = null;
    this.el.hidden = true;
    clear(this.el);
    trap?.release();
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }
}
