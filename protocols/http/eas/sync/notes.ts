/**
 * The Notes class (MS-ASNOTE): folders of item class "notes", each note a
 * store item whose body is a VJOURNAL (../groupware/note.ts). The default
 * folder "Notes" has FolderHierarchy Type 10, user-created note folders
 * Type 17 (MS-ASCMD §2.2.3.186.3).
 */
import { StoreError, type Account, type Folder, type MailStore } from "../../../../storage/api.ts";
import { noteCodec, noteFieldsOf } from "../groupware/note.ts";
import { registerSyncClass } from "./classes.ts";
import { groupwareSyncClass } from "./groupware-class.ts";

/** Name of the account's default notes folder (storage/directory.ts creates it with new accounts). */
export const DEFAULT_NOTES_FOLDER = "Notes";

export const notesClass = groupwareSyncClass({
  className: "Notes",
  itemClass: "notes",
  defaultType: 10,
  userType: 17,
  isDefaultFolder: (folder) => folder.name === DEFAULT_NOTES_FOLDER,
  // Notes have no date a FilterType could compare: MS-ASCMD §2.2.3.69.2 allows only 0 (all) for them
  // MS-ASCMD FilterType windows apply to email, calendar and tasks only; a device that sends one for
  // notes anyway (some do, copying the calendar's Options) gets everything rather than Status 4 forever.
  cutoff: () => null,
  dateOf: () => 0,
  codec: noteCodec,
  noteFields: noteFieldsOf,
});

registerSyncClass(notesClass);

/**
 * Gives an account without the default "Notes" folder one (accounts made
 * before notes had one): a device expects one default folder of Type 10
 * (MS-ASCMD §2.2.3.186.3), whatever user notes folders exist. FolderSync
 * calls it before listing folders; a concurrent creation by another request
 * is not an error. Returns the folder.
 */
export async function ensureNotesFolder(store: MailStore, account: Account): Promise<Folder> {
  const existing = await store.getFolder(account.id, DEFAULT_NOTES_FOLDER, "notes");
  if (existing) return existing;
  try {
    return await store.createFolder(account.id, DEFAULT_NOTES_FOLDER, { itemClass: "notes" });
  } catch (e) {
    if (!(e instanceof StoreError && e.code === "ALREADYEXISTS")) throw e;
    const made = await store.getFolder(account.id, DEFAULT_NOTES_FOLDER, "notes");
    if (!made) throw e;
    return made;
  }
}
