/**
 * The contact list: alphabetical with a letter heading per first letter and
 * an avatar (the photo, or initials on a colour of the name). Rows are built
 * in one pass for the first screenful-and-more (CHUNK rows) and the rest is
 * added as the user scrolls near the end, so a 5,000-contact book or a
 * search over it paints in a few milliseconds.
 */
import { h, clear } from "../dom.ts";
import { t } from "../i18n/index.ts";
import { hueOf, initials, letterOf } from "./data.ts";

export interface ListItem {
  key: string;
  name: string;
  sortName: string;
  /** Second line: an address, the organization, or "Group · n members". */
  sub: string;
  photo: string | null;
  group: boolean;
}

/** Rows built at once: a few screenfuls (a phone shows ~14, a desktop ~15); more are added on scroll. */
const CHUNK = 60;

export function avatar(name: string, photo: string | null, size: "s" | "l" = "s"): HTMLElement {
  if (photo) {
    const img = h("img", { class: `ct-avatar ct-avatar-${size}`, src: photo, alt: "", loading: "lazy", decoding: "async" });
    return img;
  }
  const el = h("span", { class: `ct-avatar ct-avatar-${size}`, "aria-hidden": "true" }, initials(name));
  // Dark enough for white initials at every hue (WCAG 2.2 §1.4.3: at least 4.5:1).
  el.style.backgroundColor = `hsl(${hueOf(name)} 45% 30%)`;
  return el;
}

export class ContactList {
  readonly el: HTMLElement;
  private items: ListItem[] = [];
  private shown = 0;
  private lastLetter = "";
  private selected: string | null = null;
  private rows = new Map<string, HTMLElement>();
  private emptyText = "";
  /** Select mode: each row gets a check box beside it (a sibling, never inside the row's button). */
  private selecting = false;
  readonly checked = new Set<string>();

  constructor(
    private onOpen: (key: string) => void,
    private onCheck: () => void = () => {},
  ) {
    // A plain scrolling box of letter headings and row buttons (no list role: headings are not list items).
    this.el = h("div", { class: "ct-list" });
    this.el.addEventListener("scroll", () => {
      if (this.shown < this.items.length && this.el.scrollTop + this.el.clientHeight > this.el.scrollHeight - 1200) this.more();
    }, { passive: true });
  }

  /** Replaces the rows (keeps the scroll position when `keepScroll`). */
  set(items: ListItem[], opts: { keepScroll?: boolean; empty?: string } = {}): void {
    const top = this.el.scrollTop;
    this.items = items;
    this.emptyText = opts.empty ?? t("contacts.empty");
    clear(this.el);
    this.rows.clear();
    this.shown = 0;
    this.lastLetter = "";
    if (!items.length) {
      this.el.append(h("p", { class: "ct-empty" }, this.emptyText));
      return;
    }
    this.more(opts.keepScroll ? Math.max(CHUNK, this.indexOf(this.selected) + 50) : CHUNK);
    if (opts.keepScroll) this.el.scrollTop = top;
  }

  select(key: string | null): void {
    if (this.selected) this.rows.get(this.selected)?.removeAttribute("aria-current");
    this.selected = key;
    if (key) {
      const i = this.indexOf(key);
      if (i >= this.shown) this.more(i - this.shown + 20);
      const row = this.rows.get(key);
      row?.setAttribute("aria-current", "true");
      row?.scrollIntoView({ block: "nearest" });
    }
  }

  /** Turns select mode on or off (off forgets the ticks); the rows are rebuilt in place. */
  setSelecting(on: boolean): void {
    if (on === this.selecting) return;
    this.selecting = on;
    if (!on) this.checked.clear();
    this.el.classList.toggle("ct-selecting", on);
    this.set(this.items, { keepScroll: true, empty: this.emptyText });
    this.select(this.selected);
    this.onCheck();
  }

  get count(): number {
    return this.items.length;
  }

  private indexOf(key: string | null): number {
    return key === null ? -1 : this.items.findIndex((i) => i.key === key);
  }

  private more(n = CHUNK): void {
    const frag = document.createDocumentFragment();
    const end = Math.min(this.items.length, this.shown + n);
    for (let i = this.shown; i < end; i++) {
      const it = this.items[i]!;
      const letter = letterOf(it.sortName || it.name);
      if (letter !== this.lastLetter) {
        frag.append(h("h3", { class: "ct-letter" }, letter));
        this.lastLetter = letter;
      }
      const row = h(
        "button",
        { type: "button", class: "ct-row", "data-key": it.key, "aria-current": it.key === this.selected ? "true" : null },
        avatar(it.name, it.photo),
        h("span", { class: "ct-row-text" }, h("span", { class: "ct-row-name" }, it.name || t("contacts.noName")), it.sub ? h("span", { class: "ct-row-sub" }, it.sub) : null),
      );
      row.addEventListener("click", () => this.onOpen(it.key));
      this.rows.set(it.key, row);
      if (this.selecting) {
        const box = h("input", { type: "checkbox", class: "ct-tick", checked: this.checked.has(it.key), "aria-label": t("contacts.selectOne", { name: it.name || t("contacts.noName") }) }) as HTMLInputElement;
        box.addEventListener("change", () => {
          if (box.checked) this.checked.add(it.key);
          else this.checked.delete(it.key);
          this.onCheck();
        });
        frag.append(h("div", { class: "ct-pick" }, box, row));
      } else frag.append(row);
    }
    this.shown = end;
    this.el.append(frag);
  }
}
