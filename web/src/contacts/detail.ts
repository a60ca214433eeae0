/**
 * The detail pane: one contact (or group, or directory entry) read-only,
 * with its actions. Dates are shown in the chosen language; a birthday
 * without a year ("--MM-DD", RFC 6350 §4.3.1 reduced accuracy) shows day and
 * month only.
 */
import { h, icon } from "../dom.ts";
import { dateFormat, t } from "../i18n/index.ts";
import type { ContactData, ContactSummary, DirectoryPerson } from "./data.ts";
import { displayName, exportUrl, memberMatches } from "./data.ts";
import { avatar } from "./list.ts";

export interface DetailActions {
  back(): void;
  edit(): void;
  remove(): void;
  writeEmail(): void;
}

/** A type code as words ("work" -> "Work"); unknown types are shown as written. */
export function typeLabel(type: string): string {
  const key = `contacts.type.${type || "other"}`;
  const s = t(key);
  return s === key ? type : s;
}

/** "YYYY-MM-DD" or "--MM-DD" in the chosen language (the date itself, no zone shift). */
export function formatDay(v: string): string {
  // A month or day out of range is shown as written (Date.UTC would roll "1985-13-40" into 1986).
  const ok = (m: string, d: string) => +m >= 1 && +m <= 12 && +d >= 1 && +d <= 31;
  const full = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (full && ok(full[2]!, full[3]!)) return dateFormat({ dateStyle: "long" }, "UTC").format(Date.UTC(+full[1]!, +full[2]! - 1, +full[3]!));
  const noYear = /^--(\d{2})-?(\d{2})$/.exec(v);
  if (noYear && ok(noYear[1]!, noYear[2]!)) return dateFormat({ day: "numeric", month: "long" }, "UTC").format(Date.UTC(2000, +noYear[1]! - 1, +noYear[2]!));
  return v;
}

function backButton(a: DetailActions): HTMLElement {
  return h("button", { type: "button", class: "btn btn-icon ct-back", "aria-label": t("contacts.back"), title: t("contacts.back"), onclick: () => a.back() }, icon("back"));
}

function field(label: string, ...value: (Node | string)[]): HTMLElement {
  return h("div", { class: "ct-field" }, h("dt", null, label), h("dd", null, ...value));
}

export function renderContact(book: string, id: string, c: ContactData, readOnly: boolean, members: ContactSummary[], a: DetailActions): HTMLElement {
  const name = displayName(c);
  const rows: HTMLElement[] = [];
  for (const e of c.emails) rows.push(field(`${t("contacts.email")} · ${typeLabel(e.type)}`, h("a", { href: `mailto:${e.value}`, class: "ct-mailto", onclick: (ev: MouseEvent) => { ev.preventDefault(); a.writeEmail(); } }, e.value)));
  for (const p of c.phones) rows.push(field(`${t("contacts.phone")} · ${typeLabel(p.type)}`, h("a", { href: `tel:${p.value.replace(/[^+\d]/g, "")}` }, p.value)));
  for (const ad of c.addresses) {
    const lines = [ad.street, [ad.postalCode, ad.locality].filter(Boolean).join(" "), ad.region, ad.country].filter(Boolean);
    rows.push(field(`${t("contacts.address")} · ${typeLabel(ad.type)}`, h("span", { class: "ct-addr" }, lines.join("\n"))));
  }
  for (const u of c.urls) rows.push(field(t("contacts.url"), /^https?:\/\//i.test(u.value) ? h("a", { href: u.value, target: "_blank", rel: "noopener noreferrer" }, u.value) : u.value));
  if (c.birthday) rows.push(field(t("contacts.birthday"), formatDay(c.birthday)));
  if (c.anniversary) rows.push(field(t("contacts.anniversary"), formatDay(c.anniversary)));
  if (c.nickname) rows.push(field(t("contacts.nickname"), c.nickname));
  if (c.notes) rows.push(field(t("contacts.notes"), h("span", { class: "ct-notes" }, c.notes)));
  if (c.kind === "group") {
    const names = c.members.map((m) => {
      if (/^mailto:/i.test(m)) return m.slice(7);
      const s = members.find((x) => memberMatches(m, x.uid));
      return s ? s.fullName || s.emails[0] || s.uid : t("contacts.unknownMember");
    });
    rows.push(field(t("contacts.members"), names.length ? h("ul", { class: "ct-members" }, names.map((n) => h("li", null, n))) : t("contacts.noMembers")));
  }
  const org = [c.jobTitle, [c.organization, c.department].filter(Boolean).join(", ")].filter(Boolean).join(" · ");
  const hasAddress = c.kind === "group" ? c.members.length > 0 : c.emails.length > 0;
  return h(
    "article",
    { class: "ct-detail-body", "data-contact-id": id, "aria-label": name },
    h(
      "div",
      { class: "ct-toolbar" },
      backButton(a),
      hasAddress ? h("button", { type: "button", class: "btn", "data-action": "write-email", onclick: () => a.writeEmail() }, icon("mail"), t("contacts.writeEmail")) : null,
      readOnly ? null : h("button", { type: "button", class: "btn", "data-action": "edit", onclick: () => a.edit() }, icon("compose"), t("contacts.edit")),
      readOnly ? null : h("a", { class: "btn", href: exportUrl(book, [id]), download: `${name || "contact"}.vcf`, "data-action": "export-one" }, t("contacts.exportOne")),
      readOnly ? null : h("button", { type: "button", class: "btn btn-danger", "data-action": "delete", onclick: () => a.remove() }, icon("trash"), t("contacts.delete")),
    ),
    h(
      "header",
      { class: "ct-head" },
      avatar(name, c.photo ?? null, "l"),
      h("div", null, h("h2", { class: "ct-name" }, name || t("contacts.noName")), org ? h("p", { class: "ct-org" }, org) : null, c.kind === "group" ? h("p", { class: "ct-org" }, t("contacts.group")) : null),
    ),
    readOnly ? h("p", { class: "ct-readonly" }, t("contacts.readOnly")) : null,
    h("dl", { class: "ct-fields" }, rows),
  );
}

export function renderDirectoryEntry(p: DirectoryPerson, a: DetailActions): HTMLElement {
  return h(
    "article",
    { class: "ct-detail-body", "aria-label": p.name || p.address },
    h("div", { class: "ct-toolbar" }, backButton(a), h("button", { type: "button", class: "btn", "data-action": "write-email", onclick: () => a.writeEmail() }, icon("mail"), t("contacts.writeEmail"))),
    h("header", { class: "ct-head" }, avatar(p.name || p.address, null, "l"), h("div", null, h("h2", { class: "ct-name" }, p.name || p.address), h("p", { class: "ct-org" }, t(p.kind === "alias" ? "contacts.dirAlias" : "contacts.dirAccount")))),
    h("p", { class: "ct-readonly" }, t("contacts.readOnlyDirectory")),
    h("dl", { class: "ct-fields" }, field(t("contacts.email"), h("a", { href: `mailto:${p.address}`, onclick: (ev: MouseEvent) => { ev.preventDefault(); a.writeEmail(); } }, p.address))),
  );
}
