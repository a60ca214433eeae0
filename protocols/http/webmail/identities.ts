/**
 * Identities: the addresses an account may send from (its own and the
 * aliases that deliver to it, `store.sendAsAddresses`), each with the name
 * shown in From and a signature in HTML. Stored with the other webmail
 * settings (`settings.identities`, `settings.defaultIdentity`); an address
 * that is not the account's own can never be saved, and one that stops
 * being the account's (an alias removed) is no longer offered.
 */
import type { Account, AccountSettings } from "../../../storage/api.ts";
import { ApiError } from "./util.ts";
import type { Identity } from "./api-types.ts";

export type { Identity } from "./api-types.ts";

interface SendAsSource {
  sendAsAddresses(accountId: number): Promise<string[]>;
}

const MAX_SIGNATURE = 20_000;

function stored(settings: AccountSettings): Identity[] {
  const list = settings.identities;
  if (!Array.isArray(list)) return [];
  return list.filter((x): x is Identity => !!x && typeof x === "object" && typeof x.address === "string" && typeof x.name === "string" && typeof x.signature === "string");
}

/** The legacy one-line-per-row plain signature as HTML (it belonged to the account's own address). */
function plainToHtml(text: string): string {
  const esc = text.replace(/[&<>"']/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[ch]!);
  return esc.replace(/\r?\n/g, "<br>");
}

/** Every address the account may send from, with its name and signature, and the default one. */
export async function identitiesOf(store: SendAsSource, account: Account): Promise<{ identities: Identity[]; defaultIdentity: string }> {
  const sendAs = await store.sendAsAddresses(account.id);
  const saved = new Map(stored(account.settings).map((x) => [x.address.toLowerCase(), x]));
  const identities = sendAs.map((address) => {
    const s = saved.get(address.toLowerCase());
    if (s) return { address, name: s.name, signature: s.signature };
    const own = address.toLowerCase() === account.email;
    return { address, name: account.settings.displayName ?? "", signature: own && account.settings.signature ? plainToHtml(account.settings.signature) : "" };
  });
  const want = typeof account.settings.defaultIdentity === "string" ? account.settings.defaultIdentity.toLowerCase() : account.email;
  const defaultIdentity = sendAs.find((x) => x.toLowerCase() === want) ?? account.email;
  return { identities, defaultIdentity };
}

/** The identity of one address (for the From name of a message being sent), or null. */
export async function identityFor(store: SendAsSource, account: Account, address: string): Promise<Identity | null> {
  const { identities } = await identitiesOf(store, account);
  return identities.find((x) => x.address.toLowerCase() === address.toLowerCase()) ?? null;
}

/** Validates a PUT of identities; throws ApiError 400 for anything that is not the account's to use. */
export async function checkIdentities(store: SendAsSource, account: Account, list: unknown, def: unknown): Promise<Partial<AccountSettings>> {
  const sendAs = new Set((await store.sendAsAddresses(account.id)).map((x) => x.toLowerCase()));
  const patch: Partial<AccountSettings> = {};
  if (list !== undefined) {
    if (!Array.isArray(list) || list.length > sendAs.size) throw new ApiError(400, "bad_identity", "The identities could not be understood.");
    const out: Identity[] = [];
    const seen = new Set<string>();
    for (const x of list as unknown[]) {
      if (!x || typeof x !== "object") throw new ApiError(400, "bad_identity", "The identities could not be understood.");
      const { address, name, signature } = x as Record<string, unknown>;
      if (typeof address !== "string" || !sendAs.has(address.toLowerCase())) throw new ApiError(400, "bad_identity", `You cannot send as ${String(address).slice(0, 320)}: it is not one of your addresses.`);
      if (typeof name !== "string" || name.length > 200 || /[\r\n\u0000]/.test(name)) throw new ApiError(400, "bad_name", "A name must be one line of at most 200 characters.");
      if (typeof signature !== "string" || signature.length > MAX_SIGNATURE) throw new ApiError(400, "bad_signature", "A signature is too long (20,000 characters at most).");
      const key = address.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ address: key, name: name.trim(), signature });
    }
    patch.identities = out;
  }
  if (def !== undefined) {
    if (typeof def !== "string" || !sendAs.has(def.toLowerCase())) throw new ApiError(400, "bad_identity", "The default identity must be one of your addresses.");
    patch.defaultIdentity = def.toLowerCase();
  }
  return patch;
}
