/**
 * Settings > Import (issue 18): copy the mail of an account at another
 * provider into this one — the server signs in to the old provider's IMAP
 * server and copies every folder with its flags and dates
 * (protocols/http/webmail/import-api.ts). Progress is polled once a second
 * while it runs; the new folders and messages appear in the folder list
 * through the live event stream as they arrive. Cancel stops after the
 * current batch; starting again continues where it stopped.
 */
import { api } from "./api.ts";
import type { ImportStartRequest, ImportStatus } from "../../protocols/http/webmail/api-types.ts";
import { clear, h } from "./dom.ts";
import { formatNumber, t } from "./i18n/index.ts";
import "./i18n/import.ts";

const message = (ex: unknown) => (ex instanceof Error ? ex.message : t("import.failed"));
const active = (s: ImportStatus) => s.state === "connecting" || s.state === "running";

export function importPanel(): HTMLElement {
  const root = h("section", { class: "panel settings import", "aria-label": t("import.title"), "data-panel": "import" });
  const host = h("input", { type: "text", name: "importHost", autocomplete: "off", spellcheck: "false", placeholder: "imap.example.com", required: true }) as HTMLInputElement;
  const security = h("select", { name: "importSecurity" }, h("option", { value: "tls" }, t("import.security.tls")), h("option", { value: "starttls" }, t("import.security.starttls"))) as HTMLSelectElement;
  const port = h("input", { type: "number", name: "importPort", min: 1, max: 65535, value: 993, inputmode: "numeric" }) as HTMLInputElement;
  const user = h("input", { type: "text", name: "importUser", autocomplete: "off", spellcheck: "false", required: true }) as HTMLInputElement;
  const password = h("input", { type: "password", name: "importPassword", autocomplete: "off", required: true }) as HTMLInputElement;
  const start = h("button", { type: "submit", class: "btn btn-primary", "data-action": "start-import" }, t("import.start"));
  const cancel = h("button", { type: "button", class: "btn", "data-action": "cancel-import", hidden: true }, t("import.cancel"));
  const bar = h("progress", { class: "import-progress", max: 1, value: 0, hidden: true, "aria-label": t("import.progress") }) as HTMLProgressElement;
  const status = h("p", { class: "form-msg", role: "status", "aria-live": "polite", "data-import-status": "" });
  const err = h("p", { class: "form-err", role: "alert" });
  const result = h("ul", { class: "import-folders" });
  let timer: ReturnType<typeof setTimeout> | null = null;
  let lastState = "";

  security.addEventListener("change", () => {
    // Follow the usual port of the chosen way unless the user typed another.
    if (port.value === "993" || port.value === "143" || port.value === "") port.value = security.value === "tls" ? "993" : "143";
  });

  const show = (s: ImportStatus) => {
    const running = active(s);
    root.dataset["state"] = s.state;
    for (const el of [host, security, port, user, password, start]) (el as HTMLInputElement).disabled = running;
    cancel.hidden = !running;
    bar.hidden = s.state === "idle";
    bar.max = Math.max(1, s.total);
    bar.value = s.done;
    err.textContent = s.state === "failed" || s.state === "stopped" ? (s.error ?? t("import.failed")) : "";
    const pct = s.total > 0 ? Math.floor((s.done / s.total) * 100) : 0;
    status.textContent =
      s.state === "connecting"
        ? t("import.connecting", { source: s.source ?? "" })
        : s.state === "running"
          ? t("import.running", { done: formatNumber(s.done), total: formatNumber(s.total), pct, folder: s.folder ?? "" })
          : s.state === "done"
            ? t("import.done", { n: formatNumber(s.done) })
            : s.state === "cancelled"
              ? t("import.cancelled", { n: formatNumber(s.done) })
              : s.state === "stopped"
                ? t("import.stopped", { n: formatNumber(s.done) })
                : "";
    clear(result);
    if (!running && s.folders.length) for (const f of s.folders) result.append(h("li", null, t("import.folderLine", { source: f.source, target: f.target, n: formatNumber(f.imported) })));
    lastState = s.state;
  };

  const poll = async () => {
    timer = null;
    if (!root.isConnected && lastState !== "") return; // the settings dialog was closed
    try {
      const s = await api<ImportStatus>("GET", "/api/import");
      show(s);
      if (active(s)) timer = setTimeout(() => void poll(), 1000);
    } catch (ex) {
      err.textContent = message(ex);
    }
  };

  const form = h(
    "form",
    { class: "import-form", novalidate: true },
    h("fieldset", null, h("legend", null, t("import.title")), h("p", { class: "hint" }, t("import.hint")), h("label", null, t("import.host"), host), h("div", { class: "row" }, h("label", null, t("import.security"), security), h("label", null, t("import.port"), port)), h("label", null, t("import.user"), user), h("label", null, t("import.password"), password), h("div", { class: "row-buttons" }, start, cancel), bar, status, err, result),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    err.textContent = "";
    const body: ImportStartRequest = { host: host.value.trim(), port: Number(port.value || (security.value === "tls" ? 993 : 143)), security: security.value as ImportStartRequest["security"], user: user.value.trim(), password: password.value };
    try {
      const s = await api<ImportStatus>("POST", "/api/import", body);
      password.value = ""; // the server holds it for this run only
      show(s);
      if (timer === null) timer = setTimeout(() => void poll(), 500);
    } catch (ex) {
      err.textContent = message(ex);
    }
  });
  cancel.addEventListener("click", async () => {
    try {
      show(await api<ImportStatus>("DELETE", "/api/import"));
      if (timer === null) timer = setTimeout(() => void poll(), 500);
    } catch (ex) {
      err.textContent = message(ex);
    }
  });
  root.append(form);
  void poll();
  return root;
}
