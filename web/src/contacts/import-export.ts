/**
 * Import of a .vcf file into the shown address book: a file picker, the
 * file's text POSTed to /api/contacts/import/:book, and the answer shown
 * under the list's tools (imported / updated counts, one line per card the
 * server could not read). Export is a plain download link (index.ts,
 * detail.ts) of /api/contacts/export/:book.
 */
import { h, icon, clear } from "../dom.ts";
import { t, tn } from "../i18n/index.ts";
import { importVcf } from "./data.ts";

/** Larger files are refused before reading them (the server has its own limit too). */
const MAX_IMPORT = 20 * 1024 * 1024;
/** At most this many error lines are listed (the count says how many there were). */
const MAX_ERRORS = 20;

export class ImportBox {
  readonly el: HTMLElement;
  private input: HTMLInputElement;

  constructor(
    private book: () => string,
    private done: () => void,
    private error: (e: unknown) => void,
  ) {
    this.el = h("div", { class: "ct-import-result", role: "status", hidden: true });
    this.input = h("input", { type: "file", accept: ".vcf,.vcard,text/vcard,text/x-vcard", class: "ct-file", name: "vcf", "aria-label": t("contacts.import") }) as HTMLInputElement;
    this.input.addEventListener("change", () => {
      const file = this.input.files?.[0];
      this.input.value = "";
      if (file) void this.run(file);
    });
  }

  button(): HTMLElement {
    const b = h("button", { type: "button", class: "btn btn-small", "data-action": "import", onclick: () => this.input.click() }, icon("plus"), t("contacts.import"));
    return h("span", { class: "ct-import" }, b, this.input);
  }

  clear(): void {
    clear(this.el);
    this.el.hidden = true;
  }

  private async run(file: File): Promise<void> {
    if (file.size > MAX_IMPORT) {
      this.error(new Error(t("contacts.importTooLarge")));
      return;
    }
    this.clear();
    this.el.hidden = false;
    this.el.append(h("p", null, t("contacts.importing", { name: file.name })));
    try {
      const r = await importVcf(this.book(), await file.text());
      clear(this.el);
      const close = h("button", { type: "button", class: "btn btn-icon btn-tiny", "aria-label": t("contacts.close"), title: t("contacts.close"), onclick: () => this.clear() }, icon("close"));
      this.el.append(
        h("p", { class: "ct-import-summary" }, tn("contacts.imported", r.imported), " · ", tn("contacts.updated", r.updated), r.errors.length ? ` · ${tn("contacts.importErrors", r.errors.length)}` : "", close),
      );
      if (r.errors.length) this.el.append(h("ul", { class: "ct-import-errors" }, r.errors.slice(0, MAX_ERRORS).map((e) => h("li", null, e))));
      this.done();
    } catch (e) {
      this.clear();
      this.error(e);
    }
  }
}
