/**
 * The MAPI/HTTP endpoint URLs of an account, as GetMailboxUrl and
 * GetAddressBookUrl answer them (MS-OXCMAPIHTTP §2.2.5.18/§2.2.5.19): the
 * same shape autodiscover's mapiHttp section gives, https://host/mapi/
 * {emsmdb,nspi}/?MailboxId=<mailbox GUID>@<domain>.
 */
import type { Account } from "../../../../storage/api.ts";
import { mailboxGuid } from "../identity.ts";

export function mapiUrl(host: string, account: Pick<Account, "id" | "email">, endpoint: "emsmdb" | "nspi"): string {
  const domain = account.email.slice(account.email.lastIndexOf("@") + 1).toLowerCase();
  return `https://${host}/mapi/${endpoint}/?MailboxId=${mailboxGuid(account)}@${domain}`;
}
