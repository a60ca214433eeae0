/**
 * exchangelib end to end, part 1 (tests/ews/exchangelib/suite_core.py):
 * version guess (ConvertId), explicit versions, autodiscover, the folder tree
 * and folder create/rename/move/empty/delete, mail received over SMTP and sent over EWS
 * (read back by the other account and over IMAP), attachments, drafts, read
 * state, categories, the flag property, moves/copies/deletes, junk, a MIME
 * upload, search and paging through 260 items. Part 2 (calendar, contacts,
 * tasks, free/busy, OOF, notifications) is exchangelib-groupware.test.ts.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: connection, folders, mail, search",
  script: "suite_core.py",
  scenarios: [
    "version_guess",
    "explicit_versions",
    "autodiscover",
    "folder_tree",
    "folder_create_rename_delete",
    "folder_move_empty",
    "sync_items_and_hierarchy",
    "receive_mail_over_smtp",
    "send_mail",
    "attachments",
    "drafts",
    "read_flags_categories",
    "flag_status_extended_property",
    "move_copy_delete",
    "mark_as_junk",
    "mime_upload",
    "search",
    "paging_250_plus",
  ],
});
