/**
 * A tiny element builder. Strings always become text nodes (never HTML), so
 * nothing from a message can inject markup into the app; the only HTML from
 * mail goes through DOMPurify into the sandboxed reading frame or the
 * composer (see sanitize.ts).
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener | ((e: never) => void)>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2).toLowerCase(), v as EventListener);
      else if (k === "class") el.className = String(v);
      else if (v === true) el.setAttribute(k, "");
      else el.setAttribute(k, String(v));
    }
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: (Child | Child[])[]): void {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(typeof c === "string" || typeof c === "number" ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function $(sel: string, root: ParentNode = document): HTMLElement | null {
  return root.querySelector(sel);
}

/** SVG icons drawn from a few paths; built with the DOM, no innerHTML. */
const ICONS: Record<string, string> = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  drafts: "M4 20h4L19 9l-4-4L4 16zM14 6l4 4",
  sent: "M3 11l18-8-8 18-2-8z",
  trash: "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
  junk: "M12 3l9 16H3zM12 10v4M12 17v.5",
  archive: "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
  folder: "M3 6h6l2 2h10v11H3z",
  star: "M12 3l2.8 5.8 6.2.9-4.5 4.4 1 6.2-5.5-2.9-5.5 2.9 1-6.2L3 9.7l6.2-.9z",
  clip: "M16 7l-7.5 7.5a2 2 0 003 3L19 10a4 4 0 00-6-6l-7.5 7.5a6 6 0 008.5 8.5L20 14",
  reply: "M10 9V5l-7 7 7 7v-4c5 0 8 1.5 11 5-1-5-4-10-11-11z",
  replyAll: "M13 9V5l-7 7 7 7v-4c4 0 7 1.5 9 5-1-5-3-10-9-11zM8 5l-7 7 7 7",
  forward: "M14 9V5l7 7-7 7v-4c-5 0-8 1.5-11 5 1-5 4-10 11-11z",
  menu: "M3 6h18M3 12h18M3 18h18",
  search: "M10 17a7 7 0 110-14 7 7 0 010 14zM15 15l6 6",
  compose: "M12 5H5v14h14v-7M17 3l4 4-9 9H8v-4z",
  settings: "M12 15a3 3 0 100-6 3 3 0 000 6zM19 12l2-1-2-4-2 1-2-1V5h-4v2l-2 1-2-1-2 4 2 1v2l-2 1 2 4 2-1 2 1v2h4v-2l2-1 2 1 2-4-2-1z",
  back: "M15 5l-7 7 7 7",
  close: "M6 6l12 12M18 6L6 18",
  mail: "M3 6h18v12H3zM3 6l9 7 9-7",
  more: "M5 12h.01M12 12h.01M19 12h.01",
  theme: "M12 3a9 9 0 100 18 7 7 0 010-18z",
  logout: "M15 4h4v16h-4M10 8l-4 4 4 4M6 12h10",
  thread: "M4 5h16v10H8l-4 4zM8 9h8M8 12h5",
  plus: "M12 5v14M5 12h14",
  next: "M9 5l7 7-7 7",
  download: "M12 4v11M7 10l5 5 5-5M5 20h14",
  print: "M7 9V3h10v6M7 17H4v-8h16v8h-3M7 14h10v7H7z",
};

export function icon(name: keyof typeof ICONS | string, label?: string): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", label ? "false" : "true");
  if (label) svg.setAttribute("aria-label", label);
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name] ?? ICONS.folder!);
  svg.append(path);
  return svg;
}
