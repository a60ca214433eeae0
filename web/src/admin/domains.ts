/**
 * #/domains: the domains (add, remove after a confirmation; the server says in words why one with
 * accounts cannot go), and #/domains/<name>: its DNS records as the server's own resolver sees them
 * now — each with its status in words and colour, expected against found — and the zone block to copy.
 */
import type { DnsCheckStatus, DnsReport, DomainView } from "../../../protocols/http/admin/api-types.ts";
import { h, clear } from "../dom.ts";
import { formatNumber, t } from "../i18n/index.ts";
import { api, seg } from "./api.ts";
import type { Page } from "./page.ts";
import { act, badge, button, confirmDialog, heading, say, section, table, when, type Tone } from "./ui.ts";

export const domainsPage: Page = async (root, ctx) => {
  const domains = await api<DomainView[]>("GET", "/admin/api/domains");
  if (ctx.stale()) return;
  clear(root);
  const name = h("input", { type: "text", name: "domain", class: "input", autocomplete: "off", spellcheck: "false", placeholder: "example.org", required: true });
  const add = h("button", { type: "submit", class: "btn btn-primary" }, t("admin.domains.add"));
  const form = h("form", { class: "inline-form", "aria-label": t("admin.domains.add") }, h("label", { for: "new-domain" }, t("admin.domains.name")), name, add);
  name.id = "new-domain";
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const value = name.value.trim();
    void act(add, () => api("POST", "/admin/api/domains", { name: value }), t("admin.domains.added", { name: value })).then((ok) => ok && ctx.reload());
  });
  root.append(
    heading(t("admin.nav.domains")),
    section(t("admin.domains.add"), form),
    table(
      t("admin.nav.domains"),
      [t("admin.domains.name"), t("admin.nav.accounts"), t("admin.nav.aliases"), t("admin.domains.dkim"), t("admin.actions")],
      domains.map((d) => [
        h("a", { href: `#/domains/${seg(d.name)}` }, d.name),
        formatNumber(d.accounts),
        formatNumber(d.aliases),
        d.dkimSelector ? h("code", null, d.dkimSelector) : t("admin.domains.noDkim"),
        h(
          "div",
          { class: "row-actions" },
          h("a", { class: "btn btn-small", href: `#/domains/${seg(d.name)}`, "aria-label": t("admin.domains.dnsFor", { name: d.name }) }, t("admin.domains.dns")),
          button(t("admin.remove"), (e) => void removeDomain(e.currentTarget as HTMLButtonElement, d.name, ctx.reload), "btn btn-small btn-danger", { "aria-label": t("admin.domains.removeNamed", { name: d.name }) }),
        ),
      ]),
      t("admin.domains.empty"),
    ),
  );
};

async function removeDomain(btn: HTMLButtonElement, name: string, reload: () => void): Promise<void> {
  const yes = await confirmDialog({ title: t("admin.domains.removeTitle"), text: t("admin.domains.removeText", { name }), confirm: t("admin.remove"), danger: true });
  if (!yes) return;
  if (await act(btn, () => api("DELETE", `/admin/api/domains/${seg(name)}`), t("admin.domains.removed", { name }))) reload();
}

const TONE: Record<DnsCheckStatus, Tone> = { ok: "ok", missing: "bad", mismatch: "warn", error: "bad" };

export const dnsPage: Page = async (root, ctx) => {
  const domain = ctx.param ?? "";
  const report = await api<DnsReport>("GET", `/admin/api/domains/${seg(domain)}/dns`);
  if (ctx.stale()) return;
  clear(root);
  const counts = new Map<DnsCheckStatus, number>();
  for (const r of report.records) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const summary = (["ok", "missing", "mismatch", "error"] as DnsCheckStatus[])
    .filter((s) => counts.get(s))
    .map((s) => t(`admin.dns.count.${s}`, { n: formatNumber(counts.get(s)!) }))
    .join(" · ");
  const recheck = button(t("admin.dns.recheck"), () => ctx.reload(), "btn");
  const zone = h("pre", { class: "zone", tabindex: 0, "aria-label": t("admin.dns.zone") }, report.zone);
  const copy = button(t("admin.dns.copy"), () => void copyText(report.zone, zone));
  root.append(
    heading(t("admin.dns.title", { name: report.domain }), recheck, h("a", { href: "#/domains", class: "btn" }, t("admin.back"))),
    h("p", { class: "muted" }, t("admin.dns.checkedAt", { date: when(report.checkedAt) }), summary ? ` — ${summary}` : ""),
    table(
      t("admin.dns.records"),
      [t("admin.dns.purpose"), t("admin.dns.name"), t("admin.dns.type"), t("admin.dns.status"), t("admin.dns.expected"), t("admin.dns.found")],
      report.records.map((r) => [
        r.purpose,
        h("code", { class: "wrap" }, r.name),
        r.type,
        h("div", { class: "dns-status", "data-status": r.status }, badge(TONE[r.status], t(`admin.dns.status.${r.status}`)), r.note ? h("div", { class: "note" }, r.note) : null),
        h("code", { class: "wrap-any" }, r.expected),
        r.found.length ? h("ul", { class: "plain" }, r.found.map((f) => h("li", null, h("code", { class: "wrap-any" }, f)))) : h("span", { class: "muted" }, t("admin.dns.nothing")),
      ]),
      t("admin.dns.noRecords"),
    ),
    section(t("admin.dns.zone"), h("p", { class: "muted" }, t("admin.dns.zoneHint")), zone, copy),
  );
};

/** Copies with the Clipboard API; where the page may not (no secure context, denied), selects the text instead. */
async function copyText(text: string, el: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    say(t("admin.dns.copied"));
  } catch {
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    el.focus();
    say(t("admin.dns.selected"));
  }
}
