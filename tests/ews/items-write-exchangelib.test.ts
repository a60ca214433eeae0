/**
 * exchangelib (Debian's python3-exchangelib) writing mail against a real
 * Pillarbox (tests/ews/exchangelib/mail_write.py): drafts saved and edited
 * keeping their ItemId, attachments attached and detached on a saved draft
 * (bytes exact), send / send-and-save, read state, reply / reply-all /
 * forward, a saved draft reply. Each scenario is one test.
 */
import { exchangelibSuite } from "./exchangelib-run.ts";

exchangelibSuite({
  title: "exchangelib: writing mail",
  script: "mail_write.py",
  scenarios: ["draft_save_edit_keeps_id", "attach_detach", "send_and_send_and_save", "send_with_attachment", "read_state_and_full_save_of_received_mail", "reply_reply_all_forward", "draft_reply_saved"],
});
