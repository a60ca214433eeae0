/**
 * The calendar's side list: each calendar with its colour and a show/hide
 * box (remembered by the model in localStorage), and create / rename /
 * recolour / delete through /api/groupware/collections; the date picker and
 * the "Desktop reminders" switch live here too.
 */
import type { CollectionInfo } from "../../../protocols/http/webmail/api-types.ts";
import { api } from "../api.ts";
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

export function sidebarExtras(): HTMLElement {
  return desktopToggle();
}
