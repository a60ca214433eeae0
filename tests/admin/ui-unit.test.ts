/**
 * The web admin's browser code without a browser: every text it looks up
 * exists in English, German, French and Spanish with the same placeholders,
 * no catalog holds a key the code does not use, and the small pure helpers
 * (hash routes, quota input, sizes, chart scale) behave.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { LANGS, registeredKeys, setLang, t } from "../../web/src/i18n/index.ts";
import "../../web/src/i18n/admin.ts";
import { parseRoute } from "../../web/src/admin/page.ts";
import { parseQuotaMb, quotaMb } from "../../web/src/admin/ui.ts";
import { niceMax } from "../../web/src/admin/chart.ts";

// The i18n module sets <html lang> on a language change: a minimal document is enough outside a browser.
(globalThis as { document?: unknown }).document ??= { documentElement: { lang: "" } };

const dir = join(import.meta.dir, "..", "..", "web", "src", "admin");
const sources = readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => readFileSync(join(dir, f), "utf8")).join("\n");

function adminKeys(lang: (typeof LANGS)[number]): string[] {
  return registeredKeys(lang).filter((k) => k.startsWith("admin."));
}

describe("catalog", () => {
  test("every key the admin code uses is in all four languages with the same placeholders", () => {
    const used = new Set<string>();
    for (const m of sources.matchAll(/\bt\("(admin\.[^"]+)"/g)) used.add(m[1]!);
    for (const m of sources.matchAll(/\btn\("(admin\.[^"]+)"/g)) {
      used.add(m[1]! + ".one");
      used.add(m[1]! + ".other");
    }
    expect(used.size).toBeGreaterThan(200);
    const en = new Set(adminKeys("en"));
    for (const k of used) expect(en.has(k) ? k : `missing: ${k}`).toBe(k);
    for (const l of LANGS) {
      const keys = new Set(adminKeys(l));
      expect([...en].filter((k) => !keys.has(k))).toEqual([]);
    }
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(",");
    for (const l of LANGS) {
      setLang(l);
      const texts = [...en].map((k) => [k, t(k)] as const);
      setLang("en");
      for (const [k, text] of texts) expect(`${l} ${k}: ${vars(text)}`).toBe(`${l} ${k}: ${vars(t(k))}`);
    }
  });

  test("no catalog key is left unused (template keys: dns counts and statuses, certificate sources, log kinds and ranges)", () => {
    const prefixes = [...sources.matchAll(/\bt\(`(admin\.[^`$]+)\$\{/g)].map((m) => m[1]!);
    const unused = adminKeys("en").filter((k) => {
      const base = k.replace(/\.(one|other)$/, "");
      return !sources.includes(`"${k}"`) && !sources.includes(`"${base}"`) && !prefixes.some((p) => k.startsWith(p));
    });
    expect(unused).toEqual([]);
  });

  test("German, French and Spanish are translated, not English copies", () => {
    const en = adminKeys("en");
    for (const l of ["de", "fr", "es"] as const) {
      setLang(l);
      const same = en.filter((k) => {
        const text = t(k);
        setLang("en");
        const english = t(k);
        setLang(l);
        // Single words ("Administrator") and unit patterns ("{h} h {m} min") may be the same; a sentence may not.
        const words = text.replace(/\{\w+\}/g, "").match(/\p{L}{4,}/gu) ?? [];
        return text === english && words.length > 1;
      });
      setLang("en");
      expect(same).toEqual([]);
    }
  });
});

describe("no HTML strings", () => {
  test("the admin code builds the DOM from text nodes only (no innerHTML, insertAdjacentHTML, document.write, eval)", () => {
    for (const bad of ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", 'setAttribute("style"', "on" + "click="]) expect(sources.includes(bad) ? bad : "").toBe("");
  });
});

describe("helpers", () => {
  test("hash routes", () => {
    expect(parseRoute("")).toEqual({ route: "overview", param: null });
    expect(parseRoute("#/queue")).toEqual({ route: "queue", param: null });
    expect(parseRoute("#/accounts/bob%40example.org")).toEqual({ route: "accounts", param: "bob@example.org" });
    expect(parseRoute("#/domains/example.org")).toEqual({ route: "domains", param: "example.org" });
    // A malformed escape shows the list, never throws.
    expect(parseRoute("#/accounts/%E0%A4%A")).toEqual({ route: "accounts", param: null });
  });

  test("quota input in megabytes", () => {
    expect(parseQuotaMb("")).toBeNull();
    expect(parseQuotaMb(" 50 ")).toBe(50 * 1024 * 1024);
    expect(parseQuotaMb("1,5")).toBe(Math.round(1.5 * 1024 * 1024));
    for (const bad of ["lots", "-5", "1e9", "5 MB", "0x10"]) expect(Number.isNaN(parseQuotaMb(bad))).toBe(true);
    expect(quotaMb(null)).toBe("");
    expect(quotaMb(50 * 1024 * 1024)).toBe("50");
  });

  test("chart scale rounds up to 1, 2 or 5 times a power of ten", () => {
    expect(niceMax(0)).toBe(1);
    expect(niceMax(1)).toBe(1);
    expect(niceMax(3)).toBe(5);
    expect(niceMax(7)).toBe(10);
    expect(niceMax(12)).toBe(20);
    expect(niceMax(480)).toBe(500);
  });
});
