/**
 * Issue 17 item 10: the zoom steps that scale a wide newsletter to its frame
 * (web/src/fit-frame.ts). For every frame width the rule that wins (the last
 * matching media query) must make the content fit, and not be much smaller
 * than needed. The measuring itself runs in Chromium (tests/webmail/phone.test.ts).
 */
import { test, expect, describe } from "bun:test";
import { mayBeWider, withStyle, zoomSteps } from "../../web/src/fit-frame.ts";

/** The zoom a frame `width` px wide gets from the CSS (1 when no rule matches). */
function zoomAt(css: string, width: number): number {
  let zoom = 1;
  for (const m of css.matchAll(/@media \(max-width:([\d.]+)px\)\{html\{zoom:([\d.]+)\}\}/g)) if (width <= Number(m[1])) zoom = Number(m[2]);
  return zoom;
}

describe("item 10: zoom steps for a wide newsletter", () => {
  test("item 10: every frame width from 240 to 1000 px gets the largest 2 % step that fits (down to 0.3)", () => {
    for (const content of [616, 716, 800, 1200]) {
      const css = zoomSteps(content);
      for (let w = 240; w <= 1000; w++) {
        const z = zoomAt(css, w);
        if (content <= w) {
          expect(z).toBe(1);
          continue;
        }
        const ideal = w / content;
        if (ideal < 0.3) {
          expect(z).toBe(0.3);
          continue;
        }
        expect(content * z).toBeLessThanOrEqual(w + 1e-9);
        expect(ideal - z).toBeLessThan(0.0201);
      }
    }
  });

  test("item 10: the steps go into the frame document's head; a document without one is left alone", () => {
    const doc = "<!doctype html><html><head><meta charset=\"utf-8\"></head><body><table width=700></table></body></html>";
    const out = withStyle(doc, "html{zoom:.5}");
    expect(out).toBe('<!doctype html><html><head><meta charset="utf-8"><style>html{zoom:.5}</style></head><body><table width=700></table></body></html>');
    expect(withStyle("<p>no head</p>", "x")).toBe("<p>no head</p>");
  });

  test("item 10: only a document with a px width wider than the frame (or text that may not wrap) is measured", () => {
    expect(mayBeWider('<table width="700"><tr><td>x</td></tr></table>', 390)).toBe(true);
    expect(mayBeWider('<div style="min-width: 640px">x</div>', 390)).toBe(true);
    expect(mayBeWider('<td style="white-space:nowrap">x</td>', 390)).toBe(true);
    // Fits, or sized in %, em or vw: the frame's CSS copes, no probe.
    expect(mayBeWider('<table width="700"><tr><td>x</td></tr></table>', 1000)).toBe(false);
    expect(mayBeWider('<table width="100%" style="max-width:100%;width:1000%"><tr><td style="width:400em">x</td></tr></table>', 390)).toBe(false);
    expect(mayBeWider("<p>Hello <b>Alice</b></p><img src=\"cid:x\" style=\"min-width:20px\">", 390)).toBe(false);
  });
});
