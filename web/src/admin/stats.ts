/**
 * #/stats: messages in and out per hour (bars), rejections and failed logins per hour (lines), both
 * also as a table for screen readers and for copying, and storage per account (bars with numbers).
 */
import type { StatsResponse } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatDate, formatNumber, t, tn } from "../i18n/index.ts";
import { api } from "./api.ts";
import { barChart, legend, lineChart, type Series } from "./chart.ts";
import type { Page } from "./page.ts";
import { heading, section, table, usageBar } from "./ui.ts";

const HOURS = [24, 48, 168];
const STORAGE_SHOWN = 50;
let chosen = 48;

export const statsPage: Page = async (root, ctx) => {
  const stats = await api<StatsResponse>("GET", `/admin/api/stats?hours=${chosen}`);
  if (ctx.stale()) return;
  clear(root);
  const pick = h("select", { id: "stats-hours", class: "input" }, HOURS.map((n) => h("option", { value: n, selected: n === chosen }, t("admin.stats.lastHours", { n }))));
  pick.addEventListener("change", () => {
    chosen = Number(pick.value);
    ctx.reload();
  });
  const hourly = stats.hourly;
  const labels = hourly.map((c) => formatDate(c.hour, { hour: "2-digit", minute: "2-digit" }));
  const titles = hourly.map((c) => formatDate(c.hour, { dateStyle: "medium", timeStyle: "short" }));
  const sum = (k: "messagesIn" | "messagesOut" | "rejected" | "loginsFailed") => hourly.reduce((a, c) => a + c[k], 0);
  const traffic: Series[] = [
    { name: t("admin.stats.in"), cls: "s0", values: hourly.map((c) => c.messagesIn) },
    { name: t("admin.stats.out"), cls: "s1", values: hourly.map((c) => c.messagesOut) },
  ];
  const trouble: Series[] = [
    { name: t("admin.stats.rejected"), cls: "s2", values: hourly.map((c) => c.rejected) },
    { name: t("admin.stats.loginsFailed"), cls: "s3", values: hourly.map((c) => c.loginsFailed) },
  ];
  const trafficLabel = t("admin.stats.trafficSummary", { n: hourly.length, in: formatNumber(sum("messagesIn")), out: formatNumber(sum("messagesOut")) });
  const troubleLabel = t("admin.stats.troubleSummary", { n: hourly.length, rejected: formatNumber(sum("rejected")), failed: formatNumber(sum("loginsFailed")) });
  const asTable = h(
    "details",
    { class: "as-table" },
    h("summary", null, t("admin.stats.asTable")),
    table(
      t("admin.stats.perHour"),
      [t("admin.stats.hour"), t("admin.stats.in"), t("admin.stats.out"), t("admin.stats.rejected"), t("admin.stats.loginsFailed")],
      hourly.filter((c) => c.messagesIn || c.messagesOut || c.rejected || c.loginsFailed).map((c, i) => [titles[hourly.indexOf(c)] ?? String(i), formatNumber(c.messagesIn), formatNumber(c.messagesOut), formatNumber(c.rejected), formatNumber(c.loginsFailed)]),
      t("admin.stats.quiet"),
    ),
  );
  // The largest accounts first; past STORAGE_SHOWN a line says how many more there are.
  const all = [...stats.storage].sort((a, b) => b.usedBytes - a.usedBytes);
  const storage = all.slice(0, STORAGE_SHOWN);
  root.append(
    heading(t("admin.nav.stats"), h("label", { for: "stats-hours", class: "sr-only" }, t("admin.stats.range")), pick),
    section(t("admin.stats.traffic"), h("p", { class: "muted" }, trafficLabel), h("div", { class: "chart-box", id: "chart-traffic" }, barChart(trafficLabel, labels, titles, traffic)), legend(traffic, "bar")),
    section(t("admin.stats.trouble"), h("p", { class: "muted" }, troubleLabel), h("div", { class: "chart-box", id: "chart-trouble" }, lineChart(troubleLabel, labels, titles, trouble)), legend(trouble, "line"), asTable),
    section(
      t("admin.stats.storage"),
      storage.length
        ? h(
            "ul",
            { class: "storage-bars plain", id: "storage-bars" },
            storage.map((s) => h("li", null, h("span", { class: "storage-name" }, s.email), usageBar(s.usedBytes, s.quotaBytes, largest(storage)))),
          )
        : h("p", { class: "empty" }, t("admin.accounts.empty")),
      all.length > storage.length ? h("p", { class: "muted" }, tn("admin.stats.more", all.length - storage.length)) : null,
    ),
  );
};

/** Accounts without a quota are drawn against the largest one (their words still say "no quota"). */
function largest(list: { usedBytes: number }[]): number {
  return Math.max(1, ...list.map((s) => s.usedBytes));
}
