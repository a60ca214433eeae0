/**
 * The global address list of one domain: the accounts of the asking
 * account's own domain (display name from their settings) and the aliases of
 * that domain that point at a local account. One lookup API for everything
 * that shows it: CardDAV's read-only directory address book, ActiveSync
 * (Search in the GAL, Find's GALSearchCriterion, ResolveRecipients) and the
 * webmail's address autocomplete (/api/contacts).
 *
 * Per domain: a server hosting several organisations must not list one
 * organisation's people to another. Exchange does the same with address book
 * policies (one GAL per tenant).
 */
import type { Account, MailStore } from "../../storage/api.ts";

export interface DirectoryEntry {
  email: string;
  displayName: string;
  /** The local part. */
  alias: string;
  firstName: string;
  lastName: string;
  /** "account" for a mailbox, "alias" for another address of one. */
  kind: "account" | "alias";
  /** The account the address delivers to (for an alias, its target; for a one-to-many alias, its first). */
  accountId: number;
  /** Every account the address delivers to: one, or several for a one-to-many alias (a group). */
  memberIds: number[];
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

/** Lower-case words that belong to the family name they precede ("Jan van der Berg", "Ludwig van Beethoven"). */
const PARTICLES = new Set(["van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "la", "le", "ten", "ter", "zu", "bin", "ibn", "al", "af", "av"]);
/** Generational suffixes that stay with the family name ("Martin Luther King Jr."). */
const SUFFIXES = /^(jr\.?|sr\.?|ii|iii|iv)$/i;

/**
 * A display name split into first and last name, as the GAL shows them
 * (MS-ASCMD GAL:FirstName/GAL:LastName, vCard N): "Last, First" when the
 * name has one comma; otherwise the last word is the family name, with the
 * lower-case particles before it ("van der Berg") and a suffix after it
 * ("King Jr."), and everything before is the first name. One word is a first
 * name. A name that is an address (no display name set) has neither: a phone
 * must not show "ada@example.org" as somebody's first name.
 */
export function splitName(name: string): { firstName: string; lastName: string } {
  const n = name.trim().replace(/\s+/g, " ");
  if (!n || /^[^\s@]+@[^\s@]+$/.test(n)) return { firstName: "", lastName: "" };
  const comma = n.split(",");
  if (comma.length === 2 && comma[0]!.trim() && comma[1]!.trim()) return { firstName: comma[1]!.trim(), lastName: comma[0]!.trim() };
  const words = n.split(" ");
  if (words.length === 1) return { firstName: words[0]!, lastName: "" };
  let cut = words.length - 1;
  if (SUFFIXES.test(words[cut]!) && cut > 1) cut--;
  while (cut > 1 && PARTICLES.has(words[cut - 1]!)) cut--;
  return { firstName: words.slice(0, cut).join(" "), lastName: words.slice(cut).join(" ") };
}

function entry(email: string, name: string, kind: DirectoryEntry["kind"], memberIds: number[]): DirectoryEntry {
  // no display name: the address is what people see, and there is no first or last name
  const { firstName, lastName } = name ? splitName(name) : { firstName: "", lastName: "" };
  return {
    email,
    displayName: name || email,
    alias: email.slice(0, email.indexOf("@")),
    firstName,
    lastName,
    kind,
    accountId: memberIds[0]!,
    memberIds,
  };
}

/** The directory as `viewer` may see it: only addresses of the viewer's own domain, accounts first, by address. */
export async function directory(store: MailStore, viewer: Account): Promise<DirectoryEntry[]> {
  const domain = domainOf(viewer.email);
  const accounts = (await store.listAccounts()).filter((a) => a.domainId === viewer.domainId && domainOf(a.email) === domain);
  const byEmail = new Map(accounts.map((a) => [a.email, a]));
  const out: DirectoryEntry[] = [];
  for (const a of accounts) out.push(entry(a.email, ((a.settings.displayName as string | undefined) ?? "").trim(), "account", [a.id]));
  // Only aliases for accounts of this domain: an alias pointing elsewhere would show that account's name.
  const targets = new Map<string, Account[]>();
  for (const al of await store.listAliases()) {
    if (al.source.startsWith("@")) continue; // catch-alls are not addresses
    if (domainOf(al.source) !== domain || byEmail.has(al.source)) continue;
    const target = byEmail.get(al.destination.toLowerCase());
    if (!target) continue;
    let l = targets.get(al.source);
    if (!l) targets.set(al.source, (l = []));
    l.push(target);
  }
  for (const [source, list] of targets) {
    // one target: that person's other address; several: a group, shown by its own address
    const name = list.length === 1 ? ((list[0]!.settings.displayName as string | undefined) ?? "").trim() : "";
    out.push(entry(source, name, "alias", [...new Set(list.map((a) => a.id))]));
  }
  return out;
}

/** One address of the viewer's directory (account or alias, case-insensitive), or null. */
export async function directoryEntry(store: MailStore, viewer: Account, email: string): Promise<DirectoryEntry | null> {
  const e = String(email ?? "").trim().toLowerCase();
  if (!e.includes("@") || domainOf(e) !== domainOf(viewer.email)) return null;
  return (await directory(store, viewer)).find((d) => d.email === e) ?? null;
}

/** Case-insensitive match on address, display name, first/last name prefix; by display name. */
export function matchDirectory(list: DirectoryEntry[], query: string): DirectoryEntry[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  return list
    .filter((e) => e.email.includes(q) || e.displayName.toLowerCase().includes(q) || e.firstName.toLowerCase().startsWith(q) || e.lastName.toLowerCase().startsWith(q))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}
