/**
 * The contact editor (a form in the detail pane): name parts, several
 * emails/phones/URLs/addresses each with a type picker (rows added and
 * removed), organization and title, birthday and anniversary, notes, photo.
 * A group edits its name and its members (picked from the book).
 *
 * The form edits a copy of the ContactData it was given; fields the form
 * does not show (categories, unknown vCard lines on the server) go back
 * unchanged. The photo is sent only when it changed (undefined = keep).
 */
import { h, icon } from "../dom.ts";
import { t } from "../i18n/index.ts";
import type { ContactAddress, ContactData, ContactValue } from "../../../protocols/http/webmail/api-types.ts";
import type { ContactSummary } from "./data.ts";
import { displayName, memberMatches } from "./data.ts";
import { typeLabel } from "./detail.ts";
import { avatar } from "./list.ts";
import { resizePhoto } from "./photo.ts";

const EMAIL_TYPES = ["home", "work", "other"];
const PHONE_TYPES = ["mobile", "home", "work", "fax", "pager", "other"];
const ADDRESS_TYPES = ["home", "work", "other"];
const URL_TYPES = ["home", "work", "other"];
/** A form never grows past this many rows of one kind (a pasted list stays usable). */
const MAX_ROWS = 50;

export interface EditorHooks {
  save(c: ContactData): Promise<void>;
  cancel(): void;
  /** Individuals of the book (the member picker of a group). */
  people(): Promise<ContactSummary[]>;
}

let seq = 0;
const uid = (p: string) => `${p}-${++seq}`;

function labelled(text: string, input: HTMLElement, cls = "ct-label"): HTMLElement {
  const id = input.id || (input.id = uid("ct"));
  return h("div", { class: cls }, h("label", { for: id }, text), input);
}

function textInput(name: string, value: string, type = "text"): HTMLInputElement {
  return h("input", { type, name, value, class: "ct-input", autocomplete: "off" }) as HTMLInputElement;
}

function typeSelect(types: string[], value: string, aria: string): HTMLSelectElement {
  const all = value && !types.includes(value) ? [value, ...types] : types;
  const sel = h("select", { class: "ct-type", "aria-label": aria }, all.map((v) => h("option", { value: v, selected: v === (value || types[types.length - 1]) }, typeLabel(v)))) as HTMLSelectElement;
  return sel;
}

/** A list of typed values (emails, phones, URLs) with Add and per-row Remove. */
function valueRows(kind: "email" | "phone" | "url", types: string[], values: ContactValue[]): { el: HTMLElement; read(): ContactValue[] } {
  const rows: { row: HTMLElement; sel: HTMLSelectElement; input: HTMLInputElement; pref: boolean }[] = [];
  const list = h("div", { class: "ct-rows", "data-rows": kind });
  const inputType = kind === "email" ? "email" : kind === "phone" ? "tel" : "url";
  const add = (v?: ContactValue) => {
    if (rows.length >= MAX_ROWS) return;
    const sel = typeSelect(types, v?.type ?? (kind === "phone" ? "mobile" : "home"), t(`contacts.${kind}Type`));
    const input = textInput(kind, v?.value ?? "", inputType);
    input.setAttribute("aria-label", t(`contacts.${kind}`));
    const rm = h("button", { type: "button", class: "btn btn-icon ct-remove", "aria-label": t(`contacts.remove.${kind}`), title: t(`contacts.remove.${kind}`) }, icon("close"));
    const row = h("div", { class: "ct-row-edit" }, sel, input, rm);
    const entry = { row, sel, input, pref: v?.pref ?? false };
    rm.addEventListener("click", () => {
      rows.splice(rows.indexOf(entry), 1);
      row.remove();
    });
    rows.push(entry);
    list.append(row);
    return input;
  };
  for (const v of values) add(v);
  const addBtn = h("button", { type: "button", class: "btn btn-small", "data-add": kind }, icon("plus"), t(`contacts.add.${kind}`));
  addBtn.addEventListener("click", () => add()?.focus());
  return {
    el: h("fieldset", { class: "ct-fieldset" }, h("legend", null, t(`contacts.${kind}s`)), list, addBtn),
    read: () => rows.map((r) => ({ type: r.sel.value, value: r.input.value.trim(), pref: r.pref })).filter((r) => r.value),
  };
}

function addressRows(values: ContactAddress[]): { el: HTMLElement; read(): ContactAddress[] } {
  const rows: { row: HTMLElement; sel: HTMLSelectElement; f: Record<"street" | "locality" | "region" | "postalCode" | "country", HTMLInputElement>; pref: boolean }[] = [];
  const list = h("div", { class: "ct-rows", "data-rows": "address" });
  const add = (v?: ContactAddress) => {
    if (rows.length >= MAX_ROWS) return;
    const sel = typeSelect(ADDRESS_TYPES, v?.type ?? "home", t("contacts.addressType"));
    const f = {
      street: textInput("street", v?.street ?? ""),
      postalCode: textInput("postalCode", v?.postalCode ?? ""),
      locality: textInput("locality", v?.locality ?? ""),
      region: textInput("region", v?.region ?? ""),
      country: textInput("country", v?.country ?? ""),
    };
    const rm = h("button", { type: "button", class: "btn btn-icon ct-remove", "aria-label": t("contacts.remove.address"), title: t("contacts.remove.address") }, icon("close"));
    const row = h(
      "div",
      { class: "ct-addr-edit" },
      h("div", { class: "ct-row-edit" }, sel, rm),
      labelled(t("contacts.street"), f.street),
      h("div", { class: "ct-pair" }, labelled(t("contacts.postalCode"), f.postalCode), labelled(t("contacts.locality"), f.locality)),
      h("div", { class: "ct-pair" }, labelled(t("contacts.region"), f.region), labelled(t("contacts.country"), f.country)),
    );
    const entry = { row, sel, f, pref: v?.pref ?? false };
    rm.addEventListener("click", () => {
      rows.splice(rows.indexOf(entry), 1);
      row.remove();
    });
    rows.push(entry);
    list.append(row);
    return f.street;
  };
  for (const v of values) add(v);
  const addBtn = h("button", { type: "button", class: "btn btn-small", "data-add": "address" }, icon("plus"), t("contacts.add.address"));
  addBtn.addEventListener("click", () => add()?.focus());
  return {
    el: h("fieldset", { class: "ct-fieldset" }, h("legend", null, t("contacts.addresses")), list, addBtn),
    read: () =>
      rows
        .map((r) => ({ type: r.sel.value, street: r.f.street.value.trim(), locality: r.f.locality.value.trim(), region: r.f.region.value.trim(), postalCode: r.f.postalCode.value.trim(), country: r.f.country.value.trim(), pref: r.pref }))
        .filter((a) => a.street || a.locality || a.region || a.postalCode || a.country),
  };
}

/** A birthday/anniversary: a date picker, or a text box for a date without a year ("--MM-DD"). */
function dayInput(name: string, value: string): HTMLInputElement {
  return textInput(name, value, value && !/^\d{4}-\d{2}-\d{2}$/.test(value) ? "text" : "date");
}

/** The group member picker: every individual of the book with a checkbox, and a filter box. */
function memberPicker(current: string[], hooks: EditorHooks): { el: HTMLElement; read(): string[] } {
  const chosen = new Set(current);
  const list = h("ul", { class: "ct-member-pick", "aria-label": t("contacts.members") });
  const filter = h("input", { type: "search", class: "ct-input", placeholder: t("contacts.filterMembers"), "aria-label": t("contacts.filterMembers") }) as HTMLInputElement;
  const boxes: { li: HTMLElement; text: string }[] = [];
  void hooks.people().then((people) => {
    for (const p of people) {
      if (p.kind !== "individual") continue;
      const member = current.find((m) => memberMatches(m, p.uid)) ?? p.uid;
      const box = h("input", { type: "checkbox", value: member, checked: current.some((m) => memberMatches(m, p.uid)) }) as HTMLInputElement;
      box.addEventListener("change", () => (box.checked ? chosen.add(member) : chosen.delete(member)));
      const name = p.fullName || p.emails[0] || p.uid;
      const li = h("li", null, h("label", { class: "check ct-member" }, box, avatar(name, null), h("span", null, name, p.emails[0] && p.fullName ? h("span", { class: "ct-row-sub" }, ` ${p.emails[0]}`) : null)));
      boxes.push({ li, text: `${name} ${p.emails.join(" ")}`.toLowerCase() });
      list.append(li);
    }
  });
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const b of boxes) b.li.hidden = q !== "" && !b.text.includes(q);
  });
  return { el: h("fieldset", { class: "ct-fieldset" }, h("legend", null, t("contacts.members")), filter, list), read: () => [...chosen] };
}

export function renderEditor(initial: ContactData, isNew: boolean, hooks: EditorHooks): HTMLElement {
  const c: ContactData = structuredClone(initial);
  let photo: string | null | undefined = undefined; // undefined = unchanged
  const err = h("p", { class: "ct-error", role: "alert", hidden: true });
  const title = h("h2", { class: "ct-edit-title" }, t(isNew ? (c.kind === "group" ? "contacts.newGroup" : "contacts.newContact") : c.kind === "group" ? "contacts.editGroup" : "contacts.editContact"));
  const save = h("button", { type: "submit", class: "btn btn-primary", "data-action": "save" }, t("contacts.save"));
  const cancel = h("button", { type: "button", class: "btn", "data-action": "cancel", onclick: () => hooks.cancel() }, t("contacts.cancel"));
  const bar = h("div", { class: "ct-toolbar" }, h("button", { type: "button", class: "btn btn-icon ct-back", "aria-label": t("contacts.back"), title: t("contacts.back"), onclick: () => hooks.cancel() }, icon("back")), title, h("span", { class: "ct-spacer" }), cancel, save);
  const form = h("form", { class: "ct-editor", novalidate: true, "aria-label": title.textContent ?? "" }, bar, err);

  if (c.kind === "group") {
    const name = textInput("fullName", c.fullName);
    const members = memberPicker(c.members, hooks);
    const notes = h("textarea", { name: "notes", class: "ct-input", rows: 3 }, c.notes) as HTMLTextAreaElement;
    form.append(h("div", { class: "ct-form" }, labelled(t("contacts.groupName"), name), members.el, labelled(t("contacts.notes"), notes)));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!name.value.trim()) return fail(t("contacts.needGroupName"));
      void submit({ ...c, fullName: name.value.trim(), members: members.read(), notes: notes.value });
    });
  } else {
    const f = {
      prefix: textInput("prefix", c.prefix),
      givenName: textInput("givenName", c.givenName),
      middleName: textInput("middleName", c.middleName),
      familyName: textInput("familyName", c.familyName),
      suffix: textInput("suffix", c.suffix),
      nickname: textInput("nickname", c.nickname),
      organization: textInput("organization", c.organization),
      department: textInput("department", c.department),
      jobTitle: textInput("jobTitle", c.jobTitle),
      birthday: dayInput("birthday", c.birthday),
      anniversary: dayInput("anniversary", c.anniversary),
    };
    const notes = h("textarea", { name: "notes", class: "ct-input", rows: 4 }, c.notes) as HTMLTextAreaElement;
    const emails = valueRows("email", EMAIL_TYPES, c.emails);
    const phones = valueRows("phone", PHONE_TYPES, c.phones);
    const urls = valueRows("url", URL_TYPES, c.urls);
    const addresses = addressRows(c.addresses);
    // Photo: pick a file (resized here), or remove the current one.
    const preview = h("span", { class: "ct-photo-preview" }, avatar(displayName(c), c.photo ?? null, "l"));
    const file = h("input", { type: "file", accept: "image/*", class: "ct-file", name: "photo", "aria-label": t("contacts.choosePhoto") }) as HTMLInputElement;
    const pick = h("button", { type: "button", class: "btn btn-small", "data-action": "photo", onclick: () => file.click() }, t("contacts.choosePhoto"));
    const drop = h("button", { type: "button", class: "btn btn-small", "data-action": "photo-remove", hidden: !c.photo }, t("contacts.removePhoto"));
    const showPhoto = (url: string | null) => {
      preview.replaceChildren(avatar(f.givenName.value || displayName(c), url, "l"));
      drop.hidden = !url;
    };
    file.addEventListener("change", () => {
      const picked = file.files?.[0];
      if (!picked) return;
      resizePhoto(picked)
        .then((url) => {
          photo = url;
          showPhoto(url);
        })
        .catch(() => fail(t("contacts.badPhoto")));
      file.value = "";
    });
    drop.addEventListener("click", () => {
      photo = null;
      showPhoto(null);
    });
    form.append(
      h(
        "div",
        { class: "ct-form" },
        h("div", { class: "ct-photo" }, preview, h("div", { class: "ct-photo-tools" }, pick, drop, file)),
        h("fieldset", { class: "ct-fieldset" }, h("legend", null, t("contacts.name")), h("div", { class: "ct-pair" }, labelled(t("contacts.givenName"), f.givenName), labelled(t("contacts.familyName"), f.familyName)), h("div", { class: "ct-pair" }, labelled(t("contacts.middleName"), f.middleName), labelled(t("contacts.nickname"), f.nickname)), h("div", { class: "ct-pair" }, labelled(t("contacts.prefix"), f.prefix), labelled(t("contacts.suffix"), f.suffix))),
        emails.el,
        phones.el,
        addresses.el,
        h("fieldset", { class: "ct-fieldset" }, h("legend", null, t("contacts.work")), h("div", { class: "ct-pair" }, labelled(t("contacts.organization"), f.organization), labelled(t("contacts.department"), f.department)), labelled(t("contacts.jobTitle"), f.jobTitle)),
        h("div", { class: "ct-pair" }, labelled(t("contacts.birthday"), f.birthday), labelled(t("contacts.anniversary"), f.anniversary)),
        urls.el,
        labelled(t("contacts.notes"), notes),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const next: ContactData = {
        ...c,
        prefix: f.prefix.value.trim(),
        givenName: f.givenName.value.trim(),
        middleName: f.middleName.value.trim(),
        familyName: f.familyName.value.trim(),
        suffix: f.suffix.value.trim(),
        nickname: f.nickname.value.trim(),
        organization: f.organization.value.trim(),
        department: f.department.value.trim(),
        jobTitle: f.jobTitle.value.trim(),
        birthday: f.birthday.value.trim(),
        anniversary: f.anniversary.value.trim(),
        notes: notes.value,
        emails: emails.read(),
        phones: phones.read(),
        addresses: addresses.read(),
        urls: urls.read(),
      };
      // FN follows the name parts unless the stored FN was something else (a company, a nickname...).
      const parts = [next.prefix, next.givenName, next.middleName, next.familyName, next.suffix].filter(Boolean).join(" ");
      const oldParts = [c.prefix, c.givenName, c.middleName, c.familyName, c.suffix].filter(Boolean).join(" ");
      if (!c.fullName || c.fullName === oldParts) next.fullName = parts || next.organization || next.emails[0]?.value || "";
      if (!next.fullName) return fail(t("contacts.needName"));
      if (photo !== undefined) next.photo = photo;
      else delete next.photo;
      void submit(next);
    });
  }

  function fail(msg: string): void {
    err.textContent = msg;
    err.hidden = false;
    err.scrollIntoView({ block: "nearest" });
  }
  async function submit(next: ContactData): Promise<void> {
    err.hidden = true;
    save.disabled = true;
    try {
      await hooks.save(next);
    } catch (e) {
      fail(e instanceof Error ? e.message : String(e));
    } finally {
      save.disabled = false;
    }
  }
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") {
      e.stopPropagation();
      hooks.cancel();
    }
  });
  return form;
}
