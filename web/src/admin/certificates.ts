/** #/certificates: what each TLS certificate is (source, names, issuer, validity), ACME's next renewal and last error; renew now. */
import type { CertificateStatus, RenewResult } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { api } from "./api.ts";
import type { Page } from "./page.ts";
import { expiryTone } from "./overview.ts";
import { badge, heading, say, sayError, section, when } from "./ui.ts";

export const certificatesPage: Page = async (root, ctx) => {
  const certs = await api<CertificateStatus[]>("GET", "/admin/api/certificates");
  if (ctx.stale()) return;
  clear(root);
  const result = h("p", { class: "renew-result", role: "status" });
  const renew = h("button", { type: "button", class: "btn btn-primary" }, t("admin.cert.renew"));
  renew.addEventListener("click", async () => {
    renew.disabled = true;
    result.textContent = t("admin.cert.renewing");
    try {
      const r = await api<RenewResult>("POST", "/admin/api/certificates/renew");
      result.textContent = r.message || (r.ok ? t("admin.cert.renewed") : t("admin.cert.renewFailed"));
      result.className = `renew-result ${r.ok ? "ok-text" : "error-text"}`;
      if (r.ok) {
        say(result.textContent);
        ctx.reload();
      }
    } catch (err) {
      result.textContent = "";
      sayError(err);
    } finally {
      if (renew.isConnected) renew.disabled = false;
    }
  });
  root.append(heading(t("admin.nav.certificates"), renew), result);
  if (!certs.length) root.append(h("p", { class: "empty" }, t("admin.cert.none")));
  for (const c of certs) {
    const e = expiryTone(c);
    const row = (label: string, value: Node | string) => [h("dt", null, label), h("dd", null, value)];
    root.append(
      section(
        c.names[0] ?? t("admin.cert.unnamed"),
        h(
          "dl",
          { class: "facts cert" },
          row(t("admin.cert.status"), badge(e.tone, e.text)),
          row(t("admin.cert.source"), t(`admin.cert.source.${c.source}`)),
          row(t("admin.cert.names"), h("ul", { class: "plain" }, c.names.map((n) => h("li", null, h("code", null, n))))),
          row(t("admin.cert.issuer"), h("span", { class: "cert-issuer" }, c.issuer)),
          row(t("admin.cert.validFrom"), when(c.notBefore)),
          row(t("admin.cert.validUntil"), when(c.notAfter)),
          row(t("admin.cert.fingerprint"), h("code", { class: "wrap-any" }, c.fingerprint)),
          c.source === "acme" ? row(t("admin.cert.nextRenewal"), when(c.nextRenewalAt)) : [],
          c.source === "acme" ? row(t("admin.cert.lastAttempt"), when(c.lastAttemptAt)) : [],
          c.source === "acme" ? row(t("admin.cert.lastError"), c.lastError ? h("span", { class: "error-text cert-error" }, c.lastError) : t("admin.cert.noError")) : [],
        ),
        c.source === "acme" ? null : h("p", { class: "muted" }, t(`admin.cert.hint.${c.source}`)),
      ),
    );
  }
};
