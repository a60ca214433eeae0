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
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

function entry(email: string, name: string, kind: DirectoryEntry["kind"], accountId: number): DirectoryEntry {
  const parts = name.split(/\s+/).filter(Boolean);
  return {
    email,
    displayName: name,
    alias: email.slice(0, email.indexOf("@")),
    // "First Middle Last": everything before the last word is the first name; one word is a first name
    firstName: parts.length > 1 ? parts.slice(0, -1).join(" ") : (parts[0] ?? ""),
    lastName: parts.length > 1 ? parts[parts.length - 1]! : "",
    kind,
    accountId,
  };
}

/** The directory as `viewer` may see it: only addresses of the viewer's own domain, accounts first, by address. */
export async function directory(store: MailStore, viewer: Account): Promise<DirectoryEntry[]> {
  const domain = domainOf(viewer.email);
  const accounts = (await store.listAccounts()).filter((a) => a.domainId === viewer.domainId && domainOf(a.email) === domain);
  const byEmail = new Map(accounts.map((a) => [a.email, a]));
  const out: DirectoryEntry[] = [];
  for (const a of accounts) out.push(entry(a.email, (a.settings.displayName as string | undefined) || a.email, "account", a.id));
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
    const name = list.length === 1 ? (list[0]!.settings.displayName as string | undefined) || source : source;
    out.push(entry(source, name, "alias", list[0]!.id));
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
