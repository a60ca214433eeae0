/**
 * The composer: new message, reply, reply-all, forward (inline or as an
 * attachment) and draft editing; rich text (contenteditable) or plain text;
 * attachments by picker or drag-and-drop with upload progress; address
 * autocomplete; drafts saved automatically.
 */
import { api, upload, fetchDataUrl, csrfToken, ApiError, type AttachmentRef, type ComposeTemplate, type Identity, type Session, type Settings } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { sanitizeForEditor } from "./sanitize.ts";
import { debounce, formatSize } from "./util.ts";
import { t as tr, locale, timeZone, formatDate } from "./i18n/index.ts";
import "./i18n/mail.ts";
import { encodedSize, largestFile, type PersonSuggestion } from "../../protocols/http/webmail/api-types.ts";
import "./i18n/contacts.ts";

export interface ComposeHost {
  session: Session;
  settings(): Settings | null;
  error(err: unknown): void;
  toast(text: string): void;
  /** `held`: the server holds the message for the send delay (Undo send, main.ts). */
  afterSend(res?: { held?: { id: number; sendAt: number } }): void;
  draftsChanged(): void;
}

/** What the composer was opened for: its title says so. */
export type ComposeMode = "new" | "reply" | "replyAll" | "forward" | "forwardAttachment" | "edit";

/** The composer title's key per mode (looked up when the composer opens, in the chosen language). */
const TITLES: Record<ComposeMode, string> = { new: "mail.newMessage", reply: "mail.action.reply", replyAll: "mail.action.replyAll", forward: "mail.action.forward", forwardAttachment: "mail.action.forward", edit: "mail.action.editDraft" };


interface Att {
  ref: AttachmentRef | null;
  name: string;
  size: number;
  type: string;
  progress: number;
  /** The server answered with the upload's id (or the attachment already exists): only then "Attached". */
  accepted: boolean;
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
  private mode: ComposeMode = "new";
  private title!: HTMLElement;
  private foot!: HTMLElement;
  private footObserver: ResizeObserver | null = null;
  /** The element focused before the composer opened (focus returns there on close). */
  private returnFocus: HTMLElement | null = null;

  constructor(private readonly host: ComposeHost) {
    this.el = h("div", { class: "composer-wrap", hidden: true });
    // Item 6: what was typed in the last 3 s (before the autosave) is saved when the page is hidden
    // or left (a reload, a closed tab), with a keepalive request that outlives the page.
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "hidden") this.flush();
    });
    window.addEventListener("pagehide", () => this.flush());
    window.addEventListener("beforeunload", (e) => {
      if (!this.hasUnsaved()) return;
      e.preventDefault();
      e.returnValue = ""; // Chromium shows its own "Leave site?" text
    });
  }

  /** True while typed text is not yet in a saved draft (or an upload is still running). */
  hasUnsaved(): boolean {
    return this.open_ && !this.sending && (this.dirty || this.savingNow || this.atts.some((a) => !a.accepted && !a.error));
  }

  private savingNow = false;
  /** Something was typed in the message text since the composer opened. */
  private bodyTyped = false;

  get isOpen(): boolean {
    return this.open_;
  }

  async openNew(prefill: Partial<ComposeTemplate> = {}): Promise<void> {
    this.mode = "new";
    const id = this.identity(prefill.identity ?? null);
    const sigHtml = id?.signature ? `<p><br></p>${signatureBlock(id.signature)}` : "";
    const sigText = id?.signature ? `\n\n-- \n${htmlToPlain(id.signature)}` : "";
    await this.show({
      draftId: null,
      to: "",
      cc: "",
      bcc: "",
      subject: "",
      html: `<p><br></p>${sigHtml}`,
      text: sigText,
      inReplyTo: null,
      references: [],
      attachments: [],
      source: null,
      ...prefill,
    });
  }

  async openFrom(messageId: number, mode: "reply" | "replyAll" | "forward" | "forwardAttachment" | "edit"): Promise<void> {
    // The quote line's date in the chosen language and the user's time zone (items 8 and 12).
    const t = await api<ComposeTemplate>("GET", `/api/messages/${messageId}/compose?mode=${mode}&lang=${encodeURIComponent(locale())}&tz=${encodeURIComponent(timeZone())}`);
    this.mode = mode;
    const id = this.identity(t.identity ?? null);
    const sig = mode !== "edit" && id?.signature ? id.signature : "";
    // The signature goes above the quote, and the caret above the signature (show() puts it there).
    if (sig && t.html !== null) t.html = `<p><br></p>${signatureBlock(sig)}` + t.html;
    if (sig) t.text = `\n\n-- \n${htmlToPlain(sig)}` + t.text;
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

  /** The identity to write as: the one asked for when it is the user's, else the default. */
  private identity(address: string | null): Identity | null {
    const s = this.host.settings();
    const list = s?.identities ?? [];
    const want = (address ?? s?.defaultIdentity ?? this.host.session.email).toLowerCase();
    return list.find((x) => x.address.toLowerCase() === want) ?? list.find((x) => x.address.toLowerCase() === this.host.session.email) ?? null;
  }

  private async show(t: ComposeTemplate, cid = new Map<string, string>()): Promise<void> {
    const mode = this.mode;
    const active = document.activeElement;
    if (this.open_) await this.close(true);
    else this.returnFocus = active instanceof HTMLElement && active !== document.body ? active : null;
    this.mode = mode;
    this.open_ = true;
    this.bodyTyped = false;
    this.draftId = t.draftId;
    this.source = t.source;
    this.inReplyTo = t.inReplyTo;
    this.references = t.references;
    this.atts = t.attachments.map((a) => ({ ref: a.ref, name: a.name, size: a.size, type: a.type, progress: 1, accepted: true, error: null }));
    this.dirty = false;
    this.rich = true;
    this.build();
    const from = this.identity(t.identity ?? null)?.address;
    if (from && Array.from(this.from.options).some((o) => o.value === from)) this.from.value = from;
    this.lastSignature = this.identity(this.from.value)?.signature ?? "";
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
    this.trackFoot();
    if (t.to) this.caretToStart();
    else this.to.focus();
  }

  /** Item 8: the caret starts in the first line, above the signature and the quote. */
  private caretToStart(): void {
    if (!this.rich) {
      this.plain.focus();
      this.plain.setSelectionRange(0, 0);
      this.plain.scrollTop = 0;
      return;
    }
    this.editor.focus();
    let first: Node = this.editor;
    while (first.firstChild && !(first instanceof HTMLElement && first.classList.contains("pb-signature"))) first = first.firstChild;
    const range = document.createRange();
    if (first instanceof HTMLElement && first.classList.contains("pb-signature")) {
      // No empty line above the signature (an edited draft): make one.
      const p = h("p", null, h("br"));
      first.before(p);
      range.setStart(p, 0);
    } else if (first.nodeType === Node.TEXT_NODE) range.setStart(first, 0);
    else range.setStart(first.parentNode ?? this.editor, 0);
    range.collapse(true);
    const sel = getSelection();
    sel?.removeAllRanges();
    sel?.addRange(range);
    this.editor.scrollTop = 0;
  }

  /** Toasts sit above the composer's button row, so they never cover Send (styles.css --composer-foot). */
  private trackFoot(): void {
    const set = () => document.body.style.setProperty("--composer-foot", `${Math.ceil(this.foot.getBoundingClientRect().height)}px`);
    set();
    this.footObserver?.disconnect();
    if (typeof ResizeObserver !== "undefined") {
      this.footObserver = new ResizeObserver(set);
      this.footObserver.observe(this.foot);
    }
  }

  /** The signature of the identity last inserted (to swap it when From changes). */
  private lastSignature = "";

  private switchIdentity(): void {
    const next = this.identity(this.from.value)?.signature ?? "";
    if (next === this.lastSignature) return;
    if (this.rich) {
      const block = this.editor.querySelector(".pb-signature");
      if (block && next) block.outerHTML = sanitizeForEditor(signatureBlock(next), new Map());
      else if (block) block.remove();
      else if (next) {
        const quote = this.editor.querySelector(".pb-quote-head, .pb-fwd-head, blockquote");
        const html = sanitizeForEditor(`<p><br></p>${signatureBlock(next)}`, new Map());
        if (quote) quote.insertAdjacentHTML("beforebegin", html);
        else this.editor.insertAdjacentHTML("beforeend", html);
      }
    } else {
      const old = this.lastSignature ? `-- \n${htmlToPlain(this.lastSignature)}` : "";
      const fresh = next ? `-- \n${htmlToPlain(next)}` : "";
      if (old && this.plain.value.includes(old)) this.plain.value = this.plain.value.replace(old, fresh);
      else if (fresh) this.plain.value += `\n\n${fresh}`;
    }
    this.lastSignature = next;
  }

  private build(): void {
    clear(this.el);
    const ids = this.host.settings()?.identities ?? [];
    const sendAs = ids.length ? ids.map((x) => x.address) : (this.host.settings()?.sendAs ?? [this.host.session.email]);
    const label = (a: string) => {
      const n = ids.find((x) => x.address === a)?.name;
      return n ? `${n} <${a}>` : a;
    };
    this.from = h("select", { class: "field-input", name: "from", "aria-label": tr("compose.from") }, sendAs.map((a) => h("option", { value: a }, label(a)))) as HTMLSelectElement;
    this.from.value = this.host.session.email;
    this.from.addEventListener("change", () => {
      this.switchIdentity();
      this.touch();
    });
    const addr = (label: string, name: string) => {
      const input = h("input", { class: "field-input", type: "text", name, "aria-label": label, autocomplete: "off", spellcheck: "false" }) as HTMLInputElement;
      this.autocomplete(input);
      input.addEventListener("input", () => this.touch());
      return input;
    };
    this.to = addr(tr("compose.to"), "to");
    this.cc = addr(tr("compose.cc"), "cc");
    this.bcc = addr(tr("compose.bcc"), "bcc");
    this.subject = h("input", { class: "field-input", type: "text", name: "subject", "aria-label": tr("compose.subject"), maxlength: 900 }) as HTMLInputElement;
    this.subject.addEventListener("input", () => this.touch());
    this.editor = h("div", { class: "editor", contenteditable: "true", role: "textbox", "aria-multiline": "true", "aria-label": tr("compose.text"), spellcheck: "true" }) as HTMLDivElement;
    this.editor.addEventListener("input", () => {
      this.bodyTyped = true;
      this.touch();
    });
    // A click in the empty space under the signature would put the caret below it: until something is
    // typed, such a click starts the text above the signature instead (item 8).
    this.editor.addEventListener("click", (e) => {
      if (!this.bodyTyped && e.target === this.editor && this.editor.querySelector(".pb-signature")) this.caretToStart();
    });
    this.editor.addEventListener("paste", (e) => this.onPaste(e));
    this.plain = h("textarea", { class: "editor-plain", "aria-label": tr("compose.text"), hidden: true, spellcheck: "true" }) as HTMLTextAreaElement;
    this.plain.addEventListener("input", () => this.touch());
    this.attList = h("ul", { class: "att-list", "aria-label": tr("compose.attachments") });
    this.status = h("span", { class: "compose-status", role: "status", "aria-live": "polite" });
    this.errorBox = h("div", { class: "compose-error", role: "alert", hidden: true });
    const fileInput = h("input", { type: "file", multiple: true, hidden: true, "aria-label": tr("compose.attachFiles") }) as HTMLInputElement;
    fileInput.addEventListener("change", () => {
      for (const f of Array.from(fileInput.files ?? [])) this.addFile(f);
      fileInput.value = "";
    });
    const tool = (cmd: string, label: string, text: string, arg?: () => string | null) => {
      // The glyph ("1.", "Tx") is a picture of the label, hidden from assistive technology: the name comes from the
      // title alone. An aria-label would have to contain the visible glyph (WCAG 2.2 §2.5.3 label in name).
      const b = h("button", { type: "button", class: "tool", title: label }, h("span", { "aria-hidden": "true" }, text));
      b.addEventListener("mousedown", (e) => e.preventDefault());
      b.addEventListener("click", () => {
        const v = arg ? arg() : undefined;
        if (arg && !v) return;
        document.execCommand(cmd, false, v ?? undefined);
        this.touch();
      });
      return b;
    };
    const modeBtn = h("button", { type: "button", class: "tool tool-mode", title: tr("compose.mode.title") }, tr("compose.mode.plain")) as HTMLButtonElement;
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
      modeBtn.textContent = this.rich ? tr("compose.mode.plain") : tr("compose.mode.rich");
      this.touch();
    });
    const toolbar = h(
      "div",
      { class: "toolbar", role: "toolbar", "aria-label": tr("compose.formatting") },
      tool("bold", tr("compose.bold"), tr("compose.bold.short")),
      tool("italic", tr("compose.italic"), tr("compose.italic.short")),
      tool("underline", tr("compose.underline"), tr("compose.underline.short")),
      tool("insertUnorderedList", tr("compose.bullets"), "•"),
      tool("insertOrderedList", tr("compose.numbers"), "1."),
      tool("createLink", tr("compose.link"), tr("compose.link"), () => {
        const u = prompt(tr("compose.linkPrompt"));
        return u && /^(https?:|mailto:)/i.test(u.trim()) ? u.trim() : null;
      }),
      tool("removeFormat", tr("compose.clearFormat"), "Tx"),
      modeBtn,
    );
    this.sendBtn = h("button", { type: "submit", class: "btn btn-primary", "data-action": "send" }, tr("compose.send")) as HTMLButtonElement;
    const ccToggle = h("button", { type: "button", class: "link-btn" }, tr("compose.ccBcc"));
    ccToggle.addEventListener("click", () => {
      this.el.querySelector(".cc-row")?.removeAttribute("hidden");
      this.el.querySelector(".bcc-row")?.removeAttribute("hidden");
      this.cc.focus();
    });
    this.title = h("h2", { id: "composer-title" }, tr(TITLES[this.mode]));
    const form = h(
      "form",
      { class: "composer", "aria-labelledby": "composer-title" },
      h(
        "div",
        { class: "composer-head" },
        this.title,
        h("button", { type: "button", class: "btn btn-icon", title: tr("compose.close.title"), "aria-label": tr("compose.close"), "data-action": "close" }, icon("close")),
      ),
      this.errorBox,
      sendAs.length > 1 ? h("label", { class: "field" }, h("span", { class: "field-label" }, tr("compose.from")), this.from) : null,
      h("label", { class: "field" }, h("span", { class: "field-label" }, tr("compose.to")), this.to, ccToggle),
      h("label", { class: "field cc-row", hidden: true }, h("span", { class: "field-label" }, tr("compose.cc")), this.cc),
      h("label", { class: "field bcc-row", hidden: true }, h("span", { class: "field-label" }, tr("compose.bcc")), this.bcc),
      h("label", { class: "field" }, h("span", { class: "field-label" }, tr("compose.subject")), this.subject),
      toolbar,
      h("div", { class: "editor-wrap" }, this.editor, this.plain, h("div", { class: "drop-hint" }, tr("compose.dropHint"))),
      this.attList,
      (this.foot = h(
        "div",
        { class: "composer-foot" },
        this.sendBtn,
        h("button", { type: "button", class: "btn", "data-action": "attach", onclick: () => fileInput.click() }, icon("clip"), " " + tr("compose.attach")),
        fileInput,
        this.status,
        h("button", { type: "button", class: "btn btn-danger", "data-action": "discard" }, tr("compose.discard")),
      )),
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
    // Item 8: checked when the file is added, against what the message will weigh. Attachments
    // travel base64-encoded (4 characters per 3 bytes, CRLF every 76): about 37% more than the file.
    const others = this.atts.filter((a) => !a.error).reduce((n, a) => n + encodedSize(a.size), 0);
    const text = this.rich ? this.editor.innerHTML.length * 2 : this.plain.value.length * 2; // text and HTML parts, roughly
    const att: Att = { ref: null, name: file.name, size: file.size, type: file.type, progress: 0, accepted: false, error: null, abort: new AbortController() };
    this.atts.push(att);
    const total = others + text + encodedSize(file.size);
    if (total > max) {
      att.error =
        others > 0
          ? tr("compose.tooLarge.total", { total: formatSize(total), max: formatSize(max) })
          : tr("compose.tooLarge.file", { size: formatSize(file.size), encoded: formatSize(encodedSize(file.size)), max: formatSize(max), fits: formatSize(largestFile(max)) });
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
        att.accepted = true;
        this.updateAtt(att);
        this.touch();
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.code === "aborted") return;
        att.error = err instanceof Error ? err.message : tr("compose.uploadFailed");
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
    const remove = h("button", { type: "button", class: "btn btn-icon btn-small", title: tr("compose.remove", { name: a.name }), "aria-label": tr("compose.remove", { name: a.name }) }, icon("close"));
    remove.addEventListener("click", () => {
      a.abort?.abort();
      this.atts = this.atts.filter((x) => x !== a);
      if (a.ref && "upload" in a.ref) void api("DELETE", `/api/uploads/${a.ref.upload}`).catch(() => {});
      this.renderAtts();
      this.touch();
    });
    const prog = h("progress", { max: 1, value: a.progress, class: "att-progress", "aria-label": tr("compose.uploading", { name: a.name }) });
    a.el.append(
      icon("clip"),
      h("span", { class: "att-name" }, a.name),
      h("span", { class: "att-size" }, formatSize(a.size)),
      a.error
        ? h("span", { class: "att-error", role: "alert" }, a.error)
        : a.accepted
          ? h("span", { class: "att-ok" }, tr("compose.attached"))
          : a.progress < 1
            ? prog
            : h("span", { class: "att-wait" }, tr("compose.checking")), // every byte sent, the server has not answered yet
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
      this.savingNow = true;
      this.status.textContent = tr("compose.saving");
      try {
        const res = await api<{ draftId: number }>("POST", "/api/drafts", this.body());
        this.saved(res.draftId);
      } catch (err) {
        this.dirty = true;
        this.status.textContent = tr("compose.notSaved");
        this.showError(err);
      } finally {
        this.savingNow = false;
      }
    });
    return this.saving;
  }

  /**
   * A save answered: the new draft replaces the old one. `sentWith` is the draft id a flush() sent
   * when a save was already running: that save made a draft the flush did not know to replace, so
   * it goes now (else two drafts would stay).
   */
  private saved(draftId: number, sentWith?: number | null): void {
    if (sentWith !== undefined && this.draftId !== null && this.draftId !== sentWith) void api("DELETE", `/api/drafts/${this.draftId}`).catch(() => {});
    this.draftId = draftId;
    this.status.textContent = tr("compose.savedAt", { time: formatDate(Date.now(), { hour: "2-digit", minute: "2-digit" }) });
    this.host.draftsChanged();
  }

  /**
   * Item 6: saves unsaved text at once when the page is hidden or left. fetch keepalive lets the
   * request finish after the page is gone (Fetch §4.5 keepalive: at most 64 KiB of body in flight,
   * so a larger draft goes as an ordinary request, which is sent before the page unloads);
   * sendBeacon cannot carry the CSRF header the API requires.
   */
  private flush(): void {
    if (!this.open_ || !this.dirty || this.sending) return;
    this.autosave.cancel();
    this.dirty = false;
    const sentWith = this.draftId;
    const body = JSON.stringify(this.body());
    const req = fetch("/api/drafts", {
      method: "POST",
      keepalive: body.length < 60_000,
      credentials: "same-origin",
      headers: { "content-type": "application/json", accept: "application/json", "x-csrf-token": csrfToken() },
      body,
    });
    // Page still alive (a hidden tab): take the new draft id before the next save runs.
    this.saving = this.saving.then(() =>
      req
        .then(async (res) => {
          if (!res.ok) throw new Error("draft not saved");
          const data = (await res.json()) as { draftId: number };
          this.saved(data.draftId, sentWith);
        })
        .catch(() => {
          this.dirty = true;
        }),
    );
  }

  async send(): Promise<void> {
    if (this.sending) return;
    if (this.atts.some((a) => !a.ref && !a.error)) {
      this.showError(new Error(tr("compose.waitUploads")));
      return;
    }
    if (!this.to.value.trim() && !this.cc.value.trim() && !this.bcc.value.trim()) {
      this.showError(new Error(tr("compose.noRecipient")));
      this.to.focus();
      return;
    }
    this.autosave.cancel();
    await this.saving;
    this.sending = true;
    this.sendBtn.disabled = true;
    this.status.textContent = tr("mail.toast.sending");
    try {
      const res = await api<{ held?: { id: number; sendAt: number } }>("POST", "/api/send", this.body());
      this.open_ = false;
      this.el.hidden = true;
      document.body.classList.remove("composing");
      this.footObserver?.disconnect();
      const back = this.returnFocus;
      this.returnFocus = null;
      if (back?.isConnected) back.focus();
      if (!res?.held) this.host.toast(tr("compose.sent"));
      this.host.afterSend(res ?? undefined);
    } catch (err) {
      this.status.textContent = tr("compose.notSent");
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
    this.footObserver?.disconnect();
    for (const a of this.atts) a.abort?.abort();
    // Focus goes back where it was when the composer opened (if that is still on the page).
    const back = this.returnFocus;
    this.returnFocus = null;
    if (back?.isConnected) back.focus();
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
    this.errorBox.textContent = err instanceof Error ? err.message : tr("mail.error.generic");
    this.errorBox.hidden = false;
    setTimeout(() => (this.errorBox.hidden = true), 10_000);
  }

  private autocomplete(input: HTMLInputElement): void {
    const box = h("ul", { class: "suggest", role: "listbox", hidden: true });
    let items: PersonSuggestion[] = [];
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
      const put = (people: { name: string; address: string }[]) => {
        input.value = `${head}${head ? " " : ""}${people.map((p) => (p.name ? `${p.name.replace(/[",<>]/g, "")} <${p.address}>` : p.address)).join(", ")}, `;
        this.touch();
      };
      box.hidden = true;
      // A contact group (source "group") is expanded into its members' addresses on pick.
      if (it.group) {
        const g = it.group;
        void api<{ members: { name: string; address: string }[] }>("GET", `/api/contacts/groups/${encodeURIComponent(g.book)}/${encodeURIComponent(g.id)}/expand`)
          .then((r) => put(r.members))
          .catch((e) => this.showError(e));
      } else put([it]);
    };
    const render = () => {
      clear(box);
      items.forEach((it, i) => {
        const li = h("li", { role: "option", class: i === active ? "active" : "", "aria-selected": i === active ? "true" : "false", "data-source": it.source }, it.name ? h("strong", null, it.name + " ") : null, it.group ? tr("contacts.groupSuggestion") : it.address);
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
        const res = await api<{ people: PersonSuggestion[] }>("GET", `/api/people?q=${encodeURIComponent(q)}`);
        if (token().q !== q) return;
        items = res.people;
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

/** The signature block of an identity (its HTML is sanitized with the rest of the editor's content). */
function signatureBlock(html: string): string {
  return `<div class="pb-signature">-- <br>${html}</div>`;
}

/** An HTML signature as plain text: one line per <br> or block, no markup. */
export function htmlToPlain(html: string): string {
  const doc = new DOMParser().parseFromString(`<body>${html}</body>`, "text/html");
  doc.querySelectorAll("br").forEach((b) => b.replaceWith("\n"));
  doc.querySelectorAll("p, div, li, tr, h1, h2, h3, h4").forEach((b) => b.append("\n"));
  return (doc.body.textContent ?? "").replace(/\n{3,}/g, "\n\n").trim();
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
