/**
 * ResolveRecipients (MS-ASCMD §2.2.1.15): each To is matched against the
 * directory of the account's domain (src/groupware/directory.ts, Type 1) and
 * then the account's own contacts (Type 2), as the spec's ANR does
 * (§2.2.3.183: address, display name, first/last name).
 *
 * Per Response (§2.2.3.177.12): 1 resolved, 2 ambiguous with every
 * suggestion, 3 ambiguous with part of them (MaxAmbiguousRecipients), 4 not
 * resolved. Options:
 *  - CertificateRetrieval 2/3: Pillarbox keeps no S/MIME certificates, so a
 *    resolved recipient gets Certificates with Status 7 (no valid
 *    certificate) and CertificateCount 0 (§2.2.3.23.1, §2.2.3.177.12).
 *  - Availability (14.0+, §2.2.3.16): free/busy of a directory recipient in
 *    30-minute digits (MergedFreeBusy, §2.2.3.107) from the groupware
 *    service's free/busy; a group (one-to-many alias) merges its members,
 *    161 over 20 members; an address outside the directory 163 (free/busy
 *    cannot be had). Only for a To that resolves to one recipient.
 *  - Picture (14.1+, §2.2.3.135.2): the directory keeps no photos: 173.
 * A request with no To, more than 100 (§2.2.3.183), a bad option or a bad
 * time span (§2.2.3.176.1, §2.2.3.61.1) gets the top-level Status 5.
 */
import type { BusyPeriod } from "../../../../src/groupware/types.ts";
import type { CommandHandler, EasContext } from "../context.ts";
import { directory, matchDirectory, type DirectoryEntry } from "../../../../src/groupware/directory.ts";
import { kid, kids, kidText, ns, text, type WElement } from "../wbxml/tree.ts";

const R = ns("ResolveRecipients");

/** §2.2.3.183: 1...100 To elements; more is a protocol error. */
export const MAX_TO = 100;
/** A To is an ANR string of at most 256 characters (§2.2.3.183). */
const MAX_TO_LENGTH = 256;
/** Suggestions per ambiguous To when the client names no MaxAmbiguousRecipients (Exchange's default). */
const DEFAULT_AMBIGUOUS = 19;
const SLOT_MS = 30 * 60_000;
/** §2.2.3.61.1: the span may not pass a server limit; Exchange 2010+ uses 42 days. */
export const MAX_SPAN_MS = 42 * 86_400_000;
/** §2.2.3.61.1: no EndTime means seven days after StartTime. */
const DEFAULT_SPAN_MS = 7 * 86_400_000;
/** §2.2.3.107: merged free/busy of a group of more than 20 members is not useful (Status 161). */
const MAX_GROUP = 20;

/** What a To resolved to: a directory entry (Type 1) or one of the account's contacts (Type 2). */
interface Candidate {
  type: 1 | 2;
  displayName: string;
  email: string;
  entry?: DirectoryEntry;
}

/** MS-ASDTYPE §2.3 datetime ("2026-03-02T09:00:00.000Z", the compact form too), checked field by field. */
function parseDate(s: string | undefined): number | null {
  if (s === undefined) return null;
  const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):?(\d{2}):?(\d{2})(?:\.(\d{1,3}))?Z$/.exec(s.trim());
  if (!m) return null;
  const [y, mo, d, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  const v = Date.UTC(y!, mo! - 1, d!, h!, mi!, se!, m[7] ? Number(m[7].padEnd(3, "0")) : 0);
  const back = new Date(v);
  if (y! < 1601 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d || h! > 23 || mi! > 59 || se! > 59) return null;
  return v;
}

/**
 * §2.2.3.107 MergedFreeBusy: one digit per 30 minutes from `start` (0 free,
 * 1 tentative, 2 busy, 3 out of office); a slot partly covered takes the
 * highest digit of what overlaps it.
 */
export function mergedFreeBusy(periods: readonly BusyPeriod[], start: number, end: number): string {
  const slots = Math.ceil((end - start) / SLOT_MS);
  const digits = new Uint8Array(slots);
  for (const p of periods) {
    const v = p.type === "BUSY-UNAVAILABLE" ? 3 : p.type === "BUSY" ? 2 : 1;
    const from = Math.max(0, Math.floor((p.start - start) / SLOT_MS));
    const to = Math.min(slots, Math.ceil((p.end - start) / SLOT_MS));
    for (let i = from; i < to; i++) if (digits[i]! < v) digits[i] = v;
  }
  let out = "";
  for (const d of digits) out += d;
  return out;
}

/** The directory entry itself for an address, else ANR over the directory, then the account's contacts. */
async function candidates(c: EasContext, dir: DirectoryEntry[], typed: string, limit: number): Promise<Candidate[]> {
  // A To copied from a header ("Ada Lovelace <ada@example.org>") resolves by its address.
  const to = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(typed)?.[1] ?? typed;
  const lower = to.toLowerCase();
  const fromDir = (e: DirectoryEntry): Candidate => ({ type: 1, displayName: e.displayName, email: e.email, entry: e });
  const exact = dir.filter((e) => e.email === lower);
  if (exact.length) return exact.map(fromDir);
  const out = matchDirectory(dir, to).map(fromDir);
  const seen = new Set(out.map((x) => x.email));
  // The account's contacts by address or name prefix (store index), one candidate per contact.
  const contacts = await c.store.findContacts(c.account.id, to, { limit: limit + 1 });
  const mine: Candidate[] = [];
  for (const item of contacts) {
    if (item.itemClass !== "contacts") continue;
    const emails = item.fields.emails;
    const email = emails.find((e) => e === lower) ?? emails[0];
    if (!email || seen.has(email)) continue;
    seen.add(email);
    mine.push({ type: 2, displayName: item.fields.fullName || email, email });
  }
  const exactContact = mine.filter((m) => m.email === lower);
  if (exactContact.length && !out.length) return exactContact;
  return [...out, ...mine];
}

/** Busy periods of one account over the request's span, read once per request ("gone": no such account any more; "failed": an error). */
type BusyCache = Map<number, BusyPeriod[] | "gone" | "failed">;

async function busyOf(c: EasContext, id: number, span: { start: number; end: number }, cache: BusyCache): Promise<BusyPeriod[] | "gone" | "failed"> {
  let v = cache.get(id);
  if (v === undefined) {
    const account = await c.store.getAccountById(id);
    if (!account) v = "gone";
    else {
      try {
        v = await c.server.groupware.freeBusy(account, span);
      } catch (e) {
        c.log.warn("ResolveRecipients: free/busy failed", { user: account.email, error: e instanceof Error ? e.message : String(e) });
        v = "failed";
      }
    }
    cache.set(id, v);
  }
  return v;
}

async function availability(c: EasContext, who: Candidate, span: { start: number; end: number }, cache: BusyCache): Promise<WElement> {
  const ids = who.entry?.memberIds ?? [];
  if (!ids.length) return R("Availability", R("Status", "163")); // not in the directory: no free/busy to be had
  if (ids.length > MAX_GROUP) return R("Availability", R("Status", "161"));
  const lists: BusyPeriod[][] = [];
  for (const id of ids) {
    const busy = await busyOf(c, id, span, cache);
    if (busy === "gone") return R("Availability", R("Status", "163"));
    if (busy === "failed") return R("Availability", R("Status", "162")); // a passing failure: the client may ask again
    lists.push(busy);
  }
  return R("Availability", R("Status", "1"), R("MergedFreeBusy", mergedFreeBusy(lists.flat(), span.start, span.end)));
}

export const resolveRecipients: CommandHandler = async (c, doc) => {
  const fail = () => ({ wbxml: R("ResolveRecipients", R("Status", "5")) }); // 5: protocol error
  const tos = kids(doc!, "ResolveRecipients:To").map((t) => text(t).trim());
  if (!tos.length || tos.length > MAX_TO || tos.some((t) => !t || t.length > MAX_TO_LENGTH)) return fail();
  const options = kid(doc!, "ResolveRecipients:Options");
  const maxText = kidText(options, "ResolveRecipients:MaxAmbiguousRecipients");
  const max = maxText === undefined ? DEFAULT_AMBIGUOUS : /^\d{1,4}$/.test(maxText.trim()) ? Math.min(Number(maxText), 100) : -1;
  if (max < 0) return fail();
  // §2.2.3.25: 1 no certificates, 2 full certificates, 3 mini certificates
  const certText = kidText(options, "ResolveRecipients:CertificateRetrieval");
  if (certText !== undefined && !/^[123]$/.test(certText.trim())) return fail();
  const wantCerts = certText !== undefined && certText.trim() !== "1";
  let span: { start: number; end: number } | null = null;
  const avail = c.version >= 140 ? kid(options, "ResolveRecipients:Availability") : undefined;
  if (avail) {
    const start = parseDate(kidText(avail, "ResolveRecipients:StartTime"));
    const endText = kidText(avail, "ResolveRecipients:EndTime");
    const end = endText === undefined ? (start === null ? null : start + DEFAULT_SPAN_MS) : parseDate(endText);
    if (start === null || end === null || end < start + SLOT_MS || end - start > MAX_SPAN_MS) return fail();
    span = { start, end };
  }
  const wantPicture = c.version >= 141 && kid(options, "ResolveRecipients:Picture") !== undefined;

  const dir = await directory(c.store, c.account);
  const busy: BusyCache = new Map();
  const responses: WElement[] = [];
  for (const to of tos) {
    const hits = await candidates(c, dir, to, max);
    const status = hits.length === 0 ? 4 : hits.length === 1 ? 1 : hits.length <= max ? 2 : 3;
    const shown = hits.slice(0, status === 1 ? 1 : max);
    const recipients: WElement[] = [];
    for (const h of shown) {
      recipients.push(
        R(
          "Recipient",
          R("Type", h.type),
          R("DisplayName", h.displayName),
          R("EmailAddress", h.email),
          // §2.2.3.183: free/busy only for a To that names one recipient
          span && status === 1 && (await availability(c, h, span, busy)),
          wantCerts && R("Certificates", R("Status", "7"), R("CertificateCount", "0")),
          wantPicture && R("Picture", R("Status", "173")),
        ),
      );
    }
    responses.push(R("Response", R("To", to), R("Status", status), R("RecipientCount", recipients.length), recipients));
  }
  return { wbxml: R("ResolveRecipients", R("Status", "1"), responses) };
};
