/**
 * The calendar's side list: each calendar with its colour and a show/hide
 * box (remembered by the model in localStorage), and create / rename /
 * recolour / delete through /api/groupware/collections, export and import of
 * .ics files; the "Desktop reminders" switch lives here too.
 */
import type { CollectionInfo, ImportResult } from "../../../protocols/http/webmail/api-types.ts";
import { api, csrfToken } from "../api.ts";
import { h, icon } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { confirmModal, openModal } from "./dialog.ts";
import { PALETTE, type CalendarModel } from "./model.ts";
import { desktopToggle } from "./reminders.ts";

export interface SidebarEnv {
  model: CalendarModel;
  /** Visibility or the calendars changed: redraw (reload = the list itself changed). */
  changed(reload: boolean): void;
  error(e: unknown): void;
  toast(text: string): void;
}

export function renderCalendarList(list: HTMLElement, env: SidebarEnv): void {
  const { model } = env;
  list.replaceChildren(
    ...model.calendars.map((c) => {
      const box = h("input", { type: "checkbox", checked: model.isVisible(c.name), "data-cal": c.name }) as HTMLInputElement;
      box.addEventListener("change", () => {
        model.setVisible(c.name, box.checked);
        env.changed(false);
      });
      const swatch = h("span", { class: "cal-swatch", "aria-hidden": "true" });
      swatch.style.background = model.colorOf(c.name);
      return h(
        "li",
        { class: "cal-cal", "data-cal": c.name },
        h("label", { class: "cal-cal-label" }, box, swatch, h("span", { class: "cal-cal-name" }, c.displayName || c.name)),
        c.readOnly ? null : h("button", { type: "button", class: "btn btn-icon btn-small", "aria-label": t("cal.cal.edit", { name: c.displayName || c.name }), title: t("cal.cal.editShort"), "data-action": "edit-calendar", onclick: () => calendarDialog(env, c) }, icon("settings")),
      );
    }),
  );
}

/** Create (no calendar given) or edit a calendar: name and colour; delete for one that is not the default. */
export function calendarDialog(env: SidebarEnv, cal: CollectionInfo | null): void {
  const m = openModal(cal ? t("cal.cal.editTitle") : t("cal.cal.new"), { cls: "cal-caldlg" });
  const name = h("input", { type: "text", name: "displayName", required: true, maxlength: "200", value: cal ? cal.displayName || cal.name : "" }) as HTMLInputElement;
  const color = h("input", { type: "color", name: "color", value: cal ? env.model.colorOf(cal.name) : PALETTE[env.model.calendars.length % PALETTE.length]! }) as HTMLInputElement;
  const err = h("p", { class: "cal-error", role: "alert", hidden: true });
  const form = h(
    "form",
    { class: "cal-form" },
    h("label", { class: "cal-field is-wide" }, h("span", { class: "cal-field-label" }, t("cal.cal.name")), name),
    h("label", { class: "cal-field" }, h("span", { class: "cal-field-label" }, t("cal.cal.color")), color),
    err,
  );
  const save = async (): Promise<void> => {
    const displayName = name.value.trim();
    if (!displayName) {
      err.textContent = t("cal.cal.nameNeeded");
      err.hidden = false;
      return;
    }
    try {
      if (cal) await api<CollectionInfo>("PATCH", `/api/groupware/collections/${encodeURIComponent(cal.name)}`, { displayName, color: color.value });
      else await api<CollectionInfo>("POST", "/api/groupware/collections", { kind: "calendar", displayName, color: color.value });
      m.close();
      env.changed(true);
    } catch (e) {
      err.textContent = e instanceof Error ? e.message : String(e);
      err.hidden = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void save();
  });
  m.body.append(form);
  if (cal) m.body.append(transferBox(env, cal, () => m.close()));
  if (cal && !cal.isDefault) {
    m.foot.append(
      h(
        "button",
        {
          type: "button",
          class: "btn btn-danger",
          "data-action": "delete-calendar",
          onclick: async () => {
            if (!(await confirmModal(t("cal.cal.deleteTitle"), t("cal.cal.deleteText", { name: cal.displayName || cal.name, n: cal.count }), t("cal.delete")))) return;
            try {
              await api("DELETE", `/api/groupware/collections/${encodeURIComponent(cal.name)}`);
              m.close();
              env.toast(t("cal.cal.deleted"));
              env.changed(true);
            } catch (e) {
              env.error(e);
            }
          },
        },
        t("cal.delete"),
      ),
    );
  }
  m.foot.append(h("button", { type: "button", class: "btn", onclick: () => m.close() }, t("cal.cancel")), h("button", { type: "button", class: "btn btn-primary", "data-action": "save", onclick: () => void save() }, t("cal.save")));
  name.focus();
}

/** Export the calendar as one .ics file; import an .ics file into it (same UID replaces). */
function transferBox(env: SidebarEnv, cal: CollectionInfo, done: () => void): HTMLElement {
  const file = h("input", { type: "file", name: "importFile", accept: ".ics,text/calendar", class: "cal-import-file" }) as HTMLInputElement;
  const note = h("p", { class: "cal-note", role: "status" });
  file.addEventListener("change", async () => {
    const f = file.files?.[0];
    if (!f) return;
    if (f.size > 10 * 1024 * 1024) {
      note.textContent = t("cal.cal.importTooBig");
      return;
    }
    note.textContent = t("cal.cal.importing");
    try {
      const res = await fetch(`/api/calendar/import/${encodeURIComponent(cal.name)}`, { method: "POST", credentials: "same-origin", headers: { "content-type": "text/calendar", "x-csrf-token": csrfToken() }, body: await f.text() });
      const data = (await res.json().catch(() => null)) as (ImportResult & { message?: string }) | null;
      if (!res.ok || !data) throw new Error(data?.message ?? t("cal.cal.importFailed"));
      const summary = t("cal.cal.imported", { n: data.imported, updated: data.updated });
      env.toast(data.errors.length ? `${summary} ${t("cal.cal.importErrors", { n: data.errors.length })}` : summary);
      done();
      env.changed(true);
    } catch (e) {
      note.textContent = e instanceof Error ? e.message : String(e);
    }
  });
  return h(
    "div",
    { class: "cal-transfer" },
    h("a", { class: "btn btn-small", href: `/api/calendar/export/${encodeURIComponent(cal.name)}`, download: `${cal.name}.ics`, "data-action": "export-calendar" }, t("cal.cal.export")),
    h("label", { class: "btn btn-small cal-import" }, t("cal.cal.import"), file),
    note,
  );
}

export function sidebarExtras(): HTMLElement {
  return desktopToggle();
}
