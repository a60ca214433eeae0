/**
 * Folder name spaces per item class. Mail folders are stored under their
 * name; folders of the other classes (calendar, contacts, tasks, notes)
 * under "\x01<class>\x01<name>". Every folder name is checked by
 * normalizeFolderName, which refuses control characters, so no name IMAP,
 * POP3, webmail or ActiveSync can create reaches another class's space: a
 * calendar "Calendar" and a mail folder "Calendar" live side by side under
 * the folders table's UNIQUE (account_id, name), and a mail lookup by name
 * never finds a calendar. The hierarchy works within a space ("/" splits
 * the stored name, the prefix stays on the first level). Migration 0030
 * moved existing non-mail folders into their space.
 */
import type { ItemClass } from "./api.ts";

const MARK = "\x01";

/** The stored name of folder `name` (already normalized) of `itemClass`. */
export function folderKey(itemClass: ItemClass, name: string): string {
  return itemClass === "mail" ? name : `${MARK}${itemClass}${MARK}${name}`;
}

/** The name a folder is shown and addressed by: the stored name without its class prefix. */
export function folderDisplayName(stored: string): string {
  if (!stored.startsWith(MARK)) return stored;
  const end = stored.indexOf(MARK, 1);
  return end < 0 ? stored : stored.slice(end + 1);
}
