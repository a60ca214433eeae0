/**
 * The contacts app of the workspace (registered with the shell, apps.ts).
 * This first version only shows the app's title; the contacts helper of issue 17 builds the view.
 */
import { registerApp } from "../apps.ts";
import { h } from "../dom.ts";
import { t } from "../i18n/index.ts";

registerApp("contacts", () => {
  const el = h("section", { class: "app-view app-contacts", "aria-label": t("app.contacts") }, h("h1", null, t("app.contacts")));
  return { el, show() {}, hide() {}, changed() {} };
});
