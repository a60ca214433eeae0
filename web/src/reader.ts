/**
 * The reading pane: headers, actions, the body in a sandboxed frame (or
 * as text), remote-image consent, attachments, and conversations.
 */
import { api, csrfToken, inlinePictures, type Message, type Row } from "./api.ts";
import { h, icon, clear } from "./dom.ts";
import { sanitizeMail, frameDocument } from "./sanitize.ts";
import { fitToWidth } from "./fit-frame.ts";
import { addSenderButton } from "./contacts/add-sender.ts";
import { formatFullDate, formatSize, personText } from "./util.ts";
import { t, tn, formatRelative } from "./i18n/index.ts";
import { invitationCard } from "./invitation.ts";
import { enhanceAttachments } from "./preview.ts";

export interface ReaderHost {
  trustedSender(addr: string): boolean;
  trustSender(addr: string): Promise<void>;
  action(name: "reply" | "replyAll" | "forward" | "forwardAttachment" | "delete" | "junk" | "notJunk" | "flag" | "unread" | "editDraft" | "close" | "move" | "archive" | "restore" | "print", msg: Message): void;
  markSeen(msg: Message): void;
  error(err: unknown): void;
  isJunkFolder(folderId: number): boolean;
  isDraftsFolder(folderId: number): boolean;
  isTrashFolder(folderId: number): boolean;
  isArchiveFolder(folderId: number): boolean;
  /** Leaves the reading view (Back on a phone). */
  close(): void;
}

export class Reader {
  readonly el: HTMLElement;
  current: Message | null = null;
  /** The message being opened or shown (set before it loads, unlike `current`): what a delete or move acts on. */
  openId: number | null = null;
  private token = 0;
  /** Messages whose remote images the user allowed this session. */
  private allowedOnce = new Set<number>();

  constructor(private readonly host: ReaderHost) {
    this.el = h("section", { class: "reader", "aria-label": t("mail.reader.label") });
    this.showEmpty();
  }

  showEmpty(text = t("mail.reader.empty")): void {
    this.token++;
    this.current = null;
    this.openId = null;
    clear(this.el);
    // Back stays reachable on a phone when the message went away under the reader ("moved or deleted").
    const back = h("button", { type: "button", class: "btn btn-icon back-btn reader-empty-back", title: t("mail.reader.back"), "aria-label": t("mail.reader.back") }, icon("back"));
    back.addEventListener("click", () => this.host.close());
    this.el.append(back, h("div", { class: "reader-empty" }, icon("mail"), h("p", null, text)));
    this.el.classList.remove("has-message");
  }

  async show(id: number): Promise<void> {
    const token = ++this.token;
    this.openId = id;
    this.el.classList.add("has-message");
    clear(this.el);
    this.el.append(h("div", { class: "reader-loading" }, t("mail.reader.opening")));
    try {
      const msg = await api<Message>("GET", `/api/messages/${id}`);
      if (token !== this.token) return;
      this.current = msg;
      const article = await this.renderMessage(msg, true);
      // Drawing may wait (inline pictures, the newsletter width probe): a message opened meanwhile wins.
      if (token !== this.token) return;
      clear(this.el);
      this.el.append(article);
      if (!msg.flags.includes("\\Seen")) this.host.markSeen(msg);
    } catch (err) {
      if (token !== this.token) return;
      this.showEmpty(t("mail.reader.openFailed"));
      this.host.error(err);
    }
  }

  async showThread(folderId: number, row: Row): Promise<void> {
    if (row.threadCount <= 1) return this.show(row.id);
    const token = ++this.token;
    this.openId = row.id;
    this.el.classList.add("has-message");
    clear(this.el);
    this.el.append(h("div", { class: "reader-loading" }, t("mail.reader.openingThread")));
    try {
      const { items } = await api<{ items: Row[] }>("GET", `/api/folders/${folderId}/threads/${row.threadId}`);
      if (token !== this.token) return;
      clear(this.el);
      // Back first, at the top (item 10): on a phone it stays there while the conversation scrolls.
      const back = h("button", { type: "button", class: "btn btn-icon back-btn", title: t("mail.reader.back"), "aria-label": t("mail.reader.back") }, icon("back"));
      back.addEventListener("click", () => this.host.close());
      const wrap = h("div", { class: "thread" }, h("div", { class: "thread-top" }, back, h("h2", { class: "thread-subject" }, row.subject || t("mail.noSubject"), h("span", { class: "thread-n" }, ` · ${tn("mail.count.messages", items.length)}`))));
      this.el.append(wrap);
      const slots: HTMLElement[] = [];
      const expand = async (i: number) => {
        const r = items[i]!;
        slots.forEach((s, j) => s.classList.toggle("expanded", j === i));
        const slot = slots[i]!;
        const body = slot.querySelector(".thread-body") as HTMLElement;
        clear(body);
        body.append(h("div", { class: "reader-loading" }, t("mail.reader.openingShort")));
        const msg = await api<Message>("GET", `/api/messages/${r.id}`);
        if (token !== this.token) return;
        this.current = msg;
        this.openId = msg.id;
        clear(body);
        body.append(await this.renderMessage(msg, false));
        if (!msg.flags.includes("\\Seen")) this.host.markSeen(msg);
      };
      items.forEach((r, i) => {
        const head = h(
          "button",
          { class: "thread-head", type: "button" },
          h("span", { class: "thread-from" }, r.fromName || r.fromAddr),
          h("span", { class: "thread-preview" }, r.preview),
          h("span", { class: "thread-date", title: formatFullDate(r.internalDate) }, when(r.internalDate, false)),
        );
        const slot = h("div", { class: "thread-item" + (r.flags.includes("\\Seen") ? "" : " unread") }, head, h("div", { class: "thread-body" }));
        head.addEventListener("click", () => void expand(i).catch((e) => this.host.error(e)));
        slots.push(slot);
        wrap.append(slot);
      });
      await expand(items.length - 1);
    } catch (err) {
      if (token !== this.token) return;
      this.showEmpty(t("mail.reader.threadFailed"));
      this.host.error(err);
    }
  }

  private async renderMessage(msg: Message, withSubject: boolean): Promise<HTMLElement> {
    const sender = msg.from[0]?.address ?? "";
    const people = (label: string, list: { name: string; address: string }[]) =>
      list.length ? h("div", { class: "msg-people" }, h("span", { class: "msg-label" }, label), list.map(personText).join(", ")) : null;
    const btn = (name: Parameters<ReaderHost["action"]>[0], label: string, ic: string, key?: string) => {
      const b = h("button", { type: "button", class: "btn btn-icon", title: key ? `${label} (${key})` : label, "aria-label": label, "data-action": name }, icon(ic), h("span", { class: "btn-text" }, label));
      b.addEventListener("click", () => this.host.action(name, msg));
      return b;
    };
    const isDraft = this.host.isDraftsFolder(msg.folderId);
    const inTrash = this.host.isTrashFolder(msg.folderId);
    const actions = h(
      "div",
      { class: "msg-actions", role: "toolbar", "aria-label": t("mail.reader.actions") },
      isDraft ? btn("editDraft", t("mail.action.editDraft"), "compose") : null,
      btn("reply", t("mail.action.reply"), "reply", "r"),
      btn("replyAll", t("mail.action.replyAll"), "replyAll", "a"),
      btn("forward", t("mail.action.forward"), "forward", "f"),
      btn("forwardAttachment", t("mail.action.forwardAttachment"), "clip"),
      btn("delete", t("mail.action.delete"), "trash", t("mail.key.delete")),
      // In Trash, Restore takes Archive's place (and its key): putting a message back is what one does there.
      inTrash ? btn("restore", t("mail.action.restore"), "inbox", "e") : this.host.isArchiveFolder(msg.folderId) ? null : btn("archive", t("mail.action.archive"), "archive", "e"),
      btn("move", t("mail.action.moveTo"), "folder", "v"),
      this.host.isJunkFolder(msg.folderId) ? btn("notJunk", t("mail.action.notJunk"), "inbox") : btn("junk", t("mail.action.junk"), "junk"),
      btn("flag", msg.flags.includes("\\Flagged") ? t("mail.action.unflag") : t("mail.action.flag"), "star", "s"),
      btn("unread", t("mail.action.markUnread"), "mail", "u"),
      btn("print", t("mail13.print"), "print", "p"),
    );
    const header = h(
      "header",
      { class: "msg-header" },
      actions,
      h("div", { class: "msg-from" }, h("strong", null, msg.from[0]?.name || sender || t("mail.noSender")), sender && msg.from[0]?.name ? h("span", { class: "msg-addr" }, ` <${sender}>`) : null, addSenderButton(msg.from[0], (e) => this.host.error(e))),
      people(t("mail.header.to"), msg.to),
      people(t("mail.header.cc"), msg.cc),
      people(t("mail.header.bcc"), msg.bcc),
      h("div", { class: "msg-date" }, when(msg.date ?? msg.internalDate, true)),
    );
    // Attachments and "Download original" belong to the header, above the body: after a long body they were
    // drawn over its text, and a person looks for them next to the sender anyway (as in Outlook on the web).
    const files = msg.attachments.filter((a) => !a.inline);
    if (files.length) {
      header.append(
        h(
          "ul",
          { class: "attachments", "aria-label": t("mail.reader.attachments") },
          files.map((a) =>
            h(
              "li",
              null,
              h("a", { href: `/api/messages/${msg.id}/attachments/${a.index}`, download: a.filename, class: "attachment" }, icon("clip"), h("span", { class: "att-name" }, a.filename), h("span", { class: "att-size" }, formatSize(a.size))),
            ),
          ),
        ),
      );
    }
    // Item 13: pictures get thumbnails; pictures and PDFs open in the preview overlay (preview.ts).
    if (files.length) enhanceAttachments(header, msg, files);
    header.append(h("div", { class: "msg-foot" }, h("a", { href: `/api/messages/${msg.id}/raw`, download: "message.eml" }, t("mail.reader.downloadOriginal"))));
    // Back first, at the top (item 10): on a phone it stays there while the message scrolls (a sticky bar
    // beside the header, so it sticks for the whole message and not only while the header is in view).
    const top = withSubject
      ? h(
          "div",
          { class: "msg-top" },
          h("button", { type: "button", class: "btn btn-icon back-btn", title: t("mail.reader.back"), "aria-label": t("mail.reader.back"), onclick: () => this.host.action("close", msg) }, icon("back")),
          h("h2", { class: "msg-subject" }, msg.subject || t("mail.noSubject")),
        )
      : null;
    const article = h("article", { class: "msg", "data-message-id": msg.id }, top, header);
    // A meeting invitation, update, cancellation or answer: its card above the body (invitation.ts).
    if (msg.hasInvitation) article.append(invitationCard(msg.id, this.host));
    if (msg.html !== null) {
      const cid = await inlinePictures(msg);
      const allow = this.allowedOnce.has(msg.id) || (sender !== "" && this.host.trustedSender(sender));
      const clean = sanitizeMail(msg.html, { allowRemote: allow, cid });
      if (clean.blocked > 0 && !allow) {
        const banner = h(
          "div",
          { class: "banner", role: "status" },
          h("span", null, t("mail.reader.imagesBlocked")),
          h("button", { type: "button", class: "btn btn-small", "data-action": "show-images" }, t("mail.reader.showImages")),
          sender ? h("button", { type: "button", class: "btn btn-small", "data-action": "trust-sender" }, t("mail.reader.trustSender", { sender })) : null,
        );
        banner.querySelector('[data-action="show-images"]')!.addEventListener("click", () => {
          this.allowedOnce.add(msg.id);
          void this.rerender(msg, article, withSubject);
        });
        banner.querySelector('[data-action="trust-sender"]')?.addEventListener("click", () => {
          void this.host.trustSender(sender).then(() => this.rerender(msg, article, withSubject), (e) => this.host.error(e));
        });
        article.append(banner);
      }
      const frame = h("iframe", {
        class: "msg-frame",
        title: t("mail.reader.body"),
        // No allow-scripts, allow-same-origin, allow-forms or allow-top-navigation: the mail can only be looked at;
        // popups (links with target=_blank) open outside the sandbox.
        sandbox: "allow-popups allow-popups-to-escape-sandbox",
        referrerpolicy: "no-referrer",
      }) as HTMLIFrameElement;
      // A newsletter wider than the pane is scaled to fit it (item 10; fit-frame.ts measures a copy without remote pictures).
      const doc = await fitToWidth(frameDocument(clean.html, allow), frameDocument(clean.html, false), this.el.clientWidth || innerWidth);
      if (allow) {
        // A srcdoc frame inherits the app page's policy (HTML §"determining navigation params policy
        // container"), which allows no remote picture at all. Once the user allowed them, the server echoes
        // the sanitized document back under a policy of its own (mail-frame.ts): still sandboxed, no script.
        frame.name = `pb-mail-${++frameSeq}`;
        whenConnected(frame, () => postFrame(frame.name, doc));
      } else frame.srcdoc = doc;
      article.append(h("div", { class: "msg-body" }, frame));
    } else {
      article.append(h("div", { class: "msg-body msg-text" }, linkify(msg.text ?? "")));
    }
    return article;
  }

  private async rerender(msg: Message, article: HTMLElement, withSubject: boolean): Promise<void> {
    const next = await this.renderMessage(msg, withSubject);
    article.replaceWith(next);
  }
}

let frameSeq = 0;

/**
 * A date shown two ways (item 10): the full date at desktop width; on a phone a compact "2 hours ago" with
 * the full date in its tooltip and, in a message header, one tap away (styles.css picks by width).
 */
function when(v: string | number | null, tappable: boolean): HTMLElement[] {
  const full = formatFullDate(v);
  const ms = v === null ? NaN : new Date(v).getTime();
  if (Number.isNaN(ms)) return [h("span", null, full)];
  const time = h("time", { datetime: new Date(ms).toISOString() }, formatRelative(ms));
  const rel = tappable ? h("button", { type: "button", class: "link-btn when-rel", title: full }, time) : h("span", { class: "when-rel", title: full }, time);
  const fullEl = h("span", { class: "when-full", tabindex: tappable ? -1 : null }, full);
  // The button goes away once tapped: the focus moves to the date it revealed.
  if (tappable)
    rel.addEventListener("click", () => {
      rel.parentElement?.classList.add("show-full");
      fullEl.focus();
    });
  return [fullEl, rel];
}

/** Runs `fn` once `el` is in the document (renderMessage builds the article before its caller inserts it). */
function whenConnected(el: Element, fn: () => void, tries = 200): void {
  if (el.isConnected) fn();
  else if (tries > 0) setTimeout(() => whenConnected(el, fn, tries - 1), 10);
}

/**
 * Loads a frame document into the named frame by posting it to the frame
 * endpoint. The frame's first navigation replaces its initial about:blank,
 * so no history entry is added (HTML §7.4.2.2 "navigate", historyHandling).
 */
function postFrame(target: string, doc: string): void {
  const form = document.createElement("form");
  form.method = "post";
  form.action = "/mailframe";
  form.enctype = "multipart/form-data";
  form.target = target;
  form.hidden = true;
  for (const [name, value] of [["csrf", csrfToken()], ["html", doc]] as const) {
    const input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.append(input);
  }
  document.body.append(form);
  form.submit();
  form.remove();
}

/** Plain text with http(s) links made clickable; built from text nodes only. */
export function linkify(text: string): HTMLElement {
  const pre = h("div", { class: "text-body" });
  const re = /\bhttps?:\/\/[^\s<>"')\]]+/gi;
  let last = 0;
  for (const m of text.matchAll(re)) {
    pre.append(document.createTextNode(text.slice(last, m.index)));
    pre.append(h("a", { href: m[0], target: "_blank", rel: "noopener noreferrer" }, m[0]));
    last = (m.index ?? 0) + m[0].length;
  }
  pre.append(document.createTextNode(text.slice(last)));
  return pre;
}
