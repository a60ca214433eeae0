/**
 * How an account is named to MAPI clients: its legacy distinguished name
 * (the "X500" address Exchange clients log on with: autodiscover's
 * User/LegacyDN, the EMSMDB Connect's UserDn, RopLogon's Essdn, NSPI's
 * PidTagEmailAddress) and its mailbox GUID (the `MailboxId` of the
 * MAPI/HTTP URLs, the Logon response's MailboxGuid).
 *
 * Both are derived from the account id only, so they are stable for the
 * account's life and need no storage. The DN also carries the local part,
 * as Exchange's do, so a log line is readable; only the id is used to
 * find the account again.
 */
import { createHash } from "node:crypto";
import type { Account } from "../../../storage/api.ts";

/** The organisation and recipients container every DN of ours starts with (MS-OXOABK §2.2.3.1 style). */
export const ORG_DN = "/o=Pillarbox/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";
export const RECIPIENTS_DN = `${ORG_DN}/cn=Recipients`;

/** The local part of an address reduced to the characters a DN's cn keeps (no '/', no '='), at most 64 of them. */
function dnLocal(email: string): string {
  const at = email.lastIndexOf("@");
  const local = (at > 0 ? email.slice(0, at) : email).toLowerCase();
  return local.replace(/[^a-z0-9._-]/g, "_").slice(0, 64);
}

/** e.g. `/o=Pillarbox/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0000002a-alice` */
export function legacyDn(account: Pick<Account, "id" | "email">): string {
  return `${RECIPIENTS_DN}/cn=${account.id.toString(16).padStart(8, "0")}-${dnLocal(account.email)}`;
}

/**
 * The account id a legacy DN of ours names, or null (another organisation,
 * not a recipient, malformed). Case-insensitive, as DNs are compared
 * (MS-OXNSPI §2.2.1.1 names are case-insensitive ASCII). The caller checks
 * that the account exists and that the local part still matches if it cares.
 */
export function accountIdFromLegacyDn(dn: string): number | null {
  const d = dn.replace(/\0+$/, "");
  const prefix = `${RECIPIENTS_DN}/cn=`.toLowerCase();
  if (d.length > 1024 || !d.toLowerCase().startsWith(prefix)) return null;
  const m = /^([0-9a-f]{8})-[a-z0-9._-]*$/i.exec(d.slice(prefix.length));
  if (!m) return null;
  const id = parseInt(m[1]!, 16);
  return id > 0 ? id : null;
}

function mailboxHash(account: Pick<Account, "id">): Buffer {
  const h = createHash("sha1").update(`pillarbox-mapi-mailbox:${account.id}`).digest();
  // RFC 9562 §5.5 layout: version 5 (name-based, SHA-1), variant 10.
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  return h.subarray(0, 16);
}

/** The mailbox GUID as text, lower case, e.g. `3f2504e0-4f89-51d3-9a0c-0305e82c3301` (the URLs' MailboxId). */
export function mailboxGuid(account: Pick<Account, "id">): string {
  const h = mailboxHash(account).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * The same GUID as the 16 bytes MAPI writes on the wire (MS-DTYP §2.3.4.2:
 * Data1 as a little-endian 32-bit, Data2 and Data3 as little-endian 16-bit,
 * Data4 as 8 bytes), so the text form of these bytes is `mailboxGuid`.
 */
export function mailboxGuidBytes(account: Pick<Account, "id">): Uint8Array {
  const b = new Uint8Array(mailboxHash(account));
  const out = new Uint8Array(16);
  out.set([b[3]!, b[2]!, b[1]!, b[0]!, b[5]!, b[4]!, b[7]!, b[6]!]);
  out.set(b.subarray(8, 16), 8);
  return out;
}

/**
 * The EMSMDB and NSPI URLs of an account's mailbox (autodiscover's mapiHttp
 * section, NSPI GetMailboxUrl / GetAddressBookUrl), from the server's
 * https://host[:port]: `MailboxId=<mailbox GUID>@<the address's domain>`,
 * the form Exchange writes.
 */
export function mapiUrls(origin: string, account: Pick<Account, "id" | "email">): { emsmdb: string; nspi: string } {
  const at = account.email.lastIndexOf("@");
  const id = `${mailboxGuid(account)}@${at >= 0 ? account.email.slice(at + 1) : ""}`;
  return { emsmdb: `${origin}/mapi/emsmdb/?MailboxId=${id}`, nspi: `${origin}/mapi/nspi/?MailboxId=${id}` };
}
