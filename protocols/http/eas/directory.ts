/**
 * The global address list of one domain: the accounts of the asking
 * account's own domain (display name from their settings) and the aliases of
 * that domain that point at a local account. Used by Search (Store GAL), Find
 * (GALSearchCriterion) and ResolveRecipients.
 *
 * Per domain, like the webmail's address autocomplete (settings-api.ts
 * /api/contacts): a server hosting several organisations must not list one
 * organisation's people to another. Exchange does the same with address book
 * policies (one GAL per tenant).
 */
import type { Account, MailStore } from "../../../storage/api.ts";

export interface DirectoryEntry {
  email: string;
  displayName: string;
  alias: string;
  firstName: string;
  lastName: string;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf("@") + 1).toLowerCase();

/** The directory as `viewer` may see it: only addresses of the viewer's own domain. */
export async function directory(store: MailStore, viewer: Account): Promise<DirectoryEntry[]> {
  const domain = domainOf(viewer.email);
  const accounts = (await store.listAccounts()).filter((a) => a.domainId === viewer.domainId && domainOf(a.email) === domain);
  const byEmail = new Map(accounts.map((a) => [a.email, a]));
  const out: DirectoryEntry[] = [];
  const entry = (email: string, name: string): DirectoryEntry => {
    const parts = name.split(/\s+/).filter(Boolean);
    return {
      email,
      displayName: name,
      alias: email.slice(0, email.indexOf("@")),
      firstName: parts.length > 1 ? parts.slice(0, -1).join(" ") : (parts[0] ?? ""),
      lastName: parts.length > 1 ? parts[parts.length - 1]! : "",
    };
  };
  for (const a of accounts) out.push(entry(a.email, (a.settings.displayName as string | undefined) || a.email));
  for (const al of await store.listAliases()) {
    if (al.source.startsWith("@")) continue; // catch-alls are not addresses
    if (domainOf(al.source) !== domain) continue;
    // Only aliases for an account of this domain: an alias pointing elsewhere would show that account's name.
    const target = byEmail.get(al.destination.toLowerCase());
    if (!target || byEmail.has(al.source)) continue;
    out.push(entry(al.source, (target.settings.displayName as string | undefined) || al.source));
  }
  return out;
}

/** Case-insensitive match on address, display name, first/last name prefix. */
export function matchDirectory(list: DirectoryEntry[], query: string): DirectoryEntry[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  return list
    .filter((e) => e.email.includes(q) || e.displayName.toLowerCase().includes(q) || e.firstName.toLowerCase().startsWith(q) || e.lastName.toLowerCase().startsWith(q))
    .sort((a, b) => a.displayName.localeCompare(b.displayName));
}
