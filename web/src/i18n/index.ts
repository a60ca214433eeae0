/**
 * Interface languages and locale-aware formatting for the webmail.
 *
 * Text: every feature registers its own catalog (web/src/i18n/<feature>.ts:
 * English, German, French, Spanish) and looks strings up with `t(key, vars)`.
 * A key missing in the chosen language falls back to English, then to the
 * key itself, so a half-translated catalog never shows a blank.
 *
 * Formatting: dates, times and numbers go through Intl with the chosen
 * language's locale and the user's time zone (settings), never the
 * browser's defaults, so a German interface shows German dates even in an
 * English browser, and a user travelling keeps their calendar's zone.
 */

export type Lang = "en" | "de" | "fr" | "es";
export const LANGS: readonly Lang[] = ["en", "de", "fr", "es"];
/** Each language's name in itself, for the settings picker. */
export const LANG_NAMES: Readonly<Record<Lang, string>> = { en: "English", de: "Deutsch", fr: "Français", es: "Español" };

/** A feature's strings: English complete, the others may lag (they fall back to English). */
export type Catalog = { en: Record<string, string> } & Partial<Record<Exclude<Lang, "en">, Record<string, string>>>;

const tables: Record<Lang, Map<string, string>> = { en: new Map(), de: new Map(), fr: new Map(), es: new Map() };
let current: Lang = "en";
/**
 * The BCP 47 tag dates and numbers are formatted with: the browser's own tag when it is of the chosen
 * language (en-GB writes 7 Dec and 14:05, de-CH 1’234), else the language itself.
 */
let region = "en";
let zone: string = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
const listeners = new Set<() => void>();

/** Adds a feature's catalog (call at module load). A key registered twice keeps the last text. */
export function register(catalog: Catalog): void {
  for (const l of LANGS) {
    const part = catalog[l];
    if (part) for (const [k, v] of Object.entries(part)) tables[l].set(k, v);
  }
}

/**
 * The language for a setting ("" or missing = follow the browser) and the
 * browser's preference list (navigator.languages): the first supported
 * primary tag wins, English otherwise.
 */
export function chooseLang(setting: string | null | undefined, preferred: readonly string[]): Lang {
  if (setting && (LANGS as readonly string[]).includes(setting)) return setting as Lang;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split(/[-_]/)[0];
    if ((LANGS as readonly string[]).includes(primary)) return primary as Lang;
  }
  return "en";
}

/** The keys registered in a language (tests hold every catalog to all four languages). */
export function registeredKeys(l: Lang): string[] {
  return [...tables[l].keys()];
}

export function lang(): Lang {
  return current;
}

/** The browser's preferred tag of language `l` (navigator.languages), else `l`. */
function regionFor(l: Lang): string {
  const prefs = typeof navigator !== "undefined" ? (navigator.languages ?? [navigator.language]) : [];
  for (const tag of prefs) {
    if (!tag || tag.toLowerCase().split(/[-_]/)[0] !== l) continue;
    try {
      return Intl.getCanonicalLocales(tag)[0] ?? l;
    } catch {
      // a malformed tag: try the next one
    }
  }
  return l;
}

/** The tag dates and numbers are formatted with (see `region`); `lang()` is its language. */
export function locale(): string {
  return region;
}

/**
 * Sets the language (and <html lang>, also when it is the one already set: the server-rendered page may
 * have guessed another); listeners (views that re-render their static text) are called when it changed.
 */
export function setLang(l: Lang): void {
  document.documentElement.lang = l;
  const tag = regionFor(l);
  if (l === current && tag === region) return;
  current = l;
  region = tag;
  for (const fn of listeners) fn();
}

/** The user's IANA time zone (settings, else the browser's). */
export function timeZone(): string {
  return zone;
}

export function setTimeZone(tz: string | null | undefined): void {
  if (!tz) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: tz });
  } catch {
    return; // an unknown zone name keeps the previous one rather than breaking every date on the page
  }
  if (tz === zone) return;
  zone = tz;
  fmtCache.clear();
  for (const fn of listeners) fn();
}

/** Called after a language or time zone change. Returns an unsubscribe function. */
export function onLocaleChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * The key under `prefix` whose English text is exactly `english`, if any: lets a feature show a server's
 * English message (a fixed sentence) in the chosen language when its catalog has it.
 */
export function keyForEnglish(prefix: string, english: string): string | undefined {
  for (const [k, v] of tables.en) if (v === english && k.startsWith(prefix)) return k;
  return undefined;
}

/** The text for `key` with `{name}` placeholders filled from `vars`. */
export function t(key: string, vars?: Record<string, string | number>): string {
  const text = tables[current].get(key) ?? tables.en.get(key) ?? key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

/**
 * A count-dependent text: looks up `key.one`, `key.other` (and `key.zero`
 * when n is 0 and the catalog has it) by the language's plural rules
 * (Intl.PluralRules), with `{n}` filled.
 */
export function tn(key: string, n: number, vars?: Record<string, string | number>): string {
  const all = { n: formatNumber(n), ...vars };
  if (n === 0 && (tables[current].has(`${key}.zero`) || tables.en.has(`${key}.zero`))) return t(`${key}.zero`, all);
  const cat = new Intl.PluralRules(current).select(n);
  const k = `${key}.${cat}`;
  return t(tables[current].has(k) || tables.en.has(k) ? k : `${key}.other`, all);
}

const fmtCache = new Map<string, Intl.DateTimeFormat>();

/** An Intl.DateTimeFormat in the chosen language and the user's zone (cached: they are costly to build). */
export function dateFormat(opts: Intl.DateTimeFormatOptions, tz: string = zone): Intl.DateTimeFormat {
  const key = `${region}|${tz}|${JSON.stringify(opts)}`;
  let f = fmtCache.get(key);
  if (!f) {
    if (fmtCache.size > 200) fmtCache.clear();
    f = new Intl.DateTimeFormat(region, { ...opts, timeZone: tz });
    fmtCache.set(key, f);
  }
  return f;
}

/** Formats an instant (UTC ms) in the chosen language and the user's zone. */
export function formatDate(ms: number, opts: Intl.DateTimeFormatOptions): string {
  return dateFormat(opts).format(ms);
}

export function formatNumber(n: number, opts?: Intl.NumberFormatOptions): string {
  return new Intl.NumberFormat(region, opts).format(n);
}

/** "2 hours ago" / "in 5 minutes" in the chosen language. */
export function formatRelative(ms: number, now: number = Date.now()): string {
  const rtf = new Intl.RelativeTimeFormat(region, { numeric: "auto" });
  const diff = (ms - now) / 1000;
  const abs = Math.abs(diff);
  if (abs < 60) return rtf.format(Math.round(diff), "second");
  if (abs < 3600) return rtf.format(Math.round(diff / 60), "minute");
  if (abs < 86400) return rtf.format(Math.round(diff / 3600), "hour");
  if (abs < 7 * 86400) return rtf.format(Math.round(diff / 86400), "day");
  if (abs < 30 * 86400) return rtf.format(Math.round(diff / (7 * 86400)), "week");
  if (abs < 365 * 86400) return rtf.format(Math.round(diff / (30 * 86400)), "month");
  return rtf.format(Math.round(diff / (365 * 86400)), "year");
}

/** Monday = 1 .. Sunday = 7: the first day of the week for the chosen language's region (Intl.Locale weekInfo where offered). */
export function firstDayOfWeek(): number {
  try {
    // weekInfo is not in every TypeScript lib yet.
    const loc = new Intl.Locale(current === "en" ? (navigator.language || "en-US") : current) as Intl.Locale & { weekInfo?: { firstDay: number }; getWeekInfo?: () => { firstDay: number } };
    const info = loc.getWeekInfo?.() ?? loc.weekInfo;
    if (info?.firstDay) return info.firstDay;
  } catch {
    // fall through
  }
  return current === "en" ? 7 : 1;
}
