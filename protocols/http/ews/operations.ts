/**
 * Imports every operation module so each registers itself (context.ts
 * registerOperation) and every item kind (kinds.ts registerItemKind).
 * One line per module; the handler imports this file.
 */
// Envelope-level and miscellaneous operations (ConvertId, GetServerTimeZones...).
import "./convert-id.ts";
import "./misc-ops.ts";
// Folders and synchronisation.
import "./folders.ts";
import "./sync-hierarchy.ts";
import "./sync-items.ts";
// Item kinds.
import "./mail-kind.ts";
import "./calendar-kind.ts";
import "./contact-kind.ts";
import "./task-kind.ts";
import "./note-kind.ts";
// Generic item operations.
import "./items-read.ts";
import "./items-move.ts";
import "./items-write.ts";
import "./attachments.ts";
// People, calendar, notifications, out-of-office.
import "./people.ts";
import "./meetings.ts";
import "./availability.ts";
import "./notifications.ts";
import "./oof.ts";
