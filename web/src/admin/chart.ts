/**
 * Small SVG charts drawn with the DOM (no chart library): grouped bars per hour and a line chart.
 * Each chart is an image with a name that sums it up (role=img, aria-label); every bar and point
 * carries a <title> with its hour and number, and each series has a distinct look besides its
 * colour (solid or outlined bars, solid or dashed line) so the legend does not rest on colour alone (WCAG 1.4.1).
 */
import { formatNumber } from "../i18n/index.ts";

const NS = "http://www.w3.org/2000/svg";

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, ...children: (SVGElement | string)[]): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === "string" ? document.createTextNode(c) : c);
  return el;
}

export interface Series {
  name: string;
  /** CSS class giving the colour (admin.css: .s0, .s1 ...). */
  cls: string;
  values: number[];
}

const W = 720;
const H = 220;
const PAD = { left: 40, right: 8, top: 10, bottom: 28 };

/** A round top for the axis: 1, 2, 5 times a power of ten. */
export function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function frame(label: string, labels: string[], max: number): { svg: SVGSVGElement; x: (i: number) => number; y: (v: number) => number; slot: number } {
  const svg = svgEl("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": label, preserveAspectRatio: "none" });
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, labels.length);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  for (const f of [0, 0.5, 1]) {
    const yy = y(max * f);
    svg.append(svgEl("line", { x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy, class: "gridline" }), svgEl("text", { x: PAD.left - 4, y: yy + 4, class: "axis", "text-anchor": "end" }, formatNumber(max * f)));
  }
  // About eight hour labels whatever the range.
  const every = Math.max(1, Math.ceil(labels.length / 8));
  labels.forEach((l, i) => {
    if (i % every === 0) svg.append(svgEl("text", { x: PAD.left + slot * i + slot / 2, y: H - 8, class: "axis", "text-anchor": "middle" }, l));
  });
  return { svg, x: (i) => PAD.left + slot * i, y, slot };
}

/** Grouped bars: one group per label, one bar per series. Bars with a value carry data-value. */
export function barChart(label: string, labels: string[], titles: string[], series: Series[]): SVGSVGElement {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const { svg, x, y, slot } = frame(label, labels, max);
  const bw = Math.max(1, (slot * 0.8) / series.length);
  const base = y(0);
  series.forEach((s, si) => {
    s.values.forEach((v, i) => {
      if (v <= 0) return;
      const top = y(v);
      svg.append(
        svgEl(
          "rect",
          { x: x(i) + slot * 0.1 + si * bw, y: top, width: bw, height: Math.max(1, base - top), class: `col ${s.cls}`, "data-series": si, "data-value": v },
          svgEl("title", {}, `${titles[i] ?? labels[i]}: ${s.name} ${formatNumber(v)}`),
        ),
      );
    });
  });
  return svg;
}

/** Lines with a dot per point (dashed for the second series onwards). */
export function lineChart(label: string, labels: string[], titles: string[], series: Series[]): SVGSVGElement {
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const { svg, x, y, slot } = frame(label, labels, max);
  series.forEach((s, si) => {
    const pts = s.values.map((v, i) => `${(x(i) + slot / 2).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    svg.append(svgEl("polyline", { points: pts, class: `line ${s.cls}${si ? " dashed" : ""}`, fill: "none" }));
    s.values.forEach((v, i) => {
      if (v > 0) svg.append(svgEl("circle", { cx: x(i) + slot / 2, cy: y(v), r: 3, class: `dot ${s.cls}`, "data-value": v }, svgEl("title", {}, `${titles[i] ?? labels[i]}: ${s.name} ${formatNumber(v)}`)));
    });
  });
  return svg;
}

/** The legend: a swatch (with the series' pattern) and the name in words. */
export function legend(series: Series[], kind: "bar" | "line"): HTMLElement {
  const ul = document.createElement("ul");
  ul.className = "legend";
  series.forEach((s, si) => {
    const sw = svgEl("svg", { viewBox: "0 0 24 12", class: "swatch", "aria-hidden": "true" }, kind === "bar" ? svgEl("rect", { x: 0.5, y: 0.5, width: 23, height: 11, class: `col ${s.cls}` }) : svgEl("line", { x1: 0, x2: 24, y1: 6, y2: 6, class: `line ${s.cls}${si ? " dashed" : ""}` }));
    const li = document.createElement("li");
    li.append(sw, document.createTextNode(s.name));
    ul.append(li);
  });
  return ul;
}
