/**
 * Printing a message (issue 17 item 13): its header and body only.
 *
 * The reading pane shows an HTML body in a sandboxed frame; a frame prints
 * as one unbreakable box (only what fits its height, on one page), so the
 * pane cannot simply be printed. Instead a print view is built in the page
 * itself, hidden on screen and the only thing shown in print (`@media
 * print` in styles.css): the header as text, and the body from the same
 * sanitizer as the frame (sanitize.ts, remote pictures blocked) inside a
 * shadow root, so the mail's own styles stay inside it. Nothing of the mail
 * can run: the app's policy (APP_CSP) allows no inline script and no remote
 * load, and the sanitizer removed both already.
 *
 * `printMessage` is the Print action (toolbar, key p); the browser's own
 * Print command (Ctrl+P) gets the same view of the open message through
 * `beforeprint`.
 */
import { inlinePictures, type Message } from "./api.ts";
import { h } from "./dom.ts";
import { sanitizeMail } from "./sanitize.ts";
import { formatFullDate, formatSize, personText } from "./util.ts";
import { t } from "./i18n/index.ts";
import "./i18n/mail-extra.ts";

const BODY_CSS = "img{max-width:100%;height:auto}blockquote{margin:0 0 0 .5em;padding-left:.8em;border-left:3px solid #bbb}pre{white-space:pre-wrap}table{max-width:100%}:host{display:block;color:#000;background:#fff;font:12pt/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;overflow-wrap:anywhere}";

/** The print view of `msg` (replacing any earlier one); `cid` maps inline pictures to data: URLs. */
export function buildPrintView(msg: Message, cid: Map<string, string> = new Map()): HTMLElement {
  document.querySelector(".print-view")?.remove();
  const row = (label: string, value: string) => (value ? h("div", { class: "print-row" }, h("span", { class: "print-label" }, label), " ", value) : null);
  const people = (list: { name: string; address: string }[]) => list.map(personText).join(", ");
  const files = msg.attachments.filter((a) => !a.inline);
  const view = h(
    "div",
    { class: "print-view", "data-message-id": msg.id },
    h(
      "header",
      { class: "print-head" },
      h("h1", { class: "print-subject" }, msg.subject || t("mail13.notify.noSubject")),
      row(t("mail13.print.from"), people(msg.from)),
      row(t("mail13.print.to"), people(msg.to)),
      row(t("mail13.print.cc"), people(msg.cc)),
      row(t("mail13.print.date"), formatFullDate(msg.date ?? msg.internalDate)),
      files.length ? row(t("mail13.print.attachments"), files.map((a) => `${a.filename} (${formatSize(a.size)})`).join(", ")) : null,
    ),
  );
  const body = h("div", { class: "print-body" });
  if (msg.html !== null) {
    const root = body.attachShadow({ mode: "open" });
    const clean = sanitizeMail(msg.html, { allowRemote: false, cid });
    // Only sanitizer output goes in (the same as the reading frame gets), into a shadow root under the app's CSP.
    root.innerHTML = clean.html;
    root.prepend(h("style", null, BODY_CSS));
  } else {
    body.append(h("div", { class: "print-text" }, msg.text ?? ""));
  }
  view.append(body);
  document.body.append(view);
  document.body.classList.add("has-print-view");
  return view;
}

let savedTitle: string | null = null;

/** The Print action: builds the view (with inline pictures) and opens the browser's print dialog. */
export async function printMessage(msg: Message): Promise<void> {
  buildPrintView(msg, await inlinePictures(msg));
  // The page title is what the browser puts in the print header and a saved PDF's title.
  savedTitle ??= document.title;
  document.title = msg.subject || document.title;
  window.print();
}

/** Ctrl+P prints the open message too; after printing the view goes away and the title comes back. */
export function installPrintHook(current: () => Message | null): void {
  addEventListener("beforeprint", () => {
    const msg = current();
    const have = document.querySelector<HTMLElement>(".print-view");
    if (msg && have?.dataset.messageId !== String(msg.id)) buildPrintView(msg);
    if (!msg && have) removePrintView();
  });
  addEventListener("afterprint", () => removePrintView());
}

function removePrintView(): void {
  document.querySelector(".print-view")?.remove();
  document.body.classList.remove("has-print-view");
  if (savedTitle !== null) document.title = savedTitle;
  savedTitle = null;
}
