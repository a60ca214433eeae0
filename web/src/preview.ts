/**
 * Attachment previews and thumbnails in the reading pane (issue 17 item 13).
 *
 * Pictures and PDFs open in an overlay over the page: a picture as an
 * <img>, a PDF in a frame the browser's PDF viewer fills. Both come from
 * the preview route (protocols/http/webmail/preview-api.ts), which serves
 * only bytes that really are a picture or a PDF (by signature), never
 * HTML, with a CSP `sandbox` of its own for any document a browser makes
 * of them. The PDF frame has no `sandbox` attribute: Chromium shows no PDF
 * at all in a frame that has one, whatever its flags (tried with 156).
 * What keeps a hostile PDF away from the app instead: the frame only ever
 * gets a real PDF (a disguised HTML file is refused, and checked with a
 * HEAD before the frame is made), and Chromium replaces the document with
 * its own empty wrapper page and renders the PDF in its viewer's extension
 * origin, where PDF script has no DOM of ours. (Chromium gives that wrapper
 * our origin despite the response's CSP sandbox; browsers that honour it
 * for PDF get an opaque origin as well.) SVG is previewed only as an
 * <img>, where it cannot run script (SVG in <img> is in secure animated
 * mode); opened on its own it is a sandboxed document without script.
 *
 * Thumbnails are the picture itself in an <img loading=lazy>, scaled by the
 * browser, for pictures up to MAX_PREVIEW_IMAGE; larger ones keep the icon.
 */
import { MAX_PREVIEW_IMAGE } from "../../protocols/http/webmail/api-types.ts";
import type { AttachmentInfo, Message } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { t } from "./i18n/index.ts";
import { formatSize } from "./util.ts";
import { trapFocus, type FocusTrap } from "./focus-trap.ts";
import "./i18n/mail-extra.ts";

export type PreviewType = "image" | "pdf";

const IMAGE_TYPES = /^image\/(png|jpeg|pjpeg|gif|webp|bmp|avif|svg\+xml)$/i;
const IMAGE_NAMES = /\.(png|jpe?g|gif|webp|bmp|avif|svg)$/i;

/** How an attachment can be previewed, from what the sender declared (the server checks the bytes). */
export function previewType(a: AttachmentInfo): PreviewType | null {
  const type = a.type.toLowerCase();
  if (type === "application/pdf" || (type === "application/octet-stream" && /\.pdf$/i.test(a.filename))) return "pdf";
  if (IMAGE_TYPES.test(type) || ((type === "application/octet-stream" || type === "") && IMAGE_NAMES.test(a.filename))) {
    return a.size <= MAX_PREVIEW_IMAGE ? "image" : null;
  }
  return null;
}

export function previewUrl(msgId: number, index: number): string {
  return `/api/messages/${msgId}/attachments/${index}/preview`;
}

function downloadUrl(msgId: number, index: number): string {
  return `/api/messages/${msgId}/attachments/${index}`;
}

/**
 * Adds thumbnails and previews to the attachment links of a message already built by the reader
 * (each link is an `a.attachment` whose href ends with the attachment's index). A click opens the
 * preview; a click with a modifier key, or on something that has no preview, still downloads.
 */
export function enhanceAttachments(root: HTMLElement, msg: Message, files: AttachmentInfo[]): void {
  const items = files.filter((a) => previewType(a));
  for (const a of files) {
    const link = root.querySelector<HTMLAnchorElement>(`a.attachment[href$="/attachments/${a.index}"]`);
    const kind = previewType(a);
    if (!link || !kind) continue;
    link.dataset.preview = kind;
    link.title = t("mail13.preview.open", { name: a.filename });
    if (kind === "image") {
      const thumb = h("img", { class: "att-thumb", src: previewUrl(msg.id, a.index), alt: "", loading: "lazy", decoding: "async", width: 48, height: 48 }) as HTMLImageElement;
      // Not a picture after all (the server refused it): the clip icon stays.
      thumb.addEventListener("error", () => thumb.remove());
      link.querySelector("svg.icon")?.replaceWith(thumb);
    }
    link.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button !== 0) return;
      e.preventDefault();
      preview.open(msg, items, items.indexOf(a), link);
    });
  }
}

/** The overlay: one per page, filled for each attachment shown. */
class PreviewOverlay {
  private el: HTMLElement | null = null;
  private msg: Message | null = null;
  private items: AttachmentInfo[] = [];
  private at = 0;
  private opener: HTMLElement | null = null;
  private trap: FocusTrap | null = null;

  open(msg: Message, items: AttachmentInfo[], index: number, opener: HTMLElement | null): void {
    if (!items.length) return;
    this.msg = msg;
    this.items = items;
    this.at = Math.max(0, Math.min(items.length - 1, index));
    this.opener = opener ?? (document.activeElement as HTMLElement | null);
    if (!this.el) {
      this.el = h("div", { class: "preview-overlay", role: "dialog", "aria-modal": "true", hidden: true });
      this.el.addEventListener("keydown", (e) => this.onKey(e));
      // A click on the dark backdrop (outside the panel) closes, as in other viewers.
      this.el.addEventListener("click", (e) => {
        if (e.target === this.el) this.close();
      });
      document.body.append(this.el);
    }
    this.render();
    this.el.hidden = false;
    document.body.classList.add("previewing");
    // A modal dialog: Tab stays inside, Escape closes, focus returns to the attachment (focus-trap.ts).
    this.trap?.release({ restore: false });
    this.trap = trapFocus(this.el, { onEscape: () => this.close(), initial: this.el.querySelector<HTMLElement>('[data-action="preview-close"]'), returnTo: this.opener });
  }

  get isOpen(): boolean {
    return !!this.el && !this.el.hidden;
  }

  close(): void {
    if (!this.el || this.el.hidden) return;
    this.el.hidden = true;
    clear(this.el);
    document.body.classList.remove("previewing");
    // Focus goes back where it was (the attachment link), if it is still on the page.
    this.trap?.release();
    this.trap = null;
    this.opener = null;
  }

  step(delta: number): void {
    if (this.items.length < 2) return;
    this.at = (this.at + delta + this.items.length) % this.items.length;
    this.render();
    const again = this.el?.querySelector<HTMLElement>(delta < 0 ? '[data-action="preview-prev"]' : '[data-action="preview-next"]');
    again?.focus();
  }

  private render(): void {
    const el = this.el!;
    const msg = this.msg!;
    const a = this.items[this.at]!;
    const kind = previewType(a);
    clear(el);
    const title = h("h2", { class: "preview-title", id: "preview-title" }, a.filename);
    el.setAttribute("aria-labelledby", "preview-title");
    const button = (action: string, label: string, ic: string, fn: () => void, disabled = false) => {
      const b = h("button", { type: "button", class: "btn btn-icon", "data-action": action, title: label, "aria-label": label, disabled }, icon(ic));
      b.addEventListener("click", fn);
      return b;
    };
    const many = this.items.length > 1;
    const bar = h(
      "div",
      { class: "preview-bar" },
      title,
      h("span", { class: "preview-meta" }, formatSize(a.size), many ? ` · ${t("mail13.preview.counter", { i: this.at + 1, n: this.items.length })}` : ""),
      many ? button("preview-prev", t("mail13.preview.prev"), "back", () => this.step(-1)) : null,
      many ? button("preview-next", t("mail13.preview.next"), "next", () => this.step(1)) : null,
      h("a", { class: "btn btn-icon", href: downloadUrl(msg.id, a.index), download: a.filename, "data-action": "preview-download", title: t("mail13.preview.download"), "aria-label": t("mail13.preview.download") }, icon("download")),
      button("preview-close", t("mail13.preview.close"), "close", () => this.close()),
    );
    let body: HTMLElement;
    if (kind === "image") {
      const img = h("img", { class: "preview-img", src: previewUrl(msg.id, a.index), alt: a.filename }) as HTMLImageElement;
      img.addEventListener("error", () => img.replaceWith(this.noPreview(msg, a)));
      body = img;
    } else if (kind === "pdf") {
      // No sandbox attribute: Chromium shows no PDF in a sandboxed frame (see the top of this file).
      // The server first says whether it is a PDF at all (a frame can't tell its parent that it got an error).
      body = h("div", { class: "preview-loading" });
      const at = this.at;
      void fetch(previewUrl(msg.id, a.index), { method: "HEAD", credentials: "same-origin" }).then(
        (res) => {
          if (this.at !== at || !body.isConnected) return;
          body.replaceWith(res.ok ? h("iframe", { class: "preview-pdf", src: previewUrl(msg.id, a.index), title: a.filename, referrerpolicy: "no-referrer" }) : this.noPreview(msg, a));
        },
        () => body.isConnected && body.replaceWith(this.noPreview(msg, a)),
      );
    } else body = this.noPreview(msg, a);
    el.append(h("div", { class: "preview-panel" }, bar, h("div", { class: "preview-body", "data-kind": kind ?? "none" }, body)));
  }

  private noPreview(msg: Message, a: AttachmentInfo): HTMLElement {
    return h(
      "div",
      { class: "preview-none" },
      h("p", null, t("mail13.preview.none")),
      h("a", { class: "btn", href: downloadUrl(msg.id, a.index), download: a.filename }, t("mail13.preview.download")),
    );
  }

  /** Arrows step between attachments; Escape and Tab are the focus trap's. */
  private onKey(e: KeyboardEvent): void {
    if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
      e.preventDefault();
      this.step(e.key === "ArrowLeft" ? -1 : 1);
    }
    // The page's shortcuts (Delete, r, j…) must not act on the message under the overlay.
    if (e.key !== "Tab") e.stopPropagation();
  }
}

export const preview = new PreviewOverlay();
