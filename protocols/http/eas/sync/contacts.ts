/**
 * The Contacts class (MS-ASCNTC) for the sync engine: address books of the
 * groupware core, one item per vCard, converted by groupware/contact.ts.
 */
import { ContactCodec } from "../groupware/contact.ts";
import { FolderType } from "../folders.ts";
import { registerSyncClass } from "./classes.ts";
import { groupwareSyncClass } from "./groupware-class.ts";

export const ContactsClass = groupwareSyncClass({
  className: "Contacts",
  itemClass: "contacts",
  defaultType: FolderType.Contacts,
  userType: FolderType.UserContacts,
  isDefaultFolder: (folder) => folder.name === "Contacts",
  // MS-ASCMD §2.2.3.70.1: FilterType does not apply to contacts; 0 (no filter) is the only value taken.
  // MS-ASCMD FilterType windows apply to email, calendar and tasks only; a device that sends one for
  // contacts anyway (some do, copying the calendar's Options) gets everything rather than Status 4 forever.
  cutoff: () => null,
  dateOf: () => 0,
  codec: ContactCodec,
});

registerSyncClass(ContactsClass);
