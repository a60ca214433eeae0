/**
 * Newsletters on a narrow screen (issue 17 item 10). HTML mail is often laid
 * out for a fixed 600-800 px column (tables with width="700", cells and
 * banners with a width in px). The frame's own style sheet (sanitize.ts
 * frameDocument) already lets pictures and tables shrink to the frame; what
 * still does not fit is scaled down as a whole, as phone mail apps do, so
 * the page never scrolls sideways and the layout stays as designed.
 *
 * The mail frame runs no script and has an opaque origin, so nothing inside
 * it can measure itself and the app cannot look in. The width is measured
 * once, before the frame is shown, in a hidden probe frame holding the same
 * document: sandboxed without scripts but same-origin, so this page can read
 * its layout. The probe gets the copy that loads no remote picture (its own
 * policy allows data: pictures only, and it also inherits the app page's
 * policy). The answer goes into the frame document as CSS `zoom` steps
 * behind width media queries, so the frame fits whatever width it gets later
 * (a phone turned sideways, a resized window) without being measured again.
 */

/** Smallest scale used: below it the text is unreadable; a still wider mail scrolls inside its frame. */
const MIN_ZOOM = 0.3;
const STEP = 0.02;

/** A width or min-width in px, as an attribute (width="700") or in a style (width: 700px). */
const WIDTH = /width\s*(?:=\s*["']?|:\s*)(\d{3,5})(?![\d.]*\s*(?:%|em|rem|vw))/gi;

/**
 * May the document be wider than a frame `width` px wide? Only then is it
 * measured (the probe costs a second layout, some 60 ms for a long
 * newsletter on a phone): when it has a width in px larger than the frame
 * less the body's margins, or text that may not wrap. Plain mail and fluid
 * HTML have neither, and the frame's own CSS lets tables and pictures shrink.
 */
export function mayBeWider(doc: string, width: number): boolean {
  if (/nowrap/i.test(doc)) return true;
  for (const m of doc.matchAll(WIDTH)) if (Number(m[1]) > width - 32) return true;
  return false;
}

/** How wide the document lays out in a frame `width` px wide (its scrollWidth), or null when it could not be measured. */
export function measureWidth(doc: string, width: number, timeoutMs = 3000): Promise<number | null> {
  return new Promise((resolve) => {
    const probe = document.createElement("iframe");
    // No allow-scripts: the mail runs nothing here either; allow-same-origin lets this page read the layout.
    probe.setAttribute("sandbox", "allow-same-origin");
    probe.setAttribute("aria-hidden", "true");
    probe.tabIndex = -1;
    probe.title = "";
    const s = probe.style;
    s.position = "fixed";
    s.left = "-10000px";
    s.top = "0";
    s.width = `${width}px`;
    s.height = "600px";
    s.visibility = "hidden";
    s.border = "0";
    let done = false;
    const finish = (w: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      probe.remove();
      resolve(w);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    probe.addEventListener("load", () => {
      try {
        const d = probe.contentDocument;
        finish(d ? Math.max(d.documentElement.scrollWidth, d.body?.scrollWidth ?? 0) : null);
      } catch {
        finish(null);
      }
    });
    probe.srcdoc = doc;
    document.body.append(probe);
  });
}

/**
 * CSS that scales the document down in frames narrower than `contentWidth`:
 * one media query per 2 % step, the smallest matching step last (so it
 * wins), each small enough that contentWidth x zoom fits the frame.
 */
export function zoomSteps(contentWidth: number): string {
  const rules: string[] = [];
  // Rule for zoom z applies below contentWidth * (z + STEP): there z is the largest step that still fits.
  for (let i = Math.round((1 - STEP) / STEP); i * STEP >= MIN_ZOOM - 1e-9; i--) {
    const z = Math.round(i * STEP * 100) / 100;
    const below = Math.floor((contentWidth * (z + STEP) - 0.01) * 100) / 100;
    rules.push(`@media (max-width:${below}px){html{zoom:${z}}}`);
  }
  return rules.join("");
}

/** Puts extra CSS into a frame document (one made by frameDocument(), which has a head). */
export function withStyle(doc: string, css: string): string {
  const at = doc.indexOf("</head>");
  return at < 0 ? doc : `${doc.slice(0, at)}<style>${css}</style>${doc.slice(at)}`;
}

/**
 * The frame document to show: `doc` as it is when it fits `width` (or cannot
 * be measured), else with the zoom steps for its measured width. `probeDoc`
 * is the same mail without remote pictures (it is what gets measured).
 */
export async function fitToWidth(doc: string, probeDoc: string, width: number): Promise<string> {
  if (width <= 0 || !mayBeWider(probeDoc, width)) return doc;
  const w = await measureWidth(probeDoc, width);
  if (w === null || w <= width + 1) return doc;
  return withStyle(doc, zoomSteps(w));
}
