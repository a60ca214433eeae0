/**
 * "Add sender to contacts" from the reading pane (reader.ts): creates a
 * contact in the default address book with the sender's name and address,
 * or finds the one that already has that address, and opens it in the
 * Contacts app. The contacts view shows the notice left here as a toast.
 */
import type { Person } from "../../../protocols/http/webmail/api-types.ts";
import { h, icon } from "../dom.ts";
import { t } from "../i18n/index.ts";
import "../i18n/contacts.ts";
import { blankContact, listBooks, listContacts, saveContact } from "./data.ts";

let notice = "";

/** The message for the contacts view to show once (then forgotten). */
export function takeNotice(): string {
  const n = notice;
  notice = "";
  return n;
}

export async function addSenderToContacts(p: Person): Promise<void> {
  const address = p.address.trim().toLowerCase();
  if (!address) return;
  const books = await listBooks("contacts");
  const book = books.find((b) => b.isDefault && !b.readOnly) ?? books.find((b) => !b.readOnly);
  if (!book) throw new Error(t("contacts.noBook"));
  const found = (await listContacts(book.name, address)).find((c) => c.emails.some((e) => e.toLowerCase() === address));
  let id: string;
  if (found) {
    id = found.id;
    notice = t("contacts.senderExists", { name: found.fullName || address });
  } else {
    const c = blankContact("individual");
    const name = p.name.trim();
    c.fullName = name || address;
    // "Ada Lovelace" -> given "Ada", family "Lovelace"; one word stays the given name.
    const words = name.split(/\s+/).filter(Boolean);
    if (words.length > 1) {
      c.familyName = words.pop()!;
      c.givenName = words.join(" ");
    } else if (words.length === 1) c.givenName = words[0]!;
    c.emails = [{ type: "", value: address, pref: true }];
    const saved = await saveContact(book.name, null, c);
    id = saved.id;
    notice = t("contacts.senderAdded", { name: c.fullName });
  }
  location.hash = `#/contacts/${encodeURIComponent(`${book.name}/${id}`)}`;
}

/** The reading pane's button for a message's sender. */
export function addSenderButton(p: Person | undefined, onError: (e: unknown) => void): HTMLElement | null {
  if (!p?.address) return null;
  const b = h("button", { type: "button", class: "btn btn-small ct-add-sender", "data-action": "add-sender", title: t("contacts.addSender") }, icon("plus"), h("span", { class: "btn-text" }, t("contacts.addSenderShort")));
  b.addEventListener("click", () => {
    b.disabled = true;
    addSenderToContacts(p)
      .catch(onError)
      .finally(() => (b.disabled = false));
  });
  return b;
}
