/**
 * The RFC 6638 schedule inbox (§2.2): where the iTIP messages processed for
 * an account are kept, for CalDAV clients that look at them
 * (`/dav/calendars/<user>/inbox/`, protocols/http/dav/scheduling-inbox.ts).
 *
 * Storage: a calendar-class folder with the reserved name "inbox" (the
 * service's listCollections hides it and createCollection refuses the name),
 * created here with the store directly. Each message is one item whose body
 * is the iTIP object byte for byte as it arrived. Its indexed fields are
 * neutral on purpose: a unique UID of its own (the store refuses two items
 * with one UID in a folder, while an inbox holds a REQUEST and a later CANCEL
 * of the same event), an instant at the epoch, TRANSPARENT and CANCELLED,
 * so no time-range query and no free/busy lookup ever counts an inbox item.
 * The inbox is bounded: the oldest items beyond MAX_INBOX_ITEMS go.
 */
import { randomBytes } from "node:crypto";
import type { Folder, Item, MailStore } from "../../../storage/api.ts";

export const INBOX_NAME = "inbox";
/** RFC 6638 leaves retention to the server; a client that never cleans up does not grow the store forever. */
export const MAX_INBOX_ITEMS = 1000;

export type InboxStore = Pick<MailStore, "getFolder" | "createFolder" | "createItem" | "listItems" | "deleteItem" | "getItemByResourceName" | "readItemBody">;

/** The account's schedule inbox folder, created on first use (two concurrent first uses end with one folder). */
export async function scheduleInboxFolder(store: InboxStore, accountId: number, create = true): Promise<Folder | null> {
  const found = await store.getFolder(accountId, INBOX_NAME, "calendar");
  if (found || !create) return found;
  try {
    return await store.createFolder(accountId, INBOX_NAME, { itemClass: "calendar", subscribed: false });
  } catch (e) {
    const again = await store.getFolder(accountId, INBOX_NAME, "calendar");
    if (again) return again;
    throw e;
  }
}

export interface InboxEntry {
  method: string;
  uid: string;
  summary: string;
}

/** Files one iTIP message (its bytes as received) and trims the inbox to MAX_INBOX_ITEMS. Returns the resource name. */
export async function fileInInbox(store: InboxStore, accountId: number, body: Uint8Array, entry: InboxEntry, max = MAX_INBOX_ITEMS): Promise<string> {
  const folder = await scheduleInboxFolder(store, accountId);
  if (!folder) throw new Error("no schedule inbox");
  const token = randomBytes(9).toString("hex");
  const name = `${Date.now()}-${token}.ics`;
  await store.createItem(folder.id, {
    itemClass: "calendar",
    body,
    resourceName: name,
    fields: {
      // A UID of the inbox entry itself (see the module comment); the event's UID is in the body.
      uid: `itip-${token}`,
      dtStart: 0,
      dtEnd: 0,
      summary: `${entry.method}: ${entry.summary}`.slice(0, 500),
      status: "CANCELLED",
      transp: "TRANSPARENT",
    },
  });
  const items = await store.listItems(folder.id);
  if (items.length > max) {
    // Ascending UID = arrival order: the oldest go first.
    for (const old of items.slice(0, items.length - max)) await store.deleteItem(old.id).catch(() => undefined);
  }
  return name;
}

/** The inbox's items (oldest first); empty when the inbox was never used. */
export async function listInbox(store: InboxStore, accountId: number): Promise<{ folder: Folder | null; items: Item[] }> {
  const folder = await scheduleInboxFolder(store, accountId, false);
  return { folder, items: folder ? await store.listItems(folder.id) : [] };
}
