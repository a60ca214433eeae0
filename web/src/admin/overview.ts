/** #/overview: the server at a glance — listeners, certificate expiry (warned ahead in colour and words), counts. */
import type { AdminOverview, CertificateStatus } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatNumber, t, tn } from "../i18n/index.ts";
import { api } from "./api.ts";
import type { Page } from "./page.ts";
import { badge, heading, section, table, when, type Tone } from "./ui.ts";

const DAY = 86_400_000;

/** How a certificate's expiry reads: expired, within 14 days (warning), or fine. */
export function expiryTone(c: Pick<CertificateStatus, "notAfter" | "notBefore">, now = Date.now()): { tone: Tone; text: string } {
  const days = Math.floor((c.notAfter - now) / DAY);
  if (c.notAfter <= now) return { tone: "bad", text: t("admin.cert.expired", { date: when(c.notAfter) }) };
  if (c.notBefore > now) return { tone: "warn", text: t("admin.cert.notYetValid", { date: when(c.notBefore) }) };
  if (days < 14) return { tone: "warn", text: tn("admin.cert.expiresSoon", days, { date: when(c.notAfter) }) };
  return { tone: "ok", text: tn("admin.cert.validFor", days, { date: when(c.notAfter) }) };
}

export function uptime(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const hrs = Math.floor((seconds % 86400) / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  if (d) return t("admin.uptime.days", { d, h: hrs });
  if (hrs) return t("admin.uptime.hours", { h: hrs, m: min });
  return t("admin.uptime.minutes", { m: min });
}

export const overviewPage: Page = async (root, ctx) => {
  const o = await api<AdminOverview>("GET", "/admin/api/overview");
  if (ctx.stale()) return;
  clear(root);
  const stat = (label: string, value: string, href: string) => h("a", { class: "stat", href }, h("span", { class: "stat-value" }, value), h("span", { class: "stat-label" }, label));
  root.append(
    heading(t("admin.nav.overview")),
    h(
      "div",
      { class: "stats-row" },
      stat(t("admin.overview.domains"), formatNumber(o.domains), "#/domains"),
      stat(t("admin.overview.accounts"), formatNumber(o.accounts), "#/accounts"),
      stat(t("admin.overview.queued"), formatNumber(o.queued), "#/queue"),
    ),
    section(
      t("admin.overview.server"),
      h(
        "dl",
        { class: "facts" },
        h("dt", null, t("admin.overview.hostname")),
        h("dd", null, o.hostname),
        h("dt", null, t("admin.overview.version")),
        h("dd", null, o.version),
        h("dt", null, t("admin.overview.uptime")),
        h("dd", null, uptime(o.uptimeSeconds)),
      ),
    ),
    section(
      t("admin.nav.certificates"),
      o.certificates.length
        ? h(
            "ul",
            { class: "plain" },
            o.certificates.map((c) => {
              const e = expiryTone(c);
              return h("li", { class: "cert-line" }, h("strong", null, c.names.join(", ") || "—"), " ", badge(e.tone, e.text), " ", h("a", { href: "#/certificates" }, t("admin.details")));
            }),
          )
        : h("p", { class: "empty" }, t("admin.cert.none")),
    ),
    section(
      t("admin.overview.listeners"),
      table(
        t("admin.overview.listeners"),
        [t("admin.overview.listener"), t("admin.overview.address")],
        Object.entries(o.listeners).map(([name, addr]) => [name, h("code", null, addr)]),
        t("admin.overview.noListeners"),
      ),
    ),
  );
};
