/**
 * The global address list as one NSPI session sees it: the viewer's
 * directory (src/groupware/directory.ts, the same list CardDAV, ActiveSync and
 * the webmail show) in display-name order, each entry with a minimal entry id
 * (MS-OXNSPI §2.2.9.1) that stays the same for the whole session — the
 * session keeps the address → MId map and only adds to it, so a MId a client
 * holds never names another entry even if the directory changes meanwhile.
 */
import type { Account, MailStore } from "../../../../storage/api.ts";
import { type DirectoryEntry, directory } from "../../../../src/groupware/directory.ts";
import { RECIPIENTS_DN, legacyDn } from "../identity.ts";
import { FIRST_MID } from "./constants.ts";

export interface GalEntry extends DirectoryEntry {
  mid: number;
  /** The legacy DN: an account's from identity.ts, an alias's under the recipients container. */
  dn: string;
  /** Other addresses that deliver only to this account (its one-target aliases), for PidTagProxyAddresses. */
  otherAddresses: string[];
}

/** What an NSPI session keeps between calls. */
export interface NspiSessionState {
  accountId: number;
  /** The server GUID answered by Bind; the ProviderUID of ephemeral entry ids (MS-OXNSPI §2.2.9.2). */
  serverGuid: Uint8Array;
  mids: Map<string, number>;
  nextMid: number;
  /** The last table read, reused for GAL_TTL_MS: a client paging through the GAL makes one directory read, not one per page. */
  cache: { at: number; gal: GalEntry[] } | null;
}

/** How long a session reuses the table it read: directory changes show within this. */
export const GAL_TTL_MS = 10_000;

/** The most entries one session numbers (a bound on the MId map; far above any one domain's directory). */
const MAX_MIDS = 1_000_000;

/** An alias's DN: the whole address reduced to DN-safe characters, prefixed so it never parses as an account's. */
export function aliasDn(email: string): string {
  return `${RECIPIENTS_DN}/cn=alias-${email.toLowerCase().replace(/[^a-z0-9._-]/g, "_").slice(0, 128)}`;
}

export function newSessionState(account: Account, serverGuid: Uint8Array): NspiSessionState {
  return { accountId: account.id, serverGuid, mids: new Map(), nextMid: FIRST_MID, cache: null };
}

/** The table: every entry of the viewer's directory, by display name (then address), numbered. `now` is the caller's clock. */
export async function loadGal(store: MailStore, viewer: Account, st: NspiSessionState, now: number): Promise<GalEntry[]> {
  if (st.cache && now - st.cache.at >= 0 && now - st.cache.at < GAL_TTL_MS) return st.cache.gal;
  const list = await directory(store, viewer);
  const others = new Map<number, string[]>();
  for (const e of list) {
    if (e.kind !== "alias" || e.memberIds.length !== 1) continue;
    const l = others.get(e.accountId) ?? [];
    l.push(e.email);
    others.set(e.accountId, l);
  }
  const out: GalEntry[] = [];
  for (const e of list) {
    let mid = st.mids.get(e.email);
    if (mid === undefined) {
      if (st.mids.size >= MAX_MIDS) continue;
      mid = st.nextMid++;
      st.mids.set(e.email, mid);
    }
    out.push({
      ...e,
      mid,
      // an account entry's address is the account's own (directory.ts), so its DN needs no second account read
      dn: e.kind === "account" ? legacyDn({ id: e.accountId, email: e.email }) : aliasDn(e.email),
      otherAddresses: e.kind === "account" ? (others.get(e.accountId) ?? []) : [],
    });
  }
  out.sort((a, b) => a.displayName.localeCompare(b.displayName, "en", { sensitivity: "base" }) || a.email.localeCompare(b.email));
  st.cache = { at: now, gal: out };
  return out;
}
