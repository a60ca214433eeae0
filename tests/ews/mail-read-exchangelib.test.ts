/**
 * exchangelib (Debian's python3-exchangelib) against mail reading and the
 * generic read/move item operations: tests/ews/exchangelib/mail_read.py —
 * ordering, slicing and paging, filters, .only(), counts, bodies, attachments,
 * MIME, extended properties, move/copy/delete/soft delete/trash, junk, each
 * cross-checked over IMAP. One bun test per scenario.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: mail reading, moves and deletes",
  script: "mail_read.py",
  scenarios: ["order_slice_only", "filters", "get_item_bodies_attachments", "read_state_and_extended", "move_copy_delete", "mark_as_junk"],
});
