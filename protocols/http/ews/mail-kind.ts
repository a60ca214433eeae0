/**
 * The mail kind (kinds.ts): messages in mail folders. Reading (list, load,
 * render, value, move, copy, remove) lives in mail-read.ts, writing (create,
 * update) in mail-write.ts; this file puts them together and registers them.
 */
import { registerItemKind, type ItemKind } from "./kinds.ts";
import { mailRead, type MailItem } from "./mail-read.ts";
import { mailWrite } from "./mail-write.ts";

const mailKind: ItemKind<MailItem> = {
  itemClass: "mail",
  elements: ["Message", "MeetingRequest", "MeetingResponse", "MeetingCancellation", "PostItem"],
  ...mailRead,
  ...mailWrite,
};

registerItemKind(mailKind);
