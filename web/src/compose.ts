/**
 * The composer: new message, reply, reply-all, forward (inline or as an
 * attachment) and draft editing; rich text (contenteditable) or plain text;
 * attachments by picker or drag-and-drop with upload progress; address
 * autocomplete; drafts saved automatically.
 */
import { api, upload, fetchDataUrl, ApiError, type AttachmentRef, type ComposeTemplate, type Session, type Settings } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { sanitizeForEditor } from "./sanitize.ts";
import { debounce, formatSize } from "./util.ts";

export interface ComposeHost {
  session: Session;
  settings(): Settings | null;
  error(err: unknown): void;
  toast(text: string): void;
  afterSend(): void;
  draftsChanged(): void;
}

interface Att {
  ref: AttachmentRef | null;
  name: string;
  size: number;
  type: string;
  progress: number;
  error: string | null;
  abort?: AbortController;
  el?: HTMLElement;
}

export class Composer {
  readonly el: HTMLElement;
  private open_ = false;
  private draftId: number | null = null;
  private source: ComposeTemplate["source"] = null;
  private inReplyTo: string | null = null;
  private references: string[] = [];
  private atts: Att[] = [];
  private rich = true;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();
  private sending = false;
  private from!: HTMLSelectElement;
  private to!: HTMLInputElement;
  private cc!: HTMLInputElement;
  private bcc!: HTMLInputElement;
  private subject!: HTMLInputElement;
  private editor!: HTMLDivElement;
  private plain!: HTMLTextAreaElement;
  private attList!: HTMLElement;
  private status!: HTMLElement;
  private sendBtn!: HTMLButtonElement;
  private errorBox!: HTMLElement;
  private autosave = debounce(() => void this.saveDraft(), 3000);

  constructor(private readonly host: ComposeHost) {
    this.el = h("div", { class: "composer-wrap", hidden: true });
  }

  get isOpen(): boolean {
    return this.open_;
  }

  async openNew(prefill: Partial<ComposeTemplate> = {}): Promise<void> {
    const sig = this.host.settings()?.signature ?? "";
    const sigHtml = sig ? `<p><br></p><div class="pb-signature">-- <br>${escapeHtml(sig).replace(/\n/g, "<br>")}</div>` : "";
    await this.show({
      draftId: null,
      to: "",
      cc: "",
      bcc: "",
      subject: "",
      html: `<p><br></p>${sigHtml}`,
      text: sig ? `\n\n-- \n${sig}` : "",
      inReplyTo: null,
      references: [],
      attachments: [],
      source: null,
      ...prefill,
    });
  }

  async openFrom(messageId: number, mode: "reply" | "replyAll" | "forward" | "forwardAttachment" | "edit"): Promise<void> {
    const t = await api<ComposeTemplate>("GET", `/api/messages/${messageId}/compose?mode=${mode}`);
    const sig = this.host.settings()?.signature ?? "";
    if (mode !== "edit" && sig && t.html !== null) t.html = `<p><br></p><div class="pb-signature">-- <br>${escapeHtml(sig).replace(/\n/g, "<br>")}</div>` + t.html;
    if (mode !== "edit" && sig) t.text = `\n\n-- \n${sig}` + t.text;
    // Inline images of the original (cid:) stay visible while editing.
    const cid = new Map<string, string>();
    for (const a of t.attachments) {
      if (a.inline && "message" in a.ref && a.type.startsWith("image/")) {
        const url = await fetchDataUrl(`/api/messages/${a.ref.message}/attachments/${a.ref.index}`);
        const msg = await api<{ attachments: { index: number; contentId: string | null }[] }>("GET", `/api/messages/${a.ref.message}`);
        const id = msg.attachments.find((x) => x.index === (a.ref as { index: number }).index)?.contentId;
        if (url && id) cid.set(id, url);
      }
    }
    await this.show(t, cid);
  }

  private async show(t: ComposeTemplate, cid = new Map<string, string>()): Promise<void> {
    if (this.open_) await this.close(true);
    this.open_ = true;
    this.draftId = t.draftId;
    this.source = t.source;
    this.inReplyTo = t.inReplyTo;
    this.references = t.references;
    this.atts = t.attachments.map((a) => ({ ref: a.ref, name: a.name, size: a.size, type: a.type, progress: 1, error: null }));
    this.dirty = false;
    this.rich = true;
    this.build();
    this.to.value = t.to ? t.to + ", " : "";
    this.cc.value = t.cc;
    this.bcc.value = t.bcc;
    if (t.cc || t.bcc) this.el.querySelector(".cc-row")?.removeAttribute("hidden");
    if (t.bcc) this.el.querySelector(".bcc-row")?.removeAttribute("hidden");
    this.subject.value = t.subject;
    this.editor.innerHTML = sanitizeForEditor(t.html ?? textToHtml(t.text), cid);
    this.plain.value = t.text;
    this.renderAtts();
    this.el.hidden = false;
    document.body.classList.add("composing");
    (t.to ? this.editor : this.to).focus();
  }

  private build(): void {
    clear(this.el);
    const sendAs = this.host.settings()?.sendAs ?? [this.host.session.email];
    this.from = h("select", { class: "field-input", "aria-label": "From" }, sendAs.map((a) => h("option", { value: a }, a))) as HTMLSelectElement;
    this.from.value = this.host.session.email;
    const addr = (label: string, name: string) => {
      const input = h("input", { class: "field-input", type: "text", name, "aria-label": label, autocomplete: "off", spellcheck: "false" }) as HTMLInputElement;
      this.autocomplete(input);
      input.addEventListener("input", () => this.touch());
      return input;
    };
    this.to = addr("To", "to");
    this.cc = addr("Cc", "cc");
    this.bcc = addr("Bcc", "bcc");
    this.subject = h("input", { class: "field-input", type: "text", name: "subject", "aria-label": "Subject", maxlength: 900 }) as HTMLInputElement;
    this.subject.addEventListener("input", () => this.touch());
    this.editor = h("div", { class: "editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": "Message text", spellcheck: "true" }) as HTMLDivElement;
    this.editor.addEventListener("input", () => this.touch());
    this.editor.addEventListener("paste", (e) => this.onPaste(e));
    this.plain = h("textarea", { class: "editor-plain", "aria-label": "Message text", hidden: true, spellcheck: "true" }) as HTMLTextAreaElement;
    this.plain.addEventListener("input", () => this.touch());
    this.attList = h("ul", { class: "att-list", "aria-label": "Attachments" });
    this.status = h("span", { class: "compose-status", role: "status", "aria-live": "polite" });
    this.errorBox = h("div", { class: "compose-error", role: "alert", hidden: true });
    const fileInput = h("input", { type: "file", multiple: true, hidden: true, "aria-label": "Attach files" }) as HTMLInputElement;
    fileInput.addEventListener("change", () => {
      for (const f of Array.from(fileInput.files ?? [])) this.addFile(f);
      fileInput.value = "";
    });
    const tool = (cmd: string, label: string, text: string, arg?: () => string | null) => {
      const b = h("button", { type: "button", class: "tool", title: label, "aria-label": label }, text);
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => {
        const v = arg ? arg() : undefined;
        if (arg && !v) return;
        document.execCommand(cmd, false, v ?? undefined);
        this.touch();
      });
      return b;
    };
    const modeBtn = h("button", { type: "button", class: "tool tool-mode", title: "Switch between formatted and plain text" }, "Plain text") as HTMLButtonElement;
    modeBtn.addEventListener("click", () => {
      this.rich = !this.rich;
      if (this.rich) {
        this.editor.innerHTML = sanitizeForEditor(textToHtml(this.plain.value), new Map());
      } else {
        this.plain.value = this.editor.innerText;
      }
      this.editor.hidden = !this.rich;
      this.plain.hidden = this.rich;
      toolbar.classList.toggle("plain", !this.rich);
      modeBtn.textContent = this.rich ? "Plain text" : "Formatted text";
      this.touch();
    });
    const toolbar = h(
      "div",
      { class: "toolbar", role: "toolbar", "aria-label": "Formatting" },
      tool("bold", "Bold", "B"),
      tool("italic", "Italic", "I"),
      tool("underline", "Underline", "U"),
      tool("insertUnorderedList", "Bulleted list", "•"),
      tool("insertOrderedList", "Numbered list", "1."),
      tool("createLink", "Link", "Link", () => {
        const u = prompt("Link address (https://…)");
        return u && /^(https?:|mailto:)/i.test(u.trim()) ? u.trim() : null;
      }),
      tool("removeFormat", "Clear formatting", "Tx"),
      modeBtn,
    );
    this.sendBtn = h("button", { type: "submit", class: "btn btn-primary", "data-action": "send" }, "Send") as HTMLButtonElement;
    const ccToggle = h("button", { type: "button", class: "link-btn" }, "Cc/Bcc");
    ccToggle.addEventListener("click", () => {
      this.el.querySelector(".cc-row")?.removeAttribute("hidden");
      this.el.querySelector(".bcc-row")?.removeAttribute("hidden");
      this.cc.focus();
    });
    const form = h(
      "form",
      { class: "composer", "aria-label": "New message" },
      h(
        "div",
        { class: "composer-head" },
        h("h2", null, "New message"),
        h("button", { type: "button", class: "btn btn-icon", title: "Close (the draft is kept)", "aria-label": "Close", "data-action": "close" }, icon("close")),
      ),
      this.errorBox,
      sendAs.length > 1 ? h("label", { class: "field" }, h("span", { class: "field-label" }, "From"), this.from) : null,
      h("label", { class: "field" }, h("span", { class: "field-label" }, "To"), this.to, ccToggle),
      h("label", { class: "field cc-row", hidden: true }, h("span", { class: "field-label" }, "Cc"), this.cc),
      h("label", { class: "field bcc-row", hidden: true }, h("span", { class: "field-label" }, "Bcc"), this.bcc),
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Subject"), this.subject),
      toolbar,
      h("div", { class: "editor-wrap" }, this.editor, this.plain, h("div", { class: "drop-hint" }, "Drop files to attach them")),
      this.attList,
      h(
        "div",
        { class: "composer-foot" },
        this.sendBtn,
        h("button", { type: "button", class: "btn", "data-action": "attach", onclick: () => fileInput.click() }, icon("clip"), " Attach"),
        fileInput,
        this.status,
        h("button", { type: "button", class: "btn btn-danger", "data-action": "discard" }, "Discard"),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.send();
    });
    form.querySelector('[data-action="close"]')!.addEventListener("click", () => void this.close(true));
    form.querySelector('[data-action="discard"]')!.addEventListener("click", () => void this.discard());
    form.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
        e.preventDefault();
        void this.send();
      } else if (e.key === "Escape") {
        e.preventDefault();
        void this.close(true);
      }
    });
    // Drag and drop of files anywhere on the composer.
    let depth = 0;
    form.addEventListener("dragenter", (e) => {
      if (!e.dataTransfer?.types.includes("Files")) return;
      depth++;
      form.classList.add("dragging");
    });
    form.addEventListener("dragleave", () => {
      depth = Math.max(0, depth - 1);
      if (!depth) form.classList.remove("dragging");
    });
    form.addEventListener("dragover", (e) => {
      if (e.dataTransfer?.types.includes("Files")) e.preventDefault();
    });
    form.addEventListener("drop", (e) => {
      if (!e.dataTransfer?.files.length) return;
      e.preventDefault();
      depth = 0;
      form.classList.remove("dragging");
      for (const f of Array.from(e.dataTransfer.files)) this.addFile(f);
    });
    this.el.append(form);
  }

  private touch(): void {
    this.dirty = true;
    this.status.textContent = "";
    this.autosave();
  }

  private onPaste(e: ClipboardEvent): void {
    // Pasted HTML goes through the sanitizer too; files pasted become attachments.
    const files = Array.from(e.clipboardData?.files ?? []);
    if (files.length) {
      e.preventDefault();
      for (const f of files) this.addFile(f);
      return;
    }
    const html = e.clipboardData?.getData("text/html");
    if (html) {
      e.preventDefault();
      document.execCommand("insertHTML", false, sanitizeForEditor(html, new Map()));
    }
  }

  addFile(file: File): void {
    const max = this.host.session.maxMessageSize;
    const att: Att = { ref: null, name: file.name, size: file.size, type: file.type, progress: 0, error: null, abort: new AbortController() };
    this.atts.push(att);
    if (file.size > max) {
      att.error = `Too large (the limit is ${formatSize(max)})`;
      this.renderAtts();
      return;
    }
    this.renderAtts();
    upload(
      file,
      (p) => {
        att.progress = p;
        this.updateAtt(att);
      },
      att.abort!.signal,
    ).then(
      (res) => {
        att.ref = { upload: res.id };
        att.progress = 1;
        this.updateAtt(att);
        this.touch();
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.code === "aborted") return;
        att.error = err instanceof Error ? err.message : "Upload failed";
        this.updateAtt(att);
      },
    );
  }

  private renderAtts(): void {
    clear(this.attList);
    for (const a of this.atts) {
      a.el = h("li", { class: "att" });
      this.attList.append(a.el);
      this.updateAtt(a);
    }
  }

  private updateAtt(a: Att): void {
    if (!a.el) return;
    clear(a.el);
    const remove = h("button", { type: "button", class: "btn btn-icon btn-small", title: `Remove ${a.name}`, "aria-label": `Remove ${a.name}` }, icon("close"));
    remove.addEventListener("click", () => {
      a.abort?.abort();
      this.atts = this.atts.filter((x) => x !== a);
      if (a.ref && "upload" in a.ref) void api("DELETE", `/api/uploads/${a.ref.upload}`).catch(() => {});
      this.renderAtts();
      this.touch();
    });
    const prog = h("progress", { max: 1, value: a.progress, class: "att-progress", "aria-label": `Uploading ${a.name}` });
    a.el.append(
      icon("clip"),
      h("span", { class: "att-name" }, a.name),
      h("span", { class: "att-size" }, formatSize(a.size)),
      a.error ? h("span", { class: "att-error" }, a.error) : a.progress < 1 ? prog : h("span", { class: "att-ok" }, "Attached"),
      remove,
    );
  }

  private body(): { from: string; to: string; cc: string; bcc: string; subject: string; html: string | null; text: string; attachments: AttachmentRef[]; inReplyTo: string | null; references: string[]; draftId: number | null; source: ComposeTemplate["source"] } {
    let html: string | null = null;
    let text: string;
    if (this.rich) {
      const clone = this.editor.cloneNode(true) as HTMLElement;
      clone.querySelectorAll("img[data-pb-src]").forEach((img) => {
        img.setAttribute("src", img.getAttribute("data-pb-src") ?? "");
        img.removeAttribute("data-pb-src");
        img.removeAttribute("data-pb-blocked");
      });
      clone.querySelectorAll("img[data-pb-cid]").forEach((img) => {
        img.setAttribute("src", "cid:" + img.getAttribute("data-pb-cid"));
        img.removeAttribute("data-pb-cid");
      });
      html = `<div>${clone.innerHTML}</div>`;
      text = this.editor.innerText;
    } else text = this.plain.value;
    return {
      from: this.from.value,
      to: this.to.value,
      cc: this.cc.value,
      bcc: this.bcc.value,
      subject: this.subject.value,
      html,
      text,
      attachments: this.atts.filter((a) => a.ref && !a.error).map((a) => a.ref!),
      inReplyTo: this.inReplyTo,
      references: this.references,
      draftId: this.draftId,
      source: this.source,
    };
  }

  /** Saves the draft (serialized: one save at a time, the newest content wins). */
  saveDraft(): Promise<void> {
    this.saving = this.saving.then(async () => {
      if (!this.open_ || !this.dirty || this.sending) return;
      this.dirty = false;
      this.status.textContent = "Saving draft…";
      try {
        const res = await api<{ draftId: number }>("POST", "/api/drafts", this.body());
        this.draftId = res.draftId;
        this.status.textContent = `Draft saved at ${new Date().toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" })}`;
        this.host.draftsChanged();
      } catch (err) {
        this.dirty = true;
        this.status.textContent = "Draft not saved";
        this.showError(err);
      }
    });
    return this.saving;
  }

  async send(): Promise<void> {
    if (this.sending) return;
    if (this.atts.some((a) => !a.ref && !a.error)) {
      this.showError(new Error("Wait for the attachments to finish uploading, then send."));
      return;
    }
    if (!this.to.value.trim() && !this.cc.value.trim() && !this.bcc.value.trim()) {
      this.showError(new Error("Add at least one recipient."));
      this.to.focus();
      return;
    }
    this.autosave.cancel();
    await this.saving;
    this.sending = true;
    this.sendBtn.disabled = true;
    this.status.textContent = "Sending…";
    try {
      await api("POST", "/api/send", this.body());
      this.open_ = false;
      this.el.hidden = true;
      document.body.classList.remove("composing");
      this.host.toast("Message sent.");
      this.host.afterSend();
    } catch (err) {
      this.status.textContent = "Not sent";
      this.showError(err);
    } finally {
      this.sending = false;
      this.sendBtn.disabled = false;
    }
  }

  async close(save: boolean): Promise<void> {
    if (!this.open_) return;
    if (save && this.dirty) {
      this.autosave.cancel();
      await this.saveDraft();
    }
    this.open_ = false;
    this.el.hidden = true;
    document.body.classList.remove("composing");
    for (const a of this.atts) a.abort?.abort();
  }

  private async discard(): Promise<void> {
    this.autosave.cancel();
    await this.saving;
    if (this.draftId) await api("DELETE", `/api/drafts/${this.draftId}`).catch((e) => this.host.error(e));
    for (const a of this.atts) if (a.ref && "upload" in a.ref) void api("DELETE", `/api/uploads/${a.ref.upload}`).catch(() => {});
    this.dirty = false;
    await this.close(false);
    this.host.draftsChanged();
  }

  private showError(err: unknown): void {
    this.errorBox.textContent = err instanceof Error ? err.message : "Something went wrong.";
    this.errorBox.hidden = false;
    setTimeout(() => (this.errorBox.hidden = true), 10_000);
  }

  private autocomplete(input: HTMLInputElement): void {
    const box = h("ul", { class: "suggest", role: "listbox", hidden: true });
    let items: { name: string; address: string }[] = [];
    let active = -1;
    const token = () => {
      const v = input.value;
      const i = Math.max(v.lastIndexOf(","), v.lastIndexOf(";"));
      return { head: v.slice(0, i + 1), q: v.slice(i + 1).trim() };
    };
    const pick = (i: number) => {
      const it = items[i];
      if (!it) return;
      const { head } = token();
      input.value = `${head}${head ? " " : ""}${it.name ? `${it.name.replace(/[",<>]/g, "")} <${it.address}>` : it.address}, `;
      box.hidden = true;
      this.touch();
    };
    const render = () => {
      clear(box);
      items.forEach((it, i) => {
        const li = h("li", { role: "option", class: i === active ? "active" : "", "aria-selected": i === active ? "true" : "false" }, it.name ? h("strong", null, it.name + " ") : null, it.address);
        li.addEventListener("mousedown", (e) => {
          e.preventDefault();
          pick(i);
        });
        box.append(li);
      });
      box.hidden = items.length === 0;
    };
    const lookup = debounce(async () => {
      const { q } = token();
      if (!q) {
        items = [];
        render();
        return;
      }
      try {
        const res = await api<{ items: { name: string; address: string }[] }>("GET", `/api/contacts?q=${encodeURIComponent(q)}`);
        if (token().q !== q) return;
        items = res.items;
        active = items.length ? 0 : -1;
        render();
      } catch {
        items = [];
        render();
      }
    }, 150);
    input.addEventListener("input", () => lookup());
    input.addEventListener("keydown", (e) => {
      if (box.hidden) return;
      if (e.key === "ArrowDown") {
        active = Math.min(items.length - 1, active + 1);
        render();
        e.preventDefault();
      } else if (e.key === "ArrowUp") {
        active = Math.max(0, active - 1);
        render();
        e.preventDefault();
      } else if (e.key === "Enter" || e.key === "Tab") {
        if (active >= 0) {
          e.preventDefault();
          pick(active);
        }
      } else if (e.key === "Escape") {
        box.hidden = true;
        e.stopPropagation();
      }
    });
    input.addEventListener("blur", () => setTimeout(() => (box.hidden = true), 150));
    queueMicrotask(() => input.after(box));
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function textToHtml(t: string): string {
  return t
    .split("\n")
    .map((l) => `<div>${l ? escapeHtml(l) : "<br>"}</div>`)
    .join("");
}
