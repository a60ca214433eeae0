/**
 * The tasks app of the workspace (registered with the shell, apps.ts).
 * This first version only shows the app's title; the tasks helper of issue 17 builds the view.
 */
import { registerApp } from "../apps.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";

registerApp("tasks", () => {
  const el = h("section", { class: "app-view app-tasks", "aria-label": t("app.tasks") }, h("h1", null, t("app.tasks")));
  return { el, show() {}, hide() {}, changed() {} };
});
