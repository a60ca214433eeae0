/**
 * The global address list: every account of the server (display name from
 * its settings) and every alias that points at a local account. Used by
 * Search (Store GAL), Find (GALSearchCriterion) and ResolveRecipients.
 */
import type { MailStore } from "../../../storage/api.ts";

export interface DirectoryEntry {
  email: string;
  displayName: string;
  alias: string;
  firstName: string;
  lastName: string;
}

export async function directory(store: MailStore): Promise<DirectoryEntry[]> {
  const accounts = await store.listAccounts();
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
