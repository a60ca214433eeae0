/**
 * The calendar app of the workspace (registered with the shell, apps.ts).
 * This first version only shows the app's title; the calendar helper of issue 17 builds the view.
 */
import { registerApp } from "../apps.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";

registerApp("calendar", () => {
  const el = h("section", { class: "app-view app-calendar", "aria-label": t("app.calendar") }, h("h1", null, t("app.calendar")));
  return { el, show() {}, hide() {}, changed() {} };
});
