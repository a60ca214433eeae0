/** The settings panel: display name, identities and their signatures, out-of-office, password, theme. */
import { api, type Identity, type Settings } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { sanitizeForEditor } from "./sanitize.ts";

/**
 * One identity's editor: the From name and a rich-text (HTML) signature. Pasted or typed HTML goes
 * through the editor sanitizer, as in the composer, before it is shown or saved.
 */
function identityEditor(id: Identity, isDefault: boolean): { el: HTMLElement; value(): Identity; isDefault(): boolean } {
  const name = h("input", { type: "text", name: "identityName", value: id.name, maxlength: 200, "aria-label": `Name for ${id.address}` }) as HTMLInputElement;
  const sig = h("div", { class: "sig-editor editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": `Signature for ${id.address}`, "data-address": id.address }) as HTMLDivElement;
  sig.innerHTML = sanitizeForEditor(id.signature, new Map());
  sig.addEventListener("paste", (e) => {
    const html = e.clipboardData?.getData("text/html");
    if (!html) return;
    e.preventDefault();
    document.execCommand("insertHTML", false, sanitizeForEditor(html, new Map()));
  });
  const tool = (cmd: string, label: string, text: string) => {
    const b = h("button", { type: "button", class: "tool", title: label, "aria-label": `${label} (signature for ${id.address})` }, text);
    b.addEventListener("mousedown", (e) => e.preventDefault());
    b.addEventListener("click", () => {
      if (cmd === "createLink") {
        const u = prompt("Link address (https://…)");
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
    h("div", { class: "identity-head" }, h("strong", null, id.address), h("label", { class: "check" }, def, " Default")),
    h("label", null, "Name", name),
    h("div", { class: "field-label" }, "Signature"),
    h("div", { class: "toolbar", role: "toolbar", "aria-label": `Signature formatting for ${id.address}` }, tool("bold", "Bold", "B"), tool("italic", "Italic", "I"), tool("underline", "Underline", "U"), tool("createLink", "Link", "Link")),
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
  toast(text: string): void;
  theme(): string;
  setTheme(t: "auto" | "light" | "dark"): void;
}

function toLocalInput(ms: number | undefined): string {
  if (!ms) return "";
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export class SettingsPanel {
  readonly el: HTMLElement;
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
    const oofSubject = h("input", { type: "text", name: "oofSubject", value: s?.oof.subject ?? "", placeholder: "Out of office" }) as HTMLInputElement;
    const oofBody = h("textarea", { name: "oofBody", rows: 4, placeholder: "I'm away until … and will reply when I'm back." }) as HTMLTextAreaElement;
    oofBody.value = s?.oof.body ?? "";
    const oofStart = h("input", { type: "datetime-local", name: "oofStart", value: toLocalInput(s?.oof.start) }) as HTMLInputElement;
    const oofEnd = h("input", { type: "datetime-local", name: "oofEnd", value: toLocalInput(s?.oof.end) }) as HTMLInputElement;
    const cur = h("input", { type: "password", name: "current", autocomplete: "current-password" }) as HTMLInputElement;
    const next = h("input", { type: "password", name: "next", autocomplete: "new-password", minlength: 10 }) as HTMLInputElement;
    const again = h("input", { type: "password", name: "again", autocomplete: "new-password" }) as HTMLInputElement;
    const theme = h("select", { name: "theme" }, h("option", { value: "auto" }, "Same as my device"), h("option", { value: "light" }, "Light"), h("option", { value: "dark" }, "Dark")) as HTMLSelectElement;
    theme.value = this.host.theme();
    theme.addEventListener("change", () => this.host.setTheme(theme.value as "auto" | "light" | "dark"));
    // Undo send (item 4): how long a sent message is held so it can be taken back; 0 sends at once. Saved when chosen.
    const delay = h("select", { name: "sendDelay" }, [0, 5, 10, 20, 30].map((n) => h("option", { value: n }, n ? `Hold sent mail ${n} seconds to allow Undo` : "Off: send at once"))) as HTMLSelectElement;
    void api<{ seconds: number }>("GET", "/api/settings/send-delay").then((r) => (delay.value = String(r.seconds)), () => {});
    delay.addEventListener("change", () => {
      void api("PUT", "/api/settings/send-delay", { seconds: Number(delay.value) }).then(
        () => say("Undo send saved.", null),
        (ex) => say(null, ex instanceof Error ? ex.message : "Undo send was not saved."),
      );
    });

    const saveBtn = h("button", { type: "submit", class: "btn btn-primary" }, "Save settings");
    const form = h(
      "form",
      { class: "panel settings", "aria-label": "Settings" },
      h("div", { class: "panel-head" }, h("h2", null, "Settings"), h("button", { type: "button", class: "btn btn-icon", "aria-label": "Close settings", "data-action": "close" }, icon("close"))),
      h("fieldset", null, h("legend", null, "You"), h("label", null, "Display name", name), h("label", null, "Theme", theme), h("label", null, "Undo send", delay)),
      h(
        "fieldset",
        { class: "identities" },
        h("legend", null, ids.length > 1 ? "Identities and signatures" : "Signature"),
        ids.length > 1 ? h("p", { class: "hint" }, "You can send from each of these addresses. Each has its own name and signature; the default one is used for new messages.") : null,
        ids.map((x) => x.el),
      ),
      h(
        "fieldset",
        null,
        h("legend", null, "Out of office"),
        h("label", { class: "check" }, oofOn, " Send an automatic reply to people who write to me"),
        h("label", null, "Subject", oofSubject),
        h("label", null, "Message", oofBody),
        h("div", { class: "row2" }, h("label", null, "From (optional)", oofStart), h("label", null, "Until (optional)", oofEnd)),
        h("p", { class: "hint" }, "Each person gets the reply at most once every few days. Mailing lists and automatic mail never get it."),
      ),
      saveBtn,
      msg,
      err,
    );
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      say("Saving…", null);
      try {
        const start = oofStart.value ? new Date(oofStart.value).getTime() : undefined;
        const end = oofEnd.value ? new Date(oofEnd.value).getTime() : undefined;
        await api("PUT", "/api/settings", {
          displayName: name.value,
          ...(ids.length ? { identities: ids.map((x) => x.value()), defaultIdentity: ids.find((x) => x.isDefault())?.value().address ?? s?.email } : {}),
          oof: { enabled: oofOn.checked, subject: oofSubject.value, body: oofBody.value, start, end },
        });
        const fresh = await api<Settings>("GET", "/api/settings");
        this.host.saved(fresh);
        say("Settings saved.", null);
      } catch (ex) {
        say(null, ex instanceof Error ? ex.message : "Settings were not saved.");
      }
    });
    form.querySelector('[data-action="close"]')!.addEventListener("click", () => this.close());

    const pmsg = h("p", { class: "form-msg", role: "status" });
    const perr = h("p", { class: "form-err", role: "alert" });
    const pform = h(
      "form",
      { class: "panel settings", "aria-label": "Change password" },
      h("fieldset", null, h("legend", null, "Change password"), h("label", null, "Current password", cur), h("label", null, "New password (10 characters or more)", next), h("label", null, "New password again", again)),
      h("button", { type: "submit", class: "btn" }, "Change password"),
      pmsg,
      perr,
    );
    pform.addEventListener("submit", async (e) => {
      e.preventDefault();
      pmsg.textContent = "";
      perr.textContent = "";
      if (next.value !== again.value) {
        perr.textContent = "The two new passwords are not the same.";
        return;
      }
      try {
        const r = await api<{ endedSessions: number }>("POST", "/api/password", { current: cur.value, next: next.value });
        cur.value = next.value = again.value = "";
        pmsg.textContent = r.endedSessions ? `Password changed. ${r.endedSessions} other sign-in(s) were ended.` : "Password changed.";
      } catch (ex) {
        perr.textContent = ex instanceof Error ? ex.message : "The password was not changed.";
      }
    });
    this.el.append(h("div", { class: "panel-scroll" }, form, pform));
    this.el.hidden = false;
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape") this.close();
    });
    name.focus();
  }

  close(): void {
    this.el.hidden = true;
    clear(this.el);
  }

  get isOpen(): boolean {
    return !this.el.hidden;
  }
}
