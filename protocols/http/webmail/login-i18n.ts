/**
 * The few texts the server renders before anyone is signed in (the sign-in page, its errors, the app
 * page's loading line) in English, German, French and Spanish (issue 17, item 12). There is no user
 * setting yet at that point, so the browser's Accept-Language header chooses.
 */

export type PageLang = "en" | "de" | "fr" | "es";
const LANGS: readonly PageLang[] = ["en", "de", "fr", "es"];

/** How many language ranges of one header are looked at (the header is client-controlled). */
const MAX_RANGES = 32;

/**
 * The language for an Accept-Language header (RFC 9110 §12.5.4): ranges ordered by their q-value
 * (1 when absent; q=0 means "not acceptable"), ties kept in header order; the first whose primary
 * subtag we offer wins ("de-CH" gives German, "*" English). English when nothing fits.
 */
export function pageLang(header: string | null | undefined): PageLang {
  if (!header) return "en";
  const ranges: { tag: string; q: number; at: number }[] = [];
  const parts = header.slice(0, 1024).split(",");
  for (let i = 0; i < parts.length && i < MAX_RANGES; i++) {
    const [rawTag, ...params] = parts[i]!.split(";");
    const tag = rawTag!.trim().toLowerCase();
    if (!tag) continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*([01](?:\.\d{0,3})?)\s*$/i.exec(p);
      if (m) q = Math.min(1, Number(m[1]));
    }
    if (q > 0) ranges.push({ tag, q, at: i });
  }
  ranges.sort((a, b) => b.q - a.q || a.at - b.at);
  for (const r of ranges) {
    const primary = r.tag.split("-")[0] as PageLang;
    if (LANGS.includes(primary)) return primary;
  }
  return "en";
}

type Texts = Record<
  | "title"
  | "subtitle"
  | "email"
  | "password"
  | "submit"
  | "expired"
  | "missing"
  | "wrong"
  | "tooManySeconds.one"
  | "tooManySeconds.other"
  | "tooManyMinutes.one"
  | "tooManyMinutes.other"
  | "appTitle"
  | "loading"
  | "noScript"
  | "codeSubtitle"
  | "code"
  | "codeHelp"
  | "codeSubmit"
  | "codeWrong"
  | "codeExpired"
  | "disabled",
  string
>;

const TEXTS: Record<PageLang, Texts> = {
  en: {
    title: "Sign in · Pillarbox",
    subtitle: "Sign in to your mail",
    email: "Email address",
    password: "Password",
    submit: "Sign in",
    expired: "The sign-in page had expired. Please try again.",
    missing: "Enter your email address and password.",
    wrong: "Wrong email address or password.",
    "tooManySeconds.one": "Too many failed sign-in attempts. For your security, sign-in is paused: try again in {n} second.",
    "tooManySeconds.other": "Too many failed sign-in attempts. For your security, sign-in is paused: try again in {n} seconds.",
    "tooManyMinutes.one": "Too many failed sign-in attempts. For your security, sign-in is paused: try again in {n} minute.",
    "tooManyMinutes.other": "Too many failed sign-in attempts. For your security, sign-in is paused: try again in {n} minutes.",
    appTitle: "Mail · Pillarbox",
    loading: "Loading your mail…",
    noScript: "The mail app needs JavaScript turned on.",
    codeSubtitle: "Two-factor sign-in: enter the 6-digit code from your authenticator app.",
    code: "Code",
    codeHelp: "No phone at hand? Enter one of your recovery codes instead (each works once).",
    codeSubmit: "Verify",
    codeWrong: "That code is not correct or was already used. Try the next code.",
    codeExpired: "The sign-in took too long or had too many wrong codes. Please sign in again.",
    disabled: "This account is disabled. Ask your administrator.",
  },
  de: {
    title: "Anmelden · Pillarbox",
    subtitle: "Bei Ihrem E-Mail-Konto anmelden",
    email: "E-Mail-Adresse",
    password: "Kennwort",
    submit: "Anmelden",
    expired: "Die Anmeldeseite war abgelaufen. Bitte versuchen Sie es erneut.",
    missing: "Geben Sie Ihre E-Mail-Adresse und Ihr Kennwort ein.",
    wrong: "E-Mail-Adresse oder Kennwort ist falsch.",
    "tooManySeconds.one": "Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrer Sicherheit ist die Anmeldung angehalten: Versuchen Sie es in {n} Sekunde erneut.",
    "tooManySeconds.other": "Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrer Sicherheit ist die Anmeldung angehalten: Versuchen Sie es in {n} Sekunden erneut.",
    "tooManyMinutes.one": "Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrer Sicherheit ist die Anmeldung angehalten: Versuchen Sie es in {n} Minute erneut.",
    "tooManyMinutes.other": "Zu viele fehlgeschlagene Anmeldeversuche. Zu Ihrer Sicherheit ist die Anmeldung angehalten: Versuchen Sie es in {n} Minuten erneut.",
    appTitle: "E-Mail · Pillarbox",
    loading: "Ihre E-Mails werden geladen…",
    noScript: "Die E-Mail-App benötigt JavaScript.",
    codeSubtitle: "Anmeldung in zwei Schritten: Geben Sie den 6-stelligen Code aus Ihrer Authenticator-App ein.",
    code: "Code",
    codeHelp: "Kein Telefon zur Hand? Geben Sie stattdessen einen Ihrer Wiederherstellungscodes ein (jeder gilt einmal).",
    codeSubmit: "Bestätigen",
    codeWrong: "Dieser Code ist falsch oder wurde schon verwendet. Versuchen Sie den nächsten Code.",
    codeExpired: "Die Anmeldung hat zu lange gedauert oder hatte zu viele falsche Codes. Bitte melden Sie sich erneut an.",
    disabled: "Dieses Konto ist gesperrt. Wenden Sie sich an Ihre Administration.",
  },
  fr: {
    title: "Connexion · Pillarbox",
    subtitle: "Connectez-vous à votre messagerie",
    email: "Adresse e-mail",
    password: "Mot de passe",
    submit: "Se connecter",
    expired: "La page de connexion avait expiré. Veuillez réessayer.",
    missing: "Saisissez votre adresse e-mail et votre mot de passe.",
    wrong: "Adresse e-mail ou mot de passe incorrect.",
    "tooManySeconds.one": "Trop de tentatives de connexion échouées. Pour votre sécurité, la connexion est suspendue : réessayez dans {n} seconde.",
    "tooManySeconds.other": "Trop de tentatives de connexion échouées. Pour votre sécurité, la connexion est suspendue : réessayez dans {n} secondes.",
    "tooManyMinutes.one": "Trop de tentatives de connexion échouées. Pour votre sécurité, la connexion est suspendue : réessayez dans {n} minute.",
    "tooManyMinutes.other": "Trop de tentatives de connexion échouées. Pour votre sécurité, la connexion est suspendue : réessayez dans {n} minutes.",
    appTitle: "Courrier · Pillarbox",
    loading: "Chargement de votre courrier…",
    noScript: "L’application de messagerie nécessite JavaScript.",
    codeSubtitle: "Connexion en deux étapes : saisissez le code à 6 chiffres de votre application d’authentification.",
    code: "Code",
    codeHelp: "Pas de téléphone sous la main ? Saisissez plutôt l’un de vos codes de récupération (chacun ne sert qu’une fois).",
    codeSubmit: "Vérifier",
    codeWrong: "Ce code est incorrect ou a déjà servi. Essayez le code suivant.",
    codeExpired: "La connexion a pris trop de temps ou a reçu trop de codes erronés. Veuillez vous reconnecter.",
    disabled: "Ce compte est désactivé. Adressez-vous à votre administrateur.",
  },
  es: {
    title: "Iniciar sesión · Pillarbox",
    subtitle: "Inicie sesión en su correo",
    email: "Dirección de correo electrónico",
    password: "Contraseña",
    submit: "Iniciar sesión",
    expired: "La página de inicio de sesión había caducado. Inténtelo de nuevo.",
    missing: "Escriba su dirección de correo electrónico y su contraseña.",
    wrong: "La dirección de correo electrónico o la contraseña no son correctas.",
    "tooManySeconds.one": "Demasiados intentos fallidos de inicio de sesión. Por su seguridad, el inicio de sesión está en pausa: vuelva a intentarlo dentro de {n} segundo.",
    "tooManySeconds.other": "Demasiados intentos fallidos de inicio de sesión. Por su seguridad, el inicio de sesión está en pausa: vuelva a intentarlo dentro de {n} segundos.",
    "tooManyMinutes.one": "Demasiados intentos fallidos de inicio de sesión. Por su seguridad, el inicio de sesión está en pausa: vuelva a intentarlo dentro de {n} minuto.",
    "tooManyMinutes.other": "Demasiados intentos fallidos de inicio de sesión. Por su seguridad, el inicio de sesión está en pausa: vuelva a intentarlo dentro de {n} minutos.",
    appTitle: "Correo · Pillarbox",
    loading: "Cargando su correo…",
    noScript: "La aplicación de correo necesita JavaScript.",
    codeSubtitle: "Inicio de sesión en dos pasos: introduzca el código de 6 dígitos de su aplicación de autenticación.",
    code: "Código",
    codeHelp: "¿No tiene el teléfono a mano? Introduzca uno de sus códigos de recuperación (cada uno sirve una vez).",
    codeSubmit: "Verificar",
    codeWrong: "Ese código no es correcto o ya se usó. Pruebe con el siguiente código.",
    codeExpired: "El inicio de sesión tardó demasiado o recibió demasiados códigos erróneos. Vuelva a iniciar sesión.",
    disabled: "Esta cuenta está desactivada. Consulte a su administrador.",
  },
};

export type PageTextKey = Exclude<keyof Texts, `${string}.one` | `${string}.other`>;

/** A sign-in page text in `lang` (plain text: the caller escapes it for HTML). */
export function pageText(lang: PageLang, key: PageTextKey): string {
  return TEXTS[lang][key];
}

/** Every language's table has the same keys (for the tests). */
export function pageTextKeys(lang: PageLang): string[] {
  return Object.keys(TEXTS[lang]).sort();
}

/** "Sign-in is paused: try again in N seconds/minutes" with the language's plural rule (Intl.PluralRules). */
export function tooManyText(lang: PageLang, waitMs: number): string {
  const minutes = waitMs >= 60_000;
  const n = minutes ? Math.ceil(waitMs / 60_000) : Math.max(1, Math.ceil(waitMs / 1000));
  const form = new Intl.PluralRules(lang).select(n) === "one" ? "one" : "other";
  return TEXTS[lang][`${minutes ? "tooManyMinutes" : "tooManySeconds"}.${form}`].replace("{n}", String(n));
}
