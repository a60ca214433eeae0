/**
 * The lines the composer puts above a quoted or forwarded message ("On <date>, <who> wrote:", the
 * forwarded message's header block) in the user's interface language (issue 17, items 8 and 12). They
 * become part of the mail the user sends, so they follow the language the date itself is written in.
 */

export interface QuoteTexts {
  /** The line above a reply's quote. */
  wrote(date: string, from: string): string;
  /** The separator above a forwarded message's header block. */
  forwarded: string;
  from: string;
  date: string;
  subject: string;
  to: string;
  cc: string;
}

const TEXTS: Record<"en" | "de" | "fr" | "es", QuoteTexts> = {
  en: { wrote: (d, f) => `On ${d}, ${f} wrote:`, forwarded: "---------- Forwarded message ----------", from: "From", date: "Date", subject: "Subject", to: "To", cc: "Cc" },
  de: { wrote: (d, f) => `Am ${d} schrieb ${f}:`, forwarded: "---------- Weitergeleitete Nachricht ----------", from: "Von", date: "Datum", subject: "Betreff", to: "An", cc: "Cc" },
  // French puts a (no-break) space before the colon.
  fr: { wrote: (d, f) => `Le ${d}, ${f} a écrit\u00a0:`, forwarded: "---------- Message transféré ----------", from: "De", date: "Date", subject: "Objet", to: "À", cc: "Cc" },
  es: { wrote: (d, f) => `El ${d}, ${f} escribió:`, forwarded: "---------- Mensaje reenviado ----------", from: "De", date: "Fecha", subject: "Asunto", to: "Para", cc: "CC" },
};

/** The texts for a BCP 47 language tag (its primary subtag); English for anything else or none. */
export function quoteTexts(lang: string | null | undefined): QuoteTexts {
  const primary = (lang ?? "").toLowerCase().split(/[-_]/)[0] ?? "";
  return primary === "de" || primary === "fr" || primary === "es" ? TEXTS[primary] : TEXTS.en;
}
